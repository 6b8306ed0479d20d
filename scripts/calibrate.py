"""Fit the model's free constants to published chip data; report held-out errors.

What is fitted on what (the ``role`` column of ``dse/data/reference_chips.csv`` is the
single source of truth; rows marked ``fit`` are the fit set, everything else is held
out of every fit):

1. Area: ``mac_transistors_bf16``, ``core_fixed_transistors`` and
   ``core_transistors_per_row`` by least squares on log(model / published) over the
   die areas with role ``fit`` (A100, H100, Groq TSP, MTIA v2: one chip per
   architecture family, die sizes from the vendors' own papers). Three parameters on
   four chips, each kept inside its low/high bounds in ``model_constants.csv``. The
   other area constants are *not* fitted: ``logic_derate`` (H100 transistor density,
   and not separable from the transistor counts), ``sram_area_factor`` (AMD V-Cache
   die), ``board_phy_area_factor`` (AMD Navi 31 MCD), ``uncore_fraction`` and
   ``uncore_fixed_mm2`` (assumptions) keep their sourced values.
2. Energy: ``operand_delivery_factor`` so that the A100 dense bf16 GEMM
   (8192^3, 400 W cap) reaches the measured 258 TFLOPS: the rate is set by the clock
   the power cap allows, so the fit sets the energy per MAC. ``mac_issue_efficiency``
   is not fitted: 295/312 = 0.946, the same GEMM with all-zero inputs (no power limit).
3. Per-op overhead: ``op_overhead_s`` so that Llama-2-7B bf16 decode at batch 1 on A100
   reaches the measured 104.9 tokens/s (gpt-fast, CUDA graphs).

4. Clocked baseline: ``clock_energy_pj_per_mtr_cycle_45nm`` by least squares in log
   power over the two decode points with role ``fit``: A100-40GB Llama-2-7B with ~12
   sequences (214 W, ML.ENERGY leaderboard v2, an older vLLM) and H100 Llama-3-8B at
   batch 16 (513 W, ML.ENERGY v3, vLLM 0.11.1). Idle power (four chips), the other H100
   batches and J/token, A100 Llama-2-13B decode and the H100 GEMM clock are held out.

Steps 1-4 interact weakly (area -> thermal resistance and leakage), so they are
iterated. Leave-one-out: the area fit is repeated with each chip of known die area left
out (fit set and held-out chips alike) and the left-out chip predicted.

Usage::

    python scripts/calibrate.py            # fit and print (no files changed)
    python scripts/calibrate.py --write    # also write values + sources to model_constants.csv
"""

from __future__ import annotations

import argparse
import csv
import io
import math
from pathlib import Path

import numpy as np
from scipy.optimize import brentq, least_squares

from dse.constants import CONSTANTS_CSV, ModelConstants, default_constants
from dse.validate import error_summary, load_reference_table, reference_chips, validation_table

AREA_PARAMS = ("mac_transistors_bf16", "core_fixed_transistors", "core_transistors_per_row")
ENERGY_PARAM = "operand_delivery_factor"
OVERHEAD_PARAM = "op_overhead_s"
BASELINE_PARAM = "clock_energy_pj_per_mtr_cycle_45nm"
ROUNDS = 3

