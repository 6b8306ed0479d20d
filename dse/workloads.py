"""Workloads as lists of operations: GEMM, LLM decode and prefill, ResNet-50.

A workload is one *step* of inference (one decode step, one prefill pass, one batch of
images, one GEMM) written as a tuple of :class:`Op`. Each op is a GEMM or an
element-wise pass with its shape, how many independent instances run side by side
(``batch``) and how many times it occurs in the step (``count``). Ops with identical
shapes are listed once with ``count > 1`` (e.g. one ``qkv_proj`` with ``count =
n_layers``), so the op list stays short and the roofline, which loops over ops and
vectorises over designs, stays fast.

Workload strings (the public contract of DESIGN.md section 4)::

    gemm:M,N,K
    llm-decode:MODEL:batch=B,context=L
    llm-prefill:MODEL:batch=B,seq=S
    resnet50:batch=B

with an optional trailing ``:dtype=bf16|fp8|int8`` segment (or ``dtype=`` as one more
comma option); bf16 is the default. Kinds, model names, option names and dtypes are
case-insensitive and whitespace around the parts is ignored. MODEL is a built-in name
(see :data:`BUILTIN_MODELS` and :data:`MODEL_ALIASES`) or a path to a Hugging Face
``config.json`` (or to a directory holding one) of a dense Llama-architecture model.

Conventions
-----------
* A GEMM op computes ``C[m, n] = A[m, k] @ B[k, n]`` in each of ``batch`` instances.
  ``b_operand`` says what B is: ``"weight"`` (model weights; shared by all instances, so
  read once per occurrence), ``"kv"`` (the KV cache, read from memory) or ``"act"``
  (an activation produced on chip in the same step).
* An element-wise op processes ``m`` output elements per instance (``n = k = 1``) and
  reads ``eltwise_inputs`` tensors of ``m`` elements each.
* FLOPs count a multiply-add as 2. Per occurrence: GEMM ``2*m*n*k*batch*flop_fraction``,
  element-wise ``m*batch*eltwise_flops_per_element*flop_fraction`` (``flop_fraction``
  is 1 for every element-wise op except the causal prefill softmax).
* Every tensor is stored at the workload dtype (weights, activations and KV cache alike).
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
from typing import Any

import numpy as np

from dse.errors import DseInputError, close_match_hint
from dse.units import BYTES_PER_ELEMENT

__all__ = [
    "BUILTIN_MODELS",
    "MODEL_ALIASES",
    "WORKLOAD_KINDS",
    "ModelConfig",
    "Op",
    "Workload",
    "gemm_workload",
    "llm_decode_workload",
    "llm_prefill_workload",
    "load_hf_config",
    "parse_workload",
    "resnet50_workload",
    "resolve_model",
]

DEFAULT_DTYPE = "bf16"

#: Workload kinds accepted at the start of a workload string.
WORKLOAD_KINDS = ("gemm", "llm-decode", "llm-prefill", "resnet50")
_KIND_ALIASES = {"resnet-50": "resnet50", "resnet_50": "resnet50"}

# Largest integer a float64 holds exactly; shapes above it are rejected.
_MAX_INT = 2**53

_OP_KINDS = ("gemm", "eltwise")
_B_OPERANDS = ("weight", "kv", "act")

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
        What the B (``k x n``) operand is: ``"weight"``, ``"kv"`` (KV cache read from
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
        """Elements of the B operand per occurrence (weights are shared by the instances)."""
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
        ``"bf16"``, ``"fp8"`` or ``"int8"``: the storage type of every tensor.
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

    def __post_init__(self) -> None:
        object.__setattr__(self, "ops", tuple(self.ops))
        # Cached in the instance dict, outside the dataclass fields (so not in repr, eq,
        # hash or fields()); the arrays are read-only.
        object.__setattr__(self, "_arrays", _op_arrays(self.ops, self.bytes_per_element))

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
    def num_params(self) -> float:
        """Model parameters (``weight_bytes / bytes_per_element``)."""
        return self.weight_bytes / self.bytes_per_element


def _op_arrays(ops: tuple[Op, ...], bytes_per_element: int) -> dict[str, np.ndarray]:
    def col(values: list[Any], dtype: type = np.float64) -> np.ndarray:
        return np.array(values, dtype=dtype).reshape(len(ops))

    arrays = {
        "m": col([op.m for op in ops]),
        "n": col([op.n for op in ops]),
        "k": col([op.k for op in ops]),
        "batch": col([op.batch for op in ops]),
        "count": col([op.count for op in ops]),
        "flop_fraction": col([op.flop_fraction for op in ops]),
        "is_gemm": col([op.is_gemm for op in ops], bool),
        "b_is_weight": col([op.is_gemm and op.b_operand == "weight" for op in ops], bool),
        "b_is_kv": col([op.is_gemm and op.b_operand == "kv" for op in ops], bool),
        "flops": col([op.flops for op in ops]),
        "a_bytes": col([float(op.a_elements) * bytes_per_element for op in ops]),
        "b_bytes": col([float(op.b_elements) * bytes_per_element for op in ops]),
        "c_bytes": col([float(op.c_elements) * bytes_per_element for op in ops]),
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
    """Dimensions of a dense Llama-architecture decoder (HF ``config.json`` names).

    The architecture assumed: token embedding, ``num_hidden_layers`` pre-norm blocks of
    RMSNorm -> grouped-query attention (RoPE, no biases) -> residual add -> RMSNorm ->
    SwiGLU MLP (gate, up, down) -> residual add, then a final RMSNorm and the LM head.

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

    def __post_init__(self) -> None:
        int_keys = (
            "hidden_size num_hidden_layers num_attention_heads num_key_value_heads "
            "intermediate_size vocab_size head_dim"
        ).split()
        for key in int_keys:
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise DseInputError(
                    f"model {self.name!r}: {key} must be a positive integer, got {value!r}"
                )
        if self.num_attention_heads % self.num_key_value_heads:
            raise DseInputError(
                f"model {self.name!r}: num_attention_heads ({self.num_attention_heads}) is not a "
                f"multiple of num_key_value_heads ({self.num_key_value_heads})"
            )

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
    def layer_gemm_params(self) -> int:
        """Projection weights of one layer: q, k, v, o, gate, up, down."""
        h = self.hidden_size
        return h * (self.q_dim + 2 * self.kv_dim) + self.q_dim * h + 3 * h * self.intermediate_size

    @property
    def norm_params(self) -> int:
        """RMSNorm gains: two per layer plus the final norm."""
        return (2 * self.num_hidden_layers + 1) * self.hidden_size

    @property
    def num_params(self) -> int:
        """All unique parameters."""
        return (
            self.num_hidden_layers * self.layer_gemm_params
            + self.norm_params
            + self.embedding_params
            + self.lm_head_params
        )

    def kv_bytes_per_token(self, bytes_per_element: int) -> int:
        """KV-cache bytes per token of one sequence over all layers [B]."""
        return 2 * self.num_hidden_layers * self.kv_dim * bytes_per_element


