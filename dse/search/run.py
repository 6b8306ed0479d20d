"""The run loop of a study: workers asking the sampler for batches of designs, evaluating them with the chain and telling optuna the objectives and constraints; ``run_study`` resumes a study from its storage."""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import sys
import time
import uuid
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dse.errors import DseInputError, close_match_hint
from dse.metrics import output_name
from dse.search import conditional, optuna_private
from dse.search.progress import _Progress
from dse.search.result import (
    StudyResult,
    _designs_from_trials,
    _objective_values,
    _order_columns,
    design_features,
    design_infeasible,
    evaluate_designs,
    pareto_front,
)
from dse.search.samplers import _batch_size, _options, make_sampler
from dse.search.storage import (
    _ORIGIN,
    _check_journal,
    _Durable,
    _is_journal,
    _journal_lock,
    _jsonable,
    _storage_spec,
)
from dse.search.study import SAMPLERS, StudyConfig, load_study

#: system attribute of the last trial of each batch a single-worker run stores: the
#: sampler's random state after that batch (:func:`_rng_checkpoint`)
_RNG_ATTR = "dse:sampler_rng"
_POLL_S = 0.25


@contextlib.contextmanager
def _quiet_optuna():
    import optuna

    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        try:
            yield
        finally:
            optuna.logging.set_verbosity(level)


def _worker_seed(seed: int, index: int, completed: int) -> int:
    # a fresh run uses seed + index; a resumed one also mixes in the count, so a
    # resumed random sampler does not replay the first run's points (a single-worker
    # run that finds its sampler's state in the storage continues from that instead)
    return int(seed + index + 1_000_003 * completed) % (2**32)


def _rng_tag(config: StudyConfig, sampler_name: str, seed: int) -> str:
    """What a stored sampler state belongs to: the sampler, its options and the run's
    seed (a resume with another seed, sampler or options starts a stream of its own)."""
    import json

    return json.dumps([sampler_name, int(seed), _options(config, sampler_name)], sort_keys=True, default=str)


def _rng_checkpoint(sampler: Any, tag: str) -> dict[str, Any]:
    """The sampler's random state after a batch, stored with the batch's last trial."""
    return {"tag": tag, "state": optuna_private.sampler_rng_state(sampler)}


def _restore_rng(sampler: Any, trial: Any, tag: str) -> bool:
    """Continue the random stream of the run that stored ``trial`` (the storage's last
    trial), if it stored its sampler's state under the same tag."""
    saved = trial.system_attrs.get(_RNG_ATTR)
    if not isinstance(saved, dict) or saved.get("tag") != tag:
        return False
    return optuna_private.set_sampler_rng_state(sampler, saved.get("state"))


def _next_batch(batch: int, left: int, durable: _Durable | None, target: int, aligned: bool) -> int:
    """Trials of the next batch: the sampler's batch, within this worker's quota and the
    study's target; ``aligned``, ending where an uninterrupted run's batch ends."""
    if durable is None:
        return min(batch, left)
    b = min(batch, left, target - durable.n_stored)
    if aligned:
        b = min(b, batch - durable.n_stored % batch)
    return b


def _frozen_trials(
    mem: Any, trials: list[Any], records: list[dict[str, Any]], attr_names: dict[str, str],
    cons: np.ndarray, worker: str, rng_state: dict[str, Any] | None,
) -> list[Any]:
    """The told trials of a batch as the storage keeps them: metrics as user attributes
    named with their units, the constraints, the worker, and (``rng_state``) the
    sampler's random state on the batch's last trial."""
    import optuna

    told = [optuna_private.stored_trial(mem, t) for t in trials]
    frozen = []
    for i, t in enumerate(told):
        ua = {attr_names[k]: _jsonable(v) for k, v in records[i].items()}
        sa = dict(t.system_attrs)
        sa[optuna_private.CONSTRAINTS_ATTR] = [float(c) for c in cons[i]]
        sa[_ORIGIN] = worker
        if rng_state is not None and i == len(told) - 1:
            sa[_RNG_ATTR] = rng_state
        frozen.append(
            optuna.trial.FrozenTrial(
                number=-1,
                trial_id=-1,
                state=t.state,
                value=None,
                values=t.values,
                datetime_start=t.datetime_start,
                datetime_complete=t.datetime_complete,
                params=t.params,
                distributions=t.distributions,
                user_attrs=ua,
                system_attrs=sa,
                intermediate_values={},
            )
        )
    return frozen


