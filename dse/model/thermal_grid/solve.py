"""Floorplan-level entry points.

One floorplan (:func:`solve_floorplan`), many floorplans, or many designs from their area
and power breakdowns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from dse.model.floorplan import BLOCK_KINDS, Floorplan, FloorplanLayout, floorplan_layout
from dse.model.thermal_grid.maps import (
    _block_stats,
    block_powers_w,
    kind_power_maps,
    leakage_map_w,
    power_map_w,
)
from dse.model.thermal_grid.results import BatchGridResult, GridResult
from dse.model.thermal_grid.sparse import ThermalGrid
from dse.model.thermal_grid.spectral import solve_grid_batch
from dse.model.thermal_grid.stack import LayerStack, hotspot_stack


def solve_floorplan(
    floorplan: Floorplan,
    power_by_kind_w: Mapping[str, float] | None = None,
    *,
    block_power_w: Mapping[str, float] | None = None,
    r_sink_k_per_w: float,
    ambient_c: float,
    stack: LayerStack | None = None,
    nx: int = 16,
    ny: int | None = None,
    leakage_w_per_mm2_ref: float | Mapping[str, float] = 0.0,
    ref_temp_c: float = 85.0,
    beta_per_k: float = 0.036,
    method: str = "auto",
    tol_k: float = 1e-6,
    max_iter: int = 100,
) -> GridResult:
    """Junction temperature map of one floorplan.

    Parameters
    ----------
    floorplan : Floorplan
        Die and blocks (:func:`dse.model.floorplan.build_floorplan`).
    power_by_kind_w : mapping, optional
        Dynamic power per block kind (``core``, ``sram``, ``phy``, ``uncore``) [W],
        spread over the blocks of the kind by area.
    block_power_w : mapping, optional
        Extra dynamic power of named blocks [W].
    r_sink_k_per_w : float
        Sink-to-ambient resistance [K/W] (``r_sink_air/liquid_k_per_w``).
    ambient_c : float
        Ambient / coolant temperature [degC].
    stack : LayerStack, optional
        Default :func:`hotspot_stack` (lumped-consistent, 14 K mm2/W).
    nx, ny : int
        Grid cells along x and y [-] (``ny`` defaults to ``nx``; 16 for a search, 64 for
        a plot).
    leakage_w_per_mm2_ref : float or mapping by kind
        Leakage density at ``ref_temp_c`` [W/mm2], voltage-scaled.
    ref_temp_c, beta_per_k : float
        Leakage reference temperature [degC] and coefficient [1/K].
    method : {"auto", "spectral", "sparse"}
        Solver; "auto" = spectral when the stack allows, else sparse.
    tol_k, max_iter : float, int
        Convergence tolerance of the leakage fixed point on the update [K]; iterations
        [-] before declaring runaway.

    Returns
    -------
    GridResult
        Junction temperatures [degC] with per-block peak and mean temperatures [degC]
        and the floorplan attached.

    Notes
    -----
    G theta = p + L(theta), theta = T - T_a [K], with G the conductance matrix of the
    grid [W/K], p the dynamic power map [W] and L_i(theta) = l_i exp(beta (T_i - T_ref))
    the leakage of cell i [W].

    References
    ----------
    W. Huang et al., "HotSpot: a compact thermal modeling methodology for early-stage VLSI
    design", IEEE TVLSI 14(5) 501-513, 2006 (compact layer model, ``calc_leakage``).
    """
    ny = nx if ny is None else ny
    stack = stack if stack is not None else hotspot_stack()
    if method == "auto":
        method = "spectral" if stack.footprint_only else "sparse"
    if method not in ("spectral", "sparse"):
        raise ValueError("method must be 'auto', 'spectral' or 'sparse'")
    pb = block_powers_w(floorplan, power_by_kind_w, block_power_w)
    pmap = power_map_w(floorplan, pb, nx, ny)
    lmap = leakage_map_w(floorplan, leakage_w_per_mm2_ref, nx, ny)
    if method == "sparse":
        grid = ThermalGrid(
            floorplan.width_mm, floorplan.height_mm, nx, ny, stack, r_sink_k_per_w=r_sink_k_per_w
        )
        res = grid.solve(
            pmap,
            lmap,
            ambient_c=ambient_c,
            ref_temp_c=ref_temp_c,
            beta_per_k=beta_per_k,
            tol_k=tol_k,
            max_iter=max_iter,
        )
        peak, mean = _block_stats(floorplan, res.temps_c)
        return replace(res, block_peak_c=peak, block_mean_c=mean, floorplan=floorplan)
    batch = solve_grid_batch(
        [floorplan.width_mm],
        [floorplan.height_mm],
        pmap[None],
        lmap[None],
        r_sink_k_per_w=r_sink_k_per_w,
        ambient_c=ambient_c,
        stack=stack,
        ref_temp_c=ref_temp_c,
        beta_per_k=beta_per_k,
        tol_k=tol_k,
        max_iter=max_iter,
    )
    return batch.result(0, floorplan)


def solve_floorplan_batch(
    floorplans: Sequence[Floorplan | FloorplanLayout],
    power_by_kind_w: Mapping[str, Any],
    *,
    r_sink_k_per_w: Any,
    ambient_c: Any,
    leakage_w_per_mm2_ref: Any = 0.0,
    stack: LayerStack | None = None,
    nx: int = 16,
    ny: int | None = None,
    ref_temp_c: float = 85.0,
    beta_per_k: float = 0.036,
    tol_k: float = 1e-6,
    max_iter: int = 100,
) -> BatchGridResult:
    """Solve many floorplans (one per design) with the spectral batch solver.

    Parameters
    ----------
    floorplans : sequence of Floorplan or FloorplanLayout, length B
        One floorplan per design (the grid shape is shared).
    power_by_kind_w : mapping kind -> array_like (B,)
        Dynamic power of each block kind per design [W].
    r_sink_k_per_w, ambient_c, leakage_w_per_mm2_ref : array_like (B,) or scalar
        Sink resistance [K/W], ambient [degC], uniform leakage density at ``ref_temp_c``
        [W/mm2] per design (voltage-scaled).
    stack : LayerStack, optional
        Every layer on the die footprint (default :func:`hotspot_stack`).
    nx, ny : int
        Grid cells along x and y [-] (``ny`` defaults to ``nx``).
    ref_temp_c, beta_per_k : float
        Leakage reference temperature [degC] and coefficient [1/K].
    tol_k, max_iter : float, int
        Convergence tolerance on the update [K]; iterations [-] before declaring runaway.

    Returns
    -------
    BatchGridResult
        Temperatures [degC], leakage and power [W] per design; ``result(i, floorplan)``
        gives design i with block temperatures.
    """
    ny = nx if ny is None else ny
    nb = len(floorplans)
    kinds = {
        k: np.broadcast_to(np.asarray(v, dtype=float), (nb,)) for k, v in power_by_kind_w.items()
    }
    rho = np.broadcast_to(np.asarray(leakage_w_per_mm2_ref, dtype=float), (nb,))
    for k in kinds:
        if k not in BLOCK_KINDS:
            raise ValueError(f"unknown block kind {k!r}; kinds are {BLOCK_KINDS}")
    split = np.stack(
        [kinds[k] if k in kinds else np.zeros(nb) for k in BLOCK_KINDS], axis=1
    )  # (B, kinds)
    pmaps = np.empty((nb, ny, nx))
    for i, fp in enumerate(floorplans):
        pmaps[i] = np.tensordot(split[i], kind_power_maps(fp, nx, ny), axes=1)
    area = np.array([fp.width_mm * fp.height_mm for fp in floorplans])
    # uniform density on cells of equal area
    lmaps = np.broadcast_to((rho * area / (nx * ny))[:, None, None], (nb, ny, nx))
    return solve_grid_batch(
        [fp.width_mm for fp in floorplans],
        [fp.height_mm for fp in floorplans],
        pmaps,
        lmaps if rho.any() else None,
        r_sink_k_per_w=r_sink_k_per_w,
        ambient_c=ambient_c,
        stack=stack,
        ref_temp_c=ref_temp_c,
        beta_per_k=beta_per_k,
        tol_k=tol_k,
        max_iter=max_iter,
    )


def solve_designs_batch(
    core_area_mm2: Any,
    sram_area_mm2: Any,
    phy_area_mm2: Any,
    uncore_area_mm2: Any,
    cores: Any,
    memory_count: Any,
    power_by_kind_w: Mapping[str, Any],
    *,
    r_sink_k_per_w: Any,
    ambient_c: Any,
    leakage_w_per_mm2_ref: Any = 0.0,
    aspect: float = 1.0,
    sram_layout: str = "interleaved",
    stack: LayerStack | None = None,
    nx: int = 16,
    ny: int | None = None,
    ref_temp_c: float = 85.0,
    beta_per_k: float = 0.036,
    tol_k: float = 1e-6,
    max_iter: int = 100,
) -> BatchGridResult:
    """Floorplan and solve many designs from their area and power breakdowns.

    The entry point for the model chain: every argument is an array over designs (or a
    scalar), as :func:`dse.chain.evaluate_arrays` holds them.

    Parameters
    ----------
    core_area_mm2, sram_area_mm2, phy_area_mm2, uncore_area_mm2 : array_like (B,)
        Area breakdown [mm2] (:func:`dse.model.floorplan.build_floorplan`).
    cores, memory_count : array_like (B,)
        Core and memory-PHY counts [-].
    power_by_kind_w : mapping kind -> array_like (B,)
        Dynamic power of ``core``, ``sram``, ``phy`` and ``uncore`` blocks [W].
    r_sink_k_per_w, ambient_c, leakage_w_per_mm2_ref : array_like (B,) or scalar
        Sink resistance [K/W], ambient [degC], leakage density at ``ref_temp_c`` [W/mm2]
        (voltage-scaled).
    aspect : float, default 1.0
        Die width / height [-], shared by all designs.
    sram_layout : {"interleaved", "banked"}
        Floorplan option shared by all designs (:func:`dse.model.floorplan.build_floorplan`).
    stack : LayerStack, optional
        Every layer on the die footprint (default :func:`hotspot_stack`).
    nx, ny : int
        Grid cells along x and y [-] (``ny`` defaults to ``nx``).
    ref_temp_c, beta_per_k : float
        Leakage reference temperature [degC] and coefficient [1/K].
    tol_k, max_iter : float, int
        Convergence tolerance on the update [K]; iterations [-] before declaring runaway.

    Returns
    -------
    BatchGridResult
        Temperatures [degC], leakage and power [W] per design, without block
        temperatures (``result(i, floorplan)`` adds them).
    """
    arrays = np.broadcast_arrays(
        *(
            np.asarray(a, dtype=float)
            for a in (
                core_area_mm2,
                sram_area_mm2,
                phy_area_mm2,
                uncore_area_mm2,
                cores,
                memory_count,
            )
        )
    )
    arrays = tuple(np.atleast_1d(a) for a in arrays)
    layouts = [
        floorplan_layout(c, s, p, u, int(n), int(m), aspect, sram_layout)
        for c, s, p, u, n, m in zip(*arrays, strict=True)
    ]
    return solve_floorplan_batch(
        layouts,
        power_by_kind_w,
        r_sink_k_per_w=r_sink_k_per_w,
        ambient_c=ambient_c,
        leakage_w_per_mm2_ref=leakage_w_per_mm2_ref,
        stack=stack,
        nx=nx,
        ny=ny,
        ref_temp_c=ref_temp_c,
        beta_per_k=beta_per_k,
        tol_k=tol_k,
        max_iter=max_iter,
    )
