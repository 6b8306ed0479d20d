"""Core harvesting: die yield with spare cores, and cost per sellable die.

A die of ``cores + spare_cores`` identical core tiles plus an uncore (everything not in a
core tile: PHYs, host interface, NoC root, clocking) is *sellable* when its uncore is
defect-free and at least ``cores`` of its core tiles are (the bad tiles are fused off,
as GPUs ship with disabled SMs). Defects follow the negative-binomial model of
:func:`dse.model.cost.negative_binomial_yield`: a Poisson process whose rate is itself gamma
distributed over wafers (clustering, Stapper 1986).

Derivation
----------
Given the defect rate lambda [1/cm2], regions are independent: the uncore is good with
probability exp(-lambda a_u) and each core tile with p = exp(-lambda a_c). The yield is
the gamma mixture (shape alpha, mean D0, scale theta = D0 / alpha)

    Y = E[ exp(-lambda a_u) P(Bin(n, p) >= c) ],   n = c + s.

Expanding the binomial tail into exponentials gives the exact finite sum

    Y = sum_{f=0..s} sum_{j=0..f} C(n, f) C(f, j) (-1)^j M(a_u + (n - f + j) a_c),
    M(A) = (1 + A D0 / alpha)^(-alpha),

whose alternating terms cancel catastrophically for large ``n`` and ``s`` (it is kept
as the reference in the tests, in exact rational arithmetic). The function below
evaluates the same expectation stably instead: the factor exp(-lambda A_c) with
A_c = a_u + c a_c is absorbed into the gamma density (an exponential tilt, exact:
the gamma family is closed under it),

    Y = M(A_c) E''[ R(lambda) ],   lambda ~ Gamma(alpha, theta''),
    theta'' = theta / (1 + theta A_c),
    R(lambda) = P(Bin(n, p) >= c) / p^c = I_p(c, s + 1) / p^c,

and E'' is taken by generalized Gauss-Laguerre quadrature (weight x^(alpha-1) e^(-x)).
R is smooth, monotone and bounded (1 at lambda = 0, C(n, s) as lambda -> inf), its
terms are all positive (no cancellation), and it is evaluated in log space via the
regularized incomplete beta function I_p. With ``s = 0`` R = 1 and the plain
negative-binomial yield of the whole die is returned exactly (that case uses the closed
form). 48 nodes agree with the exact rational sum to ~1e-14 relative for spares up to 64
(``tests/test_harvest.py``) and with a 128-node rule to <= 1e-13 over cores 1-2000,
spares 1-64, tiles 0.05-60 mm2, uncore 0-400 mm2, D0 0.001-2 /cm2, alpha 0.3-50 (32 nodes:
<= 1e-10 at twice the speed, ~130k designs/s per thread; 48: ~70k/s; no spares: ~14M/s).
``alpha = inf`` is the Poisson limit.

References
----------
C. H. Stapper, "On yield, fault distributions and clustering of particles", IBM J. Res.
Dev. 30(3), 1986 (negative-binomial yield, clustering parameter alpha).
I. Koren and Z. Koren, "Defect tolerance in VLSI circuits: techniques and yield
analysis", Proc. IEEE 86(9), 1998 (yield of redundant designs under the compound
Poisson model; spare-unit yield as a mixture of binomial tails).
D. Stow, Y. Xie, T. Siddiqua, G. H. Loh, "Cost-effective design of scalable
high-performance systems using active and passive interposers", ICCAD 2017
(multi-die core-binning cost model).
"""

from __future__ import annotations

import numpy as np
from scipy.special import betainc, logsumexp, roots_genlaguerre

from dse.model.cost import dies_per_wafer, negative_binomial_yield
from dse.units import MM2_PER_CM2

__all__ = [
    "best_spare_cores",
    "cost_per_sellable_die_usd",
    "harvested_die_area_mm2",
    "harvested_yield",
    "spare_cores_sweep",
]

#: Gauss-Laguerre nodes of the gamma mixture (32: <= 1e-10 relative, 48: <= 1e-13; see the module doc).
QUADRATURE_NODES = 32
#: Above this clustering parameter the gamma mixture is taken as its Poisson limit.
_POISSON_ALPHA = 1e6
#: Spare counts swept by default.
DEFAULT_SPARES = np.arange(65)


def harvested_die_area_mm2(core_area_mm2, uncore_area_mm2, cores, spare_cores):
    """Die area with the spare tiles [mm2].

    Parameters
    ----------
    core_area_mm2 : numeric
        Area of one core tile, a_c [mm2].
    uncore_area_mm2 : numeric
        Area outside the core tiles, a_u [mm2].
    cores : numeric
        Cores that must work, c [count].
    spare_cores : numeric
        Extra core tiles on the die, s [count].

    Returns
    -------
    ndarray
        Die area A [mm2].

    Notes
    -----
    A = (c + s) a_c + a_u.
    """
    return (np.asarray(cores, dtype=float) + np.asarray(spare_cores, dtype=float)) * np.asarray(
        core_area_mm2, dtype=float
    ) + np.asarray(uncore_area_mm2, dtype=float)


