"""Designs per second of `dse.evaluate_many` on random designs (llama-3-8b decode).

Usage: python benchmarks/evaluate_many.py [--designs N] [--repeat R] [--workload W]
Prints the machine, the rate of each repeat and the best rate.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
import pandas as pd

import dse
from dse.tech import default_tech


def random_designs(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    tech = default_tech()
    mems = [m for m in tech.memory_ids if m != "none"]
    return pd.DataFrame(
        {
            "node": pd.Categorical(rng.choice(tech.node_ids, n)),
            "cores": rng.integers(1, 257, n),
            "macs_per_core": 2 ** rng.integers(6, 15, n),
            "clock_ghz": rng.uniform(0.5, 2.5, n),
            "sram_mb": rng.uniform(4, 1024, n),
            "memory": pd.Categorical(rng.choice(mems, n)),
            "memory_count": rng.integers(1, 9, n),
            "tdp_w": rng.uniform(50, 1000, n),
            "cooling": pd.Categorical(rng.choice(["air", "liquid"], n)),
        }
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--designs", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workload", default="llm-decode:llama-3-8b:batch=1,context=1024")
    args = ap.parse_args()
    frame = random_designs(args.designs)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"python {platform.python_version()}, numpy {np.__version__}")
    print(f"workload: {args.workload}; designs: {args.designs:,}")
    dse.evaluate_many(frame.head(1000), args.workload)  # warm-up (imports, tables)
    best = 0.0
    for r in range(args.repeat):
        t0 = time.perf_counter()
        out = dse.evaluate_many(frame, args.workload)
        dt = time.perf_counter() - t0
        rate = len(out) / dt
        best = max(best, rate)
        print(f"  repeat {r + 1}: {dt:.3f} s -> {rate:,.0f} designs/s")
    print(f"best: {best:,.0f} designs/s (feasible: {out['feasible'].mean():.1%})")


if __name__ == "__main__":
    main()
