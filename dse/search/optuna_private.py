"""Every use of optuna's private API, in one place.

dse reaches past optuna's public API for three things; each is here, so that an optuna
release that changes them breaks one module (``pyproject.toml`` bounds optuna to the
major versions this was written and tested against, 4 and 5):

* **Appending finished trials to a journal in one write** (:func:`create_trial_record`,
  :func:`journal_op_codes`): a journal record is optuna's ``CREATE_TRIAL`` operation of
  its journal storage (``optuna.storages.journal._storage.JournalOperation``).
  ``tests/test_search.py`` reads a journal written this way back with optuna's stock
  ``JournalStorage`` (``optuna.load_study``) and checks every trial.
* **Identifying a study and its stored trials** (:func:`study_id`,
  :func:`stored_trial`): ``Study._study_id``, ``Study._storage``, ``FrozenTrial._trial_id``;
  and the system attribute optuna's samplers read constraint values from
  (:data:`CONSTRAINTS_ATTR`), which dse writes for trials it stores itself.
* **A journal lock that dies with its process** (:func:`process_lock`): a subclass of
  optuna's ``BaseJournalFileLock`` on POSIX ``flock``.
* **An NSGA-II sampler without per-trial scans** (:func:`fast_nsga2_class`): a subclass
  of ``optuna.samplers.NSGAIISampler`` that overrides its generation bookkeeping and reads
  its private attributes (``_population_size``, ``_search_space``, the generation key,
  the study's trial cache).
* **A sampler's random state, saved and restored** (:func:`sampler_rng_state`,
  :func:`set_sampler_rng_state`): the numpy ``RandomState`` objects optuna's samplers
  keep in private attributes (a ``LazyRandomState`` in ``_rng``, nested samplers such as
  ``_random_sampler``), so that a resumed study continues the random stream of the
  uninterrupted run (``tests/test_resume_equal.py``).
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Sequence
from typing import Any

#: the system attribute optuna's samplers read a trial's constraint values from
#: (``optuna.study._constrained_optimization._CONSTRAINTS_KEY``)
CONSTRAINTS_ATTR = "constraints"


def journal_op_codes() -> frozenset[int]:
    """The operation codes of optuna's journal storage."""
    from optuna.storages.journal._storage import JournalOperation

    return frozenset(int(op) for op in JournalOperation)


def create_trial_record(trial: Any, study_id: int, worker: str) -> dict[str, Any]:
    """One finished trial as the journal record optuna writes when a trial is created
    finished (``CREATE_TRIAL`` with its values, parameters and attributes)."""
    from optuna.distributions import distribution_to_json
    from optuna.storages.journal._storage import JournalOperation

    start = trial.datetime_start.astimezone(datetime.UTC).isoformat(timespec="microseconds")
    done = trial.datetime_complete.astimezone(datetime.UTC).isoformat(timespec="microseconds")
    return {
        "op_code": int(JournalOperation.CREATE_TRIAL),
        "worker_id": worker,
        "study_id": study_id,
        "datetime_start": start,
        "state": int(trial.state),
        "value": None,
        "values": list(trial.values),
        "datetime_complete": done,
        "distributions": {k: distribution_to_json(d) for k, d in trial.distributions.items()},
        "params": {k: trial.distributions[k].to_internal_repr(v) for k, v in trial.params.items()},
        "user_attrs": trial.user_attrs,
        "system_attrs": trial.system_attrs,
        "intermediate_values": {},
    }


def process_lock(journal_path: str) -> Any:
    """A lock for optuna's ``JournalFileBackend`` that dies with its process.

    optuna's default lock is a ``<journal>.lock`` symlink: a process killed while holding
    it leaves it behind, and the next run waits out a 30 s grace period with warnings.
    This one takes a POSIX ``flock`` on ``<journal>.flock``, which the operating system
    releases the moment the holder exits, however it ends. None (optuna's default) where
    there is no ``flock``. A ``<journal>.lock`` left by optuna's own lock is removed
    (:func:`remove_stale_symlink_lock`).
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        return None
    from optuna.storages.journal._file import BaseJournalFileLock

    class _FlockLock(BaseJournalFileLock):
        def __init__(self, path: str) -> None:
            self.path = path + ".flock"
            self._fh: Any = None

        def acquire(self) -> bool:
            fh = open(self.path, "ab")  # noqa: SIM115 - held until release()
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            self._fh = fh
            return True

        def release(self) -> None:
            fh, self._fh = self._fh, None
            if fh is not None:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
                fh.close()

    return _FlockLock(journal_path)


def remove_stale_symlink_lock(journal_path: str) -> bool:
    """Remove the ``<journal>.lock`` optuna's default lock leaves when its holder is
    killed (dse's writers lock with :func:`process_lock` instead, so such a file is
    stale). Returns whether one was removed."""
    import os

    from optuna.storages.journal._file import LOCK_FILE_SUFFIX

    lock = journal_path + LOCK_FILE_SUFFIX
    if os.path.lexists(lock):
        os.unlink(lock)
        return True
    return False


def study_id(study: Any) -> int:
    """The storage's id of an optuna study."""
    return study._study_id


