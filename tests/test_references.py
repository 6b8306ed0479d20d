"""Every file a user is pointed to ships with the repository (issue 17, item 5)."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import ROOT, run_cli

#: names of files outside the repository that outputs and docs once cited
FOREIGN = re.compile(r"shared/reference|DESIGN\.md|STYLE\.md")
CITED = re.compile(r"docs/reference/([A-Za-z0-9_.-]+\.(?:md|csv))")
TEXT = (".py", ".md", ".toml", ".csv", ".ipynb", ".json", ".yml")


def _files():
    for top in ("dse", "docs", "studies", "notebooks", "scripts", "benchmarks"):
        for path in sorted((ROOT / top).rglob("*")):
            if path.suffix in TEXT and "reference" not in path.relative_to(ROOT).parts[1:2]:
                yield path
    yield ROOT / "README.md"


def _check(path: Path, text: str) -> list[str]:
    problems = [f"{path}: names {m.group(0)}" for m in FOREIGN.finditer(text)]
    problems += [
        f"{path}: cites docs/reference/{m.group(1)}, which does not exist"
        for m in CITED.finditer(text)
        if not (ROOT / "docs" / "reference" / m.group(1)).exists()
    ]
    return problems


def test_package_docs_and_studies_cite_only_files_in_the_repository():
    problems = [p for path in _files() for p in _check(path, path.read_text(errors="replace"))]
    assert not problems, "\n".join(problems[:20])


def test_the_checker_catches_a_foreign_citation(tmp_path):
    assert _check(tmp_path / "x.md", "see ../shared/reference/nodes.md and DESIGN.md §4")
    assert _check(tmp_path / "x.md", "docs/reference/no-such-file.md")
    assert not _check(tmp_path / "x.md", "docs/reference/nodes.md")


def test_a_fresh_study_cites_only_files_in_the_repository(tmp_path):
    out = tmp_path / "out"
    r = run_cli("run", str(ROOT / "studies" / "domestic_7nm_decode_400w.toml"), "--trials", "30", "--out", str(out), "--quiet")
    assert r.returncode == 0, r.stderr
    problems = [p for f in sorted(out.iterdir()) if f.suffix in TEXT for p in _check(f, f.read_text())]
    assert not problems, "\n".join(problems)


def test_grid_limit_names_the_flag_that_raises_it(tmp_path):
    study = ROOT / "studies" / "thermal_hotspot_prefill.toml"  # 1,470 grid points
    r = run_cli("grid", str(study), "--max-points", "100", "--out", str(tmp_path / "g"), "--quiet")
    assert r.returncode == 2 and "--max-points" in r.stderr and "1,470 grid points" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    bad = run_cli("grid", str(study), "--max-points", "0")
    assert bad.returncode == 2 and "positive integer" in bad.stderr
