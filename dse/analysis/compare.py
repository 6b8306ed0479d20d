"""Side-by-side comparison of two or more chips on one workload.

``compare(chips, workload)`` returns a DataFrame (one column per chip, one row per chip key
and metric, units in the row labels); :func:`dse.plots.compare.plot_compare` draws it.
Used by ``dse compare A.toml B.toml --workload W``.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from dse.chain import evaluate
from dse.metrics import METRICS, column_name
from dse.spec import CHIP_KEYS, ChipSpec
from dse.workloads import Workload, parse_workload


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
