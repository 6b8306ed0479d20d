"""A resumed study equals an uninterrupted one with the same seed: the same designs in
the same order and no trial lost, also after the torn tail of its journal is repaired
(issue 17, item 7)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import optuna
import pytest
from test_storage import STUDY

from dse.search import run_study
from dse.search.study import load_study


@pytest.fixture(scope="module")
def cfg(tmp_path_factory):
    p = tmp_path_factory.mktemp("resume_equal") / "store.toml"
    p.write_text(textwrap.dedent(STUDY))
    return load_study(p)


def _designs(out: Path) -> list[tuple]:
    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(out / "study.journal")))
    (summary,) = optuna.study.get_all_study_summaries(storage)
    study = optuna.load_study(study_name=summary.study_name, storage=storage)
    trials = sorted(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)), key=lambda t: t.number)
    return [(t.number, tuple(sorted(t.params.items())), tuple(t.values)) for t in trials]


@pytest.fixture(scope="module")
def uninterrupted(cfg, tmp_path_factory):
    out = tmp_path_factory.mktemp("whole")
    run_study(cfg, trials=24, out=out, progress=False)
    return _designs(out)


@pytest.mark.parametrize("torn", [b"", b'{"op_code": 4, "worker_id": "x", "stu'], ids=["clean", "torn-tail"])
def test_resumed_study_has_the_uninterrupted_designs(cfg, uninterrupted, tmp_path, torn):
    run_study(cfg, trials=12, out=tmp_path, progress=False)
    with (tmp_path / "study.journal").open("ab") as fh:
        fh.write(torn)  # a write cut short by the kill
    first = _designs(tmp_path)
    res = run_study(cfg, trials=24, out=tmp_path, progress=False)
    resumed = _designs(tmp_path)
    assert res.n_new == 12 and len(resumed) == 24
    assert resumed[:12] == first  # the repair keeps every trial before the tear
    assert resumed[:12] == uninterrupted[:12]  # same seed: the same first generation


@pytest.mark.xfail(
    strict=True,
    reason="known (issue 17): a resumed NSGA-II study draws other designs after the break "
    "than an uninterrupted run with the same seed (trial 12 differs); the sampler's random "
    "state is not restored on resume",
)
def test_resumed_study_continues_with_the_uninterrupted_designs(cfg, uninterrupted, tmp_path):
    run_study(cfg, trials=12, out=tmp_path, progress=False)
    run_study(cfg, trials=24, out=tmp_path, progress=False)
    resumed = _designs(tmp_path)
    assert [d[1] for d in resumed] == [d[1] for d in uninterrupted]  # same designs, same order
    assert [d[2] for d in resumed] == [d[2] for d in uninterrupted]
