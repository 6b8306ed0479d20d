"""Tests that kill surviving mutants of ``dse.search.pareto`` (docs/mutation.md).

Expectations follow from the definitions: Pareto dominance (ranks by non-dominated
sorting) and the crowding distance of Deb et al., "A fast and elitist multiobjective
genetic algorithm: NSGA-II", IEEE Trans. Evol. Comput. 6(2), 2002, section III-B: the sum
over objectives of the gap between a point's two neighbours divided by the objective's
range; extreme points infinite.
"""

from __future__ import annotations

import numpy as np

from dse.search.pareto import crowding_distance, pareto_ranks

# a front of five points, minimising both objectives: x ascending, y descending
FRONT = np.array([[0.0, 8.0], [1.0, 4.0], [3.0, 2.0], [4.0, 1.0], [8.0, 0.0]])


def test_ranks_follow_the_directions_given():
    # maximise both: (3, 3) dominates (2, 2), which dominates (1, 1)
    pts = np.array([[1.0, 1.0], [3.0, 3.0], [2.0, 2.0]])
    assert pareto_ranks(pts, ["maximize", "maximize"]).tolist() == [2, 0, 1]
    assert pareto_ranks(pts, ["minimize", "minimize"]).tolist() == [0, 2, 1]


def test_crowding_distance_of_the_interior_points_by_definition():
    cd = crowding_distance(FRONT)
    assert np.isinf(cd[0]) and np.isinf(cd[-1])
    # point i: (x[i+1] - x[i-1]) / 8 + (y[i-1] - y[i+1]) / 8
    expected = [(3 - 0) / 8 + (8 - 2) / 8, (4 - 1) / 8 + (4 - 1) / 8, (8 - 3) / 8 + (2 - 0) / 8]
    np.testing.assert_allclose(cd[1:-1], expected, rtol=1e-12)


def test_three_points_have_a_finite_middle():
    cd = crowding_distance(FRONT[[0, 2, 4]])
    assert np.isinf(cd[0]) and np.isinf(cd[2])
    np.testing.assert_allclose(cd[1], 1.0 + 1.0, rtol=1e-12)  # both gaps span the range


def test_crowding_distance_is_invariant_to_shifting_and_scaling_an_objective():
    base = crowding_distance(FRONT)
    moved = FRONT * np.array([1e-3, 1.0]) + np.array([0.0, 100.0])  # x in ms, y offset
    np.testing.assert_allclose(crowding_distance(moved), base, rtol=1e-12)


def test_an_objective_with_zero_range_contributes_nothing():
    flat = np.column_stack([FRONT[:, 0], np.full(len(FRONT), 5.0)])
    cd = crowding_distance(flat)
    assert np.isfinite(cd[1:-1]).all()
    np.testing.assert_allclose(cd[1:-1], [3 / 8, 3 / 8, 5 / 8], rtol=1e-12)


def _brute_force_mask(f: np.ndarray) -> np.ndarray:
    """Non-dominated by the definition (minimisation): no other point <= everywhere and <
    somewhere; exact duplicates are all kept."""
    le = np.all(f[:, None, :] <= f[None, :, :], axis=2)
    lt = np.any(f[:, None, :] < f[None, :, :], axis=2)
    return ~np.any(le & lt, axis=0)


def test_four_objectives_over_several_blocks_match_the_definition():
    from dse.search.pareto import _CHUNK, non_dominated_mask

    rng = np.random.default_rng(17)
    n = 2 * _CHUNK + 37  # three blocks: the later ones are checked against the front
    f = rng.integers(0, 6, size=(n, 4)).astype(float)  # coarse grid: ties and duplicates
    got = non_dominated_mask(f)
    np.testing.assert_array_equal(got, _brute_force_mask(f))
    assert 0 < got.sum() < n
    # a point of a late block that dominates front points of an earlier block
    f[-1] = -1.0
    got = non_dominated_mask(f)
    assert got[-1] and got.sum() == 1
    # a front spread over every block (points on the plane sum f = 1 do not dominate one
    # another), points behind it, and a duplicate pair straddling the first block boundary
    front = rng.dirichlet(np.ones(4), size=2 * _CHUNK)
    front = front[np.argsort(front[:, 0])]
    f = np.concatenate([front, front[::7] + [2.0, 0.05, 0.05, 0.05], front[[_CHUNK - 1]]])
    got = non_dominated_mask(f)
    np.testing.assert_array_equal(got, _brute_force_mask(f))
    assert got[: 2 * _CHUNK].all() and got[-1] and not got[2 * _CHUNK : -1].any()
    # maximising every objective is minimising the negatives
    np.testing.assert_array_equal(non_dominated_mask(f, ["maximize"] * 4), _brute_force_mask(-f))


def test_an_empty_set_gives_a_boolean_mask():
    from dse.search.pareto import non_dominated_mask

    mask = non_dominated_mask(np.empty((0, 2)))
    assert mask.dtype == bool and mask.shape == (0,)
