"""The one number formatter of dse's text outputs: summary.md, the CLI, tick labels.

:func:`number` writes a value the way a reader expects it in a table: a few significant
digits, thousands separators, whole numbers without a decimal point, an exponent only
for very large or very small magnitudes, never float noise (``1.4``, not
``1.4000000000000001``). The CSVs keep 15 significant digits
(:data:`CSV_FLOAT_FORMAT`): as many as a double holds exactly, so every value a study
file can write comes back as written, without the noise of a 17th digit.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["CSV_FLOAT_FORMAT", "clean_float", "number"]

#: printf format of floats in the CSVs (15 significant digits)
CSV_FLOAT_FORMAT = "%.15g"


def clean_float(value: float, digits: int = 12) -> float:
    """``value`` rounded to ``digits`` significant digits (drops binary noise such as
    0.8 + 6 x 0.1 = 1.4000000000000001)."""
    v = float(value)
    if v == 0 or not math.isfinite(v):
        return v
    return float(f"{v:.{digits}g}")


def number(
    value: Any,
    sig: int = 4,
    *,
    big: float = 1e6,
    small: float = 1e-3,
    grouping: bool = True,
) -> str:
    """A number as text for people.

    Parameters
    ----------
    value : int, float, bool, None or anything else
        ``None`` gives ``""``; booleans ``"yes"`` / ``"no"``; integers all their
        digits; other objects ``str(value)``.
    sig : int
        Significant digits of a float (a float of ``10**sig`` or more is rounded to an
        integer instead: ``12,346``, not ``1.235e+04``).
    big, small : float
        Magnitudes from ``big`` up and below ``small`` (but not 0) are written with an
        exponent (``1.235e+07``, ``0.0001234`` -> ``1.234e-04``).
    grouping : bool
        Thousands separators (``1,234``).

    Returns
    -------
    str
        ``"inf"``, ``"-inf"`` and ``"nan"`` for non-finite floats.
    """
    if value is None:
        return ""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    sep = "," if grouping else ""
    if isinstance(value, int | np.integer):
        return f"{int(value):{sep}}"
    if not isinstance(value, float | np.floating):
        return str(value)
    v = float(value)
    if not math.isfinite(v):
        return str(v)
    a = abs(v)
    if v == 0:
        return "0"
    if a >= big or a < small:
        return f"{v:.{sig}g}"
    text = f"{v:{sep}.{sig}g}" if a >= 1 else f"{v:.{sig}g}"
    if v == int(v) or "e" in text:  # whole, or rounds to 10**sig or more
        return f"{round(v):{sep}}"
    return text
