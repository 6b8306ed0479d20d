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
``R''_1D`` equals the lumped model's ``r_package_k_mm2_per_w`` (:mod:`dse.model.thermal`):
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

Modules
-------
``stack`` the layers; ``maps`` floorplan to cell maps; ``results`` the solution records;
``sparse`` the sparse network (:class:`ThermalGrid`); ``spectral`` the DCT solver
(:func:`solve_grid_batch`); ``solve`` the floorplan-level entry points; ``throttling`` the
rise per watt of each block kind; ``reference`` the analytic reference solutions. Every
name is importable from ``dse.model.thermal_grid``.
"""

from __future__ import annotations

from dse.model.thermal_grid.maps import (
    block_overlap_mm,
    block_powers_w,
    kind_power_maps,
    leakage_map_w,
    power_map_w,
)
from dse.model.thermal_grid.reference import (
    circular_source_temperature_rise,
    lee_spreading_resistance,
    rectangular_sources_temperature_rise,
    spreading_impedance,
)
from dse.model.thermal_grid.results import (
    BatchGridResult,
    GridResult,
)
from dse.model.thermal_grid.solve import (
    solve_designs_batch,
    solve_floorplan,
    solve_floorplan_batch,
)
from dse.model.thermal_grid.sparse import ThermalGrid
from dse.model.thermal_grid.spectral import solve_grid_batch
from dse.model.thermal_grid.stack import (  # noqa: F401 (not in __all__, importable as before)
    K_MM2_PER_W,
    MM,
    Layer,
    LayerStack,
    hotspot_stack,
)
from dse.model.thermal_grid.throttling import kind_responses_k_per_w

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
