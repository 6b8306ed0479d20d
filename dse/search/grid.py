"""``dse grid``: every design of a study's space evaluated (no sampler), in chunks, with its Pareto front."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from dse.errors import DseInputError
from dse.search import conditional
from dse.search.pareto import non_dominated_mask
from dse.search.progress import _Progress
from dse.search.result import (
    StudyResult,
    _order_columns,
    evaluate_designs,
    pareto_front,
    violation_text,
)
from dse.search.study import StudyConfig, load_study

#: `dse grid` refuses spaces with more points than this (override with ``max_points``)
DEFAULT_GRID_MAX_POINTS = 20_000_000


#: rows per evaluate_many call in the grid (memory stays bounded)
GRID_CHUNK = 200_000


#: rows of ``designs`` a grid keeps (a seeded uniform sample plus the whole front)
GRID_KEEP_ROWS = 250_000


def grid(
    study: StudyConfig | str | Path,
    *,
    out: str | Path | None = None,
    max_points: int = DEFAULT_GRID_MAX_POINTS,
    chunk_size: int = GRID_CHUNK,
    keep_rows: int = GRID_KEEP_ROWS,
    seed: int | None = None,
    progress: bool = True,
    evaluate: Callable[..., pd.DataFrame] | None = None,
) -> StudyResult:
    """Enumerate the whole space (lists and stepped ranges): the exact Pareto front.

    Parameters
    ----------
    study : StudyConfig or path
        The study.
    out : str or pathlib.Path, optional
        Output folder (unused here; files are written by :func:`cmd_grid`).
    max_points : int
        Refuse a space with more grid points than this.
    chunk_size : int
        Designs per :func:`dse.evaluate_many` call (bounds the memory).
    keep_rows : int
        At most about this many rows are kept in ``designs`` besides the front (a
        seeded uniform sample of all points); the front is exact regardless.
    seed : int, optional
        Seed of that sample (default: the study's).
    progress : bool
        Progress bar on stderr, updated after each chunk: grid points done, rate, ETA,
        the feasible count, the size of the front so far and the best feasible value
        of each objective.
    evaluate : callable, optional
        Replacement for :func:`dse.evaluate_many`.

    Returns
    -------
    StudyResult

    Raises
    ------
    DseInputError
        A continuous range without ``step`` (named), or more points than ``max_points``.
    """
    config = study if isinstance(study, StudyConfig) else load_study(study)
    params = list(config.space.values())
    for p in params + [q for c in config.conditions.values() for _, q in c.cases]:
        if p.n_grid is None:
            p.grid_values()  # raises the one-line error naming the key
    blocks = conditional.grid_blocks(config.space, config.conditions)
    sizes_of = [int(np.prod([len(v) for v in values], dtype=object)) for _, values in blocks]
    n = sum(sizes_of)
    if n > max_points:
        sizes = " x ".join(f"{p.name} {p.n_grid}" for p in params)
        if config.conditions:
            sizes = " + ".join(
                " x ".join(f"{k} {len(v)}" for k, v in zip(keys, values, strict=True))
                for keys, values in blocks
            )
        raise DseInputError(
            f"the space of study '{config.name}' has {n:,} grid points ({sizes}), more than the limit of "
            f"{max_points:,}: coarsen steps / shorten lists, or raise the limit (--max-points, or max_points in dse.grid)"
        )
    tech = config.load_tech()
    rng = np.random.default_rng(config.seed if seed is None else seed)
    p_keep = min(1.0, keep_rows / n) if n else 1.0
    front: pd.DataFrame | None = None
    kept: list[pd.DataFrame] = []
    n_feasible = 0
    bar = _Progress(config, n, 0, enabled=progress, unit="design", unit_scale=True)
    t0 = time.perf_counter()
    for start in range(0, n, chunk_size):
        stop = min(n, start + chunk_size)
        idx = np.arange(start, stop, dtype=np.int64)
        frame = _grid_frame(blocks, sizes_of, idx)
        ev = evaluate_designs(config, frame, evaluate=evaluate, tech=tech, violations=False)
        ev.insert(0, "trial", idx)
        feas = ev["feasible"].to_numpy(dtype=bool)
        n_feasible += int(feas.sum())
        cand = ev[feas] if front is None else pd.concat([front, ev[feas]], ignore_index=True)
        if len(cand):
            mask = non_dominated_mask(
                cand[config.metric_names].to_numpy(dtype=float), config.directions
            )
            front = cand[mask].reset_index(drop=True)
        if p_keep >= 1.0:
            kept.append(ev)
        else:
            kept.append(ev[rng.random(len(ev)) < p_keep])
        vals = front[config.metric_names].to_numpy(dtype=float) if front is not None else np.empty((0, len(config.metric_names)))
        bar.set_front(vals, n_feasible)
        bar.update(stop - start)
    bar.close()
    elapsed = time.perf_counter() - t0
    parts = [k for k in kept if len(k)]
    if front is not None and len(front):
        parts.append(front)
    designs = (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame(columns=["trial", "feasible", *config.metric_names])
    )
    designs = (
        designs.drop_duplicates(subset="trial")
        .sort_values("trial", kind="stable")
        .reset_index(drop=True)
    )
    designs["violations"] = violation_text(config, designs)
    designs = _order_columns(config, designs)
    designs, pareto = pareto_front(config, designs)
    return StudyResult(
        study=config,
        designs=designs,
        pareto=pareto,
        kind="grid",
        storage=None,
        elapsed=elapsed,
        trials_per_s=n / elapsed if elapsed > 0 else math.nan,
        n_new=n,
        n_evaluated=n,
        n_feasible=n_feasible,
        sampler="grid",
        seed=config.seed if seed is None else seed,
    )


def _grid_frame(
    blocks: list[tuple[list[str], list[np.ndarray]]], sizes: list[int], idx: np.ndarray
) -> pd.DataFrame:
    """The designs at grid indices ``idx`` (blocks enumerated one after the other, each
    in C order of its keys)."""
    parts = []
    first = 0
    for (keys, values), size in zip(blocks, sizes, strict=True):
        sel = idx[(idx >= first) & (idx < first + size)] - first
        if len(sel):
            codes = np.unravel_index(sel, tuple(len(v) for v in values))
            parts.append(
                pd.DataFrame({k: v[c] for k, v, c in zip(keys, values, codes, strict=True)})
            )
        first += size
    return parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
