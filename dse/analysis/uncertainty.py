"""Monte Carlo over the uncertain table values, percentiles, and tornado sensitivity.

Every uncertain value of the node and memory tables carries ``_low`` / ``_high``
columns, and every model constant a ``low`` / ``high`` bound (``dse/data/*.csv``). This
module draws K samples of them, evaluates each design on each sample, reports P10 / P50
/ P90 per design, and ranks the inputs by how far one-at-a-time low/high swings move a
metric (tornado).

Sampling (the choices, stated)
------------------------------
* **Distribution.** Triangular(low, mode = table value, high) by default: the tables give
  a best estimate and bounds, not a distribution, and the triangular is the simplest one
  that honours both (its median equals the table value only when the range is
  symmetric). ``distribution="uniform"`` draws U(low, high) instead. A value whose range
  is missing (NaN) or empty (low = high) is certain.
* **Independence.** Each (column, row, sample) is drawn independently; the same draw of
  a row is used by every design on that node or memory in that sample (common random
  numbers: designs are compared under the same world). ``comonotone=True`` uses one
  quantile per (column, sample) for all rows (e.g. every node's D0 optimistic together).
  Draws of a column do not depend on which other columns are sampled (each column has
  its own random stream, keyed by its name and ``seed``).
* **What is sampled.** Node columns :data:`NODE_COLUMNS`; memory columns
  :data:`MEMORY_COLUMNS` except ``capacity_gb_per_unit`` by default (a product choice,
  not an uncertainty: pass ``columns`` to include it); the model constants of
  :func:`uncertain_constants`: a range wider than a point, *not* fitted by
  ``scripts/calibrate.py`` (a fitted constant's low/high are search bounds, and its
  uncertainty is already tied to the calibration chips) and not a definition.

Two ways to evaluate
--------------------
:func:`monte_carlo_inputs` produces the design frame replicated K times (design-major:
row i K + j is design i under sample j) and per-row override arrays of the node/memory
columns and of the constants, for a chain that takes ``overrides`` (one vectorised call).
:func:`evaluate_samples` works with today's chain: one :func:`dse.evaluate_many` call
per sample, on a :class:`dse.tech.Technology` and :class:`dse.constants.ModelConstants`
holding that sample's values. Both use the same draws and give the same row order.

References
----------
M. G. Morgan and M. Henrion, *Uncertainty: A Guide to Dealing with Uncertainty in
Quantitative Risk and Policy Analysis*, Cambridge University Press, 1990 (Monte Carlo
propagation, triangular inputs, tornado diagrams).
D. Vose, *Risk Analysis: A Quantitative Guide*, 3rd ed., Wiley, 2008 (triangular
distribution, inverse-CDF sampling).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from dse.constants import ModelConstants, default_constants
from dse.errors import DseInputError
from dse.fmt import number
from dse.tech import Technology, _Table, default_tech

__all__ = [
    "DISTRIBUTIONS",
    "MEMORY_COLUMNS",
    "NODE_COLUMNS",
    "MonteCarloInputs",
    "TechSamples",
    "evaluate_samples",
    "monte_carlo_inputs",
    "percentiles",
    "replicate_designs",
    "sample_constants",
    "sample_tech",
    "technology_for_sample",
    "tornado",
    "triangular_ppf",
    "uncertain_constants",
]

DISTRIBUTIONS = ("triangular", "uniform")
#: Node-table columns with a low/high range.
NODE_COLUMNS = (
    "logic_density_mtr_mm2",
    "sram_macro_mbit_mm2",
    "energy_factor",
    "leakage_w_per_mm2_85c",
    "wafer_cost_usd",
    "defect_density_per_cm2",
    "mask_set_usd",
    "design_nre_usd",
    "ip_licence_usd",
    "fab_energy_kwh_per_cm2",
    "fab_gas_gco2_per_cm2",
    "fab_grid_gco2_per_kwh",
)
#: Memory-table columns with a low/high range.
MEMORY_COLUMNS = (
    "bandwidth_gbps_per_unit",
    "capacity_gb_per_unit",
    "energy_pj_per_bit",
    "phy_area_mm2_per_unit",
    "cost_usd_per_gb",
    "embodied_gco2_per_gb",
)
_DEFAULT_MEMORY_COLUMNS = tuple(c for c in MEMORY_COLUMNS if c != "capacity_gb_per_unit")


# ---------------------------------------------------------------------------------------
# distributions
# ---------------------------------------------------------------------------------------


def triangular_ppf(u, low, mode, high):
    """Inverse CDF of the triangular distribution (degenerate ranges allowed).

    Notes
    -----
    F^-1(u) = a + sqrt(u (b - a)(c - a)) for u < (c - a) / (b - a), else
    b - sqrt((1 - u)(b - a)(b - c)), with a = low, c = mode, b = high; a = b gives a.
    """
    u, a, c, b = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (u, low, mode, high)))
    width = b - a
    with np.errstate(divide="ignore", invalid="ignore"):
        split = np.where(width > 0.0, (c - a) / width, 0.0)
        left = a + np.sqrt(u * width * (c - a))
        right = b - np.sqrt((1.0 - u) * width * (b - c))
    return np.where(width > 0.0, np.where(u < split, left, right), c)


def _draw(u, low, mode, high, distribution: str):
    low = np.where(np.isnan(low), mode, np.minimum(low, mode))
    high = np.where(np.isnan(high), mode, np.maximum(high, mode))
    if distribution == "triangular":
        return triangular_ppf(u, low, mode, high)
    if distribution == "uniform":
        return low + np.asarray(u) * (high - low)
    raise ValueError(
        f"distribution must be one of {', '.join(DISTRIBUTIONS)}, got {distribution!r}"
    )


def _uniforms(seed: int, key: str, shape: tuple[int, ...]) -> np.ndarray:
    """Uniforms of one input's own stream (stable when other inputs are added)."""
    rng = np.random.default_rng([int(seed), zlib.crc32(key.encode())])
    return rng.random(shape)


