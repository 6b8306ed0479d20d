"""The model chain: ``evaluate`` (one design) and ``evaluate_many`` (a DataFrame of designs).

Both run the same vectorised code path (:func:`evaluate_arrays`): one design is a batch
of one. The domains run in a fixed order:

1. technology lookup (node, memory) and precision;
2. area (:mod:`dse.area`), peak and export metrics (:mod:`dse.export`);
3. dies per wafer, yield and cost (:mod:`dse.cost`), the program's NRE and test cost and
   the embodied carbon (:mod:`dse.carbon`);
4. with a workload: per-op roofline (:mod:`dse.roofline`), dynamic energy
   (:mod:`dse.power`), DVFS throttling to ``tdp_w`` and ``tj_max_c`` and the
   leakage-temperature fixed point (:mod:`dse.thermal`), capacity checks;
5. the program over the service life: cost per throughput at volume, operational carbon
   and carbon per million items (:func:`_program_metrics`).
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from dse import (
    area,
    carbon,
    chiplet,
    cost,
    dvfs,
    export,
    harvest,
    power,
    reliability,
    roofline,
    system,
    thermal,
    wearout,
)
from dse.constants import ModelConstants, default_constants
from dse.errors import DseInputError
from dse.metrics import METRICS
from dse.spec import CHIP_KEYS, DTYPES, ChipSpec, check_value, load_chip
from dse.tech import Technology, default_tech, factorize_labels, load_tech
from dse.units import BITS_PER_ELEMENT, BYTES_PER_ELEMENT, GB, GHZ, MIB
from dse.workloads import Workload, parse_workload

CHIPS_DIR = Path(__file__).parent / "data" / "chips"
VIOLATIONS = (
    "reticle", "memory_capacity", "power", "thermal_runaway", "package", "system_size", "timing",
    "power_delivery", "memory_temp", "beachfront", "interposer_size", "slo",
)  # fmt: skip
_BISECTION_STEPS = 16  # grid-model throttle (bisection)
_THROTTLE_BISECT = 22  # lumped throttle without numba: bisection to 2^-22 of the clock
#: batches tried by every design of an llm-serve search before its own bisection: the
#: integers to 8, then steps of about sqrt(2)
_SERVE_LADDER = (1, 2, 3, 4, 5, 6, 8, 11, 16, 23, 32, 45, 64, 91, 128, 181, 256, 362, 512, 724, 1024, 1448, 2048, 2896, 4096)
_SERVE_LADDER_ROWS = 16  # fewer designs (a study's trial) bisect straight away
_CHUNK_ROWS = 32768  # rows per chunk: measured fastest on 2 cores (benchmarks/evaluate_many.py)

_DTYPE_BITS = np.array([BITS_PER_ELEMENT[d] for d in DTYPES], dtype=float)
_DTYPE_BYTES = np.array([BYTES_PER_ELEMENT[d] for d in DTYPES], dtype=float)
_EXPORT_CLASSES = np.array(export.EXPORT_CLASSES, dtype=object)
_MECHANISMS = np.array(reliability.MECHANISMS, dtype=object)
_FLOAT_MAX = np.finfo(float).max
_VIOLATION_TEXT = np.array(
    [
        ";".join(v for i, v in enumerate(VIOLATIONS) if mask >> i & 1)
        for mask in range(2 ** len(VIOLATIONS))
    ],
    dtype=object,
)


# FlashAttention-style fusion keeps the score/probability tensors of attention on chip
# (T. Dao et al., "FlashAttention: fast and memory-efficient exact attention with
# IO-awareness", NeurIPS 2022): the S x S intermediates never travel to DRAM.
_A_FUSED = frozenset({"softmax", "attn_value", "chunk_softmax", "chunk_attn_value"})
_C_FUSED = frozenset({"attn_score", "softmax", "chunk_attn_score", "chunk_softmax"})
# ops that run inside another op's kernel (no launch of their own): FlashAttention's softmax
# and value product, residual adds fused into the next norm (vLLM, TensorRT-LLM), the
# dequantisation of narrow weights and KV cache inside the GEMM kernels
_FUSED_OPS = frozenset(
    {"softmax", "attn_value", "chunk_softmax", "chunk_attn_value", "residual_add", "weight_dequant", "kv_dequant"}
)


def _fused(wl: Workload, names: frozenset[str]) -> np.ndarray:
    # a bias + ReLU pass right after a conv runs in the conv kernel's epilogue (cuDNN /
    # TensorRT fuse it): its input and output never travel to DRAM on their own
    return np.array(
        [op.name in names or (op.name.endswith("_relu") and not op.name.endswith("_add_relu")) for op in wl.ops],
        dtype=bool,
    )


def _workload(workload: str | Workload | None) -> Workload | None:
    if workload is None or isinstance(workload, Workload):
        return workload
    return parse_workload(workload)


def _phy_area_factors(tech: Technology, c: ModelConstants) -> np.ndarray:
    """Per memory-table row: ``board_phy_area_factor`` for board memories, else 1."""
    frame = tech.memories.frame
    kind = frame["kind"].to_numpy() if "kind" in frame else np.zeros(len(frame), dtype=object)
    return np.where(kind == "board", c["board_phy_area_factor"], 1.0)


def _tech_for(chip: ChipSpec, tech: Technology | None) -> Technology:
    if tech is not None:
        return tech
    if chip.tech_path is not None:
        return load_tech(chip.tech_path)
    return default_tech()


# ---------------------------------------------------------------------------------------
# the vectorised core
# ---------------------------------------------------------------------------------------


def evaluate_arrays(
    d: dict[str, np.ndarray],
    wl: Workload | None,
    tech: Technology,
    c: ModelConstants,
    detail: bool = False,
) -> dict[str, np.ndarray]:
    with np.errstate(over="ignore", under="ignore"):
        out = _evaluate_arrays(d, wl, tech, c, detail)
        if wl is not None:
            out.update(_program_metrics(d, wl, out))
        return out


def _evaluate_arrays(d, wl, tech, c, detail):
    """Evaluate designs given as arrays (shape (n,)): the chain, one stage at a time.

    ``d`` holds the numeric chip keys as float arrays (``memory_bandwidth_gbps`` and
    ``memory_capacity_gb`` NaN where derived) and integer codes ``node_code``,
    ``memory_code`` (rows of the technology tables), ``mac_dtype_code`` (index into
    :data:`dse.spec.DTYPES`) and the ``<key>_code`` of every choice key. Returns metric
    arrays; with ``detail`` also the per-op and per-block arrays behind the plots.
    """
    geo = _geometry(d, tech, c)
    mem = _memory_system(d, tech)
    money = _cost(d, tech, c, geo, mem)
    pm = _power_model(d, tech, c, geo)
    out = _design_metrics(d, c, geo, mem, money)
    idle = _idle_state(d, c, pm)
    out["idle_power_w"] = idle.module_power_w
    if wl is None:
        out["violation_mask"] = _violation_mask(
            reticle=money.reticle_bad, package=money.package_bad, timing=pm.timing_bad,
            beachfront=money.beachfront_bad, interposer=money.interposer_bad,
        )
        return out
    if wl.serve is not None:
        return _serve(d, wl, tech, c, detail, out)
    perf = _performance(d, wl, c, geo, mem)
    energy = _energy(d, wl, tech, c, geo, perf)
    op = _operating_point(d, c, geo, pm, perf, energy)
    out.update(_workload_metrics(d, wl, money, perf, energy, op))
    if wl.kind == "llm-prefill":  # the batch's first tokens: the step plus the host's work
        out["ttft_s"] = out["latency_s"] + host_prefill_s(c, wl.items_per_step)
    out["core_voltage_v"] = op.power.voltage_fraction * pm.vdd_nominal_v
    life = _reliability(d, tech, c, pm, op, idle)
    out.update(
        supply_current_a=life.supply_current_a, memory_temp_c=life.memory_temp_c,
        lifetime_years=life.lifetime_years, fit=life.fit, lifetime_mechanism_code=life.mechanism_code,
    )  # fmt: skip
    out["violation_mask"] = _violation_mask(
        reticle=money.reticle_bad,
        capacity=~perf.fits,
        power=op.power_bad,
        runaway=op.runaway,
        package=money.package_bad,
        timing=pm.timing_bad,
        power_delivery=life.power_delivery_bad,
        memory_temp=life.memory_temp_bad,
        beachfront=money.beachfront_bad,
        interposer=money.interposer_bad,
    )
    _system_metrics(out, d, wl, tech, c, perf.weights_resident, perf.resident_bytes, mem.capacity_gb * GB, perf.fits, mem.is_none)
    if detail:
        out.update(_detail_arrays(d, tech, geo, pm, perf, energy, op))
        out["_reliability"] = life._asdict()
    hot = np.flatnonzero(life.refresh_hot)
    if hot.size and "_refresh_fraction" not in d:
        _refresh_pass(out, d, wl, tech, c, detail, hot)
    return out


def _serve(d, wl, tech, c, detail, design_out):
    """``llm-serve``: the largest batch that meets both latency targets, per design.

    A batch fits when the weights and the KV cache of that many requests at full length
    fit (as the capacity check of one step) and the token budget keeps up with their
    prompts (:attr:`dse.workloads.ServeSpec.max_batch`): :func:`_serve_batch_limit`.
    Among those, the latency checks are monotone in the batch (a larger batch only adds
    work to every iteration), so the largest batch meeting them is found by bisection,
    each step evaluating the chain on serving iterations (:func:`_serve_step`) for the
    designs that share a candidate. The designs are then evaluated at that batch; where
    no batch meets the targets, at batch 1 with the violation ``slo``.

    With ``system = "auto"``, a design whose memory cannot hold the weights and one
    request is served by the smallest tensor-parallel group (a degree of
    :func:`dse.system.tp_degrees` up to ``tp_max`` chips on its link, no pipelining)
    that can: each chip runs
    its shard (:func:`dse.system.shard_serve_workload`; MoE experts spread over the group)
    and every iteration adds two ring all-reduces per layer over the link. The serving
    metrics (``tpot_s``, ``ttft_s``, ``goodput_tokens_per_s``) and the ``system_*``
    metrics are then the group's; a model that needs pipeline stages as well is the
    violation ``system_size``.
    """
    n = len(d["cores"])
    tp = np.ones(n, dtype=np.int64)
    too_big = np.zeros(n, dtype=bool)
    auto = np.flatnonzero(d["system_code"] == 1)
    if auto.size:  # the smallest group whose shards hold their weights and one request
        cap = _serve_capacity(d, c, design_out["memory_capacity_gb"])[auto]
        tokens = wl.serve.prompt + wl.serve.output
        need = np.zeros(auto.size, dtype=np.int64)
        for t in system.tp_degrees(wl.model_config, int(d["tp_max"][auto].max())):
            shard = system.shard_serve_workload(wl, t)
            one = tokens * shard.model_config.kv_bytes_per_token(BYTES_PER_ELEMENT[wl.kv_dtype])
            fits = (need == 0) & (shard.weight_bytes + one <= cap) & (t <= d["tp_max"][auto])
            need[fits] = t
        tp[auto[need > 0]] = need[need > 0]
        too_big[auto[need == 0]] = True
    out: dict = {}
    for t in np.unique(tp):
        rows = np.flatnonzero(tp == t)
        sub_d = {k: v[rows] for k, v in d.items()}
        shard = system.shard_serve_workload(wl, int(t))
        sub = _serve_search(sub_d, shard, tech, c, detail, int(t), design_out["memory_capacity_gb"][rows])
        if not out:
            out = {k: _like(v, n, rows.size) for k, v in sub.items()}
        _scatter(out, sub, rows, n)
    held = np.flatnonzero(tp > 1)
    out["violation_mask"][held] &= ~np.int64(1 << VIOLATIONS.index("memory_capacity"))
    out["violation_mask"] |= too_big.astype(np.int64) << VIOLATIONS.index("system_size")
    return out


def _serve_search(d, wl, tech, c, detail, tp: int, capacity_gb):
    """The batch search of :func:`_serve` for designs served by ``tp`` chips each.

    With many designs, a ladder of batches shared by all of them (:data:`_SERVE_LADDER`;
    one chain call per rung for all the designs still meeting the targets) brackets each
    design's answer; then a bisection inside the bracket (or, with few designs, over the
    whole range) evaluates together the designs that share a candidate. The metrics of the last batch that met the targets are kept as they are
    evaluated (``detail`` needs one more evaluation at the answer).
    """
    spec = wl.serve
    n = len(d["cores"])
    hi = _serve_batch_limit(d, wl, c, capacity_gb)
    lo = np.zeros(n, dtype=np.int64)  # 0: no batch meets the targets (yet)
    out: dict = {}

    def serve_metrics(rows, b, want_detail=False):
        """The designs' metrics at batch ``b``, with whether they meet the targets."""
        sub, tpot, ttft, link_j = _serve_step(d, rows, wl, tech, c, int(b), want_detail, tp)
        goodput = b / tpot
        sub.update(
            tpot_s=tpot, ttft_s=ttft, serve_batch=np.full(rows.size, float(b)),
            goodput_tokens_per_s=goodput,
        )  # fmt: skip
        if tp > 1:  # the group of tp chips serves the batch
            cost = tp * (sub["unit_cost_usd"] + _link_values(d["link_code"][rows], "usd_per_chip"))
            sub.update(
                system_chips=np.full(rows.size, float(tp)), system_tp=np.full(rows.size, float(tp)),
                system_latency_s=tpot,
                system_throughput_per_s=goodput, system_cost_usd=cost,
                system_energy_per_item_j=(sub["energy_j"] * tp + link_j) / b,
                system_cost_per_throughput_usd=cost / goodput,
            )  # fmt: skip
        return sub, (tpot <= spec.tpot_s) & (ttft <= spec.ttft_s)

    def keep(sub, rows):
        nonlocal out
        if not out:
            out = {k: _like(v, n, rows.size) for k, v in sub.items()}
        _scatter(out, sub, rows, n)

    def step(rows, b):
        sub, ok = serve_metrics(rows, b)
        if ok.any():  # the best batch so far of these designs
            keep({k: _take(v, ok, rows.size) for k, v in sub.items()}, rows[ok])
            lo[rows[ok]] = b
        return ok

    alive = np.flatnonzero(hi >= 1) if n >= _SERVE_LADDER_ROWS else np.zeros(0, dtype=np.intp)
    for b in _SERVE_LADDER:
        alive = alive[hi[alive] >= b]
        if not alive.size:
            break
        ok = step(alive, b)
        failed = alive[~ok]
        hi[failed] = np.minimum(hi[failed], b - 1)
        alive = alive[ok]
    while (todo := np.flatnonzero(lo < hi)).size:
        mid = (lo[todo] + hi[todo] + 1) // 2
        for b in np.unique(mid):
            rows = todo[mid == b]
            ok = step(rows, b)
            hi[rows[~ok]] = b - 1
    missed = np.flatnonzero(lo == 0)  # no batch meets the targets: batch 1, slo
    if missed.size:
        sub, _ = serve_metrics(missed, 1)
        sub["goodput_tokens_per_s"] = np.zeros(missed.size)
        sub["violation_mask"] = sub["violation_mask"] | np.int64(1 << VIOLATIONS.index("slo"))
        keep(sub, missed)
    if detail:  # the plots' arrays at the answer, evaluated again with them
        out = {}
        batch = np.maximum(lo, 1)
        for b in np.unique(batch):
            rows = np.flatnonzero(batch == b)
            sub, _ = serve_metrics(rows, b, want_detail=True)
            sub["goodput_tokens_per_s"] = np.where(lo[rows] >= 1, sub["goodput_tokens_per_s"], 0.0)
            sub["violation_mask"] = sub["violation_mask"] | (lo[rows] == 0).astype(np.int64) << VIOLATIONS.index("slo")
            keep(sub, rows)
    return out


