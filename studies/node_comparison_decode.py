"""How much worse is SMIC N+2 than TSMC N4 for the same budget? (node_comparison_decode.toml)

Runs the study (or resumes it) and prints, per node, the best feasible design for each
objective: tokens/s, J/token and $/die, and the ratio to TSMC N4::

    python studies/node_comparison_decode.py [--trials N] [--out DIR]

The full outputs (pareto.csv, node_fronts.png, ...) are written into DIR as by
`dse run studies/node_comparison_decode.toml --out DIR`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from dse.report import write_result  # noqa: E402
from dse.search import run_study  # noqa: E402
from dse.search.study import load_study  # noqa: E402

STUDY = HERE / "node_comparison_decode.toml"
BASELINE = "tsmc-n4"


def best_per_node(designs: pd.DataFrame, objectives: dict[str, str]) -> pd.DataFrame:
    """Best feasible value of each objective per node (one row per node)."""
    feas = designs[designs["feasible"].astype(bool)]
    rows = {}
    for node, group in feas.groupby("node"):
        rows[node] = {
            m: (group[m].max() if d == "maximize" else group[m].min())
            for m, d in objectives.items()
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=None)
    ap.add_argument("--out", default="results/node_comparison_decode")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    config = load_study(STUDY)
    result = run_study(config, trials=args.trials, out=args.out, progress=not args.quiet)
    write_result(result, Path(args.out))
    table = best_per_node(result.designs, config.objectives)
    if BASELINE in table.index:
        for m in config.objectives:
            table[f"{m} vs {BASELINE}"] = table[m] / table.loc[BASELINE, m]
    print(
        f"best feasible value per node after {result.n_evaluated} trials (each column on its own design):"
    )
    print(table.to_string(float_format=lambda v: f"{v:.4g}"))
    print(f"outputs in {args.out}/")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
