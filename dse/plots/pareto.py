"""The Pareto-front figure of a study: every pair of objectives, feasible designs, the front and the chosen design (``pareto_fronts.png``)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pandas as pd

from dse.plots.common import (
    _COLOR_CHOSEN,
    _COLOR_DOMINATED,
    _COLOR_FRONT,
    _COLOR_INFEASIBLE,
    MAX_BACKGROUND_POINTS,
    _as_mapping,
    _direction_word,
    _directions_pair,
    _front_drawstyle,
    _new_axes,
    _sample,
    _tidy_log_axis,
    axis_label,
    feasible_mask,
    new_figure,
    use_log_scale,
)
from dse.search.pareto import distinct_mask, non_dominated_mask

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


class ParetoFrontData(NamedTuple):
    """Data of one pairwise Pareto-front panel.

    ``front``, ``dominated`` and ``infeasible`` hold the columns ``x`` and ``y`` (named by
    the metrics) and keep the index of ``designs``; ``front`` is sorted by ``x``.
    """

    x: str
    y: str
    x_label: str
    y_label: str
    directions: tuple[str, str]
    front: pd.DataFrame
    dominated: pd.DataFrame
    infeasible: pd.DataFrame
    n_dominated: int
    n_infeasible: int
    n_invalid: int
    log_x: bool
    log_y: bool
    x_limits: tuple[float, float]
    y_limits: tuple[float, float]
    n_outside: int


#: a Pareto panel's axes span the Pareto points and this central range (quantiles) of the
#: feasible points, so that a few outliers do not squash the front
FOCUS_QUANTILES = (0.01, 0.99)


def _focus_values(front: np.ndarray, feasible: np.ndarray, infeasible: np.ndarray) -> np.ndarray:
    parts = [front]
    if feasible.size:
        parts.append(np.quantile(feasible, FOCUS_QUANTILES))
    elif infeasible.size:
        parts.append(np.quantile(infeasible, FOCUS_QUANTILES))
    return np.concatenate(parts)


def _padded_limits(values: np.ndarray, log: bool, pad: float = 0.06) -> tuple[float, float]:
    if values.size == 0:
        return (math.nan, math.nan)
    lo, hi = float(values.min()), float(values.max())
    if log:
        a, b = math.log10(lo), math.log10(hi)
        d = pad * (b - a) if b > a else 0.05
        return 10.0 ** (a - d), 10.0 ** (b + d)
    d = pad * (hi - lo) if hi > lo else (0.05 * abs(hi) or 1.0)
    return lo - d, hi + d


def pareto_front_data(
    designs: pd.DataFrame,
    x: str,
    y: str,
    directions: Mapping[str, str] | Sequence[str],
    *,
    max_background: int = MAX_BACKGROUND_POINTS,
) -> ParetoFrontData:
    """Split designs into infeasible, feasible-dominated and 2-D Pareto points for (x, y).

    Parameters
    ----------
    designs : pandas.DataFrame
        One row per trial or grid point with metric columns ``x`` and ``y`` and,
        optionally, a boolean ``feasible`` column.
    x, y : str
        Metric names (columns of ``designs``).
    directions : mapping or pair of str
        ``{metric: "minimize" | "maximize"}`` holding ``x`` and ``y``, or ``(dx, dy)``.
    max_background : int
        At most this many infeasible and this many dominated points are returned
        (seeded uniform sample); the ``n_*`` fields hold the full counts.

    Returns
    -------
    ParetoFrontData
        The non-dominated feasible points of this pair (the 2-D front, in the given
        directions) sorted by ``x``, the other feasible points, the infeasible points.
        Rows with a non-finite ``x`` or ``y`` are counted in ``n_invalid`` and dropped.
        ``x_limits`` / ``y_limits`` span the front and the central 98 % of the feasible
        points (:data:`FOCUS_QUANTILES`; of the infeasible ones when none is feasible)
        with a 6 % margin, on a log scale when that range spans a factor of 30 or more
        (``log_x`` / ``log_y``); ``n_outside`` counts the points beyond those limits.
    """
    dx, dy = _directions_pair(directions, x, y)
    xy = designs[[x, y]].apply(pd.to_numeric, errors="coerce").astype(float)
    # each design once (a repeated trial is not a second point): counts match summary.md
    valid = np.isfinite(xy.to_numpy()).all(axis=1)
    finite = valid & distinct_mask(designs)
    feas = feasible_mask(designs)
    good = xy[finite & feas]
    on_front = non_dominated_mask(good[[x, y]].to_numpy(), (dx, dy))
    front = good[on_front].sort_values([x, y], kind="stable")
    dominated = good[~on_front]
    infeasible = xy[finite & ~feas]
    focus = {
        c: _focus_values(front[c].to_numpy(), good[c].to_numpy(), infeasible[c].to_numpy())
        for c in (x, y)
    }
    log_x, log_y = use_log_scale(focus[x]), use_log_scale(focus[y])
    x_limits, y_limits = _padded_limits(focus[x], log_x), _padded_limits(focus[y], log_y)
    shown = xy[finite]
    inside = shown[x].between(*x_limits) & shown[y].between(*y_limits)
    return ParetoFrontData(
        x=x,
        y=y,
        x_label=axis_label(x),
        y_label=axis_label(y),
        directions=(dx, dy),
        front=front,
        dominated=_sample(dominated, max_background),
        infeasible=_sample(infeasible, max_background),
        n_dominated=len(dominated),
        n_infeasible=len(infeasible),
        n_invalid=int((~valid).sum()),
        log_x=log_x,
        log_y=log_y,
        x_limits=x_limits,
        y_limits=y_limits,
        n_outside=int((~inside).sum()),
    )


def _apply_limits(ax: Axes, data: ParetoFrontData, chosen: Mapping[str, Any] | None) -> None:
    """Scales and limits of a Pareto panel (widened to show the chosen design)."""
    for axis, name, log, limits in (
        (ax.xaxis, data.x, data.log_x, data.x_limits),
        (ax.yaxis, data.y, data.log_y, data.y_limits),
    ):
        lo, hi = limits
        if chosen is not None and name in chosen:
            v = float(chosen[name])
            if np.isfinite(v) and np.isfinite(lo) and not lo <= v <= hi:
                lo, hi = _padded_limits(np.array([lo, hi, v]), log, pad=0.03)
        set_scale, set_lim = (
            (ax.set_xscale, ax.set_xlim) if axis is ax.xaxis else (ax.set_yscale, ax.set_ylim)
        )
        if log:
            set_scale("log")
        if np.isfinite(lo) and np.isfinite(hi):
            set_lim(lo, hi)
        if log:
            _tidy_log_axis(axis)


def _draw_design_points(ax: Axes, data: ParetoFrontData) -> None:
    """The infeasible, the feasible dominated and the front's designs of one panel."""
    x, y = data.x, data.y
    if len(data.infeasible):
        ax.scatter(
            data.infeasible[x],
            data.infeasible[y],
            s=7,
            c=_COLOR_INFEASIBLE,
            alpha=0.5,
            linewidths=0,
            label=f"infeasible ({data.n_infeasible:,})",
            zorder=1,
            rasterized=True,
        )
    if len(data.dominated):
        ax.scatter(
            data.dominated[x],
            data.dominated[y],
            s=10,
            c=_COLOR_DOMINATED,
            alpha=0.7,
            linewidths=0,
            label=f"feasible, dominated ({data.n_dominated:,})",
            zorder=2,
            rasterized=True,
        )
    if len(data.front):
        ax.plot(
            data.front[x],
            data.front[y],
            drawstyle=_front_drawstyle(data.directions[0]),
            color=_COLOR_FRONT,
            lw=1.2,
            alpha=0.8,
            zorder=3,
        )
        ax.scatter(
            data.front[x],
            data.front[y],
            s=30,
            c=_COLOR_FRONT,
            edgecolors="black",
            linewidths=0.5,
            label=f"Pareto front of this pair ({len(data.front)})",
            zorder=4,
        )


