"""LLM decode and prefill workloads: the op list of one step, the precisions of weights
and KV cache and their dequantisation."""

from __future__ import annotations

import os

from dse.errors import DseInputError, close_match_hint
from dse.units import BYTES_PER_ELEMENT
from dse.workloads.attention import _attention_ops, _Group
from dse.workloads.checks import _check_count, _check_dtype
from dse.workloads.config_json import resolve_model
from dse.workloads.models import ModelConfig
from dse.workloads.moe import _mlp_ops
from dse.workloads.ops import (
    _BITS,
    DEFAULT_DTYPE,
    DEQUANT_FLOPS_PER_ELEMENT,
    KV_DTYPES,
    RESIDUAL_ADD_FLOPS_PER_ELEMENT,
    RMSNORM_FLOPS_PER_ELEMENT,
    WEIGHT_BYTES_PER_ELEMENT,
    WEIGHT_DTYPES,
    Op,
    _eltwise,
    _gemm,
)
from dse.workloads.workload import Workload


def _llm_ops(
    cfg: ModelConfig, batch: int, q_tokens: int, kv_len: int, *, decode: bool
) -> tuple[Op, ...]:
    """Op list of one LLM step: ``q_tokens`` new tokens per sequence attend to ``kv_len``."""
    if decode:
        # The single query of each sequence reads the whole KV cache (no masking needed).
        group = _Group("", batch, q_tokens, kv_len, "kv", 1.0)
    else:
        # K and V are made on chip in this pass; the causal mask needs (S+1)/(2S) of the
        # dense S x S score and value products (S (S+1) / 2 of S^2 pairs).
        group = _Group("", batch, q_tokens, kv_len, "act", (kv_len + 1) / (2 * kv_len))
    return _step_ops(cfg, batch * q_tokens, [group], batch, absorbed=decode)


def _step_ops(cfg: ModelConfig, tokens: int, groups: list[_Group], logits: int, *, absorbed: bool) -> tuple[Op, ...]:
    """Op list of a step that runs ``tokens`` tokens through the layers, their attention
    in ``groups``, and the LM head for ``logits`` positions."""
    layers = cfg.num_hidden_layers
    h = cfg.hidden_size
    return (
        # Two pre-norms per layer (attention and MLP input).
        _eltwise("rmsnorm", tokens * h, RMSNORM_FLOPS_PER_ELEMENT, count=2 * layers),
        *_attention_ops(cfg, tokens, groups, absorbed=absorbed),
        # Two residual adds per layer (after attention and after the MLP).
        _eltwise(
            "residual_add", tokens * h, RESIDUAL_ADD_FLOPS_PER_ELEMENT, count=2 * layers, inputs=2
        ),
        *_mlp_ops(cfg, tokens),
        # Only the last position of each sequence is normalised and projected to logits.
        _eltwise("final_rmsnorm", logits * h, RMSNORM_FLOPS_PER_ELEMENT),
        _gemm("lm_head", logits, cfg.vocab_size, h),
    )


def _dequant_ops(ops: tuple[Op, ...], weight_dtype: str, kv_dtype: str, dtype: str) -> tuple[Op, ...]:
    """Dequantisation passes of a step whose weights or KV cache are narrower than the
    activations: every weight (KV) element the GEMMs read is converted and scaled once
    (:data:`DEQUANT_FLOPS_PER_ELEMENT`) on the vector units."""
    extra = []
    for name, kinds, stored in (
        ("weight_dequant", ("weight", "expert"), weight_dtype), ("kv_dequant", ("kv",), kv_dtype)
    ):  # fmt: skip
        if stored == dtype:
            continue
        elements = sum(op.b_elements * op.count for op in ops if op.is_gemm and op.b_operand in kinds)
        if elements:
            extra.append(_eltwise(name, elements, DEQUANT_FLOPS_PER_ELEMENT[stored]))
    return (*ops, *extra)


