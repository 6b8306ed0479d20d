"""Steady-state grid thermal model of a die on its package, with leakage feedback.

The die is cut into ``nx x ny`` cells. Below it lies a stack of layers (silicon, TIM,
heat spreader, TIM, heat-sink base), each discretised on the same cells (or, for layers
wider than the die, on a graded grid around it); the sink base is connected to the
ambient/coolant through the sink resistance ``r_sink``. Every layer is one node per cell
(or ``sublayers`` nodes) through its thickness, a "2.5-D" compact model in the manner of
HotSpot's grid model:

* the node of a layer sits at the layer's *top* face, its full conduction resistance
  ``t / k`` and the interface (TIM) resistance below it lead to the next layer's node;
  the node of the first (silicon) layer is the junction, where the power is dissipated;
* within a layer, neighbouring cells exchange heat through the sheet conductance
  ``k t`` (W/K per square), ``g_x = k t dy / dx``, ``g_y = k t dx / dy``;
* the last layer (sink base) loses heat to the ambient through ``r_sink`` distributed
  over its area, ``g = A_cell / (A_layer r_sink)``.

With uniform power the lateral terms vanish and the model is the 1-D stack exactly:
``T_j = T_a + P (R''_1D / A_die + r_sink)``, where ``R''_1D`` (K mm2/W) is the sum of the
layers' ``t/k`` and interface resistances. :func:`hotspot_stack` chooses the stack so that
``R''_1D`` equals the lumped model's ``r_package_k_mm2_per_w`` (:mod:`dse.thermal`):
silicon + TIM1 + copper spreader from HotSpot's defaults, the remainder is TIM2.

Two solvers share that network:

* :class:`ThermalGrid` assembles the conductance matrix with :mod:`scipy.sparse` (any
  stack, also layers wider than the die) and solves with SuperLU; without leakage the
  factorisation is cached and reused for any number of power maps;
* :func:`solve_grid_batch` solves many designs at once when every layer has the die's
  footprint: the cell-centred Neumann Laplacian of each layer is diagonalised by the
  2-D DCT-II, so the network splits into ``nx ny`` independent modes whose die-node
  admittance is a short ladder recursion (exact for the discrete system, no matrix).

Leakage: each die cell dissipates ``l_i exp(beta (T_i - T_ref))`` on top of its
dynamic power (HotSpot's ``calc_leakage`` form). The nonlinear system
``G theta = p + L(theta)`` is solved by a monotone Newton iteration from ``theta = 0``
(the ambient), which converges to the lowest (stable) fixed point whenever one exists;
if the Jacobian stops being an M-matrix on the way, no fixed point exists at all: thermal
runaway, reported as ``runaway=True``, never raised.

Entry points: :func:`solve_floorplan` (one floorplan, per-block temperatures, plots),
:func:`solve_floorplan_batch` and :func:`solve_designs_batch` (many designs, from
floorplans or from area and power breakdowns as the chain holds them),
:func:`kind_responses_k_per_w` (rise per watt of each block kind, for throttling).
Validation and the method in full: ``docs/thermal.md``.

References
----------
W. Huang, S. Ghosh, S. Velusamy, K. Sankaranarayanan, K. Skadron, M. R. Stan,
"HotSpot: a compact thermal modeling methodology for early-stage VLSI design",
IEEE TVLSI 14(5) 501-513, 2006 (compact layer model, default material constants).
J. M. Ortega and W. C. Rheinboldt, *Iterative Solution of Nonlinear Equations in Several
Variables*, Academic Press 1970, §13.3 (monotone Newton convergence for convex
M-functions).
G. Strang, "The discrete cosine transform", SIAM Review 41(1) 135-147, 1999 (DCT-II
eigenvectors of the Neumann Laplacian).
Y. S. Muzychka, J. R. Culham, M. M. Yovanovich, "Thermal spreading resistance of eccentric
heat sources on rectangular flux channels", J. Electronic Packaging 125(2) 178-185, 2003;
Y. S. Muzychka, M. M. Yovanovich, J. R. Culham, "Thermal spreading resistance in compound
and orthotropic systems", J. Thermophysics and Heat Transfer 18(1) 45-51, 2004
(Fourier-series reference solutions, :func:`rectangular_sources_temperature_rise`).
S. Lee, S. Song, V. Au, K. P. Moran, "Constriction/spreading resistance model for
electronics packaging", ASME/JSME Thermal Engineering Conf. 1995, vol. 4, 199-206
(:func:`lee_spreading_resistance`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy import fft, special

from dse.floorplan import BLOCK_KINDS, Floorplan, FloorplanLayout, floorplan_layout

__all__ = [
    "BatchGridResult",
    "GridResult",
    "Layer",
    "LayerStack",
    "ThermalGrid",
    "block_overlap_mm",
    "block_powers_w",
    "circular_source_temperature_rise",
    "hotspot_stack",
    "kind_power_maps",
    "kind_responses_k_per_w",
    "leakage_map_w",
    "lee_spreading_resistance",
    "power_map_w",
    "rectangular_sources_temperature_rise",
    "solve_floorplan",
    "solve_designs_batch",
    "solve_floorplan_batch",
    "solve_grid_batch",
    "spreading_impedance",
]

MM = 1e-3  # m per mm
K_MM2_PER_W = 1e-6  # m2 K/W per K mm2/W
_RUNAWAY_RISE_K = 1000.0  # a rise above this is runaway (far beyond any physical Tj)


# ---------------------------------------------------------------------------------------
# layer stack
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Layer:
    """One layer of the stack below the junction.

    Parameters
    ----------
    name : str
        Label (``silicon``, ``spreader``, ``sink``...).
    thickness_mm : float
        Thickness [mm] (> 0).
    conductivity_w_per_mk : float
        Thermal conductivity [W/(m K)] (> 0).
    r_below_k_mm2_per_w : float, default 0
        Area-normalised interface resistance (a TIM) between this layer and the next,
        or, for the last layer, between it and the convective surface [K mm2/W].
    vertical_resistance : bool, default True
        Count the layer's own conduction resistance ``t/k`` in the vertical path. False
        for a heat-sink base whose vertical resistance is already inside ``r_sink``: it
        then only spreads heat laterally.
    side_mm : float or None, default None
        Side of a square layer centred on the die [mm]; None = the die footprint. Only
        :class:`ThermalGrid` (sparse) supports layers wider than the die.
    sublayers : int, default 1
        Split the layer into this many nodes through its thickness (finer vertical
        resolution; 1 = the compact model).
    """

    name: str
    thickness_mm: float
    conductivity_w_per_mk: float
    r_below_k_mm2_per_w: float = 0.0
    vertical_resistance: bool = True
    side_mm: float | None = None
    sublayers: int = 1

    def __post_init__(self) -> None:
        if not (self.thickness_mm > 0.0 and math.isfinite(self.thickness_mm)):
            raise ValueError(f"layer {self.name!r}: thickness_mm must be > 0")
        if not (self.conductivity_w_per_mk > 0.0 and math.isfinite(self.conductivity_w_per_mk)):
            raise ValueError(f"layer {self.name!r}: conductivity_w_per_mk must be > 0")
        if not (self.r_below_k_mm2_per_w >= 0.0 and math.isfinite(self.r_below_k_mm2_per_w)):
            raise ValueError(f"layer {self.name!r}: r_below_k_mm2_per_w must be >= 0")
        if self.side_mm is not None and not self.side_mm > 0.0:
            raise ValueError(f"layer {self.name!r}: side_mm must be > 0 or None")
        if int(self.sublayers) != self.sublayers or self.sublayers < 1:
            raise ValueError(f"layer {self.name!r}: sublayers must be an integer >= 1")
        if self.sublayers > 1 and not self.vertical_resistance:
            raise ValueError(f"layer {self.name!r}: sublayers need vertical_resistance=True")

    @property
    def sheet_conductance_w_per_k(self) -> float:
        """In-plane conductance of one square of the layer, k t [W/K]."""
        return self.conductivity_w_per_mk * self.thickness_mm * MM

    @property
    def conduction_k_mm2_per_w(self) -> float:
        """Own vertical resistance t/k [K mm2/W] (0 when ``vertical_resistance`` is off)."""
        if not self.vertical_resistance:
            return 0.0
        return self.thickness_mm * MM / self.conductivity_w_per_mk / K_MM2_PER_W

    @property
    def r_vertical_k_mm2_per_w(self) -> float:
        """Resistance from this layer's top face to the next layer's top face [K mm2/W]."""
        return self.conduction_k_mm2_per_w + self.r_below_k_mm2_per_w


@dataclass(frozen=True)
class LayerStack:
    """The layers below the junction, top (silicon) first."""

    layers: tuple[Layer, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "layers", tuple(self.layers))
        if not self.layers:
            raise ValueError("a layer stack needs at least one layer")
        if self.layers[0].side_mm is not None:
            raise ValueError("the first (die) layer must have the die footprint (side_mm=None)")
        for layer in self.layers[:-1]:
            if layer.r_vertical_k_mm2_per_w <= 0.0:
                raise ValueError(
                    f"layer {layer.name!r}: the vertical resistance to the next layer must be > 0"
                )

    @property
    def r_1d_k_mm2_per_w(self) -> float:
        """Area-normalised 1-D resistance junction -> convective surface [K mm2/W].

        For :func:`hotspot_stack` this equals ``r_package_k_mm2_per_w``.
        """
        return sum(layer.r_vertical_k_mm2_per_w for layer in self.layers)

    @property
    def footprint_only(self) -> bool:
        """True when every layer has the die's footprint (the spectral solver applies)."""
        return all(layer.side_mm is None for layer in self.layers)

    def expanded(self) -> tuple[Layer, ...]:
        """Layers with ``sublayers`` split into single-node layers (interface at the bottom)."""
        out: list[Layer] = []
        for layer in self.layers:
            n = layer.sublayers
            for s in range(n):
                out.append(
                    replace(
                        layer,
                        name=layer.name if n == 1 else f"{layer.name}[{s}]",
                        thickness_mm=layer.thickness_mm / n,
                        r_below_k_mm2_per_w=layer.r_below_k_mm2_per_w if s == n - 1 else 0.0,
                        sublayers=1,
                    )
                )
        return tuple(out)

    def with_sublayers(self, **sublayers: int) -> LayerStack:
        """A copy with ``sublayers`` changed per layer name, e.g. ``spreader=4``."""
        unknown = set(sublayers) - {layer.name for layer in self.layers}
        if unknown:
            raise ValueError(f"no layer named {sorted(unknown)}")
        return LayerStack(
            tuple(
                replace(layer, sublayers=sublayers.get(layer.name, layer.sublayers))
                for layer in self.layers
            )
        )


