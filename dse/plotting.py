"""Figures of a study: Pareto fronts, the chosen design's roofline, node fronts, parallel coordinates.

Every plot is split in two:

* a *data function* (``pareto_front_data``, ``roofline_data``, ``node_fronts_data``,
  ``parallel_coords_data``) that turns stored results into a small NamedTuple of
  DataFrames and numbers, tested by value and free of matplotlib;
* a thin *renderer* (``plot_pareto_front``, ``plot_roofline``, ``plot_node_fronts``,
  ``plot_parallel_coords``) that takes that data and ``ax=None`` and returns the Axes.

matplotlib is imported inside the renderers only, so ``import dse.plotting`` neither loads
nor configures matplotlib. A renderer called with ``ax=None`` makes its figure with
``matplotlib.pyplot.subplots`` (so it shows inline in a notebook); the report writer
instead builds plain :class:`matplotlib.figure.Figure` objects on the Agg canvas with
:func:`new_figure`, which never touches pyplot or the global backend.

Axis labels come from :mod:`dse.metrics` / :mod:`dse.spec`: ``"<key> [<unit>]"``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pandas as pd

from dse.fmt import number
from dse.metrics import unit_of
from dse.pareto import distinct_mask, hypervolume, non_dominated_mask

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "CONVERGENCE_REFERENCE",
    "CONVERGENCE_TAIL",
    "CONVERGENCE_TOLERANCE",
    "DPI",
    "ConvergenceData",
    "NodeFrontsData",
    "ParallelAxis",
    "ParallelCoordsData",
    "ParetoFrontData",
    "RooflineData",
    "axis_label",
    "convergence_data",
    "feasible_mask",
    "new_figure",
    "node_fronts_data",
    "normalise_direction",
    "pareto_front_data",
    "pareto_fronts_figure",
    "parallel_coords_data",
    "plot_convergence",
    "plot_node_fronts",
    "plot_parallel_coords",
    "plot_pareto_front",
    "plot_roofline",
    "roof_tflops",
    "roofline_data",
    "save_figure",
    "use_log_scale",
]

#: resolution of saved PNGs [dots per inch]
DPI = 150
#: a positive quantity whose max/min ratio reaches this is drawn on a log axis
LOG_SPAN_RATIO = 30.0
#: at most this many infeasible and this many dominated points are drawn per panel
#: (a seeded uniform sample; the counts in the legend are the full counts)
MAX_BACKGROUND_POINTS = 20_000

_COLOR_INFEASIBLE = "#b5b5b5"
_COLOR_DOMINATED = "#9ecae1"
_COLOR_FRONT = "#d62728"
_COLOR_CHOSEN = "#ffbf00"
_BOUND_COLORS = {"compute": "#d62728", "dram": "#1f77b4", "sram": "#2ca02c", "overhead": "#7f7f7f"}


# --------------------------------------------------------------------------------------
# helpers shared by data functions
# --------------------------------------------------------------------------------------
def axis_label(key: str) -> str:
    """Plot label of a metric or chip key: ``"<key> [<unit>]"`` (the key alone if unitless).

    Parameters
    ----------
    key : str
        Metric name (:data:`dse.metrics.METRICS`) or chip key (:data:`dse.spec.CHIP_KEYS`).

    Returns
    -------
    str
        The label, e.g. ``"tokens_per_s [tokens/s]"``.
    """
    unit = unit_of(key)
    return f"{key} [{unit}]" if unit else key


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


def _directions_pair(
    directions: Mapping[str, str] | Sequence[str], x: str, y: str
) -> tuple[str, str]:
    if isinstance(directions, Mapping):
        return normalise_direction(directions[x]), normalise_direction(directions[y])
    dx, dy = directions
    return normalise_direction(dx), normalise_direction(dy)


def feasible_mask(designs: pd.DataFrame) -> np.ndarray:
    """Boolean feasibility of each row (all True when there is no ``feasible`` column).

    Accepts booleans, 0/1 and the strings ``"True"``/``"False"`` a CSV round trip leaves.

    Parameters
    ----------
    designs : pandas.DataFrame
        Designs, optionally with a ``feasible`` column.

    Returns
    -------
    numpy.ndarray
        ``bool`` array, one entry per row.
    """
    if "feasible" not in designs.columns:
        return np.ones(len(designs), dtype=bool)
    col = designs["feasible"]
    if col.dtype == object or pd.api.types.is_string_dtype(col):
        return col.astype(str).str.strip().str.lower().isin(("true", "1", "yes")).to_numpy()
    return col.fillna(False).astype(bool).to_numpy()


def use_log_scale(values: Any, ratio: float = LOG_SPAN_RATIO) -> bool:
    """True when finite values are all positive and span at least ``ratio`` (max/min).

    Parameters
    ----------
    values : array_like
        The values that will be drawn on the axis.
    ratio : float
        Span (max / min) from which a log axis is used [-].

    Returns
    -------
    bool
    """
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size < 2 or np.any(v <= 0):
        return False
    return bool(v.max() / v.min() >= ratio)


def _sample(frame: pd.DataFrame, n_max: int, seed: int = 0) -> pd.DataFrame:
    if len(frame) <= n_max:
        return frame
    return frame.sample(n=n_max, random_state=seed).sort_index()


def _as_mapping(row: Any) -> Mapping[str, Any] | None:
    if row is None:
        return None
    if isinstance(row, pd.DataFrame):
        return row.iloc[0].to_dict() if len(row) else None
    if isinstance(row, pd.Series):
        return row.to_dict()
    if isinstance(row, Mapping):
        return row
    raise TypeError(f"a design must be a pandas Series or a mapping, got {type(row).__name__}")


def _fmt(value: float) -> str:
    """Compact number for tick labels: 3 significant digits, no exponent in 1e-3..1e5."""
    return number(float(value), 3, big=1e5)


def _tidy_log_axis(axis: Any) -> None:
    """Plain-number tick labels on a log axis (1, 2, 5 per decade for short spans)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    lo, hi = sorted(axis.get_view_interval())
    decades = np.log10(hi / lo) if lo > 0 and hi > 0 else 0.0
    subs = (1.0, 2.0, 5.0) if decades <= 3 else (1.0,)
    axis.set_major_locator(LogLocator(base=10.0, subs=subs))
    axis.set_major_formatter(FuncFormatter(lambda v, _pos: _fmt(v)))
    axis.set_minor_formatter(NullFormatter())


