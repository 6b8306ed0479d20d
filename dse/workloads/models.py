"""LLM dimensions: the :class:`ModelConfig` record and the built-in models."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from dse.errors import DseInputError


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
