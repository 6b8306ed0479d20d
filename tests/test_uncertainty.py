"""Monte Carlo over uncertain table values, percentiles and tornado (dse.analysis.uncertainty)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

import dse
from dse.analysis.uncertainty import (
    MEMORY_COLUMNS,
    NODE_COLUMNS,
    evaluate_samples,
    monte_carlo_inputs,
    percentiles,
    replicate_designs,
    sample_constants,
    sample_tech,
    technology_for_sample,
    tornado,
    triangular_ppf,
    uncertain_constants,
)
from dse.constants import default_constants
from dse.plots.tornado import plot_tornado
from dse.tech import default_tech, load_tech


def test_triangular_inverse_cdf_by_hand():
    # Triangular(a=0, c=1, b=3): F(c) = (c - a)/(b - a) = 1/3.
    #   u = 1/12 (< 1/3): a + sqrt(u (b - a)(c - a)) = sqrt(1/12 x 3 x 1) = sqrt(0.25) = 0.5
    #   u = 1/3: the mode, 1
    #   u = 0.9 (> 1/3): b - sqrt((1 - u)(b - a)(b - c)) = 3 - sqrt(0.1 x 3 x 2) = 2.2254033
    x = triangular_ppf([1 / 12, 1 / 3, 0.9, 0.0, 1.0], 0.0, 1.0, 3.0)
    np.testing.assert_allclose(x, [0.5, 1.0, 3 - np.sqrt(0.6), 0.0, 3.0], rtol=1e-12, atol=1e-15)
    # degenerate range: the value itself
    assert triangular_ppf(0.3, 5.0, 5.0, 5.0) == 5.0


def test_sample_tech_draws_within_ranges_reproducibly():
    tech = default_tech()
    s = sample_tech(tech, 500, seed=7)
    assert set(s.nodes) == set(NODE_COLUMNS)
    assert set(s.memories) == set(MEMORY_COLUMNS) - {"capacity_gb_per_unit"}
    frame = tech.nodes.frame
    for col, arr in s.nodes.items():
        assert arr.shape == (500, len(frame))
        lo = frame[f"{col}_low"].to_numpy(float)
        hi = frame[f"{col}_high"].to_numpy(float)
        assert (arr >= lo - 1e-9).all() and (arr <= hi + 1e-9).all()
    # triangular mean (a + b + c) / 3 for smic-n2 D0 (0.10, 0.15, 0.30): 0.18333
    i = list(frame.index).index("smic-n2")
    assert s.nodes["defect_density_per_cm2"][:, i].mean() == pytest.approx(0.55 / 3, rel=0.03)
    # same seed, same draws; a column's draws do not depend on the others sampled
    again = sample_tech(tech, 500, seed=7, columns=["defect_density_per_cm2"])
    np.testing.assert_array_equal(
        again.nodes["defect_density_per_cm2"], s.nodes["defect_density_per_cm2"]
    )
    assert not np.array_equal(
        sample_tech(tech, 500, seed=8).nodes["wafer_cost_usd"], s.nodes["wafer_cost_usd"]
    )
    # comonotone: one quantile per sample for all rows -> rows move together (rank order)
    co = sample_tech(tech, 50, seed=1, columns=["wafer_cost_usd"], comonotone=True)
    ranks = np.argsort(np.argsort(co.nodes["wafer_cost_usd"], axis=0), axis=0)
    uncertain = (frame["wafer_cost_usd_low"] < frame["wafer_cost_usd_high"]).to_numpy()
    assert (ranks[:, uncertain] == ranks[:, [np.flatnonzero(uncertain)[0]]]).all()
    # uniform draws span the range evenly
    u = sample_tech(tech, 4000, seed=3, columns=["wafer_cost_usd"], distribution="uniform")
    col = u.nodes["wafer_cost_usd"][:, i]
    assert col.mean() == pytest.approx((13000 + 15000) / 2, rel=0.01)
    with pytest.raises(ValueError, match="distribution"):
        sample_tech(tech, 2, columns=["wafer_cost_usd"], distribution="normal")
    with pytest.raises(ValueError, match="uncertain technology column"):
        sample_tech(tech, 2, columns=["reticle_mm2"])


def test_uncertain_constants_exclude_fitted_and_definitions():
    names = uncertain_constants()
    assert "sram_bw_factor" in names and "logic_derate" in names
    for fitted in (
        "op_overhead_s", "dram_efficiency", "operand_delivery_factor",
        "core_control_transistors", "core_control_mac_exponent",
    ):  # fmt: skip
        assert fitted not in names
    for definition in ("wafer_diameter_mm", "tpp_threshold_a", "leakage_ref_temp_c"):
        assert definition not in names
    c = sample_constants(None, 300, seed=2, names=["logic_derate"])
    assert c["logic_derate"].shape == (300,)
    assert (c["logic_derate"] >= 0.4).all() and (c["logic_derate"] <= 0.8).all()


def test_monte_carlo_inputs_rows_are_design_major_and_gather_by_code():
    tech = default_tech()
    designs = pd.DataFrame(
        [dse.example_chip("smic-n2-inference").to_dict(), dse.example_chip("h100-like").to_dict()]
    )
    k = 5
    mc = monte_carlo_inputs(designs, k, seed=4, tech=tech)
    assert len(mc.designs) == 2 * k
    np.testing.assert_array_equal(mc.designs["design"], [0] * k + [1] * k)
    np.testing.assert_array_equal(mc.designs["sample"], list(range(k)) * 2)
    assert list(mc.designs["name"]) == ["SMIC-N2-inference"] * k + ["H100-like"] * k
    n2 = list(tech.nodes.frame.index).index("smic-n2")
    n4 = list(tech.nodes.frame.index).index("tsmc-n4")
    hbm3 = list(tech.memories.frame.index).index("hbm3")
    d0 = mc.tech_overrides["defect_density_per_cm2"]
    # row i K + j = sample j of design i's node
    np.testing.assert_array_equal(d0[:k], mc.samples.nodes["defect_density_per_cm2"][:, n2])
    np.testing.assert_array_equal(d0[k:], mc.samples.nodes["defect_density_per_cm2"][:, n4])
    np.testing.assert_array_equal(
        mc.tech_overrides["energy_pj_per_bit"][k:],
        mc.samples.memories["energy_pj_per_bit"][:, hbm3],
    )
    for name, arr in mc.constant_overrides.items():
        assert arr.shape == (2 * k,)
        np.testing.assert_array_equal(arr, np.tile(mc.constant_samples[name], 2))
    assert replicate_designs(designs, 1)["sample"].tolist() == [0, 0]


def test_per_sample_path_uses_the_same_draws_as_the_override_path():
    # Only the wafer cost uncertain: die cost is linear in it, so sample j's die cost is
    # the point die cost x (wafer cost of sample j / point wafer cost), with the wafer
    # cost of sample j taken from the override arrays of monte_carlo_inputs.
    tech = default_tech()
    designs = pd.DataFrame(
        [dse.example_chip("a100-like").to_dict(), dse.example_chip("smic-n2-inference").to_dict()]
    )
    k = 8
    kw = dict(k=k, seed=11, tech=tech, columns=["wafer_cost_usd"], constant_names=())
    rows = evaluate_samples(designs, None, **kw)
    mc = monte_carlo_inputs(designs, **kw)
    point = dse.evaluate_many(designs, tech=tech)
    wafer_point = tech.nodes.frame.loc[["tsmc-n7", "smic-n2"], "wafer_cost_usd"].to_numpy()
    expected = (
        np.repeat(point["die_cost_usd"].to_numpy() / wafer_point, k)
        * mc.tech_overrides["wafer_cost_usd"]
    )
    np.testing.assert_allclose(rows["die_cost_usd"], expected, rtol=1e-12)
    np.testing.assert_array_equal(rows[["design", "sample"]], mc.designs[["design", "sample"]])
    tj = technology_for_sample(tech, mc.samples, 3)
    assert tj.node("tsmc-n7")["wafer_cost_usd"] == mc.samples.nodes["wafer_cost_usd"][3, 3]


def test_p50_is_the_point_value_for_a_symmetric_range(tmp_path):
    # tsmc-n7 wafer cost 9,000 USD with a symmetric range 8,000-10,000 (triangular):
    # die cost is linear in it, so its median is the point value. Median standard error
    # ~1.25 sigma / sqrt(K) = 1.25 x (1,000/sqrt 6) / sqrt 200 = 0.4 % of 9,000: 1.5 %.
    f = tmp_path / "tech.toml"
    f.write_text(
        "[nodes.tsmc-n7]\nwafer_cost_usd = 9000\nwafer_cost_usd_low = 8000\n"
        "wafer_cost_usd_high = 10000\n"
    )
    tech = load_tech(f)
    designs = pd.DataFrame([dse.example_chip("a100-like").to_dict()])
    rows = evaluate_samples(
        designs, None, k=200, seed=5, tech=tech, columns=["wafer_cost_usd"], constant_names=()
    )
    point = dse.evaluate_many(designs, tech=tech)["die_cost_usd"].iloc[0]
    p = percentiles(rows, ["die_cost_usd"])
    assert p["die_cost_usd_p50"].iloc[0] == pytest.approx(point, rel=0.015)
    assert p["die_cost_usd_p10"].iloc[0] < point < p["die_cost_usd_p90"].iloc[0]


def test_percentiles_by_hand_and_ordered():
    # values 1..10: linear interpolation at 0.1 x 9 = 0.9 -> 1.9; median 5.5; 0.9 x 9 = 8.1 -> 9.1
    frame = pd.DataFrame(
        {
            "design": [0] * 10 + [1] * 10,
            "m": list(range(1, 11)) + list(range(10, 0, -1)),
            "feasible": [True] * 15 + [False] * 5,
        }
    )
    p = percentiles(frame, ["m"])
    assert p.loc[0, "m_p10"] == pytest.approx(1.9)
    assert p.loc[0, "m_p50"] == pytest.approx(5.5)
    assert p.loc[0, "m_p90"] == pytest.approx(9.1)
    assert p.loc[1, "feasible_fraction"] == 0.5 and p.loc[0, "samples"] == 10
    with pytest.raises(KeyError):
        percentiles(frame, ["nope"])


def test_full_monte_carlo_percentiles_are_ordered():
    designs = pd.DataFrame(
        [dse.example_chip("smic-n2-inference").to_dict(), dse.example_chip("h100-like").to_dict()]
    )
    rows = evaluate_samples(designs, "llm-decode:llama-3-8b:batch=1,context=256", k=30, seed=1)
    metrics = ["die_cost_usd", "unit_cost_usd", "tokens_per_s", "energy_per_item_j", "yield"]
    p = percentiles(rows, metrics)
    for m in metrics:
        assert (p[f"{m}_p10"] <= p[f"{m}_p50"]).all() and (p[f"{m}_p50"] <= p[f"{m}_p90"]).all()
    # the domestic node's yield is the more uncertain (D0 0.10-0.30 vs 0.05-0.11 /cm2)
    spread = (p["yield_p90"] - p["yield_p10"]) / p["yield_p50"]
    assert spread.iloc[0] > spread.iloc[1]


def test_tornado_ranks_swings_and_plots():
    chip = dse.example_chip("smic-n2-inference")
    data = tornado(
        chip,
        "die_cost_usd",
        inputs=["node.wafer_cost_usd", "node.defect_density_per_cm2", "constant.dram_efficiency"],
    )
    assert list(data.columns[:8]) == [
        "input", "kind", "low", "value", "high", "metric_low", "metric_base", "metric_high",
    ]  # fmt: skip
    assert (np.diff(data["swing"]) <= 0).all()
    row = data.set_index("input").loc["node.wafer_cost_usd"]
    # die cost is proportional to the wafer cost: 13,000 / 14,000 and 15,000 / 14,000 of base
    assert row["metric_low"] == pytest.approx(row["metric_base"] * 13000 / 14000, rel=1e-12)
    assert row["metric_high"] == pytest.approx(row["metric_base"] * 15000 / 14000, rel=1e-12)
    # the DRAM efficiency does not touch the die cost
    assert data.set_index("input").loc["constant.dram_efficiency", "swing"] == 0.0
    assert data.iloc[0]["input"] == "node.defect_density_per_cm2"
    ax = plot_tornado(data)
    assert len(ax.get_yticklabels()) == 3
    assert ax.get_xlabel() == "die_cost_usd"
    import matplotlib.pyplot as plt

    plt.close("all")


def test_tornado_default_inputs_cover_node_memory_and_constants():
    data = tornado(
        dse.example_chip("smic-n2-inference"),
        "tokens_per_s",
        workload="llm-decode:llama-3-8b:batch=1,context=256",
    )
    kinds = set(data["kind"])
    assert kinds == {"node", "memory", "constant"}
    assert len(data) == len(set(data["input"]))
    assert np.isfinite(data["swing"]).all()
    assert "constant.op_overhead_s" not in set(data["input"])  # fitted: not swung by default
    assert default_constants()["sram_bw_factor"] in set(data["value"])
    with pytest.raises(KeyError):
        tornado(dse.example_chip("h100-like"), "tokens_per_s")  # no workload: no tokens_per_s
