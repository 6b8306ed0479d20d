"""The data behind ``report.html``: every trial's coordinates and key metrics, and the details of the Pareto designs (roofline, power by component, thermal map), as plain tables and lists the page embeds."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dse.errors import DseInputError
from dse.metrics import METRICS, unit_of
from dse.report.category_fronts import category_fronts
from dse.spec import CHIP_KEYS

#: designs drawn at most (the Pareto set always; a seeded sample of the others)
REPORT_MAX_POINTS = 20_000


#: Pareto designs whose roofline, power split and thermal map are pre-rendered at most
DETAIL_MAX = 300


#: above this many designs drawn, the non-Pareto points are drawn with WebGL (plotly's
#: ``scattergl``): SVG takes seconds per 10,000 points, WebGL a fraction of that
WEBGL_ABOVE = 5_000


#: cells per side of the pre-rendered thermal maps (the PNG uses 64)
THERMAL_CELLS = 32


#: metrics shown for every design (when the study has them); the Pareto set shows all
KEY_METRICS = (
    "die_area_mm2",
    "peak_tflops",
    "export_class",
    "yield",
    "unit_cost_usd",
    "tokens_per_s",
    "throughput_per_s",
    "latency_s",
    "energy_per_item_j",
    "power_w",
    "sustained_clock_ghz",
    "junction_temp_c",
    "memory_temp_c",
    "lifetime_years",
    "ttft_s",
    "tpot_s",
    "goodput_tokens_per_s",
)


@dataclass(frozen=True)
class ReportData:
    """What the sections of a report read.

    Attributes
    ----------
    study : StudyConfig
        The study.
    designs : pandas.DataFrame
        The designs drawn (all, or the Pareto set plus a seeded sample), with
        ``feasible``, ``violations`` and ``pareto`` (bool).
    n_designs : int
        Designs in the study (``designs`` may hold fewer).
    note : str
        How the drawn designs were selected ("" when all are drawn).
    chosen_trial : int or None
        The knee design (selected when the page opens).
    details : dict
        Trial number -> pre-rendered detail (:func:`design_detail`) of Pareto designs.
    kind : str
        ``optuna`` or ``grid``.
    convergence : dse.plots.ConvergenceData or None
        The front's hypervolume against trials (:func:`dse.report.convergence_of`; None
        for a grid).
    category_fronts : dict
        Categorical key -> its fronts per choice, from all designs
        (:func:`dse.report.category_fronts.category_fronts`: the data of ``<key>_fronts.png``).
    """

    study: Any
    designs: pd.DataFrame
    n_designs: int
    note: str = ""
    chosen_trial: int | None = None
    details: dict[int, dict[str, Any]] = field(default_factory=dict)
    kind: str = "optuna"
    convergence: Any = None
    category_fronts: dict[str, Any] = field(default_factory=dict)


def _round(values: Any, digits: int = 5) -> list[Any]:
    """Floats to ``digits`` significant digits (None for NaN/inf): a smaller page."""
    v = np.asarray(values, dtype=float)
    out = np.full(v.shape, np.nan)
    ok = np.isfinite(v) & (v != 0)
    mag = np.floor(np.log10(np.abs(v[ok])))
    scale = 10.0 ** (digits - 1 - mag)
    out[ok] = np.round(v[ok] * scale) / scale
    out[v == 0] = 0.0
    return [
        None if not math.isfinite(x) else (int(x) if x == int(x) and abs(x) < 2**53 else x)
        for x in out.tolist()
    ]


def _column(frame: pd.DataFrame, key: str) -> list[Any]:
    col = frame[key]
    if col.dtype == bool or str(col.dtype) == "boolean":
        return [bool(x) for x in col.fillna(False)]
    if pd.api.types.is_numeric_dtype(col):
        return _round(pd.to_numeric(col, errors="coerce").to_numpy(dtype=float))
    return ["" if pd.isna(x) else str(x) for x in col]


def design_detail(row: Mapping[str, Any], study: Any, tech: Any = None) -> dict[str, Any]:
    """The pre-rendered detail of one design: roofline, power by component, thermal map.

    Parameters
    ----------
    row : mapping
        The design (chip keys; ``trial`` names it).
    study : StudyConfig
        Its study (workload, fixed keys).
    tech : Technology, optional
        The study's tables.

    Returns
    -------
    dict
        ``roofline`` (ceilings, ridge points, axis ranges and one entry per op:
        intensity [FLOP/byte], achieved [TFLOP/s], time share, bound), ``power``
        (component, W, share, heats), ``thermal`` (a ``THERMAL_CELLS`` square grid of
        temperatures [°C], die size [mm], peak and mean [°C], the largest blocks'
        outlines) and ``errors`` (what could not be computed).
    """
    from dse.chain import op_breakdown, power_breakdown, roofline_ceilings, thermal_map
    from dse.plots import roofline_data
    from dse.plots.thermal import thermal_map_data
    from dse.report import chip_from_row

    trial = row.get("trial")
    chip = chip_from_row(row, study, name=f"{study.name}-trial-{trial}")
    out: dict[str, Any] = {"errors": []}
    try:
        rd = roofline_data(
            op_breakdown(chip, study.workload, tech), roofline_ceilings(chip, study.workload, tech)
        )
        ops = rd.ops
        out["roofline"] = {
            "peak_tflops": _round([rd.peak_tflops])[0],
            "dram_gbps": _round([rd.dram_bandwidth_gbps])[0],
            "sram_gbps": _round([rd.sram_bandwidth_gbps])[0],
            "x_range": list(rd.x_range),
            "y_range": list(rd.y_range),
            "op": ops["op"].tolist(),
            "x": _round(ops["x"].to_numpy()),
            "y": _round(ops["y"].to_numpy()),
            "share": _round(ops["time_share"].to_numpy(), 3),
            "bound": ops["bound"].tolist(),
        }
    except Exception as exc:  # noqa: BLE001 - one design's detail must not stop the page
        out["errors"].append(f"roofline: {type(exc).__name__}: {exc}")
    try:
        pb = power_breakdown(chip, study.workload, tech)
        out["power"] = {
            "component": pb["component"].tolist(),
            "power_w": _round(pb["power_w"].to_numpy(), 4),
            "share": _round(pb["share"].to_numpy(), 3),
            "heats": pb["heats"].tolist(),
        }
    except Exception as exc:  # noqa: BLE001
        out["errors"].append(f"power: {type(exc).__name__}: {exc}")
    try:
        grid_result, floorplan = thermal_map(chip, study.workload, tech, cells=THERMAL_CELLS)
        td = thermal_map_data(grid_result, floorplan)
        blocks = sorted(td.blocks, key=lambda b: -b.w_mm * b.h_mm)[:40]
        out["thermal"] = {
            "z": np.round(np.asarray(td.temps_c, dtype=float), 1).tolist(),  # 0.1 K
            "extent_mm": _round(np.asarray(td.extent_mm), 4),
            "peak_c": _round([td.peak_c], 4)[0],
            "mean_c": _round([td.mean_c], 4)[0],
            "peak_xy_mm": _round(np.asarray(td.peak_xy_mm), 4),
            "runaway": td.runaway,
            "blocks": [
                [b.kind, b.label or b.name]
                + _round(np.array([b.x0_mm, b.y0_mm, b.w_mm, b.h_mm]), 4)
                for b in blocks
            ],
        }
    except Exception as exc:  # noqa: BLE001
        out["errors"].append(f"thermal map: {type(exc).__name__}: {exc}")
    return out


def _detail_rows(pareto: pd.DataFrame, chosen_trial: int | None, limit: int) -> pd.DataFrame:
    """The Pareto rows to pre-render: all, or ``limit`` spread along the first objective."""
    if len(pareto) <= limit:
        return pareto
    pick = np.unique(np.linspace(0, len(pareto) - 1, limit).round().astype(int))
    rows = pareto.iloc[pick]
    if chosen_trial is not None and chosen_trial not in set(rows["trial"]):
        rows = pd.concat([rows, pareto[pareto["trial"] == chosen_trial]])
    return rows


def report_data(
    result: Any,
    *,
    chosen: Mapping[str, Any] | None = None,
    max_points: int = REPORT_MAX_POINTS,
    detail_max: int = DETAIL_MAX,
    convergence: Any = None,
) -> ReportData:
    """Collect what the report shows from a study result.

    Parameters
    ----------
    result : StudyResult
        ``study``, ``designs``, ``pareto`` (and ``kind``).
    chosen : mapping, optional
        The chosen design (default: :func:`dse.report.choose_design`, the knee).
    max_points : int
        Designs drawn at most (Pareto set first, then a seeded uniform sample of
        the feasible, then of the infeasible ones).
    detail_max : int
        Pareto designs pre-rendered at most (spread along the first objective).
    convergence : dse.plots.ConvergenceData, optional
        The search's convergence, when the caller has it (default:
        :func:`dse.report.convergence_of` of ``result``).
    """
    from dse.report import choose_design, convergence_of, trials_for_csv
    from dse.report.choice import _directions
    from dse.report.figures import _pareto_labels
    from dse.report.metadata import _study_tech
    from dse.report.tables import _complete_keys

    study = result.study
    designs = _complete_keys(result.designs, study)
    pareto = _complete_keys(result.pareto, study)
    if "trial" not in designs.columns:
        designs = designs.assign(trial=np.arange(len(designs)))
    objectives = _directions(dict(study.objectives))
    if chosen is None and len(pareto):
        chosen = choose_design(pareto, objectives)
    chosen_trial = int(chosen["trial"]) if chosen is not None and "trial" in chosen else None
    labels = _pareto_labels(designs, pareto)
    rows, note = trials_for_csv(designs, labels, max_rows=max_points)
    rows = rows.copy()
    rows["pareto"] = rows.index.isin(labels)
    if "feasible" not in rows:
        rows["feasible"] = True
    rows["violations"] = rows["violations"].fillna("") if "violations" in rows else ""
    details: dict[int, dict[str, Any]] = {}
    if len(pareto):
        tech = _study_tech(study)
        for _, row in _detail_rows(pareto, chosen_trial, detail_max).iterrows():
            details[int(row["trial"])] = design_detail(row, study, tech)
    note = note.replace("trials.csv holds", "The plots draw") if note else ""
    return ReportData(
        study=study,
        designs=rows.reset_index(drop=True),
        n_designs=max(len(designs), int(getattr(result, "n_evaluated", 0) or 0)),
        note=note,
        chosen_trial=chosen_trial,
        details=details,
        kind=getattr(result, "kind", "optuna"),
        convergence=convergence if convergence is not None else convergence_of(result),
        category_fronts=category_fronts(designs, study, objectives),
    )


def _payload(data: ReportData, webgl_above: int = WEBGL_ABOVE) -> dict[str, Any]:
    """The JSON the page's script reads (columns of the drawn designs, details)."""
    study = data.study
    d = data.designs
    chip = [k for k in CHIP_KEYS if k in d.columns and k != "name"]
    objectives = list(study.objectives)
    metrics = [m for m in KEY_METRICS if m in d.columns and m not in objectives]
    keys = ["trial", *chip, *objectives, *metrics]
    cols: dict[str, list[Any]] = {}
    constants: dict[str, Any] = {}  # one value for every design: stored once
    for k in keys:
        values = _column(d, k)
        if k not in ("trial", *objectives) and len(values) and all(v == values[0] for v in values):
            constants[k] = values[0]
        else:
            cols[k] = values
    cols["feasible"] = [int(bool(x)) for x in d["feasible"].fillna(False)]
    cols["pareto"] = [int(bool(x)) for x in d["pareto"]]
    cols["violations"] = [str(x) for x in d["violations"]]
    units = {k: unit_of(k) for k in keys}
    from dse.plots import use_log_scale
    from dse.plots.pareto import _focus_values, _padded_limits

    feas = d["feasible"].fillna(False).to_numpy(dtype=bool)
    front = d["pareto"].to_numpy(dtype=bool)
    log_axes, ranges = {}, {}
    for k in objectives:  # as the PNG fronts: scale and limits from the feasible designs
        v = pd.to_numeric(d[k], errors="coerce").to_numpy(dtype=float)
        ok = np.isfinite(v)
        focus = _focus_values(v[front & ok], v[feas & ok], v[~feas & ok])
        log_axes[k] = use_log_scale(focus)
        lo, hi = _padded_limits(focus, log_axes[k])
        if math.isfinite(lo) and math.isfinite(hi) and hi > lo:
            ranges[k] = [math.log10(lo), math.log10(hi)] if log_axes[k] else [lo, hi]
    return {
        "log_axes": log_axes,
        "ranges": ranges,
        "constants": constants,
        "webgl": len(d) > webgl_above,
        "varying_chip_keys": [k for k in chip if k in cols],
        "name": study.name,
        "workload": study.workload,
        "n": len(d),
        "columns": cols,
        "chip_keys": chip,
        "space_keys": [k for k in study.space if k in d.columns],
        "objectives": [[k, v] for k, v in study.objectives.items()],
        "metrics": metrics,
        "units": units,
        "descriptions": {
            k: METRICS[k].description for k in [*objectives, *metrics] if k in METRICS
        },
        "chosen": data.chosen_trial,
        "details": {str(k): v for k, v in data.details.items()},
    }


