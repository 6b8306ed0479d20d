"""The design a study recommends: the knee of the Pareto set (closest to the ideal point in normalised objectives), and the best design per objective."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd


def _directions(objectives: Mapping[str, str]) -> dict[str, str]:
    from dse.search.pareto import normalise_direction

    return {k: normalise_direction(v) for k, v in objectives.items()}


def _knee_distance(frame: pd.DataFrame, objectives: Mapping[str, str]) -> np.ndarray:
    dirs = _directions(objectives)
    cols = []
    for name, d in dirs.items():
        v = pd.to_numeric(frame[name], errors="coerce").to_numpy(float)
        v = v if d == "minimize" else -v
        lo, hi = np.nanmin(v), np.nanmax(v)
        cols.append((v - lo) / (hi - lo) if hi > lo else np.zeros_like(v))
    z = np.column_stack(cols) if cols else np.zeros((len(frame), 1))
    return np.sqrt(np.nansum(z**2, axis=1) + np.where(np.isnan(z).any(axis=1), np.inf, 0.0))


def choose_design(pareto: pd.DataFrame, objectives: Mapping[str, str]) -> pd.Series:
    """Pick "the chosen Pareto design": the knee, closest to the ideal point.

    Parameters
    ----------
    pareto : pandas.DataFrame
        Non-dominated designs with a column per objective (and optionally
        ``pareto_rank``: only rows of the lowest rank are considered).
    objectives : mapping
        ``{metric: "minimize" | "maximize"}``.

    Returns
    -------
    pandas.Series
        The chosen row (its ``name`` is its index label in ``pareto``).

    Raises
    ------
    ValueError
        If ``pareto`` is empty.

    Notes
    -----
    Each objective is turned into one to minimise and scaled to [0, 1] over the
    candidates, z_m = (f_m - min f_m) / (max f_m - min f_m) (0 for a constant
    objective). The ideal point is z = 0; the chosen design minimises the Euclidean
    distance ||z||_2. Ties go to the first row in ``pareto`` order. With one objective
    this is simply the best design.
    """
    if len(pareto) == 0:
        raise ValueError("no Pareto design to choose from")
    cand = pareto
    if "pareto_rank" in pareto.columns:
        ranks = pd.to_numeric(pareto["pareto_rank"], errors="coerce")
        if ranks.notna().any():
            cand = pareto[ranks == ranks.min()]
    dist = _knee_distance(cand, objectives)
    return cand.iloc[int(np.argmin(dist))]


def _best_rows(pareto: pd.DataFrame, objectives: Mapping[str, str]) -> dict[str, pd.Series]:
    """Best row per objective; ties broken by the knee rule among the tied rows."""
    best = {}
    for name, d in _directions(objectives).items():
        v = pd.to_numeric(pareto[name], errors="coerce")
        if not v.notna().any():
            continue
        target = v.min() if d == "minimize" else v.max()
        tied = pareto[v == target]
        best[name] = choose_design(tied, objectives) if len(tied) > 1 else tied.iloc[0]
    return best
