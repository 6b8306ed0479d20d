"""Figures of a study: Pareto fronts, the chosen design's roofline, node fronts, parallel coordinates.

Every plot is split in two:

* a *data function* (``pareto_front_data``, ``roofline_data``, ``node_fronts_data``,
  ``parallel_coords_data``) that turns stored results into a small NamedTuple of
  DataFrames and numbers, tested by value and free of matplotlib;
* a thin *renderer* (``plot_pareto_front``, ``plot_roofline``, ``plot_node_fronts``,
  ``plot_parallel_coords``) that takes that data and ``ax=None`` and returns the Axes.

matplotlib is imported inside the renderers only, so ``import dse.plots`` neither loads
nor configures matplotlib. A renderer called with ``ax=None`` makes its figure with
``matplotlib.pyplot.subplots`` (so it shows inline in a notebook); the report writer
instead builds plain :class:`matplotlib.figure.Figure` objects on the Agg canvas with
:func:`new_figure`, which never touches pyplot or the global backend.

Axis labels come from :mod:`dse.metrics` / :mod:`dse.spec`: ``"<key> [<unit>]"``.

One module per figure, each with a data function (tested by value) and a renderer taking
``ax=None`` and returning the Axes: :mod:`~dse.plots.pareto`, :mod:`~dse.plots.fronts`,
:mod:`~dse.plots.parallel`, :mod:`~dse.plots.convergence`, :mod:`~dse.plots.roofline`,
:mod:`~dse.plots.power`, :mod:`~dse.plots.lifetime`, :mod:`~dse.plots.serve`,
:mod:`~dse.plots.thermal`, :mod:`~dse.plots.tornado`, :mod:`~dse.plots.compare`; what
they share is in :mod:`~dse.plots.common`.
"""

from __future__ import annotations

from dse.plots.common import (
    DPI,
    axis_label,
    feasible_mask,
    new_figure,
    normalise_direction,
    save_figure,
    use_log_scale,
)
from dse.plots.convergence import (
    CONVERGENCE_REFERENCE,
    CONVERGENCE_TAIL,
    CONVERGENCE_TOLERANCE,
    ConvergenceData,
    convergence_data,
    plot_convergence,
)
from dse.plots.fronts import NodeFrontsData, node_fronts_data, plot_node_fronts
from dse.plots.lifetime import SERVICE_LIFE_YEARS, plot_lifetime_vs_clock
from dse.plots.parallel import (
    ParallelAxis,
    ParallelCoordsData,
    parallel_coords_data,
    plot_parallel_coords,
)
from dse.plots.pareto import (
    ParetoFrontData,
    pareto_front_data,
    pareto_fronts_figure,
    plot_pareto_front,
)
from dse.plots.power import plot_power_breakdown
from dse.plots.roofline import RooflineData, plot_roofline, roof_tflops, roofline_data
from dse.plots.serve import plot_serve_curve

__all__ = [
    "CONVERGENCE_REFERENCE",
    "CONVERGENCE_TAIL",
    "CONVERGENCE_TOLERANCE",
    "ConvergenceData",
    "DPI",
    "NodeFrontsData",
    "ParallelAxis",
    "ParallelCoordsData",
    "ParetoFrontData",
    "RooflineData",
    "SERVICE_LIFE_YEARS",
    "axis_label",
    "convergence_data",
    "feasible_mask",
    "new_figure",
    "node_fronts_data",
    "normalise_direction",
    "parallel_coords_data",
    "pareto_front_data",
    "pareto_fronts_figure",
    "plot_convergence",
    "plot_lifetime_vs_clock",
    "plot_node_fronts",
    "plot_parallel_coords",
    "plot_pareto_front",
    "plot_power_breakdown",
    "plot_roofline",
    "plot_serve_curve",
    "roof_tflops",
    "roofline_data",
    "save_figure",
    "use_log_scale",
]