# --------------------------------------------------------------------------------------
# figures
# --------------------------------------------------------------------------------------
def new_figure(width_in: float = 7.0, height_in: float = 5.0) -> Figure:
    """A :class:`~matplotlib.figure.Figure` on the Agg canvas, outside pyplot.

    Nothing global changes (no ``matplotlib.use``, no pyplot figure manager), so this is
    safe in scripts, servers and notebooks alike; the figure is freed when unreferenced.

    Parameters
    ----------
    width_in, height_in : float
        Figure size [inch].

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _new_axes(ax: Axes | None, figsize: tuple[float, float] = (7.0, 5.0)) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def save_figure(fig: Figure, path: str | Path, *, dpi: int = DPI) -> Path:
    """Write a figure as PNG (or any format matplotlib infers from the suffix).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    path : str or pathlib.Path
        Output file; parent folders are created.
    dpi : int
        Resolution [dots per inch].

    Returns
    -------
    pathlib.Path
        The path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, facecolor="white")
    return path


# --------------------------------------------------------------------------------------
# 1. pairwise Pareto fronts
# --------------------------------------------------------------------------------------
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


def _front_drawstyle(dx: str) -> str:
    # The attained boundary holds y of point i until the next point along x when x is
    # minimised ("steps-post"), and from the previous point when x is maximised.
    return "steps-post" if dx == "minimize" else "steps-pre"


def _direction_word(direction: str) -> str:
    return "lower is better" if direction == "minimize" else "higher is better"


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


# --------------------------------------------------------------------------------------
# 2. roofline of one design
# --------------------------------------------------------------------------------------
class RooflineData(NamedTuple):
    """Data of a roofline plot.

    ``ops`` has one row per op with ``op``, ``intensity_flop_per_byte``,
    ``achieved_tflops``, ``time_s``, ``total_time_s``, ``time_share`` (fraction of the
    step time),
    ``bound`` and the drawn position ``x``/``y`` (clipped into the axes when the
    intensity is 0 or infinite or the throughput 0, flagged in ``clipped``).
    """

    peak_tflops: float
    dram_bandwidth_gbps: float
    sram_bandwidth_gbps: float
    ridge_dram_flop_per_byte: float
    ridge_sram_flop_per_byte: float
    ops: pd.DataFrame
    x_range: tuple[float, float]
    y_range: tuple[float, float]


