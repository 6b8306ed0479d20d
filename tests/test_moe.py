"""Mixture-of-experts and latent-attention models, and separate weight / KV precisions.

Golden values: the expected distinct experts against a Monte Carlo of top-k routing;
the latent KV cache of DeepSeek-V3 counted by hand from its config.json; parameter
counts against the ones the model authors publish.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import run_cli

import dse
from dse.chain.system import shard_workload
from dse.errors import DseInputError
from dse.workloads import (
    BUILTIN_MODELS,
    WEIGHT_BYTES_PER_ELEMENT,
    expected_distinct_experts,
    load_hf_config,
    parse_workload,
)


@pytest.mark.parametrize(("experts", "top_k", "tokens"), [(8, 2, 1), (8, 2, 5), (128, 8, 16), (256, 8, 64), (128, 8, 1000)])
def test_expected_distinct_experts_matches_a_monte_carlo_of_top_k_routing(experts, top_k, tokens):
    rng = np.random.default_rng(13)
    trials = 4000
    # each token picks top_k distinct experts uniformly at random
    picks = np.argsort(rng.random((trials, tokens, experts)), axis=2)[:, :, :top_k]
    touched = np.zeros((trials, experts), dtype=bool)
    np.put_along_axis(touched, picks.reshape(trials, -1), True, axis=1)
    mc = touched.sum(axis=1)
    expected = float(expected_distinct_experts(experts, top_k, tokens))
    assert expected == pytest.approx(mc.mean(), abs=4 * mc.std() / np.sqrt(trials) + 1e-9)
    # the limits: one token touches exactly top_k experts, many tokens touch them all
    assert float(expected_distinct_experts(experts, top_k, 1)) == pytest.approx(top_k)
    assert float(expected_distinct_experts(experts, top_k, 10**6)) == pytest.approx(experts)


def test_deepseek_v3_latent_kv_cache_by_hand():
    # config.json: 61 layers, kv_lora_rank 512, qk_rope_head_dim 64: the cache holds the
    # 512-wide latent and the 64-wide shared RoPE key per token and layer
    cfg = BUILTIN_MODELS["deepseek-v3"]
    assert cfg.kv_bytes_per_token(2) == 61 * (512 + 64) * 2 == 70_272
    # a grouped-query model of the same 61 layers with 128 KV heads of 128 would need
    # 2 x 128 x 128 values per layer: 56.9x more
    assert 61 * 2 * 128 * 128 * 2 / 70_272 == pytest.approx(56.89, abs=0.01)
    wl = parse_workload("llm-decode:deepseek-v3:batch=4,context=1023:kv=fp8")
    assert wl.kv_cache_bytes == 4 * 1024 * 61 * 576 * 1


@pytest.mark.parametrize(
    ("model", "total_b", "active_b"),
    [
        # DeepSeek-V3 technical report (arXiv 2412.19437): 671B total, 37B activated
        ("deepseek-v3", 671, 37),
        # Qwen3 model cards: 30.5B / 3.3B and 235B / 22B
        ("qwen3-30b-a3b", 30.5, 3.3),
        ("qwen3-235b-a22b", 235, 22),
        # Mistral AI, "Mixtral of experts" (arXiv 2401.04088): 46.7B total, 12.9B active
        ("mixtral-8x7b", 46.7, 12.9),
    ],
)
def test_parameter_counts_match_the_published_ones(model, total_b, active_b):
    cfg = BUILTIN_MODELS[model]
    assert cfg.num_params / 1e9 == pytest.approx(total_b, rel=0.01)
    assert cfg.active_params / 1e9 == pytest.approx(active_b, rel=0.03)


def test_an_moe_model_is_faster_at_batch_1_and_reads_many_more_experts_at_batch_64():
    chip = dse.example_chip("h100-like")
    dense = dse.evaluate(chip, "llm-decode:llama-3-8b:batch=1,context=1024")
    moe = dse.evaluate(chip, "llm-decode:qwen3-30b-a3b:batch=1,context=1024")
    assert moe.tokens_per_s > dense.tokens_per_s  # 3.3B active parameters against 8B
    one = parse_workload("llm-decode:qwen3-30b-a3b:batch=1,context=1024")
    many = parse_workload("llm-decode:qwen3-30b-a3b:batch=64,context=1024")
    # batch 1: 8 experts per layer; batch 64: 128 (1 - (1 - 8/128)^64) = 125.9 of 128
    per_expert = 3 * 2048 * 768 * 2 * 48
    assert one.total_expert_bytes_read == pytest.approx(8 * per_expert)
    assert many.total_expert_bytes_read == pytest.approx(126 * per_expert)
    assert many.total_expert_bytes_read / one.total_expert_bytes_read > 15
    # the expert GEMMs count exactly the routed token-expert pairs
    # the expert GEMM runs the 512 routed token-expert pairs on 126 experts, each padded
    # to ceil(512 / 126) = 5 rows: at most one row more than its share
    up = next(op for op in many.ops if op.name == "expert_up_gate")
    assert (up.batch, up.m) == (126, 5)
    assert 2 * 64 * 8 * 2048 * 2 * 768 <= up.flops <= 2 * (64 * 8 + 126) * 2048 * 2 * 768


def test_expert_parallelism_spreads_the_experts_over_the_group():
    wl = parse_workload("llm-decode:qwen3-30b-a3b:batch=64,context=1024")
    shard = shard_workload(wl, 4, 1)
    assert shard.model_config.expert_shards == 4
    assert shard.total_expert_bytes_read == pytest.approx(wl.total_expert_bytes_read / 4, rel=0.02)
    assert shard.weight_bytes < wl.weight_bytes / 3


def test_latent_attention_decode_reads_the_latent_cache_and_prefill_expands_it():
    decode = parse_workload("llm-decode:deepseek-v3:batch=2,context=4095")
    score = next(op for op in decode.ops if op.name == "attn_score")
    # all 128 heads of a sequence against its 4,096 cached (512 + 64)-wide latents
    assert (score.m, score.n, score.k, score.batch, score.b_operand) == (128, 4096, 576, 2, "kv")
    # the cache is read once per step (the value product reuses the score's latent tiles)
    assert decode.total_kv_bytes_read == 2 * 4096 * 576 * 2 * 61
    prefill = parse_workload("llm-prefill:deepseek-v3:batch=1,seq=1024")
    assert {"kv_b_proj", "attn_score", "attn_value"} <= {op.name for op in prefill.ops}
    assert "q_absorb" not in {op.name for op in prefill.ops}


def test_weight_and_kv_precisions_set_bytes_and_add_dequantisation():
    bf16 = parse_workload("llm-decode:llama-3-8b:batch=8,context=2048")
    w4 = parse_workload("llm-decode:llama-3-8b:batch=8,context=2048:weights=int4,kv=fp8")
    assert w4.spec == "llm-decode:llama-3-8b:batch=8,context=2048:dtype=bf16,weights=int4,kv=fp8"
    assert parse_workload(w4.spec) == w4
    assert w4.weight_bytes == pytest.approx(bf16.weight_bytes / 2 * WEIGHT_BYTES_PER_ELEMENT["int4"])
    assert w4.kv_cache_bytes == bf16.kv_cache_bytes / 2
    assert w4.total_flops > bf16.total_flops  # the dequantisation on the vector units
    names = {op.name for op in w4.ops}
    assert {"weight_dequant", "kv_dequant"} <= names
    # fp8 end to end: no dequantisation, the MACs run at fp8
    fp8 = parse_workload("llm-decode:llama-3-8b:batch=8,context=2048:dtype=fp8")
    assert not {"weight_dequant", "kv_dequant"} & {op.name for op in fp8.ops}
    chip = dse.example_chip("h100-like")
    assert dse.evaluate(chip, w4).tokens_per_s > dse.evaluate(chip, bf16).tokens_per_s


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("llm-decode:llama-3-8b:batch=1,context=8:weights=int3", "unknown weights precision 'int3'"),
        ("llm-decode:llama-3-8b:batch=1,context=8:kv=int4", "unknown kv precision 'int4'"),
        ("llm-decode:llama-3-8b:batch=1,context=8:dtype=fp8,weights=bf16", "wider than the activations"),
        ("gemm:8,8,8:weights=int4", "unknown gemm option 'weights'"),
    ],
)
def test_bad_precisions_are_one_line_and_exit_2(spec, fragment):
    with pytest.raises(DseInputError, match=fragment) as exc:
        parse_workload(spec)
    assert "\n" not in str(exc.value)
    proc = run_cli("evaluate", "h100-like", "-w", spec)
    assert proc.returncode == 2 and fragment in proc.stderr and "Traceback" not in proc.stderr


def test_moe_and_latent_config_json_files_read_like_the_built_ins(tmp_path):
    qwen = {
        "architectures": ["Qwen3MoeForCausalLM"], "model_type": "qwen3_moe", "hidden_size": 2048,
        "num_hidden_layers": 48, "num_attention_heads": 32, "num_key_value_heads": 4,
        "head_dim": 128, "intermediate_size": 6144, "moe_intermediate_size": 768,
        "num_experts": 128, "num_experts_per_tok": 8, "decoder_sparse_step": 1,
        "mlp_only_layers": [], "vocab_size": 151936, "tie_word_embeddings": False,
    }  # fmt: skip
    deepseek = {
        "architectures": ["DeepseekV3ForCausalLM"], "model_type": "deepseek_v3",
        "hidden_size": 7168, "num_hidden_layers": 61, "num_attention_heads": 128,
        "num_key_value_heads": 128, "intermediate_size": 18432, "moe_intermediate_size": 2048,
        "n_routed_experts": 256, "n_shared_experts": 1, "num_experts_per_tok": 8,
        "first_k_dense_replace": 3, "moe_layer_freq": 1, "q_lora_rank": 1536,
        "kv_lora_rank": 512, "qk_nope_head_dim": 128, "qk_rope_head_dim": 64,
        "v_head_dim": 128, "vocab_size": 129280, "tie_word_embeddings": False,
    }  # fmt: skip
    for name, data in (("qwen3-30b-a3b", qwen), ("deepseek-v3", deepseek)):
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(data))
        cfg = load_hf_config(path)
        built_in = BUILTIN_MODELS[name]
        assert cfg.num_params == built_in.num_params, name
        assert cfg.kv_bytes_per_token(2) == built_in.kv_bytes_per_token(2), name
        assert (cfg.moe_layers, cfg.num_experts, cfg.shared_intermediate_size) == (
            built_in.moe_layers, built_in.num_experts, built_in.shared_intermediate_size,
        )  # fmt: skip
