"""Which multi-die designs beat the monolithic ones? (chiplets_beyond_reticle.toml)

The study's own outputs (pareto.csv, summary.md, plots) come from the exact grid of its
space, or from an optuna search of ``--trials N`` trials. The analysis always enumerates
the whole space exactly (``dse.grid``, 864 points, about a second) and prints

* per (dies, package, memory): how many designs are feasible, what stops the others
  (``reticle``; ``package``: HBM on organic; ``interposer_size``: an interposer above
  2,700 mm2; ``beachfront``: more memory PHYs than the die edge holds), the
  highest tokens/s and the cost of the cheapest design at a few throughput levels;
* the Pareto front (tokens/s max, unit cost min) and which die counts and packages
  are on it, and how far beyond the monolithic (reticle-limited) ceiling it reaches;
* like for like: the same cores / MACs / SRAM / memory as 1, 2 and 4 dies, and as
  organic vs interposer (one package model for every die count: the single die with
  HBM sits on the same interposer, with the same assembly, test and bonding yield),

and draws ``DIR/chiplets.png``::

    python studies/chiplets_beyond_reticle.py [--out DIR] [--trials N] [--quiet]
"""

from __future__ import annotations

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
from dse.search.study import load_study  # noqa: E402

STUDY = HERE / "chiplets_beyond_reticle.toml"
DESIGN = ["cores", "macs_per_core", "sram_mb", "memory"]
GROUP = ["dies", "package", "memory"]
LEVELS = (0.25, 0.5, 0.75, 1.0)  # throughput levels, fractions of the monolithic ceiling


def _front(frame: pd.DataFrame) -> pd.DataFrame:
    mask = non_dominated_mask(
        frame[["tokens_per_s", "unit_cost_usd"]].to_numpy(dtype=float), ["maximize", "minimize"]
    )
    return frame[mask].sort_values("tokens_per_s")


def exact_designs() -> pd.DataFrame:
    """Every grid point of the space, with the package cost under both package models."""
    config = load_study(STUDY)
    d = grid(config, progress=False, keep_rows=10**7).designs.copy()
    d.loc[d["dies"] == 1, "package"] = "single-die"  # the package key is unused at 1 die
    return d.drop_duplicates(subset=["dies", "package", *DESIGN]).reset_index(drop=True)


def group_table(d: pd.DataFrame, ceiling: float) -> pd.DataFrame:
    rows = []
    for key, g in d.groupby(GROUP, sort=True):
        feas = g[g["feasible"].astype(bool)]
        viol = g.loc[~g["feasible"].astype(bool), "violations"].value_counts()
        row = dict(zip(GROUP, key, strict=True))
        row.update(
            designs=len(g),
            feasible=len(feas),
            stopped_by="; ".join(f"{k} {v}" for k, v in viol.items()) or "-",
            max_tokens_per_s=feas["tokens_per_s"].max() if len(feas) else np.nan,
        )
        for f in LEVELS:
            ok = feas[feas["tokens_per_s"] >= f * ceiling]
            row[f"usd_at_{f * ceiling:.0f}"] = ok["unit_cost_usd"].min() if len(ok) else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def like_for_like(d: pd.DataFrame) -> pd.DataFrame:
    """The same design as 1, 2 and 4 dies (board memory: interposer and organic)."""
    keep = [
        "dies",
        "package",
        *DESIGN,
        "die_area_mm2",
        "yield",
        "die_cost_usd",
        "unit_cost_usd",
        "tokens_per_s",
        "energy_per_item_j",
        "violations",
    ]
    picks = [
        (64, 2048, 128, "lpddr5x"),  # fits one die (683 mm2)
        (64, 2048, 128, "hbm2e"),
        (128, 2048, 128, "hbm2e"),  # beyond the reticle as one die
    ]
    parts = []
    for cores, macs, sram, mem in picks:
        sel = d[
            (d["cores"] == cores)
            & (d["macs_per_core"] == macs)
            & (d["sram_mb"] == sram)
            & (d["memory"] == mem)
        ]
        parts.append(sel[keep].sort_values(["dies", "package"]))
    return pd.concat(parts)


