"""Multi-chip systems: sizing, collectives, step time, energy and cost (dse.model.multichip, dse.chain.system)."""

from __future__ import annotations

import numpy as np
import pytest

import dse
from dse.chain.system import collectives_per_step, pp_degrees, shard_workload, tp_degrees
from dse.errors import DseInputError
from dse.model.multichip import (
    LINKS,
    Collectives,
    allreduce_bytes_sent,
    link,
    ring_allreduce_time_s,
    size_system,
    stage_compute_time_s,
    system_performance,
)
from dse.workloads import parse_workload

LLAMA8_DECODE = "llm-decode:llama-3-8b:batch=1,context=1024"


def test_llama3_8b_on_230mb_sram_chips_by_hand():
    # Groq-like chips holding 230 MB of weights each (brief of issue 7).
    # llama-3-8b bf16: W = 8,030,261,248 params x 2 B = 16,060,522,496 B;
    # KV at batch 1, context 1024: 1,025 tokens x 2 x 32 layers x 8 x 128 x 2 B = 134,348,800 B.
    wl = parse_workload(LLAMA8_DECODE)
    assert wl.weight_bytes == 16_060_522_496.0
    assert wl.kv_cache_bytes == 134_348_800.0
    cap = 0.23e9
    # n = ceil((W + KV) / C) = ceil(16,194,871,296 / 2.3e8) = ceil(70.41) = 71 > 8 -> t = 8.
    # one step at a time (not pipelined): p = ceil((W + KV) / (8 C)) = ceil(8.80) = 9 -> N = 72
    # (the brief's ceil(16 GB / 0.23 GB) = 70 chips, rounded up to whole nodes of 8).
    s = size_system(wl.weight_bytes, wl.kv_cache_bytes, cap, tp_max=8, pipelined=False)
    assert (s.tp, s.pp, s.chips) == (8, 9, 72)
    # pipelined, p steps in flight (each stage keeps p KV caches for its layers):
    #   p = ceil(W / (8 C - KV)) = ceil(16,060,522,496 / 1,705,651,200) = ceil(9.416) = 10 -> N = 80
    s = size_system(wl.weight_bytes, wl.kv_cache_bytes, cap, tp_max=8, pipelined=True)
    assert (s.tp, s.pp, s.chips) == (8, 10, 80)
    # whole layers per stage (32 layers), not pipelined: a stage of ceil(32/p) layers must
    # fit: ceil(32/p)/32 x (W + KV) / 8 <= C  ->  ceil(32/p) <= 3.64  ->  3 layers  ->  p = 11
    s = size_system(wl.weight_bytes, wl.kv_cache_bytes, cap, pipelined=False, layers=32)
    assert (s.tp, s.pp, s.chips) == (8, 11, 88)
    # an 80 GB HBM chip holds it alone
    s = size_system(wl.weight_bytes, wl.kv_cache_bytes, 80e9)
    assert (s.tp, s.pp, s.chips) == (1, 1, 1)
    # 3 chips' worth fits in one TP group of 3 (no pipeline)
    s = size_system(2.5e9, 0.0, 1e9)
    assert (s.tp, s.pp, s.chips) == (3, 1, 3)


def test_ring_allreduce_by_hand():
    # S = 8,192 B over 8 chips, 450 GB/s per direction, 1 us per ring step:
    #   2 x 7/8 x 8,192 / 450e9 + 2 x 7 x 1e-6 = 3.18578e-8 + 1.4e-5 = 1.403186e-5 s
    t = ring_allreduce_time_s(8192.0, 8, 450.0, 1.0)
    assert t == pytest.approx(14336.0 / 450e9 + 14e-6, rel=1e-12)
    assert allreduce_bytes_sent(8192.0, 8) == pytest.approx(14336.0)
    # one chip: no all-reduce
    assert ring_allreduce_time_s(8192.0, 1, 450.0, 1.0) == 0.0
    assert allreduce_bytes_sent(8192.0, 1) == 0.0


