"""Physics and golden-value tests of the chip model (sources in each test)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import dse
from dse.constants import default_constants
from dse.model import cost, thermal
from dse.units import GB

# --- peak numbers -------------------------------------------------------------------------


def test_a100_peak_equals_datasheet(a100):
    # NVIDIA A100 datasheet: 312 TFLOPS dense bf16 at the 1.41 GHz boost clock.
    m = dse.evaluate(a100)
    assert m.peak_tflops == pytest.approx(312.0, rel=2e-3)


def test_h100_peak_equals_datasheet(h100):
    # NVIDIA H100 SXM5 datasheet: 989.4 TFLOPS dense bf16 (1979 with sparsity) at 1.83 GHz.
    m = dse.evaluate(h100)
    assert m.peak_tflops == pytest.approx(989.4, rel=1e-3)


def test_h100_tpp_and_export_class(h100):
    # TPP = 2 x MacTOPS x 16 bits = 989.4 x 16 = 15,830 (nodes.md §5): far above 4800 -> 3A090.a.
    m = dse.evaluate(h100)
    assert m.tpp == pytest.approx(989.4 * 16, rel=1e-3)
    assert m.export_class == "3A090.a"


def test_h20_class_tpp_is_below_a_threshold():
    # NVIDIA H20: ~148 dense fp16 TFLOPS -> TPP ~2370 on a ~814 mm2 die -> PD ~2.9:
    # TPP >= 2400 fails, TPP >= 1600 with PD < 3.2 fails: not 3A090.a/.b by the 2023 thresholds.
    from dse.model.export_control import export_class_code

    c = default_constants()
    assert export_class_code(2370.0, 2370.0 / 814.0, c) == 0
    assert export_class_code(4800.0, 1.0, c) == 2  # TPP >= 4800 alone is .a
    assert export_class_code(1600.0, 6.0, c) == 2  # TPP >= 1600 and PD >= 5.92
    assert export_class_code(2400.0, 2.0, c) == 1  # .b.1
    assert export_class_code(1600.0, 3.5, c) == 1  # .b.2


# --- dies per wafer and yield: textbook worked examples -----------------------------------


def test_dies_per_wafer_textbook():
    # Hennessy & Patterson, Computer Architecture: A Quantitative Approach, 5th ed., §1.6
    # example: 300 mm wafer, 1.5 cm die -> 270 dies (269.7 before rounding); 1.0 cm -> 640.
    assert cost.dies_per_wafer(100.0) == 640
    gross = math.pi * 150**2 / 225.0 - math.pi * 300 / math.sqrt(2 * 225.0)
    assert gross == pytest.approx(269.7, abs=0.05)
    assert cost.dies_per_wafer(225.0) == math.floor(gross)


def test_negative_binomial_yield_textbook():
    # Patterson & Hennessy, Computer Organization and Design, 5th ed., exercise 1.10:
    # yield = 1 / (1 + defects x area / 2)^2 (negative binomial, alpha = 2).
    # 20 cm wafer, 100 dies (3.1416 cm2 each), 0.031 defects/cm2 -> 0.909;
    # 15 cm wafer, 84 dies (2.1037 cm2 each), 0.020 defects/cm2 -> 0.959.
    a1 = math.pi * 10**2 / 100 * 100  # mm2
    a2 = math.pi * 7.5**2 / 84 * 100
    assert cost.negative_binomial_yield(a1, 0.031, 2.0) == pytest.approx(0.909, abs=5e-4)
    assert cost.negative_binomial_yield(a2, 0.020, 2.0) == pytest.approx(0.959, abs=5e-4)


def test_yield_falls_with_area_and_tends_to_poisson():
    areas = np.linspace(50, 850, 20)
    y = cost.negative_binomial_yield(areas, 0.1, 3.0)
    assert np.all(np.diff(y) < 0)
    # alpha -> infinity is Poisson exp(-A D0)
    assert cost.negative_binomial_yield(600.0, 0.1, 1e9) == pytest.approx(math.exp(-0.6), rel=1e-6)


# --- roofline invariants --------------------------------------------------------------------

DECODE = "llm-decode:llama-3-8b:batch=1,context=1024"


def _designs(chip, **sweep) -> pd.DataFrame:
    (key, values), = sweep.items()
    rows = []
    for v in values:
        d = chip.to_dict()
        d[key] = v
        rows.append(d)
    return pd.DataFrame(rows)


def test_op_time_at_least_each_bound(h100):
    for wl in (DECODE, "gemm:8192,8192,8192", "llm-prefill:llama-3-8b:batch=1,seq=2048", "resnet50:batch=32"):
        from dse.chain import op_breakdown, roofline_ceilings

        bd = op_breakdown(h100, wl)
        ceil = roofline_ceilings(h100, wl)
        dram_s = bd["dram_bytes"] / (ceil["dram_bandwidth_gbps"] * GB)
        compute_s = bd["flops"] / (ceil["peak_tflops"] * 1e12)
        assert (bd["time_s"] >= dram_s * (1 - 1e-12)).all()
        assert (bd["time_s"] >= compute_s * (1 - 1e-12)).all()
        # step latency = sum over ops of count x op time
        m = dse.evaluate(h100, wl)
        assert m.latency_s == pytest.approx(float((bd["time_s"] * bd["count"]).sum()), rel=1e-9)


@pytest.mark.parametrize("wl", [DECODE, "gemm:4096,4096,4096", "llm-prefill:llama-3-8b:batch=1,seq=512"])
def test_more_bandwidth_is_never_slower(h100, wl):
    bw = np.geomspace(100, 20000, 25)
    out = dse.evaluate_many(_designs(h100, memory_bandwidth_gbps=bw), wl)
    lat = out["latency_s"].to_numpy()
    assert np.all(np.diff(lat) <= lat[:-1] * 1e-6)


@pytest.mark.parametrize("wl", [DECODE, "gemm:8192,8192,8192", "llm-prefill:llama-3-70b:batch=1,seq=2048", "resnet50:batch=64"])
def test_more_sram_never_more_dram_traffic(h100, wl):
    sram = np.geomspace(1, 1e5, 60)
    out = dse.evaluate_many(_designs(h100, sram_mb=sram), wl)
    traffic = out["dram_bytes"].to_numpy()
    assert np.all(np.diff(traffic) <= 0)
    assert traffic[0] > traffic[-1]  # and SRAM does matter


def test_decode_batch1_takes_weight_bytes_over_bandwidth(h100):
    # A memory-bound decode step streams every weight it uses once (all but the embedding
    # table, of which one row is looked up) plus the KV cache: t ~ bytes / sustained bandwidth.
    wl = dse.parse_workload(DECODE)
    m = dse.evaluate(h100, wl)
    c = default_constants()
    streamed = wl.total_weight_bytes_read_once + wl.total_kv_bytes_read
    t_stream = streamed / (3350 * GB * c["dram_efficiency"])
    # ... plus the fixed per-op overhead of every op occurrence (op_overhead_s, fitted by
    # scripts/calibrate.py to A100's measured gpt-fast decode: 1397 GB/s, i.e. 1.24x the
    # pure streaming time at dram_efficiency)
    n_ops = float(wl.op_arrays()["count"].sum())
    assert t_stream <= m.latency_s <= 1.02 * (t_stream + n_ops * c["op_overhead_s"])
    assert m.dram_bytes == pytest.approx(streamed, rel=0.005)


def test_weights_resident_removes_weight_traffic():
    # An SRAM-only chip whose SRAM holds the model streams nothing from DRAM for weights.
    chip = dse.chip_from_dict(
        dict(name="sram", node="tsmc-n5", cores=64, macs_per_core=4096, clock_ghz=1.0, sram_mb=64,
             memory="none", memory_count=0, tdp_w=300, cooling="air")
    )
    m = dse.evaluate(chip, "gemm:1,4096,4096")  # 32 MiB of weights fit in the resident half
    assert m.weights_resident
    m_small = dse.evaluate(chip.replace(sram_mb=16), "gemm:1,4096,4096")
    assert not m_small.weights_resident
    assert m_small.latency_s > m.latency_s


# --- thermal --------------------------------------------------------------------------------


def test_thermal_fixed_point_matches_hand_iteration():
    # Hand calculation: T = Ta + R (P_dyn + L_ref exp(beta (T - 85))), Ta = 25 C,
    # R = 0.1 K/W, P_dyn = 400 W, L_ref = 60 W at 85 C, beta = 0.036 /K.
    # By hand from T = 25: leakage 6.92 W -> 65.69 C; 29.94 W -> 67.99; 32.53 W -> 68.25;
    # 32.83 W -> 68.28; ... -> 68.29 C.
    ta, r, pdyn, lref, beta = 25.0, 0.1, 400.0, 60.0, 0.036
    t = ta
    for _ in range(200):
        t = ta + r * (pdyn + lref * math.exp(beta * (t - 85.0)))
    tj, runaway = thermal.junction_temperature(pdyn, r, ta, lref, 85.0, beta)
    assert not runaway
    assert float(tj) == pytest.approx(t, abs=1e-9)
    assert float(tj) == pytest.approx(68.29, abs=0.01)


def test_thermal_runaway_is_reported_not_raised():
    # Same chip with a poor heat sink: 1 K/W -> no fixed point (leakage outruns cooling).
    tj, runaway = thermal.junction_temperature(400.0, 1.0, 25.0, 60.0, 85.0, 0.036)
    assert bool(runaway) and math.isfinite(float(tj))


def test_throttling_lowers_power_to_tdp(h100):
    # A dense compute-bound GEMM at a 300 W cap: the chip throttles and runs at the cap.
    chip = h100.replace(tdp_w=300)
    m = dse.evaluate(chip, "gemm:8192,8192,8192")
    assert m.sustained_clock_ghz < chip.clock_ghz
    assert m.power_w == pytest.approx(300.0, rel=2e-3)
    assert m.power_w <= 300.0 * (1 + 1e-9)
    free = dse.evaluate(h100.replace(tdp_w=5000, cooling="liquid"), "gemm:8192,8192,8192")
    assert free.sustained_clock_ghz == pytest.approx(h100.clock_ghz)
    assert free.latency_s < m.latency_s


def test_hotter_ambient_never_raises_the_clock(h100):
    amb = np.linspace(10, 60, 11)
    out = dse.evaluate_many(_designs(h100, ambient_c=amb), "gemm:8192,8192,8192")
    assert np.all(np.diff(out["sustained_clock_ghz"].to_numpy()) <= 1e-9)
    assert ((out["junction_temp_c"] <= 95.0 + 1e-6) | ~out["feasible"]).all()
