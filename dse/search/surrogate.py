"""Surrogate-guided proposals for the first trials of the ``local`` sampler.

Each objective and each constraint value of the trials so far is modelled by a Gaussian
process over the encoded design (its keys, and with ``features`` what the chain computes
of it without the workload: peak compute, memory bandwidth and capacity, die area, unit
cost and idle power, as logarithms scaled over the trials); a batch of designs is then
chosen from candidates near the current front (every value of one key of each front
member and of each design just past a limit, two keys of a front member at random) and
across the space (random designs) by the **optimistic hypervolume improvement** each
would add to the feasible front, weighted by its **probability of feasibility**:

    score(x) = HVI(mu_f(x) - kappa * sigma_f(x) | front) * prod_j P(c_j(x) <= t_j)

The first design of a batch is the best-scoring candidate; its predicted objectives then
join the front as if evaluated, the objectives' models are conditioned on it at those
values (the "kriging believer": the predicted means stay, the uncertainty of the designs
correlated with it shrinks), and the next is chosen against that front and those models,
so a batch spreads along the front instead of asking one region, or one design at every
value of a key whose effect the models have not resolved, eight times.
With ``extend`` = k the batch's last design is instead the likely feasible candidate that
most passes the front's best in objective k (:func:`_extension`): the gain misses a
front's end that is dear in another objective, past the reference point.

Gaussian process: constant mean, Matérn-5/2 kernel with one length scale per feature,
signal variance and noise variance by maximum marginal likelihood (L-BFGS-B from a fixed
start, so that the same trials always give the same proposals and a resumed study
continues as the uninterrupted one). Objectives of one sign are modelled as logarithms
(throughput, cost and energy span orders of magnitude); a constraint value as is (its
slack, or its relative excess up to 3: a model of the logarithm put the limit of a cap
such as 4 HBM2E stacks too far from the trials beyond it). A constraint's threshold t_j
lies halfway between the largest value that held and the smallest that did not (0.5 for
a count of violations, whose satisfied designs all sit at exactly 0). The hypervolume
gain is measured to a reference point three times the front's span past its ideal, so
that a design extending one end of the front counts even when it is worse than the
front's nadir in another objective (the fastest designs are often the dearest).

References
----------
C. E. Rasmussen and C. K. I. Williams, *Gaussian Processes for Machine Learning*, MIT
Press, 2006: eq. 2.25-2.26 (prediction), 4.17 (Matérn 5/2), 5.8-5.9 (marginal likelihood
and its gradient).
W. Ponweiser, T. Wagner, D. Biermann and M. Vincze, "Multiobjective optimization on a
limited budget of evaluations using model-assisted S-metric selection", PPSN X, LNCS 5199,
2008 (the optimistic hypervolume gain of a lower confidence bound, SMS-EGO).
M. Schonlau, W. J. Welch and D. R. Jones, "Global versus local search in constrained
optimization of computer models", IMS Lecture Notes 34, 1998 (probability of
feasibility as a product of independent constraint models).
D. Ginsbourger, R. Le Riche and L. Carraro, "Kriging is well-suited to parallelize
optimization", in Computational Intelligence in Expensive Optimization Problems,
Springer, 2010 (the kriging believer for batches).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy.linalg import cho_solve

_SQRT5 = math.sqrt(5.0)
#: bounds of the log length scales, log signal variance and log noise variance
#: (features on [0, 1]; targets standardised)
_LOG_LENGTH = (math.log(0.05), math.log(20.0))
_LOG_SIGNAL = (math.log(0.05), math.log(20.0))
_LOG_NOISE = (math.log(1e-6), math.log(0.5))
_JITTER = 1e-8
#: iterations of L-BFGS-B per fit
_MAXITER = 60
#: reference point of the acquisition's hypervolume, objectives scaled to the front's
#: ideal (0) and nadir (1): far beyond 1, so that a design extending an end of the front
#: scores even when it costs more than the front's dearest design so far (the fastest
#: designs of a study are often its dearest: at 1.5 the node comparison's 8-stack HBM3
#: designs, ~0.1 of its hypervolume, scored nothing and were never asked). 3 chosen
#: against 1.5 and 6 (docs/search.md)
_REF = 3.0
#: candidates whose exact hypervolume improvement is computed (by an upper bound)
_EXACT_HVI = 300
#: probability of feasibility a design that extends the front in one objective needs
#: to be asked for it (:func:`_extension`)
_EXTEND_FEASIBLE = 0.5
#: a constraint's excess (a fraction of its limit) modelled up to this: a design three
#: times past a limit tells no more than one at three. Chosen against log(1 + excess) on
#: the ten seeds of the benchmark studies (docs/search.md)
_EXCESS_CAP = 3.0


def _matern52(a: np.ndarray, b: np.ndarray, scale: np.ndarray, signal: float) -> np.ndarray:
    """Matérn-5/2 covariance between the rows of ``a`` and ``b`` (R&W eq. 4.17)."""
    a, b = a / scale, b / scale
    d2 = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * (a @ b.T)
    r = np.sqrt(np.maximum(d2, 0.0))
    return signal * (1.0 + _SQRT5 * r + (5.0 / 3.0) * r * r) * np.exp(-_SQRT5 * r)


class GaussianProcess:
    """A Gaussian process regression of ``y`` on features ``x`` (rows; features ~[0, 1]).

    Hyperparameters (length scale per feature, signal and noise variance) maximise the
    marginal likelihood of the standardised targets.
    """

    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        from scipy.optimize import minimize

        self.x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        self.mean = float(y.mean())
        sd = float(y.std())
        self.sd = sd if sd > 0.0 else 1.0
        self.y = (y - self.mean) / self.sd
        n, d = self.x.shape
        diff = self.x[:, None, :] - self.x[None, :, :]
        self._d2 = (diff * diff).reshape(n * n, d)  # squared differences per feature
        start = np.r_[np.zeros(d), 0.0, math.log(1e-3)]
        bounds = [_LOG_LENGTH] * d + [_LOG_SIGNAL, _LOG_NOISE]
        res = minimize(
            self.neg_log_likelihood,
            start,
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": _MAXITER},
        )
        self.theta = np.asarray(res.x, dtype=float)
        self.scale = np.exp(self.theta[:d])
        self.signal, self.noise = math.exp(self.theta[d]), math.exp(self.theta[d + 1])
        k = _matern52(self.x, self.x, self.scale, self.signal)
        k[np.diag_indices_from(k)] += self.noise + _JITTER
        self._chol = np.linalg.cholesky(k)
        self._alpha = cho_solve((self._chol, True), self.y)

    def neg_log_likelihood(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """Negative log marginal likelihood (without the constant) and its gradient in
        the log hyperparameters (R&W eq. 5.8-5.9)."""
        from scipy.linalg import lapack

        y = self.y
        n, d = self.x.shape
        inv_l2 = np.exp(-2.0 * theta[:d])
        signal, noise = math.exp(theta[d]), math.exp(theta[d + 1])
        r2 = (self._d2 @ inv_l2).reshape(n, n)
        r = np.sqrt(r2)
        e = np.exp(-_SQRT5 * r)
        k = signal * (1.0 + _SQRT5 * r + (5.0 / 3.0) * r2) * e
        kn = k.copy()
        kn[np.diag_indices(n)] += noise + _JITTER
        try:
            chol = np.linalg.cholesky(kn)
        except np.linalg.LinAlgError:
            return 1e10, np.zeros_like(theta)
        alpha = cho_solve((chol, True), y)
        nll = 0.5 * float(y @ alpha) + float(np.log(np.diag(chol)).sum())
        inv, info = lapack.dpotri(chol, lower=1)  # K^-1 from its Cholesky factor
        if info != 0:
            return 1e10, np.zeros_like(theta)
        inv = np.tril(inv) + np.tril(inv, -1).T
        w = np.outer(alpha, alpha) - inv
        grad = np.empty_like(theta)
        # dk/dlog(l_j) = signal * 5/3 * (1 + sqrt5 r) e^(-sqrt5 r) * (dx_j / l_j)^2
        base = w * (signal * (5.0 / 3.0) * (1.0 + _SQRT5 * r) * e)
        grad[:d] = -0.5 * (base.reshape(-1) @ self._d2) * inv_l2
        grad[d] = -0.5 * float((w * k).sum())
        grad[d + 1] = -0.5 * float(np.trace(w)) * noise
        return nll, grad

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation of the latent function at ``x``."""
        post = _Believer(self, x)
        return post.mean, post.sd()


