"""The public API on the chain: ``evaluate`` (one design), ``evaluate_many`` (a DataFrame of designs), the breakdowns behind the plots and the example chips."""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dse.chain.records import VIOLATIONS
from dse.chain.run import _evaluate_arrays, _serve_batch_limit, _serve_step, evaluate_arrays
from dse.constants import ModelConstants, default_constants
from dse.errors import DseInputError
from dse.metrics import METRICS
from dse.model import export_control, reliability
from dse.spec import CHIP_KEYS, ChipSpec, check_value, load_chip
from dse.tech import Technology, default_tech, factorize_labels, load_tech
from dse.units import GB
from dse.workloads import Workload, parse_workload

CHIPS_DIR = Path(__file__).parents[1] / "data" / "chips"


_CHUNK_ROWS = 32768  # rows per chunk: measured fastest on 2 cores (benchmarks/evaluate_many.py)


_EXPORT_CLASSES = np.array(export_control.EXPORT_CLASSES, dtype=object)


_MECHANISMS = np.array(reliability.MECHANISMS, dtype=object)


_VIOLATION_TEXT = np.array(
    [
        ";".join(v for i, v in enumerate(VIOLATIONS) if mask >> i & 1)
        for mask in range(2 ** len(VIOLATIONS))
    ],
    dtype=object,
)


def _workload(workload: str | Workload | None) -> Workload | None:
    if workload is None or isinstance(workload, Workload):
        return workload
    return parse_workload(workload)


def _required_workload(workload: str | Workload) -> Workload:
    """The workload of a breakdown, which needs one."""
    wl = _workload(workload)
    if wl is None:
        raise DseInputError("a workload is needed (e.g. 'llm-decode:llama-3-8b:batch=1')")
    return wl


def _tech_for(chip: ChipSpec, tech: Technology | None) -> Technology:
    if tech is not None:
        return tech
    if chip.tech_path is not None:
        return load_tech(chip.tech_path)
    return default_tech()


