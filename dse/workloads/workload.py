"""The :class:`Workload` record (one step as a tuple of ops) and the :class:`ServeSpec` of
``llm-serve`` workloads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from dse.units import BYTES_PER_ELEMENT
from dse.workloads.models import ModelConfig
from dse.workloads.ops import _IN_KERNEL_OPS, WEIGHT_BYTES_PER_ELEMENT, Op

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
            float(BYTES_PER_ELEMENT[str(self.kv_dtype)]),
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
