"""How close the optuna search gets to the exact Pareto front, per sampler and budget.

For each study (default: five of the project's studies with enumerable spaces, of
different workloads, node menus and objective counts) the exact front comes from
`dse grid` (cached in ``benchmarks/data/exact_fronts.json``, see below); then `dse run`'s
search runs with each sampler for every seed, and the hypervolume of its feasible front
after 100 / 200 / 500 / 1,000 trials is divided by the exact front's.

Hypervolume: ``moocore.hypervolume`` (exact, WFG-family algorithms). Objectives are
normalised with the exact front's ideal and nadir points (0 = best value on the front,
1 = worst) and the reference point is 1.1 in every normalised objective, the same for
all runs of a study; points beyond it add nothing::

    python benchmarks/search_quality.py [--studies NAME ...] [--samplers nsga2 tpe ...]
                                        [--seeds 0 1 2 3 4] [--budgets 100 200 500 1000]
                                        [--refresh-fronts] [--csv OUT.csv]

Prints one Markdown table per study and one over all studies (median, min and max over
seeds), and checks the acceptance of issue 16 for the default sampler: median >= 0.99 at
200 trials and >= 0.999 at 1,000 on every study.

Samplers (``--samplers``): ``default`` (what `dse run` uses when the study names none),
``nsga2`` (dse's settings, population 30, BLX-alpha), ``nsga2-optuna`` (optuna's
defaults: population 50, uniform crossover), ``tpe`` (dse's settings: multivariate,
constant liar, 8 trials a round), ``tpe-plain`` (optuna's TPE defaults, independent
sampling), ``gp`` (optuna's GPSampler; needs PyTorch), ``random``, ``local`` (the
default's sampler by name) and six ablations of it: ``local-keys`` (its surrogate over
the design keys alone, ``surrogate_features = false``), ``local-uniform-start`` (its
random start drawn uniformly among the designs the check passes, ``balanced_start =
false``), ``local-no-extend`` (each of its surrogate's batches by hypervolume gain
alone, without the design that extends the front in one objective, ``surrogate_extend =
false``), ``local-no-refit`` (its moves screened by the models of the first 200
trials throughout, ``surrogate_refit = false``) and ``local-kappa1`` (its surrogate's
batches scored one standard deviation optimistic instead of half of one,
``surrogate_kappa = 1``) and ``local-no-slide`` (its moves without the slides to the
edge of what the design check allows, ``p_slide = 0``).

Exact fronts. ``dse grid`` over all five studies takes about a minute on 2 cores; the
fronts (design keys and objective values) are stored with each study file's SHA-256.
On load, the cached front designs are evaluated again and must give the cached
objective values, so a model change that moves the front is caught (it then is
recomputed); ``--refresh-fronts`` recomputes them all.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dse.search import DEFAULT_SAMPLER, evaluate_designs, grid, run_study  # noqa: E402
from dse.search.pareto import hypervolume as hv  # noqa: E402
from dse.search.study import StudyConfig, load_study  # noqa: E402

FRONTS = ROOT / "benchmarks" / "data" / "exact_fronts.json"
STUDIES = (
    "domestic_7nm_decode_400w",  # LLM decode, SMIC N+2 / N+3, 3 objectives, 3.2 M points
    "node_comparison_decode",  # LLM decode, 13 foundry nodes, 3 objectives, 2.7 M points
    "sram_only_edge",  # int8 edge decode without DRAM, 5 nodes, 3 objectives, 156 k points
    "serve_moe_domestic",  # DeepSeek-V3 serving on TP groups, 3 objectives, 190 k points
    "lifetime_domestic_7nm",  # LLM prefill with a lifetime floor, 2 objectives, 3,168 points
)
BUDGETS = (100, 200, 500, 1000)
#: sampler variants: (sampler name, sampler options)
VARIANTS: dict[str, tuple[str, dict]] = {
    "nsga2": ("nsga2", {}),
    "nsga2-optuna": ("nsga2", {"population_size": 50, "crossover": "uniform"}),
    "tpe": ("tpe", {}),
    "tpe-plain": ("tpe", {"multivariate": False, "constant_liar": False}),
    "gp": ("gp", {}),
    "random": ("random", {}),
    "local": ("local", {}),
    # the default's surrogate over the keys alone, and its random start drawn uniformly
    "local-keys": ("local", {"surrogate_features": False}),
    "local-uniform-start": ("local", {"balanced_start": False}),
    # the surrogate's batches without the design that extends the front in one objective
    "local-no-extend": ("local", {"surrogate_extend": False}),
    # the moves screened by the models of the first 200 trials alone, never fitted again
    "local-no-refit": ("local", {"surrogate_refit": False}),
    # the surrogate's batches as optimistic as before 2026-12-02 (one standard deviation)
    "local-kappa1": ("local", {"surrogate_kappa": 1.0}),
    # the moves without the slides along a limit the design check decides
    "local-no-slide": ("local", {"p_slide": 0.0}),
}
TARGETS = {200: 0.99, 1000: 0.999}
COLUMNS = ["study", "sampler", "seed", "trials", "hv_ratio", "run_s"]


def study_path(name: str) -> Path:
    path = Path(name)
    return path if path.suffix == ".toml" else ROOT / "studies" / f"{name}.toml"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def exact_front(config: StudyConfig, path: Path, refresh: bool) -> tuple[np.ndarray, dict]:
    """The exact front's objective values (cached; checked against the model)."""
    cache = json.loads(FRONTS.read_text()) if FRONTS.exists() else {}
    entry = cache.get(config.name)
    names = config.metric_names
    if entry and not refresh and entry["study_sha256"] == _sha(path):
        designs = pd.DataFrame(entry["designs"])
        cached = np.asarray(entry["values"], dtype=float)
        now = evaluate_designs(config, designs[list(config.space)], violations=False)
        same = np.allclose(now[names].to_numpy(dtype=float), cached, rtol=1e-9, atol=0)
        if same and now["feasible"].all():
            return cached, entry
        print(
            f"{config.name}: cached front no longer matches the model; recomputing", file=sys.stderr
        )
    t0 = time.perf_counter()
    exact = grid(config, progress=False)
    entry = {
        "study_sha256": _sha(path),
        "n_grid": int(exact.n_evaluated),
        "n_feasible": int(exact.n_feasible),
        "grid_s": round(time.perf_counter() - t0, 1),
        "objectives": dict(config.objectives),
        "designs": exact.pareto[list(config.space)].to_dict(orient="list"),
        "values": exact.pareto[names].to_numpy(dtype=float).tolist(),
    }
    cache[config.name] = entry
    FRONTS.parent.mkdir(parents=True, exist_ok=True)
    FRONTS.write_text(json.dumps(cache, separators=(",", ":"), default=lambda x: x.item()) + "\n")
    return np.asarray(entry["values"], dtype=float), entry


