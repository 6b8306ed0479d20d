"""Writing a study's outputs: CSVs with their metadata, figures, ``summary.md`` and ``report.html``."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from dse.report.category_fronts import category_fronts, summary_lines, write_figures
from dse.report.choice import _directions, choose_design
from dse.report.csv_notes import mark_chosen
from dse.report.figures import (
    _node_order,
    _parallel_keys,
    _pareto_label_of,
    _pareto_labels,
    _roofline_figure,
    _single_axes_figure,
    _thermal_map_figure,
)
from dse.report.metadata import _write_metadata, csv_metadata
from dse.report.summary import _csv_note_lines, convergence_of, summary_markdown
from dse.report.tables import _complete_keys, _to_csv, trials_for_csv


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


def write_outputs(
    result: Any, out_dir: str | Path, *, chosen: Any = None, convergence: Any = None
) -> dict[str, Path]:
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
    convergence : dse.plots.ConvergenceData, optional
        The search's convergence when the caller has it (default:
        :func:`convergence_of` of ``result``; computed once for every output).

    Returns
    -------
    dict of str to pathlib.Path
        ``"pareto"``, ``"trials"``, their metadata sidecars ``"pareto_meta"`` and
        ``"trials_meta"`` (see :func:`csv_metadata`), ``"summary"``, ``"report"``
        (``report.html``, :func:`dse.report.html.write_report`) and one entry per plot
        written (``"pareto_fronts"``, ``"roofline"``, ``"node_fronts"``,
        ``"parallel_coordinates"``, ``"convergence"`` for an optuna search). A plot that cannot be drawn (fewer than two
        objectives, no feasible design, a single node) is skipped with a note in the
        summary; a failure of the model while building the roofline is reported as a
        warning and a note, never raised.
    """
    from dse.plots import pareto_fronts_figure, save_figure

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

    _write_node_fronts(designs, objectives, title, out, files, notes)
    fronts = category_fronts(designs, study, objectives)
    files.update(write_figures(fronts, out, title, _single_axes_figure, save_figure))

    _write_parallel_coords(study, pareto, names, chosen_row, title, out, files, notes)

    if convergence is None:
        convergence = convergence_of(result)
    if convergence is not None and not len(convergence.trials):
        notes.append("convergence.png not drawn: no feasible design.")
    elif convergence is not None:
        from dse.plots import plot_convergence

        fig = _single_axes_figure(7.5, 4.6)
        plot_convergence(convergence, ax=fig.axes[0])
        files["convergence"] = save_figure(fig, out / "convergence.png")
    from dse.report.html import write_report

    try:
        files["report"] = write_report(result, out, chosen=chosen_row, convergence=convergence)
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


def _write_node_fronts(
    designs: pd.DataFrame, objectives: dict[str, str], title: str, out: Path,
    files: dict[str, Path], notes: list[str],
) -> None:
    """``node_fronts.png``: the best feasible designs per node (first two objectives)."""
    from dse.plots import node_fronts_data, plot_node_fronts, save_figure

    names = list(objectives)
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


def _write_parallel_coords(
    study: Any, pareto: pd.DataFrame, names: list[str], chosen_row: Any, title: str,
    out: Path, files: dict[str, Path], notes: list[str],
) -> None:
    """``parallel_coordinates.png``: the Pareto set on parallel axes, the chosen design marked."""
    from dse.plots import parallel_coords_data, plot_parallel_coords, save_figure

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


def write_result(result: Any, out: Path, *, convergence: Any = None) -> list[str]:
    """Write the outputs of a result into ``out`` (:func:`dse.report.write_outputs`).

    Returns
    -------
    list of str
        Names of the files written.
    """
    files = write_outputs(result, out, convergence=convergence)
    return [Path(p).name for p in files.values()]