def plot_power_breakdown(
    breakdown: pd.DataFrame, *, tdp_w: float | None = None, ax: Axes | None = None, title: str = ""
) -> Axes:
    """Horizontal bars of module power by component (:func:`dse.chain.power_breakdown`).

    Parameters
    ----------
    breakdown : DataFrame
        ``component``, ``power_w``, ``share``, ``heats`` rows.
    tdp_w : float, optional
        The power cap, drawn as a note with the total [W].
    ax : Axes, optional
    title : str

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _new_axes(ax, (8.0, 4.5))
    colours = {"die": "#d62728", "memory": "#1f77b4", "board": "#7f7f7f"}
    rows = breakdown.iloc[::-1]
    ax.barh(rows["component"], rows["power_w"], color=[colours[h] for h in rows["heats"]])
    for y, (w, share) in enumerate(zip(rows["power_w"], rows["share"], strict=True)):
        ax.text(w, y, f"  {w:,.1f} W ({share:.0%})", va="center", fontsize=8)
    total = float(breakdown["power_w"].sum())
    cap = f" of {tdp_w:,.0f} W TDP" if tdp_w else ""
    ax.set_xlabel(f"power [W] — module total {total:,.1f} W{cap}")
    ax.set_xlim(0, float(breakdown["power_w"].max()) * 1.35 + 1e-9)
    from matplotlib.patches import Patch

    ax.legend(
        handles=[Patch(color=c, label=f"heats the {k}") for k, c in colours.items()],
        loc="lower right", fontsize=8,
    )  # fmt: skip
    ax.grid(axis="x", alpha=0.3)
    if title:
        ax.set_title(title, fontsize=10)
    return ax


#: datacenter accelerators' service life: hyperscaler depreciation lives of 5-6 years and
#: the 5-7 year range of docs/reliability.md (10-K filings; reliability.md A10)
SERVICE_LIFE_YEARS = (5.0, 7.0)


def plot_lifetime_vs_clock(
    sweep: pd.DataFrame,
    *,
    declared_clock_ghz: float | None = None,
    ax: Axes | None = None,
    title: str = "",
    top_years: float = 1000.0,
    bottom_years: float = 0.01,
) -> Axes:
    """Lifetime against the declared clock, one line per cooling tier (:func:`dse.chain.lifetime_sweep`).

    Parameters
    ----------
    sweep : DataFrame
        ``cooling``, ``clock_ghz``, ``sustained_clock_ghz``, ``lifetime_years``,
        ``feasible`` rows.
    declared_clock_ghz : float, optional
        The design's own clock, drawn as a vertical line [GHz].
    ax : Axes, optional
    title : str
    top_years, bottom_years : float
        Lifetimes outside this range are drawn at its edge: wear-out plays no part above
        it, and below it the design is far past a limit [years].

    Returns
    -------
    matplotlib.axes.Axes
        Log-scale lifetime; filled markers are feasible designs, hollow ones break a
        limit, triangles are held below their clock by the power or temperature cap; the
        band is the 5-7 year service life of datacenter accelerators.
    """
    ax = _new_axes(ax, (8.0, 5.0))
    lo, hi = SERVICE_LIFE_YEARS
    ax.axhspan(
        lo, hi, color="#2ca02c", alpha=0.12, label=f"datacenter service life {lo:g}-{hi:g} years"
    )
    for i, (tier, rows) in enumerate(sweep.groupby("cooling", sort=False)):
        colour = f"C{i}"
        x = rows["clock_ghz"].to_numpy(dtype=float)
        y = np.clip(rows["lifetime_years"].to_numpy(dtype=float), bottom_years, top_years)
        ok = rows["feasible"].to_numpy(dtype=bool)
        held = rows["sustained_clock_ghz"].to_numpy(dtype=float) < x * (1 - 1e-6)
        ax.plot(x, y, "-", color=colour, lw=1.5, label=tier)
        for mask, marker in ((~held, "o"), (held, "v")):  # v: the cap holds the clock
            ax.plot(x[mask & ok], y[mask & ok], marker, color=colour, ms=4.5, ls="none")
            ax.plot(x[mask & ~ok], y[mask & ~ok], marker, color=colour, mfc="none", ms=5, ls="none")
    ax.plot([], [], "v", color="0.4", ls="none", label="throttled to the cap")
    ax.plot([], [], "o", color="0.4", mfc="none", ls="none", label="breaks a limit")
    if declared_clock_ghz is not None:
        ax.axvline(
            declared_clock_ghz,
            color="0.3",
            ls="--",
            lw=1.0,
            label=f"declared clock {declared_clock_ghz:g} GHz",
        )
    ax.set_yscale("log")
    ax.set_ylim(bottom_years / 1.5, top_years * 1.5)
    ax.set_xlabel("declared clock [GHz]")
    ax.set_ylabel(
        f"lifetime to 1 % wear-out failures [years]\n(drawn within {bottom_years:g}-{top_years:g})"
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7.5, loc="center left", bbox_to_anchor=(1.01, 0.5))
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def plot_serve_curve(
    curve: pd.DataFrame,
    serve: Any,
    *,
    serve_batch: float | None = None,
    ax: Axes | None = None,
    title: str = "",
) -> Axes:
    """TPOT and TTFT against the batch of running requests, with the targets
    (:func:`dse.chain.serve_curve`).

    Parameters
    ----------
    curve : DataFrame
        ``batch``, ``tpot_s``, ``ttft_s``, ``fits`` rows.
    serve : dse.workloads.ServeSpec
        The targets (``tpot_s``, ``ttft_s``).
    serve_batch : float, optional
        The batch the search chose, drawn as a vertical line.
    ax : Axes, optional
    title : str

    Returns
    -------
    matplotlib.axes.Axes
        Log-log axes in milliseconds; dashed lines are the targets; batches whose KV
        cache does not fit (or whose prompts the token budget cannot keep up with) are
        hollow.
    """
    ax = _new_axes(ax, (9.0, 5.0))
    b = curve["batch"].to_numpy(dtype=float)
    fits = curve["fits"].to_numpy(dtype=bool)
    for col, target, colour, name in (
        ("tpot_s", serve.tpot_s, "C0", "TPOT (time per output token)"),
        ("ttft_s", serve.ttft_s, "C1", "TTFT (time to first token)"),
    ):
        y = curve[col].to_numpy(dtype=float) * 1e3
        ax.plot(b, y, "-", color=colour, lw=1.5, label=name)
        ax.plot(b[fits], y[fits], "o", color=colour, ms=3.5, ls="none")
        ax.plot(b[~fits], y[~fits], "o", color=colour, mfc="none", ms=4, ls="none")
        ax.axhline(
            target * 1e3,
            color=colour,
            ls="--",
            lw=1.0,
            label=f"{name.split()[0]} target {target * 1e3:g} ms",
        )
    if serve_batch is not None:
        ax.axvline(serve_batch, color="0.3", ls=":", lw=1.2, label=f"serve_batch {serve_batch:g}")
    ax.plot([], [], "o", color="0.4", mfc="none", ls="none", label="KV cache does not fit")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("batch (running requests)")
    ax.set_ylabel("latency [ms]")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="upper left")
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def roof_tflops(intensity_flop_per_byte: Any, peak_tflops: float, bandwidth_gbps: float) -> Any:
    """Attainable throughput of the roofline model.

    Parameters
    ----------
    intensity_flop_per_byte : numeric
        Arithmetic intensity [FLOP/byte].
    peak_tflops : float
        Compute ceiling [TFLOP/s].
    bandwidth_gbps : float
        Memory bandwidth [GB/s] (1e9 byte/s).

    Returns
    -------
    numeric
        ``min(peak, bandwidth * intensity)`` [TFLOP/s].

    Notes
    -----
    P = min(P_peak, B * I) with B * I [GB/s * FLOP/byte] = 1e-3 TFLOP/s
    (Williams, Waterman and Patterson, "Roofline", CACM 52(4), 2009).
    """
    return np.minimum(peak_tflops, bandwidth_gbps * np.asarray(intensity_flop_per_byte) * 1e-3)


def _decade_floor(v: float) -> float:
    return 10.0 ** math.floor(math.log10(v))


def _decade_ceil(v: float) -> float:
    return 10.0 ** math.ceil(math.log10(v))


def roofline_data(ops_df: pd.DataFrame, ceilings: Mapping[str, float]) -> RooflineData:
    """Place a workload's ops under a chip's roofline.

    Parameters
    ----------
    ops_df : pandas.DataFrame
        One row per op (``dse.chain.op_breakdown``) with ``op``,
        ``intensity_flop_per_byte`` (FLOP per off-chip byte), ``achieved_tflops``,
        ``time_s`` (one instance) and ``bound``; optional ``total_time_s`` (all
        instances; else ``time_s * count``) sets the time share, and an op whose
        ``dram_bytes`` is 0 gets an infinite intensity (drawn at the right edge).
    ceilings : mapping
        ``peak_tflops`` [TFLOP/s], ``dram_bandwidth_gbps`` [GB/s] and optionally
        ``sram_bandwidth_gbps`` [GB/s] (``dse.chain.roofline_ceilings``).

    Returns
    -------
    RooflineData
        Ceilings, ridge points (peak / bandwidth [FLOP/byte]), ops with their time share
        and drawn position, and log-axis ranges spanning whole decades.

    Notes
    -----
    Ridge point I* = P_peak / B = 1e3 * peak_tflops / bandwidth_gbps [FLOP/byte].
    """
    peak = float(ceilings["peak_tflops"])
    dram = float(ceilings.get("dram_bandwidth_gbps", np.nan) or np.nan)
    sram = float(ceilings.get("sram_bandwidth_gbps", np.nan) or np.nan)
    ridge_dram = 1e3 * peak / dram if np.isfinite(dram) and dram > 0 else np.nan
    ridge_sram = 1e3 * peak / sram if np.isfinite(sram) and sram > 0 else np.nan

    def col(name: str) -> np.ndarray:
        return pd.to_numeric(ops_df[name], errors="coerce").to_numpy(float)

    intensity = col("intensity_flop_per_byte")
    if "dram_bytes" in ops_df:
        # an op that moves no off-chip byte has no finite off-chip intensity
        intensity = np.where(col("dram_bytes") > 0, intensity, np.inf)
    ops = pd.DataFrame(
        {
            "op": ops_df["op"].astype(str).to_numpy(),
            "intensity_flop_per_byte": intensity,
            "achieved_tflops": col("achieved_tflops"),
            "time_s": col("time_s"),
            "bound": ops_df["bound"].astype(str).to_numpy() if "bound" in ops_df else "",
        }
    )
    if "total_time_s" in ops_df:
        total = col("total_time_s")
    else:
        total = ops["time_s"].to_numpy() * (col("count") if "count" in ops_df else 1.0)
    ops["total_time_s"] = total
    ops["time_share"] = total / total.sum() if total.sum() > 0 else 0.0

    inten = ops["intensity_flop_per_byte"].to_numpy()
    perf = ops["achieved_tflops"].to_numpy()
    pos_i = inten[np.isfinite(inten) & (inten > 0)]
    ridges = [r for r in (ridge_dram, ridge_sram) if np.isfinite(r) and r > 0]
    xs = np.concatenate([pos_i, ridges]) if len(pos_i) + len(ridges) else np.array([1.0])
    x_lo = _decade_floor(xs.min() / 3.0)
    x_hi = _decade_ceil(xs.max() * 3.0)
    pos_p = perf[np.isfinite(perf) & (perf > 0)]
    y_lo = _decade_floor(min(pos_p.min() if pos_p.size else peak, peak) / 3.0)
    y_hi = _decade_ceil(peak * 2.0)

    clipped = ~(np.isfinite(inten) & (inten > 0) & np.isfinite(perf) & (perf > 0))
    ops["x"] = np.clip(np.where(np.isfinite(inten), inten, x_hi), x_lo, x_hi)
    ops["x"] = np.where(np.isnan(inten), x_lo, ops["x"])
    ops["y"] = np.clip(np.nan_to_num(perf, nan=y_lo, posinf=y_hi), y_lo, y_hi)
    ops["clipped"] = clipped
    return RooflineData(
        peak_tflops=peak,
        dram_bandwidth_gbps=dram,
        sram_bandwidth_gbps=sram,
        ridge_dram_flop_per_byte=ridge_dram,
        ridge_sram_flop_per_byte=ridge_sram,
        ops=ops,
        x_range=(x_lo, x_hi),
        y_range=(y_lo, y_hi),
    )


def _op_marker_area(time_share: Any) -> Any:
    """Marker area [points^2] of an op: 25 + 900 x its share of the step time."""
    return 25.0 + 900.0 * np.asarray(time_share, dtype=float)


def _label_ops(ax: Axes, ops: pd.DataFrame, x_hi: float, max_labels: int) -> None:
    """One label per cluster of ops drawn at (nearly) the same place, largest share first.

    Ops within 0.08 decade of each other in both axes share a multi-line label; labels
    of ops at the right edge go to their left so they stay inside the axes. Call after
    the axis limits are final: a label that would overlap an earlier one is moved up or
    down (a leader line joins it to its op).
    """
    top = ops.sort_values("time_share", ascending=False).head(max_labels)
    lx = np.log10(top["x"].to_numpy(float))
    ly = np.log10(top["y"].to_numpy(float))
    cluster = np.full(len(top), -1)
    for i in range(len(top)):  # greedy: join the first earlier op within 0.08 decade
        if cluster[i] < 0:
            near = (cluster < 0) & (np.abs(lx - lx[i]) <= 0.08) & (np.abs(ly - ly[i]) <= 0.08)
            cluster[near] = i
    labels = []
    for _, members in top.groupby(cluster, sort=False):
        first = members.iloc[0]
        radius = 0.5 * math.sqrt(float(_op_marker_area(members["time_share"].max())))
        gap = 4.0 + radius
        text = "\n".join(f"{r.op} ({100 * r.time_share:.0f}%)" for r in members.itertuples())
        at_edge = first["x"] >= x_hi * 0.999
        labels.append(
            ax.annotate(
                text,
                (first["x"], first["y"]),
                xytext=(-gap, 0) if at_edge else (gap, 0),
                textcoords="offset points",
                ha="right" if at_edge else "left",
                va="center",
                fontsize=7,
                zorder=6,
                bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "0.6"},
                arrowprops={
                    "arrowstyle": "-",
                    "color": "0.45",
                    "lw": 0.6,
                    "shrinkA": 0.0,
                    "shrinkB": radius,
                },
            )
        )
    for label in labels:
        label.set_in_layout(False)  # the labels must not move the axes they are placed in
    try:
        ax.figure.draw_without_rendering()  # run the layout so positions are final
        renderer = ax.figure.canvas.get_renderer()
    except AttributeError:  # a canvas without a renderer: keep the labels where they are
        return
    from matplotlib.text import Text

    def extent(label: Any) -> Any:  # the text alone, without the leader line
        return Text.get_window_extent(label, renderer).padded(3.0)

    from matplotlib.transforms import Bbox

    points_per_pixel = 72.0 / ax.figure.dpi
    centres = ax.transData.transform(top[["x", "y"]].to_numpy(float))
    radii = 0.5 * np.sqrt(_op_marker_area(top["time_share"].to_numpy())) / points_per_pixel
    placed = [  # the op discs are obstacles too
        Bbox.from_extents(cx - r, cy - r, cx + r, cy + r)
        for (cx, cy), r in zip(centres, radii, strict=True)
    ]
    for label in labels:
        x0, y0 = label.xyann
        box = extent(label)
        step = box.height * points_per_pixel
        for k in range(16):
            if not any(box.overlaps(p) for p in placed):
                break
            shift = (k // 2 + 1) * step
            label.xyann = (x0, y0 - shift if k % 2 == 0 else y0 + shift)
            box = extent(label)
        placed.append(box)


def plot_roofline(
    data: RooflineData,
    *,
    ax: Axes | None = None,
    title: str | None = None,
    max_labels: int = 25,
) -> Axes:
    """Draw a roofline with the workload's ops on it.

    Log-log axes; the compute peak as a horizontal ceiling, the DRAM and SRAM bandwidth
    roofs as slopes (dashed for SRAM), ridge points marked; each op a disc whose area is
    its share of the step time, coloured by what bounds it, labelled with its name.

    Parameters
    ----------
    data : RooflineData
        From :func:`roofline_data`.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when omitted.
    title : str, optional
        Defaults to ``"Roofline"``.
    max_labels : int
        Only the ``max_labels`` ops with the largest time share are labelled.

    Returns
    -------
    matplotlib.axes.Axes

    Notes
    -----
    The x axis is the intensity against *off-chip* bytes, so DRAM-bound ops sit on the
    DRAM roof; the SRAM roof is drawn on the same axis as the ceiling an op with that
    intensity would meet if its on-chip traffic equalled its off-chip traffic (an
    SRAM-bound op therefore lies below both roofs: its SRAM traffic is larger).
    """
    from matplotlib.lines import Line2D

    ax = _new_axes(ax, (7.5, 5.5))
    x_lo, x_hi = data.x_range
    grid = np.logspace(math.log10(x_lo), math.log10(x_hi), 400)
    ax.axhline(data.peak_tflops, color="black", lw=1.0, ls=":", alpha=0.6)
    if np.isfinite(data.dram_bandwidth_gbps):
        ax.plot(
            grid,
            roof_tflops(grid, data.peak_tflops, data.dram_bandwidth_gbps),
            color="#1f77b4",
            lw=2.0,
            label=f"DRAM roof {data.dram_bandwidth_gbps:,.0f} GB/s "
            f"(ridge {data.ridge_dram_flop_per_byte:.3g} FLOP/B)",
        )
        ax.plot([data.ridge_dram_flop_per_byte], [data.peak_tflops], "o", color="#1f77b4", ms=4)
    if np.isfinite(data.sram_bandwidth_gbps):
        ax.plot(
            grid,
            roof_tflops(grid, data.peak_tflops, data.sram_bandwidth_gbps),
            color="#2ca02c",
            lw=1.5,
            ls="--",
            label=f"SRAM roof {data.sram_bandwidth_gbps:,.0f} GB/s "
            f"(ridge {data.ridge_sram_flop_per_byte:.3g} FLOP/B)",
        )
    ax.plot(
        [], [], color="black", lw=1.0, ls=":", label=f"compute peak {data.peak_tflops:.4g} TFLOP/s"
    )

    ops = data.ops
    sizes = _op_marker_area(ops["time_share"].to_numpy())
    colors = [_BOUND_COLORS.get(b, "#9467bd") for b in ops["bound"]]
    ax.scatter(
        ops["x"],
        ops["y"],
        s=sizes,
        c=colors,
        alpha=0.75,
        edgecolors="black",
        linewidths=0.6,
        zorder=4,
    )
    clipped = ops[ops["clipped"]]
    if len(clipped):
        ax.scatter(clipped["x"], clipped["y"], s=60, marker="x", c="black", zorder=5, clip_on=False)
    handles, _ = ax.get_legend_handles_labels()
    for bound in dict.fromkeys(ops["bound"]):
        handles.append(
            Line2D(
                [],
                [],
                ls="",
                marker="o",
                ms=7,
                mfc=_BOUND_COLORS.get(bound, "#9467bd"),
                mec="black",
                label=f"op, {bound}-bound",
            )
        )
    if len(clipped):
        handles.append(
            Line2D(
                [],
                [],
                ls="",
                marker="x",
                c="black",
                label="no off-chip traffic / off-scale (at the edge)",
            )
        )
    handles.append(Line2D([], [], ls="", label="disc area ∝ share of step time"))
    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize="small",
        framealpha=0.9,
        borderaxespad=0.0,
    )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(x_lo, x_hi)
    ax.set_ylim(*data.y_range)
    _tidy_log_axis(ax.xaxis)
    _tidy_log_axis(ax.yaxis)
    ax.set_xlabel("arithmetic intensity [FLOP/byte of off-chip traffic]")
    ax.set_ylabel("throughput [TFLOP/s]")
    ax.set_title(title or "Roofline")
    ax.grid(True, which="major", alpha=0.35)
    ax.grid(True, which="minor", alpha=0.12)
    _label_ops(ax, ops, x_hi, max_labels)
    return ax


# --------------------------------------------------------------------------------------
# 3. per-node fronts
# --------------------------------------------------------------------------------------
class NodeFrontsData(NamedTuple):
    """Per-node 2-D Pareto fronts of the feasible designs.

    ``fronts`` has columns ``node``, ``x`` and ``y`` (named by the metrics), sorted by node
    (in ``nodes`` order) then by ``x``. ``counts`` maps node to its number of feasible
    designs; ``nodes_without_feasible`` lists nodes present only with infeasible designs.
    """

    x: str
    y: str
    x_label: str
    y_label: str
    directions: tuple[str, str]
    nodes: tuple[str, ...]
    fronts: pd.DataFrame
    counts: dict[str, int]
    nodes_without_feasible: tuple[str, ...]
    log_x: bool
    log_y: bool


def node_fronts_data(
    designs: pd.DataFrame,
    x: str,
    y: str,
    directions: Mapping[str, str] | Sequence[str],
    *,
    node: str = "node",
    order: Sequence[str] | None = None,
) -> NodeFrontsData:
    """The best (non-dominated) feasible designs of each process node for (x, y).

    Parameters
    ----------
    designs : pandas.DataFrame
        All trials / grid points with ``node``, ``x``, ``y`` and ``feasible`` columns.
    x, y : str
        Metric names.
    directions : mapping or pair of str
        ``{metric: "minimize" | "maximize"}`` or ``(dx, dy)``.
    node : str
        Column grouping the designs.
    order : sequence of str, optional
        Node order (legend, colours); default: sorted names. Nodes absent from
        ``order`` follow, sorted.

    Returns
    -------
    NodeFrontsData
    """
    dx, dy = _directions_pair(directions, x, y)
    frame = designs[[node, x, y]].copy()
    frame[node] = frame[node].astype(str)
    frame[x] = pd.to_numeric(frame[x], errors="coerce")
    frame[y] = pd.to_numeric(frame[y], errors="coerce")
    present = list(dict.fromkeys(frame[node]))
    first = [n for n in (order or []) if n in present]
    nodes = tuple(first + sorted(n for n in present if n not in first))
    ok = feasible_mask(designs) & np.isfinite(frame[[x, y]].to_numpy(float)).all(axis=1)
    good = frame[ok & distinct_mask(designs)]  # each design once, as in summary.md
    parts = []
    counts: dict[str, int] = {}
    for n in nodes:
        g = good[good[node] == n]
        counts[n] = len(g)
        if len(g):
            m = non_dominated_mask(g[[x, y]].to_numpy(), (dx, dy))
            parts.append(g[m].sort_values([x, y], kind="stable"))
    fronts = (
        pd.concat(parts).rename(columns={node: "node"})
        if parts
        else pd.DataFrame({"node": [], x: [], y: []})
    )
    return NodeFrontsData(
        x=x,
        y=y,
        x_label=axis_label(x),
        y_label=axis_label(y),
        directions=(dx, dy),
        nodes=nodes,
        fronts=fronts,
        counts=counts,
        nodes_without_feasible=tuple(n for n in nodes if counts[n] == 0),
        log_x=use_log_scale(fronts[x]),
        log_y=use_log_scale(fronts[y]),
    )


def plot_node_fronts(
    data: NodeFrontsData,
    *,
    ax: Axes | None = None,
    title: str | None = None,
    legend_title: str = "process node",
) -> Axes:
    """Draw each node's best front, one colour per node, on shared axes.

    Parameters
    ----------
    data : NodeFrontsData
        From :func:`node_fronts_data`.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when omitted.
    title : str, optional
        Defaults to ``"Best feasible designs per node: <y> vs <x>"``.
    legend_title : str
        Title of the legend (the grouping: ``"process node"``, ``"memory"``, ...); the
        groups of :func:`node_fronts_data` with ``node=<key>`` are drawn the same way.

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib as mpl

    ax = _new_axes(ax, (7.5, 5.5))
    cmap = mpl.colormaps["tab10" if len(data.nodes) <= 10 else "tab20"]
    x, y = data.x, data.y
    style = _front_drawstyle(data.directions[0])
    markers = "osD^v<>ph*"
    for k, n in enumerate(data.nodes):
        g = data.fronts[data.fronts["node"] == n]
        if not len(g):
            continue
        color = cmap(k % cmap.N)
        ax.plot(g[x], g[y], drawstyle=style, color=color, lw=1.5, alpha=0.9)
        ax.scatter(
            g[x],
            g[y],
            s=28,
            color=color,
            marker=markers[k % len(markers)],
            edgecolors="black",
            linewidths=0.4,
            zorder=3,
            label=f"{n} ({len(g)} on its front of {data.counts[n]:,} feasible designs)",
        )
    if data.nodes_without_feasible:
        ax.plot(
            [], [], ls="", label="no feasible design: " + ", ".join(data.nodes_without_feasible)
        )
    if data.log_x:
        ax.set_xscale("log")
        ax.autoscale_view()
        _tidy_log_axis(ax.xaxis)
    if data.log_y:
        ax.set_yscale("log")
        ax.autoscale_view()
        _tidy_log_axis(ax.yaxis)
    ax.set_xlabel(f"{data.x_label} ({_direction_word(data.directions[0])})")
    ax.set_ylabel(f"{data.y_label} ({_direction_word(data.directions[1])})")
    ax.set_title(title or f"Best feasible designs per node: {y} vs {x}")
    ax.grid(True, which="major", alpha=0.35)
    ax.grid(True, which="minor", alpha=0.12)
    if len(data.fronts) or data.nodes_without_feasible:
        ax.legend(loc="best", fontsize="small", framealpha=0.85, title=legend_title)
    else:
        ax.text(0.5, 0.5, "no feasible design", ha="center", va="center", transform=ax.transAxes)
    return ax


