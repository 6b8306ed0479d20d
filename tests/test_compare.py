"""`dse compare`: chips side by side."""

from __future__ import annotations

import pytest
from conftest import run_cli

import dse
from dse.analysis.compare import compare
from dse.plots.compare import compare_ratios, plot_compare

WL = "llm-decode:llama-3-8b:batch=16,context=2048"


def test_compare_table_matches_evaluate(a100, h100):
    frame = compare([a100, h100], WL)
    assert list(frame.columns) == ["A100-like", "H100-like"]
    assert frame.loc["tokens_per_s", "H100-like"] == pytest.approx(dse.evaluate(h100, WL).tokens_per_s)
    assert frame.loc["cores [count]", "A100-like"] == 108
    assert frame.index.is_unique  # override keys appear once, as the effective metric
    ratios = compare_ratios(frame)
    assert ratios.loc["tokens_per_s", "A100-like"] == 1.0
    assert ratios.loc["die_area_mm2", "H100-like"] == pytest.approx(
        dse.evaluate(h100).die_area_mm2 / dse.evaluate(a100).die_area_mm2
    )


def test_compare_plot_and_cli(tmp_path, a100, h100):
    ax = plot_compare(compare([a100, h100], WL))
    assert "ratio to A100-like" in ax.get_xlabel()
    out = tmp_path / "cmp.png"
    proc = run_cli("compare", "a100-like", "h100-like", "--workload", WL, "--plot", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "tokens_per_s" in proc.stdout
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_compare_needs_two_chips():
    proc = run_cli("compare", "a100-like")
    assert proc.returncode == 2 and "at least two" in proc.stderr


def test_compare_plot_and_table_agree_on_systems():
    # Llama-3-70B does not fit one 96 GB H20-like chip; the two SMIC N+2 designs size
    # systems (4 chips of 64 GB HBM2E, 2 chips of 128 GB LPDDR5X). The plot must draw the
    # systems' figures the table gives, against a feasible baseline, and mark the chip
    # that breaks a limit.
    from dse.plots.compare import baseline_chip, infeasible, plot_metrics

    hbm = dse.example_chip("smic-n2-inference").replace(system="auto", name="hbm2e-system")
    lp = hbm.replace(memory="lpddr5x", memory_count=8, name="lpddr5x-system")
    wl = "llm-decode:llama-3-70b:batch=8,context=2048"
    frame = compare([dse.example_chip("h20-like"), hbm, lp], wl)
    assert infeasible(frame) == {"H20-like": "memory_capacity"}
    assert baseline_chip(frame) == "hbm2e-system"
    drawn = plot_metrics(frame)
    assert "system_cost_per_throughput_usd" in drawn and "cost_per_throughput_usd" not in drawn
    ratios = compare_ratios(frame)
    for key in ("system_cost_per_throughput_usd", "system_throughput_per_s", "system_energy_per_item_j"):
        table = frame.loc[key].astype(float)
        assert ratios.loc[key, "hbm2e-system"] == 1.0
        assert ratios.loc[key].to_dict() == pytest.approx((table / table["hbm2e-system"]).to_dict()), key
    # the table's answer (which system is cheaper per token/s) is the plot's
    cheaper = frame.loc["system_cost_per_throughput_usd", ["hbm2e-system", "lpddr5x-system"]].astype(float).idxmin()
    assert ratios.loc["system_cost_per_throughput_usd", ["hbm2e-system", "lpddr5x-system"]].idxmin() == cheaper
    ax = plot_compare(frame)
    labels = ax.get_legend_handles_labels()[1]
    assert "H20-like (infeasible: memory_capacity)" in labels
    assert "ratio to hbm2e-system" in ax.get_xlabel()
    assert any("system_cost_per_throughput_usd" in t.get_text() for t in ax.get_yticklabels())
