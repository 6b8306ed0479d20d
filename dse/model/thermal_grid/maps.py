"""Floorplan to cell maps: block overlaps, power and leakage maps, per-block statistics."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from dse.model.floorplan import BLOCK_KINDS, Floorplan, FloorplanLayout


def _edges(length_mm: float, n: int) -> np.ndarray:
    return np.linspace(0.0, length_mm, n + 1)


def _rects(floorplan: Floorplan | FloorplanLayout) -> np.ndarray:
    """Blocks as an (n, 4) array of x0, y0, x1, y1 [mm]."""
    if isinstance(floorplan, FloorplanLayout):
        r = floorplan.rects_mm
        return np.column_stack([r[:, 0], r[:, 1], r[:, 0] + r[:, 2], r[:, 1] + r[:, 3]])
    return floorplan.rectangles_mm()


def _kinds(floorplan: Floorplan | FloorplanLayout) -> np.ndarray:
    """Block kinds as indices into :data:`BLOCK_KINDS`."""
    if isinstance(floorplan, FloorplanLayout):
        return floorplan.kinds
    return np.array([BLOCK_KINDS.index(b.kind) for b in floorplan.blocks], dtype=np.intp)


def block_overlap_mm(
    floorplan: Floorplan | FloorplanLayout, nx: int, ny: int
) -> tuple[np.ndarray, np.ndarray]:
    """Overlap lengths of every block with the grid columns and rows [mm].

    Parameters
    ----------
    floorplan : Floorplan or FloorplanLayout
        Die and blocks (:func:`dse.model.floorplan.build_floorplan`).
    nx, ny : int
        Grid cells along x and y [-].

    Returns
    -------
    ox, oy : ndarray, shapes (n_blocks, nx) and (n_blocks, ny)
        Overlap length of each block with each column and row [mm]; the overlap area of
        block b with cell (j, i) is ``oy[b, j] * ox[b, i]`` [mm2].
    """
    r = _rects(floorplan)
    xe = _edges(floorplan.width_mm, nx)
    ye = _edges(floorplan.height_mm, ny)
    ox = np.clip(
        np.minimum(r[:, 2:3], xe[None, 1:]) - np.maximum(r[:, 0:1], xe[None, :-1]), 0.0, None
    )
    oy = np.clip(
        np.minimum(r[:, 3:4], ye[None, 1:]) - np.maximum(r[:, 1:2], ye[None, :-1]), 0.0, None
    )
    return ox, oy


def block_powers_w(
    floorplan: Floorplan | FloorplanLayout,
    power_by_kind_w: Mapping[str, float] | None = None,
    block_power_w: Mapping[str, float] | None = None,
) -> np.ndarray:
    """Power of every block [W], in floorplan order.

    ``power_by_kind_w`` spreads each kind's power over the blocks of that kind in
    proportion to their area (uniform density within a kind); ``block_power_w`` then adds
    power to named blocks. Power of a kind that has no block (e.g. PHY power on a
    floorplan without PHYs) is spread over the whole die by area, so power is conserved.

    Parameters
    ----------
    floorplan : Floorplan or FloorplanLayout
        Die and blocks (:func:`dse.model.floorplan.build_floorplan`).
    power_by_kind_w : mapping, optional
        Power of each block kind (``core``, ``sram``, ``phy``, ``uncore``) [W].
    block_power_w : mapping, optional
        Extra power of named blocks [W].

    Returns
    -------
    ndarray, shape (n_blocks,)
        Power of every block [W]; the sum is the total of both mappings.

    Notes
    -----
    P_b = sum_k P_k A_b / A_k [b of kind k] + P_named(b), with A_k the area of kind k.
    """
    r = _rects(floorplan)
    area = (r[:, 2] - r[:, 0]) * (r[:, 3] - r[:, 1])
    kinds = _kinds(floorplan)
    out = np.zeros(len(area))
    for kind, p in (power_by_kind_w or {}).items():
        if kind not in BLOCK_KINDS:
            raise ValueError(f"unknown block kind {kind!r}; kinds are {BLOCK_KINDS}")
        mask = kinds == BLOCK_KINDS.index(kind)
        if not mask.any():
            mask = np.ones(len(area), dtype=bool)
        out[mask] += float(p) * area[mask] / area[mask].sum()
    if block_power_w:
        names = (
            floorplan.names
            if isinstance(floorplan, FloorplanLayout)
            else [b.name for b in floorplan.blocks]
        )
        index = {name: i for i, name in enumerate(names)}
        for name, p in block_power_w.items():
            if name not in index:
                raise KeyError(f"no block named {name!r} in the floorplan")
            out[index[name]] += float(p)
    return out


def power_map_w(
    floorplan: Floorplan | FloorplanLayout, block_power: np.ndarray, nx: int, ny: int
) -> np.ndarray:
    """Power per grid cell [W], shape (ny, nx), uniform density within each block.

    Parameters
    ----------
    floorplan : Floorplan or FloorplanLayout
        Die and blocks (:func:`dse.model.floorplan.build_floorplan`).
    block_power : ndarray, shape (n_blocks,)
        Power of every block in floorplan order [W] (:func:`block_powers_w`).
    nx, ny : int
        Grid cells along x and y [-].

    Returns
    -------
    ndarray, shape (ny, nx)
        Power per cell [W]; row j is y, column i is x.

    Notes
    -----
    P_cell(j, i) = sum_b P_b / A_b * overlap_b(j, i); the total equals sum_b P_b exactly
    for a floorplan that lies on the die.
    """
    ox, oy = block_overlap_mm(floorplan, nx, ny)
    r = _rects(floorplan)
    area = (r[:, 2] - r[:, 0]) * (r[:, 3] - r[:, 1])
    density = np.asarray(block_power, dtype=float) / area
    return (oy * density[:, None]).T @ ox


def kind_power_maps(floorplan: Floorplan | FloorplanLayout, nx: int, ny: int) -> np.ndarray:
    """Power per cell for 1 W of each block kind [W/W], shape (len(BLOCK_KINDS), ny, nx).

    Map k spreads 1 W over the blocks of kind k by area (a kind without blocks: over the
    whole die), so ``sum_k P_k maps[k]`` is :func:`power_map_w` of
    :func:`block_powers_w` for the per-kind powers P_k, from one overlap computation.

    Parameters
    ----------
    floorplan : Floorplan or FloorplanLayout
        Die and blocks (:func:`dse.model.floorplan.build_floorplan`).
    nx, ny : int
        Grid cells along x and y [-].

    Returns
    -------
    ndarray, shape (len(BLOCK_KINDS), ny, nx)
        Fraction of the kind's power in each cell [W/W], kinds in
        :data:`dse.model.floorplan.BLOCK_KINDS` order; each map sums to 1.

    Notes
    -----
    maps_k(j, i) = sum_(b of kind k) overlap_b(j, i) / A_k, or overlap with the die /
    A_die for a kind without blocks.
    """
    ox, oy = block_overlap_mm(floorplan, nx, ny)
    r = _rects(floorplan)
    area = (r[:, 2] - r[:, 0]) * (r[:, 3] - r[:, 1])
    onehot = _kinds(floorplan)[:, None] == np.arange(len(BLOCK_KINDS))[None, :]
    kind_area = (onehot * area[:, None]).sum(axis=0)
    weights = np.where(
        kind_area > 0.0, onehot / np.where(kind_area > 0.0, kind_area, 1.0), 1.0 / area.sum()
    )
    return np.stack([(oy * weights[:, k : k + 1]).T @ ox for k in range(len(BLOCK_KINDS))])


def leakage_map_w(
    floorplan: Floorplan | FloorplanLayout,
    leakage_w_per_mm2_ref: float | Mapping[str, float],
    nx: int,
    ny: int,
) -> np.ndarray:
    """Leakage per cell at the reference temperature [W], shape (ny, nx).

    ``leakage_w_per_mm2_ref`` is one density for the whole die or one per block kind
    (kinds not given leak nothing), already scaled for the supply voltage.

    Parameters
    ----------
    floorplan : Floorplan or FloorplanLayout
        Die and blocks (:func:`dse.model.floorplan.build_floorplan`).
    leakage_w_per_mm2_ref : float or mapping by kind
        Leakage density at the reference temperature [W/mm2], voltage-scaled.
    nx, ny : int
        Grid cells along x and y [-].

    Returns
    -------
    ndarray, shape (ny, nx)
        Leakage per cell at the reference temperature [W].

    Notes
    -----
    L_cell(j, i) = sum_b rho_b overlap_b(j, i), rho_b the density of the block's kind.
    """
    r = _rects(floorplan)
    area = (r[:, 2] - r[:, 0]) * (r[:, 3] - r[:, 1])
    if isinstance(leakage_w_per_mm2_ref, Mapping):
        by_kind = np.array([float(leakage_w_per_mm2_ref.get(k, 0.0)) for k in BLOCK_KINDS])
        rho = by_kind[_kinds(floorplan)]
    else:
        rho = np.full(len(area), float(leakage_w_per_mm2_ref))
    return power_map_w(floorplan, rho * area, nx, ny)


def _block_stats(
    floorplan: Floorplan, temps_c: np.ndarray
) -> tuple[dict[str, float], dict[str, float]]:
    """Peak and area-weighted mean temperature of every block [degC].

    A block's peak is the hottest cell that the block covers for at least half of the
    cell's area; a block smaller than that uses the cell it overlaps most.
    """
    ny, nx = temps_c.shape
    ox, oy = block_overlap_mm(floorplan, nx, ny)
    cell = (floorplan.width_mm / nx) * (floorplan.height_mm / ny)
    peak: dict[str, float] = {}
    mean: dict[str, float] = {}
    for b, bx, by in zip(floorplan.blocks, ox, oy, strict=True):
        ix = np.flatnonzero(bx)
        iy = np.flatnonzero(by)
        w = by[iy, None] * bx[None, ix]
        t = temps_c[np.ix_(iy, ix)]
        mean[b.name] = float((w * t).sum() / w.sum())
        covered = w >= 0.5 * cell
        peak[b.name] = float(t[covered].max() if covered.any() else t.flat[np.argmax(w)])
    return peak, mean
