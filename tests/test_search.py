"""The search: optuna runs (in memory, durable, resumed, killed, several workers) and the grid.

Budgets are tiny; no timing assertions.
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

import numpy as np
import pandas as pd
import pytest

from dse.errors import DseInputError
from dse.search import StudyResult, evaluate_designs, grid, make_sampler, run_study
from dse.search.storage import _Durable
from dse.search.study import load_study

ROOT = Path(__file__).resolve().parents[1]

SMALL = """
[study]
name = "small"
workload = "llm-decode:llama-3-8b:batch=8,context=1024"
trials = 60
seed = 1
sampler = "nsga2"
[study.objectives]
tokens_per_s = "maximize"
unit_cost_usd = "minimize"
energy_per_item_j = "minimize"
[study.sampler_options]
population_size = 12

[fixed]
tdp_w = 350
cooling = "air"

[space]
node = ["smic-n2", "tsmc-n4", "tsmc-n7"]
cores = { low = 16, high = 128, step = 16 }
macs_per_core = [512, 1024, 2048]
clock_ghz = { low = 1.0, high = 2.0, step = 0.5 }
sram_mb = [32, 128]
memory = ["hbm2e", "hbm3", "lpddr5", "gddr6"]
memory_count = { low = 2, high = 8, step = 2 }

