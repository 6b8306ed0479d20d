"""A study's designs as tables: evaluating suggested designs, the constraint matrix and violation text, the Pareto front of a result, and the result itself (:class:`StudyResult`)."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from dse.fmt import number as fmt_number
from dse.metrics import METRICS, input_name
from dse.search import conditional
from dse.search.pareto import crowding_distance, distinct_mask, pareto_ranks
from dse.search.study import StudyConfig
from dse.spec import CHIP_KEYS


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


def _default_evaluate(
    designs: pd.DataFrame, workload: str | None, tech: Any = None
) -> pd.DataFrame:
    import dse

    return dse.evaluate_many(designs, workload, tech=tech)


#: designs as columns (key -> one value per design, every column as long): what the
#: local sampler's design check passes for a few designs at a time, without a DataFrame
Columns = dict[str, list[Any]]


def _with_fixed(study: StudyConfig, params: pd.DataFrame | Columns) -> pd.DataFrame | Columns:
    """The designs with the study's fixed keys added (a fixed key wins over a column)."""
    if isinstance(params, dict):
        n = _rows(params)
        return {**params, **{key: [value] * n for key, value in study.fixed.items()}}
    frame = params.copy() if not params.columns.empty else pd.DataFrame(index=params.index)
    for key, value in study.fixed.items():
        frame[key] = value
    return frame


def _rows(designs: pd.DataFrame | Columns) -> int:
    """Designs in a frame or in columns (columns need at least one key)."""
    if isinstance(designs, dict):
        if not designs:
            raise ValueError("designs as columns need at least one column")
        return len(next(iter(designs.values())))
    return len(designs)


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


def design_infeasible(
    study: StudyConfig,
    params: pd.DataFrame | Columns,
    *,
    evaluate: Callable[..., pd.DataFrame] | None = None,
    tech: Any = None,
) -> np.ndarray:
    """Which designs break a limit that their keys decide without running the workload.

    The designs are evaluated without a workload (the chain's geometry, cost and power
    model, a small part of a trial's work) and a design is ruled out when the model finds
    it past the reticle, its package, the node's clock, the die edge its memory PHYs need
    or the largest interposer, or when it breaks a study bound on a metric that needs no
    workload (``max_die_area_mm2``, ``max_unit_cost_usd``, ...), the allowed export
    classes or a memory supply cap; or when its SRAM and memory cannot hold the
    workload's weights and KV cache (the model's ``memory_capacity``: the workload's
    sizes against the design's capacities, :func:`dse.chain.perf.memory_residency`; not
    for ``llm-serve``, whose batch is sized to the memory, nor ``system = "auto"``).
    Each of these holds or fails the same way in the full evaluation, so a design ruled
    out here is never feasible (checked on every study of the project,
    ``tests/test_search_check.py``). Limits that need the workload's run (power,
    temperature, latency) are not looked at.

    Parameters
    ----------
    study : StudyConfig
        The study (fixed keys, constraints).
    params : pandas.DataFrame or dict
        Values of the searched keys, one row per design (or one list per key,
        :data:`Columns`: the same result without building a frame).
    evaluate, tech
        As in :func:`evaluate_designs`.

    Returns
    -------
    numpy.ndarray
        Boolean, True where a design is ruled out.
    """
    designs, out = _without_workload(study, params, evaluate, tech)
    return _ruled_out(study, designs, out)


def _without_workload(
    study: StudyConfig, params: pd.DataFrame | Columns, evaluate: Any, tech: Any
) -> tuple[pd.DataFrame | Columns, Any]:
    """The designs with the study's fixed keys, and the chain's outputs without a
    workload (column -> array), with ``model_fits``: whether the design's memories hold
    the workload's weights and KV cache, where the chain decides that alone
    (:func:`_capacity_fits`)."""
    from dse.chain.api import _rows_to_frame, chip_arrays
    from dse.chain.run import evaluate_arrays
    from dse.constants import default_constants
    from dse.tech import default_tech

    designs = _with_fixed(study, params)
    tech = tech if tech is not None else study.load_tech()
    tech = tech if tech is not None else default_tech()
    d = chip_arrays(designs, tech)
    out: Any
    if evaluate is None:  # the chain's arrays: a sampler checks a few designs at a time
        out = _rows_to_frame(evaluate_arrays(d, None, tech, default_constants()), None)
    else:
        frame = pd.DataFrame(designs) if isinstance(designs, dict) else designs
        out = {k: v.to_numpy() for k, v in evaluate(frame, None, tech=tech).items()}
    out["model_fits"] = _capacity_fits(study, d, out["memory_capacity_gb"])
    return designs, out


@functools.lru_cache(maxsize=16)
def _parsed_workload(text: str) -> Any:
    """The study's workload, parsed once: the design check asks for it every 16 designs
    (a ``Workload`` is immutable)."""
    from dse.workloads import parse_workload

    return parse_workload(text)


def _capacity_fits(study: StudyConfig, d: dict[str, np.ndarray], capacity_gb: Any) -> np.ndarray:
    """False where the design's memories cannot hold the study's workload (the chain's
    violation ``memory_capacity``), True elsewhere and wherever the full evaluation may
    decide otherwise: ``llm-serve`` workloads (the batch is sized to the memory) and
    designs with ``system = "auto"`` (a system of chips holds the model)."""
    from dse.chain.perf import memory_residency
    from dse.constants import default_constants

    n = len(d["cores"])
    wl = _parsed_workload(study.workload)
    if wl.serve is not None:
        return np.ones(n, dtype=bool)
    fits = memory_residency(wl, d["sram_mb"], capacity_gb, default_constants())[3]
    return np.asarray(fits, dtype=bool) | (d["system_code"] != 0)