class _Believer:
    """A Gaussian process's posterior at a set of candidates, conditioned one by one on
    the batch's designs as if each had been evaluated at its predicted mean (the kriging
    believer). Such an observation leaves the posterior mean where it was and shrinks
    the variance of the candidates correlated with it, by a rank-one update of the
    posterior covariance (R&W eq. 2.24 with one more point):

        cov'(a, b) = cov(a, b) - cov(a, x) cov(x, b) / (var(x) + noise)
    """

    def __init__(self, gp: GaussianProcess, x: np.ndarray) -> None:
        from scipy.linalg import solve_triangular

        self.gp = gp
        self.x = np.asarray(x, dtype=float)
        ks = _matern52(self.x, gp.x, gp.scale, gp.signal)
        self.mean = (ks @ gp._alpha) * gp.sd + gp.mean
        self._v = solve_triangular(gp._chol, ks.T, lower=True)  # (trials, candidates)
        self._var = np.maximum(gp.signal - (self._v * self._v).sum(0), 1e-12)
        self._updates: list[np.ndarray] = []

    def sd(self) -> np.ndarray:
        """Posterior standard deviation at the candidates, given the believed ones."""
        return np.sqrt(self._var) * self.gp.sd

    def believe(self, i: int) -> None:
        """Condition on candidate ``i`` observed at its posterior mean."""
        gp = self.gp
        cov = _matern52(self.x, self.x[i : i + 1], gp.scale, gp.signal)[:, 0]
        cov -= self._v.T @ self._v[:, i]
        for u in self._updates:
            cov -= u * u[i]
        u = cov / math.sqrt(self._var[i] + gp.noise + _JITTER)
        self._updates.append(u)
        self._var = np.maximum(self._var - u * u, 1e-12)


