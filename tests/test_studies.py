"""Every study in studies/ loads and runs with a tiny trial budget."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import load_module

from dse.search import run_study
from dse.search.study import load_study

STUDIES = Path(__file__).resolve().parents[1] / "studies"
TOMLS = sorted(STUDIES.glob("*.toml"))
SCRIPTS = sorted(p for p in STUDIES.glob("*.py") if not p.name.startswith("_"))  # _script.py is shared code


def test_there_are_studies():
    names = {p.stem for p in TOMLS}
    assert {"domestic_7nm_decode_400w", "node_comparison_decode", "sram_only_edge"} <= names


@pytest.mark.parametrize("path", TOMLS, ids=[p.stem for p in TOMLS])
def test_study_runs(path):
    config = load_study(path)
    assert config.description
    # the search-quality benchmark needs >= 100,000 grid points
    if path.stem == "domestic_7nm_decode_400w":
        assert config.n_grid >= 100_000
    result = run_study(config, trials=24, progress=False)
    assert len(result.designs) == 24
    assert result.designs["feasible"].any(), (
        "no feasible design in 24 trials: is the space sensible?"
    )
    assert len(result.pareto) >= 1


@pytest.mark.parametrize("path", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_study_script_runs(path, tmp_path, capsys):
    module = load_module(path)
    assert module.main(["--trials", "24", "--out", str(tmp_path / "o"), "--quiet"]) == 0
    assert (tmp_path / "o" / "pareto.csv").exists()
    assert "outputs in" in capsys.readouterr().out
