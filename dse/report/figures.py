"""The study's figures of one design: the chip of a result row, and its roofline and thermal map; labels and keys of the Pareto plots."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from dse.report.format import _with_unit
from dse.report.metadata import _OVERRIDE_KEYS, _study_tech, _tech_path
from dse.spec import CHIP_KEYS


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
    from dse.plots import new_figure, plot_roofline, roofline_data

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
    from dse.plots import new_figure
    from dse.plots.thermal import plot_thermal_map

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


def _node_order(nodes: Sequence[str]) -> list[str]:
    """Nodes by feature size (largest first) when the technology table knows them."""
    try:
        from dse.tech import default_tech

        table = default_tech().node_table()
        size = {n: float(table.loc[n, "feature_nm"]) for n in nodes if n in table.index}
        return sorted(nodes, key=lambda n: (-size.get(n, -1.0), n))
    except Exception:  # noqa: BLE001 - fall back to names
        return sorted(nodes)


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
    from dse.plots import new_figure

    fig = new_figure(width_in, height_in)
    fig.add_subplot()
    return fig
