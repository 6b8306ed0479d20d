"""Hot spots under throttling: the rise per watt of each block kind, cell by cell.

:func:`kind_responses_k_per_w` gives those maps, from which any power split's hot spot
follows.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dse.model.floorplan import BLOCK_KINDS, floorplan_layout
from dse.model.thermal_grid.maps import kind_power_maps
from dse.model.thermal_grid.spectral import solve_grid_batch
from dse.model.thermal_grid.stack import LayerStack


def kind_responses_k_per_w(
    core_area_mm2: Any,
    sram_area_mm2: Any,
    phy_area_mm2: Any,
    uncore_area_mm2: Any,
    cores: Any,
    memory_count: Any,
    *,
    r_sink_k_per_w: Any,
    aspect: float = 1.0,
    sram_layout: str = "interleaved",
    stack: LayerStack | None = None,
    nx: int = 16,
    ny: int | None = None,
) -> np.ndarray:
    """Junction temperature rise per watt of each block kind, cell by cell [K/W].

    Without leakage the model is linear: the rise map of a design is
    ``sum_k P_k R_k`` with ``R_k`` the map for 1 W spread over the blocks of kind k.
    Computing the ``R_k`` once per design lets a throttling search evaluate the hot spot
    of any power split in O(cells): ``peak(s) = max(sum_k P_k(s) R_k) + ...``.

    Parameters
    ----------
    core_area_mm2, sram_area_mm2, phy_area_mm2, uncore_area_mm2 : array_like (B,)
        Area breakdown of each design [mm2] (:func:`dse.model.floorplan.build_floorplan`).
    cores, memory_count : array_like (B,)
        Core and memory-PHY counts [-].
    r_sink_k_per_w : array_like (B,) or scalar
        Sink-to-ambient resistance [K/W].
    aspect : float, default 1.0
        Die width / height [-], shared by all designs.
    sram_layout : {"interleaved", "banked"}
        Floorplan option shared by all designs (:func:`dse.model.floorplan.build_floorplan`).
    stack : LayerStack, optional
        Every layer on the die footprint (default :func:`hotspot_stack`).
    nx, ny : int
        Grid cells along x and y [-] (``ny`` defaults to ``nx``).

    Returns
    -------
    ndarray, shape (B, len(BLOCK_KINDS), ny, nx)
        Junction rise above ambient per watt of the kind [K/W]. Kinds in :data:`dse.model.floorplan.BLOCK_KINDS` order (``core, sram, phy, uncore``);
        a kind absent from a floorplan gets the uniform-die map, like
        :func:`block_powers_w`. The die mean of every map is the lumped resistance
        ``R''_1D / A + r_sink`` exactly.

    Notes
    -----
    R_k = G^-1 q_k with q_k the map of 1 W of kind k (:func:`kind_power_maps`) and G the
    grid's conductance matrix; the rise of a power split is theta = sum_k P_k R_k.
    """
    ny = nx if ny is None else ny
    arrays = [
        np.atleast_1d(a)
        for a in np.broadcast_arrays(
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
    ]
    nb, nk = len(arrays[0]), len(BLOCK_KINDS)
    maps = np.empty((nb, nk, ny, nx))
    w = np.empty(nb)
    h = np.empty(nb)
    for i, (c, s_, p, u, n, m) in enumerate(zip(*arrays, strict=True)):
        lay = floorplan_layout(c, s_, p, u, int(n), int(m), aspect, sram_layout)
        w[i], h[i] = lay.width_mm, lay.height_mm
        maps[i] = kind_power_maps(lay, nx, ny)
    rs = np.broadcast_to(np.asarray(r_sink_k_per_w, dtype=float), (nb,))
    res = solve_grid_batch(
        np.repeat(w, nk),
        np.repeat(h, nk),
        maps.reshape(nb * nk, ny, nx),
        r_sink_k_per_w=np.repeat(rs, nk),
        ambient_c=0.0,
        stack=stack,
    )
    return res.temps_c.reshape(nb, nk, ny, nx)
