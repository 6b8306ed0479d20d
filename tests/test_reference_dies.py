"""The published-die dataset behind the area model's next calibration is sound data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from conftest import ROOT, load_module

from dse.tech import default_tech

SCRIPT = load_module(ROOT / "scripts" / "die_area_report.py")


def test_every_die_is_sourced_classified_and_uses_known_ids():
    import pandas as pd

    dies = pd.read_csv(SCRIPT.DIES)
    tech = default_tech()
    assert len(dies) >= 30 and dies["key"].is_unique
    assert set(dies["family"]) == {"gpu", "systolic", "manycore", "dataflow"}
    assert set(dies["role"]) <= {"fit", "held-out", "check", "excluded"}
    assert set(dies["area_quality"]) <= {"exact", "analyst", "estimate", "upper_bound"}
    assert (dies["source"].str.len() > 20).all()
    for node, memory in zip(dies["node"], dies["memory"], strict=True):
        tech.resolve_node(node)
        tech.resolve_memory(memory)
    used = dies[dies["role"] != "excluded"]
    assert (used["cores"] > 0).all() and (used["macs_per_core"] > 0).all()
    assert (used["die_area_mm2"] > 0).all()
    # every die's non-matrix datapath width, with its confidence and source (the per-core
    # datapath term the area model for every architecture needs)
    assert (dies["vector_lanes_per_core"] > 0).all()
    assert set(dies["vector_lanes_confidence"]) <= {"H", "M", "L"}
    assert (dies["vector_lanes_source"].str.len() > 10).all()
    # at least 20 dies with an exact or analyst area, every family represented
    valued = used[used["area_quality"].isin(("exact", "analyst"))]
    assert len(valued) >= 20 and valued["family"].nunique() == 4


def test_report_runs_on_the_current_model(capsys):
    table = SCRIPT.report(SCRIPT.load())
    assert np.isfinite(table["model_mm2"]).all() and (table["model_mm2"] > 0).all()
    assert SCRIPT.main() == 0
    assert "per family" in capsys.readouterr().out
    assert Path(SCRIPT.DIES).name == "reference_dies.csv"
