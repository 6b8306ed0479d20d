"""Fab scenarios (named sets of allowed nodes and memories with limits, ``dse/data/scenarios/*.toml``) and the constraints of a study: the ``[constraints]`` table and the limits a scenario adds."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dse.errors import DseInputError, close_match_hint
from dse.metrics import METRICS
from dse.model.export_control import EXPORT_CLASSES
from dse.search.space import Param
from dse.spec import CHIP_KEYS, check_value, read_toml

SCENARIO_DIR = Path(__file__).parents[1] / "data" / "scenarios"


_LIST_CONSTRAINTS = ("export_class", "nodes_allowed", "memory_allowed")


_SCENARIO_KEYS = (
    "name",
    "description",
    "source",
    "nodes_allowed",
    "memory_allowed",
    "export_class",
    "memory_count_max",
    *("min_lifetime_years", "max_memory_temp_c"),  # _SCENARIO_LIMITS
    "grid_gco2_per_kwh",
)


#: limits a scenario may set (a deployment's service life and memory limit); merged with
#: the study's own, the stricter winning
_SCENARIO_LIMITS = ("min_lifetime_years", "max_memory_temp_c")


@dataclass(frozen=True)
class Scenario:
    """A named fab/supply scenario: which nodes and memories a designer can get.

    Attributes
    ----------
    name, description, source : str
        Identity, one-paragraph description and the sources of the restriction.
    nodes_allowed, memory_allowed : tuple of str or None
        Canonical node / memory ids (None: no restriction).
    export_class : tuple of str or None
        Allowed ECCN 3A090 classes (None: reported, not constrained).
    memory_count_max : dict
        Memory id -> maximum units per chip (supply caps, e.g. stockpiled HBM).
    limits : dict
        ``min_lifetime_years`` / ``max_memory_temp_c`` the deployment requires.
    grid_gco2_per_kwh : float or None
        Carbon intensity of the grid the chips are deployed on: the chip key's value in
        a study that neither fixes nor searches it.
    path : str
        The scenario file.
    """

    name: str
    description: str = ""
    source: str = ""
    nodes_allowed: tuple[str, ...] | None = None
    memory_allowed: tuple[str, ...] | None = None
    export_class: tuple[str, ...] | None = None
    memory_count_max: dict[str, int] = field(default_factory=dict)
    limits: dict[str, float] = field(default_factory=dict)
    grid_gco2_per_kwh: float | None = None
    path: str = ""


def scenario_names() -> list[str]:
    """Names of the packaged scenarios."""
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))


def _tech(tech: Any) -> Any:
    if tech is not None:
        return tech
    from dse.tech import default_tech

    return default_tech()


def load_scenario(
    name_or_path: str | Path, tech: Any = None, base_dir: Path | None = None
) -> Scenario:
    """Load a packaged scenario by name, or a scenario TOML file by path.

    Parameters
    ----------
    name_or_path : str or pathlib.Path
        ``"unrestricted"``, ``"china-domestic-2025"``, ``"mature-28nm"``, or a path.
    tech : dse.tech.Technology, optional
        Tables the ids are checked against (default: the packaged ones).
    base_dir : pathlib.Path, optional
        Folder a relative path is taken from (the study file's).

    Returns
    -------
    Scenario
    """
    text = str(name_or_path)
    if text.endswith(".toml") or "/" in text or "\\" in text:
        path = Path(text)
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
    else:
        path = SCENARIO_DIR / f"{text}.toml"
        if not path.exists():
            names = scenario_names()
            raise DseInputError(
                f"unknown scenario '{text}'"
                + close_match_hint(text, names)
                + f"; known: {', '.join(names)}"
            )
    data = read_toml(path)
    table = data.get("scenario")
    if not isinstance(table, dict) or set(data) != {"scenario"}:
        raise DseInputError(f"{path}: a scenario file holds one [scenario] table")
    where = f"[scenario] in {path}"
    for key in table:
        if key not in _SCENARIO_KEYS:
            raise DseInputError(
                f"unknown key '{key}' in {where}" + close_match_hint(key, _SCENARIO_KEYS)
            )
    tech = _tech(tech)
    for key in ("name", "description", "source"):
        if key in table and not isinstance(table[key], str):
            raise DseInputError(f"key '{key}' in {where} must be a string")
    return Scenario(
        name=table.get("name", path.stem),
        description=" ".join(table.get("description", "").split()),
        source=" ".join(table.get("source", "").split()),
        nodes_allowed=_id_list(table, "nodes_allowed", where, tech),
        memory_allowed=_id_list(table, "memory_allowed", where, tech),
        export_class=_export_classes(table["export_class"], where)
        if "export_class" in table
        else None,
        memory_count_max=_memory_caps(table.get("memory_count_max", {}), where, tech),
        limits=_constraints({k: table[k] for k in _SCENARIO_LIMITS if k in table}, where, tech, True),
        grid_gco2_per_kwh=check_value("grid_gco2_per_kwh", table["grid_gco2_per_kwh"], where)
        if "grid_gco2_per_kwh" in table
        else None,
        path=str(path),
    )


def _id_list(table: dict[str, Any], key: str, where: str, tech: Any) -> tuple[str, ...] | None:
    if key not in table:
        return None
    values = table[key]
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        raise DseInputError(f"key '{key}' in {where} must be a non-empty list of ids")
    resolve = tech.resolve_node if key.startswith("node") else tech.resolve_memory
    return tuple(dict.fromkeys(resolve(v, where=f"'{key}' in {where}") for v in values))


def _export_classes(value: Any, where: str) -> tuple[str, ...]:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        raise DseInputError(
            f"key 'export_class' in {where} must be a class or a list of classes ({', '.join(EXPORT_CLASSES)})"
        )
    canon = {c.lower(): c for c in EXPORT_CLASSES}
    out = []
    for v in values:
        c = canon.get(v.strip().lower())
        if c is None:
            raise DseInputError(
                f"unknown export class '{v}' in {where}"
                + close_match_hint(v, EXPORT_CLASSES)
                + f"; known: {', '.join(EXPORT_CLASSES)}"
            )
        out.append(c)
    return tuple(dict.fromkeys(out))


def _memory_caps(value: Any, where: str, tech: Any) -> dict[str, int]:
    if not isinstance(value, dict):
        raise DseInputError(
            f"key 'memory_count_max' in {where} must be a table memory = count, e.g. {{ hbm2e = 4 }}"
        )
    caps: dict[str, int] = {}
    for mem, cap in value.items():
        rid = tech.resolve_memory(mem, where=f"'memory_count_max' in {where}")
        if isinstance(cap, bool) or not isinstance(cap, int) or cap < 0:
            raise DseInputError(
                f"memory_count_max.{mem} in {where} must be an integer >= 0, got {cap!r}"
            )
        caps[rid] = cap
    return caps


def constraint_metric(key: str) -> tuple[str, str] | None:
    """Split ``max_<metric>`` / ``min_<metric>`` into (``"max"``/``"min"``, metric)."""
    for kind in ("max", "min"):
        if key.startswith(kind + "_"):
            return kind, key[len(kind) + 1 :]
    return None


def _numeric_metric(name: str) -> bool:
    if name in METRICS:
        return METRICS[name].kind in ("float", "int")
    return name in CHIP_KEYS and not CHIP_KEYS[name].categorical


def _merge_scenario(
    st: dict[str, Any],
    constraints: dict[str, Any],
    fixed: dict[str, Any],
    space: dict[str, Param],
    where: str,
    tech: Any,
    base: Path,
) -> Scenario | None:
    """Load the study's scenario and merge its lists, limits and caps into ``constraints``
    (and its grid carbon intensity into ``fixed``)."""
    scenario = None
    if "scenario" in st:
        if not isinstance(st["scenario"], str) or not st["scenario"].strip():
            raise DseInputError(f"[study] scenario in {where} must be a scenario name or file")
        scenario = load_scenario(st["scenario"].strip(), tech=tech, base_dir=base)
        for key in ("nodes_allowed", "memory_allowed", "export_class"):
            theirs = getattr(scenario, key)
            if theirs is None:
                continue
            ours = constraints.get(key)
            constraints[key] = theirs if ours is None else tuple(v for v in ours if v in theirs)
            if not constraints[key]:
                raise DseInputError(
                    f"{where}: {key} of the study and of scenario '{scenario.name}' have nothing in common"
                )
        for key, limit in scenario.limits.items():  # the stricter of the two
            ours = constraints.get(key)
            stricter = max if key.startswith("min_") else min
            constraints[key] = limit if ours is None else stricter(ours, limit)
        grid = scenario.grid_gco2_per_kwh
        if grid is not None and "grid_gco2_per_kwh" not in fixed and "grid_gco2_per_kwh" not in space:
            fixed["grid_gco2_per_kwh"] = grid
        if scenario.memory_count_max:
            caps = dict(scenario.memory_count_max)
            for mem, cap in constraints.get("memory_count_max", {}).items():
                caps[mem] = min(cap, caps.get(mem, cap))
            constraints["memory_count_max"] = caps

    return scenario


def _check_metric(metric: str, where: str, is_llm: bool) -> None:
    if metric not in METRICS:
        raise DseInputError(
            f"unknown metric '{metric}' ({where})"
            + close_match_hint(metric, METRICS)
            + "; see dse.METRICS"
        )
    spec = METRICS[metric]
    if spec.kind not in ("float", "int"):
        raise DseInputError(
            f"metric '{metric}' ({where}) is not numeric; it cannot be an objective or a limit"
        )
    if spec.llm_only and not is_llm:
        raise DseInputError(
            f"metric '{metric}' ({where}) exists only for LLM workloads; use throughput_per_s"
        )


#: constraints whose limit must be positive: zero or less would constrain nothing
_POSITIVE_LIMITS = {"min_lifetime_years": "a service life in years"}


def _constraints(table: dict[str, Any], where: str, tech: Any, is_llm: bool) -> dict[str, Any]:
    at = f"[constraints] of {where}"
    out: dict[str, Any] = {}
    for key, value in table.items():
        split = constraint_metric(key)
        if split is not None:
            metric = split[1]
            if metric in METRICS:
                _check_metric(metric, f"'{key}' in {at}", is_llm)
            elif not _numeric_metric(metric):
                known = [f"max_{m}" for m in METRICS if _numeric_metric(m)]
                raise DseInputError(
                    f"unknown constraint '{key}' in {at}"
                    + close_match_hint(key, known)
                    + ": max_/min_ take a numeric metric"
                )
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
            ):
                raise DseInputError(
                    f"constraint '{key}' in {at} must be a finite number, got {value!r}"
                )
            if key in _POSITIVE_LIMITS and value <= 0:
                raise DseInputError(
                    f"constraint '{key}' in {at} must be > 0 ({_POSITIVE_LIMITS[key]}), got {value!r}"
                )
            out[key] = float(value)
        elif key == "export_class":
            out[key] = _export_classes(value, at)
        elif key in ("nodes_allowed", "memory_allowed"):
            out[key] = _id_list(table, key, at, tech)
        elif key == "memory_count_max":
            out[key] = _memory_caps(value, at, tech)
        else:
            known = ["max_<metric>", "min_<metric>", *_LIST_CONSTRAINTS, "memory_count_max"]
            raise DseInputError(
                f"unknown constraint '{key}' in {at}"
                + close_match_hint(key, [*_LIST_CONSTRAINTS, "memory_count_max"])
                + f"; known: {', '.join(known)}"
            )
    return out


def _apply_allowed(
    space: dict[str, Param],
    fixed: dict[str, Any],
    constraints: dict[str, Any],
    where: str,
    scenario: Scenario | None,
) -> None:
    for key, listed in (("node", "nodes_allowed"), ("memory", "memory_allowed")):
        allowed = constraints.get(listed)
        if allowed is None:
            continue
        by = (
            f" (scenario '{scenario.name}')"
            if scenario is not None and getattr(scenario, listed) is not None
            else ""
        )
        if key in fixed:
            if fixed[key] not in allowed:
                raise DseInputError(
                    f"{where}: [fixed] {key} = '{fixed[key]}' is not in {listed}{by}: {', '.join(allowed)}"
                )
        elif key in space:
            p = space[key]
            kept = tuple(c for c in p.choices if c in allowed)
            if not kept:
                raise DseInputError(
                    f"{where}: {listed}{by} leaves no {key} of [space] {key} = {p} (allowed: {', '.join(allowed)})"
                )
            space[key] = Param(key, "categorical", choices=kept)


def _check_memory_count(space: dict[str, Param], fixed: dict[str, Any], where: str) -> None:
    mems = space["memory"].choices if "memory" in space else (fixed.get("memory"),)
    real = [m for m in mems if m != "none"]
    if not real:
        return
    if "memory_count" in fixed:
        low = fixed["memory_count"]
    else:
        p = space["memory_count"]
        low = min(p.choices) if p.kind == "categorical" else p.low
    if low < 1:
        raise DseInputError(
            f"{where}: memory_count can be 0 while memory can be '{real[0]}': make memory_count >= 1 (memory = \"none\" is the SRAM-only chip)"
        )