def plot_pareto_front(
    data: ParetoFrontData,
    *,
    chosen: Any = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Draw one pairwise Pareto-front panel.

    Infeasible designs grey, feasible dominated designs light blue, the 2-D front red and
    joined by its attainment staircase, the chosen design a gold star.

    Parameters
    ----------
    data : ParetoFrontData
        From :func:`pareto_front_data`.
    chosen : pandas.Series or mapping, optional
        The chosen design (must hold ``data.x`` and ``data.y``).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when omitted.
    title : str, optional
        Defaults to ``"Pareto front: <y> vs <x>"``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _new_axes(ax)
    x, y = data.x, data.y
    _draw_design_points(ax, data)
    row = _as_mapping(chosen)
    if row is not None and x in row and y in row:
        ax.scatter(
            [row[x]],
            [row[y]],
            s=220,
            marker="*",
            c=_COLOR_CHOSEN,
            edgecolors="black",
            linewidths=0.8,
            label="chosen design",
            zorder=5,
        )
    _apply_limits(ax, data, row)
    ax.set_xlabel(f"{data.x_label} ({_direction_word(data.directions[0])})")
    ax.set_ylabel(f"{data.y_label} ({_direction_word(data.directions[1])})")
    ax.set_title(title or f"Pareto front: {y} vs {x}")
    ax.grid(True, which="major", alpha=0.35)
    ax.grid(True, which="minor", alpha=0.12)
    if not (len(data.front) or len(data.dominated) or len(data.infeasible)):
        ax.text(
            0.5,
            0.5,
            "no design with finite values",
            ha="center",
            va="center",
            transform=ax.transAxes,
        )
        return ax
    if data.n_outside:
        ax.text(
            0.99,
            0.99,
            f"{data.n_outside:,} outlying designs beyond the axes",
            ha="right",
            va="top",
            fontsize=7,
            color="0.35",
            transform=ax.transAxes,
        )
    ax.legend(
        loc="upper center",
        bbox_to_anchor=(0.5, -0.13),
        ncols=2,
        fontsize="small",
        frameon=False,
    )
    return ax


def pareto_fronts_figure(
    designs: pd.DataFrame,
    objectives: Mapping[str, str],
    *,
    chosen: Any = None,
    title: str | None = None,
) -> Figure:
    """One :func:`plot_pareto_front` panel per pair of objectives, on an Agg figure.

    Parameters
    ----------
    designs : pandas.DataFrame
        All trials / grid points (metric columns and ``feasible``).
    objectives : mapping
        ``{metric: "minimize" | "maximize"}``, at least two entries.
    chosen : pandas.Series or mapping, optional
        The chosen design, starred in every panel.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    names = list(objectives)
    if len(names) < 2:
        raise ValueError("pairwise Pareto fronts need at least two objectives")
    pairs = [(names[i], names[j]) for i in range(len(names)) for j in range(i + 1, len(names))]
    ncols = min(3, len(pairs))
    nrows = math.ceil(len(pairs) / ncols)
    fig = new_figure(6.2 * ncols, 4.8 * nrows)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, (x, y) in zip(axes, pairs, strict=False):
        plot_pareto_front(pareto_front_data(designs, x, y, objectives), chosen=chosen, ax=ax)
    for ax in axes[len(pairs) :]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title)
    return fig