def test_system_performance_by_hand():
    # t = 8, p = 10 (N = 80); stage compute 100 us; S = 8,192 B, 64 all-reduces; 1 token/step;
    # link 100 GB/s per direction, 1 us, 10 pJ/bit; E_dyn 1 J/step, static 10 W/chip;
    # chip 500 USD + link 50 USD.
    #   t_AR  = 2 x 7/8 x 8,192 / 1e11 + 14e-6 = 1.43360e-7 + 1.4e-5 = 1.414336e-5 s
    #   stage = 1e-4 + 64/10 x 1.414336e-5 = 1.90517504e-4 s
    #   hop   = 8,192 / 1e11 + 1e-6 = 1.08192e-6 s
    #   latency = 10 x 1.90517504e-4 + 9 x 1.08192e-6 = 1.91491232e-3 s
    #   period  = 1.90517504e-4 + 1.08192e-6 = 1.91599424e-4 s -> 5,219.22 tokens/s
    #   link bytes = 64 x 2 x 7 x 8,192 + 9 x 8,192 = 7,413,760 B -> x 8 x 10 pJ = 5.931008e-4 J
    #   E = 1 + 80 x 10 x 1.91599424e-4 + 5.931008e-4 = 1.15387264 J/token
    #   cost = 80 x 550 = 44,000 USD; USD per token/s = 44,000 x 1.91599424e-4 = 8.430375
    size = size_system(16e9, 0.0, 0.2e9)  # -> t = 8, p = 10
    assert (size.tp, size.pp, size.chips) == (8, 10, 80)
    col = Collectives(8192.0, 64.0, 8192.0)
    r = system_performance(size, 1e-4, col, 1.0, 100.0, 1.0, 10.0, 1.0, 10.0, 500.0, 50.0)
    assert r.latency_s == pytest.approx(1.91491232e-3, rel=1e-9)
    assert r.period_s == pytest.approx(1.91599424e-4, rel=1e-9)
    assert r.throughput_per_s == pytest.approx(5219.22, rel=1e-5)
    assert r.link_energy_j == pytest.approx(5.931008e-4, rel=1e-9)
    assert r.energy_per_item_j == pytest.approx(1.15387264, rel=1e-8)
    assert r.system_cost_usd == 44_000.0
    assert r.cost_per_throughput_usd == pytest.approx(8.430375, rel=1e-6)
    # not pipelined: one step at a time
    r1 = system_performance(
        size, 1e-4, col, 1.0, 100.0, 1.0, 10.0, 1.0, 10.0, 500.0, 50.0, pipelined=False
    )
    assert r1.period_s == r1.latency_s == pytest.approx(1.91491232e-3, rel=1e-9)


def test_one_chip_system_is_the_chip():
    size = size_system(10e9, 1e9, 80e9)
    col = collectives_per_step(parse_workload(LLAMA8_DECODE))
    r = system_performance(size, 7e-3, col, 1.0, 450.0, 1.0, 8.0, 0.4, 20.0, 2000.0)
    assert r.chips == 1 and r.collective_s == 0.0 and r.link_energy_j == 0.0
    assert r.latency_s == r.period_s == 7e-3
    assert r.energy_per_item_j == pytest.approx(0.4 + 20.0 * 7e-3)
    assert r.cost_per_throughput_usd == pytest.approx(2000.0 * 7e-3)


def test_chips_monotone_in_model_size_and_unfit_reported():
    w = np.linspace(1e9, 100e9, 200)
    for pipelined in (True, False):
        for layers in (None, 80):
            s = size_system(w, 0.2e9, 0.25e9, pipelined=pipelined, layers=layers)
            assert s.fits.all()
            assert (np.diff(s.chips) >= 0).all()
            assert ((s.tp * s.pp) == s.chips).all()
            assert (s.chips * 0.25e9 >= w).all()
    # a KV cache that no TP group of 8 can hold with p in flight does not fit
    s = size_system(16e9, 4.3e9, 0.115e9, pipelined=True)
    assert not s.fits and np.isnan(s.chips)
    # zero capacity (no memory): never fits
    assert not size_system(1e9, 0.0, 0.0).fits


def test_stage_time_from_components():
    # R / (t p) + O / p
    assert stage_compute_time_s(8e-3, 2e-3, 8, 4) == pytest.approx(8e-3 / 32 + 2e-3 / 4)
    assert stage_compute_time_s(8e-3, 2e-3, 1, 1) == pytest.approx(1e-2)


