"""Calibration: pinned error figures, the fit's provenance, per-op efficiency and DVFS.

The pinned numbers are what ``dse validate`` measures with the constants committed in
``dse/data/model_constants.csv`` (fitted by ``scripts/calibrate.py``). A change that
worsens any metric's median absolute error by more than 2 points fails here; a change
that improves one should lower its pin.
"""

from __future__ import annotations

import math

import pytest
from conftest import ROOT, load_module

import dse
from dse.analysis.fidelity import error_summary, validation_table
from dse.constants import default_constants

# median absolute relative error per metric, over every counted row (dse validate)
PINNED_MEDIAN = {
    # the 21 reference dies with an exact or analyst area (every family, check rows too;
    # issue 12): was 3.4 % over 7 chip dies of the first calibration; 14.9 % over 22 until
    # the area audit made MI100's 750 mm2 (a press figure) an estimate; 14.2 % until the
    # per-core control grew with the core's MACs and the scratchpad factor came from the
    # Cerebras WSE-2 core (1.16, was fitted to its bound 1.84)
    "die_area_mm2": 0.075,
    # (peak_tflops and memory_bandwidth_gbps are not pinned: both are chip-file inputs,
    # exact by construction; per-row bands on every held-out row: test_validate_bands.py)
    # A100 -2.0 %, H100 -7.7 % (1.52 vs 1.65 GHz: the register files and 128-lane SMs
    # now in its area carry clocked-baseline power, so the GEMM meets the cap sooner)
    "sustained_clock_ghz": 0.049,
    # decode board power (A100-40GB, H100; two fitted, six held out) and idle power
    "power_w": 0.082,
    # A100 -31 %, H100 +7 %, T4 +2 %, L4 -18 %: 9.2 % until the area model's per-core
    # control grew with the core's MACs (12.3 %). The clocked baseline is fitted on the
    # A100 and H100 decode power; the new area form puts more logic on their 1,024- and
    # 2,048-MAC SMs, so the fitted energy per transistor-cycle fell 8 % (41.1 -> 38.0 pJ at
    # 45 nm) and L4's smaller SMs (512 MACs) idle 7 points lower. Accepted with the die-area
    # gain (held-out median 12.6 -> 5.7 %); issue 12's closing note gives both.
    "idle_power_w": 0.123,
    "achieved_tflops": 0.026,
    # gpt-fast's A100 batch-1 decode rate: one of the eleven LLM step rows the per-kernel
    # overhead, DRAM and KV-read efficiencies are fitted on (it was the only one)
    "tokens_per_s": 0.058,
    # LLM-Inference-Bench static batches (A100-40GB, H100; TensorRT-LLM and vLLM)
    "request_latency_s": 0.039,
    # time to first token: the prefill step plus the serving host's per-prompt-token time
    # (was 17.9 % as the chip step alone); TensorRT-LLM v0.5's batch-1 128-token rows
    # (-30, -34 %) carry per-request costs the model does not have
    "ttft_s": 0.069,
    # ResNet-50 (MLPerf T4/L4/A100, Groq at batch 1): known misses, pinned so that they
    # cannot get worse. Convs are implicit GEMMs with bias/ReLU in the epilogue; L4 stays
    # DRAM-bound in the model; the Groq TSP runs with execution = "static" (no per-kernel
    # overhead: -69 %, was -92 % when it paid the GPU launch cost). The LLM step refit
    # (DRAM efficiency 0.85 -> 0.79) moved the median from 39.8 to 42.6 %.
    "throughput_per_s": 0.426,
    # H100 decode energy per token (ML.ENERGY, batch 64): the measurement is per output
    # token of chat serving and carries the prompts' prefill; the model is pure decode
    "energy_per_item_j": 0.124,
}
# held-out rows only (not used by any fit): the honest figures
PINNED_HELD_OUT = {
    # eight held-out dies of four families with an exact or analyst area (issue 12's
    # target is 10 %, met; still beyond +-35 %: Graphcore GC2 +55 %); 15.5 % over nine until
    # the area audit made MI100 (-27 %, a press-figure area) an estimate; 12.6 % until the
    # per-core control grew with the core's MACs (GA102 +37 -> +31 %)
    "die_area_mm2": 0.057,
    "achieved_tflops": 0.030,
    "throughput_per_s": 0.426,
    "energy_per_item_j": 0.124,
    # held-out decode power 10.4 -> 11.5 % with the area form above (in tolerance)
    "power_w": 0.104,
    "request_latency_s": 0.056,
    "ttft_s": 0.085,
    "idle_power_w": 0.123,
}
TOLERANCE = 0.02  # "worsens by > 2 points fails"

