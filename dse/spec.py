"""Chip specification: the declared keys, the frozen :class:`ChipSpec`, TOML loading.

The chip keys are declared once, as data (:data:`CHIP_KEYS`): name, type, unit, default,
bounds and a one-line description. That single declaration drives validation of chip
files, the columns of :func:`dse.evaluate_many`, the search space of studies and the
CSV headers. See docs/contract.md for the contract.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from dse.errors import DseInputError, close_match_hint
from dse.model import multichip
from dse.model.chiplet import PACKAGES


@dataclass(frozen=True)
class KeySpec:
    """One chip key: its type, unit, default and admissible range."""

    name: str
    type: str  # "str", "int", "float", "choice", "node", "memory"
    unit: str
    description: str
    required: bool = False
    default: Any = None
    low: float | None = None  # inclusive lower bound (None: none)
    high: float | None = None  # inclusive upper bound
    low_exclusive: bool = False
    choices: tuple[str, ...] = ()

    @property
    def categorical(self) -> bool:
        return self.type in ("str", "choice", "node", "memory")


DTYPES = ("bf16", "fp8", "int8")
#: heat-removal tiers; the first two keep their codes (``air``: high-airflow server air,
#: ``liquid``: cold plate). Each tier's sink resistance is a row of model_constants.csv.
COOLING = ("air", "liquid", "passive", "air-1u", "air-2u", "immersion")
EXECUTIONS = ("kernel", "static")
THERMAL_MODELS = ("lumped", "grid")
SRAM_LAYOUTS = ("interleaved", "banked")
SRAM_KINDS = ("cache", "scratchpad")
SYSTEMS = ("single", "auto")
#: chip-to-chip links of a multi-chip system, in the order of their codes
LINKS = tuple(multichip.LINKS)

CHIP_KEYS: dict[str, KeySpec] = {
    k.name: k
    for k in (
        KeySpec("name", "str", "", "design name", required=True),
        KeySpec("node", "node", "", "process node id (see `dse nodes`)", required=True),
        KeySpec("cores", "int", "count", "compute cores (SMs, tensor cores, tiles)", True, low=1, high=1e6),
        KeySpec("macs_per_core", "int", "MAC/cycle", "dense MACs per cycle per core at mac_dtype", True, low=1, high=1e7),
        KeySpec("clock_ghz", "float", "GHz", "maximum clock", True, low=0.0, low_exclusive=True, high=10.0),
        KeySpec("sram_mb", "float", "MiB", "all on-chip SRAM", True, low=0.0, low_exclusive=True, high=1e5),
        KeySpec("memory", "memory", "", "off-chip memory technology id or 'none' (see `dse memories`)", True),
        KeySpec("memory_count", "int", "count", "memory units: HBM stacks, GDDR x32 devices, LPDDR x64 packages, DDR5 channels", True, low=0, high=64),
        KeySpec("tdp_w", "float", "W", "thermal design power the chip is capped at", True, low=0.0, low_exclusive=True, high=1e5),
        KeySpec("cooling", "choice", "", "heat removal tier: air (high-airflow server), liquid (cold plate), passive, air-1u, air-2u, immersion", True, choices=COOLING),
        KeySpec("mac_dtype", "choice", "", "precision that macs_per_core counts", default="bf16", choices=DTYPES),
        KeySpec("sram_kind", "choice", "", "what sram_mb is: 'cache' (tags, coherence, crossbar: the cache area factor) or 'scratchpad' (software-managed banks: the scratchpad area factor)", default="cache", choices=SRAM_KINDS),
        KeySpec("vector_lanes", "int", "lanes", "fp32 lanes of each core's vector/SIMT datapath (default: 2 x sqrt(macs_per_core), the median of the reference dies)", default=None, low=0, high=1e5),
        KeySpec("register_file_mb", "float", "MiB", "register files of all cores (GPU-style), their own SRAM class beside sram_mb", default=0.0, low=0.0, high=1e5),
        KeySpec("memory_bandwidth_gbps", "float", "GB/s", "override of the derived off-chip bandwidth", default=None, low=0.0, low_exclusive=True, high=1e6),
        KeySpec("memory_capacity_gb", "float", "GB", "override of the derived off-chip capacity", default=None, low=0.0, low_exclusive=True, high=1e5),
        KeySpec("ambient_c", "float", "degC", "coolant / inlet-air temperature at the heat sink", default=30.0, low=-40.0, high=80.0),
        KeySpec("tj_max_c", "float", "degC", "maximum junction temperature before thermal throttling", default=95.0, low=40.0, high=175.0),
        KeySpec("thermal_model", "choice", "", "junction temperature from the lumped network (fast, die mean) or the 2-D grid over the floorplan (hot spot)", default="lumped", choices=THERMAL_MODELS),
        KeySpec("thermal_grid_cells", "int", "cells", "grid-model resolution: cells along each die edge", default=16, low=4, high=128),
        KeySpec("sram_layout", "choice", "", "floorplan: SRAM interleaved with the cores or in banks beside the core array", default="interleaved", choices=SRAM_LAYOUTS),
        KeySpec("spare_cores", "int", "count", "extra core tiles for harvesting (in the area, not in the peak): sellable if >= cores work", default=0, low=0, high=1e6),
        KeySpec("dies", "int", "count", "identical compute dies in the package (chiplets); cores, SRAM and memory PHYs are split over them", default=1, low=1, high=64),
        KeySpec("package", "choice", "", "multi-die package: 2.5-D silicon interposer or organic substrate", default="interposer", choices=PACKAGES),
        KeySpec("system", "choice", "", "'auto': when weights + KV cache exceed one chip's memory, size a system of chips (tensor then pipeline parallel)", default="single", choices=SYSTEMS),
        KeySpec("link", "choice", "", "chip-to-chip link of a multi-chip system", default="nvlink4", choices=LINKS),
        KeySpec("tp_max", "int", "count", "largest tensor-parallel group of a multi-chip system (chips on the fast link)", default=8, low=1, high=1024),
        KeySpec("r_sink_k_per_w", "float", "K/W", "override of the cooling tier's heat-sink-to-ambient resistance", default=None, low=0.0, low_exclusive=True, high=100.0),
        KeySpec("execution", "choice", "", "execution model: 'kernel' (launched kernels, each pays a fixed overhead) or 'static' (statically scheduled dataflow, no per-op overhead)", default="kernel", choices=EXECUTIONS),
        KeySpec("op_overhead_us", "float", "us", "override of the execution model's fixed overhead per kernel", default=None, low=0.0, high=1e4),
        KeySpec("duty_cycle", "float", "fraction", "fraction of the time the chip runs the workload (the rest it idles): weights every wear-out mechanism", default=1.0, low=0.0, high=1.0),
        KeySpec("load_cycles_per_day", "float", "1/day", "idle-to-load temperature cycles per day (job starts, diurnal load): drives bump and package fatigue", default=1.0, low=0.0, high=1e4),
        KeySpec("volume", "float", "units", "parts the program sells: the design NRE is spread over them (unit_cost_at_volume_usd)", default=100_000.0, low=0.0, low_exclusive=True, high=1e10),
        KeySpec("nre_products", "int", "count", "products that share this die design (a chiplet reused across products): its NRE is split evenly over them", default=1, low=1, high=1000),
        KeySpec("grid_gco2_per_kwh", "float", "gCO2/kWh", "carbon intensity of the electricity the deployed chip runs on (default: world average 2023, Ember)", default=481.0, low=0.0, high=2000.0),
        KeySpec("service_years", "float", "years", "years the chip is deployed: operational carbon and the items it serves over its life", default=5.0, low=0.0, low_exclusive=True, high=50.0),
    )
}

NUMERIC_KEYS = tuple(k for k, s in CHIP_KEYS.items() if not s.categorical)
CATEGORICAL_KEYS = tuple(k for k, s in CHIP_KEYS.items() if s.categorical and k != "name")
FILE_ONLY_KEYS = ("tech",)  # path of a user technology file, relative to the chip file


@dataclass(frozen=True)
class ChipSpec:
    """A chip design. Units: see :data:`CHIP_KEYS` (``dse.spec.CHIP_KEYS[key].unit``)."""

    name: str
    node: str
    cores: int
    macs_per_core: int
    clock_ghz: float
    sram_mb: float
    memory: str
    memory_count: int
    tdp_w: float
    cooling: str
    mac_dtype: str = "bf16"
    sram_kind: str = "cache"
    vector_lanes: int | None = None
    register_file_mb: float = 0.0
    memory_bandwidth_gbps: float | None = None
    memory_capacity_gb: float | None = None
    ambient_c: float = 30.0
    tj_max_c: float = 95.0
    thermal_model: str = "lumped"
    thermal_grid_cells: int = 16
    sram_layout: str = "interleaved"
    spare_cores: int = 0
    dies: int = 1
    package: str = "interposer"
    system: str = "single"
    link: str = "nvlink4"
    tp_max: int = 8
    r_sink_k_per_w: float | None = None
    execution: str = "kernel"
    op_overhead_us: float | None = None
    duty_cycle: float = 1.0
    load_cycles_per_day: float = 1.0
    volume: float = 100_000.0
    nre_products: int = 1
    grid_gco2_per_kwh: float = 481.0
    service_years: float = 5.0
    #: user technology file the node/memory ids refer to (not a design key)
    tech_path: str | None = field(default=None, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The chip keys (without ``tech_path``)."""
        d = asdict(self)
        d.pop("tech_path")
        return d

    def replace(self, **changes: Any) -> ChipSpec:
        """A copy with some keys changed, validated like a chip file."""
        d = self.to_dict()
        d.update(changes)
        tech = None
        if self.tech_path is not None:
            from dse.tech import load_tech

            tech = load_tech(self.tech_path)
        return chip_from_dict(d, tech=tech, tech_path=self.tech_path)


