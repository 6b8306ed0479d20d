"""Errors raised for bad user input.

Every problem a user can cause (a file, a flag, a value) raises :class:`DseInputError`
with a one-line message that names the offending key, file or value. The command-line
front end prints that line and exits with status 2; library callers get an ordinary
``ValueError`` subclass.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class DseInputError(ValueError):
    """Bad user input: the message is one line that names the problem."""


def close_match_hint(word: str, choices: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest choice, or ``""``."""
    matches = difflib.get_close_matches(str(word).lower(), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean '{matches[0]}'?)" if matches else ""
