"""Milliseconds per call of the `local` sampler's design check, on every study.

The check (``dse.search.run._DesignCheck``) runs the chain without the workload on the
few designs a move, a slide or a random draw proposes, and the local search calls it
several times a trial: its fixed cost per call is most of the default sampler's time per
trial. This times ``check.features(params)`` (the verdicts and the surrogate's features,
as the sampler calls it) and ``check(params)`` on random designs of each study's space,
in batches of 1, 4 and 16 designs (the sizes the sampler asks), and prints the mean per
call per study and over all.

Usage: python benchmarks/design_check.py [--calls 60] [--seed 0]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np

from dse.search import conditional
from dse.search.run import _DesignCheck
from dse.search.study import load_study

STUDIES = sorted((Path(__file__).resolve().parents[1] / "studies").glob("*.toml"))
BATCHES = (1, 4, 16)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=60, help="batches per study (each timed twice)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}"
    )
    rng = np.random.RandomState(args.seed)
    total, calls = 0.0, 0
    for path in STUDIES:
        config = load_study(path)
        dists = conditional.distributions(config.space, config.conditions)
        check = _DesignCheck(config, dists, config.load_tech())
        check.features(conditional.random_params(dists, 1, rng))  # first call: imports and caches
        spent = 0.0
        for i in range(args.calls):
            params = conditional.random_params(dists, BATCHES[i % len(BATCHES)], rng)
            t = time.perf_counter()
            check.features(params)
            check(params)
            spent += time.perf_counter() - t
        total, calls = total + spent, calls + 2 * args.calls
        print(f"  {path.stem:28s} {spent / (2 * args.calls) * 1e3:6.2f} ms per call")
    print(f"all studies: {total / calls * 1e3:.2f} ms per call ({calls} calls)")


if __name__ == "__main__":
    main()
