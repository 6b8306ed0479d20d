"""Conditional search spaces: a searched key whose range depends on a categorical choice.

In a study file::

    [space]
    memory = ["hbm2e", "lpddr5x"]
    memory_count = { low = 1, high = 16, step = 1 }   # any memory without its own range

    [space.when.memory.hbm2e]                          # when memory = "hbm2e"
    memory_count = { low = 1, high = 4, step = 1 }

The condition key (``memory``, ``node`` or any categorical key of ``[space]``) is
chosen first; the conditional key (``memory_count``) then takes a value in that
choice's range (a range table or a list, like any ``[space]`` entry).

How optuna sees it. A parameter whose distribution differs from trial to trial is
left out of the "intersection search space" that optuna's NSGA-II (and multivariate
TPE) evolve as a whole, and is drawn at random in every trial: NSGA-II would never
pass a good ``memory_count`` from parent to child. So a conditional key is asked of
optuna as one fixed distribution, its *position* in the range, ``<key>.position`` in
[0, 1] (:data:`POSITION_SUFFIX`); the design's value is the point at that position in
the range of the trial's choice (:meth:`Conditional.value`). Every trial has the same
distributions, NSGA-II crosses and mutates the position like any other parameter, the
random sampler draws each value of a case's range with equal probability, and the
designs, CSVs and plots show the value, never the position.

`dse grid` enumerates, for each choice of the condition key, the product of the other
keys with that choice's range (:func:`grid_blocks`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from dse.fmt import clean_float

#: suffix of the optuna parameter that carries a conditional key's position in [0, 1]
POSITION_SUFFIX = ".position"

__all__ = [
    "POSITION_SUFFIX",
    "Conditional",
    "design_params",
    "distributions",
    "grid_blocks",
    "grid_size",
]


@dataclass(frozen=True)
class Conditional:
    """A searched key whose range depends on the choice of a categorical key.

    Attributes
    ----------
    name : str
        The conditional chip key (e.g. ``memory_count``).
    on : str
        The categorical chip key it depends on (e.g. ``memory``).
    cases : tuple of (choice, Param)
        The range (a :class:`dse.search.space.Param`) of every choice of ``on``, in the order
        of ``on``'s list (choices without their own range get the ``[space]`` one).
    """

    name: str
    on: str
    cases: tuple[tuple[Any, Any], ...]

    @property
    def position_name(self) -> str:
        """Name of the optuna parameter (the position in the range)."""
        return self.name + POSITION_SUFFIX

    def param_for(self, choice: Any) -> Any:
        """The range of one choice of ``on``."""
        for c, p in self.cases:
            if c == choice:
                return p
        raise KeyError(choice)

    def distribution(self) -> Any:
        """optuna's distribution of the position: the same in every trial."""
        from optuna.distributions import FloatDistribution

        return FloatDistribution(0.0, 1.0)

    def value(self, choice: Any, position: float) -> Any:
        """The value at ``position`` (in [0, 1]) of the range of ``choice``.

        A list or a stepped range of n values gives value ``floor(position * n)`` (the
        last one at 1): each of them for an equal share of positions. A continuous
        range is interpolated (geometrically for a log range).
        """
        p = self.param_for(choice)
        q = min(max(float(position), 0.0), 1.0)
        if p.kind == "categorical" or p.step is not None:
            values = p.grid_values()
            v = values[min(int(q * len(values)), len(values) - 1)]
            return clean_float(v) if p.kind == "float" else v.item() if hasattr(v, "item") else v
        if p.log:
            v = math.exp(math.log(p.low) + q * (math.log(p.high) - math.log(p.low)))
        else:
            v = p.low + q * (p.high - p.low)
        return int(round(v)) if p.kind == "int" else v

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable description (recorded with the study)."""
        return {"on": self.on, "cases": {str(c): asdict(p) for c, p in self.cases}}

    def __str__(self) -> str:
        return ", ".join(f"{c}: {p}" for c, p in self.cases)


def distributions(space: dict[str, Any], conditions: dict[str, Conditional]) -> dict[str, Any]:
    """optuna distributions of a study's trials, in ``space`` order (positions for the
    conditional keys)."""
    out = {}
    for name, p in space.items():
        c = conditions.get(name)
        if c is None:
            out[name] = p.distribution()
        else:
            out[c.position_name] = c.distribution()
    return out


def random_params(
    dists: dict[str, Any], n: int, rng: np.random.RandomState
) -> list[dict[str, Any]]:
    """``n`` sets of optuna parameters drawn uniformly from ``dists`` (as
    :func:`distributions` gives them): random designs of a study, for tests and
    benchmarks (:func:`design_params` turns each into chip keys)."""
    import optuna

    out = []
    for _ in range(n):
        p: dict[str, Any] = {}
        for name, d in dists.items():
            if isinstance(d, optuna.distributions.CategoricalDistribution):
                p[name] = d.choices[rng.randint(len(d.choices))]
            elif isinstance(d, optuna.distributions.IntDistribution):
                p[name] = int(d.low + d.step * rng.randint((d.high - d.low) // d.step + 1))
            elif d.step is not None:
                p[name] = float(d.low + d.step * rng.randint(round((d.high - d.low) / d.step) + 1))
            else:
                p[name] = float(rng.uniform(d.low, d.high))
        out.append(p)
    return out


def design_params(
    space: dict[str, Any], conditions: dict[str, Conditional], params: dict[str, Any]
) -> dict[str, Any]:
    """The chip keys of one trial from its optuna parameters (positions -> values).

    A value of a stepped float range is rounded to 12 significant digits: optuna's
    ``low + k * step`` carries binary noise (0.8 + 6 x 0.1 = 1.4000000000000001) that
    would otherwise reach the CSVs and summaries; the grid's values are rounded alike.
    """
    out = {}
    for name, p in space.items():
        c = conditions.get(name)
        if c is None:
            if name in params:
                v = params[name]
                out[name] = clean_float(v) if p.kind == "float" and p.step is not None else v
        elif c.position_name in params and c.on in params:
            out[name] = c.value(params[c.on], params[c.position_name])
    for name in params:  # parameters of an older space, kept as they are
        if name not in out and name not in space and not name.endswith(POSITION_SUFFIX):
            out[name] = params[name]
    return out


def grid_blocks(
    space: dict[str, Any], conditions: dict[str, Conditional]
) -> list[tuple[list[str], list[np.ndarray]]]:
    """The grid as blocks (keys, values per key): the product of each block's values.

    Without conditions one block, the whole product in ``space`` order. With them, one
    block per combination of the condition keys' choices, each condition key fixed to
    its choice and each conditional key given that choice's range.
    """
    names = list(space)
    if not conditions:
        return [(names, [space[k].grid_values() for k in names])]
    ons = list(dict.fromkeys(c.on for c in conditions.values()))
    blocks = []
    for combo in np.ndindex(*(len(space[o].choices) for o in ons)):
        chosen = {o: space[o].choices[i] for o, i in zip(ons, combo, strict=True)}
        values = []
        for k in names:
            if k in chosen:
                c = chosen[k]
                values.append(np.asarray([c], dtype=object if isinstance(c, str) else None))
            elif k in conditions:
                values.append(conditions[k].param_for(chosen[conditions[k].on]).grid_values())
            else:
                values.append(space[k].grid_values())
        blocks.append((names, values))
    return blocks


def grid_size(space: dict[str, Any], conditions: dict[str, Conditional]) -> int | None:
    """Grid points of a space (None when a range has no step)."""
    params = list(space.values())
    for c in conditions.values():
        params += [p for _, p in c.cases]
    if any(p.n_grid is None for p in params):
        return None
    if not conditions:
        return int(np.prod([p.n_grid for p in space.values()], dtype=object))
    return sum(
        int(np.prod([len(v) for v in values], dtype=object))
        for _, values in grid_blocks(space, conditions)
    )
