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
    are exact by construction, power and clock rows test the power model), ``as-built``
    (an input, not a comparison: see below).

Enabled vs physical cores
-------------------------
A chip's ``cores`` counts the *enabled* cores, which set peak, bandwidth and workload
numbers. The die is larger: A100 ships 108 of 128 SMs, H100 132 of 144, T4 40 of 48,
L4 58 of 60, Wormhole n150 72 of 80 Tensix cores, and the disabled cores (with their
L2 slices and unpopulated HBM PHYs) occupy silicon. The ``as-built`` rows
(``die_cores``, ``die_sram_mb``, ``die_memory_count``) describe the die as
manufactured; the die-area comparison evaluates the chip with those keys replaced and
every other comparison uses the shipped configuration. The correction is explicit in the
table (column ``as_built``), never folded into a constant.

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

DATA_DIR = Path(__file__).parent / "data"
REFERENCE_CSV = DATA_DIR / "reference_chips.csv"
REFERENCE_DIR = DATA_DIR / "reference_chips"

QUALITIES = ("exact", "range", "marketing", "derived", "measured")
ROLES = ("fit", "held-out", "check", "as-built")
COLUMNS = (
    "chip", "metric", "workload", "value", "low", "high", "unit", "quality", "role", "source",
    "note",
)  # fmt: skip
#: as-built row metric -> the chip key it replaces for the die-area comparison
AS_BUILT_KEYS = {
    "die_cores": "cores",
    "die_sram_mb": "sram_mb",
    "die_memory_count": "memory_count",
}
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
)
_WORKLOAD_METRICS = frozenset(METRICS[4:])


# ---------------------------------------------------------------------------------------
# loading
# ---------------------------------------------------------------------------------------


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
    try:
        table = pd.read_csv(path, dtype={"workload": str}, keep_default_na=True)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DseInputError(f"cannot read {path}: {str(exc).splitlines()[0]}") from None
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise DseInputError(f"{path}: missing column '{missing[0]}'")
    table["workload"] = table["workload"].fillna("").astype(str)
    for col in ("value", "low", "high"):
        table[col] = pd.to_numeric(table[col], errors="coerce")
    for i, row in table.iterrows():
        where = f"{path} row {int(i) + 2}"
        if row["quality"] not in QUALITIES:
            raise DseInputError(f"{where}: quality must be one of {', '.join(QUALITIES)}")
        if row["role"] not in ROLES:
            raise DseInputError(f"{where}: role must be one of {', '.join(ROLES)}")
        if row["role"] == "as-built":
            if row["metric"] not in AS_BUILT_KEYS:
                raise DseInputError(
                    f"{where}: as-built metric must be one of {', '.join(AS_BUILT_KEYS)}"
                )
        elif row["metric"] not in METRICS:
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


def as_built(chip: ChipSpec, table: pd.DataFrame, key: str) -> tuple[ChipSpec, str]:
    """The die as manufactured: the chip with its ``as-built`` rows applied.

    Returns the chip and a short description of the replacements ("" if none).
    """
    rows = table[(table["chip"] == key) & (table["role"] == "as-built")]
    changes: dict[str, Any] = {}
    for _, row in rows.iterrows():
        name = AS_BUILT_KEYS[row["metric"]]
        value = row["value"]
        changes[name] = int(value) if name in ("cores", "memory_count") else float(value)
    if not changes:
        return chip, ""
    text = ", ".join(f"{k} {getattr(chip, k):g}->{v:g}" for k, v in changes.items())
    return chip.replace(**changes), text


# ---------------------------------------------------------------------------------------
# the table
# ---------------------------------------------------------------------------------------


def validation_table(
    constants: ModelConstants | None = None,
    tech: Technology | None = None,
    table: pd.DataFrame | None = None,
    chips: dict[str, ChipSpec] | None = None,
) -> pd.DataFrame:
    """Model vs published value for every comparison row of the reference table.

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

    Returns
    -------
    DataFrame
        Columns ``chip, name, metric, workload, unit, published, low, high, quality,
        role, model, error, abs_error, in_range, as_built, source``; ``error`` is the
        signed relative error (model - published) / published, ``in_range`` whether the
        model lies within [low, high] where a range is given.
    """
    c = constants if constants is not None else default_constants()
    tech = tech if tech is not None else default_tech()
    table = table if table is not None else load_reference_table()
    chips = chips if chips is not None else reference_chips()
    rows = []
    cache: dict[tuple[str, str], Any] = {}
    for _, ref in table[table["role"] != "as-built"].iterrows():
        key = ref["chip"]
        if key not in chips:
            raise DseInputError(
                f"reference table names chip '{key}' with no file in {REFERENCE_DIR}"
            )
        chip = chips[key]
        metric, wl_text = ref["metric"], ref["workload"]
        built = ""
        if metric == "die_area_mm2":
            die, built = as_built(chip, table, key)
            model = evaluate(die, tech=tech, constants=c).die_area_mm2
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
                as_built=built,
                source=ref["source"],
            )
        )
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    # one block per chip (in table order), metrics in METRICS order within a chip
    chip_order = {k: i for i, k in enumerate(dict.fromkeys(table["chip"]))}
    order = frame["chip"].map(chip_order) * len(METRICS) + frame["metric"].map(METRICS.index)
    return frame.iloc[order.argsort(kind="stable")].reset_index(drop=True)


def _in_stats(frame: pd.DataFrame) -> pd.Series:
    """Rows that count in the error statistics: a one-sided bound is not a value."""
    one_sided = (frame["quality"] == "range") & (frame["low"].isna() | frame["high"].isna())
    return ~one_sided


def error_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Median and mean absolute relative error per metric.

    Returns one row per metric with ``n``, ``median_abs_error``, ``mean_abs_error``,
    ``max_abs_error`` over all counted rows, and ``n_held_out`` /
    ``held_out_median_abs_error`` over the ``held-out`` rows only (NaN when none).
    One-sided bounds (``range`` rows with only ``low`` or ``high``) are left out.
    """
    counted = frame[_in_stats(frame)]
    out = []
    for metric in METRICS:
        sub = counted[counted["metric"] == metric]
        if sub.empty:
            continue
        held = sub[sub["role"] == "held-out"]
        out.append(
            dict(
                metric=metric,
                n=len(sub),
                median_abs_error=float(sub["abs_error"].median()),
                mean_abs_error=float(sub["abs_error"].mean()),
                max_abs_error=float(sub["abs_error"].max()),
                n_held_out=len(held),
                held_out_median_abs_error=float(held["abs_error"].median())
                if len(held)
                else math.nan,
            )
        )
    return pd.DataFrame(out)


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
        metric = r["metric"] + (" (as built)" if r["as_built"] else "")
        lines.append(
            f"| {r['name']} | {metric} | {r['workload']} | {pub} | {_num(r['model'])} | {err} "
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
    built = frame[frame["as_built"] != ""][["name", "as_built"]].drop_duplicates()
    if len(built):
        lines += ["", "Die area compared as built (enabled -> physical):"]
        lines += [f"- {r['name']}: {r['as_built']}" for _, r in built.iterrows()]
    lines += [
        "",
        "role: fit = used by scripts/calibrate.py; held-out = not used by any fit; "
        "check = not fitted (peak and bandwidth exact by construction).",
        "One-sided bounds are shown but not counted in the statistics.",
    ]
    return "\n".join(lines)


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
