"""A floorplan generated from the area model: core array, SRAM, memory PHYs and uncore.

The floorplan is the geometry the grid thermal model (:mod:`dse.model.thermal_grid`) needs to
turn per-block power into a power-density map. It is deliberately simple, deterministic
and conserves every area of :mod:`dse.model.area` exactly, so that the grid model and the
lumped model see the same die:

* the die is a rectangle of area ``A = A_core + A_sram + A_phy + A_uncore`` with
  width / height = ``aspect`` (1 = square);
* memory PHYs sit along the two long edges (HBM style), ``ceil(m/2)`` on the bottom edge
  and ``floor(m/2)`` on the top edge, each edge strip spanning the full die width and
  divided into equal PHY blocks (``phy0`` ...). The strip depth is the PHY area of that
  edge over the die width;
* the uncore (NoC/IO/host interface and whitespace of the area model) is a strip along
  the left short edge, between the PHY strips;
* the rest is the core array, ``cores`` tiles of equal area laid out in rows:

  - ``sram_layout="interleaved"``: each tile is core logic (MAC array + per-core
    overhead, block ``core<i>``) with its SRAM slice beside it (``sram<i>``), the
    distributed-SRAM layout of most accelerators;
  - ``sram_layout="banked"``: the tiles hold only core logic and the SRAM is two
    banks (``sram_bank0`` left, ``sram_bank1`` right) beside the core array, the
    "dense MAC arrays next to SRAM" layout that concentrates the heat.

Rows of the core array hold ``floor(n/r)`` or ``ceil(n/r)`` tiles, each row's height is
proportional to its tile count, so every tile has the same area whatever the core count
(no empty slots) and tiles stay close to square.

Coordinates are in mm with the origin at the bottom-left corner of the die, x to the
right (width), y up (height), as in HotSpot's ``.flp`` files (but in mm, not m).

References
----------
W. Huang et al., "HotSpot: a compact thermal modeling methodology for early-stage VLSI
design", IEEE TVLSI 14(5), 2006 (block floorplans as thermal model input).
JEDEC JESD235 (HBM): PHYs on the die edge facing each stack.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "BLOCK_KINDS",
    "SRAM_LAYOUTS",
    "Block",
    "Floorplan",
    "FloorplanLayout",
    "build_floorplan",
    "floorplan_layout",
]

BLOCK_KINDS = ("core", "sram", "phy", "uncore")
SRAM_LAYOUTS = ("interleaved", "banked")


@dataclass(frozen=True)
class Block:
    """A rectangular floorplan block.

    Parameters
    ----------
    name : str
        Unique block name (``core12``, ``sram12``, ``phy3``, ``uncore``...).
    kind : str
        One of :data:`BLOCK_KINDS`.
    x0_mm, y0_mm : float
        Bottom-left corner [mm].
    w_mm, h_mm : float
        Width (x) and height (y) [mm].
    """

    name: str
    kind: str
    x0_mm: float
    y0_mm: float
    w_mm: float
    h_mm: float

    def __post_init__(self) -> None:
        """Refuse an unknown kind or a block without positive width and height."""
        if self.kind not in BLOCK_KINDS:
            raise ValueError(f"block kind must be one of {BLOCK_KINDS}, got {self.kind!r}")
        if not (self.w_mm > 0.0 and self.h_mm > 0.0):
            raise ValueError(f"block {self.name!r} must have positive width and height")

    @property
    def x1_mm(self) -> float:
        """Right edge [mm]."""
        return self.x0_mm + self.w_mm

    @property
    def y1_mm(self) -> float:
        """Top edge [mm]."""
        return self.y0_mm + self.h_mm

    @property
    def area_mm2(self) -> float:
        """Block area [mm2]."""
        return self.w_mm * self.h_mm

    @property
    def center_mm(self) -> tuple[float, float]:
        """Block centre (x, y) [mm]."""
        return self.x0_mm + 0.5 * self.w_mm, self.y0_mm + 0.5 * self.h_mm


@dataclass(frozen=True)
class Floorplan:
    """A die and its blocks.

    Parameters
    ----------
    width_mm, height_mm : float
        Die size [mm].
    blocks : tuple of Block
        Non-overlapping blocks tiling the die.
    """

    width_mm: float
    height_mm: float
    blocks: tuple[Block, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        """Refuse duplicate block names."""
        object.__setattr__(self, "blocks", tuple(self.blocks))
        names = [b.name for b in self.blocks]
        if len(set(names)) != len(names):
            raise ValueError("block names must be unique")

    def __iter__(self) -> Iterator[Block]:
        """Iterate over the blocks."""
        return iter(self.blocks)

    def __len__(self) -> int:
        """Return the number of blocks."""
        return len(self.blocks)

    @property
    def area_mm2(self) -> float:
        """Die area [mm2]."""
        return self.width_mm * self.height_mm

    def block(self, name: str) -> Block:
        """Return the block called ``name`` (KeyError if there is none)."""
        for b in self.blocks:
            if b.name == name:
                return b
        raise KeyError(name)

    def blocks_of(self, kind: str) -> tuple[Block, ...]:
        """All blocks of one kind, in floorplan order."""
        return tuple(b for b in self.blocks if b.kind == kind)

    def area_by_kind_mm2(self) -> dict[str, float]:
        """Total block area per kind [mm2] (every kind present, 0.0 when absent)."""
        out = dict.fromkeys(BLOCK_KINDS, 0.0)
        for b in self.blocks:
            out[b.kind] += b.area_mm2
        return out

    def rectangles_mm(self) -> np.ndarray:
        """Blocks as an (n, 4) array of ``x0, y0, x1, y1`` [mm]."""
        return np.array(
            [[b.x0_mm, b.y0_mm, b.x1_mm, b.y1_mm] for b in self.blocks], dtype=float
        ).reshape(-1, 4)

    def overlap_area_mm2(self) -> float:
        """Total pairwise overlap area between blocks [mm2] (0 for a valid floorplan)."""
        r = self.rectangles_mm()
        if len(r) < 2:
            return 0.0
        ox = np.minimum(r[:, None, 2], r[None, :, 2]) - np.maximum(r[:, None, 0], r[None, :, 0])
        oy = np.minimum(r[:, None, 3], r[None, :, 3]) - np.maximum(r[:, None, 1], r[None, :, 1])
        ov = np.clip(ox, 0.0, None) * np.clip(oy, 0.0, None)
        return float(np.triu(ov, k=1).sum())

    def transposed(self) -> Floorplan:
        """Return the floorplan mirrored about the diagonal (x <-> y)."""
        return Floorplan(
            self.height_mm,
            self.width_mm,
            tuple(Block(b.name, b.kind, b.y0_mm, b.x0_mm, b.h_mm, b.w_mm) for b in self.blocks),
        )


def _rows_for(n: int, region_w: float, region_h: float) -> int:
    """Return the number of rows that makes ``n`` equal tiles in a region closest to square."""
    r = np.arange(1, n + 1)
    per_row = np.ceil(n / r)
    cost = np.abs(np.log((region_w / per_row) / (region_h * per_row / n)))
    return int(r[np.argmin(cost)])


def _tile_rects(n: int, x0: float, y0: float, w: float, h: float) -> np.ndarray:
    """``n`` equal-area tiles filling the rectangle (x0, y0, w, h) row by row, (n, 4) x0 y0 w h."""
    rows = _rows_for(n, w, h)
    base, extra = divmod(n, rows)
    count = np.where(np.arange(rows) < extra, base + 1, base)
    row = np.repeat(np.arange(rows), count)
    start = np.concatenate([[0], np.cumsum(count)[:-1]])
    col = np.arange(n) - start[row]
    row_h = h * count / n
    row_y = y0 + np.concatenate([[0.0], np.cumsum(row_h)[:-1]])
    tile_w = w / count[row]
    return np.column_stack([x0 + col * tile_w, row_y[row], tile_w, row_h[row]])


@dataclass(frozen=True)
class FloorplanLayout:
    """A floorplan as arrays (the fast form used for many designs).

    Attributes
    ----------
    width_mm, height_mm : float
        Die size [mm].
    rects_mm : ndarray, shape (n, 4)
        ``x0, y0, w, h`` of every block [mm].
    kinds : ndarray of int, shape (n,)
        Index into :data:`BLOCK_KINDS`.
    banked : bool
        SRAM in two banks (``sram_bank0/1``) rather than one slice per core.
    """

    width_mm: float
    height_mm: float
    rects_mm: np.ndarray
    kinds: np.ndarray
    banked: bool = False

    @property
    def names(self) -> tuple[str, ...]:
        """Block names (``phy<i>``, ``uncore``, ``core<i>``, ``sram<i>`` / ``sram_bank<i>``)."""
        count = dict.fromkeys(BLOCK_KINDS, 0)
        out = []
        for k in self.kinds:
            kind = BLOCK_KINDS[k]
            i = count[kind]
            count[kind] += 1
            if kind == "uncore":
                out.append("uncore")
            elif kind == "sram" and self.banked:
                out.append(f"sram_bank{i}")
            else:
                out.append(f"{kind}{i}")
        return tuple(out)

    def to_floorplan(self) -> Floorplan:
        """Return the same floorplan as :class:`Block` objects."""
        return Floorplan(
            self.width_mm,
            self.height_mm,
            tuple(
                Block(name, BLOCK_KINDS[k], *map(float, r))
                for name, k, r in zip(self.names, self.kinds, self.rects_mm, strict=True)
            ),
        )


def floorplan_layout(
    core_area_mm2: float,
    sram_area_mm2: float,
    phy_area_mm2: float,
    uncore_area_mm2: float,
    cores: int,
    memory_count: int,
    aspect: float = 1.0,
    sram_layout: str = "interleaved",
) -> FloorplanLayout:
    """Generate the floorplan of :func:`build_floorplan` as arrays (no :class:`Block` objects).

    Same parameters and geometry as :func:`build_floorplan`, about ten times faster for
    large core counts.

    Parameters
    ----------
    core_area_mm2 : float
        Core logic of all cores [mm2] (> 0).
    sram_area_mm2 : float
        All on-chip SRAM macros [mm2] (>= 0).
    phy_area_mm2 : float
        All off-chip memory PHYs + controllers [mm2] (>= 0).
    uncore_area_mm2 : float
        NoC, IO, host interface and whitespace [mm2] (>= 0).
    cores : int
        Number of cores [-] (>= 1).
    memory_count : int
        Number of memory PHYs [-]; 0 when ``phy_area_mm2`` is 0.
    aspect : float, default 1.0
        Die width / height [-] (> 0).
    sram_layout : {"interleaved", "banked"}
        SRAM as a slice of every core tile, or as two banks beside the core array.

    Returns
    -------
    FloorplanLayout
        Die size [mm] and block rectangles [mm] with their kinds, as arrays; the same
        geometry as :func:`build_floorplan`.

    Notes
    -----
    The equations of :func:`build_floorplan`: W = sqrt(A aspect), H = A / W.
    """
    _check_layout_args(
        core_area_mm2,
        sram_area_mm2,
        phy_area_mm2,
        uncore_area_mm2,
        cores,
        memory_count,
        aspect,
        sram_layout,
    )
    cores, memory_count = int(cores), int(memory_count)
    if aspect < 1.0:
        # build with the long edges horizontal, then mirror about the diagonal
        t = floorplan_layout(
            core_area_mm2,
            sram_area_mm2,
            phy_area_mm2,
            uncore_area_mm2,
            cores,
            memory_count,
            1.0 / aspect,
            sram_layout,
        )
        return FloorplanLayout(
            t.height_mm, t.width_mm, t.rects_mm[:, [1, 0, 3, 2]].copy(), t.kinds, t.banked
        )

    total = core_area_mm2 + sram_area_mm2 + phy_area_mm2 + uncore_area_mm2
    # parts below 1e-12 of the die are dropped (they would give zero-width blocks)
    tiny = 1e-12 * total
    sram_area_mm2, phy_area_mm2, uncore_area_mm2 = (
        a if a > tiny else 0.0 for a in (sram_area_mm2, phy_area_mm2, uncore_area_mm2)
    )
    total = core_area_mm2 + sram_area_mm2 + phy_area_mm2 + uncore_area_mm2
    width = math.sqrt(total * aspect)
    height = total / width
    rects: list[np.ndarray] = []
    kinds: list[np.ndarray] = []

    # memory PHYs on the long (bottom and top) edges
    d_bottom, d_top = _place_phys(rects, kinds, phy_area_mm2, memory_count, width, height)
    y_lo = d_bottom
    h_inner = height - d_bottom - d_top

    # uncore strip on the left edge
    x_lo = 0.0
    if uncore_area_mm2 > 0.0:
        w_uncore = uncore_area_mm2 / h_inner
        rects.append(np.array([[0.0, y_lo, w_uncore, h_inner]]))
        kinds.append(np.array([BLOCK_KINDS.index("uncore")]))
        x_lo = w_uncore
    w_region = width - x_lo

    _place_cores(
        rects,
        kinds,
        core_area_mm2,
        sram_area_mm2,
        cores,
        sram_layout,
        x_lo=x_lo,
        y_lo=y_lo,
        w_region=w_region,
        h_inner=h_inner,
        width=width,
    )
    banked = sram_layout == "banked" and sram_area_mm2 > 0.0
    return FloorplanLayout(
        width, height, np.concatenate(rects), np.concatenate(kinds).astype(np.intp), banked
    )


def _check_layout_args(
    core_area_mm2: float,
    sram_area_mm2: float,
    phy_area_mm2: float,
    uncore_area_mm2: float,
    cores: int,
    memory_count: int,
    aspect: float,
    sram_layout: str,
) -> None:
    """Raise ValueError on arguments :func:`floorplan_layout` cannot lay out."""
    areas = {
        "core_area_mm2": core_area_mm2,
        "sram_area_mm2": sram_area_mm2,
        "phy_area_mm2": phy_area_mm2,
        "uncore_area_mm2": uncore_area_mm2,
    }
    for key, v in areas.items():
        if not math.isfinite(v) or v < 0.0:
            raise ValueError(f"{key} must be finite and >= 0, got {v!r}")
    if core_area_mm2 <= 0.0:
        raise ValueError("core_area_mm2 must be > 0")
    if int(cores) != cores or cores < 1:
        raise ValueError(f"cores must be an integer >= 1, got {cores!r}")
    if int(memory_count) != memory_count or memory_count < 0:
        raise ValueError(f"memory_count must be an integer >= 0, got {memory_count!r}")
    if phy_area_mm2 > 0.0 and memory_count == 0:
        raise ValueError("phy_area_mm2 > 0 needs memory_count >= 1")
    if not (math.isfinite(aspect) and aspect > 0.0):
        raise ValueError(f"aspect must be > 0, got {aspect!r}")
    if sram_layout not in SRAM_LAYOUTS:
        raise ValueError(f"sram_layout must be one of {SRAM_LAYOUTS}, got {sram_layout!r}")


def _place_phys(
    rects: list[np.ndarray],
    kinds: list[np.ndarray],
    phy_area_mm2: float,
    memory_count: int,
    width: float,
    height: float,
) -> tuple[float, float]:
    """Append the memory PHYs along the bottom and top edges (bottom gets the odd one).

    Return the depths of the bottom and top PHY strips [mm].
    """
    phy = BLOCK_KINDS.index("phy")
    d_bottom = d_top = 0.0
    if phy_area_mm2 > 0.0:
        a_phy = phy_area_mm2 / memory_count
        n_bottom = (memory_count + 1) // 2
        n_top = memory_count // 2
        d_bottom = n_bottom * a_phy / width
        d_top = n_top * a_phy / width
        for n, y0, depth in ((n_bottom, 0.0, d_bottom), (n_top, height - d_top, d_top)):
            if n:
                c = np.arange(n)
                rects.append(
                    np.column_stack(
                        [c * width / n, np.full(n, y0), np.full(n, width / n), np.full(n, depth)]
                    )
                )
                kinds.append(np.full(n, phy))
    return d_bottom, d_top


def _place_cores(
    rects: list[np.ndarray],
    kinds: list[np.ndarray],
    core_area_mm2: float,
    sram_area_mm2: float,
    cores: int,
    sram_layout: str,
    *,
    x_lo: float,
    y_lo: float,
    w_region: float,
    h_inner: float,
    width: float,
) -> None:
    """Append the cores and the SRAM in the core region of the die.

    The region is ``x_lo .. x_lo + w_region`` by ``y_lo .. y_lo + h_inner`` of a die
    ``width`` wide [mm] (between the PHYs and right of the uncore): each core with its SRAM
    slice beside it (interleaved), or SRAM banks on both sides of the core array (banked).
    """
    sram, core = BLOCK_KINDS.index("sram"), BLOCK_KINDS.index("core")
    if sram_layout == "interleaved" or sram_area_mm2 == 0.0:
        tiles = _tile_rects(cores, x_lo, y_lo, w_region, h_inner)
        w_logic = tiles[:, 2] * core_area_mm2 / (core_area_mm2 + sram_area_mm2)
        logic = tiles.copy()
        logic[:, 2] = w_logic
        if sram_area_mm2 > 0.0:
            slices = tiles.copy()
            slices[:, 0] += w_logic
            slices[:, 2] -= w_logic
            pair = np.stack([logic, slices], axis=1).reshape(-1, 4)
            rects.append(pair)
            kinds.append(np.tile([core, sram], cores))
        else:
            rects.append(logic)
            kinds.append(np.full(cores, core))
    else:  # banked: SRAM banks left and right of the core array
        w_bank = 0.5 * sram_area_mm2 / h_inner
        rects.append(
            np.array([[x_lo, y_lo, w_bank, h_inner], [width - w_bank, y_lo, w_bank, h_inner]])
        )
        kinds.append(np.array([sram, sram]))
        rects.append(_tile_rects(cores, x_lo + w_bank, y_lo, w_region - 2.0 * w_bank, h_inner))
        kinds.append(np.full(cores, core))


def build_floorplan(
    core_area_mm2: float,
    sram_area_mm2: float,
    phy_area_mm2: float,
    uncore_area_mm2: float,
    cores: int,
    memory_count: int,
    aspect: float = 1.0,
    sram_layout: str = "interleaved",
) -> Floorplan:
    """Generate the floorplan of one design from its area breakdown.

    Parameters
    ----------
    core_area_mm2 : float
        Core logic of all cores: MAC arrays + per-core overhead [mm2] (``a_mac + a_core``
        of :func:`dse.chain.run.evaluate_arrays`). Must be > 0.
    sram_area_mm2 : float
        All on-chip SRAM macros [mm2] (>= 0).
    phy_area_mm2 : float
        All off-chip memory PHYs + controllers [mm2] (>= 0).
    uncore_area_mm2 : float
        NoC, IO, host interface and whitespace [mm2] (>= 0): in the area model
        ``f_uncore (A_core + A_sram) + A_uncore,fixed``.
    cores : int
        Number of cores [-] (>= 1).
    memory_count : int
        Number of memory PHYs [-] (HBM stacks, GDDR devices...); 0 when ``phy_area_mm2``
        is 0.
    aspect : float, default 1.0
        Die width / height [-] (> 0). PHYs go on the two long edges.
    sram_layout : {"interleaved", "banked"}
        SRAM as a slice of every core tile, or as two banks beside the core array.

    Returns
    -------
    Floorplan
        Die of area exactly ``core + sram + phy + uncore``; every block area per kind
        equals its input (to rounding), blocks do not overlap and tile the die.

    Notes
    -----
    W = sqrt(A aspect), H = A / W. With m PHYs of area a = A_phy / m, the bottom strip
    holds ceil(m/2) and the top strip floor(m/2) PHYs, depths ceil(m/2) a / W and
    floor(m/2) a / W. The uncore strip has width A_uncore / H_i, with H_i the height
    between the PHY strips. The core region (W - w_uncore) x H_i holds the tiles.
    """
    return floorplan_layout(
        core_area_mm2,
        sram_area_mm2,
        phy_area_mm2,
        uncore_area_mm2,
        cores,
        memory_count,
        aspect,
        sram_layout,
    ).to_floorplan()
