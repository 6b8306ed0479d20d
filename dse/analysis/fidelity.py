"""Model vs published numbers of real chips: the error table behind ``dse validate``.

The reference chips live in ``dse/data/reference_chips/*.toml`` (each a contract chip
file describing the chip *as shipped*: enabled cores, enabled SRAM, populated memory)
and their published numbers in ``dse/data/reference_chips.csv``, one row per chip x
metric with a ``source``, a ``quality`` and a ``role``:

quality
    ``exact`` (datasheet or paper value), ``range`` (a published range or bound; rows
    with only one bound are shown but left out of the error statistics), ``marketing``
    ("up to", best case), ``derived`` (computed from other published numbers, method in
    ``source``), ``measured`` (a third-party benchmark measurement).
role
    ``fit`` (used by ``scripts/calibrate.py`` to fit the model constants), ``held-out``
    (not used by any fit: the honest test), ``check`` (not fitted; peak and bandwidth
    are exact by construction, power and clock rows test the power model).

Die area
--------
Die areas are compared on the published dies of ``dse/data/reference_dies.csv`` (each
die as manufactured: every core, disabled ones included, its SRAM by class, its memory
PHYs), not on the shipped parts above: :func:`die_area_table`. Its roles are the area
fit's (``fit``, ``held-out``, ``check``; ``excluded`` rows are not evaluated) and its
area qualities ``exact``, ``analyst`` (die-shot or floorplan measurement), ``estimate``
(shown, not counted) and ``upper_bound`` (a one-sided bound, shown, not counted).

Derived metrics: ``achieved_tflops`` = the workload's FLOPs / ``latency_s`` (e.g. a
measured cuBLAS GEMM rate); every other metric is a :class:`dse.chain.Metrics` field.

References
----------
Sources per row in ``dse/data/reference_chips.csv``; fitted constants and their bounds
in ``dse/data/model_constants.csv`` (fitted by ``scripts/calibrate.py``).
"""

from __future__ import annotations

import argparse
import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dse.chain import evaluate
from dse.constants import ModelConstants, default_constants
from dse.errors import DseInputError
from dse.spec import ChipSpec, load_chip
from dse.tech import Technology, default_tech
from dse.workloads import parse_workload

DATA_DIR = Path(__file__).parents[1] / "data"
REFERENCE_CSV = DATA_DIR / "reference_chips.csv"
DIES_CSV = DATA_DIR / "reference_dies.csv"
REFERENCE_DIR = DATA_DIR / "reference_chips"

QUALITIES = ("exact", "range", "marketing", "derived", "measured")
ROLES = ("fit", "held-out", "check")
COLUMNS = (
    "chip", "metric", "workload", "value", "low", "high", "unit", "quality", "role", "source",
    "note",
)  # fmt: skip
#: reference_dies.csv: area qualities, roles and families
DIE_QUALITIES = ("exact", "analyst", "estimate", "upper_bound")
DIE_ROLES = ("fit", "held-out", "check", "excluded")
DIE_FAMILIES = ("gpu", "systolic", "manycore", "dataflow")
#: die-area qualities that count in the error statistics (a value, not a bound or a guess)
DIE_VALUED = ("exact", "analyst")
#: comparable metrics, in display order
METRICS = (
    "die_area_mm2",
    "peak_tflops",
    "memory_bandwidth_gbps",
    "idle_power_w",
    "sustained_clock_ghz",
    "power_w",
    "achieved_tflops",
    "tokens_per_s",
    "throughput_per_s",
    "energy_per_item_j",
    "latency_s",
    "ttft_s",
    "request_latency_s",
)
_WORKLOAD_METRICS = frozenset(METRICS[4:])
#: LLM step-time rows, by phase (metrics, workload prefixes): what ``dse validate`` reports apart
LLM_PHASES = {
    "decode": (("request_latency_s", "tokens_per_s"), ("request:", "llm-decode")),
    "prefill": (("ttft_s",), ("llm-prefill",)),
}


# ---------------------------------------------------------------------------------------
# loading
# ---------------------------------------------------------------------------------------


