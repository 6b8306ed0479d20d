"""The die-area model against 34 published dies of four architecture families.

``dse/data/reference_dies.csv`` describes each die *as manufactured*: every core
(disabled ones included), its dense MACs per cycle at the precision of its headline
rate, its SRAM split into cache, scratchpad and register files, its memory PHYs, and the
quality of its published area (``exact``, ``analyst``, ``estimate``, ``upper_bound``)
with sources, and the width of each core's non-matrix vector/SIMT datapath in fp32 lanes
(``vector_lanes_per_core``, with its own confidence and source). A ``role`` marks the
planned calibration split of the area model:
``fit``, ``held-out``, ``check`` (low-confidence estimates and one-sided bounds: shown,
not counted) and ``excluded`` (with the reason).

This script evaluates the current model on every usable die and prints the error per die
and per family. The current model has one SRAM class (a cache), so cache, scratchpad and
register files enter together as ``sram_mb``::

    python scripts/die_area_report.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

import dse

DIES = Path(__file__).resolve().parents[1] / "dse" / "data" / "reference_dies.csv"
VALUED = ("exact", "analyst")


def load() -> pd.DataFrame:
    """The dies that can be evaluated (role not ``excluded``), one row each."""
    dies = pd.read_csv(DIES)
    return dies[dies["role"] != "excluded"].reset_index(drop=True)


def model_areas(dies: pd.DataFrame) -> np.ndarray:
    """The current model's area of each die as manufactured [mm2]."""
    sram = dies[["cache_mb", "scratchpad_mb", "register_file_mb"]].fillna(0.0).sum(axis=1)
    designs = pd.DataFrame(
        {
            "node": dies["node"], "cores": dies["cores"].astype(int),
            "macs_per_core": dies["macs_per_core"].astype(int), "mac_dtype": dies["mac_dtype"],
            "sram_mb": sram.clip(lower=0.01), "memory": dies["memory"],
            "memory_count": dies["memory_count"].astype(int), "clock_ghz": 1.0, "tdp_w": 300.0,
            "cooling": "air",
        }
    )  # fmt: skip
    return dse.evaluate_many(designs)["die_area_mm2"].to_numpy()


def report(dies: pd.DataFrame) -> pd.DataFrame:
    out = dies[["chip", "family", "area_quality", "role", "die_area_mm2"]].copy()
    out["model_mm2"] = model_areas(dies)
    out["error"] = out["model_mm2"] / out["die_area_mm2"] - 1.0
    return out


def main() -> int:
    table = report(load())
    print(table.to_string(index=False, float_format=lambda v: f"{v:,.3g}"))
    valued = table[table["area_quality"].isin(VALUED)]
    per = valued.groupby("family")["error"].agg(
        n="size", median_abs=lambda e: float(np.median(np.abs(e))), worst=lambda e: float(e.abs().max())
    )
    print("\nexact and analyst areas, per family (|model / published - 1|):")
    print(per.to_string(float_format=lambda v: f"{v:.1%}"))
    print(f"all families: median {np.median(np.abs(valued['error'])):.1%} over {len(valued)} dies")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
