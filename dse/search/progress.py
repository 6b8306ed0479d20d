"""The progress line of a study: trials done, feasible, on the front, and the rate."""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

from dse.search import optuna_private
from dse.search.pareto import non_dominated_mask
from dse.search.study import StudyConfig


class _Progress:
    """The progress bar of a search on stderr: count, rate, ETA and the best so far.

    The postfix reads ``feasible 206, Pareto 37, best tokens_per_s=1017
    unit_cost_usd=164.1 energy_per_item_j=0.06775``: feasible designs so far, distinct
    objective vectors on their Pareto front, and the best feasible value of each
    objective (each from its own design). Nothing is computed when disabled.
    """

    def __init__(
        self,
        config: StudyConfig,
        total: int,
        initial: int = 0,
        *,
        enabled: bool = True,
        unit: str = "trial",
        unit_scale: bool = False,
    ) -> None:
        self.enabled = enabled
        self.names = config.metric_names
        self.directions = config.directions
        self.front = np.empty((0, len(self.names)))
        self.n_feasible = 0
        self.bar: Any = None
        if enabled:
            self.bar = _tqdm()(
                total=total,
                initial=initial,
                unit=unit,
                unit_scale=unit_scale,
                file=sys.stderr,
                dynamic_ncols=True,
                smoothing=0.1,
            )

    def record(self, values: np.ndarray, feasible: np.ndarray) -> None:
        """Add evaluated designs: objective values (n, k) and feasibility (n,)."""
        if not self.enabled:
            return
        values = np.asarray(values, dtype=float).reshape(-1, len(self.names))
        ok = np.asarray(feasible, dtype=bool) & np.isfinite(values).all(axis=1)
        self.n_feasible += int(ok.sum())
        if ok.any():
            cand = np.unique(np.vstack([self.front, values[ok]]), axis=0)
            self.front = cand[non_dominated_mask(cand, self.directions)]
        self.bar.set_postfix_str(self.text(), refresh=False)

    def record_trials(self, trials: Sequence[Any]) -> None:
        """Add stored optuna trials (feasible: every ``constraints`` value <= 0)."""
        if not self.enabled or not trials:
            return
        values = np.array(
            [t.values if t.values is not None else [math.nan] * len(self.names) for t in trials],
            dtype=float,
        )
        feasible = np.array(
            [all(c <= 0 for c in t.system_attrs.get(optuna_private.CONSTRAINTS_ATTR, [1.0])) for t in trials]
        )
        self.record(values, feasible)

    def set_front(self, front: np.ndarray, n_feasible: int) -> None:
        """Replace the state by a known front (the grid keeps its own)."""
        if not self.enabled:
            return
        self.front = np.unique(np.asarray(front, dtype=float).reshape(-1, len(self.names)), axis=0)
        self.n_feasible = int(n_feasible)
        self.bar.set_postfix_str(self.text(), refresh=False)

    def text(self) -> str:
        """The postfix."""
        if not len(self.front):
            return f"feasible {self.n_feasible:,} (none yet)"
        mins = np.array([d == "minimize" for d in self.directions])
        best = np.where(mins, self.front.min(axis=0), self.front.max(axis=0))
        values = " ".join(f"{n}={v:.4g}" for n, v in zip(self.names, best, strict=True))
        return f"feasible {self.n_feasible:,}, Pareto {len(self.front):,}, best {values}"

    def step(self, n: int, values: np.ndarray, feasible: np.ndarray) -> None:
        """A batch of ``n`` designs done (the callback of ``_loop``)."""
        self.record(values, feasible)
        self.update(n)

    def update(self, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _tqdm() -> Any:
    """tqdm's notebook widget in Jupyter when ipywidgets is there, else text on stderr."""
    import importlib.util

    if importlib.util.find_spec("ipywidgets") is not None:
        from tqdm.auto import tqdm
    else:
        from tqdm import tqdm
    return tqdm
