"""What every figure shares: the figure size and resolution, colours, axis labels with units, log-scale choice, directions of objectives and feasibility of a table's rows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from dse.fmt import number
from dse.metrics import unit_of
from dse.search.pareto import normalise_direction

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure



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


def _front_drawstyle(dx: str) -> str:
    # The attained boundary holds y of point i until the next point along x when x is
    # minimised ("steps-post"), and from the previous point when x is maximised.
    return "steps-post" if dx == "minimize" else "steps-pre"


def _direction_word(direction: str) -> str:
    return "lower is better" if direction == "minimize" else "higher is better"
