"""Provenance of every output: the sidecar metadata of each CSV (inputs, their hashes, the environment, the command that reruns it) and how to read it back."""

from __future__ import annotations

import datetime
import hashlib
import json
import platform
import shlex
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

#: the metadata sidecar of ``x.csv`` is ``x.csv`` + this
METADATA_SUFFIX = ".meta.json"


#: format version of the sidecar (bumped when a field changes meaning)
METADATA_FORMAT = 1


#: packages whose versions the sidecar records
_ENV_PACKAGES = ("numpy", "pandas", "scipy", "optuna")


#: chip keys that override derived values; written only when the study sets them, since
#: the metric of the same name holds the derived value
_OVERRIDE_KEYS = ("memory_bandwidth_gbps", "memory_capacity_gb")


def _tech_path(study: Any) -> str | None:
    path = getattr(study, "tech_path", None)
    return str(path) if path else None


def _study_tech(study: Any) -> Any:
    """The study's technology tables (None: the packaged ones)."""
    path = _tech_path(study)
    if path is None:
        return None
    from dse.tech import load_tech

    return load_tech(path)


def _sha256(path: Any) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except (OSError, TypeError):
        return None


def _file_record(path: Any) -> dict[str, Any] | None:
    if not path:
        return None
    p = Path(str(path))
    return {"path": str(p), "absolute_path": str(p.resolve()), "sha256": _sha256(p)}


def _git_revision() -> str | None:
    """``git describe`` of the checkout dse runs from (None when not a git checkout)."""
    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        return None
    try:
        done = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--abbrev=12"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.strip() or None


def _command_line() -> str | None:
    """The command line of this process (``python -m dse ...`` shown as such)."""
    argv = list(sys.argv)
    if not argv or not argv[0]:
        return None  # embedded interpreter
    first = Path(argv[0])
    if first.name == "__main__.py" and first.parent.name == "dse":
        argv[:1] = ["python", "-m", "dse"]
    return shlex.join(argv)


def _environment() -> dict[str, Any]:
    from importlib import metadata

    versions: dict[str, Any] = {"python": platform.python_version()}
    for name in _ENV_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    versions["platform"] = platform.platform()
    return versions


def rerun_command(result: Any, out_dir: str | Path | None = None) -> str | None:
    """A ``dse`` command that reruns the search behind a result (None without a study file).

    ``dse run STUDY --trials N --seed S --sampler X [--storage URL] --out DIR`` for an
    optuna study (N = the trials it holds; with the same seed, sampler and a fresh
    storage a single-worker run repeats the same trials), ``dse grid STUDY --out DIR``
    for a grid. Paths are absolute.

    Parameters
    ----------
    result : StudyResult
        The result (``study.path``, ``kind``, ``n_evaluated``, ``seed``, ``sampler``,
        ``storage``).
    out_dir : str or pathlib.Path, optional
        Output folder to name in ``--out``.

    Returns
    -------
    str or None
    """
    study = result.study
    path = getattr(study, "path", None)
    if not path:
        return None
    args = ["dse"]
    kind = getattr(result, "kind", "optuna")
    if kind == "grid":
        args += ["grid", str(Path(path).resolve())]
    else:
        args += ["run", str(Path(path).resolve())]
        n = int(getattr(result, "n_evaluated", 0) or 0) or len(result.designs)
        args += ["--trials", str(n)]
        seed = getattr(result, "seed", None)
        if seed is None:
            seed = getattr(study, "seed", None)
        if seed is not None:
            args += ["--seed", str(seed)]
        sampler = getattr(result, "sampler", "") or getattr(study, "sampler", "")
        if sampler:
            args += ["--sampler", str(sampler)]
        storage = getattr(result, "storage", None)
        default = str((Path(out_dir) / "study.journal").resolve()) if out_dir else None
        if storage and storage != default:
            args += ["--storage", str(storage)]
        workers = int(getattr(result, "workers", 1) or 1)
        if workers > 1:
            args += ["--workers", str(workers)]
    if out_dir is not None:
        args += ["--out", str(Path(out_dir).resolve())]
    return shlex.join(args)


