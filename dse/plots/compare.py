"""The comparison of chips as a figure: each chip's key metrics relative to the first
feasible chip (the system's metrics when any chip is a multi-chip system), infeasible
chips hatched and named with their violations. Data: :func:`compare_ratios` of the table
:func:`dse.analysis.compare.compare` returns; renderer: :func:`plot_compare`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from dse.metrics import METRICS, column_name

#: metrics drawn by :func:`plot_compare` (ratio to the baseline chip)
PLOT_METRICS = (
    "tokens_per_s", "throughput_per_s", "latency_s", "energy_per_item_j", "power_w",
    "die_area_mm2", "unit_cost_usd", "cost_per_throughput_usd", "peak_tflops",
)  # fmt: skip


#: what a plot shows instead when a chip is a multi-chip system: the system's figures
SYSTEM_COUNTERPARTS = {
    "tokens_per_s": "system_throughput_per_s",
    "throughput_per_s": "system_throughput_per_s",
    "latency_s": "system_latency_s",
    "energy_per_item_j": "system_energy_per_item_j",
    "unit_cost_usd": "system_cost_usd",
    "cost_per_throughput_usd": "system_cost_per_throughput_usd",
}


def _row(frame: pd.DataFrame, key: str) -> pd.Series | None:
    label = column_name(key)
    return frame.loc[label] if label in frame.index else None


def is_system_comparison(frame: pd.DataFrame) -> bool:
    """Whether any chip of the comparison is a system of more than one chip."""
    chips = _row(frame, "system_chips")
    return chips is not None and bool((pd.to_numeric(chips, errors="coerce") > 1).any())


def plot_metrics(frame: pd.DataFrame) -> tuple[str, ...]:
    """The metrics a comparison plot draws: :data:`PLOT_METRICS`, with the system's figures
    (:data:`SYSTEM_COUNTERPARTS`, and the chip count) in place of one chip's when any chip
    is a multi-chip system, so the plot answers what the table's system rows answer."""
    if not is_system_comparison(frame):
        return PLOT_METRICS
    keys = ["system_chips"] + [SYSTEM_COUNTERPARTS.get(k, k) for k in PLOT_METRICS]
    return tuple(dict.fromkeys(keys))


def infeasible(frame: pd.DataFrame) -> dict[str, str]:
    """Chips that break a limit, with their violations (chip label -> text)."""
    feasible, violations = _row(frame, "feasible"), _row(frame, "violations")
    if feasible is None:
        return {}
    return {
        chip: str(violations[chip]) if violations is not None else "infeasible"
        for chip in frame.columns
        if not bool(feasible[chip])
    }


def baseline_chip(frame: pd.DataFrame) -> str:
    """The chip ratios are taken against: the first feasible one (the first if none is)."""
    bad = infeasible(frame)
    return next((chip for chip in frame.columns if chip not in bad), frame.columns[0])


def compare_ratios(
    frame: pd.DataFrame, metrics: Sequence[str] | None = None, baseline: str | None = None
) -> pd.DataFrame:
    """Each chip's metric divided by the baseline chip's (rows: metrics present and numeric).

    ``metrics`` defaults to :func:`plot_metrics`; ``baseline`` to :func:`baseline_chip`.
    """
    metrics = plot_metrics(frame) if metrics is None else metrics
    base = list(frame.columns).index(baseline if baseline is not None else baseline_chip(frame))
    rows = {}
    for key in metrics:
        label = column_name(key)
        if label not in frame.index:
            continue
        values = pd.to_numeric(frame.loc[label], errors="coerce").to_numpy(dtype=float)
        if not np.isfinite(values).all() or values[base] == 0:
            continue
        rows[label] = values / values[base]
    return pd.DataFrame(rows, index=frame.columns).T


def _better(label: str) -> str:
    key = label.split(" [")[0]
    return METRICS[key].better if key in METRICS else ""


def plot_compare(frame: pd.DataFrame, ax=None, title: str | None = None):
    """Grouped horizontal bars of each chip's metrics relative to the baseline chip (the
    first feasible one); infeasible chips are hatched and named with their violations."""
    import matplotlib.pyplot as plt

    ratios = compare_ratios(frame)
    base = baseline_chip(frame)
    bad = infeasible(frame)
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 0.45 * max(len(ratios), 4) * max(1, len(ratios.columns) / 2) + 1.5))
    n = len(ratios.columns)
    height = 0.8 / max(n, 1)
    y = np.arange(len(ratios))
    for i, chip in enumerate(ratios.columns):
        label = f"{chip} (infeasible: {bad[chip]})" if chip in bad else chip
        style = dict(hatch="//", alpha=0.5, edgecolor="0.2") if chip in bad else {}
        ax.barh(y + (i - (n - 1) / 2) * height, ratios[chip].to_numpy(), height=height, label=label, **style)
    ax.axvline(1.0, color="0.3", lw=0.8)
    arrows = {"max": " (higher is better)", "min": " (lower is better)"}
    labels = [f"{label}{arrows.get(_better(label), '')}" for label in ratios.index]
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xscale("log")
    from matplotlib.ticker import FormatStrFormatter

    ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax.xaxis.set_minor_formatter(FormatStrFormatter("%g"))
    ax.set_xlabel(f"ratio to {base} [-] (log scale)")
    ax.set_title(title or "chip comparison")
    ax.grid(True, axis="x", which="both", alpha=0.3)
    ax.legend(loc="best", fontsize="small")
    return ax