# --------------------------------------------------------------------------------------
# 4. parallel coordinates of the Pareto set
# --------------------------------------------------------------------------------------
class ParallelAxis(NamedTuple):
    """One axis of a parallel-coordinates plot.

    Numeric axes map ``low`` → 0 and ``high`` → 1 (a constant axis sits at 0.5);
    categorical axes place category ``k`` of ``n`` at ``k / (n - 1)``.
    """

    name: str
    label: str
    unit: str
    low: float
    high: float
    categories: tuple[str, ...] | None


class ParallelCoordsData(NamedTuple):
    """Normalised coordinates (rows: designs, columns: axis names, values in [0, 1])."""

    values: pd.DataFrame
    axes: tuple[ParallelAxis, ...]
    color_by: str
    color_values: np.ndarray


def _is_categorical(col: pd.Series) -> bool:
    return not (pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col))


def parallel_coords_data(
    pareto: pd.DataFrame,
    keys: Sequence[str],
    objectives: Sequence[str],
    *,
    color_by: str | None = None,
    categories: Mapping[str, Sequence[str]] | None = None,
) -> ParallelCoordsData:
    """Normalise the Pareto set onto parallel axes: chip keys, then objectives.

    Parameters
    ----------
    pareto : pandas.DataFrame
        The Pareto designs.
    keys : sequence of str
        Chip keys to show (columns of ``pareto``; missing ones are skipped).
    objectives : sequence of str
        Metric names shown after the keys.
    color_by : str, optional
        Column colouring the lines (default: the first objective).
    categories : mapping, optional
        Order of the categories of a categorical axis (default: sorted values).

    Returns
    -------
    ParallelCoordsData

    Notes
    -----
    Numeric axis: v' = (v - min) / (max - min) over the Pareto set, 0.5 when max = min.
    Categorical axis: v' = code / (n - 1), 0.5 when n = 1.
    """
    names = [k for k in dict.fromkeys([*keys, *objectives]) if k in pareto.columns]
    values = pd.DataFrame(index=pareto.index)
    axes = []
    for name in names:
        col = pareto[name]
        if _is_categorical(col):
            cats = list(categories[name]) if categories and name in categories else []
            cats += sorted(set(col.astype(str)) - set(cats))
            code = col.astype(str).map({c: i for i, c in enumerate(cats)}).to_numpy(float)
            values[name] = code / (len(cats) - 1) if len(cats) > 1 else 0.5
            axes.append(ParallelAxis(name, name, unit_of(name), 0.0, len(cats) - 1.0, tuple(cats)))
        else:
            v = pd.to_numeric(col, errors="coerce").to_numpy(float)
            lo, hi = (
                (float(np.nanmin(v)), float(np.nanmax(v))) if np.isfinite(v).any() else (0.0, 0.0)
            )
            values[name] = (v - lo) / (hi - lo) if hi > lo else np.where(np.isnan(v), np.nan, 0.5)
            axes.append(ParallelAxis(name, axis_label(name), unit_of(name), lo, hi, None))
    color_by = color_by or (objectives[0] if objectives else names[0])
    cv = pd.to_numeric(pareto[color_by], errors="coerce").to_numpy(float)
    return ParallelCoordsData(values=values, axes=tuple(axes), color_by=color_by, color_values=cv)