def stored_trial(study: Any, trial: Any) -> Any:
    """The trial as the study's storage holds it now (after ``tell``)."""
    return study._storage.get_trial(trial._trial_id)


class _GenerationIndex:
    """Complete trials of one in-memory study counted by NSGA-II generation, incrementally.

    optuna's genetic samplers find a new trial's generation and the parents of a
    generation by scanning every trial of the study, once per trial: the cost of a
    trial grows with the study (a 10,000-trial study spends most of its time there).
    This index reads only the trials added or finished since its last call.
    """

    def __init__(self, key: str) -> None:
        self.key = key
        self.scanned = 0  # trials (by number) looked at
        self.open: set[int] = set()  # numbers of trials not finished when looked at
        self.by_generation: dict[int, list[int]] = {}  # complete trial numbers
        self.max_generation = 0

    def update(self, trials: Sequence[Any]) -> None:
        from optuna.trial import TrialState

        fresh = range(self.scanned, len(trials))
        for number in sorted(self.open.union(fresh)):
            state = trials[number].state
            if state == TrialState.COMPLETE:
                self.open.discard(number)
                g = trials[number].system_attrs.get(self.key, -1)
                self.by_generation.setdefault(g, []).append(number)
                if g > self.max_generation:
                    self.max_generation = g
            elif state.is_finished():
                self.open.discard(number)
            else:
                self.open.add(number)
        self.scanned = len(trials)

    def count(self, generation: int) -> int:
        return len(self.by_generation.get(generation, ()))

    def numbers(self, generation: int) -> list[int]:
        """Trial numbers of a generation's complete trials, in trial order."""
        return sorted(self.by_generation.get(generation, ()))


@functools.cache
def fast_nsga2_class() -> Any:
    """optuna's NSGAIISampler with its per-trial scans replaced by :class:`_GenerationIndex`.

    The trials it proposes are the same, trial for trial, as optuna's own sampler with
    the same seed (``tests/test_search.py`` compares them): the generation of a trial is
    still the highest generation among the complete trials, or the next one once that
    generation holds ``population_size`` trials, and a generation's parents are selected
    once and then served from memory in optuna's order (trial order). Used on the
    in-memory study of :func:`_loop` (single study, trials numbered 0, 1, ...); optuna
    versions without the genetic-sampler base class get optuna's sampler unchanged.

    One difference, on resume only: a generation whose parents are asked for while it
    already holds complete trials (loaded from the storage) gets them in trial order, as
    the uninterrupted run does after its first trial; optuna's sampler, which keeps its
    cache of parents in the in-memory study, selects them afresh and serves the first
    asker in the order of the selection, so its resumed study drifts from its
    uninterrupted one where the order matters (a parent drawn by index, ties in the
    crowding-distance cut of the next generation).
    """
    from optuna.samplers import NSGAIISampler

    if not hasattr(NSGAIISampler, "get_trial_generation"):
        return NSGAIISampler

    class _NSGAIISampler(NSGAIISampler):
        # (no __init__: make_sampler reads the keyword arguments of optuna's)
        _index: dict[int, _GenerationIndex]
        _parents: dict[tuple[int, int], list[Any]]

        def _trials(self, study: Any) -> Any:
            trials = study._get_trials(deepcopy=False, use_cache=True)
            if not hasattr(self, "_index"):
                self._index, self._parents = {}, {}
            index = self._index.setdefault(
                study._study_id, _GenerationIndex(self._get_generation_key())
            )
            index.update(trials)
            return trials, index

        def infer_relative_search_space(self, study: Any, trial: Any) -> dict[str, Any]:
            # optuna's, on the trials the study caches for this trial (optuna's own call
            # copies the list of all trials once more per trial)
            space = self._search_space.calculate(study, use_cache=True)
            return {name: d for name, d in space.items() if not d.single()}

        def get_trial_generation(self, study: Any, trial: Any) -> int:
            generation = trial.system_attrs.get(self._get_generation_key(), None)
            if generation is not None:
                return generation
            _, index = self._trials(study)
            g = index.max_generation
            if index.count(g) >= self._population_size:
                g += 1
            study._storage.set_trial_system_attr(trial._trial_id, self._get_generation_key(), g)
            return g

        def get_population(self, study: Any, generation: int) -> list[Any]:
            trials, index = self._trials(study)
            return [trials[n] for n in index.numbers(generation)]

        def get_parent_population(self, study: Any, generation: int) -> list[Any]:
            if generation == 0:
                return []
            _, index = self._trials(study)
            key = (study._study_id, generation)
            cached = self._parents.get(key)
            if cached is not None:
                return cached
            parents = super().get_parent_population(study, generation)
            # later calls of optuna's sampler return the cached parents in trial order
            self._parents[key] = sorted(parents, key=lambda t: t.number)
            if index.count(generation):
                # the generation has complete trials: its parents were selected when its
                # first trial was asked, by an earlier run of a resumed study, and the
                # uninterrupted run serves them in trial order from then on
                return self._parents[key]
            return parents

    # the same system-attribute names as optuna's sampler: stored trials stay readable
    _NSGAIISampler._GENERATION_KEY = NSGAIISampler._GENERATION_KEY
    _NSGAIISampler._PARENT_CACHE_KEY_PREFIX = NSGAIISampler._PARENT_CACHE_KEY_PREFIX
    return _NSGAIISampler