def _calibrate_module():
    return load_module(ROOT / "scripts" / "calibrate.py")


_CAL = _calibrate_module()
# every constant the calibration script fits (scripts/calibrate.py names them)
FITTED = (*_CAL.AREA_PARAMS, _CAL.LANES_PARAM, _CAL.ENERGY_PARAM, _CAL.BASELINE_PARAM, *_CAL.STEP_PARAMS)


@pytest.fixture(scope="module")
def summary():
    return error_summary(validation_table()).set_index("metric")


@pytest.mark.parametrize("metric", sorted(PINNED_MEDIAN))
def test_median_error_does_not_regress(summary, metric):
    assert summary.loc[metric, "median_abs_error"] <= PINNED_MEDIAN[metric] + TOLERANCE


@pytest.mark.parametrize("metric", sorted(PINNED_HELD_OUT))
def test_held_out_error_does_not_regress(summary, metric):
    assert summary.loc[metric, "held_out_median_abs_error"] <= PINNED_HELD_OUT[metric] + TOLERANCE


def test_held_out_llm_phases_within_issue_13_target():
    # issue 13: held-out decode rows and held-out prefill (time to first token) rows each
    # within a median 10 %
    frame = validation_table()
    from dse.analysis.fidelity import llm_phase_summary

    phases = llm_phase_summary(frame).set_index("phase")
    assert phases.loc["decode", "n_held_out"] >= 20
    assert phases.loc["prefill", "n_held_out"] >= 5
    for phase in ("decode", "prefill"):
        assert phases.loc[phase, "held_out_median_abs_error"] <= 0.10, phase


def test_fitted_constants_are_in_bounds_and_name_their_fit():
    c = default_constants()
    for name in FITTED:
        row = c.table.loc[name]
        assert row["low"] <= c[name] <= row["high"], name
        assert "Fitted by scripts/calibrate.py" in row["source"], name


def test_committed_constants_are_the_fit_result():
    # Re-running the fit from the committed constants returns them (the CSV is the fit's
    # output, not hand-tuned numbers).
    cal = _calibrate_module()
    c, *_ = cal.calibrate(default_constants())
    for name in FITTED:
        assert c[name] == pytest.approx(default_constants()[name], rel=0.01), name


# --- per-op efficiency (issue 4, item 4) --------------------------------------------------


def _achieved_fraction_of_peak(chip, workload):
    m = dse.evaluate(chip, workload)
    return dse.parse_workload(workload).total_flops / m.latency_s * 1e-12 / m.peak_tflops


def test_small_gemms_and_gemvs_are_far_below_peak(h100):
    # Launch/ramp overhead and tile quantisation: a 64^3 GEMM uses a sliver of the chip,
    # a 1024^3 GEMM well under half of it; a GEMV is bandwidth-bound (< 1 % of peak).
    assert _achieved_fraction_of_peak(h100, "gemm:64,64,64") < 0.001
    assert _achieved_fraction_of_peak(h100, "gemm:1024,1024,1024") < 0.5
    assert _achieved_fraction_of_peak(h100, "gemm:1,8192,8192") < 0.01


def test_large_power_limited_gemm_reaches_most_of_peak(a100, h100):
    # Measured: A100 cuBLAS bf16 8192^3 258/312 = 83 % (thonking.ai 2024); H100 SXM5
    # FlashAttention-3 740/989 = 75 %, DeepGEMM fp8 1550/1979 = 78 % (reference_chips.csv).
    assert 0.75 <= _achieved_fraction_of_peak(a100, "gemm:8192,8192,8192") <= 0.85
    assert 0.68 <= _achieved_fraction_of_peak(h100, "gemm:8192,8192,8192") <= 0.85


