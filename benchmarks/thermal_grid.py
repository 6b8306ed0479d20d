"""Cost per design of the grid thermal model, and the validation tables of docs/thermal.md.

Usage::

    python benchmarks/thermal_grid.py [--designs N] [--sizes 8 16 32 64]
    python benchmarks/thermal_grid.py --validate

The benchmark prints designs/s for each grid size (cells per die side) for:

* ``spectral``: :func:`dse.model.thermal_grid.solve_grid_batch` on given power maps, without and
  with the leakage fixed point (the solver alone);
* ``end-to-end``: :func:`dse.model.thermal_grid.solve_designs_batch` from area and power
  breakdowns (floorplan + rasterisation + solve + leakage), what the chain would call;
* ``sparse``: one :class:`dse.model.thermal_grid.ThermalGrid` per design (assembly + SuperLU
  Newton), the general path;

and, for scale, the lumped Lambert-W model on the same designs.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from dse.model import thermal
from dse.model.floorplan import Block, Floorplan
from dse.model.thermal_grid import (
    ThermalGrid,
    circular_source_temperature_rise,
    hotspot_stack,
    lee_spreading_resistance,
    rectangular_sources_temperature_rise,
    solve_designs_batch,
    solve_floorplan,
    solve_grid_batch,
)

R_AIR, R_LIQUID = 0.07, 0.025
BETA, T_REF = 0.036, 85.0


def random_designs(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Area and power breakdowns of plausible accelerators (few run away)."""
    rng = np.random.default_rng(seed)
    core = rng.uniform(150.0, 600.0, n)
    sram = rng.uniform(20.0, 300.0, n)
    mem = rng.integers(0, 9, n)
    return {
        "core_area_mm2": core,
        "sram_area_mm2": sram,
        "phy_area_mm2": 15.0 * mem,
        "uncore_area_mm2": 30.0 + 0.12 * (core + sram),
        "cores": rng.integers(16, 257, n),
        "memory_count": mem,
        "p_core_w": core * rng.uniform(0.3, 1.0, n),
        "p_sram_w": sram * rng.uniform(0.05, 0.2, n),
        "p_phy_w": 5.0 * mem,
        "leak_w_per_mm2": rng.uniform(0.02, 0.12, n),
        "r_sink_k_per_w": np.where(rng.random(n) < 0.5, R_AIR, R_LIQUID),
    }


def _rate(fn, n: int, repeat: int) -> float:
    best = math.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return n / best