assert [f.name for f in fields(ChipSpec)][:-1] == list(CHIP_KEYS), "ChipSpec and CHIP_KEYS disagree"


def check_value(key: str, value: Any, where: str = "") -> Any:
    """Validate and normalise one chip key's value; raise a one-line DseInputError."""
    spec = CHIP_KEYS[key]
    at = f" in {where}" if where else ""
    if value is None:
        if spec.required:
            raise DseInputError(f"missing required key '{key}'{at}")
        return spec.default
    if spec.type in ("str", "choice", "node", "memory"):
        if not isinstance(value, str) or not value.strip():
            raise DseInputError(f"key '{key}'{at} must be a non-empty string, got {value!r}")
        value = value.strip()
        if spec.type == "choice":
            value = value.lower()
            if value not in spec.choices:
                raise DseInputError(
                    f"key '{key}'{at} must be one of {', '.join(spec.choices)}, got '{value}'"
                    + close_match_hint(value, spec.choices)
                )
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        kind = "an integer" if spec.type == "int" else "a number"
        raise DseInputError(f"key '{key}'{at} must be {kind}, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise DseInputError(f"key '{key}'{at} must be finite, got {value}")
    if spec.type == "int":
        if isinstance(value, float):
            if not value.is_integer():
                raise DseInputError(f"key '{key}'{at} must be an integer, got {value}")
            value = int(value)
    else:
        value = float(value)
    _check_bounds(spec, value, at)
    return value


def _check_bounds(spec: KeySpec, value: float, at: str) -> None:
    unit = f" {spec.unit}" if spec.unit and spec.unit != "count" else ""
    if spec.low is not None:
        if spec.low_exclusive and value <= spec.low:
            raise DseInputError(f"key '{spec.name}'{at} must be > {spec.low:g}{unit}, got {value:g}")
        if not spec.low_exclusive and value < spec.low:
            raise DseInputError(f"key '{spec.name}'{at} must be >= {spec.low:g}{unit}, got {value:g}")
    if spec.high is not None and value > spec.high:
        raise DseInputError(f"key '{spec.name}'{at} must be <= {spec.high:g}{unit}, got {value:g}")


def chip_from_dict(
    data: dict[str, Any], where: str = "", tech: Any = None, tech_path: str | None = None
) -> ChipSpec:
    """Build a validated :class:`ChipSpec` from a mapping (e.g. a parsed TOML table).

    Node and memory ids are resolved against ``tech`` (default: the packaged tables),
    aliases such as ``"SMIC N+2"`` become canonical ids.
    """
    from dse.tech import default_tech

    tech = tech if tech is not None else default_tech()
    at = f" in {where}" if where else ""
    for key in data:
        if key not in CHIP_KEYS and key not in FILE_ONLY_KEYS:
            raise DseInputError(f"unknown key '{key}'{at}" + close_match_hint(key, CHIP_KEYS))
    values = {key: check_value(key, data.get(key), where) for key in CHIP_KEYS}
    values["node"] = tech.resolve_node(values["node"], where=f"key 'node'{at}")
    values["memory"] = tech.resolve_memory(values["memory"], where=f"key 'memory'{at}")
    if values["dies"] > 1 and (values["cores"] % values["dies"] or values["spare_cores"] % values["dies"]):
        raise DseInputError(
            f"keys 'cores' ({values['cores']}) and 'spare_cores' ({values['spare_cores']}){at} must split evenly over {values['dies']} dies"
        )
    if values["memory"] != "none" and values["memory_count"] == 0:
        raise DseInputError(f"key 'memory_count'{at} must be >= 1 with memory '{values['memory']}' (use memory = \"none\" for an SRAM-only chip)")
    return ChipSpec(**values, tech_path=tech_path)


def read_toml(path: str | Path) -> dict[str, Any]:
    """Read a TOML file; any failure becomes a one-line DseInputError naming the file."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise DseInputError(f"file not found: {path}") from None
    except IsADirectoryError:
        raise DseInputError(f"expected a TOML file, got a directory: {path}") from None
    except PermissionError:
        raise DseInputError(f"cannot read {path}: permission denied") from None
    except tomllib.TOMLDecodeError as exc:
        raise DseInputError(f"malformed TOML in {path}: {exc}") from None
    except UnicodeDecodeError:
        raise DseInputError(f"{path} is not a UTF-8 text file") from None


def load_chip(path: str | Path, tech: Any = None) -> ChipSpec:
    """Load and validate a chip spec TOML file.

    The file holds the chip keys at top level (or under a ``[chip]`` table). A ``tech``
    key names a user technology file (CSV or TOML, relative to the chip file) whose
    nodes and memories extend or override the packaged tables for this chip.
    """
    path = Path(path)
    data = read_toml(path)
    if "chip" in data and isinstance(data["chip"], dict):
        extra = [k for k in data if k != "chip"]
        if extra:
            raise DseInputError(f"unknown top-level key '{extra[0]}' in {path} (chip keys go under [chip])")
        data = data["chip"]
    if "tech" in data:
        from dse.tech import load_tech

        tech_path = data["tech"]
        if not isinstance(tech_path, str):
            raise DseInputError(f"key 'tech' in {path} must be a file path string")
        resolved = str((path.parent / tech_path).resolve())
        return chip_from_dict(data, where=str(path), tech=load_tech(resolved), tech_path=resolved)
    return chip_from_dict(data, where=str(path), tech=tech)
