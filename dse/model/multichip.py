"""Multi-chip systems: size N chips for a model, then step time, tokens/s, J/token, $.

When the weights and KV cache do not fit one chip's memory (HBM/DRAM capacity, or the
weight-resident SRAM of an SRAM-only design), the model is sharded over N chips:
tensor parallel (TP) inside a node of up to ``tp_max`` chips, pipeline parallel (PP)
across nodes, over a chip-to-chip link (:data:`LINKS`). Everything broadcasts over
designs.

Assumptions (what the chain supplies)
-------------------------------------
* **Per-chip time scales with the shard.** The chain evaluates one chip on the *whole*
  step with the on-chip residency of the *sharded* state (weights resident in SRAM when
  W / N fits, KV when W / N + KV / N does) and passes two per-design sums over the op
  list: ``roofline_s`` = sum count x max(compute, SRAM, DRAM) at the sustained clock,
  and ``overhead_s`` = sum count x per-op overhead. A chip of a TP group of t in one of
  p pipeline stages does 1 / (t p) of every bound (GEMM dims and heads split by t,
  layers by p) and 1 / p of the ops (TP does not remove ops):
  T_stage = roofline / (t p) + overhead / p. Tile and wave quantisation of the smaller
  shards is ignored (optimistic for small t x shapes).
* **Collectives** (Megatron-LM tensor parallelism): two all-reduces of the activations
  per transformer layer, ring algorithm, not overlapped with compute:
  t_AR = 2 (t - 1) / t x S / B + 2 (t - 1) alpha, B the per-direction link bandwidth,
  alpha the per-step latency; one point-to-point send of the activations per stage
  boundary: S / B + alpha.
* **Pipelining.** With ``pipelined`` (default) p independent steps are in flight (one
  per stage, e.g. different users' batches), so a step leaves every
  T_stage + hop and each stage holds the KV cache of p steps for its layers (sizing
  counts W + p KV). Without it one step walks the stages alone (period = latency).
* **Energy.** The chain's dynamic energy of the whole step (the work does not change by
  splitting it) + N x static power x period + link energy (bits x pJ/bit).
* **Cost.** N x (chip unit cost + the link's cost per chip).

References
----------
M. Shoeybi et al., "Megatron-LM: training multi-billion parameter language models using
model parallelism", arXiv 1909.08053, 2019 (two all-reduces per layer).
D. Narayanan et al., "Efficient large-scale language model training on GPU clusters
using Megatron-LM", SC 2021 (TP within a node, PP across nodes).
P. Patarasuk and X. Yuan, "Bandwidth optimal all-reduce algorithms for clusters of
workstations", JPDC 69(2), 2009 (ring all-reduce, 2 (N - 1) / N S).
R. Pope et al., "Efficiently scaling transformer inference", MLSys 2023 (inference
partitioning and its communication terms).
Link figures: see :data:`LINKS`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from dse.units import GB, PJ

__all__ = [
    "LINKS",
    "Collectives",
    "LinkSpec",
    "SystemResult",
    "SystemSize",
    "allreduce_bytes_sent",
    "link",
    "ring_allreduce_time_s",
    "size_system",
    "stage_compute_time_s",
    "system_performance",
]


@dataclass(frozen=True)
class LinkSpec:
    """A chip-to-chip link: per-chip figures with a low/high range and a source."""

    name: str
    bandwidth_gbps: float  # per chip, per direction [GB/s]
    latency_us: float  # per ring step / hop, software and switch included [us]
    energy_pj_per_bit: float  # both ends and any switch [pJ/bit]
    usd_per_chip: float  # switch / retimer / NIC / optics share per chip [USD]
    bandwidth_gbps_low: float
    bandwidth_gbps_high: float
    latency_us_low: float
    latency_us_high: float
    energy_pj_per_bit_low: float
    energy_pj_per_bit_high: float
    usd_per_chip_low: float
    usd_per_chip_high: float
    source: str


#: Chip-to-chip link presets (value, low/high; [V] read in the source, [R] recalled,
#: [D] derived, [A] assumption).
LINKS: dict[str, LinkSpec] = {
    k.name: k
    for k in (
        LinkSpec(
            "nvlink4",
            450.0,
            1.0,
            8.0,
            1000.0,
            400.0,
            450.0,
            0.5,
            3.0,
            5.0,
            15.0,
            300.0,
            3000.0,
            "NVIDIA H100 NVLink 4: 18 links x 50 GB/s = 900 GB/s bidirectional per GPU "
            "(NVIDIA; factryze.ai 'NVLink bandwidth math', alpha-one-index.github.io) [V] "
            "-> 450 GB/s per direction; latency per ring step ~1 us incl. NCCL and NVSwitch "
            "[A]; energy: SerDes ~5.5 pJ/bit per end (NVIDIA NVLink-C2C comparison, via "
            "besthub.dev) [V] + switch -> 8 [A]; NVSwitch/baseboard share per GPU [A].",
        ),
        LinkSpec(
            "nvlink5",
            900.0,
            1.0,
            6.0,
            1500.0,
            800.0,
            900.0,
            0.5,
            3.0,
            4.0,
            12.0,
            500.0,
            4000.0,
            "NVIDIA B200 NVLink 5: 18 x 100 GB/s = 1.8 TB/s bidirectional per GPU "
            "(alpha-one-index.github.io, fridayswithfaraday.com) [V] -> 900 per direction; "
            "latency, energy, cost [A] as nvlink4.",
        ),
        LinkSpec(
            "pcie5",
            63.0,
            1.5,
            6.0,
            50.0,
            50.0,
            63.0,
            1.0,
            3.0,
            4.0,
            12.0,
            20.0,
            200.0,
            "PCIe 5.0 x16: 32 GT/s x 16 lanes x 128/130 / 8 = 63 GB/s per direction [D from "
            "the PCI-SIG rate; 64 GB/s in alpha-one-index.github.io, V]; latency 1-3 us per "
            "transfer (knowledgebase.rackmountnts.com) [V, low]; SerDes 5.5 pJ/bit [V] + "
            "retimer -> 6 [A]; retimer/switch share [A].",
        ),
        LinkSpec(
            "pcie4",
            31.5,
            1.5,
            6.0,
            30.0,
            25.0,
            31.5,
            1.0,
            3.0,
            4.0,
            12.0,
            10.0,
            100.0,
            "PCIe 4.0 x16: 16 GT/s x 16 x 128/130 / 8 = 31.5 GB/s per direction (as the "
            "'none' memory row of memories.csv) [D]; latency, energy, cost [A] as pcie5.",
        ),
        LinkSpec(
            "ethernet-400g",
            50.0,
            3.0,
            30.0,
            2500.0,
            45.0,
            50.0,
            2.0,
            10.0,
            15.0,
            40.0,
            1000.0,
            5000.0,
            "400 Gbit/s Ethernet / InfiniBand NDR per chip: 50 GB/s per direction "
            "(ConnectX-7 NDR 400G; alpha-one-index.github.io) [V]; latency 2-10 us per hop "
            "(RDMA NIC + switch) [A]; optics ~20 W per 800G port = 25 pJ/bit "
            "(pingdo.net optical power estimator) [V, low] + host SerDes -> 30 [A]; NIC, "
            "optics and switch-port share per chip [A].",
        ),
    )
}


def link(name: str) -> LinkSpec:
    """Return the link preset of a name (see :data:`LINKS`).

    Parameters
    ----------
    name : str
        Preset name, any case and surrounding spaces.

    Returns
    -------
    LinkSpec
        Bandwidth [GB/s], latency [us], energy [pJ/bit] and cost per chip [USD] of the
        link, with their ranges and source.

    Raises
    ------
    DseInputError
        For an unknown name, with the closest preset.
    """
    key = name.strip().lower()
    if key not in LINKS:
        from dse.errors import DseInputError, close_match_hint

        raise DseInputError(f"unknown link '{name}'" + close_match_hint(key, LINKS))
    return LINKS[key]


def allreduce_bytes_sent(message_bytes, participants):
    """Bytes each participant sends in a ring all-reduce [B].

    Parameters
    ----------
    message_bytes : numeric
        Size of the reduced tensor, S [B].
    participants : numeric
        Chips (or dies) in the ring, n [count].

    Returns
    -------
    ndarray
        Bytes sent by each participant [B]; 0 for one participant.

    Notes
    -----
    2 (n - 1) / n x S: reduce-scatter then all-gather, n - 1 steps of S / n each.

    References
    ----------
    P. Patarasuk and X. Yuan, "Bandwidth optimal all-reduce algorithms for clusters of
    workstations", JPDC 69(2), 2009.
    """
    n = np.asarray(participants, dtype=float)
    return 2.0 * (n - 1.0) / np.maximum(n, 1.0) * np.asarray(message_bytes, dtype=float)


def ring_allreduce_time_s(message_bytes, participants, link_bandwidth_gbps, latency_us):
    """Time of one ring all-reduce [s]; 0 for one participant.

    Parameters
    ----------
    message_bytes : numeric
        Size of the reduced tensor [B].
    participants : numeric
        Chips (or dies) in the ring [count].
    link_bandwidth_gbps : numeric
        Per-participant bandwidth in one direction [GB/s].
    latency_us : numeric
        Latency of one ring step [us].

    Returns
    -------
    ndarray
        All-reduce time [s].

    Notes
    -----
    t = 2 (n - 1) / n x S / B + 2 (n - 1) alpha: reduce-scatter then all-gather, n - 1
    steps each (Patarasuk & Yuan 2009).

    References
    ----------
    P. Patarasuk and X. Yuan, "Bandwidth optimal all-reduce algorithms for clusters of
    workstations", JPDC 69(2), 2009.
    """
    n = np.asarray(participants, dtype=float)
    bw = np.asarray(link_bandwidth_gbps, dtype=float) * GB
    t = (
        allreduce_bytes_sent(message_bytes, n) / bw
        + 2.0 * (n - 1.0) * np.asarray(latency_us, dtype=float) * 1e-6
    )
    return np.where(n > 1.0, t, 0.0)


class Collectives(NamedTuple):
    """Communication of one workload step under tensor/pipeline parallelism.

    Attributes
    ----------
    message_bytes : float
        One all-reduced activation tensor [B].
    allreduces_per_step : float
        All-reduces per step, whole model [count].
    stage_bytes : float
        Activations passed at a pipeline-stage boundary [B].
    """

    message_bytes: float  # one all-reduced activation tensor [B]
    allreduces_per_step: float  # all-reduces per step (whole model) [count]
    stage_bytes: float  # activations passed at a pipeline-stage boundary [B]


class SystemSize(NamedTuple):
    """Chips of a system and how the model is split over them (arrays over designs).

    Attributes
    ----------
    chips : ndarray
        Chips, tp x pp [count].
    tp : ndarray
        Tensor-parallel degree, chips per node [count].
    pp : ndarray
        Pipeline stages [count].
    fits : ndarray of bool
        Some N <= ``max_chips`` holds the model.
    microbatches : ndarray or None
        Micro-batches the step's batch is cut into, in flight across the stages [count]
        (1 without pipelining; :func:`dse.chain.system.split_system`).
    """

    chips: np.ndarray  # tp x pp
    tp: np.ndarray  # tensor-parallel degree (chips per node)
    pp: np.ndarray  # pipeline stages
    fits: np.ndarray  # bool: some N <= max_chips holds the model
    #: micro-batches the step's batch is cut into, in flight across the stages (1 without
    #: pipelining; :func:`dse.chain.system.split_system`)
    microbatches: np.ndarray | None = None


def size_system(
    weight_bytes,
    kv_cache_bytes,
    capacity_bytes,
    tp_max=8,
    pipelined: bool = True,
    layers: int | None = None,
    max_chips=100_000,
) -> SystemSize:
    """Smallest system of chips that holds the weights and the KV cache.

    Parameters
    ----------
    weight_bytes, kv_cache_bytes : numeric
        Model weights and KV cache of one step [B].
    capacity_bytes : numeric
        What one chip holds [B]: off-chip capacity, or the weight-resident SRAM of an
        SRAM-only design.
    tp_max : int
        Largest tensor-parallel group (chips in a node on the fast link) [count].
    pipelined : bool
        Pipeline stages hold one in-flight step each, so with p stages the KV cache is
        needed p times (see the module notes).
    layers : int, optional
        Transformer layers [count]: stages then hold whole layers (ceil(L / p) each) and
        p <= L. None: a continuous split (share 1 / p per stage).
    max_chips : int
        Systems above this are reported as not fitting [count].

    Returns
    -------
    SystemSize
        Chips, TP degree and pipeline stages [count] (NaN where nothing fits) and the
        ``fits`` flag.

    Notes
    -----
    n = ceil((W + KV) / C); if n <= tp_max: t = n, p = 1 (no pipeline). Otherwise
    t = tp_max and p is the smallest stage count with a per-chip load within C:
    load = phi(p) (W + k KV) / t, k = p if pipelined else 1, phi(p) = ceil(L / p) / L
    with ``layers`` (embeddings and LM head counted in proportion: conservative) or
    1 / p without. N = t p. TP degrees need not divide the head count here.

    References
    ----------
    D. Narayanan et al., "Efficient large-scale language model training on GPU clusters
    using Megatron-LM", SC 2021 (TP within a node, PP across nodes).
    """
    w, kv, cap, tpm = np.broadcast_arrays(
        *(
            np.asarray(v, dtype=float)
            for v in (weight_bytes, kv_cache_bytes, capacity_bytes, tp_max)
        )
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        n = np.ceil((w + kv) / cap)
        n = np.where(np.isfinite(n), np.maximum(n, 1.0), np.inf)
        small = n <= tpm
        t = np.where(small, n, tpm)
        if layers is None:
            if pipelined:
                room = tpm * cap - kv
                p_big = np.where(room > 0.0, np.ceil(w / room), np.inf)
            else:
                p_big = np.ceil((w + kv) / (tpm * cap))
            p = np.where(small, 1.0, np.maximum(p_big, 1.0))
        else:
            p = np.where(small, 1.0, np.inf)
            todo = ~small
            for q in range(2, int(layers) + 1):  # candidate stage counts, not designs
                if not todo.any():
                    break
                share = math.ceil(layers / q) / layers
                load = share * (w + (q if pipelined else 1) * kv) / tpm
                ok = todo & (load <= cap)
                p = np.where(ok, float(q), p)
                todo &= ~ok
        chips = t * p
    fits = np.isfinite(chips) & (chips <= max_chips)
    bad = ~fits
    return SystemSize(
        np.where(bad, np.nan, chips),
        np.where(bad, np.nan, t),
        np.where(bad, np.nan, p),
        fits,
    )


def stage_compute_time_s(roofline_s, overhead_s, tp, pp):
    """Compute time of one pipeline stage on one chip, from whole-step components [s].

    Parameters
    ----------
    roofline_s : numeric
        Sum over the op list of count x max(compute, SRAM, DRAM) time of one chip running
        the whole step at the residency of the sharded state [s].
    overhead_s : numeric
        Sum over the op list of count x per-op overhead [s].
    tp, pp : numeric
        Tensor-parallel degree and pipeline stages [count].

    Returns
    -------
    ndarray
        Compute time of one stage on one chip [s].

    Notes
    -----
    T = R / (t p) + O / p: every bound shrinks with the shard, the op count only with
    the stages (tile and wave quantisation of the shard ignored).
    """
    tp = np.asarray(tp, dtype=float)
    pp = np.asarray(pp, dtype=float)
    return (
        np.asarray(roofline_s, dtype=float) / (tp * pp) + np.asarray(overhead_s, dtype=float) / pp
    )


class SystemResult(NamedTuple):
    """System metrics (arrays over designs; NaN where the model does not fit).

    Attributes
    ----------
    chips, tp, pp : ndarray
        Chips, tensor-parallel degree and pipeline stages [count].
    latency_s : ndarray
        One step through every stage [s].
    period_s : ndarray
        Time between steps leaving the system [s].
    throughput_per_s : ndarray
        Items (tokens) per second [1/s].
    collective_s : ndarray
        All-reduce and stage-hop time inside ``latency_s`` [s].
    energy_per_item_j : ndarray
        Energy per item [J].
    link_energy_j : ndarray
        Link energy per step [J].
    system_cost_usd : ndarray
        Cost of the system [USD].
    cost_per_throughput_usd : ndarray
        Cost per item/s [USD/(1/s)].
    fits : ndarray of bool
        The model fits the system.
    """

    chips: np.ndarray
    tp: np.ndarray
    pp: np.ndarray
    latency_s: np.ndarray  # one step through every stage
    period_s: np.ndarray  # time between steps leaving the system
    throughput_per_s: np.ndarray  # items (tokens) per second
    collective_s: np.ndarray  # all-reduce + stage-hop time inside latency_s
    energy_per_item_j: np.ndarray
    link_energy_j: np.ndarray  # per step
    system_cost_usd: np.ndarray
    cost_per_throughput_usd: np.ndarray  # USD per (item/s)
    fits: np.ndarray


def system_performance(
    size: SystemSize,
    stage_compute_s,
    collectives: Collectives,
    items_per_step,
    link_bandwidth_gbps,
    link_latency_us,
    link_energy_pj_per_bit,
    dynamic_energy_j,
    static_power_w,
    chip_unit_cost_usd,
    link_usd_per_chip=0.0,
    pipelined: bool = True,
    microbatches=1,
    feedback: bool = False,
) -> SystemResult:
    """Step time, throughput, energy per item and cost of a sized system.

    Parameters
    ----------
    size : SystemSize
        From :func:`size_system`.
    stage_compute_s : numeric
        Compute time of one stage on one chip, collectives excluded [s]:
        :func:`stage_compute_time_s` from whole-step components, or the latency of the
        chip evaluated on :func:`dse.chain.system.shard_workload`.
    collectives : Collectives
        From :func:`dse.chain.system.collectives_per_step` (bytes [B], counts [count]).
    items_per_step : numeric
        Tokens (items) one step produces [count].
    link_bandwidth_gbps, link_latency_us, link_energy_pj_per_bit : numeric
        Chip-to-chip link per chip and direction [GB/s], per ring step [us], [pJ/bit].
    dynamic_energy_j : numeric
        Dynamic energy of one step summed over all chips [J] (about the single-chip
        dynamic energy of the whole step: splitting does not change the work).
    static_power_w : numeric
        Static (leakage, idle uncore) power of one chip [W].
    chip_unit_cost_usd : numeric
        One chip: good die(s), package and memory [USD].
    link_usd_per_chip : numeric
        Link hardware per chip [USD].
    pipelined : bool
        As in :func:`size_system`.
    microbatches : numeric
        Micro-batches ``m`` the step's batch is cut into [count]
        (:func:`dse.chain.system.split_system`); then ``stage_compute_s``,
        ``dynamic_energy_j`` and ``collectives`` are those of one micro-batch and
        ``items_per_step`` the whole batch's.
    feedback : bool
        Each step needs the previous one's output (decode: the next token of a sequence
        needs its last): a micro-batch goes round all the stages before its next step.

    Returns
    -------
    SystemResult
        Latency and period [s], throughput [1/s], energy per item [J], cost [USD] and
        the rest of :class:`SystemResult`, arrays over designs.

    Notes
    -----
    T_stage = T_compute + (n_AR / p) t_AR(S, t); hop h = S / B + alpha (p > 1).
    Without feedback (prefill, a stream of independent batches): period = m (T_stage +
    h [p > 1]) when pipelined, latency = (m + p - 1) T_stage + (p - 1) h. With feedback
    (decode): a step of the whole batch takes one round, period = latency = p (T_stage +
    h) for p > 1 (the sampled token's way back to the first stage counted as a hop; with
    m <= p micro-batches the stages are busy m / p of the time). Not pipelined: period =
    latency. Link bytes per step = m (n_AR x 2 (t - 1) S + (p - 1) S).
    E_step = m E_dyn + N P_static period + 8 bytes e_bit; J/item = E_step / items.
    Cost = N (C_chip + C_link); USD per item/s = cost x period / items.
    With m = 1 and no feedback this is one step per stage time, p independent steps in
    flight.

    References
    ----------
    M. Shoeybi et al., "Megatron-LM", arXiv 1909.08053, 2019 (two all-reduces per layer);
    P. Patarasuk and X. Yuan, JPDC 69(2), 2009 (ring all-reduce); R. Pope et al.,
    "Efficiently scaling transformer inference", MLSys 2023.
    """
    t, p, n = size.tp, size.pp, size.chips
    s_msg = collectives.message_bytes
    n_ar = collectives.allreduces_per_step
    t_ar = ring_allreduce_time_s(s_msg, t, link_bandwidth_gbps, link_latency_us)
    bw = np.asarray(link_bandwidth_gbps, dtype=float) * GB
    hop = np.where(
        p > 1.0,
        collectives.stage_bytes / bw + np.asarray(link_latency_us, dtype=float) * 1e-6,
        0.0,
    )
    m = np.asarray(microbatches, dtype=float)
    stage = np.asarray(stage_compute_s, dtype=float) + n_ar / p * t_ar
    if feedback:
        latency = np.where(p > 1.0, p * (stage + hop), stage)
        period = latency
    else:
        latency = (m + p - 1.0) * stage + (p - 1.0) * hop
        period = m * (stage + hop) if pipelined else latency
    items = np.asarray(items_per_step, dtype=float)
    link_bytes = m * (n_ar * 2.0 * (t - 1.0) * s_msg + (p - 1.0) * collectives.stage_bytes)
    link_j = link_bytes * 8.0 * np.asarray(link_energy_pj_per_bit, dtype=float) * PJ
    energy = (
        m * np.asarray(dynamic_energy_j, dtype=float)
        + n * np.asarray(static_power_w, dtype=float) * period
        + link_j
    )
    cost = n * (np.asarray(chip_unit_cost_usd, dtype=float) + link_usd_per_chip)
    throughput = items / period
    return SystemResult(
        chips=n,
        tp=t,
        pp=p,
        latency_s=latency,
        period_s=period,
        throughput_per_s=throughput,
        collective_s=n_ar * t_ar + (p - 1.0) * hop,
        energy_per_item_j=energy / items,
        link_energy_j=link_j,
        system_cost_usd=cost,
        cost_per_throughput_usd=cost / throughput,
        fits=size.fits,
    )
