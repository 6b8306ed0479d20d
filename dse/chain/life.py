"""The chain's reliability stage: supply current, memory temperature and the wear-out mechanisms over the load profile."""

from __future__ import annotations

import math

import numpy as np

from dse.chain.records import IdleState, OperatingPoint, PowerModel, Reliability
from dse.constants import ModelConstants
from dse.model import reliability, wearout
from dse.tech import Technology

_FLOAT_MAX = np.finfo(float).max


def _reliability(d, tech: Technology, c: ModelConstants, pm: PowerModel, op: OperatingPoint, idle: IdleState) -> Reliability:
    """Lifetime under the load profile, memory temperature and supply current (:mod:`dse.model.reliability`).

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
    """The constants of the wear-out model (:data:`dse.model.wearout.CONSTANTS`) from the table."""
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
    inputs are the columns ``x`` (:data:`dse.model.wearout.COLUMNS`): compiled when numba is
    there (:mod:`dse.model.wearout`), else with the numpy functions (the same formulas)."""
    if not wearout.available():
        return _wear_out_numpy(x, k, c)
    w = wearout.wear_out(x, tuple(k[name] for name in wearout.CONSTANTS)).T
    return (*w[:6], w[6].astype(np.intp))


def _wear_out_numpy(x, k, c):
    """The reliability stage's wear-out with the numpy functions of :mod:`dse.model.reliability`
    (the fallback of :mod:`dse.model.wearout`; the same formulas)."""
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