def _sampler_rngs(sampler: Any) -> list[Any]:
    """The numpy ``RandomState`` objects of an optuna sampler and of the samplers it
    holds (NSGA-II and TPE: their own and their ``RandomSampler``'s; GP: its own and its
    independent sampler's), in a fixed order (attribute names sorted, depth first), each
    once (NSGA-II's child-generation strategy shares the sampler's)."""
    import numpy as np
    from optuna.samplers import BaseSampler
    from optuna.samplers._lazy_random_state import LazyRandomState

    found: list[Any] = []
    seen: set[int] = set()

    def walk(obj: Any) -> None:
        attrs = vars(obj)
        for name in sorted(attrs):
            value = attrs[name]
            if isinstance(value, BaseSampler):
                walk(value)
                continue
            if isinstance(value, LazyRandomState):
                value = value.rng
            if isinstance(value, np.random.RandomState) and id(value) not in seen:
                seen.add(id(value))
                found.append(value)

    walk(sampler)
    return found


def sampler_rng_state(sampler: Any) -> list[list[Any]]:
    """The random state of an optuna sampler as JSON values (one ``[key, pos,
    has_gauss, cached_gaussian]`` per ``RandomState``, the 624-word Mersenne Twister
    key in base64: about 3.4 kB each)."""
    import base64

    import numpy as np

    out = []
    for rs in _sampler_rngs(sampler):
        kind, key, pos, has_gauss, gauss = rs.get_state(legacy=True)
        if kind != "MT19937":  # pragma: no cover - RandomState is always MT19937
            raise ValueError(f"unexpected bit generator {kind}")
        raw = np.asarray(key, dtype="<u4").tobytes()
        out.append([base64.b64encode(raw).decode("ascii"), int(pos), int(has_gauss), float(gauss)])
    return out


def set_sampler_rng_state(sampler: Any, state: Any) -> bool:
    """Restore a state from :func:`sampler_rng_state` into a sampler of the same kind.
    Returns False (and changes nothing) when the state does not fit the sampler."""
    import base64

    import numpy as np

    rngs = _sampler_rngs(sampler)
    if not isinstance(state, list) or len(state) != len(rngs):
        return False
    parsed = []
    try:
        for key, pos, has_gauss, gauss in state:
            words = np.frombuffer(base64.b64decode(key, validate=True), dtype="<u4")
            if words.size != 624 or not 0 <= int(pos) <= 624:
                return False
            parsed.append(("MT19937", words.astype(np.uint32), int(pos), int(has_gauss), float(gauss)))
    except (TypeError, ValueError):
        return False
    for rs, st in zip(rngs, parsed, strict=True):
        rs.set_state(st)
    return True