_HF = "https://huggingface.co/meta-llama/{}/blob/main/config.json"

#: Built-in models. Dimensions from the published Hugging Face config.json files:
#: meta-llama/Meta-Llama-3-8B, meta-llama/Meta-Llama-3-70B, meta-llama/Llama-2-7b-hf,
#: meta-llama/Llama-2-13b-hf.
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
    """Read a Hugging Face ``config.json`` of a dense Llama-architecture model.

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
        Unreadable or malformed file, a missing required key, a value that is not a
        positive integer, or a mixture-of-experts config (not modelled).
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
    for key in _MOE_KEYS:
        experts = data.get(key)
        if isinstance(experts, int) and not isinstance(experts, bool) and experts > 1:
            raise DseInputError(
                f"{where} describes a mixture-of-experts model ({key} = {experts}); "
                "only dense models are supported"
            )

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


def _llm_ops(
    cfg: ModelConfig, batch: int, q_tokens: int, kv_len: int, *, decode: bool
) -> tuple[Op, ...]:
    """Op list of one LLM step: ``q_tokens`` new tokens per sequence attend to ``kv_len``."""
    layers = cfg.num_hidden_layers
    h = cfg.hidden_size
    tokens = batch * q_tokens
    attn_instances = batch * cfg.num_key_value_heads
    if decode:
        # The single query of each sequence reads the whole KV cache (no masking needed).
        attn_b, causal = "kv", 1.0
    else:
        # K and V are made on chip in this pass; the causal mask needs (S+1)/(2S) of the
        # dense S x S score and value products (S (S+1) / 2 of S^2 pairs).
        attn_b, causal = "act", (kv_len + 1) / (2 * kv_len)
    score_elements = batch * cfg.num_attention_heads * q_tokens * kv_len
    return (
        # Two pre-norms per layer (attention and MLP input).
        _eltwise("rmsnorm", tokens * h, RMSNORM_FLOPS_PER_ELEMENT, count=2 * layers),
        # RoPE is applied in the epilogue of qkv_proj and its FLOPs are not counted
        # (~3 per q/k element, < 0.01 % of the step).
        _gemm("qkv_proj", tokens, cfg.q_dim + 2 * cfg.kv_dim, h, count=layers),
        # Per (sequence, KV head): the group's queries against the shared keys. The
        # 1/sqrt(head_dim) scale is folded into the softmax subtraction.
        _gemm(
            "attn_score",
            cfg.group_size * q_tokens,
            kv_len,
            cfg.head_dim,
            batch=attn_instances,
            count=layers,
            b_operand=attn_b,
            flop_fraction=causal,
        ),
        _eltwise(
            "softmax", score_elements, SOFTMAX_FLOPS_PER_ELEMENT, count=layers, flop_fraction=causal
        ),
        _gemm(
            "attn_value",
            cfg.group_size * q_tokens,
            cfg.head_dim,
            kv_len,
            batch=attn_instances,
            count=layers,
            b_operand=attn_b,
            flop_fraction=causal,
        ),
        _gemm("o_proj", tokens, h, cfg.q_dim, count=layers),
        # Two residual adds per layer (after attention and after the MLP).
        _eltwise(
            "residual_add", tokens * h, RESIDUAL_ADD_FLOPS_PER_ELEMENT, count=2 * layers, inputs=2
        ),
        _gemm("mlp_up_gate", tokens, 2 * cfg.intermediate_size, h, count=layers),
        # silu(gate) * up: reads gate and up, writes one tensor.
        _eltwise(
            "swiglu",
            tokens * cfg.intermediate_size,
            SWIGLU_FLOPS_PER_ELEMENT,
            count=layers,
            inputs=2,
        ),
        _gemm("mlp_down", tokens, h, cfg.intermediate_size, count=layers),
        # Only the last position of each sequence is normalised and projected to logits.
        _eltwise("final_rmsnorm", batch * h, RMSNORM_FLOPS_PER_ELEMENT),
        _gemm("lm_head", batch, cfg.vocab_size, h),
    )


def llm_decode_workload(
    model: str | os.PathLike[str] | ModelConfig,
    batch: int,
    context: int,
    dtype: str = DEFAULT_DTYPE,
) -> Workload:
    """One decode step: each of ``batch`` sequences with ``context`` cached tokens makes one token.

    Attention runs over ``context + 1`` keys (the cache plus the new token). The new
    token's K/V write (``2 * n_layers * kv_heads * head_dim`` elements per sequence) is
    not an op; it is included only in ``kv_cache_bytes``, which counts ``context + 1``
    tokens. The embedding lookup (``batch`` rows) is not an op either.
    """
    cfg = resolve_model(model)
    batch = _check_count("batch", batch)
    context = _check_count("context", context)
    dtype = _check_dtype(dtype)
    nbytes = BYTES_PER_ELEMENT[dtype]
    return Workload(
        spec=f"llm-decode:{cfg.name}:batch={batch},context={context}:dtype={dtype}",
        kind="llm-decode",
        model=cfg.name,
        dtype=dtype,
        bytes_per_element=nbytes,
        batch=batch,
        seq_len=context,
        items_per_step=float(batch),
        item_unit="token",
        weight_bytes=float(cfg.num_params * nbytes),
        kv_cache_bytes=float(batch * (context + 1) * cfg.kv_bytes_per_token(nbytes)),
        ops=_llm_ops(cfg, batch, 1, context + 1, decode=True),
        model_config=cfg,
    )


def llm_prefill_workload(
    model: str | os.PathLike[str] | ModelConfig, batch: int, seq: int, dtype: str = DEFAULT_DTYPE
) -> Workload:
    """One prefill pass over ``seq`` prompt tokens for each of ``batch`` sequences.

    Causal attention over the prompt (``flop_fraction = (seq + 1) / (2 seq)``); the LM
    head runs only for the last token of each sequence (the one that yields the first
    generated token). The score matrices are separate ops (an unfused implementation);
    ``kv_cache_bytes`` is the cache written for ``seq`` tokens.
    """
    cfg = resolve_model(model)
    batch = _check_count("batch", batch)
    seq = _check_count("seq", seq)
    dtype = _check_dtype(dtype)
    nbytes = BYTES_PER_ELEMENT[dtype]
    return Workload(
        spec=f"llm-prefill:{cfg.name}:batch={batch},seq={seq}:dtype={dtype}",
        kind="llm-prefill",
        model=cfg.name,
        dtype=dtype,
        bytes_per_element=nbytes,
        batch=batch,
        seq_len=seq,
        items_per_step=float(batch * seq),
        item_unit="token",
        weight_bytes=float(cfg.num_params * nbytes),
        kv_cache_bytes=float(batch * seq * cfg.kv_bytes_per_token(nbytes)),
        ops=_llm_ops(cfg, batch, seq, seq, decode=False),
        model_config=cfg,
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
    "resnet50": ("batch",),
    "gemm": (),
}
_EXAMPLES = {
    "gemm": "gemm:4096,4096,4096",
    "llm-decode": "llm-decode:llama-3-8b:batch=1,context=1024",
    "llm-prefill": "llm-prefill:llama-3-8b:batch=1,seq=2048",
    "resnet50": "resnet50:batch=8",
}
_INT_RE = re.compile(r"\+?[0-9]+")


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


def _parse_options(kind: str, items: list[str]) -> dict[str, str]:
    """``key=value`` items -> dict; keys checked against the kind's options plus dtype."""
    allowed = (*_OPTIONS[kind], "dtype")
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
        by ``:dtype=bf16|fp8|int8`` (or with ``dtype=`` among the comma options).

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
    batch = _parse_int(f"{kind} option 'batch'", options["batch"])
    if kind == "llm-decode":
        context = _parse_int(f"{kind} option 'context'", options["context"])
        return llm_decode_workload(model_text, batch, context, dtype)
    seq = _parse_int(f"{kind} option 'seq'", options["seq"])
    return llm_prefill_workload(model_text, batch, seq, dtype)
