"""Argument checks and error-message helpers shared by the workload builders."""

from __future__ import annotations

from typing import Any

import numpy as np

from dse.errors import DseInputError, close_match_hint
from dse.units import BYTES_PER_ELEMENT

# Largest integer a float64 holds exactly; shapes above it are rejected.
_MAX_INT = 2**53


def _check_dtype(dtype: str) -> str:
    name = str(dtype).strip().lower()
    if name not in BYTES_PER_ELEMENT:
        raise DseInputError(
            f"unknown dtype {str(dtype).strip()!r}{close_match_hint(name, BYTES_PER_ELEMENT)}; "
            f"choose {', '.join(BYTES_PER_ELEMENT)}"
        )
    return name


def _check_count(what: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise DseInputError(f"{what} must be a positive integer, got {_short(value)}")
    if not 1 <= value <= _MAX_INT:
        raise DseInputError(f"{what} must be an integer from 1 to 2**53, got {int(value)}")
    return int(value)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
