"""The search: optuna multi-objective studies and the exhaustive grid over a study's space.

:func:`run_study` drives an optuna study; :func:`grid` enumerates the space. Both
evaluate designs in vectorised batches with :func:`dse.evaluate_many`, apply the
study's constraints (:func:`evaluate_designs`) and return a :class:`StudyResult`
(DataFrames only: files are written by :mod:`dse.report`).

How `run_study` is fast *and* durable
-------------------------------------
The sampler runs on an in-memory optuna study. Each round asks a batch of trials (an
NSGA-II generation: ``population_size`` trials), evaluates them with one
``evaluate_many`` call, tells the results (the sampler's ``constraints_func`` gets the
constraint values computed for the batch), then appends the finished trials to the
durable storage in one go: one journal record per trial and one ``fsync`` per batch
(for an RDB URL, ``Study.add_trials``). A trial counts once it is in the durable
storage; a kill loses at most the batch being evaluated. On start the stored trials
are loaded into the in-memory study, so re-running the same command resumes: the
count continues to the requested total. A single-worker run stores the sampler's random
state with the last trial of each batch and a resume restores it and keeps the batches
at the same trial numbers, so with the same seed it continues with the trials of an
uninterrupted run (:func:`_rng_checkpoint`; the conditions are in docs/search.md).

``workers=N`` starts N processes (``spawn``) on the same storage, each with its own
seed (``seed + worker index``) and its share of the remaining trials, so together they
finish exactly the requested total; before each batch a worker loads the other
workers' new trials from the storage into its sampler.

Every trial carries the metrics of the model as user attributes (so optuna-dashboard
shows them), named like the CSV columns, with their unit (:func:`dse.report.output_name`:
``die_area_mm2``, ``yield [fraction]``, ``constraint_max_power_w [fraction of limit]``),
and its constraint values in the system attribute optuna's samplers read
(``constraints``; <= 0 feasible, names in the study user attribute
``dse:constraint_names``). The objectives are named with ``set_metric_names``.

Progress goes to stderr (``progress=False`` turns it off): a bar with the rate and the
ETA, and as postfix the feasible count, the number of Pareto-optimal designs so far and
the best feasible value of each objective; the grid shows the same per chunk.
"""

from __future__ import annotations

import contextlib
import datetime
import math
import multiprocessing
import os
import sys
import time
import uuid
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dse import optuna_private
from dse.errors import DseInputError, close_match_hint
from dse.metrics import METRICS
from dse.pareto import crowding_distance, non_dominated_mask, pareto_ranks
from dse.report import input_name, output_name
from dse.spec import CHIP_KEYS
from dse.study import DEFAULT_SAMPLER, SAMPLERS, StudyConfig, load_study

__all__ = [
    "DEFAULT_GRID_MAX_POINTS",
    "DEFAULT_NSGA2_OPTIONS",
    "DEFAULT_SAMPLER",
    "StudyResult",
    "cmd_grid",
    "cmd_run",
    "dashboard_command",
    "evaluate_designs",
    "grid",
    "make_sampler",
    "pareto_front",
    "run_study",
    "write_result",
]

#: `dse grid` refuses spaces with more points than this (override with ``max_points``)
DEFAULT_GRID_MAX_POINTS = 20_000_000
#: rows per evaluate_many call in the grid (memory stays bounded)
GRID_CHUNK = 200_000
#: rows of ``designs`` a grid keeps (a seeded uniform sample plus the whole front)
GRID_KEEP_ROWS = 250_000
#: NSGA-II defaults, tuned with benchmarks/search_quality.py on the domestic decode study
#: (1,000 trials; hypervolume fraction of the exact front, mean [min] over seeds):
#: population 30 + BLX-alpha crossover 98.7 % [96.8] on seeds 0-11, 97.3 % [88.0] on
#: seeds 20-25 (one seed never found the capped HBM2E region); optuna's defaults
#: (50, uniform) 98.2 % [97.4] on seeds 20-25; 40 or 50 + BLX-alpha, polynomial mutation
#: and higher mutation rates were not better. No setting reached 99 % on every seed.
DEFAULT_NSGA2_OPTIONS: dict[str, Any] = {"population_size": 30, "crossover": "blxalpha"}
#: trials asked per round for the other samplers (NSGA-II: one generation)
_BATCH = {"tpe": 8, "gp": 4, "random": 256}
_JOURNAL_SUFFIXES = (".journal", ".log", ".jsonl")
_ORIGIN = "dse:origin"
#: system attribute of the last trial of each batch a single-worker run stores: the
#: sampler's random state after that batch (:func:`_rng_checkpoint`)
_RNG_ATTR = "dse:sampler_rng"
_POLL_S = 0.25


# ---------------------------------------------------------------------------------------
# result
# ---------------------------------------------------------------------------------------


@dataclass
class StudyResult:
    """What a search returns.

    Attributes
    ----------
    study : StudyConfig
        The study searched.
    designs : pandas.DataFrame
        One row per trial (optuna) or grid point (a grid larger than
        :data:`GRID_KEEP_ROWS` keeps a seeded uniform sample plus the whole front):
        ``trial`` (trial number or flat grid index), the chip keys, every metric,
        ``constraint_<name>`` values (<= 0 satisfied), ``feasible`` (model and study
        constraints), ``violations`` (``;``-separated) and ``pareto_rank`` (0 = front,
        among the rows kept; NA when infeasible).
    pareto : pandas.DataFrame
        Feasible non-dominated designs (duplicates of a design dropped), with
        ``pareto_rank`` and ``crowding_distance``, sorted by the first objective.
    kind : str
        ``"optuna"`` or ``"grid"``.
    storage : str or None
        Where the trials are (journal path or storage URL); None in memory / grid.
    elapsed : float
        Wall time of the search in this call [s].
    trials_per_s : float
        Designs evaluated in this call per second of ``elapsed`` [1/s].
    n_new : int
        Trials (grid points) evaluated in this call.
    n_evaluated : int
        Trials in the study / grid points enumerated in total.
    n_feasible : int
        Of those, feasible.
    sampler : str
        Sampler name (``"grid"`` for the grid).
    seed : int or None
        Seed of the run (optuna: the sampler seed asked for, worker ``i`` used
        ``seed + i``; grid: the seed of the kept sample).
    workers : int
        Processes that ran the search in this call.
    """

    study: StudyConfig
    designs: pd.DataFrame
    pareto: pd.DataFrame
    kind: str
    storage: str | None = None
    elapsed: float = 0.0
    trials_per_s: float = math.nan
    n_new: int = 0
    n_evaluated: int = 0
    n_feasible: int = 0
    sampler: str = ""
    seed: int | None = None
    workers: int = 1

    @property
    def objectives(self) -> dict[str, str]:
        """Objective metric -> direction."""
        return dict(self.study.objectives)

    def front_values(self) -> np.ndarray:
        """Objective values of the Pareto designs, shape (n, n_objectives)."""
        return self.pareto[self.study.metric_names].to_numpy(dtype=float)


