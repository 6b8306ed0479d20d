"""Pareto dominance, non-dominated sorting, crowding distance and hypervolume.

Checked against brute-force O(n^2) definitions on random points (with many ties, via
small integer grids) and against hypervolumes computed by hand.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from dse.search.pareto import (
    crowding_distance,
    hypervolume,
    non_dominated_mask,
    pareto_ranks,
    to_minimization,
)


def brute_mask(f: np.ndarray) -> np.ndarray:
    """O(n^2) definition: no other point is <= in all and < in one objective."""
    out = np.ones(len(f), dtype=bool)
    for i in range(len(f)):
        le = np.all(f <= f[i], axis=1)
        lt = np.any(f < f[i], axis=1)
        out[i] = not np.any(le & lt)
    return out


def brute_ranks(f: np.ndarray) -> np.ndarray:
    ranks = np.full(len(f), -1)
    left = np.arange(len(f))
    r = 0
    while left.size:
        m = brute_mask(f[left])
        ranks[left[m]] = r
        left = left[~m]
        r += 1
    return ranks


@pytest.mark.parametrize("d", [1, 2, 3, 4, 5])
def test_non_dominated_mask_matches_brute_force(d):
    rng = np.random.default_rng(d)
    for _ in range(25):
        n = int(rng.integers(1, 400))
        f = rng.integers(0, 7, size=(n, d)).astype(float)  # many ties and duplicates
        assert np.array_equal(non_dominated_mask(f), brute_mask(f))
        g = rng.normal(size=(n, d))
        assert np.array_equal(non_dominated_mask(g), brute_mask(g))


def test_non_dominated_mask_directions():
    f = np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 5.0]])
    # minimise both: (1,10) and (3,5) are non-dominated, (2,20) is dominated by (1,10)
    assert non_dominated_mask(f).tolist() == [True, False, True]
    # maximise the second: (2,20) dominates? (1,10) has less x but less y: both survive
    assert non_dominated_mask(f, ["minimize", "maximize"]).tolist() == [True, True, False]
    assert np.array_equal(to_minimization(f, ["min", "max"])[:, 1], -f[:, 1])


def test_duplicates_are_all_kept():
    f = np.array([[1.0, 1.0, 1.0], [1.0, 1.0, 1.0], [2.0, 2.0, 2.0]])
    assert non_dominated_mask(f).tolist() == [True, True, False]


def test_empty_and_nan():
    assert non_dominated_mask(np.zeros((0, 3))).shape == (0,)
    with pytest.raises(ValueError):
        non_dominated_mask(np.array([[np.nan, 1.0]]))
    with pytest.raises(ValueError):
        non_dominated_mask(np.ones((2, 2)), ["minimize", "upwards"])


@pytest.mark.parametrize("d", [2, 3])
def test_pareto_ranks_match_brute_force(d):
    rng = np.random.default_rng(10 + d)
    for _ in range(10):
        f = rng.integers(0, 6, size=(int(rng.integers(1, 200)), d)).astype(float)
        assert np.array_equal(pareto_ranks(f), brute_ranks(f))


def test_crowding_distance_by_hand():
    # a 2-D front of 4 points, both objectives span 3
    f = np.array([[0.0, 3.0], [1.0, 2.0], [2.0, 1.0], [3.0, 0.0]])
    cd = crowding_distance(f)
    assert np.isinf(cd[0]) and np.isinf(cd[3])
    # inner points: (2-0)/3 + (3-1)/3 = 4/3
    assert cd[1] == pytest.approx(4 / 3)
    assert cd[2] == pytest.approx(4 / 3)
    assert np.all(np.isinf(crowding_distance(f[:2])))


def test_hypervolume_known_shapes():
    # one point: a box
    assert hypervolume([[1.0, 1.0]], [3.0, 4.0]) == pytest.approx(2 * 3)
    assert hypervolume([[0.0, 0.0, 0.0]], [1.0, 2.0, 3.0]) == pytest.approx(6.0)
    # a 2-D staircase by hand: (0,2),(1,1),(2,0) with ref (3,3): 3 + 2 + 1... = 6
    assert hypervolume([[0, 2], [1, 1], [2, 0]], [3, 3]) == pytest.approx(6.0)
    # three unit corners of the cube [0,2]^3: 8 minus the unreached unit cube = 7
    assert hypervolume(np.eye(3), [2, 2, 2]) == pytest.approx(7.0)
    # same in 4-D: 16 minus the unit hypercube at the origin = 15
    assert hypervolume(np.eye(4), [2, 2, 2, 2]) == pytest.approx(15.0)
    # maximisation is mirrored: points (3, 4) with reference (1, 1) -> 2 * 3
    assert hypervolume([[3.0, 4.0]], [1.0, 1.0], ["maximize", "maximize"]) == pytest.approx(6.0)
    # dominated and out-of-reference points add nothing
    assert hypervolume([[1, 1], [2, 2], [5, 0]], [3, 3]) == pytest.approx(4.0)
    assert hypervolume([[4, 4]], [3, 3]) == 0.0


def _hv_inclusion_exclusion(points: np.ndarray, ref: np.ndarray) -> float:
    """Exact union of boxes by inclusion-exclusion (small sets only)."""
    total = 0.0
    n = len(points)
    for k in range(1, n + 1):
        for sub in itertools.combinations(range(n), k):
            corner = points[list(sub)].max(axis=0)
            vol = float(np.prod(np.clip(ref - corner, 0, None)))
            total += (-1) ** (k + 1) * vol
    return total


@pytest.mark.parametrize("d", [2, 3, 4])
def test_hypervolume_matches_inclusion_exclusion(d):
    rng = np.random.default_rng(100 + d)
    for _ in range(15):
        pts = rng.integers(0, 5, size=(int(rng.integers(1, 9)), d)).astype(float)
        ref = np.full(d, 5.0)
        assert hypervolume(pts, ref) == pytest.approx(_hv_inclusion_exclusion(pts, ref))


def test_hypervolume_3d_large_front_matches_slicing():
    rng = np.random.default_rng(7)
    f = rng.random((400, 3))
    f /= np.linalg.norm(f, axis=1, keepdims=True)
    hv3 = hypervolume(f, [1.1, 1.1, 1.1])
    # add a constant fourth objective: same volume times its depth (1), via slicing
    hv4 = hypervolume(np.c_[f, np.zeros(len(f))], [1.1, 1.1, 1.1, 1.0])
    assert hv3 == pytest.approx(hv4)
    assert 0 < hv3 < 1.1**3
