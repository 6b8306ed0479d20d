"""A resumed study equals an uninterrupted one with the same seed: the same designs in
the same order and no trial lost, also after the torn tail of its journal is repaired
(issue 17, item 7).

The conditions (docs/search.md, "Resume"): one worker writing the storage, the same
seed, sampler and sampler options; for ``nsga2`` and ``random`` any break point, for
``local``, ``tpe`` and ``gp`` a break at a multiple of their batch (8, 8, 4), which a kill
always leaves (it loses the batch being evaluated).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import optuna
import pytest
from test_storage import STUDY

from dse.search import make_sampler, optuna_private, run_study
from dse.search.samplers import _batch_size
from dse.search.study import load_study

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def study_file(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("resume_equal") / "store.toml"
    p.write_text(textwrap.dedent(STUDY))
    return p


@pytest.fixture(scope="module")
def cfg(study_file):
    return load_study(study_file)


def _designs(storage: str) -> list[tuple]:
    """(number, params, values) of every complete trial, in trial order."""
    if "://" not in storage:
        storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(storage))
    (summary,) = optuna.study.get_all_study_summaries(storage)
    study = optuna.load_study(study_name=summary.study_name, storage=storage)
    trials = sorted(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)), key=lambda t: t.number)
    return [(t.number, tuple(sorted(t.params.items())), tuple(t.values)) for t in trials]


_UNINTERRUPTED: dict[tuple, list[tuple]] = {}


def _uninterrupted(cfg, sampler: str, total: int, tmp: Path, seed: int | None = None) -> list[tuple]:
    key = (sampler, total, seed)
    if key not in _UNINTERRUPTED:
        run_study(cfg, trials=total, out=tmp, sampler=sampler, seed=seed, progress=False)
        _UNINTERRUPTED[key] = _designs(str(tmp / "study.journal"))
    return _UNINTERRUPTED[key]


# (sampler, the totals of the earlier runs, the final total); the study's NSGA-II
# population is 12, TPE asks 8 trials a batch, random 256
CASES = [
    ("nsga2", (12,), 36),  # a break at a generation
    ("nsga2", (18, 30), 48),  # two breaks in the middle of generations
    ("tpe", (16,), 32),  # a break at a batch, past TPE's 10 random start-up trials
    ("random", (12, 100), 160),  # breaks inside a batch
    ("local", (24, 40), 56),  # breaks at batches (8 trials), past the 16 random start-up trials
    pytest.param("gp", (8,), 16, marks=pytest.mark.skipif(
        __import__("importlib").util.find_spec("torch") is None, reason="sampler gp needs PyTorch")),
]  # fmt: skip


@pytest.mark.parametrize(("sampler", "breaks", "total"), CASES)
def test_resumed_study_continues_with_the_uninterrupted_designs(cfg, tmp_path, sampler, breaks, total):
    whole = _uninterrupted(cfg, sampler, total, tmp_path / "whole")
    out = tmp_path / "resumed"
    for n in (*breaks, total):
        res = run_study(cfg, trials=n, out=out, sampler=sampler, progress=False)
    resumed = _designs(str(out / "study.journal"))
    assert res.n_new == total - breaks[-1] and len(resumed) == total  # no trial lost
    assert [d[0] for d in resumed] == list(range(total))
    assert [d[1] for d in resumed] == [d[1] for d in whole]  # same designs, same order
    # the same values, bit for bit, except the trials an earlier run stored in a batch it
    # did not finish (evaluated in a shorter evaluate_many call: the last bits may differ)
    batch = _batch_size(cfg, sampler)
    short = {n for b in breaks for n in range(b - b % batch, b)}
    assert [d[2] for d in resumed if d[0] not in short] == [d[2] for d in whole if d[0] not in short]
    for n in short:
        assert resumed[n][2] == pytest.approx(whole[n][2], rel=1e-12)
    # (not trivially equal: the runs propose many distinct designs)
    assert len({d[1] for d in whole}) > total // 2


def test_resume_after_the_surrogate_start_continues_the_screened_moves(cfg, tmp_path):
    # past the surrogate's first trials the moves are screened by models of those
    # trials, fitted again on the latest 48 at 48 and 96 trials: a resumed run fits the
    # same models again and asks the same designs, resumed before and after each refit
    import dataclasses

    options = {"surrogate_trials": 24, "surrogate_screen": 4}
    screened = dataclasses.replace(cfg, sampler="local", sampler_options=options)
    run_study(screened, trials=112, out=tmp_path / "whole", progress=False)
    whole = _designs(str(tmp_path / "whole" / "study.journal"))
    for n in (32, 48, 72, 104, 112):
        run_study(screened, trials=n, out=tmp_path / "resumed", progress=False)
    resumed = _designs(str(tmp_path / "resumed" / "study.journal"))
    assert [d[1] for d in resumed] == [d[1] for d in whole]
    # the screening is not a no-op: without it the same trials ask other designs
    plain = dataclasses.replace(screened, sampler_options={**options, "surrogate_screen": 1})
    run_study(plain, trials=64, out=tmp_path / "plain", progress=False)
    other = _designs(str(tmp_path / "plain" / "study.journal"))
    assert [d[1] for d in other][:24] == [d[1] for d in whole][:24]
    assert [d[1] for d in other][32:] != [d[1] for d in whole][32:64]
    # nor is the refit: with the models of the first 24 trials throughout, the designs
    # are the same up to trial 48 and then others
    once = dataclasses.replace(screened, sampler_options={**options, "surrogate_refit": False})
    run_study(once, trials=112, out=tmp_path / "once", progress=False)
    kept = _designs(str(tmp_path / "once" / "study.journal"))
    assert [d[1] for d in kept][:48] == [d[1] for d in whole][:48]
    assert [d[1] for d in kept][48:] != [d[1] for d in whole][48:]


@pytest.mark.parametrize("torn", [b"", b'{"op_code": 4, "worker_id": "x", "stu'], ids=["clean", "torn-tail"])
def test_resumed_study_has_the_uninterrupted_designs(cfg, tmp_path, torn):
    whole = _uninterrupted(cfg, "nsga2", 36, tmp_path / "whole")
    run_study(cfg, trials=12, out=tmp_path, progress=False)
    with (tmp_path / "study.journal").open("ab") as fh:
        fh.write(torn)  # a write cut short by the kill
    first = _designs(str(tmp_path / "study.journal"))
    res = run_study(cfg, trials=36, out=tmp_path, progress=False)
    resumed = _designs(str(tmp_path / "study.journal"))
    assert res.n_new == 24 and len(resumed) == 36
    assert resumed[:12] == first  # the repair keeps every trial before the tear
    assert resumed == whole  # same seed: the same designs, values and numbers throughout


def test_sqlite_resume_continues_with_the_uninterrupted_designs(cfg, tmp_path):
    whole = _uninterrupted(cfg, "nsga2", 36, tmp_path / "whole")
    url = f"sqlite:///{tmp_path}/s.db"
    run_study(cfg, trials=12, storage=url, progress=False)
    run_study(cfg, trials=36, storage=url, progress=False)
    assert _designs(url) == whole


def test_a_resume_with_another_seed_draws_its_own_designs(cfg, tmp_path):
    """The stored sampler state belongs to the seed that wrote it: a resume asked for
    with another seed does not continue seed 3's stream."""
    whole = _uninterrupted(cfg, "nsga2", 36, tmp_path / "whole")
    run_study(cfg, trials=12, out=tmp_path, progress=False)
    run_study(cfg, trials=36, out=tmp_path, seed=4, progress=False)
    resumed = _designs(str(tmp_path / "study.journal"))
    assert resumed[:12] == whole[:12] and len(resumed) == 36
    assert [d[1] for d in resumed[12:]] != [d[1] for d in whole[12:]]


