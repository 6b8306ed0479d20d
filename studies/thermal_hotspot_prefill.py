"""Run the thermal_hotspot_prefill study under the lumped and the grid thermal model.

Both runs enumerate the same space exactly (``dse.grid``; with ``--trials N`` an optuna
search of N trials each instead); the script reports which designs are Pareto-optimal
under one model and not the other and plots both fronts. The grid model's full outputs
(pareto.csv, summary.md, plots) go to DIR, the lumped model's to DIR/lumped::

    python studies/thermal_hotspot_prefill.py [--out DIR] [--trials N]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from dse import plots  # noqa: E402
from dse.report import write_result  # noqa: E402
from dse.search import grid, run_study  # noqa: E402
from dse.search.study import load_study  # noqa: E402

STUDY = HERE / "thermal_hotspot_prefill.toml"
KEYS = ["node", "cores", "macs_per_core", "clock_ghz", "sram_mb"]


def fronts(trials: int | None = None) -> dict:
    """Results under both thermal models: ``{"lumped": StudyResult, "grid": StudyResult}``."""
    base = load_study(STUDY)
    results = {}
    for model in ("lumped", "grid"):
        config = dataclasses.replace(base, fixed={**base.fixed, "thermal_model": model})
        if trials is None:
            results[model] = grid(config, progress=False)
        else:
            results[model] = run_study(config, trials=trials, progress=False)
    return results


def pareto_sets(results: dict) -> dict[str, set[tuple]]:
    return {
        m: {tuple(row[k] for k in KEYS) for _, row in r.pareto.iterrows()}
        for m, r in results.items()
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="results/thermal_hotspot_prefill", help="output folder")
    ap.add_argument("--trials", type=int, help="optuna trials per model instead of the exact grid")
    ap.add_argument("--quiet", action="store_true", help="only the summary lines")
    args = ap.parse_args(argv)
    out = Path(args.out)
    res = fronts(args.trials)
    sets = pareto_sets(res)
    only_lumped, only_grid = sets["lumped"] - sets["grid"], sets["grid"] - sets["lumped"]
    print(
        f"Pareto designs: lumped {len(sets['lumped'])}, grid {len(sets['grid'])}; "
        f"only under lumped {len(only_lumped)}, only under grid {len(only_grid)}"
    )
    if not args.quiet:
        for name, rows in (("lumped only", only_lumped), ("grid only", only_grid)):
            for row in sorted(rows):
                print(f"  {name}: " + ", ".join(f"{k}={v}" for k, v in zip(KEYS, row, strict=True)))
    write_result(res["grid"], out)
    write_result(res["lumped"], out / "lumped")
    fig = plots.new_figure(8.0, 5.5)
    ax = fig.add_subplot(1, 1, 1)
    for model, color in (("lumped", "C0"), ("grid", "C3")):
        p = res[model].pareto.sort_values("tokens_per_s")
        ax.step(
            p["tokens_per_s"],
            p["unit_cost_usd"],
            where="post",
            color=color,
            label=f"{model} thermal model",
        )
        ax.scatter(p["tokens_per_s"], p["unit_cost_usd"], color=color, s=18)
    ax.set(
        xlabel="tokens_per_s [tokens/s] (higher is better)",
        ylabel="unit_cost_usd [USD] (lower is better)",
        title="Prefill chip, SMIC 14 nm / N+2, 600 W air: Pareto fronts by thermal model",
    )
    ax.grid(alpha=0.3)
    ax.legend()
    plots.save_figure(fig, out / "fronts_lumped_vs_grid.png")
    print(
        f"outputs in {out}/: pareto.csv, summary.md, plots, fronts_lumped_vs_grid.png (lumped model in {out / 'lumped'}/)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
