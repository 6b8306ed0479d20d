"""Surrogate-guided proposals for the first trials of the ``local`` sampler.

Each objective and each constraint value of the trials so far is modelled by a Gaussian
process over the encoded design; a batch of designs is then chosen from candidates near
the current front (every value of one key of each front member and of each design just
past a limit, two keys of a front member at random) and across the space (random
designs) by the **optimistic hypervolume improvement** each would add to the feasible
front, weighted by its **probability of feasibility**:

    score(x) = HVI(mu_f(x) - kappa * sigma_f(x) | front) * prod_j P(c_j(x) <= 0)

The first design of a batch is the best-scoring candidate; its predicted objectives then
join the front as if evaluated (the "kriging believer"), and the next is chosen against
that front, so a batch spreads along the front instead of asking one region eight times.

Gaussian process: constant mean, Matérn-5/2 kernel with one length scale per feature,
signal variance and noise variance by maximum marginal likelihood (L-BFGS-B from a fixed
start, so that the same trials always give the same proposals and a resumed study
continues as the uninterrupted one). Objectives of one sign are modelled as logarithms
(throughput, cost and energy span orders of magnitude); a constraint's relative excess
``c > 0`` as ``log(1 + c)``, its slack as is.

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
from collections.abc import Sequence
from typing import Any

import numpy as np

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
#: ideal (0) and nadir (1): beyond 1.1, so that designs extending an end of the front
#: score too
_REF = 1.5
#: candidates whose exact hypervolume improvement is computed (by an upper bound)
_EXACT_HVI = 300


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
        d = self.x.shape[1]
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
        self._alpha = _cho_solve(self._chol, self.y)

    def neg_log_likelihood(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """Negative log marginal likelihood (without the constant) and its gradient in
        the log hyperparameters (R&W eq. 5.8-5.9)."""
        x, y = self.x, self.y
        n, d = x.shape
        scale = np.exp(theta[:d])
        signal, noise = math.exp(theta[d]), math.exp(theta[d + 1])
        diff2 = ((x[:, None, :] - x[None, :, :]) / scale) ** 2
        r = np.sqrt(diff2.sum(-1))
        e = np.exp(-_SQRT5 * r)
        k = signal * (1.0 + _SQRT5 * r + (5.0 / 3.0) * r * r) * e
        kn = k.copy()
        kn[np.diag_indices(n)] += noise + _JITTER
        try:
            chol = np.linalg.cholesky(kn)
        except np.linalg.LinAlgError:
            return 1e10, np.zeros_like(theta)
        alpha = _cho_solve(chol, y)
        nll = 0.5 * float(y @ alpha) + float(np.log(np.diag(chol)).sum())
        w = np.outer(alpha, alpha) - _cho_solve(chol, np.eye(n))
        grad = np.empty_like(theta)
        # dk/dlog(l_j) = signal * 5/3 * (1 + sqrt5 r) e^(-sqrt5 r) * (dx_j / l_j)^2
        base = w * (signal * (5.0 / 3.0) * (1.0 + _SQRT5 * r) * e)
        grad[:d] = -0.5 * np.einsum("ij,ijk->k", base, diff2)
        grad[d] = -0.5 * float((w * k).sum())
        grad[d + 1] = -0.5 * float(np.trace(w)) * noise
        return nll, grad

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation of the latent function at ``x``."""
        from scipy.linalg import solve_triangular

        ks = _matern52(np.asarray(x, dtype=float), self.x, self.scale, self.signal)
        mean = ks @ self._alpha
        v = solve_triangular(self._chol, ks.T, lower=True)
        var = np.maximum(self.signal - (v * v).sum(0), 1e-12)
        return mean * self.sd + self.mean, np.sqrt(var) * self.sd


def _cho_solve(chol: np.ndarray, b: np.ndarray) -> np.ndarray:
    from scipy.linalg import solve_triangular

    return solve_triangular(chol.T, solve_triangular(chol, b, lower=True), lower=False)


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
    return np.where(c > 0, np.log1p(np.maximum(c, 0.0)), c)


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


def propose_batch(*args: Any, **kwargs: Any) -> list[tuple[float, ...]]:
    """Up to ``size`` designs by optimistic hypervolume improvement times the probability
    of feasibility (:func:`_propose_batch`; module docstring), with the linear algebra on
    one thread: its matrices (a few hundred rows) run several times slower when OpenBLAS
    splits them over threads (2-core machine: the main study's 2,000 trials 77 s -> 44 s,
    the same designs)."""
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    with threadpool_limits(limits=1, user_api="blas"):
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
) -> list[tuple[float, ...]]:
    """Up to ``size`` designs (positions) by optimistic hypervolume improvement times the
    probability of feasibility.

    Parameters
    ----------
    dims : sequence of ``dse.search.local._Dim``
        The searched keys.
    positions, values, constraints : numpy.ndarray
        The trials so far: positions (n, keys), objective values made minimised (n, m;
        NaN or inf where a design has none) and constraint values (n, k; <= 0 satisfied).
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
    """
    import moocore
    from scipy.special import ndtr

    cands = _candidates(dims, list(front_x) + list(beyond_x), front_x, asked, rng, n_random)
    if not cands:
        return []
    x = encode(dims, positions)
    xc = encode(dims, np.asarray(cands, dtype=float))
    ok = np.isfinite(values).all(axis=1)
    if ok.sum() < 2:
        return []
    tf = _Transform(values[ok])
    t = tf.forward(values[ok])
    m = values.shape[1]
    mean, sd = np.empty((len(xc), m)), np.empty((len(xc), m))
    for i in range(m):
        mean[:, i], sd[:, i] = GaussianProcess(x[ok], t[:, i]).predict(xc)
    feasible = np.ones(len(xc))
    cs = _constraint_scale(np.asarray(constraints, dtype=float))
    for j in range(cs.shape[1]):
        if np.ptp(cs[:, j]) == 0.0:
            continue  # one value on every trial: nothing to learn
        mu, s = GaussianProcess(x, cs[:, j]).predict(xc)
        feasible *= ndtr(-mu / s)
    optimistic = tf.inverse(mean - kappa * sd)
    believed = tf.inverse(mean)
    front = np.asarray(front_f, dtype=float).reshape(-1, m)
    chosen = np.zeros(len(cands), dtype=bool)
    out: list[tuple[float, ...]] = []
    ref = np.full(m, _REF)
    for _ in range(min(size, len(cands))):
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
            gain = np.zeros(len(cands))
            if idx.size:
                base = moocore.hypervolume(fn, ref=ref)
                for c in idx.tolist():
                    gain[c] = moocore.hypervolume(np.vstack([fn, pn[c]]), ref=ref) - base
            score = gain * feasible
        score[chosen] = -1.0
        if score.max() <= 0.0:  # no optimistic gain anywhere: the likeliest feasible
            score = np.where(chosen, -1.0, feasible)
        i = int(np.argmax(score))
        chosen[i] = True
        out.append(cands[i])
        if len(front):
            front = np.vstack([front, believed[i]])
    return out
