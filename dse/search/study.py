"""Study files: the search space, objectives and constraints, declared as data.

A study is a TOML file (schema in docs/study-file.md)::

    [study]
    name = "domestic_7nm_decode_400w"
    workload = "llm-decode:llama-3-8b:batch=16,context=2048"
    trials = 2000            # default budget of `dse run`
    seed = 0
    sampler = "local"        # local (default) | nsga2 | tpe | gp | random
    scenario = "china-domestic-2025"   # a packaged fab scenario or a path to one
    [study.objectives]
    tokens_per_s = "maximize"
    unit_cost_usd = "minimize"
    [study.sampler_options]  # optional keyword arguments of the sampler
    p_boundary = 0.3

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
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from dse.errors import DseInputError, close_match_hint
from dse.search.conditional import Conditional, grid_size
from dse.search.scenario import (
    Scenario,
    _apply_allowed,
    _check_memory_count,
    _check_metric,
    _constraints,
    _merge_scenario,
    _tech,
    constraint_metric,
)
from dse.search.space import (
    Param,
    _categorical,
    _check_chip_key,
    _check_even_split,
    _conditions,
    _range,
)
from dse.spec import CHIP_KEYS, check_value, read_toml

__all__ = [
    "DEFAULT_SAMPLER",
    "DIRECTIONS",
    "SAMPLERS",
    "StudyConfig",
    "load_study",
]


#: samplers `dse run` knows (optuna class in dse.search)
SAMPLERS = ("local", "nsga2", "tpe", "gp", "random")


#: the sampler of a study whose file names none: the Pareto local search with its
#: surrogate-guided start, which has the best worst case over the project's studies at
#: 100 to 1,000 trials
#: (benchmarks/search_quality.py; docs/search.md "Search quality and speed")
DEFAULT_SAMPLER = "local"


DIRECTIONS = ("minimize", "maximize")


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
        thermal runaway, ...; the beachfront apart), ``beachfront`` (memory PHY edge
        needed / available - 1), then each ``max_`` / ``min_`` limit (relative excess),
        ``export_class`` and ``memory_count_max`` when set (0 / 1 and relative excess).
        """
        names = ["model", "beachfront"] + [b[0] for b in self.bounds]
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
    _check_even_split(space, fixed, conditions, where)

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
