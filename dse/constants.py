"""The model's constants: one table, each with a value, a plausible range and a source.

``dse/data/model_constants.csv`` holds every free constant of the model (derating,
per-core overhead, energies, thermal resistances, export thresholds) with ``low`` /
``high`` bounds and a ``source``. Fitted constants name their fit script.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from dse.errors import DseInputError, close_match_hint

CONSTANTS_CSV = Path(__file__).parent / "data" / "model_constants.csv"


class ModelConstants(Mapping[str, float]):
    """Read-only mapping name -> value, with ``.table`` for ranges and sources."""

    def __init__(self, table: pd.DataFrame):
        self.table = table
        self._values = {str(k): float(v) for k, v in table["value"].items()}

    def __getitem__(self, key: str) -> float:
        return self._values[key]

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __hash__(self) -> int:
        return hash(tuple(sorted(self._values.items())))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ModelConstants) and self._values == other._values

    def replace(self, **values: float) -> ModelConstants:
        """A copy with some constants changed (e.g. for sensitivity studies or fits)."""
        table = self.table.copy()
        for k, v in values.items():
            if k not in self._values:
                raise DseInputError(f"unknown model constant '{k}'" + close_match_hint(k, self._values))
            table.loc[k, "value"] = float(v)
        return ModelConstants(table)


@functools.cache
def default_constants() -> ModelConstants:
    table = pd.read_csv(CONSTANTS_CSV).set_index("name")
    bad = table[(table["value"] < table["low"]) | (table["value"] > table["high"])]
    if len(bad):
        raise RuntimeError(f"model constants outside their bounds: {list(bad.index)}")
    return ModelConstants(table)
