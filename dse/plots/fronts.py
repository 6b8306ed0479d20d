"""Fronts per choice of a categorical key (node, memory, ...): one front per choice in one figure (``node_fronts.png``, ``<key>_fronts.png``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd

from dse.plots.common import (
    _direction_word,
    _directions_pair,
    _front_drawstyle,
    _new_axes,
    _tidy_log_axis,
    axis_label,
    feasible_mask,
    use_log_scale,
)
from dse.search.pareto import distinct_mask, non_dominated_mask

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes


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
