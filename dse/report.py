"""Outputs of a study: Pareto and trial CSVs, a Markdown summary and PNG plots.

:func:`write_outputs` turns a stored study result (``dse.search.StudyResult``: the
study configuration, the ``designs`` of every trial or grid point and the ``pareto``
rows) into the output files of a study (docs/search.md, "Outputs"). It reads results only: it never runs the
search, never imports optuna, and evaluates the model once, for the roofline of the
chosen design. Column headers carry units (:func:`dse.metrics.column_name`).

Files written into ``out_dir``:

``pareto.csv``
    The feasible non-dominated designs: ``trial``, every chip key, every metric,
    ``pareto_rank`` and ``crowding_distance``.
``trials.csv``
    Every trial / grid point, up to :data:`TRIALS_CSV_MAX_ROWS` rows. A larger grid is
    reduced to: every Pareto row, then every other feasible row, then infeasible rows,
    the last tier that does not fit being a seeded uniform sample; ``summary.md`` says
    so. (A million rows is ~0.3 GB of CSV; the exact front is in ``pareto.csv``.) The
    grid search itself already keeps a bounded sample of its points in ``designs``
    (``dse.search.GRID_KEEP_ROWS``); the summary then reports the search's own counts.
``summary.md``
    The study, the counts, the chosen design, the best design per objective, what made
    designs infeasible and which limits bind at the best designs.
``pareto.csv.meta.json``, ``trials.csv.meta.json``
    A sidecar per CSV (:func:`csv_metadata`): the dse version, the time it was written,
    the command line and an equivalent ``dse`` command to rerun it, the study file with
    its SHA-256 and its whole configuration, scenario, seed, sampler, trial count,
    workload, storage, and the Python / numpy / pandas / scipy / optuna versions; so a
    CSV found later can be traced and rerun. (A ``#`` comment header would break naive
    CSV readers, hence the sidecar.)
``pareto_fronts.png``, ``roofline.png``, ``thermal_map.png``, ``node_fronts.png``, ``parallel_coordinates.png``
    See :mod:`dse.plotting`.
``convergence.png``
    An optuna search only: the feasible front's hypervolume against trials, relative to
    the best-known front (:func:`convergence_of`); ``summary.md`` tabulates it and warns
    when the last 20 % of the trials still moved it by more than 1 %.

Column names carry their unit (:func:`output_name`); the same names label the metrics
stored as optuna trial user attributes, so optuna-dashboard and the CSVs agree.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import math
import platform
import re
import shlex
import subprocess
import sys
import textwrap
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dse.category_fronts import category_fronts, summary_lines, write_figures
from dse.csv_notes import mark_chosen
from dse.csv_notes import notes as csv_notes
from dse.fmt import CSV_FLOAT_FORMAT, number
from dse.metrics import METRICS, column_name, unit_of
from dse.spec import CHIP_KEYS

__all__ = [
    "METADATA_SUFFIX",
    "NEAR_BINDING",
    "TRIALS_CSV_MAX_ROWS",
    "binding_constraints",
    "chip_from_row",
    "choose_design",
    "convergence_of",
    "csv_metadata",
    "input_name",
    "output_columns",
    "output_name",
    "read_csv_metadata",
    "rerun_command",
    "summary_markdown",
    "trials_for_csv",
    "violation_category",
    "violation_counts",
    "write_outputs",
]

#: trials.csv holds at most this many rows (see the module docstring)
TRIALS_CSV_MAX_ROWS = 1_000_000
#: the metadata sidecar of ``x.csv`` is ``x.csv`` + this
METADATA_SUFFIX = ".meta.json"
#: format version of the sidecar (bumped when a field changes meaning)
METADATA_FORMAT = 1
#: packages whose versions the sidecar records
_ENV_PACKAGES = ("numpy", "pandas", "scipy", "optuna")
#: units of the constraint columns (value <= 0: satisfied; see dse.search.constraint_matrix)
_CONSTRAINT_UNITS = {
    "model": "violations",
    "export_class": "flag",
    "memory_count_max": "fraction of cap",
}
#: a limit is "near-binding" when the design is within this fraction of it
NEAR_BINDING = 0.05
#: below this relative slack a limit is reported as "active"
_ACTIVE = 1e-3

#: columns placed after the metrics, in this order, when present
_TRAILING = ("pareto_rank", "crowding_distance", "feasible", "violations")
#: chip keys that override derived values; written only when the study sets them, since
#: the metric of the same name holds the derived value
_OVERRIDE_KEYS = ("memory_bandwidth_gbps", "memory_capacity_gb")

#: constraint categories in report order, with the words that identify them in a
#: violation or constraint name (first match wins, so "reticle" precedes "area")
_CATEGORIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("reticle", ("reticle",)),
    ("thermal runaway", ("runaway",)),
    ("package", ("package", "interposer")),
    ("beachfront (memory PHYs beyond the die edge)", ("beachfront",)),
    ("power delivery", ("power_delivery", "supply_current")),
    ("memory temperature", ("memory_temp",)),
    ("lifetime", ("lifetime",)),
    ("system size", ("system_size",)),
    ("latency targets (TTFT / TPOT)", ("slo",)),
    ("timing (clock beyond the node)", ("timing",)),
    ("die area", ("area",)),
    ("junction temperature (Tj)", ("junction", "tj_")),
    ("power", ("power", "tdp")),
    ("memory supply cap", ("memory_count",)),
    ("memory capacity", ("capacity",)),
    ("export class", ("export", "tpp", "3a090")),
    ("node not allowed", ("node",)),
    ("memory not allowed", ("memory",)),
    ("throughput / latency", ("tokens", "throughput", "latency")),
    ("energy", ("energy",)),
    ("cost", ("cost", "usd")),
    ("objective not finite", ("not_finite",)),
)

#: what the violations the model and the search write mean
_MEANING = {
    "reticle": "die larger than the node's reticle field (model)",
    "memory_capacity": "weights + KV cache do not fit in memory (model)",
    "power": "over the TDP or the hot-spot Tj limit even at the lowest DVFS clock (model)",
    "timing": "clock_ghz needs more than the node's V_max (alpha-power law through the node's f_max) (model)",
    "thermal_runaway": "no leakage-temperature fixed point (model)",
    "package": "multi-die package not buildable: uneven split over the dies, or HBM on an organic substrate (model)",
    "interposer_size": "the interposer (dies and HBM stacks) above the largest one made, 2,700 mm2 (model)",
    "beachfront": "more memory PHYs than the die's edge holds (HBM on the long edges) (model)",
    "power_delivery": "supply current above what the bumps carry per mm2 of silicon (model)",
    "memory_temp": "memory above its maximum operating temperature (model)",
    "min_lifetime_years": "wear-out lifetime below the study's target",
    "system_size": "no system of up to 100,000 chips holds the model's weights and KV cache (model)",
    "slo": "no batch of running requests meets the workload's TTFT and TPOT targets (llm-serve) (model)",
    "export_class": "ECCN 3A090 class not allowed (study / scenario)",
    "memory_count_max": "more memory units than the scenario's supply cap",
    "objective_not_finite": "an objective is NaN or infinite for this workload",
}


# --------------------------------------------------------------------------------------
# choosing a design
# --------------------------------------------------------------------------------------
def _directions(objectives: Mapping[str, str]) -> dict[str, str]:
    from dse.plotting import normalise_direction

    return {k: normalise_direction(v) for k, v in objectives.items()}


def _knee_distance(frame: pd.DataFrame, objectives: Mapping[str, str]) -> np.ndarray:
    dirs = _directions(objectives)
    cols = []
    for name, d in dirs.items():
        v = pd.to_numeric(frame[name], errors="coerce").to_numpy(float)
        v = v if d == "minimize" else -v
        lo, hi = np.nanmin(v), np.nanmax(v)
        cols.append((v - lo) / (hi - lo) if hi > lo else np.zeros_like(v))
    z = np.column_stack(cols) if cols else np.zeros((len(frame), 1))
    return np.sqrt(np.nansum(z**2, axis=1) + np.where(np.isnan(z).any(axis=1), np.inf, 0.0))


def choose_design(pareto: pd.DataFrame, objectives: Mapping[str, str]) -> pd.Series:
    """Pick "the chosen Pareto design": the knee, closest to the ideal point.

    Parameters
    ----------
    pareto : pandas.DataFrame
        Non-dominated designs with a column per objective (and optionally
        ``pareto_rank``: only rows of the lowest rank are considered).
    objectives : mapping
        ``{metric: "minimize" | "maximize"}``.

    Returns
    -------
    pandas.Series
        The chosen row (its ``name`` is its index label in ``pareto``).

    Raises
    ------
    ValueError
        If ``pareto`` is empty.

    Notes
    -----
    Each objective is turned into one to minimise and scaled to [0, 1] over the
    candidates, z_m = (f_m - min f_m) / (max f_m - min f_m) (0 for a constant
    objective). The ideal point is z = 0; the chosen design minimises the Euclidean
    distance ||z||_2. Ties go to the first row in ``pareto`` order. With one objective
    this is simply the best design.
    """
    if len(pareto) == 0:
        raise ValueError("no Pareto design to choose from")
    cand = pareto
    if "pareto_rank" in pareto.columns:
        ranks = pd.to_numeric(pareto["pareto_rank"], errors="coerce")
        if ranks.notna().any():
            cand = pareto[ranks == ranks.min()]
    dist = _knee_distance(cand, objectives)
    return cand.iloc[int(np.argmin(dist))]


def _best_rows(pareto: pd.DataFrame, objectives: Mapping[str, str]) -> dict[str, pd.Series]:
    """Best row per objective; ties broken by the knee rule among the tied rows."""
    best = {}
    for name, d in _directions(objectives).items():
        v = pd.to_numeric(pareto[name], errors="coerce")
        if not v.notna().any():
            continue
        target = v.min() if d == "minimize" else v.max()
        tied = pareto[v == target]
        best[name] = choose_design(tied, objectives) if len(tied) > 1 else tied.iloc[0]
    return best


# --------------------------------------------------------------------------------------
# CSV columns
# --------------------------------------------------------------------------------------
def output_columns(frame: pd.DataFrame) -> list[str]:
    """Column order of the CSVs: trial, chip keys, metrics, rank/crowding, the rest.

    Parameters
    ----------
    frame : pandas.DataFrame
        Designs (columns named by chip keys and metrics).

    Returns
    -------
    list of str
        Every column of ``frame`` exactly once.
    """
    cols = list(frame.columns)
    lead = [c for c in ("trial", "chosen") if c in cols]
    keys = [k for k in CHIP_KEYS if k in cols]
    metrics = [m for m in METRICS if m in cols and m not in _TRAILING]
    trailing = [c for c in _TRAILING if c in cols]
    ordered = list(dict.fromkeys(lead + keys + metrics + trailing))
    return ordered + [c for c in cols if c not in ordered]


def output_name(key: str) -> str:
    """The name a column carries in every output: CSV headers and optuna user attributes.

    :func:`dse.metrics.column_name` (``cores [count]``, ``yield [fraction]``;
    ``die_area_mm2`` unchanged), plus the constraint columns of the search, whose values
    are not in the unit their name ends with: ``constraint_max_power_w [fraction of
    limit]`` holds (power_w - limit) / limit, ``constraint_model [violations]`` the count
    of the model's violations, ``constraint_export_class [flag]`` 0 or 1,
    ``constraint_memory_count_max [fraction of cap]``; all <= 0 when satisfied (a
    limit of 0 gives the plain difference, in the metric's unit).

    Parameters
    ----------
    key : str
        A chip key, metric or column of the search (``constraint_<name>``, ...).

    Returns
    -------
    str
        ``key``, or ``"<key> [<unit>]"``; :func:`input_name` inverts it.
    """
    if key.startswith("constraint_"):
        name = key[len("constraint_") :]
        unit = _CONSTRAINT_UNITS.get(name)
        if unit is None and name.startswith(("max_", "min_")):
            unit = "fraction of limit"
        return f"{key} [{unit}]" if unit else key
    return column_name(key)


def input_name(label: str) -> str:
    """The key of an output name (inverse of :func:`output_name`): drops ``" [unit]"``."""
    return label.split(" [", 1)[0]


def _complete_keys(frame: pd.DataFrame, study: Any) -> pd.DataFrame:
    """Add chip keys held fixed (or left at their default) as constant columns."""
    fixed = dict(getattr(study, "fixed", None) or {})
    out = frame.copy()
    for key, spec in CHIP_KEYS.items():
        if key in out.columns or key == "name":
            continue
        if key in fixed:
            out[key] = fixed[key]
        elif spec.default is not None and key not in _OVERRIDE_KEYS:
            out[key] = spec.default
    return out


def _to_csv(frame: pd.DataFrame, path: Path) -> Path:
    cols = output_columns(frame)
    out = frame[cols].rename(columns={c: output_name(c) for c in cols})
    out.to_csv(path, index=False, float_format=CSV_FLOAT_FORMAT)
    return path


def trials_for_csv(
    designs: pd.DataFrame,
    pareto_index: Any = (),
    *,
    max_rows: int = TRIALS_CSV_MAX_ROWS,
    seed: int = 0,
) -> tuple[pd.DataFrame, str]:
    """The rows of ``trials.csv``: all of them, or a bounded, documented selection.

    Parameters
    ----------
    designs : pandas.DataFrame
        Every trial / grid point.
    pareto_index : index-like
        Index labels (in ``designs``) of the Pareto rows, kept first.
    max_rows : int
        Row limit.
    seed : int
        Seed of the sample.

    Returns
    -------
    frame : pandas.DataFrame
        Selected rows, in their original order.
    note : str
        Empty when every row is kept, else one sentence describing the selection.
    """
    if len(designs) <= max_rows:
        return designs, ""
    from dse.plotting import feasible_mask

    rng = np.random.default_rng(seed)
    is_pareto = designs.index.isin(pd.Index(pareto_index))
    feas = feasible_mask(designs)
    tiers = [is_pareto, feas & ~is_pareto, ~feas & ~is_pareto]
    names = ["Pareto", "other feasible", "infeasible"]
    keep = np.zeros(len(designs), dtype=bool)
    room = max_rows
    parts = []
    for tier, name in zip(tiers, names, strict=True):
        pos = np.flatnonzero(tier)
        if len(pos) <= room:
            keep[pos] = True
            parts.append(f"all {len(pos):,} {name}")
        else:
            keep[rng.choice(pos, size=room, replace=False)] = True
            parts.append(f"a seeded uniform sample of {room:,} of {len(pos):,} {name}")
        room = max_rows - int(keep.sum())
    note = (
        f"trials.csv holds {int(keep.sum()):,} of {len(designs):,} rows "
        f"(limit {max_rows:,}): " + ", ".join(parts) + " rows."
    )
    return designs[keep], note


# --------------------------------------------------------------------------------------
# what limited the designs
# --------------------------------------------------------------------------------------
def violation_category(token: str) -> str:
    """The constraint category of one violation (or constraint) name.

    Parameters
    ----------
    token : str
        A violation as written in the ``violations`` column (``"reticle"``,
        ``"max_power_w: 512 > 400"``, ...) or a constraint key.

    Returns
    -------
    str
        One of the categories (``"die area"``, ``"power"``, ``"junction temperature (Tj)"``,
        ``"memory capacity"``, ``"reticle"``, ``"export class"``, ``"thermal runaway"``,
        ...) or ``"other"``.
    """
    t = str(token).lower()
    for category, words in _CATEGORIES:
        if any(w in t for w in words):
            return category
    return "other"


def _meaning(violation: str) -> str:
    if violation in _MEANING:
        return _MEANING[violation]
    for prefix, word in (("max_", "upper"), ("min_", "lower")):
        if violation.startswith(prefix):
            return f"study {word} limit on {violation[len(prefix) :]}"
    return ""


def _violation_type(token: str) -> str:
    m = re.match(r"\s*([A-Za-z_][A-Za-z0-9_.\-]*)", token)
    return m.group(1) if m else token.strip()


def violation_counts(designs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Count the infeasible designs per violation type and per constraint category.

    Parameters
    ----------
    designs : pandas.DataFrame
        With ``feasible`` and ``violations`` (``;``-separated) columns.

    Returns
    -------
    by_type : pandas.DataFrame
        Columns ``violation``, ``category``, ``meaning``, ``designs`` (infeasible designs with this
        violation), ``sole_cause`` (designs for which it is the only violation), sorted
        by ``designs`` descending.
    by_category : pandas.DataFrame
        Columns ``category``, ``designs``, ``sole_cause`` (only violations of this
        category), sorted likewise.
    """
    from dse.plotting import feasible_mask

    empty_t = pd.DataFrame(columns=["violation", "category", "meaning", "designs", "sole_cause"])
    empty_c = pd.DataFrame(columns=["category", "designs", "sole_cause"])
    if "violations" not in designs.columns:
        return empty_t, empty_c
    viol = designs.loc[~feasible_mask(designs), "violations"].fillna("").astype(str)
    if viol.empty:
        return empty_t, empty_c
    # count distinct violation strings once, then weight: fast even for 10^6 rows
    combos = viol.value_counts()
    per_type: dict[str, list[int]] = {}
    per_cat: dict[str, list[int]] = {}
    for combo, n in combos.items():
        types = list(dict.fromkeys(_violation_type(t) for t in combo.split(";") if t.strip()))
        if not types:
            types = ["(unspecified)"]
        cats = list(dict.fromkeys(violation_category(t) for t in types))
        for t in types:
            c = per_type.setdefault(t, [0, 0])
            c[0] += int(n)
            c[1] += int(n) if len(types) == 1 else 0
        for cat in cats:
            c = per_cat.setdefault(cat, [0, 0])
            c[0] += int(n)
            c[1] += int(n) if len(cats) == 1 else 0
    by_type = pd.DataFrame(
        [(t, violation_category(t), _meaning(t), a, b) for t, (a, b) in per_type.items()],
        columns=["violation", "category", "meaning", "designs", "sole_cause"],
    ).sort_values(["designs", "violation"], ascending=[False, True], ignore_index=True)
    by_cat = pd.DataFrame(
        [(c, a, b) for c, (a, b) in per_cat.items()], columns=["category", "designs", "sole_cause"]
    ).sort_values(["designs", "category"], ascending=[False, True], ignore_index=True)
    return by_type, by_cat


def _num(row: Mapping[str, Any], key: str) -> float:
    try:
        v = float(row[key])
    except (KeyError, TypeError, ValueError):
        return math.nan
    return v


def _reticle_mm2(node: Any, tech: Any = None) -> float:
    try:
        from dse.tech import default_tech

        tech = tech if tech is not None else default_tech()
        return float(tech.node(str(node))["reticle_mm2"])
    except Exception:  # noqa: BLE001 - a node from a user table the report cannot see
        return math.nan


def _export_thresholds() -> dict[str, float]:
    try:
        from dse.constants import default_constants

        c = default_constants()
        return {k: float(c[k]) for k in c if k.startswith(("tpp_threshold", "pd_threshold"))}
    except Exception:  # noqa: BLE001 - report without the export check
        return {}


def binding_constraints(
    row: Mapping[str, Any],
    constraints: Mapping[str, Any] | None = None,
    *,
    within: float = NEAR_BINDING,
    reticle_mm2: float | None = None,
    export_thresholds: Mapping[str, float] | None = None,
    space: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Limits a design sits on or near (relative slack within ``within``).

    Checked: the study's numeric constraints (``max_<metric>`` / ``min_<metric>``), the
    chip's own limits (``power_w`` against ``tdp_w``, ``junction_temp_c`` against
    ``tj_max_c``, ``die_area_mm2`` against the node's reticle), DVFS throttling
    (``sustained_clock_ghz`` below ``clock_ghz``), the ECCN 3A090 thresholds
    (``tpp``, ``performance_density``) when the study constrains ``export_class``, the
    supply cap of the design's memory (``memory_count_max``) and, given ``space``, the
    ends of the searched ranges (a design at the end of a range may be held back by the
    space itself, not by physics: widen the range to see).

    Parameters
    ----------
    row : mapping or pandas.Series
        One design with its metrics.
    constraints : mapping, optional
        The study's ``[constraints]`` table.
    within : float
        Relative slack below which a limit is reported [-].
    reticle_mm2 : float, optional
        Reticle limit [mm2] (default: the node's ``reticle_mm2`` in the packaged table).
    export_thresholds : mapping, optional
        ``tpp_threshold_*`` / ``pd_threshold_*`` (default: the model constants).
    space : mapping, optional
        The study's searched keys (``StudyConfig.space``: :class:`dse.study.Param`, or
        plain lists / ``{low, high}`` tables); numeric keys at the lowest or highest
        value of their range or list are reported as ``"space edge"``.

    Returns
    -------
    pandas.DataFrame
        Columns ``limit``, ``category``, ``value``, ``bound``, ``slack`` (relative,
        >= 0 means satisfied) and ``status`` (``"active"``, ``"near-binding"``,
        ``"violated"``, ``"throttled"`` or ``"space edge"``).

    Notes
    -----
    slack = (bound - value) / |bound| for an upper limit, (value - bound) / |bound| for a
    lower one; "active" when |slack| < 0.1 %.
    """
    constraints = dict(constraints or {})
    rows: list[tuple[str, str, float, float, float, str]] = []

    def check(limit: str, value: float, bound: float, upper: bool, category: str) -> None:
        if not (np.isfinite(value) and np.isfinite(bound)) or bound == 0:
            return
        slack = (bound - value) / abs(bound) if upper else (value - bound) / abs(bound)
        if slack < -_ACTIVE:
            status = "violated"
        elif abs(slack) < _ACTIVE:
            status = "active"
        elif slack <= within:
            status = "near-binding"
        else:
            return
        rows.append((limit, category, value, bound, slack, status))

    for key, bound in constraints.items():
        if isinstance(bound, bool) or not isinstance(bound, int | float):
            continue
        for prefix, upper in (("max_", True), ("min_", False)):
            if key.startswith(prefix) and key[len(prefix) :] in row:
                check(
                    key, _num(row, key[len(prefix) :]), float(bound), upper, violation_category(key)
                )
    check("tdp_w (power cap)", _num(row, "power_w"), _num(row, "tdp_w"), True, "power")
    check(
        "tj_max_c (junction limit)",
        _num(row, "junction_temp_c"),
        _num(row, "tj_max_c"),
        True,
        "junction temperature (Tj)",
    )
    if "die_area_mm2" in row and "node" in row:
        ret = reticle_mm2 if reticle_mm2 is not None else _reticle_mm2(row["node"])
        check("reticle", _num(row, "die_area_mm2"), ret, True, "reticle")
    clock, sustained = _num(row, "clock_ghz"), _num(row, "sustained_clock_ghz")
    if np.isfinite(clock) and np.isfinite(sustained) and sustained < clock * (1 - _ACTIVE):
        rows.append(
            ("clock_ghz (DVFS)", "power", sustained, clock, sustained / clock - 1.0, "throttled")
        )
    if "export_class" in constraints:
        thr = dict(export_thresholds) if export_thresholds is not None else _export_thresholds()
        for name, bound in thr.items():
            metric = "tpp" if name.startswith("tpp") else "performance_density"
            check(f"3A090 {name}", _num(row, metric), bound, True, "export class")
    caps = constraints.get("memory_count_max")
    if isinstance(caps, Mapping) and "memory" in row and str(row["memory"]) in caps:
        mem = str(row["memory"])
        check(
            f"memory_count_max ({mem} supply cap)",
            _num(row, "memory_count"),
            float(caps[mem]),
            True,
            "memory supply cap",
        )
    for key, (low, high) in _space_ranges(space or {}).items():
        value = _num(row, key)
        if not (np.isfinite(value) and high > low):
            continue
        tol = 1e-9 * max(1.0, abs(high), abs(low))
        for end, bound in (("lowest", low), ("highest", high)):
            if abs(value - bound) <= tol:
                rows.append(
                    (
                        f"[space] {key} ({end} value)",
                        "search space",
                        value,
                        bound,
                        0.0,
                        "space edge",
                    )
                )
    return pd.DataFrame(rows, columns=["limit", "category", "value", "bound", "slack", "status"])


def _space_ranges(space: Mapping[str, Any]) -> dict[str, tuple[float, float]]:
    """(lowest, highest) value of each numeric searched key."""
    out = {}
    for key, param in space.items():
        choices = param if isinstance(param, list | tuple) else getattr(param, "choices", None)
        if isinstance(param, Mapping):
            low, high = param.get("low"), param.get("high")
        elif choices:
            nums = [
                c
                for c in choices
                if isinstance(c, int | float | np.number) and not isinstance(c, bool)
            ]
            if len(nums) != len(choices):
                continue
            low, high = float(min(nums)), float(max(nums))
        else:
            low, high = getattr(param, "low", None), getattr(param, "high", None)
        if isinstance(low, int | float) and isinstance(high, int | float):
            out[key] = (float(low), float(high))
    return out


# --------------------------------------------------------------------------------------
# summary.md
# --------------------------------------------------------------------------------------
def _fmt(value: Any) -> str:
    return number(value)


def _trial_id(value: Any) -> str:
    """A trial number as an identifier (no thousands separator)."""
    try:
        return str(int(value))
    except (TypeError, ValueError):
        return str(value)


def _with_unit(key: str, value: Any) -> str:
    unit = unit_of(key)
    text = _fmt(value)
    return f"{text} {unit}" if unit and unit != "count" and text else text


def _md_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    def cell(x: Any) -> str:
        return str(x).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cell(h) for h in header) + " |"]
    lines.append("|" + "|".join("---" for _ in header) + "|")
    lines += ["| " + " | ".join(cell(c) for c in r) + " |" for r in rows]
    return lines


def _scenario_lines(study: Any) -> list[str]:
    scenario = getattr(study, "scenario", None)
    if scenario is None or scenario == "":
        return ["- Scenario: none (unrestricted unless constrained below)"]
    if isinstance(scenario, str):
        name, obj = scenario, None
    elif isinstance(scenario, Mapping):
        name, obj = str(scenario.get("name", "")), scenario
    else:
        name, obj = str(getattr(scenario, "name", scenario)), scenario
    notes = []
    sources = [
        (obj, ("description", "source", "note")),
        (study, ("scenario_source", "scenario_note")),
    ]
    for source, attrs in sources:
        if source is None:
            continue
        for attr in attrs:
            val = source.get(attr) if isinstance(source, Mapping) else getattr(source, attr, None)
            if val and str(val) not in notes:
                notes.append(str(val))
    lines = [f"- Scenario: `{name}`"]
    lines += [f"  - {n}" for n in notes]
    return lines


def _constraint_text(key: str, value: Any) -> str:
    metric = key[4:] if key.startswith(("max_", "min_")) else key
    if isinstance(value, list | tuple):
        return f"`{key}` = " + ", ".join(str(v) for v in value)
    if isinstance(value, Mapping):
        return f"`{key}` = " + ", ".join(f"{k} ≤ {_fmt(v)}" for k, v in value.items())
    return f"`{key}` = {_with_unit(metric, value)}"


def _space_text(key: str, param: Any) -> str:
    """One searched key: its choices or its range (a ``dse.study.Param`` or plain data)."""
    choices = getattr(param, "choices", None)
    if isinstance(param, list | tuple):
        choices = param
    if choices:
        return f"`{key}` ∈ {{{', '.join(_fmt(c) for c in choices)}}}"
    if isinstance(param, Mapping):
        low, high, step, log = (param.get(k) for k in ("low", "high", "step", "log"))
    else:
        low, high, step, log = (getattr(param, k, None) for k in ("low", "high", "step", "log"))
    unit = unit_of(key)
    text = f"`{key}` {_fmt(low)}–{_fmt(high)}" + (f" {unit}" if unit and unit != "count" else "")
    if step:
        text += f", step {_fmt(step)}"
    if log:
        text += ", log scale"
    return text


def _conditions_lines(study: Any) -> list[str]:
    """The ranges that depend on a choice (``[space.when.<key>.<choice>]``), one line each."""
    out = []
    for key, cond in (getattr(study, "conditions", None) or {}).items():
        cases = "; ".join(
            f"{choice}: " + _space_text(key, p).split(" ", 1)[1] for choice, p in cond.cases
        )
        out.append(f"  - `{key}` depends on `{cond.on}`: {cases}")
    return out


def _design_space(study: Any, space: Mapping[str, Any], row: pd.Series) -> dict[str, Any]:
    """The searched ranges a design could take: a conditional key's range of its choice."""
    out = dict(space)
    for key, cond in (getattr(study, "conditions", None) or {}).items():
        try:
            out[key] = cond.param_for(row[cond.on])
        except KeyError:
            pass
    return out


def _design_columns(
    designs: Mapping[str, pd.Series], space_keys: Sequence[str], objectives: Sequence[str]
) -> list[str]:
    headline = (
        "die_area_mm2",
        "power_w",
        "junction_temp_c",
        "sustained_clock_ghz",
        "tokens_per_s",
        "throughput_per_s",
        "latency_s",
        "energy_per_item_j",
        "die_cost_usd",
        "unit_cost_usd",
        "memory_capacity_gb",
        "export_class",
        "tpp",
    )
    keys = list(dict.fromkeys([*space_keys, *objectives, *headline]))
    present = set().union(*(set(r.index) for r in designs.values())) if designs else set()
    return [k for k in keys if k in present]


def summary_markdown(
    result: Any,
    *,
    chosen: pd.Series | None = None,
    files: Mapping[str, Path] | None = None,
    notes: Sequence[str] = (),
    convergence: Any = None,
    sections: Sequence[str] = (),
) -> str:
    """The text of ``summary.md``.

    Parameters
    ----------
    result : StudyResult
        ``study``, ``designs``, ``pareto`` (and optionally ``kind``, ``elapsed``,
        ``storage``).
    chosen : pandas.Series, optional
        The chosen Pareto design (see :func:`choose_design`).
    files : mapping, optional
        Output name -> path, listed at the end.
    notes : sequence of str
        Extra remarks (skipped plots, a reduced trials.csv, ...).
    convergence : dse.plotting.ConvergenceData, optional
        The search's convergence (default: :func:`convergence_of` of ``result``; none
        for a grid).
    sections : sequence of str
        Further Markdown lines (fronts per categorical key, CSV notes), placed before
        the notes.

    Returns
    -------
    str
        Markdown.
    """
    from dse.plotting import feasible_mask

    study = result.study
    designs: pd.DataFrame = result.designs
    pareto: pd.DataFrame = _complete_keys(result.pareto, study)
    objectives = _directions(dict(study.objectives))
    constraints = dict(getattr(study, "constraints", None) or {})
    space = dict(getattr(study, "space", None) or {})
    fixed = dict(getattr(study, "fixed", None) or {})
    n_rows = len(designs)
    n_feasible_rows = int(feasible_mask(designs).sum())
    # a large grid keeps a sample of its points in ``designs``; the search counts them all
    n_total = int(getattr(result, "n_evaluated", 0) or 0) or n_rows
    sampled = n_total > n_rows
    n_feasible = int(getattr(result, "n_feasible", 0) or 0) if sampled else n_feasible_rows

    out = [f"# Study `{study.name}`", ""]
    kind = getattr(result, "kind", "")
    how = {"optuna": "optuna multi-objective search", "grid": "exhaustive grid"}.get(
        kind, str(kind)
    )
    out.append(f"- Workload: `{study.workload}`")
    out.append(
        "- Objectives: "
        + "; ".join(f"{d} `{m}` [{unit_of(m) or '-'}]" for m, d in objectives.items())
    )
    out.append(
        "- Constraints: "
        + ("; ".join(_constraint_text(k, v) for k, v in constraints.items()) or "none")
    )
    out += _scenario_lines(study)
    if how:
        elapsed = getattr(result, "elapsed", None)
        took = f", {float(elapsed):.1f} s" if isinstance(elapsed, int | float) else ""
        out.append(f"- Method: {how}{took}")
    if space:
        out.append("- Searched: " + "; ".join(_space_text(k, v) for k, v in space.items()))
        out += _conditions_lines(study)
    if fixed:
        out.append("- Fixed: " + "; ".join(f"`{k}` = {_with_unit(k, v)}" for k, v in fixed.items()))
    path = getattr(study, "path", None)
    if path:
        out.append(f"- Study file: `{path}`")
    out_dir = Path(next(iter(files.values()))).parent if files else None
    rerun = rerun_command(result, out_dir)
    if rerun:
        out.append(f"- Rerun: `{rerun}`")
    description = getattr(study, "description", "")
    if description:
        out += ["", str(description).strip()]
    out += ["", "## Counts", ""]
    share = f" ({100 * n_feasible / n_total:.1f} %)" if n_total else ""
    out += _md_table(
        ["designs evaluated", "feasible", "Pareto-optimal (feasible, non-dominated)"],
        [[f"{n_total:,}", f"{n_feasible:,}{share}", f"{len(pareto):,}"]],
    )
    if sampled:
        out += [
            "",
            f"The result keeps {n_rows:,} of the {n_total:,} designs (a seeded uniform sample "
            "plus the whole Pareto front); the violation counts and the plots are over those "
            "rows, the Pareto set is exact.",
        ]

    best = _best_rows(pareto, objectives) if len(pareto) else {}
    shown: dict[str, pd.Series] = {}
    if chosen is not None:
        shown["chosen (knee)"] = chosen
    for m, r in best.items():
        shown[f"best {m}"] = r
    out += ["", "## Best designs", ""]
    if not shown:
        out.append("No feasible design: nothing to recommend. See what limited the designs below.")
    else:
        out.append(
            "The chosen design is the knee of the Pareto set: each objective scaled to [0, 1] "
            "over the Pareto set (0 = best), the design closest (Euclidean) to the ideal "
            "point where every objective is at its best. `best <metric>` is the Pareto design "
            "with the best value of that objective (ties: the knee among them)."
        )
        out.append("")
        cols = _design_columns(shown, list(space), list(objectives))
        header = ["quantity", *shown]
        rows = []
        if any("trial" in r.index for r in shown.values()):
            rows.append(["trial", *(_trial_id(r.get("trial", "")) for r in shown.values())])
        for k in cols:
            label = column_name(k) + (" (objective)" if k in objectives else "")
            rows.append([label, *(_fmt(r.get(k, "")) for r in shown.values())])
        out += _md_table(header, rows)

    out += ["", "## What limited the designs", ""]
    by_type, by_cat = violation_counts(designs)
    n_infeasible = n_rows - n_feasible_rows
    if n_infeasible == 0:
        out.append("Every evaluated design was feasible.")
    else:
        out.append(
            f"{n_infeasible:,} of {n_rows:,} designs were infeasible. A design can break "
            "several limits, so the counts overlap; *sole cause* counts designs that broke "
            "only that one."
        )
        out += ["", "By constraint:", ""]
        out += _md_table(
            ["constraint", "infeasible designs", "sole cause"],
            [[r.category, f"{r.designs:,}", f"{r.sole_cause:,}"] for r in by_cat.itertuples()],
        )
        out += ["", "By violation:", ""]
        out += _md_table(
            ["violation", "constraint", "meaning", "infeasible designs", "sole cause"],
            [
                [f"`{r.violation}`", r.category, r.meaning, f"{r.designs:,}", f"{r.sole_cause:,}"]
                for r in by_type.itertuples()
            ],
        )
    if shown:
        out += [
            "",
            f"Limits active or within {100 * NEAR_BINDING:.0f} % at the best designs "
            "(slack = distance to the limit relative to it; a throttled clock is shown "
            "as its fraction below `clock_ghz`):",
            "",
        ]
        rows = []
        edges = False
        thresholds = _export_thresholds() if "export_class" in constraints else {}
        try:
            tech = _study_tech(study)
        except Exception:  # noqa: BLE001 - fall back to the packaged node table
            tech = None
        for label, r in shown.items():
            ret = _reticle_mm2(r["node"], tech) if "node" in r.index else None
            b = binding_constraints(
                r,
                constraints,
                reticle_mm2=ret,
                export_thresholds=thresholds,
                space=_design_space(study, space, r),
            )
            edges |= bool((b["status"] == "space edge").any())
            if b.empty:
                rows.append([label, f"none within {100 * NEAR_BINDING:.0f} %", "", "", "", ""])
            for x in b.itertuples():
                rows.append(
                    [
                        label,
                        x.limit,
                        x.status,
                        _fmt(x.value),
                        _fmt(x.bound),
                        f"{100 * x.slack:+.1f} %",
                    ]
                )
        out += _md_table(["design", "limit", "status", "value", "limit value", "slack"], rows)
        if edges:
            out += [
                "",
                "A `space edge` is a searched key at the lowest or highest value the study "
                "allows: the search space, not the physics, may be what holds that design "
                "back; widen the range to find out.",
            ]

    out += _convergence_lines(result, convergence, files)
    out += list(sections)

    if notes:
        out += ["", "## Notes", ""]
        out += [f"- {n}" for n in notes]
    if files:
        out += ["", "## Files", ""]
        out += [f"- `{Path(p).name}`" for p in files.values()]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------------------
# convergence of the search
# --------------------------------------------------------------------------------------
#: fractions of the trials at which summary.md tabulates the hypervolume ratio
_CONVERGENCE_SHARES = (0.1, 0.25, 0.5, 0.8, 1.0)


def convergence_of(result: Any, best_front: Any = None) -> Any:
    """The convergence of a search result (:func:`dse.plotting.convergence_data`).

    Parameters
    ----------
    result : StudyResult
        An optuna search (``kind == "optuna"``); a grid is exhaustive and has none.
    best_front : array_like or DataFrame, optional
        The best-known front's objective values (default: the run's own front).

    Returns
    -------
    dse.plotting.ConvergenceData or None
        None for a grid or an empty result.
    """
    from dse.plotting import convergence_data

    if getattr(result, "kind", "optuna") == "grid" or not len(result.designs):
        return None
    objectives = _directions(dict(result.study.objectives))
    return convergence_data(result.designs, objectives, best_front=best_front)


def _convergence_lines(result: Any, data: Any, files: Mapping[str, Path] | None) -> list[str]:
    if data is None:
        data = convergence_of(result)
    if data is None:
        return []
    from dse.plotting import CONVERGENCE_REFERENCE, CONVERGENCE_TAIL, CONVERGENCE_TOLERANCE

    out = ["", "## Convergence", ""]
    if data.warning:
        out += [f"**Warning: {data.warning}.**", ""]
    if not len(data.trials):
        return out
    figure = " (`convergence.png`)" if files and "convergence" in files else ""
    out.append(
        "Hypervolume of the feasible front of the first trials, as a fraction of the "
        f"best-known front's ({data.reference}; each objective scaled to [0, 1] over that "
        f"front, reference point {CONVERGENCE_REFERENCE:g}){figure}:"
    )
    out.append("")
    shares = [s for s in _CONVERGENCE_SHARES if round(s * data.n_trials) >= 1]
    cols, cells = [], []
    for share in shares:
        k = max(1, int(math.floor(share * data.n_trials)))
        i = int(np.searchsorted(data.trials, k, side="right")) - 1
        cols.append(f"{data.trials[i]:,} trials")
        cells.append(f"{data.hv_ratio[i]:.4f}" if i >= 0 else "0")
    out += _md_table(cols, [cells])
    if not data.warning:
        out += [
            "",
            f"Converged by the {100 * CONVERGENCE_TOLERANCE:g} % rule: the last "
            f"{100 * CONVERGENCE_TAIL:.0f} % of the trials (after trial {data.tail_start:,}) "
            f"raised the front's hypervolume by {100 * data.tail_gain:.2f} %.",
        ]
    return out


# --------------------------------------------------------------------------------------
# the roofline of the chosen design
# --------------------------------------------------------------------------------------
def _python_scalar(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def chip_from_row(row: Mapping[str, Any], study: Any = None, name: str | None = None) -> Any:
    """Rebuild a :class:`dse.spec.ChipSpec` from a design row.

    The override keys ``memory_bandwidth_gbps`` / ``memory_capacity_gb`` are taken only
    when the study fixes or searches them (elsewhere the column holds the derived metric).

    Parameters
    ----------
    row : mapping or pandas.Series
        A design with its chip keys.
    study : StudyConfig, optional
        Provides ``fixed`` and ``space``.
    name : str, optional
        Chip name when the row has none.

    Returns
    -------
    dse.spec.ChipSpec
    """
    from dse.spec import chip_from_dict

    fixed = dict(getattr(study, "fixed", None) or {})
    user_keys = set(fixed) | set(getattr(study, "space", None) or {})
    values: dict[str, Any] = {}
    for key in CHIP_KEYS:
        if key in _OVERRIDE_KEYS and key not in user_keys:
            continue
        if key in row and not (isinstance(row[key], float) and math.isnan(row[key])):
            values[key] = _python_scalar(row[key])
        elif key in fixed:
            values[key] = fixed[key]
    values.setdefault("name", name or "chosen")
    return chip_from_dict(values, tech=_study_tech(study), tech_path=_tech_path(study))


def _tech_path(study: Any) -> str | None:
    path = getattr(study, "tech_path", None)
    return str(path) if path else None


def _study_tech(study: Any) -> Any:
    """The study's technology tables (None: the packaged ones)."""
    path = _tech_path(study)
    if path is None:
        return None
    from dse.tech import load_tech

    return load_tech(path)


def _model_roofline_functions() -> tuple[Any, Any]:
    """``op_breakdown`` and ``roofline_ceilings`` of the model chain (``dse.chain``)."""
    import importlib

    for module in ("dse.chain", "dse.evaluate"):
        try:
            mod = importlib.import_module(module)
        except ImportError:
            continue
        if hasattr(mod, "op_breakdown") and hasattr(mod, "roofline_ceilings"):
            return mod.op_breakdown, mod.roofline_ceilings
    raise ImportError("the model provides no op_breakdown / roofline_ceilings")


def _roofline_figure(result: Any, chosen: pd.Series) -> Any:
    from dse.plotting import new_figure, plot_roofline, roofline_data

    op_breakdown, roofline_ceilings = _model_roofline_functions()

    study = result.study
    trial = chosen.get("trial", chosen.name)
    chip = chip_from_row(chosen, study, name=f"{study.name}-trial-{trial}")
    tech = _study_tech(study)
    ops = op_breakdown(chip, study.workload, tech)
    ceilings = roofline_ceilings(chip, study.workload, tech)
    data = roofline_data(ops, ceilings)
    fig = new_figure(10.5, 6.0)
    ax = fig.add_subplot()
    desc = ", ".join(
        f"{k}={_with_unit(k, chosen[k])}"
        for k in ("node", "cores", "macs_per_core", "sram_mb", "memory", "memory_count")
        if k in chosen
    )
    clock = ""
    if "sustained_clock_ghz" in chosen:
        sustained = _with_unit("sustained_clock_ghz", chosen["sustained_clock_ghz"])
        clock = f"; ceilings at the sustained clock {sustained}"
    wrapped = textwrap.fill(desc + clock, width=95)
    title = f"Roofline of the chosen design (trial {trial}) on {study.workload}\n{wrapped}"
    plot_roofline(data, ax=ax, title=title)
    ax.title.set_fontsize(10)
    return fig


def _thermal_map_figure(result: Any, chosen: pd.Series) -> Any:
    """The chosen design's floorplan and 2-D grid temperature map (64 x 64 cells)."""
    from dse.chain import thermal_map
    from dse.plotting import new_figure
    from dse.plotting_thermal import plot_thermal_map

    study = result.study
    trial = chosen.get("trial", chosen.name)
    chip = chip_from_row(chosen, study, name=f"{study.name}-trial-{trial}")
    grid_result, floorplan = thermal_map(chip, study.workload, _study_tech(study))
    fig = new_figure(8.0, 7.0)
    title = (
        f"Thermal map (2-D grid) of the chosen design (trial {trial}); clock from the {chip.thermal_model} model\n"
        f"hot spot {grid_result.peak_c:.1f} °C, die mean {grid_result.mean_c:.1f} °C"
    )
    ax = plot_thermal_map(grid_result, floorplan, ax=fig.add_subplot(), title=title)
    ax.title.set_fontsize(10)
    return fig


# --------------------------------------------------------------------------------------
# provenance: the metadata sidecar of each CSV
# --------------------------------------------------------------------------------------
def _sha256(path: Any) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except (OSError, TypeError):
        return None


def _file_record(path: Any) -> dict[str, Any] | None:
    if not path:
        return None
    p = Path(str(path))
    return {"path": str(p), "absolute_path": str(p.resolve()), "sha256": _sha256(p)}


def _git_revision() -> str | None:
    """``git describe`` of the checkout dse runs from (None when not a git checkout)."""
    root = Path(__file__).resolve().parents[1]
    if not (root / ".git").exists():
        return None
    try:
        done = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--abbrev=12"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.strip() or None


def _command_line() -> str | None:
    """The command line of this process (``python -m dse ...`` shown as such)."""
    argv = list(sys.argv)
    if not argv or not argv[0]:
        return None  # embedded interpreter
    first = Path(argv[0])
    if first.name == "__main__.py" and first.parent.name == "dse":
        argv[:1] = ["python", "-m", "dse"]
    return shlex.join(argv)


def _environment() -> dict[str, Any]:
    from importlib import metadata

    versions: dict[str, Any] = {"python": platform.python_version()}
    for name in _ENV_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    versions["platform"] = platform.platform()
    return versions


def rerun_command(result: Any, out_dir: str | Path | None = None) -> str | None:
    """A ``dse`` command that reruns the search behind a result (None without a study file).

    ``dse run STUDY --trials N --seed S --sampler X [--storage URL] --out DIR`` for an
    optuna study (N = the trials it holds; with the same seed, sampler and a fresh
    storage a single-worker run repeats the same trials), ``dse grid STUDY --out DIR``
    for a grid. Paths are absolute.

    Parameters
    ----------
    result : StudyResult
        The result (``study.path``, ``kind``, ``n_evaluated``, ``seed``, ``sampler``,
        ``storage``).
    out_dir : str or pathlib.Path, optional
        Output folder to name in ``--out``.

    Returns
    -------
    str or None
    """
    study = result.study
    path = getattr(study, "path", None)
    if not path:
        return None
    args = ["dse"]
    kind = getattr(result, "kind", "optuna")
    if kind == "grid":
        args += ["grid", str(Path(path).resolve())]
    else:
        args += ["run", str(Path(path).resolve())]
        n = int(getattr(result, "n_evaluated", 0) or 0) or len(result.designs)
        args += ["--trials", str(n)]
        seed = getattr(result, "seed", None)
        if seed is None:
            seed = getattr(study, "seed", None)
        if seed is not None:
            args += ["--seed", str(seed)]
        sampler = getattr(result, "sampler", "") or getattr(study, "sampler", "")
        if sampler:
            args += ["--sampler", str(sampler)]
        storage = getattr(result, "storage", None)
        default = str((Path(out_dir) / "study.journal").resolve()) if out_dir else None
        if storage and storage != default:
            args += ["--storage", str(storage)]
        workers = int(getattr(result, "workers", 1) or 1)
        if workers > 1:
            args += ["--workers", str(workers)]
    if out_dir is not None:
        args += ["--out", str(Path(out_dir).resolve())]
    return shlex.join(args)


def csv_metadata(
    result: Any,
    csv_path: str | Path,
    *,
    rows: int | None = None,
    note: str = "",
    created: datetime.datetime | None = None,
) -> dict[str, Any]:
    """The provenance of a CSV written from a study result (the ``.meta.json`` sidecar).

    Parameters
    ----------
    result : StudyResult
        The result the CSV was written from.
    csv_path : str or pathlib.Path
        The CSV.
    rows : int, optional
        Data rows in the CSV.
    note : str
        How the rows were selected, when not all of them are there.
    created : datetime.datetime, optional
        Time stamp (default: now, UTC).

    Returns
    -------
    dict
        JSON-serialisable: ``format``, ``file``, ``rows``, ``note``, ``created_utc``,
        ``dse_version``, ``dse_git`` (``git describe`` of a source checkout, else None),
        ``command`` (the process's command line) and ``cwd``, ``rerun`` (see
        :func:`rerun_command`), ``study`` (``name``, ``file`` with ``path``,
        ``absolute_path`` and ``sha256``, ``fingerprint``, ``workload``, ``scenario``
        with its file, ``tech`` file, ``objectives``, ``config``: the whole validated
        study), ``search`` (``kind``, ``sampler``, ``seed``, ``trials`` evaluated,
        ``new_trials``, ``feasible``, ``pareto``, ``workers``, ``storage``,
        ``elapsed_s``) and ``environment`` (python, numpy, pandas, scipy, optuna,
        platform).
    """
    from dse import __version__

    study = result.study
    created = created or datetime.datetime.now(datetime.UTC)
    scenario = getattr(study, "scenario", None)
    scenario_name = scenario if isinstance(scenario, str) or scenario is None else None
    if scenario_name is None:
        scenario_name = (
            scenario.get("name")
            if isinstance(scenario, Mapping)
            else getattr(scenario, "name", None)
        )
    config = None
    if callable(getattr(study, "to_dict", None)):
        config = study.to_dict()
    fingerprint = study.fingerprint() if callable(getattr(study, "fingerprint", None)) else None
    designs = getattr(result, "designs", None)
    n_eval = int(getattr(result, "n_evaluated", 0) or 0) or (
        len(designs) if designs is not None else 0
    )
    elapsed = getattr(result, "elapsed", None)
    seed = getattr(result, "seed", None)
    meta = {
        "format": METADATA_FORMAT,
        "file": Path(csv_path).name,
        "rows": rows,
        "note": note,
        "created_utc": created.astimezone(datetime.UTC).isoformat(timespec="seconds"),
        "dse_version": __version__,
        "dse_git": _git_revision(),
        "command": _command_line(),
        "cwd": str(Path.cwd()),
        "rerun": rerun_command(result, Path(csv_path).parent),
        "study": {
            "name": getattr(study, "name", None),
            "file": _file_record(getattr(study, "path", None)),
            "fingerprint": fingerprint,
            "workload": getattr(study, "workload", None),
            "scenario": {
                "name": scenario_name,
                "file": _file_record(getattr(scenario, "path", None)),
            },
            "tech": _file_record(getattr(study, "tech_path", None)),
            "objectives": dict(getattr(study, "objectives", {}) or {}),
            "config": config,
        },
        "search": {
            "kind": getattr(result, "kind", None),
            "sampler": getattr(result, "sampler", None) or getattr(study, "sampler", None),
            "seed": seed if seed is not None else getattr(study, "seed", None),
            "trials": n_eval,
            "new_trials": getattr(result, "n_new", None),
            "feasible": getattr(result, "n_feasible", None),
            "pareto": len(result.pareto),
            "workers": getattr(result, "workers", None),
            "storage": getattr(result, "storage", None),
            "elapsed_s": float(elapsed) if isinstance(elapsed, int | float) else None,
        },
        "environment": _environment(),
    }
    return json.loads(json.dumps(meta, default=_json_default))


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    return str(value)


def _write_metadata(meta: dict[str, Any], csv_path: Path) -> Path:
    path = csv_path.with_name(csv_path.name + METADATA_SUFFIX)
    path.write_text(json.dumps(meta, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    return path


def read_csv_metadata(csv_path: str | Path) -> dict[str, Any]:
    """The metadata sidecar of a CSV written by dse (``<csv>.meta.json``).

    Parameters
    ----------
    csv_path : str or pathlib.Path
        The CSV (or the sidecar itself).

    Returns
    -------
    dict
        See :func:`csv_metadata`.

    Raises
    ------
    FileNotFoundError
        When the CSV has no sidecar.
    """
    p = Path(csv_path)
    if not p.name.endswith(METADATA_SUFFIX):
        p = p.with_name(p.name + METADATA_SUFFIX)
    return json.loads(p.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------------------
# write everything
# --------------------------------------------------------------------------------------
def _resolve_chosen(chosen: Any, result: Any, pareto: pd.DataFrame, objectives: Mapping[str, str]):
    if chosen is None:
        return choose_design(pareto, objectives) if len(pareto) else None
    if isinstance(chosen, pd.Series):
        return chosen
    if isinstance(chosen, Mapping):
        return pd.Series(dict(chosen))
    designs = result.designs
    for frame in (pareto, designs):
        if "trial" in frame.columns:
            hit = frame[frame["trial"] == chosen]
            if len(hit):
                return hit.iloc[0]
    if chosen in designs.index:
        return designs.loc[chosen]
    raise ValueError(f"chosen design {chosen!r} is neither a trial number nor a row label")


def _node_order(nodes: Sequence[str]) -> list[str]:
    """Nodes by feature size (largest first) when the technology table knows them."""
    try:
        from dse.tech import default_tech

        table = default_tech().node_table()
        size = {n: float(table.loc[n, "feature_nm"]) for n in nodes if n in table.index}
        return sorted(nodes, key=lambda n: (-size.get(n, -1.0), n))
    except Exception:  # noqa: BLE001 - fall back to names
        return sorted(nodes)


def write_outputs(result: Any, out_dir: str | Path, *, chosen: Any = None) -> dict[str, Path]:
    """Write pareto.csv, trials.csv, summary.md and the PNG plots of a study result.

    Parameters
    ----------
    result : StudyResult
        ``study`` (name, workload, objectives, constraints, scenario, fixed, space),
        ``designs`` (every trial / grid point: chip keys, metrics, ``feasible``,
        ``violations``), ``pareto`` (feasible non-dominated rows with ``pareto_rank``,
        ``crowding_distance``), optionally ``kind`` and ``elapsed``.
    out_dir : str or pathlib.Path
        Output folder (created).
    chosen : optional
        The design whose roofline is drawn and which is starred: a row (Series or
        mapping), a trial number, or None for :func:`choose_design` (the knee).

    Returns
    -------
    dict of str to pathlib.Path
        ``"pareto"``, ``"trials"``, their metadata sidecars ``"pareto_meta"`` and
        ``"trials_meta"`` (see :func:`csv_metadata`), ``"summary"``, ``"report"``
        (``report.html``, :func:`dse.report_html.write_report`) and one entry per plot
        written (``"pareto_fronts"``, ``"roofline"``, ``"node_fronts"``,
        ``"parallel_coordinates"``, ``"convergence"`` for an optuna search). A plot that cannot be drawn (fewer than two
        objectives, no feasible design, a single node) is skipped with a note in the
        summary; a failure of the model while building the roofline is reported as a
        warning and a note, never raised.
    """
    from dse.plotting import (
        node_fronts_data,
        parallel_coords_data,
        pareto_fronts_figure,
        plot_node_fronts,
        plot_parallel_coords,
        save_figure,
    )

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    study = result.study
    objectives = _directions(dict(study.objectives))
    designs = _complete_keys(result.designs, study)
    pareto = _complete_keys(result.pareto, study)
    chosen_row = _resolve_chosen(chosen, result, pareto, objectives)
    files: dict[str, Path] = {}
    notes: list[str] = []

    files["pareto"] = _to_csv(mark_chosen(pareto, chosen_row), out / "pareto.csv")
    meta = csv_metadata(result, files["pareto"], rows=len(pareto))
    files["pareto_meta"] = _write_metadata(meta, files["pareto"])
    rows, note = trials_for_csv(designs, _pareto_labels(designs, pareto))
    files["trials"] = _to_csv(rows, out / "trials.csv")
    meta = {**meta, "file": files["trials"].name, "rows": len(rows), "note": note}
    files["trials_meta"] = _write_metadata(meta, files["trials"])
    if note:
        notes.append(note)

    names = list(objectives)
    title = f"{study.name}: {study.workload}"
    if len(names) >= 2:
        fig = pareto_fronts_figure(designs, objectives, chosen=chosen_row, title=title)
        files["pareto_fronts"] = save_figure(fig, out / "pareto_fronts.png")
    else:
        notes.append("pareto_fronts.png not drawn: the study has a single objective.")

    if chosen_row is not None:
        for key, figure in (("roofline", _roofline_figure), ("thermal_map", _thermal_map_figure)):
            try:
                files[key] = save_figure(figure(result, chosen_row), out / f"{key}.png")
            except Exception as exc:  # noqa: BLE001 - the other outputs must still be written
                msg = f"{key}.png not drawn: {type(exc).__name__}: {exc}"
                warnings.warn(msg, RuntimeWarning, stacklevel=2)
                notes.append(msg)
    else:
        notes.append("roofline.png not drawn: no feasible Pareto design.")

    if "node" in designs.columns and len(names) >= 2:
        nodes = list(dict.fromkeys(designs["node"].astype(str)))
        data = node_fronts_data(designs, names[0], names[1], objectives, order=_node_order(nodes))
        fig = _single_axes_figure(8.0, 5.8)
        plot_node_fronts(
            data,
            ax=fig.axes[0],
            title=f"Best feasible designs per node ({names[0]} vs {names[1]})\n{title}",
        )
        files["node_fronts"] = save_figure(fig, out / "node_fronts.png")
    else:
        notes.append("node_fronts.png not drawn: needs a node column and two objectives.")
    fronts = category_fronts(designs, study, objectives)
    files.update(write_figures(fronts, out, title, _single_axes_figure, save_figure))

    if len(pareto):
        keys = _parallel_keys(study, pareto)
        cats = {
            k: [str(c) for c in getattr(p, "choices", None) or ()]
            for k, p in (getattr(study, "space", None) or {}).items()
            if getattr(p, "choices", None)
        }
        pc = parallel_coords_data(pareto, keys, names, categories=cats)
        n_axes = len(pc.axes)
        fig = _single_axes_figure(max(8.0, 1.25 * n_axes + 2.5), 5.8)
        highlight = _pareto_label_of(chosen_row, pareto)
        plot_parallel_coords(
            pc,
            highlight=highlight,
            ax=fig.axes[0],
            title=f"Pareto set ({len(pareto)} designs), parallel coordinates — {title}",
        )
        files["parallel_coordinates"] = save_figure(fig, out / "parallel_coordinates.png")
    else:
        notes.append("parallel_coordinates.png not drawn: the Pareto set is empty.")

    convergence = convergence_of(result)
    if convergence is not None and not len(convergence.trials):
        notes.append("convergence.png not drawn: no feasible design.")
    elif convergence is not None:
        from dse.plotting import plot_convergence

        fig = _single_axes_figure(7.5, 4.6)
        plot_convergence(convergence, ax=fig.axes[0])
        files["convergence"] = save_figure(fig, out / "convergence.png")
    from dse.report_html import write_report

    try:
        files["report"] = write_report(result, out, chosen=chosen_row)
    except Exception as exc:  # noqa: BLE001 - the other outputs must still be written
        msg = f"report.html not written: {type(exc).__name__}: {exc}"
        warnings.warn(msg, RuntimeWarning, stacklevel=2)
        notes.append(msg)

    summary_path = out / "summary.md"
    all_files = {**files, "summary": summary_path}
    sections = summary_lines(fronts, pareto, designs) + _csv_note_lines(pareto, rows)
    text = summary_markdown(
        result,
        chosen=chosen_row,
        files=all_files,
        notes=notes,
        convergence=convergence,
        sections=sections,
    )
    summary_path.write_text(text, encoding="utf-8")
    files["summary"] = summary_path
    return files


def _csv_note_lines(pareto: pd.DataFrame, trials: pd.DataFrame) -> list[str]:
    """summary.md's "CSV notes": the ``chosen`` column and what ``inf`` / empty cells mean."""
    out = [
        "",
        "## CSV notes",
        "",
        "- `pareto.csv` `chosen`: True on the chosen design (the knee above), False on the others.",
    ]
    out += [f"- {n}" for n in csv_notes({"pareto.csv": pareto, "trials.csv": trials})]
    return out


def _pareto_labels(designs: pd.DataFrame, pareto: pd.DataFrame) -> pd.Index:
    """Index labels in ``designs`` of the Pareto rows (matched by trial when possible)."""
    if "trial" in designs.columns and "trial" in pareto.columns:
        return designs.index[designs["trial"].isin(pareto["trial"])]
    return pareto.index.intersection(designs.index)


def _pareto_label_of(row: pd.Series | None, pareto: pd.DataFrame) -> Any:
    """Index label in ``pareto`` of the chosen row (None when it is not a Pareto row)."""
    if row is None:
        return None
    if "trial" in row.index and "trial" in pareto.columns:
        hit = pareto.index[pareto["trial"] == row["trial"]]
        return hit[0] if len(hit) else None
    return row.name if row.name in pareto.index else None


def _parallel_keys(study: Any, pareto: pd.DataFrame) -> list[str]:
    """Chip keys on the parallel axes: the searched ones (else those that vary)."""
    space = [k for k in (getattr(study, "space", None) or {}) if k in pareto.columns]
    if space:
        return space
    return [k for k in CHIP_KEYS if k in pareto.columns and k != "name" and pareto[k].nunique() > 1]


def _single_axes_figure(width_in: float, height_in: float) -> Any:
    from dse.plotting import new_figure

    fig = new_figure(width_in, height_in)
    fig.add_subplot()
    return fig
