"""Fit the model's free constants to published chip data; report held-out errors.

What is fitted on what (the ``role`` column of ``dse/data/reference_chips.csv`` is the
single source of truth; rows marked ``fit`` are the fit set, everything else is held
out of every fit):

1. Area: ``mac_transistors_bf16``, ``mac_transistors_int8``, ``core_control_transistors``,
   ``core_control_mac_exponent``, ``core_transistors_per_lane`` and
   ``register_file_area_factor`` by least squares on log(model / published) over the
   dies of ``dse/data/reference_dies.csv`` with role ``fit`` and an exact or analyst
   area (GPUs, systolic, many-core and dataflow dies), each kept inside its low/high
   bounds in ``model_constants.csv``. ``vector_lanes_per_sqrt_mac`` (the datapath width a
   design gets when it does not give one) is the median of lanes / sqrt(MACs) over the
   reference dies. Not fitted: ``logic_derate`` (H100 transistor density, not separable
   from the transistor counts), ``sram_area_factor`` (cache; AMD V-Cache die),
   ``scratchpad_area_factor`` (the Cerebras WSE-2 core's SRAM banks, a block area),
   ``mac_transistors_fp8`` (derived), ``board_phy_area_factor`` (AMD Navi 31 MCD),
   ``uncore_fraction`` and ``uncore_fixed_mm2`` (assumptions).
2. Energy: ``operand_delivery_factor`` so that the A100 dense bf16 GEMM
   (8192^3, 400 W cap) reaches the measured 258 TFLOPS: the rate is set by the clock
   the power cap allows, so the fit sets the energy per MAC. ``mac_issue_efficiency``
   is not fitted: 295/312 = 0.946, the same GEMM with all-zero inputs (no power limit).
3. LLM step time: ``op_overhead_s`` (per kernel), ``dram_efficiency`` and
   ``kv_read_efficiency`` (the KV-cache reads of decode attention) jointly, by
   least squares in log time over the measured rows with role ``fit`` of
   ``request_latency_s`` (static batches timed end to end: prefill plus decode),
   ``latency_s`` (prefill) and ``tokens_per_s`` (decode rate): TensorRT-LLM on A100-40GB
   and H100 at batch 1-64 (LLM-Inference-Bench) and gpt-fast on A100. vLLM rows, the
   128-token runs and TensorRT-LLM's own prefill table are held out.

4. Clocked baseline: ``clock_energy_pj_per_mtr_cycle_45nm`` by least squares in log
   power over the two decode points with role ``fit``: A100-40GB Llama-2-7B with ~12
   sequences (214 W, ML.ENERGY leaderboard v2, an older vLLM) and H100 Llama-3-8B at
   batch 16 (513 W, ML.ENERGY v3, vLLM 0.11.1). Idle power (four chips), the other H100
   batches and J/token, A100 Llama-2-13B decode and the H100 GEMM clock are held out.

Steps 1-4 interact weakly (area -> thermal resistance and leakage), so they are
iterated. Leave-one-family-out: the area fit is repeated on the fit and held-out dies of
the other architecture families and each left-out family predicted: how the model does
on an architecture it has never seen.

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

from dse.analysis.fidelity import (
    DIE_FAMILIES,
    DIE_VALUED,
    die_area_by_family,
    die_area_table,
    error_summary,
    load_reference_dies,
    load_reference_table,
    reference_chips,
    validation_table,
)
from dse.constants import CONSTANTS_CSV, ModelConstants, default_constants

AREA_PARAMS = (
    "mac_transistors_bf16",
    "mac_transistors_int8",
    "core_control_transistors",
    "core_control_mac_exponent",
    "core_transistors_per_lane",
    "register_file_area_factor",
)
LANES_PARAM = "vector_lanes_per_sqrt_mac"
ENERGY_PARAM = "operand_delivery_factor"
OVERHEAD_PARAM = "op_overhead_s"
#: fitted jointly on the LLM step-time rows (decode requests, prefill, decode rate)
STEP_PARAMS = (OVERHEAD_PARAM, "dram_efficiency", "kv_read_efficiency", "host_s_per_prompt_token")
STEP_METRICS = ("request_latency_s", "ttft_s", "tokens_per_s")
BASELINE_PARAM = "clock_energy_pj_per_mtr_cycle_45nm"
ROUNDS = 3

#: what each fitted constant stands for and why its bounds are what they are; the fit
#: appends "Fitted by scripts/calibrate.py on ..." (model_constants.csv ``source``)
BASE_SOURCES = {
    "mac_transistors_bf16": "All-in transistors of one bf16 MAC with fp32 accumulation in a real array (multiplier, adder, pipeline and skew registers, operand distribution), at the derated logic density. Gate count alone (Horowitz ISSCC 2014 45 nm areas x 3.3 MTr/mm2) gives ~7.4k = the lower bound's order; upper bound 80k: TPUv1's 65,536 int8 MACs take 24 % of a < 331 mm2 28 nm die (Jouppi et al., ISCA 2017), ~10k transistors per int8 MAC at the derated 28 nm density, and a bf16 MAC with fp32 accumulation is 4-8x an int8 MAC.",
    "mac_transistors_int8": "All-in transistors of one int8 MAC with 32-bit accumulation in a real array, at the derated logic density. Horowitz ISSCC 2014 45 nm 8b mult 282 um2 + 16-32b add 67-137 um2 = ~400 um2 x 3.3 MTr/mm2 = 1.3k (the lower bound's order); upper bound 20k: twice the TPUv1 all-in estimate (~10k, Jouppi et al., ISCA 2017).",
    "core_control_transistors": "Per-core control (scalar core or sequencer, instruction memory, DMA, NoC port, operand distribution) of a core with 1,024 MACs; a core with m MACs has (m / 1024)^core_control_mac_exponent times as much. Bounds 1e5-1e8: from a dataflow tile's sequencer to a superscalar control core with its caches' logic.",
    "core_control_mac_exponent": "Exponent of the per-core control in the core's MAC count: control = core_control_transistors x (MACs / 1024)^exponent. 0 would be one fixed cost per core whatever its size (a 32-MAC many-core tile paying the control of a 16k-MAC systolic core), 1 control proportional to the MACs; between them the sequencers, operand buffers and NoC ports that feed an array grow with its edge (sqrt, 0.5) or faster. Bounds 0.05-1.",
    "core_transistors_per_lane": "One fp32 lane of a core's vector/SIMT datapath with its share of register-file ports, load/store, operand collection, issue and special-function units. Bounds 1e4-1e7: an fp32 FMA alone is ~5e4 transistors (Horowitz 45 nm areas); H100 is 80e9 transistors over 144 SMs x 128 lanes = 4.3e6 per lane for everything on the die.",
    "register_file_area_factor": "Register-file area over single-port compiled-macro area: multi-ported 8T+ bit cells and their read/write ports (a 2R1W cell is about twice a 6T cell, wider files 3-5x; Weste & Harris, CMOS VLSI Design, 4th ed., ch. 12). Bounds 1.5-5.",
    "operand_delivery_factor": "All-in energy of a MAC (pipeline, register files, local wires, clock tree) relative to Stillmaker-scaled Horowitz arithmetic, for a 32 x 32 MAC array per core; the delivery part (k - 1) scales with 32 / sqrt(macs_per_core) (power.mac_energy_pj). Bounds 2-40: Dally/Horowitz put operand delivery at 3-10x the arithmetic; the esim 16-bit FPU energies (0.8-1.2 pJ at 7/5 nm, nodes.md 2.2) times 1.5-2x delivery give ~20-30.",
    "op_overhead_s": "Fixed cost per kernel of a launched-kernel chip (execution = 'kernel'): launch, prologue/epilogue and wave tail, charged per op that runs as its own kernel (FlashAttention's softmax and value product and residual adds fused into the next norm pay none). Nsight: ~1.5 us per kernel inside CUDA graphs, 5-20 us eager launches (research notes); bounds 0.5-10 us.",
    "dram_efficiency": "Sustained / peak DRAM bandwidth of the streaming reads of an inference step (weights, KV cache, spilled activations), with the per-kernel overhead the one free parameter of LLM step time. Bounds 0.6-0.95: STREAM-class results on HBM GPUs reach 0.85-0.92 of peak (triad), and decode kernels measured end to end sit lower.",
    "kv_read_efficiency": "Fraction of the sustained DRAM bandwidth that reads of the KV cache reach: decode attention (paged attention, FlashDecoding) reads the cache in small blocks per sequence and head, not in long streams. Bounds 0.4-1.0.",
    "host_s_per_prompt_token": "Host (CPU) time of a serving framework per prompt token before the first token: tokenisation, input preparation, scheduling and the first sampling, counted in the time to first token and not in the chip's step. Chip-independent by construction: the measured TTFT of 16 x 1024-token prompts exceeds the modelled chip time by a similar 60-130 ms on A100 and on H100 (2.1x the bandwidth, 3.2x the FLOP rate), which no chip term reproduces. Bounds 0.1-20 us: a Rust BPE tokenizer alone takes ~1 us per token on one core.",
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
        table=table[table.index.isin(rows.index)],
        chips=chips,
        with_dies=False,
    )
    # the table comes back grouped by chip and metric: put it in the order of ``rows``
    model = frame.set_index(["chip", "metric", "workload"])["model"]
    return model.loc[list(zip(rows["chip"], rows["metric"], rows["workload"], strict=True))].to_numpy()


def _area_rows(dies, roles=("fit",)):
    """Dies with one of ``roles`` and an exact or analyst area."""
    return dies[dies["role"].isin(roles) & dies["area_quality"].isin(DIE_VALUED)]


def fit_area(c: ModelConstants, dies) -> ModelConstants:
    """Least squares in log area over ``dies`` (each parameter inside its bounds)."""
    lo, hi = zip(*(_bounds(c, n) for n in AREA_PARAMS), strict=True)
    lo, hi = np.log(lo), np.log(hi)
    x0 = np.clip(np.log([c[n] for n in AREA_PARAMS]), lo + 1e-9, hi - 1e-9)

    def resid(x):
        trial = c.replace(**dict(zip(AREA_PARAMS, np.exp(x), strict=True)))
        return np.log1p(die_area_table(constants=trial, dies=dies)["error"].to_numpy())

    res = least_squares(resid, x0, bounds=(lo, hi), x_scale=1.0)
    return c.replace(**dict(zip(AREA_PARAMS, np.exp(res.x), strict=True)))


def lanes_per_sqrt_mac(dies) -> float:
    """Median fp32 lanes per sqrt(MACs per core) over the evaluated reference dies."""
    used = dies[dies["role"] != "excluded"]
    return float(np.median(used["vector_lanes_per_core"] / np.sqrt(used["macs_per_core"])))


def fit_llm_steps(c: ModelConstants, table, chips, rows) -> ModelConstants:
    """Per-kernel overhead and DRAM efficiency jointly, by least squares in log time over
    the LLM step rows (decode requests, prefill, decode rate), inside their bounds."""
    lo, hi = zip(*(_bounds(c, n) for n in STEP_PARAMS), strict=True)
    lo, hi = np.log(lo), np.log(hi)
    x0 = np.clip(np.log([c[n] for n in STEP_PARAMS]), lo + 1e-9, hi - 1e-9)
    target = rows["value"].to_numpy()
    rate = (rows["metric"] == "tokens_per_s").to_numpy()  # a rate: the time is its inverse

    def resid(x):
        trial = c.replace(**dict(zip(STEP_PARAMS, np.exp(x), strict=True)))
        ratio = np.log(_model(trial, table, chips, rows) / target)
        return np.where(rate, -ratio, ratio)

    res = least_squares(resid, x0, bounds=(lo, hi), x_scale=1.0, diff_step=1e-3)
    return c.replace(**dict(zip(STEP_PARAMS, np.exp(res.x), strict=True)))


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
    dies = load_reference_dies()
    area_rows = _area_rows(dies)
    c = c.replace(**{LANES_PARAM: lanes_per_sqrt_mac(dies)})
    energy_rows = _rows(table, "achieved_tflops")
    overhead_rows = table[
        table["metric"].isin(STEP_METRICS) & (table["role"] == "fit") & table["quality"].isin(("exact", "measured"))
    ]
    baseline_rows = _rows(table, "power_w", qualities=("exact", "measured", "derived"))
    for _ in range(ROUNDS):
        c = fit_area(c, area_rows)
        c = _fit_scalar(c, table, chips, energy_rows, ENERGY_PARAM)
        c = _fit_scalar_ls(c, table, chips, baseline_rows, BASELINE_PARAM)
        c = fit_llm_steps(c, table, chips, overhead_rows)
    return c, table, chips, area_rows, energy_rows, overhead_rows, baseline_rows


def leave_one_family_out(c: ModelConstants, dies=None) -> list[tuple[str, str, float]]:
    """Refit the area on the fit and held-out dies of the other families; predict each
    die of the left-out family. Returns (family, die key, signed error) rows."""
    dies = dies if dies is not None else load_reference_dies()
    rows = _area_rows(dies, roles=("fit", "held-out"))
    out = []
    for fam in DIE_FAMILIES:
        left = rows[rows["family"] == fam]
        if left.empty:
            continue
        trial = fit_area(c, rows[rows["family"] != fam])
        pred = die_area_table(constants=trial, dies=left)
        out += [(fam, k, float(e)) for k, e in zip(pred["chip"], pred["error"], strict=True)]
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--write", action="store_true", help="write fitted values to model_constants.csv"
    )
    args = ap.parse_args()
    c0 = default_constants()
    c, table, chips, area_rows, energy_rows, overhead_rows, baseline_rows = calibrate(c0)
    print("fitted constants (bounds):")
    for name in (*AREA_PARAMS, LANES_PARAM, ENERGY_PARAM, BASELINE_PARAM, *STEP_PARAMS):
        lo, hi = _bounds(c, name)
        flag = (
            " (at bound)"
            if math.isclose(c[name], lo, rel_tol=1e-3) or math.isclose(c[name], hi, rel_tol=1e-3)
            else ""
        )
        print(f"  {name:26s} {c[name]:.4g}  [{lo:g}, {hi:g}]{flag}  (was {c0[name]:.4g})")
    frame = validation_table(constants=c, table=table, chips=chips)
    print("\ndie area, model vs published (exact and analyst areas; check rows not counted):")
    areas = frame[frame["metric"] == "die_area_mm2"]
    for _, r in areas.iterrows():
        print(
            f"  {r['role']:9s} {r['family']:9s} {r['name'][:36]:36s} {r['model']:7.1f} vs "
            f"{r['published']:6.0f} ({r['quality']})  {r['error']:+.1%}"
        )
    print("\nper family:")
    print(die_area_by_family(frame).to_string(index=False, float_format=lambda v: f"{v:+.3f}"))
    lofo = leave_one_family_out(c)
    print("\nleave-one-family-out die area (refit on the other families):")
    for fam in DIE_FAMILIES:
        errs = [e for f, _, e in lofo if f == fam]
        if errs:
            keys = ", ".join(f"{k} {e:+.1%}" for f, k, e in lofo if f == fam)
            print(f"  {fam:9s} median |error| {np.median(np.abs(errs)):.1%}: {keys}")
    print(f"  all: median |error| {np.median(np.abs([e for *_, e in lofo])):.1%}")
    print("\nerror summary:")
    print(error_summary(frame).to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    if args.write:
        area_chips = ", ".join(area_rows["key"])
        updates: dict[str, dict[str, object]] = {}
        for name in AREA_PARAMS:
            lo, hi = _bounds(c, name)
            updates[name] = dict(
                value=float(c[name]),
                source=f"{BASE_SOURCES[name]} Fitted by scripts/calibrate.py on the die areas of {area_chips} "
                f"(reference_dies.csv; least squares in log area, bounds {lo:g}-{hi:g}).",
            )
        updates[LANES_PARAM] = dict(
            value=float(c[LANES_PARAM]),
            source="fp32 lanes of a core's vector datapath per sqrt(MACs per core) when a design "
            "does not give vector_lanes: the datapath that feeds a square MAC array scales with its "
            "edge. Fitted by scripts/calibrate.py as the median of vector_lanes_per_core / "
            "sqrt(macs_per_core) over the evaluated dies of reference_dies.csv (bounds: the dies' "
            "range 0.25-8).",
        )
        steps = "; ".join(f"{r['chip']} {r['workload']} = {r['value']:g} {r['unit']}" for _, r in overhead_rows.iterrows())
        for name in STEP_PARAMS:
            lo, hi = _bounds(c, name)
            updates[name] = dict(
                value=float(c[name]),
                source=f"{BASE_SOURCES[name]} Fitted by scripts/calibrate.py jointly with "
                f"{', '.join(n for n in STEP_PARAMS if n != name)}, least squares in log step time over the "
                f"measured LLM decode and prefill rows with role fit: {steps} (bounds {lo:g}-{hi:g}).",
            )
        for name, rows, what in (
            (ENERGY_PARAM, energy_rows, "the measured dense bf16 GEMM rate under the 400 W cap"),
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
