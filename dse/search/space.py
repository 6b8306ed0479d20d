"""A study's search space: one declared parameter per chip key (:class:`Param`: a list of choices or a numeric range), and ranges that depend on a choice."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from dse.errors import DseInputError, close_match_hint
from dse.metrics import column_name, unit_of
from dse.search.conditional import Conditional
from dse.spec import CHIP_KEYS, check_value

_RANGE_KEYS = ("low", "high", "step", "log")


#: relative tolerance when checking that a float range is a whole number of steps
_STEP_TOL = 1e-9


@dataclass(frozen=True)
class Param:
    """One searched chip key: a categorical list or a (stepped / log) range.

    Attributes
    ----------
    name : str
        Chip key (see :data:`dse.spec.CHIP_KEYS`).
    kind : str
        ``"categorical"``, ``"int"`` or ``"float"``.
    choices : tuple
        The values of a categorical key (ids for node / memory, numbers allowed).
    low, high : float or int, optional
        Inclusive bounds of a range, in the key's unit.
    step : float or int, optional
        Spacing of a range (int ranges default to 1); ``None``: continuous.
    log : bool
        Sample the range on a log scale.
    """

    name: str
    kind: str
    choices: tuple[Any, ...] = ()
    low: float | None = None
    high: float | None = None
    step: float | None = None
    log: bool = False

    @property
    def unit(self) -> str:
        """Unit of the key ('' when unitless)."""
        return unit_of(self.name)

    @property
    def label(self) -> str:
        """Column / axis label with the unit."""
        return column_name(self.name)

    @property
    def bounds(self) -> tuple[float, float]:
        """``(low, high)`` of a range (a list has none)."""
        if self.low is None or self.high is None:
            raise ValueError(f"[space] {self.name} is a list, not a range")
        return self.low, self.high

    @property
    def n_grid(self) -> int | None:
        """Number of grid values, or None for an unstepped continuous range."""
        if self.kind == "categorical":
            return len(self.choices)
        if self.step is None:
            return None
        low, high = self.bounds
        return int(math.floor((high - low) / self.step * (1 + _STEP_TOL) + _STEP_TOL)) + 1

    def grid_values(self) -> np.ndarray:
        """All values the grid enumerates, in the key's unit.

        Raises
        ------
        DseInputError
            For an unstepped continuous range (name the key).
        """
        if self.kind == "categorical":
            return np.asarray(self.choices, dtype=object if self._text else None)
        n = self.n_grid
        if n is None:
            raise DseInputError(
                f"[space] {self.name} is a continuous range without 'step': `dse grid` "
                "needs a step or a list (add step = ...)"
            )
        low, step = self.bounds[0], self.step
        assert step is not None  # a range without a step has no grid (n_grid is None)
        if self.kind == "int":
            return low + step * np.arange(n, dtype=np.int64)
        return np.round(low + step * np.arange(n, dtype=float), 12)

    @property
    def _text(self) -> bool:
        return any(isinstance(c, str) for c in self.choices)

    def distribution(self) -> Any:
        """The optuna distribution of this parameter."""
        from optuna.distributions import (
            CategoricalDistribution,
            FloatDistribution,
            IntDistribution,
        )

        if self.kind == "categorical":
            return CategoricalDistribution(list(self.choices))
        if self.kind == "int":
            low, high = self.bounds
            return IntDistribution(int(low), int(high), log=self.log, step=int(self.step or 1))
        low, high = self.bounds
        return FloatDistribution(float(low), float(high), log=self.log, step=self.step)

    def suggest(self, trial: Any) -> Any:
        """Ask an optuna trial for a value (``trial.suggest_*``)."""
        if self.kind == "categorical":
            return trial.suggest_categorical(self.name, list(self.choices))
        low, high = self.bounds
        if self.kind == "int":
            return trial.suggest_int(
                self.name, int(low), int(high), step=int(self.step or 1), log=self.log
            )
        return trial.suggest_float(self.name, float(low), float(high), step=self.step, log=self.log)

    def __str__(self) -> str:
        if self.kind == "categorical":
            return "[" + ", ".join(str(c) for c in self.choices) + "]"
        unit = f" {self.unit}" if self.unit and self.unit != "count" else ""
        text = f"{self.low:g}..{self.high:g}{unit}"
        if self.step is not None:
            text += f" step {self.step:g}"
        if self.log:
            text += " (log)"
        return text


def _categorical(key: str, values: list[Any], where: str, tech: Any) -> Param:
    spec = CHIP_KEYS[key]
    if not values:
        raise DseInputError(f"[space] {key} in {where} is an empty list: give at least one value")
    out = []
    for v in values:
        v = check_value(key, v, f"[space] in {where}")
        if spec.type == "node":
            v = tech.resolve_node(v, where=f"[space] node in {where}")
        elif spec.type == "memory":
            v = tech.resolve_memory(v, where=f"[space] memory in {where}")
        if v in out:
            raise DseInputError(f"[space] {key} in {where} lists '{v}' twice")
        out.append(v)
    return Param(key, "categorical", choices=tuple(out))


def _range(key: str, table: dict[str, Any], where: str) -> Param:
    spec = CHIP_KEYS[key]
    at = f"[space] {key} in {where}"
    if spec.categorical:
        raise DseInputError(f"{at}: '{key}' is categorical, give a list of values, not a range")
    for k in table:
        if k not in _RANGE_KEYS:
            raise DseInputError(
                f"unknown key '{k}' in {at}"
                + close_match_hint(k, _RANGE_KEYS)
                + " (a range is {low, high, step, log})"
            )
    if "low" not in table or "high" not in table:
        raise DseInputError(f"{at}: a range needs 'low' and 'high'")
    low = check_value(key, table["low"], f"[space] {key}.low of {where}")
    high = check_value(key, table["high"], f"[space] {key}.high of {where}")
    if low > high:
        raise DseInputError(f"{at}: low ({low:g}) > high ({high:g})")
    log = table.get("log", False)
    if not isinstance(log, bool):
        raise DseInputError(f"{at}: 'log' must be true or false, got {log!r}")
    step = table.get("step")
    if step is not None:
        if isinstance(step, bool) or not isinstance(step, int | float) or not math.isfinite(step):
            raise DseInputError(f"{at}: 'step' must be a number, got {step!r}")
        if step <= 0:
            raise DseInputError(f"{at}: step must be > 0, got {step:g}")
    if log and low <= 0:
        raise DseInputError(f"{at}: a log range needs low > 0, got {low:g}")
    if spec.type == "int":
        if step is not None and float(step) != int(step):
            raise DseInputError(
                f"{at}: '{key}' is an integer key, step must be an integer, got {step:g}"
            )
        step = int(step) if step is not None else 1
        if log and step != 1:
            raise DseInputError(
                f"{at}: a log range cannot have a step (optuna samples log ranges continuously)"
            )
        if (high - low) % step:
            raise DseInputError(
                f"{at}: high - low ({high - low}) is not a multiple of step ({step})"
            )
        return Param(key, "int", low=int(low), high=int(high), step=step, log=log)
    if step is not None:
        if log:
            raise DseInputError(
                f"{at}: a log range cannot have a step; use a list of values for a log-spaced grid"
            )
        k = (high - low) / step
        if abs(k - round(k)) > 1e-6 * max(1.0, abs(k)):
            raise DseInputError(
                f"{at}: high - low ({high - low:g}) is not a multiple of step ({step:g})"
            )
        step = float(step)
    return Param(key, "float", low=float(low), high=float(high), step=step, log=log)


def _conditions(
    when: Any, space: dict[str, Param], where: str, tech: Any
) -> dict[str, Conditional]:
    """``[space.when.<key>.<choice>]`` tables: ranges that depend on a categorical choice.

    Each conditional key gets a :class:`dse.search.conditional.Conditional` (a range for every
    choice of its condition key: its own, else the ``[space]`` one) and ``space[key]``
    becomes the envelope of its ranges (descriptive: labels, space edges).
    """
    if not isinstance(when, dict):
        raise DseInputError(
            f"[space] when in {where} must be tables [space.when.<key>.<choice>], e.g. [space.when.memory.hbm2e]"
        )
    raw: dict[str, tuple[str, dict[Any, Any]]] = {}
    for on, by_choice in when.items():
        at = f"[space.when.{on}] of {where}"
        _check_chip_key(on, at)
        if on not in space or space[on].kind != "categorical":
            raise DseInputError(
                f"{at}: '{on}' must be a list in [space] to make other ranges depend on it"
            )
        if not isinstance(by_choice, dict):
            raise DseInputError(f"{at} must hold one table per choice, e.g. [space.when.{on}.<choice>]")
        for choice, ranges in by_choice.items():
            at = f"[space.when.{on}.{choice}] of {where}"
            value = check_value(on, choice, at)
            if CHIP_KEYS[on].type == "node":
                value = tech.resolve_node(value, where=at)
            elif CHIP_KEYS[on].type == "memory":
                value = tech.resolve_memory(value, where=at)
            if not isinstance(ranges, dict) or not ranges:
                raise DseInputError(f"{at} must give ranges of searched keys, e.g. memory_count = {{ low = 1, high = 4 }}")
            for key, spec in ranges.items():
                _check_chip_key(key, at)
                if CHIP_KEYS[key].categorical or key == on:
                    raise DseInputError(f"{at}: '{key}' cannot be conditional; only numeric keys can")
                if key in raw and raw[key][0] != on:
                    raise DseInputError(
                        f"{at}: '{key}' already depends on '{raw[key][0]}'; a key depends on one choice"
                    )
                if isinstance(spec, list):
                    param = _categorical(key, spec, at, tech)
                elif isinstance(spec, dict):
                    param = _range(key, spec, at)
                else:
                    raise DseInputError(
                        f"[space.when.{on}.{choice}] {key} in {where} must be a list or a table {{low, high, step, log}}"
                    )
                raw.setdefault(key, (on, {}))[1][value] = param
    out: dict[str, Conditional] = {}
    for key, (on, by_value) in raw.items():
        cases = []
        for choice in space[on].choices:  # a case the study cannot pick (scenario) is ignored
            found = by_value.get(choice, space.get(key))
            if found is None:
                raise DseInputError(
                    f"{where}: {key} has no range for {on} '{choice}': give one in [space] or in [space.when.{on}.{choice}]"
                )
            cases.append((choice, found))
        out[key] = Conditional(key, on, tuple(cases))
        space[key] = _envelope(key, [p for _, p in cases], where)
    return out


def _envelope(key: str, params: list[Param], where: str) -> Param:
    """One Param covering the ranges of a conditional key (what a summary or label shows)."""
    if any(p.kind == "categorical" for p in params):
        if any(p.kind != "categorical" and p.step is None for p in params):
            raise DseInputError(
                f"{where}: {key} mixes a list with a continuous range; give the range a step"
            )
        values = sorted({v.item() if hasattr(v, "item") else v for p in params for v in p.grid_values()})
        return Param(key, "categorical", choices=tuple(values))
    steps = {p.step for p in params}
    step = steps.pop() if len(steps) == 1 else None
    kind = params[0].kind
    if kind == "int" and step is None:
        step = 1
    return Param(
        key,
        kind,
        low=min(p.bounds[0] for p in params),
        high=max(p.bounds[1] for p in params),
        step=step,
        log=all(p.log for p in params),
    )


def _check_chip_key(key: str, where: str) -> None:
    if key not in CHIP_KEYS:
        raise DseInputError(
            f"unknown chip key '{key}' in {where}" + close_match_hint(key, CHIP_KEYS)
        )
    if key == "name":
        raise DseInputError(f"key 'name' in {where}: designs are named by the study (trial number)")


def _dies_values(space: dict[str, Param], fixed: dict[str, Any]) -> list[int]:
    """The die counts above one a study can pick (``dies``: searched, fixed or 1)."""
    p = space.get("dies")
    if p is None:
        values = [fixed.get("dies", 1)]
    elif p.kind == "categorical":
        values = list(p.choices)
    else:
        low, high = p.bounds
        values = list(range(int(low), int(high) + 1))
    return sorted({int(v) for v in values if float(v) > 1})


def _check_even_split(
    space: dict[str, Param], fixed: dict[str, Any], conditions: dict[str, Any], where: str
) -> None:
    """Every ``cores`` and ``spare_cores`` a study can pick splits evenly over every die
    count it can pick (a chip file and ``evaluate_many`` refuse an uneven split)."""
    all_dies = _dies_values(space, fixed)
    for dies in all_dies:
        for key in ("cores", "spare_cores"):
            if key in conditions:
                params = [p for _, p in conditions[key].cases]
            elif key in space:
                params = [space[key]]
            else:
                params = []
                if int(fixed.get(key, 0)) % dies:
                    raise DseInputError(
                        f"{where}: {key} = {fixed[key]} does not split evenly over dies = {dies}"
                    )
            for p in params:
                if p.kind == "categorical":
                    bad = [c for c in p.choices if int(c) % dies]
                    if bad:
                        raise DseInputError(
                            f"{where}: [space] {key} value {bad[0]} does not split evenly over "
                            f"dies = {dies}; every {key} must be a multiple of every dies value"
                        )
                elif int(p.bounds[0]) % dies or int(p.step or 1) % dies:
                    raise DseInputError(
                        f"{where}: [space] {key} from {p.bounds[0]:g} in steps of {p.step or 1:g} "
                        f"does not split evenly over dies = {dies}; give low and step as "
                        f"multiples of every dies value (e.g. step = {math.lcm(*all_dies)})"
                    )
