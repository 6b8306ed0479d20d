"""Chiplets: D2D area, bandwidth, energy, package cost and yield (dse.model.chiplet)."""

from __future__ import annotations

import numpy as np
import pytest

from dse.chain.system import collectives_per_step
from dse.constants import default_constants
from dse.model.chiplet import (
    PACKAGES,
    assembled_unit_cost_usd,
    d2d_area_mm2,
    d2d_bandwidth_gbps,
    d2d_energy_pj_per_bit,
    d2d_step_energy_j,
    d2d_step_time_s,
    package_code,
    package_cost_and_yield,
)
from dse.workloads import parse_workload

# Fixed constants for the hand-checked examples (the packaged values at the time of
# writing; spelled out so the arithmetic below stays true if the CSV is re-tuned).
C = {
    "d2d_phy_area_mm2_per_tbps_interposer": 0.1,
    "d2d_phy_area_mm2_per_tbps_organic": 0.74,
    "d2d_shoreline_gbps_per_mm_interposer": 1300.0,
    "d2d_shoreline_gbps_per_mm_organic": 224.0,
    "d2d_energy_pj_per_bit_interposer": 0.3,
    "d2d_energy_pj_per_bit_organic": 0.6,
    "d2d_edge_usable_fraction": 0.8,
    "interposer_usd_per_mm2": 0.22,
    "kgd_test_usd_per_die": 1.5,
    "interposer_area_factor": 1.5,
    "interposer_defect_density_per_cm2": 0.005,
    "interposer_max_mm2": 2700.0,
    "bond_yield_per_die_interposer": 0.99,
    "bond_yield_per_die_organic": 0.995,
    "assembly_usd_per_die": 5.0,
    "hbm_footprint_mm2": 110.0,
    "organic_area_factor": 1.3,
    "package_base_usd": 25.0,
    "package_usd_per_mm2": 0.05,
}


def test_hand_constants_match_the_packaged_table():
    c = default_constants()
    for name, value in C.items():
        assert c[name] == value, name


def test_d2d_area_bandwidth_energy_by_hand():
    # 10,000 GB/s of D2D bandwidth = 80 Tbit/s:
    #   interposer 80 x 0.1 = 8.0 mm2; organic 80 x 0.74 = 59.2 mm2
    assert d2d_area_mm2(10_000.0, "interposer", C) == pytest.approx(8.0)
    assert d2d_area_mm2(10_000.0, "organic", C) == pytest.approx(59.2)
    # a 625 mm2 die has a 25 mm edge; one facing edge, 80 % usable:
    #   interposer 25 x 0.8 x 1,300 = 26,000 GB/s; organic 25 x 0.8 x 224 = 4,480 GB/s
    bw = d2d_bandwidth_gbps(625.0, ["interposer", "organic"], 1, C)
    np.testing.assert_allclose(bw, [26_000.0, 4_480.0])
    # a middle die of a row faces two neighbours: twice the edge
    assert d2d_bandwidth_gbps(625.0, "interposer", 2, C) == pytest.approx(52_000.0)
    np.testing.assert_allclose(d2d_energy_pj_per_bit(["interposer", "organic"], C), [0.3, 0.6])


def test_two_die_interposer_package_by_hand():
    # Two 600 mm2 dies + 4 HBM stacks on an interposer:
    #   footprint = 2 x 600 + 4 x 110 = 1,640 mm2; interposer = 1.5 x 1,640 = 2,460 mm2 (< 2,700)
    #   interposer yield = (1 + 24.6 cm2 x 0.005 / 3)^-3 = 1.041^-3 = 0.886436
    #   interposer cost = 2,460 x 0.22 / 0.886436 = 610.535 USD
    #   substrate = 25 + 0.05 x 2,460 = 148 USD; assembly = 5 x (2 + 4) = 30 USD
    #   known-good-die test = 1.5 x (2 + 4) = 9 USD
    #   raw package = 797.535 USD; package yield = 0.99^6 = 0.941480
    pkg = package_cost_and_yield(600.0, 2, 4, "interposer", C)
    assert pkg.interposer_mm2 == pytest.approx(2460.0)
    assert pkg.interposer_usd == pytest.approx(541.2 / 1.041**-3, rel=1e-12)
    assert pkg.interposer_usd == pytest.approx(610.535, abs=0.005)
    assert pkg.substrate_mm2 == pytest.approx(2460.0)
    assert pkg.package_usd == pytest.approx(610.5339 + 148.0 + 30.0 + 9.0, abs=1e-3)
    assert pkg.package_yield == pytest.approx(0.99**6)
    assert not pkg.oversize
    # good dies at 300 USD, 4 x 16 GB HBM at 10 USD/GB = 640 USD:
    #   unit = (2 x 300 + 640 + 797.534) / 0.941480 = 2,164.2 USD
    unit = assembled_unit_cost_usd(300.0, 2, 640.0, pkg.package_usd, pkg.package_yield)
    assert unit == pytest.approx((600.0 + 640.0 + 797.5339) / 0.99**6, rel=1e-5)


