"""The metrics a design evaluation produces, declared once as data.

Each metric has a unit (also in its name) and a description; studies name objectives and
constraints by these names, CSV headers and plot labels come from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class MetricSpec:
    name: str
    unit: str
    description: str
    better: str = ""  # "min" / "max" / "" (not an objective by nature)
    needs_workload: bool = True
    kind: str = "float"  # "float", "int", "bool", "str"
    llm_only: bool = False
    #: NaN means "no such part" (e.g. no off-chip memory): a constraint on it holds
    absent_ok: bool = False
    #: only ``llm-serve`` workloads produce it
    serve_only: bool = False


METRICS: dict[str, MetricSpec] = {
    m.name: m
    for m in (
        # workload independent
        MetricSpec("die_area_mm2", "mm2", "area of one die (all dies of a multi-die package are alike), spare cores and D2D interface included", "min", False),
        MetricSpec("peak_tflops", "TFLOPS", "dense peak at mac_dtype and clock_ghz (TOPS for int8)", "max", False),
        MetricSpec("tpp", "TOPS*bit", "Total Processing Performance, 2 x MacTOPS x bit length (ECCN 3A090)", "", False),
        MetricSpec("performance_density", "TPP/mm2", "TPP / applicable die area (ECCN 3A090)", "", False),
        MetricSpec("export_class", "", "ECCN 3A090 class under the Oct-2023 rule: 3A090.a, 3A090.b or not-controlled", "", False, "str"),
        MetricSpec("dies_per_wafer", "count", "gross dies per 300 mm wafer", "max", False),
        MetricSpec("yield", "fraction", "sellable die yield: negative binomial; with spare_cores, at least `cores` good tiles and a good uncore", "max", False),
        MetricSpec("die_cost_usd", "USD", "wafer cost per sellable die", "min", False),
        MetricSpec("unit_cost_usd", "USD", "one good packaged part: sellable die(s), package (interposer/substrate, assembly, bonding yield) and off-chip memory", "min", False),
        MetricSpec("nre_usd", "USD", "non-recurring engineering of the die design (mask set, design and verification, IP licences of its node), this product's share (nre_products)", "min", False),
        MetricSpec("test_cost_usd", "USD", "wafer sort of the dies and final/system-level test of the part, per good part", "min", False),
        MetricSpec("unit_cost_at_volume_usd", "USD", "one part of a program of `volume` parts: unit_cost_usd + test_cost_usd + nre_usd / volume", "min", False),
        MetricSpec("embodied_co2_kg", "kgCO2", "manufacturing carbon of one good part (ACT): dies (fab energy x fab grid, gases, materials per area, over yield), memory (per GB; HBM stacking), packaging per IC and interposer", "min", False),
        MetricSpec("memory_bandwidth_gbps", "GB/s", "off-chip memory bandwidth", "max", False),
        MetricSpec("memory_capacity_gb", "GB", "off-chip memory capacity", "max", False),
        MetricSpec("memory_edge_fraction", "fraction", "die edge the memory PHYs need / the edge they may use (HBM: the fullest long edge; board memories: the perimeter less the host interface); above 1 is the beachfront violation, 0 without off-chip memory", "min", False),
        MetricSpec("idle_power_w", "W", "module power with a context loaded and no work (lowest DVFS clock, interfaces, memory background, leakage)", "min", False),
        # with a workload
        MetricSpec("latency_s", "s", "time of one workload step", "min"),
        MetricSpec("throughput_per_s", "items/s", "items (tokens, images, GEMMs) per second", "max"),
        MetricSpec("tokens_per_s", "tokens/s", "tokens per second (LLM workloads)", "max", llm_only=True),
        MetricSpec("ttft_s", "s", "time to first token: llm-serve at serve_batch (a prompt prefilled in chunks of the iteration's spare token budget, no queueing), llm-prefill for the whole batch; both with the serving host's per-prompt-token time", "min", llm_only=True),
        MetricSpec("tpot_s", "s", "llm-serve: time per output token at serve_batch (one serving iteration)", "min", serve_only=True),
        MetricSpec("serve_batch", "count", "llm-serve: the largest batch of running requests that meets the TTFT and TPOT targets with its KV cache in memory (at least 1)", "max", serve_only=True),
        MetricSpec("goodput_tokens_per_s", "tokens/s", "llm-serve: output tokens per second at serve_batch, within the latency targets (0 when no batch meets them)", "max", serve_only=True),
        MetricSpec("energy_j", "J", "energy of one workload step (dynamic + static)", "min"),
        MetricSpec("energy_per_item_j", "J/item", "energy per token / image / GEMM", "min"),
        MetricSpec("power_w", "W", "average module power while running the workload: dies, memory devices and VRM loss (the scope of tdp_w)", "min"),
        MetricSpec("sustained_clock_ghz", "GHz", "clock after DVFS throttling to tdp_w and tj_max_c", "max"),
        MetricSpec("core_voltage_v", "V", "core supply voltage at the sustained clock (alpha-power law of the node)", "min"),
        MetricSpec("junction_temp_c", "degC", "hot-spot junction temperature at the sustained clock: the grid model's hottest cell, or the lumped die mean plus the fitted hot-spot margin", "min"),
        MetricSpec("junction_temp_mean_c", "degC", "die-mean junction temperature of the lumped network", "min"),
        MetricSpec("leakage_power_w", "W", "leakage power at the junction temperature", "min"),
        MetricSpec("memory_power_w", "W", "power of the memory devices (HBM stacks heat the sink, board memories the board)", "min"),
        MetricSpec("supply_current_a", "A", "die supply current at the operating point: die power (leakage included) over the core voltage", "min"),
        MetricSpec("memory_temp_c", "degC", "hottest off-chip memory device: HBM stacks on the shared heat sink (the die's and the stacks' heat) plus their own stack; board memories in the air stream. NaN without off-chip memory", "min", absent_ok=True),
        MetricSpec("lifetime_years", "years", "time to 1 % wear-out failures under the load profile (duty_cycle, load_cycles_per_day): electromigration, gate-oxide breakdown and thermal cycling summed as failure rates, or BTI using up the clock guard band if sooner", "max"),
        MetricSpec("fit", "FIT", "wear-out failure rate under the load profile (failures per 1e9 device-hours), the sum of electromigration, gate-oxide breakdown and thermal cycling", "min"),
        MetricSpec("lifetime_mechanism", "", "the wear-out mechanism that limits lifetime_years: electromigration, tddb, thermal_cycling or bti", "", True, "str"),
        MetricSpec("cost_per_throughput_usd", "USD/(item/s)", "unit cost per item/s of throughput", "min"),
        MetricSpec("cost_per_throughput_at_volume_usd", "USD/(item/s)", "unit_cost_at_volume_usd per item/s of throughput", "min"),
        MetricSpec("operational_co2_kg", "kgCO2", "carbon of the electricity over service_years: power_w at duty_cycle, idle_power_w the rest of the time, at grid_gco2_per_kwh", "min"),
        MetricSpec("co2_per_million_items_kg", "kgCO2", "embodied + operational carbon per million items (tokens, images, GEMMs) served over service_years at throughput_per_s and duty_cycle", "min"),
        MetricSpec("co2_per_million_tokens_kg", "kgCO2", "co2_per_million_items_kg of an LLM workload", "min", llm_only=True),
        MetricSpec("compute_utilization", "fraction", "achieved FLOP/s over peak at the sustained clock", "max"),
        MetricSpec("dram_bytes", "B", "off-chip bytes moved per step", "min"),
        MetricSpec("weights_resident", "", "all weights held in on-chip SRAM", "", True, "bool"),
        MetricSpec("system_chips", "count", "chips of the system (1 unless system = 'auto' needs more)", "min"),
        MetricSpec("system_tp", "count", "tensor-parallel degree of the system: divides the attention heads and MLP widths, divides the KV heads or is a multiple of them", ""),
        MetricSpec("system_pp", "count", "pipeline stages of the system: divides the layers", ""),
        MetricSpec("system_microbatches", "count", "micro-batches the workload's batch is cut into, in flight across the pipeline stages (min(stages, batch))", ""),
        MetricSpec("system_latency_s", "s", "time of one workload step of the whole batch on the system (decode: one round of every micro-batch through the stages)", "min"),
        MetricSpec("system_throughput_per_s", "items/s", "items per second of the system at the workload's batch (pipelined over its micro-batches)", "max"),
        MetricSpec("system_energy_per_item_j", "J/item", "system energy per item, chips and links", "min"),
        MetricSpec("system_cost_usd", "USD", "chips (die, package, memory) and link hardware of the system", "min"),
        MetricSpec("system_cost_per_throughput_usd", "USD/(item/s)", "system cost per item/s", "min"),
        MetricSpec("feasible", "", "no violation", "", True, "bool"),
        MetricSpec("violations", "", "semicolon-separated violated limits (reticle, memory_capacity, power, thermal_runaway, package, system_size, timing, power_delivery, memory_temp, beachfront, interposer_size, slo)", "", True, "str"),
    )
}


_UNIT_SUFFIXES = ("_v", "_a", "_kg", "_years", "_mm2", "_tflops", "_usd", "_gbps", "_gb", "_s", "_j", "_w", "_ghz", "_c", "_mb", "_bytes")


def unit_of(key: str) -> str:
    """Unit of a chip key or metric ('' when unitless)."""
    from dse.spec import CHIP_KEYS

    if key in METRICS:
        return METRICS[key].unit
    if key in CHIP_KEYS:
        return CHIP_KEYS[key].unit
    return ""


def column_name(key: str) -> str:
    """CSV/plot column name carrying the unit.

    A name that already ends in its unit (``latency_s``, ``die_area_mm2``) stays as it
    is; others get the unit in brackets (``cores [count]``, ``tpp [TOPS*bit]``).
    """
    unit = unit_of(key)
    if not unit or key.endswith(_UNIT_SUFFIXES):
        return key
    return f"{key} [{unit}]"


# columns of the outputs: the name every CSV header, plot label and optuna attribute uses

#: units of the constraint columns (value <= 0: satisfied; see dse.search.constraint_matrix)
_CONSTRAINT_UNITS = {
    "model": "violations",
    "beachfront": "fraction of edge",
    "export_class": "flag",
    "memory_count_max": "fraction of cap",
}


#: columns placed after the metrics, in this order, when present
_TRAILING = ("pareto_rank", "crowding_distance", "feasible", "violations")


def output_columns(frame: pd.DataFrame) -> list[str]:
    """Column order of the CSVs: trial, chip keys, metrics, rank/crowding, the rest.

    Parameters
    ----------
    frame : pandas.DataFrame
        Designs (columns named by chip keys and metrics).

    Returns
    -------
    list of str
        Every column of ``frame`` exactly once.
    """
    from dse.spec import CHIP_KEYS

    cols = list(frame.columns)
    lead = [c for c in ("trial", "chosen") if c in cols]
    keys = [k for k in CHIP_KEYS if k in cols]
    metrics = [m for m in METRICS if m in cols and m not in _TRAILING]
    trailing = [c for c in _TRAILING if c in cols]
    ordered = list(dict.fromkeys(lead + keys + metrics + trailing))
    return ordered + [c for c in cols if c not in ordered]


def output_name(key: str) -> str:
    """The name a column carries in every output: CSV headers and optuna user attributes.

    :func:`dse.metrics.column_name` (``cores [count]``, ``yield [fraction]``;
    ``die_area_mm2`` unchanged), plus the constraint columns of the search, whose values
    are not in the unit their name ends with: ``constraint_max_power_w [fraction of
    limit]`` holds (power_w - limit) / limit, ``constraint_model [violations]`` the count
    of the model's violations, ``constraint_export_class [flag]`` 0 or 1,
    ``constraint_memory_count_max [fraction of cap]``; all <= 0 when satisfied (a
    limit of 0 gives the plain difference, in the metric's unit).

    Parameters
    ----------
    key : str
        A chip key, metric or column of the search (``constraint_<name>``, ...).

    Returns
    -------
    str
        ``key``, or ``"<key> [<unit>]"``; :func:`input_name` inverts it.
    """
    if key.startswith("constraint_"):
        name = key[len("constraint_") :]
        unit = _CONSTRAINT_UNITS.get(name)
        if unit is None and name.startswith(("max_", "min_")):
            unit = "fraction of limit"
        return f"{key} [{unit}]" if unit else key
    return column_name(key)


def input_name(label: str) -> str:
    """The key of an output name (inverse of :func:`output_name`): drops ``" [unit]"``."""
    return label.split(" [", 1)[0]