def hotspot_stack(
    r_package_k_mm2_per_w: float = 14.0,
    *,
    die_thickness_mm: float = 0.15,
    k_silicon_w_per_mk: float = 130.0,
    tim_thickness_mm: float = 0.02,
    k_tim_w_per_mk: float = 4.0,
    spreader_thickness_mm: float = 1.0,
    k_spreader_w_per_mk: float = 400.0,
    sink_thickness_mm: float = 6.9,
    k_sink_w_per_mk: float = 400.0,
    die_sublayers: int = 2,
    spreader_sublayers: int = 4,
) -> LayerStack:
    """The default stack: silicon, TIM1, copper spreader, TIM2 and the sink base.

    The layers and constants are HotSpot's defaults (``docs/reference/nodes.md``
    §4.1: ``example.config``/``example.materials`` of HotSpot 6/7); TIM2 takes whatever
    is left of the lumped ``r_package_k_mm2_per_w`` so the 1-D resistance is identical.

    Parameters
    ----------
    r_package_k_mm2_per_w : float, default 14.0
        Area-normalised junction-to-sink-base resistance of the lumped model
        (``dse/data/model_constants.csv``) [K mm2/W].
    die_thickness_mm, k_silicon_w_per_mk : float
        Silicon: 0.15 mm, 130 W/(m K) (HotSpot example.config; 100 in temperature.c).
    tim_thickness_mm, k_tim_w_per_mk : float
        TIM1: 20 um, 4 W/(m K).
    spreader_thickness_mm, k_spreader_w_per_mk : float
        Copper spreader (lid): 1 mm, 400 W/(m K).
    sink_thickness_mm, k_sink_w_per_mk : float
        Sink base: 6.9 mm copper, 400 W/(m K); lateral spreading only (its vertical
        resistance is part of ``r_sink``).
    die_sublayers, spreader_sublayers : int, default 2 and 4
        Nodes through the silicon and spreader thickness. 1 and 1 is HotSpot's compact
        model; 2 and 4 bring the peak of an 8 mm hot block within 1 % of the exact 3-D
        solution (2.9 % with 1 and 1, docs/thermal.md) at no cost in the spectral solver.

    Returns
    -------
    LayerStack
        silicon (r_below = TIM1) -> spreader (r_below = TIM2) -> sink.

    Notes
    -----
    R''_pkg = t_Si/k_Si + t_TIM/k_TIM + t_Cu/k_Cu + R''_TIM2, with the defaults
    14.0 = 1.154 + 5.000 + 2.500 + 5.346 K mm2/W. Below 8.654 K mm2/W (the low end of
    the constant's range is 8) TIM2 is 0 and TIM1 takes the rest; below silicon + copper
    (3.654) no stack matches and ValueError is raised.
    """
    si = Layer("silicon", die_thickness_mm, k_silicon_w_per_mk, sublayers=die_sublayers)
    tim1 = tim_thickness_mm * MM / k_tim_w_per_mk / K_MM2_PER_W
    spreader = Layer(
        "spreader", spreader_thickness_mm, k_spreader_w_per_mk, sublayers=spreader_sublayers
    )
    fixed = si.conduction_k_mm2_per_w + spreader.conduction_k_mm2_per_w
    if r_package_k_mm2_per_w < fixed - 1e-9:
        raise ValueError(
            f"r_package_k_mm2_per_w = {r_package_k_mm2_per_w} is below silicon + spreader "
            f"conduction = {fixed:.3f} K mm2/W"
        )
    tim2 = r_package_k_mm2_per_w - fixed - tim1
    if tim2 < 0.0:  # a better TIM1 than HotSpot's default: no TIM2
        tim1, tim2 = tim1 + tim2, 0.0
    return LayerStack(
        (
            replace(si, r_below_k_mm2_per_w=tim1),
            replace(spreader, r_below_k_mm2_per_w=tim2),
            Layer("sink", sink_thickness_mm, k_sink_w_per_mk, vertical_resistance=False),
        )
    )


