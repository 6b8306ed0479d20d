"""The published-die dataset behind the area model, its loader and what the fit gives."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import dse
from dse.analysis.fidelity import DIES_CSV, die_area_by_family, die_area_table, load_reference_dies
from dse.errors import DseInputError


@pytest.fixture(scope="module")
def dies():
    return load_reference_dies()


def test_every_die_is_sourced_classified_and_uses_known_ids(dies):
    assert len(dies) >= 30 and dies["key"].is_unique
    assert set(dies["family"]) == {"gpu", "systolic", "manycore", "dataflow"}
    assert (dies["source"].str.len() > 20).all()
    used = dies[dies["role"] != "excluded"]
    assert (used["cores"] > 0).all() and (used["macs_per_core"] > 0).all()
    assert (used["die_area_mm2"] > 0).all()
    # every die's non-matrix datapath width, with its confidence and source
    assert (dies["vector_lanes_per_core"] > 0).all()
    assert set(dies["vector_lanes_confidence"]) <= {"H", "M", "L"}
    assert (dies["vector_lanes_source"].str.len() > 10).all()
    # the SRAM split adds up and its kind names the larger share
    split = used[["cache_mb", "scratchpad_mb"]].fillna(0).sum(axis=1)
    assert np.allclose(split, used["sram_mb"])
    larger = np.where(used["scratchpad_mb"] > used["cache_mb"], "scratchpad", "cache")
    assert (larger == used["sram_kind"]).all()
    # at least 20 dies with an exact or analyst area, every family represented
    valued = used[used["area_quality"].isin(("exact", "analyst"))]
    assert len(valued) >= 20 and valued["family"].nunique() == 4


def test_a_bad_die_table_is_one_clear_line(tmp_path):
    good = pd.read_csv(DIES_CSV, dtype=str, keep_default_na=False)
    path = tmp_path / "dies.csv"
    for col, value, match in (
        ("role", "maybe", "role must be one of"),
        ("family", "fpga", "family must be one of"),
        ("node", "tsmc-n1.5", "unknown node"),
        ("source", "", "needs a source"),
    ):
        bad = good.copy()
        bad.loc[0, col] = value
        bad.to_csv(path, index=False)
        with pytest.raises(DseInputError, match=match) as exc:
            load_reference_dies(path)
        assert "\n" not in str(exc.value)
    with pytest.raises(DseInputError, match="missing column 'role'"):
        good.drop(columns="role").to_csv(path, index=False)
        load_reference_dies(path)


def test_every_usable_die_evaluates_and_the_families_are_summarised(dies):
    table = die_area_table(dies=dies)
    assert len(table) == (dies["role"] != "excluded").sum()
    assert np.isfinite(table["model"]).all() and (table["model"] > 0).all()
    fams = die_area_by_family(table)
    assert list(fams["family"]) == ["gpu", "systolic", "manycore", "dataflow"]
    assert (fams["n_held_out"] >= 1).all()


def test_scratchpad_d1_is_no_longer_sized_as_a_cache_with_gpu_cores(dies):
    # Issue 12's motivating miss: Tesla D1 (354 small cores, 442.5 MiB of scratchpad) was
    # +97.6 % with one fixed per-core cost and the cache factor. Held out of the fit, it
    # now lands within 15 %.
    table = die_area_table(dies=dies).set_index("chip")
    assert table.loc["tesla-dojo-d1", "role"] == "held-out"
    assert abs(table.loc["tesla-dojo-d1", "error"]) < 0.15


def test_issue_4_held_back_chips_stay_within_15_percent(dies):
    # The three held-back dies of the first calibration (T4's TU104, L4's AD104, D1)
    table = die_area_table(dies=dies).set_index("chip")
    errors = table.loc[["nvidia-tu104", "nvidia-ad104", "tesla-dojo-d1"], "abs_error"]
    assert float(np.median(errors)) <= 0.15


def test_a_design_without_vector_lanes_gets_the_median_datapath():
    # vector_lanes_per_sqrt_mac = 2: 1,024 MACs -> 64 lanes, 16,384 -> 256
    base = dse.example_chip("smic-n2-inference")
    for macs, lanes in ((1024, 64), (16384, 256)):
        auto = dse.evaluate(base.replace(macs_per_core=macs))
        given = dse.evaluate(base.replace(macs_per_core=macs, vector_lanes=lanes))
        assert auto.die_area_mm2 == given.die_area_mm2
