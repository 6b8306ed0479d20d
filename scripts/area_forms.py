"""More forms of the area model tried against issue 12's one miss, Graphcore GC2.

The shipped area fit (``scripts/calibrate.py``) meets the held-out median of issue 12
and leaves one held-out die beyond +-35 %: Graphcore GC2 (TSMC N16), while GC200, the
same tile design on N7, is a fit die. The model's GC2 error is its GC200 error times
the error of the ratio GC2 / GC200, and that ratio is set by how the model carries one
design from N7 to N16. This script changes one thing at a time, refits the six area
constants on the fit dies (least squares in log area inside the bounds of
``model_constants.csv``, as ``calibrate.fit_area``) and prints, per form, the held-out
median, the worst held-out dies, the fit median, the ratio error GC2 / GC200, the
Graphcore GC200 tile-logic block (``reference_blocks.csv``) and leave one family out:

1. **node-dependent logic derate**: derate x (quoted / 163.7)^-k, so that a node with a
   high quoted (high-density library) figure reaches a smaller share of it; at N4 (163.7
   MTr/mm2, H100's node, the source of ``logic_derate``) the derate is unchanged. What
   the published transistor counts say of k is printed first (:func:`density_slope`:
   the GPU fit dies, least squares of log(transistors / area / quoted) in log quoted;
   and Graphcore's GC2 -> GC200 step).
2. **robust loss**: ``soft_l1`` and ``huber`` at f_scale 0.1 and 0.2 (in log area), so
   that the dies the form does not describe (RNGD -44 %, MTIA v2 -34 %) pull less.
3. **a fixed per-core port**: transistors per core beside the control's power of the
   MACs (an exchange or NoC port of every tile), fitted in 1e4-3e7, with and without
   the GC200 tile-logic block (which does not contain the exchange) as a residual.
4. **uncore_fraction fitted** inside its own bounds (0.05-0.25), with and without the
   GC200 tile-logic block (weight 1 and 0.5).

Nothing is written: the record behind the table "Tried on 2026-12-02" in
``docs/area.md``. Takes about 2.5 minutes on two cores.

Usage::

    python scripts/area_forms.py
"""

from __future__ import annotations

from contextlib import ExitStack
from unittest import mock

import numpy as np
import pandas as pd
from area_blocks import Blocks, load_blocks
from calibrate import AREA_PARAMS, _area_rows, _bounds
from scipy.optimize import least_squares

from dse.analysis.fidelity import DIE_FAMILIES, die_area_table, load_reference_dies
from dse.constants import default_constants
from dse.model import area
from dse.tech import default_tech

#: quoted logic density where the node-dependent derate equals ``logic_derate``: TSMC N4,
#: H100's node (nodes.csv tsmc-n4), the die the constant's value comes from
DERATE_REF_MTR_MM2 = 163.7
#: the GC200 tile-logic block of reference_blocks.csv (64 bf16 MACs, 2 fp32 lanes, N7)
GC200_TILE_BLOCK = "graphcore-gc200-tile-logic"
TILE_BLOCK = Blocks(load_blocks())
PORT_BOUNDS = (1.0e4, 3.0e7)
UNCORE_BOUNDS = (0.05, 0.25)
GC2, GC200 = "graphcore-colossus-mk1", "graphcore-colossus-mk2"


