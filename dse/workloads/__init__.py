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

Modules
-------
``ops`` the :class:`Op` record, precisions and element-wise FLOP counts; ``workload`` the
:class:`Workload` record; ``models`` the built-in :class:`ModelConfig` dimensions;
``config_json`` the config.json reader; ``gemm``, ``llm`` (with ``attention``: grouped-query
and latent, ``moe``: the MLPs), ``serve`` and ``cnn`` the builders; ``parse`` the workload
strings. Every name is importable from ``dse.workloads``.
"""

from __future__ import annotations

from dse.workloads.cnn import resnet50_workload
from dse.workloads.config_json import (
    load_hf_config,
    resolve_model,
)
from dse.workloads.gemm import gemm_workload
from dse.workloads.llm import (
    llm_decode_workload,
    llm_prefill_workload,
)
from dse.workloads.models import (
    BUILTIN_MODELS,
    MODEL_ALIASES,
    ModelConfig,
)
from dse.workloads.moe import expected_distinct_experts
from dse.workloads.ops import (  # noqa: F401 (not in __all__, importable as before)
    ACT_DTYPES,
    ADD_RELU_FLOPS_PER_ELEMENT,
    AVGPOOL_FLOPS_PER_ELEMENT,
    BIAS_RELU_FLOPS_PER_ELEMENT,
    DEFAULT_DTYPE,
    DEQUANT_FLOPS_PER_ELEMENT,
    KV_DTYPES,
    MAXPOOL_FLOPS_PER_ELEMENT,
    RESIDUAL_ADD_FLOPS_PER_ELEMENT,
    RMSNORM_FLOPS_PER_ELEMENT,
    SOFTMAX_FLOPS_PER_ELEMENT,
    SWIGLU_FLOPS_PER_ELEMENT,
    WEIGHT_BYTES_PER_ELEMENT,
    WEIGHT_DTYPES,
    Op,
)
from dse.workloads.parse import (  # noqa: F401 (not in __all__, importable as before)
    _EXAMPLES,
    _LLM_PRECISION_OPTIONS,
    _OPTIONS,
    WORKLOAD_KINDS,
    parse_workload,
)
from dse.workloads.serve import (  # noqa: F401 (not in __all__, importable as before)
    DEFAULT_CHUNK_TOKENS,
    llm_serve_workload,
    serve_step_workload,
)
from dse.workloads.workload import (  # noqa: F401 (not in __all__, importable as before)
    ServeSpec,
    Workload,
)

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
