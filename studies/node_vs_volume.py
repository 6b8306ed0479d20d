"""Which node is cheapest at which program volume, NRE included? (node_vs_volume.toml)

The study's own outputs (pareto.csv, summary.md, plots) come from the exact grid of its
space, or from an optuna search of ``--trials N`` trials. The analysis always enumerates
the whole space exactly (``dse.grid``, 2,304 points, a second) and keeps the
designs that meet every constraint of the study (the throughput target among them). For
each volume V of a sweep from 1,000 to 10,000,000 parts it takes, per node, the design
with the lowest cost per throughput at volume,

    (unit_cost_usd + test_cost_usd + nre_usd / V) / tokens_per_s

(:func:`dse.model.cost.unit_cost_at_volume_usd`, the chain's own ``unit_cost_at_volume_usd``),
and prints

* per node and a few volumes: that cost, the design's die area, and its carbon per
  million tokens (embodied and operational, over ``service_years`` on the scenario's
  grid);
* the volumes where the cheapest node changes, and the crossover volume of every pair
  of nodes (found by bisection on log V), also with every node's NRE at the low and at
  the high end of its range (``nodes.csv``: mask set, design, IP);

and draws ``DIR/node_vs_volume.png``::

    python studies/node_vs_volume.py [--out DIR] [--trials N] [--quiet]
"""

from __future__ import annotations

import sys
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from _script import parse_args, study_outputs  # noqa: E402

from dse.model import cost  # noqa: E402
from dse.search import grid  # noqa: E402
from dse.search.study import load_study  # noqa: E402
from dse.tech import default_tech  # noqa: E402

STUDY = HERE / "node_vs_volume.toml"
VOLUMES = np.logspace(3, 7, 161)
REPORT_VOLUMES = (1e3, 1e4, 1e5, 1e6, 1e7)
NRE_PARTS = ("mask_set_usd", "design_nre_usd", "ip_licence_usd")


def qualifying_designs() -> pd.DataFrame:
    """Every grid point of the study that meets all its constraints."""
    config = load_study(STUDY)
    d = grid(config, progress=False, keep_rows=10**7).designs
    return d[d["feasible"].astype(bool)].reset_index(drop=True)


def node_nre(end: str) -> dict[str, float]:
    """Each node's NRE with every part at ``end`` ("", "_low" or "_high") of its range."""
    frame = default_tech().nodes.frame
    return {n: float(sum(frame.loc[n, f"{p}{end}"] for p in NRE_PARTS)) for n in frame.index}


def cost_at_volume(d: pd.DataFrame, volumes, nre=None) -> np.ndarray:
    """Cost per throughput at volume of each design (rows) at each volume (columns)."""
    nre_usd = d["nre_usd"].to_numpy() if nre is None else d["node"].map(nre).to_numpy()
    at_v = cost.unit_cost_at_volume_usd(
        d["unit_cost_usd"].to_numpy()[:, None],
        d["test_cost_usd"].to_numpy()[:, None],
        nre_usd[:, None],
        np.asarray(volumes, dtype=float)[None, :],
    )
    return at_v / d["tokens_per_s"].to_numpy()[:, None]


def sweep(d: pd.DataFrame, volumes=VOLUMES) -> pd.DataFrame:
    """Per (volume, node): the cheapest design's cost per throughput at volume and carbon."""
    c = cost_at_volume(d, volumes)
    rows = []
    for node, idx in d.groupby("node").indices.items():
        best = idx[np.argmin(c[idx], axis=0)]
        for j, v in enumerate(volumes):
            r = d.iloc[best[j]]
            rows.append(
                {
                    "volume": v,
                    "node": node,
                    "cost_per_throughput_at_volume_usd": c[best[j], j],
                    "row": int(best[j]),
                    "die_area_mm2": r["die_area_mm2"],
                    "tokens_per_s": r["tokens_per_s"],
                    "co2_per_million_tokens_kg": r["co2_per_million_tokens_kg"],
                    "embodied_co2_kg": r["embodied_co2_kg"],
                    "operational_co2_kg": r["operational_co2_kg"],
                }
            )
    return pd.DataFrame(rows)


def _node_curve(d: pd.DataFrame, node: str, nre=None):
    sub = d[d["node"] == node]
    return lambda v: float(cost_at_volume(sub, [v], nre).min())