class Form:
    """One variant of the area model and its fit: ``k`` the derate's density exponent,
    ``loss``/``f_scale`` the least-squares loss, ``port`` a fitted per-core port,
    ``uncore`` uncore_fraction fitted, ``block`` the weight of the GC200 tile block."""

    def __init__(
        self, label, k=0.0, loss="linear", f_scale=1.0, port=False, uncore=False, block=0.0
    ):
        self.label, self.k, self.loss, self.f_scale = label, k, loss, f_scale
        self.port, self.uncore, self.block = port, uncore, block
        self.port_transistors = 0.0

    def names(self):
        return [
            *AREA_PARAMS,
            *(["uncore_fraction"] if self.uncore else []),
            *(["port"] if self.port else []),
        ]

    def bounds(self, c, name):
        return (
            PORT_BOUNDS
            if name == "port"
            else UNCORE_BOUNDS
            if name == "uncore_fraction"
            else _bounds(c, name)
        )

    def patched(self):
        """The chain with this form's density and per-core port (a context)."""
        stack = ExitStack()
        k, form = self.k, self
        density, overhead = area.effective_logic_density_mtr_mm2, area.core_overhead_area_mm2

        def derated(quoted, derate):
            quoted = np.asarray(quoted, dtype=float)
            return density(quoted, derate) * (quoted / DERATE_REF_MTR_MM2) ** (-k)

        def with_port(cores, macs, lanes, control, exponent, per_lane, dens):
            port = area.logic_area_mm2(np.asarray(cores) * form.port_transistors, dens)
            return overhead(cores, macs, lanes, control, exponent, per_lane, dens) + port

        stack.enter_context(mock.patch.object(area, "effective_logic_density_mtr_mm2", derated))
        stack.enter_context(mock.patch.object(area, "core_overhead_area_mm2", with_port))
        return stack

    @staticmethod
    def tile_block_error(c) -> float:
        """Model / published - 1 of the GC200 tile logic (``area_blocks.Blocks``, no port:
        the exchange is not in the block)."""
        row = int(np.flatnonzero(TILE_BLOCK.frame["key"] == GC200_TILE_BLOCK)[0])
        return float(TILE_BLOCK.model(c)[row] / TILE_BLOCK.value[row]) - 1.0

    def fit(self, c, dies):
        names = self.names()
        lo, hi = (np.log(v) for v in zip(*(self.bounds(c, n) for n in names), strict=True))
        start = [(self.port_transistors or 1e5) if n == "port" else c[n] for n in names]
        x0 = np.clip(np.log(start), lo + 1e-9, hi - 1e-9)
        with_block = self.block > 0 and GC200 in set(dies["key"])

        def apply(x):
            values = dict(zip(names, np.exp(x), strict=True))
            self.port_transistors = values.pop("port", 0.0)
            return c.replace(**values)

        def resid(x):
            trial = apply(x)
            r = np.log1p(die_area_table(constants=trial, dies=dies)["error"].to_numpy())
            if with_block:
                r = np.append(r, self.block * np.log1p(self.tile_block_error(trial)))
            return r

        res = least_squares(
            resid, x0, bounds=(lo, hi), x_scale=1.0, loss=self.loss, f_scale=self.f_scale
        )
        return apply(res.x)


def evaluate(form: Form, c0, dies: pd.DataFrame) -> dict:
    """Fit, held-out and fit errors, and leave one family out of one form."""
    with form.patched():
        c = form.fit(c0, _area_rows(dies))
        port = form.port_transistors
        rows = _area_rows(dies, roles=("fit", "held-out"))
        err = die_area_table(constants=c, dies=rows).set_index("chip")["error"]
        block = form.tile_block_error(c)
        lofo = {}
        for fam in DIE_FAMILIES:
            left = rows[rows["family"] == fam]
            if left.empty:
                continue
            trial = form.fit(c, rows[rows["family"] != fam])
            lofo[fam] = die_area_table(constants=trial, dies=left)["error"].abs().to_numpy()
        form.port_transistors = port
    held = set(rows.loc[rows["role"] == "held-out", "key"])
    h, f = err[err.index.isin(held)], err[~err.index.isin(held)]
    beyond = h[h.abs() > 0.35]
    at_bound = [
        n for n in form.names()
        if any(np.isclose(c[n] if n != "port" else port, b, rtol=1e-3) for b in form.bounds(c0, n))
    ]  # fmt: skip
    return dict(
        form=form.label, held_out_median=h.abs().median(),
        beyond_35=", ".join(f"{k} {v:+.1%}" for k, v in beyond.items()) or "none",
        fit_median=f.abs().median(), gc2=err[GC2], gc200=err[GC200],
        ratio_error=(1 + err[GC2]) / (1 + err[GC200]), gc200_tile_logic=block,
        **{f"lofo_{fam}": float(np.median(v)) for fam, v in lofo.items()},
        lofo_all=float(np.median(np.concatenate(list(lofo.values())))),
        at_bound=", ".join(at_bound) or "none",
        port=port, uncore=c["uncore_fraction"],
    )  # fmt: skip