def plot_parallel_coords(
    data: ParallelCoordsData,
    *,
    highlight: Any = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Draw the parallel-coordinates plot, lines coloured by ``data.color_by``.

    Each vertical axis is labelled with its name and unit, its minimum at the bottom and
    maximum at the top (or its categories at their positions).

    Parameters
    ----------
    data : ParallelCoordsData
        From :func:`parallel_coords_data`.
    highlight : hashable, optional
        Index label (in ``data.values``) of a design drawn bold in black (the chosen one).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when omitted.
    title : str, optional
        Defaults to ``"Pareto set: parallel coordinates"``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib as mpl
    from matplotlib.collections import LineCollection

    n_axes = len(data.axes)
    ax = _new_axes(ax, (max(7.0, 1.3 * n_axes + 2.0), 5.5))
    xs = np.arange(n_axes, dtype=float)
    vals = data.values.to_numpy(float)
    cv = data.color_values
    finite_cv = cv[np.isfinite(cv)]
    norm = mpl.colors.Normalize(
        vmin=finite_cv.min() if finite_cv.size else 0.0,
        vmax=finite_cv.max() if finite_cv.size else 1.0,
    )
    cmap = mpl.colormaps["viridis"]
    segs = [np.column_stack([xs, row]) for row in vals]
    lc = LineCollection(segs, colors=cmap(norm(np.nan_to_num(cv))), linewidths=1.2, alpha=0.75)
    ax.add_collection(lc)
    if highlight is not None and highlight in data.values.index:
        row = data.values.loc[highlight].to_numpy(float)
        ax.plot(xs, row, color="black", lw=3.2, zorder=5)
        ax.plot(xs, row, color=_COLOR_CHOSEN, lw=1.6, zorder=6, label="chosen design")
    for i, axis in enumerate(data.axes):
        ax.axvline(i, color="0.3", lw=0.8, zorder=1)
        if axis.categories is not None:
            n = len(axis.categories)
            for k, c in enumerate(axis.categories):
                pos = k / (n - 1) if n > 1 else 0.5
                ax.text(
                    i + 0.04,
                    pos,
                    c,
                    fontsize=7,
                    va="center",
                    ha="left",
                    bbox={"fc": "white", "ec": "none", "alpha": 0.8, "pad": 0.5},
                    zorder=8,
                )
        else:
            lo_txt = _fmt(axis.low)
            hi_txt = _fmt(axis.high)
            if axis.high > axis.low:
                ax.text(i, -0.04, lo_txt, fontsize=7, ha="center", va="top")
                ax.text(i, 1.04, hi_txt, fontsize=7, ha="center", va="bottom")
            else:
                ax.text(i + 0.04, 0.5, f"{lo_txt} (all)", fontsize=7, va="center", ha="left")
    ax.set_xticks(xs)
    ax.set_xticklabels(
        [a.name + (f"\n[{a.unit}]" if a.unit else "") for a in data.axes], fontsize=8
    )
    ax.tick_params(axis="x", pad=14)
    ax.set_yticks([0.0, 0.5, 1.0])
    ax.set_yticklabels(["min", "", "max"])
    ax.set_xlim(-0.3, n_axes - 0.7 if n_axes > 1 else 0.7)
    ax.set_ylim(-0.1, 1.1)
    ax.set_ylabel("normalised to the Pareto set's range (min → 0, max → 1)")
    ax.grid(True, axis="y", alpha=0.25)
    title = title or "Pareto set: parallel coordinates"
    if highlight is not None and highlight in data.values.index:
        title += "\n(gold line outlined in black: the chosen design)"
    ax.set_title(title)
    sm = mpl.cm.ScalarMappable(norm=norm, cmap=cmap)
    ax.figure.colorbar(sm, ax=ax, label=axis_label(data.color_by), pad=0.02)
    return ax


# --------------------------------------------------------------------------------------
# 5. convergence: the front's hypervolume against trials
# --------------------------------------------------------------------------------------
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