# ---------------------------------------------------------------------------------------
# technology tables
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TechSamples:
    """K samples of the uncertain technology columns.

    ``nodes[col]`` has shape (k, n_nodes) in the row order of ``tech.nodes.frame``,
    ``memories[col]`` (k, n_memories); columns not sampled are absent.
    """

    k: int
    seed: int
    distribution: str
    nodes: dict[str, np.ndarray]
    memories: dict[str, np.ndarray]
    node_ids: tuple[str, ...]
    memory_ids: tuple[str, ...]


def sample_tech(
    tech: Technology | None,
    k: int,
    seed: int = 0,
    columns: Iterable[str] | None = None,
    distribution: str = "triangular",
    comonotone: bool = False,
) -> TechSamples:
    """Draw ``k`` samples of the uncertain node and memory table values.

    Parameters
    ----------
    tech : Technology or None
        Tables to sample (default: the packaged ones).
    k : int
        Samples.
    seed : int
        Seed; the same (seed, column) gives the same draws.
    columns : iterable of str, optional
        Columns to sample (node or memory column names); default :data:`NODE_COLUMNS`
        and :data:`MEMORY_COLUMNS` without ``capacity_gb_per_unit``.
    distribution : {"triangular", "uniform"}
    comonotone : bool
        One quantile per (column, sample) shared by all rows.

    Returns
    -------
    TechSamples
    """
    if k < 1:
        raise ValueError("k must be >= 1")
    tech = tech if tech is not None else default_tech()
    cols = tuple(columns) if columns is not None else NODE_COLUMNS + _DEFAULT_MEMORY_COLUMNS
    unknown = [c for c in cols if c not in NODE_COLUMNS + MEMORY_COLUMNS]
    if unknown:
        raise ValueError(f"not an uncertain technology column: {unknown[0]!r}")
    out: dict[str, dict[str, np.ndarray]] = {"node": {}, "memory": {}}
    for kind, table, names in (
        ("node", tech.nodes, NODE_COLUMNS),
        ("memory", tech.memories, MEMORY_COLUMNS),
    ):
        frame = table.frame
        rows = len(frame)
        for col in (c for c in cols if c in names and c in frame):
            mode = frame[col].to_numpy(dtype=float)
            low = frame[f"{col}_low"].to_numpy(dtype=float) if f"{col}_low" in frame else mode
            high = frame[f"{col}_high"].to_numpy(dtype=float) if f"{col}_high" in frame else mode
            u = _uniforms(seed, f"{kind}:{col}", (k, 1 if comonotone else rows))
            out[kind][col] = _draw(u, low[None, :], mode[None, :], high[None, :], distribution)
    return TechSamples(
        k=k,
        seed=seed,
        distribution=distribution,
        nodes=out["node"],
        memories=out["memory"],
        node_ids=tuple(tech.nodes.frame.index),
        memory_ids=tuple(tech.memories.frame.index),
    )


