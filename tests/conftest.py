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


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``python -m dse ARGS`` and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "dse", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
    )