[constraints]
max_die_area_mm2 = 700
max_power_w = 350
export_class = ["3A090.b", "not-controlled"]
memory_count_max = { hbm3 = 4 }
"""


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("study") / "small.toml"
    p.write_text(textwrap.dedent(SMALL))
    return p


def journal_trials(path: Path) -> int:
    """Completed trials in a journal file (CREATE_TRIAL records with state COMPLETE)."""
    if not path.exists():
        return 0
    n = 0
    for line in path.read_bytes().splitlines():
        try:
            log = json.loads(line)
        except ValueError:
            continue
        n += log.get("op_code") == 4 and log.get("state") == 1
    return n


def check_result(res: StudyResult, n: int) -> None:
    d = res.designs
    assert len(d) == n
    assert sorted(d["trial"]) == list(range(n))
    cfg = res.study
    for key in list(cfg.space) + list(cfg.fixed):
        assert key in d.columns
    for col in ("feasible", "violations", "pareto_rank", "constraint_model", *cfg.metric_names):
        assert col in d.columns
    p = res.pareto
    assert p["feasible"].all() and (p["pareto_rank"] == 0).all()
    assert "crowding_distance" in p.columns
    # the Pareto rows are non-dominated among all feasible designs
    feas = d[d["feasible"]]
    signs = np.array([1.0 if x == "minimize" else -1.0 for x in cfg.directions])
    f = feas[cfg.metric_names].to_numpy(float) * signs
    for row in p[cfg.metric_names].to_numpy(float) * signs:
        dominated = np.all(f <= row, axis=1) & np.any(f < row, axis=1)
        assert not dominated.any()


def test_run_in_memory(small):
    cfg = load_study(small)
    res = run_study(cfg, trials=30, progress=False)
    assert res.kind == "optuna" and res.storage is None and res.n_new == 30
    check_result(res, 30)
    # the study's constraints are applied
    d = res.designs
    bad = d[d["die_area_mm2"] > 700]
    assert not bad["feasible"].any()
    assert bad["violations"].str.contains("max_die_area_mm2").all()
    hbm3 = d[(d["memory"] == "hbm3") & (d["memory_count"] > 4)]
    assert not hbm3["feasible"].any()
    assert hbm3["violations"].str.contains("memory_count_max").all()
    assert not d.loc[d["feasible"], "export_class"].eq("3A090.a").any()


def test_same_seed_same_trials(small):
    cfg = load_study(small)
    a = run_study(cfg, trials=24, progress=False).designs
    b = run_study(cfg, trials=24, progress=False).designs
    cols = list(cfg.space)
    pd.testing.assert_frame_equal(a[cols], b[cols])


@pytest.mark.parametrize("sampler", ["tpe", "random", "gp", "local"])
def test_other_samplers(small, sampler):
    if sampler == "gp":
        pytest.importorskip("torch", reason="optuna's GPSampler needs PyTorch")
    cfg = load_study(small)
    res = run_study(cfg, trials=10, sampler=sampler, progress=False)
    check_result(res, 10)


def test_sampler_options_are_checked():
    with pytest.raises(DseInputError, match="population_sise"):
        make_sampler("nsga2", seed=0, options={"population_sise": 10})
    with pytest.raises(DseInputError, match="crossover"):
        make_sampler("nsga2", seed=0, options={"crossover": "nope"})
    make_sampler("nsga2", seed=0, options={"crossover": "sbx", "population_size": 8})


def test_durable_resume_and_storage_contents(small, tmp_path):
    import optuna

    cfg = load_study(small)
    out = tmp_path / "run"
    r1 = run_study(cfg, trials=30, out=out, progress=False)
    assert r1.storage == str((out / "study.journal").resolve())
    check_result(r1, 30)
    r2 = run_study(cfg, trials=50, out=out, progress=False)
    assert r2.n_new == 20
    check_result(r2, 50)
    # the first 30 trials are unchanged
    pd.testing.assert_frame_equal(
        r1.designs[list(cfg.space)], r2.designs[list(cfg.space)].iloc[:30]
    )
    # already complete: nothing new
    r3 = run_study(cfg, trials=40, out=out, progress=False)
    assert r3.n_new == 0 and len(r3.designs) == 50
    # what optuna (and optuna-dashboard) sees in the storage
    study = optuna.load_study(
        study_name="small",
        storage=optuna.storages.JournalStorage(
            optuna.storages.journal.JournalFileBackend(str(out / "study.journal"))
        ),
    )
    trials = study.get_trials()
    assert len(trials) == 50 and [t.number for t in trials] == list(range(50))
    assert study.metric_names == cfg.metric_names
    t = trials[0]
    assert set(cfg.space) == set(t.params)
    assert {"die_area_mm2", "tokens_per_s", "feasible", "violations"} <= set(t.user_attrs)
    assert len(t.constraints) == len(cfg.constraint_names)
    assert study.user_attrs["dse:constraint_names"] == cfg.constraint_names
    # the stored values are those of the designs table
    row = r2.designs.set_index("trial").loc[0]
    assert t.values == pytest.approx([row[m] for m in cfg.metric_names])
    assert (max(t.constraints.values()) <= 0) == bool(row["feasible"])


def test_resume_refuses_a_changed_study(small, tmp_path):
    cfg = load_study(small)
    run_study(cfg, trials=12, out=tmp_path, progress=False)
    text = Path(small).read_text().replace("max_power_w = 350", "max_power_w = 300")
    other = tmp_path / "other.toml"
    other.write_text(text)
    with pytest.raises(DseInputError, match="different"):
        run_study(load_study(other), trials=24, out=tmp_path, progress=False)


def test_sqlite_storage(small, tmp_path):
    cfg = load_study(small)
    url = f"sqlite:///{tmp_path}/s.db"
    r = run_study(cfg, trials=15, storage=url, progress=False)
    check_result(r, 15)
    r = run_study(cfg, trials=20, storage=url, progress=False)
    check_result(r, 20)
    assert r.n_new == 5


def test_bad_storage(small, tmp_path):
    with pytest.raises(DseInputError, match="journal"):
        run_study(load_study(small), trials=5, storage=str(tmp_path / "x.db"), progress=False)


def test_torn_journal_line_is_repaired(small, tmp_path):
    cfg = load_study(small)
    run_study(cfg, trials=12, out=tmp_path, progress=False)
    journal = tmp_path / "study.journal"
    with journal.open("ab") as fh:
        fh.write(b'{"op_code": 4, "worker_id": "x", "stu')  # a write cut by power loss
    r = run_study(cfg, trials=24, out=tmp_path, progress=False)
    check_result(r, 24)


def test_workers_two_exact_total(small, tmp_path):
    cfg = load_study(small)
    res = run_study(cfg, trials=60, out=tmp_path, workers=2, progress=False)
    check_result(res, 60)
    assert journal_trials(tmp_path / "study.journal") == 60
    origins = {t.split("-")[-1] for t in _origins(tmp_path / "study.journal")}
    assert origins == {"0", "1"}  # both workers contributed
    # and a resumed multi-worker run tops up exactly
    res = run_study(cfg, trials=75, out=tmp_path, workers=2, progress=False)
    check_result(res, 75)


def _origins(path: Path) -> list[str]:
    out = []
    for line in path.read_text().splitlines():
        log = json.loads(line)
        if log.get("op_code") == 4:
            out.append(log["system_attrs"]["dse:origin"])
    return out


def test_cli_run_kill_and_resume(tmp_path):
    """SIGKILL a running `dse run`, rerun: the count continues, nothing lost, outputs regenerated."""
    study = ROOT / "studies" / "domestic_7nm_decode_400w.toml"
    out = tmp_path / "out"
    n = 1500
    cmd = [sys.executable, "-m", "dse", "run", str(study), "--trials", str(n), "--out", str(out)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    journal = out / "study.journal"
    deadline = time.time() + 120
    try:
        while journal_trials(journal) < 100:
            assert proc.poll() is None, "the run ended before it could be killed"
            assert time.time() < deadline, "no trials stored in time"
            time.sleep(0.05)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    stored = journal_trials(journal)
    assert 100 <= stored < n
    assert not (out / "trials.csv").exists()
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "outputs in" in done.stdout
    assert journal_trials(journal) == n
    trials = pd.read_csv(out / "trials.csv")
    assert sorted(trials["trial"]) == list(range(n))
    assert (out / "pareto.csv").exists() and (out / "summary.md").exists()


# --- the grid --------------------------------------------------------------------------

GRID = SMALL.replace(
    "clock_ghz = { low = 1.0, high = 2.0, step = 0.5 }", "clock_ghz = [1.0, 2.0]"
).replace("memory_count = { low = 2, high = 8, step = 2 }", "memory_count = [2, 4, 8]")


def brute_front(cfg, everything: pd.DataFrame) -> set[int]:
    feas = everything[everything["feasible"]]
    signs = np.array([1.0 if d == "minimize" else -1.0 for d in cfg.directions])
    f = feas[cfg.metric_names].to_numpy(float) * signs
    keep = set()
    for i, row in enumerate(f):
        if not np.any(np.all(f <= row, axis=1) & np.any(f < row, axis=1)):
            keep.add(int(feas["trial"].iloc[i]))
    return keep


def test_grid_front_is_exact(tmp_path):
    p = tmp_path / "g.toml"
    p.write_text(textwrap.dedent(GRID))
    cfg = load_study(p)
    n = cfg.n_grid
    assert n == 3 * 8 * 3 * 2 * 2 * 4 * 3
    # small chunks: the running front crosses many chunk boundaries
    res = grid(cfg, chunk_size=97, progress=False)
    assert res.kind == "grid" and res.n_evaluated == n and len(res.designs) == n
    # brute force: every point in one call, O(n^2) dominance
    from itertools import product

    params = pd.DataFrame(
        list(product(*[p.grid_values() for p in cfg.space.values()])), columns=list(cfg.space)
    )
    everything = evaluate_designs(cfg, params)
    everything.insert(0, "trial", np.arange(n))
    assert res.n_feasible == int(everything["feasible"].sum())
    exact = brute_front(cfg, everything)
    got = set(res.designs.loc[res.designs["pareto_rank"] == 0, "trial"])
    assert got == exact
    # pareto.csv rows: non-dominated, one per distinct design
    assert set(res.pareto["trial"]) <= exact
    keys = [k for k in cfg.space]
    assert not res.pareto.duplicated(subset=keys).any()
    # a small keep_rows still keeps the whole front
    res2 = grid(cfg, chunk_size=200, keep_rows=50, progress=False)
    assert set(res2.designs.loc[res2.designs["pareto_rank"] == 0, "trial"]) == exact
    assert len(res2.designs) < n


def test_grid_refuses_large_and_unstepped(tmp_path):
    p = tmp_path / "g.toml"
    p.write_text(textwrap.dedent(GRID))
    cfg = load_study(p)
    with pytest.raises(DseInputError, match=f"{cfg.n_grid:,} grid points"):
        grid(cfg, max_points=100, progress=False)
    text = GRID.replace("clock_ghz = [1.0, 2.0]", "clock_ghz = { low = 1.0, high = 2.0 }")
    p.write_text(textwrap.dedent(text))
    with pytest.raises(DseInputError, match="clock_ghz"):
        grid(load_study(p), progress=False)


def test_cli_grid_outputs(tmp_path):
    p = tmp_path / "g.toml"
    p.write_text(textwrap.dedent(GRID))
    out = tmp_path / "gout"
    proc = subprocess.run(
        [sys.executable, "-m", "dse", "grid", str(p), "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "outputs in" in proc.stdout.strip().splitlines()[-1]
    assert (out / "pareto.csv").exists() and (out / "trials.csv").exists()


def test_durable_reads_back_what_it_wrote(small, tmp_path):
    """The batched journal records replay into the same trials optuna's own API gives."""
    cfg = load_study(small)
    run_study(cfg, trials=12, out=tmp_path, progress=False)
    d = _Durable(str(tmp_path / "study.journal"))
    d.open(cfg, create=False)
    trials = d.complete()
    assert [t.number for t in trials] == list(range(12))
    assert all(t.datetime_complete is not None and t.values is not None for t in trials)
    dist = cfg.space["cores"].distribution()
    assert all(t.distributions["cores"] == dist for t in trials)


