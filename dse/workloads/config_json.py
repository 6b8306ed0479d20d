"""The Hugging Face ``config.json`` reader, and the model argument of the LLM builders
(built-in name, alias or config.json path)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from dse.errors import DseInputError, close_match_hint
from dse.workloads.checks import _MAX_INT, _one_line, _short
from dse.workloads.models import BUILTIN_MODELS, MODEL_ALIASES, ModelConfig

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
    key = next((k for k in _MOE_KEYS if isinstance(v := data.get(k), int) and v > 1), None)
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