def _precisions(dtype: str, weights: str | None, kv: str | None) -> tuple[str, str, str]:
    """Checked (dtype, weight dtype, KV dtype); weights and KV default to ``dtype``."""
    dtype = _check_dtype(dtype)
    out = [dtype]
    for what, value, allowed in (("weights", weights, WEIGHT_DTYPES), ("kv", kv, KV_DTYPES)):
        name = dtype if value is None else str(value).strip().lower()
        if name not in allowed:
            raise DseInputError(
                f"unknown {what} precision {str(value).strip()!r}{close_match_hint(name, allowed)}; "
                f"choose {', '.join(allowed)}"
            )
        out.append(name)
    if _BITS[out[1]] > _BITS[dtype]:
        raise DseInputError(
            f"weights={out[1]} is wider than the activations (dtype={dtype}): the MACs run at "
            "dtype, so weights may be as wide or narrower"
        )
    return out[0], out[1], out[2]


def _precision_spec(dtype: str, weights: str, kv: str) -> str:
    """``dtype=...`` plus ``weights=`` / ``kv=`` where they differ from it."""
    parts = [f"dtype={dtype}"]
    parts += [f"{k}={v}" for k, v in (("weights", weights), ("kv", kv)) if v != dtype]
    return ",".join(parts)


def _llm_workload(
    kind: str, cfg: ModelConfig, batch: int, seq_len: int, option: str, items: float,
    kv_tokens: int, ops: tuple[Op, ...], dtype: str, weights: str | None, kv: str | None,
) -> Workload:  # fmt: skip
    dtype, weights, kv = _precisions(dtype, weights, kv)
    return Workload(
        spec=f"{kind}:{cfg.name}:batch={batch},{option}={seq_len}:{_precision_spec(dtype, weights, kv)}",
        kind=kind,
        model=cfg.name,
        dtype=dtype,
        bytes_per_element=BYTES_PER_ELEMENT[dtype],
        batch=batch,
        seq_len=seq_len,
        items_per_step=items,
        item_unit="token",
        weight_bytes=float(cfg.num_params * WEIGHT_BYTES_PER_ELEMENT[weights]),
        kv_cache_bytes=float(batch * kv_tokens * cfg.kv_bytes_per_token(BYTES_PER_ELEMENT[kv])),
        ops=_dequant_ops(ops, weights, kv, dtype),
        model_config=cfg,
        weight_dtype=weights,
        kv_dtype=kv,
    )


def llm_decode_workload(
    model: str | os.PathLike[str] | ModelConfig,
    batch: int,
    context: int,
    dtype: str = DEFAULT_DTYPE,
    *,
    weights: str | None = None,
    kv: str | None = None,
) -> Workload:
    """One decode step: each of ``batch`` sequences with ``context`` cached tokens makes one token.

    Attention runs over ``context + 1`` keys (the cache plus the new token). The new
    token's K/V write (``2 * n_layers * kv_heads * head_dim`` elements per sequence) is
    not an op; it is included only in ``kv_cache_bytes``, which counts ``context + 1``
    tokens. The embedding lookup (``batch`` rows) is not an op either. ``weights`` and
    ``kv`` set the storage precision of the weights and of the KV cache (default
    ``dtype``).
    """
    cfg = resolve_model(model)
    batch = _check_count("batch", batch)
    context = _check_count("context", context)
    return _llm_workload(
        "llm-decode", cfg, batch, context, "context", float(batch), context + 1,
        _llm_ops(cfg, batch, 1, context + 1, decode=True), dtype, weights, kv,
    )  # fmt: skip


def llm_prefill_workload(
    model: str | os.PathLike[str] | ModelConfig,
    batch: int,
    seq: int,
    dtype: str = DEFAULT_DTYPE,
    *,
    weights: str | None = None,
    kv: str | None = None,
) -> Workload:
    """One prefill pass over ``seq`` prompt tokens for each of ``batch`` sequences.

    Causal attention over the prompt (``flop_fraction = (seq + 1) / (2 seq)``); the LM
    head runs only for the last token of each sequence (the one that yields the first
    generated token). The score matrices are separate ops (an unfused implementation);
    ``kv_cache_bytes`` is the cache written for ``seq`` tokens. ``weights`` and ``kv`` as
    in :func:`llm_decode_workload`.
    """
    cfg = resolve_model(model)
    batch = _check_count("batch", batch)
    seq = _check_count("seq", seq)
    return _llm_workload(
        "llm-prefill", cfg, batch, seq, "seq", float(batch * seq), seq,
        _llm_ops(cfg, batch, seq, seq, decode=False), dtype, weights, kv,
    )  # fmt: skip
