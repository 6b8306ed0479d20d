"""The chain's workload stages: per-op performance, energy, the operating point under the power and thermal limits (lumped or grid), and the workload's metrics."""

from __future__ import annotations

import numpy as np

from dse.chain import system
from dse.chain.design import _leakage_balance, _voltage_fraction
from dse.chain.records import (
    _DTYPE_BITS,
    _DTYPE_BYTES,
    Cost,
    Energy,
    Geometry,
    MemorySystem,
    OperatingPoint,
    Performance,
    PowerModel,
    StepPower,
)
from dse.constants import ModelConstants
from dse.model import carbon, chiplet, dvfs, power, roofline
from dse.tech import Technology
from dse.units import GB, GHZ, MIB, PJ, TERA
from dse.workloads import Workload

_BISECTION_STEPS = 16  # grid-model throttle (bisection)


_THROTTLE_BISECT = 22  # lumped throttle without numba: bisection to 2^-22 of the clock


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


def _step_power(pm: PowerModel, perf: Performance, energy: Energy, s, idx) -> StepPower:
    """Power by block of the designs ``idx`` at clock fraction ``s`` (leakage excluded)."""
    clock = pm.clock_ghz[idx] * s
    v = _voltage_fraction(pm, clock, idx)
    v2 = v * v
    step_s = roofline.step_time_s(
        perf.clocked_s[idx], perf.ops.dram_s[idx], perf.counts, 0.0, s[:, None], perf.fixed_s[idx]
    )
    per_s = PJ / step_s
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


def _op_kernels(wl: Workload) -> np.ndarray:
    """1 where an op runs as its own kernel, 0 where serving stacks fuse it into another.

    FlashAttention runs score, softmax and value product as one kernel; residual adds run
    in the following norm's kernel; a bias + ReLU (or add + ReLU) runs in the preceding
    convolution's epilogue.
    """
    return np.array(
        [not (op.name in _FUSED_OPS or op.name.endswith("_relu")) for op in wl.ops], dtype=float
    )


def memory_residency(wl: Workload, sram_mb, capacity_gb, c: ModelConstants):
    """What a design's memories hold of a workload's weights and KV cache.

    The share of the SRAM not kept for operand tiles (``1 - sram_tiling_fraction``) holds
    the weights when they fit there, and the KV cache too when both do; the model fits
    the chip when that SRAM holds everything, or the off-chip memory holds what the SRAM
    does not. Depends on the design's SRAM and memory capacity only, not on its compute
    (the design check of a search uses it before any trial).

    Returns
    -------
    resident_space : ndarray
        Bytes of SRAM that may hold weights and KV cache [B].
    weights_resident, kv_resident, fits : ndarray of bool
        Weights resident in SRAM; KV cache resident too; the model fits the chip.
    """
    resident_space = (1.0 - c["sram_tiling_fraction"]) * (np.asarray(sram_mb, dtype=float) * MIB)
    cap_bytes = np.asarray(capacity_gb, dtype=float) * GB
    weights_resident = wl.weight_bytes <= resident_space
    kv_resident = weights_resident & (wl.weight_bytes + wl.kv_cache_bytes <= resident_space)
    fits = (
        kv_resident
        | (wl.weight_bytes + wl.kv_cache_bytes <= cap_bytes)
        | (weights_resident & (wl.kv_cache_bytes <= cap_bytes))
    )
    return resident_space, weights_resident, kv_resident, fits


def _performance(d, wl: Workload, c: ModelConstants, geo: Geometry, mem: MemorySystem) -> Performance:
    """Per-op roofline at the max clock (:mod:`dse.model.roofline`), residency and capacity."""
    cores, macs, dt = d["cores"], d["macs_per_core"], d["mac_dtype_code"]
    ops = wl.op_arrays()
    b = float(wl.bytes_per_element)
    rate = _DTYPE_BITS[dt] / (8.0 * b)
    clock_hz = d["clock_ghz"] * GHZ
    side = np.sqrt(macs)
    sram_bytes = d["sram_mb"] * MIB
    tf = c["sram_tiling_fraction"]
    resident_space, weights_resident, kv_resident, fits = memory_residency(
        wl, d["sram_mb"], mem.capacity_gb, c
    )
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
    return Performance(
        t, ops["count"], np.maximum(t.compute_s, t.sram_s),
        d2d_s + overhead_s * float(kernels @ ops["count"]), overhead_s, kernels,
        weights_resident, resident_space, fits, rate, sram_bw, dram_bw,
    )  # fmt: skip


