"""Published block areas as a third observable of the area model (issue 12).

``dse/data/reference_blocks.csv`` holds areas of parts of dies (a core's logic, its SRAM,
a MAC array, a buffer) measured on die shots or given in papers, each with its source,
date and confidence. This script

1. prints what the shipped constants give for every block (``use`` fit and check);
2. refits the six area constants of ``scripts/calibrate.py`` (same bounds, same fit dies,
   the held-out dies fixed) with the ``fit`` blocks as extra residuals, in five forms:

   - ``blocks``: the shipped form;
   - ``blocks, core by kind``: the per-core control (``core_control_transistors``) and the
     cost per vector lane (``core_transistors_per_lane``) split in two, one pair for a GPU
     SM (SIMT issue, warp schedulers, load/store, texture units) and one for the cores of
     the other families (a tile or processing element with a scalar or small vector
     control core), each inside the shipped bounds;
   - ``blocks, core by kind, counts``: as above with the published transistor counts as a
     further target and ``logic_derate`` free (as ``scripts/area_transistors.py``);
   - ``blocks, core by kind, control CPUs``: a tile's control adds ``cpu_transistors``
     per control processor (:data:`CONTROL_CPUS`, from the dies' notes), inside
     :data:`CPU_BOUNDS`;

   - ``blocks, uncore_fraction free``: the shipped form with ``uncore_fraction`` fitted
     too (inside :data:`UNCORE_BOUNDS`): the GC200 tile-logic block takes half the logic
     the die-area fit gives a Graphcore tile, and the die total then needs the uncore;

   and the control-CPU form once more on the die areas alone (no blocks);

3. prints, for each, the held-out die-area errors, the fit errors, the error per family,
   the constants that end at a bound and the block errors, and leave-one-family-out for
   every form.

A block residual is log(model / published) for a measured value and
max(0, log(model / bound)) for an upper bound (a floorplan share of a die published as
"< X mm2"). Block areas of held-out dies are never used (none is in the table with
``use`` fit). Nothing is written: the record of the refit quoted in ``docs/area.md``.

Usage::

    python scripts/area_blocks.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from area_transistors import AREA_PARAMS, Dies
from scipy.optimize import least_squares

from dse.analysis.fidelity import DIE_FAMILIES, read_checked_csv
from dse.constants import default_constants
from dse.errors import DseInputError
from dse.model import area
from dse.tech import default_tech

BLOCKS_CSV = Path(__file__).resolve().parents[1] / "dse" / "data" / "reference_blocks.csv"
BLOCK_COLUMNS = (
    "key", "node", "block", "kind", "macs", "mac_dtype", "vector_lanes", "sram_mb", "value",
    "unit", "bound", "use", "confidence", "source", "date",
)  # fmt: skip
#: the per-kind split of the per-core constants (a GPU SM's pair)
SM_PARAMS = ("sm_control_transistors", "sm_transistors_per_lane")
SM_BASE = dict(
    zip(SM_PARAMS, ("core_control_transistors", "core_transistors_per_lane"), strict=True)
)
#: control processors per core of the non-GPU dies, as their reference_dies.csv notes and
#: vector_lanes sources describe them (the Cerebras core and Groq have none: a sequencer)
CONTROL_CPUS = {
    "esperanto-et-soc-1": 1, "tenstorrent-wormhole": 5, "meta-mtia-v2": 2, "tesla-dojo-d1": 1,
    "graphcore-colossus-mk1": 1, "graphcore-colossus-mk2": 1, "furiosaai-rngd": 1,
    "intel-nervana-nnp-t-1000": 1, "huawei-ascend-910": 1, "groq-tsp": 0, "alibaba-hanguang-800": 0,
}  # fmt: skip
#: bounds of one control CPU [transistors]: a minimal RV32 core without caches (~25k gates,
#: 1e5 transistors) to an in-order RV64 with an FPU and its L1 logic (~2e7)
CPU_BOUNDS = (1.0e5, 2.0e7)
#: bounds of ``uncore_fraction`` where a form fits it: model_constants.csv's low (0.05) to
#: 0.40, above the one measured share, Graphcore GC200's exchange and uncore at 25 % of the
#: die = 33 % of its tiles and SRAM (reference_blocks.csv graphcore-gc200-tile-logic's note)
UNCORE_BOUNDS = (0.05, 0.40)
#: parameters fitted inside bounds of this script's own instead of model_constants.csv's
OWN_BOUNDS = {"cpu_transistors": CPU_BOUNDS, "uncore_fraction": UNCORE_BOUNDS}


def load_blocks(path: Path = BLOCKS_CSV, tech=None) -> pd.DataFrame:
    """Read and check the block table: known nodes, a source and a date on every row."""
    tech = tech if tech is not None else default_tech()
    blocks = read_checked_csv(path, BLOCK_COLUMNS, (
        ("bound", ("value", "upper", "ratio")), ("use", ("fit", "check")),
        ("confidence", ("H", "M", "L")), ("kind", ("tile", "systolic", "scratchpad", "cache")),
    ))  # fmt: skip
    for i, row in blocks.iterrows():
        tech.resolve_node(row["node"], where=f"{path} row {int(i) + 2}")
        if len(str(row["source"])) < 20 or str(row["date"]) == "nan":
            raise DseInputError(f"{path} row {int(i) + 2}: every block needs a source and a date")
    return blocks


def _control(p, macs):
    """Control transistors of a core with ``macs`` MACs (the chain's form)."""
    return area.core_control_transistors(
        macs, p["core_control_transistors"], p["core_control_mac_exponent"]
    )


class Blocks:
    """The area model on the blocks of ``reference_blocks.csv``."""

    def __init__(self, frame: pd.DataFrame, tech=None):
        tech = tech if tech is not None else default_tech()
        self.frame = f = frame.reset_index(drop=True)
        nodes = tech.nodes.frame
        self.quoted = nodes.loc[f["node"], "logic_density_mtr_mm2"].to_numpy(float)
        self.macro = nodes.loc[f["node"], "sram_macro_mbit_mm2"].to_numpy(float)
        self.n7_quoted = float(nodes.loc["tsmc-n7", "logic_density_mtr_mm2"])
        self.n7_macro = float(nodes.loc["tsmc-n7", "sram_macro_mbit_mm2"])
        self.value = f["value"].to_numpy(float)
        self.fit = (f["use"] == "fit").to_numpy()

    def _tile(self, p, i, quoted, macro):
        """Area of row ``i``'s logic and SRAM at a node [mm2]."""
        r = self.frame.iloc[i]
        tr_mac = {"bf16": p["mac_transistors_bf16"], "int8": p["mac_transistors_int8"]}.get(
            r["mac_dtype"], p["mac_transistors_fp8"]
        )
        density = area.effective_logic_density_mtr_mm2(quoted, p["logic_derate"])
        macs = float(r["macs"])
        if r["kind"] == "systolic":  # a MAC array alone
            logic = macs * tr_mac
        elif r["kind"] == "tile":  # a core: MACs, control, its vector lanes
            logic = (
                macs * tr_mac
                + float(_control(p, macs))
                + p["core_transistors_per_lane"] * float(r["vector_lanes"])
            )
        else:
            logic = 0.0
        factor = p["sram_area_factor"] if r["kind"] == "cache" else p["scratchpad_area_factor"]
        a_logic = float(area.logic_area_mm2(logic, density))
        a_sram = float(area.sram_area_mm2(float(r["sram_mb"]), macro, factor))
        return a_logic, a_sram

    def model(self, p) -> np.ndarray:
        """Model value of every block (mm2, or the N16 / N7 ratio of a core's area)."""
        out = np.empty(len(self.frame))
        for i, r in self.frame.iterrows():
            a_logic, a_sram = self._tile(p, i, self.quoted[i], self.macro[i])
            if r["bound"] == "ratio":  # the same core at this node over the same core on N7
                n7 = sum(self._tile(p, i, self.n7_quoted, self.n7_macro))
                out[i] = (a_logic + a_sram) / n7
            elif (
                r["block"].startswith("core logic")
                or r["kind"] == "systolic"
                and r["block"] == "MAC array"
            ):
                out[i] = a_logic
            elif r["kind"] in ("scratchpad", "cache"):
                out[i] = a_sram
            else:  # control: the control part of a core with the row's MACs
                density = area.effective_logic_density_mtr_mm2(self.quoted[i], p["logic_derate"])
                out[i] = float(area.logic_area_mm2(_control(p, float(r["macs"])), density))
        return out

    def residuals(self, p, rows=None) -> np.ndarray:
        rows = self.fit if rows is None else rows
        ratio = np.log(self.model(p)[rows] / self.value[rows])
        upper = (self.frame["bound"] == "upper").to_numpy()[rows]
        return np.where(upper, np.maximum(ratio, 0.0), ratio)


def die_model(dies: Dies, p, by_kind: bool):
    """(area, transistors) of every die; a GPU SM uses the ``sm_*`` pair when ``by_kind``;
    with ``cpu_transistors`` in ``p`` a non-GPU core adds that many per control CPU."""
    if not by_kind:
        return dies.model(p)
    if "cpu_transistors" in p:
        cpus = np.array([CONTROL_CPUS.get(k, 0) for k in dies.frame["key"]], dtype=float)
        a_t, t_t = dies.model(p, fixed=_control(p, dies.macs) + cpus * p["cpu_transistors"])
    else:
        a_t, t_t = dies.model(p)
    q = dict(
        p,
        core_control_transistors=p["sm_control_transistors"],
        core_transistors_per_lane=p["sm_transistors_per_lane"],
    )
    a_s, t_s = dies.model(q)
    return np.where(dies.simt, a_s, a_t), np.where(dies.simt, t_s, t_t)


def fit(c, dies: Dies, blocks: Blocks, p0, names, by_kind=False, counts=False, die_rows=None):
    """Least squares in log area over ``die_rows`` (default: the fit dies) plus the fit
    blocks (plus the vendor transistor counts of those dies when ``counts``), each
    parameter inside its bounds in ``model_constants.csv`` (the SM pair in those of the
    parameter it splits)."""
    die_rows = dies.fit if die_rows is None else die_rows
    base = {n: SM_BASE.get(n, n) for n in names}
    bounds = {
        n: OWN_BOUNDS[n]
        if n in OWN_BOUNDS
        else (c.table.loc[base[n], "low"], c.table.loc[base[n], "high"])
        for n in names
    }
    lo = np.log([bounds[n][0] for n in names])
    hi = np.log([bounds[n][1] for n in names])
    x0 = np.clip(np.log([p0[n] for n in names]), lo + 1e-9, hi - 1e-9)
    both = die_rows & dies.counted

    def resid(x):
        p = dict(p0, **dict(zip(names, np.exp(x), strict=True)))
        a, t = die_model(dies, p, by_kind)
        parts = [np.log(a[die_rows] / dies.published[die_rows]), blocks.residuals(p)]
        if counts:
            parts.append(np.log(t[both] / dies.transistors[both]))
        return np.concatenate(parts)

    res = least_squares(resid, x0, bounds=(lo, hi))
    p = dict(p0, **dict(zip(names, np.exp(res.x), strict=True)))
    at_bound = [
        n for n, v, a, b in zip(names, res.x, lo, hi, strict=True) if min(v - a, b - v) < 1e-3
    ]
    return p, at_bound


def report(label, dies: Dies, blocks: Blocks, p, at_bound, by_kind) -> dict:
    """Print one variant; return its summary numbers."""
    a, _ = die_model(dies, p, by_kind)
    e = a / dies.published - 1.0
    keys = dies.frame["key"].to_numpy()
    fams = dies.frame["family"].to_numpy()
    held = {k: v for k, v in zip(keys[dies.held], e[dies.held], strict=True)}
    beyond = {k: v for k, v in held.items() if abs(v) > 0.35}
    out = {
        "held_median": float(np.median(np.abs(e[dies.held]))),
        "fit_median": float(np.median(np.abs(e[dies.fit]))),
        "beyond": beyond,
    }
    print(f"\n== {label}")
    print(
        f"  held-out median |error| {out['held_median']:.1%}; beyond +-35 %: "
        f"{', '.join(f'{k} {v:+.1%}' for k, v in beyond.items()) or 'none'}; fit median {out['fit_median']:.1%}"
    )
    print("  held out: " + ", ".join(f"{k} {v:+.1%}" for k, v in held.items()))
    print(
        "  fit:      "
        + ", ".join(f"{k} {v:+.1%}" for k, v in zip(keys[dies.fit], e[dies.fit], strict=True))
    )
    for fam in DIE_FAMILIES:
        f_fit, f_held = dies.fit & (fams == fam), dies.held & (fams == fam)
        print(
            f"  {fam:9s} fit n={f_fit.sum()} median {np.median(np.abs(e[f_fit])) if f_fit.any() else np.nan:6.1%}"
            f"   held-out n={f_held.sum()} median {np.median(np.abs(e[f_held])) if f_held.any() else np.nan:6.1%}"
        )
    shown = [
        *AREA_PARAMS,
        *(SM_PARAMS if by_kind else ()),
        *(["cpu_transistors"] if "cpu_transistors" in p else []),
        "logic_derate",
        "uncore_fraction",
    ]
    print("  constants: " + ", ".join(f"{n} {p[n]:.4g}" for n in shown))
    print(f"  at a bound: {', '.join(at_bound) or 'none'}")
    b = blocks.model(p) / blocks.value - 1.0
    for (_, r), err in zip(blocks.frame.iterrows(), b, strict=True):
        kind = {"upper": "<=", "value": "= ", "ratio": "x "}[r["bound"]]
        print(
            f"  block {r['key']:32s} ({r['use']:5s}) published {kind}{r['value']:<7g} model {r['value'] * (1 + err):8.4g}  {err:+7.1%}"
        )
    return out


def leave_one_family_out(c, dies: Dies, blocks: Blocks, p0, names, by_kind) -> None:
    """Refit on the fit and held-out dies of the other families (and the fit blocks);
    print each die of the left-out family."""
    valued = dies.fit | dies.held
    fams = dies.frame["family"].to_numpy()
    keys = dies.frame["key"].to_numpy()
    errs = []
    for fam in DIE_FAMILIES:
        p, _ = fit(c, dies, blocks, p0, names, by_kind=by_kind, die_rows=valued & (fams != fam))
        a, _ = die_model(dies, p, by_kind)
        left = valued & (fams == fam)
        e = a[left] / dies.published[left] - 1.0
        errs += list(np.abs(e))
        # with the GPUs left out nothing constrains the SM pair: it keeps its start values
        note = " (SM pair not identified: start values)" if by_kind and fam == "gpu" else ""
        print(
            f"  left out {fam:9s} median {np.median(np.abs(e)):6.1%}{note}: "
            + ", ".join(f"{k} {v:+.1%}" for k, v in zip(keys[left], e, strict=True))
        )
    print(f"  all: median {np.median(errs):.1%}")


def main() -> None:
    c = default_constants()
    dies = Dies(c)
    blocks = Blocks(load_blocks())
    p0 = {n: float(c[n]) for n in c.table.index}
    shipped_at = [n for n in AREA_PARAMS if c[n] in (c.table.loc[n, "low"], c.table.loc[n, "high"])]
    shipped = report(
        "shipped constants (area-only fit, scripts/calibrate.py)",
        dies,
        blocks,
        p0,
        shipped_at,
        False,
    )
    p1, hit1 = fit(c, dies, blocks, p0, list(AREA_PARAMS))
    r1 = report("blocks: shipped form, fit dies + fit blocks", dies, blocks, p1, hit1, False)
    q0 = dict(
        p0,
        sm_control_transistors=p0["core_control_transistors"],
        sm_transistors_per_lane=p0["core_transistors_per_lane"],
    )
    names2 = [*AREA_PARAMS, *SM_PARAMS]
    p2, hit2 = fit(c, dies, blocks, q0, names2, by_kind=True)
    r2 = report("blocks, core by kind (GPU SM vs tile)", dies, blocks, p2, hit2, True)
    names3 = ["logic_derate", *names2]
    p3, hit3 = fit(c, dies, blocks, q0, names3, by_kind=True, counts=True)
    r3 = report(
        "blocks, core by kind, transistor counts, logic_derate free", dies, blocks, p3, hit3, True
    )
    q4 = dict(q0, cpu_transistors=1.0e6)
    names4 = [*names2, "cpu_transistors"]
    p4, hit4 = fit(c, dies, blocks, q4, names4, by_kind=True)
    r4 = report("blocks, core by kind, control CPUs per core", dies, blocks, p4, hit4, True)
    # the same form on the die areas alone: what the blocks cost the held-out dies
    none = Blocks(blocks.frame.iloc[0:0])
    p5, hit5 = fit(c, dies, none, q4, names4, by_kind=True)
    r5 = report(
        "core by kind, control CPUs per core, die areas only (blocks not fitted)",
        dies,
        blocks,
        p5,
        hit5,
        True,
    )
    # the shipped form with the blocks and the uncore share free: the tile logic of the
    # GC200 block leaves area that only the uncore can take
    names6 = [*AREA_PARAMS, "uncore_fraction"]
    p6, hit6 = fit(c, dies, blocks, p0, names6)
    r6 = report("blocks, uncore_fraction free (0.05-0.40)", dies, blocks, p6, hit6, False)
    variants = (
        ("shipped form, die areas only (scripts/calibrate.py)", none, p0, list(AREA_PARAMS), False),
        ("blocks, uncore_fraction free", blocks, p0, names6, False),
        ("shipped form + blocks", blocks, p0, list(AREA_PARAMS), False),
        ("core by kind + blocks", blocks, q0, names2, True),
        ("control CPUs + blocks", blocks, q4, names4, True),
        ("control CPUs, die areas only", none, q4, names4, True),
    )
    for label, obs, start, names, by_kind in variants:
        print(f"\nleave one family out, {label}:")
        leave_one_family_out(c, dies, obs, start, names, by_kind)
    print(
        "\nsummary: held-out median shipped {:.1%}, blocks {:.1%}, core by kind {:.1%}, with counts {:.1%}, "
        "control CPUs {:.1%}; control CPUs without the blocks {:.1%}; uncore free {:.1%}".format(
            shipped["held_median"],
            r1["held_median"],
            r2["held_median"],
            r3["held_median"],
            r4["held_median"],
            r5["held_median"],
            r6["held_median"],
        )
    )


if __name__ == "__main__":
    main()
