"""Published transistor counts of the reference dies and the model's count (issue 12)."""

from __future__ import annotations

import numpy as np
import pytest

from dse.analysis.fidelity import load_reference_dies
from dse.model import area
from dse.units import MIB


@pytest.fixture(scope="module")
def dies():
    return load_reference_dies()


def test_transistor_counts_are_sourced_and_classified(dies):
    has = dies[dies["transistors_b"].notna()]
    # the vendor counts of the GPUs and of every many-core / dataflow fit die named in issue 12
    assert len(has) >= 15 and set(has["transistors_quality"]) <= {"vendor", "unconfirmed"}
    assert (has["transistors_source"].str.len() > 20).all()
    assert dies.loc[dies["transistors_b"].isna(), "transistors_quality"].isna().all()
    # whole-die density cannot exceed what SRAM bit cells give: 6T at the node's macro
    # density is the densest structure on a die (AD102, 125 MTr/mm2 on N4, is the densest)
    density = has["transistors_b"] * 1e3 / has["die_area_mm2"]
    assert density.between(5.0, 200.0).all()


def test_model_transistors_count_each_part_once():
    # 1 MiB of SRAM is 6 x 2^23 transistors; a register file 8 per bit; uncore at density
    assert area.die_transistors(0.0, 1.0, 0.0, 0.0, 100.0) == pytest.approx(6 * MIB * 8)
    assert area.die_transistors(0.0, 0.0, 1.0, 0.0, 100.0) == pytest.approx(8 * MIB * 8)
    assert area.die_transistors(1e9, 0.0, 0.0, 10.0, 100.0) == pytest.approx(1e9 + 1e9)
    t = area.die_transistors(np.array([1e9, 2e9]), np.array([1.0, 2.0]), 0.5, 1.0, 50.0)
    assert np.all(np.diff(t) > 0)