@dataclass(frozen=True)
class Metrics:
    """Metrics of one design; units in the names (see :data:`dse.metrics.METRICS`)."""

    die_area_mm2: float
    peak_tflops: float
    tpp: float
    performance_density: float
    export_class: str
    dies_per_wafer: float
    yield_: float
    die_cost_usd: float
    unit_cost_usd: float
    nre_usd: float
    test_cost_usd: float
    unit_cost_at_volume_usd: float
    embodied_co2_kg: float
    memory_bandwidth_gbps: float
    memory_capacity_gb: float
    memory_edge_fraction: float
    idle_power_w: float | None = None
    latency_s: float | None = None
    throughput_per_s: float | None = None
    tokens_per_s: float | None = None
    ttft_s: float | None = None
    tpot_s: float | None = None
    serve_batch: float | None = None
    goodput_tokens_per_s: float | None = None
    energy_j: float | None = None
    energy_per_item_j: float | None = None
    power_w: float | None = None
    sustained_clock_ghz: float | None = None
    core_voltage_v: float | None = None
    junction_temp_c: float | None = None
    junction_temp_mean_c: float | None = None
    leakage_power_w: float | None = None
    memory_power_w: float | None = None
    supply_current_a: float | None = None
    memory_temp_c: float | None = None
    lifetime_years: float | None = None
    fit: float | None = None
    lifetime_mechanism: str | None = None
    cost_per_throughput_usd: float | None = None
    cost_per_throughput_at_volume_usd: float | None = None
    operational_co2_kg: float | None = None
    co2_per_million_items_kg: float | None = None
    co2_per_million_tokens_kg: float | None = None
    compute_utilization: float | None = None
    dram_bytes: float | None = None
    weights_resident: bool | None = None
    system_chips: float | None = None
    system_tp: float | None = None
    system_pp: float | None = None
    system_microbatches: float | None = None
    system_latency_s: float | None = None
    system_throughput_per_s: float | None = None
    system_energy_per_item_j: float | None = None
    system_cost_usd: float | None = None
    system_cost_per_throughput_usd: float | None = None
    feasible: bool = True
    violations: tuple[str, ...] = ()
    workload: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Contract keys -> values (``yield`` spelled as in the contract); keys that do not
        apply (no workload, ``tokens_per_s`` for non-LLM workloads) are left out."""
        outd: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            key = "yield" if f.name == "yield_" else f.name
            if value is None:
                continue
            outd[key] = list(value) if isinstance(value, tuple) else value
        return outd

    @property
    def yield_fraction(self) -> float:
        return self.yield_


def chip_arrays(
    frame: pd.DataFrame | dict[str, Any], tech: Technology, validate: bool = True
) -> dict[str, np.ndarray]:
    """Design columns -> the arrays :func:`evaluate_arrays` takes (validated)."""
    cols = frame if isinstance(frame, dict) else {k: frame[k] for k in frame.columns}
    n = len(frame) if not isinstance(frame, dict) else len(next(iter(cols.values())))
    d: dict[str, np.ndarray] = {}
    for key, spec in CHIP_KEYS.items():
        if key == "name" or spec.categorical:
            continue
        if key in cols:
            try:
                arr = np.asarray(cols[key], dtype=np.float64).reshape(-1)
            except (TypeError, ValueError):
                raise DseInputError(f"column '{key}' must be numeric") from None
        elif spec.required:
            raise DseInputError(f"missing required column '{key}'")
        else:  # one value for every row: a read-only view, no copy per row
            arr = np.broadcast_to(np.nan if spec.default is None else float(spec.default), (n,))
        if validate:  # a default column holds one value: checking one row checks all
            checked = arr if key in cols else arr[:1]
            kind = getattr(getattr(cols[key], "dtype", None), "kind", None) if key in cols else None
            integral = kind in ("i", "u", "b")  # an integer column: whole and finite already
            _validate_column(
                key, checked, optional_nan=spec.default is None and not spec.required, integral=integral
            )
        d[key] = arr
    for key in ("node", "memory"):
        if key not in cols:
            raise DseInputError(f"missing required column '{key}'")
    d["node_code"] = tech.nodes.codes(cols["node"], where="column 'node'")
    d["memory_code"] = tech.memories.codes(cols["memory"], where="column 'memory'")
    for key, spec in CHIP_KEYS.items():  # choice keys -> index into spec.choices
        if spec.type != "choice":
            continue
        if spec.required and key not in cols:
            raise DseInputError(f"missing required column '{key}'")
        d[f"{key}_code"] = _choice_codes(cols.get(key), spec.choices, key, n, default=spec.default)
    if validate:
        has_mem = tech.memories.arrays["capacity_gb_per_unit"][d["memory_code"]] > 0
        bad = has_mem & (d["memory_count"] < 1)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DseInputError(
                f"column 'memory_count' must be >= 1 where memory is not 'none' (row {i})"
            )
        dies = d["dies"]
        multi = np.flatnonzero(dies > 1)  # as a chip file: cores and spares split evenly
        uneven = (d["cores"][multi] % dies[multi] != 0) | (d["spare_cores"][multi] % dies[multi] != 0)
        if uneven.any():
            i = int(multi[np.flatnonzero(uneven)[0]])
            raise DseInputError(
                f"columns 'cores' ({d['cores'][i]:g}) and 'spare_cores' ({d['spare_cores'][i]:g}) "
                f"must split evenly over {dies[i]:g} dies (row {i})"
            )
    return d


def _validate_column(key: str, arr: np.ndarray, optional_nan: bool, integral: bool = False) -> None:
    """Raise on NaN (unless ``optional_nan``), non-finite, out-of-range or (integer keys)
    fractional values; ``integral``: ``arr`` came from an integer column (whole, finite)."""
    spec = CHIP_KEYS[key]
    values = arr[~np.isnan(arr)] if optional_nan and not integral else arr
    if not integral:
        if not optional_nan and np.isnan(arr).any():
            raise DseInputError(
                f"column '{key}' has a NaN at row {int(np.flatnonzero(np.isnan(arr))[0])}"
            )
        if not np.isfinite(values).all():
            raise DseInputError(f"column '{key}' must be finite")
    if values.size == 0:
        return
    lo, hi = values.min(), values.max()  # two reductions; the masks only on failure
    if ((lo <= spec.low) if spec.low_exclusive else (lo < spec.low)) or hi > spec.high:
        lo_bad = (values <= spec.low) if spec.low_exclusive else (values < spec.low)
        bad = values[lo_bad | (values > spec.high)][0]
        check_value(key, float(bad))  # raises the same message as a chip file would
    if spec.type == "int" and not integral and (np.floor(values) != values).any():
        raise DseInputError(f"column '{key}' must hold integers")


def _choice_codes(
    values: Any, choices: tuple[str, ...], key: str, n: int, default: str | None = None
) -> np.ndarray:
    if values is None:  # one value for every row: a read-only view, no copy per row
        return np.broadcast_to(np.intp(choices.index(default)), (n,))
    codes, uniques = factorize_labels(values)
    lookup = []
    for u in uniques:
        name = str(u).strip().lower()
        if name not in choices:
            check_value(key, name)
        lookup.append(choices.index(name))
    return np.asarray(lookup, dtype=np.intp)[codes] if lookup else np.zeros(0, dtype=np.intp)


def _rows_to_frame(out: dict[str, np.ndarray], wl: Workload | None) -> dict[str, np.ndarray]:
    res = {}
    for name, spec in METRICS.items():
        if name == "export_class":
            res[name] = _EXPORT_CLASSES[out["export_class_code"]]
        elif name == "violations":
            res[name] = _VIOLATION_TEXT[out["violation_mask"]]
        elif name == "lifetime_mechanism":
            if "lifetime_mechanism_code" in out:
                res[name] = _MECHANISMS[out["lifetime_mechanism_code"]]
        elif name == "feasible":
            res[name] = out["violation_mask"] == 0
        elif name in out:
            res[name] = out[name]
        elif spec.needs_workload and wl is None:
            continue
        elif spec.llm_only or spec.serve_only:
            continue
    return res


def evaluate(
    chip: ChipSpec | str | Path,
    workload: str | Workload | None = None,
    *,
    tech: Technology | None = None,
    constants: ModelConstants | None = None,
) -> Metrics:
    """Evaluate one chip design (optionally on a workload).

    Parameters
    ----------
    chip : ChipSpec or path to a chip TOML file
    workload : workload string (docs/contract.md) or :class:`dse.workloads.Workload`
    tech : technology tables (default: the chip's ``tech`` file or the packaged tables)
    constants : model constants (default: ``dse/data/model_constants.csv``)
    """
    if not isinstance(chip, ChipSpec):
        chip = load_chip(chip)
    tech = _tech_for(chip, tech)
    c = constants if constants is not None else default_constants()
    wl = _workload(workload)
    d = _one_row(chip, tech)
    out = _rows_to_frame(evaluate_arrays(d, wl, tech, c), wl)
    values: dict[str, Any] = {}
    for name, arr in out.items():
        v = arr[0]
        kind = METRICS[name].kind
        if name == "violations":
            values[name] = tuple(x for x in str(v).split(";") if x)
        elif kind == "bool":
            values[name] = bool(v)
        elif kind == "str":
            values[name] = str(v)
        else:
            values["yield_" if name == "yield" else name] = float(v)
    return Metrics(**values, workload=wl.spec if wl is not None else None)


def _join(designs: pd.DataFrame, metrics: pd.DataFrame) -> pd.DataFrame:
    """Input columns + metric columns; ``memory_bandwidth_gbps`` / ``memory_capacity_gb``
    (override keys, NaN = derived) become the effective values."""
    keep = [col for col in designs.columns if col not in metrics.columns]
    return pd.concat([designs[keep], metrics], axis=1)


def evaluate_many(
    designs: pd.DataFrame,
    workload: str | Workload | None = None,
    *,
    tech: Technology | None = None,
    constants: ModelConstants | None = None,
    validate: bool = True,
    threads: int | None = None,
) -> pd.DataFrame:
    """Evaluate a DataFrame of designs, one row per design (vectorised).

    Columns are chip keys (``name`` optional; optional keys may be missing and take their
    defaults; ``node``/``memory`` accept ids or aliases). Returns the input columns plus
    one column per metric (``tokens_per_s`` only for LLM workloads). Rows are processed
    in cache-sized chunks on ``threads`` threads (default: the CPU count); every row's
    numbers are independent of the others and equal to :func:`evaluate`'s.
    """
    if not isinstance(designs, pd.DataFrame):
        raise DseInputError("evaluate_many takes a pandas DataFrame of designs")
    tech = tech if tech is not None else default_tech()
    c = constants if constants is not None else default_constants()
    wl = _workload(workload)
    n = len(designs)
    d = chip_arrays(designs, tech, validate=validate)
    if n == 0:
        out = _rows_to_frame(evaluate_arrays(d, wl, tech, c), wl)
        return _join(designs, pd.DataFrame(out, index=designs.index))
    # chunks sized to stay in cache; each worker writes its rows of the metric columns
    # (text columns included) into shared outputs
    first = _rows_to_frame(evaluate_arrays({k: v[:1] for k, v in d.items()}, wl, tech, c), wl)
    merged = {k: np.empty(n, dtype=v.dtype) for k, v in first.items()}
    bounds = list(range(0, n, _CHUNK_ROWS)) + [n]
    spans = list(zip(bounds[:-1], bounds[1:], strict=True))

    def run(span: tuple[int, int]) -> None:
        a, b = span
        part = _rows_to_frame(evaluate_arrays({k: v[a:b] for k, v in d.items()}, wl, tech, c), wl)
        for k, v in part.items():
            merged[k][a:b] = v

    workers = threads or min(len(spans), os.cpu_count() or 1)
    if workers > 1:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(run, spans))
    else:
        for span in spans:
            run(span)
    result = pd.DataFrame(merged, index=designs.index, copy=False)
    return _join(designs, result)


def _one_row(chip: ChipSpec, tech: Technology) -> dict[str, np.ndarray]:
    """The arrays of one (already validated) chip: a batch of one."""
    row = {k: [math.nan if v is None else v] for k, v in chip.to_dict().items()}
    return chip_arrays(row, tech, validate=False)


def _detail(chip: ChipSpec, wl: Workload, tech: Technology | None, c: ModelConstants):
    """One chip through the chain with the per-op and per-block detail kept."""
    tech = _tech_for(chip, tech)
    d = _one_row(chip, tech)
    return d, evaluate_arrays(d, wl, tech, c, detail=True)


def op_breakdown(
    chip: ChipSpec, workload: str | Workload, tech: Technology | None = None
) -> pd.DataFrame:
    """Per-op time, traffic and bound of one design at its sustained clock."""
    wl = _required_workload(workload)
    c = default_constants()
    _, out = _detail(chip, wl, tech, c)
    t = out["_ops"]
    s = float(out["_clock_fraction"][0])
    ops = wl.op_arrays()
    comp = t.compute_s[0] / s
    sram = t.sram_s[0] / s
    dram = t.dram_s[0]
    overhead = float(out["_op_overhead_s"][0]) * out["_kernels"]  # fused ops pay none
    time = np.maximum(np.maximum(comp, sram), dram) + overhead
    bound = np.where(
        (dram >= comp) & (dram >= sram), "dram", np.where(sram > comp, "sram", "compute")
    ).astype(object)
    bound = np.where(np.maximum(np.maximum(comp, sram), dram) < overhead, "overhead", bound)
    flops = ops["flops"]
    return pd.DataFrame(
        {
            "op": [op.name for op in wl.ops],
            "count": ops["count"],
            "flops": flops,
            "dram_bytes": t.dram_bytes[0],
            "intensity_flop_per_byte": flops / np.maximum(t.dram_bytes[0], 1.0),
            "time_s": time,
            "total_time_s": time * ops["count"],
            "bound": bound,
            "achieved_tflops": flops / time * 1e-12,
        }
    )


#: where each power component's heat goes (power_breakdown)
_POWER_HEAT = {
    "compute": "die", "sram": "die", "on-chip transport": "die",
    "memory PHY and links": "die", "clock and control": "die", "leakage": "die",
    "memory devices": "memory", "VRM loss": "board",
}  # fmt: skip


def power_breakdown(
    chip: ChipSpec, workload: str | Workload, tech: Technology | None = None
) -> pd.DataFrame:
    """Where a chip's module power goes at its sustained operating point.

    Parameters
    ----------
    chip : ChipSpec
    workload : workload string or :class:`dse.workloads.Workload`
    tech : Technology, optional

    Returns
    -------
    DataFrame
        One row per component (``compute``, ``sram``, ``on-chip transport``, ``memory PHY
        and links``, ``clock and control``, ``leakage``, ``memory devices``, ``VRM loss``)
        with ``power_w`` [W], ``share`` of the module power and ``heats`` (``die``,
        ``memory`` — the HBM stacks on the shared sink or the board memories — or
        ``board``); the rows sum to the ``power_w`` metric.
    """
    _, out = _detail(chip, _required_workload(workload), tech, default_constants())
    terms = {k: float(v[0]) for k, v in out["_power_terms"].items()}
    total = sum(terms.values())
    return pd.DataFrame(
        {
            "component": list(terms),
            "power_w": list(terms.values()),
            "share": [v / total for v in terms.values()],
            "heats": [_POWER_HEAT[k] for k in terms],
        }
    )


def reliability_breakdown(
    chip: ChipSpec, workload: str | Workload, tech: Technology | None = None
) -> pd.DataFrame:
    """The wear-out mechanisms of one design under its load profile.

    Parameters
    ----------
    chip : ChipSpec
        The design, with its load profile (``duty_cycle``, ``load_cycles_per_day``).
    workload : workload string or :class:`dse.workloads.Workload`
    tech : Technology, optional

    Returns
    -------
    DataFrame
        One row per mechanism of :data:`dse.model.reliability.MECHANISMS` with ``fit`` [FIT]
        (NaN for BTI, a drift rather than a rate), ``share`` of the summed rate and
        ``years_alone`` [years]: the lifetime if this mechanism were the only one (for
        BTI, the time until it uses up the clock guard band). ``limiting`` marks the
        mechanism behind the ``lifetime_years`` metric.
    """
    c = default_constants()
    _, out = _detail(chip, _required_workload(workload), tech, c)
    r = {k: float(np.asarray(v)[0]) for k, v in out["_reliability"].items()}
    fits = [r["fit_em"], r["fit_tddb"], r["fit_tc"]]
    alone = [float(reliability.lifetime_years(f, c["lifetime_failure_fraction"])) for f in fits]
    limiting = int(r["mechanism_code"])
    return pd.DataFrame(
        {
            "mechanism": list(reliability.MECHANISMS),
            "fit": [*fits, math.nan],
            "share": [f / r["fit"] if r["fit"] > 0 else 0.0 for f in fits] + [math.nan],
            "years_alone": [*alone, r["bti_years"]],
            "limiting": [i == limiting for i in range(len(reliability.MECHANISMS))],
        }
    )


def lifetime_sweep(
    chip: ChipSpec,
    workload: str | Workload,
    tech: Technology | None = None,
    *,
    clocks_ghz: Any = None,
    coolings: tuple[str, ...] | None = None,
) -> pd.DataFrame:
    """Lifetime of one design against its clock, for each cooling tier.

    Parameters
    ----------
    chip : ChipSpec
        The design; its other keys (load profile included) are held.
    workload : workload string or :class:`dse.workloads.Workload`
    tech : Technology, optional
    clocks_ghz : array-like, optional
        Declared clocks [GHz]; default 25 steps from 30 % of the node's highest clock
        (its f_max at V_max) to that clock.
    coolings : tuple of str, optional
        Cooling tiers (default: all of :data:`dse.spec.COOLING`).

    Returns
    -------
    DataFrame
        One row per (cooling, clock): ``cooling``, ``clock_ghz`` and the metrics
        ``sustained_clock_ghz``, ``core_voltage_v``, ``junction_temp_c``,
        ``lifetime_years``, ``lifetime_mechanism``, ``feasible``, ``violations``.
    """
    from dse.spec import COOLING

    tech = _tech_for(chip, tech)
    c = default_constants()
    if clocks_ghz is None:
        fmax = c["fmax_n7_ghz"] / tech.nodes.frame.loc[tech.nodes.resolve(chip.node), "delay_factor"]
        clocks_ghz = np.linspace(0.3 * fmax, fmax, 25)
    clocks = np.asarray(clocks_ghz, dtype=float)
    tiers = tuple(coolings) if coolings is not None else COOLING
    rows = [
        {**chip.to_dict(), "clock_ghz": float(f), "cooling": tier}
        for tier in tiers for f in clocks
    ]  # fmt: skip
    frame = pd.DataFrame(rows)
    out = evaluate_many(frame, workload, tech=tech)
    keep = ["cooling", "clock_ghz", "sustained_clock_ghz", "core_voltage_v", "junction_temp_c", "lifetime_years", "lifetime_mechanism", "feasible", "violations"]
    return out[keep].reset_index(drop=True)


def serve_curve(
    chip: ChipSpec,
    workload: str | Workload,
    batches: Any = None,
    tech: Technology | None = None,
    constants: ModelConstants | None = None,
) -> pd.DataFrame:
    """TPOT and TTFT of one design against the batch of an ``llm-serve`` workload.

    Parameters
    ----------
    chip : ChipSpec
    workload : ``llm-serve`` workload string or :class:`dse.workloads.Workload`
    batches : array-like of int, optional
        Batches to evaluate (default: about 40 from 1 to the largest that fits, see
        :func:`_serve_batch_limit`, or to 64 if none fits).
    tech, constants : optional

    Returns
    -------
    DataFrame
        One chip's curve (``system = "auto"`` is not applied here). One row per batch:
        ``batch``, ``tpot_s``, ``ttft_s``, ``tokens_per_s``,
        ``power_w``, ``fits`` (weights and KV cache in memory, prompts kept up with) and
        ``meets`` (fits and both targets met).
    """
    wl = _workload(workload)
    if wl is None or wl.serve is None:
        raise DseInputError("serve_curve needs an llm-serve workload")
    tech = _tech_for(chip, tech)
    c = constants if constants is not None else default_constants()
    d = chip_arrays(pd.DataFrame([chip.to_dict()]), tech)
    base = _evaluate_arrays(d, None, tech, c, False)
    limit = int(_serve_batch_limit(d, wl, c, base["memory_capacity_gb"])[0])
    if batches is None:
        top = limit if limit >= 1 else min(64, wl.serve.chunk - 1)
        batches = np.unique(np.round(np.geomspace(1, max(top, 1), 40)).astype(int))
    rows = []
    for b in (int(x) for x in batches):
        if not 1 <= b < wl.serve.chunk:
            raise DseInputError(f"batch {b} must be from 1 to chunk - 1 = {wl.serve.chunk - 1}")
        sub, tpot, ttft, _ = _serve_step(d, np.arange(1), wl, tech, c, b, False)
        fits = b <= limit
        meets = fits and tpot[0] <= wl.serve.tpot_s and ttft[0] <= wl.serve.ttft_s
        rows.append(dict(
            batch=b, tpot_s=float(tpot[0]), ttft_s=float(ttft[0]), tokens_per_s=float(sub["tokens_per_s"][0]),
            power_w=float(sub["power_w"][0]), fits=fits, meets=bool(meets),
        ))  # fmt: skip
    return pd.DataFrame(rows)


def roofline_ceilings(
    chip: ChipSpec, workload: str | Workload, tech: Technology | None = None
) -> dict[str, float]:
    """Compute and bandwidth ceilings of one design at its sustained clock and the workload precision."""
    _, out = _detail(chip, _required_workload(workload), tech, default_constants())
    s = float(out["_clock_fraction"][0])
    return {
        "peak_tflops": float(out["peak_tflops"][0] * out["_rate"][0] * s),
        "dram_bandwidth_gbps": float(out["_dram_bw"][0] / GB),
        "sram_bandwidth_gbps": float(out["_sram_bw"][0] * s / GB),
        "clock_fraction": s,
    }


def example_chips() -> dict[str, Path]:
    """Packaged example chip files by name (file stem)."""
    return {p.stem: p for p in sorted(CHIPS_DIR.glob("*.toml"))}


def example_chip(name: str) -> ChipSpec:
    """Load a packaged example chip by file stem (e.g. ``"h100-like"``)."""
    from dse.errors import close_match_hint

    chips = example_chips()
    if name not in chips:
        raise DseInputError(f"unknown example chip '{name}'" + close_match_hint(name, chips))
    return load_chip(chips[name])


def thermal_map(
    chip: ChipSpec, workload: str | Workload, tech: Technology | None = None, cells: int = 64
):
    """The chip's floorplan and its 2-D grid temperature map at the sustained clock.

    The design is evaluated as given (its ``thermal_model`` decides the clock); the map
    is then solved on a ``cells`` x ``cells`` grid with the same block powers and leakage.
    Returns ``(GridResult, Floorplan)`` for :func:`dse.plots.thermal.plot_thermal_map`.
    """
    from dse.model.floorplan import build_floorplan
    from dse.model.thermal_grid import hotspot_stack, solve_floorplan
    from dse.spec import SRAM_LAYOUTS

    c = default_constants()
    d, out = _detail(chip, _required_workload(workload), tech, c)
    a_core, a_sram, a_phy, a_unc = (float(a[0]) for a in out["_areas"])
    layout = SRAM_LAYOUTS[int(d["sram_layout_code"][0])]
    fp = build_floorplan(
        a_core, a_sram, a_phy, a_unc, int(out["_tiles_per_die"][0]), int(out["_phys_per_die"][0]), sram_layout=layout
    )
    result = solve_floorplan(
        fp,
        {k: float(v[0]) for k, v in out["_power_by_kind"].items()},
        r_sink_k_per_w=float(out["_r_sink"][0]),
        ambient_c=float(out["_sink_c"][0]),
        stack=hotspot_stack(c["r_package_k_mm2_per_w"]),
        nx=cells,
        leakage_w_per_mm2_ref=float(out["_leak_density_v"][0]),
        ref_temp_c=c["leakage_ref_temp_c"],
        beta_per_k=c["leakage_temp_coeff_per_k"],
    )
    return result, fp