def test_the_state_is_stored_with_the_last_trial_of_each_batch(cfg, tmp_path):
    """One sampler state per stored batch, on its last trial; none on the others."""
    run_study(cfg, trials=30, out=tmp_path, progress=False)  # batches of 12, 12, 6
    records = [json.loads(line) for line in (tmp_path / "study.journal").read_bytes().splitlines()]
    trials = [r for r in records if r.get("op_code") == 4]
    holders = [i for i, r in enumerate(trials) if "dse:sampler_rng" in r["system_attrs"]]
    assert len(trials) == 30 and holders == [11, 23, 29]
    state = trials[29]["system_attrs"]["dse:sampler_rng"]
    assert json.loads(state["tag"])[:2] == ["nsga2", 3]
    sampler = make_sampler("nsga2", seed=0)
    assert optuna_private.set_sampler_rng_state(sampler, state["state"])
    assert optuna_private.sampler_rng_state(sampler) == state["state"]
    # a state of another sampler kind (one random state, NSGA-II has two) is refused
    random_state = optuna_private.sampler_rng_state(make_sampler("random", seed=0))
    assert not optuna_private.set_sampler_rng_state(sampler, random_state)
    assert not optuna_private.set_sampler_rng_state(sampler, [["not base64", 0, 0, 0.0]] * 2)
    assert optuna_private.sampler_rng_state(sampler) == state["state"]  # left as it was


def _stored(journal: Path) -> int:
    """Trials in a journal being written (a last line cut short is not counted)."""
    if not journal.exists():
        return 0
    n = 0
    for line in journal.read_bytes().splitlines():
        try:
            n += json.loads(line).get("op_code") == 4
        except ValueError:
            pass
    return n


def test_a_killed_run_resumed_equals_the_uninterrupted_run(cfg, study_file, tmp_path):
    """SIGKILL a running `dse run`, rerun the same command: the study holds the trials of
    an uninterrupted run, number for number (the kill loses the batch being evaluated,
    so the break is at a generation)."""
    n = 480
    whole = _uninterrupted(cfg, "nsga2", n, tmp_path / "whole")
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "dse", "run", str(study_file), "--trials", str(n), "--out", str(out), "-q"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    journal = out / "study.journal"
    deadline = time.time() + 120
    try:
        while _stored(journal) < 36:
            assert proc.poll() is None, "the run ended before it could be killed"
            assert time.time() < deadline, "no trials stored in time"
            time.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert 36 <= _stored(journal) < n
    done = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert _designs(str(journal)) == whole
