"""``llm-serve`` workloads: one iteration of continuous batching with chunked prefill."""

from __future__ import annotations

import math
import os

from dse.errors import DseInputError
from dse.units import BYTES_PER_ELEMENT
from dse.workloads.attention import _Group
from dse.workloads.checks import _check_count, _short
from dse.workloads.config_json import resolve_model
from dse.workloads.llm import _dequant_ops, _precision_spec, _precisions, _step_ops
from dse.workloads.models import ModelConfig
from dse.workloads.ops import DEFAULT_DTYPE, WEIGHT_BYTES_PER_ELEMENT
from dse.workloads.workload import ServeSpec, Workload

#: default token budget of one serving iteration (decode tokens + prefill chunk): vLLM's
#: max_num_batched_tokens with chunked prefill (V0 from 0.6.5; V1's API server on GPUs
#: under 70 GiB; vllm/config.py of the releases), Sarathi-Serve's relaxed-SLO setting
DEFAULT_CHUNK_TOKENS = 2048


def llm_serve_workload(
    model: str | os.PathLike[str] | ModelConfig,
    prompt: int,
    output: int,
    ttft_ms: float,
    tpot_ms: float,
    chunk: int | None = None,
    dtype: str = DEFAULT_DTYPE,
    *,
    weights: str | None = None,
    kv: str | None = None,
) -> Workload:
    """Serving at latency targets: continuous batching with chunked prefill.

    Requests of ``prompt`` tokens generating ``output`` tokens each are served by an
    engine that runs iterations of at most ``chunk`` tokens (default
    :data:`DEFAULT_CHUNK_TOKENS`): every running sequence decodes one token, and waiting
    prompts fill the rest of the budget. The workload's ops are one iteration at batch 1
    (:func:`serve_step_workload`); :func:`dse.evaluate` searches the largest batch that
    meets both targets (``serve_batch``) and reports the metrics there.
    """
    cfg = resolve_model(model)
    prompt = _check_count("prompt", prompt)
    output = _check_count("output", output)
    targets = []
    for what, value in (("ttft_ms", ttft_ms), ("tpot_ms", tpot_ms)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
            raise DseInputError(f"llm-serve option {what!r} must be a positive number of milliseconds, got {_short(value)}")
        targets.append(float(value))
    chunk = DEFAULT_CHUNK_TOKENS if chunk is None else _check_count("chunk", chunk)
    if chunk < 2:
        raise DseInputError("llm-serve option 'chunk' must be at least 2 tokens (one decode token and one prompt token)")
    dtype, weights, kv = _precisions(dtype, weights, kv)
    spec = ServeSpec(prompt, output, targets[0] * 1e-3, targets[1] * 1e-3, chunk)
    text = (
        f"llm-serve:{cfg.name}:prompt={prompt},output={output},ttft_ms={targets[0]:g},"
        f"tpot_ms={targets[1]:g},chunk={chunk}:{_precision_spec(dtype, weights, kv)}"
    )
    return serve_step_workload(cfg, spec, 1, dtype, weights, kv, spec_text=text, top_level=True)


def serve_step_workload(
    cfg: ModelConfig, serve: ServeSpec, batch: int, dtype: str, weights: str, kv: str, *,
    full_chunk: bool = False, spec_text: str | None = None, top_level: bool = False,
) -> Workload:  # fmt: skip
    """One serving iteration at ``batch`` running sequences.

    The ``batch`` sequences decode one token each at the mean context of a request in
    flight, ``prompt + output / 2``. Prompts take the rest of the token budget: in the
    steady state ``batch * prompt / output`` prompt tokens per iteration (the prompts of
    the requests that replace the finishing ones), or with ``full_chunk`` the whole
    spare budget ``chunk - batch`` (an iteration that prefills a waiting prompt as fast
    as the budget allows: what sets the time to first token). A chunk shorter than a
    prompt attends to the earlier chunks of its prompt in the cache (on average half the
    prompt before it); a chunk of whole prompts runs them as causal prefills. All the
    iteration's tokens share one pass through the weights. ``items_per_step`` is the
    ``batch`` output tokens the iteration makes; ``kv_cache_bytes`` the cache of
    ``batch`` requests at their full length. Only the ``llm-serve`` workload itself
    (``top_level``) carries ``serve``: an iteration evaluates as one step.
    """
    p, o = serve.prompt, serve.output
    spare = serve.chunk - batch
    if spare < 1:
        raise DseInputError(f"llm-serve: batch {batch} leaves no room in the {serve.chunk}-token chunk")
    c = spare if full_chunk else max(1, min(spare, math.ceil(batch * p / o)))
    groups = [_Group("", batch, 1, p + (o + 1) // 2, "kv", 1.0)]
    if c < p:  # part of one prompt, after the earlier chunks in the cache
        kv_len = (p + c + 1) // 2
        groups.append(_Group("chunk_", 1, c, kv_len, "kv", (kv_len - (c - 1) / 2) / kv_len))
    else:  # whole prompts
        prompts = max(1, round(c / p))
        groups.append(_Group("chunk_", prompts, p, p, "act", (p + 1) / (2 * p)))
    ops = _step_ops(cfg, batch + c, groups, batch, absorbed=True)
    text = spec_text or f"llm-serve:{cfg.name}:prompt={p},output={o}:batch={batch}"
    return Workload(
        spec=text,
        kind="llm-serve",
        model=cfg.name,
        dtype=dtype,
        bytes_per_element=BYTES_PER_ELEMENT[dtype],
        batch=batch,
        seq_len=p,
        items_per_step=float(batch),
        item_unit="token",
        weight_bytes=float(cfg.num_params * WEIGHT_BYTES_PER_ELEMENT[weights]),
        kv_cache_bytes=float(batch * (p + o) * cfg.kv_bytes_per_token(BYTES_PER_ELEMENT[kv])),
        ops=_dequant_ops(ops, weights, kv, dtype),
        model_config=cfg,
        weight_dtype=weights,
        kv_dtype=kv,
        serve=serve if top_level else None,
    )
