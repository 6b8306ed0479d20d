"""The most any search can reach in k trials: the best k designs of the exact front.

``benchmarks/search_quality.py`` divides the hypervolume of a search's feasible front after
k trials by the exact front's. A search that has run k trials holds at most k feasible
designs, and every design off the exact front is dominated by one on it (replacing it by
that one cannot lower the hypervolume). So no sampler can exceed

    OPT_k = max over k-subsets S of the exact front of HV(S) / HV(front),

whatever its strategy, even one that never wastes a trial. This script brackets OPT_k for
each study of the benchmark, with the same normalisation and reference point (1.1):

- lower bound: greedy hypervolume subset selection (lazy greedy: each step adds the design
  that adds most hypervolume) -- a set of k designs that reaches this value exists;
- upper bound: hypervolume is monotone and submodular in the set of points, so for any
  set S, OPT_k <= HV(S) + (sum of the k largest gains HV(S + {x}) - HV(S) over the front)
  (Nemhauser, Wolsey & Fisher, Math. Programming 14, 1978; the "online bound" of
  Leskovec et al., KDD 2007). It is evaluated at greedy sets of several sizes and the
  smallest value kept. Where the upper bound is below a target, no sampler can meet that
  target in k trials.

Usage::

    python benchmarks/front_subset_bound.py [--studies NAME ...] [--budgets 100 200 500 1000]

The exact fronts come from ``benchmarks/data/exact_fronts.json`` (``search_quality.py``
computes and checks them).
"""

from __future__ import annotations

import argparse
import heapq
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from search_quality import (  # noqa: E402
    BUDGETS,
    STUDIES,
    TARGETS,
    exact_front,
    normaliser,
    study_path,
)

from dse.search.pareto import hypervolume as hv  # noqa: E402
from dse.search.study import load_study  # noqa: E402


def greedy_order(points: np.ndarray, ref: np.ndarray, k: int) -> tuple[list[int], list[float]]:
    """Indices of the first ``k`` designs of a lazy greedy selection, and HV after each."""
    heap = [(-hv(p[None, :], ref), i) for i, p in enumerate(points)]
    heapq.heapify(heap)
    chosen: list[int] = []
    values: list[float] = []
    current = 0.0
    while heap and len(chosen) < k:
        _, i = heapq.heappop(heap)
        gain = hv(points[[*chosen, i]], ref) - current
        if not heap or gain >= -heap[0][0] - 1e-15:
            chosen.append(i)
            current += gain
            values.append(current)
        else:
            heapq.heappush(heap, (-gain, i))
    return chosen, values


def upper_bound(points: np.ndarray, ref: np.ndarray, chosen: list[int], k: int) -> float:
    """HV(S) + the k largest marginal gains over the front, for S = ``chosen``."""
    base = hv(points[chosen], ref) if chosen else 0.0
    taken = set(chosen)
    gains = np.array(
        [0.0 if i in taken else hv(points[[*chosen, i]], ref) - base for i in range(len(points))]
    )
    return base + float(np.sort(gains)[::-1][:k].sum())


def bracket(
    points: np.ndarray, ref: np.ndarray, budgets: list[int]
) -> dict[int, tuple[float, float]]:
    """(lower, upper) bound of the best hypervolume of k designs, for every k in ``budgets``."""
    n = len(points)
    kmax = min(max(budgets), n)
    order, values = greedy_order(points, ref, kmax)
    out = {}
    for k in budgets:
        if k >= n:
            full = hv(points, ref)
            out[k] = (full, full)
            continue
        lower = values[k - 1]
        # the bound at S = the greedy sets of size k/4 .. k: keep the tightest
        sizes = sorted({max(1, k // 4), max(1, k // 2), max(1, 3 * k // 4), k})
        upper = min(upper_bound(points, ref, order[:s], k) for s in sizes)
        out[k] = (lower, upper)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--studies", nargs="+", default=list(STUDIES))
    ap.add_argument("--budgets", nargs="+", type=int, default=list(BUDGETS))
    args = ap.parse_args(argv)
    print("| study | front designs | " + " | ".join(f"{k} trials" for k in args.budgets) + " |")
    print("|---|---:|" + "---:|" * len(args.budgets))
    impossible = []
    for name in args.studies:
        path = study_path(name)
        config = load_study(path)
        front, _ = exact_front(config, path, refresh=False)
        directions = [config.objectives[m] for m in config.metric_names]
        points = normaliser(front, directions)(front)
        ref = np.full(points.shape[1], 1.1)
        t0 = time.perf_counter()
        total = hv(points, ref)
        b = bracket(points, ref, args.budgets)
        cells = []
        for k in args.budgets:
            lo, up = (v / total for v in b[k])
            cells.append(f"{lo:.4f}" if up - lo < 5e-5 else f"{lo:.4f}–{min(up, 1.0):.4f}")
            if k in TARGETS and up < TARGETS[k]:
                impossible.append(f"{name}: at most {up:.4f} in {k} trials < {TARGETS[k]}")
        print(f"| `{name}` | {len(points):,} | " + " | ".join(cells) + " |")
        print(f"  ({time.perf_counter() - t0:.1f} s)", file=sys.stderr)
    print()
    print(
        "Best hypervolume ratio any search can reach with k feasible designs "
        "(greedy lower bound – submodular upper bound; one value where they agree)."
    )
    for line in impossible:
        print(f"target out of reach for every sampler: {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
