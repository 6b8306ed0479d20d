"""The study's storage: damaged or foreign journals, and several `dse run` on one storage.

A journal whose tail is damaged (a write cut short, bytes appended by something else)
is repaired with the damaged bytes kept in a side file; damage with records after it,
or a file that is no journal, gives one line naming the file and exit code 2. Two runs
started at once on one folder share ``--trials`` as the study's total.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from dse.search import run_study
from dse.search.study import load_study

ROOT = Path(__file__).resolve().parents[1]

STUDY = """
[study]
name = "store"
workload = "llm-decode:llama-3-8b:batch=8,context=1024"
trials = 24
seed = 3
sampler = "nsga2"
[study.objectives]
tokens_per_s = "maximize"
unit_cost_usd = "minimize"
[study.sampler_options]
population_size = 12

[fixed]
tdp_w = 350
cooling = "air"

[space]
node = ["smic-n2", "tsmc-n7"]
cores = { low = 16, high = 128, step = 16 }
macs_per_core = [512, 1024, 2048]
clock_ghz = { low = 1.0, high = 2.0, step = 0.5 }
sram_mb = [32, 128]
memory = ["hbm2e", "lpddr5", "gddr6"]
memory_count = { low = 2, high = 8, step = 2 }

[constraints]
max_power_w = 350
"""


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("store") / "store.toml"
    p.write_text(textwrap.dedent(STUDY))
    return p


def _trials(journal: Path) -> list[dict]:
    """The CREATE_TRIAL records of complete trials in a journal."""
    out = []
    for line in journal.read_bytes().splitlines():
        log = json.loads(line)
        if log.get("op_code") == 4 and log.get("state") == 1:
            out.append(log)
    return out


def _dse(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "dse", *args], capture_output=True, text=True, cwd=cwd, env=env
    )


@pytest.mark.parametrize(
    "garbage",
    [
        b"\xff\xfe\x00garbage\x81\n",  # invalid UTF-8 in a whole line
        b"\xff\xfe\x00garbage\x81",  # ... without a newline
        b'{"op_code": 4, "worker_id": "x", "stu',  # a write cut short
        b"not json at all\n\x80\x80\n",  # several damaged lines
        b'{"valid": "json but no op_code"}\n',
        (b"\xff" * 1_500_000 + b"\n") * 2,  # a damaged tail longer than the first read
    ],
)
def test_damaged_tail_is_set_aside_and_the_study_continues(study, tmp_path, garbage, capsys):
    cfg = load_study(study)
    run_study(cfg, trials=12, out=tmp_path, progress=False)
    journal = tmp_path / "study.journal"
    good = journal.read_bytes()
    with journal.open("ab") as fh:
        fh.write(garbage)
    res = run_study(cfg, trials=24, out=tmp_path, progress=False)
    assert res.n_evaluated == 24 and res.n_new == 12
    (aside,) = tmp_path.glob("study.journal.damaged-*")
    assert aside.read_bytes() == garbage  # the damaged bytes, kept as they were
    assert journal.read_bytes().startswith(good)
    assert len(_trials(journal)) == 24
    err = capsys.readouterr().err
    assert "damaged bytes" in err and aside.name in err and str(journal) in err


def test_damage_inside_the_journal_is_one_line_exit_2(study, tmp_path):
    cfg = load_study(study)
    run_study(cfg, trials=12, out=tmp_path, progress=False)
    journal = tmp_path / "study.journal"
    lines = journal.read_bytes().splitlines(keepends=True)
    lines[3] = b"\xff\xfe\x00garbage\x81\n"
    journal.write_bytes(b"".join(lines))
    before = journal.read_bytes()
    r = _dse("run", str(study), "--out", str(tmp_path), "--trials", "24", cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    err = r.stderr.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in r.stderr
    assert str(journal) in err[0] and "line 4 of" in err[0] and "not UTF-8" in err[0]
    assert journal.read_bytes() == before  # nothing touched


@pytest.mark.parametrize(
    "content",
    [
        b"trial,cores\n1,16\n",  # a CSV
        b"\x89PNG\r\n\x1a\n\x00\x00",  # binary
        b'{"some": "json"}\n{"other": 1}\n',  # JSON lines of another tool
        b'{"op_code": 99, "worker_id": "x"}\n',  # records optuna does not know
    ],
)
def test_foreign_file_is_one_line_exit_2(study, tmp_path, content):
    journal = tmp_path / "study.journal"
    journal.write_bytes(content)
    r = _dse("run", str(study), "--out", str(tmp_path), "--trials", "12", cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    err = r.stderr.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in r.stderr, r.stderr
    assert str(journal) in err[0]
    assert journal.read_bytes() == content
    assert not list(tmp_path.glob("*.damaged-*"))


SLOW_RUN = """
import sys, time
import dse
from dse.search import run_study
from dse.search.study import load_study