def encode(dims: Sequence[Any], positions: np.ndarray) -> np.ndarray:
    """Features of designs given as positions (``dse.search.local._Dim``): an ordered key
    its position on [0, 1], a text list one column per value (one-hot)."""
    p = np.asarray(positions, dtype=float).reshape(-1, len(dims))
    cols: list[np.ndarray] = []
    for j, d in enumerate(dims):
        if d.size == 1:
            continue
        if not d.ordered:
            cols.extend((p[:, j] == c).astype(float) for c in range(d.size))
        elif d.size is not None:
            cols.append(p[:, j] / (d.size - 1))
        else:
            cols.append(p[:, j])
    return np.column_stack(cols) if cols else np.zeros((len(p), 1))


class _Transform:
    """Objective values (minimised) to the modelled scale and back: the logarithm for an
    objective of one sign over the trials, else as is."""

    def __init__(self, f: np.ndarray) -> None:
        self.sign = np.where((f > 0).all(0), 1.0, np.where((f < 0).all(0), -1.0, 0.0))

    def forward(self, f: np.ndarray) -> np.ndarray:
        s = self.sign
        return np.where(s != 0, s * np.log(np.where(s != 0, np.abs(f), 1.0)), f)

    def inverse(self, t: np.ndarray) -> np.ndarray:
        s = self.sign
        return np.where(s != 0, s * np.exp(np.where(s != 0, s * t, 0.0)), t)


def _constraint_scale(c: np.ndarray) -> np.ndarray:
    """A constraint value as modelled: as is (linear in a count or an area, so the models
    place the limit where a straight line through the trials puts it), an excess capped
    at :data:`_EXCESS_CAP`."""
    return np.minimum(c, _EXCESS_CAP)


def _threshold(c: np.ndarray) -> float:
    """Where a constraint's model divides feasible from not: halfway between the largest
    value that held (<= 0) and the smallest that did not (> 0) among the trials, 0 when
    the trials are all on one side. A count of violations (0, 1, 2, ...) then divides at
    0.5, not at 0, where every design that holds it sits (probability 1/2 each)."""
    held, broken = c[c <= 0.0], c[c > 0.0]
    if not held.size or not broken.size:
        return 0.0
    return 0.5 * (float(held.max()) + float(broken.min()))


