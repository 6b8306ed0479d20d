"""Tests that kill surviving mutants of ``dse.model.cost`` (docs/mutation.md).

Each expectation is the function's documented formula worked by hand for round inputs:
dies per wafer with the edge-loss term (D. K. de Vries, "Investigation of gross die per
wafer formulas", IEEE Trans. Semicond. Manuf. 18(1), 2005), the negative-binomial yield
(Stapper), cost per good die = wafer cost / (dies x yield), NRE = (masks + design + IP) /
products, test cost and the amortised unit cost as in their docstrings.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from dse.model import cost


def test_dies_per_wafer_with_edge_loss():
    # 300 mm wafer, 100 mm2 die: pi 150^2 / 100 - pi 300 / sqrt(200) = 706.86 - 66.64
    assert cost.dies_per_wafer(100.0) == 640.0
    assert cost.dies_per_wafer(100.0, wafer_diameter_mm=200.0) == math.floor(
        math.pi * 100.0**2 / 100.0 - math.pi * 200.0 / math.sqrt(200.0)
    )
    assert cost.dies_per_wafer(1e6) == 1.0  # larger than the wafer: one die


def test_negative_binomial_yield():
    # 100 mm2 = 1 cm2 at D0 = 0.1 /cm2, alpha = 2: (1 + 0.05)^-2
    assert cost.negative_binomial_yield(100.0, 0.1, 2.0) == pytest.approx(1.05**-2, rel=1e-12)
    # alpha -> inf: Poisson exp(-A D0)
    assert cost.negative_binomial_yield(100.0, 0.1, 1e9) == pytest.approx(math.exp(-0.1), rel=1e-8)


def test_cost_per_good_die_spreads_the_wafer_over_the_good_dies():
    assert cost.cost_per_good_die_usd(10_000.0, 100.0, 0.5) == pytest.approx(200.0, rel=1e-12)


def test_memory_cost_is_capacity_times_price():
    assert cost.memory_cost_usd(80.0, 10.0) == pytest.approx(800.0, rel=1e-12)


def test_nre_is_one_products_share():
    assert cost.nre_usd(10e6, 80e6, 10e6) == pytest.approx(100e6, rel=1e-12)
    assert cost.nre_usd(10e6, 80e6, 10e6, products=4) == pytest.approx(25e6, rel=1e-12)


def test_test_cost_lands_on_the_good_parts():
    # $360/h = $0.1/s; 2 dies of 100 mm2 at 0.02 s/mm2, die yield 0.5: 8 s of sort;
    # plus 6 s final: 14 s per part, over a package yield of 0.8
    got = cost.test_cost_usd(100.0, 2, 0.5, 0.8, 360.0, 0.02, 6.0)
    assert got == pytest.approx(0.1 * 14.0 / 0.8, rel=1e-12)


def test_unit_cost_at_volume_amortises_the_nre():
    got = cost.unit_cost_at_volume_usd(np.array([100.0]), 5.0, 1e6, np.array([1e4]))
    np.testing.assert_allclose(got, [100.0 + 5.0 + 100.0], rtol=1e-12)