#: what each fitted constant stands for and why its bounds are what they are; the fit
#: appends "Fitted by scripts/calibrate.py on ..." (model_constants.csv ``source``)
BASE_SOURCES = {
    "mac_transistors_bf16": "All-in transistors of one bf16 MAC with fp32 accumulation in a real array (multiplier, adder, pipeline and skew registers, operand distribution), at the derated logic density. Gate count alone (Horowitz ISSCC 2014 45 nm areas x 3.3 MTr/mm2) gives ~7.4k = the lower bound's order; upper bound 80k (widened from 20k, issue 4): TPUv1's 65,536 int8 MACs take 24 % of a < 331 mm2 28 nm die (Jouppi et al., ISCA 2017), ~10k transistors per int8 MAC at the derated 28 nm density, and a bf16 MAC with fp32 accumulation is 4-8x an int8 MAC.",
    "core_fixed_transistors": "Per-core control processor, scheduler, DMA and NoC port (independent of the MAC array size). Tesla D1: 50e9 transistors / 354 cores = 141e6 per core, less its 1.25 MB SRAM (~63e6 in 6T cells) and uncore share -> ~50e6; bounds span small NPU tiles (1e7) to GPU SMs (4e8).",
    "core_transistors_per_row": "Per-core vector/SIMD unit, register-file ports, operand buffers and load/store, per row of the square MAC array (sized to the array edge sqrt(macs_per_core)). Bounds 1e5-2e7: from a few SIMD lanes per row to a GPU SM's SIMT datapath.",
    "operand_delivery_factor": "All-in energy of a MAC (pipeline, register files, local wires, clock tree) relative to Stillmaker-scaled Horowitz arithmetic, for a 32 x 32 MAC array per core; the delivery part (k - 1) scales with 32 / sqrt(macs_per_core) (power.mac_energy_pj). Bounds 2-40: Dally/Horowitz put operand delivery at 3-10x the arithmetic; the esim 16-bit FPU energies (0.8-1.2 pJ at 7/5 nm, nodes.md 2.2) times 1.5-2x delivery give ~20-30.",
    "op_overhead_s": "Fixed cost per kernel of a launched-kernel chip (execution = 'kernel'): launch, prologue/epilogue and wave tail, charged per op that runs as its own kernel (FlashAttention's softmax and value product and residual adds fused into the next norm pay none). Nsight: ~1.5 us per kernel inside CUDA graphs, 5-20 us eager launches (research notes); bounds 0.5-10 us.",
    "clock_energy_pj_per_mtr_cycle_45nm": "Clocked baseline (clock tree, registers, sequencers and always-on control) per million logic transistors (core logic and uncore at the derated density) per cycle at 45 nm and nominal Vdd, scaled by the node's energy_factor and (V/V_nom)^2: the power a clocked chip draws while its datapaths wait on memory. Clock distribution alone is 20-40 % of a processor's dynamic power (classic VLSI texts; Alpha 21264 ~32 %); bounds 1-100 pJ (an effective coefficient: it also carries the load-issue and cache activity of a core that waits on memory).",
}


def _bounds(c: ModelConstants, name: str) -> tuple[float, float]:
    return float(c.table.loc[name, "low"]), float(c.table.loc[name, "high"])


def _rows(table, metric: str, roles=("fit",), qualities=("exact", "measured")):
    sel = table[
        (table["metric"] == metric) & table["role"].isin(roles) & table["quality"].isin(qualities)
    ]
    return sel


def _model(c: ModelConstants, table, chips, rows) -> np.ndarray:
    frame = validation_table(
        constants=c,
        table=table[table.index.isin(rows.index) | (table["role"] == "as-built")],
        chips=chips,
    )
    return frame["model"].to_numpy()


def fit_area(c: ModelConstants, table, chips, rows) -> ModelConstants:
    """Least squares in log space over the die areas in ``rows``."""
    lo, hi = zip(*(_bounds(c, n) for n in AREA_PARAMS), strict=True)
    lo, hi = np.log(lo), np.log(hi)
    x0 = np.clip(np.log([c[n] for n in AREA_PARAMS]), lo + 1e-9, hi - 1e-9)
    target = rows["value"].to_numpy()

    def resid(x):
        trial = c.replace(**dict(zip(AREA_PARAMS, np.exp(x), strict=True)))
        return np.log(_model(trial, table, chips, rows) / target)

    res = least_squares(resid, x0, bounds=(lo, hi), x_scale=1.0)
    return c.replace(**dict(zip(AREA_PARAMS, np.exp(res.x), strict=True)))