def _energy(d, wl: Workload, tech: Technology, c: ModelConstants, geo: Geometry, perf: Performance) -> Energy:
    """Energy of one step (:mod:`dse.model.power`): operations and SRAM, on-chip transport,
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
    d2d_bits = chiplet.d2d_step_energy_j(coll.message_bytes, coll.allreduces_per_step, d["dies"], TERA)
    # every DRAM and die-to-die byte crosses a die between its port and the cores
    e_wire = power.transport_energy_pj_per_byte(geo.die_area_mm2, c["wire_pj_per_bit_mm"], c["transport_distance_factor"])
    transport_pj = e_wire * (dram_bytes + d2d_bits / 8.0)
    phy_j = dram_bytes * 8.0 * md["phy_pj_per_bit"][mi] * PJ + d2d_bits * chiplet.d2d_energy_pj_per_bit(d["package_code"], c) * PJ
    device_j = dram_bytes * 8.0 * (md["energy_pj_per_bit"][mi] - md["phy_pj_per_bit"][mi]) * PJ
    return Energy(logic_pj, sram_pj, transport_pj, phy_j, device_j, dram_bytes)


def _operating_point(d, c: ModelConstants, geo: Geometry, pm: PowerModel, perf: Performance, energy: Energy) -> OperatingPoint:
    """Thermal limits, DVFS throttling and the leakage-temperature fixed point (:mod:`dse.model.thermal`).

    Module power (dies and memory over the VRM efficiency, plus the fixed regulator loss)
    is held to ``tdp_w`` and the hot spot to ``tj_max_c``. The clock fraction is the
    largest that meets both, found to 1e-7 by a root finder on the slack that honours the
    leakage-temperature balance at every step (compiled in :mod:`dse.model.dvfs`; vectorised
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
        power_bad[grid_rows] = grid["power_bad"]  # the grid judges its own limits
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
    """The compiled throttle (:func:`dse.model.dvfs.largest_feasible_clock`) on every design."""
    n = len(d["cores"])
    step, table = power.inverse_speed_table(pm.vth_fraction, pm.alpha)
    columns = dict(
        clock_ghz=pm.clock_ghz,
        speed_scale=power.alpha_power_speed(pm.vmax_fraction, pm.vth_fraction, pm.alpha) / pm.fmax_ghz,
        vmin_fraction=pm.vmin_fraction, fixed_s=perf.fixed_s,
        e_v2_j=(energy.logic_pj + energy.sram_pj + energy.transport_pj) * PJ,
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

    The vectorised fallback of :mod:`dse.model.dvfs` (used without numba): a bisection of
    ``_THROTTLE_BISECT`` steps. Returns the feasible end of the bracket, and where
    ``s_min`` itself is infeasible ``s_min`` and a flag.
    """
    lo = np.full(idx.size, s_min)
    bad = slack(lo, idx) > 0.0
    lo = _bisect(lambda s: slack(s, idx) <= 0.0, lo, np.ones(idx.size), _THROTTLE_BISECT)
    return np.where(bad, s_min, lo), bad


def _bisect(ok, lo: np.ndarray, hi: np.ndarray, steps: int) -> np.ndarray:
    """The largest point found in [lo, hi] where ``ok`` holds (``ok`` true below a
    threshold, per element), after ``steps`` halvings of the bracket: its low end."""
    for _ in range(steps):
        mid = 0.5 * (lo + hi)
        good = ok(mid)
        lo, hi = np.where(good, mid, lo), np.where(good, hi, mid)
    return lo


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
    ``service_years`` (:func:`dse.model.carbon.operational_kgco2`), and the life-cycle carbon per
    million items served (:func:`dse.model.carbon.co2_per_million_items_kg`).
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


def _grid_thermal(rows, d, c, geo: Geometry, pm: PowerModel, perf: Performance, energy: Energy):
    """Hot-spot throttling and temperatures of the designs ``rows`` on the 2-D grid model.

    Without leakage the grid model is linear: the temperature-rise map is
    sum_k P_k(s) R_k with R_k the rise per watt of block kind k (core logic, SRAM, PHY,
    uncore) (:func:`dse.model.thermal_grid.kind_responses_k_per_w`). The clock fraction is the
    largest s with max_cells(sum_k P_k(s) R_k) + R_sink P_stack +
    P_leak(T_j,max) R_lumped <= T_j,max - T_a (leakage bounded by its value at the limit
    everywhere: a conservative, uniform map whose rise per watt is the lumped R in every
    cell) and module power within the TDP. Then one leakage-coupled grid solve at that
    clock gives the reported hot-spot and mean temperatures, leakage and runaway.
    """
    from dse.model.thermal_grid import hotspot_stack, kind_responses_k_per_w, solve_designs_batch
    from dse.spec import SRAM_LAYOUTS

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
                lo = _bisect(lambda s: ~bad(s), lo, hi, _BISECTION_STEPS)
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
