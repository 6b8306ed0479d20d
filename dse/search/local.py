"""Pareto local search with a surrogate-guided start: the ``local`` sampler.

A multi-objective local search over the study's space, written as an optuna sampler. It
keeps the archive of feasible non-dominated trials and proposes each new design as a
small change of one of them:

* **Parent.** An archive member, drawn in proportion to its exclusive hypervolume
  contribution (objectives normalised to the archive's ideal and nadir, reference point
  1.1), so the ends and the sparse parts of the front are extended first; with
  probability ``p_uniform_parent`` any member, uniformly. With probability ``p_beyond``
  the parent is an infeasible trial that no other trial dominates in the objectives and
  the total constraint violation together: a design just past a limit, which a move may
  bring back inside it (the best designs often sit on a limit). Among those, a trial with
  total violation v is drawn with weight 1 / (v + ``beyond_scale``)^2, so the ones nearest
  a limit come first (a uniform draw spent most of these parents on designs far past
  one: 16 memory units against a cap of 4). While no trial is
  feasible the parents are the five trials with the smallest total violation.
* **Crossover** (probability ``p_crossover``): each key from the parent or from a second
  archive member, then a move.
* **Move.** One key (two with probability ``p_two``) changes. With probability
  ``p_near`` it moves by one grid step (1 % of an unstepped range; a text list takes
  another value). Otherwise an ordered key (a stepped range, a number list, an unstepped
  range on [0, 1] of its span) jumps to its low or high end with probability
  ``p_boundary`` (engineering optima often sit on a bound: fewest cores, least SRAM),
  else moves by a heavy-tailed step: 1 to n - 1 grid steps with log-uniform size, so
  neighbours are tried most and far jumps stay possible. A text list (node, memory)
  takes another value.
* **Repair** (``near_beyond``). A parent past a limit changes one key by one step, and
  is not crossed: the best designs sit on a limit (HBM2E at exactly its cap of 4 stacks),
  and from 5 stacks the one step back is the move that reaches it.
* **Slide** (``p_slide``, once the surrogate's trials are done). With this probability a
  move (not a repair) also slides one more ordered key, not one it moved, to the nearest
  value on the edge of what the design check allows along that key: the first allowed
  value from a design the check rules out, the nearer end of the allowed run from one it
  allows (within 32 grid steps). The best designs sit on limits the keys decide — the
  smallest die whose edge holds its memory PHYs, the largest under the area cap — and
  those limits run across keys: from 128 cores of 1,024 MACs with 8 HBM3 stacks, halving
  the MACs leaves a die too small for 8 stacks, and the slide takes the cores to the
  first count whose die holds them (208). The slid design takes the move's place among
  the candidates the screening models see. One check of at most 65 designs a slide; a slide
  that finds no edge leaves the move as it was.
* With probability ``p_random`` the trial is drawn at random instead, so that a region
  no move reaches is still visited.
* **The design check** (``design_check``, which ``dse run`` passes). A design that breaks
  a limit its keys decide without the workload — the reticle, its package, the node's
  clock, the die edge its memory PHYs need, the largest interposer, a study bound on a
  workload-free metric such as ``max_die_area_mm2``, a memory supply cap, memory and
  SRAM too small to hold the model's weights and KV cache — is never asked: the start's
  random designs (after the first round of 8, asked before the space is known), the
  surrogate's candidates, the moves and the random draws are all drawn among the
  others, checked 16 at a time by the chain without the workload
  (:func:`dse.search.result.design_infeasible`, microseconds a design), and the
  surrogate models only the constraints the check leaves open (power, temperature,
  latency...). On the benchmark studies 27-73 % of random designs are ruled out by
  their keys alone; each would have cost a trial.
* **Balanced start** (``balanced_start``). With the design check, each random design of
  the start takes every text key (node, memory) at the value the trials so far hold
  least, the other keys at random among the allowed designs: under a supply cap of 4
  HBM2E stacks of 2-16 the check leaves 3 HBM2E counts of 15, and a start of uniformly
  drawn allowed designs often held one HBM2E design or none where the whole front is
  HBM2E.
* Designs already asked are not asked again; when 100 draws give only such designs the
  trial is drawn at random. (A design is its parameters as optuna sees them: a
  conditional range's position, ``dse.search.conditional``, is continuous, so two
  positions may map to the same value.)

The first ``n_startup_trials`` trials are random (optuna's ``RandomSampler``). Then, until
``surrogate_trials`` trials are complete, six of every eight trials come from Gaussian-process
models of the objectives and constraints (:mod:`dse.search.surrogate`: the candidates near
the front and across the space with the largest optimistic hypervolume gain times
probability of feasibility, half a standard deviation optimistic, ``surrogate_kappa``;
each design of a batch chosen with the models conditioned on the ones before it, the
kriging believer) and the other ``surrogate_local`` from the moves above. With
the design check the models also see each design's workload-free features
(``surrogate_features``: the logarithms of its peak compute, memory bandwidth and
capacity, die area, unit cost and idle power, from the same pass of the chain as the
check), so that a throughput set by the lesser of compute and bandwidth, or a cost set by
the die area, is a smooth function of what the model sees rather than of a product of
keys. The last design of each batch extends the front in one objective, in turn
(``surrogate_extend``): a front's dear end, past the reference point of the gain in
cost, scores nothing there however fast it is predicted. After
that, each move is the best of ``surrogate_screen`` candidate moves (four, drawn as above)
by the same score (one standard deviation optimistic, ``surrogate_screen_kappa``)
under the models of those first trials (pre-screening: a move the
models expect to break a limit or to add nothing gives way to one they expect on the
front; a random draw is never screened), fitted again on the latest 400 trials each time
the trials double (400, 800, 1,600, ...; ``surrogate_refit``). Nothing but
the trials and the sampler's own random state decides a proposal, so a resumed study
continues as the uninterrupted run (``dse.search.run``). The choice of this sampler as
the default and its measured hypervolume against exact fronts are in ``docs/search.md``
(``benchmarks/search_quality.py``).

References
----------
L. Paquete, M. Chiarandini and T. Stützle, "Pareto local optimum sets in the biobjective
traveling salesman problem: an experimental study", in Metaheuristics for Multiobjective
Optimisation, Springer LNEMS 535, 2004 (Pareto local search).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from dse.search import optuna_private

#: draws of a new design before a random one is taken instead
_ATTEMPTS = 100
#: smallest continuous step as a fraction of a range (log-uniform from here to 1)
_MIN_STEP = 1e-3
#: parents while no trial is feasible: this many least-violating trials
_LEAST_VIOLATING = 5
#: trials per round of the surrogate (dse run asks 8 at a time): of the trials numbered
#: 8 i ... 8 i + 7 the last ``surrogate_local`` are local moves
_ROUND = 8
#: random designs, and random two-key moves of front members, among the surrogate's
#: candidates each round
_SURROGATE_RANDOM = 2000
#: candidate moves or random draws the design check looks at together
_CHECK_CHUNK = 16
#: designs whose design-check verdict and workload-free features are remembered (then
#: forgotten, and computed again when needed: a long study checks millions of moves)
_CHECK_CACHE = 50_000
#: grid steps either side of a design that a slide looks along
_SLIDE_SPAN = 32


class _Dim:
    """One parameter as a position: an index on a grid, or u in [0, 1] of a range."""

    def __init__(self, dist: Any) -> None:
        from optuna.distributions import CategoricalDistribution, IntDistribution

        self.dist = dist
        self.choices: list[Any] | None = None
        self.size: int | None = None  # grid points; None: continuous
        self.ordered = True
        if isinstance(dist, CategoricalDistribution):
            choices = list(dist.choices)
            numeric = all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in choices)
            self.ordered = numeric
            self.choices = sorted(choices) if numeric else choices
            self.size = len(choices)
        elif isinstance(dist, IntDistribution):
            step = 1 if dist.log else dist.step
            self.size = (dist.high - dist.low) // step + 1
            self.step = step
        elif dist.step is not None:
            self.size = int(round((dist.high - dist.low) / dist.step)) + 1
            self.step = dist.step
        self.log = bool(getattr(dist, "log", False)) and self.size is None

    def position(self, value: Any) -> float:
        if self.choices is not None:
            return float(self.choices.index(value))
        d = self.dist
        if self.size is not None:
            return float(round((value - d.low) / self.step))
        if self.log:
            return (math.log(value) - math.log(d.low)) / (math.log(d.high) - math.log(d.low))
        return (value - d.low) / (d.high - d.low) if d.high > d.low else 0.0

    def value(self, pos: float) -> Any:
        if self.choices is not None:
            return self.choices[int(pos)]
        d = self.dist
        if self.size is not None:
            v = d.low + int(pos) * self.step
            if isinstance(d.low, int) and isinstance(self.step, int):
                return int(v)
            return float(min(round(v, 12), d.high))
        if self.log:
            v = math.exp(math.log(d.low) + pos * (math.log(d.high) - math.log(d.low)))
        else:
            v = d.low + pos * (d.high - d.low)
        return float(min(max(v, d.low), d.high))  # no rounding past an end

    def move(self, pos: float, rng: np.random.RandomState, p_boundary: float) -> float:
        if not self.ordered:  # a text list: another value
            return self._other(pos, rng)
        if self.size is not None:
            if rng.random_sample() < p_boundary:
                return 0.0 if rng.random_sample() < 0.5 else float(self.size - 1)
            mag = int(math.floor(math.exp(rng.random_sample() * math.log(self.size))))
            return self._grid_step(pos, mag, rng)
        if rng.random_sample() < p_boundary:
            return 0.0 if rng.random_sample() < 0.5 else 1.0
        step = math.exp(math.log(_MIN_STEP) * (1.0 - rng.random_sample()))
        return self._unit_step(pos, step, rng)

    def near(self, pos: float, rng: np.random.RandomState) -> float:
        """The nearest other positions: one grid step (another value of a text list; a
        step of 1 % of a continuous range)."""
        if not self.ordered:
            return self._other(pos, rng)
        if self.size is not None:
            return self._grid_step(pos, 1, rng)
        return self._unit_step(pos, 0.01, rng)

    def _other(self, pos: float, rng: np.random.RandomState) -> float:
        """Another value of a text list."""
        assert self.size is not None
        return float((int(pos) + rng.randint(1, self.size)) % self.size)

    def _grid_step(self, pos: float, mag: int, rng: np.random.RandomState) -> float:
        """``mag`` grid steps up or down (even odds), reflected at an end."""
        assert self.size is not None
        hi = self.size - 1
        new = pos + (mag if rng.random_sample() < 0.5 else -mag)
        if new < 0 or new > hi:
            new = 2 * pos - new  # the other direction
        return float(min(max(new, 0), hi))

    @staticmethod
    def _unit_step(pos: float, step: float, rng: np.random.RandomState) -> float:
        """A step of ``step`` up or down (even odds) on [0, 1], reflected at an end."""
        new = pos + (step if rng.random_sample() < 0.5 else -step)
        if new < 0.0 or new > 1.0:
            new = 2 * pos - new
        return min(max(new, 0.0), 1.0)

    def random(self, rng: np.random.RandomState) -> float:
        if self.size is not None:
            return float(rng.randint(self.size))
        return float(rng.random_sample())


class _Archive:
    """The trials seen so far: positions asked, the feasible non-dominated set and the
    least-violating trials (updated trial by trial, in trial-number order)."""

    def __init__(self, names: list[str], dims: list[_Dim], signs: np.ndarray) -> None:
        self.names, self.dims, self.signs = names, dims, signs
        self.asked: set[tuple[float, ...]] = set()
        self.front_x: list[tuple[float, ...]] = []
        self.front_f = np.empty((0, len(signs)))
        self.least: list[tuple[float, tuple[float, ...]]] = []
        self.version = 0
        # infeasible trials not dominated in (objectives, total violation): the designs
        # beyond a constraint that a move may bring back inside it
        self.beyond_x: list[tuple[float, ...]] = []
        self.beyond_f = np.empty((0, len(signs) + 1))
        # every complete trial while the surrogate proposes: positions, minimised values,
        # constraint values
        self.data: list[tuple[tuple[float, ...], np.ndarray, tuple[float, ...]]] = []

    def positions(self, params: dict[str, Any]) -> tuple[float, ...] | None:
        try:
            return tuple(d.position(params[n]) for n, d in zip(self.names, self.dims, strict=True))
        except (KeyError, ValueError):
            return None  # a trial from another space (a study resumed with changes)

    def add(self, x: tuple[float, ...], values: Sequence[float], violation: float) -> None:
        f = np.asarray(values, dtype=float) * self.signs
        if violation > 0.0 or not np.isfinite(f).all():
            if not len(self.front_x):
                self.least.append((violation if np.isfinite(f).all() else math.inf, x))
                self.least.sort(key=lambda t: t[0])
                del self.least[_LEAST_VIOLATING:]
            if np.isfinite(f).all():
                self.beyond_x, self.beyond_f, _ = _insert(
                    self.beyond_x, self.beyond_f, x, np.append(f, violation)
                )
            return
        self.front_x, self.front_f, added = _insert(self.front_x, self.front_f, x, f)
        if added:
            self.version += 1


def _insert(
    xs: list[tuple[float, ...]], z: np.ndarray, x: tuple[float, ...], f: np.ndarray
) -> tuple[list[tuple[float, ...]], np.ndarray, bool]:
    """Add ``x`` with values ``f`` (minimised) to a non-dominated set, dropping the
    members it dominates; a dominated ``x`` or one with a member's values is not added."""
    if len(z) and (
        ((z <= f).all(axis=1) & (z < f).any(axis=1)).any() or (z == f).all(axis=1).any()
    ):
        return xs, z, False
    keep = np.asarray(~((f <= z).all(axis=1) & (f < z).any(axis=1)), dtype=bool).reshape(-1)
    kept: list[tuple[float, ...]] = [p for p, k in zip(xs, keep.tolist(), strict=True) if k]
    return (
        kept + [x],
        np.vstack([z[keep], f[None, :]]),
        True,
    )


