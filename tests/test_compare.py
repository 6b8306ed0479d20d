"""`dse compare`: chips side by side."""

from __future__ import annotations

import pytest
from conftest import run_cli

import dse
from dse.compare import compare, compare_ratios, plot_compare

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
