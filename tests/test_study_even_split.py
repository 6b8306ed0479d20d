"""A study whose space can pick cores (or spare cores) that its dies cannot split evenly is
refused when it is loaded, with one line, instead of stopping mid-run on the first such
design (a chip file and ``evaluate_many`` refuse an uneven split)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dse.errors import DseInputError
from dse.search.study import load_study

ROOT = Path(__file__).resolve().parents[1]
STUDY = (ROOT / "studies" / "chiplets_beyond_reticle.toml").read_text(encoding="utf-8")
CORES = "cores = { low = 32, high = 384, step = 32 }"


def _load(tmp_path: Path, text: str):
    path = tmp_path / "s.toml"
    path.write_text(text, encoding="utf-8")
    return load_study(path)


def test_the_packaged_chiplet_study_splits_evenly(tmp_path):
    study = _load(tmp_path, STUDY)
    assert set(study.space["dies"].choices) == {1, 2, 4}


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (CORES, "cores = { low = 32, high = 384, step = 2 }", "steps of 2 does not split evenly over dies = 4"),
        (CORES, "cores = { low = 30, high = 382, step = 32 }", "from 30 in steps of 32"),
        (CORES, "cores = [64, 96, 130]", "value 130 does not split evenly over dies = 4"),
        ("dies = [1, 2, 4]", "dies = [1, 3]", "over dies = 3"),
    ],
)
def test_an_uneven_split_is_refused_at_load(tmp_path, old, new, message):
    assert old in STUDY
    with pytest.raises(DseInputError, match=message):
        _load(tmp_path, STUDY.replace(old, new))


def test_fixed_cores_and_spares_are_checked(tmp_path):
    text = STUDY.replace(CORES, "").replace("[fixed]\n", "[fixed]\ncores = 96\nspare_cores = 2\n")
    with pytest.raises(DseInputError, match="spare_cores = 2 does not split evenly over dies = 4"):
        _load(tmp_path, text)
    assert _load(tmp_path, text.replace("spare_cores = 2", "spare_cores = 4")).fixed["cores"] == 96


def test_one_die_accepts_any_core_count(tmp_path):
    text = STUDY.replace("dies = [1, 2, 4]", "dies = [1]").replace(CORES, "cores = { low = 31, high = 97, step = 3 }")
    assert _load(tmp_path, text).space["cores"].step == 3


def test_the_cli_says_it_in_one_line(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(STUDY.replace("dies = [1, 2, 4]", "dies = [1, 3]"), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "dse", "run", str(path), "--trials", "5", "--out", str(tmp_path / "o")],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "split evenly over dies = 3" in done.stderr
    assert "Traceback" not in done.stderr
