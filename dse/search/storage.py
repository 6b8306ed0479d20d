"""Where a study's trials live: the journal file (checked, repaired after a torn write, locked while a run writes) or a database URL, and the durable storage every worker writes through."""

from __future__ import annotations

import contextlib
import datetime
import math
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dse.errors import DseInputError
from dse.search import optuna_private
from dse.search.study import StudyConfig

_JOURNAL_SUFFIXES = (".journal", ".log", ".jsonl")


_ORIGIN = "dse:origin"


def _is_journal(spec: str) -> bool:
    return "://" not in spec


def _journal_record_problem(line: bytes) -> str | None:
    """Why one journal line is not an optuna journal record (None when it is one)."""
    import json

    if not line.endswith(b"\n"):
        return "an unfinished last line, a write cut short"
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"bytes that are not UTF-8 text at column {exc.start + 1}"
    try:
        record = json.loads(text)
    except ValueError as exc:
        return f"text that is not JSON: {str(exc).splitlines()[0]}"
    if not isinstance(record, dict) or not isinstance(record.get("op_code"), int):
        return "JSON that is not an optuna journal record, without op_code"
    if record["op_code"] not in optuna_private.journal_op_codes():
        return f"an operation optuna does not know, op_code {record['op_code']}"
    return None


def _journal_lines(data: bytes) -> list[tuple[int, bytes]]:
    """(byte offset, line with its newline) of every line of a journal's bytes."""
    lines, start = [], 0
    while start < len(data):
        end = data.find(b"\n", start)
        end = len(data) if end < 0 else end + 1
        lines.append((start, data[start:end]))
        start = end
    return lines


def _check_journal(path: Path) -> str | None:
    """Check a journal file before optuna reads it; set a damaged tail aside.

    A damaged tail (a write cut short by a kill or power loss, bytes appended by
    something else) is moved, byte for byte, to ``<journal>.damaged-<UTC time>`` and
    cut from the journal: the records before it are the study. Only the tail is read
    here (back from the end to the last valid record); damage inside the file is found
    when optuna reads it (:func:`_journal_damage` then names the line).

    Returns
    -------
    str or None
        The warning line to print when a tail was set aside.

    Raises
    ------
    DseInputError
        The file holds no optuna journal record at all (a foreign file).
    """
    size = path.stat().st_size if path.exists() else 0
    if size == 0:
        return None
    window = 1 << 20
    with path.open("rb") as fh:
        while True:  # read back from the end until a valid record (or the start)
            start = max(0, size - window)
            fh.seek(start)
            lines = _journal_lines(fh.read(size - start))
            if start > 0:
                lines = lines[1:]  # may begin mid-line
            cut = len(lines)
            while cut > 0 and _journal_record_problem(lines[cut - 1][1]) is not None:
                cut -= 1
            if cut > 0 or start == 0:
                break
            window *= 4
    if cut == len(lines):
        return None
    if cut == 0:
        why = _journal_record_problem(lines[0][1])
        raise DseInputError(
            f"{path} is not an optuna journal: line 1 holds {why}; give another --out or "
            "--storage, or move the file away"
        )
    offset = start + lines[cut][0]
    why = _journal_record_problem(lines[cut][1])
    with path.open("rb") as fh:
        fh.seek(offset)
        damaged = fh.read()
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = path.with_name(f"{path.name}.damaged-{stamp}")
    aside.write_bytes(damaged)
    with path.open("rb+") as fh:
        fh.truncate(offset)
        fh.flush()
        os.fsync(fh.fileno())
    return (
        f"warning: {path}: {len(damaged):,} damaged bytes at its end ({why}) moved to "
        f"{aside.name}; the records before them are kept"
    )


def _journal_damage(path: Path, exc: BaseException) -> DseInputError:
    """The one-line error for a journal optuna could not read."""
    lines = _journal_lines(path.read_bytes()) if path.exists() else []
    for number, (_, line) in enumerate(lines, start=1):
        why = _journal_record_problem(line)
        if why is not None:
            return DseInputError(
                f"{path} is damaged: line {number} of {len(lines)} holds {why}, and records "
                "follow it; restore the file from a copy, or move it away to start the study afresh"
            )
    msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return DseInputError(
        f"{path} is not a journal of optuna studies this dse can read ({type(exc).__name__}: {msg}); "
        "give another --out or --storage, or move the file away"
    )


