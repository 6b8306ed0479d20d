"""Trials per second of `dse run` on its default storage, next to optuna's own rates.

Same study, same sampler settings, same trial count, same run::

    python benchmarks/search_throughput.py [STUDY.toml] [--trials 2000] [--slow-trials 300]

Rows:

* ``dse run`` (default storage): :func:`dse.search.run_study` with ``out=TMP``: batched
  ask/tell on an in-memory study, one ``evaluate_many`` call per generation, finished
  trials appended to ``TMP/study.journal`` (one record per trial, one fsync per batch).
* optuna in-memory, same objective: plain ``study.optimize`` with the same NSGA-II
  settings and ``constraints_func``; the objective suggests the parameters, evaluates
  the design with ``dse.evaluate_many`` on one row and stores the metrics as user
  attributes (what a straightforward optuna integration does).
* optuna in-memory, free objective: the same loop with a closed-form objective (no
  model call): optuna's own ceiling on this machine.
* optuna journal file / SQLite, same objective (``--slow-trials`` trials, they are slow):
  what ``study.optimize`` costs on optuna's durable storages without batching.

The ratio column is the rate over the best in-memory rate. The issue's target: the
default storage reaches >= 40 % of the in-memory rate.

Then the marginal rate (``--marginal-from 2000 --marginal-to 10000``): trials from
the first mark to the second over the time between them, for ``dse run`` on its
default storage and for optuna's in-memory NSGA-II (optuna's own ``NSGAIISampler``,
same settings and seed) with the free objective, side by side; a rate that holds as the
study grows gives a ratio near the one at 2,000 trials. A third row runs optuna's loop
with dse's NSGA-II sampler (the same trials, generation bookkeeping without per-trial
scans): what the search would cost without dse's model and storage. Each rate is given
in wall time and in this process's CPU time (robust to other jobs on a shared machine).
``--long 100000`` times one
``dse run`` of that many trials on the default storage, then reopening it (a resume with
nothing left to do) and writing the outputs.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import optuna
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import dse  # noqa: E402
from dse.search import DEFAULT_NSGA2_OPTIONS, make_sampler, run_study  # noqa: E402
from dse.search.result import constraint_matrix  # noqa: E402
from dse.search.samplers import _batch_size, _crossover, _fast_nsga2_class  # noqa: E402
from dse.search.study import load_study  # noqa: E402

DEFAULT_STUDY = ROOT / "studies" / "domestic_7nm_decode_400w.toml"


def _objective(config, free: bool):
    names = config.metric_names

    def objective(trial: optuna.Trial):
        params = {name: p.suggest(trial) for name, p in config.space.items()}
        if free:
            x = np.array(
                [float(v) if not isinstance(v, str) else float(len(v)) for v in params.values()]
            )
            vals = [float(np.sin(x * (i + 1)).sum()) for i in range(len(names))]
            trial.set_user_attr("constraints", [float(x.sum() % 3 - 1.5)])
            return vals
        row = pd.DataFrame([{**params, **config.fixed}])
        out = dse.evaluate_many(row, config.workload, tech=config.load_tech())
        out["model_feasible"] = out["feasible"]
        cons = constraint_matrix(config, out)[0]
        rec = out.iloc[0].to_dict()
        for key in out.columns:
            if key not in params and key not in config.fixed:
                v = rec[key]
                v = v.item() if hasattr(v, "item") else v
                trial.set_user_attr(
                    key, None if isinstance(v, float) and not math.isfinite(v) else v
                )
        trial.set_user_attr("constraints", [float(c) for c in cons])
        return [float(rec[m]) for m in names]

    return objective


def _optuna_rate(config, n: int, storage, free: bool) -> float:
    def constraints_func(frozen):
        return frozen.user_attrs["constraints"]

    sampler = make_sampler(
        config.sampler,
        seed=config.seed,
        constraints_func=constraints_func,
        options=config.sampler_options,
    )
    study = optuna.create_study(directions=config.directions, sampler=sampler, storage=storage)
    t0 = time.perf_counter()
    study.optimize(_objective(config, free), n_trials=n)
    return n / (time.perf_counter() - t0)


def _now() -> np.ndarray:
    """(wall, CPU) time [s]: CPU time of this process counts its work alone on a shared machine."""
    return np.array([time.perf_counter(), time.process_time()])


@contextlib.contextmanager
def _counted(hook):
    """Call ``hook(n)`` with each batch's size before `dse run` evaluates it. A hook on
    :func:`dse.search.run.evaluate_designs`, not ``run_study(evaluate=...)``: a custom
    ``evaluate`` turns the local sampler's design check off (and with it the check's
    features and the slides), so the rows would not time the default as `dse run` runs
    it (before 2026-12-02 they did not)."""
    import dse.search.run as run_module

    original = run_module.evaluate_designs

    def counted(config, params, **kwargs):
        hook(len(params))
        return original(config, params, **kwargs)

    run_module.evaluate_designs = counted
    try:
        yield
    finally:
        run_module.evaluate_designs = original


class _Marks:
    """Wall and CPU time at which a run had done ``first`` trials, counted per batch."""

    def __init__(self, first: int) -> None:
        self.first = first
        self.done = 0
        self.mark: tuple[int, np.ndarray] | None = None

    def see(self, n_done: int) -> None:
        if self.mark is None and n_done >= self.first:
            self.mark = (n_done, _now())


def _dse_marginal(config, first: int, last: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`dse run` on its default storage: rate to ``first``, marginal rate, total time,
    each as (wall, CPU)."""
    marks = _Marks(first)

    def hook(n_batch: int) -> None:
        marks.see(marks.done)  # the trials done before this batch
        marks.done += n_batch

    run_study(config, trials=60, progress=False)  # compile the model first (numba)
    with tempfile.TemporaryDirectory() as tmp, _counted(hook):
        t0 = _now()
        run_study(config, trials=last, out=tmp, progress=False)
        t1 = _now()
    n, tm = marks.mark
    return n / (tm - t0), (last - n) / (t1 - tm), t1 - t0


