"""Do spare cores change the cheapest design? (harvest_spares_smic_n2.toml)

The study's own outputs (pareto.csv, summary.md, plots) come from the exact grid of its
space, or from an optuna search of ``--trials N`` trials. The analysis always enumerates
the whole space exactly (``dse.grid``, ~2,000 points, a second or two) on four defect
densities: TSMC N7 (D0 0.09) and SMIC N+2 at D0 0.05, 0.15 (its table value) and 0.30
(its high end); the two extra SMIC rows are written into ``DIR/d0_variants.toml``, a user
technology file based on ``smic-n2`` with only D0 changed. For each node it prints

* the cheapest unit cost at each spare count for a few throughput levels (the spare
  count that wins is the answer to "how many spares"), and
* the Pareto front (tokens/s vs unit cost) with spares against the front restricted to
  ``spare_cores = 0``: the spares on the front and the cost they save.

and draws ``DIR/spares_cost.png`` (cost vs spares per node; both fronts)::

    python studies/harvest_spares_smic_n2.py [--out DIR] [--trials N] [--quiet]
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from _script import parse_args, study_outputs  # noqa: E402

from dse import plots  # noqa: E402
from dse.search import grid  # noqa: E402
from dse.search.pareto import non_dominated_mask  # noqa: E402
from dse.search.space import Param  # noqa: E402
from dse.search.study import load_study  # noqa: E402

STUDY = HERE / "harvest_spares_smic_n2.toml"
#: SMIC N+2 copies with another defect density [1/cm2] (D0 range of nodes.csv: 0.10-0.30)
D0_VARIANTS = {"smic-n2-d0-005": 0.05, "smic-n2-d0-030": 0.30}
#: nodes of the analysis, in order of rising defect density
NODES = ["smic-n2-d0-005", "tsmc-n7", "smic-n2", "smic-n2-d0-030"]
LABELS = {
    "smic-n2-d0-005": "SMIC N+2 at D0 0.05",
    "tsmc-n7": "TSMC N7 (D0 0.09)",
    "smic-n2": "SMIC N+2 (D0 0.15)",
    "smic-n2-d0-030": "SMIC N+2 at D0 0.30",
}
#: throughput levels, as fractions of the highest tokens/s every node reaches
LEVELS = (0.25, 0.5, 0.75, 0.95)
DESIGN_KEYS = ["cores", "macs_per_core", "sram_mb", "spare_cores"]


def write_d0_variants(path: Path) -> Path:
    """A user technology file: SMIC N+2 rows that differ only in their defect density."""
    lines = ["# SMIC N+2 with another defect density (studies/harvest_spares_smic_n2.py)"]
    for rid, d0 in D0_VARIANTS.items():
        lines += [
            f'[nodes."{rid}"]',
            'based_on = "smic-n2"',
            f'name = "SMIC N+2 at D0 {d0:g}"',
            f"defect_density_per_cm2 = {d0}",
            "",
        ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))
    return path


def exact_designs(out: Path) -> pd.DataFrame:
    """Every grid point of the study's space on the four defect densities (all rows)."""
    config = load_study(STUDY)
    tech_file = write_d0_variants(out / "d0_variants.toml")
    space = {**config.space, "node": Param("node", "categorical", choices=tuple(NODES))}
    config = dataclasses.replace(config, space=space, tech_path=str(tech_file.resolve()))
    return grid(config, progress=False, keep_rows=10**7).designs


def best_cost_by_spares(designs: pd.DataFrame) -> tuple[pd.DataFrame, dict[float, float]]:
    """Cheapest feasible unit cost per (node, throughput level, spare count)."""
    feas = designs[designs["feasible"].astype(bool)]
    reach = feas.groupby("node")["tokens_per_s"].max().min()
    levels = {f: round(f * reach, -2) for f in LEVELS}
    rows = []
    for node in NODES:
        g = feas[feas["node"] == node]
        for frac, level in levels.items():
            ok = g[g["tokens_per_s"] >= level]
            for spares, h in ok.groupby("spare_cores"):
                i = h["unit_cost_usd"].idxmin()
                rows.append(
                    {
                        "node": node,
                        "level": frac,
                        "tokens_per_s_min": level,
                        "spare_cores": int(spares),
                        "unit_cost_usd": h.loc[i, "unit_cost_usd"],
                        "die_cost_usd": h.loc[i, "die_cost_usd"],
                        "die_area_mm2": h.loc[i, "die_area_mm2"],
                        "yield": h.loc[i, "yield"],
                        "cores": int(h.loc[i, "cores"]),
                    }
                )
    return pd.DataFrame(rows), levels


def front(designs: pd.DataFrame, node: str, spares: bool) -> pd.DataFrame:
    """Feasible Pareto front (tokens/s max, unit cost min) of one node."""
    g = designs[designs["feasible"].astype(bool) & (designs["node"] == node)]
    if not spares:
        g = g[g["spare_cores"] == 0]
    mask = non_dominated_mask(
        g[["tokens_per_s", "unit_cost_usd"]].to_numpy(dtype=float), ["maximize", "minimize"]
    )
    return g[mask].sort_values("tokens_per_s")