FORMS = (
    Form("shipped"),
    Form("derate k 0.1", k=0.1),
    Form("derate k 0.2", k=0.2),
    Form("derate k 0.3", k=0.3),
    Form("soft_l1 0.1", loss="soft_l1", f_scale=0.1),
    Form("soft_l1 0.2", loss="soft_l1", f_scale=0.2),
    Form("huber 0.1", loss="huber", f_scale=0.1),
    Form("per-core port", port=True),
    Form("per-core port + GC200 block", port=True, block=1.0),
    Form("GC200 block", block=1.0),
    Form("uncore fitted", uncore=True),
    Form("uncore fitted + GC200 block", uncore=True, block=1.0),
    Form("uncore fitted + GC200 block x0.5", uncore=True, block=0.5),
)


def density_slope(dies: pd.DataFrame, nodes: pd.DataFrame) -> tuple[float, float]:
    """k as the transistor counts give it: over the GPU fit dies with a vendor count, the
    slope of log(achieved / quoted density) in log(quoted density), negated; and over
    the Graphcore pair, log(quoted ratio / achieved ratio) / log(quoted ratio)."""
    has = dies[
        (dies["transistors_quality"] == "vendor") & dies["area_quality"].isin(("exact", "analyst"))
    ]
    quoted = nodes.loc[has["node"], "logic_density_mtr_mm2"].to_numpy(float)
    achieved = has["transistors_b"].to_numpy(float) * 1e3 / has["die_area_mm2"].to_numpy(float)
    gpu = ((has["family"] == "gpu") & (has["role"] == "fit")).to_numpy()
    slope = np.polyfit(np.log(quoted[gpu]), np.log(achieved[gpu] / quoted[gpu]), 1)[0]
    keys = has["key"].tolist()
    i, j = keys.index(GC2), keys.index(GC200)
    q, a = quoted[j] / quoted[i], achieved[j] / achieved[i]
    return -float(slope), float(np.log(q / a) / np.log(q))


def main() -> None:
    c0 = default_constants()
    dies = load_reference_dies()
    k_gpu, k_graphcore = density_slope(dies, default_tech().nodes.frame)
    print(
        f"k from transistor counts: GPU fit dies {k_gpu:.2f}, Graphcore GC2 -> GC200 {k_graphcore:.2f}"
    )
    out = []
    for form in FORMS:
        r = evaluate(form, c0, dies)
        out.append(r)
        print(
            f"{r['form']:34s} held out {r['held_out_median']:.1%}, beyond 35 %: {r['beyond_35']}; "
            f"fit {r['fit_median']:.1%}; GC2 {r['gc2']:+.1%} = GC200 {r['gc200']:+.1%} x ratio "
            f"{r['ratio_error']:.2f}; tile block {r['gc200_tile_logic']:+.0%}; leave one family out "
            + ", ".join(
                f"{fam} {r['lofo_' + fam]:.1%}" for fam in DIE_FAMILIES if "lofo_" + fam in r
            )
            + f", all {r['lofo_all']:.1%}; at a bound: {r['at_bound']}"
            + (f"; port {r['port']:.3g}" if "port" in form.names() else "")
            + (f"; uncore {r['uncore']:.3f}" if form.uncore else ""),
            flush=True,
        )


if __name__ == "__main__":
    main()