def _fit_scalar(c: ModelConstants, table, chips, rows, name: str) -> ModelConstants:
    """One constant so that the single fit row in ``rows`` is matched (bisection)."""
    if len(rows) != 1:
        raise SystemExit(f"expected one fit row for {name}, got {len(rows)}")
    target = float(rows["value"].iloc[0])
    lo, hi = _bounds(c, name)

    def excess(v):
        return _model(c.replace(**{name: v}), table, chips, rows)[0] / target - 1.0

    f_lo, f_hi = excess(lo), excess(hi)
    if f_lo * f_hi > 0:  # no root inside the bounds: take the bound closest to the data
        best = lo if abs(f_lo) < abs(f_hi) else hi
        print(f"  note: {name} hits its bound {best:g} (target not reachable within bounds)")
        return c.replace(**{name: best})
    return c.replace(**{name: brentq(excess, lo, hi, xtol=1e-12, rtol=1e-6)})


def _fit_scalar_ls(c: ModelConstants, table, chips, rows, name: str) -> ModelConstants:
    """One constant by least squares in log(model / published) over several fit rows."""
    target = rows["value"].to_numpy()
    lo, hi = _bounds(c, name)
    res = least_squares(
        lambda x: np.log(_model(c.replace(**{name: float(np.exp(x[0]))}), table, chips, rows) / target),
        [np.log(np.clip(c[name], lo * 1.0001, hi * 0.9999))],
        bounds=([np.log(lo)], [np.log(hi)]),
    )
    return c.replace(**{name: float(np.exp(res.x[0]))})


def calibrate(c: ModelConstants | None = None):
    """Run the fit; returns (constants, area fit rows, energy rows, overhead rows)."""
    c = c if c is not None else default_constants()
    table = load_reference_table()
    chips = reference_chips()
    area_rows = _rows(table, "die_area_mm2")
    energy_rows = _rows(table, "achieved_tflops")
    overhead_rows = _rows(table, "tokens_per_s")
    baseline_rows = _rows(table, "power_w", qualities=("exact", "measured", "derived"))
    for _ in range(ROUNDS):
        c = fit_area(c, table, chips, area_rows)
        c = _fit_scalar(c, table, chips, energy_rows, ENERGY_PARAM)
        c = _fit_scalar_ls(c, table, chips, baseline_rows, BASELINE_PARAM)
        c = _fit_scalar(c, table, chips, overhead_rows, OVERHEAD_PARAM)
    return c, table, chips, area_rows, energy_rows, overhead_rows, baseline_rows


def leave_one_out(c: ModelConstants, table, chips) -> list[tuple[str, float]]:
    """Refit the area constants without each exactly-known die area; predict it."""
    rows = _rows(table, "die_area_mm2", roles=("fit", "held-out"), qualities=("exact",))
    out = []
    for idx in rows.index:
        trial = fit_area(c, table, chips, rows.drop(idx))
        pred = _model(trial, table, chips, rows.loc[[idx]])[0]
        out.append((rows.loc[idx, "chip"], pred / rows.loc[idx, "value"] - 1.0))
    return out


# ---------------------------------------------------------------------------------------
# writing model_constants.csv (only the changed rows are rewritten)
# ---------------------------------------------------------------------------------------


def _fmt(v: float) -> str:
    if abs(v) >= 1e5:
        mantissa, exponent = f"{v:.4e}".split("e")
        return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"
    return f"{v:.5g}" if abs(v) >= 1e-3 else f"{v:.4g}"


