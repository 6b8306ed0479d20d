"""SRAM-only vs HBM chips as Llama-3-70B decode systems (system_sram_vs_hbm.toml).

The study's own outputs (pareto.csv, summary.md, plots) come from the exact grid of its
space, or from an optuna search of ``--trials N`` trials. The analysis always enumerates
the whole space exactly (``dse.grid``, 6,912 points, a few seconds) and prints, for the
SRAM-only family (``memory = "none"``) and the HBM3 family:

* how many designs are feasible as single chips (``system = "single"``) and as systems
  (``system = "auto"``), and what stops the rest;
* each family's Pareto front (system tokens/s max, $ per token/s min, J/token min) and its
  best design on each objective, with the chips, the TP x PP split, the per-user speed
  (1 / step latency) and the system cost;
* for the SRAM family, what ``tp_max`` changes (fit, chips, latency, $ per token/s);
* the best design of each family re-evaluated at batch 1, 8 and 32 (the study is at
  batch 1, which SRAM systems are built for and HBM chips are wasted on),

and draws ``DIR/system_families.png``::

    python studies/system_sram_vs_hbm.py [--out DIR] [--trials N] [--quiet]
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

import dse  # noqa: E402
from dse import plots  # noqa: E402
from dse.constants import default_constants  # noqa: E402
from dse.model.multichip import size_system  # noqa: E402
from dse.search import grid  # noqa: E402
from dse.search.pareto import non_dominated_mask  # noqa: E402

STUDY = HERE / "system_sram_vs_hbm.toml"
OBJ = ["system_throughput_per_s", "system_cost_per_throughput_usd", "system_energy_per_item_j"]
DIRS = ["maximize", "minimize", "minimize"]
KEYS = ["node", "memory", "memory_count", "cores", "macs_per_core", "sram_mb", "tp_max", "link"]
FAMILIES = {"SRAM-only": "none", "HBM3": "hbm3"}
BATCHES = (1, 8, 32)


def exact_designs(config) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every grid point as a system and as a single chip (duplicate SRAM rows dropped)."""
    frames = []
    for mode in ("auto", "single"):
        cfg = dataclasses.replace(config, fixed={**config.fixed, "system": mode})
        d = grid(cfg, progress=False, keep_rows=10**7).designs
        d = d[(d["memory"] != "none") | (d["memory_count"] == d["memory_count"].min())]
        frames.append(d.reset_index(drop=True))
    return frames[0], frames[1]


def family_front(d: pd.DataFrame, memory: str) -> pd.DataFrame:
    g = d[d["feasible"].astype(bool) & (d["memory"] == memory)]
    if not len(g):
        return g
    mask = non_dominated_mask(g[OBJ].to_numpy(dtype=float), DIRS)
    # tp_max makes no difference to a system smaller than it: keep one of each such set
    same = ["node", "memory_count", "cores", "macs_per_core", "sram_mb", "link", *OBJ]
    return g[mask].drop_duplicates(subset=same).sort_values("system_throughput_per_s")


def split(d: pd.DataFrame, workload: str) -> pd.DataFrame:
    """TP x PP of each row, as the chain sizes it (capacity as in dse.chain)."""
    wl = dse.parse_workload(workload)
    mib = 2**20
    tiling = default_constants()["sram_tiling_fraction"]
    cap = np.where(
        d["memory"] == "none",
        (1 - tiling) * d["sram_mb"].to_numpy(dtype=float) * mib,
        d["memory_capacity_gb"].to_numpy(dtype=float) * 1e9,
    )
    s = size_system(
        wl.weight_bytes,
        wl.kv_cache_bytes,
        cap,
        d["tp_max"].to_numpy(dtype=float),
        True,
        layers=wl.model_config.num_hidden_layers,
    )
    return pd.DataFrame({"tp": s.tp, "pp": s.pp}, index=d.index)


