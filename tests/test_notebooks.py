"""The notebooks execute top to bottom on a fresh clone (outputs are not stored)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from conftest import load_module
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_executes(path, tmp_path, monkeypatch):
    nb = nbformat.read(path, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), (
        "store notebooks with outputs cleared"
    )
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # files the notebooks write go to tmp_path
    # like Jupyter: the kernel runs in the notebook's folder (studies/ is at ../studies)
    client = NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()
    errors = [
        o
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    assert not errors


def test_notebooks_are_generated_by_the_script():
    """notebooks/*.ipynb are what scripts/make_notebooks.py writes (edit the script, rerun it)."""
    made = load_module(ROOT / "scripts" / "make_notebooks.py").NOTEBOOKS
    assert set(made) <= {p.name for p in NOTEBOOKS}
    for name, cells in made.items():
        stored = nbformat.read(ROOT / "notebooks" / name, as_version=4)
        assert [c.source for c in stored.cells] == [c.source for c in cells], name


def test_notebooks_are_paired_with_their_scripts():
    """Each notebook has a jupytext twin (notebooks/NAME.py, percent format) holding the
    same cells, so a change to a notebook reads as a diff of a Python script."""
    jupytext = pytest.importorskip("jupytext")
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        assert nb.metadata["jupytext"]["formats"] == "ipynb,py:percent", path.name
        twin = jupytext.read(path.with_suffix(".py"))
        assert [(c.cell_type, c.source) for c in twin.cells] == [
            (c.cell_type, c.source) for c in nb.cells
        ], path.name
