"""Shared fixtures: example chips and a helper to run the command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import dse

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def a100():
    return dse.example_chip("a100-like")


@pytest.fixture(scope="session")
def h100():
    return dse.example_chip("h100-like")


def load_module(path: Path):
    """Import a script (``scripts/*.py``, ``studies/*.py``) by file path, as a module."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``python -m dse ARGS`` and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "dse", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
    )
