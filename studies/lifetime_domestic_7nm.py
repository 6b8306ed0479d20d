"""How a 5-year lifetime target moves the Pareto set (lifetime_domestic_7nm.toml).

Enumerates the study's space twice, without the ``min_lifetime_years`` constraint and
with it, and prints a before/after table of the Pareto set: how many designs stay
feasible, what the front keeps of its throughput and at what cost, and how the designs
on it run (declared clock, hot spot, core voltage, lifetime and what limits it). With
``--trials N`` an optuna search of N trials per run replaces the exact grid::

    python studies/lifetime_domestic_7nm.py [--out DIR] [--trials N]

The run with the target writes the study's outputs (pareto.csv, summary.md, plots) to
DIR, the run without it to DIR/no_target.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from _script import parse_args  # noqa: E402

from dse.report import write_result  # noqa: E402
from dse.report.summary import _md_table  # noqa: E402
from dse.search import StudyResult, grid, run_study  # noqa: E402
from dse.search.study import load_study  # noqa: E402
from dse.spec import CHIP_KEYS  # noqa: E402

STUDY = HERE / "lifetime_domestic_7nm.toml"
TARGET = "min_lifetime_years"


def runs(trials: int | None = None) -> dict[str, StudyResult]:
    """The study without and with its lifetime target: ``{"no target": ..., "target": ...}``."""
    base = load_study(STUDY)
    free = {k: v for k, v in base.constraints.items() if k != TARGET}
    results = {}
    for label, constraints in (("no target", free), ("target", base.constraints)):
        config = dataclasses.replace(base, constraints=constraints)
        results[label] = (
            grid(config, progress=False)
            if trials is None
            else run_study(config, trials=trials, progress=False)
        )
    return results


def table(results: dict[str, StudyResult], target_years: float) -> pd.DataFrame:
    """One column per run: the Pareto set in a few numbers (medians over its designs)."""
    cols = {}
    for label, r in results.items():
        p, d = r.pareto, r.designs
        tj_max = p["tj_max_c"] if "tj_max_c" in p else CHIP_KEYS["tj_max_c"].default
        cols[label] = {
            "feasible designs": f"{int(d['feasible'].sum())} of {len(d)}",
            "Pareto-optimal designs": f"{len(p)}",
            "best tokens/s on the front": f"{p['tokens_per_s'].max():,.0f}",
            "cheapest design on the front [USD]": f"{p['unit_cost_usd'].min():,.0f}",
            "designs at the hot-spot limit": f"{int((p['junction_temp_c'] >= tj_max - 0.01).sum())}",
            "median declared clock [GHz]": f"{p['clock_ghz'].median():.2f}",
            "median sustained clock [GHz]": f"{p['sustained_clock_ghz'].median():.2f}",
            "median hot spot [degC]": f"{p['junction_temp_c'].median():.1f}",
            "median core voltage [V]": f"{p['core_voltage_v'].median():.3f}",
            "median power [W]": f"{p['power_w'].median():.0f}",
            "lifetime on the front [years]": f"{p['lifetime_years'].min():.1f} to {p['lifetime_years'].max():.1f}",
            f"front designs below {target_years:g} years": f"{int((p['lifetime_years'] < target_years).sum())}",
            "limiting mechanism": ", ".join(
                f"{m} {n}" for m, n in p["lifetime_mechanism"].value_counts().items()
            ),
        }
    return pd.DataFrame(cols)


def tokens_at_equal_cost(results: dict[str, StudyResult]) -> pd.DataFrame:
    """For each design on the no-target front: the best tokens/s with the target at no
    higher unit cost, and the ratio."""
    free = results["no target"].pareto.sort_values("unit_cost_usd")
    held = results["target"].pareto
    rows = []
    for _, row in free.iterrows():
        cheaper = held[held["unit_cost_usd"] <= row["unit_cost_usd"] + 1e-9]
        best = float(cheaper["tokens_per_s"].max()) if len(cheaper) else float("nan")
        rows.append(
            {
                "unit_cost_usd": row["unit_cost_usd"],
                "tokens_per_s (no target)": row["tokens_per_s"],
                "tokens_per_s (target)": best,
                "ratio": best / row["tokens_per_s"],
            }
        )
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv, __doc__, "results/lifetime_domestic_7nm")
    out = Path(args.out)
    target = load_study(STUDY).constraints[TARGET]
    results = runs(args.trials)
    summary = table(results, target)
    print(f"Pareto set without and with the {target:g}-year lifetime target:")
    print("\n".join(_md_table(["", *summary.columns], [[i, *row] for i, row in summary.iterrows()])))
    ratios = tokens_at_equal_cost(results)
    print(
        f"tokens/s kept at no higher unit cost: median {ratios['ratio'].median():.0%}, "
        f"lowest {ratios['ratio'].min():.0%} (over the {len(ratios)} designs of the front without the target)"
    )
    if not args.quiet:
        print(ratios.to_string(index=False, float_format=lambda v: f"{v:,.3g}"))
    write_result(results["target"], out)
    write_result(results["no target"], out / "no_target")
    print(f"outputs in {out}/ (without the target in {out / 'no_target'}/)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
