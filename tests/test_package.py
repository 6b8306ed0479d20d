"""The package around the die: beachfront, interposer size, one cost model for one die
and many, and the dated memory prices."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dse
from dse.constants import default_constants
from dse.model import area, chiplet
from dse.tech import default_tech

C = default_constants()
MEM = default_tech().memories.frame


def test_sixteen_hbm3e_stacks_do_not_fit_a_350_mm2_die(h100):
    # the H100 core with as many cores as make a ~350 mm2 die with 16 HBM3E PHYs
    designs = [
        h100.replace(cores=n, sram_mb=48, memory="hbm3e", memory_count=16, memory_bandwidth_gbps=None, memory_capacity_gb=None)
        for n in range(4, 80, 2)
    ]
    m = min((dse.evaluate(d) for d in designs), key=lambda r: abs(r.die_area_mm2 - 350.0))
    assert 320 < m.die_area_mm2 < 380
    assert "beachfront" in m.violations and not m.feasible
    # its interposer (1.5 x (die + 16 stacks)) is beyond the largest CoWoS-S too
    assert "interposer_size" in m.violations


def test_six_hbm3_stacks_fit_an_h100_sized_die(h100):
    m = dse.evaluate(h100.replace(memory_count=6, memory_bandwidth_gbps=None, memory_capacity_gb=None))
    assert 700 < m.die_area_mm2 < 850
    assert m.feasible, m.violations


def test_hbm_sites_are_whole_phys_on_the_long_edges():
    # an 814 mm2 die stretched to the reticle's aspect: 32.1 mm long edges; HBM3 PHYs
    # 7.73 mm long -> 4 per edge, 8 in all; the two short edges carry none
    long_mm, short_mm = area.die_edges_mm(814.0, C["die_aspect_max"])
    assert long_mm == pytest.approx(np.sqrt(814.0 * 33 / 26), rel=1e-3)
    sites = area.memory_sites(814.0, C["die_aspect_max"], True, 0, C["host_io_edge_mm"], MEM.loc["hbm3", "phy_edge_mm_per_unit"])
    assert sites == 2 * np.floor(long_mm / 7.73)
    # a 2-die package gives a short edge to the die-to-die link: HBM keeps both long edges
    assert area.memory_sites(814.0, C["die_aspect_max"], True, 1, 8.0, 7.73) == sites
    # board memories use the perimeter less the host interface
    board = area.memory_sites(400.0, C["die_aspect_max"], False, 0, 8.0, 4.0)
    perimeter = 2 * sum(area.die_edges_mm(400.0, C["die_aspect_max"]))
    assert board == np.floor((perimeter - 8.0) / 4.0)


@settings(max_examples=100, deadline=None)
@given(a1=st.floats(50, 900), a2=st.floats(50, 900), unit=st.floats(1.0, 12.0), stacked=st.booleans(), edges=st.sampled_from([0, 1, 2]))
def test_memory_sites_grow_with_the_die(a1, a2, unit, stacked, edges):
    lo, hi = sorted((a1, a2))
    f = lambda a: area.memory_sites(a, C["die_aspect_max"], stacked, edges, 8.0, unit)  # noqa: E731
    assert f(lo) <= f(hi)



@settings(max_examples=300, deadline=None)
@given(
    a=st.floats(20, 1200), unit=st.one_of(st.just(0.0), st.floats(0.5, 12.0)), units=st.integers(0, 24),
    stacked=st.booleans(), edges=st.sampled_from([0, 1, 2, 3, 4]), host=st.floats(0.0, 20.0),
)  # fmt: skip
def test_edge_fraction_is_the_graded_beachfront(a, unit, units, stacked, edges, host):
    # the search's graded constraint: the PHYs fit (memory_sites) exactly when the edge
    # they need is at most the edge they may use
    sites = area.memory_sites(a, C["die_aspect_max"], stacked, edges, host, unit)
    frac = area.memory_edge_fraction(a, C["die_aspect_max"], stacked, edges, host, unit, units)
    assert frac >= 0.0
    if units == 0 or unit == 0.0:
        assert frac == 0.0
    else:
        assert (frac <= 1.0) == (units <= sites)
        # more PHYs need more edge, a larger die gives more
        assert area.memory_edge_fraction(a, C["die_aspect_max"], stacked, edges, host, unit, units + 1) >= frac
        assert area.memory_edge_fraction(a * 1.1, C["die_aspect_max"], stacked, edges, host, unit, units) <= frac


def test_search_sees_how_far_a_design_is_past_the_beachfront(tmp_path):
    from dse.search import evaluate_designs
    from dse.search.study import load_study

    study = tmp_path / "edge.toml"
    study.write_text(
        '[study]\nname = "edge"\nworkload = "llm-decode:llama-3-8b:batch=16,context=2048"\n'
        '[study.objectives]\ntokens_per_s = "maximize"\n'
        '[fixed]\nnode = "tsmc-n7"\nmacs_per_core = 1024\nclock_ghz = 1.0\nsram_mb = 64\n'
        'memory = "hbm3"\ntdp_w = 400\ncooling = "air"\n[space]\ncores = [32, 64, 128]\nmemory_count = [4, 8]\n'
    )
    cfg = load_study(study)
    grid = pd.DataFrame([{"cores": c, "memory_count": m} for c in (32, 64, 128) for m in (4, 8)])
    out = evaluate_designs(cfg, grid)
    edge = out["constraint_beachfront"].to_numpy()
    bad = out["violations"].str.contains("beachfront").to_numpy()
    assert bad.any() and (~bad).any()
    assert ((edge > 0) == bad).all()
    assert np.allclose(edge, out["memory_edge_fraction"] - 1.0)
    # its own column: the model's count leaves it out
    only_edge = bad & ~out["model_feasible"].to_numpy() & (out["violations"] == "beachfront").to_numpy()
    assert (out.loc[only_edge, "constraint_model"] == 0).all()
    assert not out.loc[bad, "feasible"].any()
    # 8 stacks on fewer cores: the smaller die is further from fitting them
    eight = out[out.memory_count == 8].sort_values("cores")
    assert np.all(np.diff(eight["constraint_beachfront"].to_numpy()) < 0)

def test_one_die_and_two_use_the_same_package_model(h100):
    # the single-die path is the package model of the multi-die one: no separate price
    # per HBM stack, the same interposer, assembly, KGD test and bonding yield
    one = dse.evaluate(h100)
    stacks = h100.memory_count
    pc = chiplet.package_cost_and_yield(one.die_area_mm2, 1, stacks, "interposer", C)
    memory = h100.memory_capacity_gb * MEM.loc["hbm3", "cost_usd_per_gb"]
    assert one.unit_cost_usd == pytest.approx(
        chiplet.assembled_unit_cost_usd(one.die_cost_usd, 1, memory, pc.package_usd, pc.package_yield), rel=1e-12
    )
    # the same silicon as two dies: the difference is the two dies' cost (yield of the
    # smaller die, the die-to-die PHYs) and the package and bonding terms, nothing else
    two = dse.evaluate(h100.replace(dies=2))
    pc2 = chiplet.package_cost_and_yield(two.die_area_mm2, 2, stacks, "interposer", C)
    assert two.unit_cost_usd == pytest.approx(
        chiplet.assembled_unit_cost_usd(two.die_cost_usd, 2, memory, pc2.package_usd, pc2.package_yield), rel=1e-12
    )
    silicon = 2 * two.die_cost_usd - one.die_cost_usd
    package = (pc2.package_usd - pc.package_usd)
    bonding = (memory + 2 * two.die_cost_usd + pc2.package_usd) / pc2.package_yield - (
        memory + 2 * two.die_cost_usd + pc2.package_usd
    ) - ((memory + one.die_cost_usd + pc.package_usd) / pc.package_yield - (memory + one.die_cost_usd + pc.package_usd))
    assert two.unit_cost_usd - one.unit_cost_usd == pytest.approx(silicon + package + bonding, rel=1e-9)
    # a single die with board memory sits on an organic substrate: no interposer
    lp = chiplet.package_cost_and_yield(400.0, 1, 0, "organic", C)
    assert lp.interposer_mm2 == 0 and lp.package_yield == pytest.approx(C["bond_yield_per_die_organic"])


def test_h100_package_near_published_cowos_cost(h100):
    # Silicon Analysts / szyunze: H100 CoWoS-S packaging 723-750 USD (the interposer
    # price per mm2 is derived from it, model_constants.csv interposer_usd_per_mm2)
    full = dse.evaluate(h100.replace(cores=144, memory_count=6))
    pc = chiplet.package_cost_and_yield(full.die_area_mm2, 1, 6, "interposer", C)
    assert 600 < pc.package_usd < 900


def test_memory_prices_are_dated_and_hbm3e_not_cheaper_than_hbm3():
    priced = MEM[MEM.index != "none"]
    assert (priced["price_date"].astype(str).str.len() > 0).all()
    assert (priced["cost_usd_per_gb_low"] <= priced["cost_usd_per_gb"]).all()
    assert (priced["cost_usd_per_gb"] <= priced["cost_usd_per_gb_high"]).all()
    assert MEM.loc["hbm3e", "cost_usd_per_gb"] >= MEM.loc["hbm3", "cost_usd_per_gb"]


def test_memories_table_shows_the_price_date():
    from conftest import run_cli

    out = run_cli("memories", "--csv")
    assert out.returncode == 0, out.stderr
    frame = pd.read_csv(__import__("io").StringIO(out.stdout))
    assert "price_date" in frame.columns and "phy_edge_mm_per_unit" in frame.columns