# --- what optuna-dashboard sees, and the progress output -------------------------------


UNIT_SUFFIXES = (
    "_v",
    "_a",
    "_kg",
    "_years",
    "_mm2",
    "_usd",
    "_s",
    "_j",
    "_w",
    "_c",
    "_ghz",
    "_gbps",
    "_gb",
    "_tflops",
    "_bytes",
)


def test_storage_has_metric_names_and_unit_carrying_user_attrs(small, tmp_path):
    """optuna-dashboard shows the objective names and the user attributes of the storage."""
    import optuna

    from dse.metrics import METRICS, input_name, output_name
    from dse.spec import CHIP_KEYS

    cfg = load_study(small)
    run_study(cfg, trials=12, out=tmp_path, progress=False)
    storage = optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(tmp_path / "study.journal"))
    )
    study = optuna.load_study(study_name=cfg.name, storage=storage)
    assert study.metric_names == cfg.metric_names
    unitless = {"export_class", "weights_resident", "feasible", "model_feasible", "violations", "lifetime_mechanism"}
    for t in study.get_trials():
        assert set(t.user_attrs) >= {"tokens_per_s", "yield [fraction]", "tpp [TOPS*bit]"}
        for name in t.user_attrs:
            key = input_name(name)
            # the name is the CSV header of the column (dse.metrics.output_name)
            assert name == output_name(key)
            if key in unitless:
                assert key in METRICS or key == "model_feasible"
            elif key.startswith("constraint_"):
                assert key[len("constraint_") :] in cfg.constraint_names
                assert name.endswith("]")  # relative values, not the unit of the metric
            else:
                spec = METRICS.get(key) or CHIP_KEYS[key]
                assert spec.unit, name
                # either "<key> [<unit>]" or a key ending in its unit (die_area_mm2)
                assert name != key or key.endswith(UNIT_SUFFIXES), name


