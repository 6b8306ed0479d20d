"""Solutions: :class:`GridResult` (one design) and :class:`BatchGridResult` (many)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from dse.model.floorplan import Floorplan, FloorplanLayout
from dse.model.thermal_grid.maps import _block_stats


@dataclass(frozen=True)
class GridResult:
    """Steady-state solution of one design.

    Attributes
    ----------
    temps_c : ndarray, shape (ny, nx)
        Junction (die-layer) temperature per cell [degC]; row j is y, column i is x.
    peak_c, mean_c : float
        Hottest cell and area mean over the die [degC].
    block_peak_c, block_mean_c : dict
        Per block (when solved from a floorplan): hottest covered cell, area-weighted mean.
    leakage_w : float
        Leakage at the solution temperatures [W].
    power_w : float
        Temperature-independent (dynamic) power [W].
    runaway : bool
        No stable leakage-temperature fixed point (temperatures are the last iterate,
        a lower bound); never raised.
    iterations : int
        Newton iterations (1 without leakage).
    width_mm, height_mm : float
        Die size [mm].
    floorplan : Floorplan or None
        The floorplan the power map came from.
    """

    temps_c: np.ndarray
    peak_c: float
    mean_c: float
    leakage_w: float
    power_w: float
    runaway: bool
    iterations: int
    width_mm: float
    height_mm: float
    block_peak_c: dict[str, float] = field(default_factory=dict)
    block_mean_c: dict[str, float] = field(default_factory=dict)
    floorplan: Floorplan | None = None

    @property
    def shape(self) -> tuple[int, int]:
        """Grid shape (ny, nx)."""
        ny, nx = self.temps_c.shape
        return ny, nx


@dataclass(frozen=True)
class BatchGridResult:
    """Steady-state solutions of many designs on the same grid shape.

    All arrays have the batch as first axis: ``temps_c`` (B, ny, nx); ``peak_c``,
    ``mean_c``, ``leakage_w``, ``power_w`` [W], ``runaway`` (bool), ``iterations`` (B,).
    """

    temps_c: np.ndarray
    peak_c: np.ndarray
    mean_c: np.ndarray
    leakage_w: np.ndarray
    power_w: np.ndarray
    runaway: np.ndarray
    iterations: np.ndarray

    def __len__(self) -> int:
        """Return the number of designs B."""
        return len(self.peak_c)

    def result(
        self,
        i: int,
        floorplan: Floorplan | FloorplanLayout | None = None,
        *,
        width_mm: float | None = None,
        height_mm: float | None = None,
    ) -> GridResult:
        """Return the i-th design as a :class:`GridResult`.

        With its floorplan the result carries per-block temperatures and can be plotted
        (:func:`dse.plots.thermal.plot_thermal_map`); without one, give the die size.

        Parameters
        ----------
        i : int
            Index of the design in the batch [-].
        floorplan : Floorplan or FloorplanLayout, optional
            The design's floorplan (its die size and blocks).
        width_mm, height_mm : float, optional
            Die size [mm], required without a floorplan.

        Returns
        -------
        GridResult
            Temperatures [degC], leakage and power [W] of design i; per-block peak and
            mean [degC] when the floorplan is given.
        """
        if isinstance(floorplan, FloorplanLayout):
            floorplan = floorplan.to_floorplan()
        if floorplan is not None:
            width_mm, height_mm = floorplan.width_mm, floorplan.height_mm
        if width_mm is None or height_mm is None:
            raise ValueError("give the floorplan or the die width and height")
        temps = self.temps_c[i]
        peak, mean = _block_stats(floorplan, temps) if floorplan is not None else ({}, {})
        return GridResult(
            temps_c=temps,
            peak_c=float(self.peak_c[i]),
            mean_c=float(self.mean_c[i]),
            leakage_w=float(self.leakage_w[i]),
            power_w=float(self.power_w[i]),
            runaway=bool(self.runaway[i]),
            iterations=int(self.iterations[i]),
            width_mm=float(width_mm),
            height_mm=float(height_mm),
            block_peak_c=peak,
            block_mean_c=mean,
            floorplan=floorplan,
        )