#: what the roofline and the cost model see of a design before the workload: its peak
#: compute, memory bandwidth and capacity, die area, unit cost and idle power
#: (:func:`design_features`)
DESIGN_FEATURES = (
    "peak_tflops",
    "memory_bandwidth_gbps",
    "memory_capacity_gb",
    "die_area_mm2",
    "unit_cost_usd",
    "idle_power_w",
)


def design_features(
    study: StudyConfig, params: pd.DataFrame | Columns, *, tech: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    """The designs :func:`design_infeasible` rules out, and the natural logarithms of
    their :data:`DESIGN_FEATURES` (n, 6; NaN where the chain gives none), from one pass
    of the chain without the workload."""
    designs, out = _without_workload(study, params, None, tech)
    cols = []
    for name in DESIGN_FEATURES:
        x = np.asarray(out[name], dtype=float) if name in out else np.full(_rows(designs), np.nan)
        cols.append(np.log(np.where(x > 0.0, x, np.nan)))
    return _ruled_out(study, designs, out), np.column_stack(cols)


def _ruled_out(study: StudyConfig, designs: pd.DataFrame | Columns, out: Any) -> np.ndarray:
    """True where the chain's outputs without a workload break a limit (see
    :func:`design_infeasible`)."""
    bad = ~np.asarray(out["feasible"], dtype=bool) | ~np.asarray(out["model_fits"], dtype=bool)
    for _key, kind, metric, limit in study.bounds:
        spec = METRICS.get(metric)
        if spec is None or spec.needs_workload or metric not in out:
            continue
        bad |= _bound_excess(kind, out[metric], limit) > 0  # NaN: not ruled out
    allowed = study.constraints.get("export_class")
    if allowed:
        bad |= ~np.isin(np.asarray(out["export_class"], dtype=object), list(allowed))
    caps = study.constraints.get("memory_count_max")
    if caps:
        bad |= _cap_excess(caps, designs) > 0
    return bad


def _bound_excess(kind: str, values: Any, limit: float) -> np.ndarray:
    """A ``max_`` / ``min_`` limit's relative excess: (x - limit) / |limit| or
    (limit - x) / |limit| (a limit of 0: the difference); NaN where x is."""
    x = np.asarray(values, dtype=float)
    scale = abs(limit) if limit != 0 else 1.0
    return (x - limit) / scale if kind == "max" else (limit - x) / scale


def _cap_excess(caps: dict[str, int], frame: pd.DataFrame | Columns) -> np.ndarray:
    """A memory supply cap's relative excess, (count - cap) / max(cap, 1); 0 uncapped."""
    if isinstance(frame, dict):  # a few designs as columns: no Series
        cap = np.array([caps.get(str(m), np.nan) for m in frame["memory"]], dtype=float)
    else:
        cap = frame["memory"].astype(str).map(caps).to_numpy(dtype=float)  # NaN where uncapped
    count = np.asarray(frame["memory_count"], dtype=float)
    return np.where(np.isnan(cap), 0.0, (count - cap) / np.maximum(cap, 1.0))


def constraint_matrix(
    study: StudyConfig, out: pd.DataFrame, model_ok: np.ndarray | None = None
) -> np.ndarray:
    """Constraint values per design, columns in ``study.constraint_names`` order.

    Notes
    -----
    ``model``: number of the model's violations (``;``-separated in ``violations``)
    other than the beachfront; ``beachfront``: ``memory_edge_fraction`` - 1, the die edge
    the memory PHYs need beyond the edge they may use (graded, so a search sees how far
    a design is from fitting its memory: 1 / 0 from the text when the column is absent);
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
    edge_bad = np.zeros(n, dtype=bool)
    bad = np.flatnonzero(~model_ok)
    if bad.size:
        text = (
            out["violations"].to_numpy(dtype=object)[bad]
            if "violations" in out
            else [""] * bad.size
        )
        for i, t in zip(bad.tolist(), text, strict=True):
            names = [v for v in str(t).split(";") if v]
            others = [v for v in names if v != "beachfront"]  # it has its own column
            edge_bad[i] = len(others) < len(names)
            model[i] = len(others) if others or edge_bad[i] else 1.0  # unnamed: once
    cols.append(model)
    edge = (
        out["memory_edge_fraction"].to_numpy(dtype=float) - 1.0
        if "memory_edge_fraction" in out
        else np.full(n, np.nan)
    )
    cols.append(np.where(np.isnan(edge), np.where(edge_bad, 1.0, 0.0), edge))
    for _key, kind, metric, limit in study.bounds:
        c = _bound_excess(kind, out[metric], limit)
        absent = 0.0 if metric in METRICS and METRICS[metric].absent_ok else 1.0
        cols.append(np.where(np.isnan(c), absent, c))
    allowed = study.constraints.get("export_class")
    if allowed:
        cols.append(np.where(out["export_class"].isin(allowed).to_numpy(), 0.0, 1.0))
    caps = study.constraints.get("memory_count_max")
    if caps:
        cols.append(_cap_excess(caps, out))
    return np.column_stack(cols) if cols else np.zeros((n, 0))


def _g(x: float) -> str:
    return fmt_number(float(x), grouping=False)


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
    front = front[distinct_mask(front)]
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


def _designs_from_trials(config: StudyConfig, trials: list[Any]) -> pd.DataFrame:
    rows = []
    for t in trials:
        row = {
            "trial": t.number,
            **conditional.design_params(config.space, config.conditions, t.params),
        }
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
