"""The chain run on arrays of designs: the stages in order, the serving batch search, the refresh pass and the multi-chip system."""

from __future__ import annotations

import math

import numpy as np

from dse.chain import system
from dse.chain.design import (
    _cost,
    _design_metrics,
    _geometry,
    _idle_state,
    _memory_system,
    _power_model,
)
from dse.chain.life import _reliability
from dse.chain.perf import (
    _detail_arrays,
    _energy,
    _operating_point,
    _performance,
    _program_metrics,
    _workload_metrics,
    host_prefill_s,
)
from dse.chain.records import VIOLATIONS, _violation_mask
from dse.constants import ModelConstants
from dse.model import multichip
from dse.tech import Technology
from dse.units import BYTES_PER_ELEMENT, GB, MIB, PJ
from dse.workloads import Workload

#: batches tried by every design of an llm-serve search before its own bisection: the
#: integers to 8, then steps of about sqrt(2)
_SERVE_LADDER = (1, 2, 3, 4, 5, 6, 8, 11, 16, 23, 32, 45, 64, 91, 128, 181, 256, 362, 512, 724, 1024, 1448, 2048, 2896, 4096)


_SERVE_LADDER_ROWS = 16  # fewer designs (a study's trial) bisect straight away


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
    :func:`dse.chain.system.tp_degrees` up to ``tp_max`` chips on its link, no pipelining)
    that can: each chip runs
    its shard (:func:`dse.chain.system.shard_serve_workload`; MoE experts spread over the group)
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
    """One :class:`dse.model.multichip.LinkSpec` field per design, from its ``link_code``."""
    per_link = np.array([getattr(multichip.link(name), attr) for name in multichip.LINKS])
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
            per_step.append(coll.allreduces_per_step * multichip.ring_allreduce_time_s(coll.message_bytes, tp, bw, lat))
        tpot = tpot + per_step[0]
        t_full = t_full + per_step[1]
        coll = system.collectives_per_step(steady)
        sent = coll.allreduces_per_step * multichip.allreduce_bytes_sent(coll.message_bytes, tp)
        link_j = sent * 8.0 * pj * PJ * tp
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


def _system_metrics(out, d, wl, tech, c, weights_resident, resident_space, cap_bytes, fits, is_none):
    """System metrics; with ``system = "auto"`` a system of chips sized to hold the model.

    Chips hold the weights and KV cache in their off-chip memory (SRAM-only designs: in the
    weights-resident share of their SRAM); :func:`dse.chain.system.split_system` finds the
    smallest tensor x pipeline split whose degrees divide the heads, MLP widths and layers,
    with the batch cut into micro-batches across the stages. Each distinct split
    evaluates one chip on its shard of one micro-batch
    (:func:`dse.chain.system.shard_workload`: the chain itself, so residency, throttling and
    thermal apply to the shard), and :func:`dse.model.multichip.system_performance` adds the
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
            perf = multichip.system_performance(
                multichip.SystemSize(chips, size.tp[sel], size.pp[sel], size.fits[sel]),
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
