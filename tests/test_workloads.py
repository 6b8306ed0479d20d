"""Tests for dse.workloads: op lists, golden model sizes, parsing and its errors."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dse.errors import DseInputError
from dse.workloads import (
    BUILTIN_MODELS,
    ModelConfig,
    Op,
    Workload,
    gemm_workload,
    llm_decode_workload,
    load_hf_config,
    parse_workload,
    resnet50_workload,
)

ARRAY_KEYS = set(
    "m n k batch count flop_fraction is_gemm b_is_weight b_is_kv flops a_bytes b_bytes c_bytes "
    "eltwise_flops".split()
)

# Total parameters from the Hugging Face model pages (safetensors metadata) of
# meta-llama/Meta-Llama-3-8B, meta-llama/Meta-Llama-3-70B and meta-llama/Llama-2-7b-hf;
# they also follow exactly from the dimensions in each model's config.json.
GOLDEN_PARAMS = {
    "llama-3-8b": 8_030_261_248,
    "llama-3-70b": 70_553_706_496,
    "llama-2-7b": 6_738_415_616,
}

LLAMA_3_8B_CONFIG = {
    "architectures": ["LlamaForCausalLM"],
    "hidden_size": 4096,
    "intermediate_size": 14336,
    "num_attention_heads": 32,
    "num_hidden_layers": 32,
    "num_key_value_heads": 8,
    "vocab_size": 128256,
    "rope_theta": 500000.0,
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
}


def write_config(directory, data, name="config.json"):
    path = directory / name
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return path


# --------------------------------------------------------------------------------------
# LLM golden values
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", sorted(GOLDEN_PARAMS))
def test_llm_parameter_count_matches_published(model):
    # Exact by construction; the contract asks for < 0.1 %.
    golden = GOLDEN_PARAMS[model]
    assert BUILTIN_MODELS[model].num_params == golden
    wl = parse_workload(f"llm-decode:{model}:batch=1,context=128")
    assert wl.weight_bytes == pytest.approx(2 * golden, rel=1e-3)
    assert wl.weight_bytes == 2 * golden
    assert wl.num_params == golden


def test_llama_3_8b_parameter_breakdown():
    # Hand arithmetic from config.json: embeddings and untied LM head 128256*4096 each,
    # per layer q/o 4096^2, k/v 4096*1024, MLP 3*4096*14336, two norms of 4096.
    cfg = BUILTIN_MODELS["llama-3-8b"]
    assert cfg.embedding_params == cfg.lm_head_params == 525_336_576
    assert cfg.layer_gemm_params == 2 * 4096**2 + 2 * 4096 * 1024 + 3 * 4096 * 14336
    assert cfg.norm_params == 65 * 4096
    assert cfg.head_dim == 128 and cfg.group_size == 4


@pytest.mark.parametrize("model", sorted(GOLDEN_PARAMS))
@pytest.mark.parametrize(("batch", "context"), [(1, 1), (1, 1024), (8, 4096), (64, 32767)])
def test_decode_gemm_flops_are_two_per_weight_plus_attention(model, batch, context):
    # 2 FLOPs per GEMM weight per token (everything but the embedding lookup and the norm
    # gains, which are not GEMM operands) + QK^T and PV: 4 * B * L * H * d * (context + 1).
    cfg = BUILTIN_MODELS[model]
    wl = parse_workload(f"llm-decode:{model}:batch={batch},context={context}")
    weights = cfg.num_params - cfg.embedding_params - cfg.norm_params
    attention = (
        4 * batch * cfg.num_hidden_layers * cfg.num_attention_heads * cfg.head_dim * (context + 1)
    )
    expected = 2 * weights * batch + attention
    assert wl.gemm_flops == pytest.approx(expected, rel=1e-9)
    # Element-wise passes add a small, separately counted amount.
    assert wl.total_flops == pytest.approx(wl.gemm_flops + wl.eltwise_flops, rel=1e-12)
    assert 0 < wl.eltwise_flops < 1e-2 * wl.gemm_flops


def test_decode_flops_including_eltwise_by_hand():
    # llama-3-8b, B=1, context=1024: the element-wise part per the documented counts.
    wl = parse_workload("llm-decode:llama-3-8b:batch=1,context=1024")
    h, i_size, layers, heads = 4096, 14336, 32, 32
    eltwise = (
        (2 * layers + 1) * h * 4  # rmsnorm: square, accumulate, 1/rms, gain
        + layers * heads * 1025 * 5  # softmax
        + layers * i_size * 4  # swiglu
        + 2 * layers * h * 1  # residual adds
    )
    assert wl.eltwise_flops == eltwise


def test_decode_kv_cache_bytes_llama_3_8b():
    # 2 (K and V) * layers * batch * (context + 1) * kv_heads * head_dim * 2 bytes.
    wl = parse_workload("llm-decode:llama-3-8b:batch=1,context=1024")
    assert wl.kv_cache_bytes == 2 * 32 * 1 * 1025 * 8 * 128 * 2 == 134_348_800
    # The attention GEMMs read exactly that cache.
    assert wl.total_kv_bytes_read == wl.kv_cache_bytes


def test_decode_structure_llama_3_8b():
    wl = parse_workload("llm-decode:llama-3-8b:batch=4,context=100")
    ops = {op.name: op for op in wl.ops}
    assert [op.name for op in wl.ops] == [
        "rmsnorm",
        "qkv_proj",
        "attn_score",
        "softmax",
        "attn_value",
        "o_proj",
        "residual_add",
        "mlp_up_gate",
        "swiglu",
        "mlp_down",
        "final_rmsnorm",
        "lm_head",
    ]
    assert (ops["qkv_proj"].m, ops["qkv_proj"].n, ops["qkv_proj"].k) == (4, 6144, 4096)
    score = ops["attn_score"]
    assert (score.m, score.n, score.k, score.batch) == (4, 101, 128, 4 * 8)
    assert score.b_operand == "kv" and score.flop_fraction == 1.0
    value = ops["attn_value"]
    assert (value.m, value.n, value.k, value.batch, value.b_operand) == (4, 128, 101, 32, "kv")
    assert (ops["mlp_up_gate"].n, ops["mlp_down"].k) == (2 * 14336, 14336)
    assert (ops["lm_head"].m, ops["lm_head"].n, ops["lm_head"].count) == (4, 128256, 1)
    assert ops["rmsnorm"].count == 64 and ops["residual_add"].count == 64
    assert ops["final_rmsnorm"].count == 1 and ops["qkv_proj"].count == 32
    assert ops["softmax"].m == 4 * 32 * 101
    assert (wl.items_per_step, wl.item_unit, wl.seq_len, wl.kind) == (4, "token", 100, "llm-decode")
    # Streaming the weights once reads everything but the embedding table and norm gains.
    cfg = wl.model_config
    unread = cfg.embedding_params + cfg.norm_params
    assert wl.total_weight_bytes_read_once == wl.weight_bytes - 2 * unread


def test_llama_2_7b_has_no_gqa():
    wl = parse_workload("llm-decode:llama-2-7b:batch=2,context=10")
    score = next(op for op in wl.ops if op.name == "attn_score")
    assert (score.m, score.batch) == (1, 2 * 32)


# --------------------------------------------------------------------------------------
# Prefill
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("seq", [1, 2, 7, 2048])
def test_prefill_causal_attention_and_items(seq):
    batch = 3
    wl = parse_workload(f"llm-prefill:llama-3-8b:batch={batch},seq={seq}")
    assert (wl.items_per_step, wl.item_unit, wl.seq_len) == (batch * seq, "token", seq)
    ops = {op.name: op for op in wl.ops}
    causal = (seq + 1) / (2 * seq)
    for name in ("attn_score", "attn_value", "softmax"):
        assert ops[name].flop_fraction == causal
    for name in ("qkv_proj", "o_proj", "mlp_up_gate", "mlp_down"):
        assert ops[name].m == batch * seq and ops[name].flop_fraction == 1.0
    score, value = ops["attn_score"], ops["attn_value"]
    assert (score.m, score.n, score.k, score.batch) == (4 * seq, seq, 128, batch * 8)
    assert (value.m, value.n, value.k, value.batch) == (4 * seq, 128, seq, batch * 8)
    assert score.b_operand == value.b_operand == "act"
    # Causal attention FLOPs: 2 GEMMs * 2 * d over S(S+1)/2 pairs per head, layer, sequence.
    attention = score.flops + value.flops
    assert attention == pytest.approx(2 * 2 * 128 * seq * (seq + 1) / 2 * 32 * batch, rel=1e-12)
    # The LM head runs for the last token of each sequence only.
    assert ops["lm_head"].m == batch and ops["final_rmsnorm"].m == batch * 4096
    assert wl.kv_cache_bytes == 2 * 32 * batch * seq * 8 * 128 * 2
    assert not wl.op_arrays()["b_is_kv"].any()


def test_prefill_seq_1_matches_decode_context_0_gemms():
    # One prompt token attends to itself: the same GEMM FLOPs as decoding a first token.
    prefill = parse_workload("llm-prefill:llama-3-70b:batch=2,seq=1")
    decode = llm_decode_workload("llama-3-70b", 2, 1)
    cfg = BUILTIN_MODELS["llama-3-70b"]
    extra_key = 4 * 2 * cfg.num_hidden_layers * cfg.num_attention_heads * cfg.head_dim
    assert prefill.gemm_flops == pytest.approx(decode.gemm_flops - extra_key, rel=1e-12)


# --------------------------------------------------------------------------------------
# dtype, arrays, round trip
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("dtype", "nbytes"), [("bf16", 2), ("fp8", 1), ("int8", 1)])
def test_dtype_sets_bytes_not_flops(dtype, nbytes):
    base = parse_workload("llm-decode:llama-3-8b:batch=2,context=512")
    wl = parse_workload(f"llm-decode:llama-3-8b:batch=2,context=512:dtype={dtype}")
    assert parse_workload(f"llm-decode:llama-3-8b:batch=2,context=512,dtype={dtype}") == wl
    assert (wl.dtype, wl.bytes_per_element) == (dtype, nbytes)
    assert wl.weight_bytes == base.weight_bytes * nbytes / 2
    assert wl.kv_cache_bytes == base.kv_cache_bytes * nbytes / 2
    a, b = wl.op_arrays(), base.op_arrays()
    for key in ("a_bytes", "b_bytes", "c_bytes"):
        np.testing.assert_array_equal(a[key], b[key] * nbytes / 2)
    np.testing.assert_array_equal(a["flops"], b["flops"])
    assert base.dtype == "bf16"


@pytest.mark.parametrize(
    "spec",
    [
        "gemm:4096,4096,4096",
        "llm-decode:llama-3-8b:batch=1,context=1024",
        "llm-prefill:llama-3-70b:batch=2,seq=512:dtype=fp8",
        "resnet50:batch=8:dtype=int8",
    ],
)
def test_op_arrays_contract(spec):
    wl = parse_workload(spec)
    arrays = wl.op_arrays()
    assert set(arrays) == ARRAY_KEYS
    for key, arr in arrays.items():
        assert arr.shape == (len(wl.ops),)
        assert arr.dtype == (bool if key in {"is_gemm", "b_is_weight", "b_is_kv"} else np.float64)
        assert not arr.flags.writeable
        assert np.all(np.isfinite(arr.astype(float))) and np.all(arr >= 0)
    # Cached: the same arrays every call, and the returned dict is a copy.
    arrays.clear()
    assert wl.op_arrays()["flops"] is wl.op_arrays()["flops"]
    a = wl.op_arrays()
    nbytes = wl.bytes_per_element
    for i, op in enumerate(wl.ops):
        assert (a["m"][i], a["n"][i], a["k"][i]) == (op.m, op.n, op.k)
        assert (a["batch"][i], a["count"][i]) == (op.batch, op.count)
        if op.kind == "gemm":
            assert a["flops"][i] == pytest.approx(
                2 * op.m * op.n * op.k * op.batch * op.flop_fraction, rel=1e-12
            )
            # implicit-GEMM convs read their input feature map, not the im2col matrix
            expected_a = op.a_read_elements or op.m * op.k * op.batch
            assert a["a_bytes"][i] == expected_a * nbytes
            b_elements = op.k * op.n * (1 if op.b_operand == "weight" else op.batch)
            assert a["b_bytes"][i] == b_elements * nbytes
            assert a["c_bytes"][i] == op.m * op.n * op.batch * nbytes
            assert a["eltwise_flops"][i] == 0
        else:
            assert (op.n, op.k, a["b_bytes"][i], a["is_gemm"][i]) == (1, 1, 0, False)
            assert a["eltwise_flops"][i] == a["flops"][i] > 0
            assert a["a_bytes"][i] == op.m * op.batch * op.eltwise_inputs * nbytes
            assert a["c_bytes"][i] == op.m * op.batch * nbytes
    assert wl.total_flops == pytest.approx(float(np.sum(a["flops"] * a["count"])), rel=1e-12)


@pytest.mark.parametrize(
    ("spec", "normalised"),
    [
        ("gemm:4096,4096,4096", "gemm:4096,4096,4096:dtype=bf16"),
        (" GEMM : 64 x 128 x 256 : dtype = FP8 ", "gemm:64,128,256:dtype=fp8"),
        ("gemm:1,2,3,dtype=int8", "gemm:1,2,3:dtype=int8"),
        (
            "llm-decode:llama-3-8b:batch=1,context=1024",
            "llm-decode:llama-3-8b:batch=1,context=1024:dtype=bf16",
        ),
        (
            " LLM-Decode : Meta-Llama/Meta-Llama-3-8B : Context = 1024 , Batch = 1 ",
            "llm-decode:llama-3-8b:batch=1,context=1024:dtype=bf16",
        ),
        (
            "llm-decode:llama3-8b:batch=1,context=1024,dtype=fp8",
            "llm-decode:llama-3-8b:batch=1,context=1024:dtype=fp8",
        ),
        (
            "llm-prefill:LLAMA-2-7B:batch=2,seq=128:dtype=int8",
            "llm-prefill:llama-2-7b:batch=2,seq=128:dtype=int8",
        ),
        (
            "llm-prefill:meta-llama/Meta-Llama-3-70B:batch=1,seq=8",
            "llm-prefill:llama-3-70b:batch=1,seq=8:dtype=bf16",
        ),
        ("resnet50:batch=8", "resnet50:batch=8:dtype=bf16"),
        ("ResNet-50:batch=8,dtype=int8", "resnet50:batch=8:dtype=int8"),
    ],
)
def test_parse_normalises_and_round_trips(spec, normalised):
    wl = parse_workload(spec)
    assert wl.spec == normalised
    again = parse_workload(wl.spec)
    assert again == wl and again.spec == wl.spec
    assert hash(again) == hash(wl)


def test_workload_is_frozen():
    wl = parse_workload("gemm:8,8,8")
    with pytest.raises(dataclasses.FrozenInstanceError):
        wl.batch = 2
    assert isinstance(wl, Workload) and "_arrays" not in {f.name for f in dataclasses.fields(wl)}


def test_gemm_workload():
    wl = parse_workload("gemm:8192,4096,1024:dtype=fp8")
    (op,) = wl.ops
    assert (op.m, op.n, op.k, op.batch, op.count, op.b_operand) == (
        8192,
        4096,
        1024,
        1,
        1,
        "weight",
    )
    assert wl.weight_bytes == 1024 * 4096 * 1
    assert wl.total_flops == 2 * 8192 * 4096 * 1024
    assert (wl.kind, wl.model, wl.batch, wl.seq_len, wl.kv_cache_bytes) == ("gemm", None, 1, 0, 0)
    assert (wl.items_per_step, wl.item_unit) == (1, "gemm")
    assert gemm_workload(8192, 4096, 1024, "fp8") == wl


# --------------------------------------------------------------------------------------
# Hugging Face config.json
# --------------------------------------------------------------------------------------


def test_hf_config_equal_to_builtin_gives_identical_ops(tmp_path):
    path = write_config(tmp_path, LLAMA_3_8B_CONFIG)  # no head_dim: defaults to 4096/32
    for kind, opts in (("llm-decode", "batch=4,context=300"), ("llm-prefill", "batch=2,seq=64")):
        builtin = parse_workload(f"{kind}:llama-3-8b:{opts}")
        from_file = parse_workload(f"{kind}:{path}:{opts}")
        assert from_file.model == str(path.absolute())
        assert [op.name for op in from_file.ops] == [op.name for op in builtin.ops]
        a, b = from_file.op_arrays(), builtin.op_arrays()
        for key in ARRAY_KEYS:
            np.testing.assert_array_equal(a[key], b[key])
        assert from_file.weight_bytes == builtin.weight_bytes
        assert from_file.kv_cache_bytes == builtin.kv_cache_bytes
        assert parse_workload(from_file.spec) == from_file
    # A directory holding config.json (a model snapshot) works too.
    from_dir = parse_workload(f"llm-decode:{tmp_path}:batch=4,context=300")
    assert from_dir.ops == parse_workload("llm-decode:llama-3-8b:batch=4,context=300").ops


def test_hf_config_defaults(tmp_path):
    # Llama-2-7b's layout without num_key_value_heads: defaults to the head count (MHA).
    data = {
        "hidden_size": 4096,
        "num_hidden_layers": 32,
        "num_attention_heads": 32,
        "intermediate_size": 11008,
        "vocab_size": 32000,
        "num_key_value_heads": None,
        "head_dim": None,
    }
    cfg = load_hf_config(write_config(tmp_path, data))
    ref = BUILTIN_MODELS["llama-2-7b"]
    assert (cfg.num_key_value_heads, cfg.head_dim, cfg.tie_word_embeddings) == (32, 128, False)
    assert cfg.num_params == ref.num_params
    # Tied embeddings: one matrix fewer in memory, the LM head GEMM still runs.
    tied = load_hf_config(write_config(tmp_path, {**data, "tie_word_embeddings": True}, "t.json"))
    assert tied.num_params == ref.num_params - 32000 * 4096
    wl = llm_decode_workload(tied, 1, 16)
    assert any(op.name == "lm_head" for op in wl.ops)
    # An explicit head_dim that differs from hidden / heads (Gemma-style) is honoured.
    odd = load_hf_config(
        write_config(tmp_path, {**data, "head_dim": 256, "num_key_value_heads": 8}, "o.json")
    )
    assert (odd.head_dim, odd.q_dim, odd.kv_dim) == (256, 8192, 2048)


# --------------------------------------------------------------------------------------
# ResNet-50
# --------------------------------------------------------------------------------------

# torchvision ResNet50_Weights.IMAGENET1K_V1: 25,557,032 parameters, "4.09 GFLOPS"
# (multiply-adds per 224x224 image, fvcore counting);
# https://pytorch.org/vision/stable/models/generated/torchvision.models.resnet50.html
TORCHVISION_PARAMS = 25_557_032
TORCHVISION_GMACS = 4.09
# BatchNorm weight + bias over 26,560 channels (64 stem; per stage blocks*(w+w+4w) + 4w
# projection, w = 64, 128, 256, 512 with 3, 4, 6, 3 blocks) and the FC bias.
BN_PARAMS = 2 * 26_560
FC_BIAS = 1000


def test_resnet50_weights_match_torchvision():
    wl = parse_workload("resnet50:batch=1")
    gemm_weights = sum(op.b_elements * op.count for op in wl.ops if op.kind == "gemm")
    assert gemm_weights == TORCHVISION_PARAMS - BN_PARAMS - FC_BIAS == 25_502_912
    assert gemm_weights == pytest.approx(25_502_912, rel=0.01)
    # weight_bytes: conv/FC weights + FC bias + folded-BN biases; the BN scales fold away.
    assert wl.num_params + BN_PARAMS / 2 == TORCHVISION_PARAMS
    assert wl.weight_bytes == 2 * (TORCHVISION_PARAMS - BN_PARAMS / 2)


def test_resnet50_macs_match_torchvision():
    wl = parse_workload("resnet50:batch=1")
    macs = wl.gemm_flops / 2
    # 2 % tolerance: published as 4.09 (3 significant figures) and counted by a profiler.
    assert macs == pytest.approx(TORCHVISION_GMACS * 1e9, rel=0.02)
    assert macs == 4_089_184_256  # this module's exact count (conv + FC)
    # He et al. 2016 quote 3.8e9 for v1 (stride on the first 1x1); v1.5 costs more.
    assert macs > 3.8e9


def test_resnet50_structure_and_batch_scaling():
    one, eight = resnet50_workload(1), parse_workload("resnet50:batch=8")
    assert len(one.ops) == 57
    assert (eight.kind, eight.model, eight.item_unit, eight.items_per_step) == (
        "cnn",
        "resnet50",
        "image",
        8,
    )
    assert eight.total_flops == pytest.approx(8 * one.total_flops, rel=1e-12)
    assert eight.weight_bytes == one.weight_bytes and eight.kv_cache_bytes == 0
    ops = {op.name: op for op in one.ops}
    assert (ops["conv1"].m, ops["conv1"].n, ops["conv1"].k) == (112 * 112, 64, 147)
    # v1.5: the stride-2 is on the 3x3 conv of the first block of stages 3-5.
    assert ops["conv3_1a"].m == 56 * 56 and ops["conv3_1b"].m == 28 * 28
    assert ops["conv3_1proj"].k == 256 and ops["conv3_1proj"].m == 28 * 28
    assert ops["conv4_2-6b"].count == 5 and ops["conv5_2-3c"].count == 2
    assert (ops["fc"].m, ops["fc"].n, ops["fc"].k) == (1, 1000, 2048)
    convs = sum(op.count for op in one.ops if op.kind == "gemm")
    assert convs == 53 + 1  # 49 convs in blocks + 4 projections, stem conv1, FC


# --------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------


def assert_input_error(spec, *fragments):
    with pytest.raises(DseInputError) as info:
        parse_workload(spec)
    message = str(info.value)
    assert "\n" not in message and message.strip()
    for fragment in fragments:
        assert fragment in message, message
    return message


@pytest.mark.parametrize(
    ("spec", "fragments"),
    [
        (
            "llm-decod:llama-3-8b:batch=1,context=1024",
            ["unknown workload kind 'llm-decod' (did you mean 'llm-decode'?)"],
        ),
        ("resnet5:batch=1", ["'resnet5'", "did you mean 'resnet50'"]),
        ("", ["empty"]),
        ("   ", ["empty"]),
        (
            "llm-decode:llama-3-8bb:batch=1,context=1024",
            ["unknown model 'llama-3-8bb'", "did you mean 'llama-3-8b'", "config.json"],
        ),
        ("llm-prefill:gpt-5:batch=1,seq=1", ["unknown model 'gpt-5'", "config.json"]),
        ("llm-decode::batch=1,context=1", ["needs a model"]),
        ("llm-decode:batch=1,context=1", ["needs a model"]),
        ("llm-decode:llama-3-8b", ["needs option 'batch'"]),
        ("llm-decode:llama-3-8b:batch=1", ["needs option 'context'"]),
        ("llm-prefill:llama-3-8b:batch=1", ["needs option 'seq'"]),
        ("resnet50", ["needs option 'batch'"]),
        (
            "llm-decode:llama-3-8b:batch=1,contxt=1024",
            ["unknown llm-decode option 'contxt' (did you mean 'context'?)"],
        ),
        ("llm-prefill:llama-3-8b:batch=1,seqs=5", ["'seqs'", "did you mean 'seq'"]),
        ("llm-prefill:llama-3-8b:bach=1,seq=5", ["'bach'", "did you mean 'batch'"]),
        ("resnet50:batch=1,batch=2", ["'batch'", "twice"]),
        ("resnet50:8", ["'8'", "key=value"]),
        ("resnet50:batch=", ["'batch'", "no value"]),
        ("resnet50:batch=0", ["'batch'", "from 1"]),
        ("resnet50:batch=-3", ["'batch'", "positive integer", "'-3'"]),
        ("resnet50:batch=1.5", ["'batch'", "'1.5'"]),
        ("resnet50:batch=nan", ["'batch'", "'nan'"]),
        ("resnet50:batch=inf", ["'batch'", "'inf'"]),
        ("resnet50:batch=1e3", ["'batch'", "'1e3'"]),
        ("llm-decode:llama-3-8b:batch=1,context=zero", ["'context'", "'zero'"]),
        ("llm-decode:llama-3-8b:batch=1,context=0", ["'context'"]),
        ("llm-prefill:llama-3-8b:batch=1,seq=-1", ["'seq'", "'-1'"]),
        (f"llm-prefill:llama-3-8b:batch=1,seq={2**60}", ["'seq'"]),
        ("gemm:4096,4096", ["three dimensions", "'4096,4096'"]),
        ("gemm:1,2,3,4", ["three dimensions"]),
        ("gemm:1,,3", ["three dimensions"]),
        ("gemm", ["gemm needs its dimensions"]),
        ("gemm:", ["gemm needs its dimensions"]),
        ("gemm:4096,abc,4096", ["gemm dimension N", "'abc'"]),
        ("gemm:0,1,1", ["gemm dimension M"]),
        ("gemm:1,1,1:batch=2", ["unknown gemm option 'batch'"]),
        ("gemm:1,1,1:dtype=fp16", ["unknown dtype 'fp16'", "bf16"]),
        ("llm-decode:llama-3-8b:batch=1,context=8:dtype=fp4", ["unknown dtype 'fp4'"]),
        ("resnet50:batch=1,dtype=int8:dtype=int8", ["'dtype'", "twice"]),
    ],
)
def test_bad_workload_strings(spec, fragments):
    assert_input_error(spec, *fragments)


def test_non_string_workload():
    with pytest.raises(DseInputError, match="must be a string"):
        parse_workload(None)


CONFIG_ERRORS = [
    ("{not json", ["malformed config.json", "line 1"]),
    ("", ["malformed config.json"]),
    ("[1, 2]", ["malformed config.json", "JSON object"]),
    ({**LLAMA_3_8B_CONFIG, "intermediate_size": None}, ["lacks required key 'intermediate_size'"]),
    ({k: v for k, v in LLAMA_3_8B_CONFIG.items() if k != "vocab_size"}, ["'vocab_size'"]),
    ({**LLAMA_3_8B_CONFIG, "hidden_size": "4096"}, ["'hidden_size'", "positive integer"]),
    ({**LLAMA_3_8B_CONFIG, "hidden_size": 4096.5}, ["'hidden_size'", "positive integer"]),
    ({**LLAMA_3_8B_CONFIG, "num_hidden_layers": 0}, ["'num_hidden_layers'"]),
    ({**LLAMA_3_8B_CONFIG, "num_hidden_layers": True}, ["'num_hidden_layers'"]),
    ({**LLAMA_3_8B_CONFIG, "num_key_value_heads": 5}, ["num_key_value_heads (5)"]),
    ({**LLAMA_3_8B_CONFIG, "num_attention_heads": 48}, ["hidden_size (4096)", "'head_dim'"]),
    ({**LLAMA_3_8B_CONFIG, "tie_word_embeddings": "yes"}, ["'tie_word_embeddings'"]),
    ({**LLAMA_3_8B_CONFIG, "num_local_experts": 8}, ["mixture-of-experts", "'num_experts_per_tok'"]),
    (json.dumps({**LLAMA_3_8B_CONFIG, "hidden_size": math.nan}), ["'hidden_size'", "nan"]),
    (json.dumps({**LLAMA_3_8B_CONFIG, "vocab_size": 1e300}), ["'vocab_size'"]),
]


@pytest.mark.parametrize(("content", "fragments"), CONFIG_ERRORS)
def test_bad_config_json(tmp_path, content, fragments):
    path = write_config(tmp_path, content)
    message = assert_input_error(f"llm-decode:{path}:batch=1,context=8", *fragments)
    assert str(path) in message


def test_unreadable_config_json(tmp_path):
    path = tmp_path / "config.json"
    path.write_bytes(b"\xff\xfe\x00bad")  # not UTF-8
    assert_input_error(f"llm-decode:{path}:batch=1,context=8", "cannot read", str(path))
    empty_dir = tmp_path / "snapshot"
    empty_dir.mkdir()
    assert_input_error(
        f"llm-prefill:{empty_dir}:batch=1,seq=8", "cannot read", str(empty_dir / "config.json")
    )
    missing = tmp_path / "nope" / "config.json"
    assert_input_error(f"llm-decode:{missing}:batch=1,context=8", "unknown model", str(missing))


def test_load_hf_config_direct_errors(tmp_path):
    with pytest.raises(DseInputError, match="cannot read config.json"):
        load_hf_config(tmp_path / "missing.json")


def test_invalid_ops_and_models_rejected():
    with pytest.raises(DseInputError, match="kind"):
        Op("x", "conv", 1, 1, 1, 1, 1, "weight")
    with pytest.raises(DseInputError, match="b_operand"):
        Op("x", "gemm", 1, 1, 1, 1, 1, "bias")
    with pytest.raises(DseInputError, match="m must be a positive integer"):
        Op("x", "gemm", 0, 1, 1, 1, 1, "weight")
    with pytest.raises(DseInputError, match="flop_fraction"):
        Op("x", "gemm", 1, 1, 1, 1, 1, "weight", flop_fraction=0.0)
    with pytest.raises(DseInputError, match="num_key_value_heads"):
        ModelConfig("m", 64, 1, 4, 3, 64, 10, 16)
    with pytest.raises(DseInputError, match="batch"):
        llm_decode_workload("llama-3-8b", 0, 10)
    with pytest.raises(DseInputError, match="dtype"):
        gemm_workload(1, 1, 1, "fp32")


# --------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------

_GRAMMAR = st.sampled_from(
    [
        "gemm",
        "llm-decode",
        "llm-prefill",
        "resnet50",
        ":",
        ",",
        "=",
        "batch",
        "context",
        "seq",
        "dtype",
        "bf16",
        "fp8",
        "int8",
        "llama-3-8b",
        "llama-2-7b",
        "1",
        "0",
        "-1",
        "17",
        "1.5",
        "nan",
        "x",
        " ",
        "",
        "/",
        "config.json",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=40), st.lists(_GRAMMAR, max_size=12).map("".join)))
def test_any_string_gives_workload_or_one_line_input_error(text):
    try:
        wl = parse_workload(text)
    except DseInputError as exc:
        assert "\n" not in str(exc)
    else:
        assert parse_workload(wl.spec) == wl


@settings(max_examples=60, deadline=None)
@given(
    model=st.sampled_from(sorted(BUILTIN_MODELS)),
    kind=st.sampled_from(["llm-decode", "llm-prefill"]),
    batch=st.integers(1, 512),
    length=st.integers(1, 131072),
)
def test_llm_ops_finite_and_monotone_in_length(model, kind, batch, length):
    option = "context" if kind == "llm-decode" else "seq"
    wl = parse_workload(f"{kind}:{model}:batch={batch},{option}={length}")
    longer = parse_workload(f"{kind}:{model}:batch={batch},{option}={length + 1}")
    for arr in wl.op_arrays().values():
        assert np.all(np.isfinite(arr.astype(float))) and np.all(arr >= 0)
    assert longer.total_flops > wl.total_flops
    assert longer.kv_cache_bytes > wl.kv_cache_bytes
    assert math.isclose(longer.weight_bytes, wl.weight_bytes)


def test_resnet50_convs_read_the_feature_map_not_im2col():
    # conv1: 7x7/2 over a 224x224x3 image: the GEMM is m = 112*112 = 12544 by k = 147, but an
    # implicit-GEMM kernel reads the 224*224*3 = 150,528-element input, 12.25x less.
    wl = parse_workload("resnet50:batch=1:dtype=int8")
    conv1 = next(op for op in wl.ops if op.name == "conv1")
    assert conv1.m * conv1.k == 12544 * 147
    assert conv1.a_elements == 224 * 224 * 3
    # a 3x3 stride-1 conv reads its input once (h_in = h_out), 9x less than im2col
    conv2b = next(op for op in wl.ops if op.name == "conv2_1b")
    assert conv2b.a_elements * 9 == conv2b.m * conv2b.k