def local_search_sampler(
    *,
    seed: int | None = None,
    constraints_func: Callable[[Any], Sequence[float]] | None = None,
    n_startup_trials: int = 16,
    p_boundary: float = 0.3,
    p_crossover: float = 0.3,
    p_two: float = 0.5,
    p_uniform_parent: float = 0.3,
    p_random: float = 0.1,
    p_beyond: float = 0.2,
    beyond_scale: float = 0.3,
    p_near: float = 0.3,
    p_slide: float = 0.25,
    near_beyond: bool = True,
    surrogate_trials: int = 200,
    surrogate_local: int = 2,
    surrogate_kappa: float = 0.5,
    surrogate_screen: int = 4,
    surrogate_screen_kappa: float = 1.0,
    surrogate_features: bool = True,
    surrogate_extend: bool = True,
    surrogate_refit: bool = True,
    balanced_start: bool = True,
    design_check: Callable[[list[dict[str, Any]]], np.ndarray] | None = None,
) -> Any:
    """The ``local`` sampler: Pareto local search (see the module docstring).

    Parameters
    ----------
    seed : int, optional
        Seed of the sampler's random state.
    constraints_func : callable, optional
        optuna's ``constraints_func``: values <= 0 are satisfied. Trials stored by dse
        carry their constraint values already; this is for trials told in this process.
    n_startup_trials : int
        Random trials before the local search starts (>= 1).
    p_boundary, p_crossover, p_two, p_uniform_parent, p_random, p_beyond : float
        Probabilities of a move to a range's end, of a crossover, of moving two keys
        instead of one, of a uniformly drawn parent, of a design drawn at random instead
        of a move, and of a parent just past a limit (each in [0, 1]). The defaults were
        set on the five studies of ``benchmarks/search_quality.py``.
    beyond_scale : float
        Violation scale of the parents just past a limit (> 0): weight 1 / (v + scale)^2
        for a total violation v (a fraction of a limit for the study's constraints, a
        count for the model's). Set on ``node_comparison_decode`` and
        ``serve_moe_domestic`` (10 seeds; 0.05, 0.3 and 1 tried).
    p_near : float
        Probability that a key's move is one grid step (another value of a text list)
        instead of a boundary jump or a heavy-tailed step, in [0, 1].
    p_slide : float
        Probability that a move (after the first ``surrogate_trials`` trials, with a
        design check) also slides one more ordered key to the nearest edge of what the
        check allows along it, in [0, 1] (0.25, the one value tried, on seeds 0-4 of the
        benchmark studies; checked on seeds 5-9: ``docs/search.md``).
    near_beyond : bool
        A parent past a limit moves one key by one step, without crossover: the child
        nearest it, back inside the limit where one step is enough. ``p_near`` 0.3 and
        ``near_beyond`` were chosen on seeds 0-4 of the five benchmark studies and
        confirmed on seeds 5-9 (``docs/search.md``).
    surrogate_trials : int
        Until this many trials are complete, proposals come from Gaussian-process models
        of the objectives and constraints (:mod:`dse.search.surrogate`) instead of moves
        (0: never).
    surrogate_local : int
        Of each round of 8 trials in that phase, this many (the last, by trial number)
        are local moves all the same (0 to 8).
    surrogate_kappa : float
        Optimism of the surrogate's batches: standard deviations subtracted from the
        predicted objectives before their hypervolume gain is scored (>= 0; 0.5 chosen
        against 1 on seeds 0-4 of the benchmark studies with the kriging believer,
        checked on seeds 5-9: docs/search.md).
    surrogate_screen : int
        After that phase, each move is the best of this many candidate moves by the
        score of the models of the first ``surrogate_trials`` trials (and later ones with
        ``surrogate_refit``; 1: no screening;
        4 chosen on seeds 0-4 of the benchmark studies among 1, 4 and 8, checked on 5-9).
    surrogate_screen_kappa : float
        The optimism of that screening (>= 0), apart from ``surrogate_kappa``: the
        moves explore the front's neighbourhood, where the models are least sure.
    surrogate_features : bool
        With a design check that gives them, the surrogate's models also see each
        design's workload-free features (logarithms of its peak compute, memory bandwidth
        and capacity, die area, unit cost and idle power:
        :func:`dse.search.result.design_features`), beside its keys.
    surrogate_extend : bool
        The last design of each of the surrogate's batches is the candidate that extends
        the front furthest in one objective (in turn, batch by batch) by its optimistic
        prediction, among those likely feasible, where one does: the fastest designs of
        a study are often dear enough to be past the acquisition's reference point in
        cost, where their hypervolume gain is nothing however fast they are predicted.
    surrogate_refit : bool
        The models that screen the moves are fitted again each time the complete trials
        double (at 2, 4, 8, ... times ``surrogate_trials``), on the latest
        2 × ``surrogate_trials`` of them, instead of once on the first
        ``surrogate_trials``: the moves then explore the front's neighbourhood, which
        the first trials saw little of.
    balanced_start : bool
        With a design check, each random design of the start takes every text key (node,
        memory) at the value the trials so far have least, so that every node and memory
        is in the start even where the check leaves few designs of it (HBM2E under a
        supply cap of 4 stacks: 3 of 15 counts).
    design_check : callable, optional
        ``design_check(params) -> bool array``: which of the designs (optuna parameter
        dicts) break a limit their keys decide without running the workload
        (:func:`dse.search.result.design_infeasible`; ``dse run`` passes it). Such designs
        are never proposed: the random start, the surrogate's candidates, the moves and
        the random draws are all drawn among the others (when none is found, unchecked).

    Returns
    -------
    optuna.samplers.BaseSampler
    """
    from dse.errors import DseInputError

    if not isinstance(n_startup_trials, int) or n_startup_trials < 1:
        raise DseInputError(
            f"sampler local: n_startup_trials must be an integer >= 1, got {n_startup_trials!r}"
        )
    probs = {
        "p_boundary": p_boundary,
        "p_crossover": p_crossover,
        "p_two": p_two,
        "p_uniform_parent": p_uniform_parent,
        "p_random": p_random,
        "p_beyond": p_beyond,
        "p_near": p_near,
        "p_slide": p_slide,
    }
    for key, p in probs.items():
        if not isinstance(p, (int, float)) or isinstance(p, bool) or not 0.0 <= p <= 1.0:
            raise DseInputError(f"sampler local: {key} must be a number from 0 to 1, got {p!r}")
    _check_number("beyond_scale", beyond_scale, zero_allowed=False)
    params = {k: float(v) for k, v in probs.items()}
    params["beyond_scale"] = float(beyond_scale)
    if not isinstance(near_beyond, bool):
        raise DseInputError(
            f"sampler local: near_beyond must be true or false, got {near_beyond!r}"
        )
    params["near_beyond"] = float(near_beyond)
    for key, flag in (
        ("surrogate_features", surrogate_features),
        ("surrogate_extend", surrogate_extend),
        ("surrogate_refit", surrogate_refit),
        ("balanced_start", balanced_start),
    ):
        if not isinstance(flag, bool):
            raise DseInputError(f"sampler local: {key} must be true or false, got {flag!r}")
    for key, value, low, top in (
        ("surrogate_trials", surrogate_trials, 0, None),
        ("surrogate_local", surrogate_local, 0, _ROUND),
        ("surrogate_screen", surrogate_screen, 1, None),
    ):
        if (
            not isinstance(value, int)
            or isinstance(value, bool)
            or value < low
            or (top is not None and value > top)
        ):
            span = f"from {low} to {top}" if top is not None else f">= {low}"
            raise DseInputError(f"sampler local: {key} must be an integer {span}, got {value!r}")
    _check_number("surrogate_kappa", surrogate_kappa, zero_allowed=True)
    _check_number("surrogate_screen_kappa", surrogate_screen_kappa, zero_allowed=True)
    surrogate = {
        "trials": surrogate_trials,
        "local": surrogate_local,
        "kappa": float(surrogate_kappa),
        "screen": surrogate_screen,
        "screen_kappa": float(surrogate_screen_kappa),
        "features": surrogate_features,
        "extend": surrogate_extend,
        "refit": surrogate_refit,
        "balanced": balanced_start,
    }
    cls = _sampler_class()
    return cls(seed, constraints_func, n_startup_trials, params, surrogate, design_check)


