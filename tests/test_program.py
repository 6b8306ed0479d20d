"""Program cost (NRE, test, cost at volume) and carbon (embodied, operational)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import run_cli
from hypothesis import given, settings
from hypothesis import strategies as st

import dse
from dse.analysis.uncertainty import evaluate_samples
from dse.chain import example_chip
from dse.model import carbon, cost
from dse.search.scenario import load_scenario
from dse.search.study import load_study
from dse.tech import default_tech

DECODE = "llm-decode:llama-3-8b:batch=16,context=2048"


# ---------------------------------------------------------------------------------------
# golden values
# ---------------------------------------------------------------------------------------


def test_embodied_die_reproduces_act_worked_example():
    """ACT's own logic-model check (facebookresearch/ACT, act/tests/model_unit_tests.py,
    test_logic_model): a 145 mm2 die on its 10 nm row (1.475 kWh/cm2, 240 g/cm2 gases at
    95 % abatement, 500 g/cm2 materials), fab yield 0.943543, Taiwan grid 583 g/kWh, one IC
    of 150 g packaging. By hand: (1.475 x 583 + 240 + 500) g/cm2 x 1.45 cm2 / 0.943543
    = 2458.70 g, + 150 g = 2608.70 g. Tolerance: the 0.01 g rounding of the hand value."""
    cpa = carbon.carbon_per_area_gco2_per_cm2(1.475, 583.0, 240.0, 500.0)
    die_kg = carbon.embodied_die_kgco2(145.0, 0.943543, cpa)
    assert die_kg * 1e3 == pytest.approx(2458.70, abs=0.01)
    part_kg = carbon.embodied_part_kgco2(die_kg, 1, 0.0, 1, 0.15, 0.0, 0.0, 1.0)
    assert part_kg * 1e3 == pytest.approx(2608.70, abs=0.01)


def test_operational_reproduces_act_worked_example():
    """ACT's operational check (test_op_model): 273 mW at duty cycle 0.723 for 3.5 years
    (pint years of 365.25 days) on the Australian grid, 597 g/kWh. By hand: 0.273 W x
    0.723 x 3.5 x 8766 h = 6.0558 kWh -> x 597 g/kWh = 3615.30 g."""
    kg = carbon.operational_kgco2(0.273, 0.0, 0.723, 3.5, 597.0)
    assert kg * 1e3 == pytest.approx(3615.30, abs=0.01)


def test_node_rows_carry_acts_tables():
    """The packaged rows take ACT's per-node tables (logic/epa.json, gpa_95/99.json):
    TSMC N7 -> the 7 nm row: 2.15 kWh/cm2; gases 350 (95 %) and 200 (99 %) g/cm2 as the
    range, their mean 275 as the point; TSMC N28 -> 0.90 and 175 / 100."""
    nodes = default_tech().nodes.frame
    n7, n28 = nodes.loc["tsmc-n7"], nodes.loc["tsmc-n28"]
    assert n7["fab_energy_kwh_per_cm2"] == 2.15
    assert (n7["fab_gas_gco2_per_cm2_low"], n7["fab_gas_gco2_per_cm2"], n7["fab_gas_gco2_per_cm2_high"]) == (200, 275, 350)
    assert n28["fab_energy_kwh_per_cm2"] == 0.90
    assert (n28["fab_gas_gco2_per_cm2_low"], n28["fab_gas_gco2_per_cm2_high"]) == (100, 175)
    for _, row in nodes.iterrows():  # every point inside its range
        for col in ("mask_set_usd", "design_nre_usd", "ip_licence_usd", "fab_energy_kwh_per_cm2", "fab_gas_gco2_per_cm2", "fab_grid_gco2_per_kwh"):
            assert row[f"{col}_low"] <= row[col] <= row[f"{col}_high"], (row.name, col)


def test_nre_and_amortisation_by_hand():
    # TSMC N7 row: mask 10.5 M + design 271 M + IP 2.3431 M = 283.8431 M USD
    assert cost.nre_usd(10.5e6, 271e6, 2.3431e6) == pytest.approx(283_843_100.0, rel=1e-12)
    assert cost.nre_usd(10.5e6, 271e6, 2.3431e6, products=2) == pytest.approx(141_921_550.0, rel=1e-12)
    # 1,000 USD part + 10 USD test + 100 M USD NRE over 100,000 parts = 2,010 USD
    assert cost.unit_cost_at_volume_usd(1000.0, 10.0, 1e8, 1e5) == pytest.approx(2010.0, rel=1e-12)


def test_test_cost_by_hand():
    """800 mm2 die, yield 0.5, package yield 0.99, 360 USD/h (0.1 USD/s), 0.05 s/mm2 sort
    (40 s per probed die -> 80 s per good die), 120 s final test: 200 s x 0.1 / 0.99."""
    usd = cost.test_cost_usd(800.0, 1, 0.5, 0.99, 360.0, 0.05, 120.0)
    assert usd == pytest.approx(20.0 / 0.99, rel=1e-12)
    two = cost.test_cost_usd(800.0, 2, 0.5, 0.99, 360.0, 0.05, 120.0)  # two dies probed
    assert two == pytest.approx((160.0 + 120.0) * 0.1 / 0.99, rel=1e-12)


def test_chain_wiring_of_the_program_metrics():
    chip = example_chip("smic-n2-inference")
    m = dse.evaluate(chip, DECODE).to_dict()
    row = default_tech().nodes.frame.loc[chip.node]
    nre = row["mask_set_usd"] + row["design_nre_usd"] + row["ip_licence_usd"]
    assert m["nre_usd"] == pytest.approx(nre, rel=1e-12)
    assert m["unit_cost_at_volume_usd"] == pytest.approx(
        m["unit_cost_usd"] + m["test_cost_usd"] + nre / chip.volume, rel=1e-12
    )
    assert m["cost_per_throughput_at_volume_usd"] == pytest.approx(
        m["unit_cost_at_volume_usd"] / m["tokens_per_s"], rel=1e-12
    )
    seconds = chip.service_years * carbon.HOURS_PER_YEAR * 3600.0
    assert m["co2_per_million_tokens_kg"] == pytest.approx(
        (m["embodied_co2_kg"] + m["operational_co2_kg"]) / (m["tokens_per_s"] * chip.duty_cycle * seconds) * 1e6,
        rel=1e-12,
    )
    shared = dse.evaluate(chip.replace(nre_products=4), DECODE).to_dict()
    assert shared["nre_usd"] == pytest.approx(nre / 4, rel=1e-12)
    cleaner = dse.evaluate(chip.replace(grid_gco2_per_kwh=chip.grid_gco2_per_kwh / 2), DECODE).to_dict()
    assert cleaner["operational_co2_kg"] == pytest.approx(m["operational_co2_kg"] / 2, rel=1e-12)
    assert cleaner["embodied_co2_kg"] == m["embodied_co2_kg"]  # the fab's grid is the node's


def test_items_and_tokens():
    chip = example_chip("smic-n2-inference")
    cnn = dse.evaluate(chip, "resnet50:batch=32").to_dict()
    assert "co2_per_million_tokens_kg" not in cnn and cnn["co2_per_million_items_kg"] > 0
    llm = dse.evaluate(chip, DECODE).to_dict()
    assert llm["co2_per_million_tokens_kg"] == llm["co2_per_million_items_kg"]
    bare = dse.evaluate(chip).to_dict()  # workload independent: NRE, test, embodied carbon
    assert {"nre_usd", "test_cost_usd", "unit_cost_at_volume_usd", "embodied_co2_kg"} <= set(bare)
    assert "operational_co2_kg" not in bare


# ---------------------------------------------------------------------------------------
# properties
# ---------------------------------------------------------------------------------------


def _designs(n: int = 40, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    nodes = list(default_tech().nodes.frame.index)
    return pd.DataFrame(
        {
            "node": rng.choice(nodes, n),
            "cores": rng.integers(8, 129, n),
            "macs_per_core": rng.choice([256, 1024, 4096], n),
            "clock_ghz": rng.uniform(0.6, 1.8, n),
            "sram_mb": rng.uniform(8, 256, n),
            "memory": rng.choice(["hbm2e", "hbm3", "gddr6", "lpddr5x", "none"], n),
            "memory_count": rng.integers(1, 7, n),
            "tdp_w": 400.0,
            "cooling": "liquid",
            "dies": rng.choice([1, 2], n),
        }
    ).assign(cores=lambda f: f["cores"] * f["dies"])


def test_unit_cost_at_volume_non_increasing_in_volume():
    designs = _designs()
    volumes = [1.0, 10.0, 1e3, 1e4, 1e5, 1e6, 1e8, 1e10]
    costs = np.array([dse.evaluate_many(designs.assign(volume=v))["unit_cost_at_volume_usd"].to_numpy() for v in volumes])
    assert np.isfinite(costs).all()
    assert (np.diff(costs, axis=0) <= 0).all()
    # and it approaches the recurring cost, NRE / V above it
    rec = dse.evaluate_many(designs)
    excess = costs[-1] - (rec["unit_cost_usd"] + rec["test_cost_usd"]).to_numpy()
    assert excess == pytest.approx(rec["nre_usd"].to_numpy() / 1e10, rel=1e-6, abs=1e-9)


@settings(max_examples=200, deadline=None)
@given(
    area=st.floats(1.0, 900.0),
    grow=st.floats(1.001, 3.0),
    y=st.floats(0.01, 1.0),
    drop=st.floats(0.05, 0.999),
    cpa=st.floats(1.0, 5000.0),
)
def test_embodied_per_good_die_rises_with_area_and_falling_yield(area, grow, y, drop, cpa):
    base = carbon.embodied_die_kgco2(area, y, cpa)
    assert carbon.embodied_die_kgco2(area * grow, y, cpa) > base
    assert carbon.embodied_die_kgco2(area, y * drop, cpa) > base


def test_embodied_rises_with_area_through_the_chain():
    """More cores on the same node: a larger die and a lower yield, so more carbon per
    good die (and per part, everything else equal)."""
    base = dict(node="smic-n2", macs_per_core=1024, clock_ghz=1.0, sram_mb=64.0, memory="none",
                memory_count=0, tdp_w=400.0, cooling="liquid")  # fmt: skip
    frame = pd.DataFrame([{**base, "cores": c} for c in (8, 16, 32, 64, 96)])
    out = dse.evaluate_many(frame)
    assert (np.diff(out["die_area_mm2"]) > 0).all() and (np.diff(out["yield"]) < 0).all()
    assert (np.diff(out["embodied_co2_kg"]) > 0).all()


def test_monte_carlo_spreads_the_program_metrics():
    chip = example_chip("smic-n2-inference")
    frame = pd.DataFrame([chip.to_dict()])
    out = evaluate_samples(frame, DECODE, k=8, seed=3)
    for metric in ("nre_usd", "test_cost_usd", "embodied_co2_kg", "co2_per_million_tokens_kg"):
        assert out[metric].nunique() == 8, metric


# ---------------------------------------------------------------------------------------
# scenarios and bad input
# ---------------------------------------------------------------------------------------


def test_scenarios_set_the_grid(tmp_path):
    assert load_scenario("china-domestic-2025").grid_gco2_per_kwh == 582.0
    assert load_scenario("us-2025").grid_gco2_per_kwh == 369.0
    assert load_scenario("unrestricted").grid_gco2_per_kwh is None
    study = load_study("studies/node_vs_volume.toml")
    assert study.fixed["grid_gco2_per_kwh"] == 582.0
    text = open("studies/node_vs_volume.toml").read().replace("service_years = 5", "service_years = 5\ngrid_gco2_per_kwh = 100")
    p = tmp_path / "s.toml"
    p.write_text(text)
    assert load_study(p).fixed["grid_gco2_per_kwh"] == 100.0  # the study's own value wins


CHIP = """name = "t"
node = "smic-n2"
cores = 64
macs_per_core = 1024
clock_ghz = 1.2
sram_mb = 64
memory = "hbm2e"
memory_count = 4
tdp_w = 300
cooling = "air"
"""


@pytest.mark.parametrize(
    "extra, needle",
    [
        ("volume = 0", "key 'volume' in"),
        ("volume = -1000", "must be > 0"),
        ("grid_gco2_per_kwh = -5", "key 'grid_gco2_per_kwh' in"),
        ("service_years = 0", "key 'service_years' in"),
        ("nre_products = 0", "key 'nre_products' in"),
    ],
)
def test_bad_program_input_is_one_line_exit_2(tmp_path, extra, needle):
    p = tmp_path / "chip.toml"
    p.write_text(CHIP + extra + "\n")
    proc = run_cli("evaluate", str(p), "--json")
    assert proc.returncode == 2, proc.stderr
    err = proc.stderr.strip()
    assert "Traceback" not in proc.stderr and len(err.splitlines()) == 1, err
    assert needle in err, err


def test_bad_study_volume_is_one_line_exit_2(tmp_path):
    text = open("studies/node_vs_volume.toml").read().replace("volume = 100000", "volume = 0")
    p = tmp_path / "s.toml"
    p.write_text(text)
    proc = run_cli("grid", str(p), "--out", str(tmp_path / "o"))
    assert proc.returncode == 2, proc.stderr
    err = proc.stderr.strip()
    assert "Traceback" not in proc.stderr and len(err.splitlines()) == 1 and "volume" in err, err


def test_bad_scenario_grid_is_one_line(tmp_path):
    p = tmp_path / "scn.toml"
    p.write_text('[scenario]\nname = "x"\ngrid_gco2_per_kwh = -1\n')
    with pytest.raises(dse.errors.DseInputError, match="grid_gco2_per_kwh"):
        load_scenario(str(p))
