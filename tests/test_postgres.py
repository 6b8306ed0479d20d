"""Several workers on one PostgreSQL storage: no trial lost or duplicated.

Runs when ``DSE_TEST_POSTGRES_URL`` points at a PostgreSQL database (``.ci/run`` starts a
local server and sets it). Without it the test is skipped locally, but under CI
(``CI=true``) a missing server is a failure, not a skip.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

import dse

URL = os.environ.get("DSE_TEST_POSTGRES_URL")
STUDY = Path(__file__).resolve().parents[1] / "studies" / "domestic_7nm_decode_400w.toml"


def test_postgres_is_available_under_ci():
    if os.environ.get("CI") and not URL:
        pytest.fail("CI must provide DSE_TEST_POSTGRES_URL (see .ci/run)")


@pytest.mark.skipif(not URL, reason="no PostgreSQL server: set DSE_TEST_POSTGRES_URL (e.g. postgresql://dse:dse@127.0.0.1:5432/dse_test)")
def test_two_workers_on_postgres(tmp_path):
    import optuna

    from dse.search.study import load_study

    config = load_study(STUDY)
    name = f"pg-{uuid.uuid4().hex[:8]}"  # a fresh study in the shared database
    config = type(config)(**{**config.__dict__, "name": name})
    n = 120
    result = dse.run_study(config, trials=n, storage=URL, workers=2, out=tmp_path, progress=False)
    study = optuna.load_study(study_name=name, storage=URL)
    trials = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    assert len(trials) == n
    assert sorted(t.number for t in trials) == list(range(n))
    assert len(result.designs) == n
    # both workers contributed
    origins = {t.system_attrs.get("dse:origin") for t in trials}
    assert len(origins) == 2 and None not in origins
    optuna.delete_study(study_name=name, storage=URL)