def csv_metadata(
    result: Any,
    csv_path: str | Path,
    *,
    rows: int | None = None,
    note: str = "",
    created: datetime.datetime | None = None,
) -> dict[str, Any]:
    """The provenance of a CSV written from a study result (the ``.meta.json`` sidecar).

    Parameters
    ----------
    result : StudyResult
        The result the CSV was written from.
    csv_path : str or pathlib.Path
        The CSV.
    rows : int, optional
        Data rows in the CSV.
    note : str
        How the rows were selected, when not all of them are there.
    created : datetime.datetime, optional
        Time stamp (default: now, UTC).

    Returns
    -------
    dict
        JSON-serialisable: ``format``, ``file``, ``rows``, ``note``, ``created_utc``,
        ``dse_version``, ``dse_git`` (``git describe`` of a source checkout, else None),
        ``command`` (the process's command line) and ``cwd``, ``rerun`` (see
        :func:`rerun_command`), ``study`` (``name``, ``file`` with ``path``,
        ``absolute_path`` and ``sha256``, ``fingerprint``, ``workload``, ``scenario``
        with its file, ``tech`` file, ``objectives``, ``config``: the whole validated
        study), ``search`` (``kind``, ``sampler``, ``seed``, ``trials`` evaluated,
        ``new_trials``, ``feasible``, ``pareto``, ``workers``, ``storage``,
        ``elapsed_s``) and ``environment`` (python, numpy, pandas, scipy, optuna,
        platform).
    """
    from dse import __version__

    study = result.study
    created = created or datetime.datetime.now(datetime.UTC)
    scenario = getattr(study, "scenario", None)
    scenario_name = scenario if isinstance(scenario, str) or scenario is None else None
    if scenario_name is None:
        scenario_name = (
            scenario.get("name")
            if isinstance(scenario, Mapping)
            else getattr(scenario, "name", None)
        )
    config = None
    if callable(getattr(study, "to_dict", None)):
        config = study.to_dict()
    fingerprint = study.fingerprint() if callable(getattr(study, "fingerprint", None)) else None
    designs = getattr(result, "designs", None)
    n_eval = int(getattr(result, "n_evaluated", 0) or 0) or (
        len(designs) if designs is not None else 0
    )
    elapsed = getattr(result, "elapsed", None)
    seed = getattr(result, "seed", None)
    meta = {
        "format": METADATA_FORMAT,
        "file": Path(csv_path).name,
        "rows": rows,
        "note": note,
        "created_utc": created.astimezone(datetime.UTC).isoformat(timespec="seconds"),
        "dse_version": __version__,
        "dse_git": _git_revision(),
        "command": _command_line(),
        "cwd": str(Path.cwd()),
        "rerun": rerun_command(result, Path(csv_path).parent),
        "study": {
            "name": getattr(study, "name", None),
            "file": _file_record(getattr(study, "path", None)),
            "fingerprint": fingerprint,
            "workload": getattr(study, "workload", None),
            "scenario": {
                "name": scenario_name,
                "file": _file_record(getattr(scenario, "path", None)),
            },
            "tech": _file_record(getattr(study, "tech_path", None)),
            "objectives": dict(getattr(study, "objectives", {}) or {}),
            "config": config,
        },
        "search": {
            "kind": getattr(result, "kind", None),
            "sampler": getattr(result, "sampler", None) or getattr(study, "sampler", None),
            "seed": seed if seed is not None else getattr(study, "seed", None),
            "trials": n_eval,
            "new_trials": getattr(result, "n_new", None),
            "feasible": getattr(result, "n_feasible", None),
            "pareto": len(result.pareto),
            "workers": getattr(result, "workers", None),
            "storage": getattr(result, "storage", None),
            "elapsed_s": float(elapsed) if isinstance(elapsed, int | float) else None,
        },
        "environment": _environment(),
    }
    return json.loads(json.dumps(meta, default=_json_default))


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    return str(value)


def _write_metadata(meta: dict[str, Any], csv_path: Path) -> Path:
    path = csv_path.with_name(csv_path.name + METADATA_SUFFIX)
    path.write_text(json.dumps(meta, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    return path


def read_csv_metadata(csv_path: str | Path) -> dict[str, Any]:
    """The metadata sidecar of a CSV written by dse (``<csv>.meta.json``).

    Parameters
    ----------
    csv_path : str or pathlib.Path
        The CSV (or the sidecar itself).

    Returns
    -------
    dict
        See :func:`csv_metadata`.

    Raises
    ------
    FileNotFoundError
        When the CSV has no sidecar.
    """
    p = Path(csv_path)
    if not p.name.endswith(METADATA_SUFFIX):
        p = p.with_name(p.name + METADATA_SUFFIX)
    return json.loads(p.read_text(encoding="utf-8"))
