"""Published transistor counts as a second observable of the area model (issue 12).

For every reference die with a published transistor count (``transistors_b`` in
``dse/data/reference_dies.csv``) prints the model's area and transistor count
(:func:`dse.model.area.die_transistors`) against the published ones, then refits the area
constants with the counts as a second target in four variants of the model and prints
the die-area errors each gives on the fixed held-out dies:

- ``shipped``: the constants in ``model_constants.csv`` (area-only fit,
  ``scripts/calibrate.py``);
- ``joint``: least squares in log area and log transistor count over the fit dies,
  ``logic_derate`` free inside its bounds (separable from the transistors per MAC and per
  lane once the counts are a target);
- ``joint, derate per node``: as ``joint`` with one derate per node that has a fit die
  with a vendor count, the median of those for the other nodes;
- ``joint, SIMT vs SIMD lanes``: as ``joint`` with one cost per lane for the GPU dies'
  SIMT lanes and another for the vector ALUs of the other families;
- ``joint, int32 + fp32 lanes``: as ``joint`` with the GPU SMs' lanes counted as all
  their int32 and fp32 lanes (GV100, TU104, GA100: 64 + 64; GH100: 128 + 64; GA102 and
  Ada keep their 128 shared lanes), so that GA102's dual-use lanes are not counted twice.

Only ``vendor`` counts enter a fit; ``unconfirmed`` ones are printed. Nothing is written:
this is the record of what the counts say, quoted in ``docs/area.md``.

Usage::

    python scripts/area_transistors.py
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import least_squares

from dse.analysis.fidelity import DIE_VALUED, die_area_table, load_reference_dies
from dse.constants import default_constants
from dse.model import area
from dse.tech import default_tech

#: the constants ``scripts/calibrate.py`` fits on area alone
AREA_PARAMS = (
    "mac_transistors_bf16", "mac_transistors_int8", "core_control_transistors",
    "core_control_mac_exponent", "core_transistors_per_lane", "register_file_area_factor",
)  # fmt: skip
#: int32 + fp32 lanes per SM where they differ from the fp32 lanes of the table
ALL_LANES = {"nvidia-gv100": 128, "nvidia-tu104": 128, "nvidia-ga100": 128, "nvidia-gh100": 192}


class Dies:
    """The usable reference dies as arrays, and the area model on them (dse.model.area)."""

    def __init__(self, c):
        tech = default_tech()
        dies = load_reference_dies(tech=tech)
        self.frame = d = dies[dies["role"] != "excluded"].reset_index(drop=True)
        nf, mf = tech.nodes.frame, tech.memories.frame
        self.node = d["node"].to_numpy()
        self.quoted = nf.loc[self.node, "logic_density_mtr_mm2"].to_numpy(float)
        self.macro = nf.loc[self.node, "sram_macro_mbit_mm2"].to_numpy(float)
        board = (mf.loc[d["memory"], "kind"] == "board").to_numpy()
        self.phy = area.phy_area_mm2(
            d["memory_count"].to_numpy(float),
            mf.loc[d["memory"], "phy_area_mm2_per_unit"].to_numpy(float),
            np.where(board, c["board_phy_area_factor"], 1.0),
        )
        self.cores = d["cores"].to_numpy(float)
        self.macs = d["macs_per_core"].to_numpy(float)
        self.lanes = d["vector_lanes_per_core"].to_numpy(float)
        self.sram = np.maximum(d[["cache_mb", "scratchpad_mb"]].fillna(0.0).sum(axis=1).to_numpy(), 0.01)
        self.rf = d["register_file_mb"].fillna(0.0).to_numpy()
        self.scratch = (d["sram_kind"] == "scratchpad").to_numpy()
        self.dtype = d["mac_dtype"].to_numpy()
        self.simt = (d["family"] == "gpu").to_numpy()
        self.published = d["die_area_mm2"].to_numpy(float)
        self.transistors = d["transistors_b"].to_numpy(float) * 1e9
        valued = d["area_quality"].isin(DIE_VALUED).to_numpy()
        self.fit = valued & (d["role"] == "fit").to_numpy()
        self.held = valued & (d["role"] == "held-out").to_numpy()
        self.counted = (d["transistors_quality"] == "vendor").to_numpy()

    def model(self, p, derate=None, lanes=None, fixed=None):
        """(area [mm2], transistors) of every die for the constants ``p`` (a dict); ``fixed``
        overrides the per-core control transistors (one value or one per die; default the
        chain's control, :func:`dse.model.area.core_control_transistors`)."""
        derate = p["logic_derate"] if derate is None else derate
        lanes = self.lanes if lanes is None else lanes
        density = area.effective_logic_density_mtr_mm2(self.quoted, derate)
        tr_mac = np.select(
            [self.dtype == "bf16", self.dtype == "int8"],
            [p["mac_transistors_bf16"], p["mac_transistors_int8"]], p["mac_transistors_fp8"],
        )  # fmt: skip
        per_lane = np.where(self.simt, p["core_transistors_per_lane"], p.get("simd_transistors_per_lane", p["core_transistors_per_lane"]))
        if fixed is None:
            fixed = area.core_control_transistors(
                self.macs, p["core_control_transistors"], p["core_control_mac_exponent"]
            )
        logic = self.cores * (self.macs * tr_mac + fixed + per_lane * lanes)
        a_core = area.logic_area_mm2(logic, density) + area.sram_area_mm2(
            self.rf, self.macro, p["register_file_area_factor"]
        )
        factor = np.where(self.scratch, p["scratchpad_area_factor"], p["sram_area_factor"])
        a_sram = area.sram_area_mm2(self.sram, self.macro, factor)
        # one die, no spares: the chain's geometry (dse/chain/design.py) for the reference dies
        a_die = (a_core + a_sram) * (1.0 + p["uncore_fraction"]) + self.phy + p["uncore_fixed_mm2"]
        uncore = p["uncore_fraction"] * (a_core + a_sram) + p["uncore_fixed_mm2"]
        return a_die, area.die_transistors(logic, self.sram, self.rf, uncore, density)


def fit(dies, c, p, names, model):
    """Least squares in log area (fit dies) and log transistors (fit dies with a vendor
    count), each parameter in ``names`` inside the bounds of ``c`` (or of its base)."""
    bounds = {n: (c.table.loc[n.split(":")[0], "low"], c.table.loc[n.split(":")[0], "high"]) for n in names}
    lo = np.log([bounds[n][0] for n in names])
    hi = np.log([bounds[n][1] for n in names])
    x0 = np.clip(np.log([p[n] for n in names]), lo + 1e-9, hi - 1e-9)
    both = dies.fit & dies.counted

    def resid(x):
        a, t = model(dict(p, **dict(zip(names, np.exp(x), strict=True))))
        return np.concatenate(
            [np.log(a[dies.fit] / dies.published[dies.fit]), np.log(t[both] / dies.transistors[both])]
        )

    res = least_squares(resid, x0, bounds=(lo, hi))
    out = dict(p, **dict(zip(names, np.exp(res.x), strict=True)))
    at_bound = [n for n, v, a, b in zip(names, res.x, lo, hi, strict=True) if min(v - a, b - v) < 1e-3]
    return out, at_bound


def summary(dies, label, a, t, at_bound, extra=""):
    e = a / dies.published - 1.0
    et = t / dies.transistors - 1.0
    held = dies.frame["key"][dies.held]
    worst = held.iloc[int(np.argmax(np.abs(e[dies.held])))]
    both = dies.fit & dies.counted
    print(
        f"{label:34s} held-out median |error| {np.median(np.abs(e[dies.held])):5.1%}, worst "
        f"{worst} {e[dies.frame['key'] == worst][0]:+.1%}; beyond 35 %: "
        f"{', '.join(f'{k} {v:+.1%}' for k, v in zip(held, e[dies.held], strict=True) if abs(v) > 0.35) or 'none'}; "
        f"fit area {np.median(np.abs(e[dies.fit])):5.1%}, fit transistors {np.median(np.abs(et[both])):5.1%}"
    )
    print(f"{'':34s} at a bound: {', '.join(at_bound) or 'none'}{extra}")
    return e, et


def main() -> None:
    c = default_constants()
    dies = Dies(c)
    p0 = {n: float(c[n]) for n in c.table.index}
    a, t = dies.model(p0)
    shipped = die_area_table(constants=c)["model"].to_numpy()
    assert np.allclose(a, shipped, rtol=1e-12), "the script's area model must be the chain's"
    e, et = a / dies.published - 1.0, t / dies.transistors - 1.0
    print("shipped constants: model vs published area and transistor count")
    for i, row in dies.frame.iterrows():
        if (dies.fit | dies.held)[i]:
            tr = f"{et[i]:+7.1%} ({row['transistors_quality']})" if np.isfinite(et[i]) else "    n/a"
            print(f"  {row['role']:8s} {row['family']:8s} {row['key']:26s} area {e[i]:+7.1%}  transistors {tr}")
    print("\nrefits with the transistor counts as a second target:")
    summary(dies, "shipped (area only)", a, t, [n for n in AREA_PARAMS if c[n] in (c.table.loc[n, "low"], c.table.loc[n, "high"])])
    names = ["logic_derate", *AREA_PARAMS]
    p, hit = fit(dies, c, p0, names, dies.model)
    summary(dies, "joint", *dies.model(p), hit, f"; logic_derate {p['logic_derate']:.3f}")
    nodes = sorted(set(dies.node[dies.fit & dies.counted]))
    keys = [f"logic_derate:{n}" for n in nodes]

    def per_node(q):
        fitted = {n: q[k] for n, k in zip(nodes, keys, strict=True)}
        med = float(np.median(list(fitted.values())))
        return dies.model(q, derate=np.array([fitted.get(n, med) for n in dies.node]))

    p, hit = fit(dies, c, dict(p0, **dict.fromkeys(keys, p0["logic_derate"])), [*keys, *AREA_PARAMS], per_node)
    summary(dies, "joint, derate per node", *per_node(p), hit, "; " + ", ".join(f"{n} {p[k]:.2f}" for n, k in zip(nodes, keys, strict=True)))
    c.table.loc["simd_transistors_per_lane"] = c.table.loc["core_transistors_per_lane"]
    p, hit = fit(dies, c, dict(p0, simd_transistors_per_lane=p0["core_transistors_per_lane"]), [*names, "simd_transistors_per_lane"], dies.model)
    summary(dies, "joint, SIMT vs SIMD lanes", *dies.model(p), hit, f"; SIMT {p['core_transistors_per_lane']:.3g}, SIMD {p['simd_transistors_per_lane']:.3g} per lane")
    lanes = np.array([ALL_LANES.get(k, v) for k, v in zip(dies.frame["key"], dies.lanes, strict=True)], dtype=float)

    def all_lanes(q):
        return dies.model(q, lanes=lanes)

    p, hit = fit(dies, c, p0, names, all_lanes)
    summary(dies, "joint, int32 + fp32 lanes", *all_lanes(p), hit)


if __name__ == "__main__":
    main()
