"""The chain's design stages, before any workload: geometry, memory system, cost, power model, idle state."""

from __future__ import annotations

import numpy as np

from dse.chain.records import _DTYPE_BITS, Cost, Geometry, IdleState, MemorySystem, PowerModel
from dse.constants import ModelConstants
from dse.model import area, carbon, chiplet, cost, export_control, harvest, power, thermal
from dse.tech import Technology


def _phy_area_factors(tech: Technology, c: ModelConstants) -> np.ndarray:
    """Per memory-table row: ``board_phy_area_factor`` for board memories, else 1."""
    frame = tech.memories.frame
    kind = frame["kind"].to_numpy() if "kind" in frame else np.zeros(len(frame), dtype=object)
    return np.where(kind == "board", c["board_phy_area_factor"], 1.0)


def _geometry(d, tech: Technology, c: ModelConstants) -> Geometry:
    """Area (:mod:`dse.model.area`), harvesting spares and the chiplet split (:mod:`dse.model.chiplet`)."""
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
        cores, macs, lanes, c["core_control_transistors"], c["core_control_mac_exponent"],
        c["core_transistors_per_lane"], density,
    ) + area.sram_area_mm2(d["register_file_mb"], macro, c["register_file_area_factor"])  # fmt: skip
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
    """Dies per wafer, yield (harvested where there are spares) and unit cost (:mod:`dse.model.cost`)."""
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
    edge_fraction = area.memory_edge_fraction(
        die_mm2, c["die_aspect_max"], stacked, d2d_edges, c["host_io_edge_mm"], md["phy_edge_mm_per_unit"][mi], geo.phys_per_die
    )  # fmt: skip
    reticle_bad = die_mm2 > nd["reticle_mm2"][ni]
    program = _program_cost(d, tech, c, mem, die_mm2, y, unit_cost, stacks, pc)
    return Cost(dpw, y, die_cost, unit_cost, reticle_bad, package_bad, beachfront_bad, edge_fraction, pc.oversize, *program)


def _column(arrays: dict[str, np.ndarray], name: str, idx) -> np.ndarray:
    """An optional technology column at the designs' rows (NaN where the table lacks it)."""
    col = arrays.get(name)
    return np.full(len(idx), np.nan) if col is None else col[idx]


def _program_cost(d, tech: Technology, c: ModelConstants, mem: MemorySystem, die_mm2, die_yield, unit_cost, stacks, pc):
    """NRE, test and cost at volume (:mod:`dse.model.cost`); embodied carbon (:mod:`dse.model.carbon`)."""
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
    """The design's voltage-frequency law, static powers and heat path (:mod:`dse.model.power`).

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
    """Leakage-temperature fixed point of the designs ``idx`` (:func:`dse.model.thermal.junction_temperature`).

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
    tpp = export_control.total_processing_performance(peak_tflops, _DTYPE_BITS[d["mac_dtype_code"]])
    pd_ = export_control.performance_density(tpp, geo.die_area_mm2 * d["dies"])
    return {
        "die_area_mm2": geo.die_area_mm2,
        "peak_tflops": peak_tflops,
        "tpp": tpp,
        "performance_density": pd_,
        "export_class_code": export_control.export_class_code(tpp, pd_, c),
        "memory_bandwidth_gbps": mem.bandwidth_gbps,
        "memory_capacity_gb": mem.capacity_gb,
        "memory_edge_fraction": money.memory_edge_fraction,
        "dies_per_wafer": money.dies_per_wafer,
        "yield": money.yield_fraction,
        "die_cost_usd": money.die_cost_usd,
        "unit_cost_usd": money.unit_cost_usd,
        "nre_usd": money.nre_usd,
        "test_cost_usd": money.test_cost_usd,
        "unit_cost_at_volume_usd": money.unit_cost_at_volume_usd,
        "embodied_co2_kg": money.embodied_co2_kg,
    }
