"""How close the optuna search gets to the exact Pareto front (hypervolume ratio).

For a study whose space has >= 100,000 grid points: the exact front by `dse grid`, then
optuna runs with NSGA-II, TPE and random sampling (a few seeds each); the hypervolume of
each run's feasible front after 250 / 500 / 1,000 trials, as a fraction of the exact
front's hypervolume. Objectives are normalised with the exact front's ideal and nadir
points (0 = best value on the front, 1 = worst) and the reference point is 1.1 in every
normalised objective, the same for all runs::

    python benchmarks/search_quality.py [STUDY.toml] [--seeds 0 1 2] [--samplers nsga2 tpe random]

Prints a Markdown table (mean, min and max over seeds). Target (the project's search goal): >= 99 %
in 1,000 trials for the default sampler.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dse.pareto import hypervolume, to_minimization  # noqa: E402
from dse.search import grid, run_study  # noqa: E402
from dse.study import load_study  # noqa: E402

DEFAULT_STUDY = ROOT / "studies" / "domestic_7nm_decode_400w.toml"
BUDGETS = (250, 500, 1000)


def normaliser(front: np.ndarray, directions: list[str]):
    """Map objective values to minimisation in [0, 1] over the exact front."""
    f = to_minimization(front, directions)
    ideal, nadir = f.min(axis=0), f.max(axis=0)
    span = np.where(nadir > ideal, nadir - ideal, 1.0)

    def norm(values: np.ndarray) -> np.ndarray:
        return (to_minimization(values, directions) - ideal) / span

    return norm


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("study", nargs="?", default=str(DEFAULT_STUDY))
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--samplers", nargs="+", default=["nsga2", "tpe", "random"])
    ap.add_argument("--budgets", type=int, nargs="+", default=list(BUDGETS))
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    config = load_study(args.study)
    n_grid = config.n_grid
    if n_grid is None or n_grid < 100_000:
        print(f"warning: the space has {n_grid} grid points (< 100,000)", file=sys.stderr)
    t0 = time.perf_counter()
    exact = grid(config, progress=False)
    t_grid = time.perf_counter() - t0
    names, directions = config.metric_names, config.directions
    norm = normaliser(exact.pareto[names].to_numpy(dtype=float), directions)
    ref = np.full(len(names), 1.1)
    hv_exact = hypervolume(norm(exact.pareto[names].to_numpy(dtype=float)), ref)
    budgets = sorted(args.budgets)
    rows = []
    for sampler in args.samplers:
        ratios = {b: [] for b in budgets}
        took = []
        for seed in args.seeds:
            t1 = time.perf_counter()
            res = run_study(config, trials=budgets[-1], seed=seed, sampler=sampler, progress=False)
            took.append(time.perf_counter() - t1)
            d = res.designs.sort_values("trial")
            for b in budgets:
                first = d[d["trial"] < b]
                feas = first[first["feasible"].to_numpy(dtype=bool)]
                vals = feas[names].to_numpy(dtype=float)
                hv = hypervolume(norm(vals), ref) if len(vals) else 0.0
                ratios[b].append(hv / hv_exact)
        rows.append((sampler, ratios, float(np.mean(took))))
    opts = config.sampler_options or {}
    print(
        f"study `{config.name}`: {n_grid:,} grid points, {exact.n_feasible:,} feasible, exact front "
        f"{len(exact.pareto)} designs (grid {t_grid:.0f} s); objectives "
        + ", ".join(f"{d} {m}" for m, d in config.objectives.items())
        + f"; seeds {args.seeds}; study sampler options {opts or 'defaults'}\n"
    )
    print("| sampler | " + " | ".join(f"{b:,} trials" for b in budgets) + " | s per run |")
    print("|---|" + "---:|" * len(budgets) + "---:|")
    for sampler, ratios, took in rows:
        cells = []
        for b in budgets:
            r = 100 * np.asarray(ratios[b])
            cells.append(f"{r.mean():.1f} % ({r.min():.1f}–{r.max():.1f})")
        print(f"| {sampler} | " + " | ".join(cells) + f" | {took:.1f} |")
    print(
        "\nhypervolume of the optuna front / exact front, mean (min–max) over seeds; "
        "normalised objectives, reference point 1.1"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
