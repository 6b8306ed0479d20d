"""A fingerprint of the model chain: seeded random designs through ``evaluate_many``.

Restructuring the chain must not move a single number; a physics change must show what it
moved. This script draws ``--designs`` seeded random designs over every chip key (lumped
and grid thermal, one die and chiplets, single chips and ``system = "auto"``), evaluates
them on one workload of each kind and either

* writes the fingerprint (``--write``): per workload and metric the SHA-256 of the values'
  bytes, and a summary (median, P10, P90, violation counts) that a reader can diff; or
* checks it (default): reports, per workload, the metrics that changed and exits 1 if
  anything did. A float column whose bytes differ but whose sum, absolute sum and NaN
  count agree to 1e-9 counts as unchanged: numpy's vectorised exp/log/pow differ in the
  last bit between CPUs, so the bytes hold on one machine only (a refactor is proven
  bit-identical there, with ``--save`` and ``--against``).

``--save FILE.npz`` keeps the raw values too, and ``--against FILE.npz`` compares with
such a file value by value (used to show how a physics change moved the numbers).

Usage::

    python scripts/chain_snapshot.py                 # check against tests/data/chain_snapshot.json
    python scripts/chain_snapshot.py --write         # refresh it after a deliberate change
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

import dse
from dse.spec import CHIP_KEYS
from dse.tech import default_tech

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOT = ROOT / "tests" / "data" / "chain_snapshot.json"
WORKLOADS = (
    "gemm:4096,4096,4096",
    "llm-decode:llama-3-70b:batch=8,context=2048",
    "llm-prefill:llama-3-8b:batch=1,seq=2048",
    "resnet50:batch=32",
)
SEED = 20261130
N_DESIGNS = 20000


def random_designs(n: int = N_DESIGNS, seed: int = SEED) -> pd.DataFrame:
    """``n`` seeded random designs spanning every chip key (a few percent on grid thermal)."""
    rng = np.random.default_rng(seed)
    tech = default_tech()
    nodes = list(tech.nodes.frame.index)
    memories = list(tech.memories.frame.index)

    def pick(values, p=None):
        return rng.choice(np.array(values, dtype=object), n, p=p)

    memory = pick(memories)
    has_mem = memory != "none"
    dies = rng.choice([1, 1, 1, 2, 4], n)
    cores = dies * rng.integers(1, 65, n)
    frame = pd.DataFrame(
        {
            "name": [f"d{i}" for i in range(n)],
            "node": pick(nodes),
            "cores": cores,
            "macs_per_core": rng.choice([256, 1024, 2048, 4096, 16384], n),
            "clock_ghz": rng.uniform(0.4, 2.5, n).round(3),
            "sram_mb": np.exp(rng.uniform(np.log(4), np.log(2048), n)).round(2),
            "memory": memory,
            "memory_count": np.where(has_mem, rng.integers(1, 9, n), 0),
            "tdp_w": rng.uniform(15, 1000, n).round(1),
            "cooling": pick(CHIP_KEYS["cooling"].choices),
            "mac_dtype": pick(CHIP_KEYS["mac_dtype"].choices),
            "ambient_c": rng.uniform(15, 45, n).round(1),
            "tj_max_c": rng.uniform(85, 110, n).round(1),
            "thermal_model": pick(["lumped", "grid"], p=[0.97, 0.03]),
            "thermal_grid_cells": rng.choice([8, 12], n),
            "sram_layout": pick(CHIP_KEYS["sram_layout"].choices),
            "spare_cores": dies * rng.choice([0, 0, 1, 2], n),
            "dies": dies,
            "package": pick(CHIP_KEYS["package"].choices),
            "system": pick(["single", "auto"], p=[0.6, 0.4]),
            "link": pick(CHIP_KEYS["link"].choices),
            "tp_max": rng.choice([1, 2, 4, 8], n),
        }
    )
    return frame


def evaluate_all(n: int = N_DESIGNS, seed: int = SEED) -> dict[str, pd.DataFrame]:
    designs = random_designs(n, seed)
    return {wl: dse.evaluate_many(designs, wl, threads=1) for wl in WORKLOADS}


def _metric_columns(frame: pd.DataFrame) -> list[str]:
    design_keys = set(CHIP_KEYS)
    return [c for c in frame.columns if c not in design_keys]


def _digest(values: pd.Series) -> str:
    if values.dtype.kind not in "fiub":  # text (object or pandas string dtype)
        data = "\x1f".join(map(str, values)).encode()
    else:
        data = np.ascontiguousarray(values.to_numpy()).tobytes()
    return hashlib.sha256(data).hexdigest()[:16]


#: relative tolerance of :func:`same_to_tolerance`: far above the last-bit differences of
#: numpy's vectorised exp/log/pow between CPUs (~1e-16 a value), far below any change of
#: the physics
MOMENT_RTOL = 1e-9


def moments(values: pd.Series) -> list[float]:
    """Sum, sum of absolute values and NaN count of a float column (full precision)."""
    x = values.to_numpy(dtype=float)
    finite = x[np.isfinite(x)]
    return [float(finite.sum()), float(np.abs(finite).sum()), float(np.isnan(x).sum())]


def same_to_tolerance(stored: dict, now: dict, wl: str, col: str) -> bool:
    """Whether a float column whose bytes differ agrees with the stored one to
    :data:`MOMENT_RTOL` in its moments (another CPU's last bits), not a moved number."""
    a = stored["workloads"].get(wl, {}).get("moments", {}).get(col)
    b = now["workloads"][wl].get("moments", {}).get(col)
    if a is None or b is None:
        return False
    return bool(np.allclose(a, b, rtol=MOMENT_RTOL, atol=0.0))


def fingerprint(results: dict[str, pd.DataFrame]) -> dict:
    out: dict = {"seed": SEED, "workloads": {}}
    for wl, frame in results.items():
        entry: dict = {"rows": len(frame), "digest": {}, "summary": {}}
        entry["moments"] = {}
        for col in _metric_columns(frame):
            entry["digest"][col] = _digest(frame[col])
            s = frame[col]
            if s.dtype.kind == "f":
                q = np.nanpercentile(s.to_numpy(), [10, 50, 90])
                entry["summary"][col] = [float(f"{x:.6g}") for x in q]
                entry["moments"][col] = moments(s)
        viol = frame["violations"].str.split(";").explode()
        entry["summary"]["violations"] = {
            k: int(v) for k, v in viol[viol != ""].value_counts().sort_index().items()
        }
        entry["summary"]["feasible"] = int(frame["feasible"].sum())
        out["workloads"][wl] = entry
    return out


def compare_values(before: dict[str, pd.DataFrame], after: dict[str, pd.DataFrame]) -> list[str]:
    """Per workload and metric: how many rows changed, median and max |relative change|."""
    lines = []
    for wl in after:
        a, b = before[wl], after[wl]
        for col in _metric_columns(b):
            if col not in a:
                lines.append(f"{wl}  {col}: new metric")
                continue
            x, y = a[col].to_numpy(), b[col].to_numpy()
            if x.dtype.kind != "f":
                changed = int((x != y).sum())
                if changed:
                    lines.append(f"{wl}  {col}: {changed} of {len(x)} rows changed")
                continue
            same = (x == y) | (np.isnan(x) & np.isnan(y))
            if same.all():
                continue
            rel = np.abs(y - x) / np.maximum(np.abs(x), 1e-300)
            rel = rel[~same & np.isfinite(rel)]
            med = float(np.median(rel)) if rel.size else float("nan")
            big = float(rel.max()) if rel.size else float("nan")
            lines.append(
                f"{wl}  {col}: {int((~same).sum())} of {len(x)} rows changed, "
                f"median |rel| {med:.3g}, max {big:.3g}"
            )
    return lines


def _save(results: dict[str, pd.DataFrame], path: Path) -> None:
    arrays = {}
    for i, (_, frame) in enumerate(results.items()):
        for col in _metric_columns(frame):
            values = frame[col].to_numpy()
            arrays[f"{i}|{col}"] = values if values.dtype.kind in "fiub" else values.astype(str)
    np.savez_compressed(path, **arrays)


def _load(path: Path) -> dict[str, pd.DataFrame]:
    data = np.load(path, allow_pickle=False)
    cols: dict[str, dict[str, np.ndarray]] = {wl: {} for wl in WORKLOADS}
    for key in data.files:
        i, col = key.split("|", 1)
        cols[WORKLOADS[int(i)]][col] = data[key]
    return {wl: pd.DataFrame(c) for wl, c in cols.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="refresh the stored fingerprint")
    ap.add_argument("--designs", type=int, default=N_DESIGNS, help="random designs per workload")
    ap.add_argument("--save", type=Path, help="also keep the raw values in this .npz file")
    ap.add_argument("--against", type=Path, help="compare value by value with a --save file")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    results = evaluate_all(args.designs)
    print(
        f"{args.designs} designs x {len(WORKLOADS)} workloads in {time.perf_counter() - t0:.1f} s"
    )
    if args.save:
        _save(results, args.save)
    if args.against:
        lines = compare_values(_load(args.against), results)
        print("\n".join(lines) if lines else "identical to " + str(args.against))
    fp = fingerprint(results)
    if args.write:
        SNAPSHOT.parent.mkdir(parents=True, exist_ok=True)
        SNAPSHOT.write_text(json.dumps(fp, indent=1, sort_keys=True) + "\n")
        print(f"wrote {SNAPSHOT}")
        return 0
    stored = json.loads(SNAPSHOT.read_text())
    changed = [
        f"{wl}: {col}"
        for wl, entry in fp["workloads"].items()
        for col, h in entry["digest"].items()
        if stored["workloads"].get(wl, {}).get("digest", {}).get(col) != h
    ]
    moved = [c for c in changed if not same_to_tolerance(stored, fp, *c.split(": ", 1))]
    if moved:
        print("changed:\n  " + "\n  ".join(moved))
        return 1
    if changed:
        print(
            f"equal to the stored fingerprint to {MOMENT_RTOL:g} but not bit-identical in "
            f"{len(changed)} columns (another CPU or numpy: their last bits); compare a "
            "refactor on one machine (--save before, --against after)"
        )
        return 0
    print("bit-identical to the stored fingerprint")
    return 0


if __name__ == "__main__":
    sys.exit(main())
