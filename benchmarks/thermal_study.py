"""Cost of the grid thermal model inside the chain and inside a study.

Prints designs/s of `evaluate_many` with thermal_model = lumped vs grid (8, 12, 16 cells)
on a prefill workload, and the wall time of the same optuna study (in memory) under both
models. Usage: python benchmarks/thermal_study.py [--designs N] [--trials N]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd

import dse
from dse.search.study import load_study

STUDY = Path(__file__).resolve().parents[1] / "studies" / "thermal_hotspot_prefill.toml"
WL = "llm-prefill:llama-3-8b:batch=1,seq=2048"


def designs(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "node": rng.choice(["smic-14", "smic-n2", "tsmc-n7"], n),
            "cores": rng.choice([4, 8, 16, 32, 64], n),
            "macs_per_core": rng.choice([1024, 4096, 16384], n),
            "clock_ghz": rng.uniform(0.8, 2.0, n),
            "sram_mb": rng.choice([32, 64, 128], n),
            "memory": "lpddr5x",
            "memory_count": 8,
            "tdp_w": 600.0,
            "cooling": "air",
            "tj_max_c": 85.0,
            "sram_layout": "banked",
        }
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--designs", type=int, default=2000)
    ap.add_argument("--trials", type=int, default=600)
    args = ap.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}"
    )
    frame = designs(args.designs)
    rates = {}
    for label, extra in (
        ("lumped", {}),
        ("grid 8x8", {"thermal_model": "grid", "thermal_grid_cells": 8}),
        ("grid 12x12", {"thermal_model": "grid", "thermal_grid_cells": 12}),
        ("grid 16x16", {"thermal_model": "grid", "thermal_grid_cells": 16}),
    ):
        f = frame.assign(**extra)
        dse.evaluate_many(f.head(20), WL)
        t0 = time.perf_counter()
        dse.evaluate_many(f, WL)
        dt = time.perf_counter() - t0
        rates[label] = len(f) / dt
        print(
            f"  evaluate_many {label:<11} {rates[label]:>12,.0f} designs/s  ({dt / len(f) * 1e3:.3f} ms/design)"
        )
    base = load_study(STUDY)
    times = {}
    for model in ("lumped", "grid"):
        config = dataclasses.replace(base, fixed={**base.fixed, "thermal_model": model})
        t0 = time.perf_counter()
        dse.run_study(config, trials=args.trials, progress=False)
        times[model] = time.perf_counter() - t0
        print(
            f"  study, {args.trials} trials, {model:<6}: {times[model]:.2f} s ({args.trials / times[model]:,.0f} trials/s)"
        )
    print(
        f"slowdown of the study with thermal_model = grid: {times['grid'] / times['lumped']:.1f}x"
    )


if __name__ == "__main__":
    main()