def describe(row: pd.Series) -> str:
    return (
        f"{row['node']}, {int(row['cores'])} x {int(row['macs_per_core'])} MACs, "
        f"{row['sram_mb']:.0f} MiB"
        + (f", {int(row['memory_count'])} x HBM3" if row["memory"] != "none" else ", no DRAM")
        + f", {row['link']}, tp_max {int(row['tp_max'])}: {int(row['system_chips'])} chips "
        f"({int(row['tp'])} x {int(row['pp'])}) of {row['unit_cost_usd']:.0f} USD, "
        f"{row['system_throughput_per_s']:.0f} tok/s ({1 / row['system_latency_s']:.1f} per user), "
        f"{row['system_cost_per_throughput_usd']:.1f} USD/(tok/s), {row['system_energy_per_item_j']:.2f} J/tok, "
        f"system {row['system_cost_usd'] / 1e3:.1f} kUSD"
    )


def batch_sweep(config, best: dict[str, pd.Series]) -> pd.DataFrame:
    """Each family's chip at other batch sizes, as the cheapest system per token/s over
    the study's tp_max and link choices (the chip is fixed, the system is re-sized)."""
    rows = []
    tps, links = config.space["tp_max"].choices, config.space["link"].choices
    for fam, row in best.items():
        chip = {**config.fixed, **{k: row[k] for k in KEYS if k not in ("tp_max", "link")}}
        design = pd.DataFrame([{**chip, "tp_max": t, "link": k} for t in tps for k in links])
        for b in BATCHES:
            wl = config.workload.replace("batch=1", f"batch={b}")
            ms = dse.evaluate_many(design, wl)
            ok = ms[ms["feasible"]]
            m = ok.loc[ok["system_cost_per_throughput_usd"].idxmin()] if len(ok) else ms.iloc[-1]
            rows.append(
                {
                    "family": fam,
                    "batch": b,
                    "feasible": bool(m["feasible"]),
                    "violations": m["violations"],
                    "tp_max": int(m["tp_max"]),
                    "link": m["link"],
                    "system_chips": m["system_chips"],
                    "system_throughput_per_s": m["system_throughput_per_s"],
                    "per_user_tokens_per_s": 1 / m["system_latency_s"],
                    "system_cost_per_throughput_usd": m["system_cost_per_throughput_usd"],
                    "system_energy_per_item_j": m["system_energy_per_item_j"],
                }
            )
    return pd.DataFrame(rows)


