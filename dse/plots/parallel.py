"""Parallel coordinates of the Pareto set: every searched key and objective of each design on one line."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pandas as pd

from dse.metrics import unit_of
from dse.plots.common import _COLOR_CHOSEN, _fmt, _new_axes, axis_label

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes


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
