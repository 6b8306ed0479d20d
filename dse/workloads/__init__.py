"""Workloads as lists of operations: GEMM, LLM decode and prefill, ResNet-50.

A workload is one *step* of inference (one decode step, one prefill pass, one batch of
images, one GEMM) written as a tuple of :class:`Op`. Each op is a GEMM or an
element-wise pass with its shape, how many independent instances run side by side
(``batch``) and how many times it occurs in the step (``count``). Ops with identical
shapes are listed once with ``count > 1`` (e.g. one ``qkv_proj`` with ``count =
n_layers``), so the op list stays short and the roofline, which loops over ops and
vectorises over designs, stays fast.

Workload strings (the public contract, docs/contract.md)::

    gemm:M,N,K
    llm-decode:MODEL:batch=B,context=L
    llm-prefill:MODEL:batch=B,seq=S
    resnet50:batch=B

with an optional trailing ``:dtype=bf16|fp8|int8`` segment (or ``dtype=`` as one more
comma option); bf16 is the default. LLM workloads also take ``weights=bf16|fp8|int8|int4``
and ``kv=bf16|fp8|int8``: the storage precision of the weights and of the KV cache when
they differ from ``dtype`` (the activations, and the precision the MACs run at). Kinds,
model names, option names and dtypes are case-insensitive and whitespace around the
parts is ignored. MODEL is a built-in name (see :data:`BUILTIN_MODELS` and
:data:`MODEL_ALIASES`) or a path to a Hugging Face ``config.json`` (or to a directory
holding one) of a Llama-architecture decoder, dense or mixture-of-experts, with
grouped-query or multi-head latent attention.

Conventions
-----------
* A GEMM op computes ``C[m, n] = A[m, k] @ B[k, n]`` in each of ``batch`` instances.
  ``b_operand`` says what B is: ``"weight"`` (model weights; shared by all instances, so
  read once per occurrence), ``"expert"`` (model weights, a different matrix in each
  instance: the experts a mixture-of-experts layer runs, the per-head projections of
  latent attention), ``"kv"`` (the KV cache, read from memory) or ``"act"`` (an
  activation produced on chip in the same step).
* An element-wise op processes ``m`` output elements per instance (``n = k = 1``) and
  reads ``eltwise_inputs`` tensors of ``m`` elements each.
* FLOPs count a multiply-add as 2. Per occurrence: GEMM ``2*m*n*k*batch*flop_fraction``,
  element-wise ``m*batch*eltwise_flops_per_element*flop_fraction`` (``flop_fraction``
  is 1 for every element-wise op except the causal prefill softmax).
* Activations are stored at ``dtype``, weights at ``weight_dtype``, the KV cache at
  ``kv_dtype``. Weights or a KV cache narrower than ``dtype`` are dequantised on the
  vector units on their way into the MAC arrays (ops ``weight_dequant``, ``kv_dequant``,
  fused into the GEMM kernels: no memory traffic of their own).

Mixture of experts
------------------
Under top-k routing each token picks ``k`` of ``E`` routed experts. With the routing
taken as uniform and independent across tokens, an expert is left untouched by ``T``
tokens with probability ``(1 - k/E)^T``, so a step reads the weights of
``E (1 - (1 - k/E)^T)`` experts on average (:func:`expected_distinct_experts`, rounded to
whole experts), which share the ``T k`` token-expert pairs in one grouped GEMM (each
expert padded to ``ceil(T k / E_d)`` rows, as a grouped kernel pads its tiles); shared
experts run every token. Real routers are not
uniform (load-balancing losses push towards it), so this is the expected weight traffic
of a balanced router.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

import numpy as np

from dse.errors import DseInputError, close_match_hint
from dse.units import BYTES_PER_ELEMENT

__all__ = [
    "BUILTIN_MODELS",
    "MODEL_ALIASES",
    "WORKLOAD_KINDS",
    "ModelConfig",
    "expected_distinct_experts",
    "Op",
    "Workload",
    "gemm_workload",
    "llm_decode_workload",
    "llm_prefill_workload",
    "llm_serve_workload",
    "load_hf_config",
    "parse_workload",
    "resnet50_workload",
    "resolve_model",
]

DEFAULT_DTYPE = "bf16"

#: Workload kinds accepted at the start of a workload string.
WORKLOAD_KINDS = ("gemm", "llm-decode", "llm-prefill", "llm-serve", "resnet50")
#: default token budget of one serving iteration (decode tokens + prefill chunk): vLLM's
#: max_num_batched_tokens with chunked prefill (V0 from 0.6.5; V1's API server on GPUs
#: under 70 GiB; vllm/config.py of the releases), Sarathi-Serve's relaxed-SLO setting
DEFAULT_CHUNK_TOKENS = 2048
_KIND_ALIASES = {"resnet-50": "resnet50", "resnet_50": "resnet50"}

# Largest integer a float64 holds exactly; shapes above it are rejected.
_MAX_INT = 2**53

_OP_KINDS = ("gemm", "eltwise")
_B_OPERANDS = ("weight", "expert", "kv", "act")
#: storage precisions: activations (and the MACs), weights, KV cache. int4 weights carry
#: one bf16 scale per group of 128 weights (the AWQ / GPTQ default group size): 4.125 bits.
ACT_DTYPES = ("bf16", "fp8", "int8")
WEIGHT_DTYPES = ("bf16", "fp8", "int8", "int4")
KV_DTYPES = ("bf16", "fp8", "int8")
WEIGHT_BYTES_PER_ELEMENT = MappingProxyType({"bf16": 2.0, "fp8": 1.0, "int8": 1.0, "int4": 0.5 + 2.0 / 128})
_BITS = MappingProxyType({"bf16": 16, "fp8": 8, "int8": 8, "int4": 4})
#: vector-unit operations to dequantise one element into the MAC precision: convert and
#: multiply by its scale; int4 adds the unpacking (shift and mask) of the packed nibble
DEQUANT_FLOPS_PER_ELEMENT = MappingProxyType({"bf16": 2.0, "fp8": 2.0, "int8": 2.0, "int4": 3.0})
#: element-wise ops that run on the operands inside a GEMM kernel (no tensor of their own)
_IN_KERNEL_OPS = frozenset({"weight_dequant", "kv_dequant"})

# Element-wise FLOPs per output element (what is counted is stated in each line).
RMSNORM_FLOPS_PER_ELEMENT = 4.0  # square, accumulate, multiply by 1/rms, multiply by gain
SOFTMAX_FLOPS_PER_ELEMENT = 5.0  # running max, subtract max, exp, accumulate, scale by 1/sum
SWIGLU_FLOPS_PER_ELEMENT = 4.0  # exp(-g), 1 + e, g / (1 + e) (= silu(g)), times up
RESIDUAL_ADD_FLOPS_PER_ELEMENT = 1.0  # one add
BIAS_RELU_FLOPS_PER_ELEMENT = 2.0  # folded-BN bias add, max(0, x)
ADD_RELU_FLOPS_PER_ELEMENT = 3.0  # folded-BN bias add, residual add, max(0, x)
MAXPOOL_FLOPS_PER_ELEMENT = 8.0  # 8 comparisons over a 3x3 window
AVGPOOL_FLOPS_PER_ELEMENT = 49.0  # 48 adds + 1 multiply over a 7x7 window


# --------------------------------------------------------------------------------------
# Ops
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Op:
    """One operation of a workload step: a GEMM or an element-wise pass.

    Parameters
    ----------
    name : str
        Label, e.g. ``"qkv_proj"``, ``"attn_score"``, ``"conv3_1b"``.
    kind : str
        ``"gemm"`` or ``"eltwise"``.
    m, n, k : int
        GEMM shape ``C[m, n] = A[m, k] @ B[k, n]`` per instance. Element-wise ops:
        ``m`` output elements per instance, ``n = k = 1``.
    batch : int
        Independent instances per occurrence (e.g. ``batch * kv_heads`` for attention).
    count : int
        Occurrences per workload step (e.g. ``n_layers``).
    b_operand : str
        What the B (``k x n``) operand is: ``"weight"`` (shared by the instances),
        ``"expert"`` (weights, one matrix per instance), ``"kv"`` (KV cache read from
        memory) or ``"act"`` (activation made on chip). Element-wise ops: ``"act"``.
    flop_fraction : float
        Fraction of the dense FLOPs actually needed, e.g. ``(S + 1) / (2 S)`` for
        causal attention over ``S`` tokens.
    eltwise_flops_per_element : float
        Element-wise ops only: FLOPs per output element.
    eltwise_inputs : int
        Element-wise ops only: number of input tensors of ``m`` elements read.
    a_read_elements : int
        GEMMs only: elements of A actually stored and read when A is formed on the fly
        (implicit-GEMM convolution reads the input feature map, not the ``m x k``
        im2col matrix); 0 means ``m * k * batch``.
    """

    name: str
    kind: str
    m: int
    n: int
    k: int
    batch: int
    count: int
    b_operand: str
    flop_fraction: float = 1.0
    eltwise_flops_per_element: float = 0.0
    eltwise_inputs: int = 1
    a_read_elements: int = 0

    def __post_init__(self) -> None:
        if self.kind not in _OP_KINDS:
            raise DseInputError(
                f"op {self.name!r}: kind must be 'gemm' or 'eltwise', got {self.kind!r}"
            )
        if self.b_operand not in _B_OPERANDS:
            raise DseInputError(
                f"op {self.name!r}: b_operand must be one of {', '.join(_B_OPERANDS)}, got {self.b_operand!r}"
            )
        for key in ("m", "n", "k", "batch", "count", "eltwise_inputs"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise DseInputError(
                    f"op {self.name!r}: {key} must be a positive integer, got {value!r}"
                )
        if not 0.0 < self.flop_fraction <= 1.0:
            raise DseInputError(
                f"op {self.name!r}: flop_fraction must be in (0, 1], got {self.flop_fraction!r}"
            )
        if not (
            math.isfinite(self.eltwise_flops_per_element) and self.eltwise_flops_per_element >= 0
        ):
            raise DseInputError(
                f"op {self.name!r}: eltwise_flops_per_element must be finite and >= 0, "
                f"got {self.eltwise_flops_per_element!r}"
            )
        if self.kind == "eltwise" and (self.n != 1 or self.k != 1 or self.b_operand != "act"):
            raise DseInputError(
                f"op {self.name!r}: element-wise ops need n = k = 1 and b_operand 'act'"
            )

    @property
    def is_gemm(self) -> bool:
        return self.kind == "gemm"

    @property
    def flops(self) -> float:
        """FLOPs per occurrence, all ``batch`` instances included [FLOP]."""
        if self.is_gemm:
            return 2.0 * self.m * self.n * self.k * self.batch * self.flop_fraction
        return self.m * self.batch * self.eltwise_flops_per_element * self.flop_fraction

    @property
    def a_elements(self) -> int:
        """Elements of the A operand(s) read per occurrence."""
        if self.is_gemm:
            return self.a_read_elements or self.m * self.k * self.batch
        return self.m * self.batch * self.eltwise_inputs

    @property
    def b_elements(self) -> int:
        """Elements of the B operand per occurrence (``weight`` operands are shared by the
        instances, every other kind is one matrix per instance)."""
        if not self.is_gemm:
            return 0
        if self.b_operand == "weight":
            return self.k * self.n
        return self.k * self.n * self.batch

    @property
    def c_elements(self) -> int:
        """Elements written per occurrence."""
        if self.is_gemm:
            return self.m * self.n * self.batch
        return self.m * self.batch


def _gemm(
    name: str,
    m: int,
    n: int,
    k: int,
    *,
    batch: int = 1,
    count: int = 1,
    b_operand: str = "weight",
    flop_fraction: float = 1.0,
) -> Op:
    return Op(name, "gemm", m, n, k, batch, count, b_operand, flop_fraction)


def _eltwise(
    name: str,
    elements: int,
    flops_per_element: float,
    *,
    count: int = 1,
    inputs: int = 1,
    flop_fraction: float = 1.0,
) -> Op:
    return Op(
        name, "eltwise", elements, 1, 1, 1, count, "act", flop_fraction, flops_per_element, inputs
    )


# --------------------------------------------------------------------------------------
# Workload
# --------------------------------------------------------------------------------------

_ARRAY_KEYS = tuple(
    "m n k batch count flop_fraction is_gemm b_is_weight b_is_kv flops a_bytes b_bytes c_bytes "
    "eltwise_flops".split()
)


@dataclass(frozen=True)
class ServeSpec:
    """Requests and latency targets of an ``llm-serve`` workload.

    Parameters
    ----------
    prompt, output : int
        Prompt and generated tokens of every request.
    ttft_s, tpot_s : float
        Targets: time to first token and time per output token [s].
    chunk : int
        Token budget of one iteration: the running sequences' decode tokens plus a
        chunk of waiting prompts (chunked prefill).
    """

    prompt: int
    output: int
    ttft_s: float
    tpot_s: float
    chunk: int

    @property
    def max_batch(self) -> int:
        """Largest batch whose prompts the budget keeps up with: ``B P / O <= C - B``."""
        return int(self.chunk * self.output // (self.prompt + self.output))


@dataclass(frozen=True)
class Workload:
    """One step of an inference workload as a tuple of :class:`Op`.

    Attributes
    ----------
    spec : str
        Normalised workload string; ``parse_workload(w.spec) == w``.
    kind : str
        ``"gemm"``, ``"llm-decode"``, ``"llm-prefill"`` or ``"cnn"``.
    model : str or None
        Built-in model name, absolute path of a config.json, ``"resnet50"``; None for gemm.
    dtype : str
        ``"bf16"``, ``"fp8"`` or ``"int8"``: the precision of the activations and of the
        MACs (and of weights and KV cache unless ``weight_dtype`` / ``kv_dtype`` say
        otherwise).
    bytes_per_element : int
        Bytes per element at ``dtype`` [B].
    batch : int
        Sequences (LLM) or images (CNN) per step; 1 for gemm.
    seq_len : int
        Prompt length (prefill), context length before the step (decode), else 0.
    items_per_step : float
        What one step produces: decode ``batch`` tokens, prefill ``batch * seq`` tokens,
        resnet50 ``batch`` images, gemm 1.
    item_unit : str
        ``"token"``, ``"image"`` or ``"gemm"``.
    weight_bytes : float
        All unique model weights at ``dtype`` (embeddings, norms and LM head included) [B].
    kv_cache_bytes : float
        KV cache held in memory at the end of the step; 0 if not applicable [B].
    ops : tuple of Op
        The step's operations.
    model_config : ModelConfig or None
        The LLM's dimensions (LLM workloads only).
    weight_dtype, kv_dtype : str or None
        Storage precision of the weights (``bf16``, ``fp8``, ``int8``, ``int4``) and of
        the KV cache (``bf16``, ``fp8``, ``int8``); None means ``dtype``.
    serve : ServeSpec or None
        ``llm-serve`` workloads: the request shape and latency targets (the ops are
        then one serving iteration at ``batch``, see :func:`serve_step_workload`).
    """

    spec: str
    kind: str
    model: str | None
    dtype: str
    bytes_per_element: int
    batch: int
    seq_len: int
    items_per_step: float
    item_unit: str
    weight_bytes: float
    kv_cache_bytes: float
    ops: tuple[Op, ...]
    model_config: ModelConfig | None = None
    weight_dtype: str | None = None
    kv_dtype: str | None = None
    serve: ServeSpec | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "ops", tuple(self.ops))
        object.__setattr__(self, "weight_dtype", self.weight_dtype or self.dtype)
        object.__setattr__(self, "kv_dtype", self.kv_dtype or self.dtype)
        # Cached in the instance dict, outside the dataclass fields (so not in repr, eq,
        # hash or fields()); the arrays are read-only.
        arrays = _op_arrays(
            self.ops, float(self.bytes_per_element), self.weight_bytes_per_element,
            float(BYTES_PER_ELEMENT[self.kv_dtype]),
        )  # fmt: skip
        object.__setattr__(self, "_arrays", arrays)

    @property
    def weight_bytes_per_element(self) -> float:
        """Bytes per stored weight at ``weight_dtype`` (int4: with its group scale) [B]."""
        return float(WEIGHT_BYTES_PER_ELEMENT[str(self.weight_dtype)])

    @property
    def _cols(self) -> dict[str, np.ndarray]:
        arrays: dict[str, np.ndarray] = self.__dict__["_arrays"]
        return arrays

    def op_arrays(self) -> dict[str, np.ndarray]:
        """Per-op columns as read-only numpy arrays of length ``len(ops)``.

        Keys: ``m n k batch count flop_fraction flops a_bytes b_bytes c_bytes
        eltwise_flops`` (float64) and ``is_gemm b_is_weight b_is_kv`` (bool). FLOPs and
        bytes are per occurrence (multiply by ``count`` for the step); ``flops`` holds the
        element-wise FLOPs for element-wise ops, ``eltwise_flops`` is 0 for GEMMs, and
        ``b_bytes`` is 0 for element-wise ops. The arrays are computed once per workload.
        """
        return dict(self._cols)

    @property
    def total_flops(self) -> float:
        """FLOPs of the whole step, GEMM and element-wise [FLOP]."""
        a = self._cols
        return float(np.sum(a["flops"] * a["count"]))

    @property
    def gemm_flops(self) -> float:
        """GEMM FLOPs of the step [FLOP]."""
        a = self._cols
        return float(np.sum(np.where(a["is_gemm"], a["flops"], 0.0) * a["count"]))

    @property
    def eltwise_flops(self) -> float:
        """Element-wise FLOPs of the step [FLOP]."""
        a = self._cols
        return float(np.sum(a["eltwise_flops"] * a["count"]))

    @property
    def total_weight_bytes_read_once(self) -> float:
        """Bytes of GEMM weight operands if each is read once per occurrence [B].

        For LLMs this is the weight traffic of a step that streams the weights once:
        ``weight_bytes`` minus the embedding table (a row lookup) and the norm gains.
        """
        a = self._cols
        return float(np.sum(np.where(a["b_is_weight"], a["b_bytes"], 0.0) * a["count"]))

    @property
    def total_kv_bytes_read(self) -> float:
        """Bytes of KV cache read by the attention GEMMs in the step [B]."""
        a = self._cols
        return float(np.sum(np.where(a["b_is_kv"], a["b_bytes"], 0.0) * a["count"]))

    @property
    def total_expert_bytes_read(self) -> float:
        """Bytes of routed-expert weights (ops ``expert_*``) read in the step [B]."""
        elements = sum(op.b_elements * op.count for op in self.ops if op.name.startswith("expert_"))
        return float(elements) * self.weight_bytes_per_element

    @property
    def num_params(self) -> float:
        """Model parameters (``weight_bytes`` over the bytes per weight)."""
        return self.weight_bytes / self.weight_bytes_per_element


def _op_arrays(
    ops: tuple[Op, ...], act_bytes: float, weight_bytes: float, kv_bytes: float
) -> dict[str, np.ndarray]:
    def col(values: list[Any], dtype: type = np.float64) -> np.ndarray:
        return np.array(values, dtype=dtype).reshape(len(ops))

    def b_bytes(op: Op) -> float:
        per = {"weight": weight_bytes, "expert": weight_bytes, "kv": kv_bytes}.get(op.b_operand, act_bytes)
        return float(op.b_elements) * per

    arrays = {
        "m": col([op.m for op in ops]),
        "n": col([op.n for op in ops]),
        "k": col([op.k for op in ops]),
        "batch": col([op.batch for op in ops]),
        "count": col([op.count for op in ops]),
        "flop_fraction": col([op.flop_fraction for op in ops]),
        "is_gemm": col([op.is_gemm for op in ops], bool),
        "b_is_weight": col([op.is_gemm and op.b_operand in ("weight", "expert") for op in ops], bool),
        "b_is_kv": col([op.is_gemm and op.b_operand == "kv" for op in ops], bool),
        "flops": col([op.flops for op in ops]),
        # dequantisation runs on registers inside the GEMM kernels: no operand traffic
        "a_bytes": col([0.0 if op.name in _IN_KERNEL_OPS else float(op.a_elements) * act_bytes for op in ops]),
        "b_bytes": col([b_bytes(op) for op in ops]),
        "c_bytes": col([0.0 if op.name in _IN_KERNEL_OPS else float(op.c_elements) * act_bytes for op in ops]),
        "eltwise_flops": col([0.0 if op.is_gemm else op.flops for op in ops]),
    }
    assert tuple(arrays) == _ARRAY_KEYS
    for arr in arrays.values():
        arr.flags.writeable = False
    return arrays


# --------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelConfig:
    """Dimensions of a Llama-architecture decoder (HF ``config.json`` names).

    The architecture assumed: token embedding, ``num_hidden_layers`` pre-norm blocks of
    RMSNorm -> attention -> residual add -> RMSNorm -> MLP -> residual add, then a final
    RMSNorm and the LM head. Attention is grouped-query (RoPE, no biases; with per-head
    q/k RMSNorm when ``qk_norm``) or, with ``kv_lora_rank > 0``, multi-head latent
    attention (DeepSeek-V2/V3: queries and keys/values through low-rank latents, a KV
    cache of ``kv_lora_rank + qk_rope_head_dim`` per token and layer). The MLP is SwiGLU
    (gate, up, down): dense of ``intermediate_size`` in ``num_hidden_layers - moe_layers``
    layers, and in ``moe_layers`` layers a router over ``num_experts`` experts of
    ``moe_intermediate_size``, ``experts_per_token`` of them per token, plus shared
    experts of total width ``shared_intermediate_size`` that every token runs.

    Parameters
    ----------
    name : str
        Built-in name or the path of the config.json it was read from.
    hidden_size, num_hidden_layers, num_attention_heads, num_key_value_heads : int
    intermediate_size, vocab_size, head_dim : int
    tie_word_embeddings : bool
        True if the LM head reuses the embedding matrix (counted once in the weights).
    source : str
        Where the numbers come from.
    num_experts, experts_per_token, moe_intermediate_size, moe_layers : int
        Routed experts, top-k, expert width and MoE layer count (0: a dense model).
    shared_intermediate_size : int
        Width of the always-active shared experts of an MoE layer (0: none).
    q_lora_rank, kv_lora_rank, qk_nope_head_dim, qk_rope_head_dim, v_head_dim : int
        Multi-head latent attention (``kv_lora_rank = 0``: grouped-query attention;
        ``q_lora_rank = 0``: queries projected directly).
    qk_norm : bool
        Per-head RMSNorm on queries and keys (Qwen3).
    expert_shards : int
        Chips the routed experts are spread over (expert parallelism; 1 on one chip).
    """

    name: str
    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    num_key_value_heads: int
    intermediate_size: int
    vocab_size: int
    head_dim: int
    tie_word_embeddings: bool = False
    source: str = ""
    num_experts: int = 0
    experts_per_token: int = 0
    moe_intermediate_size: int = 0
    moe_layers: int = 0
    shared_intermediate_size: int = 0
    q_lora_rank: int = 0
    kv_lora_rank: int = 0
    qk_nope_head_dim: int = 0
    qk_rope_head_dim: int = 0
    v_head_dim: int = 0
    qk_norm: bool = False
    expert_shards: int = 1

    def __post_init__(self) -> None:
        int_keys = (
            "hidden_size num_hidden_layers num_attention_heads num_key_value_heads "
            "intermediate_size vocab_size head_dim expert_shards"
        ).split()
        for key in int_keys:
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise DseInputError(
                    f"model {self.name!r}: {key} must be a positive integer, got {value!r}"
                )
        for key in (
            "num_experts experts_per_token moe_intermediate_size moe_layers "
            "shared_intermediate_size q_lora_rank kv_lora_rank qk_nope_head_dim "
            "qk_rope_head_dim v_head_dim"
        ).split():
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise DseInputError(
                    f"model {self.name!r}: {key} must be a non-negative integer, got {value!r}"
                )
        if self.num_attention_heads % self.num_key_value_heads:
            raise DseInputError(
                f"model {self.name!r}: num_attention_heads ({self.num_attention_heads}) is not a "
                f"multiple of num_key_value_heads ({self.num_key_value_heads})"
            )
        if self.num_experts:
            if not 1 <= self.experts_per_token <= self.num_experts:
                raise DseInputError(
                    f"model {self.name!r}: experts per token ({self.experts_per_token}) must be "
                    f"from 1 to the number of experts ({self.num_experts})"
                )
            if not 1 <= self.moe_layers <= self.num_hidden_layers or self.moe_intermediate_size < 1:
                raise DseInputError(
                    f"model {self.name!r}: an MoE model needs 1 to {self.num_hidden_layers} MoE "
                    "layers and a positive moe_intermediate_size"
                )
        if self.kv_lora_rank and not (self.qk_nope_head_dim and self.qk_rope_head_dim and self.v_head_dim):
            raise DseInputError(
                f"model {self.name!r}: latent attention (kv_lora_rank) needs qk_nope_head_dim, "
                "qk_rope_head_dim and v_head_dim"
            )

    @property
    def is_moe(self) -> bool:
        return self.num_experts > 0

    @property
    def is_mla(self) -> bool:
        return self.kv_lora_rank > 0

    @property
    def dense_mlp_layers(self) -> int:
        """Layers with a dense MLP (all of them in a dense model)."""
        return self.num_hidden_layers - self.moe_layers

    @property
    def group_size(self) -> int:
        """Query heads sharing one KV head (GQA group)."""
        return self.num_attention_heads // self.num_key_value_heads

    @property
    def q_dim(self) -> int:
        return self.num_attention_heads * self.head_dim

    @property
    def kv_dim(self) -> int:
        return self.num_key_value_heads * self.head_dim

    @property
    def embedding_params(self) -> int:
        return self.vocab_size * self.hidden_size

    @property
    def lm_head_params(self) -> int:
        """LM-head parameters not shared with the embedding (0 when tied)."""
        return 0 if self.tie_word_embeddings else self.vocab_size * self.hidden_size

    @property
    def attention_params(self) -> int:
        """Projection weights of one layer's attention."""
        h, heads = self.hidden_size, self.num_attention_heads
        if not self.is_mla:
            return h * (self.q_dim + 2 * self.kv_dim) + self.q_dim * h
        qk = self.qk_nope_head_dim + self.qk_rope_head_dim
        q = self.q_lora_rank * (h + heads * qk) if self.q_lora_rank else h * heads * qk
        kv = h * (self.kv_lora_rank + self.qk_rope_head_dim) + self.kv_lora_rank * heads * (
            self.qk_nope_head_dim + self.v_head_dim
        )
        return q + kv + heads * self.v_head_dim * h

    @property
    def expert_params(self) -> int:
        """Weights of one routed expert (gate, up, down)."""
        return 3 * self.hidden_size * self.moe_intermediate_size

    @property
    def layer_gemm_params(self) -> int:
        """Projection weights of one dense layer: attention plus the dense MLP."""
        return self.attention_params + 3 * self.hidden_size * self.intermediate_size

    @property
    def moe_mlp_params(self) -> int:
        """Weights of one MoE layer's MLP: router, routed experts (this chip's share under
        expert parallelism) and shared experts."""
        h = self.hidden_size
        local = -(-self.num_experts // self.expert_shards)  # the experts this chip holds
        return h * self.num_experts + local * self.expert_params + 3 * h * self.shared_intermediate_size

    @property
    def norm_params(self) -> int:
        """RMSNorm gains: two per layer, the final norm, the latent norms of MLA and the
        per-head q/k norms."""
        per_layer = 2 * self.hidden_size + self.q_lora_rank + self.kv_lora_rank
        if self.qk_norm:
            per_layer += 2 * self.head_dim
        return self.num_hidden_layers * per_layer + self.hidden_size

    @property
    def num_params(self) -> int:
        """All unique parameters."""
        h = self.hidden_size
        return (
            self.num_hidden_layers * self.attention_params
            + self.dense_mlp_layers * 3 * h * self.intermediate_size
            + self.moe_layers * self.moe_mlp_params
            + self.norm_params
            + self.embedding_params
            + self.lm_head_params
        )

    @property
    def active_params(self) -> int:
        """Parameters one token runs through (the routed experts it picks, not all)."""
        local = -(-self.num_experts // self.expert_shards)
        idle = self.moe_layers * max(0, local - self.experts_per_token) * self.expert_params
        return self.num_params - idle

    def kv_bytes_per_token(self, bytes_per_element: float) -> float:
        """KV-cache bytes per token of one sequence over all layers [B]."""
        if self.is_mla:
            per_layer = self.kv_lora_rank + self.qk_rope_head_dim
        else:
            per_layer = 2 * self.kv_dim
        return self.num_hidden_layers * per_layer * bytes_per_element


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


_HF = "https://huggingface.co/meta-llama/{}/blob/main/config.json"

#: Built-in models. Dimensions from the published Hugging Face config.json files:
#: meta-llama/Meta-Llama-3-8B, meta-llama/Meta-Llama-3-70B, meta-llama/Llama-2-7b-hf,
#: meta-llama/Llama-2-13b-hf, deepseek-ai/DeepSeek-V3, Qwen/Qwen3-30B-A3B,
#: Qwen/Qwen3-235B-A22B, mistralai/Mixtral-8x7B-v0.1 (each ``source``).
BUILTIN_MODELS: Mapping[str, ModelConfig] = MappingProxyType(
    {
        "llama-3-8b": ModelConfig(
            "llama-3-8b",
            hidden_size=4096,
            num_hidden_layers=32,
            num_attention_heads=32,
            num_key_value_heads=8,
            intermediate_size=14336,
            vocab_size=128256,
            head_dim=128,
            tie_word_embeddings=False,
            source=_HF.format("Meta-Llama-3-8B"),
        ),
        "llama-3-70b": ModelConfig(
            "llama-3-70b",
            hidden_size=8192,
            num_hidden_layers=80,
            num_attention_heads=64,
            num_key_value_heads=8,
            intermediate_size=28672,
            vocab_size=128256,
            head_dim=128,
            tie_word_embeddings=False,
            source=_HF.format("Meta-Llama-3-70B"),
        ),
        "llama-2-7b": ModelConfig(
            "llama-2-7b",
            hidden_size=4096,
            num_hidden_layers=32,
            num_attention_heads=32,
            num_key_value_heads=32,
            intermediate_size=11008,
            vocab_size=32000,
            head_dim=128,
            tie_word_embeddings=False,
            source=_HF.format("Llama-2-7b-hf"),
        ),
        "llama-2-13b": ModelConfig(
            "llama-2-13b",
            hidden_size=5120,
            num_hidden_layers=40,
            num_attention_heads=40,
            num_key_value_heads=40,
            intermediate_size=13824,
            vocab_size=32000,
            head_dim=128,
            tie_word_embeddings=False,
            source=_HF.format("Llama-2-13b-hf"),
        ),
        # DeepSeek-V3 (= DeepSeek-R1's architecture): 61 layers, the first 3 dense
        # (first_k_dense_replace), 58 MoE layers of 256 routed experts (top 8) plus one
        # shared expert; multi-head latent attention. The multi-token-prediction module
        # (num_nextn_predict_layers = 1) is not part of the 671B served weights.
        "deepseek-v3": ModelConfig(
            "deepseek-v3",
            hidden_size=7168,
            num_hidden_layers=61,
            num_attention_heads=128,
            num_key_value_heads=128,
            intermediate_size=18432,
            vocab_size=129280,
            head_dim=192,
            tie_word_embeddings=False,
            source="https://huggingface.co/deepseek-ai/DeepSeek-V3/blob/main/config.json",
            num_experts=256,
            experts_per_token=8,
            moe_intermediate_size=2048,
            moe_layers=58,
            shared_intermediate_size=2048,
            q_lora_rank=1536,
            kv_lora_rank=512,
            qk_nope_head_dim=128,
            qk_rope_head_dim=64,
            v_head_dim=128,
        ),
        "qwen3-30b-a3b": ModelConfig(
            "qwen3-30b-a3b",
            hidden_size=2048,
            num_hidden_layers=48,
            num_attention_heads=32,
            num_key_value_heads=4,
            intermediate_size=6144,
            vocab_size=151936,
            head_dim=128,
            tie_word_embeddings=False,
            source="https://huggingface.co/Qwen/Qwen3-30B-A3B/blob/main/config.json",
            num_experts=128,
            experts_per_token=8,
            moe_intermediate_size=768,
            moe_layers=48,
            qk_norm=True,
        ),
        "qwen3-235b-a22b": ModelConfig(
            "qwen3-235b-a22b",
            hidden_size=4096,
            num_hidden_layers=94,
            num_attention_heads=64,
            num_key_value_heads=4,
            intermediate_size=12288,
            vocab_size=151936,
            head_dim=128,
            tie_word_embeddings=False,
            source="https://huggingface.co/Qwen/Qwen3-235B-A22B/blob/main/config.json",
            num_experts=128,
            experts_per_token=8,
            moe_intermediate_size=1536,
            moe_layers=94,
            qk_norm=True,
        ),
        # Mixtral's experts are intermediate_size wide; every layer is an MoE layer
        "mixtral-8x7b": ModelConfig(
            "mixtral-8x7b",
            hidden_size=4096,
            num_hidden_layers=32,
            num_attention_heads=32,
            num_key_value_heads=8,
            intermediate_size=14336,
            vocab_size=32000,
            head_dim=128,
            tie_word_embeddings=False,
            source="https://huggingface.co/mistralai/Mixtral-8x7B-v0.1/blob/main/config.json",
            num_experts=8,
            experts_per_token=2,
            moe_intermediate_size=14336,
            moe_layers=32,
        ),
    }
)

#: Other accepted spellings (lower case) of the built-in models.
MODEL_ALIASES: Mapping[str, str] = MappingProxyType(
    {
        "llama3-8b": "llama-3-8b",
        "llama-3-8b": "llama-3-8b",
        "meta-llama-3-8b": "llama-3-8b",
        "meta-llama/meta-llama-3-8b": "llama-3-8b",
        "llama3-70b": "llama-3-70b",
        "llama-3-70b": "llama-3-70b",
        "meta-llama-3-70b": "llama-3-70b",
        "meta-llama/meta-llama-3-70b": "llama-3-70b",
        "llama2-7b": "llama-2-7b",
        "llama-2-7b": "llama-2-7b",
        "llama-2-7b-hf": "llama-2-7b",
        "meta-llama/llama-2-7b": "llama-2-7b",
        "meta-llama/llama-2-7b-hf": "llama-2-7b",
        "llama2-13b": "llama-2-13b",
        "llama-2-13b": "llama-2-13b",
        "llama-2-13b-hf": "llama-2-13b",
        "meta-llama/llama-2-13b-hf": "llama-2-13b",
        "deepseek-v3": "deepseek-v3",
        "deepseek-r1": "deepseek-v3",
        "deepseek-ai/deepseek-v3": "deepseek-v3",
        "deepseek-ai/deepseek-r1": "deepseek-v3",
        "qwen3-30b-a3b": "qwen3-30b-a3b",
        "qwen/qwen3-30b-a3b": "qwen3-30b-a3b",
        "qwen3-235b-a22b": "qwen3-235b-a22b",
        "qwen/qwen3-235b-a22b": "qwen3-235b-a22b",
        "mixtral-8x7b": "mixtral-8x7b",
        "mixtral-8x7b-v0.1": "mixtral-8x7b",
        "mistralai/mixtral-8x7b-v0.1": "mixtral-8x7b",
    }
)

_REQUIRED_HF_KEYS = (
    "hidden_size",
    "num_hidden_layers",
    "num_attention_heads",
    "intermediate_size",
    "vocab_size",
)
_MOE_KEYS = ("num_local_experts", "num_experts", "n_routed_experts")


def load_hf_config(path: str | os.PathLike[str]) -> ModelConfig:
    """Read a Hugging Face ``config.json`` of a Llama-architecture model (dense or MoE,
    grouped-query or latent attention).

    Parameters
    ----------
    path : str or path-like
        The config.json, or a directory holding one (a downloaded model snapshot).

    Returns
    -------
    ModelConfig
        Named by the absolute path of the file. ``num_key_value_heads`` defaults to
        ``num_attention_heads``, ``head_dim`` to ``hidden_size / num_attention_heads`` and
        ``tie_word_embeddings`` to false, as in ``transformers.LlamaConfig``.

    Raises
    ------
    DseInputError
        Unreadable or malformed file, a missing required key, or a value that is not a
        positive integer.
    """
    file = Path(path).expanduser()
    if file.is_dir():
        file = file / "config.json"
    file = file.absolute()
    where = f"config.json {str(file)!r}"
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise DseInputError(f"cannot read {where}: {_one_line(reason)}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DseInputError(
            f"malformed {where}: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except (ValueError, RecursionError) as exc:
        raise DseInputError(f"malformed {where}: {_one_line(str(exc))}") from None
    if not isinstance(data, dict):
        raise DseInputError(f"malformed {where}: expected a JSON object at the top level")
    for key in _REQUIRED_HF_KEYS:
        if key not in data or data[key] is None:
            raise DseInputError(f"{where} lacks required key {key!r}")
    def positive_int(key: str) -> int:
        value = data[key]
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= _MAX_INT:
            raise DseInputError(f"{where}: {key!r} must be a positive integer, got {_short(value)}")
        return value

    hidden = positive_int("hidden_size")
    heads = positive_int("num_attention_heads")
    kv_heads = (
        positive_int("num_key_value_heads")
        if data.get("num_key_value_heads") is not None
        else heads
    )
    if data.get("head_dim") is not None:
        head_dim = positive_int("head_dim")
    elif hidden % heads == 0:
        head_dim = hidden // heads
    else:
        raise DseInputError(
            f"{where}: hidden_size ({hidden}) is not a multiple of num_attention_heads ({heads}) "
            "and there is no 'head_dim'"
        )
    if heads % kv_heads:
        raise DseInputError(
            f"{where}: num_attention_heads ({heads}) is not a multiple of num_key_value_heads ({kv_heads})"
        )
    moe = _moe_fields(data, positive_int, where)
    mla = _mla_fields(data, positive_int)
    if mla:  # latent attention: the query/key head is the no-RoPE and RoPE parts
        head_dim = mla["qk_nope_head_dim"] + mla["qk_rope_head_dim"]
    tied = data.get("tie_word_embeddings", False)
    if tied is None:
        tied = False
    if not isinstance(tied, bool):
        raise DseInputError(
            f"{where}: 'tie_word_embeddings' must be true or false, got {_short(tied)}"
        )
    return ModelConfig(
        name=str(file),
        hidden_size=hidden,
        num_hidden_layers=positive_int("num_hidden_layers"),
        num_attention_heads=heads,
        num_key_value_heads=kv_heads,
        intermediate_size=positive_int("intermediate_size"),
        vocab_size=positive_int("vocab_size"),
        head_dim=head_dim,
        tie_word_embeddings=tied,
        source=str(file),
        qk_norm=str(data.get("model_type", "")).lower().startswith("qwen3"),
        **moe,
        **mla,
    )


def _moe_fields(data: dict[str, Any], positive_int: Any, where: str) -> dict[str, int]:
    """The mixture-of-experts fields of a config.json (empty for a dense model).

    Expert count: ``n_routed_experts`` (DeepSeek), ``num_experts`` (Qwen-MoE) or
    ``num_local_experts`` (Mixtral); top-k ``num_experts_per_tok``; expert width
    ``moe_intermediate_size`` (else ``intermediate_size``, as Mixtral). MoE layers:
    DeepSeek's layers from ``first_k_dense_replace`` every ``moe_layer_freq``, Qwen's
    every ``decoder_sparse_step`` outside ``mlp_only_layers``, else all. Shared experts:
    ``n_shared_experts`` x the expert width, or ``shared_expert_intermediate_size``.
    """
    key = next((k for k in _MOE_KEYS if isinstance(data.get(k), int) and data.get(k) > 1), None)
    if key is None:
        return {}
    experts = positive_int(key)
    if data.get("num_experts_per_tok") is None:
        raise DseInputError(f"{where} describes a mixture-of-experts model but lacks 'num_experts_per_tok'")
    top_k = positive_int("num_experts_per_tok")
    width_key = "moe_intermediate_size" if data.get("moe_intermediate_size") is not None else "intermediate_size"
    width = positive_int(width_key)
    layers = positive_int("num_hidden_layers")
    if "n_routed_experts" in data:  # DeepSeek
        first = int(data.get("first_k_dense_replace") or 0)
        freq = int(data.get("moe_layer_freq") or 1)
        moe_layers = sum(1 for i in range(layers) if i >= first and i % freq == 0)
    else:  # Qwen-MoE, Mixtral
        step = int(data.get("decoder_sparse_step") or 1)
        dense = set(data.get("mlp_only_layers") or [])
        moe_layers = sum(1 for i in range(layers) if i not in dense and (i + 1) % step == 0)
    shared = int(data.get("n_shared_experts") or 0) * width
    if data.get("shared_expert_intermediate_size"):
        shared = positive_int("shared_expert_intermediate_size")
    if moe_layers < 1:
        raise DseInputError(f"{where}: the layer settings leave no mixture-of-experts layer")
    return dict(
        num_experts=experts, experts_per_token=top_k, moe_intermediate_size=width,
        moe_layers=moe_layers, shared_intermediate_size=shared,
    )  # fmt: skip


def _mla_fields(data: dict[str, Any], positive_int: Any) -> dict[str, int]:
    """Multi-head latent attention fields (DeepSeek-V2/V3) of a config.json, or empty."""
    if not data.get("kv_lora_rank"):
        return {}
    return dict(
        q_lora_rank=positive_int("q_lora_rank") if data.get("q_lora_rank") else 0,
        kv_lora_rank=positive_int("kv_lora_rank"),
        qk_nope_head_dim=positive_int("qk_nope_head_dim"),
        qk_rope_head_dim=positive_int("qk_rope_head_dim"),
        v_head_dim=positive_int("v_head_dim"),
    )


def resolve_model(model: str | os.PathLike[str] | ModelConfig) -> ModelConfig:
    """Return the :class:`ModelConfig` for a built-in name, alias or config.json path."""
    if isinstance(model, ModelConfig):
        return model
    text = str(model).strip()
    canonical = MODEL_ALIASES.get(text.lower())
    if canonical is not None:
        return BUILTIN_MODELS[canonical]
    if text and Path(text).expanduser().exists():
        return load_hf_config(text)
    raise DseInputError(
        f"unknown model {text!r}{close_match_hint(text, MODEL_ALIASES)}: neither a "
        f"built-in model ({', '.join(BUILTIN_MODELS)}) nor an existing path to a Hugging Face "
        "config.json"
    )


# --------------------------------------------------------------------------------------
# Workload builders
# --------------------------------------------------------------------------------------


def _check_dtype(dtype: str) -> str:
    name = str(dtype).strip().lower()
    if name not in BYTES_PER_ELEMENT:
        raise DseInputError(
            f"unknown dtype {str(dtype).strip()!r}{close_match_hint(name, BYTES_PER_ELEMENT)}; "
            f"choose {', '.join(BYTES_PER_ELEMENT)}"
        )
    return name


def _check_count(what: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise DseInputError(f"{what} must be a positive integer, got {_short(value)}")
    if not 1 <= value <= _MAX_INT:
        raise DseInputError(f"{what} must be an integer from 1 to 2**53, got {int(value)}")
    return int(value)


def gemm_workload(m: int, n: int, k: int, dtype: str = DEFAULT_DTYPE) -> Workload:
    """A single GEMM ``C[M, N] = A[M, K] @ B[K, N]``, B read like a weight matrix.

    ``weight_bytes`` is the size of B; one step is one GEMM.
    """
    m, n, k = (_check_count(f"gemm {d}", v) for d, v in zip("MNK", (m, n, k), strict=True))
    dtype = _check_dtype(dtype)
    nbytes = BYTES_PER_ELEMENT[dtype]
    return Workload(
        spec=f"gemm:{m},{n},{k}:dtype={dtype}",
        kind="gemm",
        model=None,
        dtype=dtype,
        bytes_per_element=nbytes,
        batch=1,
        seq_len=0,
        items_per_step=1.0,
        item_unit="gemm",
        weight_bytes=float(k * n * nbytes),
        kv_cache_bytes=0.0,
        ops=(_gemm("gemm", m, n, k),),
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


# ResNet-50 stages (He et al. 2016, table 1): (stage, blocks, bottleneck width, stride).
_RESNET50_STAGES = ((2, 3, 64, 1), (3, 4, 128, 2), (4, 6, 256, 2), (5, 3, 512, 2))
_RESNET50_CLASSES = 1000


def _resnet50_ops(batch: int) -> tuple[Op, ...]:
    """ResNet-50 v1.5 at 224 x 224 as im2col GEMMs and element-wise passes.

    Every conv is a GEMM with ``m = batch * H_out * W_out``, ``n = C_out``,
    ``k = C_in * kh * kw``. BatchNorm is folded into the conv weights and a per-channel
    bias; each conv followed by ReLU gets a ``*_relu`` pass (bias add + ReLU), and each
    block ends with ``*_add_relu`` (bias add, residual add, ReLU; the projection
    shortcut's bias merges into the same add). The FC bias add is in the FC epilogue
    and not counted. Blocks 2..n of a stage are identical and listed once with
    ``count = n - 1`` (named e.g. ``conv3_2-4a``).
    """
    ops: list[Op] = []

    def conv(
        name: str, h_out: int, c_in: int, c_out: int, kernel: int, count: int = 1, h_in: int | None = None
    ) -> None:
        # implicit GEMM: A is the input feature map (batch x h_in^2 x c_in), not im2col's
        # m x k matrix, which cuDNN/TensorRT-style kernels build in on-chip tiles
        h_in = h_out if h_in is None else h_in
        op = _gemm(name, batch * h_out * h_out, c_out, c_in * kernel * kernel, count=count)
        ops.append(dataclasses.replace(op, a_read_elements=batch * h_in * h_in * c_in))

    def relu(name: str, h: int, c: int, count: int = 1) -> None:
        ops.append(_eltwise(name, batch * c * h * h, BIAS_RELU_FLOPS_PER_ELEMENT, count=count))

    def add_relu(name: str, h: int, c: int, count: int = 1) -> None:
        ops.append(
            _eltwise(name, batch * c * h * h, ADD_RELU_FLOPS_PER_ELEMENT, count=count, inputs=2)
        )

    conv("conv1", 112, 3, 64, 7, h_in=224)  # 7x7/2, 224 -> 112
    relu("conv1_relu", 112, 64)
    # 3x3/2 max-pool, 112 -> 56: reads the 4x larger input once (window overlap on chip).
    ops.append(_eltwise("maxpool", batch * 64 * 56 * 56, MAXPOOL_FLOPS_PER_ELEMENT, inputs=4))

    c_in, h_in = 64, 56
    for stage, blocks, width, stride in _RESNET50_STAGES:
        h = h_in // stride
        c_out = 4 * width
        first = f"conv{stage}_1"
        conv(f"{first}a", h_in, c_in, width, 1)
        relu(f"{first}a_relu", h_in, width)
        conv(f"{first}b", h, width, width, 3, h_in=h_in)  # v1.5: the stride is on the 3x3 conv
        relu(f"{first}b_relu", h, width)
        conv(f"{first}c", h, width, c_out, 1)
        conv(f"{first}proj", h, c_in, c_out, 1, h_in=h_in)  # 1x1/stride projection shortcut
        add_relu(f"{first}_add_relu", h, c_out)
        rest, n = f"conv{stage}_2-{blocks}", blocks - 1
        conv(f"{rest}a", h, c_out, width, 1, n)
        relu(f"{rest}a_relu", h, width, n)
        conv(f"{rest}b", h, width, width, 3, n)
        relu(f"{rest}b_relu", h, width, n)
        conv(f"{rest}c", h, width, c_out, 1, n)
        add_relu(f"{rest}_add_relu", h, c_out, n)
        c_in, h_in = c_out, h

    # Global 7x7 average pool: reads 49 x its output.
    ops.append(_eltwise("avgpool", batch * c_in, AVGPOOL_FLOPS_PER_ELEMENT, inputs=49))
    ops.append(_gemm("fc", batch, _RESNET50_CLASSES, c_in))
    return tuple(ops)


def _resnet50_bias_params() -> int:
    """Per-channel biases left by folding BatchNorm into the convs, plus the FC bias."""
    channels = 64  # stem
    for _, blocks, width, _ in _RESNET50_STAGES:
        channels += blocks * (width + width + 4 * width) + 4 * width  # + projection
    return channels + _RESNET50_CLASSES


def resnet50_workload(batch: int, dtype: str = DEFAULT_DTYPE) -> Workload:
    """ResNet-50 v1.5 (torchvision layout) inference on ``batch`` 224 x 224 images.

    ``weight_bytes`` counts conv and FC weights plus the FC bias and the per-channel
    biases of the folded BatchNorms (25,530,472 parameters: torchvision's 25,557,032
    minus the 26,560 BN scales that folding absorbs into the conv weights).

    References
    ----------
    He, Zhang, Ren, Sun, "Deep Residual Learning for Image Recognition", CVPR 2016.
    torchvision.models.resnet50 (ResNet50_Weights.IMAGENET1K_V1: 25,557,032 params,
    4.09 GFLOPS counted as multiply-adds),
    https://pytorch.org/vision/stable/models/generated/torchvision.models.resnet50.html
    """
    batch = _check_count("batch", batch)
    dtype = _check_dtype(dtype)
    nbytes = BYTES_PER_ELEMENT[dtype]
    ops = _resnet50_ops(batch)
    weights = sum(op.b_elements * op.count for op in ops if op.is_gemm)
    return Workload(
        spec=f"resnet50:batch={batch}:dtype={dtype}",
        kind="cnn",
        model="resnet50",
        dtype=dtype,
        bytes_per_element=nbytes,
        batch=batch,
        seq_len=0,
        items_per_step=float(batch),
        item_unit="image",
        weight_bytes=float((weights + _resnet50_bias_params()) * nbytes),
        kv_cache_bytes=0.0,
        ops=ops,
    )


# --------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------

_OPTIONS = {
    "llm-decode": ("batch", "context"),
    "llm-prefill": ("batch", "seq"),
    "llm-serve": ("prompt", "output", "ttft_ms", "tpot_ms"),
    "resnet50": ("batch",),
    "gemm": (),
}
_EXAMPLES = {
    "gemm": "gemm:4096,4096,4096",
    "llm-decode": "llm-decode:llama-3-8b:batch=1,context=1024",
    "llm-prefill": "llm-prefill:llama-3-8b:batch=1,seq=2048",
    "llm-serve": "llm-serve:llama-3-8b:prompt=1024,output=256,ttft_ms=500,tpot_ms=40",
    "resnet50": "resnet50:batch=8",
}
_INT_RE = re.compile(r"\+?[0-9]+")
_LLM_PRECISION_OPTIONS = ("weights", "kv")


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _parse_int(what: str, text: str) -> int:
    """Parse a positive decimal integer; ``what`` names it in the error."""
    if not _INT_RE.fullmatch(text):
        raise DseInputError(f"{what} must be a positive integer, got {_short(text)}")
    value = int(text)
    if not 1 <= value <= _MAX_INT:
        raise DseInputError(f"{what} must be an integer from 1 to 2**53, got {value}")
    return value


def _parse_ms(what: str, text: str) -> float:
    """Parse a positive, finite number of milliseconds; ``what`` names it in the error."""
    try:
        value = float(text)
    except ValueError:
        raise DseInputError(f"{what} must be a positive number of milliseconds, got {_short(text)}") from None
    if not math.isfinite(value) or value <= 0:
        raise DseInputError(f"{what} must be a positive number of milliseconds, got {_short(text)}")
    return value


def _parse_options(kind: str, items: list[str]) -> dict[str, str]:
    """``key=value`` items -> dict; keys checked against the kind's options plus dtype
    (and, for LLM kinds, the weight and KV-cache precisions)."""
    allowed = (*_OPTIONS[kind], "dtype", *(_LLM_PRECISION_OPTIONS if kind.startswith("llm") else ()))
    if kind == "llm-serve":
        allowed = (*allowed, "chunk")
    options: dict[str, str] = {}
    for item in items:
        item = item.strip()
        if not item:
            continue
        key, sep, value = item.partition("=")
        key, value = key.strip().lower(), value.strip()
        if not sep:
            raise DseInputError(
                f"{kind} option {_short(item)} is not key=value (e.g. {_EXAMPLES[kind]})"
            )
        if key not in allowed:
            raise DseInputError(
                f"unknown {kind} option {key!r}{close_match_hint(key, allowed)}; "
                f"options: {', '.join(allowed)}"
            )
        if key in options:
            raise DseInputError(f"{kind} option {key!r} is given twice")
        if not value:
            raise DseInputError(f"{kind} option {key!r} has no value")
        options[key] = value
    for key in _OPTIONS[kind]:
        if key not in options:
            raise DseInputError(f"{kind} needs option {key!r} (e.g. {_EXAMPLES[kind]})")
    return options


def parse_workload(text: str) -> Workload:
    """Build a :class:`Workload` from a workload string.

    Parameters
    ----------
    text : str
        ``gemm:M,N,K``, ``llm-decode:MODEL:batch=B,context=L``,
        ``llm-prefill:MODEL:batch=B,seq=S`` or ``resnet50:batch=B``, optionally followed
        by ``:dtype=bf16|fp8|int8`` (or with ``dtype=`` among the comma options); LLM
        kinds also take ``weights=bf16|fp8|int8|int4`` and ``kv=bf16|fp8|int8``.

    Returns
    -------
    Workload
        ``spec`` is the normalised string (canonical model name, dtype always written);
        parsing it again gives an equal workload.

    Raises
    ------
    DseInputError
        One line naming what is wrong: kind, model, option, number or dtype.
    """
    if not isinstance(text, str):
        raise DseInputError(f"workload must be a string, got {type(text).__name__}")
    raw = text.strip()
    if not raw:
        raise DseInputError(
            "empty workload string (e.g. llm-decode:llama-3-8b:batch=1,context=1024)"
        )
    head, _, rest = raw.partition(":")
    kind = head.strip().lower()
    kind = _KIND_ALIASES.get(kind, kind)
    if kind not in WORKLOAD_KINDS:
        raise DseInputError(
            f"unknown workload kind {_short(head.strip())}{close_match_hint(kind, WORKLOAD_KINDS)}; "
            f"kinds: {', '.join(WORKLOAD_KINDS)}"
        )
    segments = [s.strip() for s in rest.split(":")] if rest.strip() else []

    if kind == "gemm":
        if not segments:
            raise DseInputError(f"gemm needs its dimensions, e.g. {_EXAMPLES['gemm']}")
        items = (
            re.split(r"[,xX]", segments[0]) if "=" not in segments[0] else segments[0].split(",")
        )
        dims = [s.strip() for s in items if "=" not in s]
        option_items = [s for s in items if "=" in s] + [
            i for s in segments[1:] for i in s.split(",")
        ]
        if len(dims) != 3 or not all(dims):
            raise DseInputError(
                f"gemm needs three dimensions M,N,K, got {_short(segments[0])} (e.g. {_EXAMPLES['gemm']})"
            )
        m, n, k = (_parse_int(f"gemm dimension {d}", v) for d, v in zip("MNK", dims, strict=True))
        options = _parse_options(kind, option_items)
        return gemm_workload(m, n, k, options.get("dtype", DEFAULT_DTYPE))

    if kind == "resnet50":
        options = _parse_options(kind, [i for s in segments for i in s.split(",")])
        return resnet50_workload(
            _parse_int("resnet50 option 'batch'", options["batch"]),
            options.get("dtype", DEFAULT_DTYPE),
        )

    # LLM kinds: the model is every leading segment without '=' (so a path may hold ':').
    split = next((i for i, s in enumerate(segments) if "=" in s), len(segments))
    model_text = ":".join(segments[:split]).strip()
    if not model_text:
        raise DseInputError(f"{kind} needs a model, e.g. {_EXAMPLES[kind]}")
    options = _parse_options(kind, [i for s in segments[split:] for i in s.split(",")])
    dtype = options.get("dtype", DEFAULT_DTYPE)
    precision = {k: options[k] for k in _LLM_PRECISION_OPTIONS if k in options}
    if kind == "llm-serve":
        ints = {k: _parse_int(f"{kind} option {k!r}", options[k]) for k in ("prompt", "output")}
        ms = {k: _parse_ms(f"{kind} option {k!r}", options[k]) for k in ("ttft_ms", "tpot_ms")}
        chunk = _parse_int(f"{kind} option 'chunk'", options["chunk"]) if "chunk" in options else None
        return llm_serve_workload(model_text, **ints, **ms, chunk=chunk, dtype=dtype, **precision)
    batch = _parse_int(f"{kind} option 'batch'", options["batch"])
    if kind == "llm-decode":
        context = _parse_int(f"{kind} option 'context'", options["context"])
        return llm_decode_workload(model_text, batch, context, dtype, **precision)
    seq = _parse_int(f"{kind} option 'seq'", options["seq"])
    return llm_prefill_workload(model_text, batch, seq, dtype, **precision)