def _tilted_expectation(a_c, a_u_c, c, s, theta, alpha, nodes):
    """Natural log of E''[R] for one clustering value ``alpha`` (arrays of shape (m,))."""
    x, w = roots_genlaguerre(nodes, alpha - 1.0)
    log_w = np.log(w) - np.log(w.sum())
    theta2 = theta / (1.0 + theta * a_u_c)
    lam = theta2[:, None] * x[None, :]
    p = np.exp(-lam * a_c[:, None])
    tail = betainc(c[:, None], s[:, None] + 1.0, p)
    log_r = np.log(tail) + c[:, None] * lam * a_c[:, None]
    return logsumexp(log_r + log_w[None, :], axis=1)


def harvested_yield(
    core_area_mm2,
    uncore_area_mm2,
    cores,
    spare_cores,
    defect_density_per_cm2,
    alpha,
    nodes: int = QUADRATURE_NODES,
):
    """Probability that a die with spare cores is sellable [fraction].

    Parameters
    ----------
    core_area_mm2 : numeric
        Area of one core tile (logic, its SRAM slice and its share of the NoC) [mm2].
    uncore_area_mm2 : numeric
        Area outside the core tiles (PHYs, host interface, clocking, pads) [mm2];
        a defect here kills the die.
    cores : numeric
        Cores that must work (the sold configuration) [count], >= 1.
    spare_cores : numeric
        Extra core tiles on the die [count], >= 0.
    defect_density_per_cm2 : numeric
        Mean killer-defect density D0 [1/cm2].
    alpha : numeric
        Negative-binomial clustering parameter [-]; ``np.inf`` gives Poisson.
    nodes : int
        Gauss-Laguerre nodes of the gamma mixture [-].

    Returns
    -------
    numpy.ndarray
        Y = P(uncore good and >= ``cores`` of ``cores + spare_cores`` tiles good)
        [fraction], broadcast over the inputs.

    Notes
    -----
    Y = E_lambda[ exp(-lambda a_u) P(Bin(c + s, exp(-lambda a_c)) >= c) ] with lambda
    gamma distributed (mean D0, shape alpha); see the module docstring for the stable
    evaluation. With s = 0, Y = (1 + A D0 / alpha)^(-alpha), A = c a_c + a_u, exactly
    :func:`dse.model.cost.negative_binomial_yield` of the whole die.

    References
    ----------
    Stapper 1986; Koren & Koren, Proc. IEEE 86(9), 1998 (see the module docstring).
    """
    arrays = np.broadcast_arrays(
        np.asarray(core_area_mm2, dtype=float),
        np.asarray(uncore_area_mm2, dtype=float),
        np.asarray(cores, dtype=float),
        np.asarray(spare_cores, dtype=float),
        np.asarray(defect_density_per_cm2, dtype=float),
        np.asarray(alpha, dtype=float),
    )
    shape = arrays[0].shape
    a_c_mm2, a_u_mm2, c, s, d0, al = (np.ravel(a).astype(float) for a in arrays)
    a_c, a_u = a_c_mm2 / MM2_PER_CM2, a_u_mm2 / MM2_PER_CM2
    whole_mm2 = harvested_die_area_mm2(a_c_mm2, a_u_mm2, c, s)
    poisson = al >= _POISSON_ALPHA
    safe_al = np.where(poisson, 1.0, al)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        # no spares (and the start of every row): the plain negative-binomial die yield
        out = np.where(
            poisson,
            np.exp(-whole_mm2 / MM2_PER_CM2 * d0),
            negative_binomial_yield(whole_mm2, d0, safe_al),
        )
        spared = s > 0
        # Poisson limit: the mixture is a point mass at D0
        pi = np.flatnonzero(spared & poisson)
        if pi.size:
            p = np.exp(-d0[pi] * a_c[pi])
            out[pi] = np.exp(-d0[pi] * a_u[pi]) * betainc(c[pi], s[pi] + 1.0, p)
        gi = np.flatnonzero(spared & ~poisson)
        if gi.size:
            a_u_c = a_u[gi] + c[gi] * a_c[gi]
            theta = d0[gi] / al[gi]
            log_m = -al[gi] * np.log1p(theta * a_u_c)
            log_e = np.empty(gi.size)
            for value in np.unique(al[gi]):  # a few node types, not one per design
                k = np.flatnonzero(al[gi] == value)
                log_e[k] = _tilted_expectation(
                    a_c[gi][k], a_u_c[k], c[gi][k], s[gi][k], theta[k], float(value), nodes
                )
            out[gi] = np.minimum(np.exp(log_m + log_e), 1.0)
    return out.reshape(shape)