def summarise(config, auto: pd.DataFrame, single: pd.DataFrame, quiet: bool) -> dict:
    auto = pd.concat([auto, split(auto, config.workload)], axis=1)
    fronts, best = {}, {}
    for fam, mem in FAMILIES.items():
        a, s = auto[auto["memory"] == mem], single[single["memory"] == mem]
        why = (
            a.loc[~a["feasible"].astype(bool), "violations"]
            .str.split(";")
            .explode()
            .str.split(":")
            .str[0]
            .str.strip()
            .value_counts()
        )
        print(
            f"{fam}: {len(a)} designs; feasible as one chip {int(s['feasible'].sum())}, as a system "
            f"{int(a['feasible'].sum())}; violations among the rest: "
            + ", ".join(f"{k} {v}" for k, v in why.items())
        )
        fronts[fam] = family_front(auto, mem)
        f = fronts[fam]
        if not len(f):
            continue
        print(f"  Pareto front: {len(f)} designs")
        for metric, direction in zip(OBJ, DIRS, strict=True):
            i = f[metric].idxmax() if direction == "maximize" else f[metric].idxmin()
            print(f"  best {metric}: {describe(auto.loc[i])}")
        best[fam] = auto.loc[f["system_cost_per_throughput_usd"].idxmin()]
        if not quiet:
            cols = [*KEYS, "system_chips", "tp", "pp", "unit_cost_usd", *OBJ]
            print(f[cols].to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    sram = auto[auto["memory"] == "none"]
    rows = []
    for tp, g in sram.groupby("tp_max"):
        ok = g[g["feasible"].astype(bool)]
        r = {"tp_max": int(tp), "designs": len(g), "feasible": len(ok)}
        if len(ok):
            b = ok.loc[ok["system_cost_per_throughput_usd"].idxmin()]
            r.update(
                chips=int(b["system_chips"]),
                split=f"{int(b['tp'])}x{int(b['pp'])}",
                sram_mb=b["sram_mb"],
                link=b["link"],
                latency_ms=1e3 * b["system_latency_s"],
                usd_per_tok_s=b["system_cost_per_throughput_usd"],
                j_per_tok=b["system_energy_per_item_j"],
            )
        rows.append(r)
    print("\nSRAM-only family by tp_max (its cheapest design per token/s):")
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    sweep = batch_sweep(config, best) if best else pd.DataFrame()
    if len(sweep):
        print(
            "\nthe chip of each family's best $/(tok/s) design at other batch sizes (system re-sized, "
            "cheapest tp_max and link):"
        )
        print(sweep.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    return {"fronts": fronts, "auto": auto, "sweep": sweep}


def plot(info: dict, path: Path) -> Path:
    fig = plots.new_figure(15.0, 5.0)
    axes = [fig.add_subplot(1, 3, i) for i in (1, 2, 3)]
    auto = info["auto"]
    colors = {"SRAM-only": "C3", "HBM3": "C0"}
    for fam, mem in FAMILIES.items():
        g = auto[auto["feasible"].astype(bool) & (auto["memory"] == mem)]
        f = info["fronts"].get(fam, g.iloc[:0])
        for ax, (x, y) in zip(axes[:2], ((OBJ[0], OBJ[1]), (OBJ[1], OBJ[2])), strict=True):
            ax.scatter(g[x], g[y], s=6, color=colors[fam], alpha=0.15)
            ax.scatter(
                f[x],
                f[y],
                s=22,
                color=colors[fam],
                edgecolors="k",
                linewidths=0.4,
                label=f"{fam} (front {len(f)})",
            )
    labels = {
        OBJ[0]: "system_throughput_per_s [tokens/s] (higher is better)",
        OBJ[1]: "system_cost_per_throughput_usd [USD/(tok/s)] (lower is better)",
        OBJ[2]: "system_energy_per_item_j [J/token] (lower is better)",
    }
    for ax, (x, y) in zip(axes[:2], ((OBJ[0], OBJ[1]), (OBJ[1], OBJ[2])), strict=True):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set(xlabel=labels[x], ylabel=labels[y])
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize="small")
    axes[0].set_title("Llama-3-70B decode, batch 1: feasible systems")
    axes[1].set_title("cost vs energy per token")
    sweep = info["sweep"]
    for fam in FAMILIES:
        s = sweep[(sweep["family"] == fam) & sweep["feasible"]] if len(sweep) else sweep
        if len(s):
            axes[2].plot(
                s["batch"],
                s["system_cost_per_throughput_usd"],
                "o-",
                color=colors[fam],
                label=f"{fam}, best at batch 1",
            )
    axes[2].set_xscale("log", base=2)
    axes[2].set_yscale("log")
    axes[2].set(
        xlabel="batch [sequences]",
        ylabel=labels[OBJ[1]],
        title="the same designs at larger batches",
    )
    axes[2].grid(alpha=0.3, which="both")
    axes[2].legend(fontsize="small")
    return plots.save_figure(fig, path)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv, __doc__, "results/system_sram_vs_hbm")
    out = Path(args.out)
    config, _ = study_outputs(STUDY, args.trials, out)
    auto, single = exact_designs(config)
    info = summarise(config, auto, single, args.quiet)
    if len(info["sweep"]):
        info["sweep"].to_csv(out / "batch_sweep.csv", index=False)
    plot(info, out / "system_families.png")
    print(f"outputs in {out}/: pareto.csv, summary.md, plots, batch_sweep.csv, system_families.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
