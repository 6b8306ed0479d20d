"""What the special values of a study's CSVs mean: ``chosen``, ``inf`` and empty cells.

``pareto.csv`` has a ``chosen`` column (True on the one design ``summary.md`` calls
"chosen": the knee, or the design passed to :func:`dse.report.write_outputs`). Numbers
are written with 15 significant digits (:data:`dse.fmt.CSV_FLOAT_FORMAT`). Some
columns can hold ``inf`` or be empty; :func:`notes` lists, for the columns where that
happens in a given file, what it means, and ``summary.md`` prints the list under
"CSV notes".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["INF_MEANING", "EMPTY_MEANING", "mark_chosen", "notes"]

#: column -> what ``inf`` means in it
INF_MEANING = {
    "crowding_distance": "a boundary design of the Pareto set (the best or worst of it in "
    "some objective); NSGA-II keeps such designs first",
    "lifetime_years": "no wear-out mechanism ages this design in the model (zero failure "
    "rate, e.g. no temperature swing and no current): it never reaches 1 % failures",
}
#: column -> what an empty cell means in it
EMPTY_MEANING = {
    "pareto_rank": "an infeasible design: only feasible designs are ranked",
    "violations": "no violation: the design is feasible",
    "crowding_distance": "not on the Pareto set",
}
_GENERIC_INF = (
    "the model gives no finite value for this design (see the metric in docs/contract.md)"
)


def mark_chosen(pareto: pd.DataFrame, chosen: pd.Series | None) -> pd.DataFrame:
    """``pareto`` with a boolean ``chosen`` column (the chosen design, matched by trial,
    else by index label)."""
    out = pareto.copy()
    flag = np.zeros(len(out), dtype=bool)
    if chosen is not None and len(out):
        if "trial" in out.columns and "trial" in chosen.index:
            flag = (out["trial"] == chosen["trial"]).to_numpy(dtype=bool)
        elif chosen.name in out.index:
            flag = np.asarray(out.index == chosen.name, dtype=bool)
    out["chosen"] = flag
    return out


def notes(frames: dict[str, pd.DataFrame]) -> list[str]:
    """One line per (file, column) holding ``inf`` or empty cells, saying what they mean.

    Parameters
    ----------
    frames : dict of str to pandas.DataFrame
        File name -> the table written to it (internal column names).
    """
    out = []
    for name, frame in frames.items():
        for col in frame.columns:
            values = frame[col]
            if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
                n_inf = int(np.isinf(values.to_numpy(dtype=float, na_value=np.nan)).sum())
                if n_inf:
                    why = INF_MEANING.get(col, _GENERIC_INF)
                    out.append(f"`{name}` `{col}` = inf ({n_inf:,} rows): {why}.")
            n_empty = int(values.isna().sum()) + (
                int((values == "").sum()) if values.dtype == object else 0
            )
            if n_empty and col in EMPTY_MEANING:
                out.append(f"`{name}` `{col}` empty ({n_empty:,} rows): {EMPTY_MEANING[col]}.")
    return out