def technology_for_sample(tech: Technology | None, samples: TechSamples, j: int) -> Technology:
    """A :class:`Technology` holding sample ``j``'s values (for the per-sample path)."""
    tech = tech if tech is not None else default_tech()
    nodes = tech.nodes.frame.copy()
    mems = tech.memories.frame.copy()
    for col, arr in samples.nodes.items():
        nodes[col] = arr[j]
    for col, arr in samples.memories.items():
        mems[col] = arr[j]
    return Technology(
        _Table.build("node", nodes),
        _Table.build("memory", mems),
        origin=f"{tech.origin} (Monte Carlo sample {j}, seed {samples.seed})",
    )


# ---------------------------------------------------------------------------------------
# model constants
# ---------------------------------------------------------------------------------------


def uncertain_constants(constants: ModelConstants | None = None) -> tuple[str, ...]:
    """Constants sampled by default: low < high, not fitted, not a definition."""
    table = (constants if constants is not None else default_constants()).table
    names = []
    for name, row in table.iterrows():
        source = str(row.get("source", ""))
        if not row["low"] < row["high"]:
            continue
        if "itted by scripts/calibrate.py" in source or "(definition)" in source:
            continue
        names.append(str(name))
    return tuple(names)


def sample_constants(
    constants: ModelConstants | None,
    k: int,
    seed: int = 0,
    names: Iterable[str] | None = None,
    distribution: str = "triangular",
) -> dict[str, np.ndarray]:
    """Draw ``k`` samples of model constants: name -> array of shape (k,)."""
    constants = constants if constants is not None else default_constants()
    table = constants.table
    names = tuple(names) if names is not None else uncertain_constants(constants)
    out = {}
    for name in names:
        if name not in table.index:
            raise ValueError(f"unknown model constant {name!r}")
        row = table.loc[name]
        u = _uniforms(seed, f"constant:{name}", (k,))
        out[name] = _draw(
            u, float(row["low"]), float(constants[name]), float(row["high"]), distribution
        )
    return out


# ---------------------------------------------------------------------------------------
# replicated designs and per-row overrides (the vectorised chain path)
# ---------------------------------------------------------------------------------------


def replicate_designs(designs: pd.DataFrame, k: int) -> pd.DataFrame:
    """Each design repeated ``k`` times (design-major), with ``design`` and ``sample`` columns.

    ``design`` is the row position in ``designs`` (0..n-1), ``sample`` 0..k-1.
    """
    n = len(designs)
    out = designs.iloc[np.repeat(np.arange(n), k)].reset_index(drop=True)
    out["design"] = np.repeat(np.arange(n), k)
    out["sample"] = np.tile(np.arange(k), n)
    return out


class MonteCarloInputs(NamedTuple):
    """What a vectorised chain needs for K samples of n designs (n K rows)."""

    designs: pd.DataFrame  # replicated, design-major, with `design` and `sample`
    tech_overrides: dict[str, np.ndarray]  # node/memory column -> (n K,) values per row
    constant_overrides: dict[str, np.ndarray]  # constant -> (n K,) values per row
    samples: TechSamples
    constant_samples: dict[str, np.ndarray]  # constant -> (k,)