def update_constants_csv(updates: dict[str, dict[str, object]], path: Path = CONSTANTS_CSV) -> None:
    """Rewrite the rows named in ``updates`` (keys value/low/high/unit/source); append
    rows that do not exist; leave every other line byte for byte."""
    lines = path.read_text().splitlines()
    header = next(csv.reader([lines[0]]))
    seen = set()
    out = [lines[0]]
    for line in lines[1:]:
        row = dict(zip(header, next(csv.reader([line])), strict=True))
        name = row["name"]
        if name in updates:
            seen.add(name)
            row.update(
                {k: (_fmt(v) if isinstance(v, float) else str(v)) for k, v in updates[name].items()}
            )
            line = _format_row(header, row)
        out.append(line)
    for name, fields in updates.items():
        if name not in seen:
            row = {
                "name": name,
                **{k: (_fmt(v) if isinstance(v, float) else str(v)) for k, v in fields.items()},
            }
            out.append(_format_row(header, row))
    path.write_text("\n".join(out) + "\n")


def _format_row(header: list[str], row: dict[str, str]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="")
    writer.writerow([row.get(h, "") for h in header[:-1]])
    source = row.get("source", "").replace('"', '""')
    return f'{buf.getvalue()},"{source}"'


def _chips_text(rows) -> str:
    return ", ".join(rows["chip"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--write", action="store_true", help="write fitted values to model_constants.csv"
    )
    args = ap.parse_args()
    c0 = default_constants()
    c, table, chips, area_rows, energy_rows, overhead_rows, baseline_rows = calibrate(c0)
    print("fitted constants (bounds):")
    for name in (*AREA_PARAMS, ENERGY_PARAM, BASELINE_PARAM, OVERHEAD_PARAM):
        lo, hi = _bounds(c, name)
        flag = (
            " (at bound)"
            if math.isclose(c[name], lo, rel_tol=1e-3) or math.isclose(c[name], hi, rel_tol=1e-3)
            else ""
        )
        print(f"  {name:26s} {c[name]:.4g}  [{lo:g}, {hi:g}]{flag}  (was {c0[name]:.4g})")
    frame = validation_table(constants=c, table=table, chips=chips)
    print("\ndie area, model vs published:")
    for _, r in frame[frame["metric"] == "die_area_mm2"].iterrows():
        print(
            f"  {r['role']:9s} {r['name']:16s} {r['model']:7.1f} vs {r['published']:5.0f}  {r['error']:+.1%}"
        )
    loo = leave_one_out(c, table, chips)
    print("\nleave-one-out die area (refit without the chip):")
    for chip, err in loo:
        print(f"  {chip:14s} {err:+.1%}")
    print(f"  median |error| {np.median(np.abs([e for _, e in loo])):.1%}")
    print("\nerror summary:")
    print(error_summary(frame).to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    if args.write:
        area_chips = _chips_text(area_rows)
        updates: dict[str, dict[str, object]] = {}
        for name in AREA_PARAMS:
            lo, hi = _bounds(c, name)
            updates[name] = dict(
                value=float(c[name]),
                source=f"{BASE_SOURCES[name]} Fitted by scripts/calibrate.py on the die areas of {area_chips} "
                f"(least squares in log area, bounds {lo:g}-{hi:g}).",
            )
        for name, rows, what in (
            (ENERGY_PARAM, energy_rows, "the measured dense bf16 GEMM rate under the 400 W cap"),
            (OVERHEAD_PARAM, overhead_rows, "the measured bf16 decode rate at batch 1"),
            (BASELINE_PARAM, baseline_rows, "the measured board power of memory-bound LLM decode"),
        ):
            lo, hi = _bounds(c, name)
            on = "; ".join(f"{r['chip']} {r['workload']} = {r['value']:g} {r['unit']}" for _, r in rows.iterrows())
            how = "least squares in log power over " if len(rows) > 1 else ""
            updates[name] = dict(
                value=float(c[name]),
                source=f"{BASE_SOURCES[name]} Fitted by scripts/calibrate.py on {how}{on} ({what}; bounds {lo:g}-{hi:g}).",
            )
        update_constants_csv(updates)
        print(f"\nwrote {len(updates)} constants to {CONSTANTS_CSV}")


if __name__ == "__main__":
    main()