def load_result(out_dir: str | Path, study: str | Path | None = None) -> Any:
    """A study's result read back from its output folder (``pareto.csv``, ``trials.csv``).

    Parameters
    ----------
    out_dir : str or pathlib.Path
        A folder written by ``dse run`` or ``dse grid``.
    study : str or pathlib.Path, optional
        The study file (default: the one recorded in ``pareto.csv.meta.json``).

    Raises
    ------
    DseInputError
        The folder holds no study outputs, or the study file is gone.
    """
    from dse.metrics import input_name
    from dse.report import read_csv_metadata
    from dse.search import StudyResult
    from dse.search.study import load_study

    out = Path(out_dir)
    if not out.is_dir():
        raise DseInputError(f"{out} is not a folder")
    pareto_csv, trials_csv = out / "pareto.csv", out / "trials.csv"
    for f in (pareto_csv, trials_csv):
        if not f.exists():
            raise DseInputError(
                f"{out} holds no {f.name}: give the output folder of `dse run` or `dse grid`"
            )
    try:
        meta = read_csv_metadata(pareto_csv)
    except (OSError, ValueError):
        meta = {}
    if study is None:
        rec = (meta.get("study") or {}).get("file") or {}
        path = rec.get("absolute_path") or rec.get("path")
        if not path or not Path(path).exists():
            raise DseInputError(
                f"the study file of {out} ({path or 'not recorded in pareto.csv.meta.json'}) is not there: "
                "give it with --study FILE"
            )
        study = path
    config = load_study(study)

    def read(path: Path) -> pd.DataFrame:
        try:
            frame = pd.read_csv(path, keep_default_na=True)
        except (OSError, ValueError) as exc:
            raise DseInputError(f"cannot read {path}: {str(exc).splitlines()[0]}") from None
        frame = frame.rename(columns=input_name)
        for col in ("feasible", "model_feasible"):
            if col in frame and frame[col].dtype != bool:
                frame[col] = frame[col].astype(str).str.lower().isin(("true", "1", "yes"))
        if "violations" in frame:
            frame["violations"] = frame["violations"].astype(object).fillna("")
        return frame

    designs, pareto = read(trials_csv), read(pareto_csv)
    for name, frame in (("trials.csv", designs), ("pareto.csv", pareto)):
        missing = [k for k in config.objectives if k not in frame.columns]
        if missing:
            raise DseInputError(
                f"{out / name} has no column for the objective(s) {', '.join(missing)} of study '{config.name}'"
            )
    search = meta.get("search") or {}
    return StudyResult(
        study=config,
        designs=designs,
        pareto=pareto,
        kind=search.get("kind") or "optuna",
        n_evaluated=int(search.get("trials") or len(designs)),
        n_feasible=int(designs["feasible"].sum()) if "feasible" in designs else 0,
    )
