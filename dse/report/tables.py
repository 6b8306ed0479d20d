"""A study's tables: the trials as written to CSV, the violations by category, and which constraints bind the Pareto set."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dse.fmt import CSV_FLOAT_FORMAT
from dse.metrics import output_columns, output_name
from dse.report.metadata import _OVERRIDE_KEYS
from dse.spec import CHIP_KEYS

#: trials.csv holds at most this many rows (see the module docstring)
TRIALS_CSV_MAX_ROWS = 1_000_000


#: a limit is "near-binding" when the design is within this fraction of it
NEAR_BINDING = 0.05


#: below this relative slack a limit is reported as "active"
_ACTIVE = 1e-3


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
    from dse.plots import feasible_mask

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
    from dse.plots import feasible_mask

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
        The study's searched keys (``StudyConfig.space``: :class:`dse.search.space.Param`, or
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