# ---------------------------------------------------------------------------------------
# evaluation and constraints
# ---------------------------------------------------------------------------------------


def _default_evaluate(designs: pd.DataFrame, workload: str, tech: Any = None) -> pd.DataFrame:
    import dse

    return dse.evaluate_many(designs, workload, tech=tech)


def _with_fixed(study: StudyConfig, params: pd.DataFrame) -> pd.DataFrame:
    frame = params.copy() if not params.columns.empty else pd.DataFrame(index=params.index)
    for key, value in study.fixed.items():
        frame[key] = value
    return frame


def evaluate_designs(
    study: StudyConfig,
    params: pd.DataFrame,
    *,
    evaluate: Callable[..., pd.DataFrame] | None = None,
    tech: Any = None,
    violations: bool = True,
) -> pd.DataFrame:
    """Evaluate designs of a study and apply its constraints.

    Parameters
    ----------
    study : StudyConfig
        The study (fixed keys, workload, constraints).
    params : pandas.DataFrame
        Values of the searched keys, one row per design.
    evaluate : callable, optional
        ``evaluate(designs, workload, tech=...) -> DataFrame`` (default
        :func:`dse.evaluate_many`).
    tech : dse.tech.Technology, optional
        Technology tables (default: the study's).
    violations : bool
        Build the ``violations`` text (skip it for speed, e.g. grid rows not kept).

    Returns
    -------
    pandas.DataFrame
        Chip keys, metrics, ``constraint_<name>`` columns, ``model_feasible``,
        ``feasible`` and (when asked) ``violations``.
    """
    designs = _with_fixed(study, params)
    evaluate = evaluate or _default_evaluate
    out = evaluate(designs, study.workload, tech=tech if tech is not None else study.load_tech())
    new: dict[str, Any] = {"model_feasible": out["feasible"].to_numpy(dtype=bool)}
    cons = constraint_matrix(study, out, model_ok=new["model_feasible"])
    for j, name in enumerate(study.constraint_names):
        new[f"constraint_{name}"] = cons[:, j]
    obj = out[study.metric_names].to_numpy(dtype=float)
    new["feasible"] = np.all(cons <= 0, axis=1) & np.isfinite(obj).all(axis=1)
    model_text = out["violations"] if "violations" in out else None
    out = pd.concat(
        [
            out.drop(columns=["feasible", "violations"], errors="ignore"),
            pd.DataFrame(new, index=out.index),
        ],
        axis=1,
    )
    if violations:
        out["violations"] = violation_text(study, out, model_text)
    elif model_text is not None:
        out["violations"] = model_text
    return out


def constraint_matrix(
    study: StudyConfig, out: pd.DataFrame, model_ok: np.ndarray | None = None
) -> np.ndarray:
    """Constraint values per design, columns in ``study.constraint_names`` order.

    Notes
    -----
    ``model``: number of the model's violations (``;``-separated in ``violations``);
    ``max_<m>``: (m - limit) / |limit|; ``min_<m>``: (limit - m) / |limit| (a limit of 0
    uses the difference); a NaN metric counts as 1. ``export_class``: 0 allowed, 1 not.
    ``memory_count_max``: (count - cap) / max(cap, 1) for a capped memory, else 0.
    All are <= 0 when satisfied; relative values keep optuna's summed violation
    (constrained domination) comparable across units.
    """
    n = len(out)
    cols: list[np.ndarray] = []
    if model_ok is None:
        model_ok = out["model_feasible" if "model_feasible" in out else "feasible"].to_numpy(
            dtype=bool
        )
    model = np.zeros(n)
    bad = np.flatnonzero(~model_ok)
    if bad.size:
        text = (
            out["violations"].to_numpy(dtype=object)[bad]
            if "violations" in out
            else [""] * bad.size
        )
        model[bad] = [max(1.0, float(str(t).count(";") + 1)) for t in text]
    cols.append(model)
    for _key, kind, metric, limit in study.bounds:
        x = out[metric].to_numpy(dtype=float)
        scale = abs(limit) if limit != 0 else 1.0
        c = (x - limit) / scale if kind == "max" else (limit - x) / scale
        absent = 0.0 if metric in METRICS and METRICS[metric].absent_ok else 1.0
        cols.append(np.where(np.isnan(c), absent, c))
    allowed = study.constraints.get("export_class")
    if allowed:
        cols.append(np.where(out["export_class"].isin(allowed).to_numpy(), 0.0, 1.0))
    caps = study.constraints.get("memory_count_max")
    if caps:
        mem = out["memory"].astype(str)
        cap = mem.map(caps).to_numpy(dtype=float)  # NaN where uncapped
        count = out["memory_count"].to_numpy(dtype=float)
        c = (count - cap) / np.maximum(cap, 1.0)
        cols.append(np.where(np.isnan(cap), 0.0, c))
    return np.column_stack(cols) if cols else np.zeros((n, 0))


def _g(x: float) -> str:
    return f"{x:.4g}"


def violation_text(
    study: StudyConfig, out: pd.DataFrame, model: pd.Series | None = None
) -> pd.Series:
    """``;``-separated violations per design: the model's, then the study's.

    The study's read ``max_power_w: 512 > 400``, ``min_tokens_per_s: 90 < 100``,
    ``export_class: 3A090.a not allowed``, ``memory_count_max: 6 x hbm2e > 4``.
    """
    if model is None:
        model = out["violations"] if "violations" in out else pd.Series("", index=out.index)
    parts = [model.fillna("").astype(str).to_numpy(dtype=object)]
    n = len(out)
    for key, kind, metric, limit in study.bounds:
        c = out[f"constraint_{key}"].to_numpy(dtype=float)
        bad = np.flatnonzero(c > 0)
        col = np.full(n, "", dtype=object)
        if bad.size:
            x = out[metric].to_numpy(dtype=float)[bad]
            sign = ">" if kind == "max" else "<"
            col[bad] = [f"{key}: {_g(v)} {sign} {_g(limit)}" for v in x]
        parts.append(col)
    if "constraint_export_class" in out:
        bad = np.flatnonzero(out["constraint_export_class"].to_numpy() > 0)
        col = np.full(n, "", dtype=object)
        if bad.size:
            col[bad] = [
                f"export_class: {v} not allowed" for v in out["export_class"].to_numpy()[bad]
            ]
        parts.append(col)
    if "constraint_memory_count_max" in out:
        bad = np.flatnonzero(out["constraint_memory_count_max"].to_numpy() > 0)
        col = np.full(n, "", dtype=object)
        caps = study.constraints["memory_count_max"]
        if bad.size:
            mem = out["memory"].to_numpy()[bad]
            cnt = out["memory_count"].to_numpy()[bad]
            col[bad] = [
                f"memory_count_max: {c} x {m} > {caps[m]}" for m, c in zip(mem, cnt, strict=True)
            ]
        parts.append(col)
    obj = out[study.metric_names].to_numpy(dtype=float)
    nan_rows = np.flatnonzero(~np.isfinite(obj).all(axis=1))
    if nan_rows.size:
        col = np.full(n, "", dtype=object)
        col[nan_rows] = "objective_not_finite"
        parts.append(col)
    joined = parts[0].copy()
    extra = [p for p in parts[1:] if any(p)]
    if extra:
        rows = np.flatnonzero(np.logical_or.reduce([p != "" for p in extra]))
        joined[rows] = [
            ";".join(x for x in (parts[0][i], *(p[i] for p in extra)) if x) for i in rows
        ]
    return pd.Series(joined, index=out.index, dtype=object)