def crossover(d: pd.DataFrame, a: str, b: str, nre=None, lo: float = 1e2, hi: float = 1e9) -> float:
    """Volume where nodes ``a`` and ``b`` cost the same per throughput (NaN if none in
    [lo, hi]); bisection on log V of the difference of their lower envelopes."""
    fa, fb = _node_curve(d, a, nre), _node_curve(d, b, nre)
    g = lambda v: fa(v) - fb(v)  # noqa: E731
    glo, ghi = g(lo), g(hi)
    if np.sign(glo) == np.sign(ghi):
        return float("nan")
    x0, x1 = np.log10(lo), np.log10(hi)
    for _ in range(60):
        mid = 0.5 * (x0 + x1)
        if np.sign(g(10**mid)) == np.sign(glo):
            x0 = mid
        else:
            x1 = mid
    return float(10 ** (0.5 * (x0 + x1)))


def cheapest_changes(s: pd.DataFrame) -> list[tuple[float, str, str]]:
    """(volume, from node, to node) where the cheapest node changes along the sweep."""
    best = s.loc[s.groupby("volume")["cost_per_throughput_at_volume_usd"].idxmin()].sort_values("volume")
    nodes = best["node"].to_list()
    vols = best["volume"].to_list()
    return [(vols[i], nodes[i - 1], nodes[i]) for i in range(1, len(nodes)) if nodes[i] != nodes[i - 1]]


def plot(s: pd.DataFrame, crossings: dict, ax=None):
    """Cost per throughput at volume (top) and carbon per million tokens (bottom) vs volume."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(2, 1, figsize=(7.0, 6.4), sharex=True, constrained_layout=True)
    top, bottom = ax
    for node, g in s.groupby("node"):
        (line,) = top.loglog(g["volume"], g["cost_per_throughput_at_volume_usd"], label=node)
        bottom.semilogx(g["volume"], g["co2_per_million_tokens_kg"] * 1e3, color=line.get_color(), label=node)
    y_top = top.get_ylim()[1]
    for i, ((a, b), v) in enumerate(sorted(crossings.items(), key=lambda kv: kv[1])):
        if np.isfinite(v):
            top.axvline(v, color="0.6", lw=0.8, ls="--")
            top.annotate(f"{a} = {b}\n{v:,.0f}", (v, y_top / 2.2**i), fontsize=7, ha="center", va="top")
    top.set_ylabel("cost per throughput at volume\n[USD per token/s]")
    top.legend(fontsize=8)
    top.set_title("Cheapest design per node meeting the study's throughput target", fontsize=9)
    bottom.set_ylabel("life-cycle carbon of that design\n[gCO2 per million tokens]")
    bottom.set_xlabel("program volume [parts]")
    bottom.set_ylim(bottom=0)
    return ax


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv, __doc__, "results/node_vs_volume")
    out = Path(args.out)
    config, _ = study_outputs(STUDY, args.trials, out)
    d = qualifying_designs()
    target = config.constraints.get("min_tokens_per_s")
    print(f"{len(d)} designs of the grid meet every constraint (>= {target:g} tokens/s)")
    if d.empty:
        print(f"outputs in {out}/")
        return 0
    s = sweep(d)
    fmt = lambda v: f"{v:.4g}"  # noqa: E731
    table = sweep(d, REPORT_VOLUMES)
    table["gco2_per_million_tokens"] = table["co2_per_million_tokens_kg"] * 1e3
    print("per node, the cheapest qualifying design at each volume:")
    print(
        table.drop(columns=["row", "co2_per_million_tokens_kg"]).to_string(index=False, float_format=fmt)
    )
    nodes = sorted(d["node"].unique())
    crossings = {}
    print("crossover volumes (equal cost per throughput at volume), NRE at point [low, high]:")
    low, high = node_nre("_low"), node_nre("_high")
    for a, b in combinations(nodes, 2):
        v = crossover(d, a, b)
        crossings[(a, b)] = v
        v_lo, v_hi = crossover(d, a, b, low), crossover(d, a, b, high)
        print(f"  {a} vs {b}: {v:,.0f} [{v_lo:,.0f}, {v_hi:,.0f}]")
    for v, a, b in cheapest_changes(s):
        print(f"cheapest node changes from {a} to {b} near {v:,.0f} parts")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ax = plot(s, crossings)
    ax[0].figure.savefig(out / "node_vs_volume.png", dpi=130)
    plt.close(ax[0].figure)
    if not args.quiet:
        print(f"figure: {out / 'node_vs_volume.png'}")
    print(f"outputs in {out}/")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
