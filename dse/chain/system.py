"""The chain's system stage: the collectives of a step, the tensor and pipeline splits a model allows, and the workload one chip of a split runs (its shard)."""

from __future__ import annotations

import numpy as np

from dse.model.multichip import Collectives, SystemSize
from dse.workloads import Workload


def collectives_per_step(wl: Workload) -> Collectives:
    """All-reduce size and count of one step (Megatron-style tensor parallelism).

    LLM: the activations of the step's tokens, S = tokens x hidden x bytes, are
    all-reduced twice per layer (attention output and MLP down projections) and passed
    once per pipeline boundary; tokens = ``batch`` (decode), ``batch x seq`` (prefill) or
    the decode and prompt tokens of a serving iteration.
    GEMM and CNN workloads: no exchange (weights split by output columns with the
    input read by every chip; a CNN batch split over chips).
    """
    cfg = wl.model_config
    if cfg is None or wl.kind not in ("llm-decode", "llm-prefill", "llm-serve"):
        return Collectives(0.0, 0.0, 0.0)
    if wl.kind == "llm-serve":  # the iteration's decode and prompt tokens
        tokens = float(next(op.m for op in wl.ops if op.name == "rmsnorm") // cfg.hidden_size)
    else:
        tokens = float(wl.batch) * (float(wl.seq_len) if wl.kind == "llm-prefill" else 1.0)
    s = tokens * float(cfg.hidden_size) * float(wl.bytes_per_element)
    return Collectives(s, 2.0 * float(cfg.num_hidden_layers), s)


def tp_degrees(cfg, tp_max: int) -> list[int]:
    """Tensor-parallel degrees up to ``tp_max`` that split a model evenly.

    A degree ``t`` must divide the attention heads and every MLP width (dense, expert,
    shared expert), and divide the KV heads or be a multiple of them (each chip then keeps
    a copy of its KV head, as serving engines replicate KV heads beyond their count).
    Latent attention (MLA) keeps one latent cache that every chip replicates. Llama-3-70B
    (64 query and 8 KV heads, MLP 28,672): 1, 2, 4, 8, 16, 32, 64 - never 3.
    """
    kvh = 1 if cfg.is_mla else cfg.num_key_value_heads
    widths = [cfg.intermediate_size]
    if cfg.is_moe:
        widths += [cfg.moe_intermediate_size] + ([cfg.shared_intermediate_size] if cfg.shared_intermediate_size else [])
    out = []
    for t in range(1, int(tp_max) + 1):
        heads_ok = cfg.num_attention_heads % t == 0 and (kvh % t == 0 or t % kvh == 0)
        if heads_ok and all(w % t == 0 for w in widths):
            out.append(t)
    return out


def pp_degrees(layers: int) -> list[int]:
    """Pipeline stage counts that divide the layers evenly (every stage holds as many)."""
    return [p for p in range(1, int(layers) + 1) if layers % p == 0]


def split_system(wl: Workload, capacity_bytes, tp_max, max_chips=100_000) -> SystemSize:
    """The smallest system of chips that holds an LLM workload, split as a team would build it.

    Parameters
    ----------
    wl : Workload
        An ``llm-decode`` or ``llm-prefill`` step (its batch is the batch served).
    capacity_bytes : numeric
        What one chip holds [B]: off-chip capacity, or the weight-resident SRAM of an
        SRAM-only design (array over designs).
    tp_max : numeric
        Largest tensor-parallel group per design.
    max_chips : int
        Systems above this are reported as not fitting.

    Notes
    -----
    Candidate splits are ``t`` in :func:`tp_degrees` (``t <= tp_max``) times ``p`` in
    :func:`pp_degrees`, tried in order of chips ``t p`` (fewer stages first on a tie). With
    ``p`` stages the batch ``B`` is cut into ``m = min(p, B)`` micro-batches of
    ``ceil(B / m)`` sequences that are in flight across the stages at once: the batch the
    user asks for is the batch served. A chip holds its shard's weights
    (:func:`shard_workload` at the micro-batch) and the KV cache of all ``m`` micro-batches
    for its layers: load = W_shard + m KV_shard <= capacity.
    """
    cfg = wl.model_config
    if cfg is None:
        raise ValueError(f"split_system needs an LLM workload, got {wl.spec!r}")
    cap, tpm = np.broadcast_arrays(np.asarray(capacity_bytes, dtype=float), np.asarray(tp_max, dtype=float))
    n = cap.shape[0] if cap.ndim else 1
    cap, tpm = cap.reshape(n), tpm.reshape(n)
    chips, tp, pp, mb = (np.full(n, np.nan) for _ in range(4))
    todo = np.ones(n, dtype=bool)
    batch = int(wl.batch)
    pairs = sorted(
        ((t * p, p, t) for t in tp_degrees(cfg, int(tpm.max())) for p in pp_degrees(cfg.num_hidden_layers)),
    )
    for total, p, t in pairs:
        if not todo.any() or total > max_chips:
            break
        m = min(p, batch)
        shard = shard_workload(wl, t, p, batch=-(-batch // m))
        load = shard.weight_bytes + m * shard.kv_cache_bytes
        ok = todo & (t <= tpm) & (load <= cap)
        chips[ok], tp[ok], pp[ok], mb[ok] = total, t, p, m
        todo &= ~ok
    return SystemSize(chips, tp, pp, ~todo, mb)


def shard_workload(wl: Workload, tp: int, pp: int, batch: int | None = None) -> Workload:
    """The workload one chip of a TP x PP system runs per step (LLM workloads), at
    ``batch`` sequences (default: the workload's; a micro-batch of a pipeline).

    Attention and KV heads, the MLP width and the vocabulary split over ``tp``
    (Megatron: column/row-parallel projections, vocabulary-parallel LM head), layers over
    ``pp``; the hidden size (the all-reduced activations) stays whole. A
    mixture-of-experts model spreads its routed experts over the ``tp`` chips (expert
    parallelism: each chip runs its experts' share of the routed tokens); the exchange
    is still counted as the all-reduces of :func:`collectives_per_step` (the all-to-all
    of token dispatch moves about ``k`` times that volume, not modelled separately).
    Latent-attention caches are not split by heads: each chip keeps the whole latent
    cache of its layers. Non-divisible
    splits round up (the slowest rank); KV heads fewer than ``tp`` are replicated. The
    LM head is spread over the stages (vocabulary / (tp pp)): the average stage, not the
    last one. Evaluating a chip on this workload gives its stage time with the right
    on-chip residency (an alternative to :func:`stage_compute_time_s`). Non-LLM
    workloads are returned unchanged.
    """
    from dse.workloads import llm_decode_workload, llm_prefill_workload

    cfg = wl.model_config
    b = wl.batch if batch is None else int(batch)
    if cfg is None or wl.kind not in ("llm-decode", "llm-prefill") or (tp * pp == 1 and b == wl.batch):
        return wl
    shard = shard_config(cfg, tp, pp) if tp * pp > 1 else cfg
    precision = dict(weights=wl.weight_dtype, kv=wl.kv_dtype)
    if wl.kind == "llm-decode":
        return llm_decode_workload(shard, b, wl.seq_len, wl.dtype, **precision)
    return llm_prefill_workload(shard, b, wl.seq_len, wl.dtype, **precision)


def shard_serve_workload(wl: Workload, tp: int) -> Workload:
    """The ``llm-serve`` workload one chip of a ``tp``-way tensor-parallel group runs:
    the model split as in :func:`shard_workload`, the same requests and targets (the
    group serves the batch together)."""
    from dse.workloads import serve_step_workload

    if tp == 1 or wl.serve is None:
        return wl
    return serve_step_workload(
        shard_config(wl.model_config, tp, 1), wl.serve, 1, wl.dtype, str(wl.weight_dtype), str(wl.kv_dtype),
        spec_text=f"{wl.spec}[tp={tp}]", top_level=True,
    )  # fmt: skip


def shard_config(cfg, tp: int, pp: int):
    """The :class:`dse.workloads.ModelConfig` of one chip of a TP x PP split (see
    :func:`shard_workload`)."""
    from dataclasses import replace

    kv = max(1, -(-cfg.num_key_value_heads // tp))
    heads = -(-cfg.num_attention_heads // tp)
    heads = -(-heads // kv) * kv
    layers = -(-cfg.num_hidden_layers // pp)
    shard = replace(
        cfg,
        name=f"{cfg.name}[tp={tp},pp={pp}]",
        num_attention_heads=heads,
        num_key_value_heads=kv,
        intermediate_size=-(-cfg.intermediate_size // tp),
        num_hidden_layers=layers,
        vocab_size=-(-cfg.vocab_size // (tp * pp)),
        # MoE: the routed experts spread over the TP group (expert parallelism), the
        # shared experts split like a dense MLP
        moe_layers=min(layers, -(-cfg.moe_layers // pp)),
        shared_intermediate_size=-(-cfg.shared_intermediate_size // tp),
        expert_shards=cfg.expert_shards * tp if cfg.is_moe else 1,
    )
    return shard