def _take(value, mask, m: int):
    """The rows ``mask`` of an ``m``-row array (or nested record); other values as they are."""
    return _map_rows(value, m, lambda a: a[mask])


def _link_values(codes, attr: str) -> np.ndarray:
    """One :class:`dse.system.LinkSpec` field per design, from its ``link_code``."""
    per_link = np.array([getattr(system.link(name), attr) for name in system.LINKS])
    return per_link[np.asarray(codes, dtype=np.intp)]


def _serve_capacity(d, c, capacity_gb) -> np.ndarray:
    """What one chip holds for serving [B]: its off-chip memory, or (SRAM-only) the
    weight-resident share of its SRAM."""
    cap = np.nan_to_num(np.asarray(capacity_gb, dtype=float) * GB)
    resident = (1.0 - c["sram_tiling_fraction"]) * d["sram_mb"] * MIB
    return np.where(cap > 0.0, cap, resident)


def _serve_batch_limit(d, wl, c, capacity_gb) -> np.ndarray:
    """Largest batch whose weights and full-length KV cache fit (in off-chip memory, in
    the weight-resident SRAM, or weights in SRAM and the cache off chip) and whose
    prompts the token budget keeps up with; 0 where not even one request fits."""
    spec, cfg = wl.serve, wl.model_config
    resident = (1.0 - c["sram_tiling_fraction"]) * d["sram_mb"] * MIB
    cap = np.nan_to_num(np.asarray(capacity_gb, dtype=float) * GB)
    per_request = (spec.prompt + spec.output) * cfg.kv_bytes_per_token(BYTES_PER_ELEMENT[wl.kv_dtype])
    w = wl.weight_bytes
    fit = np.maximum.reduce([
        np.floor((resident - w) / per_request), np.floor((cap - w) / per_request),
        np.where(w <= resident, np.floor(cap / per_request), -1.0),
    ])  # fmt: skip
    return np.clip(fit, 0.0, float(min(spec.max_batch, spec.chunk - 1))).astype(np.int64)


def _serve_step(d, rows, wl, tech, c, batch: int, detail: bool, tp: int = 1):
    """The chain on one serving iteration at ``batch`` for the designs ``rows``.

    Returns the metrics of the steady-state iteration, TPOT (its step time) and TTFT (a
    prompt prefilled in ``ceil(prompt / (chunk - batch))`` iterations that fill the whole
    budget), each with the group's all-reduces when ``tp > 1`` (two per layer over the
    design's link), and the link energy of one steady-state iteration [J].
    """
    from dse.workloads import serve_step_workload

    spec, cfg = wl.serve, wl.model_config
    sub_d = {k: v[rows] for k, v in d.items()}
    prec = (wl.dtype, wl.weight_dtype, wl.kv_dtype)
    steady = serve_step_workload(cfg, spec, batch, *prec, spec_text=wl.spec)
    full = serve_step_workload(cfg, spec, batch, *prec, full_chunk=True, spec_text=wl.spec)
    out = _evaluate_arrays(sub_d, steady, tech, c, detail)
    t_full = _evaluate_arrays(sub_d, full, tech, c, False)["latency_s"]
    tpot, link_j = out["latency_s"].copy(), np.zeros(len(rows))
    if tp > 1:
        codes = sub_d["link_code"]
        bw, lat = _link_values(codes, "bandwidth_gbps"), _link_values(codes, "latency_us")
        pj = _link_values(codes, "energy_pj_per_bit")
        per_step = []
        for step in (steady, full):
            coll = system.collectives_per_step(step)
            per_step.append(coll.allreduces_per_step * system.ring_allreduce_time_s(coll.message_bytes, tp, bw, lat))
        tpot = tpot + per_step[0]
        t_full = t_full + per_step[1]
        coll = system.collectives_per_step(steady)
        sent = coll.allreduces_per_step * system.allreduce_bytes_sent(coll.message_bytes, tp)
        link_j = sent * 8.0 * pj * 1e-12 * tp
    ttft = math.ceil(spec.prompt / (spec.chunk - batch)) * t_full + host_prefill_s(c, spec.prompt)
    return out, tpot, ttft, link_j


def _like(value, n: int, m: int):
    """Zeroed arrays of ``n`` rows shaped like the ``m``-row arrays of a subset's ``value``
    (nested records alike; anything else is returned as it is)."""
    return _map_rows(value, m, lambda a: np.zeros((n, *a.shape[1:]), dtype=a.dtype))


