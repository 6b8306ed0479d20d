"""Convergence of a study: the front's hypervolume against trials, normalised to the best-known front, and whether the last trials still moved it (``convergence.png``)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd

from dse.plots.common import _COLOR_FRONT, _new_axes, feasible_mask, normalise_direction
from dse.search.pareto import hypervolume, non_dominated_mask

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

#: the warning rule: the last ``CONVERGENCE_TAIL`` of the trials raised the front's
#: hypervolume by more than ``CONVERGENCE_TOLERANCE`` of its final value
CONVERGENCE_TAIL = 0.2


CONVERGENCE_TOLERANCE = 0.01


#: the hypervolume reference point in objectives scaled to the best-known front
#: (0 = its best value of that objective, 1 = its worst)
CONVERGENCE_REFERENCE = 1.1


#: at most this many points of the curve are computed (evenly spaced in trials)
CONVERGENCE_POINTS = 200


class ConvergenceData(NamedTuple):
    """The front's hypervolume against trials, and the convergence warning.

    ``trials[i]`` trials (in trial order) have a feasible front whose hypervolume is
    ``hv_ratio[i]`` of the best-known front's. ``tail_gain`` is the hypervolume gained
    over the last ``CONVERGENCE_TAIL`` of the trials (from ``tail_start`` trials to the
    end) as a fraction of the final front's; ``warning`` is the warning line when it
    exceeds ``CONVERGENCE_TOLERANCE``, else None. ``reference`` says which front the
    ratios are relative to.
    """

    trials: np.ndarray
    hv_ratio: np.ndarray
    n_trials: int
    tail_start: int
    tail_gain: float
    converged: bool
    warning: str | None
    reference: str
    objectives: tuple[str, ...]


def convergence_data(
    designs: pd.DataFrame,
    objectives: Mapping[str, str],
    *,
    best_front: np.ndarray | pd.DataFrame | None = None,
    n_points: int = CONVERGENCE_POINTS,
    tail: float = CONVERGENCE_TAIL,
    tolerance: float = CONVERGENCE_TOLERANCE,
) -> ConvergenceData:
    """Hypervolume of the feasible front after each number of trials, and the warning rule.

    Parameters
    ----------
    designs : pandas.DataFrame
        Every trial of a search: the objective columns, ``feasible`` and ``trial`` (the
        order the trials were run; without it, the row order).
    objectives : mapping
        ``{metric: "minimize" | "maximize"}``.
    best_front : array_like or DataFrame, optional
        The best-known front's objective values (e.g. the exact front from
        ``dse grid``); default: the front of all the trials.
    n_points : int
        Number of trial counts at which the hypervolume is computed (evenly spaced from
        0 to the number of trials, plus the tail start).
    tail, tolerance : float
        The warning rule: the last ``tail`` of the trials raised the hypervolume by more
        than ``tolerance`` of the final front's.

    Returns
    -------
    ConvergenceData

    Notes
    -----
    Each objective is scaled to [0, 1] over the best-known front, 0 being its best
    value there (maximised objectives are negated first); the reference point is
    ``CONVERGENCE_REFERENCE`` (1.1) in every scaled objective, so a front's hypervolume
    ratio is 1 when it matches the best-known front and points worse than that front's
    worst value of some objective add nothing. The hypervolume is computed exactly by
    ``moocore.hypervolume``. The ratio after the last trial is 1 when the best-known
    front is the run's own.

    References
    ----------
    E. Zitzler, L. Thiele, "Multiobjective optimization using evolutionary algorithms —
    a comparative case study", PPSN V, 1998 (the hypervolume indicator).
    M. López-Ibáñez, "moocore: core algorithms for multi-objective optimization",
    https://multi-objective.github.io/moocore/python/ (hypervolume).
    """
    names = list(objectives)
    sign = np.array(
        [1.0 if normalise_direction(objectives[m]) == "minimize" else -1.0 for m in names]
    )
    order = (
        np.argsort(pd.to_numeric(designs["trial"]).to_numpy(), kind="stable")
        if "trial" in designs.columns
        else np.arange(len(designs))
    )
    values = designs[names].to_numpy(dtype=float)[order] * sign
    ok = feasible_mask(designs)[order] & np.isfinite(values).all(axis=1)
    n = len(designs)
    if best_front is None:
        reference = "the front of all the trials of this run"
        best = values[ok]
    else:
        reference = "the best-known front given"
        raw = best_front[names] if isinstance(best_front, pd.DataFrame) else best_front
        best = np.asarray(raw, dtype=float).reshape(-1, len(names)) * sign
    tail_start = int(math.floor((1.0 - tail) * n))
    if n == 0 or not len(best):
        return ConvergenceData(
            trials=np.zeros(0, dtype=int), hv_ratio=np.zeros(0), n_trials=n,
            tail_start=tail_start, tail_gain=math.nan, converged=False,
            warning=f"no feasible design in {n:,} trials: nothing to measure convergence on",
            reference=reference, objectives=tuple(names),
        )  # fmt: skip
    ideal, nadir = best.min(axis=0), best.max(axis=0)
    span = np.where(nadir > ideal, nadir - ideal, 1.0)
    ref = np.full(len(names), CONVERGENCE_REFERENCE)
    scaled = (values - ideal) / span
    hv_best = hypervolume((best - ideal) / span, ref)
    steps = np.linspace(0, n, min(n, max(2, n_points)) + 1)[1:].round()
    counts = np.unique(np.concatenate([steps, [tail_start, n]])).astype(int)
    counts = counts[counts >= 1]
    ratios = np.zeros(len(counts))
    front = np.zeros((0, len(names)))
    done = 0
    for i, k in enumerate(counts):
        new = scaled[done:k][ok[done:k]]
        if len(new):
            cand = np.vstack([front, new])
            front = cand[non_dominated_mask(cand)]
        done = k
        ratios[i] = hypervolume(front, ref) / hv_best if hv_best > 0 else math.nan
    final = ratios[-1]
    at_tail = ratios[counts == tail_start][0] if tail_start >= 1 else 0.0
    gain = (final - at_tail) / final if final > 0 else math.inf
    converged = bool(gain <= tolerance)
    warning = None
    if not converged:
        warning = (
            f"not converged: the last {100 * tail:.0f} % of the trials (after trial "
            f"{tail_start:,} of {n:,}) raised the front's hypervolume by "
            + (f"{100 * gain:.1f} %" if math.isfinite(gain) else "all of it")
            + f" (more than {100 * tolerance:g} %); more trials would likely improve the front"
        )
    return ConvergenceData(
        trials=counts,
        hv_ratio=ratios,
        n_trials=n,
        tail_start=tail_start,
        tail_gain=float(gain),
        converged=converged,
        warning=warning,
        reference=reference,
        objectives=tuple(names),
    )


def plot_convergence(
    data: ConvergenceData, *, ax: Axes | None = None, title: str | None = None
) -> Axes:
    """Draw the front's hypervolume ratio against trials, the tail shaded.

    Parameters
    ----------
    data : ConvergenceData
        From :func:`convergence_data`.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when omitted.
    title : str, optional
        Defaults to a title with the verdict of the warning rule.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _new_axes(ax, (7.0, 4.5))
    if len(data.trials):
        ax.plot(
            data.trials, data.hv_ratio, color=_COLOR_FRONT, lw=1.8, label="feasible front so far"
        )
        ax.axvspan(
            data.tail_start, data.n_trials, color="#fdd49e" if not data.converged else "#c7e9c0",
            alpha=0.5, lw=0,
            label=f"last {100 * (1 - data.tail_start / data.n_trials):.0f} % of the trials: "
            + (f"+{100 * data.tail_gain:.2f} %" if math.isfinite(data.tail_gain) else "first feasible"),
        )  # fmt: skip
        ax.set_xlim(0, data.n_trials)
        ax.set_ylim(0, 1.05 * max(1.0, float(np.nanmax(data.hv_ratio))))
        ax.legend(loc="lower right", fontsize="small", framealpha=0.85)
    else:
        ax.text(0.5, 0.5, "no feasible design", ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel("trials")
    ax.set_ylabel("hypervolume / best-known front's")
    verdict = data.warning.split(":")[0] if data.warning else "converged"
    ax.set_title(
        title
        or f"Convergence ({verdict}; {100 * CONVERGENCE_TOLERANCE:g} % rule over the last "
        f"{100 * CONVERGENCE_TAIL:.0f} %)"
    )
    ax.grid(True, alpha=0.35)
    return ax