def test_old_stores_without_units_in_attr_names_still_load(small, tmp_path, monkeypatch):
    import dse.search.run as S

    cfg = load_study(small)
    monkeypatch.setattr(S, "output_name", lambda k: k)  # what dse wrote before
    run_study(cfg, trials=12, out=tmp_path, progress=False)
    monkeypatch.undo()
    res = run_study(cfg, trials=24, out=tmp_path, progress=False)
    check_result(res, 24)
    d = res.designs
    assert not any(" [" in c for c in d.columns)
    assert d["yield"].notna().all() and d["constraint_model"].notna().all()


def _last_postfix(err: str) -> str:
    return [line for line in err.replace("\r", "\n").splitlines() if "best " in line][-1]


def test_progress_shows_eta_and_best_so_far(small, capsys):
    cfg = load_study(small)
    res = run_study(cfg, trials=24, progress=True)
    captured = capsys.readouterr()
    assert captured.out == ""  # progress goes to stderr
    line = _last_postfix(captured.err)
    assert "24/24" in line and "<" in line  # count and ETA (elapsed<remaining)
    assert "Pareto" in line and "feasible" in line
    # the best-so-far values are those of the feasible designs
    feas = res.designs[res.designs["feasible"]]
    assert f"feasible {len(feas)}," in line
    assert f"best tokens_per_s={feas['tokens_per_s'].max():.4g} " in line
    assert f"unit_cost_usd={feas['unit_cost_usd'].min():.4g} " in line
    assert f"Pareto {len(res.pareto)}," in line
    run_study(cfg, trials=12, progress=False)
    assert capsys.readouterr().err == ""