class _DesignCheck:
    """``check(params) -> bool array``: which designs (optuna parameters) break a limit
    their keys decide without running the workload, memory too small for the model
    included (:func:`design_infeasible`).

    ``constraint_columns`` are the positions in ``config.constraint_names`` of the
    constraints it decides whole (the beachfront, bounds on metrics that need no
    workload, export classes, memory supply caps): a sampler that proposes only designs
    the check allows has nothing to learn about them.
    """

    def __init__(self, config: StudyConfig, dists: dict[str, Any], tech: Any) -> None:
        from dse.metrics import METRICS

        self.config, self.tech = config, tech
        self.single = {
            n: (d.choices[0] if hasattr(d, "choices") else d.low)
            for n, d in dists.items()
            if d.single()
        }
        design_only = {
            k for k, _, m, _ in config.bounds if m in METRICS and not METRICS[m].needs_workload
        }
        design_only |= {"beachfront", "export_class", "memory_count_max"}
        self.constraint_columns = tuple(
            i for i, n in enumerate(config.constraint_names) if n in design_only
        )

    def _columns(self, params: list[dict[str, Any]]) -> dict[str, list[Any]]:
        """The designs as columns of the study's keys (NaN where a design has no value,
        as in a frame of them): a few designs a call, so no DataFrame."""
        cfg = self.config
        rows = [
            conditional.design_params(cfg.space, cfg.conditions, {**self.single, **p})
            for p in params
        ]
        return {key: [r.get(key, np.nan) for r in rows] for key in cfg.space}

    def __call__(self, params: list[dict[str, Any]]) -> np.ndarray:
        return design_infeasible(self.config, self._columns(params), tech=self.tech)

    def features(self, params: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
        """Which designs the check rules out, and their workload-free features
        (:func:`dse.search.result.design_features`)."""
        return design_features(self.config, self._columns(params), tech=self.tech)


def _loop(
    config: StudyConfig,
    durable: _Durable | None,
    *,
    target: int,
    quota: int,
    seed: int,
    sampler_name: str,
    worker: str,
    evaluate: Callable[..., pd.DataFrame] | None,
    progress: Callable[[int, np.ndarray, np.ndarray], None] | None,
    frames: list[pd.DataFrame] | None = None,
    state: dict[str, Any] | None = None,
    checkpoint: str | None = None,
) -> int:
    """Ask/evaluate/tell/persist batches until this worker's quota is done.

    Before each batch the other writers' new trials are loaded into the sampler (on a
    journal only when it grew); the loop stops when the storage holds ``target``
    trials, whoever wrote them. The evaluated batches are collected in ``frames`` with
    their storage trial numbers (valid while ``durable.shared`` is False: nobody else
    wrote), and ``state["old"]`` holds the trials stored before.
    ``progress(n, objective_values, feasible)`` is called after each batch.

    With ``checkpoint`` (a tag from :func:`_rng_tag`; single-worker runs) the loop
    continues the run that stored the last trial: the sampler's random state stored
    with that trial is restored when its tag matches, batches end at multiples of the
    batch size counted from trial 0 (the batches of an uninterrupted run), and the last
    trial of each stored batch carries the state after it.
    """
    import optuna

    pending: dict[int, tuple[float, ...]] = {}

    def constraints_func(trial: Any) -> tuple[float, ...]:
        return pending.pop(trial.number)

    dists = conditional.distributions(config.space, config.conditions)
    tech = config.load_tech()
    sampler = make_sampler(
        sampler_name,
        seed=seed,
        constraints_func=constraints_func,
        options=_options(config, sampler_name),
        design_check=_DesignCheck(config, dists, tech) if evaluate is None else None,
    )
    mem = optuna.create_study(directions=config.directions, sampler=sampler)
    batch = _batch_size(config, sampler_name)
    metric_cols: list[str] | None = None
    attr_names: dict[str, str] = {}
    done = 0
    base = 0
    head: list[Any] = []  # stored trials of an unfinished batch (checkpoint: evaluated again)
    if durable is not None:
        durable.worker = worker
        old = durable.load()
        if old:
            mem.add_trials(old)
            if checkpoint is not None:
                _restore_rng(sampler, old[-1], checkpoint)
                head = old[len(old) - len(old) % batch :]
        base = durable.n_seen
        if state is not None:
            state["old"] = old
    while done < quota:
        if durable is not None and done:
            others = durable.take_others()
            if others:
                mem.add_trials(others)
        b = _next_batch(batch, quota - done, durable, target, aligned=checkpoint is not None)
        if b <= 0:
            break
        trials = [mem.ask(dists) for _ in range(b)]
        params = pd.DataFrame(
            [conditional.design_params(config.space, config.conditions, t.params) for t in head + trials],
            columns=list(config.space),
        )
        # the batch's stored trials (a resume inside a batch) go first, so each new design
        # sits where the uninterrupted run evaluated it (numpy's vectorised maths can round
        # the last bit differently at another position of a batch)
        out = evaluate_designs(config, params, evaluate=evaluate, tech=tech)
        out = out.iloc[len(head) :].reset_index(drop=True)
        head = []
        if metric_cols is None:
            metric_cols = [
                c for c in out.columns if c not in config.space and c not in config.fixed
            ]
            attr_names = {c: output_name(c) for c in metric_cols}
        values = _objective_values(config, out)
        cons = out[[f"constraint_{n}" for n in config.constraint_names]].to_numpy(dtype=float)
        records = out[metric_cols].to_dict(orient="records")
        for i, t in enumerate(trials):
            pending[t.number] = tuple(float(c) for c in cons[i])
            mem.tell(t, values[i].tolist())
            pending.pop(t.number, None)
        if durable is not None:
            rng = _rng_checkpoint(sampler, checkpoint) if checkpoint is not None else None
            frozen = _frozen_trials(mem, trials, records, attr_names, cons, worker, rng)
            stored = durable.add(frozen, target)
            if stored < b:  # the study is complete (other writers): drop the rest
                out = out.iloc[:stored]
                values = values[:stored]
                b = stored
        if frames is not None and b:
            numbers = (
                [t.number for t in trials]
                if durable is None
                else list(range(base + done, base + done + b))
            )
            out.insert(0, "trial", numbers)
            frames.append(out)
        done += b
        if progress is not None and b:
            progress(b, values, out["feasible"].to_numpy(dtype=bool))
        if b == 0:
            break
    return done


def _worker_main(
    config: StudyConfig,
    spec: str,
    target: int,
    quota: int,
    seed: int,
    sampler_name: str,
    worker: str,
    evaluate: Callable[..., pd.DataFrame] | None,
) -> None:
    """Entry point of a `--workers` process."""
    try:
        with _quiet_optuna():
            durable = _Durable(spec)
            durable.open(config, create=False)
            _loop(
                config,
                durable,
                target=target,
                quota=quota,
                seed=seed,
                sampler_name=sampler_name,
                worker=worker,
                evaluate=evaluate,
                progress=None,
            )
    except KeyboardInterrupt:
        sys.exit(130)


def _checked_run(config: StudyConfig, target: int, workers: int, seed: int, sampler: str | None) -> str:
    """The sampler's name, once the run's settings are checked (bad ones: one line)."""
    if target < 1:
        raise DseInputError(f"--trials must be >= 1, got {target}")
    if workers < 1:
        raise DseInputError(f"--workers must be >= 1, got {workers}")
    sampler_name = (sampler or config.sampler).lower()
    if sampler_name not in SAMPLERS:
        raise DseInputError(
            f"unknown sampler '{sampler_name}'"
            + close_match_hint(sampler_name, SAMPLERS)
            + f"; known: {', '.join(SAMPLERS)}"
        )
    make_sampler(
        sampler_name, seed=seed, options=_options(config, sampler_name)
    )  # validate options early
    return sampler_name


def _prepare_journal(spec: str) -> None:
    """A journal file's folder made, and the file checked (a torn tail repaired, with a
    warning) under its lock."""
    path = Path(spec)
    if path.is_dir():
        raise DseInputError(f"storage {path} is a folder, not a journal file")
    path.parent.mkdir(parents=True, exist_ok=True)
    with _journal_lock(spec):
        warning = _check_journal(path)
    if warning:
        print(warning, file=sys.stderr)


def _in_memory_run(
    config: StudyConfig, target: int, seed: int, sampler_name: str,
    evaluate: Callable[..., pd.DataFrame] | None, progress: bool,
) -> tuple[int, pd.DataFrame]:
    """A study without storage: ``target`` trials in memory (not resumable)."""
    frames: list[pd.DataFrame] = []
    bar = _Progress(config, target, 0, enabled=progress)
    n_new = _loop(
        config,
        None,
        target=target,
        quota=target,
        seed=seed,
        sampler_name=sampler_name,
        worker="0",
        evaluate=evaluate,
        progress=bar.step,
        frames=frames,
    )
    bar.close()
    designs = pd.concat(frames, ignore_index=True)
    return n_new, _order_columns(config, designs)


def run_study(
    study: StudyConfig | str | Path,
    *,
    trials: int | None = None,
    storage: str | None = None,
    workers: int = 1,
    out: str | Path | None = None,
    seed: int | None = None,
    sampler: str | None = None,
    progress: bool = True,
    evaluate: Callable[..., pd.DataFrame] | None = None,
) -> StudyResult:
    """Run (or resume) an optuna multi-objective study.

    Parameters
    ----------
    study : StudyConfig or path
        The study (a path is loaded with :func:`dse.search.study.load_study`).
    trials : int, optional
        Total number of trials the study should hold when done (default: the study's
        ``trials``); a resumed study continues up to it.
    storage : str, optional
        optuna storage URL (``sqlite:///x.db``, ``postgresql://...``) or a journal
        file path (``*.journal`` / ``*.log``). Default: ``OUT/study.journal`` when
        ``out`` is given, else in memory (not resumable).
    workers : int
        Processes on the same storage (needs a storage or ``out``).
    out : str or pathlib.Path, optional
        Output folder (holds the default storage; files are written by
        :func:`dse.report.write_outputs`, see :func:`cmd_run`).
    seed : int, optional
        Sampler seed (default: the study's); worker ``i`` uses ``seed + i``.
    sampler : str, optional
        ``local``, ``nsga2``, ``tpe``, ``gp`` or ``random`` (default: the study's).
    progress : bool
        Show a progress bar on stderr (a widget in Jupyter when ipywidgets is
        installed): trials done, rate, ETA, the feasible count, the number of
        Pareto-optimal designs so far and the best feasible value of each objective.
    evaluate : callable, optional
        Replacement for :func:`dse.evaluate_many` (``evaluate(designs, workload,
        tech=...)``; must be picklable with ``workers > 1``).

    Returns
    -------
    StudyResult
    """
    config = study if isinstance(study, StudyConfig) else load_study(study)
    target = config.trials if trials is None else int(trials)
    seed = config.seed if seed is None else int(seed)
    sampler_name = _checked_run(config, target, workers, seed, sampler)
    spec = _storage_spec(storage, out)
    if workers > 1 and spec is None:
        raise DseInputError("--workers > 1 needs a storage (--storage or --out)")

    with _quiet_optuna():
        t0 = time.perf_counter()
        if spec is None:
            n_new, designs = _in_memory_run(config, target, seed, sampler_name, evaluate, progress)
            elapsed = time.perf_counter() - t0
        else:
            if _is_journal(spec):
                _prepare_journal(spec)
            durable = _Durable(spec)
            durable.open(config, create=True)
            stored = durable.complete()
            completed = len(stored)
            remaining = max(0, target - completed)
            bar = _Progress(config, target, min(completed, target), enabled=progress)
            bar.record_trials(stored)
            del stored
            frames: list[pd.DataFrame] = []
            state: dict[str, Any] = {}
            single = workers == 1 and durable.journal
            if remaining == 0:
                n_new = 0
            elif workers == 1:
                n_new = _loop(
                    config, durable, target=target, quota=remaining, seed=_worker_seed(seed, 0, completed),
                    sampler_name=sampler_name, worker=f"{uuid.uuid4().hex[:8]}-0", evaluate=evaluate, progress=bar.step,
                    frames=frames if single else None, state=state, checkpoint=_rng_tag(config, sampler_name, seed),
                )  # fmt: skip
            else:
                n_new = _run_workers(
                    config,
                    spec,
                    durable,
                    target,
                    remaining,
                    completed,
                    workers,
                    seed,
                    sampler_name,
                    evaluate,
                    bar,
                )
            bar.close()
            if single and frames and not durable.shared and durable.sole_writer():
                # nobody else wrote: the trials are the ones loaded plus the batches
                # evaluated here (no need to replay our own journal records)
                old = _designs_from_trials(config, state.get("old", []))
                designs = (
                    pd.concat([old, *frames], ignore_index=True)
                    if len(old)
                    else pd.concat(frames, ignore_index=True)
                )
                designs = _order_columns(config, designs)
            else:
                designs = _designs_from_trials(config, durable.complete())
            elapsed = time.perf_counter() - t0
    designs, pareto = pareto_front(config, designs)
    return StudyResult(
        study=config,
        designs=designs,
        pareto=pareto,
        kind="optuna",
        storage=spec,
        elapsed=elapsed,
        trials_per_s=n_new / elapsed if elapsed > 0 else math.nan,
        n_new=n_new,
        n_evaluated=len(designs),
        n_feasible=int(designs["feasible"].sum()) if len(designs) else 0,
        sampler=sampler_name,
        seed=seed,
        workers=workers,
    )


def _run_workers(
    config: StudyConfig,
    spec: str,
    durable: _Durable,
    target: int,
    remaining: int,
    completed: int,
    workers: int,
    seed: int,
    sampler_name: str,
    evaluate: Callable[..., pd.DataFrame] | None,
    bar: _Progress,
) -> int:
    ctx = multiprocessing.get_context("spawn")
    run_id = uuid.uuid4().hex[:8]
    quotas = [remaining // workers + (1 if i < remaining % workers else 0) for i in range(workers)]
    procs = []
    for i, quota in enumerate(quotas):
        if quota == 0:
            continue
        p = ctx.Process(
            target=_worker_main,
            args=(
                config,
                spec,
                target,
                quota,
                _worker_seed(seed, i, completed),
                sampler_name,
                f"{run_id}-{i}",
                evaluate,
            ),
            daemon=False,
        )
        p.start()
        procs.append(p)
    last = completed

    def poll() -> int:
        nonlocal last
        trials = durable.complete()
        now = len(trials)
        if now > last:
            bar.record_trials(trials[last:])
        bar.update(max(0, min(now, target) - min(last, target)))
        last = now
        return now

    try:
        while any(p.is_alive() for p in procs):
            time.sleep(_POLL_S)
            poll()
        for p in procs:
            p.join()
    except KeyboardInterrupt:
        for p in procs:
            p.join(timeout=10)
            if p.is_alive():
                p.terminate()
        raise
    failed = [p.exitcode for p in procs if p.exitcode != 0]
    now = poll()
    if failed:
        raise RuntimeError(
            f"{len(failed)} of {len(procs)} workers failed (exit codes {failed}); rerun the same command to resume"
        )
    return now - completed