def monte_carlo_inputs(
    designs: pd.DataFrame,
    k: int,
    seed: int = 0,
    tech: Technology | None = None,
    constants: ModelConstants | None = None,
    columns: Iterable[str] | None = None,
    constant_names: Iterable[str] | None = None,
    distribution: str = "triangular",
    comonotone: bool = False,
) -> MonteCarloInputs:
    """Replicated designs and per-row overrides for one vectorised chain call.

    ``tech_overrides`` maps node and memory column names (``defect_density_per_cm2``,
    ``wafer_cost_usd``, ``energy_pj_per_bit``, ...) to arrays of length n K that replace
    the values the chain gathers from the tables by node/memory code; row i K + j holds
    sample j of design i's node or memory row. ``constant_overrides`` maps constant names
    to arrays of length n K (sample j's value on every design's row j).
    """
    tech = tech if tech is not None else default_tech()
    constants = constants if constants is not None else default_constants()
    n = len(designs)
    samples = sample_tech(tech, k, seed, columns, distribution, comonotone)
    node_code = tech.nodes.codes(designs["node"], where="column 'node'")
    mem_code = tech.memories.codes(designs["memory"], where="column 'memory'")
    rows_sample = np.tile(np.arange(k), n)
    rows_node = np.repeat(node_code, k)
    rows_mem = np.repeat(mem_code, k)
    overrides = {col: arr[rows_sample, rows_node] for col, arr in samples.nodes.items()}
    overrides.update({col: arr[rows_sample, rows_mem] for col, arr in samples.memories.items()})
    const = sample_constants(constants, k, seed, constant_names, distribution)
    const_rows = {name: arr[rows_sample] for name, arr in const.items()}
    return MonteCarloInputs(replicate_designs(designs, k), overrides, const_rows, samples, const)