def read_checked_csv(path: Path, columns, allowed=(), **read_kw) -> pd.DataFrame:
    """Read a reference table with one-line errors (:class:`dse.errors.DseInputError`).

    Parameters
    ----------
    path : Path
        The CSV file.
    columns : iterable of str
        Columns the table must have.
    allowed : iterable of (str, tuple)
        ``(column, allowed values)``: the first row (numbered as in the file, header = 1)
        with another value is named.
    **read_kw
        Passed to :func:`pandas.read_csv`.
    """
    try:
        table = pd.read_csv(path, **read_kw)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DseInputError(f"cannot read {path}: {str(exc).splitlines()[0]}") from None
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise DseInputError(f"{path}: missing column '{missing[0]}'")
    for col, values in allowed:
        bad = table.loc[~table[col].isin(values), col]
        if len(bad):
            raise DseInputError(
                f"{path} row {int(bad.index[0]) + 2}: {col} must be one of {', '.join(values)}"
            )
    return table


def load_reference_table(path: str | Path | None = None) -> pd.DataFrame:
    """Read and check the published-numbers table.

    Parameters
    ----------
    path : str or Path, optional
        CSV file (default: the packaged ``dse/data/reference_chips.csv``).

    Returns
    -------
    DataFrame
        One row per chip x metric (x workload); ``low``/``high`` NaN where not given,
        ``workload`` an empty string for workload-independent metrics.
    """
    path = Path(path) if path is not None else REFERENCE_CSV
    table = read_checked_csv(path, COLUMNS, dtype={"workload": str}, keep_default_na=True)
    table["workload"] = table["workload"].fillna("").astype(str)
    for col in ("value", "low", "high"):
        table[col] = pd.to_numeric(table[col], errors="coerce")
    for i, row in table.iterrows():
        where = f"{path} row {int(i) + 2}"
        if row["quality"] not in QUALITIES:
            raise DseInputError(f"{where}: quality must be one of {', '.join(QUALITIES)}")
        if row["role"] not in ROLES:
            raise DseInputError(f"{where}: role must be one of {', '.join(ROLES)}")
        if row["metric"] == "die_area_mm2":
            raise DseInputError(f"{where}: die areas belong in {DIES_CSV.name}, not here")
        if row["metric"] not in METRICS:
            raise DseInputError(f"{where}: unknown metric '{row['metric']}'")
        if not (math.isfinite(row["value"]) and row["value"] > 0):
            raise DseInputError(f"{where}: value must be a positive number")
        if (row["metric"] in _WORKLOAD_METRICS) != bool(row["workload"]):
            raise DseInputError(
                f"{where}: metric '{row['metric']}' needs a workload iff it is a workload metric"
            )
        if not str(row["source"]).strip() or str(row["source"]) == "nan":
            raise DseInputError(f"{where}: every row needs a source")
    return table


def reference_chips(directory: str | Path | None = None) -> dict[str, ChipSpec]:
    """The reference chips (as shipped) by file stem, e.g. ``"a100"``."""
    directory = Path(directory) if directory is not None else REFERENCE_DIR
    chips = {p.stem: load_chip(p) for p in sorted(directory.glob("*.toml"))}
    if not chips:
        raise DseInputError(f"no reference chip files in {directory}")
    return chips


#: reference_dies.csv columns the loader needs
DIE_COLUMNS = (
    "key", "chip", "family", "node", "die_area_mm2", "area_quality", "cores", "macs_per_core",
    "mac_dtype", "sram_kind", "cache_mb", "scratchpad_mb", "register_file_mb", "memory",
    "memory_count", "role", "vector_lanes_per_core", "source",
)  # fmt: skip


def load_reference_dies(path: str | Path | None = None, tech: Technology | None = None) -> pd.DataFrame:
    """Read and check the published dies (``dse/data/reference_dies.csv``).

    Returns every row (``excluded`` ones too, with their reason in ``note``); node and
    memory ids must be known to ``tech``.
    """
    path = Path(path) if path is not None else DIES_CSV
    tech = tech if tech is not None else default_tech()
    dies = read_checked_csv(path, DIE_COLUMNS, (
        ("area_quality", DIE_QUALITIES), ("role", DIE_ROLES), ("family", DIE_FAMILIES),
        ("sram_kind", ("cache", "scratchpad")), ("mac_dtype", ("bf16", "fp8", "int8")),
    ))  # fmt: skip
    if dies["key"].duplicated().any():
        raise DseInputError(f"{path}: duplicate key '{dies.loc[dies['key'].duplicated(), 'key'].iloc[0]}'")
    for i, row in dies.iterrows():
        where = f"{path} row {int(i) + 2}"
        tech.resolve_node(row["node"], where=where)
        tech.resolve_memory(row["memory"], where=where)
        if not str(row["source"]).strip() or str(row["source"]) == "nan":
            raise DseInputError(f"{where}: every die needs a source")
    return dies