@contextlib.contextmanager
def _journal_lock(path: str):
    """An exclusive lock on a journal file (POSIX ``flock``; nothing where there is none)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(path, "ab") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NA or value is None:
        return None
    return value


class _Durable:
    """The durable optuna storage of a study: a journal file or any storage URL.

    Several processes may write one storage (``--workers``, or two ``dse run`` started
    on the same folder): :meth:`add` stores a batch only up to the study's total
    (``target``), counting every writer's trials; on a journal file the count and the
    append happen under one file lock, so the total is exact.
    """

    #: exceptions of optuna's journal reader on a file it cannot read
    _READ_ERRORS = (
        UnicodeDecodeError,
        ValueError,
        KeyError,
        TypeError,
        AttributeError,
        IndexError,
        AssertionError,
    )

    def __init__(self, spec: str, worker: str = "") -> None:
        import optuna

        self.spec = spec
        self.worker = worker
        self.journal = _is_journal(spec)
        if self.journal:
            from optuna.storages.journal import JournalFileBackend, JournalStorage

            path = Path(spec)
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.is_dir():
                raise DseInputError(f"storage {path} is a folder, not a journal file")
            if optuna_private.remove_stale_symlink_lock(str(path)):
                warnings.warn(
                    f"removed {path}.lock, a lock left by a killed run (locks here die with their process)",
                    RuntimeWarning, stacklevel=2,
                )  # fmt: skip
            self.backend = JournalFileBackend(str(path), lock_obj=optuna_private.process_lock(str(path)))
            try:
                self.storage = JournalStorage(self.backend)
            except self._READ_ERRORS as exc:
                raise _journal_damage(path, exc) from None
        else:
            try:
                self.storage = optuna.storages.get_storage(spec)
            except Exception as exc:  # noqa: BLE001 - any driver error is a user error here
                msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                raise DseInputError(f"cannot open storage '{spec}': {msg}") from None
        self.study_id: int | None = None
        self.study: Any = None
        self.n_seen = 0  # storage trials seen by this process (trial ids in order)
        self.n_stored = 0  # complete trials in the storage, as far as this process knows
        self.others: list[Any] = []  # other writers' trials read, not yet taken
        self.shared = False  # another writer's trial was seen since the first read
        self._size_mark = -1  # journal size when last read
        self._written = 0  # bytes this process appended since

    def open(self, config: StudyConfig, *, create: bool) -> Any:
        if not self.journal:
            return self._open(config, create=create)
        with _journal_lock(self.spec):
            try:
                return self._open(config, create=create)
            except self._READ_ERRORS as exc:
                if isinstance(exc, DseInputError):
                    raise
                raise _journal_damage(Path(self.spec), exc) from None

    def _open(self, config: StudyConfig, *, create: bool) -> Any:
        import optuna

        names = [s.study_name for s in self.storage.get_all_studies()]
        fp = config.fingerprint()
        if config.name in names:
            study = optuna.load_study(study_name=config.name, storage=self.storage)
            stored = study.user_attrs.get("dse:fingerprint")
            if stored != fp:
                raise DseInputError(
                    f"storage {self.spec} already holds a study '{config.name}' with a different "
                    "workload, objectives, space or constraints; use another --out or --storage"
                )
            names_then = study.user_attrs.get("dse:constraint_names")
            if names_then is not None and list(names_then) != config.constraint_names:
                raise DseInputError(
                    f"storage {self.spec}: study '{config.name}' was stored by an earlier dse "
                    f"whose trials carry the constraint values {', '.join(map(str, names_then))}, "
                    f"not {', '.join(config.constraint_names)}; use another --out or --storage"
                )
        elif not create:
            raise DseInputError(f"storage {self.spec} holds no study '{config.name}'")
        else:
            directions = config.directions
            try:
                study = optuna.create_study(
                    storage=self.storage,
                    study_name=config.name,
                    directions=directions,
                    load_if_exists=True,
                )
            except Exception as exc:  # noqa: BLE001
                raise DseInputError(
                    f"cannot create study in storage '{self.spec}': {str(exc).splitlines()[0]}"
                ) from None
            if "dse:fingerprint" not in study.user_attrs:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    study.set_metric_names(config.metric_names)
                study.set_user_attr("dse:fingerprint", fp)
                study.set_user_attr("dse:config", config.to_dict())
                study.set_user_attr("dse:constraint_names", config.constraint_names)
        self.study = study
        self.study_id = optuna_private.study_id(study)
        return study

    def new_trials(self) -> list[Any]:
        """Finished trials appended since the last call (any worker)."""
        from optuna.trial import TrialState

        if self.journal:
            self._size_mark = os.path.getsize(self.spec)
            self._written = 0
        try:
            trials = self.storage.get_all_trials(self.study_id, deepcopy=False)
        except self._READ_ERRORS as exc:
            if not self.journal:
                raise
            raise _journal_damage(Path(self.spec), exc) from None
        fresh = trials[self.n_seen :]
        self.n_seen = len(trials)
        return [t for t in fresh if t.state == TrialState.COMPLETE]

    def load(self) -> list[Any]:
        """The stored complete trials at the start of a run (sets the count)."""
        old = self.new_trials()
        self.n_stored = len(old)
        return old

    def _sync(self) -> None:
        """Read the other writers' new trials into ``others`` (a journal only when it grew)."""
        if self.journal and self.sole_writer():
            return
        fresh = [t for t in self.new_trials() if t.system_attrs.get(_ORIGIN) != self.worker]
        if fresh:
            self.shared = True
            self.others.extend(fresh)
            self.n_stored += len(fresh)

    def take_others(self) -> list[Any]:
        """The other writers' trials read since the last call (read the storage first)."""
        if self.journal:
            with _journal_lock(self.spec):
                self._sync()
        else:
            self._sync()
        others, self.others = self.others, []
        return others

    def complete(self) -> list[Any]:
        from optuna.trial import TrialState

        return self.storage.get_all_trials(
            self.study_id, deepcopy=False, states=(TrialState.COMPLETE,)
        )

    def n_complete(self) -> int:
        return len(self.complete())

    def add(self, trials: list[Any], target: int | None = None) -> int:
        """Store finished trials, at most up to ``target`` complete trials in the storage.

        A journal gets one record per trial in one write + fsync, under the journal's
        lock after reading the other writers' trials, so the study never exceeds
        ``target``; other storages are read first and then written (several writers
        may then exceed ``target`` by less than a batch each).

        Returns
        -------
        int
            Trials stored (the first ones of ``trials``); fewer than given once the
            study holds ``target``.
        """
        if not trials:
            return 0
        if not self.journal:
            self._sync()
            if target is not None:
                trials = trials[: max(0, target - self.n_stored)]
            if trials:
                self.study.add_trials(trials)
            self.n_stored += len(trials)
            return len(trials)
        with _journal_lock(self.spec):
            self._sync()
            if target is not None:
                trials = trials[: max(0, target - self.n_stored)]
            if trials:
                self._append(trials)
            self.n_stored += len(trials)
        return len(trials)

    def _append(self, trials: list[Any]) -> None:
        worker = f"dse-{os.getpid()}"
        assert self.study_id is not None  # set by open()
        logs = [optuna_private.create_trial_record(t, self.study_id, worker) for t in trials]
        before = os.path.getsize(self.spec)
        self.backend.append_logs(logs)
        self._written += os.path.getsize(self.spec) - before

    def sole_writer(self) -> bool:
        """Whether only this process appended to the journal since the last read."""
        return (
            self.journal
            and self._size_mark >= 0
            and os.path.getsize(self.spec) == self._size_mark + self._written
        )


def _storage_spec(storage: str | None, out: str | Path | None) -> str | None:
    if storage is not None:
        text = str(storage)
        if "://" in text:
            return text
        if not text.endswith(_JOURNAL_SUFFIXES):
            raise DseInputError(
                f"storage '{text}': give an optuna URL (sqlite:///x.db, postgresql://...) or a journal file path ending in .journal or .log"
            )
        return str(Path(text).resolve())
    if out is not None:
        return str((Path(out) / "study.journal").resolve())
    return None