def slow(designs, workload, tech=None):
    time.sleep(0.05)  # keep the two runs overlapping on a fast machine
    return dse.evaluate_many(designs, workload, tech=tech)

study, out, trials, start = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
cfg = load_study(study)
time.sleep(max(0.0, start - time.time()))
res = run_study(cfg, trials=trials, out=out, progress=False, evaluate=slow)
print(res.n_new, res.n_evaluated)
"""


def test_two_runs_at_once_share_the_total(study, tmp_path):
    """Two processes started together on one folder: the journal holds exactly --trials."""
    script = tmp_path / "run.py"
    script.write_text(SLOW_RUN)
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.time() + 8.0  # after both have imported dse
    n = 240
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(study), str(out), str(n), str(start)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(2)
    ]
    results = [p.communicate(timeout=600) for p in procs]
    for p, (_, err) in zip(procs, results, strict=True):
        assert p.returncode == 0, err
    new = [int(o.split()[0]) for o, _ in results]
    evaluated = [int(o.split()[1]) for o, _ in results]
    records = _trials(out / "study.journal")
    assert len(records) == n  # the study's total, not 2 x n
    assert sum(new) == n and min(new) > 0  # both contributed, nothing counted twice
    assert evaluated == [n, n]  # each run's result holds the whole study
    origins = {r["system_attrs"]["dse:origin"] for r in records}
    assert len(origins) == 2
    # a later run reads the same n trials, numbered 0..n-1
    res = run_study(load_study(study), trials=n, out=out, progress=False)
    assert res.n_new == 0 and sorted(res.designs["trial"]) == list(range(n))


def test_a_run_after_the_study_is_complete_adds_nothing(study, tmp_path):
    cfg = load_study(study)
    run_study(cfg, trials=24, out=tmp_path, progress=False)
    res = run_study(cfg, trials=12, out=tmp_path, progress=False)
    assert res.n_new == 0 and len(_trials(tmp_path / "study.journal")) == 24


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX flock")
def test_a_killed_writer_leaves_no_lock_behind(tmp_path):
    """The journal lock dies with its process: a writer killed while holding it (SIGKILL:
    no cleanup runs) leaves the lock free at once, not after a grace period."""
    import fcntl
    import signal

    journal = tmp_path / "study.journal"
    journal.touch()
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time
            from dse.search.optuna_private import process_lock
            lock = process_lock({str(journal)!r})
            lock.acquire()
            print("held", flush=True)
            time.sleep(60)
        """)],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert holder.stdout.readline().strip() == "held"
    with open(str(journal) + ".flock", "ab") as fh:  # held: a non-blocking try fails
        with pytest.raises(BlockingIOError):
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    with open(str(journal) + ".flock", "ab") as fh:  # free the moment the holder died
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def test_a_stale_symlink_lock_is_removed_on_resume(study, tmp_path):
    """optuna's default lock, a <journal>.lock symlink, outlives a killed holder; a resume
    removes it (with one warning) instead of waiting out its grace period."""
    cfg = load_study(study)
    run_study(cfg, trials=12, out=tmp_path, progress=False)
    journal = tmp_path / "study.journal"
    os.symlink(journal, str(journal) + ".lock")
    with pytest.warns(RuntimeWarning, match="removed .*study.journal.lock, a lock left by a killed run"):
        res = run_study(cfg, trials=20, out=tmp_path, progress=False)
    assert len(res.designs) == 20 and not os.path.lexists(str(journal) + ".lock")
    assert len(_trials(journal)) == 20


def test_a_study_stored_with_other_constraint_values_is_not_resumed(tmp_path):
    # a study stored by an earlier dse carries fewer constraint values per trial (before
    # the graded beachfront): resuming it would mix them, so it stops with one line
    import optuna

    from dse.errors import DseInputError
    from dse.search import run_study
    from dse.search.study import load_study

    p = tmp_path / "s.toml"
    p.write_text(textwrap.dedent(STUDY))
    cfg = load_study(p)
    run_study(cfg, trials=8, out=tmp_path / "out", progress=False)
    storage = optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(tmp_path / "out" / "study.journal"))
    )
    study = optuna.load_study(study_name=cfg.name, storage=storage)
    old = [n for n in cfg.constraint_names if n != "beachfront"]
    study.set_user_attr("dse:constraint_names", old)
    with pytest.raises(DseInputError, match="stored by an earlier dse whose trials carry"):
        run_study(cfg, trials=16, out=tmp_path / "out", progress=False)