def cost_at(front_: pd.DataFrame, tokens: float) -> float:
    """Cheapest cost on a front that reaches ``tokens`` tokens/s (NaN if none)."""
    ok = front_[front_["tokens_per_s"] >= tokens]
    return float(ok["unit_cost_usd"].min()) if len(ok) else float("nan")


def summarise(designs: pd.DataFrame, quiet: bool) -> tuple[pd.DataFrame, dict]:
    table, levels = best_cost_by_spares(designs)
    fronts = {n: (front(designs, n, True), front(designs, n, False)) for n in NODES}
    print("Cheapest unit cost [USD] per spare count, at each throughput level (tokens/s >=):")
    wide = table.pivot_table(
        index=["node", "tokens_per_s_min"], columns="spare_cores", values="unit_cost_usd"
    ).reindex(NODES, level=0)
    best = wide.idxmin(axis=1).rename("best_spares")
    saving = (100 * (1 - wide.min(axis=1) / wide[0])).rename("saving_vs_0_%")
    print(pd.concat([wide, best, saving], axis=1).to_string(float_format=lambda v: f"{v:.1f}"))
    print()
    print("Pareto fronts (tokens/s max, unit cost min), with spares vs spare_cores = 0:")
    for node in NODES:
        with_s, without = fronts[node]
        sp = with_s["spare_cores"].astype(int)
        top = with_s.iloc[-1]
        top0 = without.iloc[-1]
        savings = [
            1 - row["unit_cost_usd"] / cost_at(without, row["tokens_per_s"])
            for _, row in with_s.iterrows()
            if np.isfinite(cost_at(without, row["tokens_per_s"]))
        ]
        print(
            f"  {LABELS[node]:22s} {len(with_s):2d} designs, spares on the front "
            f"{sorted(set(sp))} (median {int(np.median(sp))}; {int((sp > 0).sum())} of "
            f"{len(sp)} with spares); top: {top['tokens_per_s']:.0f} tok/s at "
            f"{top['unit_cost_usd']:.0f} USD ({int(top['cores'])}+{int(top['spare_cores'])} "
            f"cores, {top['die_area_mm2']:.0f} mm2, yield {top['yield']:.2f}) vs without spares "
            f"{top0['tokens_per_s']:.0f} tok/s at {top0['unit_cost_usd']:.0f} USD "
            f"(yield {top0['yield']:.2f}); cost saved at equal throughput: median "
            f"{100 * np.median(savings):.0f} %, max {100 * np.max(savings):.0f} %"
        )
        if not quiet:
            cols = [
                *DESIGN_KEYS,
                "die_area_mm2",
                "yield",
                "die_cost_usd",
                "unit_cost_usd",
                "tokens_per_s",
            ]
            print(with_s[cols].to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    return table, {"levels": levels, "fronts": fronts}


def plot(table: pd.DataFrame, extra: dict, path: Path) -> Path:
    fig = plots.new_figure(13.0, 5.0)
    ax1, ax2 = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    levels = extra["levels"]
    colors = {n: f"C{i}" for i, n in enumerate(NODES)}
    for frac, style in zip((LEVELS[1], LEVELS[-1]), ("--", "-"), strict=True):
        for node in NODES:
            t = table[(table["node"] == node) & (table["level"] == frac)].sort_values("spare_cores")
            if not len(t):
                continue
            ax1.plot(
                t["spare_cores"],
                t["unit_cost_usd"],
                style,
                marker="o",
                color=colors[node],
                label=f"{LABELS[node]}, >= {levels[frac]:.0f} tok/s",
            )
    ax1.set_xscale("symlog", linthresh=1)
    ax1.set_xticks([0, 1, 2, 4, 8, 16])
    ax1.set_xticklabels(["0", "1", "2", "4", "8", "16"])
    ax1.set(
        xlabel="spare_cores [count]",
        ylabel="cheapest unit_cost_usd [USD]",
        title="Cheapest design at a throughput level, by spare count",
    )
    ax1.grid(alpha=0.3)
    ax1.legend(fontsize="x-small")
    for node in NODES:
        with_s, without = extra["fronts"][node]
        ax2.step(
            with_s["tokens_per_s"],
            with_s["unit_cost_usd"],
            where="pre",
            color=colors[node],
            label=f"{LABELS[node]}, with spares",
        )
        ax2.step(
            without["tokens_per_s"],
            without["unit_cost_usd"],
            where="pre",
            color=colors[node],
            ls=":",
            label=f"{LABELS[node]}, spare_cores = 0",
        )
    ax2.set(
        xlabel="tokens_per_s [tokens/s] (higher is better)",
        ylabel="unit_cost_usd [USD] (lower is better)",
        title="Pareto fronts with and without spares",
    )
    ax2.grid(alpha=0.3)
    ax2.legend(fontsize="x-small")
    return plots.save_figure(fig, path)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv, __doc__, "results/harvest_spares_smic_n2")
    out = Path(args.out)
    config, _ = study_outputs(STUDY, args.trials, out)
    designs = exact_designs(out)
    table, extra = summarise(designs, args.quiet)
    table.to_csv(out / "cost_by_spares.csv", index=False)
    plot(table, extra, out / "spares_cost.png")
    print(f"outputs in {out}/: pareto.csv, summary.md, plots, cost_by_spares.csv, spares_cost.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
