"""The command line shared by the analysis scripts in studies/.

Each script takes ``--out DIR`` (outputs), ``--trials N`` (an optuna search of N trials
for the study's standard outputs instead of the exact grid) and ``--quiet``, writes the
study's outputs (pareto.csv, summary.md, plots) into DIR, then its own analysis.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from dse.report import write_result
from dse.search import StudyResult, grid, run_study
from dse.search.study import StudyConfig, load_study


def parse_args(argv: list[str] | None, doc: str, default_out: str) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--out", default=default_out, help="output folder")
    ap.add_argument(
        "--trials", type=int, help="optuna trials for the study outputs instead of the exact grid"
    )
    ap.add_argument("--quiet", action="store_true", help="only the summary lines")
    return ap.parse_args(argv)


def study_outputs(study: Path, trials: int | None, out: Path) -> tuple[StudyConfig, StudyResult]:
    """Run the study (exact grid, or ``trials`` optuna trials) and write its outputs."""
    config = load_study(study)
    result = (
        grid(config, progress=False)
        if trials is None
        else run_study(config, trials=trials, progress=False)
    )
    write_result(result, out)
    return config, result
