"""Workload strings (docs/contract.md): :func:`parse_workload`."""

from __future__ import annotations

import math
import re

from dse.errors import DseInputError, close_match_hint
from dse.workloads.checks import _MAX_INT, _short
from dse.workloads.cnn import resnet50_workload
from dse.workloads.gemm import gemm_workload
from dse.workloads.llm import llm_decode_workload, llm_prefill_workload
from dse.workloads.ops import DEFAULT_DTYPE
from dse.workloads.serve import llm_serve_workload
from dse.workloads.workload import Workload

#: Workload kinds accepted at the start of a workload string.
WORKLOAD_KINDS = ("gemm", "llm-decode", "llm-prefill", "llm-serve", "resnet50")
_KIND_ALIASES = {"resnet-50": "resnet50", "resnet_50": "resnet50"}


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
        prompt, output = (_parse_int(f"{kind} option {k!r}", options[k]) for k in ("prompt", "output"))
        ttft_ms, tpot_ms = (_parse_ms(f"{kind} option {k!r}", options[k]) for k in ("ttft_ms", "tpot_ms"))
        chunk = _parse_int(f"{kind} option 'chunk'", options["chunk"]) if "chunk" in options else None
        return llm_serve_workload(
            model_text, prompt, output, ttft_ms, tpot_ms, chunk=chunk, dtype=dtype,
            weights=precision.get("weights"), kv=precision.get("kv"),
        )  # fmt: skip
    batch = _parse_int(f"{kind} option 'batch'", options["batch"])
    if kind == "llm-decode":
        context = _parse_int(f"{kind} option 'context'", options["context"])
        return llm_decode_workload(model_text, batch, context, dtype, **precision)
    seq = _parse_int(f"{kind} option 'seq'", options["seq"])
    return llm_prefill_workload(model_text, batch, seq, dtype, **precision)
