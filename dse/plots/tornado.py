"""The tornado chart of a one-at-a-time sensitivity: bars from the base value to the
metric at each input's low and high end (data: :func:`dse.analysis.uncertainty.tornado`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def plot_tornado(
    data: pd.DataFrame, ax: Any = None, top: int | None = 15, metric_label: str | None = None
):
    """Tornado chart of :func:`tornado` data: bars from the base value to the metric at
    each input's low (blue) and high (orange) end, largest swing on top.

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7.0, 0.35 * min(len(data), top or len(data)) + 1.2))
    rows = data.head(top) if top else data
    rows = rows.iloc[::-1]
    y = np.arange(len(rows))
    base = float(rows["metric_base"].iloc[0]) if len(rows) else 0.0
    lo = rows["metric_low"].to_numpy(dtype=float) - base
    hi = rows["metric_high"].to_numpy(dtype=float) - base
    ax.barh(y, lo, left=base, color="tab:blue", label="input at low")
    ax.barh(y, hi, left=base, color="tab:orange", alpha=0.85, label="input at high")
    ax.axvline(base, color="k", lw=0.8)
    ax.set_yticks(y)
    ax.set_yticklabels(rows["input"].tolist())
    ax.set_xlabel(metric_label or str(data.attrs.get("metric", "metric")))
    ax.legend(loc="lower right", fontsize="small")
    return ax
