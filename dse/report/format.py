"""Numbers and units as the report prints them."""

from __future__ import annotations

from typing import Any

from dse.fmt import number
from dse.metrics import unit_of


def _with_unit(key: str, value: Any) -> str:
    unit = unit_of(key)
    text = number(value)
    return f"{text} {unit}" if unit and unit != "count" and text else text
