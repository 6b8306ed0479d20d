"""Attention ops of an LLM step: grouped-query and multi-head latent attention (MLA)."""

from __future__ import annotations

from typing import NamedTuple

from dse.workloads.models import ModelConfig
from dse.workloads.ops import (
    RMSNORM_FLOPS_PER_ELEMENT,
    SOFTMAX_FLOPS_PER_ELEMENT,
    Op,
    _eltwise,
    _gemm,
)


class _Group(NamedTuple):
    """Sequences whose attention runs alike in a step: ``batch`` sequences of
    ``q_tokens`` new tokens attending to ``kv_len`` keys, the keys read from the cache
    (``"kv"``) or made in the pass (``"act"``), ``causal`` the needed fraction of the
    dense products; ``prefix`` names the group's attention ops."""

    prefix: str
    batch: int
    q_tokens: int
    kv_len: int
    b_operand: str
    causal: float


def _attention_ops(cfg: ModelConfig, tokens: int, groups: list[_Group], *, absorbed: bool) -> list[Op]:
    """Attention of every layer: grouped-query, or multi-head latent (:func:`_mla_ops`)."""
    if cfg.is_mla:
        return _mla_ops(cfg, tokens, groups, absorbed=absorbed)
    layers = cfg.num_hidden_layers
    h = cfg.hidden_size
    ops = [
        # RoPE is applied in the epilogue of qkv_proj and its FLOPs are not counted
        # (~3 per q/k element, < 0.01 % of the step).
        _gemm("qkv_proj", tokens, cfg.q_dim + 2 * cfg.kv_dim, h, count=layers),
    ]
    if cfg.qk_norm:  # per-head RMSNorm of queries and keys (Qwen3)
        ops.append(
            _eltwise("qk_norm", tokens * (cfg.q_dim + cfg.kv_dim), RMSNORM_FLOPS_PER_ELEMENT, count=layers)
        )
    for g in groups:
        score_elements = g.batch * cfg.num_attention_heads * g.q_tokens * g.kv_len
        ops += [
            # Per (sequence, KV head): the group's queries against the shared keys. The
            # 1/sqrt(head_dim) scale is folded into the softmax subtraction.
            _gemm(
                g.prefix + "attn_score",
                cfg.group_size * g.q_tokens,
                g.kv_len,
                cfg.head_dim,
                batch=g.batch * cfg.num_key_value_heads,
                count=layers,
                b_operand=g.b_operand,
                flop_fraction=g.causal,
            ),
            _eltwise(
                g.prefix + "softmax", score_elements, SOFTMAX_FLOPS_PER_ELEMENT, count=layers,
                flop_fraction=g.causal,
            ),  # fmt: skip
            _gemm(
                g.prefix + "attn_value",
                cfg.group_size * g.q_tokens,
                cfg.head_dim,
                g.kv_len,
                batch=g.batch * cfg.num_key_value_heads,
                count=layers,
                b_operand=g.b_operand,
                flop_fraction=g.causal,
            ),
        ]
    ops.append(_gemm("o_proj", tokens, h, cfg.q_dim, count=layers))
    return ops


def _mla_ops(cfg: ModelConfig, tokens: int, groups: list[_Group], *, absorbed: bool) -> list[Op]:
    """Multi-head latent attention (DeepSeek-V2/V3) of every layer.

    Queries: ``h -> q_lora_rank`` (RMSNorm) ``-> heads x (nope + rope)``; keys and values:
    ``h -> kv_lora_rank + rope``, the latent ``c_kv`` (RMSNorm) and the shared RoPE key
    are what the KV cache holds. ``absorbed`` (decode and serving) folds the key and value
    up-projections into the query and output sides (the DeepSeek-V2 paper's inference
    form, as vLLM and SGLang run it): every head attends over the cached latents
    directly, as one "KV head" of ``kv_lora_rank + rope`` shared by all heads. Otherwise
    (prefill) keys and values are expanded per head (``kv_b_proj``) and attention runs
    with ``nope + rope`` query/key and ``v_head_dim`` value heads.
    """
    layers = cfg.num_hidden_layers
    h, heads = cfg.hidden_size, cfg.num_attention_heads
    nope, rope, v, lat = cfg.qk_nope_head_dim, cfg.qk_rope_head_dim, cfg.v_head_dim, cfg.kv_lora_rank
    ops: list[Op] = []
    if cfg.q_lora_rank:
        ops += [
            _gemm("q_a_proj", tokens, cfg.q_lora_rank, h, count=layers),
            _eltwise("latent_norm", tokens * cfg.q_lora_rank, RMSNORM_FLOPS_PER_ELEMENT, count=layers),
            _gemm("q_b_proj", tokens, heads * (nope + rope), cfg.q_lora_rank, count=layers),
        ]
    else:
        ops.append(_gemm("q_proj", tokens, heads * (nope + rope), h, count=layers))
    ops += [
        _gemm("kv_a_proj", tokens, lat + rope, h, count=layers),
        _eltwise("kv_latent_norm", tokens * lat, RMSNORM_FLOPS_PER_ELEMENT, count=layers),
    ]
    if absorbed:
        # each head's no-RoPE query into the latent space (W_UK absorbed)
        ops.append(_gemm("q_absorb", tokens, lat, nope, batch=heads, count=layers, b_operand="expert"))
        for g in groups:
            ops += [
                # all heads of a sequence against its cached latents + RoPE keys
                _gemm(g.prefix + "attn_score", heads * g.q_tokens, g.kv_len, lat + rope, batch=g.batch,
                      count=layers, b_operand=g.b_operand, flop_fraction=g.causal),  # fmt: skip
                _eltwise(g.prefix + "softmax", g.batch * heads * g.q_tokens * g.kv_len, SOFTMAX_FLOPS_PER_ELEMENT,
                         count=layers, flop_fraction=g.causal),  # fmt: skip
                # the values are the first kv_lora_rank columns of the same cached
                # latents: the fused kernel (FlashMLA) reads each latent tile once, for
                # the score
                _gemm(g.prefix + "attn_value", heads * g.q_tokens, lat, g.kv_len, batch=g.batch,
                      count=layers, b_operand="act", flop_fraction=g.causal),  # fmt: skip
            ]
        # each head's latent output up to its value head (W_UV absorbed)
        ops.append(_gemm("v_absorb", tokens, v, lat, batch=heads, count=layers, b_operand="expert"))
    else:
        ops.append(_gemm("kv_b_proj", tokens, heads * (nope + v), lat, count=layers))
        for g in groups:
            ops += [
                _gemm(g.prefix + "attn_score", g.q_tokens, g.kv_len, nope + rope, batch=g.batch * heads,
                      count=layers, b_operand=g.b_operand, flop_fraction=g.causal),  # fmt: skip
                _eltwise(g.prefix + "softmax", g.batch * heads * g.q_tokens * g.kv_len, SOFTMAX_FLOPS_PER_ELEMENT,
                         count=layers, flop_fraction=g.causal),  # fmt: skip
                _gemm(g.prefix + "attn_value", g.q_tokens, v, g.kv_len, batch=g.batch * heads,
                      count=layers, b_operand=g.b_operand, flop_fraction=g.causal),  # fmt: skip
            ]
    ops.append(_gemm("o_proj", tokens, h, heads * v, count=layers))
    return ops
