"""Side-by-side comparison of two or more chips on one workload.

``compare(chips, workload)`` returns a DataFrame (one column per chip, one row per chip key
and metric, units in the row labels); ``plot_compare`` draws the key metrics relative to
the first chip. Used by ``dse compare A.toml B.toml --workload W``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from dse.chain import evaluate
from dse.metrics import METRICS, column_name
from dse.spec import CHIP_KEYS, ChipSpec
from dse.workloads import Workload, parse_workload

#: metrics drawn by :func:`plot_compare` (ratio to the first chip)
PLOT_METRICS = (
    "tokens_per_s", "throughput_per_s", "latency_s", "energy_per_item_j", "power_w",
    "die_area_mm2", "unit_cost_usd", "cost_per_throughput_usd", "peak_tflops",
)  # fmt: skip


def compare(chips: Sequence[ChipSpec], workload: str | Workload | None = None) -> pd.DataFrame:
    """Chip keys and metrics of several chips, one column per chip.

    Rows are labelled with :func:`dse.metrics.column_name` (the unit travels with the
    label); chips with the same name get a numeric suffix.
    """
    wl = parse_workload(workload) if isinstance(workload, str) else workload
    columns: dict[str, dict[str, object]] = {}
    for chip in chips:
        label = chip.name
        i = 2
        while label in columns:
            label = f"{chip.name} ({i})"
            i += 1
        col: dict[str, object] = {}
        for key, value in chip.to_dict().items():
            if key != "name" and key not in METRICS:  # overrides show as the effective metric
                col[column_name(key)] = value
        for key, value in evaluate(chip, wl).to_dict().items():
            if key == "workload":
                continue
            if isinstance(value, list):
                value = ", ".join(value) if value else "none"
            col[column_name(key)] = value
        columns[label] = col
    order = [column_name(k) for k in CHIP_KEYS if k != "name" and k not in METRICS]
    order += [column_name(k) for k in METRICS if any(column_name(k) in c for c in columns.values())]
    frame = pd.DataFrame(columns).reindex(order)
    frame.index.name = "key"
    return frame


def compare_ratios(frame: pd.DataFrame, metrics: Sequence[str] = PLOT_METRICS) -> pd.DataFrame:
    """Each chip's metric divided by the first chip's (rows: metrics present and numeric)."""
    rows = {}
    for key in metrics:
        label = column_name(key)
        if label not in frame.index:
            continue
        values = pd.to_numeric(frame.loc[label], errors="coerce").to_numpy(dtype=float)
        if not np.isfinite(values).all() or values[0] == 0:
            continue
        rows[label] = values / values[0]
    return pd.DataFrame(rows, index=frame.columns).T


def _better(label: str) -> str:
    key = label.split(" [")[0]
    return METRICS[key].better if key in METRICS else ""


def plot_compare(frame: pd.DataFrame, ax=None, title: str | None = None):
    """Grouped horizontal bars of each chip's metrics relative to the first chip."""
    import matplotlib.pyplot as plt

    ratios = compare_ratios(frame)
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 0.45 * max(len(ratios), 4) * max(1, len(ratios.columns) / 2) + 1.5))
    n = len(ratios.columns)
    height = 0.8 / max(n, 1)
    y = np.arange(len(ratios))
    for i, chip in enumerate(ratios.columns):
        ax.barh(y + (i - (n - 1) / 2) * height, ratios[chip].to_numpy(), height=height, label=chip)
    ax.axvline(1.0, color="0.3", lw=0.8)
    arrows = {"max": " (higher is better)", "min": " (lower is better)"}
    labels = [f"{label}{arrows.get(_better(label), '')}" for label in ratios.index]
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xscale("log")
    from matplotlib.ticker import FormatStrFormatter

    ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax.xaxis.set_minor_formatter(FormatStrFormatter("%g"))
    ax.set_xlabel(f"ratio to {ratios.columns[0]} [-] (log scale)")
    ax.set_title(title or "chip comparison")
    ax.grid(True, axis="x", which="both", alpha=0.3)
    ax.legend(loc="best", fontsize="small")
    return ax