def cost_per_sellable_die_usd(
    wafer_cost_usd,
    core_area_mm2,
    uncore_area_mm2,
    cores,
    spare_cores,
    defect_density_per_cm2,
    alpha,
    wafer_diameter_mm=300.0,
):
    """Wafer cost spread over the sellable dies of a harvested design [USD].

    Parameters
    ----------
    wafer_cost_usd : numeric
        Cost of one processed wafer [USD].
    core_area_mm2 : numeric
        Area of one core tile, a_c [mm2].
    uncore_area_mm2 : numeric
        Area outside the core tiles, a_u [mm2].
    cores : numeric
        Cores that must work, c [count].
    spare_cores : numeric
        Extra core tiles on the die, s [count].
    defect_density_per_cm2 : numeric
        Mean killer-defect density D0 [1/cm2].
    alpha : numeric
        Negative-binomial clustering parameter [-]; ``np.inf`` gives Poisson.
    wafer_diameter_mm : float
        Wafer diameter [mm].

    Returns
    -------
    ndarray
        Cost of one sellable die [USD].

    Notes
    -----
    cost = wafer_cost / (DPW(A) Y), A = (c + s) a_c + a_u, DPW from
    :func:`dse.model.cost.dies_per_wafer` (edge loss), Y from :func:`harvested_yield`.
    Spares trade dies per wafer (bigger die) for yield; on a high-D0 node the cost has
    an interior minimum over ``spare_cores``.

    References
    ----------
    D. Stow, Y. Xie, T. Siddiqua and G. H. Loh, "Cost-effective design of scalable
    high-performance systems using active and passive interposers", ICCAD 2017
    (core-binning cost model).
    """
    area = harvested_die_area_mm2(core_area_mm2, uncore_area_mm2, cores, spare_cores)
    y = harvested_yield(
        core_area_mm2, uncore_area_mm2, cores, spare_cores, defect_density_per_cm2, alpha
    )
    return np.asarray(wafer_cost_usd, dtype=float) / (dies_per_wafer(area, wafer_diameter_mm) * y)


def spare_cores_sweep(
    wafer_cost_usd,
    core_area_mm2,
    uncore_area_mm2,
    cores,
    defect_density_per_cm2,
    alpha,
    spares=None,
    wafer_diameter_mm=300.0,
):
    """Cost per sellable die for each design (rows) and spare count (columns) [USD].

    Design arguments broadcast to shape (n,).

    Parameters
    ----------
    wafer_cost_usd : numeric
        Cost of one processed wafer [USD].
    core_area_mm2 : numeric
        Area of one core tile, a_c [mm2].
    uncore_area_mm2 : numeric
        Area outside the core tiles, a_u [mm2].
    cores : numeric
        Cores that must work, c [count].
    defect_density_per_cm2 : numeric
        Mean killer-defect density D0 [1/cm2].
    alpha : numeric
        Negative-binomial clustering parameter [-].
    spares : array_like, optional
        Spare counts to evaluate, 1-D [count] (default 0..64).
    wafer_diameter_mm : float
        Wafer diameter [mm].

    Returns
    -------
    ndarray (n, len(spares))
        :func:`cost_per_sellable_die_usd` of each design and spare count [USD].
    """
    spares = np.asarray(DEFAULT_SPARES if spares is None else spares, dtype=float)[None, :]
    col = (slice(None), None)
    args = np.broadcast_arrays(
        *(
            np.atleast_1d(np.asarray(v, dtype=float))
            for v in (
                wafer_cost_usd,
                core_area_mm2,
                uncore_area_mm2,
                cores,
                defect_density_per_cm2,
                alpha,
            )
        )
    )
    w, a_c, a_u, c, d0, al = (a[col] for a in args)
    return cost_per_sellable_die_usd(w, a_c, a_u, c, spares, d0, al, wafer_diameter_mm)


def best_spare_cores(cost_usd, spares=None):
    """Spare count of the cheapest sellable die per row of :func:`spare_cores_sweep` [count].

    Parameters
    ----------
    cost_usd : ndarray (n, len(spares))
        Cost per sellable die from :func:`spare_cores_sweep` [USD].
    spares : array_like, optional
        The spare counts of its columns [count] (default 0..64).

    Returns
    -------
    ndarray (n,)
        Spare count of the lowest cost in each row [count].

    Notes
    -----
    s* = argmin_s cost(s).
    """
    spares = DEFAULT_SPARES if spares is None else np.asarray(spares)
    return spares[np.argmin(np.asarray(cost_usd), axis=-1)]