def benchmark(n: int, sizes: list[int], repeat: int) -> None:
    d = random_designs(n)
    total = d["core_area_mm2"] + d["sram_area_mm2"] + d["phy_area_mm2"] + d["uncore_area_mm2"]
    side = np.sqrt(total)
    p_dyn = d["p_core_w"] + d["p_sram_w"] + d["p_phy_w"]
    r_th = thermal.thermal_resistance_k_per_w(total, 14.0, d["r_sink_k_per_w"])
    lumped = _rate(
        lambda: thermal.junction_temperature(
            p_dyn, r_th, 35.0, d["leak_w_per_mm2"] * total, T_REF, BETA
        ),
        n,
        repeat,
    )
    print(f"lumped Lambert-W model: {lumped:,.0f} designs/s")
    print()
    print("| cells | spectral, no leakage | spectral + leakage | end-to-end | sparse (1 design) |")
    print("|---|---|---|---|---|")
    rng = np.random.default_rng(1)
    for nx in sizes:
        # power maps with a hot core region, as the floorplans give
        maps = np.empty((n, nx, nx))
        for i in range(n):
            maps[i] = rng.gamma(2.0, 1.0, (nx, nx))
        maps *= (p_dyn / maps.sum(axis=(1, 2)))[:, None, None]
        leak = (d["leak_w_per_mm2"] * total / nx**2)[:, None, None] * np.ones((1, nx, nx))

        def spectral_linear(maps=maps):
            solve_grid_batch(side, side, maps, r_sink_k_per_w=d["r_sink_k_per_w"], ambient_c=35.0)

        def spectral_leak(maps=maps, leak=leak):
            return solve_grid_batch(
                side, side, maps, leak, r_sink_k_per_w=d["r_sink_k_per_w"], ambient_c=35.0
            )

        def end_to_end(nx=nx):
            return solve_designs_batch(
                d["core_area_mm2"],
                d["sram_area_mm2"],
                d["phy_area_mm2"],
                d["uncore_area_mm2"],
                d["cores"],
                d["memory_count"],
                {"core": d["p_core_w"], "sram": d["p_sram_w"], "phy": d["p_phy_w"]},
                r_sink_k_per_w=d["r_sink_k_per_w"],
                ambient_c=35.0,
                leakage_w_per_mm2_ref=d["leak_w_per_mm2"],
                nx=nx,
            )

        m = min(n, max(4, 4000 // nx**2 * 8))

        def sparse(maps=maps, leak=leak, nx=nx, m=m):
            for i in range(m):
                g = ThermalGrid(side[i], side[i], nx, r_sink_k_per_w=d["r_sink_k_per_w"][i])
                g.solve(maps[i], leak[i], ambient_c=35.0)

        r1 = _rate(spectral_linear, n, repeat)
        r2 = _rate(spectral_leak, n, repeat)
        res = end_to_end()
        r3 = _rate(end_to_end, n, repeat)
        r4 = _rate(sparse, m, 1)
        print(
            f"| {nx} x {nx} | {r1:,.0f} | {r2:,.0f} | {r3:,.0f} | {r4:,.1f} |"
            f"  <!-- mean iterations {res.iterations.mean():.1f}, runaway {res.runaway.mean():.1%} -->"
        )


# ---------------------------------------------------------------------------------------
# validation tables
# ---------------------------------------------------------------------------------------

DIE = 32.0


def _hot(nx: int, block_mm: float, stack=None) -> float:
    lo = 0.5 * (DIE - block_mm)
    fp = Floorplan(DIE, DIE, (Block("hot", "core", lo, lo, block_mm, block_mm),))
    return solve_floorplan(
        fp, block_power_w={"hot": 50.0}, r_sink_k_per_w=R_AIR, ambient_c=0.0, stack=stack, nx=nx
    ).peak_c


def validate() -> None:
    stack = hotspot_stack()
    print("## (a) uniform power density, 350 W on 600 mm2: max |T_grid - T_lumped| [K]\n")
    print(
        "| cells | air (lumped rise) | sparse | spectral | liquid (lumped rise) | sparse | spectral |"
    )
    print("|---|---|---|---|---|---|---|")
    for nx in (8, 16, 32, 64):
        row = [f"{nx} x {nx}"]
        for rs in (R_AIR, R_LIQUID):
            side = math.sqrt(600.0)
            expected = 350.0 * thermal.thermal_resistance_k_per_w(600.0, 14.0, rs)
            p = np.full((nx, nx), 350.0 / nx**2)
            a = ThermalGrid(side, side, nx, r_sink_k_per_w=rs).solve_linear(p)
            b = solve_grid_batch([side], [side], p[None], r_sink_k_per_w=rs, ambient_c=0.0)
            row += [
                f"{expected:.3f}",
                f"{abs(a - expected).max():.1e}",
                f"{abs(b.temps_c - expected).max():.1e}",
            ]
        print("| " + " | ".join(row) + " |")

    print("\n## (b) hot block, 50 W, centred on a 32 mm die, air: peak rise [K]\n")
    print(
        "| block | lumped | exact 3-D | grid 64, compact (1 node/layer) | err | grid 64, default (Si 2, Cu 4 nodes) | err | 2.5-D limit of default |"
    )
    print("|---|---|---|---|---|---|---|---|")
    compact = hotspot_stack(die_sublayers=1, spreader_sublayers=1)
    fine = stack
    for blk in (2.0, 4.0, 8.0, 16.0):
        lo = 0.5 * (DIE - blk)
        src = [(lo, lo, blk, blk, 50.0)]
        exact = float(
            rectangular_sources_temperature_rise(
                16.0, 16.0, DIE, DIE, src, stack, R_AIR, terms=1500
            )
        )
        limit = float(
            rectangular_sources_temperature_rise(
                16.0, 16.0, DIE, DIE, src, stack, R_AIR, model="2.5d", terms=1500
            )
        )
        g1 = _hot(64, blk, compact)
        g2 = _hot(64, blk, fine)
        lumped = 50.0 * thermal.thermal_resistance_k_per_w(DIE**2, 14.0, R_AIR)
        print(
            f"| {blk:g} mm | {lumped:.2f} | {exact:.2f} | {g1:.2f} | {(g1 - exact) / exact:+.1%} | "
            f"{g2:.2f} | {(g2 - exact) / exact:+.1%} | {limit:.2f} |"
        )

    print("\n## (b') Lee et al. (1995) closed form vs exact Bessel series (circular source, 1 W)\n")
    print("| a, b, t [mm] | k | h | Bi | R_avg exact | Lee | err | R_max exact | Lee | err |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    from dse.model.thermal_grid import Layer, LayerStack

    for a, b, t, k, h in [
        (5.0, 25.0, 3.0, 200.0, 1e3),
        (10.0, 20.0, 5.0, 200.0, 5e2),
        (1.0, 15.0, 2.0, 150.0, 5e3),
        (3.0, 30.0, 6.9, 400.0, 1e3),
        (2.0, 20.0, 1.0, 400.0, 2e4),
    ]:
        plate = LayerStack((Layer("plate", t, k),))
        c, m = circular_source_temperature_rise(a, b, 1.0, plate, h, terms=20000)
        ra, rm = lee_spreading_resistance(a, b, t, k, h)
        print(
            f"| {a:g}, {b:g}, {t:g} | {k:g} | {h:g} | {h * b * 1e-3 / k:.2f} | {m:.4f} | {ra:.4f} | "
            f"{(ra - m) / m:+.1%} | {c:.4f} | {rm:.4f} | {(rm - c) / c:+.1%} |"
        )

    print("\n## (c) grid refinement, 8 mm / 50 W block: peak rise [K]\n")
    limit = float(
        rectangular_sources_temperature_rise(
            16.0,
            16.0,
            DIE,
            DIE,
            [(12.0, 12.0, 8.0, 8.0, 50.0)],
            stack,
            R_AIR,
            model="2.5d",
            terms=2000,
        )
    )
    ref = _hot(256, 8.0)
    print(
        f"continuum limit of the grid model (2.5-D series): {limit:.4f} K; 256 x 256 grid {ref:.4f} K\n"
    )
    print("| cells | peak | error vs limit | error vs 256 x 256 | ratio |")
    print("|---|---|---|---|---|")
    prev = None
    for nx in (8, 16, 32, 64, 128):
        v = _hot(nx, 8.0)
        e = abs(v - limit) / limit
        ratio = "" if prev is None else f"{prev / e:.2f}"
        print(f"| {nx} | {v:.4f} | {e:.3%} | {abs(v - ref) / ref:.3%} | {ratio} |")
        prev = e

    print("\n## (d) HotSpot ev6 / gcc example (64 x 64)\n")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    import test_thermal_grid as tg

    from dse.model.thermal_grid import Layer as L

    fp, power = tg._ev6()
    st = LayerStack(
        (
            L("silicon", 0.15, 100.0, r_below_k_mm2_per_w=5.0),
            L("spreader", 1.0, 400.0, side_mm=30.0),
            L("sink", 6.9, 400.0, side_mm=60.0),
        )
    )
    res = solve_floorplan(
        fp, block_power_w=power, r_sink_k_per_w=0.1, ambient_c=45.0, stack=st, nx=64
    )
    print(f"peak: dse {res.peak_c + 273.15:.2f} K, HotSpot grid {tg.GCC_GRID_PEAK_K:.2f} K\n")
    print("| block | HotSpot block model [K] | dse grid, block mean [K] | diff [K] |")
    print("|---|---|---|---|")
    diffs = []
    for name, t in tg.GCC_STEADY_K.items():
        ours = res.block_mean_c[name] + 273.15
        diffs.append(ours - t)
        print(f"| {name} | {t:.2f} | {ours:.2f} | {ours - t:+.2f} |")
    diffs = np.array(diffs)
    print(
        f"\nRMS {np.sqrt(np.mean(diffs**2)):.2f} K, max |diff| {np.abs(diffs).max():.2f} K, "
        f"mean {diffs.mean():+.2f} K"
    )

    print("\n## (e) leakage fixed point, uniform power: grid vs lumped Lambert W\n")
    print(
        "| A [mm2] | P_dyn [W] | P_leak(85 C) [W] | r_sink | lumped Tj [C] | grid mean [C] | |diff| [K] | iterations (spectral) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for area, p, lk, rs in [
        (500.0, 300.0, 40.0, R_AIR),
        (500.0, 300.0, 150.0, R_AIR),
        (500.0, 300.0, 150.0, R_LIQUID),
        (800.0, 600.0, 250.0, R_LIQUID),
    ]:
        side = math.sqrt(area)
        r_th = thermal.thermal_resistance_k_per_w(area, 14.0, rs)
        tj, ra = thermal.junction_temperature(p, r_th, 35.0, lk, T_REF, BETA)
        b = solve_grid_batch(
            [side],
            [side],
            np.full((1, 16, 16), p / 256),
            np.full((1, 16, 16), lk / 256),
            r_sink_k_per_w=rs,
            ambient_c=35.0,
        )
        print(
            f"| {area:g} | {p:g} | {lk:g} | {rs:g} | {float(tj):.4f} | {b.mean_c[0]:.4f} | "
            f"{abs(b.mean_c[0] - float(tj)):.1e} | {b.iterations[0]} |"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--designs", type=int, default=2000)
    ap.add_argument("--sizes", type=int, nargs="+", default=[8, 16, 32, 64])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--validate", action="store_true", help="print the validation tables")
    args = ap.parse_args()
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"python {platform.python_version()}, numpy {np.__version__}"
    )
    if args.validate:
        validate()
        return
    print(f"designs: {args.designs:,} (random accelerators, 16-256 cores, air or liquid)")
    benchmark(args.designs, args.sizes, args.repeat)


if __name__ == "__main__":
    main()