def die_designs(dies: pd.DataFrame) -> pd.DataFrame:
    """Each die as a design for :func:`dse.evaluate_many` (area keys only; the clock and
    power keys are placeholders that do not enter the area)."""
    sram = dies[["cache_mb", "scratchpad_mb"]].fillna(0.0).sum(axis=1)
    return pd.DataFrame(
        {
            "name": dies["chip"], "node": dies["node"], "cores": dies["cores"].astype(int),
            "macs_per_core": dies["macs_per_core"].astype(int), "mac_dtype": dies["mac_dtype"],
            "sram_mb": sram.clip(lower=0.01), "sram_kind": dies["sram_kind"],
            "register_file_mb": dies["register_file_mb"].fillna(0.0),
            "vector_lanes": dies["vector_lanes_per_core"].astype(int),
            "memory": dies["memory"], "memory_count": dies["memory_count"].astype(int),
            "clock_ghz": 1.0, "tdp_w": 300.0, "cooling": "air",
        }
    )  # fmt: skip


def die_area_table(
    constants: ModelConstants | None = None,
    tech: Technology | None = None,
    dies: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Model vs published die area of every usable reference die (role not ``excluded``).

    Rows in the layout of :func:`validation_table` (metric ``die_area_mm2``, ``chip`` the
    die's key) plus ``family``; an ``upper_bound`` area is a one-sided range.
    """
    from dse.chain import evaluate_many

    tech = tech if tech is not None else default_tech()
    dies = dies if dies is not None else load_reference_dies(tech=tech)
    dies = dies[dies["role"] != "excluded"].reset_index(drop=True)
    model = evaluate_many(die_designs(dies), tech=tech, constants=constants)["die_area_mm2"]
    published = dies["die_area_mm2"].astype(float)
    bound = dies["area_quality"] == "upper_bound"
    error = model.to_numpy() / published.to_numpy() - 1.0
    return pd.DataFrame(
        {
            "chip": dies["key"], "name": dies["chip"], "metric": "die_area_mm2", "workload": "",
            "unit": "mm2", "published": published, "low": np.nan,
            "high": np.where(bound, published, np.nan),
            "quality": np.where(bound, "range", dies["area_quality"]), "role": dies["role"],
            "model": model.to_numpy(), "error": error, "abs_error": np.abs(error),
            "in_range": ~bound | (model.to_numpy() <= published.to_numpy() * (1 + 1e-9)),
            "family": dies["family"], "source": dies["source"],
        }
    )  # fmt: skip


def die_area_by_family(frame: pd.DataFrame) -> pd.DataFrame:
    """Die-area error per architecture family over the counted rows (exact and analyst
    areas): ``n``, ``median_abs_error``, ``worst`` (signed), ``n_held_out``,
    ``held_out_median_abs_error``, ``held_out_worst`` (signed)."""
    sub = frame[(frame["metric"] == "die_area_mm2") & _in_stats(frame)]
    keys = ("n", "median_abs_error", "worst", "n_held_out", "held_out_median_abs_error", "held_out_worst")
    return _group_stats(((fam, sub[sub["family"] == fam]) for fam in DIE_FAMILIES), "family", keys)


def llm_phase_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """LLM step-time error by phase (:data:`LLM_PHASES`): ``phase``, ``n``,
    ``median_abs_error``, ``n_held_out``, ``held_out_median_abs_error``, ``held_out_worst``."""
    counted = frame[_in_stats(frame)]
    groups = (
        (phase, counted[counted["metric"].isin(metrics) & counted["workload"].str.startswith(prefixes)])
        for phase, (metrics, prefixes) in LLM_PHASES.items()
    )
    keys = ("n", "median_abs_error", "n_held_out", "held_out_median_abs_error", "held_out_worst")
    return _group_stats(groups, "phase", keys)


def _group_stats(groups, label: str, keys: tuple[str, ...]) -> pd.DataFrame:
    """One row of :func:`_error_stats` (the columns ``keys``) per non-empty (name, rows)
    group, the name in column ``label``."""
    out = []
    for name, rows in groups:
        if len(rows):
            stats = _error_stats(rows)
            out.append({label: name, **{k: stats[k] for k in keys}})
    return pd.DataFrame(out)


def _error_stats(rows: pd.DataFrame) -> dict[str, Any]:
    """Error statistics of some comparison rows, all of them and the held-out ones:
    count, median / mean / max absolute error, the worst signed error (NaN when none)."""
    held = rows[rows["role"] == "held-out"]

    def worst(r: pd.DataFrame) -> float:
        return float(r["error"].iloc[int(np.argmax(r["abs_error"].to_numpy()))]) if len(r) else math.nan

    return dict(
        n=len(rows),
        median_abs_error=float(rows["abs_error"].median()),
        mean_abs_error=float(rows["abs_error"].mean()),
        max_abs_error=float(rows["abs_error"].max()),
        worst=worst(rows),
        n_held_out=len(held),
        held_out_median_abs_error=float(held["abs_error"].median()) if len(held) else math.nan,
        held_out_worst=worst(held),
    )


# ---------------------------------------------------------------------------------------
# the table
# ---------------------------------------------------------------------------------------


def validation_table(
    constants: ModelConstants | None = None,
    tech: Technology | None = None,
    table: pd.DataFrame | None = None,
    chips: dict[str, ChipSpec] | None = None,
    dies: pd.DataFrame | None = None,
    with_dies: bool = True,
) -> pd.DataFrame:
    """Model vs published value for every comparison row of the reference table, after
    the die areas of the reference dies (:func:`die_area_table`).

    Parameters
    ----------
    constants : ModelConstants, optional
        Model constants (default: the packaged, calibrated ones). Calibration passes
        trial constants here.
    tech : Technology, optional
        Technology tables (default: the packaged ones).
    table : DataFrame, optional
        Published numbers (default: :func:`load_reference_table`).
    chips : dict, optional
        Reference chips by key (default: :func:`reference_chips`).
    dies : DataFrame, optional
        Published dies (default: :func:`load_reference_dies`).
    with_dies : bool
        Include the die-area rows (calibration leaves them out where it fits other
        constants).

    Returns
    -------
    DataFrame
        Columns ``chip, name, metric, workload, unit, published, low, high, quality,
        role, model, error, abs_error, in_range, family, source`` (``family`` set on
        die-area rows); ``error`` is the
        signed relative error (model - published) / published, ``in_range`` whether the
        model lies within [low, high] where a range is given.
    """
    c = constants if constants is not None else default_constants()
    tech = tech if tech is not None else default_tech()
    table = table if table is not None else load_reference_table()
    chips = chips if chips is not None else reference_chips()
    rows = []
    cache: dict[tuple[str, str], Any] = {}
    for _, ref in table.iterrows():
        key = ref["chip"]
        if key not in chips:
            raise DseInputError(
                f"reference table names chip '{key}' with no file in {REFERENCE_DIR}"
            )
        chip = chips[key]
        metric, wl_text = ref["metric"], ref["workload"]
        if metric == "request_latency_s":
            model = request_latency_s(chip, wl_text, tech=tech, constants=c)
        elif not wl_text:
            m = cache.setdefault((key, ""), evaluate(chip, tech=tech, constants=c))
            model = getattr(m, metric)
        else:
            wl = parse_workload(wl_text)
            m = cache.setdefault((key, wl_text), evaluate(chip, wl, tech=tech, constants=c))
            model = (
                wl.total_flops / m.latency_s * 1e-12
                if metric == "achieved_tflops"
                else getattr(m, metric)
            )
        published = float(ref["value"])
        err = (float(model) - published) / published
        lo, hi = ref["low"], ref["high"]
        in_range = bool(
            (math.isnan(lo) or model >= lo * (1 - 1e-9))
            and (math.isnan(hi) or model <= hi * (1 + 1e-9))
        )
        rows.append(
            dict(
                chip=key,
                name=chip.name,
                metric=metric,
                workload=wl_text,
                unit=ref["unit"],
                published=published,
                low=lo,
                high=hi,
                quality=ref["quality"],
                role=ref["role"],
                model=float(model),
                error=err,
                abs_error=abs(err),
                in_range=in_range,
                family="",
                source=ref["source"],
            )
        )
    frame = pd.DataFrame(rows)
    if not frame.empty:
        # one block per chip (in table order), metrics in METRICS order within a chip
        chip_order = {k: i for i, k in enumerate(dict.fromkeys(table["chip"]))}
        order = frame["chip"].map(chip_order) * len(METRICS) + frame["metric"].map(METRICS.index)
        frame = frame.iloc[order.argsort(kind="stable")]
    if not with_dies:
        return frame.reset_index(drop=True)
    areas = die_area_table(constants=c, tech=tech, dies=dies)
    return pd.concat([areas, frame], ignore_index=True)


_REQUEST = re.compile(r"request:(?P<model>[^:]+):batch=(?P<batch>\d+),prompt=(?P<prompt>\d+),output=(?P<output>\d+)(?::(?P<rest>.*))?$")


def request_latency_s(
    chip: ChipSpec, text: str, tech: Technology | None = None, constants: ModelConstants | None = None
) -> float:
    """End-to-end time of a static batch of requests [s]: the prefill of every prompt,
    then ``output`` decode steps (the time of the step at the mean context).

    ``text`` is ``request:MODEL:batch=B,prompt=P,output=O[:dtype=...]``, the form of
    the ``request_latency_s`` rows of ``reference_chips.csv`` (benchmarks that time a
    whole batch from submission to its last token).

    Notes
    -----
    T = TTFT(B, P) + O t_decode(B, P + O / 2), the time to first token (prefill and the
    host's per-prompt-token time) then the decode steps: decode time grows about linearly with
    the context (the KV-cache reads), so the step at the mean context is the mean step.
    """
    match = _REQUEST.match(text.strip())
    if match is None:
        raise DseInputError(f"request row {text!r}: expected request:MODEL:batch=B,prompt=P,output=O")
    g = match.groupdict()
    rest = f":{g['rest']}" if g["rest"] else ""
    b, p, o = int(g["batch"]), int(g["prompt"]), int(g["output"])
    prefill = evaluate(chip, f"llm-prefill:{g['model']}:batch={b},seq={p}{rest}", tech=tech, constants=constants)
    decode = evaluate(chip, f"llm-decode:{g['model']}:batch={b},context={p + o // 2}{rest}", tech=tech, constants=constants)
    assert prefill.ttft_s is not None and decode.latency_s is not None  # both evaluated on a workload
    return float(prefill.ttft_s + o * decode.latency_s)


def _in_stats(frame: pd.DataFrame) -> pd.Series:
    """Rows that count in the error statistics: a one-sided bound or an estimated die
    area is not a value."""
    one_sided = (frame["quality"] == "range") & (frame["low"].isna() | frame["high"].isna())
    return ~one_sided & (frame["quality"] != "estimate")


def error_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Median and mean absolute relative error per metric.

    Returns one row per metric with ``n``, ``median_abs_error``, ``mean_abs_error``,
    ``max_abs_error`` over all counted rows, and ``n_held_out`` /
    ``held_out_median_abs_error`` over the ``held-out`` rows only (NaN when none).
    One-sided bounds (``range`` rows with only ``low`` or ``high``) are left out.
    """
    counted = frame[_in_stats(frame)]
    keys = ("n", "median_abs_error", "mean_abs_error", "max_abs_error", "n_held_out", "held_out_median_abs_error")
    return _group_stats(((m, counted[counted["metric"] == m]) for m in METRICS), "metric", keys)


# ---------------------------------------------------------------------------------------
# output
# ---------------------------------------------------------------------------------------


def _num(x: float) -> str:
    if not math.isfinite(x):
        return ""
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:.3g}"


def format_markdown(frame: pd.DataFrame, summary: pd.DataFrame) -> str:
    """The error table and the per-metric summary as Markdown."""
    lines = [
        "| chip | metric | workload | published | model | error | quality | role |",
        "|---|---|---|---:|---:|---:|---|---|",
    ]
    for _, r in frame.iterrows():
        pub = _num(r["published"])
        if r["quality"] == "range":
            lo = "" if math.isnan(r["low"]) else _num(r["low"])
            hi = "" if math.isnan(r["high"]) else _num(r["high"])
            pub = f"{lo}..{hi}" if lo else f"< {hi}" if hi else pub
        err = f"{r['error']:+.1%}"
        if r["quality"] == "range" and r["in_range"]:
            err += " (in range)"
        lines.append(
            f"| {r['name']} | {r['metric']} | {r['workload']} | {pub} | {_num(r['model'])} | {err} "
            f"| {r['quality']} | {r['role']} |"
        )
    lines += [
        "",
        "| metric | n | median abs error | mean abs error | max | held-out n | held-out median |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for _, s in summary.iterrows():
        held = (
            ""
            if math.isnan(s["held_out_median_abs_error"])
            else f"{s['held_out_median_abs_error']:.1%}"
        )
        lines.append(
            f"| {s['metric']} | {s['n']} | {s['median_abs_error']:.1%} | {s['mean_abs_error']:.1%} "
            f"| {s['max_abs_error']:.1%} | {s['n_held_out']} | {held} |"
        )
    lines += _group_table(
        "LLM step time by phase (decode: request latency of static batches and decode rates; prefill: time to first token):",
        llm_phase_summary(frame), "phase", worst=False,
    )  # fmt: skip
    lines += _group_table(
        "Die area per architecture family (exact and analyst areas):",
        die_area_by_family(frame), "family", worst=True,
    )  # fmt: skip
    lines += [
        "",
        "role: fit = used by scripts/calibrate.py; held-out = not used by any fit; "
        "check = not fitted (peak and bandwidth exact by construction).",
        "Die areas are of the dies as manufactured (dse/data/reference_dies.csv); "
        "one-sided bounds and estimated areas are shown but not counted in the statistics.",
    ]
    return "\n".join(lines)


def _group_table(title: str, table: pd.DataFrame, label: str, *, worst: bool) -> list[str]:
    """Markdown lines of an error table per group (phase, family); none if empty."""
    if table.empty:
        return []
    pct = lambda v, fmt: "" if math.isnan(v) else format(v, fmt)  # noqa: E731
    lines = [
        "", title, "",
        f"| {label} | n | median abs error |{' worst |' if worst else ''} held-out n | held-out median | held-out worst |",
        "|---|---:|---:|" + ("---:|" if worst else "") + "---:|---:|---:|",
    ]  # fmt: skip
    for _, g in table.iterrows():
        cells = [g[label], g["n"], pct(g["median_abs_error"], ".1%")]
        if worst:
            cells.append(pct(g["worst"], "+.1%"))
        cells += [g["n_held_out"], pct(g["held_out_median_abs_error"], ".1%"), pct(g["held_out_worst"], "+.1%")]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return lines


def to_json(frame: pd.DataFrame, summary: pd.DataFrame) -> dict[str, Any]:
    """A JSON-ready dict: ``{"rows": [...], "summary": {metric: {...}}}`` (NaN -> null)."""

    def clean(d: dict[str, Any]) -> dict[str, Any]:
        return {
            k: (
                None
                if isinstance(v, float) and not math.isfinite(v)
                else v.item()
                if isinstance(v, np.generic)
                else v
            )
            for k, v in d.items()
        }

    return {
        "rows": [clean(r) for r in frame.to_dict(orient="records")],
        "summary": {
            r["metric"]: clean({k: v for k, v in r.items() if k != "metric"})
            for r in summary.to_dict(orient="records")
        },
        "llm_phases": {
            r["phase"]: clean({k: v for k, v in r.items() if k != "phase"})
            for r in llm_phase_summary(frame).to_dict(orient="records")
        },
    }


def cmd_validate(args: argparse.Namespace) -> int:
    """``dse validate [--json]``: print the error table; exit code 0."""
    frame = validation_table()
    summary = error_summary(frame)
    if getattr(args, "json", False):
        print(json.dumps(to_json(frame, summary), indent=2))
    else:
        print(format_markdown(frame, summary))
    return 0
