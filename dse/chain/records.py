"""The records passed between the chain's stages (fields with units in their names), and the violations."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from dse.model import roofline
from dse.spec import DTYPES
from dse.units import BITS_PER_ELEMENT, BYTES_PER_ELEMENT

VIOLATIONS = (
    "reticle", "memory_capacity", "power", "thermal_runaway", "package", "system_size", "timing",
    "power_delivery", "memory_temp", "beachfront", "interposer_size", "slo",
)  # fmt: skip


_DTYPE_BITS = np.array([BITS_PER_ELEMENT[d] for d in DTYPES], dtype=float)


_DTYPE_BYTES = np.array([BYTES_PER_ELEMENT[d] for d in DTYPES], dtype=float)


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
    memory_edge_fraction: np.ndarray  # die edge the memory PHYs need / the edge they may use
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


class IdleState(NamedTuple):
    """The design with a context loaded and no work: the lowest DVFS clock."""

    module_power_w: np.ndarray
    voltage_v: np.ndarray
    die_w: np.ndarray  # all die power (leakage included)
    temp_mean_c: np.ndarray
    temp_hot_c: np.ndarray  # lumped hot spot (mean + margin)


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