def test_collectives_per_step():
    # prefill batch 2, seq 128: S = 256 tokens x 4,096 x 2 B = 2,097,152 B; 64 all-reduces
    col = collectives_per_step(parse_workload("llm-prefill:llama-3-8b:batch=2,seq=128"))
    assert col == Collectives(2_097_152.0, 64.0, 2_097_152.0)
    assert collectives_per_step(parse_workload("gemm:1024,1024,1024")) == Collectives(0.0, 0.0, 0.0)
    assert collectives_per_step(parse_workload("resnet50:batch=8")).allreduces_per_step == 0.0


def test_shard_workload_splits_weights_kv_and_layers():
    wl = parse_workload(LLAMA8_DECODE)
    sh = shard_workload(wl, 8, 4)
    cfg = sh.model_config
    assert cfg.num_hidden_layers == 8 and cfg.num_attention_heads == 4
    assert cfg.num_key_value_heads == 1 and cfg.intermediate_size == 14336 // 8
    assert cfg.hidden_size == 4096
    # KV exactly 1/32; weights within 0.1 % of 1/32 (norms are not split)
    assert sh.kv_cache_bytes == wl.kv_cache_bytes / 32
    assert sh.weight_bytes == pytest.approx(wl.weight_bytes / 32, rel=1e-3)
    assert shard_workload(wl, 1, 1) is wl
    gemm = parse_workload("gemm:64,64,64")
    assert shard_workload(gemm, 8, 2) is gemm


def test_shard_evaluation_makes_sram_chip_weights_resident():
    # An SRAM-only chip cannot hold llama-3-8b; its 1/(8 x 32) shard is resident in SRAM
    # and the evaluation is feasible.
    from dse.chain import CHIPS_DIR
    from dse.spec import load_chip

    root = CHIPS_DIR.parent / "reference_chips"
    groq = load_chip(root / "groq-tsp.toml")
    wl = parse_workload(LLAMA8_DECODE)
    assert not dse.evaluate(groq, wl).weights_resident
    m = dse.evaluate(groq, shard_workload(wl, 8, 32))
    # the shard fits (the modelled Groq die, +31 % over its 725 mm2, breaks the reticle)
    assert m.weights_resident and "memory_capacity" not in m.violations


def test_links():
    assert set(LINKS) >= {"nvlink4", "pcie5", "ethernet-400g"}
    nv = link("NVLink4")
    assert nv.bandwidth_gbps == 450.0  # 900 GB/s bidirectional per GPU
    for spec in LINKS.values():
        assert spec.bandwidth_gbps_low <= spec.bandwidth_gbps <= spec.bandwidth_gbps_high
        assert spec.latency_us_low <= spec.latency_us <= spec.latency_us_high
        assert spec.energy_pj_per_bit_low <= spec.energy_pj_per_bit <= spec.energy_pj_per_bit_high
        assert spec.usd_per_chip_low <= spec.usd_per_chip <= spec.usd_per_chip_high
        assert spec.source
    with pytest.raises(DseInputError, match="unknown link"):
        link("nvlnk9")


# --- systems a team could build (issue 17, item 1) ---------------------------------------

LLAMA70_DECODE = "llm-decode:llama-3-70b:batch=8,context=2048"


def test_split_degrees_divide_heads_widths_and_layers():
    cfg = parse_workload(LLAMA70_DECODE).model_config
    # 64 query heads, 8 KV heads, MLP 28,672 = 2^12 x 7: every power of two up to 64 (KV
    # heads replicated beyond 8), never 3, 5, 6 or 7
    assert tp_degrees(cfg, 8) == [1, 2, 4, 8]
    assert tp_degrees(cfg, 64) == [1, 2, 4, 8, 16, 32, 64]
    assert pp_degrees(80) == [1, 2, 4, 5, 8, 10, 16, 20, 40, 80]


