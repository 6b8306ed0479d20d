"""Study files: the search space, objectives and constraints, declared as data.

A study is a TOML file (schema in docs/study-file.md)::

    [study]
    name = "domestic_7nm_decode_400w"
    workload = "llm-decode:llama-3-8b:batch=16,context=2048"
    trials = 2000            # default budget of `dse run`
    seed = 0
    sampler = "nsga2"        # nsga2 | tpe | gp | random
    scenario = "china-domestic-2025"   # a packaged fab scenario or a path to one
    [study.objectives]
    tokens_per_s = "maximize"
    unit_cost_usd = "minimize"
    [study.sampler_options]  # optional keyword arguments of the optuna sampler
    population_size = 64

    [fixed]                  # chip keys held constant
    tdp_w = 400
    cooling = "air"

    [space]                  # chip keys searched
    node = ["smic-n2", "smic-n1"]                 # a list: categorical
    cores = { low = 16, high = 256, step = 16 }   # a table: a range
    clock_ghz = { low = 0.8, high = 2.0, step = 0.1 }

    [constraints]
    max_die_area_mm2 = 800   # max_<metric> / min_<metric> for any numeric metric
    export_class = ["3A090.b", "not-controlled"]
    nodes_allowed = ["smic-n2"]
    memory_allowed = ["hbm2e", "lpddr5"]
    memory_count_max = { hbm2e = 4 }              # cap the units of one memory

Every required chip key is in exactly one of ``[fixed]`` / ``[space]``. A range is
``{low, high, step, log}``: integer keys give integer ranges; ``step`` makes it
enumerable by ``dse grid``. Every problem is a :class:`~dse.errors.DseInputError` whose
message is one line naming the file and key.

Named fab scenarios (``dse/data/scenarios/*.toml``) restrict nodes and memories and may
constrain the export class or cap the units of a memory; each carries its sources. A
scenario's lists are intersected with the study's.

The declaration of a searched key is a :class:`Param`; that one object drives
``trial.suggest_*`` (via :meth:`Param.distribution`), the grid
(:meth:`Param.grid_values`) and, through :func:`dse.metrics.column_name`, the CSV
headers and plot labels.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dse.errors import DseInputError, close_match_hint
from dse.metrics import METRICS, column_name, unit_of
from dse.search.conditional import Conditional, grid_size
from dse.spec import CHIP_KEYS, check_value, read_toml

__all__ = [
    "DEFAULT_SAMPLER",
    "DIRECTIONS",
    "EXPORT_CLASSES",
    "SAMPLERS",
    "SCENARIO_DIR",
    "Param",
    "Scenario",
    "StudyConfig",
    "constraint_metric",
    "load_scenario",
    "load_study",
    "scenario_names",
]

#: samplers `dse run` knows (optuna class in dse.search)
SAMPLERS = ("nsga2", "tpe", "gp", "random")
#: the sampler of a study whose file names none (chosen with benchmarks/search_quality.py)
DEFAULT_SAMPLER = "nsga2"
DIRECTIONS = ("minimize", "maximize")
#: ECCN 3A090 classes the model reports (metric ``export_class``)
EXPORT_CLASSES = ("3A090.a", "3A090.b", "not-controlled")
SCENARIO_DIR = Path(__file__).parents[1] / "data" / "scenarios"

DEFAULT_TRIALS = 1000
DEFAULT_SEED = 0

_TOP_LEVEL = ("study", "fixed", "space", "constraints")
_STUDY_KEYS = (
    "name",
    "description",
    "workload",
    "objectives",
    "trials",
    "seed",
    "sampler",
    "sampler_options",
    "scenario",
    "tech",
)
_RANGE_KEYS = ("low", "high", "step", "log")
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
#: relative tolerance when checking that a float range is a whole number of steps
_STEP_TOL = 1e-9


# ---------------------------------------------------------------------------------------
# the search space
# ---------------------------------------------------------------------------------------


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
    def n_grid(self) -> int | None:
        """Number of grid values, or None for an unstepped continuous range."""
        if self.kind == "categorical":
            return len(self.choices)
        if self.step is None:
            return None
        return int(math.floor((self.high - self.low) / self.step * (1 + _STEP_TOL) + _STEP_TOL)) + 1

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
        if self.kind == "int":
            return self.low + self.step * np.arange(n, dtype=np.int64)
        return np.round(self.low + self.step * np.arange(n, dtype=float), 12)

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
            return IntDistribution(
                int(self.low), int(self.high), log=self.log, step=int(self.step or 1)
            )
        return FloatDistribution(float(self.low), float(self.high), log=self.log, step=self.step)

    def suggest(self, trial: Any) -> Any:
        """Ask an optuna trial for a value (``trial.suggest_*``)."""
        if self.kind == "categorical":
            return trial.suggest_categorical(self.name, list(self.choices))
        if self.kind == "int":
            return trial.suggest_int(
                self.name, int(self.low), int(self.high), step=int(self.step or 1), log=self.log
            )
        return trial.suggest_float(
            self.name, float(self.low), float(self.high), step=self.step, log=self.log
        )

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


# ---------------------------------------------------------------------------------------
# fab scenarios
# ---------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------
# the study
# ---------------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class StudyConfig:
    """A validated study file.

    Attributes
    ----------
    name : str
        Study name (the optuna study name in the storage).
    workload : str
        Workload string (docs/contract.md); a model path in it is made absolute.
    objectives : dict of str to str
        Metric -> ``"minimize"`` / ``"maximize"``, in file order.
    space : dict of str to Param
        Searched chip keys, in file order.
    fixed : dict of str to Any
        Chip keys held constant (validated, node/memory ids canonical).
    constraints : dict of str to Any
        Effective constraints (the study's merged with the scenario's):
        ``max_<metric>`` / ``min_<metric>`` numbers, ``export_class`` (tuple of allowed
        classes), ``nodes_allowed`` / ``memory_allowed`` (tuples of ids, already applied
        to ``space`` / ``fixed``), ``memory_count_max`` (memory -> cap).
    trials : int
        Default trial budget of `dse run`.
    seed : int
        Sampler seed.
    sampler : str
        One of :data:`SAMPLERS`.
    sampler_options : dict
        Keyword arguments of the study's optuna sampler (e.g. ``population_size``;
        validated when a run starts); a run with another sampler (``--sampler``) uses
        that sampler's defaults.
    scenario : Scenario or None
        The fab scenario applied.
    path : str or None
        The study file.
    tech_path : str or None
        A user technology file (``[study] tech``), absolute.
    description : str
        Free text.
    conditions : dict of str to dse.search.conditional.Conditional
        Searched keys whose range depends on a categorical choice
        (``[space.when.<key>.<choice>]``); ``space`` holds the envelope of their ranges.
    """

    name: str
    workload: str
    objectives: dict[str, str]
    space: dict[str, Param]
    fixed: dict[str, Any]
    constraints: dict[str, Any] = field(default_factory=dict)
    trials: int = DEFAULT_TRIALS
    seed: int = DEFAULT_SEED
    sampler: str = DEFAULT_SAMPLER
    sampler_options: dict[str, Any] = field(default_factory=dict)
    scenario: Scenario | None = None
    path: str | None = None
    tech_path: str | None = None
    description: str = ""
    conditions: dict[str, Conditional] = field(default_factory=dict)

    @property
    def metric_names(self) -> list[str]:
        """Objective metrics, in order."""
        return list(self.objectives)

    @property
    def directions(self) -> list[str]:
        """``"minimize"`` / ``"maximize"`` per objective."""
        return list(self.objectives.values())

    @property
    def bounds(self) -> list[tuple[str, str, str, float]]:
        """Numeric constraints as (key, ``"max"``/``"min"``, metric, limit)."""
        out = []
        for key, value in self.constraints.items():
            split = constraint_metric(key)
            if split is not None:
                out.append((key, split[0], split[1], float(value)))
        return out

    @property
    def constraint_names(self) -> list[str]:
        """Names of the values given to optuna's ``constraints_func`` (<= 0 feasible).

        ``model`` (count of the model's own violations: reticle, memory capacity,
        thermal runaway, ...), then each ``max_`` / ``min_`` limit (relative excess),
        ``export_class`` and ``memory_count_max`` when set (0 / 1 and relative excess).
        """
        names = ["model"] + [b[0] for b in self.bounds]
        if self.constraints.get("export_class"):
            names.append("export_class")
        if self.constraints.get("memory_count_max"):
            names.append("memory_count_max")
        return names

    @property
    def n_grid(self) -> int | None:
        """Grid points of the space (None when a range has no step)."""
        return grid_size(self.space, self.conditions)

    @property
    def is_llm(self) -> bool:
        """Whether the workload is an LLM one (has ``tokens_per_s``)."""
        return self.workload.strip().lower().startswith("llm")

    def load_tech(self) -> Any:
        """The technology the study evaluates against (None: the packaged tables)."""
        if self.tech_path is None:
            return None
        from dse.tech import load_tech

        return load_tech(self.tech_path)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable description (stored with the optuna study)."""
        d = {
            "name": self.name,
            "workload": self.workload,
            "objectives": dict(self.objectives),
            "space": {k: asdict(p) for k, p in self.space.items()},
            "fixed": dict(self.fixed),
            "constraints": {
                k: (dict(v) if isinstance(v, dict) else list(v) if isinstance(v, tuple) else v)
                for k, v in self.constraints.items()
            },
            "scenario": self.scenario.name if self.scenario else None,
            "tech": self.tech_path,
        }
        if self.conditions:  # only then: the fingerprints of other studies do not move
            d["conditions"] = {k: c.to_dict() for k, c in self.conditions.items()}
        return json.loads(json.dumps(d, default=str))

    def fingerprint(self) -> str:
        """Hash of what defines the problem (workload, objectives, space, fixed, constraints).

        A stored study is resumed only when its fingerprint matches; trials, seed and
        sampler may change between runs.
        """
        text = json.dumps(self.to_dict(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _resolve_workload(text: str, base: Path) -> str:
    """Make a relative ``config.json`` model path in a workload string absolute."""
    parts = text.split(":")
    if len(parts) >= 2 and parts[0].strip().lower().startswith("llm"):
        model = parts[1]
        if model.endswith(".json") and not Path(model).is_absolute():
            candidate = base / model
            if candidate.exists():
                parts[1] = str(candidate.resolve())
    return ":".join(parts)


def _check_workload(text: str, where: str) -> None:
    try:
        from dse.workloads import parse_workload
    except ImportError:  # pragma: no cover - workloads module not there yet
        return
    try:
        parse_workload(text)
    except DseInputError as exc:
        raise DseInputError(f"{where}: {exc}") from None


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


def load_study(path: str | Path, *, tech: Any = None) -> StudyConfig:
    """Load and validate a study TOML file.

    Parameters
    ----------
    path : str or pathlib.Path
        The study file.
    tech : dse.tech.Technology, optional
        Tables node and memory ids are checked against (default: the study's ``tech``
        file if it names one, else the packaged tables).

    Returns
    -------
    StudyConfig

    Raises
    ------
    DseInputError
        One line naming the file and the problem.
    """
    path = Path(path)
    data = read_toml(path)
    where = str(path)
    base = path.resolve().parent
    for key in data:
        if key not in _TOP_LEVEL:
            raise DseInputError(
                f"unknown table [{key}] in {where}"
                + close_match_hint(key, _TOP_LEVEL)
                + f"; a study has {', '.join('[' + t + ']' for t in _TOP_LEVEL)}"
            )
    for key in _TOP_LEVEL:
        if key in data and not isinstance(data[key], dict):
            raise DseInputError(f"'{key}' in {where} must be a table [{key}]")
    st = data.get("study")
    if st is None:
        raise DseInputError(f"{where} has no [study] table (name, workload, objectives, ...)")
    for key in st:
        if key not in _STUDY_KEYS:
            raise DseInputError(
                f"unknown key '{key}' in [study] of {where}" + close_match_hint(key, _STUDY_KEYS)
            )

    # [study]
    name = st.get("name", path.stem)
    if not isinstance(name, str) or not name.strip():
        raise DseInputError(f"[study] name in {where} must be a non-empty string")
    description = st.get("description", "")
    if not isinstance(description, str):
        raise DseInputError(f"[study] description in {where} must be a string")
    tech_path = None
    if "tech" in st:
        if not isinstance(st["tech"], str):
            raise DseInputError(f"[study] tech in {where} must be a file path string")
        from dse.tech import load_tech

        tech_path = str((base / st["tech"]).resolve())
        tech = load_tech(tech_path)
    tech = _tech(tech)
    workload = st.get("workload")
    if not isinstance(workload, str) or not workload.strip():
        raise DseInputError(
            f'[study] workload in {where} must be a workload string, e.g. "llm-decode:llama-3-8b:batch=16,context=2048"'
        )
    workload = _resolve_workload(workload.strip(), base)
    _check_workload(workload, f"[study] workload in {where}")
    is_llm = workload.lower().startswith("llm")
    trials, seed, sampler, sampler_options = _run_options(st, where)

    objectives = st.get("objectives")
    if not isinstance(objectives, dict) or not objectives:
        raise DseInputError(
            f'[study] objectives in {where} must be a table metric = "minimize"/"maximize", e.g. {{ tokens_per_s = "maximize" }}'
        )
    objs: dict[str, str] = {}
    for metric, direction in objectives.items():
        _check_metric(metric, f"objective in {where}", is_llm)
        d = direction.strip().lower() if isinstance(direction, str) else direction
        if d not in DIRECTIONS:
            raise DseInputError(
                f'objective \'{metric}\' in {where}: direction must be "minimize" or "maximize", got {direction!r}'
                + close_match_hint(str(direction), DIRECTIONS)
            )
        objs[metric] = d

    # [fixed] and [space]
    fixed, space, when = _fixed_and_space(data, where, tech)

    # [constraints] merged with the scenario
    constraints = _constraints(data.get("constraints", {}), where, tech, is_llm)
    scenario = _merge_scenario(st, constraints, fixed, space, where, tech, base)
    _apply_allowed(space, fixed, constraints, where, scenario)
    conditions = _conditions(when, space, where, tech)
    _check_memory_count(space, fixed, where)

    return StudyConfig(
        name=name.strip(),
        workload=workload,
        objectives=objs,
        space=space,
        fixed=fixed,
        constraints=constraints,
        trials=trials,
        seed=seed,
        sampler=sampler,
        sampler_options=dict(sampler_options),
        scenario=scenario,
        path=str(path),
        tech_path=tech_path,
        description=" ".join(description.split()),
        conditions=conditions,
    )


def _run_options(st: dict[str, Any], where: str) -> tuple[int, int, str, dict[str, Any]]:
    """trials, seed, sampler and sampler_options of a [study] table."""
    trials = st.get("trials", DEFAULT_TRIALS)
    if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
        raise DseInputError(f"[study] trials in {where} must be a positive integer, got {trials!r}")
    seed = st.get("seed", DEFAULT_SEED)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise DseInputError(f"[study] seed in {where} must be an integer >= 0, got {seed!r}")
    sampler = st.get("sampler", DEFAULT_SAMPLER)
    if not isinstance(sampler, str) or sampler.lower() not in SAMPLERS:
        raise DseInputError(
            f"unknown sampler {sampler!r} in [study] of {where}"
            + close_match_hint(str(sampler), SAMPLERS)
            + f"; known: {', '.join(SAMPLERS)}"
        )
    sampler = sampler.lower()
    sampler_options = st.get("sampler_options", {})
    if not isinstance(sampler_options, dict):
        raise DseInputError(f"[study] sampler_options in {where} must be a table")
    return trials, seed, sampler, dict(sampler_options)


def _fixed_and_space(
    data: dict[str, Any], where: str, tech: Any
) -> tuple[dict[str, Any], dict[str, Param], dict[str, Any]]:
    """[fixed] and [space] of a study file (and the raw ``[space.when]`` table)."""
    fixed_in = data.get("fixed", {})
    space_in = dict(data.get("space", {}))
    when = space_in.pop("when", {})
    fixed: dict[str, Any] = {}
    for key, value in fixed_in.items():
        _check_chip_key(key, f"[fixed] of {where}")
        if key in space_in:
            raise DseInputError(f"key '{key}' is in both [fixed] and [space] of {where}: keep one")
        if isinstance(value, list | dict):
            raise DseInputError(
                f"[fixed] {key} in {where} must be a single value (lists and ranges go in [space])"
            )
        v = check_value(key, value, f"[fixed] of {where}")
        if CHIP_KEYS[key].type == "node":
            v = tech.resolve_node(v, where=f"[fixed] node in {where}")
        elif CHIP_KEYS[key].type == "memory":
            v = tech.resolve_memory(v, where=f"[fixed] memory in {where}")
        fixed[key] = v
    if not space_in:
        raise DseInputError(
            f"{where}: [space] is empty: search at least one chip key (a list or a {{low, high}} range)"
        )
    space: dict[str, Param] = {}
    for key, value in space_in.items():
        _check_chip_key(key, f"[space] of {where}")
        if isinstance(value, list):
            space[key] = _categorical(key, value, where, tech)
        elif isinstance(value, dict):
            space[key] = _range(key, value, where)
        else:
            raise DseInputError(
                f"[space] {key} in {where} must be a list (categorical) or a table {{low, high, step, log}}; put a constant in [fixed]"
            )
    # a key searched only in [space.when...] is checked there (a range for every choice)
    when_keys = {
        k
        for by in (when.values() if isinstance(when, dict) else ())
        if isinstance(by, dict)
        for ranges in by.values()
        if isinstance(ranges, dict)
        for k in ranges
    }
    missing = [
        k
        for k, s in CHIP_KEYS.items()
        if s.required and k != "name" and k not in fixed and k not in space and k not in when_keys
    ]
    if missing:
        raise DseInputError(
            f"{where}: chip key '{missing[0]}' is neither in [fixed] nor in [space]"
            + (f" (also missing: {', '.join(missing[1:])})" if len(missing) > 1 else "")
        )

    return fixed, space, when


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
            param = by_value.get(choice, space.get(key))
            if param is None:
                raise DseInputError(
                    f"{where}: {key} has no range for {on} '{choice}': give one in [space] or in [space.when.{on}.{choice}]"
                )
            cases.append((choice, param))
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
        low=min(p.low for p in params),
        high=max(p.high for p in params),
        step=step,
        log=all(p.log for p in params),
    )


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


def _check_chip_key(key: str, where: str) -> None:
    if key not in CHIP_KEYS:
        raise DseInputError(
            f"unknown chip key '{key}' in {where}" + close_match_hint(key, CHIP_KEYS)
        )
    if key == "name":
        raise DseInputError(f"key 'name' in {where}: designs are named by the study (trial number)")


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
