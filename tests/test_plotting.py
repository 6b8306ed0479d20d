"""Plot data functions tested by value on hand-made data; renderers checked for labels."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from dse import plots as P

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture()
def fig():
    return P.new_figure()


def five_points() -> pd.DataFrame:
    """Five feasible points (A..E) and one infeasible one (F) that would dominate all.

    Both minimised: B dominates C, D dominates E, so the front is A, B, D.
    """
    return pd.DataFrame(
        {
            "latency_s": [1.0, 2.0, 3.0, 4.0, 5.0, 0.0],
            "energy_j": [5.0, 3.0, 4.0, 1.0, 2.0, 0.0],
            "feasible": [True, True, True, True, True, False],
        },
        index=list("ABCDEF"),
    )


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------
def test_axis_label_carries_unit():
    assert P.axis_label("tokens_per_s") == "tokens_per_s [tokens/s]"
    assert P.axis_label("cores") == "cores [count]"
    assert P.axis_label("export_class") == "export_class"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("min", "minimize"), ("Maximise", "maximize"), ("maximize", "maximize")],
)
def test_normalise_direction(text, expected):
    assert P.normalise_direction(text) == expected


def test_normalise_direction_rejects_other_words():
    with pytest.raises(ValueError, match="minimize"):
        P.normalise_direction("biggest")


def test_use_log_scale_needs_positive_values_spanning_a_factor_30():
    assert P.use_log_scale([1.0, 30.0])
    assert not P.use_log_scale([1.0, 29.0])
    assert not P.use_log_scale([-1.0, 100.0])
    assert not P.use_log_scale([5.0])


def test_feasible_mask_reads_booleans_and_csv_strings():
    df = pd.DataFrame({"feasible": ["True", "False", "true"]})
    np.testing.assert_array_equal(P.feasible_mask(df), [True, False, True])
    assert P.feasible_mask(pd.DataFrame({"x": [1, 2]})).all()


def test_import_does_not_load_matplotlib():
    code = "import sys, dse.plots, dse.report; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --------------------------------------------------------------------------------------
# 1. pairwise Pareto front
# --------------------------------------------------------------------------------------
def test_pareto_front_data_five_known_points():
    d = P.pareto_front_data(five_points(), "latency_s", "energy_j", ("minimize", "minimize"))
    assert list(d.front.index) == ["A", "B", "D"]  # on the front, in x order
    assert sorted(d.dominated.index) == ["C", "E"]
    assert list(d.infeasible.index) == ["F"]
    assert (d.n_dominated, d.n_infeasible, d.n_invalid) == (2, 1, 0)
    assert d.x_label == "latency_s [s]" and d.y_label == "energy_j [J]"


def test_pareto_front_data_respects_directions():
    directions = {"latency_s": "maximize", "energy_j": "minimize"}
    d = P.pareto_front_data(five_points(), "latency_s", "energy_j", directions)
    # maximising x: D (4, 1) dominates A, B and C; E (5, 2) trades off against D
    assert list(d.front.index) == ["D", "E"]
    assert d.directions == ("maximize", "minimize")


def test_pareto_front_data_keeps_duplicates_and_drops_non_finite():
    df = five_points()
    df.loc["G"] = [2.0, 3.0, True]  # a copy of B: both stay on the front
    df.loc["H"] = [np.nan, 1.0, True]
    d = P.pareto_front_data(df, "latency_s", "energy_j", ("min", "min"))
    assert sorted(d.front.index) == ["A", "B", "D", "G"]
    assert d.n_invalid == 1


def test_pareto_front_limits_focus_on_front_and_feasible_bulk():
    rng = np.random.default_rng(0)
    n = 1000
    df = pd.DataFrame(
        {"latency_s": rng.uniform(1, 2, n), "energy_j": rng.uniform(1, 2, n), "feasible": True}
    )
    df.loc[n] = [1.5, 1000.0, True]  # one feasible outlier
    d = P.pareto_front_data(df, "latency_s", "energy_j", ("min", "min"))
    lo, hi = d.y_limits
    assert lo < d.front["energy_j"].min() and hi < 10.0  # the outlier does not set the axis
    assert not d.log_y  # nor force a log axis
    assert d.n_outside >= 1
    assert d.x_limits[0] <= d.front["latency_s"].min()


def test_pareto_front_data_samples_background_but_counts_all():
    n = 500
    df = pd.DataFrame(
        {"latency_s": np.arange(n) + 1.0, "energy_j": np.arange(n) + 1.0, "feasible": True}
    )
    d = P.pareto_front_data(df, "latency_s", "energy_j", ("min", "min"), max_background=50)
    assert list(d.front.index) == [0]
    assert len(d.dominated) == 50 and d.n_dominated == n - 1


def test_plot_pareto_front_labels_title_legend(fig):
    df = five_points().rename(columns={"latency_s": "tokens_per_s"})
    directions = {"tokens_per_s": "maximize", "energy_j": "minimize"}
    d = P.pareto_front_data(df, "tokens_per_s", "energy_j", directions)
    chosen = df.loc["D"]
    ax = P.plot_pareto_front(d, chosen=chosen, ax=fig.add_subplot())
    assert "[tokens/s]" in ax.get_xlabel() and "higher is better" in ax.get_xlabel()
    assert "[J]" in ax.get_ylabel() and "lower is better" in ax.get_ylabel()
    assert ax.get_title() == "Pareto front: energy_j vs tokens_per_s"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "infeasible (1)" in legend
    assert "chosen design" in legend
    assert any(t.startswith("Pareto front of this pair (2)") for t in legend)


def test_plot_pareto_front_without_ax_returns_axes():
    import matplotlib.pyplot as plt

    d = P.pareto_front_data(five_points(), "latency_s", "energy_j", ("min", "min"))
    ax = P.plot_pareto_front(d)
    try:
        assert ax.get_xlabel().startswith("latency_s [s]")
    finally:
        plt.close(ax.figure)


def test_pareto_fronts_figure_one_panel_per_pair():
    df = five_points()
    df["power_w"] = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    objectives = {"latency_s": "minimize", "energy_j": "minimize", "power_w": "minimize"}
    f = P.pareto_fronts_figure(df, objectives, title="t")
    titles = sorted(ax.get_title() for ax in f.axes if ax.get_visible())
    assert titles == [
        "Pareto front: energy_j vs latency_s",
        "Pareto front: power_w vs energy_j",
        "Pareto front: power_w vs latency_s",
    ]
    with pytest.raises(ValueError, match="two objectives"):
        P.pareto_fronts_figure(df, {"latency_s": "minimize"})


# --------------------------------------------------------------------------------------
# 2. roofline
# --------------------------------------------------------------------------------------
def ops_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "op": ["gemm", "attn", "norm"],
            "count": [2.0, 1.0, 4.0],
            "flops": [1e12, 1e9, 1e6],
            "dram_bytes": [1e9, 1e9, 0.0],
            "intensity_flop_per_byte": [1000.0, 1.0, 1e6],
            "time_s": [4e-3, 1e-3, 1e-5],
            "bound": ["compute", "dram", "overhead"],
            "achieved_tflops": [250.0, 1.0, 1e-4],
        }
    )


CEILINGS = {"peak_tflops": 312.0, "dram_bandwidth_gbps": 2039.0, "sram_bandwidth_gbps": 19000.0}


def test_roofline_ridge_points_are_peak_over_bandwidth():
    d = P.roofline_data(ops_table(), CEILINGS)
    # ridge I* = P / B: 312e12 FLOP/s / 2039e9 B/s
    assert d.ridge_dram_flop_per_byte == pytest.approx(312e12 / 2039e9, rel=1e-15)
    assert d.ridge_sram_flop_per_byte == pytest.approx(312e12 / 19000e9, rel=1e-15)
    # the roof meets the peak exactly at the ridge and is B * I below it
    assert P.roof_tflops(d.ridge_dram_flop_per_byte, 312.0, 2039.0) == pytest.approx(312.0)
    assert P.roof_tflops(10.0, 312.0, 2039.0) == pytest.approx(2039.0 * 10.0 / 1000.0)
    assert P.roof_tflops(1e4, 312.0, 2039.0) == 312.0


def test_roofline_time_share_counts_instances_and_zero_traffic_is_clipped():
    d = P.roofline_data(ops_table(), CEILINGS)
    total = np.array([2 * 4e-3, 1e-3, 4 * 1e-5])
    np.testing.assert_allclose(d.ops["time_share"], total / total.sum())
    assert d.ops["time_share"].sum() == pytest.approx(1.0)
    norm = d.ops.set_index("op").loc["norm"]
    assert np.isinf(norm["intensity_flop_per_byte"]) and norm["clipped"]
    assert norm["x"] == d.x_range[1]  # drawn at the right edge
    assert not d.ops.set_index("op").loc["gemm", "clipped"]


def test_roofline_prefers_total_time_column():
    ops = ops_table()
    ops["total_time_s"] = [1.0, 1.0, 2.0]
    d = P.roofline_data(ops, CEILINGS)
    np.testing.assert_allclose(d.ops["time_share"], [0.25, 0.25, 0.5])


def test_roofline_ranges_are_whole_decades_holding_ops_and_ridges():
    d = P.roofline_data(ops_table(), CEILINGS)
    lo, hi = d.x_range
    assert np.log10(lo) == int(np.log10(lo)) and np.log10(hi) == int(np.log10(hi))
    assert lo <= 1.0 and hi >= 1000.0 and lo <= d.ridge_sram_flop_per_byte
    ylo, yhi = d.y_range
    assert ylo <= 1e-4 and yhi >= 312.0


def test_plot_roofline_axes_and_labels(fig):
    d = P.roofline_data(ops_table(), CEILINGS)
    ax = P.plot_roofline(d, ax=fig.add_subplot(), title="Roofline of X")
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert "[FLOP/byte" in ax.get_xlabel()
    assert "[TFLOP/s]" in ax.get_ylabel()
    assert ax.get_title() == "Roofline of X"
    legend = " | ".join(t.get_text() for t in ax.get_legend().get_texts())
    assert "DRAM roof 2,039 GB/s" in legend and "SRAM roof" in legend
    assert "compute peak 312 TFLOP/s" in legend
    labels = " ".join(t.get_text() for t in ax.texts)
    for op in ("gemm", "attn", "norm"):
        assert op in labels


# --------------------------------------------------------------------------------------
# 3. per-node fronts
# --------------------------------------------------------------------------------------
def node_designs() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "node": ["tsmc-n5", "tsmc-n5", "tsmc-n5", "smic-n2", "smic-n2", "smic-28"],
            "tokens_per_s": [100.0, 200.0, 150.0, 80.0, 120.0, 50.0],
            "die_cost_usd": [50.0, 90.0, 95.0, 60.0, 70.0, 10.0],
            "feasible": [True, True, True, True, True, False],
        }
    )


def test_node_fronts_data_one_front_per_node():
    directions = {"tokens_per_s": "maximize", "die_cost_usd": "minimize"}
    d = P.node_fronts_data(
        node_designs(), "tokens_per_s", "die_cost_usd", directions, order=["smic-n2", "tsmc-n5"]
    )
    assert d.nodes == ("smic-n2", "tsmc-n5", "smic-28")
    n5 = d.fronts[d.fronts["node"] == "tsmc-n5"]
    assert list(n5["tokens_per_s"]) == [100.0, 200.0]  # (150, 95) is dominated by (200, 90)
    n2 = d.fronts[d.fronts["node"] == "smic-n2"]
    assert list(n2["tokens_per_s"]) == [80.0, 120.0]
    assert d.counts == {"smic-n2": 2, "tsmc-n5": 3, "smic-28": 0}
    assert d.nodes_without_feasible == ("smic-28",)


def test_plot_node_fronts_legend_per_node(fig):
    directions = {"tokens_per_s": "maximize", "die_cost_usd": "minimize"}
    d = P.node_fronts_data(node_designs(), "tokens_per_s", "die_cost_usd", directions)
    ax = P.plot_node_fronts(d, ax=fig.add_subplot())
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[0].startswith("smic-n2 (2 on its front of 2 feasible designs)")
    assert legend[1].startswith("tsmc-n5 (2 on its front of 3 feasible designs)")
    assert "no feasible design: smic-28" in legend
    assert "[tokens/s]" in ax.get_xlabel() and "[USD]" in ax.get_ylabel()
    assert "per node" in ax.get_title()


# --------------------------------------------------------------------------------------
# 4. parallel coordinates
# --------------------------------------------------------------------------------------
def pareto_set() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "node": ["tsmc-n5", "smic-n2", "tsmc-n5"],
            "cores": [64, 128, 256],
            "tdp_w": [400.0, 400.0, 400.0],
            "tokens_per_s": [10.0, 20.0, 30.0],
            "energy_j": [3.0, 2.0, 1.0],
        },
        index=[7, 8, 9],
    )


def test_parallel_coords_normalisation():
    d = P.parallel_coords_data(
        pareto_set(),
        ["node", "cores", "tdp_w"],
        ["tokens_per_s", "energy_j"],
        categories={"node": ["smic-n2", "tsmc-n7", "tsmc-n5"]},
    )
    v = d.values
    assert list(v.columns) == ["node", "cores", "tdp_w", "tokens_per_s", "energy_j"]
    np.testing.assert_allclose(v["cores"], [0.0, 64 / 192, 1.0])  # (x - min) / (max - min)
    np.testing.assert_allclose(v["tdp_w"], [0.5, 0.5, 0.5])  # constant axis in the middle
    np.testing.assert_allclose(v["tokens_per_s"], [0.0, 0.5, 1.0])
    np.testing.assert_allclose(v["energy_j"], [1.0, 0.5, 0.0])
    np.testing.assert_allclose(v["node"], [1.0, 0.0, 1.0])  # code / (n - 1), given order
    axes = {a.name: a for a in d.axes}
    assert axes["node"].categories == ("smic-n2", "tsmc-n7", "tsmc-n5")
    assert (axes["cores"].low, axes["cores"].high, axes["cores"].unit) == (64, 256, "count")
    assert axes["tokens_per_s"].label == "tokens_per_s [tokens/s]"
    assert d.color_by == "tokens_per_s"
    assert list(v.index) == [7, 8, 9]


def test_parallel_coords_skips_missing_keys_and_sorts_categories():
    d = P.parallel_coords_data(pareto_set(), ["node", "sram_mb"], ["energy_j"])
    assert [a.name for a in d.axes] == ["node", "energy_j"]
    assert d.axes[0].categories == ("smic-n2", "tsmc-n5")


def test_plot_parallel_coords_ticks_carry_units(fig):
    d = P.parallel_coords_data(pareto_set(), ["node", "cores"], ["tokens_per_s", "energy_j"])
    ax = P.plot_parallel_coords(d, highlight=8, ax=fig.add_subplot())
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert ticks == ["node", "cores\n[count]", "tokens_per_s\n[tokens/s]", "energy_j\n[J]"]
    texts = {t.get_text() for t in ax.texts}
    assert {"64", "256", "smic-n2", "tsmc-n5"} <= texts  # min/max and categories
    assert "chosen design" in ax.get_title()
    assert "parallel coordinates" in ax.get_title()


# --------------------------------------------------------------------------------------
# saving
# --------------------------------------------------------------------------------------
def test_save_figure_writes_a_valid_png(tmp_path, fig):
    d = P.pareto_front_data(five_points(), "latency_s", "energy_j", ("min", "min"))
    P.plot_pareto_front(d, ax=fig.add_subplot())
    path = P.save_figure(fig, tmp_path / "sub" / "front.png")
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE and len(data) > 5000
    import matplotlib.image as mpimg

    img = mpimg.imread(path)
    assert img.shape[0] > 300 and img.shape[1] > 300