# ---------------------------------------------------------------------------------------
# floorplan -> cell maps
# ---------------------------------------------------------------------------------------


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

    Returns
    -------
    ox, oy : ndarray, shapes (n_blocks, nx) and (n_blocks, ny)
        The overlap area of block b with cell (j, i) is ``oy[b, j] * ox[b, i]``.
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


# ---------------------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------------------


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
        return self.temps_c.shape  # type: ignore[return-value]


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
        return len(self.peak_c)

    def result(
        self,
        i: int,
        floorplan: Floorplan | FloorplanLayout | None = None,
        *,
        width_mm: float | None = None,
        height_mm: float | None = None,
    ) -> GridResult:
        """The i-th design as a :class:`GridResult`.

        With its floorplan the result carries per-block temperatures and can be plotted
        (:func:`dse.plotting_thermal.plot_thermal_map`); without one, give the die size.
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


# ---------------------------------------------------------------------------------------
# sparse network (any stack)
# ---------------------------------------------------------------------------------------


def _graded(band_mm: float, h0_mm: float, growth: float) -> np.ndarray:
    """Cell widths covering ``band_mm``, starting near ``h0_mm`` and growing geometrically."""
    if band_mm <= 1e-12:
        return np.zeros(0)
    n = max(1, math.ceil(math.log1p(band_mm * (growth - 1.0) / h0_mm) / math.log(growth)))
    w = h0_mm * growth ** np.arange(n)
    return w * band_mm / w.sum()


def _axis_edges(die_mm: float, n: int, sides: list[float], growth: float) -> tuple[np.ndarray, int]:
    """Global cell edges along one axis (die cells uniform, graded outside) and die offset."""
    h0 = die_mm / n
    die = np.linspace(0.0, die_mm, n + 1)
    outer: list[np.ndarray] = []
    prev = die_mm
    for s in sorted(set(sides)):
        if s <= prev + 1e-12:
            continue
        outer.append(_graded(0.5 * (s - prev), h0, growth))
        prev = s
    widths_out = np.concatenate(outer) if outer else np.zeros(0)
    left = die[0] - np.cumsum(widths_out)[::-1]
    right = die[-1] + np.cumsum(widths_out)
    return np.concatenate([left, die, right]), len(widths_out)


class ThermalGrid:
    """The conductance network of one die geometry, assembled once, solved many times.

    Parameters
    ----------
    width_mm, height_mm : float
        Die size [mm].
    nx, ny : int
        Cells across the die in x and y (``ny`` defaults to ``nx``).
    stack : LayerStack, optional
        Layers below the junction (default :func:`hotspot_stack`).
    r_sink_k_per_w : float
        Sink-base-to-ambient resistance of the whole sink [K/W], distributed over the
        last layer's area.
    growth : float, default 1.5
        Growth factor of the graded cells outside the die (layers wider than the die).

    Attributes
    ----------
    conductance : scipy.sparse.csr_matrix
        Symmetric conductance matrix G [W/K] including the ambient conductances on the
        diagonal; ``G theta = q`` with ``theta`` the rise above ambient.
    g_ambient_w_per_k : ndarray
        Conductance of every node to ambient [W/K].
    die_nodes : ndarray, shape (ny, nx)
        Node index of every die (junction) cell.

    Notes
    -----
    Finite-volume network on a tensor-product grid: lateral conductance between cells i
    and i+1 of layer l is k_l t_l dy_j / ((dx_i + dx_{i+1})/2); vertical conductance
    between layer l and l+1 is A_ij / R''_l with R''_l = t_l/k_l + R''_interface;
    convection A_ij / (R''_L + r_sink A_L) from every cell of the last layer (area A_L).
    """

    def __init__(
        self,
        width_mm: float,
        height_mm: float,
        nx: int = 16,
        ny: int | None = None,
        stack: LayerStack | None = None,
        *,
        r_sink_k_per_w: float,
        growth: float = 1.5,
    ) -> None:
        ny = nx if ny is None else ny
        if not (width_mm > 0.0 and height_mm > 0.0):
            raise ValueError("die width and height must be > 0")
        if int(nx) != nx or int(ny) != ny or nx < 1 or ny < 1:
            raise ValueError("nx and ny must be integers >= 1")
        if not (r_sink_k_per_w >= 0.0 and math.isfinite(r_sink_k_per_w)):
            raise ValueError("r_sink_k_per_w must be finite and >= 0")
        self.width_mm, self.height_mm = float(width_mm), float(height_mm)
        self.nx, self.ny = int(nx), int(ny)
        self.stack = stack if stack is not None else hotspot_stack()
        self.r_sink_k_per_w = float(r_sink_k_per_w)
        layers = self.stack.expanded()
        sides = [la.side_mm for la in layers if la.side_mm is not None]
        for s in sides:
            if s < max(width_mm, height_mm) - 1e-9:
                raise ValueError(f"layer side {s} mm is smaller than the die")
        xe, ox = _axis_edges(self.width_mm, self.nx, sides, growth)
        ye, oy = _axis_edges(self.height_mm, self.ny, sides, growth)
        self.x_edges_mm, self.y_edges_mm = xe, ye
        dx, dy = np.diff(xe), np.diff(ye)
        xc, yc = 0.5 * (xe[1:] + xe[:-1]), 0.5 * (ye[1:] + ye[:-1])
        area = dy[:, None] * dx[None, :]  # mm2
        cx, cy = 0.5 * self.width_mm, 0.5 * self.height_mm
        die_mask = np.zeros(area.shape, dtype=bool)
        die_mask[oy : oy + self.ny, ox : ox + self.nx] = True

        masks, index = [], []
        n_nodes = 0
        for la in layers:
            if la.side_mm is None:
                m = die_mask
            else:
                h = 0.5 * la.side_mm
                m = (np.abs(xc - cx)[None, :] <= h + 1e-9) & (np.abs(yc - cy)[:, None] <= h + 1e-9)
            idx = np.full(area.shape, -1, dtype=np.int64)
            idx[m] = n_nodes + np.arange(int(m.sum()))
            n_nodes += int(m.sum())
            masks.append(m)
            index.append(idx)

        rows: list[np.ndarray] = []
        cols: list[np.ndarray] = []
        vals: list[np.ndarray] = []

        def couple(a: np.ndarray, b: np.ndarray, g: np.ndarray) -> None:
            ok = (a >= 0) & (b >= 0)
            rows.append(a[ok])
            cols.append(b[ok])
            vals.append(g[ok])

        g_amb = np.zeros(n_nodes)
        for li, la in enumerate(layers):
            idx = index[li]
            sigma = la.sheet_conductance_w_per_k
            gx = sigma * dy[:, None] / (0.5 * (dx[:-1] + dx[1:]))[None, :]
            couple(idx[:, :-1], idx[:, 1:], np.broadcast_to(gx, idx[:, :-1].shape))
            gy = sigma * dx[None, :] / (0.5 * (dy[:-1] + dy[1:]))[:, None]
            couple(idx[:-1, :], idx[1:, :], np.broadcast_to(gy, idx[:-1, :].shape))
            r_v = la.r_vertical_k_mm2_per_w
            if li + 1 < len(layers):
                couple(idx, index[li + 1], area / r_v)
            else:
                a_last = float(area[masks[li]].sum())
                g = area / (r_v + self.r_sink_k_per_w * a_last)
                g_amb[idx[masks[li]]] = g[masks[li]]
        r = np.concatenate(rows)
        c = np.concatenate(cols)
        v = np.concatenate(vals)
        off = sp.coo_matrix(
            (np.concatenate([-v, -v]), (np.concatenate([r, c]), np.concatenate([c, r]))),
            shape=(n_nodes, n_nodes),
        ).tocsr()
        diag = -np.asarray(off.sum(axis=1)).ravel() + g_amb
        self.conductance = (off + sp.diags(diag)).tocsc()
        self.g_ambient_w_per_k = g_amb
        self.die_nodes = index[0][oy : oy + self.ny, ox : ox + self.nx].copy()
        self.n_nodes = n_nodes
        self._node_index = index
        self._die_offset = (oy, ox)
        self._lu: Any = None

    # -- linear solves ------------------------------------------------------------------

    def _factor(self, matrix: sp.spmatrix) -> Any:
        return spla.splu(
            sp.csc_matrix(matrix),
            permc_spec="MMD_AT_PLUS_A",
            diag_pivot_thresh=0.0,
            options={"SymmetricMode": True},
        )

    def _rhs(self, power_w: np.ndarray) -> np.ndarray:
        q = np.zeros((self.n_nodes,) + power_w.shape[2:])
        q[self.die_nodes.ravel()] = power_w.reshape((self.ny * self.nx,) + power_w.shape[2:])
        return q

    def solve_linear(self, power_w: np.ndarray) -> np.ndarray:
        """Junction temperature rise above ambient for power maps, no leakage [K].

        Parameters
        ----------
        power_w : ndarray, shape (ny, nx) or (ny, nx, k)
            Power per die cell [W]; a third axis solves k maps with one factorisation.

        Returns
        -------
        ndarray, same shape as ``power_w``
        """
        p = np.asarray(power_w, dtype=float)
        if p.shape[:2] != (self.ny, self.nx):
            raise ValueError(f"power map must have shape ({self.ny}, {self.nx}, ...)")
        if self._lu is None:
            self._lu = self._factor(self.conductance)
        theta = self._lu.solve(self._rhs(p))
        return theta[self.die_nodes.ravel()].reshape(p.shape)

    def node_rise_k(self, power_w: np.ndarray) -> np.ndarray:
        """Temperature rise of every node (all layers) for one power map, no leakage [K]."""
        if self._lu is None:
            self._lu = self._factor(self.conductance)
        return self._lu.solve(self._rhs(np.asarray(power_w, dtype=float)))

    def layer_map(self, node_values: np.ndarray, layer: int) -> np.ndarray:
        """Values of one (expanded) layer on the global grid, NaN outside the layer."""
        idx = self._node_index[layer]
        out = np.full(idx.shape, np.nan)
        out[idx >= 0] = node_values[idx[idx >= 0]]
        return out

    # -- nonlinear (leakage) solve --------------------------------------------------------

    def solve(
        self,
        power_w: np.ndarray,
        leakage_w_ref: np.ndarray | None = None,
        *,
        ambient_c: float,
        ref_temp_c: float = 85.0,
        beta_per_k: float = 0.036,
        tol_k: float = 1e-6,
        max_iter: int = 50,
    ) -> GridResult:
        """Steady state with the leakage-temperature feedback (Newton, monotone).

        Parameters
        ----------
        power_w : ndarray, shape (ny, nx)
            Temperature-independent power per die cell [W].
        leakage_w_ref : ndarray, shape (ny, nx), optional
            Leakage per cell at ``ref_temp_c`` [W] (voltage-scaled).
        ambient_c : float
            Ambient / coolant temperature [degC].
        ref_temp_c : float, default 85
            Reference temperature of ``leakage_w_ref`` [degC].
        beta_per_k : float, default 0.036
            Leakage temperature coefficient [1/K] (HotSpot).
        tol_k : float
            Convergence: largest Newton update below this [K].
        max_iter : int
            Iterations before giving up (reported as runaway).

        Returns
        -------
        GridResult

        Notes
        -----
        F(theta) = G theta - p - L(theta), L_i = l_i exp(beta (T_a + theta_i - T_ref)).
        F is concave and G an M-matrix, so Newton from theta = 0 (F <= 0) increases
        monotonically to the lowest root; the Jacobian G - diag(L') loses positive
        definiteness (a non-positive pivot of its symmetric LU) only if no root exists
        above the iterate: thermal runaway. The Jacobian is refactored only when an
        update shrinks by less than 10x (a chord method: an older, cooler Jacobian
        dominates the current one, so monotonicity and the runaway test still hold).
        """
        p = np.asarray(power_w, dtype=float)
        if p.shape != (self.ny, self.nx):
            raise ValueError(f"power map must have shape ({self.ny}, {self.nx})")
        leak = None if leakage_w_ref is None else np.asarray(leakage_w_ref, dtype=float)
        if leak is not None and not leak.any():
            leak = None
        if leak is None:
            theta = self.solve_linear(p)
            return self._result(theta, p, 0.0, False, 1, ambient_c)
        ld = leak.ravel()
        nodes = self.die_nodes.ravel()
        theta = np.zeros(self.n_nodes)
        base = self._rhs(p).ravel()
        shift = ambient_c - ref_temp_c
        runaway, it, lu, d_f, last_step, slow = True, 0, None, None, np.inf, True
        with np.errstate(over="ignore", invalid="ignore"):
            for k in range(1, max_iter + 1):
                it = k
                lk = ld * np.exp(beta_per_k * (theta[nodes] + shift))
                d = beta_per_k * lk
                if lu is None or slow:
                    # (re)factor the Jacobian at the current iterate
                    jac = self.conductance - sp.csc_matrix(
                        (d, (nodes, nodes)), shape=(self.n_nodes, self.n_nodes)
                    )
                    try:
                        lu = self._factor(jac)
                    except RuntimeError:  # exactly singular Jacobian: at the fold
                        break
                    if not np.all(lu.U.diagonal() > 0.0):
                        break
                    d_f = d
                rhs = base.copy()
                rhs[nodes] += lk - d_f * theta[nodes]
                new = lu.solve(rhs)
                step = float(np.max(np.abs(new - theta)))
                theta = new
                if not np.all(np.isfinite(theta)) or theta.max() > _RUNAWAY_RISE_K:
                    break
                if step < tol_k:
                    runaway = False
                    break
                slow = step > 0.1 * last_step
                last_step = step
        die = theta[nodes].reshape(self.ny, self.nx)
        die = np.where(np.isfinite(die), die, _RUNAWAY_RISE_K)
        with np.errstate(over="ignore"):
            leak_w = float(np.sum(leak * np.exp(beta_per_k * (die + shift))))
        return self._result(die, p, leak_w, runaway, it, ambient_c)

    def _result(
        self, theta: np.ndarray, p: np.ndarray, leak_w: float, runaway: bool, it: int, amb: float
    ) -> GridResult:
        t = amb + theta
        return GridResult(
            temps_c=t,
            peak_c=float(t.max()),
            mean_c=float(t.mean()),
            leakage_w=leak_w,
            power_w=float(p.sum()),
            runaway=bool(runaway),
            iterations=int(it),
            width_mm=self.width_mm,
            height_mm=self.height_mm,
        )


# ---------------------------------------------------------------------------------------
# spectral (DCT) solver: many designs, footprint-only stacks
# ---------------------------------------------------------------------------------------


def _die_admittance(
    width_mm: np.ndarray,
    height_mm: np.ndarray,
    nx: int,
    ny: int,
    layers: Sequence[Layer],
    r_sink_k_per_w: np.ndarray,
) -> np.ndarray:
    """Admittance of the die node of every DCT mode [W/K], shape (B, ny, nx).

    Notes
    -----
    Per mode (m, n) the network is a ladder: each layer node has the lateral admittance
    sigma_l (dy/dx 4 sin^2(pi m / 2 nx) + dx/dy 4 sin^2(pi n / 2 ny)) to ground, layers
    are joined by A_cell / R''_l and the last one goes to ambient through
    1 / (R''_L / A_cell + nx ny r_sink). Folding the ladder from the bottom gives Y_0.
    """
    w = np.asarray(width_mm, dtype=float)[:, None, None]
    h = np.asarray(height_mm, dtype=float)[:, None, None]
    rs = np.asarray(r_sink_k_per_w, dtype=float)[:, None, None]
    dx, dy = w / nx, h / ny
    a_cell = dx * dy
    lam_x = (4.0 * np.sin(0.5 * np.pi * np.arange(nx) / nx) ** 2)[None, None, :]
    lam_y = (4.0 * np.sin(0.5 * np.pi * np.arange(ny) / ny) ** 2)[None, :, None]
    lateral = dy / dx * lam_x + dx / dy * lam_y  # (B, ny, nx), per unit sheet conductance
    last = layers[-1]
    with np.errstate(divide="ignore"):  # r = 0: an isothermal base (infinite admittance)
        y = last.sheet_conductance_w_per_k * lateral + 1.0 / (
            last.r_vertical_k_mm2_per_w / a_cell + nx * ny * rs
        )
        for la in reversed(layers[:-1]):
            gz = a_cell / la.r_vertical_k_mm2_per_w
            y = la.sheet_conductance_w_per_k * lateral + gz / (1.0 + gz / y)
    return y


def solve_grid_batch(
    width_mm: Any,
    height_mm: Any,
    power_w: np.ndarray,
    leakage_w_ref: np.ndarray | None = None,
    *,
    r_sink_k_per_w: Any,
    ambient_c: Any,
    stack: LayerStack | None = None,
    ref_temp_c: float = 85.0,
    beta_per_k: float = 0.036,
    tol_k: float = 1e-6,
    max_iter: int = 100,
    chunk: int = 512,
) -> BatchGridResult:
    """Solve many designs on an ``ny x nx`` grid at once (spectral, vectorised).

    Parameters
    ----------
    width_mm, height_mm : array_like, shape (B,)
        Die sizes [mm] (every design may differ; the grid shape is shared).
    power_w : ndarray, shape (B, ny, nx)
        Temperature-independent power per cell [W].
    leakage_w_ref : ndarray, shape (B, ny, nx), optional
        Leakage per cell at ``ref_temp_c`` [W].
    r_sink_k_per_w, ambient_c : array_like, shape (B,) or scalar
        Sink resistance [K/W] and ambient [degC] per design.
    stack : LayerStack, optional
        Must have every layer on the die footprint (default :func:`hotspot_stack`).
    ref_temp_c, beta_per_k : float
        Leakage reference temperature [degC] and coefficient [1/K].
    tol_k, max_iter : float, int
        Convergence tolerance on the update [K]; iterations before declaring runaway.
    chunk : int
        Designs per vectorised block (memory).

    Returns
    -------
    BatchGridResult

    Notes
    -----
    The die-layer response to a power map is theta = C^T diag(1 / Y) C q with C the
    orthonormal 2-D DCT-II and Y the mode admittances (:func:`_die_admittance`): exact
    for the finite-volume network of :class:`ThermalGrid`. Leakage uses the Newton-like
    iteration theta <- (G - c I_die)^(-1) (p + L(theta) - c theta) with the scalar
    c = min_i L_i'(theta) <= every diagonal of the true Jacobian: the shifted operator is
    still diagonal in the DCT basis, the iterates rise monotonically to the lowest fixed
    point (Ortega & Rheinboldt 13.4), and a non-positive shifted admittance (Y_00 <= c)
    proves runaway.
    """
    p = np.asarray(power_w, dtype=float)
    if p.ndim != 3:
        raise ValueError("power_w must have shape (B, ny, nx)")
    nb, ny, nx = p.shape
    stack = stack if stack is not None else hotspot_stack()
    if not stack.footprint_only:
        raise ValueError("solve_grid_batch needs a stack whose layers all have the die footprint")
    layers = stack.expanded()
    w = np.broadcast_to(np.asarray(width_mm, dtype=float), (nb,))
    h = np.broadcast_to(np.asarray(height_mm, dtype=float), (nb,))
    rs = np.broadcast_to(np.asarray(r_sink_k_per_w, dtype=float), (nb,))
    amb = np.broadcast_to(np.asarray(ambient_c, dtype=float), (nb,))
    leak = None if leakage_w_ref is None else np.asarray(leakage_w_ref, dtype=float)
    if leak is not None and leak.shape != p.shape:
        raise ValueError("leakage_w_ref must have the shape of power_w")

    temps = np.empty_like(p)
    leak_w = np.zeros(nb)
    runaway = np.zeros(nb, dtype=bool)
    iters = np.ones(nb, dtype=np.int64)
    for a in range(0, nb, chunk):
        b = min(nb, a + chunk)
        y = _die_admittance(w[a:b], h[a:b], nx, ny, layers, rs[a:b])
        pc = p[a:b]
        if leak is None or not leak[a:b].any():
            theta = fft.idctn(
                fft.dctn(pc, type=2, norm="ortho", axes=(1, 2)) / y,
                type=2,
                norm="ortho",
                axes=(1, 2),
            )
            temps[a:b] = amb[a:b, None, None] + theta
            continue
        lc = leak[a:b]
        theta, lw, ra, it = _leakage_iteration(
            pc, lc, y, amb[a:b] - ref_temp_c, beta_per_k, tol_k, max_iter
        )
        temps[a:b] = amb[a:b, None, None] + theta
        leak_w[a:b], runaway[a:b], iters[a:b] = lw, ra, it
    return BatchGridResult(
        temps_c=temps,
        peak_c=temps.max(axis=(1, 2)),
        mean_c=temps.mean(axis=(1, 2)),
        leakage_w=leak_w,
        power_w=p.sum(axis=(1, 2)),
        runaway=runaway,
        iterations=iters,
    )


def _leakage_iteration(
    p: np.ndarray,
    leak: np.ndarray,
    y: np.ndarray,
    shift_k: np.ndarray,
    beta: float,
    tol_k: float,
    max_iter: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Monotone shifted-Newton iteration of :func:`solve_grid_batch` on one chunk."""
    nb = p.shape[0]
    theta = np.zeros_like(p)
    runaway = np.zeros(nb, dtype=bool)
    iters = np.zeros(nb, dtype=np.int64)
    active = np.arange(nb)
    y00 = y[:, 0, 0]
    with np.errstate(over="ignore", invalid="ignore"):
        for it in range(1, max_iter + 1):
            th = theta[active]
            lk = leak[active] * np.exp(beta * (th + shift_k[active, None, None]))
            c = beta * lk.min(axis=(1, 2))
            bad = ~(y00[active] - c > 0.0) | ~np.isfinite(c)
            rhs = p[active] + lk - c[:, None, None] * th
            new = fft.idctn(
                fft.dctn(rhs, type=2, norm="ortho", axes=(1, 2)) / (y[active] - c[:, None, None]),
                type=2,
                norm="ortho",
                axes=(1, 2),
            )
            step = np.max(np.abs(new - th), axis=(1, 2))
            bad |= ~np.isfinite(step) | (new.max(axis=(1, 2)) > _RUNAWAY_RISE_K)
            good = ~bad
            theta[active[good]] = new[good]
            iters[active] = it
            runaway[active[bad]] = True
            done = bad | (step < tol_k)
            active = active[~done]
            if active.size == 0:
                break
        runaway[active] = True  # not converged within max_iter
        leak_w = np.sum(leak * np.exp(beta * (theta + shift_k[:, None, None])), axis=(1, 2))
    return theta, leak_w, runaway, iters


# ---------------------------------------------------------------------------------------
# floorplan-level entry points
# ---------------------------------------------------------------------------------------


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
        Die and blocks (:func:`dse.floorplan.build_floorplan`).
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
        Grid resolution (``ny`` defaults to ``nx``; 16 for a search, 64 for a plot).
    leakage_w_per_mm2_ref : float or mapping by kind
        Leakage density at ``ref_temp_c`` [W/mm2], voltage-scaled.
    ref_temp_c, beta_per_k : float
        Leakage reference temperature [degC] and coefficient [1/K].
    method : {"auto", "spectral", "sparse"}
        Solver; "auto" = spectral when the stack allows, else sparse.
    tol_k, max_iter
        Convergence of the leakage fixed point.

    Returns
    -------
    GridResult
        With per-block peak and mean temperatures and the floorplan attached.
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
    power_by_kind_w : mapping kind -> array_like (B,)
        Dynamic power of each block kind per design [W].
    r_sink_k_per_w, ambient_c, leakage_w_per_mm2_ref : array_like (B,) or scalar
        Sink resistance [K/W], ambient [degC], uniform leakage density at ``ref_temp_c``
        [W/mm2] per design (voltage-scaled).
    Other parameters as :func:`solve_grid_batch`.

    Returns
    -------
    BatchGridResult
        ``result(i, floorplan)`` gives design i with block temperatures.
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
        Area breakdown [mm2] (:func:`dse.floorplan.build_floorplan`).
    cores, memory_count : array_like (B,)
        Core and memory-PHY counts.
    power_by_kind_w : mapping kind -> array_like (B,)
        Dynamic power of ``core``, ``sram``, ``phy`` and ``uncore`` blocks [W].
    r_sink_k_per_w, ambient_c, leakage_w_per_mm2_ref : array_like (B,) or scalar
        Sink resistance [K/W], ambient [degC], leakage density at ``ref_temp_c`` [W/mm2]
        (voltage-scaled).
    aspect, sram_layout
        Floorplan options shared by all designs.
    Other parameters as :func:`solve_grid_batch`.

    Returns
    -------
    BatchGridResult
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
    arrays = [np.atleast_1d(a) for a in arrays]
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

    Returns
    -------
    ndarray, shape (B, len(BLOCK_KINDS), ny, nx)
        Kinds in :data:`dse.floorplan.BLOCK_KINDS` order (``core, sram, phy, uncore``);
        a kind absent from a floorplan gets the uniform-die map, like
        :func:`block_powers_w`. The die mean of every map is the lumped resistance
        ``R''_1D / A + r_sink`` exactly.
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


# ---------------------------------------------------------------------------------------
# analytic reference solutions (validation)
# ---------------------------------------------------------------------------------------


def _tanhc(x: np.ndarray) -> np.ndarray:
    """tanh(x)/x with the limit 1 at 0."""
    x = np.asarray(x, dtype=float)
    small = np.abs(x) < 1e-8
    return np.where(small, 1.0 - x * x / 3.0, np.tanh(x) / np.where(small, 1.0, x))


def spreading_impedance(
    zeta_per_m: np.ndarray,
    stack: LayerStack,
    r_conv_k_m2_per_w: float,
    model: str = "3d",
) -> np.ndarray:
    """Surface impedance of a Fourier mode on the layer stack [K m2/W].

    A heat-flux mode q cos(lambda x) cos(delta y) on the junction surface raises its
    temperature by Z(zeta) q, zeta = sqrt(lambda^2 + delta^2).

    Parameters
    ----------
    zeta_per_m : array_like
        Mode wavenumber [1/m]; 0 gives the 1-D resistance R''_1D + R''_conv.
    stack : LayerStack
        The layers; interfaces are pure resistances, a layer without
        ``vertical_resistance`` conducts only laterally (k_z -> infinity).
    r_conv_k_m2_per_w : float
        Convective resistance of the base per unit area [K m2/W] (``r_sink A_die``).
    model : {"3d", "2.5d"}
        "3d": exact solution of Laplace's equation in every layer (a compound flux
        channel, Muzychka et al. 2004; layer by layer as in the transmission-line form).
        "2.5d": the continuum limit of the grid model (one node per (sub)layer at its top
        face, lateral sheet conductance k t): the grid converges to this as nx, ny grow.

    Notes
    -----
    3-D layer (k, t) over a base of impedance Z_b:
    Z = (Z_b + tanh(zeta t)/(k zeta)) / (1 + k zeta Z_b tanh(zeta t)).
    Lateral-only layer: Z = Z_b / (1 + k t zeta^2 Z_b). 2.5-D node: Z = 1 / (k t zeta^2 +
    1 / (R''_l + Z_below)).
    """
    z = np.asarray(zeta_per_m, dtype=float)
    if model == "3d":
        out = np.full(z.shape, float(r_conv_k_m2_per_w))
        for la in reversed(stack.layers):
            out = out + la.r_below_k_mm2_per_w * K_MM2_PER_W
            k, t = la.conductivity_w_per_mk, la.thickness_mm * MM
            if not la.vertical_resistance:
                out = out / (1.0 + k * t * z * z * out)
                continue
            th = np.tanh(z * t)
            out = (out + t / k * _tanhc(z * t)) / (1.0 + k * z * th * out)
        return out
    if model == "2.5d":
        layers = stack.expanded()
        out = np.full(z.shape, float(r_conv_k_m2_per_w))
        for la in reversed(layers):
            r = la.r_vertical_k_mm2_per_w * K_MM2_PER_W
            out = 1.0 / (la.sheet_conductance_w_per_k * z * z + 1.0 / (r + out))
        return out
    raise ValueError("model must be '3d' or '2.5d'")


def rectangular_sources_temperature_rise(
    x_mm: Any,
    y_mm: Any,
    width_mm: float,
    height_mm: float,
    sources: Sequence[tuple[float, float, float, float, float]],
    stack: LayerStack,
    r_sink_k_per_w: float,
    *,
    model: str = "3d",
    terms: int = 1000,
) -> np.ndarray:
    """Junction temperature rise of uniform rectangular heat sources on a die [K].

    The die (width x height, adiabatic edges) sits on the layer stack, cooled through
    ``r_sink`` spread over the die area: the rectangular flux channel of Muzychka,
    Culham & Yovanovich (2003) generalised to a layered channel.

    Parameters
    ----------
    x_mm, y_mm : array_like
        Points on the junction surface [mm] (broadcast together).
    width_mm, height_mm : float
        Die size [mm].
    sources : sequence of (x0_mm, y0_mm, w_mm, h_mm, power_w)
        Uniform-flux rectangles.
    stack : LayerStack
    r_sink_k_per_w : float
        Sink-to-ambient resistance [K/W].
    model : {"3d", "2.5d"}
        See :func:`spreading_impedance`.
    terms : int
        Fourier modes per direction (truncation error ~ 1/terms at a source).

    Returns
    -------
    ndarray
        Rise above ambient at the points [K].

    Notes
    -----
    theta(x, y) = sum_mn e_m e_n / (W H) Q_mn Z(zeta_mn) cos(m pi x/W) cos(n pi y/H) with
    Q_mn = sum_s (P_s / (w_s h_s)) int cos(m pi x/W) dx int cos(n pi y/H) dy over the
    source, e_0 = 1, e_m = 2.
    """
    W, H = width_mm * MM, height_mm * MM
    m = np.arange(terms)
    lam = m * np.pi / W
    dl = m * np.pi / H
    src = np.asarray(sources, dtype=float).reshape(-1, 5)
    x0, y0, sw, sh, pw = (src[:, i] for i in range(5))
    x0, y0, sw, sh = x0 * MM, y0 * MM, sw * MM, sh * MM

    def integral(lo: np.ndarray, width: np.ndarray, k: np.ndarray) -> np.ndarray:
        kk = k[None, :]
        safe = np.where(kk == 0.0, 1.0, kk)
        val = (np.sin(kk * (lo + width)[:, None]) - np.sin(kk * lo[:, None])) / safe
        return np.where(kk == 0.0, width[:, None], val)

    ix = integral(x0, sw, lam)  # (S, M)
    iy = integral(y0, sh, dl)  # (S, N)
    flux = pw / (sw * sh)
    eps = np.where(m == 0, 1.0, 2.0)
    q = np.einsum("s,sm,sn->mn", flux, ix, iy) * (eps[:, None] * eps[None, :]) / (W * H)
    zeta = np.sqrt(lam[:, None] ** 2 + dl[None, :] ** 2)
    coef = q * spreading_impedance(zeta, stack, r_sink_k_per_w * W * H, model)
    xs, ys = np.broadcast_arrays(
        np.asarray(x_mm, dtype=float) * MM, np.asarray(y_mm, dtype=float) * MM
    )
    cx = np.cos(lam[None, :] * xs.reshape(-1, 1))
    cy = np.cos(dl[None, :] * ys.reshape(-1, 1))
    out = np.einsum("pm,mn,pn->p", cx, coef, cy)
    return out.reshape(xs.shape)


def circular_source_temperature_rise(
    source_radius_mm: float,
    plate_radius_mm: float,
    power_w: float,
    stack: LayerStack,
    h_w_per_m2k: float,
    *,
    terms: int = 4000,
) -> tuple[float, float]:
    """Centre and source-average rise of a circular isoflux source on a disk [K].

    Exact Bessel-series solution (Yovanovich, Culham & Teertstra 1998; Lee et al. 1995):
    source radius a on a disk of radius b (adiabatic rim) over the layer stack, whose
    base is cooled with a heat-transfer coefficient h to ambient.

    Returns
    -------
    center_k, average_k : float

    Notes
    -----
    theta = q_bar Z(0) + sum_n q_n Z(delta_n / b) J0(delta_n r / b), J1(delta_n) = 0,
    q_n = 2 q eps J1(delta_n eps) / (delta_n J0(delta_n)^2), eps = a/b, q = P/(pi a^2).
    """
    a, b = source_radius_mm * MM, plate_radius_mm * MM
    eps = a / b
    q = power_w / (math.pi * a * a)
    qbar = power_w / (math.pi * b * b)
    d = special.jn_zeros(1, terms)
    z = spreading_impedance(d / b, stack, 1.0 / h_w_per_m2k, "3d")
    z0 = float(spreading_impedance(np.array(0.0), stack, 1.0 / h_w_per_m2k, "3d"))
    qn = 2.0 * q * eps * special.j1(d * eps) / (d * special.j0(d) ** 2)
    center = qbar * z0 + float(np.sum(qn * z))
    average = qbar * z0 + float(np.sum(qn * z * 2.0 * special.j1(d * eps) / (eps * d)))
    return center, average


def lee_spreading_resistance(
    source_radius_mm: float,
    plate_radius_mm: float,
    thickness_mm: float,
    conductivity_w_per_mk: float,
    h_w_per_m2k: float,
) -> tuple[float, float]:
    """Closed-form total resistance of a circular source on a cooled plate [K/W].

    Lee, Song, Au & Moran (1995): source radius a on a plate of radius b, thickness t,
    conductivity k, cooled on the far side with h.

    Returns
    -------
    r_average_k_per_w, r_max_k_per_w : float
        Total (spreading + 1-D) resistance to the source-average and to the maximum
        (centre) temperature.

    Notes
    -----
    eps = a/b, tau = t/b, Bi = h b/k, lambda = pi + 1/(sqrt(pi) eps),
    Phi = (tanh(lambda tau) + lambda/Bi) / (1 + lambda/Bi tanh(lambda tau)),
    psi_avg = (1 - eps)^1.5 Phi / 2, psi_max = eps tau / sqrt(pi) + (1 - eps) Phi / sqrt(pi),
    R_s = psi / (sqrt(pi) k a), R_1D = t / (k pi b^2) + 1 / (h pi b^2).
    """
    a, b, t = source_radius_mm * MM, plate_radius_mm * MM, thickness_mm * MM
    k, h = conductivity_w_per_mk, h_w_per_m2k
    eps, tau, bi = a / b, t / b, h * b / k
    lam = math.pi + 1.0 / (math.sqrt(math.pi) * eps)
    th = math.tanh(lam * tau)
    phi = (th + lam / bi) / (1.0 + lam / bi * th)
    psi_avg = 0.5 * (1.0 - eps) ** 1.5 * phi
    psi_max = eps * tau / math.sqrt(math.pi) + (1.0 - eps) * phi / math.sqrt(math.pi)
    r1d = t / (k * math.pi * b * b) + 1.0 / (h * math.pi * b * b)
    scale = 1.0 / (math.sqrt(math.pi) * k * a)
    return psi_avg * scale + r1d, psi_max * scale + r1d