def _map_rows(value, m: int, fn):
    """``fn`` applied to every ``m``-row array of ``value`` (a metric array, or a nested
    dict / tuple of them); anything else is returned as it is."""
    if isinstance(value, dict):
        return {k: _map_rows(v, m, fn) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(_map_rows(v, m, fn) for v in value)
    if isinstance(value, np.ndarray) and value.ndim >= 1 and value.shape[0] == m:
        return fn(value)
    return value


def _refresh_pass(out, d, wl, tech, c, detail, rows):
    """Re-evaluate the designs ``rows``, whose memory runs above its refresh-doubling
    temperature, with doubled refresh (less bandwidth, more background power).

    If doubled refresh cools the memory below the threshold again (less bandwidth, less
    memory power), the device toggles between the two rates and holds the threshold: those
    designs are evaluated once more at the fraction of doubled refresh that puts the
    memory at the threshold (linear between the two passes).
    """
    sub_d = {k: v[rows] for k, v in d.items()}
    sub_d["_refresh_fraction"] = np.ones(rows.size)
    sub = _evaluate_arrays(sub_d, wl, tech, c, detail)
    threshold = tech.memories.arrays["refresh_temp_c"][sub_d["memory_code"]]
    t_single, t_double = out["memory_temp_c"][rows], sub["memory_temp_c"]
    toggling = np.flatnonzero(t_double < threshold)
    if toggling.size:
        t1, t2, limit = t_single[toggling], t_double[toggling], threshold[toggling]
        part_d = {k: v[toggling] for k, v in sub_d.items()}
        part_d["_refresh_fraction"] = np.clip((t1 - limit) / (t1 - t2), 0.0, 1.0)
        _scatter(sub, _evaluate_arrays(part_d, wl, tech, c, detail), toggling, rows.size)
    _scatter(out, sub, rows, len(d["cores"]))


def _scatter(out: dict, sub: dict, rows, n: int) -> None:
    """Write the rows of ``sub`` (metric arrays of a subset) into ``out`` at ``rows``."""
    for key, value in sub.items():
        if isinstance(value, dict):
            _scatter(out[key], value, rows, n)
            continue
        if isinstance(value, tuple):
            for target, part in zip(out[key], value, strict=True):
                if isinstance(target, np.ndarray) and target.shape[:1] == (n,):
                    target[rows] = part
            continue
        target = out[key]
        if not isinstance(target, np.ndarray) or target.shape[:1] != (n,):
            continue
        if not target.flags.writeable:
            target = out[key] = target.copy()
        target[rows] = value


# ---------------------------------------------------------------------------------------
# the stages: each takes the design arrays and earlier records, returns one record
# ---------------------------------------------------------------------------------------


class Geometry(NamedTuple):
    """Areas of one die and how the design splits over its dies [mm2, counts]."""

    mac_area_mm2: np.ndarray  # all MAC arrays of the design
    core_area_mm2: np.ndarray  # per-core logic beside the MAC arrays (with register files)
    sram_area_mm2: np.ndarray  # all SRAM
    phy_area_mm2: np.ndarray  # all memory PHYs
    tile_mm2: np.ndarray  # one core tile: core + its SRAM + its uncore share
    cores_per_die: np.ndarray
    spares_per_die: np.ndarray
    tiles_per_die: np.ndarray  # cores_per_die + spares_per_die
    phys_per_die: np.ndarray
    die_area_mm2: np.ndarray  # one die
    uncore_die_mm2: np.ndarray  # one die less its core tiles
    d2d_bandwidth_gbps: np.ndarray  # die-to-die bandwidth (0 for one die)
    block_areas_mm2: tuple  # one die for the floorplan: core logic, SRAM, PHYs, the rest


class MemorySystem(NamedTuple):
    bandwidth_gbps: np.ndarray
    capacity_gb: np.ndarray
    is_none: np.ndarray  # no off-chip memory (SRAM-only design)


class Cost(NamedTuple):
    dies_per_wafer: np.ndarray
    yield_fraction: np.ndarray
    die_cost_usd: np.ndarray
    unit_cost_usd: np.ndarray
    reticle_bad: np.ndarray
    package_bad: np.ndarray
    beachfront_bad: np.ndarray  # memory PHYs need more die edge than the die has
    interposer_bad: np.ndarray  # the interposer beyond the largest one made
    nre_usd: np.ndarray  # this product's share of the die design's NRE
    test_cost_usd: np.ndarray  # wafer sort and final test per good part
    unit_cost_at_volume_usd: np.ndarray  # unit + test + NRE / volume
    embodied_co2_kg: np.ndarray  # one good part: dies, memory, package


class PowerModel(NamedTuple):
    """Workload-independent power and heat-path parameters of a design (whole package)."""

    clock_ghz: np.ndarray  # declared (maximum) clock
    fmax_ghz: np.ndarray  # the node's highest clock, at vmax
    vmax_fraction: np.ndarray  # V_max / V_nom of the node
    vmin_fraction: np.ndarray  # V_min / V_nom of the node
    vdd_nominal_v: np.ndarray
    dibl_per_v: np.ndarray  # leakage voltage sensitivity (planar or FinFET)
    clock_w_per_ghz: np.ndarray  # clocked baseline at nominal voltage per GHz [W/GHz]
    core_clock_share: np.ndarray  # share of the clocked baseline in the core-logic blocks
    leakage_ref_w: np.ndarray  # leakage at V_nom and the reference temperature
    static_die_w: np.ndarray  # memory-PHY and die-to-die interface static power
    background_w: np.ndarray  # memory devices' background / refresh power, idle
    background_load_w: np.ndarray  # the same under load (doubled refresh when hot)
    stacked: np.ndarray  # memory devices share the heat sink (HBM) rather than the board
    r_sink_k_per_w: np.ndarray
    r_th_k_per_w: np.ndarray  # junction to ambient, lumped (whole package)
    k_hot_k_per_w: np.ndarray  # lumped hot spot above the die mean per watt of die power
    silicon_mm2: np.ndarray  # all dies
    vrm_efficiency: float
    vrm_fixed_w: np.ndarray  # load-independent regulator loss
    vth_fraction: float
    alpha: float
    timing_bad: np.ndarray  # the declared clock needs more than V_max


class Performance(NamedTuple):
    """The roofline of every op at the max clock, and where the model lives."""

    ops: roofline.OpTimes  # per design x op, at the max clock
    counts: np.ndarray  # occurrences of each op per step
    clocked_s: np.ndarray  # max(compute, SRAM) per op at the max clock (scales with 1/f)
    fixed_s: np.ndarray  # clock-independent time per step: kernel overheads, die-to-die
    op_overhead_s: np.ndarray  # fixed cost per kernel (per design)
    kernels: np.ndarray  # per op: 1 where the op is its own kernel (0: fused into another)
    weights_resident: np.ndarray
    resident_bytes: np.ndarray  # SRAM share that can hold weights (and KV cache)
    fits: np.ndarray  # weights + KV cache fit in memory (or SRAM)
    rate: np.ndarray  # MACs per cycle at the workload precision / at mac_dtype
    sram_bw_bytes_per_s: np.ndarray
    dram_bw_bytes_per_s: np.ndarray


class Energy(NamedTuple):
    """Energy of one workload step [pJ at the node's nominal voltage; J], and its DRAM traffic."""

    logic_pj: np.ndarray  # MAC arrays and vector units (scales with V^2)
    sram_pj: np.ndarray  # SRAM reads and writes (scales with V^2)
    transport_pj: np.ndarray  # bytes crossing the die to and from the cores (scales with V^2)
    phy_j: np.ndarray  # host memory PHYs and die-to-die links (their own supply)
    device_j: np.ndarray  # the memory devices' share of DRAM energy
    dram_bytes: np.ndarray


class StepPower(NamedTuple):
    """Power by block at a clock fraction, whole package, leakage excluded [W]."""

    voltage_fraction: np.ndarray
    step_s: np.ndarray
    core_w: np.ndarray  # MAC arrays, vector units
    sram_w: np.ndarray
    noc_w: np.ndarray  # on-chip transport
    phy_w: np.ndarray  # memory PHYs and die-to-die interfaces, dynamic and static
    clock_w: np.ndarray  # clocked baseline
    memory_w: np.ndarray  # memory devices
    leakage_factor: np.ndarray  # leakage at this voltage / at V_nom

    @property
    def die_w(self):
        return self.core_w + self.sram_w + self.noc_w + self.phy_w + self.clock_w


class OperatingPoint(NamedTuple):
    """The sustained operating point after throttling and the leakage-temperature balance."""

    clock_fraction: np.ndarray  # sustained / max clock
    power: StepPower
    leakage_power_w: np.ndarray
    module_power_w: np.ndarray  # (dies + memory) / VRM efficiency: the scope of tdp_w
    junction_temp_c: np.ndarray  # hot spot (grid model, or lumped mean + margin)
    junction_temp_mean_c: np.ndarray
    runaway: np.ndarray
    power_bad: np.ndarray  # cannot meet the limits even at the lowest clock


def _geometry(d, tech: Technology, c: ModelConstants) -> Geometry:
    """Area (:mod:`dse.area`), harvesting spares and the chiplet split (:mod:`dse.chiplet`)."""
    nd = tech.nodes.arrays
    md = tech.memories.arrays
    ni, mi = d["node_code"], d["memory_code"]
    cores, macs = d["cores"], d["macs_per_core"]
    density = area.effective_logic_density_mtr_mm2(
        nd["logic_density_mtr_mm2"][ni], c["logic_derate"]
    )
    tr_per_mac = np.array(
        [c["mac_transistors_bf16"], c["mac_transistors_fp8"], c["mac_transistors_int8"]]
    )[d["mac_dtype_code"]]
    a_mac = area.mac_array_area_mm2(cores, macs, tr_per_mac, density)
    lanes = d["vector_lanes"]
    lanes = np.where(
        np.isnan(lanes), area.default_vector_lanes(macs, c["vector_lanes_per_sqrt_mac"]), lanes
    )
    macro = nd["sram_macro_mbit_mm2"][ni]
    # register files sit in the core: its logic block (floorplan, clocked baseline)
    a_core = area.core_overhead_area_mm2(
        cores, lanes, c["core_fixed_transistors"], c["core_transistors_per_lane"], density
    ) + area.sram_area_mm2(d["register_file_mb"], macro, c["register_file_area_factor"])
    sram_factor = np.array([c["sram_area_factor"], c["scratchpad_area_factor"]])[d["sram_kind_code"]]
    a_sram = area.sram_area_mm2(d["sram_mb"], macro, sram_factor)
    a_phy = area.phy_area_mm2(
        d["memory_count"], md["phy_area_mm2_per_unit"][mi], _phy_area_factors(tech, c)[mi]
    )
    # harvesting and chiplets: the compute tiles (core + its SRAM + its uncore share) of
    # cores + spare_cores, split over `dies` identical dies, each with its PHY share, the
    # fixed uncore and (dies > 1) its die-to-die interface
    dies, spares, pkg_code = d["dies"], d["spare_cores"], d["package_code"]
    tile_mm2 = (a_mac + a_core + a_sram) * (1.0 + c["uncore_fraction"]) / cores
    cores_per_die = np.ceil(cores / dies)
    spares_per_die = np.floor(spares / dies)
    multi = dies > 1
    base_die = tile_mm2 * (cores_per_die + spares_per_die) + a_phy / dies + c["uncore_fixed_mm2"]
    edges = np.where(dies == 2, 1.0, 2.0)
    d2d_bw = np.where(multi, chiplet.d2d_bandwidth_gbps(base_die, pkg_code, edges, c), 0.0)
    d2d_mm2 = np.where(multi, chiplet.d2d_area_mm2(d2d_bw, pkg_code, c), 0.0)
    die_mm2 = base_die + d2d_mm2
    uncore_die_mm2 = die_mm2 - tile_mm2 * (cores_per_die + spares_per_die)
    tiles = cores_per_die + spares_per_die
    blocks = (
        (a_mac + a_core) / cores * tiles,
        a_sram / cores * tiles,
        a_phy / dies,
        die_mm2 - (a_mac + a_core + a_sram) / cores * tiles - a_phy / dies,
    )
    return Geometry(
        a_mac, a_core, a_sram, a_phy, tile_mm2, cores_per_die, spares_per_die, tiles,
        np.ceil(d["memory_count"] / dies), die_mm2, uncore_die_mm2, d2d_bw, blocks,
    )  # fmt: skip


def _memory_system(d, tech: Technology) -> MemorySystem:
    """Off-chip bandwidth and capacity: the memory table per unit, or the overrides."""
    md = tech.memories.arrays
    mi, mem_count = d["memory_code"], d["memory_count"]
    bw_gbps = np.where(
        np.isnan(d["memory_bandwidth_gbps"]),
        mem_count * md["bandwidth_gbps_per_unit"][mi],
        d["memory_bandwidth_gbps"],
    )
    is_none = md["capacity_gb_per_unit"][mi] == 0.0
    bw_gbps = np.where(
        is_none & np.isnan(d["memory_bandwidth_gbps"]), md["bandwidth_gbps_per_unit"][mi], bw_gbps
    )
    if "_refresh_fraction" in d:  # memory above its refresh-doubling temperature
        bw_gbps = bw_gbps * (1.0 - d["_refresh_fraction"] * md["refresh_bw_loss"][mi])
    cap_gb = np.where(
        np.isnan(d["memory_capacity_gb"]),
        mem_count * md["capacity_gb_per_unit"][mi],
        d["memory_capacity_gb"],
    )
    return MemorySystem(bw_gbps, cap_gb, is_none)


def _cost(d, tech: Technology, c: ModelConstants, geo: Geometry, mem: MemorySystem) -> Cost:
    """Dies per wafer, yield (harvested where there are spares) and unit cost (:mod:`dse.cost`)."""
    nd = tech.nodes.arrays
    md = tech.memories.arrays
    ni, mi = d["node_code"], d["memory_code"]
    cores, spares, dies, mem_count = d["cores"], d["spare_cores"], d["dies"], d["memory_count"]
    pkg_code = d["package_code"]
    die_mm2 = geo.die_area_mm2
    dpw = cost.dies_per_wafer(die_mm2, c["wafer_diameter_mm"])
    d0, alpha = nd["defect_density_per_cm2"][ni], nd["cluster_alpha"][ni]
    y = cost.negative_binomial_yield(die_mm2, d0, alpha)
    harvested = geo.spares_per_die > 0
    if harvested.any():  # sellable if >= cores_per_die of the tiles and the uncore are good
        h = np.flatnonzero(harvested)
        y[h] = harvest.harvested_yield(geo.tile_mm2[h], geo.uncore_die_mm2[h], geo.cores_per_die[h], geo.spares_per_die[h], d0[h], alpha[h])
    die_cost = cost.cost_per_good_die_usd(nd["wafer_cost_usd"][ni], dpw, y)
    mem_cost = cost.memory_cost_usd(mem.capacity_gb, md["cost_usd_per_gb"][mi])
    # one package model for one die and many: HBM stacks and several dies sit on an
    # interposer (or, if the design says so, an organic substrate: a violation with HBM),
    # a single die with board memory on an organic flip-chip substrate
    stacked = md["is_stacked"][mi]
    stacks = np.where(stacked, mem_count, 0.0)
    kind = np.where((dies > 1) | (stacks > 0), pkg_code, 0)
    pc = chiplet.package_cost_and_yield(die_mm2, dies, stacks, kind, c)
    unit_cost = chiplet.assembled_unit_cost_usd(die_cost, dies, mem_cost, pc.package_usd, pc.package_yield)
    # an uneven split over the dies, or stacked memory (HBM) on an organic substrate
    package_bad = (pkg_code == 0) & stacked & (mem_count > 0)
    multi = np.flatnonzero(dies > 1)  # one die always splits evenly (a float modulo is slow)
    if multi.size:
        package_bad[multi] |= (cores[multi] % dies[multi] != 0) | (spares[multi] % dies[multi] != 0)
    # the beachfront: each die's memory PHYs along the edges they may use
    d2d_edges = np.where(dies > 1, np.where(dies == 2, 1.0, 2.0), 0.0)
    sites = area.memory_sites(
        die_mm2, c["die_aspect_max"], stacked, d2d_edges, c["host_io_edge_mm"], md["phy_edge_mm_per_unit"][mi]
    )  # fmt: skip
    beachfront_bad = (mem_count > 0) & (geo.phys_per_die > sites)
    reticle_bad = die_mm2 > nd["reticle_mm2"][ni]
    program = _program_cost(d, tech, c, mem, die_mm2, y, unit_cost, stacks, pc)
    return Cost(dpw, y, die_cost, unit_cost, reticle_bad, package_bad, beachfront_bad, pc.oversize, *program)


def _column(arrays: dict[str, np.ndarray], name: str, idx) -> np.ndarray:
    """An optional technology column at the designs' rows (NaN where the table lacks it)."""
    col = arrays.get(name)
    return np.full(len(idx), np.nan) if col is None else col[idx]


def _program_cost(d, tech: Technology, c: ModelConstants, mem: MemorySystem, die_mm2, die_yield, unit_cost, stacks, pc):
    """NRE, test and cost at volume (:mod:`dse.cost`); embodied carbon (:mod:`dse.carbon`)."""
    nd, md = tech.nodes.arrays, tech.memories.arrays
    ni, mi, dies = d["node_code"], d["memory_code"], d["dies"]
    nre = cost.nre_usd(
        _column(nd, "mask_set_usd", ni), _column(nd, "design_nre_usd", ni),
        _column(nd, "ip_licence_usd", ni), d["nre_products"],
    )  # fmt: skip
    test = cost.test_cost_usd(
        die_mm2, dies, die_yield, pc.package_yield,
        c["test_usd_per_hour"], c["wafer_sort_s_per_mm2"], c["final_test_s_per_part"],
    )  # fmt: skip
    at_volume = cost.unit_cost_at_volume_usd(unit_cost, test, nre, d["volume"])
    cpa = carbon.carbon_per_area_gco2_per_cm2(
        _column(nd, "fab_energy_kwh_per_cm2", ni), _column(nd, "fab_grid_gco2_per_kwh", ni),
        _column(nd, "fab_gas_gco2_per_cm2", ni), c["fab_materials_gco2_per_cm2"],
    )  # fmt: skip
    die_kg = carbon.embodied_die_kgco2(die_mm2, die_yield, cpa)
    mem_kg = carbon.embodied_memory_kgco2(
        mem.capacity_gb, _column(md, "embodied_gco2_per_gb", mi), stacks, c["hbm_stacking_kgco2_per_stack"]
    )
    ics = dies + np.where(mem.is_none, 0.0, d["memory_count"])
    part_kg = carbon.embodied_part_kgco2(
        die_kg, dies, mem_kg, ics, c["package_kgco2_per_ic"],
        pc.interposer_mm2, c["interposer_kgco2_per_cm2"], pc.package_yield,
    )  # fmt: skip
    return nre, test, at_volume, part_kg


def _power_model(d, tech: Technology, c: ModelConstants, geo: Geometry) -> PowerModel:
    """The design's voltage-frequency law, static powers and heat path (:mod:`dse.power`).

    Voltage follows the absolute clock on the node (alpha-power law through the node's
    f_max at V_max); a declared clock that needs more than V_max is a ``timing``
    violation. The clocked baseline scales with the logic it clocks; the memory PHYs,
    die-to-die interfaces and memory devices draw static power whatever the workload.
    """
    nd = tech.nodes.arrays
    md = tech.memories.arrays
    ni, mi = d["node_code"], d["memory_code"]
    dies, mem_count = d["dies"], d["memory_count"]
    vnom = nd["vdd_nominal_v"][ni]
    vmax, vmin = nd["vdd_max_v"][ni] / vnom, nd["vdd_min_v"][ni] / vnom
    fmax = c["fmax_n7_ghz"] / nd["delay_factor"][ni]
    vth, alpha = c["vth_fraction"], c["alpha_power"]
    v_declared = power.voltage_for_clock(d["clock_ghz"], fmax, vmax, vmin, vth, alpha)
    timing_bad = v_declared > vmax * (1.0 + 1e-6)
    dibl = np.where(nd["planar"][ni] > 0, c["leakage_dibl_per_v_planar"], c["leakage_dibl_per_v_finfet"])
    # clocked logic: the core-logic and uncore blocks of every die
    density = area.effective_logic_density_mtr_mm2(nd["logic_density_mtr_mm2"][ni], c["logic_derate"])
    core_blk, _, _, rest_blk = geo.block_areas_mm2
    logic_mtr = (core_blk + rest_blk) * density * dies
    clock_w_per_ghz = power.clock_tree_power_w(
        logic_mtr, 1.0, 1.0, c["clock_energy_pj_per_mtr_cycle_45nm"], nd["energy_factor"][ni]
    )
    d2d_full_w = geo.d2d_bandwidth_gbps * 8e-3 * chiplet.d2d_energy_pj_per_bit(d["package_code"], c)
    static_die_w = mem_count * md["phy_static_w_per_unit"][mi] + c["d2d_static_fraction"] * d2d_full_w * dies
    background_w = np.where(md["capacity_gb_per_unit"][mi] > 0, mem_count, 0.0) * md["background_w_per_unit"][mi]
    background_load_w = background_w
    if "_refresh_fraction" in d:  # twice the refresh under load: its share of the background doubles
        background_load_w = background_w * (1.0 + d["_refresh_fraction"] * c["refresh_background_share"])
    tiers = np.array([
        c["r_sink_air_k_per_w"], c["r_sink_liquid_k_per_w"], c["r_sink_passive_k_per_w"],
        c["r_sink_air_1u_k_per_w"], c["r_sink_air_2u_k_per_w"], c["r_sink_immersion_k_per_w"],
    ])  # fmt: skip
    r_sink = np.where(np.isnan(d["r_sink_k_per_w"]), tiers[d["cooling_code"]], d["r_sink_k_per_w"])
    silicon_mm2 = geo.die_area_mm2 * dies  # all dies of the package share the heat sink
    r_th = thermal.thermal_resistance_k_per_w(silicon_mm2, c["r_package_k_mm2_per_w"], r_sink)
    return PowerModel(
        d["clock_ghz"], fmax, vmax, vmin, vnom, dibl, clock_w_per_ghz,
        core_blk / np.maximum(core_blk + rest_blk, 1e-12),
        nd["leakage_w_per_mm2_85c"][ni] * silicon_mm2, static_die_w, background_w, background_load_w,
        md["is_stacked"][mi].astype(bool), r_sink, r_th, c["hotspot_k_mm2_per_w"] / silicon_mm2,
        silicon_mm2, c["vrm_efficiency"],
        c["vrm_fixed_loss_fraction"] * d["tdp_w"], vth, alpha, timing_bad,
    )  # fmt: skip


def _voltage_fraction(pm: PowerModel, clock_ghz, idx):
    """V / V_nom that sustains ``clock_ghz`` (absolute) on each design's node."""
    return power.voltage_for_clock(
        clock_ghz, pm.fmax_ghz[idx], pm.vmax_fraction[idx], pm.vmin_fraction[idx], pm.vth_fraction, pm.alpha
    )


def _step_power(pm: PowerModel, perf: Performance, energy: Energy, s, idx) -> StepPower:
    """Power by block of the designs ``idx`` at clock fraction ``s`` (leakage excluded)."""
    clock = pm.clock_ghz[idx] * s
    v = _voltage_fraction(pm, clock, idx)
    v2 = v * v
    step_s = roofline.step_time_s(
        perf.clocked_s[idx], perf.ops.dram_s[idx], perf.counts, 0.0, s[:, None], perf.fixed_s[idx]
    )
    per_s = 1e-12 / step_s
    return StepPower(
        v,
        step_s,
        energy.logic_pj[idx] * v2 * per_s,
        energy.sram_pj[idx] * v2 * per_s,
        energy.transport_pj[idx] * v2 * per_s,
        energy.phy_j[idx] / step_s + pm.static_die_w[idx],
        pm.clock_w_per_ghz[idx] * clock * v2,
        energy.device_j[idx] / step_s + pm.background_load_w[idx],
        power.leakage_voltage_factor(v, pm.vdd_nominal_v[idx], pm.dibl_per_v[idx]),
    )


class IdleState(NamedTuple):
    """The design with a context loaded and no work: the lowest DVFS clock."""

    module_power_w: np.ndarray
    voltage_v: np.ndarray
    die_w: np.ndarray  # all die power (leakage included)
    temp_mean_c: np.ndarray
    temp_hot_c: np.ndarray  # lumped hot spot (mean + margin)


def _idle_state(d, c: ModelConstants, pm: PowerModel) -> IdleState:
    """Module power, voltage and temperatures with a context loaded and no work.

    The clocked baseline at ``dvfs_min_clock_fraction`` of the clock (at the voltage
    that clock needs, never below V_min), static interface power, memory background and
    leakage at the idle junction temperature; module power over the VRM efficiency.
    """
    clock = pm.clock_ghz * c["dvfs_min_clock_fraction"]
    v = _voltage_fraction(pm, clock, slice(None))
    die_w = pm.clock_w_per_ghz * clock * v * v + pm.static_die_w
    lvf = power.leakage_voltage_factor(v, pm.vdd_nominal_v, pm.dibl_per_v)
    t_mean, leak_w, _ = _leakage_balance(d, c, pm, die_w, pm.background_w, lvf, slice(None))
    module = (die_w + leak_w + pm.background_w) / pm.vrm_efficiency + pm.vrm_fixed_w
    heat = die_w + leak_w
    hot = t_mean + pm.k_hot_k_per_w * heat
    return IdleState(module, v * pm.vdd_nominal_v, heat, t_mean, hot)


def _leakage_balance(d, c: ModelConstants, pm: PowerModel, die_w, memory_w, leakage_factor, idx):
    """Leakage-temperature fixed point of the designs ``idx`` (:func:`dse.thermal.junction_temperature`).

    The die's non-leakage power ``die_w`` and the leakage at ``leakage_factor`` x its
    nominal-voltage value heat the die through R; HBM stacks (``memory_w``) raise the sink.
    Returns the die-mean temperature [degC], the leakage [W] from the heat balance
    T = T_sink + R (P_die + P_leak) — equal to the leakage law at the fixed point, finite
    (1 / (beta R)) at the runaway tangency — and the runaway flag.
    """
    r_th = pm.r_th_k_per_w[idx]
    sink_c = d["ambient_c"][idx] + pm.r_sink_k_per_w[idx] * np.where(pm.stacked[idx], memory_w, 0.0)
    t_mean, runaway = thermal.junction_temperature(
        die_w, r_th, sink_c, pm.leakage_ref_w[idx] * leakage_factor,
        c["leakage_ref_temp_c"], c["leakage_temp_coeff_per_k"],
    )  # fmt: skip
    return t_mean, (t_mean - sink_c) / r_th - die_w, runaway


def _design_metrics(d, c: ModelConstants, geo: Geometry, mem: MemorySystem, money: Cost):
    """The workload-independent metrics: area, peak, export class, memory, cost."""
    peak_tflops = 2.0 * d["cores"] * d["macs_per_core"] * d["clock_ghz"] * 1e-3
    tpp = export.total_processing_performance(peak_tflops, _DTYPE_BITS[d["mac_dtype_code"]])
    pd_ = export.performance_density(tpp, geo.die_area_mm2 * d["dies"])
    return {
        "die_area_mm2": geo.die_area_mm2,
        "peak_tflops": peak_tflops,
        "tpp": tpp,
        "performance_density": pd_,
        "export_class_code": export.export_class_code(tpp, pd_, c),
        "memory_bandwidth_gbps": mem.bandwidth_gbps,
        "memory_capacity_gb": mem.capacity_gb,
        "dies_per_wafer": money.dies_per_wafer,
        "yield": money.yield_fraction,
        "die_cost_usd": money.die_cost_usd,
        "unit_cost_usd": money.unit_cost_usd,
        "nre_usd": money.nre_usd,
        "test_cost_usd": money.test_cost_usd,
        "unit_cost_at_volume_usd": money.unit_cost_at_volume_usd,
        "embodied_co2_kg": money.embodied_co2_kg,
    }


def _op_kernels(wl: Workload) -> np.ndarray:
    """1 where an op runs as its own kernel, 0 where serving stacks fuse it into another.

    FlashAttention runs score, softmax and value product as one kernel; residual adds run
    in the following norm's kernel; a bias + ReLU (or add + ReLU) runs in the preceding
    convolution's epilogue.
    """
    return np.array(
        [not (op.name in _FUSED_OPS or op.name.endswith("_relu")) for op in wl.ops], dtype=float
    )


def _performance(d, wl: Workload, c: ModelConstants, geo: Geometry, mem: MemorySystem) -> Performance:
    """Per-op roofline at the max clock (:mod:`dse.roofline`), residency and capacity."""
    cores, macs, dt = d["cores"], d["macs_per_core"], d["mac_dtype_code"]
    ops = wl.op_arrays()
    b = float(wl.bytes_per_element)
    rate = _DTYPE_BITS[dt] / (8.0 * b)
    clock_hz = d["clock_ghz"] * GHZ
    side = np.sqrt(macs)
    sram_bytes = d["sram_mb"] * MIB
    tf = c["sram_tiling_fraction"]
    resident_space = (1.0 - tf) * sram_bytes
    weights_resident = wl.weight_bytes <= resident_space
    kv_resident = weights_resident & (wl.weight_bytes + wl.kv_cache_bytes <= resident_space)
    dram_bw = mem.bandwidth_gbps * GB * c["dram_efficiency"]
    sram_bw = cores * 2.0 * side * _DTYPE_BYTES[dt] * clock_hz * c["sram_bw_factor"]
    vec_flops = cores * side * c["vector_flops_per_cycle_per_row"] * clock_hz
    col = (slice(None), None)
    t = roofline.op_times(
        ops,
        bytes_per_element=b,
        cores=cores[col],
        array_side=side[col],
        clock_hz=clock_hz[col],
        rate=rate[col],
        vector_flops_per_s=vec_flops[col],
        tile_bytes=(tf * sram_bytes)[col],
        dram_bw_bytes_per_s=dram_bw[col],
        sram_bw_bytes_per_s=sram_bw[col],
        weights_resident=weights_resident[col],
        kv_resident=kv_resident[col],
        inputs_from_memory=wl.kind == "gemm",
        a_fused=_fused(wl, _A_FUSED),
        c_fused=_fused(wl, _C_FUSED),
        fill_cycles_per_side=c["mac_fill_cycles_per_side"],
        issue_efficiency=c["mac_issue_efficiency"],
        kv_read_efficiency=c["kv_read_efficiency"],
    )
    # multi-die packages all-reduce activations between the dies (Megatron-style split)
    coll = system.collectives_per_step(wl)
    d2d_s = chiplet.d2d_step_time_s(coll.message_bytes, coll.allreduces_per_step, d["dies"], np.maximum(geo.d2d_bandwidth_gbps, 1e-9))
    # a fixed cost per kernel: launched kernels pay it, statically scheduled chips do not
    by_model = np.where(d["execution_code"] == 1, c["op_overhead_static_s"], c["op_overhead_s"])
    overhead_s = np.where(np.isnan(d["op_overhead_us"]), by_model, d["op_overhead_us"] * 1e-6)
    kernels = _op_kernels(wl)
    cap_bytes = mem.capacity_gb * GB
    fits = (
        kv_resident
        | (wl.weight_bytes + wl.kv_cache_bytes <= cap_bytes)
        | (weights_resident & (wl.kv_cache_bytes <= cap_bytes))
    )
    return Performance(
        t, ops["count"], np.maximum(t.compute_s, t.sram_s),
        d2d_s + overhead_s * float(kernels @ ops["count"]), overhead_s, kernels,
        weights_resident, resident_space, fits, rate, sram_bw, dram_bw,
    )  # fmt: skip


def _energy(d, wl: Workload, tech: Technology, c: ModelConstants, geo: Geometry, perf: Performance) -> Energy:
    """Energy of one step (:mod:`dse.power`): operations and SRAM, on-chip transport,
    memory interfaces and devices, die-to-die links."""
    nd = tech.nodes.arrays
    md = tech.memories.arrays
    ni, mi = d["node_code"], d["memory_code"]
    ops, counts, t = wl.op_arrays(), perf.counts, perf.ops
    ef = nd["energy_factor"][ni]
    e_mac_45 = {
        "bf16": c["mac_energy_pj_45nm_bf16"],
        "fp8": c["mac_energy_pj_45nm_fp8"],
        "int8": c["mac_energy_pj_45nm_int8"],
    }[wl.dtype]
    e_mac = power.mac_energy_pj(e_mac_45, ef, c["operand_delivery_factor"], np.sqrt(d["macs_per_core"]))
    e_sram = power.sram_energy_pj_per_byte(
        d["sram_mb"] * MIB / d["cores"], c["sram_energy_pj_per_byte_45nm_8kb"], ef
    )
    e_vec = c["eltwise_energy_pj_per_flop_45nm"] * ef
    gemm_flops = np.where(ops["is_gemm"], ops["flops"], 0.0) * counts
    logic_pj = e_mac * gemm_flops.sum() / 2.0 + e_vec * float((ops["eltwise_flops"] * counts).sum())
    sram_pj = e_sram * (t.sram_bytes * counts).sum(axis=1)
    dram_bytes = (t.dram_bytes * counts).sum(axis=1)
    coll = system.collectives_per_step(wl)
    d2d_bits = chiplet.d2d_step_energy_j(coll.message_bytes, coll.allreduces_per_step, d["dies"], 1e12)
    # every DRAM and die-to-die byte crosses a die between its port and the cores
    e_wire = power.transport_energy_pj_per_byte(geo.die_area_mm2, c["wire_pj_per_bit_mm"], c["transport_distance_factor"])
    transport_pj = e_wire * (dram_bytes + d2d_bits / 8.0)
    phy_j = dram_bytes * 8.0 * md["phy_pj_per_bit"][mi] * 1e-12 + d2d_bits * chiplet.d2d_energy_pj_per_bit(d["package_code"], c) * 1e-12
    device_j = dram_bytes * 8.0 * (md["energy_pj_per_bit"][mi] - md["phy_pj_per_bit"][mi]) * 1e-12
    return Energy(logic_pj, sram_pj, transport_pj, phy_j, device_j, dram_bytes)


def _operating_point(d, c: ModelConstants, geo: Geometry, pm: PowerModel, perf: Performance, energy: Energy) -> OperatingPoint:
    """Thermal limits, DVFS throttling and the leakage-temperature fixed point (:mod:`dse.thermal`).

    Module power (dies and memory over the VRM efficiency, plus the fixed regulator loss)
    is held to ``tdp_w`` and the hot spot to ``tj_max_c``. The clock fraction is the
    largest that meets both, found to 1e-7 by a root finder on the slack that honours the
    leakage-temperature balance at every step (compiled in :mod:`dse.dvfs`; vectorised
    here without numba), so a throttled design sits at its binding limit. HBM stacks
    share the heat sink (their power raises the sink temperature); board memories do not.
    The lumped hot spot is the die mean plus ``hotspot_k_mm2_per_w`` x die power density;
    designs on the grid model throttle on their own hot spot (:func:`_grid_thermal`).
    """
    ambient, tj_max, tdp = d["ambient_c"], d["tj_max_c"], d["tdp_w"]
    k_hot = pm.k_hot_k_per_w
    eta = pm.vrm_efficiency

    def balance(p: StepPower, idx):
        return _leakage_balance(d, c, pm, p.die_w, p.memory_w, p.leakage_factor, idx)

    def slack(s, idx):
        """> 0 where the clock fraction s breaks a limit (module power or hot spot)."""
        p = _step_power(pm, perf, energy, s, idx)
        t_mean, leak, runaway = balance(p, idx)
        module = (p.die_w + leak + p.memory_w) / eta + pm.vrm_fixed_w[idx]
        hot = t_mean + k_hot[idx] * (p.die_w + leak)
        over = np.maximum(module / tdp[idx] - 1.0, (hot - tj_max[idx]) / (tj_max[idx] - ambient[idx]))
        return np.where(runaway, 1.0, over)

    n = len(d["cores"])
    if dvfs.available():  # the same equations, compiled, one design at a time
        s, power_bad = _dvfs_solve(d, c, pm, perf, energy)
    else:
        s = np.ones(n)
        power_bad = np.zeros(n, dtype=bool)
        hot = np.flatnonzero(slack(s, slice(None)) > 0.0)
        if hot.size:
            s[hot], power_bad[hot] = _largest_feasible(slack, hot, c["dvfs_min_clock_fraction"])
    grid_rows = np.flatnonzero(d["thermal_model_code"] == 1)
    grid = _grid_thermal(grid_rows, d, c, geo, pm, perf, energy) if grid_rows.size else None
    if grid is not None:
        s[grid_rows] = grid["s"]
        power_bad[grid_rows] |= grid["power_bad"]
    p = _step_power(pm, perf, energy, s, slice(None))
    tj_mean, p_leak, runaway = balance(p, slice(None))
    tj = tj_mean + k_hot * (p.die_w + p_leak)
    if grid is not None:
        # a grid design in runaway keeps the lumped model's finite bound (tangency point)
        g, ran = grid_rows, grid["runaway"]
        tj[g] = np.where(ran, tj[g], grid["peak_c"])
        p_leak[g] = np.where(ran, p_leak[g], grid["leakage_w"])
        runaway[g] = ran | runaway[g]
    module = (p.die_w + p_leak + p.memory_w) / eta + pm.vrm_fixed_w
    return OperatingPoint(s, p, p_leak, module, tj, tj_mean, runaway, power_bad)


def _dvfs_solve(d, c: ModelConstants, pm: PowerModel, perf: Performance, energy: Energy):
    """The compiled throttle (:func:`dse.dvfs.largest_feasible_clock`) on every design."""
    n = len(d["cores"])
    step, table = power.inverse_speed_table(pm.vth_fraction, pm.alpha)
    columns = dict(
        clock_ghz=pm.clock_ghz,
        speed_scale=power.alpha_power_speed(pm.vmax_fraction, pm.vth_fraction, pm.alpha) / pm.fmax_ghz,
        vmin_fraction=pm.vmin_fraction, fixed_s=perf.fixed_s,
        e_v2_j=(energy.logic_pj + energy.sram_pj + energy.transport_pj) * 1e-12,
        phy_j=energy.phy_j, static_w=pm.static_die_w, clock_w_per_ghz=pm.clock_w_per_ghz,
        device_j=energy.device_j, background_w=pm.background_load_w, ambient_c=d["ambient_c"],
        stacked=pm.stacked, r_sink_k_per_w=pm.r_sink_k_per_w, leakage_ref_w=pm.leakage_ref_w,
        dibl_per_v=pm.dibl_per_v, vdd_nominal_v=pm.vdd_nominal_v, r_th_k_per_w=pm.r_th_k_per_w,
        vrm_fixed_w=pm.vrm_fixed_w, k_hot_k_per_w=pm.k_hot_k_per_w, tdp_w=d["tdp_w"], tj_max_c=d["tj_max_c"],
    )  # fmt: skip
    rows = np.empty((len(dvfs.ROW), n))  # filled a column at a time, read a design at a time
    for j, name in enumerate(dvfs.ROW):
        rows[j] = columns[name]
    constants = (pm.vrm_efficiency, c["leakage_temp_coeff_per_k"], c["leakage_ref_temp_c"], step)
    return dvfs.largest_feasible_clock(
        c["dvfs_min_clock_fraction"], rows.T, perf.clocked_s, perf.ops.dram_s, perf.counts, table, constants
    )


def _largest_feasible(slack, idx, s_min: float):
    """Largest clock fraction in [s_min, 1] with ``slack(s, idx) <= 0`` (slack rises with s).

    The vectorised fallback of :mod:`dse.dvfs` (used without numba): a bisection of
    ``_THROTTLE_BISECT`` steps. Returns the feasible end of the bracket, and where
    ``s_min`` itself is infeasible ``s_min`` and a flag.
    """
    lo = np.full(idx.size, s_min)
    bad = slack(lo, idx) > 0.0
    hi = np.ones(idx.size)
    for _ in range(_THROTTLE_BISECT):
        mid = 0.5 * (lo + hi)
        ok = slack(mid, idx) <= 0.0
        lo, hi = np.where(ok, mid, lo), np.where(ok, hi, mid)
    return np.where(bad, s_min, lo), bad


def _workload_metrics(d, wl: Workload, money: Cost, perf: Performance, energy_rec: Energy, op: OperatingPoint):
    """Step time, throughput, energy and power at the operating point."""
    n = len(d["cores"])
    ops = wl.op_arrays()
    step_s = op.power.step_s
    energy = op.module_power_w * step_s
    items = wl.items_per_step
    clock_hz = d["clock_ghz"] * GHZ
    peak_wl_flops = 2.0 * d["cores"] * d["macs_per_core"] * clock_hz * perf.rate * op.clock_fraction
    out = dict(
        latency_s=step_s,
        throughput_per_s=items / step_s,
        energy_j=energy,
        energy_per_item_j=energy / items,
        power_w=op.module_power_w,
        sustained_clock_ghz=d["clock_ghz"] * op.clock_fraction,
        junction_temp_c=op.junction_temp_c,
        junction_temp_mean_c=op.junction_temp_mean_c,
        leakage_power_w=op.leakage_power_w,
        memory_power_w=op.power.memory_w,
        cost_per_throughput_usd=money.unit_cost_usd * step_s / items,
        compute_utilization=float((ops["flops"] * perf.counts).sum()) / (step_s * peak_wl_flops),
        dram_bytes=energy_rec.dram_bytes,
        weights_resident=np.broadcast_to(perf.weights_resident, (n,)).copy(),
    )
    if wl.item_unit == "token":
        out["tokens_per_s"] = items / step_s
    return out


def _program_metrics(d, wl: Workload, out: dict) -> dict[str, np.ndarray]:
    """The program over the service life, from the chain's final metrics.

    Cost per throughput at volume (the unit cost at volume over ``throughput_per_s``, as
    ``cost_per_throughput_usd`` is the unit cost over it), the operational carbon of the
    power at the duty cycle and the idle power the rest of the time over
    ``service_years`` (:func:`dse.carbon.operational_kgco2`), and the life-cycle carbon per
    million items served (:func:`dse.carbon.co2_per_million_items_kg`).
    """
    throughput = out["throughput_per_s"]
    op_kg = carbon.operational_kgco2(
        out["power_w"], out["idle_power_w"], d["duty_cycle"], d["service_years"], d["grid_gco2_per_kwh"]
    )
    per_million = carbon.co2_per_million_items_kg(
        out["embodied_co2_kg"], op_kg, throughput, d["duty_cycle"], d["service_years"]
    )
    res = {
        "cost_per_throughput_at_volume_usd": out["unit_cost_at_volume_usd"] / throughput,
        "operational_co2_kg": op_kg,
        "co2_per_million_items_kg": per_million,
    }
    if wl.item_unit == "token":
        res["co2_per_million_tokens_kg"] = per_million
    return res


def host_prefill_s(c, prompt_tokens):
    """Host time a serving framework spends on prompt tokens before the first token [s]:
    tokenisation, input preparation and scheduling, ``host_s_per_prompt_token`` per token.
    It runs on the server's CPU, not on the chip: chip-independent, it appears in the
    time to first token (``ttft_s``) but not in the chip's step time (``latency_s``)."""
    return c["host_s_per_prompt_token"] * prompt_tokens


class Reliability(NamedTuple):
    """Wear-out, memory temperature and power delivery at the operating point."""

    supply_current_a: np.ndarray  # die current at the core voltage (load)
    current_density_a_per_mm2: np.ndarray  # per mm2 of silicon
    memory_temp_c: np.ndarray  # NaN without off-chip memory
    fit_em: np.ndarray  # duty-weighted failure rates of the mechanisms [FIT]
    fit_tddb: np.ndarray
    fit_tc: np.ndarray
    bti_years: np.ndarray  # until BTI uses up the guard band
    fit: np.ndarray  # sum of the rates
    lifetime_years: np.ndarray  # at lifetime_failure_fraction, BTI included
    mechanism_code: np.ndarray  # index into reliability.MECHANISMS
    power_delivery_bad: np.ndarray
    memory_temp_bad: np.ndarray
    refresh_hot: np.ndarray  # memory above its refresh-doubling temperature


def _reliability(d, tech: Technology, c: ModelConstants, pm: PowerModel, op: OperatingPoint, idle: IdleState) -> Reliability:
    """Lifetime under the load profile, memory temperature and supply current (:mod:`dse.reliability`).

    The chip alternates between the operating point (``duty_cycle`` of the time) and the
    idle state. Electromigration (current density and hot-spot temperature), gate-oxide
    breakdown (voltage and hot spot) and thermal cycling (the die-mean swing from idle to
    load, ``load_cycles_per_day``) are failure rates scaled from a qualification point
    where they spend equal shares of the design-life budget; the rates add (SOFR) and the
    lifetime is the time to ``lifetime_failure_fraction`` — or, if sooner, the time BTI
    takes to use up the clock guard band. HBM stacks sit on the shared heat sink, board
    memories in the air stream; the supply current per mm2 of silicon is held to the
    bump limit (``power_delivery``).
    """
    md = tech.memories.arrays
    mi, count = d["memory_code"], d["memory_count"]
    p = op.power
    v_load = p.voltage_fraction * pm.vdd_nominal_v
    heat = p.die_w + op.leakage_power_w
    current = heat / v_load
    density = current / pm.silicon_mm2
    node = _wear_out_nodes(tech, c, pm.vth_fraction, pm.alpha)  # per node, gathered per design
    ni = d["node_code"]
    columns = dict(
        j_load=density, t_hot=op.junction_temp_c, v_load=v_load, t_mean=op.junction_temp_mean_c,
        j_idle=idle.die_w / idle.voltage_v / pm.silicon_mm2, t_idle_hot=idle.temp_hot_c,
        v_idle=idle.voltage_v, t_idle_mean=idle.temp_mean_c,
        tddb_log_life_ref=node["tddb_log_life_ref"][ni], v_ref=node["v_ref"][ni], vth=node["vth"][ni],
        log_a0=node["log_a0"][ni], duty=d["duty_cycle"], cycles=d["load_cycles_per_day"],
    )  # fmt: skip
    fit_em, fit_tddb, fit_tc, fit, bti_years, lifetime, mechanism = _wear_out(columns, _wear_out_constants(c, pm.alpha), c)
    # memory: HBM on the shared sink (the die's and the stacks' heat) plus its own stack;
    # board memories in the air stream at the ambient temperature
    has_mem = (md["capacity_gb_per_unit"][mi] > 0) & (count > 0)
    per_unit = p.memory_w / np.maximum(count, 1)
    base = d["ambient_c"] + np.where(pm.stacked, pm.r_sink_k_per_w * (heat + p.memory_w), 0.0)
    mem_t = np.where(has_mem, base + md["r_unit_k_per_w"][mi] * per_unit, np.nan)
    return Reliability(
        current, density, mem_t, fit_em, fit_tddb, fit_tc, bti_years, fit, lifetime,
        mechanism, density > c["bump_current_limit_a_per_mm2"], has_mem & (mem_t > md["max_temp_c"][mi]),
        has_mem & (mem_t > md["refresh_temp_c"][mi]),
    )  # fmt: skip


def _wear_out_nodes(tech: Technology, c: ModelConstants, vth_fraction: float, alpha: float) -> dict[str, np.ndarray]:
    """Per node of the tables: the TDDB log-life at the qualification point (the node's
    V_max: foundries qualify the oxide for the voltage range they allow), the threshold
    voltage and ln of the BTI prefactor calibrated at the node's nominal voltage."""
    nd = tech.nodes.arrays
    vnom = nd["vdd_nominal_v"]
    vth = vth_fraction * vnom
    a0 = reliability.bti_prefactor(
        c["bti_ref_delay_increase"], vnom, vth, c["bti_ref_temp_c"], c["bti_ref_years"], c["bti_ref_duty"],
        c["bti_activation_energy_ev"], c["bti_voltage_exponent"], c["bti_time_exponent"], alpha,
    )  # fmt: skip
    return {
        "tddb_log_life_ref": reliability.tddb_log_life(nd["vdd_max_v"], c["reliability_ref_temp_c"]),
        "v_ref": nd["vdd_max_v"],
        "vth": vth,
        "log_a0": np.log(a0),
    }


def _wear_out_constants(c: ModelConstants, alpha: float) -> dict[str, float]:
    """The constants of the wear-out model (:data:`dse.wearout.CONSTANTS`) from the table."""
    return dict(
        share_fit=float(reliability.budget_fit(c["design_life_years"], c["design_life_failure_fraction"], 3)),
        j_ref=c["bump_current_limit_a_per_mm2"], t_ref_c=c["reliability_ref_temp_c"],
        em_n=c["em_exponent_n"], em_ea=c["em_activation_energy_ev"], tc_ref_dt=c["tc_ref_delta_t_k"],
        tc_ref_cycles=c["tc_ref_cycles_per_day"], tc_q=c["tc_exponent_q"],
        hazard=-math.log1p(-c["lifetime_failure_fraction"]), bti_ea=c["bti_activation_energy_ev"],
        bti_gamma=c["bti_voltage_exponent"], bti_n=c["bti_time_exponent"], bti_ac_duty=c["bti_ac_duty"],
        bti_guard_band=c["bti_guard_band"], alpha=alpha,
    )  # fmt: skip


def _wear_out(x: dict[str, np.ndarray], k: dict[str, float], c: ModelConstants):
    """Failure rates, BTI life, lifetime and limiting mechanism of the designs whose
    inputs are the columns ``x`` (:data:`dse.wearout.COLUMNS`): compiled when numba is
    there (:mod:`dse.wearout`), else with the numpy functions (the same formulas)."""
    if not wearout.available():
        return _wear_out_numpy(x, k, c)
    w = wearout.wear_out(x, tuple(k[name] for name in wearout.CONSTANTS)).T
    return (*w[:6], w[6].astype(np.intp))


def _wear_out_numpy(x, k, c):
    """The reliability stage's wear-out with the numpy functions of :mod:`dse.reliability`
    (the fallback of :mod:`dse.wearout`; the same formulas)."""
    duty = x["duty"]
    part = np.flatnonzero(duty < 1.0)  # designs that spend time idle (the rest: load only)
    share, t_ref = k["share_fit"], k["t_ref_c"]

    def em(j, t):
        return reliability.electromigration_fit(j / k["j_ref"], t, share, k["em_n"], k["em_ea"], t_ref)

    def with_idle(load, idle_rate):
        """Duty-weighted rate: the load rate where duty_cycle = 1, else the mix."""
        if not part.size:
            return load
        mixed = load.copy()
        mixed[part] = reliability.duty_weighted(load[part], idle_rate(part), duty[part])
        return mixed

    t_hot, t_idle, v_ref = x["t_hot"], x["t_idle_hot"], x["v_ref"]
    fit_em = with_idle(em(x["j_load"], t_hot), lambda i: em(x["j_idle"][i], t_idle[i]))
    fit_tddb = with_idle(
        reliability.tddb_fit(x["v_load"], v_ref, t_hot, share, t_ref),
        lambda i: reliability.tddb_fit(x["v_idle"][i], v_ref[i], t_idle[i], share, t_ref),
    )  # fmt: skip
    swing = np.maximum(x["t_mean"] - x["t_idle_mean"], 0.0)
    cycles = np.where(duty > 0.0, x["cycles"], 0.0)
    fit_tc = reliability.thermal_cycling_fit(swing, cycles, share, k["tc_ref_dt"], k["tc_ref_cycles"], k["tc_q"])
    # a design far past every limit can overflow a rate: report the largest float
    fit_em, fit_tddb, fit_tc = (np.minimum(f, _FLOAT_MAX) for f in (fit_em, fit_tddb, fit_tc))
    fit = np.minimum(fit_em + fit_tddb + fit_tc, _FLOAT_MAX)
    sofr_years = reliability.lifetime_years(fit, c["lifetime_failure_fraction"])
    bti_kw = dict(activation_energy_ev=k["bti_ea"], voltage_exponent=k["bti_gamma"], time_exponent=k["bti_n"])
    stress = np.full(len(duty), k["bti_ac_duty"])  # stress time per calendar time
    if part.size:
        i = part
        stress[i] = reliability.bti_equivalent_duty(
            x["v_load"][i], t_hot[i], x["v_idle"][i], t_idle[i], duty[i], k["bti_ac_duty"], **bti_kw
        )  # fmt: skip
    with np.errstate(divide="ignore"):
        bti_years = reliability.bti_lifetime_years(
            x["v_load"], x["vth"], t_hot, k["bti_guard_band"], 1.0, np.exp(x["log_a0"]), alpha=k["alpha"], **bti_kw
        ) / stress  # fmt: skip
    lifetime = np.minimum(sofr_years, bti_years)
    mechanism = np.where(bti_years < sofr_years, 3, np.argmax(np.stack([fit_em, fit_tddb, fit_tc]), axis=0))
    return fit_em, fit_tddb, fit_tc, fit, bti_years, lifetime, mechanism


def _violation_mask(
    *, reticle, capacity=False, power=False, runaway=False, package=False, system=False,
    timing=False, power_delivery=False, memory_temp=False, beachfront=False, interposer=False,
    slo=False,
):  # fmt: skip
    """Bit mask of :data:`VIOLATIONS` (bit i set = VIOLATIONS[i] violated)."""
    flags = dict(
        reticle=reticle, memory_capacity=capacity, power=power, thermal_runaway=runaway,
        package=package, system_size=system, timing=timing, power_delivery=power_delivery,
        memory_temp=memory_temp, beachfront=beachfront, interposer_size=interposer, slo=slo,
    )  # fmt: skip
    mask = np.zeros(np.shape(reticle), dtype=np.int64)
    for i, name in enumerate(VIOLATIONS):
        mask |= np.asarray(flags[name]).astype(np.int64) << i
    return mask


def _block_powers_per_die(pm: PowerModel, p: StepPower, dies, idx) -> dict[str, np.ndarray]:
    """One die's dynamic power by floorplan block: the clocked baseline split between core
    logic and the uncore by area, on-chip transport in the uncore (NoC, L2) [W]."""
    share = pm.core_clock_share[idx]
    return {
        "core": (p.core_w + p.clock_w * share) / dies,
        "sram": p.sram_w / dies,
        "phy": p.phy_w / dies,
        "uncore": (p.noc_w + p.clock_w * (1.0 - share)) / dies,
    }


def _detail_arrays(d, tech: Technology, geo: Geometry, pm: PowerModel, perf: Performance, energy: Energy, op: OperatingPoint):
    """Per-op and per-block arrays behind the roofline and thermal-map plots."""
    dies = d["dies"]
    p = op.power
    return {
        "_ops": perf.ops,
        "_op_overhead_s": perf.op_overhead_s,
        "_kernels": perf.kernels,
        "_clock_fraction": op.clock_fraction,
        "_sram_bw": perf.sram_bw_bytes_per_s,
        "_dram_bw": perf.dram_bw_bytes_per_s,
        "_rate": perf.rate,
        "_power_by_kind": _block_powers_per_die(pm, p, dies, slice(None)),
        "_power_terms": {
            "compute": p.core_w, "sram": p.sram_w, "on-chip transport": p.noc_w,
            "memory PHY and links": p.phy_w, "clock and control": p.clock_w,
            "leakage": op.leakage_power_w, "memory devices": p.memory_w,
            "VRM loss": (op.module_power_w - pm.vrm_fixed_w) * (1.0 - pm.vrm_efficiency) + pm.vrm_fixed_w,
        },  # fmt: skip
        "_areas": geo.block_areas_mm2,
        "_tiles_per_die": geo.tiles_per_die,
        "_phys_per_die": geo.phys_per_die,
        "_r_sink": pm.r_sink_k_per_w * dies,
        "_sink_c": d["ambient_c"] + pm.r_sink_k_per_w * np.where(pm.stacked, p.memory_w, 0.0),
        "_leak_density_v": tech.nodes.arrays["leakage_w_per_mm2_85c"][d["node_code"]] * p.leakage_factor,
    }


def _system_metrics(out, d, wl, tech, c, weights_resident, resident_space, cap_bytes, fits, is_none):
    """System metrics; with ``system = "auto"`` a system of chips sized to hold the model.

    Chips hold the weights and KV cache in their off-chip memory (SRAM-only designs: in the
    weights-resident share of their SRAM); :func:`dse.system.split_system` finds the
    smallest tensor x pipeline split whose degrees divide the heads, MLP widths and layers,
    with the batch cut into micro-batches across the stages. Each distinct split
    evaluates one chip on its shard of one micro-batch
    (:func:`dse.system.shard_workload`: the chain itself, so residency, throttling and
    thermal apply to the shard), and :func:`dse.system.system_performance` adds the
    all-reduces and stage hops over the link. The chip's own metrics of such a design
    (``latency_s``, ``power_w``, ``junction_temp_c``, ``dram_bytes``, its violations, ...)
    are then those of one chip in the system running its shard; ``system = "single"``
    gives the whole model on one chip. Designs with ``system = "single"`` (or that fit on
    one chip, or non-LLM workloads) report their own metrics.
    """
    n = len(d["cores"])
    items = wl.items_per_step
    res = {
        "system_chips": np.ones(n),
        "system_tp": np.ones(n),
        "system_pp": np.ones(n),
        "system_microbatches": np.ones(n),
        "system_latency_s": out["latency_s"].copy(),
        "system_throughput_per_s": out["throughput_per_s"].copy(),
        "system_energy_per_item_j": out["energy_per_item_j"].copy(),
        "system_cost_usd": out["unit_cost_usd"].copy(),
        "system_cost_per_throughput_usd": out["cost_per_throughput_usd"].copy(),
    }
    bad = np.zeros(n, dtype=bool)
    auto = np.flatnonzero(d["system_code"] == 1)
    if auto.size and wl.model_config is not None and wl.kind in ("llm-decode", "llm-prefill"):
        capacity = np.where(is_none, resident_space, cap_bytes)[auto]
        size = system.split_system(wl, capacity, d["tp_max"][auto])
        bad[auto] = ~size.fits
        multi = np.flatnonzero(size.fits & (size.chips > 1))
        splits = {(int(size.tp[j]), int(size.pp[j]), int(size.microbatches[j])) for j in multi}
        for tp, pp, mb in sorted(splits):
            sel = multi[(size.tp[multi] == tp) & (size.pp[multi] == pp) & (size.microbatches[multi] == mb)]
            rows = auto[sel]
            sub_d = {k: v[rows] for k, v in d.items()}
            sub_d["system_code"] = np.zeros(rows.size, dtype=np.intp)
            b = -(-wl.batch // mb)  # sequences of a micro-batch
            shard = system.shard_workload(wl, tp, pp, batch=b)
            sub = _evaluate_arrays(sub_d, shard, tech, c, False)
            whole = system.collectives_per_step(wl)  # all layers' exchanges, one micro-batch's tensors
            coll = whole._replace(message_bytes=whole.message_bytes * b / wl.batch, stage_bytes=whole.stage_bytes * b / wl.batch)
            link_i = d["link_code"][rows]

            def pick(attr, link_i=link_i):
                return _link_values(link_i, attr)

            chips = size.chips[sel]
            perf = system.system_performance(
                system.SystemSize(chips, size.tp[sel], size.pp[sel], size.fits[sel]),
                sub["latency_s"],
                coll,
                items,
                pick("bandwidth_gbps"),
                pick("latency_us"),
                pick("energy_pj_per_bit"),
                (sub["energy_j"] - sub["leakage_power_w"] * sub["latency_s"]) * chips,
                sub["leakage_power_w"],
                out["unit_cost_usd"][rows],
                pick("usd_per_chip"),
                True,
                microbatches=float(mb),
                feedback=wl.kind == "llm-decode",
            )
            # the chip's own metrics: one chip of the system on its shard; it holds the
            # weights of its shard and the KV cache of every micro-batch for its layers
            for key, value in sub.items():
                if key in out and not key.startswith("system_") and isinstance(value, np.ndarray):
                    out[key][rows] = value
            stage_fits = shard.weight_bytes + mb * shard.kv_cache_bytes <= capacity[sel]
            capacity_bit = np.int64(1 << VIOLATIONS.index("memory_capacity"))
            out["violation_mask"][rows] = (sub["violation_mask"] & ~capacity_bit) | (
                (~stage_fits).astype(np.int64) * capacity_bit
            )
            res["system_chips"][rows] = chips
            res["system_tp"][rows] = tp
            res["system_pp"][rows] = pp
            res["system_microbatches"][rows] = mb
            res["system_latency_s"][rows] = perf.latency_s
            res["system_throughput_per_s"][rows] = perf.throughput_per_s
            res["system_energy_per_item_j"][rows] = perf.energy_per_item_j
            res["system_cost_usd"][rows] = perf.system_cost_usd
            res["system_cost_per_throughput_usd"][rows] = perf.cost_per_throughput_usd
        # a system that holds the model clears the single chip's capacity violation
        held = auto[size.fits & (size.chips == 1)]
        out["violation_mask"][held] &= ~np.int64(1 << VIOLATIONS.index("memory_capacity"))
    out["violation_mask"] |= bad.astype(np.int64) << VIOLATIONS.index("system_size")
    out.update(res)


def _grid_thermal(rows, d, c, geo: Geometry, pm: PowerModel, perf: Performance, energy: Energy):
    """Hot-spot throttling and temperatures of the designs ``rows`` on the 2-D grid model.

    Without leakage the grid model is linear: the temperature-rise map is
    sum_k P_k(s) R_k with R_k the rise per watt of block kind k (core logic, SRAM, PHY,
    uncore) (:func:`dse.thermal_grid.kind_responses_k_per_w`). The clock fraction is the
    largest s with max_cells(sum_k P_k(s) R_k) + R_sink P_stack +
    P_leak(T_j,max) R_lumped <= T_j,max - T_a (leakage bounded by its value at the limit
    everywhere: a conservative, uniform map whose rise per watt is the lumped R in every
    cell) and module power within the TDP. Then one leakage-coupled grid solve at that
    clock gives the reported hot-spot and mean temperatures, leakage and runaway.
    """
    from dse.spec import SRAM_LAYOUTS
    from dse.thermal_grid import hotspot_stack, kind_responses_k_per_w, solve_designs_batch

    beta, t_ref, smin = c["leakage_temp_coeff_per_k"], c["leakage_ref_temp_c"], c["dvfs_min_clock_fraction"]
    eta = pm.vrm_efficiency
    stack = hotspot_stack(c["r_package_k_mm2_per_w"])
    a_core, a_sram, a_phy, a_unc = (a[rows] for a in geo.block_areas_mm2)
    ambient, tj_max, tdp = d["ambient_c"][rows], d["tj_max_c"][rows], d["tdp_w"][rows]
    # the grid solves one die of the package; each die sees 1/dies of the heat sink
    dies_ = d["dies"]
    r_lumped = pm.r_th_k_per_w[rows]
    r_sink = pm.r_sink_k_per_w
    leak_density = pm.leakage_ref_w / pm.silicon_mm2
    leak_tjmax = pm.leakage_ref_w[rows] * np.exp(beta * (tj_max - t_ref))
    leak_tdp = pm.leakage_ref_w[rows] * np.exp(beta * (ambient + r_lumped * tdp - t_ref))
    out = {k: np.empty(rows.size) for k in ("s", "peak_c", "leakage_w")}
    out["power_bad"] = np.zeros(rows.size, dtype=bool)
    out["runaway"] = np.zeros(rows.size, dtype=bool)
    layout = d["sram_layout_code"][rows]
    cells = d["thermal_grid_cells"][rows].astype(int)
    for lay in np.unique(layout):
        for nx in np.unique(cells[layout == lay]):
            sel = np.flatnonzero((layout == lay) & (cells == nx))
            idx = rows[sel]
            resp = kind_responses_k_per_w(
                a_core[sel],
                a_sram[sel],
                a_phy[sel],
                a_unc[sel],
                geo.tiles_per_die[idx],
                geo.phys_per_die[idx],
                r_sink_k_per_w=r_sink[idx] * dies_[idx],
                sram_layout=SRAM_LAYOUTS[lay],
                stack=stack,
                nx=int(nx),
            )[:, :4]  # core, sram, phy, uncore

            leak_scale = np.ones(sel.size)  # grid / lumped leakage (hot cells leak more)

            def blocks(sv, idx=idx):
                p = _step_power(pm, perf, energy, sv, idx)
                kinds = _block_powers_per_die(pm, p, dies_[idx], idx)
                stack_w = np.where(pm.stacked[idx], p.memory_w, 0.0)
                return p, kinds, stack_w

            def bad(sv, sel=sel, idx=idx, resp=resp, scale=leak_scale):
                p, kinds, stack_w = blocks(sv)
                per_die = np.stack([kinds[k] for k in ("core", "sram", "phy", "uncore")], axis=1)
                rise = np.einsum("bk,bkyx->byx", per_die, resp).reshape(len(sv), -1).max(axis=1)
                rise += r_sink[idx] * stack_w + leak_tjmax[sel] * p.leakage_factor * r_lumped[sel]
                module = (p.die_w + scale * leak_tdp[sel] * p.leakage_factor + p.memory_w) / eta + pm.vrm_fixed_w[idx]
                return (rise > tj_max[sel] - ambient[sel]) | (module > tdp[sel])

            for _ in range(3):  # refine the leakage estimate of the TDP check with the grid's
                hi = np.ones(sel.size)  # the grid judges its own hot spot, not the lumped margin
                lo = np.full(sel.size, smin)
                ok_hi = ~bad(hi)
                too_hot = bad(lo)
                for _ in range(_BISECTION_STEPS):
                    mid = 0.5 * (lo + hi)
                    b = bad(mid)
                    hi = np.where(b, mid, hi)
                    lo = np.where(b, lo, mid)
                sv = np.where(ok_hi, 1.0, lo)
                p, kinds, stack_w = blocks(sv)
                res = solve_designs_batch(
                    a_core[sel],
                    a_sram[sel],
                    a_phy[sel],
                    a_unc[sel],
                    geo.tiles_per_die[idx],
                    geo.phys_per_die[idx],
                    kinds,
                    r_sink_k_per_w=r_sink[idx] * dies_[idx],
                    ambient_c=ambient[sel] + r_sink[idx] * stack_w,
                    leakage_w_per_mm2_ref=leak_density[idx] * p.leakage_factor,
                    sram_layout=SRAM_LAYOUTS[lay],
                    stack=stack,
                    nx=int(nx),
                    ref_temp_c=t_ref,
                    beta_per_k=beta,
                )
                total = (p.die_w + res.leakage_w * dies_[idx] + p.memory_w) / eta + pm.vrm_fixed_w[idx]
                over = (total > tdp[sel] * (1 + 1e-9)) & ~res.runaway
                if not over.any():
                    break
                # scale the TDP check's leakage by the grid/lumped ratio at this clock
                lumped_leak = leak_tdp[sel] * p.leakage_factor / eta
                leak_scale[over] *= np.maximum(
                    1.0, (total[over] - tdp[sel][over]) / np.maximum(lumped_leak[over], 1e-12) + 1.0
                )
            out["s"][sel] = sv
            out["power_bad"][sel] = too_hot & ~ok_hi
            out["peak_c"][sel] = res.peak_c
            out["leakage_w"][sel] = res.leakage_w * dies_[idx]
            out["runaway"][sel] = res.runaway
    return out




# ---------------------------------------------------------------------------------------
# one design
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Metrics:
    """Metrics of one design; units in the names (see :data:`dse.metrics.METRICS`)."""

    die_area_mm2: float
    peak_tflops: float
    tpp: float
    performance_density: float
    export_class: str
    dies_per_wafer: float
    yield_: float
    die_cost_usd: float
    unit_cost_usd: float
    nre_usd: float
    test_cost_usd: float
    unit_cost_at_volume_usd: float
    embodied_co2_kg: float
    memory_bandwidth_gbps: float
    memory_capacity_gb: float
    idle_power_w: float | None = None
    latency_s: float | None = None
    throughput_per_s: float | None = None
    tokens_per_s: float | None = None
    ttft_s: float | None = None
    tpot_s: float | None = None
    serve_batch: float | None = None
    goodput_tokens_per_s: float | None = None
    energy_j: float | None = None
    energy_per_item_j: float | None = None
    power_w: float | None = None
    sustained_clock_ghz: float | None = None
    core_voltage_v: float | None = None
    junction_temp_c: float | None = None
    junction_temp_mean_c: float | None = None
    leakage_power_w: float | None = None
    memory_power_w: float | None = None
    supply_current_a: float | None = None
    memory_temp_c: float | None = None
    lifetime_years: float | None = None
    fit: float | None = None
    lifetime_mechanism: str | None = None
    cost_per_throughput_usd: float | None = None
    cost_per_throughput_at_volume_usd: float | None = None
    operational_co2_kg: float | None = None
    co2_per_million_items_kg: float | None = None
    co2_per_million_tokens_kg: float | None = None
    compute_utilization: float | None = None
    dram_bytes: float | None = None
    weights_resident: bool | None = None
    system_chips: float | None = None
    system_tp: float | None = None
    system_pp: float | None = None
    system_microbatches: float | None = None
    system_latency_s: float | None = None
    system_throughput_per_s: float | None = None
    system_energy_per_item_j: float | None = None
    system_cost_usd: float | None = None
    system_cost_per_throughput_usd: float | None = None
    feasible: bool = True
    violations: tuple[str, ...] = ()
    workload: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Contract keys -> values (``yield`` spelled as in the contract); keys that do not
        apply (no workload, ``tokens_per_s`` for non-LLM workloads) are left out."""
        outd: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            key = "yield" if f.name == "yield_" else f.name
            if value is None:
                continue
            outd[key] = list(value) if isinstance(value, tuple) else value
        return outd

    @property
    def yield_fraction(self) -> float:
        return self.yield_


def chip_arrays(
    frame: pd.DataFrame | dict[str, Any], tech: Technology, validate: bool = True
) -> dict[str, np.ndarray]:
    """Design columns -> the arrays :func:`evaluate_arrays` takes (validated)."""
    cols = frame if isinstance(frame, dict) else {k: frame[k] for k in frame.columns}
    n = len(frame) if not isinstance(frame, dict) else len(next(iter(cols.values())))
    d: dict[str, np.ndarray] = {}
    for key, spec in CHIP_KEYS.items():
        if key == "name" or spec.categorical:
            continue
        if key in cols:
            try:
                arr = np.asarray(cols[key], dtype=np.float64).reshape(-1)
            except (TypeError, ValueError):
                raise DseInputError(f"column '{key}' must be numeric") from None
        elif spec.required:
            raise DseInputError(f"missing required column '{key}'")
        else:  # one value for every row: a read-only view, no copy per row
            arr = np.broadcast_to(np.nan if spec.default is None else float(spec.default), (n,))
        if validate:  # a default column holds one value: checking one row checks all
            checked = arr if key in cols else arr[:1]
            kind = getattr(getattr(cols[key], "dtype", None), "kind", None) if key in cols else None
            integral = kind in ("i", "u", "b")  # an integer column: whole and finite already
            _validate_column(
                key, checked, optional_nan=spec.default is None and not spec.required, integral=integral
            )
        d[key] = arr
    for key in ("node", "memory"):
        if key not in cols:
            raise DseInputError(f"missing required column '{key}'")
    d["node_code"] = tech.nodes.codes(cols["node"], where="column 'node'")
    d["memory_code"] = tech.memories.codes(cols["memory"], where="column 'memory'")
    for key, spec in CHIP_KEYS.items():  # choice keys -> index into spec.choices
        if spec.type != "choice":
            continue
        if spec.required and key not in cols:
            raise DseInputError(f"missing required column '{key}'")
        d[f"{key}_code"] = _choice_codes(cols.get(key), spec.choices, key, n, default=spec.default)
    if validate:
        has_mem = tech.memories.arrays["capacity_gb_per_unit"][d["memory_code"]] > 0
        bad = has_mem & (d["memory_count"] < 1)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DseInputError(
                f"column 'memory_count' must be >= 1 where memory is not 'none' (row {i})"
            )
        dies = d["dies"]
        multi = np.flatnonzero(dies > 1)  # as a chip file: cores and spares split evenly
        uneven = (d["cores"][multi] % dies[multi] != 0) | (d["spare_cores"][multi] % dies[multi] != 0)
        if uneven.any():
            i = int(multi[np.flatnonzero(uneven)[0]])
            raise DseInputError(
                f"columns 'cores' ({d['cores'][i]:g}) and 'spare_cores' ({d['spare_cores'][i]:g}) "
                f"must split evenly over {dies[i]:g} dies (row {i})"
            )
    return d


def _validate_column(key: str, arr: np.ndarray, optional_nan: bool, integral: bool = False) -> None:
    """Raise on NaN (unless ``optional_nan``), non-finite, out-of-range or (integer keys)
    fractional values; ``integral``: ``arr`` came from an integer column (whole, finite)."""
    spec = CHIP_KEYS[key]
    values = arr[~np.isnan(arr)] if optional_nan and not integral else arr
    if not integral:
        if not optional_nan and np.isnan(arr).any():
            raise DseInputError(
                f"column '{key}' has a NaN at row {int(np.flatnonzero(np.isnan(arr))[0])}"
            )
        if not np.isfinite(values).all():
            raise DseInputError(f"column '{key}' must be finite")
    if values.size == 0:
        return
    lo, hi = values.min(), values.max()  # two reductions; the masks only on failure
    if ((lo <= spec.low) if spec.low_exclusive else (lo < spec.low)) or hi > spec.high:
        lo_bad = (values <= spec.low) if spec.low_exclusive else (values < spec.low)
        bad = values[lo_bad | (values > spec.high)][0]
        check_value(key, float(bad))  # raises the same message as a chip file would
    if spec.type == "int" and not integral and (np.floor(values) != values).any():
        raise DseInputError(f"column '{key}' must hold integers")


def _choice_codes(
    values: Any, choices: tuple[str, ...], key: str, n: int, default: str | None = None
) -> np.ndarray:
    if values is None:  # one value for every row: a read-only view, no copy per row
        return np.broadcast_to(np.intp(choices.index(default)), (n,))
    codes, uniques = factorize_labels(values)
    lookup = []
    for u in uniques:
        name = str(u).strip().lower()
        if name not in choices:
            check_value(key, name)
        lookup.append(choices.index(name))
    return np.asarray(lookup, dtype=np.intp)[codes] if lookup else np.zeros(0, dtype=np.intp)


def _rows_to_frame(out: dict[str, np.ndarray], wl: Workload | None) -> dict[str, np.ndarray]:
    res = {}
    for name, spec in METRICS.items():
        if name == "export_class":
            res[name] = _EXPORT_CLASSES[out["export_class_code"]]
        elif name == "violations":
            res[name] = _VIOLATION_TEXT[out["violation_mask"]]
        elif name == "lifetime_mechanism":
            if "lifetime_mechanism_code" in out:
                res[name] = _MECHANISMS[out["lifetime_mechanism_code"]]
        elif name == "feasible":
            res[name] = out["violation_mask"] == 0
        elif name in out:
            res[name] = out[name]
        elif spec.needs_workload and wl is None:
            continue
        elif spec.llm_only or spec.serve_only:
            continue
    return res


def evaluate(
    chip: ChipSpec | str | Path,
    workload: str | Workload | None = None,
    *,
    tech: Technology | None = None,
    constants: ModelConstants | None = None,
) -> Metrics:
    """Evaluate one chip design (optionally on a workload).

    Parameters
    ----------
    chip : ChipSpec or path to a chip TOML file
    workload : workload string (docs/contract.md) or :class:`dse.workloads.Workload`
    tech : technology tables (default: the chip's ``tech`` file or the packaged tables)
    constants : model constants (default: ``dse/data/model_constants.csv``)
    """
    if not isinstance(chip, ChipSpec):
        chip = load_chip(chip)
    tech = _tech_for(chip, tech)
    c = constants if constants is not None else default_constants()
    wl = _workload(workload)
    d = _one_row(chip, tech)
    out = _rows_to_frame(evaluate_arrays(d, wl, tech, c), wl)
    values: dict[str, Any] = {}
    for name, arr in out.items():
        v = arr[0]
        kind = METRICS[name].kind
        if name == "violations":
            values[name] = tuple(x for x in str(v).split(";") if x)
        elif kind == "bool":
            values[name] = bool(v)
        elif kind == "str":
            values[name] = str(v)
        else:
            values["yield_" if name == "yield" else name] = float(v)
    return Metrics(**values, workload=wl.spec if wl is not None else None)


def _join(designs: pd.DataFrame, metrics: pd.DataFrame) -> pd.DataFrame:
    """Input columns + metric columns; ``memory_bandwidth_gbps`` / ``memory_capacity_gb``
    (override keys, NaN = derived) become the effective values."""
    keep = [col for col in designs.columns if col not in metrics.columns]
    return pd.concat([designs[keep], metrics], axis=1)


def evaluate_many(
    designs: pd.DataFrame,
    workload: str | Workload | None = None,
    *,
    tech: Technology | None = None,
    constants: ModelConstants | None = None,
    validate: bool = True,
    threads: int | None = None,
) -> pd.DataFrame:
    """Evaluate a DataFrame of designs, one row per design (vectorised).

    Columns are chip keys (``name`` optional; optional keys may be missing and take their
    defaults; ``node``/``memory`` accept ids or aliases). Returns the input columns plus
    one column per metric (``tokens_per_s`` only for LLM workloads). Rows are processed
    in cache-sized chunks on ``threads`` threads (default: the CPU count); every row's
    numbers are independent of the others and equal to :func:`evaluate`'s.
    """
    if not isinstance(designs, pd.DataFrame):
        raise DseInputError("evaluate_many takes a pandas DataFrame of designs")
    tech = tech if tech is not None else default_tech()
    c = constants if constants is not None else default_constants()
    wl = _workload(workload)
    n = len(designs)
    d = chip_arrays(designs, tech, validate=validate)
    if n == 0:
        out = _rows_to_frame(evaluate_arrays(d, wl, tech, c), wl)
        return _join(designs, pd.DataFrame(out, index=designs.index))
    # chunks sized to stay in cache; each worker writes its rows of the metric columns
    # (text columns included) into shared outputs
    first = _rows_to_frame(evaluate_arrays({k: v[:1] for k, v in d.items()}, wl, tech, c), wl)
    merged = {k: np.empty(n, dtype=v.dtype) for k, v in first.items()}
    bounds = list(range(0, n, _CHUNK_ROWS)) + [n]
    spans = list(zip(bounds[:-1], bounds[1:], strict=True))

    def run(span: tuple[int, int]) -> None:
        a, b = span
        part = _rows_to_frame(evaluate_arrays({k: v[a:b] for k, v in d.items()}, wl, tech, c), wl)
        for k, v in part.items():
            merged[k][a:b] = v

    workers = threads or min(len(spans), os.cpu_count() or 1)
    if workers > 1:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(run, spans))
    else:
        for span in spans:
            run(span)
    result = pd.DataFrame(merged, index=designs.index, copy=False)
    return _join(designs, result)


# ---------------------------------------------------------------------------------------
# roofline detail for plots
# ---------------------------------------------------------------------------------------


def _one_row(chip: ChipSpec, tech: Technology) -> dict[str, np.ndarray]:
    """The arrays of one (already validated) chip: a batch of one."""
    row = {k: [math.nan if v is None else v] for k, v in chip.to_dict().items()}
    return chip_arrays(row, tech, validate=False)


def _detail(chip: ChipSpec, wl: Workload, tech: Technology | None, c: ModelConstants):
    """One chip through the chain with the per-op and per-block detail kept."""
    tech = _tech_for(chip, tech)
    d = _one_row(chip, tech)
    return d, evaluate_arrays(d, wl, tech, c, detail=True)


def op_breakdown(
    chip: ChipSpec, workload: str | Workload, tech: Technology | None = None
) -> pd.DataFrame:
    """Per-op time, traffic and bound of one design at its sustained clock."""
    wl = _workload(workload)
    c = default_constants()
    _, out = _detail(chip, wl, tech, c)
    t = out["_ops"]
    s = float(out["_clock_fraction"][0])
    ops = wl.op_arrays()
    comp = t.compute_s[0] / s
    sram = t.sram_s[0] / s
    dram = t.dram_s[0]
    overhead = float(out["_op_overhead_s"][0]) * out["_kernels"]  # fused ops pay none
    time = np.maximum(np.maximum(comp, sram), dram) + overhead
    bound = np.where(
        (dram >= comp) & (dram >= sram), "dram", np.where(sram > comp, "sram", "compute")
    ).astype(object)
    bound = np.where(np.maximum(np.maximum(comp, sram), dram) < overhead, "overhead", bound)
    flops = ops["flops"]
    return pd.DataFrame(
        {
            "op": [op.name for op in wl.ops],
            "count": ops["count"],
            "flops": flops,
            "dram_bytes": t.dram_bytes[0],
            "intensity_flop_per_byte": flops / np.maximum(t.dram_bytes[0], 1.0),
            "time_s": time,
            "total_time_s": time * ops["count"],
            "bound": bound,
            "achieved_tflops": flops / time * 1e-12,
        }
    )


#: where each power component's heat goes (power_breakdown)
_POWER_HEAT = {
    "compute": "die", "sram": "die", "on-chip transport": "die",
    "memory PHY and links": "die", "clock and control": "die", "leakage": "die",
    "memory devices": "memory", "VRM loss": "board",
}  # fmt: skip


def power_breakdown(
    chip: ChipSpec, workload: str | Workload, tech: Technology | None = None
) -> pd.DataFrame:
    """Where a chip's module power goes at its sustained operating point.

    Parameters
    ----------
    chip : ChipSpec
    workload : workload string or :class:`dse.workloads.Workload`
    tech : Technology, optional

    Returns
    -------
    DataFrame
        One row per component (``compute``, ``sram``, ``on-chip transport``, ``memory PHY
        and links``, ``clock and control``, ``leakage``, ``memory devices``, ``VRM loss``)
        with ``power_w`` [W], ``share`` of the module power and ``heats`` (``die``,
        ``memory`` — the HBM stacks on the shared sink or the board memories — or
        ``board``); the rows sum to the ``power_w`` metric.
    """
    _, out = _detail(chip, _workload(workload), tech, default_constants())
    terms = {k: float(v[0]) for k, v in out["_power_terms"].items()}
    total = sum(terms.values())
    return pd.DataFrame(
        {
            "component": list(terms),
            "power_w": list(terms.values()),
            "share": [v / total for v in terms.values()],
            "heats": [_POWER_HEAT[k] for k in terms],
        }
    )


def reliability_breakdown(
    chip: ChipSpec, workload: str | Workload, tech: Technology | None = None
) -> pd.DataFrame:
    """The wear-out mechanisms of one design under its load profile.

    Parameters
    ----------
    chip : ChipSpec
        The design, with its load profile (``duty_cycle``, ``load_cycles_per_day``).
    workload : workload string or :class:`dse.workloads.Workload`
    tech : Technology, optional

    Returns
    -------
    DataFrame
        One row per mechanism of :data:`dse.reliability.MECHANISMS` with ``fit`` [FIT]
        (NaN for BTI, a drift rather than a rate), ``share`` of the summed rate and
        ``years_alone`` [years]: the lifetime if this mechanism were the only one (for
        BTI, the time until it uses up the clock guard band). ``limiting`` marks the
        mechanism behind the ``lifetime_years`` metric.
    """
    c = default_constants()
    _, out = _detail(chip, _workload(workload), tech, c)
    r = {k: float(np.asarray(v)[0]) for k, v in out["_reliability"].items()}
    fits = [r["fit_em"], r["fit_tddb"], r["fit_tc"]]
    alone = [float(reliability.lifetime_years(f, c["lifetime_failure_fraction"])) for f in fits]
    limiting = int(r["mechanism_code"])
    return pd.DataFrame(
        {
            "mechanism": list(reliability.MECHANISMS),
            "fit": [*fits, math.nan],
            "share": [f / r["fit"] if r["fit"] > 0 else 0.0 for f in fits] + [math.nan],
            "years_alone": [*alone, r["bti_years"]],
            "limiting": [i == limiting for i in range(len(reliability.MECHANISMS))],
        }
    )


def lifetime_sweep(
    chip: ChipSpec,
    workload: str | Workload,
    tech: Technology | None = None,
    *,
    clocks_ghz: Any = None,
    coolings: tuple[str, ...] | None = None,
) -> pd.DataFrame:
    """Lifetime of one design against its clock, for each cooling tier.

    Parameters
    ----------
    chip : ChipSpec
        The design; its other keys (load profile included) are held.
    workload : workload string or :class:`dse.workloads.Workload`
    tech : Technology, optional
    clocks_ghz : array-like, optional
        Declared clocks [GHz]; default 25 steps from 30 % of the node's highest clock
        (its f_max at V_max) to that clock.
    coolings : tuple of str, optional
        Cooling tiers (default: all of :data:`dse.spec.COOLING`).

    Returns
    -------
    DataFrame
        One row per (cooling, clock): ``cooling``, ``clock_ghz`` and the metrics
        ``sustained_clock_ghz``, ``core_voltage_v``, ``junction_temp_c``,
        ``lifetime_years``, ``lifetime_mechanism``, ``feasible``, ``violations``.
    """
    from dse.spec import COOLING

    tech = _tech_for(chip, tech)
    c = default_constants()
    if clocks_ghz is None:
        fmax = c["fmax_n7_ghz"] / tech.nodes.frame.loc[tech.nodes.resolve(chip.node), "delay_factor"]
        clocks_ghz = np.linspace(0.3 * fmax, fmax, 25)
    clocks = np.asarray(clocks_ghz, dtype=float)
    tiers = tuple(coolings) if coolings is not None else COOLING
    rows = [
        {**chip.to_dict(), "clock_ghz": float(f), "cooling": tier}
        for tier in tiers for f in clocks
    ]  # fmt: skip
    frame = pd.DataFrame(rows)
    out = evaluate_many(frame, workload, tech=tech)
    keep = ["cooling", "clock_ghz", "sustained_clock_ghz", "core_voltage_v", "junction_temp_c", "lifetime_years", "lifetime_mechanism", "feasible", "violations"]
    return out[keep].reset_index(drop=True)


def serve_curve(
    chip: ChipSpec,
    workload: str | Workload,
    batches: Any = None,
    tech: Technology | None = None,
    constants: ModelConstants | None = None,
) -> pd.DataFrame:
    """TPOT and TTFT of one design against the batch of an ``llm-serve`` workload.

    Parameters
    ----------
    chip : ChipSpec
    workload : ``llm-serve`` workload string or :class:`dse.workloads.Workload`
    batches : array-like of int, optional
        Batches to evaluate (default: about 40 from 1 to the largest that fits, see
        :func:`_serve_batch_limit`, or to 64 if none fits).
    tech, constants : optional

    Returns
    -------
    DataFrame
        One chip's curve (``system = "auto"`` is not applied here). One row per batch:
        ``batch``, ``tpot_s``, ``ttft_s``, ``tokens_per_s``,
        ``power_w``, ``fits`` (weights and KV cache in memory, prompts kept up with) and
        ``meets`` (fits and both targets met).
    """
    wl = _workload(workload)
    if wl is None or wl.serve is None:
        raise DseInputError("serve_curve needs an llm-serve workload")
    tech = _tech_for(chip, tech)
    c = constants if constants is not None else default_constants()
    d = chip_arrays(pd.DataFrame([chip.to_dict()]), tech)
    base = _evaluate_arrays(d, None, tech, c, False)
    limit = int(_serve_batch_limit(d, wl, c, base["memory_capacity_gb"])[0])
    if batches is None:
        top = limit if limit >= 1 else min(64, wl.serve.chunk - 1)
        batches = np.unique(np.round(np.geomspace(1, max(top, 1), 40)).astype(int))
    rows = []
    for b in (int(x) for x in batches):
        if not 1 <= b < wl.serve.chunk:
            raise DseInputError(f"batch {b} must be from 1 to chunk - 1 = {wl.serve.chunk - 1}")
        sub, tpot, ttft, _ = _serve_step(d, np.arange(1), wl, tech, c, b, False)
        fits = b <= limit
        meets = fits and tpot[0] <= wl.serve.tpot_s and ttft[0] <= wl.serve.ttft_s
        rows.append(dict(
            batch=b, tpot_s=float(tpot[0]), ttft_s=float(ttft[0]), tokens_per_s=float(sub["tokens_per_s"][0]),
            power_w=float(sub["power_w"][0]), fits=fits, meets=bool(meets),
        ))  # fmt: skip
    return pd.DataFrame(rows)


def roofline_ceilings(
    chip: ChipSpec, workload: str | Workload, tech: Technology | None = None
) -> dict[str, float]:
    """Compute and bandwidth ceilings of one design at its sustained clock and the workload precision."""
    _, out = _detail(chip, _workload(workload), tech, default_constants())
    s = float(out["_clock_fraction"][0])
    return {
        "peak_tflops": float(out["peak_tflops"][0] * out["_rate"][0] * s),
        "dram_bandwidth_gbps": float(out["_dram_bw"][0] / GB),
        "sram_bandwidth_gbps": float(out["_sram_bw"][0] * s / GB),
        "clock_fraction": s,
    }


# ---------------------------------------------------------------------------------------
# example chips
# ---------------------------------------------------------------------------------------


def example_chips() -> dict[str, Path]:
    """Packaged example chip files by name (file stem)."""
    return {p.stem: p for p in sorted(CHIPS_DIR.glob("*.toml"))}


def example_chip(name: str) -> ChipSpec:
    """Load a packaged example chip by file stem (e.g. ``"h100-like"``)."""
    from dse.errors import close_match_hint

    chips = example_chips()
    if name not in chips:
        raise DseInputError(f"unknown example chip '{name}'" + close_match_hint(name, chips))
    return load_chip(chips[name])


def thermal_map(
    chip: ChipSpec, workload: str | Workload, tech: Technology | None = None, cells: int = 64
):
    """The chip's floorplan and its 2-D grid temperature map at the sustained clock.

    The design is evaluated as given (its ``thermal_model`` decides the clock); the map
    is then solved on a ``cells`` x ``cells`` grid with the same block powers and leakage.
    Returns ``(GridResult, Floorplan)`` for :func:`dse.plotting_thermal.plot_thermal_map`.
    """
    from dse.floorplan import build_floorplan
    from dse.spec import SRAM_LAYOUTS
    from dse.thermal_grid import hotspot_stack, solve_floorplan

    c = default_constants()
    d, out = _detail(chip, _workload(workload), tech, c)
    a_core, a_sram, a_phy, a_unc = (float(a[0]) for a in out["_areas"])
    layout = SRAM_LAYOUTS[int(d["sram_layout_code"][0])]
    fp = build_floorplan(
        a_core, a_sram, a_phy, a_unc, int(out["_tiles_per_die"][0]), int(out["_phys_per_die"][0]), sram_layout=layout
    )
    result = solve_floorplan(
        fp,
        {k: float(v[0]) for k, v in out["_power_by_kind"].items()},
        r_sink_k_per_w=float(out["_r_sink"][0]),
        ambient_c=float(out["_sink_c"][0]),
        stack=hotspot_stack(c["r_package_k_mm2_per_w"]),
        nx=cells,
        leakage_w_per_mm2_ref=float(out["_leak_density_v"][0]),
        ref_temp_c=c["leakage_ref_temp_c"],
        beta_per_k=c["leakage_temp_coeff_per_k"],
    )
    return result, fp