def evaluate_samples(
    designs: pd.DataFrame,
    workload: Any = None,
    k: int = 100,
    seed: int = 0,
    tech: Technology | None = None,
    constants: ModelConstants | None = None,
    columns: Iterable[str] | None = None,
    constant_names: Iterable[str] | None = None,
    distribution: str = "triangular",
    comonotone: bool = False,
) -> pd.DataFrame:
    """Evaluate every design on ``k`` samples with today's chain (one call per sample).

    Returns the rows of :func:`replicate_designs` (design-major, ``design`` and
    ``sample`` columns) with the metric columns of :func:`dse.evaluate_many`. Each call
    is vectorised over the designs; the loop runs over samples.
    """
    from dse.chain import evaluate_many

    tech = tech if tech is not None else default_tech()
    constants = constants if constants is not None else default_constants()
    samples = sample_tech(tech, k, seed, columns, distribution, comonotone)
    const = sample_constants(constants, k, seed, constant_names, distribution)
    frame = designs.reset_index(drop=True)
    parts = []
    for j in range(k):
        tech_j = technology_for_sample(tech, samples, j)
        c_j = constants.replace(**{name: float(v[j]) for name, v in const.items()})
        out = evaluate_many(frame, workload, tech=tech_j, constants=c_j, validate=j == 0)
        out["design"] = np.arange(len(frame))
        out["sample"] = j
        parts.append(out)
    result = pd.concat(parts, ignore_index=True)
    return result.sort_values(["design", "sample"], kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------------------------------
# summaries
# ---------------------------------------------------------------------------------------


def percentiles(
    frame: pd.DataFrame,
    metrics: Sequence[str],
    q: Sequence[float] = (10, 50, 90),
    by: str = "design",
) -> pd.DataFrame:
    """Percentiles of each metric per design: columns ``<metric>_p<q>``.

    Parameters
    ----------
    frame : DataFrame
        Monte Carlo rows (from :func:`evaluate_samples` or a chain call on
        :func:`monte_carlo_inputs`), with a ``by`` column naming the design.
    metrics : sequence of str
        Numeric metric columns.
    q : sequence of float
        Percentiles in 0..100 (linear interpolation between samples; NaN skipped).
    by : str
        Column identifying the design.

    Returns
    -------
    DataFrame
        One row per design (index ``by``), plus ``feasible_fraction`` when ``frame`` has
        a ``feasible`` column and ``samples`` (rows per design).
    """
    missing = [m for m in metrics if m not in frame.columns]
    if missing:
        raise KeyError(f"metric column(s) not in the frame: {missing}")
    qs = [float(x) / 100.0 for x in q]
    grouped = frame.groupby(by, sort=True)
    table = grouped[list(metrics)].quantile(qs).unstack(level=-1)
    table.columns = [f"{m}_p{_fmt(100.0 * x)}" for m, x in table.columns]
    if "feasible" in frame.columns:
        table["feasible_fraction"] = grouped["feasible"].mean().astype(float)
    table["samples"] = grouped.size()
    return table


def _fmt(value: float) -> str:
    return number(float(value), 6, grouping=False)


# ---------------------------------------------------------------------------------------
# tornado
# ---------------------------------------------------------------------------------------


def _metric_of(metrics: Any, metric: str) -> float:
    values = metrics.to_dict()
    if metric not in values:
        raise KeyError(f"metric {metric!r} not produced for this design/workload")
    return float(values[metric])


def _default_inputs(chip: Any, tech: Technology, constants: ModelConstants) -> list[str]:
    node = tech.node(chip.node)
    mem = tech.memory(chip.memory)
    inputs = []
    for kind, row, cols in (("node", node, NODE_COLUMNS), ("memory", mem, _DEFAULT_MEMORY_COLUMNS)):
        for col in cols:
            lo, hi = row.get(f"{col}_low", math.nan), row.get(f"{col}_high", math.nan)
            if np.isfinite(lo) and np.isfinite(hi) and lo < hi:
                inputs.append(f"{kind}.{col}")
    inputs += [f"constant.{name}" for name in uncertain_constants(constants)]
    return inputs


def _with_row_value(tech: Technology, kind: str, rid: str, col: str, value: float) -> Technology:
    nodes, mems = tech.nodes.frame, tech.memories.frame
    if kind == "node":
        nodes = nodes.copy()
        nodes.loc[rid, col] = value
    else:
        mems = mems.copy()
        mems.loc[rid, col] = value
    return Technology(_Table.build("node", nodes), _Table.build("memory", mems), origin=tech.origin)


def tornado(
    design: Any,
    metric: str,
    inputs: Iterable[str] | None = None,
    workload: Any = None,
    tech: Technology | None = None,
    constants: ModelConstants | None = None,
) -> pd.DataFrame:
    """One-at-a-time low/high swings of the uncertain inputs on one metric, ranked.

    Parameters
    ----------
    design : ChipSpec or path
        The design.
    metric : str
        A metric of :func:`dse.evaluate` (e.g. ``"unit_cost_usd"``, ``"tokens_per_s"``).
    inputs : iterable of str, optional
        ``"node.<column>"``, ``"memory.<column>"`` or ``"constant.<name>"``; default:
        the design's node and memory columns with a range, and
        :func:`uncertain_constants`.
    workload : workload string or Workload, optional
    tech, constants : optional
        Base tables and constants (default: the design's / the packaged ones).

    Returns
    -------
    DataFrame
        Columns ``input, kind, low, value, high, metric_low, metric_base, metric_high,
        swing, swing_fraction``; one row per input, sorted by ``swing`` (|metric_high -
        metric_low|) descending; ``swing_fraction`` is swing / |metric_base|.
    """
    from dse.chain import evaluate
    from dse.chain.api import _tech_for
    from dse.spec import ChipSpec, load_chip

    chip = design if isinstance(design, ChipSpec) else load_chip(design)
    tech = _tech_for(chip, tech)
    constants = constants if constants is not None else default_constants()
    base = _metric_of(evaluate(chip, workload, tech=tech, constants=constants), metric)
    node_id, mem_id = tech.resolve_node(chip.node), tech.resolve_memory(chip.memory)
    rows = []
    for item in inputs if inputs is not None else _default_inputs(chip, tech, constants):
        kind, _, name = item.partition(".")
        if kind in ("node", "memory"):
            rid = node_id if kind == "node" else mem_id
            row = (tech.nodes if kind == "node" else tech.memories).frame.loc[rid]
            if name not in row.index:
                raise KeyError(f"unknown {kind} column {name!r}")
            value = float(row[name])
            lo = float(row.get(f"{name}_low", value))
            hi = float(row.get(f"{name}_high", value))
            lo, hi = (value if math.isnan(lo) else lo), (value if math.isnan(hi) else hi)
            runs = [
                evaluate(
                    chip,
                    workload,
                    tech=_with_row_value(tech, kind, rid, name, v),
                    constants=constants,
                )
                for v in (lo, hi)
            ]
        elif kind == "constant":
            if name not in constants:
                raise KeyError(f"unknown model constant {name!r}")
            value = float(constants[name])
            lo = float(constants.table.loc[name, "low"])
            hi = float(constants.table.loc[name, "high"])
            runs = [
                evaluate(chip, workload, tech=tech, constants=constants.replace(**{name: v}))
                for v in (lo, hi)
            ]
        else:
            raise KeyError(f"input must be node.<col>, memory.<col> or constant.<name>: {item!r}")
        m_lo, m_hi = (_metric_of(r, metric) for r in runs)
        rows.append((item, kind, lo, value, hi, m_lo, base, m_hi))
    data = pd.DataFrame(
        rows,
        columns=[
            "input",
            "kind",
            "low",
            "value",
            "high",
            "metric_low",
            "metric_base",
            "metric_high",
        ],
    )
    data["swing"] = (data["metric_high"] - data["metric_low"]).abs()
    with np.errstate(divide="ignore", invalid="ignore"):
        data["swing_fraction"] = data["swing"] / abs(base)
    data.attrs["metric"] = metric
    return data.sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------------------------------
# robust search
# ---------------------------------------------------------------------------------------


class RobustEvaluate:
    """``evaluate_many`` replacement for a robust search: metrics at a percentile.

    Every design is evaluated on ``k`` Monte Carlo samples of the uncertain table values
    and constants (:func:`evaluate_samples`); each numeric metric is then reported at a
    pessimistic percentile: ``percentile`` for metrics where lower is better (``better =
    "min"`` in :data:`dse.metrics.METRICS`) and ``100 - percentile`` for metrics where
    higher is better, the median for the others; ``feasible`` holds only if the design is
    feasible in at least ``percentile`` % of the samples. ``percentile = 50`` is the
    median design. Picklable, so it works with several worker processes.
    """

    def __init__(self, k: int, percentile: float = 90.0, seed: int = 0):
        if k < 2:
            raise DseInputError(f"--robust needs at least 2 samples, got {k}")
        if not 50.0 <= percentile < 100.0:
            raise DseInputError(f"--percentile must be in [50, 100), got {percentile:g}")
        self.k, self.percentile, self.seed = int(k), float(percentile), int(seed)

    def __call__(self, designs: pd.DataFrame, workload: Any = None, tech: Technology | None = None) -> pd.DataFrame:
        from dse.metrics import METRICS

        frame = designs.reset_index(drop=True)
        rows = evaluate_samples(frame, workload, k=self.k, seed=self.seed, tech=tech)
        grouped = rows.groupby("design", sort=True)
        out = frame.copy()
        first = grouped.nth(0).set_index("design") if "design" in grouped.nth(0) else grouped.nth(0)
        for name, spec in METRICS.items():
            if name not in rows.columns:
                continue
            if spec.kind == "float":
                q = self.percentile if spec.better == "min" else 100.0 - self.percentile if spec.better == "max" else 50.0
                out[name] = grouped[name].quantile(q / 100.0).to_numpy()
            elif name == "feasible":
                out[name] = (grouped[name].mean() >= self.percentile / 100.0).to_numpy()
            else:
                out[name] = first[name].to_numpy()
        if "violations" in out:
            out["violations"] = np.where(out["feasible"], "", np.where(out["violations"] == "", "uncertain", out["violations"]))
        return out
