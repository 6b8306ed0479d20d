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


def beyond_one_die(frame: pd.DataFrame, seed: int = 1) -> pd.DataFrame:
    """The same designs with the beyond-one-die keys switched on at random.

    Spare cores (0-4 per die), 1/2/4 dies (cores rounded to a multiple), interposer or
    organic package, and system = auto with a random link.
    """
    rng = np.random.default_rng(seed)
    n = len(frame)
    dies = rng.choice([1, 2, 4], n)
    out = frame.copy()
    out["dies"] = dies
    out["cores"] = np.maximum(frame["cores"].to_numpy() // dies, 1) * dies
    out["spare_cores"] = rng.integers(0, 5, n) * dies
    out["package"] = pd.Categorical(rng.choice(["interposer", "organic"], n))
    out["system"] = "auto"
    out["link"] = pd.Categorical(rng.choice(["nvlink4", "pcie5", "ethernet-400g"], n))
    return out


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
    ap.add_argument("--beyond-one-die", action="store_true", help="switch on spare cores, chiplets and systems at random")
    ap.add_argument("--threads", type=int, help="threads (default: the CPU count)")
    args = ap.parse_args()
    frame = random_designs(args.designs)
    if args.beyond_one_die:
        frame = beyond_one_die(frame)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"python {platform.python_version()}, numpy {np.__version__}")
    print(f"workload: {args.workload}; designs: {args.designs:,}" + ("; beyond-one-die keys on" if args.beyond_one_die else ""))
    dse.evaluate_many(frame.head(1000), args.workload)  # warm-up (imports, tables)
    best = 0.0
    for r in range(args.repeat):
        t0 = time.perf_counter()
        out = dse.evaluate_many(frame, args.workload, threads=args.threads)
        dt = time.perf_counter() - t0
        rate = len(out) / dt
        best = max(best, rate)
        print(f"  repeat {r + 1}: {dt:.3f} s -> {rate:,.0f} designs/s")
    print(f"best: {best:,.0f} designs/s (feasible: {out['feasible'].mean():.1%})")


if __name__ == "__main__":
    main()