def _check_number(key: str, value: Any, *, zero_allowed: bool) -> None:
    """A finite number > 0 (>= 0 when ``zero_allowed``), else one error line."""
    from dse.errors import DseInputError

    if (
        not isinstance(value, (int, float))
        or isinstance(value, bool)
        or not math.isfinite(value)
        or value < 0.0
        or (value == 0.0 and not zero_allowed)
    ):
        bound = ">= 0" if zero_allowed else "> 0"
        raise DseInputError(f"sampler local: {key} must be a number {bound}, got {value!r}")


def _sampler_class() -> type:
    import moocore
    from optuna.samplers import BaseSampler, RandomSampler
    from optuna.search_space import IntersectionSearchSpace
    from optuna.trial import TrialState

    class _LocalSearchSampler(BaseSampler):
        __doc__ = local_search_sampler.__doc__

        def __init__(
            self,
            seed: int | None,
            constraints_func: Callable[[Any], Sequence[float]] | None,
            n_startup_trials: int,
            probs: dict[str, float],
            surrogate: dict[str, Any],
            design_check: Callable[[list[dict[str, Any]]], np.ndarray] | None = None,
        ) -> None:
            # the startup sampler and the search draw from streams of their own
            self._rng = np.random.RandomState(None if seed is None else (seed + 7919) % 2**32)
            self._random_sampler = RandomSampler(seed=seed)
            self._constraints_func = constraints_func
            self._constraints: dict[int, tuple[float, ...]] = {}
            self._n_startup = n_startup_trials
            self._p = probs
            self._space = IntersectionSearchSpace()
            self._archive: _Archive | None = None
            self._key: tuple[Any, ...] | None = None
            self._next = 0  # index of the first trial not yet in the archive (by number)
            self._weights: tuple[int, np.ndarray] | None = None
            self._surrogate = surrogate
            self._batch: tuple[int, list[tuple[float, ...]]] | None = None
            self._models: Any = None  # (trials they were fitted at, screening models)
            self._check = design_check
            # the check is a function of the design: its verdict (True: ruled out) and
            # features (None when the surrogate sees none) are remembered per design
            self._checked: dict[tuple[float, ...], tuple[bool, np.ndarray | None]] = {}

        # -- optuna's sampler interface --------------------------------------------
        def reseed_rng(self) -> None:
            self._rng.seed()
            self._random_sampler.reseed_rng()

        def infer_relative_search_space(self, study: Any, trial: Any) -> dict[str, Any]:
            space = self._space.calculate(study)
            return {n: d for n, d in space.items() if not d.single()}

        def sample_relative(
            self, study: Any, trial: Any, search_space: dict[str, Any]
        ) -> dict[str, Any]:
            if not search_space:
                return {}
            trials = study.get_trials(deepcopy=False)
            done = 0
            for t in trials:  # random until n_startup trials are complete (failed ones aside)
                done += t.state == TrialState.COMPLETE
                if done >= self._n_startup:
                    break
            else:
                if self._check is None:
                    return {}
                archive = self._update(study, trials, search_space)
                # the random start, among allowed designs
                x = self._random_design(archive, balanced=self._surrogate["balanced"])
                archive.asked.add(x)
                return self._params(archive, x)
            archive = self._update(study, trials, search_space)
            x = self._surrogate_design(archive, trial.number) or self._propose(archive)
            archive.asked.add(x)
            return self._params(archive, x)

        def sample_independent(self, study: Any, trial: Any, name: str, dist: Any) -> Any:
            return self._random_sampler.sample_independent(study, trial, name, dist)

        def after_trial(
            self, study: Any, trial: Any, state: Any, values: Sequence[float] | None
        ) -> None:
            if self._constraints_func is not None and state == TrialState.COMPLETE:
                self._constraints[trial.number] = tuple(
                    float(c) for c in self._constraints_func(trial)
                )

        # -- the search ------------------------------------------------------------------
        def _constraint_values(self, t: Any) -> tuple[float, ...]:
            cons = t.system_attrs.get(optuna_private.CONSTRAINTS_ATTR)
            if cons is None:
                cons = self._constraints.get(t.number, ())
            return tuple(float(c) for c in cons)

        @staticmethod
        def _params(a: _Archive, x: tuple[float, ...]) -> dict[str, Any]:
            return {n: d.value(p) for n, d, p in zip(a.names, a.dims, x, strict=True)}

        def _allowed(self, a: _Archive, xs: Sequence[tuple[float, ...]]) -> np.ndarray:
            """Which designs (positions) the design check does not rule out."""
            if self._check is None or not len(xs):
                return np.ones(len(xs), dtype=bool)
            return ~np.array([out for out, _ in self._checked_designs(a, xs)], dtype=bool)

        def _features(self, a: _Archive, positions: np.ndarray) -> np.ndarray:
            """The design check's workload-free features of designs given as positions
            (the same trials are featurised every round)."""
            xs = [tuple(r) for r in np.asarray(positions, dtype=float).tolist()]
            z = [feat for _, feat in self._checked_designs(a, xs)]
            return np.array(z, dtype=float).reshape(len(xs), -1)

        def _checked_designs(
            self, a: _Archive, xs: Sequence[tuple[float, ...]]
        ) -> list[tuple[bool, np.ndarray | None]]:
            """The check's verdict and features of each design, from one pass over the
            designs not remembered (all of them again when the memory is full)."""
            cache = self._checked
            new = [x for x in dict.fromkeys(xs) if x not in cache]
            if len(cache) + len(new) > _CHECK_CACHE:
                cache.clear()
                new = list(dict.fromkeys(xs))
            if new:
                cache.update(zip(new, self._check_pass(a, new), strict=True))
            return [cache[x] for x in xs]

        def _check_pass(
            self, a: _Archive, xs: list[tuple[float, ...]]
        ) -> list[tuple[bool, np.ndarray | None]]:
            """The design check on designs given as positions: (ruled out, features) each."""
            params = [self._params(a, x) for x in xs]
            assert self._check is not None
            features = getattr(self._check, "features", None)
            if features is None or not self._surrogate["features"]:
                ruled_out = np.asarray(self._check(params), dtype=bool).reshape(len(xs))
                return [(out, None) for out in ruled_out.tolist()]
            ruled_out, z = features(params)
            verdicts = np.asarray(ruled_out, dtype=bool).reshape(len(xs)).tolist()
            return list(zip(verdicts, np.asarray(z, dtype=float), strict=True))

        def _feature_fn(self, a: _Archive) -> Callable[[np.ndarray], np.ndarray] | None:
            """The features the surrogate's models see beside the keys (``None``: none)."""
            if not self._surrogate["features"] or not hasattr(self._check, "features"):
                return None
            return lambda pos: self._features(a, pos)

        def _random_design(self, a: _Archive, balanced: bool = False) -> tuple[float, ...]:
            """A design drawn at random, not asked before and not ruled out by the design
            check (when every draw is ruled out, one not asked before all the same; when
            every draw was asked, one of them)."""
            rng = self._rng
            fixed: dict[int, float] = {}
            if balanced:  # each text key at its value least asked so far (ties at random)
                for j, d in enumerate(a.dims):
                    if not d.ordered and d.size and d.size > 1:
                        counts = np.zeros(d.size)
                        for x in a.asked:
                            counts[int(x[j])] += 1
                        low = np.flatnonzero(counts == counts.min())
                        fixed[j] = float(low[rng.randint(len(low))])
            if self._check is None:
                for _ in range(_ATTEMPTS):
                    cand = tuple(d.random(rng) for d in a.dims)
                    if cand not in a.asked:
                        return cand
                return cand  # every draw asked already (a tiny, exhausted space): ask again
            fallback = None
            for attempt in range(_ATTEMPTS // 10):
                if attempt == _ATTEMPTS // 20:
                    fixed = {}  # the balanced values leave nothing allowed: any values
                draws = [
                    tuple(fixed.get(j, d.random(rng)) for j, d in enumerate(a.dims))
                    for _ in range(_CHECK_CHUNK)
                ]
                new = [c for c in dict.fromkeys(draws) if c not in a.asked]
                ok = np.flatnonzero(self._allowed(a, new))
                if ok.size:
                    return new[int(ok[0])]
                if new and (fallback is None or fallback in a.asked):
                    fallback = new[0]  # a design not asked yet, though ruled out
                elif fallback is None:
                    fallback = draws[0]
            assert fallback is not None
            return fallback

        def _update(self, study: Any, trials: list[Any], space: dict[str, Any]) -> _Archive:
            names = sorted(space)
            key = tuple((n, repr(space[n])) for n in names)
            if self._archive is None or key != self._key:
                signs = np.array([1.0 if d.name == "MINIMIZE" else -1.0 for d in study.directions])
                self._archive = _Archive(names, [_Dim(space[n]) for n in names], signs)
                self._key, self._next, self._weights, self._batch = key, 0, None, None
            a = self._archive
            i = self._next
            while i < len(trials):  # every finished trial enters once, in number order
                t = trials[i]
                if t.state == TrialState.RUNNING or t.state == TrialState.WAITING:
                    break
                x = a.positions(t.params)
                if x is not None:
                    a.asked.add(x)
                    if t.state == TrialState.COMPLETE and t.values is not None:
                        cons = self._constraint_values(t)
                        a.add(x, t.values, float(sum(max(c, 0.0) for c in cons)))
                        f = np.asarray(t.values, dtype=float) * a.signs
                        a.data.append((x, f, cons))
                i += 1
            self._next = i
            for t in trials[i:]:  # asked, not finished: not asked again
                x = a.positions(t.params)
                if x is not None:
                    a.asked.add(x)
            return a

        def _surrogate_design(self, a: _Archive, number: int) -> tuple[float, ...] | None:
            """The next design of the surrogate's batch, while it proposes (``None``: a
            local move instead). A batch is chosen once per set of finished trials."""
            sur = self._surrogate
            n = len(a.data)
            if n >= sur["trials"] or number % _ROUND >= _ROUND - sur["local"]:
                return None
            if self._batch is None or self._batch[0] != n:
                from dse.search.surrogate import propose_batch

                batch, _ = propose_batch(
                    a.dims,
                    *self._trial_arrays(a),
                    a.front_x,
                    a.front_f,
                    a.beyond_x,
                    a.asked,
                    self._rng,
                    size=_ROUND - sur["local"],
                    kappa=sur["kappa"],
                    n_random=_SURROGATE_RANDOM,
                    allowed=None if self._check is None else lambda xs: self._allowed(a, xs),
                    features=self._feature_fn(a),
                    extend=(n // _ROUND) % len(a.signs) if sur["extend"] else None,
                )
                self._batch = (n, batch)
            for x in self._batch[1]:
                if x not in a.asked:
                    return x
            return None

        def _trial_arrays(
            self, a: _Archive, lo: int = 0, hi: int | None = None
        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            """Positions, minimised objective values and constraint values of the complete
            trials ``lo`` to ``hi`` (in number order; all by default), which the surrogate
            learns from."""
            data = a.data[lo:hi]
            n, m = len(data), len(a.signs)
            k = len(data[0][2]) if data else 0
            cons = np.array([d[2] for d in data], dtype=float).reshape(n, k)
            decided = getattr(self._check, "constraint_columns", ())
            if decided:  # every proposal satisfies these: nothing to model
                cons = np.delete(cons, [j for j in decided if j < k], axis=1)
            return (
                np.array([d[0] for d in data], dtype=float).reshape(n, len(a.dims)),
                np.array([d[1] for d in data], dtype=float).reshape(n, m),
                cons,
            )

        def _screening_models(self, a: _Archive) -> Any:
            """The models that screen the moves (``None``: no screening): of the first
            ``surrogate_trials`` = n trials once those are complete, and with
            ``surrogate_refit`` of trials 2^j n - 2n to 2^j n once 2^j n are complete
            (j = 1, 2, ...: the latest 2n trials at 2n, 4n, 8n...). Fitted at the first
            need, from the trials alone, so a resumed study fits the same ones."""
            sur = self._surrogate
            n0 = sur["trials"]
            if sur["screen"] <= 1 or n0 == 0 or len(a.data) < n0:
                return None
            top = n0
            while sur["refit"] and top * 2 <= len(a.data):
                top *= 2
            if self._models is None or self._models[0] != top:
                from dse.search.surrogate import fit_models

                models = fit_models(
                    a.dims,
                    *self._trial_arrays(a, max(0, top - 2 * n0), top),
                    features=self._feature_fn(a),
                )
                self._models = (top, models)
            return self._models[1]

        def _parent_weights(self, a: _Archive) -> np.ndarray:
            if self._weights is not None and self._weights[0] == a.version:
                return self._weights[1]
            z = a.front_f
            n = len(z)
            w = np.ones(n)
            if n > 1 and z.shape[1] > 1:
                lo, hi = z.min(axis=0), z.max(axis=0)
                span = np.where(hi > lo, hi - lo, 1.0)
                w = moocore.hv_contributions((z - lo) / span, ref=np.full(z.shape[1], 1.1))
                w = np.asarray(w, dtype=float) + 1e-12
            w = w / w.sum()
            self._weights = (a.version, w)
            return w

        def _parent(self, a: _Archive) -> tuple[tuple[float, ...], bool]:
            """A parent, and whether it is a design past a limit."""
            rng = self._rng
            if a.beyond_x and rng.random_sample() < self._p["p_beyond"]:
                w = 1.0 / (a.beyond_f[:, -1] + self._p["beyond_scale"]) ** 2
                return a.beyond_x[int(rng.choice(len(w), p=w / w.sum()))], True
            if not a.front_x:
                return a.least[rng.randint(len(a.least))][1], False
            if rng.random_sample() < self._p["p_uniform_parent"]:
                return a.front_x[rng.randint(len(a.front_x))], False
            w = self._parent_weights(a)
            return a.front_x[int(rng.choice(len(w), p=w))], False

        def _slide(self, a: _Archive, x: list[float], moved: list[int]) -> tuple[float, ...] | None:
            """``x`` with one more ordered key (not one of ``moved``) at the nearest value
            on the edge of what the design check allows along it (``None``: no such key, or
            no edge within 32 steps)."""
            rng, dims = self._rng, a.dims
            keys = [
                j for j, d in enumerate(dims)
                if d.ordered and d.size is not None and d.size >= 3 and j not in moved
            ]  # fmt: skip
            if not keys:
                return None
            j = keys[rng.randint(len(keys))]
            c, top = int(x[j]), int(dims[j].size) - 1  # type: ignore[arg-type]
            # one pass of the check over the key's values within the span (the check's
            # cost is mostly per pass, not per design)
            lo, hi = max(0, c - _SLIDE_SPAN), min(top, c + _SLIDE_SPAN)
            designs = [tuple(x[:j] + [float(i)] + x[j + 1 :]) for i in range(lo, hi + 1)]
            ok = self._allowed(a, designs)
            n = len(designs)
            edge = [
                i for i in range(n)
                if ok[i] and ((i > 0 and not ok[i - 1]) or (i < n - 1 and not ok[i + 1]))
            ]  # fmt: skip
            if not edge:
                return None
            d = min(abs(lo + e - c) for e in edge)
            near = [e for e in edge if abs(lo + e - c) == d]
            return designs[near[rng.randint(len(near))]]

        def _propose(self, a: _Archive) -> tuple[float, ...]:
            rng, p = self._rng, self._p
            dims = a.dims
            movable = [j for j, d in enumerate(dims) if d.size != 1]
            if (a.front_x or a.least) and rng.random_sample() >= p["p_random"]:
                models = self._screening_models(a)
                want = self._surrogate["screen"] if models is not None else 1
                # slides along a limit once the surrogate's trials are done
                slide = self._check is not None and len(a.data) >= self._surrogate["trials"]
                pool: list[tuple[float, ...]] = []
                chunk: list[tuple[float, ...]] = []  # candidates the check looks at together
                size = _CHECK_CHUNK if self._check is not None else 1
                for attempt in range(_ATTEMPTS):
                    parent, beyond = self._parent(a)
                    x = list(parent)
                    if beyond and p["near_beyond"] and movable:  # the repair: one step
                        j = movable[rng.randint(len(movable))]
                        x[j] = dims[j].near(x[j], rng)
                    else:
                        if len(a.front_x) > 1 and rng.random_sample() < p["p_crossover"]:
                            other = a.front_x[rng.randint(len(a.front_x))]
                            x = [
                                u if rng.random_sample() < 0.5 else v
                                for u, v in zip(x, other, strict=True)
                            ]
                        moved: list[int] = []
                        if movable:
                            k = 2 if rng.random_sample() < p["p_two"] and len(movable) > 1 else 1
                            moved = [int(j) for j in rng.choice(movable, size=k, replace=False)]
                            for j in moved:
                                if p["p_near"] and rng.random_sample() < p["p_near"]:
                                    x[j] = dims[j].near(x[j], rng)
                                else:
                                    x[j] = dims[j].move(x[j], rng, p["p_boundary"])
                        if slide and rng.random_sample() < p["p_slide"]:
                            slid = self._slide(a, x, moved)
                            if slid is not None and slid not in a.asked and slid not in pool:
                                pool.append(slid)  # allowed: the slide chose it so
                                if len(pool) >= want:
                                    break
                                continue
                    cand = tuple(x)
                    if cand not in a.asked and cand not in pool and cand not in chunk:
                        chunk.append(cand)
                    if len(chunk) >= size or (chunk and attempt == _ATTEMPTS - 1):
                        ok = self._allowed(a, chunk)
                        pool.extend(c for c, k in zip(chunk, ok.tolist(), strict=True) if k)
                        del pool[want:]
                        chunk = []
                        if len(pool) == want:
                            break
                if len(pool) == 1:
                    return pool[0]
                if pool:
                    from dse.search.surrogate import screen

                    kappa = self._surrogate["screen_kappa"]
                    return pool[screen(models, pool, a.front_f, kappa=kappa)]
            return self._random_design(a)

    _LocalSearchSampler.__name__ = _LocalSearchSampler.__qualname__ = "LocalSearchSampler"
    return _LocalSearchSampler
