"""Operations: the :class:`Op` record, the precisions and the element-wise FLOP counts."""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from dse.errors import DseInputError

DEFAULT_DTYPE = "bf16"

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
