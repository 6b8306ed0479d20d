"""``summary.md``: the study, its counts, the chosen design, the binding limits, the fronts per choice and the convergence, as markdown."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dse.fmt import number
from dse.metrics import column_name, unit_of
from dse.report.choice import _best_rows, _directions
from dse.report.csv_notes import notes as csv_notes
from dse.report.format import _with_unit
from dse.report.metadata import _study_tech, rerun_command
from dse.report.tables import (
    NEAR_BINDING,
    _complete_keys,
    _export_thresholds,
    _reticle_mm2,
    binding_constraints,
    violation_counts,
)


def _trial_id(value: Any) -> str:
    """A trial number as an identifier (no thousands separator)."""
    try:
        return str(int(value))
    except (TypeError, ValueError):
        return str(value)


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
        return f"`{key}` = " + ", ".join(f"{k} ≤ {number(v)}" for k, v in value.items())
    return f"`{key}` = {_with_unit(metric, value)}"


def _space_text(key: str, param: Any) -> str:
    """One searched key: its choices or its range (a ``dse.search.space.Param`` or plain data)."""
    choices = getattr(param, "choices", None)
    if isinstance(param, list | tuple):
        choices = param
    if choices:
        return f"`{key}` ∈ {{{', '.join(number(c) for c in choices)}}}"
    if isinstance(param, Mapping):
        low, high, step, log = (param.get(k) for k in ("low", "high", "step", "log"))
    else:
        low, high, step, log = (getattr(param, k, None) for k in ("low", "high", "step", "log"))
    unit = unit_of(key)
    text = f"`{key}` {number(low)}–{number(high)}" + (f" {unit}" if unit and unit != "count" else "")
    if step:
        text += f", step {number(step)}"
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


def _study_lines(
    result: Any, objectives: Mapping[str, str], constraints: Mapping[str, Any],
    space: Mapping[str, Any], files: Mapping[str, Path] | None,
) -> list[str]:
    """The study: workload, objectives, constraints, scenario, method, space, rerun."""
    study = result.study
    fixed = dict(getattr(study, "fixed", None) or {})
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
    return out


def _counts_lines(result: Any, n_rows: int, n_feasible_rows: int, n_pareto: int) -> list[str]:
    """The counts table: designs evaluated, feasible, Pareto-optimal."""
    # a large grid keeps a sample of its points in ``designs``; the search counts them all
    n_total = int(getattr(result, "n_evaluated", 0) or 0) or n_rows
    sampled = n_total > n_rows
    n_feasible = int(getattr(result, "n_feasible", 0) or 0) if sampled else n_feasible_rows
    out = ["", "## Counts", ""]
    share = f" ({100 * n_feasible / n_total:.1f} %)" if n_total else ""
    out += _md_table(
        ["designs evaluated", "feasible", "Pareto-optimal (feasible, non-dominated)"],
        [[f"{n_total:,}", f"{n_feasible:,}{share}", f"{n_pareto:,}"]],
    )
    if sampled:
        out += [
            "",
            f"The result keeps {n_rows:,} of the {n_total:,} designs (a seeded uniform sample "
            "plus the whole Pareto front); the violation counts and the plots are over those "
            "rows, the Pareto set is exact.",
        ]
    return out


def _shown_designs(
    pareto: pd.DataFrame, objectives: Mapping[str, str], chosen: pd.Series | None
) -> dict[str, pd.Series]:
    """The designs the summary shows: the chosen one, then the best per objective."""
    best = _best_rows(pareto, objectives) if len(pareto) else {}
    shown: dict[str, pd.Series] = {}
    if chosen is not None:
        shown["chosen (knee)"] = chosen
    for m, r in best.items():
        shown[f"best {m}"] = r
    return shown


def _best_design_lines(
    shown: Mapping[str, pd.Series], space: Mapping[str, Any], objectives: Mapping[str, str]
) -> list[str]:
    """The best designs: what the chosen design is, and a table of the shown designs."""
    out = ["", "## Best designs", ""]
    if not shown:
        out.append("No feasible design: nothing to recommend. See what limited the designs below.")
        return out
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
        rows.append([label, *(number(r.get(k, "")) for r in shown.values())])
    out += _md_table(header, rows)
    return out


def _violation_lines(designs: pd.DataFrame, n_rows: int, n_feasible_rows: int) -> list[str]:
    """What limited the designs: infeasible designs by constraint and by violation."""
    out = ["", "## What limited the designs", ""]
    by_type, by_cat = violation_counts(designs)
    n_infeasible = n_rows - n_feasible_rows
    if n_infeasible == 0:
        out.append("Every evaluated design was feasible.")
        return out
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
    return out


def _binding_lines(
    study: Any, shown: Mapping[str, pd.Series], constraints: Mapping[str, Any],
    space: Mapping[str, Any],
) -> list[str]:
    """The limits active or near-binding at the shown designs, with their slack."""
    out = [
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
                    number(x.value),
                    number(x.bound),
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
    return out


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
    convergence : dse.plots.ConvergenceData, optional
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
    from dse.plots import feasible_mask

    study = result.study
    designs: pd.DataFrame = result.designs
    pareto: pd.DataFrame = _complete_keys(result.pareto, study)
    objectives = _directions(dict(study.objectives))
    constraints = dict(getattr(study, "constraints", None) or {})
    space = dict(getattr(study, "space", None) or {})
    n_rows = len(designs)
    n_feasible_rows = int(feasible_mask(designs).sum())
    out = _study_lines(result, objectives, constraints, space, files)
    out += _counts_lines(result, n_rows, n_feasible_rows, len(pareto))
    shown = _shown_designs(pareto, objectives, chosen)
    out += _best_design_lines(shown, space, objectives)
    out += _violation_lines(designs, n_rows, n_feasible_rows)
    if shown:
        out += _binding_lines(study, shown, constraints, space)
    out += _convergence_lines(result, convergence, files)
    out += list(sections)

    if notes:
        out += ["", "## Notes", ""]
        out += [f"- {n}" for n in notes]
    if files:
        out += ["", "## Files", ""]
        out += [f"- `{Path(p).name}`" for p in files.values()]
    return "\n".join(out) + "\n"


#: fractions of the trials at which summary.md tabulates the hypervolume ratio
_CONVERGENCE_SHARES = (0.1, 0.25, 0.5, 0.8, 1.0)


def convergence_of(result: Any, best_front: Any = None) -> Any:
    """The convergence of a search result (:func:`dse.plots.convergence_data`).

    Parameters
    ----------
    result : StudyResult
        An optuna search (``kind == "optuna"``); a grid is exhaustive and has none.
    best_front : array_like or DataFrame, optional
        The best-known front's objective values (default: the run's own front).

    Returns
    -------
    dse.plots.ConvergenceData or None
        None for a grid or an empty result.
    """
    from dse.plots import convergence_data

    if getattr(result, "kind", "optuna") == "grid" or not len(result.designs):
        return None
    objectives = _directions(dict(result.study.objectives))
    return convergence_data(result.designs, objectives, best_front=best_front)


def _convergence_lines(result: Any, data: Any, files: Mapping[str, Path] | None) -> list[str]:
    if data is None:
        data = convergence_of(result)
    if data is None:
        return []
    from dse.plots import CONVERGENCE_REFERENCE, CONVERGENCE_TAIL, CONVERGENCE_TOLERANCE

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
