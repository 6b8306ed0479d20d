"""Outputs of a study: Pareto and trial CSVs, a Markdown summary and PNG plots.

:func:`write_outputs` turns a stored study result (``dse.search.StudyResult``: the
study configuration, the ``designs`` of every trial or grid point and the ``pareto``
rows) into the output files of a study (docs/search.md, "Outputs"). It reads results only: it never runs the
search, never imports optuna, and evaluates the model once, for the roofline of the
chosen design. Column headers carry units (:func:`dse.metrics.column_name`).

Files written into ``out_dir``:

``pareto.csv``
    The feasible non-dominated designs: ``trial``, every chip key, every metric,
    ``pareto_rank`` and ``crowding_distance``.
``trials.csv``
    Every trial / grid point, up to :data:`TRIALS_CSV_MAX_ROWS` rows. A larger grid is
    reduced to: every Pareto row, then every other feasible row, then infeasible rows,
    the last tier that does not fit being a seeded uniform sample; ``summary.md`` says
    so. (A million rows is ~0.3 GB of CSV; the exact front is in ``pareto.csv``.) The
    grid search itself already keeps a bounded sample of its points in ``designs``
    (``dse.search.GRID_KEEP_ROWS``); the summary then reports the search's own counts.
``summary.md``
    The study, the counts, the chosen design, the best design per objective, what made
    designs infeasible and which limits bind at the best designs.
``pareto.csv.meta.json``, ``trials.csv.meta.json``
    A sidecar per CSV (:func:`csv_metadata`): the dse version, the time it was written,
    the command line and an equivalent ``dse`` command to rerun it, the study file with
    its SHA-256 and its whole configuration, scenario, seed, sampler, trial count,
    workload, storage, and the Python / numpy / pandas / scipy / optuna versions; so a
    CSV found later can be traced and rerun. (A ``#`` comment header would break naive
    CSV readers, hence the sidecar.)
``pareto_fronts.png``, ``roofline.png``, ``thermal_map.png``, ``node_fronts.png``, ``parallel_coordinates.png``
    See :mod:`dse.plots`.
``convergence.png``
    An optuna search only: the feasible front's hypervolume against trials, relative to
    the best-known front (:func:`convergence_of`); ``summary.md`` tabulates it and warns
    when the last 20 % of the trials still moved it by more than 1 %.

Column names carry their unit (:func:`output_name`); the same names label the metrics
stored as optuna trial user attributes, so optuna-dashboard and the CSVs agree.

Modules: :mod:`~dse.report.choice` (the recommended design), :mod:`~dse.report.tables`
(trials, violations, binding limits), :mod:`~dse.report.summary` (``summary.md``),
:mod:`~dse.report.metadata` (provenance of every CSV), :mod:`~dse.report.figures`,
:mod:`~dse.report.category_fronts`, :mod:`~dse.report.csv_notes`,
:mod:`~dse.report.html` (``report.html``) and :mod:`~dse.report.write`.
"""

from __future__ import annotations

from dse.report.choice import choose_design
from dse.report.figures import chip_from_row
from dse.report.metadata import METADATA_SUFFIX, csv_metadata, read_csv_metadata, rerun_command
from dse.report.summary import convergence_of, summary_markdown
from dse.report.tables import (
    NEAR_BINDING,
    TRIALS_CSV_MAX_ROWS,
    binding_constraints,
    trials_for_csv,
    violation_category,
    violation_counts,
)
from dse.report.write import write_outputs, write_result

__all__ = [
    "METADATA_SUFFIX",
    "NEAR_BINDING",
    "TRIALS_CSV_MAX_ROWS",
    "binding_constraints",
    "chip_from_row",
    "choose_design",
    "convergence_of",
    "csv_metadata",
    "read_csv_metadata",
    "rerun_command",
    "summary_markdown",
    "trials_for_csv",
    "violation_category",
    "violation_counts",
    "write_outputs",
    "write_result",
]