def normaliser(front: np.ndarray, directions: list[str]):
    """Map objective values to minimisation in [0, 1] over the exact front."""
    sign = np.array([1.0 if d == "minimize" else -1.0 for d in directions])
    f = front * sign
    ideal, nadir = f.min(axis=0), f.max(axis=0)
    span = np.where(nadir > ideal, nadir - ideal, 1.0)
    return lambda values: (np.asarray(values, dtype=float) * sign - ideal) / span


def run_variant(config: StudyConfig, variant: str, seed: int, trials: int) -> pd.DataFrame:
    sampler, options = VARIANTS[variant] if variant != "default" else (DEFAULT_SAMPLER, {})
    cfg = dataclasses.replace(config, sampler=sampler, sampler_options=dict(options))
    res = run_study(cfg, trials=trials, seed=seed, progress=False)
    return res.designs.sort_values("trial")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--studies", nargs="+", default=list(STUDIES))
    ap.add_argument("--samplers", nargs="+", default=["default", "nsga2", "tpe", "gp", "random"])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--budgets", type=int, nargs="+", default=list(BUDGETS))
    ap.add_argument("--refresh-fronts", action="store_true")
    ap.add_argument("--csv", help="also write every (study, sampler, seed, budget) ratio here")
    args = ap.parse_args(argv)
    for v in args.samplers:
        if v != "default" and v not in VARIANTS:
            ap.error(f"unknown sampler variant {v!r}; known: default, {', '.join(VARIANTS)}")
    warnings.simplefilter("ignore")
    budgets = sorted(args.budgets)
    t_start = time.perf_counter()
    rows = []
    for name in args.studies:
        path = study_path(name)
        config = load_study(path)
        names, directions = config.metric_names, config.directions
        front, entry = exact_front(config, path, args.refresh_fronts)
        norm = normaliser(front, directions)
        ref = np.full(len(names), 1.1)
        hv_exact = hv(norm(front), ref)
        print(
            f"\n### `{config.name}`: {entry['n_grid']:,} grid points, {entry['n_feasible']:,} "
            f"feasible, exact front {len(front)} designs; "
            + ", ".join(f"{d[:3]} {m}" for m, d in config.objectives.items()),
            flush=True,
        )
        for variant in args.samplers:
            for seed in args.seeds:
                t1 = time.perf_counter()
                d = run_variant(config, variant, seed, budgets[-1])
                took = time.perf_counter() - t1
                for b in budgets:
                    first = d[d["trial"] < b]
                    vals = first.loc[first["feasible"].to_numpy(dtype=bool), names]
                    ratio = hv(norm(vals.to_numpy(dtype=float)), ref) / hv_exact
                    rows.append((config.name, variant, seed, b, ratio, took))
                if args.csv:  # as it goes, so that an interrupted run keeps what it measured
                    pd.DataFrame(rows, columns=COLUMNS).to_csv(args.csv, index=False)
            print(f"  {variant}: {took:.1f} s per run (last seed)", file=sys.stderr, flush=True)
    table = pd.DataFrame(rows, columns=COLUMNS)
    order = {v: i for i, v in enumerate(args.samplers)}

    def markdown(sub: pd.DataFrame) -> str:
        lines = [
            "| sampler | " + " | ".join(f"{b:,} trials" for b in budgets) + " | s per run |",
            "|---|" + "---:|" * len(budgets) + "---:|",
        ]
        for variant, g in sorted(sub.groupby("sampler"), key=lambda kv: order[kv[0]]):
            cells = []
            for b in budgets:
                r = g.loc[g["trials"] == b, "hv_ratio"]
                cells.append(f"{r.median():.3f} ({r.min():.3f}–{r.max():.3f})")
            run_s = g.groupby("seed")["run_s"].first().mean()
            lines.append(f"| {variant} | " + " | ".join(cells) + f" | {run_s:.1f} |")
        return "\n".join(lines)

    for name, sub in table.groupby("study", sort=False):
        print(f"\n#### {name}\n\n" + markdown(sub))
    print(
        "\nhypervolume of the search's feasible front / the exact front's, median (min–max) "
        f"over seeds {args.seeds}; normalised objectives, reference point 1.1"
    )
    medians = table.groupby(["study", "sampler", "trials"])["hv_ratio"].median()
    worst = medians.groupby(["sampler", "trials"]).min().unstack("trials")
    print("\n#### lowest median over the studies\n")
    print("| sampler | " + " | ".join(f"{b:,} trials" for b in budgets) + " |")
    print("|---|" + "---:|" * len(budgets))
    for variant in sorted(worst.index, key=order.get):
        print(
            f"| {variant} | " + " | ".join(f"{worst.loc[variant, b]:.4f}" for b in budgets) + " |"
        )
    status = 0
    if "default" in worst.index:
        print(f"\nacceptance (default = {DEFAULT_SAMPLER}, median over seeds on every study):")
        for b, target in TARGETS.items():
            if b in worst.columns:
                got = worst.loc["default", b]
                ok = got >= target
                status |= 0 if ok else 1
                print(
                    f"  {b:,} trials: lowest median {got:.4f} >= {target}: {'yes' if ok else 'NO'}"
                )
    print(f"\ntotal {time.perf_counter() - t_start:.0f} s", file=sys.stderr)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
