"""``llm-serve``: continuous batching with chunked prefill at latency targets (issue 13).

The batch search is checked against brute force over every batch size; the targets, the
capacity limit and the token budget against their definitions.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from conftest import run_cli

import dse
from dse.errors import DseInputError
from dse.workloads import parse_workload

SERVE = "llm-serve:llama-3-8b:prompt=1024,output=256,ttft_ms=500,tpot_ms=40"


@pytest.fixture(scope="module")
def h100():
    return dse.example_chip("h100-like")


@pytest.mark.parametrize(
    ("keys", "workload"),
    [
        # 24 GB: the KV cache limits the batch to (24 - 16.06) GB / (1,280 x 128 KiB) = 47
        (dict(memory_capacity_gb=24), SERVE),
        # a tight TPOT target binds first
        (dict(memory_capacity_gb=24), "llm-serve:llama-3-8b:prompt=1024,output=256,ttft_ms=500,tpot_ms=8"),
        # a tight TTFT target binds first (a 4k prompt in 2k chunks)
        (dict(memory_capacity_gb=24), "llm-serve:llama-3-8b:prompt=4096,output=256,ttft_ms=120,tpot_ms=60"),
        # SRAM-poor LPDDR chip: a slow iteration
        (dict(memory="lpddr5x", memory_count=8, memory_bandwidth_gbps=None, memory_capacity_gb=None), SERVE),
    ],
)
def test_serve_batch_is_the_largest_that_brute_force_finds(h100, keys, workload):
    chip = h100.replace(**keys)
    m = dse.evaluate(chip, workload)
    wl = parse_workload(workload)
    curve = dse.serve_curve(chip, wl, batches=range(1, 129))
    meets = curve[curve["meets"]]
    brute = int(meets["batch"].max()) if len(meets) else 0
    if brute:
        assert m.serve_batch == brute and "slo" not in m.violations
        at = curve.set_index("batch").loc[brute]
        assert m.tpot_s == pytest.approx(at["tpot_s"]) and m.ttft_s == pytest.approx(at["ttft_s"])
        assert m.tpot_s <= wl.serve.tpot_s and m.ttft_s <= wl.serve.ttft_s
        assert m.goodput_tokens_per_s == pytest.approx(brute / m.tpot_s)
    else:
        assert m.serve_batch == 1 and "slo" in m.violations and m.goodput_tokens_per_s == 0.0
    # the searched latencies only grow with the batch (what the bisection relies on)
    assert (np.diff(curve["tpot_s"]) >= -1e-12).all() and (np.diff(curve["ttft_s"]) >= -1e-12).all()


def test_kv_capacity_and_token_budget_limit_the_batch(h100):
    wl = parse_workload(SERVE)
    per_request = (1024 + 256) * 32 * 2 * 8 * 128 * 2  # KV bytes of one request at full length
    assert per_request == 1024 * 256 * 640
    curve = dse.serve_curve(h100.replace(memory_capacity_gb=24), wl, batches=[47, 48])
    # 16.06 GB of weights + 47 requests fit in 24 GB, 48 do not
    assert wl.weight_bytes + 47 * per_request <= 24e9 < wl.weight_bytes + 48 * per_request
    assert list(curve["fits"]) == [True, False]
    # the 2,048-token budget keeps up with B x 1024 / 256 prompt tokens only for B <= 409
    assert wl.serve.max_batch == math.floor(2048 * 256 / 1280) == 409


def test_acceptance_command_gives_the_serving_keys_with_the_targets_met():
    proc = run_cli("evaluate", "h100-like", "--workload", SERVE, "--json")
    assert proc.returncode == 0, proc.stderr
    d = json.loads(proc.stdout)
    for key in ("ttft_s", "tpot_s", "serve_batch", "goodput_tokens_per_s", "energy_per_item_j", "cost_per_throughput_usd"):
        assert key in d and d[key] is not None, key
    assert d["ttft_s"] <= 0.5 and d["tpot_s"] <= 0.04 and d["serve_batch"] >= 1
    assert d["goodput_tokens_per_s"] == pytest.approx(d["serve_batch"] / d["tpot_s"])
    assert d["feasible"] and "slo" not in d["violations"]


def test_unreachable_targets_are_a_violation_not_an_error(h100):
    m = dse.evaluate(h100, "llm-serve:llama-3-8b:prompt=1024,output=256,ttft_ms=5,tpot_ms=4")
    assert "slo" in m.violations and not m.feasible
    assert m.serve_batch == 1 and m.goodput_tokens_per_s == 0.0
    assert m.tpot_s > 0.004  # reported at batch 1, where it still misses
    # a model that does not fit at all: capacity and slo
    big = dse.evaluate(h100, "llm-serve:llama-3-70b:prompt=1024,output=256,ttft_ms=500,tpot_ms=40")
    assert {"memory_capacity", "slo"} <= set(big.violations)


def test_serving_moe_and_many_designs_at_once(h100):
    frame = pd.DataFrame([h100.replace(memory_capacity_gb=cap).to_dict() for cap in (40, 80)])
    out = dse.evaluate_many(frame, "llm-serve:qwen3-30b-a3b:prompt=2048,output=512,ttft_ms=1000,tpot_ms=30")
    one = [dse.evaluate(h100.replace(memory_capacity_gb=cap), "llm-serve:qwen3-30b-a3b:prompt=2048,output=512,ttft_ms=1000,tpot_ms=30") for cap in (40, 80)]
    assert list(out["serve_batch"]) == [m.serve_batch for m in one]
    assert out["goodput_tokens_per_s"].iloc[0] <= out["goodput_tokens_per_s"].iloc[1]


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("llm-serve:llama-3-8b:prompt=1024,output=256,ttft_ms=0,tpot_ms=40", "'ttft_ms' must be a positive number"),
        ("llm-serve:llama-3-8b:prompt=1024,output=256,ttft_ms=500,tpot_ms=-1", "'tpot_ms' must be a positive number"),
        ("llm-serve:llama-3-8b:prompt=0,output=256,ttft_ms=500,tpot_ms=40", "'prompt' must be"),
        ("llm-serve:llama-3-8b:prompt=1024,output=0,ttft_ms=500,tpot_ms=40", "'output' must be"),
        ("llm-serve:llama-3-8b:prompt=1024,output=256,ttft_ms=nan,tpot_ms=40", "'ttft_ms' must be a positive number"),
        ("llm-serve:llama-3-8b:prompt=1024,output=256,ttft_ms=500,tpot_ms=40,chunk=1", "'chunk' must be at least 2"),
        ("llm-serve:llama-3-8b:prompt=1024,ttft_ms=500,tpot_ms=40", "needs option 'output'"),
    ],
)
def test_bad_serve_options_are_one_line_and_exit_2(spec, fragment):
    with pytest.raises(DseInputError, match=fragment) as exc:
        parse_workload(spec)
    assert "\n" not in str(exc.value)
    proc = run_cli("evaluate", "h100-like", "-w", spec)
    assert proc.returncode == 2 and fragment.strip("'") in proc.stderr and "Traceback" not in proc.stderr


def test_serve_plot_draws_the_batch_latency_curve(tmp_path):
    proc = run_cli("evaluate", "h100-like", "-w", SERVE, "--plot", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "serve_curve.png").stat().st_size > 10_000
    assert "serve_curve.png" in proc.stdout


def test_a_model_no_chip_holds_is_served_by_a_tensor_parallel_group():
    # DeepSeek-V3 int8 (671 GB) on SMIC N+2 chips of 4 x HBM2E (64 GB each): the smallest
    # group whose shards hold their weights and one request; experts spread over it
    chip = dse.example_chip("smic-n2-inference").replace(system="auto", tp_max=16, link="pcie5")
    wl = "llm-serve:deepseek-v3:prompt=2048,output=512,ttft_ms=3000,tpot_ms=100:weights=int8"
    single = dse.evaluate(chip.replace(system="single"), wl)
    assert {"memory_capacity", "slo"} <= set(single.violations)
    group = dse.evaluate(chip, wl)
    t = int(group.system_chips)
    assert 671 / 64 < t <= 16 and group.feasible, group.violations
    assert group.system_tp == t and group.system_pp == 1
    from dse.chain.system import shard_serve_workload, tp_degrees

    parsed = parse_workload(wl)
    # 128 heads, MLP widths 18,432 and 2,048: the degrees that split them evenly
    degrees = tp_degrees(parsed.model_config, 16)
    assert degrees == [1, 2, 4, 8, 16] and t in degrees
    for k, fits in ((t, True), (max(k for k in degrees if k < t), False)):
        shard = shard_serve_workload(parsed, k)
        one = (2048 + 512) * shard.model_config.kv_bytes_per_token(2)
        assert (shard.weight_bytes + one <= 64e9) is fits, k
    # the group's metrics: the all-reduces over PCIe make TPOT longer than the chip's step
    assert group.tpot_s > group.latency_s and group.tpot_s <= 0.1
    assert group.goodput_tokens_per_s == pytest.approx(group.serve_batch / group.tpot_s)
    assert group.system_throughput_per_s == pytest.approx(group.goodput_tokens_per_s)
    assert group.system_cost_usd == pytest.approx(t * (group.unit_cost_usd + 50.0))  # PCIe 5 share $50
    assert group.system_energy_per_item_j > t * group.energy_per_item_j * 0.99
    # a group capped below what the model needs is a system_size violation
    small = dse.evaluate(chip.replace(tp_max=4), wl)
    assert "system_size" in small.violations


@pytest.mark.parametrize("model", ["qwen3-30b-a3b", "mixtral-8x7b", "deepseek-v3"])
def test_moe_serving_latency_grows_with_the_batch(h100, model):
    # what the bisection relies on, for the MoE models too: the experts a batch touches and
    # their padded grouped GEMM only add work as the batch grows
    chip = h100.replace(memory_capacity_gb=2000)
    curve = dse.serve_curve(chip, f"llm-serve:{model}:prompt=1024,output=256,ttft_ms=1000,tpot_ms=60", batches=range(1, 161))
    assert (np.diff(curve["tpot_s"]) >= -1e-12).all()
    assert (np.diff(curve["ttft_s"]) >= -1e-12).all()
