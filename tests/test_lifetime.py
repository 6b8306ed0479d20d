"""Lifetime under load, memory temperature and power delivery in the chain.

The wear-out physics itself is checked against its sources in test_reliability.py; here
the chain's composition of it: properties of the lifetime in temperature, voltage, duty
cycle and hot spot, the compiled kernel against the numpy functions, and the memory
temperature (refresh doubling, limit) and supply current on real designs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dse
from dse.chain import life as chain
from dse.constants import default_constants
from dse.model import reliability, wearout
from dse.tech import load_tech

C = default_constants()
K = chain._wear_out_constants(C, C["alpha_power"])
VNOM, VMAX, VMIN = 0.75, 1.05, 0.70  # TSMC N5/N4 (vf_nodes.csv)
A0 = float(
    reliability.bti_prefactor(
        C["bti_ref_delay_increase"], VNOM, C["vth_fraction"] * VNOM, C["bti_ref_temp_c"], C["bti_ref_years"],
        C["bti_ref_duty"], C["bti_activation_energy_ev"], C["bti_voltage_exponent"], C["bti_time_exponent"],
        C["alpha_power"],
    )
)
GEMM = "gemm:8192,8192,8192"


def _columns(**kw) -> dict[str, np.ndarray]:
    base = dict(
        j_load=1.0, t_hot=85.0, v_load=0.8, t_mean=80.0, j_idle=0.05, t_idle_hot=40.0,
        v_idle=VMIN, t_idle_mean=39.0, v_ref=VMAX, vth=C["vth_fraction"] * VNOM,
        tddb_log_life_ref=float(reliability.tddb_log_life(VMAX, C["reliability_ref_temp_c"])),
        log_a0=np.log(A0), duty=1.0, cycles=1.0,
    )  # fmt: skip
    base.update(kw)
    n = max(np.size(v) for v in base.values())
    return {k: np.broadcast_to(np.asarray(v, dtype=float), (n,)).copy() for k, v in base.items()}


def _lifetime(cols) -> np.ndarray:
    return chain._wear_out(cols, K, C)[5]


# one design's load and idle states, the idle state no hotter, no higher in voltage and
# current than the load (as the chain's idle state at the lowest DVFS clock)
_state = st.fixed_dictionaries(
    {
        "t_hot": st.floats(20.0, 125.0),
        "margin": st.floats(0.0, 15.0),  # hot spot above the die mean
        "v_load": st.floats(VMIN, VMAX),
        "j_load": st.floats(0.01, 4.0),
        "idle_fraction": st.floats(0.0, 1.0),  # idle rise, voltage excess and current as a share of load
        "duty": st.floats(0.0, 1.0),
        "cycles": st.floats(0.0, 50.0),
    }
)


def _design(s, **change) -> dict[str, np.ndarray]:
    s = {**s, **change}
    f, ambient = s["idle_fraction"], 20.0
    t_mean = s["t_hot"] - s["margin"]
    return _columns(
        t_hot=s["t_hot"], t_mean=t_mean, v_load=s["v_load"], j_load=s["j_load"],
        t_idle_mean=ambient + f * (t_mean - ambient) if t_mean > ambient else t_mean,
        t_idle_hot=ambient + f * (s["t_hot"] - ambient) if s["t_hot"] > ambient else s["t_hot"],
        v_idle=VMIN + f * (s["v_load"] - VMIN), j_idle=f * s["j_load"], duty=s["duty"],
        cycles=s["cycles"],
    )  # fmt: skip


_SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(s=_state, rise=st.floats(0.0, 40.0))
def test_lifetime_non_increasing_in_junction_temperature(s, rise):
    cool = _lifetime(_design(s))
    hot = _lifetime(_design(s, t_hot=s["t_hot"] + rise))
    assert hot[0] <= cool[0] * (1 + 1e-12)


@_SETTINGS
@given(s=_state, v2=st.floats(VMIN, VMAX))
def test_lifetime_non_increasing_in_voltage(s, v2):
    lo, hi = sorted((s["v_load"], v2))
    # the idle voltage is held: only the voltage under load changes
    low = _design(s, v_load=lo)
    high = _design(s, v_load=hi)
    high["v_idle"] = low["v_idle"]
    assert _lifetime(high)[0] <= _lifetime(low)[0] * (1 + 1e-12)


@_SETTINGS
@given(s=_state, d2=st.floats(0.0, 1.0))
def test_lifetime_non_increasing_in_duty_cycle(s, d2):
    lo, hi = sorted((s["duty"], d2))
    assert _lifetime(_design(s, duty=hi))[0] <= _lifetime(_design(s, duty=lo))[0] * (1 + 1e-12)


@_SETTINGS
@given(s=_state)
def test_hot_spot_never_outlives_the_die_mean(s):
    at_hot_spot = _design(s)
    at_mean = _design(s)
    at_mean["t_hot"] = at_mean["t_mean"]  # wear-out evaluated at the die mean instead
    at_mean["t_idle_hot"] = at_mean["t_idle_mean"]
    assert _lifetime(at_hot_spot)[0] <= _lifetime(at_mean)[0] * (1 + 1e-12)


def test_qualification_point_reports_the_design_life():
    # at the qualification point (reference temperature, V_max, the reference current
    # density and cycling) the three rates spend the budget: lifetime = design life
    t_ref = C["reliability_ref_temp_c"]
    cols = _columns(
        t_hot=t_ref, t_mean=t_ref, v_load=VMAX, j_load=C["bump_current_limit_a_per_mm2"],
        t_idle_mean=t_ref - C["tc_ref_delta_t_k"], cycles=C["tc_ref_cycles_per_day"],
        log_a0=-np.inf,  # BTI off (A0 = 0): the SOFR budget alone
    )  # fmt: skip
    em, ox, tc, fit, _, life, _ = chain._wear_out(cols, K, C)
    share = 1e9 * -np.log1p(-0.01) / (7.0 * 8766.0) / 3  # 7 years at 1 %, three mechanisms
    np.testing.assert_allclose([em[0], ox[0], tc[0]], share, rtol=1e-12)
    np.testing.assert_allclose(life, C["design_life_years"], rtol=1e-12)


def test_compiled_kernel_agrees_with_the_numpy_functions(monkeypatch):
    assert wearout.available()
    rng = np.random.default_rng(11)
    n = 5000
    t_mean = rng.uniform(-10, 140, n)
    cols = _columns(
        t_hot=t_mean + rng.uniform(0, 20, n), t_mean=t_mean, v_load=rng.uniform(0.5, 1.3, n),
        j_load=rng.choice([0.0, 0.3, 2.0, 20.0], n) * rng.uniform(0.5, 1.5, n),
        t_idle_hot=rng.uniform(-20, 60, n), t_idle_mean=rng.uniform(-20, 60, n),
        v_idle=rng.uniform(0.5, 0.9, n), j_idle=rng.uniform(0, 0.5, n),
        duty=rng.choice([0.0, 0.3, 1.0], n), cycles=rng.choice([0.0, 1.0, 24.0], n),
        vth=rng.uniform(0.3, 0.6, n),
    )  # fmt: skip
    compiled = chain._wear_out(cols, K, C)
    monkeypatch.setattr(wearout, "njit", None)
    vectorised = chain._wear_out(cols, K, C)
    for a, b in zip(compiled[:6], vectorised[:6], strict=True):
        assert ((a == 0) == (b == 0)).all() and (np.isinf(a) == np.isinf(b)).all()
        ok = np.isfinite(a) & (a > 0)
        np.testing.assert_allclose(a[ok], b[ok], rtol=1e-12)
    assert (compiled[6] == vectorised[6]).all()


# --- the chain on real designs -----------------------------------------------------------


def test_duty_cycle_and_cycles_on_a_real_chip(h100):
    lives = [dse.evaluate(h100.replace(duty_cycle=d), GEMM).lifetime_years for d in (0.1, 0.5, 1.0)]
    assert lives[0] > lives[1] > lives[2]
    fits = [dse.evaluate(h100.replace(load_cycles_per_day=c), GEMM).fit for c in (0.0, 1.0, 10.0)]
    assert fits[0] < fits[1] < fits[2]
    # thermal cycling is linear in the cycling rate (Coffin-Manson: rate x cycles / N_f)
    tc = [_fit(h100.replace(load_cycles_per_day=c), "thermal_cycling") for c in (1.0, 10.0)]
    assert tc[1] == pytest.approx(10 * tc[0], rel=1e-12)


def _fit(chip, mechanism: str) -> float:
    table = dse.reliability_breakdown(chip, GEMM).set_index("mechanism")
    return float(table.loc[mechanism, "fit"])


def test_reliability_breakdown_adds_up(h100):
    table = dse.reliability_breakdown(h100, GEMM)
    m = dse.evaluate(h100, GEMM)
    assert list(table["mechanism"]) == list(reliability.MECHANISMS)
    assert table["fit"].sum() == pytest.approx(m.fit, rel=1e-12)  # NaN (BTI) skipped
    assert table["share"].sum() == pytest.approx(1.0, rel=1e-12)
    limiting = table[table["limiting"]]
    assert list(limiting["mechanism"]) == [m.lifetime_mechanism]
    # each mechanism alone lasts at least as long as all of them together
    assert (table["years_alone"] >= m.lifetime_years * (1 - 1e-12)).all()


def test_h100_at_its_tdp_24_7_in_the_service_range(h100):
    # the documented sanity check (docs/reliability.md; not a fit target): an H100-class
    # design at its TDP, 24/7, at the 25 degC inlet the air tier is sized for, lands in
    # the 5-7 year service range of datacenter accelerators
    m = dse.evaluate(h100.replace(ambient_c=25.0), GEMM)
    assert m.power_w == pytest.approx(700.0, rel=1e-3)
    assert 5.0 <= m.lifetime_years <= 7.0
    assert m.lifetime_mechanism == "electromigration"


def test_supply_current_is_die_power_over_core_voltage(h100):
    m = dse.evaluate(h100, GEMM)
    split = dse.power_breakdown(h100, GEMM).set_index("component")["power_w"]
    die = split.drop(["memory devices", "VRM loss"]).sum()
    assert m.supply_current_a == pytest.approx(die / m.core_voltage_v, rel=1e-9)
    assert "power_delivery" not in m.violations
    # a denser die pushed to ~1.9 kW on a strong cold plate: more than the bumps carry per mm2
    dense = dict(cores=100, macs_per_core=4096, sram_mb=16, clock_ghz=2.2, tdp_w=2500.0)
    cold_plate = dict(cooling="liquid", r_sink_k_per_w=0.01, tj_max_c=110.0)
    hot = dse.evaluate(h100.replace(**dense, **cold_plate), GEMM)
    limit = C["bump_current_limit_a_per_mm2"]
    assert hot.supply_current_a / hot.die_area_mm2 > limit
    assert "power_delivery" in hot.violations


def test_hbm_refresh_doubles_above_85c_and_violates_above_its_limit(h100, tmp_path):
    # a memory-bound GEMM on the H100-like chip: the HBM3 stacks sit on the shared sink
    wl = "gemm:16,8192,8192"
    tech = tmp_path / "tech.toml"  # the same memory with refresh doubling out of reach
    tech.write_text("[memories.hbm3]\nrefresh_temp_c = 200\n")
    cool_tech = load_tech(tech)
    by_ambient = {a: dse.evaluate(h100.replace(ambient_c=a), wl) for a in (35.0, 40.0, 47.0)}
    never = {a: dse.evaluate(h100.replace(ambient_c=a), wl, tech=cool_tech) for a in by_ambient}
    # below 85 degC nothing changes; above it the step is slower by up to the refresh
    # share of bandwidth (HBM3: tRFC / tREFI = 450 ns / 3.9 us)
    assert by_ambient[35.0].memory_temp_c < 85.0
    assert by_ambient[35.0].latency_s == never[35.0].latency_s
    hot = by_ambient[47.0]
    assert hot.memory_temp_c > 85.0 and never[47.0].memory_temp_c > 85.0
    slower = hot.latency_s / never[47.0].latency_s  # the DRAM time grows, the kernel overhead not
    assert 1.1 < slower <= 1.0 / (1.0 - 0.115) * (1 + 1e-12)
    # in between, doubled refresh cools the stacks below 85 degC again: the device
    # toggles and holds the threshold, and pays part of the penalty
    mid = by_ambient[40.0]
    assert mid.memory_temp_c == pytest.approx(85.0, abs=0.05)
    assert never[40.0].latency_s < mid.latency_s < hot.latency_s
    assert "memory_temp" not in hot.violations
    # past the 95 degC limit of HBM3 (a die allowed to run hotter heats the shared sink)
    past = dse.evaluate(h100.replace(ambient_c=50.0, tj_max_c=115.0), GEMM)
    assert past.memory_temp_c > 95.0
    assert "memory_temp" in past.violations


def test_board_memory_is_cooled_by_the_air_not_the_die():
    chip = dse.example_chip("h20-like").replace(memory="gddr6", memory_count=12, memory_bandwidth_gbps=None, memory_capacity_gb=None)
    a = dse.evaluate(chip, GEMM)
    b = dse.evaluate(chip.replace(tdp_w=chip.tdp_w / 2), GEMM)
    assert a.power_w > b.power_w + 50
    # board memory: ambient + r_unit x its own power, whatever the die does
    per_device = [m.memory_power_w / 12 for m in (a, b)]
    rises = [m.memory_temp_c - chip.ambient_c for m in (a, b)]
    assert rises[0] / per_device[0] == pytest.approx(rises[1] / per_device[1], rel=1e-9)


def test_sram_only_design_has_no_memory_temperature():
    chip = dse.example_chip("t-head-class").replace(memory="none", memory_count=0, memory_bandwidth_gbps=None, memory_capacity_gb=None)
    m = dse.evaluate(chip, "llm-decode:llama-2-7b:batch=1,context=128")
    assert np.isnan(m.memory_temp_c)
    assert "memory_temp" not in m.violations


def test_many_agrees_with_one(h100):
    chips = [h100.replace(duty_cycle=d, load_cycles_per_day=c) for d, c in ((1.0, 1.0), (0.3, 5.0), (0.0, 2.0))]
    frame = dse.evaluate_many(pd.DataFrame([c.to_dict() for c in chips]), GEMM)
    for i, chip in enumerate(chips):
        one = dse.evaluate(chip, GEMM)
        for key in ("lifetime_years", "fit", "memory_temp_c", "supply_current_a"):
            assert frame[key].iloc[i] == getattr(one, key)
        assert frame["lifetime_mechanism"].iloc[i] == one.lifetime_mechanism


def test_cli_prints_lifetime_and_rejects_a_zero_lifetime_target(tmp_path):
    out = run_cli("evaluate", "h100-like", "--workload", GEMM)
    assert out.returncode == 0, out.stderr
    assert "lifetime" in out.stdout and "electromigration" in out.stdout
    study = tmp_path / "s.toml"
    study.write_text(
        '[study]\nname = "s"\nworkload = "gemm:1024,1024,1024"\ntrials = 5\n'
        '[study.objectives]\nlatency_s = "minimize"\n'
        '[fixed]\nnode = "tsmc-n7"\nmacs_per_core = 1024\nsram_mb = 64\nmemory = "hbm2e"\n'
        'memory_count = 4\ntdp_w = 300\ncooling = "air"\nclock_ghz = 1.2\n'
        "[space]\ncores = { low = 32, high = 128, step = 32 }\n"
        "[constraints]\nmin_lifetime_years = 0\n"
    )
    proc = run_cli("run", str(study), "--out", str(tmp_path / "o"))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "min_lifetime_years" in proc.stderr


def test_reliability_mechanisms_are_named():
    assert reliability.MECHANISMS == ("electromigration", "tddb", "thermal_cycling", "bti")


@pytest.mark.parametrize("model", ["lumped", "grid"])
def test_wear_out_sees_the_reported_hot_spot(h100, model):
    # electromigration at the hot spot the chip reports (the grid's hottest cell with the
    # grid model) and at the supply current density it reports
    chip = h100.replace(thermal_model=model, thermal_grid_cells=8)
    m = dse.evaluate(chip, GEMM)
    table = dse.reliability_breakdown(chip, GEMM).set_index("mechanism")
    expected = reliability.electromigration_fit(
        m.supply_current_a / m.die_area_mm2 / C["bump_current_limit_a_per_mm2"], m.junction_temp_c,
        K["share_fit"], C["em_exponent_n"], C["em_activation_energy_ev"], C["reliability_ref_temp_c"],
    )  # fmt: skip
    assert table.loc["electromigration", "fit"] == pytest.approx(float(expected), rel=1e-9)
    assert m.junction_temp_c > m.junction_temp_mean_c
