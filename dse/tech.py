"""Technology library: process-node and memory tables, with user overrides.

The packaged tables live in ``dse/data/nodes.csv`` and ``dse/data/memories.csv``; every
row carries a ``source`` and uncertain values carry ``_low`` / ``_high`` columns
(see ``dse/data/TECH_SOURCES.md``). A user extends or overrides them with their own
CSV or TOML file (:func:`load_tech`) without touching the package.

A :class:`Technology` is immutable; functions that need one take it as an argument.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dse.errors import DseInputError, close_match_hint

DATA_DIR = Path(__file__).parent / "data"

#: optional node columns of the program cost and carbon (:mod:`dse.model.cost`, :mod:`dse.model.carbon`): a node without
#: them reports NaN for nre_usd and the embodied carbon
NODE_PROGRAM = (
    "mask_set_usd", "design_nre_usd", "ip_licence_usd",
    "fab_energy_kwh_per_cm2", "fab_gas_gco2_per_cm2", "fab_grid_gco2_per_kwh",
)  # fmt: skip
NODE_PROGRAM_COLUMNS_WITH_RANGES = tuple(f"{c}{s}" for c in NODE_PROGRAM for s in ("", "_low", "_high"))
NODE_NUMERIC = (
    "year", "feature_nm", "stillmaker_nm",
    "logic_density_mtr_mm2", "logic_density_mtr_mm2_low", "logic_density_mtr_mm2_high",
    "sram_bitcell_um2",
    "sram_macro_mbit_mm2", "sram_macro_mbit_mm2_low", "sram_macro_mbit_mm2_high",
    "vdd_nominal_v", "vdd_max_v", "vdd_min_v",
    "energy_factor", "energy_factor_low", "energy_factor_high", "delay_factor",
    "leakage_w_per_mm2_85c", "leakage_w_per_mm2_85c_low", "leakage_w_per_mm2_85c_high",
    "wafer_cost_usd", "wafer_cost_usd_low", "wafer_cost_usd_high",
    "defect_density_per_cm2", "defect_density_per_cm2_low", "defect_density_per_cm2_high",
    "cluster_alpha", "reticle_mm2",
    *NODE_PROGRAM_COLUMNS_WITH_RANGES,
)  # fmt: skip
NODE_BOOL = ("planar", "domestic_china", "presumption_16_14nm")
NODE_TEXT = ("aliases", "foundry", "name", "source", "notes")
NODE_REQUIRED = (
    "logic_density_mtr_mm2", "sram_macro_mbit_mm2", "vdd_nominal_v", "vdd_max_v", "vdd_min_v",
    "delay_factor", "energy_factor", "leakage_w_per_mm2_85c", "wafer_cost_usd", "defect_density_per_cm2", "cluster_alpha",
    "reticle_mm2",
)  # fmt: skip

MEMORY_NUMERIC = (
    "bandwidth_gbps_per_unit", "bandwidth_gbps_per_unit_low", "bandwidth_gbps_per_unit_high",
    "capacity_gb_per_unit", "capacity_gb_per_unit_low", "capacity_gb_per_unit_high",
    "energy_pj_per_bit", "energy_pj_per_bit_low", "energy_pj_per_bit_high",
    "phy_pj_per_bit", "phy_static_w_per_unit", "background_w_per_unit",
    "phy_area_mm2_per_unit", "phy_area_mm2_per_unit_low", "phy_area_mm2_per_unit_high",
    "cost_usd_per_gb", "cost_usd_per_gb_low", "cost_usd_per_gb_high",
    "max_temp_c", "refresh_temp_c", "r_unit_k_per_w", "refresh_bw_loss", "phy_edge_mm_per_unit",
    "embodied_gco2_per_gb", "embodied_gco2_per_gb_low", "embodied_gco2_per_gb_high",
)  # fmt: skip
#: optional memory column of the embodied carbon (:mod:`dse.model.cost`, :mod:`dse.model.carbon`)
MEMORY_PROGRAM = ("embodied_gco2_per_gb",)
MEMORY_BOOL = ("export_controlled", "domestic_china_supply")
MEMORY_TEXT = ("aliases", "name", "kind", "price_date", "source", "notes")
MEMORY_REQUIRED = (
    "bandwidth_gbps_per_unit", "capacity_gb_per_unit", "energy_pj_per_bit",
    "phy_pj_per_bit", "phy_static_w_per_unit", "background_w_per_unit", "phy_area_mm2_per_unit", "cost_usd_per_gb",
    "max_temp_c", "refresh_temp_c", "r_unit_k_per_w", "refresh_bw_loss", "phy_edge_mm_per_unit",
)  # fmt: skip


def _norm(name: str) -> str:
    return " ".join(str(name).strip().lower().replace("_", "-").split())


def factorize_labels(values: Any) -> tuple[np.ndarray, list[Any]]:
    """Integer codes and the distinct labels of a column (categorical codes reused)."""
    if isinstance(values, pd.Series) and isinstance(values.dtype, pd.CategoricalDtype):
        values = values.array
    if isinstance(values, pd.Categorical):
        codes = np.asarray(values.codes, dtype=np.intp)
        if (codes < 0).any():
            return pd.factorize(np.asarray(values, dtype=object).ravel())
        return codes, list(values.categories)
    return pd.factorize(np.asarray(values, dtype=object).ravel())


@dataclass(frozen=True)
class _Table:
    """One technology table: rows by canonical id, numeric columns as arrays by code."""

    kind: str  # "node" or "memory"
    frame: pd.DataFrame  # index = id
    aliases: dict[str, str] = field(repr=False)
    arrays: dict[str, np.ndarray] = field(repr=False)

    @classmethod
    def build(cls, kind: str, frame: pd.DataFrame) -> _Table:
        numeric = NODE_NUMERIC if kind == "node" else MEMORY_NUMERIC
        aliases: dict[str, str] = {}
        for rid, row in frame.iterrows():
            names = [rid] + [a for a in str(row.get("aliases", "") or "").split(";") if a.strip()]
            for a in names:
                aliases[_norm(a)] = str(rid)
        arrays = {c: frame[c].to_numpy(dtype=np.float64) for c in numeric if c in frame}
        for c in NODE_BOOL + MEMORY_BOOL:
            if c in frame:
                arrays[c] = frame[c].to_numpy(dtype=bool)
        if kind == "memory" and "kind" in frame:
            arrays["is_stacked"] = (frame["kind"].astype(str).str.strip().str.lower() == "stacked").to_numpy()
        return cls(kind, frame, aliases, arrays)

    def resolve(self, name: str, where: str = "") -> str:
        rid = self.aliases.get(_norm(name))
        if rid is None:
            listing = "nodes" if self.kind == "node" else "memories"
            at = f" ({where})" if where else ""
            raise DseInputError(
                f"unknown {self.kind} '{name}'{at}"
                + close_match_hint(_norm(name), self.aliases)
                + f"; `dse {listing}` lists them"
            )
        return rid

    def codes(self, names: Any, where: str = "") -> np.ndarray:
        """Integer row codes for an array of ids or aliases (vectorised via factorize)."""
        codes, uniques = factorize_labels(names)
        lookup = np.array(
            [self.frame.index.get_loc(self.resolve(u, where)) for u in uniques], dtype=np.intp
        )
        return lookup[codes] if len(lookup) else codes.astype(np.intp)


@dataclass(frozen=True)
class Technology:
    """The node and memory tables a design is evaluated against."""

    nodes: _Table
    memories: _Table
    origin: str = "packaged tables"

    def resolve_node(self, name: str, where: str = "") -> str:
        return self.nodes.resolve(name, where)

    def resolve_memory(self, name: str, where: str = "") -> str:
        return self.memories.resolve(name, where)

    @property
    def node_ids(self) -> list[str]:
        return list(self.nodes.frame.index)

    @property
    def memory_ids(self) -> list[str]:
        return list(self.memories.frame.index)

    def node(self, name: str) -> pd.Series:
        return self.nodes.frame.loc[self.resolve_node(name)]

    def memory(self, name: str) -> pd.Series:
        return self.memories.frame.loc[self.resolve_memory(name)]

    def node_table(self) -> pd.DataFrame:
        return self.nodes.frame.copy()

    def memory_table(self) -> pd.DataFrame:
        return self.memories.frame.copy()


def _read_table(path: Path, kind: str) -> pd.DataFrame:
    numeric = NODE_NUMERIC if kind == "node" else MEMORY_NUMERIC
    booleans = NODE_BOOL if kind == "node" else MEMORY_BOOL
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, comment=None)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DseInputError(f"cannot read {path}: {str(exc).splitlines()[0]}") from None
    return _coerce(frame, kind, str(path), numeric, booleans)


def _coerce(frame: pd.DataFrame, kind: str, where: str, numeric, booleans) -> pd.DataFrame:
    if "id" not in frame:
        raise DseInputError(f"{where}: a {kind} table needs an 'id' column")
    frame = frame.copy()
    frame["id"] = [_norm(i) for i in frame["id"]]
    frame = frame.set_index("id")
    for c in numeric:
        if c in frame:
            frame[c] = [
                _to_float(v, c, rid, where) for rid, v in zip(frame.index, frame[c], strict=True)
            ]
    for c in booleans:
        if c in frame:
            frame[c] = [
                _to_bool(v, c, rid, where) for rid, v in zip(frame.index, frame[c], strict=True)
            ]
    return frame


def _to_float(value: Any, column: str, rid: str, where: str) -> float:
    if isinstance(value, str):
        if value.strip() == "":
            return math.nan
        try:
            value = float(value)
        except ValueError:
            raise DseInputError(
                f"{where}: column '{column}' of '{rid}' must be a number, got '{value}'"
            ) from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DseInputError(
            f"{where}: column '{column}' of '{rid}' must be a number, got {value!r}"
        )
    return float(value)


def _to_bool(value: Any, column: str, rid: str, where: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "1"):
        return True
    if text in ("false", "no", "0", ""):
        return False
    raise DseInputError(
        f"{where}: column '{column}' of '{rid}' must be true or false, got '{value}'"
    )


def _validate(frame: pd.DataFrame, kind: str, where: str) -> None:
    required = NODE_REQUIRED if kind == "node" else MEMORY_REQUIRED
    for rid, row in frame.iterrows():
        for c in required:
            v = row.get(c, math.nan)
            if not isinstance(v, float) or not math.isfinite(v):
                raise DseInputError(f"{where}: {kind} '{rid}' needs a finite '{c}'")
            if v < 0 or (
                v == 0
                and c
                in (
                    "logic_density_mtr_mm2",
                    "sram_macro_mbit_mm2",
                    "vdd_nominal_v",
                    "vdd_max_v",
                    "vdd_min_v",
                    "delay_factor",
                    "reticle_mm2",
                    "cluster_alpha",
                    "energy_factor",
                )
            ):
                raise DseInputError(f"{where}: {kind} '{rid}' has {c} = {v:g}; it must be positive")
        for c in NODE_PROGRAM if kind == "node" else MEMORY_PROGRAM:  # optional, >= 0
            v = row.get(c, math.nan)
            if isinstance(v, float) and v < 0:
                raise DseInputError(f"{where}: {kind} '{rid}' has {c} = {v:g}; it must be >= 0")
        if kind == "node" and not row["vdd_min_v"] <= row["vdd_nominal_v"] <= row["vdd_max_v"]:
            raise DseInputError(
                f"{where}: node '{rid}' needs vdd_min_v <= vdd_nominal_v <= vdd_max_v"
            )
        if kind == "memory" and row["phy_pj_per_bit"] > row["energy_pj_per_bit"]:
            raise DseInputError(
                f"{where}: memory '{rid}' has phy_pj_per_bit above energy_pj_per_bit (the PHY is part of it)"
            )
        # a user value outside the packaged range widens the range to include it
        for c in required:
            lo, hi = f"{c}_low", f"{c}_high"
            if lo in frame.columns:
                v = row[c]
                if not math.isfinite(row.get(lo, math.nan)) or row[lo] > v:
                    frame.loc[rid, lo] = v
                if not math.isfinite(row.get(hi, math.nan)) or row[hi] < v:
                    frame.loc[rid, hi] = v


@functools.cache
def default_tech() -> Technology:
    """The packaged node and memory tables."""
    nodes = _read_table(DATA_DIR / "nodes.csv", "node")
    memories = _read_table(DATA_DIR / "memories.csv", "memory")
    _validate(nodes, "node", "nodes.csv")
    _validate(memories, "memory", "memories.csv")
    return Technology(_Table.build("node", nodes), _Table.build("memory", memories))


def _apply_overrides(
    base: pd.DataFrame, rows: dict[str, dict[str, Any]], kind: str, where: str
) -> pd.DataFrame:
    numeric = NODE_NUMERIC if kind == "node" else MEMORY_NUMERIC
    booleans = NODE_BOOL if kind == "node" else MEMORY_BOOL
    text = NODE_TEXT if kind == "node" else MEMORY_TEXT
    known = set(numeric) | set(booleans) | set(text) | {"based_on"}
    frame = base.copy()
    table = _Table.build(kind, base)
    for raw_id, values in rows.items():
        rid = _norm(raw_id)
        for c in values:
            if c not in known:
                raise DseInputError(
                    f"{where}: unknown {kind} column '{c}' for '{rid}'" + close_match_hint(c, known)
                )
        based_on = values.get("based_on")
        if based_on is not None and str(based_on).strip():
            parent = table.resolve(str(based_on), where=f"{where}: based_on of '{rid}'")
            row = frame.loc[parent].copy()
            row["aliases"] = ""
            row["source"] = f"user file {where} (based on {parent})"
        elif rid in table.aliases:
            rid = table.aliases[rid]
            row = frame.loc[rid].copy()
            row["source"] = f"user file {where} (overrides packaged values)"
        else:
            row = pd.Series({c: (math.nan if c in numeric else "") for c in frame.columns})
            row["source"] = f"user file {where}"
        for c, v in values.items():
            if c == "based_on":
                continue
            if c in numeric:
                row[c] = _to_float(v, c, rid, where)
                # a user point value without its own range is taken as certain
                for suffix in ("_low", "_high"):
                    if f"{c}{suffix}" in frame.columns and f"{c}{suffix}" not in values:
                        row[f"{c}{suffix}"] = row[c]
            elif c in booleans:
                row[c] = _to_bool(v, c, rid, where)
            else:
                row[c] = str(v)
        frame.loc[rid] = row
    _validate(frame, kind, where)
    return frame


def load_tech(path: str | Path, base: Technology | None = None) -> Technology:
    """Extend or override the technology tables with a user file.

    TOML: ``[nodes.<id>]`` and ``[memories.<id>]`` tables with column names of
    ``nodes.csv`` / ``memories.csv``; ``based_on = "<id>"`` copies an existing row first.
    CSV: one table with an ``id`` column and the columns of ``nodes.csv`` (recognised by
    ``logic_density_mtr_mm2``) or ``memories.csv`` (``bandwidth_gbps_per_unit``); rows
    with an existing id or alias override only the columns given.
    A value given without ``_low``/``_high`` is taken as certain (low = high = value).
    """
    return _load_tech_cached(str(Path(path).resolve()) if Path(path).exists() else str(path), base)


@functools.lru_cache(maxsize=32)
def _load_tech_cached(path_str: str, base: Technology | None) -> Technology:
    path = Path(path_str)
    base = base if base is not None else default_tech()
    node_rows: dict[str, dict[str, Any]] = {}
    mem_rows: dict[str, dict[str, Any]] = {}
    if path.suffix.lower() == ".toml":
        from dse.spec import read_toml

        data = read_toml(path)
        for key in data:
            if key not in ("nodes", "memories"):
                raise DseInputError(
                    f"{path}: unknown table '{key}' (expected [nodes.<id>] or [memories.<id>])"
                )
        for key, target in (("nodes", node_rows), ("memories", mem_rows)):
            tables = data.get(key, {})
            if not isinstance(tables, dict) or not all(
                isinstance(v, dict) for v in tables.values()
            ):
                raise DseInputError(f"{path}: '{key}' must hold tables like [{key}.<id>]")
            target.update(tables)
    elif path.suffix.lower() == ".csv":
        if not path.is_file():
            raise DseInputError(f"file not found: {path}")
        try:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise DseInputError(f"cannot read {path}: {str(exc).splitlines()[0]}") from None
        if "id" not in frame:
            raise DseInputError(f"{path}: a technology CSV needs an 'id' column")
        is_node = "logic_density_mtr_mm2" in frame or any(c in NODE_NUMERIC for c in frame.columns)
        is_mem = "bandwidth_gbps_per_unit" in frame or any(
            c in MEMORY_NUMERIC for c in frame.columns
        )
        if is_node == is_mem:
            raise DseInputError(
                f"{path}: cannot tell whether this CSV holds nodes or memories (use the columns of nodes.csv or memories.csv)"
            )
        target = node_rows if is_node else mem_rows
        for rec in frame.to_dict("records"):
            rid = rec.pop("id")
            target[rid] = {k: v for k, v in rec.items() if str(v).strip() != ""}
    else:
        raise DseInputError(f"technology file must be .toml or .csv, got {path}")
    nodes = (
        _apply_overrides(base.nodes.frame, node_rows, "node", str(path))
        if node_rows
        else base.nodes.frame
    )
    mems = (
        _apply_overrides(base.memories.frame, mem_rows, "memory", str(path))
        if mem_rows
        else base.memories.frame
    )
    return Technology(_Table.build("node", nodes), _Table.build("memory", mems), origin=str(path))
