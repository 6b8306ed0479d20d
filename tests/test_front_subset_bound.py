"""The bracket of the best k-design hypervolume (benchmarks/front_subset_bound.py)."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np
import pytest

from dse.search.pareto import hypervolume as hv
from tests.conftest import load_module

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def bound():
    sys.path.insert(0, str(BENCH))
    try:
        yield load_module(BENCH / "front_subset_bound.py")
    finally:
        sys.path.remove(str(BENCH))


def _front(rng, n, d):
    """n mutually non-dominated points in [0, 1]^d (on the simplex face, jittered)."""
    x = rng.dirichlet(np.ones(d), size=n)
    return x / x.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("d", [2, 3])
def test_bracket_holds_the_best_subset(bound, seed, d):
    rng = np.random.default_rng(seed)
    points = _front(rng, 10, d)
    ref = np.full(d, 1.1)
    budgets = [1, 2, 3, 5]
    got = bound.bracket(points, ref, budgets)
    for k in budgets:
        best = max(hv(points[list(s)], ref) for s in itertools.combinations(range(10), k))
        lower, upper = got[k]
        assert lower <= best + 1e-12 <= upper + 2e-12
    # the lower bound is the hypervolume of k real designs: the greedy order's first k
    order, values = bound.greedy_order(points, ref, 5)
    assert len(set(order)) == 5
    for k in budgets:
        assert values[k - 1] == pytest.approx(hv(points[order[:k]], ref), rel=1e-12)
    # the whole front in the budget: both bounds are its hypervolume
    full = bound.bracket(points, ref, [10])[10]
    assert full[0] == full[1] == pytest.approx(hv(points, ref))


def test_greedy_first_pick_is_the_single_largest(bound):
    rng = np.random.default_rng(3)
    points = _front(rng, 12, 3)
    ref = np.full(3, 1.1)
    singles = [hv(p[None, :], ref) for p in points]
    order, values = bound.greedy_order(points, ref, 1)
    assert order[0] == int(np.argmax(singles))
    assert values[0] == pytest.approx(max(singles))