def _candidates(
    dims: Sequence[Any],
    parents: Sequence[tuple[float, ...]],
    front: Sequence[tuple[float, ...]],
    asked: set[tuple[float, ...]],
    rng: np.random.RandomState,
    n_random: int,
) -> list[tuple[float, ...]]:
    """Designs not asked yet: every value of one key of each parent (ten random values
    of an unstepped range), two random keys of a front member, random designs."""
    out: set[tuple[float, ...]] = set()
    movable = [j for j, d in enumerate(dims) if d.size != 1]
    for parent in parents:
        for j in movable:
            size = dims[j].size
            values = range(size) if size is not None else rng.random_sample(10)
            for v in values:
                x = list(parent)
                x[j] = float(v)
                out.add(tuple(x))
    if front and len(movable) > 1:
        for _ in range(n_random):
            x = list(front[rng.randint(len(front))])
            for j in rng.choice(movable, size=2, replace=False):
                x[j] = dims[j].random(rng)
            out.add(tuple(x))
    for _ in range(n_random):
        out.add(tuple(d.random(rng) for d in dims))
    return sorted(out - asked)


class Models:
    """Gaussian processes of every objective and constraint of a set of trials.

    Parameters
    ----------
    dims : sequence of ``dse.search.local._Dim``
        The searched keys.
    positions, values, constraints : numpy.ndarray
        The trials: positions (n, keys), objective values made minimised (n, m; NaN or
        inf where a design has none) and constraint values (n, k; <= 0 satisfied).
        At least two trials with finite objectives.
    """

    def __init__(
        self,
        dims: Sequence[Any],
        positions: np.ndarray,
        values: np.ndarray,
        constraints: np.ndarray,
        features: Callable[[np.ndarray], np.ndarray] | None = None,
    ) -> None:
        self.dims = dims
        self.features = features
        z = None if features is None else features(np.asarray(positions, dtype=float))
        if z is not None:
            finite = np.isfinite(z)  # a feature no design has (no DRAM) stays out
            lo = np.where(finite, z, np.inf).min(axis=0)
            hi = np.where(finite, z, -np.inf).max(axis=0)
            ok = np.isfinite(lo) & (hi > lo)
            self._lo, self._span, self._cols = lo[ok], (hi - lo)[ok], np.flatnonzero(ok)
        x = self.encode(positions, z)
        ok = np.isfinite(values).all(axis=1)
        self.tf = _Transform(values[ok])
        t = self.tf.forward(values[ok])
        self.objectives = [GaussianProcess(x[ok], t[:, i]) for i in range(values.shape[1])]
        cs = _constraint_scale(np.asarray(constraints, dtype=float))
        learn = [j for j in range(cs.shape[1]) if np.ptp(cs[:, j]) > 0.0]  # else nothing to learn
        self.constraints = [GaussianProcess(x, cs[:, j]) for j in learn]
        self.thresholds = [_threshold(cs[:, j]) for j in learn]

    def encode(self, positions: np.ndarray, z: np.ndarray | None = None) -> np.ndarray:
        """The models' features of designs given as positions: the keys (:func:`encode`)
        and, with ``features``, the design's workload-free features (``z``, when already
        computed) scaled to [0, 1] over the trials (0.5 where missing)."""
        x = encode(self.dims, positions)
        if self.features is None or not len(self._cols):
            return x
        if z is None:
            z = self.features(np.asarray(positions, dtype=float))
        scaled = (z[:, self._cols] - self._lo) / self._span
        return np.hstack([x, np.where(np.isfinite(scaled), scaled, 0.5)])

    def predict(self, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Mean and standard deviation of the modelled objectives (n, m) and the
        probability that every constraint holds (n,) at designs given as positions."""
        believers, feasible = self.believers(positions)
        mean = np.column_stack([b.mean for b in believers])
        sd = np.column_stack([b.sd() for b in believers])
        return mean, sd, feasible

    def believers(self, positions: np.ndarray) -> tuple[list[_Believer], np.ndarray]:
        """The objectives' posteriors at designs given as positions, ready to be
        conditioned on a batch's designs (:class:`_Believer`), and the probability that
        every constraint holds (n,)."""
        from scipy.special import ndtr

        xc = self.encode(positions)
        believers = [_Believer(gp, xc) for gp in self.objectives]
        feasible = np.ones(len(xc))
        for gp, t in zip(self.constraints, self.thresholds, strict=True):
            mu, s = gp.predict(xc)
            feasible *= ndtr((t - mu) / s)
        return believers, feasible


def _one_blas_thread() -> Any:
    """The linear algebra on one thread: the surrogate's matrices (a few hundred rows) run
    several times slower when OpenBLAS splits them over threads (2-core machine: the main
    study's 2,000 trials 77 s -> 44 s, the same designs)."""
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    return threadpool_limits(limits=1, user_api="blas")


def fit_models(
    dims: Sequence[Any],
    positions: np.ndarray,
    values: np.ndarray,
    constraints: np.ndarray,
    features: Callable[[np.ndarray], np.ndarray] | None = None,
) -> Models | None:
    """:class:`Models` of the trials, or ``None`` with fewer than two trials with
    objective values (nothing to fit)."""
    if np.isfinite(values).all(axis=1).sum() < 2:
        return None
    with _one_blas_thread():
        return Models(dims, positions, values, constraints, features)


def propose_batch(*args: Any, **kwargs: Any) -> tuple[list[tuple[float, ...]], Models | None]:
    """Up to ``size`` designs by optimistic hypervolume improvement times the probability
    of feasibility (:func:`_propose_batch`; module docstring), and the models behind them,
    the linear algebra on one thread."""
    with _one_blas_thread():
        return _propose_batch(*args, **kwargs)


def _propose_batch(
    dims: Sequence[Any],
    positions: np.ndarray,
    values: np.ndarray,
    constraints: np.ndarray,
    front_x: Sequence[tuple[float, ...]],
    front_f: np.ndarray,
    beyond_x: Sequence[tuple[float, ...]],
    asked: set[tuple[float, ...]],
    rng: np.random.RandomState,
    *,
    size: int,
    kappa: float,
    n_random: int,
    allowed: Callable[[list[tuple[float, ...]]], np.ndarray] | None = None,
    features: Callable[[np.ndarray], np.ndarray] | None = None,
    extend: int | None = None,
) -> tuple[list[tuple[float, ...]], Models | None]:
    """Up to ``size`` designs (positions) by optimistic hypervolume improvement times the
    probability of feasibility, and the fitted models (``None`` when there was nothing
    to fit: no candidate, or fewer than two trials with objective values). With
    ``extend`` = k, the batch's last design is the one that extends the front furthest
    in objective k (:func:`_extension`), where one is likely feasible.

    Parameters
    ----------
    dims : sequence of ``dse.search.local._Dim``
        The searched keys.
    positions, values, constraints : numpy.ndarray
        The trials so far (:class:`Models`).
    front_x, front_f : sequence, numpy.ndarray
        The feasible non-dominated trials: positions and minimised values.
    beyond_x : sequence
        Infeasible trials that nothing dominates in objectives and total violation.
    asked : set
        Positions already asked (never proposed again).
    rng : numpy.random.RandomState
        The sampler's random state (candidates).
    size, kappa, n_random : int, float, int
        Designs to return; the optimism (standard deviations subtracted from the
        predicted objectives); random designs and random two-key moves among the
        candidates.
    allowed : callable, optional
        ``allowed(candidates) -> bool array``: the candidates the design check leaves
        (the others are dropped, unless none is left).
    """
    cands = _candidates(dims, list(front_x) + list(beyond_x), front_x, asked, rng, n_random)
    if allowed is not None and cands:
        keep = np.asarray(allowed(cands), dtype=bool)
        if keep.any():
            cands = [c for c, k in zip(cands, keep.tolist(), strict=True) if k]
    if not cands or np.isfinite(values).all(axis=1).sum() < 2:
        return [], None
    models = Models(dims, positions, values, constraints, features)
    believers, feasible = models.believers(np.asarray(cands, dtype=float))
    mean = np.column_stack([b.mean for b in believers])

    def bound() -> np.ndarray:
        sd = np.column_stack([b.sd() for b in believers])
        return models.tf.inverse(mean - kappa * sd)

    optimistic = bound()
    believed = models.tf.inverse(mean)
    m = values.shape[1]
    front = np.asarray(front_f, dtype=float).reshape(-1, m)
    chosen = np.zeros(len(cands), dtype=bool)
    out: list[tuple[float, ...]] = []
    end = None
    if extend is not None and size > 1 and len(front):
        end = _extension(optimistic, feasible, front, extend % m)
    for k in range(min(size, len(cands))):
        i = end if end is not None and k == size - 1 and not chosen[end] else None
        i = _best(optimistic, feasible, front, chosen) if i is None else i
        chosen[i] = True
        out.append(cands[i])
        if len(front):
            front = np.vstack([front, believed[i]])
        if k < min(size, len(cands)) - 1:
            for b in believers:
                b.believe(i)
            optimistic = bound()
    return out, models


def _extension(
    optimistic: np.ndarray, feasible: np.ndarray, front: np.ndarray, k: int
) -> int | None:
    """The candidate (index) whose optimistic value of objective ``k`` most passes the
    front's best in it, among those likely feasible (>= :data:`_EXTEND_FEASIBLE`);
    ``None`` when none passes it.

    The hypervolume gain misses such designs where a front's end is dear in the other
    objectives: 8 HBM3 stacks need a ~750 mm2 die, several times the die cost of the
    front's fastest design at 6 stacks, and past the reference point in die cost their
    gain is nothing however fast they are predicted."""
    best = float(front[:, k].min())
    ok = (feasible >= _EXTEND_FEASIBLE) & (optimistic[:, k] < best)
    if not ok.any():
        return None
    return int(np.flatnonzero(ok)[np.argmin(optimistic[ok, k])])


def screen(
    models: Models,
    candidates: Sequence[tuple[float, ...]],
    front_f: np.ndarray,
    *,
    kappa: float,
) -> int:
    """The candidate (index) the models score best: optimistic hypervolume improvement
    on the front times the probability of feasibility, as :func:`propose_batch` chooses
    its first design."""
    with _one_blas_thread():
        mean, sd, feasible = models.predict(np.asarray(candidates, dtype=float))
        optimistic = models.tf.inverse(mean - kappa * sd)
        front = np.asarray(front_f, dtype=float).reshape(-1, mean.shape[1])
        return _best(optimistic, feasible, front, np.zeros(len(candidates), dtype=bool))


def _best(
    optimistic: np.ndarray, feasible: np.ndarray, front: np.ndarray, chosen: np.ndarray
) -> int:
    """The unchosen candidate of the largest optimistic hypervolume gain times the
    probability of feasibility; the likeliest feasible one when none gains."""
    import moocore

    m = optimistic.shape[1]
    ref = np.full(m, _REF)
    score = feasible.copy()
    if len(front):
        lo, hi = front.min(axis=0), front.max(axis=0)
        span = np.where(hi > lo, hi - lo, np.maximum(np.abs(hi), 1e-12))
        fn = (front - lo) / span
        pn = np.minimum((optimistic - lo) / span, _REF)
        dominated = (fn[None, :, :] <= pn[:, None, :]).all(axis=2).any(axis=1)
        idx = np.flatnonzero(~dominated & ~chosen & (feasible > 1e-3))
        bound = feasible[idx] * np.prod(_REF - pn[idx], axis=1)  # HVI <= its box
        idx = idx[np.argsort(-bound, kind="stable")[:_EXACT_HVI]]
        gain = np.zeros(len(feasible))
        if idx.size:
            base = moocore.hypervolume(fn, ref=ref)
            for c in idx.tolist():
                gain[c] = moocore.hypervolume(np.vstack([fn, pn[c]]), ref=ref) - base
        score = gain * feasible
    score[chosen] = -1.0
    if score.max() <= 0.0:  # no optimistic gain anywhere: the likeliest feasible
        score = np.where(chosen, -1.0, feasible)
    return int(np.argmax(score))