def summarise(d: pd.DataFrame, quiet: bool) -> dict:
    feas = d[d["feasible"].astype(bool)]
    mono = feas[feas["dies"] == 1]
    ceiling = float(mono["tokens_per_s"].max())
    top_mono = mono.loc[mono["tokens_per_s"].idxmax()]
    fmt = lambda v: f"{v:.4g}"  # noqa: E731
    print(
        f"monolithic ceiling (reticle 858 mm2): {ceiling:.0f} tokens/s, "
        f"{int(top_mono['cores'])} x {int(top_mono['macs_per_core'])} MACs, {top_mono['sram_mb']:.0f} MiB, "
        f"{top_mono['memory']}, {top_mono['die_area_mm2']:.0f} mm2, {top_mono['unit_cost_usd']:.0f} USD"
    )
    table = group_table(d, ceiling)
    print(
        "\nper (dies, package, memory): feasible designs, what stops the rest, best tokens/s, "
        "cheapest unit cost [USD] at tokens/s >= level ('package': HBM on organic; "
        "'interposer_size': an interposer above 2,700 mm2; 'beachfront': memory PHYs beyond the die edge):"
    )
    print(table.to_string(index=False, float_format=fmt))
    front = _front(feas)
    above = front[front["tokens_per_s"] > ceiling]
    print(
        f"\nPareto front: {len(front)} designs; by (dies, package, memory): "
        + ", ".join(f"{k} {v}" for k, v in front.groupby(GROUP).size().items())
    )
    print(
        f"  {len(above)} front designs go beyond the monolithic ceiling, up to "
        f"{front['tokens_per_s'].max():.0f} tokens/s ({front['tokens_per_s'].max() / ceiling:.2f}x)"
    )
    mono_front = _front(mono)
    beat = []
    for _, r in front[front["dies"] > 1].iterrows():
        ok = mono_front[mono_front["tokens_per_s"] >= r["tokens_per_s"]]
        if len(ok):
            beat.append(1 - r["unit_cost_usd"] / ok["unit_cost_usd"].min())
    if beat:
        print(
            f"  {len(beat)} multi-die front designs lie within the monolithic range and are "
            f"cheaper than the cheapest monolithic design of at least their throughput by "
            f"{100 * min(beat):.0f}-{100 * max(beat):.0f} %"
        )
    if not quiet:
        cols = [
            *GROUP,
            "cores",
            "macs_per_core",
            "sram_mb",
            "die_area_mm2",
            "yield",
            "unit_cost_usd",
            "tokens_per_s",
        ]
        print(front[cols].to_string(index=False, float_format=fmt))
    lfl = like_for_like(d)
    print("\nlike for like (same cores, MACs, SRAM, memory):")
    print(lfl.to_string(index=False, float_format=fmt))
    # organic vs interposer on board memory, every design feasible both ways
    board = feas[(feas["memory"] == "lpddr5x") & (feas["dies"] > 1)]
    pair = board.pivot_table(
        index=["dies", *DESIGN],
        columns="package",
        values=["unit_cost_usd", "tokens_per_s", "energy_per_item_j"],
    ).dropna()
    if len(pair):
        dc = pair["unit_cost_usd"]["organic"] / pair["unit_cost_usd"]["interposer"] - 1
        dt = pair["tokens_per_s"]["organic"] / pair["tokens_per_s"]["interposer"] - 1
        de = pair["energy_per_item_j"]["organic"] / pair["energy_per_item_j"]["interposer"] - 1
        print(
            f"\norganic vs interposer, LPDDR5X, {len(pair)} designs feasible on both: unit cost "
            f"{100 * dc.median():+.1f} % (median; {100 * dc.min():+.1f} to {100 * dc.max():+.1f}), tokens/s "
            f"{100 * dt.median():+.2f} %, J/token {100 * de.median():+.2f} %"
        )
    hbm_org = d[(d["memory"] == "hbm2e") & (d["package"] == "organic")]
    print(
        f"HBM2E on organic: {len(hbm_org)} designs, {int(hbm_org['violations'].str.contains('package').sum())} "
        "flagged 'package' (HBM needs an interposer)"
    )
    return {"front": front, "ceiling": ceiling, "table": table}


def plot(d: pd.DataFrame, info: dict, path: Path) -> Path:
    fig = plots.new_figure(13.0, 5.2)
    ax1, ax2 = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    feas = d[d["feasible"].astype(bool)]
    colors = {1: "C0", 2: "C1", 4: "C2"}
    markers = {"single-die": "o", "interposer": "s", "organic": "^"}
    for (dies, pkg), g in feas.groupby(["dies", "package"]):
        for mem, fill in (("hbm2e", True), ("lpddr5x", False)):
            h = g[g["memory"] == mem]
            if not len(h):
                continue
            ax1.scatter(
                h["tokens_per_s"],
                h["unit_cost_usd"],
                s=18,
                marker=markers[pkg],
                facecolors=colors[dies] if fill else "none",
                edgecolors=colors[dies],
                alpha=0.8,
                label=f"{dies} die{'s' if dies > 1 else ''}, {pkg}, {mem}",
            )
    ax1.axvline(info["ceiling"], color="k", ls="--", lw=0.8)
    ax1.text(info["ceiling"], ax1.get_ylim()[1], " monolithic ceiling", va="top", fontsize="small")
    ax1.set(
        xlabel="tokens_per_s [tokens/s] (higher is better)",
        ylabel="unit_cost_usd [USD] (lower is better)",
        title="Feasible designs, SMIC N+2 prefill",
    )
    ax1.grid(alpha=0.3)
    ax1.legend(fontsize="xx-small", ncol=2)
    for dies in (1, 2, 4):
        g = feas[feas["dies"] == dies]
        for pkg, ls in (("single-die", "-"), ("interposer", "-"), ("organic", ":")):
            h = g[g["package"] == pkg]
            if not len(h):
                continue
            f = _front(h)
            ax2.step(
                f["tokens_per_s"],
                f["unit_cost_usd"],
                where="pre",
                color=colors[dies],
                ls=ls,
                label=f"{dies} die{'s' if dies > 1 else ''}, {pkg}",
            )
    f = info["front"]
    ax2.scatter(
        f["tokens_per_s"], f["unit_cost_usd"], s=14, color="k", zorder=3, label="overall front"
    )
    ax2.axvline(info["ceiling"], color="k", ls="--", lw=0.8)
    ax2.set(
        xlabel="tokens_per_s [tokens/s] (higher is better)",
        ylabel="unit_cost_usd [USD] (lower is better)",
        title="Pareto front per die count and package",
    )
    ax2.grid(alpha=0.3)
    ax2.legend(fontsize="x-small")
    return plots.save_figure(fig, path)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv, __doc__, "results/chiplets_beyond_reticle")
    out = Path(args.out)
    config, _ = study_outputs(STUDY, args.trials, out)
    d = exact_designs()
    info = summarise(d, args.quiet)
    info["table"].to_csv(out / "by_dies_package_memory.csv", index=False)
    plot(d, info, out / "chiplets.png")
    print(
        f"outputs in {out}/: pareto.csv, summary.md, plots, by_dies_package_memory.csv, chiplets.png"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
