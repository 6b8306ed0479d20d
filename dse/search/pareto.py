"""Pareto dominance, non-dominated sorting, crowding distance and hypervolume.

All functions take an ``(n, d)`` array of objective values and, optionally, the
direction of each objective (``"minimize"`` / ``"maximize"``, default all minimise).
Internally every objective is turned into one to be minimised (a maximised one is
negated), so ``a`` dominates ``b`` when ``a <= b`` in every objective and ``a < b`` in at
least one. Equal points do not dominate each other: duplicates are all non-dominated.

The functions are vectorised so that the exact front of a grid of 10^5-10^6 feasible
designs can be kept as a running set, chunk by chunk (:func:`non_dominated_mask` on the
union of the current front and a new chunk).

References
----------
K. Deb, A. Pratap, S. Agarwal, T. Meyarivan, "A fast and elitist multiobjective genetic
algorithm: NSGA-II", IEEE Trans. Evol. Comput. 6(2):182-197, 2002 (non-dominated sorting,
crowding distance).

E. Zitzler, L. Thiele, "Multiobjective optimization using evolutionary algorithms - a
comparative case study", PPSN V, 1998 (hypervolume, the "size of the dominated space").

L. While, P. Hingston, L. Barone, S. Huband, "A faster algorithm for calculating
hypervolume", IEEE Trans. Evol. Comput. 10(1):29-38, 2006 (slicing objectives, HSO).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "to_minimization",
    "non_dominated_mask",
    "pareto_ranks",
    "crowding_distance",
    "hypervolume",
]

_CHUNK = 512


def normalise_direction(direction: str) -> str:
    """Return ``"minimize"`` or ``"maximize"`` for the spellings min/minimise/max/....

    Parameters
    ----------
    direction : str
        ``"minimize"``, ``"maximize"``, ``"min"``, ``"max"`` (British spellings accepted).

    Returns
    -------
    str
        ``"minimize"`` or ``"maximize"``.

    Raises
    ------
    ValueError
        For any other spelling.
    """
    d = str(direction).strip().lower()
    if d in ("min", "minimize", "minimise"):
        return "minimize"
    if d in ("max", "maximize", "maximise"):
        return "maximize"
    raise ValueError(f"objective direction must be 'minimize' or 'maximize', got {direction!r}")


def _signs(directions: Sequence[str] | None, d: int) -> np.ndarray:
    if directions is None:
        return np.ones(d)
    if len(directions) != d:
        raise ValueError(f"{len(directions)} directions for {d} objectives")
    return np.array([1.0 if normalise_direction(x) == "minimize" else -1.0 for x in directions])


def to_minimization(values: np.ndarray, directions: Sequence[str] | None = None) -> np.ndarray:
    """Return a float ``(n, d)`` copy of ``values`` with maximised objectives negated.

    Parameters
    ----------
    values : array_like, shape (n, d) or (d,)
        Objective values, one row per point.
    directions : sequence of str, optional
        ``"minimize"`` or ``"maximize"`` per objective (default: all minimise).

    Returns
    -------
    numpy.ndarray
        Values of objectives to be minimised, shape ``(n, d)``.
    """
    arr = np.asarray(values, dtype=float)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2:
        raise ValueError(f"values must be a 2-D array (points x objectives), got shape {arr.shape}")
    return arr * _signs(directions, arr.shape[1])


def non_dominated_mask(values: np.ndarray, directions: Sequence[str] | None = None) -> np.ndarray:
    """Boolean mask of the points that no other point dominates.

    Parameters
    ----------
    values : array_like, shape (n, d)
        Objective values, one row per point. NaN is not allowed.
    directions : sequence of str, optional
        ``"minimize"`` or ``"maximize"`` per objective (default: all minimise).

    Returns
    -------
    numpy.ndarray of bool, shape (n,)
        ``True`` where the point is non-dominated.

    Notes
    -----
    Points are sorted lexicographically; a point can only be dominated by one before it
    in that order, and it is enough to compare it with the non-dominated points found
    so far (dominance is transitive). Two objectives take one sort and a running
    minimum, O(n log n). More objectives are checked block by block against the running
    front with broadcasting: O(n · f · d) comparisons for a front of f points, in numpy.
    """
    f = to_minimization(values, directions)
    n, d = f.shape
    if n == 0:
        return np.zeros(0, dtype=bool)
    if np.isnan(f).any():
        raise ValueError("objective values contain NaN")
    order = np.lexsort(f.T[::-1])  # by f0, then f1, ...
    s = f[order]
    keep_sorted = np.zeros(n, dtype=bool)
    if d == 1:
        keep_sorted = s[:, 0] == s[0, 0]
    elif d == 2:
        # sorted by (f0, f1): dominated iff an earlier point has f1 <= own f1, unless that
        # earlier point is an exact duplicate.
        prev_min = np.minimum.accumulate(s[:, 1])
        prev_min = np.concatenate(([np.inf], prev_min[:-1]))
        keep_sorted = s[:, 1] < prev_min
        # exact duplicates are adjacent: each takes the verdict of the first of its group
        dup = np.zeros(n, dtype=bool)
        dup[1:] = np.all(s[1:] == s[:-1], axis=1)
        first = np.maximum.accumulate(np.where(dup, 0, np.arange(n)))
        keep_sorted = keep_sorted[first]
    elif d == 3:
        # sweep in lexicographic order; a point is dominated iff the 2-D staircase of the
        # (f1, f2) projections of the points before it dominates its projection
        dup = np.zeros(n, dtype=bool)
        dup[1:] = np.all(s[1:] == s[:-1], axis=1)
        stair = _Staircase()
        keep_first = np.zeros(n, dtype=bool)
        ys1 = s[:, 1].tolist()
        ys2 = s[:, 2].tolist()
        for i in np.flatnonzero(~dup).tolist():
            if not stair.dominates(ys1[i], ys2[i]):
                keep_first[i] = True
                stair.insert(ys1[i], ys2[i])
        first = np.maximum.accumulate(np.where(dup, 0, np.arange(n)))
        keep_sorted = keep_first[first]
    else:
        front = np.empty((0, d))
        for start in range(0, n, _CHUNK):
            block = s[start : start + _CHUNK]
            if len(front):  # against the front of the earlier blocks
                le = np.all(front[:, None, :] <= block[None, :, :], axis=2)
                lt = np.any(front[:, None, :] < block[None, :, :], axis=2)
                alive = ~np.any(le & lt, axis=0)
            else:
                alive = np.ones(len(block), dtype=bool)
            idx = np.flatnonzero(alive)
            sub = block[idx]
            le = np.all(sub[:, None, :] <= sub[None, :, :], axis=2)
            lt = np.any(sub[:, None, :] < sub[None, :, :], axis=2)
            alive[idx[np.any(le & lt, axis=0)]] = False
            keep_sorted[start : start + len(block)] = alive
            front = np.concatenate([front, block[alive]])
    mask = np.zeros(n, dtype=bool)
    mask[order] = keep_sorted
    return mask


def pareto_ranks(values: np.ndarray, directions: Sequence[str] | None = None) -> np.ndarray:
    """Non-dominated sorting: the rank of the front each point belongs to (0 = Pareto front).

    Parameters
    ----------
    values : array_like, shape (n, d)
        Objective values, one row per point.
    directions : sequence of str, optional
        ``"minimize"`` or ``"maximize"`` per objective (default: all minimise).

    Returns
    -------
    numpy.ndarray of int, shape (n,)
        Front index: 0 for non-dominated points, 1 for those non-dominated once front 0
        is removed, and so on (Deb et al. 2002).

    Notes
    -----
    Fronts are peeled one after the other with :func:`non_dominated_mask`.
    """
    f = to_minimization(values, directions)
    n = f.shape[0]
    ranks = np.full(n, -1, dtype=int)
    remaining = np.arange(n)
    rank = 0
    while remaining.size:
        mask = non_dominated_mask(f[remaining])
        ranks[remaining[mask]] = rank
        remaining = remaining[~mask]
        rank += 1
    return ranks


def crowding_distance(values: np.ndarray, directions: Sequence[str] | None = None) -> np.ndarray:
    """Crowding distance of each point within one front (Deb et al. 2002).

    Parameters
    ----------
    values : array_like, shape (n, d)
        Objective values of the points of one front.
    directions : sequence of str, optional
        Directions; they do not change the distance but are accepted for symmetry.

    Returns
    -------
    numpy.ndarray, shape (n,)
        Sum over objectives of the normalised gap between each point's two neighbours;
        ``inf`` for the extreme points of every objective (and for fronts of <= 2 points).

    Notes
    -----
    ``cd_i = sum_m (f_m[next(i)] - f_m[prev(i)]) / (max f_m - min f_m)``, neighbours in
    the order of objective ``m``; an objective with zero range contributes nothing.
    """
    f = to_minimization(values, directions)
    n, d = f.shape
    dist = np.zeros(n)
    if n <= 2:
        return np.full(n, np.inf)
    for m in range(d):
        order = np.argsort(f[:, m], kind="stable")
        col = f[order, m]
        span = col[-1] - col[0]
        dist[order[0]] = np.inf
        dist[order[-1]] = np.inf
        if span > 0 and np.isfinite(span):
            dist[order[1:-1]] += (col[2:] - col[:-2]) / span
    return dist


class _Staircase:
    """2-D non-dominated set (minimisation) kept sorted: x ascending, y descending."""

    def __init__(self) -> None:
        self.xs: list[float] = []
        self.ys: list[float] = []

    def dominates(self, x: float, y: float) -> bool:
        """Whether some point has x' <= x and y' <= y."""
        k = bisect.bisect_right(self.xs, x)
        return k > 0 and self.ys[k - 1] <= y

    def insert(self, x: float, y: float) -> None:
        """Insert a point not weakly dominated by the set; drop the points it dominates."""
        xs, ys = self.xs, self.ys
        k = bisect.bisect_left(xs, x)
        j = k
        while j < len(xs) and ys[j] >= y:
            j += 1
        xs[k:j] = [x]
        ys[k:j] = [y]


def hypervolume(
    points: np.ndarray,
    reference: Sequence[float] | np.ndarray,
    directions: Sequence[str] | None = None,
) -> float:
    """Exact hypervolume dominated by ``points`` and bounded by ``reference``.

    Parameters
    ----------
    points : array_like, shape (n, d)
        Objective values (any points; dominated ones are dropped first).
    reference : array_like, shape (d,)
        Reference point in the same units and directions as ``points`` (for a maximised
        objective it is a lower bound, for a minimised one an upper bound).
    directions : sequence of str, optional
        ``"minimize"`` or ``"maximize"`` per objective (default: all minimise).

    Returns
    -------
    float
        Lebesgue measure of the region dominated by the points and dominating the
        reference point. Points that do not strictly dominate the reference in every
        objective contribute nothing.

    Notes
    -----
    Exact, by moocore's ``hypervolume`` (M. Lopez-Ibanez et al., the moocore library of
    multi-objective performance metrics) on the points that strictly dominate the
    reference.
    """
    import moocore

    f = to_minimization(points, directions)
    d = f.shape[1]
    ref = np.asarray(reference, dtype=float).ravel() * _signs(directions, d)
    if ref.shape != (d,):
        raise ValueError(f"reference has {ref.size} values for {d} objectives")
    f = f[np.all(f < ref, axis=1)]
    if len(f) == 0:
        return 0.0
    return float(moocore.hypervolume(f, ref=ref))


def distinct_mask(designs: Any) -> np.ndarray:
    """Rows of a design table that are the first of their design (boolean array).

    Two rows are the same design when every chip key (``dse.CHIP_KEYS`` columns present,
    but ``name``) is equal: a sampler may propose a design twice, and a design counts
    once in the Pareto set of ``summary.md`` (:func:`dse.search.pareto_front`), in the
    legends of the plots and in ``report.html``. A table that lacks a required chip key
    does not describe whole designs and is not deduplicated.
    """
    from dse.spec import CHIP_KEYS

    keys = [k for k in CHIP_KEYS if k in designs.columns and k != "name"]
    required = [k for k, s in CHIP_KEYS.items() if s.required and k != "name"]
    if not len(designs) or any(k not in designs.columns for k in required):
        return np.ones(len(designs), dtype=bool)
    return ~designs.duplicated(subset=keys, keep="first").to_numpy(dtype=bool)