def _objective_values(study: StudyConfig, out: pd.DataFrame) -> np.ndarray:
    """Objective matrix with NaN replaced by the worst value (+inf / -inf)."""
    obj = out[study.metric_names].to_numpy(dtype=float)
    worst = np.array([np.inf if d == "minimize" else -np.inf for d in study.directions])
    return np.where(np.isnan(obj), worst, obj)


# ---------------------------------------------------------------------------------------
# Pareto post-processing
# ---------------------------------------------------------------------------------------


def _chip_columns(study: StudyConfig, frame: pd.DataFrame) -> list[str]:
    return [k for k in CHIP_KEYS if k in frame.columns and k != "name"]


def pareto_front(study: StudyConfig, designs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rank the feasible designs and extract the Pareto set.

    Parameters
    ----------
    study : StudyConfig
        Objectives and directions.
    designs : pandas.DataFrame
        Evaluated designs with ``feasible``.

    Returns
    -------
    designs : pandas.DataFrame
        The input with ``pareto_rank`` (``Int64``; NA for infeasible rows).
    pareto : pandas.DataFrame
        Feasible rank-0 designs, one row per distinct design, with ``pareto_rank`` and
        ``crowding_distance``, sorted by the first objective (best first).
    """
    designs = designs.copy()
    feas = designs["feasible"].to_numpy(dtype=bool)
    ranks = pd.array([pd.NA] * len(designs), dtype="Int64")
    if feas.any():
        vals = designs.loc[feas, study.metric_names].to_numpy(dtype=float)
        r = pareto_ranks(vals, study.directions)
        ranks[np.flatnonzero(feas)] = r
    designs["pareto_rank"] = ranks
    front = designs[(designs["pareto_rank"] == 0).fillna(False).to_numpy(dtype=bool)]
    front = front.drop_duplicates(subset=_chip_columns(study, front), keep="first")
    front = front.copy()
    if len(front):
        front["crowding_distance"] = crowding_distance(
            front[study.metric_names].to_numpy(dtype=float)
        )
        first, direction = study.metric_names[0], study.directions[0]
        front = front.sort_values(
            [first, "trial"], ascending=[direction == "minimize", True], kind="stable"
        )
    else:
        front["crowding_distance"] = pd.Series(dtype=float)
    return designs, front.reset_index(drop=True)


# ---------------------------------------------------------------------------------------
# samplers
# ---------------------------------------------------------------------------------------


def _crossover(name: str) -> Any:
    from optuna.samplers import nsgaii

    table = {
        "uniform": nsgaii.UniformCrossover,
        "blxalpha": nsgaii.BLXAlphaCrossover,
        "sbx": nsgaii.SBXCrossover,
        "vsbx": nsgaii.VSBXCrossover,
        "spx": nsgaii.SPXCrossover,
        "undx": nsgaii.UNDXCrossover,
    }
    key = name.lower()
    if key not in table:
        raise DseInputError(
            f"unknown NSGA-II crossover '{name}'"
            + close_match_hint(key, table)
            + f"; known: {', '.join(table)}"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return table[key]()


def _mutation(text: str) -> Any:
    """``"polynomial"`` or ``"polynomial:ETA"`` -> optuna's PolynomialMutation."""
    from optuna.samplers.nsgaii import PolynomialMutation

    name, _, eta = text.partition(":")
    if name.strip().lower() != "polynomial":
        raise DseInputError(
            f'unknown NSGA-II mutation \'{text}\': use "polynomial" or "polynomial:ETA"'
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return PolynomialMutation(eta=float(eta)) if eta else PolynomialMutation()
    except ValueError:
        raise DseInputError(f"NSGA-II mutation '{text}': ETA must be a number >= 0") from None


#: the sampler class of "nsga2" (a name here so that tests can swap in optuna's own)
_fast_nsga2_class = optuna_private.fast_nsga2_class


def make_sampler(
    name: str,
    *,
    seed: int | None,
    constraints_func: Callable[[Any], Sequence[float]] | None = None,
    options: dict[str, Any] | None = None,
) -> Any:
    """Build a seeded optuna sampler by name.

    Parameters
    ----------
    name : str
        ``"nsga2"`` (default of studies; :data:`DEFAULT_NSGA2_OPTIONS`), ``"tpe"``
        (multivariate, constant liar for batches), ``"gp"`` or ``"random"``.
    seed : int or None
        Sampler seed.
    constraints_func : callable, optional
        optuna's ``constraints_func`` (ignored by the random sampler).
    options : dict, optional
        Extra keyword arguments of the sampler class; for NSGA-II ``crossover`` may be
        a name (``uniform``, ``sbx``, ``blxalpha``, ``vsbx``, ``spx``, ``undx``) and
        ``mutation`` ``"polynomial"`` or ``"polynomial:ETA"``.

    Returns
    -------
    optuna.samplers.BaseSampler
    """
    import inspect

    import optuna

    options = dict(options or {})
    if name == "nsga2":
        cls = _fast_nsga2_class()
        kwargs = {"constraints_func": constraints_func}
        options = {**DEFAULT_NSGA2_OPTIONS, **options}
        if isinstance(options.get("crossover"), str):
            options["crossover"] = _crossover(options["crossover"])
        if isinstance(options.get("mutation"), str):
            options["mutation"] = _mutation(options["mutation"])
    elif name == "tpe":
        cls = optuna.samplers.TPESampler
        kwargs = {"multivariate": True, "constant_liar": True, "constraints_func": constraints_func}
    elif name == "gp":
        import importlib.util

        if importlib.util.find_spec("torch") is None:
            raise DseInputError(
                "sampler gp needs PyTorch, which is not installed: pip install torch"
            )
        cls = optuna.samplers.GPSampler
        kwargs = {"constraints_func": constraints_func}
    elif name == "random":
        cls = optuna.samplers.RandomSampler
        kwargs = {}
    else:
        raise DseInputError(
            f"unknown sampler '{name}'"
            + close_match_hint(name, SAMPLERS)
            + f"; known: {', '.join(SAMPLERS)}"
        )
    allowed = [
        p
        for p in inspect.signature(cls.__init__).parameters
        if p not in ("self", "seed", "constraints_func")
    ]
    for key in options:
        if key not in allowed:
            raise DseInputError(
                f"unknown option '{key}' of sampler {name}"
                + close_match_hint(key, allowed)
                + f"; known: {', '.join(allowed)}"
            )
    kwargs.update(options)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return cls(seed=seed, **kwargs)
        except (TypeError, ValueError) as exc:
            raise DseInputError(f"sampler {name}: {str(exc).splitlines()[0]}") from None


def _options(study: StudyConfig, sampler: str) -> dict[str, Any]:
    """The study's ``sampler_options`` when ``sampler`` is the study's own sampler, else {}."""
    return dict(study.sampler_options) if sampler == study.sampler else {}


def _batch_size(study: StudyConfig, sampler: str) -> int:
    if sampler == "nsga2":
        return int(
            _options(study, sampler).get(
                "population_size", DEFAULT_NSGA2_OPTIONS["population_size"]
            )
        )
    return _BATCH[sampler]


# ---------------------------------------------------------------------------------------
# durable storage
# ---------------------------------------------------------------------------------------


def _is_journal(spec: str) -> bool:
    return "://" not in spec


def _journal_record_problem(line: bytes) -> str | None:
    """Why one journal line is not an optuna journal record (None when it is one)."""
    import json

    if not line.endswith(b"\n"):
        return "an unfinished last line, a write cut short"
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"bytes that are not UTF-8 text at column {exc.start + 1}"
    try:
        record = json.loads(text)
    except ValueError as exc:
        return f"text that is not JSON: {str(exc).splitlines()[0]}"
    if not isinstance(record, dict) or not isinstance(record.get("op_code"), int):
        return "JSON that is not an optuna journal record, without op_code"
    if record["op_code"] not in optuna_private.journal_op_codes():
        return f"an operation optuna does not know, op_code {record['op_code']}"
    return None


def _journal_lines(data: bytes) -> list[tuple[int, bytes]]:
    """(byte offset, line with its newline) of every line of a journal's bytes."""
    lines, start = [], 0
    while start < len(data):
        end = data.find(b"\n", start)
        end = len(data) if end < 0 else end + 1
        lines.append((start, data[start:end]))
        start = end
    return lines


def _check_journal(path: Path) -> str | None:
    """Check a journal file before optuna reads it; set a damaged tail aside.

    A damaged tail (a write cut short by a kill or power loss, bytes appended by
    something else) is moved, byte for byte, to ``<journal>.damaged-<UTC time>`` and
    cut from the journal: the records before it are the study. Only the tail is read
    here (back from the end to the last valid record); damage inside the file is found
    when optuna reads it (:func:`_journal_damage` then names the line).

    Returns
    -------
    str or None
        The warning line to print when a tail was set aside.

    Raises
    ------
    DseInputError
        The file holds no optuna journal record at all (a foreign file).
    """
    size = path.stat().st_size if path.exists() else 0
    if size == 0:
        return None
    window = 1 << 20
    with path.open("rb") as fh:
        while True:  # read back from the end until a valid record (or the start)
            start = max(0, size - window)
            fh.seek(start)
            lines = _journal_lines(fh.read(size - start))
            if start > 0:
                lines = lines[1:]  # may begin mid-line
            cut = len(lines)
            while cut > 0 and _journal_record_problem(lines[cut - 1][1]) is not None:
                cut -= 1
            if cut > 0 or start == 0:
                break
            window *= 4
    if cut == len(lines):
        return None
    if cut == 0:
        why = _journal_record_problem(lines[0][1])
        raise DseInputError(
            f"{path} is not an optuna journal: line 1 holds {why}; give another --out or "
            "--storage, or move the file away"
        )
    offset = start + lines[cut][0]
    why = _journal_record_problem(lines[cut][1])
    with path.open("rb") as fh:
        fh.seek(offset)
        damaged = fh.read()
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = path.with_name(f"{path.name}.damaged-{stamp}")
    aside.write_bytes(damaged)
    with path.open("rb+") as fh:
        fh.truncate(offset)
        fh.flush()
        os.fsync(fh.fileno())
    return (
        f"warning: {path}: {len(damaged):,} damaged bytes at its end ({why}) moved to "
        f"{aside.name}; the records before them are kept"
    )


def _journal_damage(path: Path, exc: BaseException) -> DseInputError:
    """The one-line error for a journal optuna could not read."""
    lines = _journal_lines(path.read_bytes()) if path.exists() else []
    for number, (_, line) in enumerate(lines, start=1):
        why = _journal_record_problem(line)
        if why is not None:
            return DseInputError(
                f"{path} is damaged: line {number} of {len(lines)} holds {why}, and records "
                "follow it; restore the file from a copy, or move it away to start the study afresh"
            )
    msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return DseInputError(
        f"{path} is not a journal of optuna studies this dse can read ({type(exc).__name__}: {msg}); "
        "give another --out or --storage, or move the file away"
    )


@contextlib.contextmanager
def _journal_lock(path: str):
    """An exclusive lock on a journal file (POSIX ``flock``; nothing where there is none)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(path, "ab") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NA or value is None:
        return None
    return value


class _Durable:
    """The durable optuna storage of a study: a journal file or any storage URL.

    Several processes may write one storage (``--workers``, or two ``dse run`` started
    on the same folder): :meth:`add` stores a batch only up to the study's total
    (``target``), counting every writer's trials; on a journal file the count and the
    append happen under one file lock, so the total is exact.
    """

    #: exceptions of optuna's journal reader on a file it cannot read
    _READ_ERRORS = (
        UnicodeDecodeError,
        ValueError,
        KeyError,
        TypeError,
        AttributeError,
        IndexError,
        AssertionError,
    )

    def __init__(self, spec: str, worker: str = "") -> None:
        import optuna

        self.spec = spec
        self.worker = worker
        self.journal = _is_journal(spec)
        if self.journal:
            from optuna.storages.journal import JournalFileBackend, JournalStorage

            path = Path(spec)
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.is_dir():
                raise DseInputError(f"storage {path} is a folder, not a journal file")
            if optuna_private.remove_stale_symlink_lock(str(path)):
                warnings.warn(
                    f"removed {path}.lock, a lock left by a killed run (locks here die with their process)",
                    RuntimeWarning, stacklevel=2,
                )  # fmt: skip
            self.backend = JournalFileBackend(str(path), lock_obj=optuna_private.process_lock(str(path)))
            try:
                self.storage = JournalStorage(self.backend)
            except self._READ_ERRORS as exc:
                raise _journal_damage(path, exc) from None
        else:
            try:
                self.storage = optuna.storages.get_storage(spec)
            except Exception as exc:  # noqa: BLE001 - any driver error is a user error here
                msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                raise DseInputError(f"cannot open storage '{spec}': {msg}") from None
        self.study_id: int | None = None
        self.study: Any = None
        self.n_seen = 0  # storage trials seen by this process (trial ids in order)
        self.n_stored = 0  # complete trials in the storage, as far as this process knows
        self.others: list[Any] = []  # other writers' trials read, not yet taken
        self.shared = False  # another writer's trial was seen since the first read
        self._size_mark = -1  # journal size when last read
        self._written = 0  # bytes this process appended since

    def open(self, config: StudyConfig, *, create: bool) -> Any:
        if not self.journal:
            return self._open(config, create=create)
        with _journal_lock(self.spec):
            try:
                return self._open(config, create=create)
            except self._READ_ERRORS as exc:
                if isinstance(exc, DseInputError):
                    raise
                raise _journal_damage(Path(self.spec), exc) from None

    def _open(self, config: StudyConfig, *, create: bool) -> Any:
        import optuna

        names = [s.study_name for s in self.storage.get_all_studies()]
        fp = config.fingerprint()
        if config.name in names:
            study = optuna.load_study(study_name=config.name, storage=self.storage)
            stored = study.user_attrs.get("dse:fingerprint")
            if stored != fp:
                raise DseInputError(
                    f"storage {self.spec} already holds a study '{config.name}' with a different "
                    "workload, objectives, space or constraints; use another --out or --storage"
                )
        elif not create:
            raise DseInputError(f"storage {self.spec} holds no study '{config.name}'")
        else:
            directions = config.directions
            try:
                study = optuna.create_study(
                    storage=self.storage,
                    study_name=config.name,
                    directions=directions,
                    load_if_exists=True,
                )
            except Exception as exc:  # noqa: BLE001
                raise DseInputError(
                    f"cannot create study in storage '{self.spec}': {str(exc).splitlines()[0]}"
                ) from None
            if "dse:fingerprint" not in study.user_attrs:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    study.set_metric_names(config.metric_names)
                study.set_user_attr("dse:fingerprint", fp)
                study.set_user_attr("dse:config", config.to_dict())
                study.set_user_attr("dse:constraint_names", config.constraint_names)
        self.study = study
        self.study_id = optuna_private.study_id(study)
        return study

    def new_trials(self) -> list[Any]:
        """Finished trials appended since the last call (any worker)."""
        from optuna.trial import TrialState

        if self.journal:
            self._size_mark = os.path.getsize(self.spec)
            self._written = 0
        try:
            trials = self.storage.get_all_trials(self.study_id, deepcopy=False)
        except self._READ_ERRORS as exc:
            if not self.journal:
                raise
            raise _journal_damage(Path(self.spec), exc) from None
        fresh = trials[self.n_seen :]
        self.n_seen = len(trials)
        return [t for t in fresh if t.state == TrialState.COMPLETE]

    def load(self) -> list[Any]:
        """The stored complete trials at the start of a run (sets the count)."""
        old = self.new_trials()
        self.n_stored = len(old)
        return old

    def _sync(self) -> None:
        """Read the other writers' new trials into ``others`` (a journal only when it grew)."""
        if self.journal and self.sole_writer():
            return
        fresh = [t for t in self.new_trials() if t.system_attrs.get(_ORIGIN) != self.worker]
        if fresh:
            self.shared = True
            self.others.extend(fresh)
            self.n_stored += len(fresh)

    def take_others(self) -> list[Any]:
        """The other writers' trials read since the last call (read the storage first)."""
        if self.journal:
            with _journal_lock(self.spec):
                self._sync()
        else:
            self._sync()
        others, self.others = self.others, []
        return others

    def complete(self) -> list[Any]:
        from optuna.trial import TrialState

        return self.storage.get_all_trials(
            self.study_id, deepcopy=False, states=(TrialState.COMPLETE,)
        )

    def n_complete(self) -> int:
        return len(self.complete())

    def add(self, trials: list[Any], target: int | None = None) -> int:
        """Store finished trials, at most up to ``target`` complete trials in the storage.

        A journal gets one record per trial in one write + fsync, under the journal's
        lock after reading the other writers' trials, so the study never exceeds
        ``target``; other storages are read first and then written (several writers
        may then exceed ``target`` by less than a batch each).

        Returns
        -------
        int
            Trials stored (the first ones of ``trials``); fewer than given once the
            study holds ``target``.
        """
        if not trials:
            return 0
        if not self.journal:
            self._sync()
            if target is not None:
                trials = trials[: max(0, target - self.n_stored)]
            if trials:
                self.study.add_trials(trials)
            self.n_stored += len(trials)
            return len(trials)
        with _journal_lock(self.spec):
            self._sync()
            if target is not None:
                trials = trials[: max(0, target - self.n_stored)]
            if trials:
                self._append(trials)
            self.n_stored += len(trials)
        return len(trials)

    def _append(self, trials: list[Any]) -> None:
        worker = f"dse-{os.getpid()}"
        logs = [optuna_private.create_trial_record(t, self.study_id, worker) for t in trials]
        before = os.path.getsize(self.spec)
        self.backend.append_logs(logs)
        self._written += os.path.getsize(self.spec) - before

    def sole_writer(self) -> bool:
        """Whether only this process appended to the journal since the last read."""
        return (
            self.journal
            and self._size_mark >= 0
            and os.path.getsize(self.spec) == self._size_mark + self._written
        )


def _storage_spec(storage: str | None, out: str | Path | None) -> str | None:
    if storage is not None:
        text = str(storage)
        if "://" in text:
            return text
        if not text.endswith(_JOURNAL_SUFFIXES):
            raise DseInputError(
                f"storage '{text}': give an optuna URL (sqlite:///x.db, postgresql://...) or a journal file path ending in .journal or .log"
            )
        return str(Path(text).resolve())
    if out is not None:
        return str((Path(out) / "study.journal").resolve())
    return None


# ---------------------------------------------------------------------------------------
# the optuna loop
# ---------------------------------------------------------------------------------------


@contextlib.contextmanager
def _quiet_optuna():
    import optuna

    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        try:
            yield
        finally:
            optuna.logging.set_verbosity(level)


def _worker_seed(seed: int, index: int, completed: int) -> int:
    # a fresh run uses seed + index; a resumed one also mixes in the count, so a
    # resumed random sampler does not replay the first run's points (a single-worker
    # run that finds its sampler's state in the storage continues from that instead)
    return int(seed + index + 1_000_003 * completed) % (2**32)


def _rng_tag(config: StudyConfig, sampler_name: str, seed: int) -> str:
    """What a stored sampler state belongs to: the sampler, its options and the run's
    seed (a resume with another seed, sampler or options starts a stream of its own)."""
    import json

    return json.dumps([sampler_name, int(seed), _options(config, sampler_name)], sort_keys=True, default=str)


def _rng_checkpoint(sampler: Any, tag: str) -> dict[str, Any]:
    """The sampler's random state after a batch, stored with the batch's last trial."""
    return {"tag": tag, "state": optuna_private.sampler_rng_state(sampler)}


def _restore_rng(sampler: Any, trial: Any, tag: str) -> bool:
    """Continue the random stream of the run that stored ``trial`` (the storage's last
    trial), if it stored its sampler's state under the same tag."""
    saved = trial.system_attrs.get(_RNG_ATTR)
    if not isinstance(saved, dict) or saved.get("tag") != tag:
        return False
    return optuna_private.set_sampler_rng_state(sampler, saved.get("state"))


def _loop(
    config: StudyConfig,
    durable: _Durable | None,
    *,
    target: int,
    quota: int,
    seed: int,
    sampler_name: str,
    worker: str,
    evaluate: Callable[..., pd.DataFrame] | None,
    progress: Callable[[int, np.ndarray, np.ndarray], None] | None,
    frames: list[pd.DataFrame] | None = None,
    state: dict[str, Any] | None = None,
    checkpoint: str | None = None,
) -> int:
    """Ask/evaluate/tell/persist batches until this worker's quota is done.

    Before each batch the other writers' new trials are loaded into the sampler (on a
    journal only when it grew); the loop stops when the storage holds ``target``
    trials, whoever wrote them. The evaluated batches are collected in ``frames`` with
    their storage trial numbers (valid while ``durable.shared`` is False: nobody else
    wrote), and ``state["old"]`` holds the trials stored before.
    ``progress(n, objective_values, feasible)`` is called after each batch.

    With ``checkpoint`` (a tag from :func:`_rng_tag`; single-worker runs) the loop
    continues the run that stored the last trial: the sampler's random state stored
    with that trial is restored when its tag matches, batches end at multiples of the
    batch size counted from trial 0 (the batches of an uninterrupted run), and the last
    trial of each stored batch carries the state after it.
    """
    import optuna

    pending: dict[int, tuple[float, ...]] = {}

    def constraints_func(trial: Any) -> tuple[float, ...]:
        return pending.pop(trial.number)

    sampler = make_sampler(
        sampler_name,
        seed=seed,
        constraints_func=constraints_func,
        options=_options(config, sampler_name),
    )
    mem = optuna.create_study(directions=config.directions, sampler=sampler)
    dists = {name: p.distribution() for name, p in config.space.items()}
    tech = config.load_tech()
    batch = _batch_size(config, sampler_name)
    metric_cols: list[str] | None = None
    attr_names: dict[str, str] = {}
    done = 0
    base = 0
    head: list[Any] = []  # stored trials of an unfinished batch (checkpoint: evaluated again)
    if durable is not None:
        durable.worker = worker
        old = durable.load()
        if old:
            mem.add_trials(old)
            if checkpoint is not None:
                _restore_rng(sampler, old[-1], checkpoint)
                head = old[len(old) - len(old) % batch :]
        base = durable.n_seen
        if state is not None:
            state["old"] = old
    while done < quota:
        if durable is not None and done:
            others = durable.take_others()
            if others:
                mem.add_trials(others)
        b = (
            min(batch, quota - done, target - durable.n_stored)
            if durable is not None
            else min(batch, quota - done)
        )
        if checkpoint is not None and durable is not None:
            b = min(b, batch - durable.n_stored % batch)
        if b <= 0:
            break
        trials = [mem.ask(dists) for _ in range(b)]
        params = pd.DataFrame([t.params for t in trials], columns=list(config.space))
        if head:
            # the batch's stored trials go first, so each new design sits where the
            # uninterrupted run evaluated it (numpy's vectorised maths can round the
            # last bit differently at another position of a batch)
            params = pd.concat([pd.DataFrame([t.params for t in head], columns=list(config.space)), params], ignore_index=True)
            out = evaluate_designs(config, params, evaluate=evaluate, tech=tech).iloc[len(head) :].reset_index(drop=True)
            head = []
        else:
            out = evaluate_designs(config, params, evaluate=evaluate, tech=tech)
        if metric_cols is None:
            metric_cols = [
                c for c in out.columns if c not in config.space and c not in config.fixed
            ]
            attr_names = {c: output_name(c) for c in metric_cols}
        values = _objective_values(config, out)
        cons = out[[f"constraint_{n}" for n in config.constraint_names]].to_numpy(dtype=float)
        records = out[metric_cols].to_dict(orient="records")
        for i, t in enumerate(trials):
            pending[t.number] = tuple(float(c) for c in cons[i])
            mem.tell(t, values[i].tolist())
            pending.pop(t.number, None)
        if durable is not None:
            told = [optuna_private.stored_trial(mem, t) for t in trials]
            frozen = []
            for i, t in enumerate(told):
                ua = {attr_names[k]: _jsonable(v) for k, v in records[i].items()}
                sa = dict(t.system_attrs)
                sa[optuna_private.CONSTRAINTS_ATTR] = [float(c) for c in cons[i]]
                sa[_ORIGIN] = worker
                if checkpoint is not None and i == len(told) - 1:
                    sa[_RNG_ATTR] = _rng_checkpoint(sampler, checkpoint)
                frozen.append(
                    optuna.trial.FrozenTrial(
                        number=-1,
                        trial_id=-1,
                        state=t.state,
                        value=None,
                        values=t.values,
                        datetime_start=t.datetime_start,
                        datetime_complete=t.datetime_complete,
                        params=t.params,
                        distributions=t.distributions,
                        user_attrs=ua,
                        system_attrs=sa,
                        intermediate_values={},
                    )
                )
            stored = durable.add(frozen, target)
            if stored < b:  # the study is complete (other writers): drop the rest
                out = out.iloc[:stored]
                values = values[:stored]
                b = stored
        if frames is not None and b:
            numbers = (
                [t.number for t in trials]
                if durable is None
                else list(range(base + done, base + done + b))
            )
            out.insert(0, "trial", numbers)
            frames.append(out)
        done += b
        if progress is not None and b:
            progress(b, values, out["feasible"].to_numpy(dtype=bool))
        if b == 0:
            break
    return done


def _worker_main(
    config: StudyConfig,
    spec: str,
    target: int,
    quota: int,
    seed: int,
    sampler_name: str,
    worker: str,
    evaluate: Callable[..., pd.DataFrame] | None,
) -> None:
    """Entry point of a `--workers` process."""
    try:
        with _quiet_optuna():
            durable = _Durable(spec)
            durable.open(config, create=False)
            _loop(
                config,
                durable,
                target=target,
                quota=quota,
                seed=seed,
                sampler_name=sampler_name,
                worker=worker,
                evaluate=evaluate,
                progress=None,
            )
    except KeyboardInterrupt:
        sys.exit(130)


def _designs_from_trials(config: StudyConfig, trials: list[Any]) -> pd.DataFrame:
    rows = []
    for t in trials:
        row = {"trial": t.number, **t.params}
        # user attributes carry the unit in their name (output_name); older stores not
        row.update({input_name(k): v for k, v in t.user_attrs.items()})
        rows.append(row)
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    for key, value in config.fixed.items():
        if key not in frame:
            frame[key] = value
    for col in ("feasible", "model_feasible", "weights_resident"):
        if col in frame:
            frame[col] = frame[col].fillna(False).astype(bool)
    for col in frame.columns:
        if (
            col in METRICS
            and METRICS[col].kind in ("float", "int")
            or col.startswith("constraint_")
        ):
            frame[col] = pd.to_numeric(frame[col], errors="coerce")
    if "violations" in frame:
        frame["violations"] = frame["violations"].fillna("")
    return _order_columns(config, frame)


def _order_columns(config: StudyConfig, frame: pd.DataFrame) -> pd.DataFrame:
    lead = ["trial"] + [k for k in CHIP_KEYS if k in frame.columns]
    metrics = [m for m in METRICS if m in frame.columns and m not in ("feasible", "violations")]
    cons = [c for c in frame.columns if c.startswith("constraint_")]
    tail = ["model_feasible", "feasible", "violations", "pareto_rank", "crowding_distance"]
    cols = list(dict.fromkeys(lead + metrics + cons + [c for c in tail if c in frame.columns]))
    return frame[cols + [c for c in frame.columns if c not in cols]]


def run_study(
    study: StudyConfig | str | Path,
    *,
    trials: int | None = None,
    storage: str | None = None,
    workers: int = 1,
    out: str | Path | None = None,
    seed: int | None = None,
    sampler: str | None = None,
    progress: bool = True,
    evaluate: Callable[..., pd.DataFrame] | None = None,
) -> StudyResult:
    """Run (or resume) an optuna multi-objective study.

    Parameters
    ----------
    study : StudyConfig or path
        The study (a path is loaded with :func:`dse.study.load_study`).
    trials : int, optional
        Total number of trials the study should hold when done (default: the study's
        ``trials``); a resumed study continues up to it.
    storage : str, optional
        optuna storage URL (``sqlite:///x.db``, ``postgresql://...``) or a journal
        file path (``*.journal`` / ``*.log``). Default: ``OUT/study.journal`` when
        ``out`` is given, else in memory (not resumable).
    workers : int
        Processes on the same storage (needs a storage or ``out``).
    out : str or pathlib.Path, optional
        Output folder (holds the default storage; files are written by
        :func:`dse.report.write_outputs`, see :func:`cmd_run`).
    seed : int, optional
        Sampler seed (default: the study's); worker ``i`` uses ``seed + i``.
    sampler : str, optional
        ``nsga2``, ``tpe``, ``gp`` or ``random`` (default: the study's).
    progress : bool
        Show a progress bar on stderr (a widget in Jupyter when ipywidgets is
        installed): trials done, rate, ETA, the feasible count, the number of
        Pareto-optimal designs so far and the best feasible value of each objective.
    evaluate : callable, optional
        Replacement for :func:`dse.evaluate_many` (``evaluate(designs, workload,
        tech=...)``; must be picklable with ``workers > 1``).

    Returns
    -------
    StudyResult
    """
    config = study if isinstance(study, StudyConfig) else load_study(study)
    target = config.trials if trials is None else int(trials)
    if target < 1:
        raise DseInputError(f"--trials must be >= 1, got {target}")
    if workers < 1:
        raise DseInputError(f"--workers must be >= 1, got {workers}")
    seed = config.seed if seed is None else int(seed)
    sampler_name = (sampler or config.sampler).lower()
    if sampler_name not in SAMPLERS:
        raise DseInputError(
            f"unknown sampler '{sampler_name}'"
            + close_match_hint(sampler_name, SAMPLERS)
            + f"; known: {', '.join(SAMPLERS)}"
        )
    make_sampler(
        sampler_name, seed=seed, options=_options(config, sampler_name)
    )  # validate options early
    spec = _storage_spec(storage, out)
    if workers > 1 and spec is None:
        raise DseInputError("--workers > 1 needs a storage (--storage or --out)")

    with _quiet_optuna():
        t0 = time.perf_counter()
        if spec is None:
            frames: list[pd.DataFrame] = []
            bar = _Progress(config, target, 0, enabled=progress)
            n_new = _loop(
                config,
                None,
                target=target,
                quota=target,
                seed=seed,
                sampler_name=sampler_name,
                worker="0",
                evaluate=evaluate,
                progress=bar.step,
                frames=frames,
            )
            bar.close()
            elapsed = time.perf_counter() - t0
            designs = pd.concat(frames, ignore_index=True)
            designs = _order_columns(config, designs)
        else:
            if _is_journal(spec):
                path = Path(spec)
                if path.is_dir():
                    raise DseInputError(f"storage {path} is a folder, not a journal file")
                path.parent.mkdir(parents=True, exist_ok=True)
                with _journal_lock(spec):
                    warning = _check_journal(path)
                if warning:
                    print(warning, file=sys.stderr)
            durable = _Durable(spec)
            durable.open(config, create=True)
            stored = durable.complete()
            completed = len(stored)
            remaining = max(0, target - completed)
            bar = _Progress(config, target, min(completed, target), enabled=progress)
            bar.record_trials(stored)
            del stored
            frames = []
            state: dict[str, Any] = {}
            single = workers == 1 and durable.journal
            if remaining == 0:
                n_new = 0
            elif workers == 1:
                n_new = _loop(
                    config, durable, target=target, quota=remaining, seed=_worker_seed(seed, 0, completed),
                    sampler_name=sampler_name, worker=f"{uuid.uuid4().hex[:8]}-0", evaluate=evaluate, progress=bar.step,
                    frames=frames if single else None, state=state, checkpoint=_rng_tag(config, sampler_name, seed),
                )  # fmt: skip
            else:
                n_new = _run_workers(
                    config,
                    spec,
                    durable,
                    target,
                    remaining,
                    completed,
                    workers,
                    seed,
                    sampler_name,
                    evaluate,
                    bar,
                )
            bar.close()
            if single and frames and not durable.shared and durable.sole_writer():
                # nobody else wrote: the trials are the ones loaded plus the batches
                # evaluated here (no need to replay our own journal records)
                old = _designs_from_trials(config, state.get("old", []))
                designs = (
                    pd.concat([old, *frames], ignore_index=True)
                    if len(old)
                    else pd.concat(frames, ignore_index=True)
                )
                designs = _order_columns(config, designs)
            else:
                designs = _designs_from_trials(config, durable.complete())
            elapsed = time.perf_counter() - t0
    designs, pareto = pareto_front(config, designs)
    return StudyResult(
        study=config,
        designs=designs,
        pareto=pareto,
        kind="optuna",
        storage=spec,
        elapsed=elapsed,
        trials_per_s=n_new / elapsed if elapsed > 0 else math.nan,
        n_new=n_new,
        n_evaluated=len(designs),
        n_feasible=int(designs["feasible"].sum()) if len(designs) else 0,
        sampler=sampler_name,
        seed=seed,
        workers=workers,
    )


def _run_workers(
    config: StudyConfig,
    spec: str,
    durable: _Durable,
    target: int,
    remaining: int,
    completed: int,
    workers: int,
    seed: int,
    sampler_name: str,
    evaluate: Callable[..., pd.DataFrame] | None,
    bar: _Progress,
) -> int:
    ctx = multiprocessing.get_context("spawn")
    run_id = uuid.uuid4().hex[:8]
    quotas = [remaining // workers + (1 if i < remaining % workers else 0) for i in range(workers)]
    procs = []
    for i, quota in enumerate(quotas):
        if quota == 0:
            continue
        p = ctx.Process(
            target=_worker_main,
            args=(
                config,
                spec,
                target,
                quota,
                _worker_seed(seed, i, completed),
                sampler_name,
                f"{run_id}-{i}",
                evaluate,
            ),
            daemon=False,
        )
        p.start()
        procs.append(p)
    last = completed

    def poll() -> int:
        nonlocal last
        trials = durable.complete()
        now = len(trials)
        if now > last:
            bar.record_trials(trials[last:])
        bar.update(max(0, min(now, target) - min(last, target)))
        last = now
        return now

    try:
        while any(p.is_alive() for p in procs):
            time.sleep(_POLL_S)
            poll()
        for p in procs:
            p.join()
    except KeyboardInterrupt:
        for p in procs:
            p.join(timeout=10)
            if p.is_alive():
                p.terminate()
        raise
    failed = [p.exitcode for p in procs if p.exitcode != 0]
    now = poll()
    if failed:
        raise RuntimeError(
            f"{len(failed)} of {len(procs)} workers failed (exit codes {failed}); rerun the same command to resume"
        )
    return now - completed


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


# ---------------------------------------------------------------------------------------
# the grid
# ---------------------------------------------------------------------------------------


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
    for p in params:
        if p.n_grid is None:
            p.grid_values()  # raises the one-line error naming the key
    n = int(np.prod([p.n_grid for p in params], dtype=object))
    if n > max_points:
        sizes = " x ".join(f"{p.name} {p.n_grid}" for p in params)
        raise DseInputError(
            f"the space of study '{config.name}' has {n:,} grid points ({sizes}), more than the limit of "
            f"{max_points:,}: coarsen steps / shorten lists, or raise the limit (--max-points, or max_points in dse.grid)"
        )
    shape = tuple(p.n_grid for p in params)
    values = [p.grid_values() for p in params]
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
        codes = np.unravel_index(idx, shape)
        frame = pd.DataFrame({p.name: v[c] for p, v, c in zip(params, values, codes, strict=True)})
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
        vals = front[config.metric_names].to_numpy(dtype=float) if front is not None else ()
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


# ---------------------------------------------------------------------------------------
# command-line entry points (called by dse.cli)
# ---------------------------------------------------------------------------------------


def _default_out(config: StudyConfig, suffix: str = "") -> Path:
    return Path("results") / f"{config.name}{suffix}"


def write_result(result: StudyResult, out: Path) -> list[str]:
    """Write the outputs of a result into ``out`` (:func:`dse.report.write_outputs`).

    Returns
    -------
    list of str
        Names of the files written.
    """
    from dse.report import write_outputs

    files = write_outputs(result, out)
    return [Path(p).name for p in files.values()]


def dashboard_command(storage: str | None) -> str | None:
    """The optuna-dashboard command line for a study's storage (None in memory).

    optuna-dashboard opens a journal file path and any optuna storage URL as they are.
    """
    if not storage:
        return None
    import shlex

    return f"optuna-dashboard {shlex.quote(str(storage))}"


def cmd_run(args: Any) -> int:
    """`dse run STUDY.toml [--trials N] [--storage URL] [--workers N] [--out DIR] [--seed S] [--sampler S]`.

    Parameters
    ----------
    args : argparse.Namespace
        ``study``, ``trials``, ``storage``, ``workers``, ``out``, ``seed``, ``sampler``
        (missing attributes take their defaults).

    Returns
    -------
    int
        Exit code: 0 done, 130 interrupted (trials kept; rerun to resume).
    """
    config = load_study(args.study)
    robust = getattr(args, "robust", None)
    percentile = getattr(args, "percentile", None) or 90.0
    evaluate = None
    suffix = ""
    if robust:
        from dse.analysis.uncertainty import RobustEvaluate

        evaluate = RobustEvaluate(robust, percentile, seed=config.seed)
        suffix = f"-robust{robust}-p{percentile:g}"  # its own storage: other numbers
    out = Path(getattr(args, "out", None) or _default_out(config, suffix))
    storage = getattr(args, "storage", None)
    try:
        result = run_study(
            config,
            trials=getattr(args, "trials", None),
            storage=storage,
            workers=getattr(args, "workers", None) or 1,
            out=out,
            seed=getattr(args, "seed", None),
            sampler=getattr(args, "sampler", None),
            progress=not getattr(args, "quiet", False),
            evaluate=evaluate,
        )
    except KeyboardInterrupt:
        where = storage or out / "study.journal"
        print(
            f"\ninterrupted: finished trials are kept in {where}; run the same command again to resume",
            file=sys.stderr,
        )
        return 130
    files = write_result(result, out)
    from dse.report import convergence_of

    convergence = convergence_of(result)
    if convergence is not None and convergence.warning:
        print(f"warning: {convergence.warning} (convergence.png, summary.md)", file=sys.stderr)
    print(
        f"{result.n_evaluated} trials ({result.n_new} new, {result.trials_per_s:,.0f} trials/s), "
        f"{result.n_feasible} feasible, {len(result.pareto)} Pareto-optimal; storage {result.storage}"
    )
    print(f"browse the trials: {dashboard_command(result.storage)}  (pip install optuna-dashboard)")
    print(f"outputs in {out}/: {', '.join(files)}")
    return 0


def cmd_grid(args: Any) -> int:
    """`dse grid STUDY.toml [--out DIR]`: exhaustive enumeration, same outputs.

    Parameters
    ----------
    args : argparse.Namespace
        ``study``, ``out`` (and optionally ``max_points``).

    Returns
    -------
    int
        Exit code 0.
    """
    config = load_study(args.study)
    out = Path(getattr(args, "out", None) or _default_out(config, "-grid"))
    max_points = getattr(args, "max_points", None) or DEFAULT_GRID_MAX_POINTS
    result = grid(
        config, out=out, max_points=max_points, progress=not getattr(args, "quiet", False)
    )
    files = write_result(result, out)
    print(
        f"{result.n_evaluated:,} grid points ({result.trials_per_s:,.0f}/s), {result.n_feasible:,} feasible, "
        f"{len(result.pareto)} Pareto-optimal"
    )
    print(f"outputs in {out}/: {', '.join(files)}")
    return 0
