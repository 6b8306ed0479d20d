"""One design's lifetime against its clock, per cooling tier."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from dse.plots.common import _new_axes

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

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
