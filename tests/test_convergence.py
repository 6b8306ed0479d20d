"""Convergence of a search: the front's hypervolume against trials and the warning rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, run_cli

from dse.plots import convergence_data, plot_convergence
from dse.search import grid, run_study
from dse.search.study import load_study

MIN2 = {"a": "minimize", "b": "minimize"}


def trials(points, feasible=None) -> pd.DataFrame:
    pts = np.asarray(points, dtype=float)
    return pd.DataFrame(
        {
            "trial": np.arange(len(pts)),
            "a": pts[:, 0],
            "b": pts[:, 1],
            "feasible": [True] * len(pts) if feasible is None else feasible,
        }
    )


# Hand-computed hypervolumes, objectives scaled to [0, 1] by the front's ideal (0, 0) and
# nadir (1, 1), reference point (1.1, 1.1):
#   {(1, 0)}: 0.1 x 1.1 = 0.11; {(1, 0), (0, 1)}: 0.11 + 0.11 - 0.01 = 0.21;
#   {(1, 0), (0, 1), (0.5, 0.5)}: 0.6^2 + 2 x 0.5 x 0.1 = 0.46.
RUN = [(1, 0), (0, 1), (0.5, 0.5), (0, 0), (0.6, 0.6)]  # (0, 0) infeasible


def test_ratios_by_hand():
    d = trials(RUN, feasible=[True, True, True, False, True])
    c = convergence_data(d, MIN2)
    assert list(c.trials) == [1, 2, 3, 4, 5]
    np.testing.assert_allclose(c.hv_ratio, [0.11 / 0.46, 0.21 / 0.46, 1, 1, 1], rtol=1e-12)
    assert c.tail_start == 4 and c.tail_gain == 0 and c.converged and c.warning is None


def test_maximised_objective_and_trial_order():
    # b maximised: negate it; rows shuffled: the order is the trial column's
    pts = [(a, -b) for a, b in RUN]
    d = trials(pts, feasible=[True, True, True, False, True]).sample(frac=1, random_state=3)
    c = convergence_data(d, {"a": "minimize", "b": "maximize"})
    np.testing.assert_allclose(c.hv_ratio, [0.11 / 0.46, 0.21 / 0.46, 1, 1, 1], rtol=1e-12)


def test_best_known_front_given():
    # the front (0.2, 0.2) dominates: 0.9^2 + 2 x 0.2 x 0.1 = 0.85
    best = np.array([(0, 1), (1, 0), (0.2, 0.2)])
    c = convergence_data(trials(RUN[:3]), MIN2, best_front=best)
    np.testing.assert_allclose(c.hv_ratio, [0.11 / 0.85, 0.21 / 0.85, 0.46 / 0.85], rtol=1e-12)


def test_a_late_gain_warns():
    # the knee (0.5, 0.5) arrives last: the last 20 % (trial 5 of 5) adds 1 - 0.21 / 0.46
    d = trials([(1, 0), (0, 1), (0.6, 1.0), (1.0, 0.7), (0.5, 0.5)])
    c = convergence_data(d, MIN2)
    assert c.tail_start == 4
    assert c.tail_gain == pytest.approx(1 - 0.21 / 0.46, rel=1e-12)
    assert not c.converged
    assert c.warning.startswith("not converged: the last 20 % of the trials (after trial 4 of 5)")
    assert "54.3 %" in c.warning
    # a looser rule accepts it
    assert convergence_data(d, MIN2, tolerance=0.6).converged


def test_no_feasible_trial():
    c = convergence_data(trials(RUN, feasible=[False] * 5), MIN2)
    assert len(c.trials) == 0 and not c.converged and "no feasible design" in c.warning


def test_renderer_draws_the_curve():
    import matplotlib

    matplotlib.use("Agg")
    c = convergence_data(trials(RUN), MIN2)
    ax = plot_convergence(c)
    x, y = ax.lines[0].get_data()
    np.testing.assert_array_equal(x, c.trials)
    np.testing.assert_array_equal(y, c.hv_ratio)
    assert ax.get_xlabel() == "trials"


TINY = """
[study]
name = "tiny_conv"
workload = "llm-decode:llama-3-8b:batch=1,context=1024"
trials = 300
seed = 1

[study.objectives]
tokens_per_s = "maximize"
unit_cost_usd = "minimize"

[fixed]
tdp_w = 400
cooling = "air"
clock_ghz = 1.5
macs_per_core = 1024
sram_mb = 64
memory = "hbm2e"

[space]
node = ["tsmc-n5", "tsmc-n7"]
cores = [32, 64, 128]
memory_count = [2, 4]
"""


def test_converged_study_has_no_warning(tmp_path):
    """12 designs, 300 trials: the search has seen the whole exact front long before."""
    toml = tmp_path / "tiny.toml"
    toml.write_text(TINY)
    out = tmp_path / "out"
    proc = run_cli("run", str(toml), "--out", str(out), "-q")
    assert proc.returncode == 0, proc.stderr
    assert "warning" not in proc.stderr
    text = (out / "summary.md").read_text()
    assert "## Convergence" in text and "Converged by the 1 % rule" in text
    assert "Warning" not in text
    assert (out / "convergence.png").read_bytes()[:4] == b"\x89PNG"
    page = (out / "report.html").read_text()  # the report shows the same verdict and curve
    assert "<section id='convergence'>" in page and "Converged by the 1 % rule" in page
    assert 'id="convergence-plot"' in page
    # against the exact front (the grid) the run's front is complete
    cfg = load_study(toml)
    exact = grid(cfg, progress=False).pareto
    designs = pd.read_csv(out / "trials.csv")
    designs = designs.rename(columns=lambda c: c.split(" [")[0])
    c = convergence_data(designs, cfg.objectives, best_front=exact)
    assert c.hv_ratio[-1] == pytest.approx(1.0, abs=1e-12)


def test_tiny_budget_warns(tmp_path):
    """The main study (3.2 M designs) after 32 trials is far from converged."""
    out = tmp_path / "out"
    study = ROOT / "studies" / "domestic_7nm_decode_400w.toml"
    proc = run_cli("run", str(study), "--trials", "32", "--out", str(out), "-q")
    assert proc.returncode == 0, proc.stderr
    assert (
        "warning: not converged: the last 20 % of the trials (after trial 25 of 32)" in proc.stderr
    )
    text = (out / "summary.md").read_text()
    assert "**Warning: not converged: the last 20 % of the trials (after trial 25 of 32)" in text
    page = (out / "report.html").read_text()
    assert "<b>Warning:</b> not converged: the last 20 % of the trials (after trial 25 of 32)" in page
    assert (out / "convergence.png").read_bytes()[:4] == b"\x89PNG"
    # the same verdict from the library, and the gain it reports is the curve's
    result = run_study(study, trials=32, progress=False)
    from dse.report import convergence_of

    c = convergence_of(result)
    at_tail = c.hv_ratio[list(c.trials).index(25)]
    assert c.tail_gain == pytest.approx(1 - at_tail) and c.tail_gain > 0.01
