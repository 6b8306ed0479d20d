"""`dse evaluate --samples K` and `dse run --robust K`: Monte Carlo over the uncertain inputs."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from conftest import ROOT, run_cli

import dse
from dse.analysis.uncertainty import RobustEvaluate

WL = "llm-decode:llama-3-8b:batch=16,context=2048"


def test_evaluate_samples_percentiles_bracket_the_point_value(tmp_path):
    proc = run_cli("evaluate", "smic-n2-inference", "-w", WL, "--samples", "24", "--json", "--plot", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    d = json.loads(proc.stdout)
    point = dse.evaluate(dse.example_chip("smic-n2-inference"), WL)
    for metric in ("unit_cost_usd", "tokens_per_s", "energy_per_item_j", "die_area_mm2"):
        p = d["percentiles"][metric]
        assert p["p10"] <= p["p50"] <= p["p90"], metric
        assert p["p10"] < p["p90"], metric  # the table ranges do move it
    # peak performance has no uncertain input
    assert d["percentiles"]["peak_tflops"]["p10"] == pytest.approx(point.peak_tflops)
    assert (tmp_path / "tornado.png").read_bytes()[:4] == b"\x89PNG"


def test_robust_evaluator_is_pessimistic():
    chip = dse.example_chip("smic-n2-inference")
    frame = pd.DataFrame([chip.to_dict()])
    p90 = RobustEvaluate(16, 90)(frame, WL)
    p50 = RobustEvaluate(16, 50)(frame, WL)
    # costs (lower is better) at P90 >= the median; throughput (higher is better) at P10 <= it
    assert p90["unit_cost_usd"].iloc[0] >= p50["unit_cost_usd"].iloc[0]
    assert p90["tokens_per_s"].iloc[0] <= p50["tokens_per_s"].iloc[0]
    with pytest.raises(dse.DseInputError):
        RobustEvaluate(1, 90)


def test_run_robust_writes_outputs(tmp_path):
    study = ROOT / "studies" / "domestic_7nm_decode_400w.toml"
    proc = run_cli("run", str(study), "--trials", "30", "--robust", "4", "--out", str(tmp_path), "-q", timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "pareto.csv").exists()
    proc = run_cli("run", str(study), "--trials", "30", "--robust", "4", "--percentile", "120", "--out", str(tmp_path / "x"))
    assert proc.returncode == 2 and "--percentile" in proc.stderr
