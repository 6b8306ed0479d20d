"""Fronts per categorical key: each memory's (or each choice's) best designs.

A study that searches a categorical key other than the node (``memory``, ``cooling``,
``package``, ...) gets ``<key>_fronts.png``: the 2-D front (first two objectives) of
the feasible designs of each choice, one colour per choice, drawn by
:func:`dse.plots.plot_node_fronts` from :func:`dse.plots.node_fronts_data`
(the node has its own figure, ``node_fronts.png``). ``summary.md`` tabulates the same
counts as the legends (:func:`summary_lines`): every count is of distinct designs
(:func:`dse.search.pareto.distinct_mask`), like the Pareto set.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["category_fronts", "category_keys", "summary_lines", "write_figures"]


def category_keys(study: Any, designs: pd.DataFrame) -> list[str]:
    """Searched categorical keys named by text (``memory``, ``cooling``, ...; not ``node``,
    which has ``node_fronts.png``, nor numeric lists) with two or more choices in
    ``designs``."""
    out = []
    for key, p in (getattr(study, "space", None) or {}).items():
        if key == "node" or key not in designs.columns:
            continue
        choices = getattr(p, "choices", ())
        if any(isinstance(c, str) for c in choices) and designs[key].nunique() >= 2:
            out.append(key)
    return out


def category_fronts(
    designs: pd.DataFrame, study: Any, objectives: Mapping[str, str], keys: list[str] | None = None
) -> dict[str, Any]:
    """Key -> :class:`dse.plots.NodeFrontsData` grouped by that key (first two
    objectives), choices in the study's order."""
    from dse.plots import node_fronts_data

    names = list(objectives)
    if len(names) < 2:
        return {}
    out = {}
    for key in category_keys(study, designs) if keys is None else keys:
        choices = [str(c) for c in getattr(study.space[key], "choices", ())]
        out[key] = node_fronts_data(
            designs, names[0], names[1], objectives, node=key, order=choices
        )
    return out


def write_figures(
    fronts: Mapping[str, Any], out: Path, title: str, figure: Any, save: Any
) -> dict[str, Path]:
    """``<key>_fronts.png`` for each key of :func:`category_fronts`."""
    from dse.plots import plot_node_fronts

    files = {}
    for key, data in fronts.items():
        fig = figure(8.0, 5.8)
        plot_node_fronts(
            data,
            ax=fig.axes[0],
            title=f"Best feasible designs per {key} ({data.x} vs {data.y})\n{title}",
            legend_title=key,
        )
        files[f"{key}_fronts"] = save(fig, out / f"{key}_fronts.png")
    return files


def summary_lines(
    fronts: Mapping[str, Any], pareto: pd.DataFrame, designs: pd.DataFrame | None = None
) -> list[str]:
    """``summary.md`` section: per choice, the counts of the figure's legend and how many
    of the study's Pareto designs have that choice (and, given ``designs``, how many
    distinct designs the feasible trials are)."""
    from dse.plots import feasible_mask
    from dse.search.pareto import distinct_mask

    out: list[str] = []
    repeats = ""
    if designs is not None and len(designs):
        feas = feasible_mask(designs)
        n, k = int(feas.sum()), int((feas & distinct_mask(designs)).sum())
        if k < n:
            repeats = f" The {n:,} feasible trials are {k:,} distinct designs."
    for key, data in fronts.items():
        in_set = pareto[key].astype(str).value_counts() if key in pareto.columns else {}
        out += [
            "",
            f"## Fronts per {key}",
            "",
            f"`{key}_fronts.png`: the best feasible designs of each {key} for "
            f"{data.x} vs {data.y} (its own 2-D front). Counts are of distinct designs "
            "(a design proposed twice counts once), as in the legend; a choice can have a front and still no design in the study's "
            f"Pareto set (another choice dominates it on all objectives).{repeats}",
            "",
            f"| {key} | feasible designs | on its front ({data.x} vs {data.y}) | in the Pareto set |",
            "|---|---|---|---|",
        ]
        for choice in data.nodes:
            front = int((data.fronts["node"] == choice).sum())
            out.append(
                f"| {choice} | {data.counts[choice]:,} | {front:,} | {int(in_set.get(choice, 0)):,} |"
            )
    return out
