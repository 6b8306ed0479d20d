"""The batch-latency curve of one design serving a model, with the SLO lines."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from dse.plots.common import _new_axes

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes


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
