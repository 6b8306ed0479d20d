"""Fit the lumped model's hot-spot margin against the 2-D grid model; report held-out error.

The lumped thermal model gives the die-mean junction temperature; the hot spot sits above
it by an amount that grows with the die's power density (cores are denser in power than
SRAM and PHYs). The margin is modelled as ``T_hot = T_mean + k P_die / A_die``
(``hotspot_k_mm2_per_w`` in ``model_constants.csv``), and ``k`` is fitted here by least
squares through the origin on seeded random designs evaluated with
``thermal_model = "grid"`` (16 x 16 cells), whose output carries both the grid's hot spot
(``junction_temp_c``) and the lumped die mean at the same clock (``junction_temp_mean_c``).
Half of the designs fit ``k``; the other half report the held-out error of the lumped hot
spot against the grid's, in kelvin.

Usage::

    python scripts/fit_hotspot_margin.py            # fit and report
    python scripts/fit_hotspot_margin.py --write    # also write k to model_constants.csv
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

import dse
from dse.constants import CONSTANTS_CSV, default_constants

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from calibrate import update_constants_csv  # noqa: E402
from chain_snapshot import random_designs  # noqa: E402

WORKLOADS = (
    "gemm:8192,8192,8192",
    "llm-prefill:llama-3-8b:batch=1,seq=2048",
    "llm-decode:llama-3-8b:batch=16,context=1024",
)
PARAM = "hotspot_k_mm2_per_w"


def _designs(n: int, seed: int) -> pd.DataFrame:
    d = random_designs(n, seed)
    d["thermal_model"] = "grid"
    d["thermal_grid_cells"] = 16
    d["system"] = "single"
    d["clock_ghz"] = np.minimum(d["clock_ghz"], 1.6)  # inside every node's clock range
    return d


def margins(n: int = 1500, seed: int = 7) -> pd.DataFrame:
    """Per design and workload: die power density [W/mm2] and grid hot spot - lumped mean [K]."""
    c = default_constants()
    rows = []
    designs = _designs(n, seed)
    for wl in WORKLOADS:
        m = dse.evaluate_many(designs, wl)
        ok = ~m["violations"].str.contains("thermal_runaway|reticle|timing")
        die_w = (m["power_w"] - c["vrm_fixed_loss_fraction"] * m["tdp_w"]) * c["vrm_efficiency"] - m["memory_power_w"]
        q = die_w / (m["die_area_mm2"] * m["dies"])
        rows.append(
            pd.DataFrame(
                {
                    "workload": wl,
                    "design": np.arange(len(m)),
                    "power_density_w_mm2": q,
                    "margin_k": m["junction_temp_c"] - m["junction_temp_mean_c"],
                }
            )[ok.to_numpy()]
        )
    return pd.concat(rows, ignore_index=True)


def fit(frame: pd.DataFrame) -> tuple[float, dict[str, float]]:
    """k on even designs, errors on odd designs (held out)."""
    fit_set = frame[frame["design"] % 2 == 0]
    held = frame[frame["design"] % 2 == 1]
    q, dt = fit_set["power_density_w_mm2"].to_numpy(), fit_set["margin_k"].to_numpy()
    k = float((q * dt).sum() / (q * q).sum())
    stats = {}
    for name, part in (("fitted", fit_set), ("held-out", held)):
        err = k * part["power_density_w_mm2"] - part["margin_k"]
        stats[f"{name} median |error| K"] = float(np.median(np.abs(err)))
        stats[f"{name} P90 |error| K"] = float(np.percentile(np.abs(err), 90))
        stats[f"{name} designs"] = len(part)
    stats["held-out median margin K"] = float(np.median(held["margin_k"]))
    stats["held-out P90 margin K"] = float(np.percentile(held["margin_k"], 90))
    return k, stats


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help=f"write {PARAM} to model_constants.csv")
    ap.add_argument("--designs", type=int, default=1500)
    args = ap.parse_args(argv)
    frame = margins(args.designs)
    k, stats = fit(frame)
    c = default_constants()
    lo, hi = float(c.table.loc[PARAM, "low"]), float(c.table.loc[PARAM, "high"])
    k = min(max(k, lo), hi)
    print(f"{PARAM} = {k:.3f} K*mm2/W  (bounds {lo:g}-{hi:g})")
    for key, v in stats.items():
        print(f"  {key:32s} {v:.3g}")
    if args.write:
        update_constants_csv(
            {
                PARAM: dict(
                    value=k,
                    source=(
                        "Lumped model's hot-spot margin: T_hot = T_mean + k P_die / A_die. Fitted by "
                        "scripts/fit_hotspot_margin.py (least squares through the origin) on seeded random "
                        f"designs x {len(WORKLOADS)} workloads against the 2-D grid model at 16 x 16 cells "
                        f"({stats['fitted designs']} fitted, {stats['held-out designs']} held out); held-out "
                        f"median |error| {stats['held-out median |error| K']:.2g} K, P90 "
                        f"{stats['held-out P90 |error| K']:.2g} K (median margin {stats['held-out median margin K']:.2g} K). "
                        f"Bounds {lo:g}-{hi:g}."
                    ),
                )
            }
        )
        print(f"wrote {PARAM} to {CONSTANTS_CSV}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
