"""The contract of `dse evaluate`, `dse.evaluate` and `dse.evaluate_many`."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from conftest import run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dse
from dse.metrics import METRICS
from dse.spec import CHIP_KEYS, COOLING, DTYPES
from dse.tech import default_tech

CONTRACT_KEYS = [
    "die_area_mm2", "peak_tflops", "tpp", "performance_density", "export_class", "dies_per_wafer",
    "yield", "die_cost_usd", "latency_s", "throughput_per_s", "energy_j", "power_w",
    "sustained_clock_ghz", "junction_temp_c", "feasible", "violations",
]  # fmt: skip

ACCEPTANCE = [
    ("llm-decode:llama-3-8b:batch=1,context=1024", True),
    ("gemm:8192,8192,8192", False),
    ("llm-prefill:llama-3-70b:batch=1,seq=2048", True),
    ("resnet50:batch=32", False),
]


@pytest.mark.parametrize("chip", sorted(dse.example_chips()))
@pytest.mark.parametrize(("workload", "llm"), ACCEPTANCE)
def test_cli_json_has_every_contract_key(chip, workload, llm):
    proc = run_cli("evaluate", str(dse.example_chips()[chip]), "--workload", workload, "--json")
    assert proc.returncode == 0, proc.stderr
    d = json.loads(proc.stdout)
    for key in CONTRACT_KEYS + (["tokens_per_s"] if llm else []):
        assert key in d, key
        if isinstance(d[key], float | int) and not isinstance(d[key], bool):
            assert math.isfinite(d[key]), key
    assert isinstance(d["violations"], list)
    assert d["feasible"] == (not d["violations"])


def test_70b_prefill_on_80gb_reports_capacity_violation(h100):
    # llama-3-70b at bf16 is 141 GB of weights: it cannot fit in 80 GB of HBM.
    m = dse.evaluate(h100, "llm-prefill:llama-3-70b:batch=1,seq=2048")
    assert "memory_capacity" in m.violations and not m.feasible
    assert m.latency_s > 0 and math.isfinite(m.latency_s)


def test_evaluate_and_evaluate_many_agree(h100, a100):
    wl = "llm-decode:llama-3-8b:batch=8,context=2048"
    frame = pd.DataFrame([h100.to_dict(), a100.to_dict()])
    many = dse.evaluate_many(frame, wl)
    for i, chip in enumerate((h100, a100)):
        one = dse.evaluate(chip, wl).to_dict()
        for key, value in one.items():
            if key in ("workload",):
                continue
            got = many[key].iloc[i]
            if key == "violations":
                assert got == ";".join(value)
            elif isinstance(value, float):
                assert got == pytest.approx(value, rel=1e-12, abs=0), key
            else:
                assert got == value, key


def test_evaluate_many_is_independent_of_chunking(h100):
    rng = np.random.default_rng(1)
    frame = pd.DataFrame([h100.to_dict()] * 40000)
    frame["sram_mb"] = rng.uniform(8, 512, len(frame))
    frame["tdp_w"] = rng.uniform(100, 900, len(frame))
    wl = "llm-decode:llama-3-8b:batch=4,context=1024"
    a = dse.evaluate_many(frame, wl, threads=1)
    b = dse.evaluate_many(frame, wl, threads=2)
    pd.testing.assert_frame_equal(a, b)
    one = dse.evaluate(h100.replace(sram_mb=float(frame["sram_mb"].iloc[-1]), tdp_w=float(frame["tdp_w"].iloc[-1])), wl)
    assert a["latency_s"].iloc[-1] == pytest.approx(one.latency_s, rel=1e-12)


def test_aliases_accepted(h100):
    m1 = dse.evaluate(h100.replace(node="TSMC 4N"))
    m2 = dse.evaluate(h100)
    assert m1.die_area_mm2 == m2.die_area_mm2


# --- property tests over the whole chip-key space --------------------------------------------

_tech = default_tech()
_WORKLOADS = [
    "llm-decode:llama-3-8b:batch=1,context=1024",
    "llm-decode:llama-3-70b:batch=64,context=8192:dtype=fp8",
    "llm-prefill:llama-2-7b:batch=2,seq=512:dtype=int8",
    "llm-decode:qwen3-30b-a3b:batch=4,context=512:weights=int4,kv=fp8",
    "llm-prefill:deepseek-v3:batch=1,seq=256:dtype=fp8",
    "llm-serve:llama-3-8b:prompt=512,output=128,ttft_ms=500,tpot_ms=50",
    "gemm:1,8192,8192",
    "gemm:8192,8192,8192",
    "resnet50:batch=8",
]


def _numeric(key: str) -> st.SearchStrategy:
    spec = CHIP_KEYS[key]
    lo = spec.low if spec.low is not None else 0.0
    hi = spec.high
    if spec.type == "int":
        return st.integers(max(int(lo), 1 if spec.low_exclusive else int(lo)), int(hi))
    lo_ = lo * 1.0000001 + 1e-9 if spec.low_exclusive else lo
    return st.floats(lo_, hi, allow_nan=False, allow_infinity=False)


_design = st.fixed_dictionaries(
    {
        "node": st.sampled_from(_tech.node_ids),
        "memory": st.sampled_from(_tech.memory_ids),
        "cores": _numeric("cores"),
        "macs_per_core": _numeric("macs_per_core"),
        "clock_ghz": _numeric("clock_ghz"),
        "sram_mb": _numeric("sram_mb"),
        "memory_count": st.integers(1, 64),
        "tdp_w": _numeric("tdp_w"),
        "cooling": st.sampled_from(COOLING),
        "mac_dtype": st.sampled_from(DTYPES),
        "ambient_c": _numeric("ambient_c"),
        "tj_max_c": _numeric("tj_max_c"),
        "memory_bandwidth_gbps": st.one_of(st.just(math.nan), _numeric("memory_bandwidth_gbps")),
        "memory_capacity_gb": st.one_of(st.just(math.nan), _numeric("memory_capacity_gb")),
        "thermal_model": st.sampled_from(("lumped", "lumped", "grid")),
        "thermal_grid_cells": st.integers(4, 12),
        "sram_layout": st.sampled_from(("interleaved", "banked")),
        "spare_cores": st.integers(0, 16),
        "dies": st.integers(1, 8),
        "package": st.sampled_from(("organic", "interposer")),
        "system": st.sampled_from(("single", "auto")),
        "link": st.sampled_from(("nvlink4", "pcie5", "ethernet-400g")),
        "tp_max": st.integers(1, 64),
    }
).map(lambda d: {**d, "cores": max(d["cores"] // d["dies"], 1) * d["dies"], "spare_cores": d["spare_cores"] // d["dies"] * d["dies"]})
# (cores and spares split evenly over the dies: an uneven split is an input error)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(designs=st.lists(_design, min_size=1, max_size=40), workload=st.sampled_from(_WORKLOADS))
def test_no_nan_inf_or_negative_anywhere(designs, workload):
    out = dse.evaluate_many(pd.DataFrame(designs), workload)
    for name, spec in METRICS.items():
        if name not in out:
            assert spec.llm_only or spec.serve_only
            continue
        if spec.kind != "float":
            continue
        values = out[name].to_numpy(dtype=float)
        if spec.absent_ok:  # NaN = no such part (no off-chip memory)
            values = values[~np.isnan(values)]
        assert np.isfinite(values).all(), name
        if name not in ("junction_temp_c", "junction_temp_mean_c", "memory_temp_c"):  # ambient may be below 0 degC
            assert (values >= 0).all(), name
    for name in ("latency_s", "die_area_mm2", "power_w", "energy_j"):
        assert (out[name] > 0).all(), name
    assert (out["sustained_clock_ghz"] <= out["clock_ghz"] * (1 + 1e-12)).all()