def test_llama3_70b_on_a_4_stack_hbm2e_chip_by_hand():
    # smic-n2-inference: 4 x HBM2E = 64 GB. Llama-3-70B bf16: W = 70,553,706,496 params x 2 B
    # = 141.1 GB; KV of 8 sequences at 2,049 tokens: 8 x 2,049 x 80 layers x 2 x 8 heads x
    # 128 x 2 B = 5.37 GB. (W + KV) / 64 GB = 2.29 -> 3 chips would hold it, but a 3-way
    # split divides neither the 64 query heads nor the 8 KV heads: 4-way tensor parallel.
    wl = parse_workload(LLAMA70_DECODE)
    assert wl.weight_bytes == pytest.approx(141.1e9, rel=1e-3)
    assert wl.kv_cache_bytes == 8 * 2049 * 80 * 2 * 8 * 128 * 2
    chip = dse.example_chip("smic-n2-inference").replace(system="auto", tp_max=8)
    m = dse.evaluate(chip, wl)
    assert (m.system_chips, m.system_tp, m.system_pp, m.system_microbatches) == (4, 4, 1, 1)
    assert m.feasible, m.violations
    # the chip's own rows are one chip of the system running its shard (a quarter of the
    # heads and MLP of every layer), not the whole model on one chip
    shard = dse.evaluate(chip.replace(system="single"), shard_workload(wl, 4, 1))
    for key in ("latency_s", "power_w", "junction_temp_c", "dram_bytes", "sustained_clock_ghz"):
        assert getattr(m, key) == getattr(shard, key), key
    whole = dse.evaluate(chip.replace(system="single"), wl)
    assert "memory_capacity" in whole.violations
    assert m.latency_s < 0.4 * whole.latency_s and m.dram_bytes < 0.3 * whole.dram_bytes
    # system step: the shard plus 160 ring all-reduces of 8 x 8,192 x 2 B over NVLink 4
    # (450 GB/s, 1 us a ring step): 2 (t - 1) / t S / B + 2 (t - 1) alpha per all-reduce
    s = 8 * 8192 * 2
    t_ar = 2 * 3 / 4 * s / 450e9 + 2 * 3 * 1e-6
    assert m.system_latency_s == pytest.approx(m.latency_s + 160 * t_ar, rel=1e-9)
    assert m.system_throughput_per_s == pytest.approx(8 / m.system_latency_s, rel=1e-12)


def test_pipeline_serves_the_asked_batch_in_micro_batches():
    # tp_max = 2: 2 x 2 chips; the batch of 8 runs as 2 micro-batches of 4, one per stage
    # (not 2 batches of 8); a decode step of all 8 sequences is one round of both
    # micro-batches through both stages: period = p (T_stage + hop)
    wl = parse_workload(LLAMA70_DECODE)
    chip = dse.example_chip("smic-n2-inference").replace(system="auto", tp_max=2)
    m = dse.evaluate(chip, wl)
    assert (m.system_chips, m.system_tp, m.system_pp, m.system_microbatches) == (4, 2, 2, 2)
    shard = dse.evaluate(chip.replace(system="single"), shard_workload(wl, 2, 2, batch=4))
    assert m.latency_s == shard.latency_s and m.power_w == shard.power_w
    s = 4 * 8192 * 2  # one micro-batch's activations
    t_ar = 2 * 1 / 2 * s / 450e9 + 2 * 1 * 1e-6
    stage = shard.latency_s + 80 * t_ar  # 40 layers a stage, two all-reduces each
    hop = s / 450e9 + 1e-6
    assert m.system_latency_s == pytest.approx(2 * (stage + hop), rel=1e-9)
    assert m.system_throughput_per_s * m.system_latency_s == pytest.approx(8.0)  # the batch asked for
    # each stage holds its 40 layers' weights and the KV cache of both micro-batches
    capacity = 64e9
    sh = shard_workload(wl, 2, 2, batch=4)
    assert sh.weight_bytes + 2 * sh.kv_cache_bytes <= capacity


def test_evaluate_says_how_to_size_a_system_when_one_chip_cannot_hold_the_model():
    from conftest import run_cli

    r = run_cli("evaluate", "smic-n2-inference", "-w", LLAMA70_DECODE)
    assert r.returncode == 0, r.stderr
    hint = r.stdout.strip().splitlines()[-1]
    assert hint.startswith("memory_capacity: one chip cannot hold the weights and KV cache")
    assert 'system = "auto"' in hint and "4 chips (4-way tensor x 1 pipeline stage over nvlink4" in hint
    fits = run_cli("evaluate", "smic-n2-inference", "-w", "llm-decode:llama-3-8b:batch=8,context=2048")
    assert "system = " not in fits.stdout
