"""Every CSV dse writes has a ``<name>.meta.json`` sidecar that traces it and reruns it."""

from __future__ import annotations

import datetime
import hashlib
import json
import platform
import shlex
import subprocess
import sys
import textwrap
from importlib import metadata
from pathlib import Path

import pandas as pd
import pytest

import dse
from dse import report as R
from dse.report import metadata as R_metadata
from dse.report import write as R_write
from dse.search.study import load_study

ROOT = Path(__file__).resolve().parents[1]

TINY = """
[study]
name = "tiny_meta"
workload = "llm-decode:llama-3-8b:batch=8,context=1024"
trials = 24
seed = 3
sampler = "nsga2"
scenario = "china-domestic-2025"
[study.objectives]
tokens_per_s = "maximize"
unit_cost_usd = "minimize"
[study.sampler_options]
population_size = 8

[fixed]
tdp_w = 350
cooling = "air"
clock_ghz = 1.5
sram_mb = 64

[space]
node = ["smic-n2", "smic-n1"]
cores = [32, 64, 128]
macs_per_core = [512, 1024]
memory = ["hbm2e", "lpddr5"]
memory_count = [2, 4]

[constraints]
max_power_w = 350
"""


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("study") / "tiny_meta.toml"
    p.write_text(textwrap.dedent(TINY))
    return p


def dse_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [sys.executable, "-m", "dse", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check_common(meta: dict, csv: Path, study: Path) -> None:
    assert meta["format"] == R_metadata.METADATA_FORMAT
    assert meta["file"] == csv.name
    assert meta["rows"] == len(pd.read_csv(csv))
    assert meta["dse_version"] == dse.__version__
    created = datetime.datetime.fromisoformat(meta["created_utc"])
    assert created.utcoffset() == datetime.timedelta(0)
    assert abs(datetime.datetime.now(datetime.UTC) - created) < datetime.timedelta(minutes=10)
    s = meta["study"]
    assert s["name"] == "tiny_meta"
    assert s["file"]["absolute_path"] == str(study.resolve())
    assert s["file"]["sha256"] == sha256(study)
    assert s["fingerprint"] == load_study(study).fingerprint()
    assert s["workload"] == "llm-decode:llama-3-8b:batch=8,context=1024"
    assert s["scenario"]["name"] == "china-domestic-2025"
    assert s["scenario"]["file"]["sha256"]
    assert s["objectives"] == {"tokens_per_s": "maximize", "unit_cost_usd": "minimize"}
    assert s["config"] == load_study(study).to_dict()  # the study, even if its file is lost
    env = meta["environment"]
    assert env["python"] == platform.python_version()
    for name in ("numpy", "pandas", "optuna"):
        assert env[name] == metadata.version(name)


def test_run_writes_a_sidecar_per_csv_that_reruns_it(tiny, tmp_path):
    out = tmp_path / "out"
    dse_cli("run", str(tiny), "--trials", "16", "--seed", "5", "--out", str(out), cwd=tmp_path)
    for name in ("pareto.csv", "trials.csv"):
        csv = out / name
        meta = R.read_csv_metadata(csv)
        assert meta == json.loads((out / f"{name}.meta.json").read_text())
        check_common(meta, csv, tiny)
        assert meta["command"].startswith("python -m dse run ")
        assert "--seed 5" in meta["command"]
        assert meta["cwd"] == str(tmp_path)
        search = meta["search"]
        assert search["kind"] == "optuna"
        assert search["seed"] == 5  # the command line's, not the study's 3
        assert search["sampler"] == "nsga2"
        assert search["trials"] == 16 and search["new_trials"] == 16
        assert search["storage"] == str((out / "study.journal").resolve())
        assert search["workers"] == 1
    # the summary says how to rerun, too
    assert "- Rerun: `dse run " in (out / "summary.md").read_text()
    # the rerun command, in a fresh folder, gives the same designs
    meta = R.read_csv_metadata(out / "pareto.csv")
    args = shlex.split(meta["rerun"])
    assert args[:3] == ["dse", "run", str(tiny.resolve())]
    again = tmp_path / "again"
    args[args.index("--out") + 1] = str(again)
    dse_cli(*args[1:], cwd=ROOT)
    for name in ("pareto.csv", "trials.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(out / name), pd.read_csv(again / name))


def test_grid_csvs_have_sidecars(tiny, tmp_path):
    out = tmp_path / "grid"
    dse_cli("grid", str(tiny), "--out", str(out), cwd=tmp_path)
    for name in ("pareto.csv", "trials.csv"):
        meta = R.read_csv_metadata(out / name)
        check_common(meta, out / name, tiny)
        assert meta["search"]["kind"] == "grid" and meta["search"]["trials"] == 2 * 3 * 2 * 2 * 2
        assert meta["search"]["storage"] is None
        assert shlex.split(meta["rerun"]) == [
            "dse",
            "grid",
            str(tiny.resolve()),
            "--out",
            str(out.resolve()),
        ]


def test_library_outputs_and_a_study_without_file(tiny, tmp_path):
    config = load_study(tiny)
    result = dse.run_study(config, trials=8, progress=False)
    files = R.write_outputs(result, tmp_path / "a")
    meta = R.read_csv_metadata(files["trials"])
    assert files["trials_meta"].name == "trials.csv.meta.json"
    assert meta["search"]["storage"] is None and meta["search"]["trials"] == 8
    assert "--storage" not in meta["rerun"]
    # a study built in code has no file: no rerun command, the config is still recorded
    nofile = type(config)(**{**config.__dict__, "path": None})
    result.study = nofile
    meta = R.read_csv_metadata(R.write_outputs(result, tmp_path / "b")["pareto"])
    assert meta["rerun"] is None and meta["study"]["file"] is None
    assert meta["study"]["config"]["name"] == "tiny_meta"


def test_reduced_trials_csv_says_so(tiny, tmp_path, monkeypatch):
    result = dse.grid(load_study(tiny), progress=False)
    original = R.trials_for_csv
    monkeypatch.setattr(R_write, "trials_for_csv", lambda d, p, **kw: original(d, p, max_rows=10))
    files = R.write_outputs(result, tmp_path)
    meta = R.read_csv_metadata(files["trials"])
    assert meta["rows"] == len(pd.read_csv(files["trials"])) == 10
    assert meta["note"].startswith("trials.csv holds 10 of 48 rows")
    assert R.read_csv_metadata(files["pareto"])["note"] == ""
