"""Where one design's power goes at its operating point, against its TDP."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from dse.plots.common import _new_axes

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes


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
