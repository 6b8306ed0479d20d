"""The model chain: ``evaluate`` (one design) and ``evaluate_many`` (a DataFrame of designs).

Both run the same vectorised code path (:func:`evaluate_arrays`): one design is a batch
of one. The domains run in a fixed order:

1. technology lookup (node, memory) and precision;
2. area (:mod:`dse.area`), peak and export metrics (:mod:`dse.export`);
3. dies per wafer, yield and cost (:mod:`dse.cost`);
4. with a workload: per-op roofline (:mod:`dse.roofline`), dynamic energy
   (:mod:`dse.power`), DVFS throttling to ``tdp_w`` and ``tj_max_c`` and the
   leakage-temperature fixed point (:mod:`dse.thermal`), capacity checks.
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

from dse import area, chiplet, cost, export, harvest, power, roofline, system, thermal
from dse.constants import ModelConstants, default_constants
from dse.errors import DseInputError
from dse.metrics import METRICS
from dse.spec import CHIP_KEYS, DTYPES, ChipSpec, check_value, load_chip
from dse.tech import Technology, default_tech, factorize_labels, load_tech
from dse.units import BITS_PER_ELEMENT, BYTES_PER_ELEMENT, GB, GHZ, MIB
from dse.workloads import Workload, parse_workload

CHIPS_DIR = Path(__file__).parent / "data" / "chips"
VIOLATIONS = ("reticle", "memory_capacity", "power", "thermal_runaway", "package", "system_size")
_BISECTION_STEPS = 16
_CHUNK_ROWS = 32768  # rows per chunk: measured fastest on 2 cores (benchmarks/evaluate_many.py)

_DTYPE_BITS = np.array([BITS_PER_ELEMENT[d] for d in DTYPES], dtype=float)
_DTYPE_BYTES = np.array([BYTES_PER_ELEMENT[d] for d in DTYPES], dtype=float)
_EXPORT_CLASSES = np.array(export.EXPORT_CLASSES, dtype=object)
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
_A_FUSED = frozenset({"softmax", "attn_value"})
_C_FUSED = frozenset({"attn_score", "softmax"})


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
        return _evaluate_arrays(d, wl, tech, c, detail)


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
    out = _design_metrics(d, c, geo, mem, money)
    if wl is None:
        out["violation_mask"] = _violation_mask(reticle=money.reticle_bad, package=money.package_bad)
        return out
    perf = _performance(d, wl, c, geo, mem)
    energy = _energy(d, wl, tech, c, geo, perf)
    op = _operating_point(d, tech, c, geo, perf, energy)
    out.update(_workload_metrics(d, wl, money, perf, energy, op))
    out["violation_mask"] = _violation_mask(
        reticle=money.reticle_bad,
        capacity=~perf.fits,
        power=op.power_bad,
        runaway=op.runaway,
        package=money.package_bad,
    )
    _system_metrics(out, d, wl, tech, c, perf.weights_resident, perf.resident_bytes, mem.capacity_gb * GB, perf.fits, mem.is_none)
    if detail:
        out.update(_detail_arrays(d, tech, geo, perf, energy, op))
    return out


# ---------------------------------------------------------------------------------------
# the stages: each takes the design arrays and earlier records, returns one record
# ---------------------------------------------------------------------------------------


class Geometry(NamedTuple):
    """Areas of one die and how the design splits over its dies [mm2, counts]."""

    mac_area_mm2: np.ndarray  # all MAC arrays of the design
    core_area_mm2: np.ndarray  # per-core overhead of all cores
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


class Performance(NamedTuple):
    """The roofline of every op at the max clock, and where the model lives."""

    ops: roofline.OpTimes  # per design x op, at the max clock
    counts: np.ndarray  # occurrences of each op per step
    clocked_s: np.ndarray  # max(compute, SRAM) per op at the max clock (scales with 1/f)
    op_overhead_s: float  # fixed cost per op occurrence
    d2d_s: np.ndarray  # clock-independent die-to-die all-reduce time per step
    weights_resident: np.ndarray
    resident_bytes: np.ndarray  # SRAM share that can hold weights (and KV cache)
    fits: np.ndarray  # weights + KV cache fit in memory (or SRAM)
    rate: np.ndarray  # MACs per cycle at the workload precision / at mac_dtype
    sram_bw_bytes_per_s: np.ndarray
    dram_bw_bytes_per_s: np.ndarray


class Energy(NamedTuple):
    """Energy of one workload step at nominal voltage [J, pJ], and its DRAM traffic."""

    logic_pj: np.ndarray  # MAC arrays and vector units
    sram_pj: np.ndarray
    core_j: np.ndarray  # scales with V^2
    offchip_j: np.ndarray  # DRAM and die-to-die links (voltage independent)
    dram_bytes: np.ndarray


class OperatingPoint(NamedTuple):
    """The sustained operating point after throttling and the leakage-temperature balance."""

    clock_fraction: np.ndarray  # sustained / max clock
    voltage_fraction: np.ndarray  # V / V_nom
    step_s: np.ndarray
    dynamic_power_w: np.ndarray
    leakage_power_w: np.ndarray
    junction_temp_c: np.ndarray  # hot spot (grid) or die mean (lumped)
    junction_temp_mean_c: np.ndarray
    runaway: np.ndarray
    power_bad: np.ndarray  # cannot meet the limits even at the lowest clock
    r_sink_k_per_w: np.ndarray


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
    a_core = area.core_overhead_area_mm2(
        cores, macs, c["core_fixed_transistors"], c["core_transistors_per_row"], density
    )
    a_sram = area.sram_area_mm2(d["sram_mb"], nd["sram_macro_mbit_mm2"][ni], c["sram_area_factor"])
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
    pkg = cost.package_cost_usd(
        die_mm2,
        mem_count,
        c["package_base_usd"],
        c["package_usd_per_mm2"],
        md["package_cost_usd_per_unit"][mi],
    )
    unit_cost = die_cost + pkg + mem_cost
    # an uneven split over the dies, or stacked memory (HBM) on an organic substrate
    package_bad = (cores % dies != 0) | (spares % dies != 0)
    package_bad |= (pkg_code == 0) & md["is_stacked"][mi] & (mem_count > 0)
    multi = dies > 1
    if multi.any():  # a multi-die package: interposer or organic, bonding yield
        mm = np.flatnonzero(multi)
        stacks = np.where(md["is_stacked"][mi[mm]], mem_count[mm], 0.0)
        pc = chiplet.package_cost_and_yield(die_mm2[mm], dies[mm], stacks, pkg_code[mm], c)
        unit_cost[mm] = chiplet.assembled_unit_cost_usd(die_cost[mm], dies[mm], mem_cost[mm], pc.package_usd, pc.package_yield)
        package_bad[mm] |= pc.oversize
    reticle_bad = die_mm2 > nd["reticle_mm2"][ni]
    return Cost(dpw, y, die_cost, unit_cost, reticle_bad, package_bad)


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
    }


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
    )
    # multi-die packages all-reduce activations between the dies (Megatron-style split)
    coll = system.collectives_per_step(wl)
    d2d_s = chiplet.d2d_step_time_s(coll.message_bytes, coll.allreduces_per_step, d["dies"], np.maximum(geo.d2d_bandwidth_gbps, 1e-9))
    cap_bytes = mem.capacity_gb * GB
    fits = (
        kv_resident
        | (wl.weight_bytes + wl.kv_cache_bytes <= cap_bytes)
        | (weights_resident & (wl.kv_cache_bytes <= cap_bytes))
    )
    return Performance(
        t, ops["count"], np.maximum(t.compute_s, t.sram_s), c["op_overhead_s"], d2d_s,
        weights_resident, resident_space, fits, rate, sram_bw, dram_bw,
    )  # fmt: skip


def _energy(d, wl: Workload, tech: Technology, c: ModelConstants, geo: Geometry, perf: Performance) -> Energy:
    """Dynamic energy of one step at nominal voltage (:mod:`dse.power`)."""
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
    e_mac = power.mac_energy_pj(e_mac_45, ef, c["operand_delivery_factor"])
    e_sram = power.sram_energy_pj_per_byte(
        d["sram_mb"] * MIB / d["cores"], c["sram_energy_pj_per_byte_45nm_8kb"], ef
    )
    e_vec = c["eltwise_energy_pj_per_flop_45nm"] * ef
    gemm_flops = np.where(ops["is_gemm"], ops["flops"], 0.0) * counts
    logic_pj = e_mac * gemm_flops.sum() / 2.0 + e_vec * float((ops["eltwise_flops"] * counts).sum())
    sram_pj = e_sram * (t.sram_bytes * counts).sum(axis=1)
    core_pj = logic_pj + sram_pj
    dram_bytes = (t.dram_bytes * counts).sum(axis=1)
    dram_pj = dram_bytes * 8.0 * md["energy_pj_per_bit"][mi]
    e_core_j = core_pj * 1e-12
    coll = system.collectives_per_step(wl)
    d2d_j = chiplet.d2d_step_energy_j(coll.message_bytes, coll.allreduces_per_step, d["dies"], chiplet.d2d_energy_pj_per_bit(d["package_code"], c))
    e_dram_j = dram_pj * 1e-12 + d2d_j
    return Energy(logic_pj, sram_pj, e_core_j, e_dram_j, dram_bytes)


def _operating_point(d, tech: Technology, c: ModelConstants, geo: Geometry, perf: Performance, energy: Energy) -> OperatingPoint:
    """Thermal limits, DVFS throttling and the leakage-temperature fixed point (:mod:`dse.thermal`).

    The clock fraction is the largest at which power stays within the budget that both
    ``tdp_w`` and ``tj_max_c`` allow (a bisection); designs on the grid model then
    throttle on their hot spot (:func:`_grid_thermal`).
    """
    nd = tech.nodes.arrays
    ni = d["node_code"]
    dies = d["dies"]
    t_clocked, dram_s, counts, overhead, d2d_t = perf.clocked_s, perf.ops.dram_s, perf.counts, perf.op_overhead_s, perf.d2d_s
    e_core_j, e_dram_j = energy.core_j, energy.offchip_j
    ambient = d["ambient_c"]
    r_sink = np.array([c["r_sink_air_k_per_w"], c["r_sink_liquid_k_per_w"]])[d["cooling_code"]]
    silicon_mm2 = geo.die_area_mm2 * dies  # all dies of the package share the heat sink
    r_th = thermal.thermal_resistance_k_per_w(silicon_mm2, c["r_package_k_mm2_per_w"], r_sink)
    leak_ref = nd["leakage_w_per_mm2_85c"][ni] * silicon_mm2
    beta, t_ref = c["leakage_temp_coeff_per_k"], c["leakage_ref_temp_c"]
    t_lim, p_budget = thermal.throttle_budget(d["tdp_w"], d["tj_max_c"], ambient, r_th)
    leak_at_lim = leak_ref * np.exp(beta * (t_lim - t_ref))
    vmin, smin = c["dvfs_vmin_fraction"], c["dvfs_min_clock_fraction"]

    def excess_w(s, idx):
        v = power.dvfs_voltage_fraction(s, vmin)
        tt = roofline.step_time_s(t_clocked[idx], dram_s[idx], counts, overhead, s[:, None], d2d_t[idx])
        return (e_core_j[idx] * v * v + e_dram_j[idx]) / tt + leak_at_lim[idx] * v - p_budget[idx]

    n = len(d["cores"])
    s = np.ones(n)
    hot = np.flatnonzero(excess_w(s, slice(None)) > 0.0)
    power_bad = np.zeros(n, dtype=bool)
    if hot.size:
        lo = np.full(hot.size, smin)
        hi = np.ones(hot.size)
        too_hot = excess_w(lo, hot) > 0.0
        for _ in range(_BISECTION_STEPS):
            mid = 0.5 * (lo + hi)
            bad = excess_w(mid, hot) > 0.0
            hi = np.where(bad, mid, hi)
            lo = np.where(bad, lo, mid)
        s[hot] = lo
        power_bad[hot] = too_hot

    v = power.dvfs_voltage_fraction(s, vmin)
    step_s = roofline.step_time_s(t_clocked, dram_s, counts, overhead, s[:, None], d2d_t)
    p_dyn = (e_core_j * v * v + e_dram_j) / step_s
    tj, runaway = thermal.junction_temperature(p_dyn, r_th, ambient, leak_ref * v, t_ref, beta)
    # leakage from the heat balance T_j = T_a + R (P_dyn + P_leak): equal to the leakage
    # law at the fixed point, and finite (1 / (beta R)) at the runaway tangency point
    p_leak = (tj - ambient) / r_th - p_dyn
    tj_mean = tj

    # --- 2-D grid thermal model: hot-spot temperature and hot-spot throttling -------------
    grid_rows = np.flatnonzero(d["thermal_model_code"] == 1)
    if grid_rows.size:
        # one die of the package (each carries 1/dies of the power over 1/dies of the sink)
        energies = (energy.logic_pj * 1e-12 * np.ones(n) / dies, energy.sram_pj * 1e-12 / dies, e_dram_j / dies)
        grid_info = _grid_thermal(
            grid_rows,
            d,
            c,
            nd["leakage_w_per_mm2_85c"][ni],
            geo.block_areas_mm2,
            energies,
            t_clocked,
            dram_s,
            counts,
            overhead,
            s,
            r_sink,
            r_th,
            leak_ref,
            d2d_t,
            (geo.tiles_per_die, geo.phys_per_die),
        )
        g = grid_rows
        s[g], power_bad[g] = grid_info["s"], power_bad[g] | grid_info["power_bad"]
        v = power.dvfs_voltage_fraction(s, vmin)
        step_s = roofline.step_time_s(t_clocked, dram_s, counts, overhead, s[:, None], d2d_t)
        p_dyn = (e_core_j * v * v + e_dram_j) / step_s
        tj_mean, runaway = thermal.junction_temperature(
            p_dyn, r_th, ambient, leak_ref * v, t_ref, beta
        )
        p_leak = (tj_mean - ambient) / r_th - p_dyn
        tj = tj_mean.copy()
        tj[g] = grid_info["peak_c"]
        p_leak[g] = grid_info["leakage_w"]
        runaway[g] = grid_info["runaway"]
    return OperatingPoint(s, v, step_s, p_dyn, p_leak, tj, tj_mean, runaway, power_bad, r_sink)


def _workload_metrics(d, wl: Workload, money: Cost, perf: Performance, energy_rec: Energy, op: OperatingPoint):
    """Step time, throughput, energy and power at the operating point."""
    n = len(d["cores"])
    ops = wl.op_arrays()
    step_s = op.step_s
    p_total = op.dynamic_power_w + op.leakage_power_w
    energy = p_total * step_s
    items = wl.items_per_step
    clock_hz = d["clock_ghz"] * GHZ
    peak_wl_flops = 2.0 * d["cores"] * d["macs_per_core"] * clock_hz * perf.rate * op.clock_fraction
    out = dict(
        latency_s=step_s,
        throughput_per_s=items / step_s,
        energy_j=energy,
        energy_per_item_j=energy / items,
        power_w=p_total,
        sustained_clock_ghz=d["clock_ghz"] * op.clock_fraction,
        junction_temp_c=op.junction_temp_c,
        junction_temp_mean_c=op.junction_temp_mean_c,
        leakage_power_w=op.leakage_power_w,
        cost_per_throughput_usd=money.unit_cost_usd * step_s / items,
        compute_utilization=float((ops["flops"] * perf.counts).sum()) / (step_s * peak_wl_flops),
        dram_bytes=energy_rec.dram_bytes,
        weights_resident=np.broadcast_to(perf.weights_resident, (n,)).copy(),
    )
    if wl.item_unit == "token":
        out["tokens_per_s"] = items / step_s
    return out


def _violation_mask(*, reticle, capacity=False, power=False, runaway=False, package=False, system=False):
    """Bit mask of :data:`VIOLATIONS` (bit i set = VIOLATIONS[i] violated)."""
    flags = dict(
        reticle=reticle, memory_capacity=capacity, power=power, thermal_runaway=runaway,
        package=package, system_size=system,
    )  # fmt: skip
    mask = np.zeros(np.shape(reticle), dtype=np.int64)
    for i, name in enumerate(VIOLATIONS):
        mask |= np.asarray(flags[name]).astype(np.int64) << i
    return mask


def _detail_arrays(d, tech: Technology, geo: Geometry, perf: Performance, energy: Energy, op: OperatingPoint):
    """Per-op and per-block arrays behind the roofline and thermal-map plots."""
    n = len(d["cores"])
    dies = d["dies"]
    v, step_s = op.voltage_fraction, op.step_s
    return {
        "_ops": perf.ops,
        "_clock_fraction": op.clock_fraction,
        "_sram_bw": perf.sram_bw_bytes_per_s,
        "_dram_bw": perf.dram_bw_bytes_per_s,
        "_rate": perf.rate,
        "_power_by_kind": {  # one die
            "core": energy.logic_pj * 1e-12 * v * v / step_s / dies,
            "sram": energy.sram_pj * 1e-12 * v * v / step_s / dies,
            "phy": energy.offchip_j / step_s / dies,
            "uncore": np.zeros(n),
        },
        "_areas": geo.block_areas_mm2,
        "_tiles_per_die": geo.tiles_per_die,
        "_phys_per_die": geo.phys_per_die,
        "_r_sink": op.r_sink_k_per_w * dies,
        "_leak_density_v": tech.nodes.arrays["leakage_w_per_mm2_85c"][d["node_code"]] * v,
    }


def _system_metrics(out, d, wl, tech, c, weights_resident, resident_space, cap_bytes, fits, is_none):
    """System metrics; with ``system = "auto"`` a system of chips sized to hold the model.

    Chips hold the weights and KV cache in their off-chip memory (SRAM-only designs: in the
    weights-resident share of their SRAM); :func:`dse.system.size_system` finds the
    smallest tensor x pipeline split; each distinct split evaluates one chip on its shard
    of the workload (:func:`dse.system.shard_workload`: the chain itself, so residency,
    throttling and thermal apply to the shard) and :func:`dse.system.system_performance`
    adds the all-reduces and stage hops over the link. Designs with ``system = "single"``
    (or that fit on one chip, or non-LLM workloads) report their own metrics.
    """
    n = len(d["cores"])
    items = wl.items_per_step
    res = {
        "system_chips": np.ones(n),
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
        size = system.size_system(
            wl.weight_bytes, wl.kv_cache_bytes, capacity, d["tp_max"][auto], True,
            layers=wl.model_config.num_hidden_layers,
        )
        bad[auto] = ~size.fits
        multi = np.flatnonzero(size.fits & (size.chips > 1))
        coll = system.collectives_per_step(wl)
        for tp, pp in sorted({(int(size.tp[j]), int(size.pp[j])) for j in multi}):
            sel = multi[(size.tp[multi] == tp) & (size.pp[multi] == pp)]
            rows = auto[sel]
            sub_d = {k: v[rows] for k, v in d.items()}
            sub_d["system_code"] = np.zeros(rows.size, dtype=np.intp)
            shard = system.shard_workload(wl, tp, pp)
            sub = _evaluate_arrays(sub_d, shard, tech, c, False)
            link_i = d["link_code"][rows]
            links = [system.link(name) for name in system.LINKS]

            def pick(attr, links=links, link_i=link_i):
                return np.array([getattr(links[k], attr) for k in link_i])

            perf = system.system_performance(
                system.SystemSize(*(np.asarray(f)[sel] for f in size)),
                sub["latency_s"],
                coll,
                items,
                pick("bandwidth_gbps"),
                pick("latency_us"),
                pick("energy_pj_per_bit"),
                (sub["energy_j"] - sub["leakage_power_w"] * sub["latency_s"]) * size.chips[sel],
                sub["leakage_power_w"],
                out["unit_cost_usd"][rows],
                pick("usd_per_chip"),
                True,
            )
            res["system_chips"][rows] = size.chips[sel]
            res["system_latency_s"][rows] = perf.latency_s
            res["system_throughput_per_s"][rows] = perf.throughput_per_s
            res["system_energy_per_item_j"][rows] = perf.energy_per_item_j
            res["system_cost_usd"][rows] = perf.system_cost_usd
            res["system_cost_per_throughput_usd"][rows] = perf.cost_per_throughput_usd
        # a system that holds the model clears the single chip's capacity violation
        held = auto[size.fits]
        out["violation_mask"][held] &= ~np.int64(1 << 1)
    out["violation_mask"] |= bad.astype(np.int64) << 5
    out.update(res)


def _grid_thermal(
    rows,
    d,
    c,
    leak_density,
    areas,
    energies,
    t_clocked,
    dram_s,
    counts,
    overhead,
    s_lumped,
    r_sink,
    r_th,
    leak_ref,
    extra_s,
    per_die,
):
    """Hot-spot throttling and temperatures of the designs ``rows`` on the 2-D grid model.

    Without leakage the grid model is linear: the temperature-rise map is
    sum_k P_k(s) R_k with R_k the rise per watt of block kind k (core logic, SRAM, PHY)
    (:func:`dse.thermal_grid.kind_responses_k_per_w`). The clock fraction is the largest
    s <= the lumped one with max_cells(sum_k P_k(s) R_k) + P_leak(T_j,max) v R_lumped
    <= T_j,max - T_a (leakage bounded by its value at the limit everywhere: a conservative,
    uniform map whose rise per watt is the lumped R in every cell) and total power within
    the TDP. Then one leakage-coupled grid solve at that clock gives the reported hot-spot
    and mean temperatures, leakage and runaway.
    """
    from dse.spec import SRAM_LAYOUTS
    from dse.thermal_grid import hotspot_stack, kind_responses_k_per_w, solve_designs_batch

    vmin, smin = c["dvfs_vmin_fraction"], c["dvfs_min_clock_fraction"]
    beta, t_ref = c["leakage_temp_coeff_per_k"], c["leakage_ref_temp_c"]
    stack = hotspot_stack(c["r_package_k_mm2_per_w"])
    e_logic, e_sram, e_dram = (e[rows] for e in energies)
    a_core, a_sram, a_phy, a_unc = (a[rows] for a in areas)
    ambient, tj_max, tdp = d["ambient_c"][rows], d["tj_max_c"][rows], d["tdp_w"][rows]
    # the grid solves one die of the package; each die sees 1/dies of the heat sink
    dies_ = d["dies"]
    tiles_per_die, phys_per_die = per_die  # core tiles (spares included) and PHYs of one die
    r_lumped = r_th[rows]
    leak_tjmax = leak_ref[rows] * np.exp(beta * (tj_max - t_ref))
    leak_tdp = leak_ref[rows] * np.exp(beta * (ambient + r_lumped * tdp - t_ref))
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
                tiles_per_die[idx],
                phys_per_die[idx],
                r_sink_k_per_w=r_sink[idx] * dies_[idx],
                sram_layout=SRAM_LAYOUTS[lay],
                stack=stack,
                nx=int(nx),
            )[:, :3]  # core, sram, phy (uncore dissipates no dynamic power here)

            leak_scale = np.ones(sel.size)  # grid / lumped leakage (hot cells leak more)

            def bad(sv, sel=sel, idx=idx, resp=resp, scale=leak_scale):
                v = power.dvfs_voltage_fraction(sv, vmin)
                tt = roofline.step_time_s(
                    t_clocked[idx], dram_s[idx], counts, overhead, sv[:, None], extra_s[idx]
                )
                p = np.stack(
                    [e_logic[sel] * v * v / tt, e_sram[sel] * v * v / tt, e_dram[sel] / tt], axis=1
                )
                rise = np.einsum("bk,bkyx->byx", p, resp).reshape(len(sv), -1).max(axis=1)
                hot = rise + leak_tjmax[sel] * v * r_lumped[sel] > tj_max[sel] - ambient[sel]
                over_tdp = p.sum(axis=1) * dies_[idx] + scale * leak_tdp[sel] * v > tdp[sel]
                return hot | over_tdp

            for _ in range(3):  # refine the leakage estimate of the TDP check with the grid's
                hi = s_lumped[idx].copy()
                lo = np.full(sel.size, smin)
                ok_hi = ~bad(hi)
                too_hot = bad(lo)
                for _ in range(_BISECTION_STEPS):
                    mid = 0.5 * (lo + hi)
                    b = bad(mid)
                    hi = np.where(b, mid, hi)
                    lo = np.where(b, lo, mid)
                sv = np.where(ok_hi, s_lumped[idx], lo)
                v = power.dvfs_voltage_fraction(sv, vmin)
                tt = roofline.step_time_s(
                    t_clocked[idx], dram_s[idx], counts, overhead, sv[:, None], extra_s[idx]
                )
                p_dyn_kinds = {
                    "core": e_logic[sel] * v * v / tt,
                    "sram": e_sram[sel] * v * v / tt,
                    "phy": e_dram[sel] / tt,
                    "uncore": np.zeros(sel.size),
                }
                res = solve_designs_batch(
                    a_core[sel],
                    a_sram[sel],
                    a_phy[sel],
                    a_unc[sel],
                    tiles_per_die[idx],
                    phys_per_die[idx],
                    p_dyn_kinds,
                    r_sink_k_per_w=r_sink[idx] * dies_[idx],
                    ambient_c=ambient[sel],
                    leakage_w_per_mm2_ref=leak_density[idx] * v,
                    sram_layout=SRAM_LAYOUTS[lay],
                    stack=stack,
                    nx=int(nx),
                    ref_temp_c=t_ref,
                    beta_per_k=beta,
                )
                total = (sum(p_dyn_kinds.values()) + res.leakage_w) * dies_[idx]
                over = (total > tdp[sel] * (1 + 1e-9)) & ~res.runaway
                if not over.any():
                    break
                # scale the TDP check's leakage by the grid/lumped ratio at this clock
                lumped_leak = leak_tdp[sel] * v
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
    memory_bandwidth_gbps: float
    memory_capacity_gb: float
    latency_s: float | None = None
    throughput_per_s: float | None = None
    tokens_per_s: float | None = None
    energy_j: float | None = None
    energy_per_item_j: float | None = None
    power_w: float | None = None
    sustained_clock_ghz: float | None = None
    junction_temp_c: float | None = None
    junction_temp_mean_c: float | None = None
    leakage_power_w: float | None = None
    cost_per_throughput_usd: float | None = None
    compute_utilization: float | None = None
    dram_bytes: float | None = None
    weights_resident: bool | None = None
    system_chips: float | None = None
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
        else:
            arr = np.full(n, np.nan if spec.default is None else float(spec.default))
        if validate:
            _validate_column(key, arr, optional_nan=spec.default is None and not spec.required)
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
    return d


def _validate_column(key: str, arr: np.ndarray, optional_nan: bool) -> None:
    spec = CHIP_KEYS[key]
    values = arr[~np.isnan(arr)] if optional_nan else arr
    if not optional_nan and np.isnan(arr).any():
        raise DseInputError(
            f"column '{key}' has a NaN at row {int(np.flatnonzero(np.isnan(arr))[0])}"
        )
    if not np.isfinite(values).all():
        raise DseInputError(f"column '{key}' must be finite")
    lo_bad = (values <= spec.low) if spec.low_exclusive else (values < spec.low)
    hi_bad = values > spec.high
    if lo_bad.any() or hi_bad.any():
        bad = values[lo_bad | hi_bad][0]
        check_value(key, float(bad))  # raises the same message as a chip file would
    if spec.type == "int" and (np.floor(values) != values).any():
        raise DseInputError(f"column '{key}' must hold integers")


def _choice_codes(
    values: Any, choices: tuple[str, ...], key: str, n: int, default: str | None = None
) -> np.ndarray:
    if values is None:
        return np.full(n, choices.index(default), dtype=np.intp)
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
        elif name == "feasible":
            res[name] = out["violation_mask"] == 0
        elif name in out:
            res[name] = out[name]
        elif spec.needs_workload and wl is None:
            continue
        elif spec.llm_only:
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
    workload : workload string (DESIGN.md §4) or :class:`dse.workloads.Workload`
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
    # chunks sized to stay in cache; each worker writes its rows into shared outputs
    first = evaluate_arrays({k: v[:1] for k, v in d.items()}, wl, tech, c)
    merged = {k: np.empty(n, dtype=v.dtype) for k, v in first.items()}
    bounds = list(range(0, n, _CHUNK_ROWS)) + [n]
    spans = list(zip(bounds[:-1], bounds[1:], strict=True))

    def run(span: tuple[int, int]) -> None:
        a, b = span
        part = evaluate_arrays({k: v[a:b] for k, v in d.items()}, wl, tech, c)
        for k, v in part.items():
            merged[k][a:b] = v

    workers = threads or min(len(spans), os.cpu_count() or 1)
    if workers > 1:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(run, spans))
    else:
        for span in spans:
            run(span)
    result = pd.DataFrame(_rows_to_frame(merged, wl), index=designs.index, copy=False)
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
    time = np.maximum(np.maximum(comp, sram), dram) + c["op_overhead_s"]
    bound = np.where(
        (dram >= comp) & (dram >= sram), "dram", np.where(sram > comp, "sram", "compute")
    ).astype(object)
    bound = np.where(
        np.maximum(np.maximum(comp, sram), dram) < c["op_overhead_s"], "overhead", bound
    )
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
        ambient_c=chip.ambient_c,
        stack=hotspot_stack(c["r_package_k_mm2_per_w"]),
        nx=cells,
        leakage_w_per_mm2_ref=float(out["_leak_density_v"][0]),
        ref_temp_c=c["leakage_ref_temp_c"],
        beta_per_k=c["leakage_temp_coeff_per_k"],
    )
    return result, fp
