"""The search: optuna multi-objective studies and the exhaustive grid over a study's space.

:func:`run_study` drives an optuna study; :func:`grid` enumerates the space. Both
evaluate designs in vectorised batches with :func:`dse.evaluate_many`, apply the
study's constraints (:func:`evaluate_designs`) and return a :class:`StudyResult`
(DataFrames only: files are written by :mod:`dse.report`).

How `run_study` is fast *and* durable
-------------------------------------
The sampler runs on an in-memory optuna study. Each round asks a batch of trials (an
NSGA-II generation: ``population_size`` trials), evaluates them with one
``evaluate_many`` call, tells the results (the sampler's ``constraints_func`` gets the
constraint values computed for the batch), then appends the finished trials to the
durable storage in one go: one journal record per trial and one ``fsync`` per batch
(for an RDB URL, ``Study.add_trials``). A trial counts once it is in the durable
storage; a kill loses at most the batch being evaluated. On start the stored trials
are loaded into the in-memory study, so re-running the same command resumes: the
count continues to the requested total. A single-worker run stores the sampler's random
state with the last trial of each batch and a resume restores it and keeps the batches
at the same trial numbers, so with the same seed it continues with the trials of an
uninterrupted run (:func:`_rng_checkpoint`; the conditions are in docs/search.md).

``workers=N`` starts N processes (``spawn``) on the same storage, each with its own
seed (``seed + worker index``) and its share of the remaining trials, so together they
finish exactly the requested total; before each batch a worker loads the other
workers' new trials from the storage into its sampler.

Every trial carries the metrics of the model as user attributes (so optuna-dashboard
shows them), named like the CSV columns, with their unit (:func:`dse.metrics.output_name`:
``die_area_mm2``, ``yield [fraction]``, ``constraint_max_power_w [fraction of limit]``),
and its constraint values in the system attribute optuna's samplers read
(``constraints``; <= 0 feasible, names in the study user attribute
``dse:constraint_names``). The objectives are named with ``set_metric_names``.

Progress goes to stderr (``progress=False`` turns it off): a bar with the rate and the
ETA, and as postfix the feasible count, the number of Pareto-optimal designs so far and
the best feasible value of each objective; the grid shows the same per chunk.

Modules: :mod:`~dse.search.study` (the study file), :mod:`~dse.search.conditional`
(ranges that depend on a choice), :mod:`~dse.search.samplers`,
:mod:`~dse.search.storage` (journal and database; every use of optuna's private API is in
:mod:`~dse.search.optuna_private`), :mod:`~dse.search.run` (the run loop),
:mod:`~dse.search.grid`, :mod:`~dse.search.pareto`, :mod:`~dse.search.progress` and
:mod:`~dse.search.result`.
"""

from __future__ import annotations

from dse.search.grid import DEFAULT_GRID_MAX_POINTS, grid
from dse.search.result import StudyResult, evaluate_designs, pareto_front
from dse.search.run import run_study
from dse.search.samplers import DEFAULT_NSGA2_OPTIONS, make_sampler
from dse.search.study import DEFAULT_SAMPLER

__all__ = [
    "DEFAULT_GRID_MAX_POINTS",
    "DEFAULT_NSGA2_OPTIONS",
    "DEFAULT_SAMPLER",
    "StudyResult",
    "evaluate_designs",
    "grid",
    "make_sampler",
    "pareto_front",
    "run_study",
]