def test_gemv_bandwidth_fraction_grows_with_size(h100):
    # Bandwidth-bound GEMVs (weights larger than the on-chip SRAM, streamed from HBM) reach
    # a fraction of the memory bandwidth that grows with their size towards the fitted
    # DRAM efficiency: the per-kernel overhead weighs less on a longer stream (gpt-fast on
    # A100: 1397 of 2039 GB/s = 69 % for a whole Llama-2-7B decode step).
    chip = h100.replace(sram_mb=32.0)  # keep the weights off chip for the smallest one
    fractions = []
    for workload in ("gemm:1,2560,8192", "gemm:1,8192,8192", "gemm:1,8192,28672"):  # 42, 134, 470 MB
        m = dse.evaluate(chip, workload)
        assert not m.weights_resident
        fractions.append(m.dram_bytes / m.latency_s / (m.memory_bandwidth_gbps * 1e9))
    assert fractions[0] < fractions[1] < fractions[2] < default_constants()["dram_efficiency"]
    assert fractions[0] > 0.4  # 42 MB: 12.5 us of streaming against ~7 us of kernel overhead
    assert fractions[2] > 0.75  # 470 MB: the overhead is ~4 % of the stream


# --- power and DVFS on the H100 example (issue 4, item 5) --------------------------------


def test_h100_dense_gemm_is_power_capped_below_max_clock(h100):
    m = dse.evaluate(h100, "gemm:8192,8192,8192")
    assert m.power_w == pytest.approx(h100.tdp_w, rel=5e-3)  # runs at the 700 W cap
    assert m.sustained_clock_ghz < 0.9 * h100.clock_ghz  # well below the max clock
    assert 0.7 * h100.clock_ghz < m.sustained_clock_ghz  # ... but not collapsed
    assert m.feasible and m.junction_temp_c <= h100.tj_max_c


def test_h100_memory_bound_decode_runs_at_max_clock_below_tdp(h100):
    # public decode measurements put big HBM parts at 55-80 % of TDP in small-batch decode
    # (docs/reference/power_notes.md; ML.ENERGY H100 Llama-3.1-8B batch 16: 513 of 700 W)
    m = dse.evaluate(h100, "llm-decode:llama-3-8b:batch=1,context=1024")
    assert m.sustained_clock_ghz == pytest.approx(h100.clock_ghz)
    assert 0.55 * h100.tdp_w <= m.power_w <= 0.80 * h100.tdp_w
    bw_fraction = m.dram_bytes / m.latency_s / (m.memory_bandwidth_gbps * 1e9)
    assert 0.55 <= bw_fraction <= 0.9


def test_a100_sustained_gemm_clock_matches_published(a100):
    # NVIDIA rated A100 HPL at 1305 MHz (the clock sustained at the power limit); the
    # randn/zeros cuBLAS ratio gives 1.23 GHz (reference_chips.csv).
    m = dse.evaluate(a100, "gemm:8192,8192,8192")
    assert 1.20 <= m.sustained_clock_ghz <= 1.32
    assert m.power_w == pytest.approx(a100.tdp_w, rel=5e-3)


def test_a_higher_power_cap_buys_clock_not_power_at_decode(h100):
    gemm_lo = dse.evaluate(h100.replace(tdp_w=500), "gemm:8192,8192,8192")
    gemm_hi = dse.evaluate(h100, "gemm:8192,8192,8192")
    assert gemm_lo.sustained_clock_ghz < gemm_hi.sustained_clock_ghz
    dec_lo = dse.evaluate(h100.replace(tdp_w=500), "llm-decode:llama-3-8b:batch=1,context=1024")
    dec_hi = dse.evaluate(h100, "llm-decode:llama-3-8b:batch=1,context=1024")
    assert math.isclose(dec_lo.latency_s, dec_hi.latency_s, rel_tol=1e-9)
