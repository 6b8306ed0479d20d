"""Thermal map of a die: junction temperature per grid cell with the floorplan on top.

Split as the other plots (a data function, then a render function): :func:`thermal_map_data` turns a
:class:`dse.model.thermal_grid.GridResult` and its :class:`dse.model.floorplan.Floorplan` into a
small NamedTuple (tested by value, no matplotlib), :func:`plot_thermal_map` draws it on
an Axes and returns the Axes. matplotlib is imported inside the renderer only.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from dse.model.floorplan import Floorplan
from dse.model.thermal_grid import GridResult

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["BlockOutline", "ThermalMapData", "plot_thermal_map", "thermal_map_data"]

COLORBAR_LABEL = "junction temperature [°C]"
_SHORT = {"core": "C", "sram": "S", "phy": "PHY", "uncore": "IO"}


class BlockOutline(NamedTuple):
    """One block to outline: name, kind, short label (or "" when too small to label),
    rectangle [mm] and its peak temperature [degC] (NaN when unknown)."""

    name: str
    kind: str
    label: str
    x0_mm: float
    y0_mm: float
    w_mm: float
    h_mm: float
    peak_c: float


class ThermalMapData(NamedTuple):
    """Everything the renderer draws.

    Attributes
    ----------
    temps_c : ndarray (ny, nx)
        Junction temperature per cell [degC], row 0 at y = 0.
    extent_mm : tuple
        (x0, x1, y0, y1) of the die [mm] for ``imshow``.
    blocks : list of BlockOutline
    peak_c, mean_c : float
        Hottest cell and die mean [degC].
    peak_xy_mm : tuple
        Centre of the hottest cell [mm].
    runaway : bool
    title : str
    """

    temps_c: np.ndarray
    extent_mm: tuple[float, float, float, float]
    blocks: list[BlockOutline]
    peak_c: float
    mean_c: float
    peak_xy_mm: tuple[float, float]
    runaway: bool
    title: str


def _short_label(name: str, kind: str) -> str:
    """C12 / S12 / PHY3 / SRAM0 / IO for generated blocks, the name itself otherwise."""
    m = re.fullmatch(r"(core|sram|phy)(\d+)", name)
    if m:
        return f"{_SHORT[m.group(1)]}{m.group(2)}"
    m = re.fullmatch(r"sram_bank(\d+)", name)
    if m:
        return f"SRAM{m.group(1)}"
    if name == "uncore":
        return _SHORT["uncore"]
    return name if len(name) <= 10 else name[:9] + "…"


def thermal_map_data(
    result: GridResult,
    floorplan: Floorplan | None = None,
    *,
    label_min_fraction: float = 0.07,
    max_labels: int = 64,
) -> ThermalMapData:
    """The data of a thermal map.

    Parameters
    ----------
    result : GridResult
        A grid solution (:func:`dse.model.thermal_grid.solve_floorplan`).
    floorplan : Floorplan, optional
        Defaults to ``result.floorplan``; without one only the map is drawn.
    label_min_fraction : float
        A block gets a text label when both its sides exceed this fraction of the die's
        shorter side (smaller blocks are outlined only).
    max_labels : int
        Label no blocks of a kind that has more than this many blocks above the size
        threshold (e.g. hundreds of core tiles).
    """
    fp = floorplan if floorplan is not None else result.floorplan
    temps = np.asarray(result.temps_c, dtype=float)
    ny, nx = temps.shape
    w, h = result.width_mm, result.height_mm
    j, i = np.unravel_index(int(np.argmax(temps)), temps.shape)
    peak_xy = ((i + 0.5) * w / nx, (j + 0.5) * h / ny)
    blocks: list[BlockOutline] = []
    if fp is not None:
        side = min(fp.width_mm, fp.height_mm)
        big = [min(b.w_mm, b.h_mm) >= label_min_fraction * side for b in fp.blocks]
        per_kind: dict[str, int] = {}
        for b, ok in zip(fp.blocks, big, strict=True):
            if ok:
                per_kind[b.kind] = per_kind.get(b.kind, 0) + 1
        for b, ok in zip(fp.blocks, big, strict=True):
            show = ok and per_kind.get(b.kind, 0) <= max_labels
            blocks.append(
                BlockOutline(
                    b.name,
                    b.kind,
                    _short_label(b.name, b.kind) if show else "",
                    b.x0_mm,
                    b.y0_mm,
                    b.w_mm,
                    b.h_mm,
                    float(result.block_peak_c.get(b.name, np.nan)),
                )
            )
    status = " (thermal runaway)" if result.runaway else ""
    title = (
        f"peak (×) {result.peak_c:.1f} °C, mean {result.mean_c:.1f} °C, "
        f"{result.power_w + result.leakage_w:.0f} W{status}"
    )
    return ThermalMapData(
        temps_c=temps,
        extent_mm=(0.0, w, 0.0, h),
        blocks=blocks,
        peak_c=float(result.peak_c),
        mean_c=float(result.mean_c),
        peak_xy_mm=(float(peak_xy[0]), float(peak_xy[1])),
        runaway=bool(result.runaway),
        title=title,
    )


def plot_thermal_map(
    result: GridResult,
    floorplan: Floorplan | None = None,
    ax: Axes | None = None,
    *,
    cmap: str = "inferno",
    title: str | None = None,
    **data_kw: Any,
) -> Axes:
    """Draw the die temperature map with the floorplan outlined.

    Parameters
    ----------
    result : GridResult
        Grid solution to draw.
    floorplan : Floorplan, optional
        Blocks to outline (default ``result.floorplan``).
    ax : matplotlib Axes, optional
        Drawn on a new figure when None.
    cmap : str
        Colour map of the temperatures.
    title : str, optional
        Replaces the default title (peak, mean, total power).
    **data_kw
        Passed to :func:`thermal_map_data`.

    Returns
    -------
    Axes
    """
    from matplotlib.patches import Rectangle

    d = thermal_map_data(result, floorplan, **data_kw)
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(6.4, 5.4))
    im = ax.imshow(
        d.temps_c,
        origin="lower",
        extent=d.extent_mm,
        cmap=cmap,
        interpolation="nearest",
        aspect="equal",
    )
    cbar = ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    cbar.set_label(COLORBAR_LABEL)
    die_side = min(d.extent_mm[1], d.extent_mm[3])
    for b in d.blocks:
        ax.add_patch(
            Rectangle(
                (b.x0_mm, b.y0_mm),
                b.w_mm,
                b.h_mm,
                fill=False,
                edgecolor="white",
                linewidth=0.6,
                alpha=0.8,
            )
        )
        if b.label:
            size = float(np.clip(0.9 * min(b.w_mm, b.h_mm) / die_side * 60.0, 5.0, 9.0))
            ax.text(
                b.x0_mm + 0.5 * b.w_mm,
                b.y0_mm + 0.5 * b.h_mm,
                b.label,
                ha="center",
                va="center",
                fontsize=size,
                color="white",
                bbox={"boxstyle": "round,pad=0.15", "fc": "black", "ec": "none", "alpha": 0.45},
            )
    ax.plot(
        *d.peak_xy_mm,
        marker="x",
        color="cyan",
        markersize=8,
        markeredgewidth=2,
    )
    ax.set_xlim(d.extent_mm[0], d.extent_mm[1])
    ax.set_ylim(d.extent_mm[2], d.extent_mm[3])
    ax.set_xlabel("x [mm]")
    ax.set_ylabel("y [mm]")
    ax.set_title(d.title if title is None else title, fontsize=10)
    return ax