def _optuna_marginal(
    config, first: int, last: int, cls=optuna.samplers.NSGAIISampler
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """optuna's own NSGAIISampler in memory, free objective: the same three numbers
    (``cls``: another sampler class with the same arguments, e.g. dse's)."""
    options = {**DEFAULT_NSGA2_OPTIONS, **config.sampler_options}
    if isinstance(options.get("crossover"), str):
        options["crossover"] = _crossover(options["crossover"])
    sampler = cls(
        seed=config.seed,
        constraints_func=lambda frozen: frozen.user_attrs["constraints"],
        **options,
    )
    study = optuna.create_study(directions=config.directions, sampler=sampler)
    marks = _Marks(first)
    t0 = _now()
    study.optimize(
        _objective(config, free=True),
        n_trials=last,
        callbacks=[lambda st, tr: marks.see(tr.number + 1)],
    )
    t1 = _now()
    n, tm = marks.mark
    return n / (tm - t0), (last - n) / (t1 - tm), t1 - t0


def _long_run(config, n: int, steps: int = 10) -> None:
    """Time one `dse run` of ``n`` trials on the default storage, then its outputs; print
    the rate per CPU second in ``steps`` equal parts of the run (flat when it holds)."""
    from dse.report import write_outputs

    marks: list[tuple[int, float]] = []
    state = {"done": 0}

    def hook(n_batch: int) -> None:
        if state["done"] >= len(marks) * n / steps:
            marks.append((state["done"], time.process_time()))
        state["done"] += n_batch

    run_study(config, trials=60, progress=False)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        c0 = time.process_time()
        with _counted(hook):
            res = run_study(config, trials=n, out=tmp, progress=False)
        t1 = time.perf_counter()
        c1 = time.process_time()
        size = (Path(tmp) / "study.journal").stat().st_size
        t2 = time.perf_counter()
        res2 = run_study(config, trials=n, out=tmp, progress=False)  # resume: nothing to do
        t3 = time.perf_counter()
        assert res2.n_new == 0
        t4 = time.perf_counter()
        write_outputs(res, Path(tmp) / "out")
        t5 = time.perf_counter()
    print(
        f"\n{n:,}-trial `dse run` on the default storage: {t1 - t0:,.0f} s wall, "
        f"{c1 - c0:,.0f} s CPU ({n / (t1 - t0):,.0f} trials/s wall), journal {size / 1e6:,.0f} MB; "
        f"load average {os.getloadavg()[0]:.1f}; reopening it "
        f"(resume with nothing left) {t3 - t2:,.1f} s; writing the outputs {t5 - t4:,.1f} s"
    )
    rates = [
        f"{(b[0] - a[0]) / (b[1] - a[1]):,.0f}" for a, b in zip(marks, marks[1:], strict=False)
    ]
    print(
        f"trials per CPU second in {len(rates)} steps of ~{n // steps:,} trials: {', '.join(rates)}"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("study", nargs="?", default=str(DEFAULT_STUDY))
    ap.add_argument("--trials", type=int, default=2000)
    ap.add_argument(
        "--slow-trials",
        type=int,
        default=300,
        help="trials for optuna's journal/SQLite rows (0: skip)",
    )
    ap.add_argument("--marginal-from", type=int, default=2000)
    ap.add_argument("--marginal-to", type=int, default=10000, help="0: skip the marginal rates")
    ap.add_argument("--long", type=int, default=0, help="time one dse run of this many trials")
    ap.add_argument(
        "--sampler",
        default="nsga2",
        help="sampler of the dse rows (default nsga2, the sampler of optuna's rows; "
        "'study' keeps the study file's)",
    )
    args = ap.parse_args(argv)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    import warnings

    warnings.simplefilter("ignore")
    config = load_study(args.study)
    if args.sampler != "study" and args.sampler != config.sampler:
        # the comparison with optuna's NSGA-II rows runs dse's NSGA-II (the study's own
        # sampler options belong to the study's sampler)
        config = dataclasses.replace(config, sampler=args.sampler, sampler_options={})
    n = args.trials
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        res = run_study(config, trials=n, out=tmp, progress=False)
        rows.append(("`dse run`, default storage (journal file, batched)", n, res.trials_per_s))
        res2 = run_study(config, trials=n, progress=False)
        rows.append(("`dse run` machinery, in memory (no storage)", n, res2.trials_per_s))
    rows.append(
        (
            "optuna in-memory, same objective (`study.optimize`)",
            n,
            _optuna_rate(config, n, None, free=False),
        )
    )
    rows.append(
        (
            "optuna in-memory, free objective (no model call)",
            n,
            _optuna_rate(config, n, None, free=True),
        )
    )
    if args.slow_trials:
        from optuna.storages.journal import JournalFileBackend, JournalStorage

        m = args.slow_trials
        with tempfile.TemporaryDirectory() as tmp:
            journal = JournalStorage(JournalFileBackend(str(Path(tmp) / "j.log")))
            rows.append(
                (
                    "optuna journal file, same objective (`study.optimize`)",
                    m,
                    _optuna_rate(config, m, journal, free=False),
                )
            )
            rows.append(
                (
                    "optuna SQLite, same objective (`study.optimize`)",
                    m,
                    _optuna_rate(config, m, f"sqlite:///{tmp}/s.db", free=False),
                )
            )
    best_mem = max(r[2] for r in rows if "in-memory" in r[0])
    print(
        f"study `{config.name}` ({config.path}), sampler {config.sampler} (batch {_batch_size(config, config.sampler)}), "
        f"{len(config.space)} parameters, {len(config.objectives)} objectives\n"
    )
    print("| run | trials | trials/s | vs best in-memory |")
    print("|---|---:|---:|---:|")
    for name, k, rate in rows:
        print(f"| {name} | {k:,} | {rate:,.0f} | {100 * rate / best_mem:.0f} % |")
    if args.marginal_to:
        a, b = args.marginal_from, args.marginal_to
        d_first, d_marg, d_total = _dse_marginal(config, a, b)
        o_first, o_marg, o_total = _optuna_marginal(config, a, b)
        f_first, f_marg, f_total = _optuna_marginal(config, a, b, _fast_nsga2_class())
        print(f"\nmarginal rate from {a:,} to {b:,} trials (trials/s; wall / CPU time):\n")
        print(f"| run | to {a:,} | {a:,} to {b:,} | total s |")
        print("|---|---:|---:|---:|")
        for name, (first, marg, total) in (
            ("`dse run`, default storage", (d_first, d_marg, d_total)),
            ("optuna in-memory NSGA-II, free objective", (o_first, o_marg, o_total)),
            (
                "optuna in-memory, free objective, dse's NSGA-II (generation index)",
                (f_first, f_marg, f_total),
            ),
        ):
            print(
                f"| {name} | {first[0]:,.0f} / {first[1]:,.0f} | {marg[0]:,.0f} / {marg[1]:,.0f} | "
                f"{total[0]:,.1f} / {total[1]:,.1f} |"
            )
        ratio = d_marg / o_marg
        print(
            f"\nmarginal ratio dse / optuna: {ratio[0]:.2f} (wall), {ratio[1]:.2f} (CPU time)"
            " (target >= 0.8)"
        )
        ratio = d_marg / f_marg
        print(
            f"marginal ratio dse / optuna with dse's NSGA-II: {ratio[0]:.2f} (wall), "
            f"{ratio[1]:.2f} (CPU time)"
        )
    if args.long:
        _long_run(config, args.long)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