def test_organic_package_by_hand_and_oversize_interposer():
    # Two 400 mm2 dies on organic, no stacks: substrate 1.3 x 800 = 1,040 mm2,
    #   25 + 0.05 x 1,040 = 77 USD + assembly 2 x 5 + known-good-die test 2 x 1.5 = 90 USD;
    #   yield 0.995^2 = 0.990025
    pkg = package_cost_and_yield(400.0, 2, 0, "organic", C)
    assert pkg.package_usd == pytest.approx(90.0)
    assert pkg.package_yield == pytest.approx(0.990025)
    assert pkg.interposer_mm2 == 0.0 and pkg.interposer_usd == 0.0
    # 2 x 800 mm2 + 8 stacks: 1.5 x (1,600 + 880) = 3,720 mm2 > 2,700: flagged
    assert package_cost_and_yield(800.0, 2, 8, "interposer", C).oversize


def test_tensor_parallel_traffic_between_two_dies_by_hand():
    # llama-3-8b decode, batch 1: S = 1 token x 4,096 x 2 B = 8,192 B, 2 x 32 = 64 all-reduces.
    # Two dies, 10,000 GB/s D2D (both directions) -> 5,000 GB/s per direction, 10 ns per hop:
    #   one ring all-reduce = 2 (2-1)/2 x 8,192 / 5e12 + 2 x 1 x 1e-8 = 1.6384e-9 + 2e-8 = 2.16384e-8 s
    #   per step: 64 x 2.16384e-8 = 1.38486e-6 s
    #   bytes crossing: 2 dies x 8,192 B x 64 = 1,048,576 B = 8,388,608 bit x 0.3 pJ = 2.5166e-6 J
    col = collectives_per_step(parse_workload("llm-decode:llama-3-8b:batch=1,context=1024"))
    assert col.message_bytes == 8192.0 and col.allreduces_per_step == 64.0
    t = d2d_step_time_s(col.message_bytes, col.allreduces_per_step, 2, 10_000.0, 0.01)
    assert t == pytest.approx(64 * (8192 / 5e12 + 2e-8), rel=1e-12)
    e = d2d_step_energy_j(col.message_bytes, col.allreduces_per_step, 2, 0.3)
    assert e == pytest.approx(8_388_608 * 0.3e-12, rel=1e-12)
    # one die: nothing crosses
    assert d2d_step_time_s(col.message_bytes, col.allreduces_per_step, 1, 10_000.0) == 0.0
    assert d2d_step_energy_j(col.message_bytes, col.allreduces_per_step, 1, 0.3) == 0.0


def test_package_invariants():
    dies = np.arange(1, 9)
    inter = package_cost_and_yield(400.0, dies, 4, "interposer")
    org = package_cost_and_yield(400.0, dies, 0, "organic")
    assert (np.diff(inter.package_yield) < 0).all() and (np.diff(org.package_yield) < 0).all()
    assert (np.diff(inter.package_usd) > 0).all()
    # organic: cheaper, less bandwidth per edge, more energy per bit
    assert (
        package_cost_and_yield(400.0, dies, 0, "interposer").package_usd > org.package_usd
    ).all()
    assert d2d_bandwidth_gbps(400.0, "interposer") > d2d_bandwidth_gbps(400.0, "organic")
    assert d2d_energy_pj_per_bit("interposer") < d2d_energy_pj_per_bit("organic")
    # more dies in the ring: more time at fixed per-die bandwidth
    t = d2d_step_time_s(1e6, 64, dies, 10_000.0)
    assert t[0] == 0.0 and (np.diff(t) > 0).all()


def test_package_codes():
    np.testing.assert_array_equal(package_code(["organic", " Interposer "]), [0, 1])
    np.testing.assert_array_equal(package_code(np.array([1, 0])), [1, 0])
    assert PACKAGES == ("organic", "interposer")
    with pytest.raises(ValueError, match="package must be one of"):
        package_code("cowos")
    with pytest.raises(ValueError, match="codes"):
        package_code(np.array([2]))