def test_progress_of_resumed_and_multi_worker_runs(small, tmp_path, capsys):
    cfg = load_study(small)
    run_study(cfg, trials=12, out=tmp_path, progress=False)
    res = run_study(cfg, trials=36, out=tmp_path, workers=2, progress=True)
    line = _last_postfix(capsys.readouterr().err)
    assert "36/36" in line
    feas = res.designs[res.designs["feasible"]]
    assert f"feasible {len(feas)}," in line  # the 12 stored trials count too
    assert f"best tokens_per_s={feas['tokens_per_s'].max():.4g} " in line


def test_grid_progress(tmp_path, capsys):
    p = tmp_path / "g.toml"
    p.write_text(textwrap.dedent(GRID))
    cfg = load_study(p)
    res = grid(cfg, chunk_size=200, progress=True)
    line = _last_postfix(capsys.readouterr().err)
    assert "100%" in line and "3.46k/3.46k" in line and "design/s" in line  # 3,456 points
    assert f"feasible {res.n_feasible:,}," in line
    assert f"best tokens_per_s={res.pareto['tokens_per_s'].max():.4g} " in line


def test_gp_without_torch_is_one_clear_error(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a)
    )
    with pytest.raises(DseInputError, match="sampler gp needs PyTorch"):
        make_sampler("gp", seed=0)


def test_nsga2_sampler_proposes_what_optunas_own_does(small, monkeypatch):
    """dse's NSGA-II (generation bookkeeping without per-trial scans) proposes the same
    trials as optuna's NSGAIISampler with the same seed, over several generations."""
    import optuna

    import dse.search.samplers as search

    cfg = load_study(small)
    ours = run_study(cfg, trials=150, progress=False)  # 12 generations of 12 (+6)
    assert search._fast_nsga2_class() is not optuna.samplers.NSGAIISampler
    monkeypatch.setattr(search, "_fast_nsga2_class", lambda: optuna.samplers.NSGAIISampler)
    theirs = run_study(cfg, trials=150, progress=False)
    cols = ["trial", *cfg.space]
    pd.testing.assert_frame_equal(ours.designs[cols], theirs.designs[cols])
    # (not trivially equal: the runs propose many distinct designs)
    assert len(ours.designs.drop_duplicates(subset=list(cfg.space))) > 100


def test_nsga2_resume_matches_optunas_own(small, tmp_path, monkeypatch):
    """Resumed in the middle of a generation, dse's NSGA-II proposes the trials of an
    uninterrupted run of optuna's own sampler (and of its own), trial for trial."""
    import optuna

    import dse.search.samplers as search

    cfg = load_study(small)
    run_study(cfg, trials=40, out=tmp_path / "a", progress=False)
    ours = run_study(cfg, trials=100, out=tmp_path / "a", progress=False)
    whole = run_study(cfg, trials=100, out=tmp_path / "b", progress=False)
    monkeypatch.setattr(search, "_fast_nsga2_class", lambda: optuna.samplers.NSGAIISampler)
    theirs = run_study(cfg, trials=100, out=tmp_path / "c", progress=False)
    cols = ["trial", *cfg.space]
    pd.testing.assert_frame_equal(ours.designs[cols], whole.designs[cols])
    pd.testing.assert_frame_equal(ours.designs[cols], theirs.designs[cols])


def test_optunas_private_api_is_used_in_one_module_only():
    """Reaching past optuna's public API is confined to dse/search/optuna_private.py (which
    pyproject.toml's upper bound on optuna protects); the journal it writes is read back
    with optuna's stock JournalStorage in test_durable_resume_and_storage_contents."""
    import re

    private = re.compile(
        r"optuna(\.[a-z_]+)*\._[a-z]|\._study_id\b|\._storage\b|\._trial_id\b|\._get_trials\b"
        r"|_get_generation_key|_population_size|_GENERATION_KEY"
    )
    import dse

    root = Path(dse.__file__).parent
    hits = [
        f"{path.name}:{n}: {line.strip()}"
        for path in sorted(root.rglob("*.py"))
        if path.name != "optuna_private.py"
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if private.search(line)
    ]
    assert not hits, "\n".join(hits)
    assert private.search((root / "search" / "optuna_private.py").read_text())  # the pattern finds them
