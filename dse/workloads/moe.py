"""MLP ops of an LLM step: dense SwiGLU and mixture of experts (expected distinct experts
under uniform top-k routing)."""

from __future__ import annotations

import math

import numpy as np

from dse.workloads.models import ModelConfig
from dse.workloads.ops import (
    SOFTMAX_FLOPS_PER_ELEMENT,
    SWIGLU_FLOPS_PER_ELEMENT,
    Op,
    _eltwise,
    _gemm,
)


def expected_distinct_experts(num_experts, experts_per_token, tokens):
    """Expected number of distinct routed experts ``tokens`` tokens touch [-].

    Parameters
    ----------
    num_experts : numeric
        Routed experts E of the layer.
    experts_per_token : numeric
        Experts each token picks (top-k), k <= E.
    tokens : numeric
        Tokens routed in the step, T.

    Notes
    -----
    E_d = E (1 - (1 - k/E)^T): a token picks a given expert with probability k/E under
    uniform routing; tokens route independently.
    """
    e = np.asarray(num_experts, dtype=float)
    k = np.asarray(experts_per_token, dtype=float)
    return e * (1.0 - (1.0 - k / e) ** np.asarray(tokens, dtype=float))


def _mlp_ops(cfg: ModelConfig, tokens: int) -> list[Op]:
    """The MLPs of every layer: dense SwiGLU, and the MoE layers' router, routed experts
    (the expected distinct experts of ``tokens`` tokens, each running its share of the
    routed tokens) and shared experts."""
    h = cfg.hidden_size
    ops: list[Op] = []
    dense = cfg.dense_mlp_layers
    if dense:
        ops += [
            _gemm("mlp_up_gate", tokens, 2 * cfg.intermediate_size, h, count=dense),
            # silu(gate) * up: reads gate and up, writes one tensor.
            _eltwise(
                "swiglu", tokens * cfg.intermediate_size, SWIGLU_FLOPS_PER_ELEMENT, count=dense, inputs=2
            ),
            _gemm("mlp_down", tokens, h, cfg.intermediate_size, count=dense),
        ]
    if not cfg.is_moe:
        return ops
    moe, e, k, w = cfg.moe_layers, cfg.num_experts, cfg.experts_per_token, cfg.moe_intermediate_size
    # expert parallelism: this chip holds 1/shards of the experts and runs their tokens
    shards = cfg.expert_shards
    routed = max(1, round(tokens * k / shards))  # token-expert pairs this chip runs
    instances = min(routed, max(1, round(float(expected_distinct_experts(e, k, tokens)) / shards)))
    # one grouped GEMM over the experts, each padded to the most tokens any of them runs
    # when the pairs do not share out evenly (at most one row more than its share)
    rows = math.ceil(routed / instances)
    ops += [
        _gemm("moe_router", tokens, e, h, count=moe),
        _eltwise("moe_topk", tokens * e, SOFTMAX_FLOPS_PER_ELEMENT, count=moe),
        _gemm("expert_up_gate", rows, 2 * w, h, batch=instances, count=moe, b_operand="expert"),
        _eltwise("expert_swiglu", routed * w, SWIGLU_FLOPS_PER_ELEMENT, count=moe, inputs=2),
        _gemm("expert_down", rows, h, w, batch=instances, count=moe, b_operand="expert"),
        # the gate-weighted sum of each token's k expert outputs
        _eltwise("moe_combine", tokens * h, 2.0 * k, count=moe, inputs=k),
    ]
    if cfg.shared_intermediate_size:
        s = cfg.shared_intermediate_size
        ops += [
            _gemm("shared_up_gate", tokens, 2 * s, h, count=moe),
            _eltwise("shared_swiglu", tokens * s, SWIGLU_FLOPS_PER_ELEMENT, count=moe, inputs=2),
            _gemm("shared_down", tokens, h, s, count=moe),
        ]
    return ops
