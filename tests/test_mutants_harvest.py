"""Tests that kill surviving mutants of ``dse.model.harvest`` (docs/mutation.md).

The sellable-die cost is wafer cost / (dies per wafer x harvested yield); these tests
check that the wafer diameter and the spare counts a caller gives are the ones used,
against the module's own building blocks (no fitted numbers).
"""

from __future__ import annotations

import numpy as np

from dse.model.cost import dies_per_wafer
from dse.model.harvest import (
    DEFAULT_SPARES,
    best_spare_cores,
    cost_per_sellable_die_usd,
    harvested_die_area_mm2,
    harvested_yield,
    spare_cores_sweep,
)

# a 64-core die of 6 mm2 tiles and 120 mm2 of uncore on a node with D0 = 0.2 /cm2
ARGS = dict(core_area_mm2=6.0, uncore_area_mm2=120.0, cores=64, defect_density_per_cm2=0.2, alpha=3.0)


def _by_hand(spares, diameter):
    area = harvested_die_area_mm2(6.0, 120.0, 64, spares)
    y = harvested_yield(6.0, 120.0, 64, spares, 0.2, 3.0)
    return 10_000.0 / (dies_per_wafer(area, diameter) * y)


def test_cost_uses_the_wafer_diameter_given():
    for diameter in (200.0, 300.0):
        got = cost_per_sellable_die_usd(10_000.0, spare_cores=2, wafer_diameter_mm=diameter, **ARGS)
        np.testing.assert_allclose(got, _by_hand(2, diameter), rtol=1e-12)
    # fewer dies on a 200 mm wafer at the same wafer cost: each die costs more
    assert _by_hand(2, 200.0) > _by_hand(2, 300.0)


def test_sweep_uses_the_spares_and_diameter_given():
    got = spare_cores_sweep(10_000.0, spares=[0, 4], wafer_diameter_mm=200.0, **ARGS)
    assert got.shape == (1, 2)
    np.testing.assert_allclose(got[0], [_by_hand(0, 200.0), _by_hand(4, 200.0)], rtol=1e-12)


def test_sweep_defaults_to_every_spare_count():
    got = spare_cores_sweep(10_000.0, **ARGS)
    assert got.shape == (1, len(DEFAULT_SPARES))
    np.testing.assert_allclose(got[0, [0, 4]], [_by_hand(0, 300.0), _by_hand(4, 300.0)], rtol=1e-12)


def test_best_spare_cores_reads_the_spares_given():
    cost = np.array([[3.0, 1.0, 2.0], [1.0, 2.0, 3.0]])
    assert best_spare_cores(cost, spares=[0, 8, 16]).tolist() == [8, 0]
    assert best_spare_cores(np.array([[2.0, 1.0, 3.0]])).tolist() == [DEFAULT_SPARES[1]]
