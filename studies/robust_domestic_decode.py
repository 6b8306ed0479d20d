"""Does the domestic 7 nm decode front survive uncertain fab data? (domestic_7nm_decode_400w.toml)

Runs a small search of the domestic study in memory (``--trials N``, default 600), takes
its feasible designs of Pareto rank <= 3 (at most 80), and evaluates each under ``--samples
K`` Monte Carlo draws of every uncertain table value and model constant
(``dse.analysis.uncertainty.evaluate_samples``: triangular low / table value / high, common
random numbers across designs). It reports P10 / P50 / P90 of unit cost, tokens/s and
J/token, then compares three Pareto fronts over the same candidates:

* **point**: the table values (what ``dse run`` optimises);
* **P90 cost**: unit cost at its P90, tokens/s and J/token at their point values;
* **pessimistic**: P90 cost, P10 tokens/s, P90 J/token, among designs feasible in at
  least 90 % of the samples.

The chosen design (the knee of the pessimistic front, ``dse.report.choose_design``) gets a
tornado chart per objective (``dse.analysis.uncertainty.tornado``: one input at a time to its low
and high). Writes into DIR: ``pareto.csv`` (the pessimistic front with its percentiles),
``percentiles.csv`` (all candidates), ``robust_front.png`` and ``tornado.png``::

    python studies/robust_domestic_decode.py [--trials N] [--samples K] [--out DIR] [--quiet]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from dse import plots  # noqa: E402
from dse.analysis.uncertainty import evaluate_samples, percentiles, tornado  # noqa: E402
from dse.plots.tornado import plot_tornado  # noqa: E402
from dse.report import choose_design  # noqa: E402
from dse.search import run_study  # noqa: E402
from dse.search.pareto import non_dominated_mask, pareto_ranks  # noqa: E402
from dse.search.study import load_study  # noqa: E402
from dse.spec import chip_from_dict  # noqa: E402

STUDY = HERE / "domestic_7nm_decode_400w.toml"
METRICS = ["unit_cost_usd", "tokens_per_s", "energy_per_item_j"]
DIRS = {"unit_cost_usd": "minimize", "tokens_per_s": "maximize", "energy_per_item_j": "minimize"}
#: percentile each objective is judged at on the pessimistic front
PESSIMISTIC = {"unit_cost_usd": "p90", "tokens_per_s": "p10", "energy_per_item_j": "p90"}
MAX_CANDIDATES = 80
MIN_FEASIBLE = 0.9
SHOW = ["node", "cores", "macs_per_core", "clock_ghz", "sram_mb", "memory", "memory_count"]


def candidates(designs: pd.DataFrame, config) -> pd.DataFrame:
    """Feasible designs of Pareto rank <= 3 (at most MAX_CANDIDATES, best ranks first)."""
    feas = designs[designs["feasible"].astype(bool)].copy()
    vals = feas[config.metric_names].to_numpy(dtype=float)
    feas["rank"] = pareto_ranks(vals, config.directions)
    feas = feas.sort_values("rank", kind="stable").drop_duplicates(subset=design_keys(config))
    return feas[feas["rank"] <= 3].head(MAX_CANDIDATES).reset_index(drop=True)


def design_keys(config) -> list[str]:
    """The chip keys a study sets. Not the frame's other chip-key columns: after an
    evaluation ``memory_bandwidth_gbps`` / ``memory_capacity_gb`` hold the derived values,
    and passed back in they would become overrides (and the Monte Carlo would no longer
    sample the memory bandwidth)."""
    return [*config.fixed, *config.space]


def front_ids(table: pd.DataFrame, cols: dict[str, str]) -> set[int]:
    """Indices of the non-dominated rows on the given column -> direction."""
    if not len(table):
        return set()
    mask = non_dominated_mask(table[list(cols)].to_numpy(dtype=float), list(cols.values()))
    return set(table.index[mask])


def label(row: pd.Series) -> str:
    return (
        f"{row['node']} {int(row['cores'])}x{int(row['macs_per_core'])} @{row['clock_ghz']:.1f} GHz, "
        f"{row['sram_mb']:.0f} MiB, {int(row['memory_count'])}x{row['memory']}"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=600, help="search budget of the domestic study")
    ap.add_argument("--samples", type=int, default=64, help="Monte Carlo samples per design")
    ap.add_argument("--seed", type=int, default=0, help="Monte Carlo seed")
    ap.add_argument("--out", default="results/robust_domestic_decode", help="output folder")
    ap.add_argument("--quiet", action="store_true", help="only the summary lines")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    config = load_study(STUDY)
    result = run_study(config, trials=args.trials, progress=False)
    cand = candidates(result.designs, config)
    if not len(cand):
        print(f"no feasible design in {args.trials} trials; outputs in {out}/")
        pd.DataFrame(columns=SHOW).to_csv(out / "pareto.csv", index=False)
        return 0
    keys = design_keys(config)
    mc = evaluate_samples(cand[keys], config.workload, k=args.samples, seed=args.seed)
    pct = percentiles(mc, METRICS)
    table = pd.concat([cand[[*keys, *METRICS, "rank"]], pct.reset_index(drop=True)], axis=1)

    point = front_ids(table, DIRS)
    p90 = front_ids(
        table,
        {
            "unit_cost_usd_p90": "minimize",
            "tokens_per_s": "maximize",
            "energy_per_item_j": "minimize",
        },
    )
    sure = table[table["feasible_fraction"] >= MIN_FEASIBLE]
    pess = front_ids(sure, {f"{m}_{q}": DIRS[m] for m, q in PESSIMISTIC.items()})
    table["front_point"] = table.index.isin(point)
    table["front_p90_cost"] = table.index.isin(p90)
    table["front_pessimistic"] = table.index.isin(pess)

    print(
        f"{len(cand)} candidate designs (feasible, Pareto rank <= 3) from {result.n_evaluated} trials, "
        f"{args.samples} Monte Carlo samples each"
    )
    for m in METRICS:
        spread = (table[f"{m}_p90"] - table[f"{m}_p10"]) / table[m]
        shift = table[f"{m}_p50"] / table[m] - 1
        print(
            f"  {m}: P10-P90 band {100 * spread.median():.0f} % of the point value (median over designs), "
            f"P50 vs point {100 * shift.median():+.1f} % (median; {100 * shift.min():+.1f} to {100 * shift.max():+.1f})"
        )
    low_feas = table[table["feasible_fraction"] < MIN_FEASIBLE]
    print(
        f"  feasible in >= {100 * MIN_FEASIBLE:.0f} % of samples: {len(table) - len(low_feas)} of {len(table)}"
        + (f" (lowest {100 * table['feasible_fraction'].min():.0f} %)" if len(table) else "")
    )
    # the same comparison on two objectives (tokens/s vs unit cost), where fronts are thin
    point2 = front_ids(table, {"unit_cost_usd": "minimize", "tokens_per_s": "maximize"})
    p90_2 = front_ids(table, {"unit_cost_usd_p90": "minimize", "tokens_per_s": "maximize"})
    pess2 = front_ids(sure, {"unit_cost_usd_p90": "minimize", "tokens_per_s_p10": "maximize"})
    table["front2_point"] = table.index.isin(point2)
    table["front2_pessimistic"] = table.index.isin(pess2)
    for objs, base, variants in (
        ("3 objectives", point, (("P90 cost", p90), ("pessimistic", pess))),
        (
            "tokens/s vs cost",
            point2,
            (("P90 cost", p90_2), ("pessimistic (P10 tokens/s, P90 cost)", pess2)),
        ),
    ):
        for name, ids in variants:
            print(
                f"{objs}: front on point values {len(base)} designs, on {name} {len(ids)}: "
                + (
                    "the same set"
                    if ids == base
                    else f"{len(base - ids)} leave, {len(ids - base)} join"
                )
            )
            for i in sorted(base - ids):
                print(f"    leaves: {label(table.loc[i])}")
            for i in sorted(ids - base):
                print(f"    joins:  {label(table.loc[i])}")
    if not args.quiet:
        cols = [*SHOW, "front_point", "front_p90_cost", "front_pessimistic", "feasible_fraction"]
        for m in METRICS:
            cols += [m, f"{m}_p10", f"{m}_p50", f"{m}_p90"]
        print(table[cols].to_string(float_format=lambda v: f"{v:.4g}"))

    front = table[table["front_pessimistic"]] if pess else table[table["front_point"]]
    front.to_csv(out / "pareto.csv", index=False)
    table.to_csv(out / "percentiles.csv", index=False)
    pess_obj = {f"{m}_{q}": DIRS[m] for m, q in PESSIMISTIC.items()}
    chosen = choose_design(front.reset_index(drop=True), pess_obj)
    print(
        f"chosen (knee of the {'pessimistic' if pess else 'point'} front): {label(chosen)}: "
        + ", ".join(
            f"{m} {chosen[m]:.4g} (P10 {chosen[f'{m}_p10']:.4g}, P50 {chosen[f'{m}_p50']:.4g}, "
            f"P90 {chosen[f'{m}_p90']:.4g})"
            for m in METRICS
        )
    )
    chip = chip_from_dict({"name": "chosen", **{k: _py(chosen[k]) for k in keys}})
    fig = plots.new_figure(18.0, 6.0)
    for i, m in enumerate(METRICS, start=1):
        data = tornado(chip, m, workload=config.workload)
        top = data.iloc[0]
        print(
            f"  tornado {m}: "
            + ", ".join(
                f"{r['input']} {100 * r['swing_fraction']:.0f} %"
                for _, r in data.head(3).iterrows()
            )
            + f" (largest: {top['input']} {top['low']:.4g}..{top['high']:.4g} -> "
            f"{top['metric_low']:.4g}..{top['metric_high']:.4g})"
        )
        plot_tornado(data, ax=fig.add_subplot(1, 3, i), top=12)
    fig.suptitle(f"Tornado, chosen design: {label(chosen)}")
    plots.save_figure(fig, out / "tornado.png")
    plot_fronts(table, out / "robust_front.png")
    print(
        f"outputs in {out}/: pareto.csv (pessimistic front), percentiles.csv, robust_front.png, tornado.png"
    )
    return 0


def _py(value):
    """A numpy scalar as the Python number a chip file would hold."""
    return value.item() if isinstance(value, np.generic) else value


def plot_fronts(table: pd.DataFrame, path: Path) -> Path:
    fig = plots.new_figure(8.0, 5.5)
    ax = fig.add_subplot(1, 1, 1)
    x, y = table["tokens_per_s_p50"], table["unit_cost_usd_p50"]
    ax.errorbar(
        x,
        y,
        xerr=[x - table["tokens_per_s_p10"], table["tokens_per_s_p90"] - x],
        yerr=[y - table["unit_cost_usd_p10"], table["unit_cost_usd_p90"] - y],
        fmt=".",
        color="0.6",
        ecolor="0.8",
        lw=0.8,
        ms=4,
        zorder=1,
        label="candidates: P50 with P10-P90",
    )
    f = table[table["front2_point"]].sort_values("tokens_per_s")
    ax.step(f["tokens_per_s"], f["unit_cost_usd"], where="pre", color="C0", lw=1.2)
    ax.scatter(
        f["tokens_per_s"],
        f["unit_cost_usd"],
        s=30,
        color="C0",
        zorder=3,
        label="front on point values (tokens/s, cost)",
    )
    f = table[table["front2_pessimistic"]].sort_values("tokens_per_s_p10")
    ax.step(f["tokens_per_s_p10"], f["unit_cost_usd_p90"], where="pre", color="C3", lw=1.2)
    ax.scatter(
        f["tokens_per_s_p10"],
        f["unit_cost_usd_p90"],
        s=40,
        facecolors="none",
        edgecolors="C3",
        marker="s",
        zorder=3,
        label="front on P10 tokens/s, P90 cost (drawn at P10 / P90)",
    )
    ax.set(
        xlabel="tokens_per_s [tokens/s] (higher is better)",
        ylabel="unit_cost_usd [USD] (lower is better)",
        title="Domestic 7 nm decode: point vs pessimistic Pareto front",
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return plots.save_figure(fig, path)


if __name__ == "__main__":
    sys.exit(main())
