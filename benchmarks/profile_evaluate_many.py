"""Where `dse.evaluate_many` spends its time: cProfile of random designs on one thread.

Usage: python benchmarks/profile_evaluate_many.py [--designs N] [--workload W] [--top K]
Uses the designs of benchmarks/evaluate_many.py; prints the functions by own time.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time

from evaluate_many import random_designs

import dse


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--designs", type=int, default=200_000)
    ap.add_argument("--workload", default="llm-decode:llama-3-8b:batch=1,context=1024")
    ap.add_argument("--top", type=int, default=30)
    args = ap.parse_args()
    frame = random_designs(args.designs)
    dse.evaluate_many(frame.head(1000), args.workload, threads=1)  # warm-up (imports, compiles)
    t0 = time.perf_counter()
    dse.evaluate_many(frame, args.workload, threads=1)
    print(f"one thread: {time.perf_counter() - t0:.3f} s for {args.designs:,} designs")
    profile = cProfile.Profile()
    profile.enable()
    dse.evaluate_many(frame, args.workload, threads=1)
    profile.disable()
    pstats.Stats(profile).sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
