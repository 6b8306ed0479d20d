"""Core harvesting: yield with spare cores and cost per sellable die (dse.model.harvest)."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dse.model.cost import dies_per_wafer, negative_binomial_yield
from dse.model.harvest import (
    best_spare_cores,
    cost_per_sellable_die_usd,
    harvested_die_area_mm2,
    harvested_yield,
    spare_cores_sweep,
)


def exact_yield(core_mm2, uncore_mm2, cores, spares, d0, alpha):
    """The exact finite sum of the module docstring, in rational arithmetic (integer alpha).

    Y = sum_f sum_j C(n, f) C(f, j) (-1)^j M(a_u + (n - f + j) a_c), M(A) = (1 + A D0/alpha)^-alpha
    """
    a_c, a_u, d0 = Fraction(core_mm2) / 100, Fraction(uncore_mm2) / 100, Fraction(d0)
    n = cores + spares

    def m(area):
        return (1 + area * d0 / alpha) ** (-alpha)

    total = Fraction(0)
    for f in range(spares + 1):
        for j in range(f + 1):
            total += math.comb(n, f) * math.comb(f, j) * (-1) ** j * m(a_u + (n - f + j) * a_c)
    return total


# --- worked examples, by hand ---------------------------------------------------------------


def test_poisson_two_cores_one_spare_by_hand():
    # Poisson limit (alpha -> inf), 2 cores + 1 spare, core tile 50 mm2 = 0.5 cm2,
    # uncore 100 mm2 = 1 cm2, D0 = 0.2 /cm2:
    #   p   = exp(-0.2 * 0.5) = 0.904837418  (one tile good)
    #   q_u = exp(-0.2 * 1.0) = 0.818730753  (uncore good)
    #   P(>= 2 of 3 good) = p^3 + 3 p^2 (1 - p) = 3 p^2 - 2 p^3
    #                     = 3 * 0.818730753 - 2 * 0.740818221 = 0.974555818
    #   Y = q_u * 0.974555818 = 0.797898819
    # without the spare the 200 mm2 die yields exp(-0.4) = 0.670320046.
    y = harvested_yield(50.0, 100.0, 2, 1, 0.2, np.inf)
    assert y == pytest.approx(0.797898819, rel=1e-9)
    assert harvested_yield(50.0, 100.0, 2, 0, 0.2, np.inf) == pytest.approx(0.670320046, rel=1e-9)


def test_negative_binomial_alpha_one_two_cores_one_spare_by_hand():
    # alpha = 1: M(A) = E[exp(-lambda A)] = 1 / (1 + A D0). Same die as above:
    #   Y = E[q_u (3 p^2 - 2 p^3)] = 3 M(a_u + 2 a_c) - 2 M(a_u + 3 a_c)
    #     = 3 / (1 + 2.0 * 0.2) - 2 / (1 + 2.5 * 0.2) = 3 / 1.4 - 2 / 1.5
    #     = 2.142857143 - 1.333333333 = 0.809523810 (= 17/21)
    y = harvested_yield(50.0, 100.0, 2, 1, 0.2, 1.0)
    assert y == pytest.approx(17.0 / 21.0, rel=1e-12)
    assert float(exact_yield(50, 100, 2, 1, Fraction(1, 5), 1)) == pytest.approx(
        17.0 / 21.0, rel=1e-15
    )


def test_smic_n2_600mm2_spares_have_an_interior_cost_optimum():
    # smic-n2 (nodes.csv): D0 = 0.15 /cm2, alpha = 3, wafer 14,000 USD. A 600 mm2 die of
    # 64 cores of 7.5 mm2 (480 mm2) + 120 mm2 uncore.
    #   no spare: DPW = floor(pi 150^2 / 600 - pi 300 / sqrt(1200)) = floor(117.81 - 27.21) = 90
    #             Y = (1 + 6 * 0.15 / 3)^-3 = 1.3^-3 = 0.455166
    #             cost = 14,000 / (90 * 0.455166) = 341.8 USD
    #   more spares: yield climbs to the uncore's (1 + 1.2 * 0.05)^-3 = 0.8396 while
    #   the die grows by 7.5 mm2 per spare; the minimum is at 3 spares (~196.6 USD).
    spares = np.arange(65)
    cost = spare_cores_sweep(14000.0, 7.5, 120.0, 64, 0.15, 3.0, spares=spares)[0]
    assert dies_per_wafer(600.0) == 90
    assert harvested_yield(7.5, 120.0, 64, 0, 0.15, 3.0) == pytest.approx(1.3**-3, rel=1e-12)
    assert cost[0] == pytest.approx(14000.0 / (90 * 1.3**-3), rel=1e-12)
    assert cost[0] == pytest.approx(341.8, abs=0.05)
    best = int(best_spare_cores(cost[None, :], spares)[0])
    assert best == 3
    assert 0 < best < 64
    assert cost[best] < 0.6 * cost[0] and cost[best] < cost[-1]
    assert harvested_yield(7.5, 120.0, 64, 64, 0.15, 3.0) == pytest.approx(1.06**-3, rel=1e-9)


def test_low_defect_node_wants_fewer_spares_than_high_defect_node():
    spares = np.arange(33)
    d0 = np.array([0.03, 0.15, 0.5])
    cost = spare_cores_sweep(14000.0, 7.5, 120.0, 64, d0, 3.0, spares=spares)
    best = best_spare_cores(cost, spares)
    assert best[0] <= best[1] <= best[2]
    assert best[2] > best[0]


# --- exactness and agreement with the exact sum ----------------------------------------------


def test_no_spares_is_exactly_the_negative_binomial_die_yield():
    core = np.array([7.5, 1.0, 30.0, 0.25])
    uncore = np.array([120.0, 50.0, 10.0, 300.0])
    cores = np.array([64, 500, 16, 4096])
    d0 = np.array([0.15, 0.08, 0.3, 0.05])
    alpha = np.array([3.0, 3.0, 0.7, np.inf])
    y = harvested_yield(core, uncore, cores, 0, d0, alpha)
    area = harvested_die_area_mm2(core, uncore, cores, 0)
    nb = negative_binomial_yield(area[:3], d0[:3], alpha[:3])
    np.testing.assert_array_equal(y[:3], nb)
    assert y[3] == np.exp(-area[3] / 100.0 * d0[3])


@pytest.mark.parametrize("alpha", [1, 3])
@pytest.mark.parametrize("spares", [1, 2, 8, 32, 64])
@pytest.mark.parametrize(
    "core_mm2,uncore_mm2,cores,d0",
    [
        (7.5, 120, 64, Fraction(15, 100)),
        (1, 50, 500, Fraction(3, 10)),
        (20, 50, 20, Fraction(1, 2)),
        (0.5, 30, 1000, Fraction(1, 20)),
    ],
)
def test_quadrature_agrees_with_the_exact_rational_sum(
    core_mm2, uncore_mm2, cores, d0, alpha, spares
):
    # The exact alternating sum, evaluated in rationals, is the reference; the quadrature
    # (48 Gauss-Laguerre nodes) must agree to 1e-11 relative (observed ~2e-14).
    exact = float(exact_yield(core_mm2, uncore_mm2, cores, spares, d0, alpha))
    y = harvested_yield(core_mm2, uncore_mm2, cores, spares, float(d0), float(alpha))
    assert y == pytest.approx(exact, rel=1e-11)


def test_non_integer_alpha_agrees_with_adaptive_integration():
    # alpha = 0.5 (strong clustering) and 20: compare with scipy.integrate.quad of
    # E[exp(-lambda a_u) P(Bin(n, p) >= c)] over the gamma density.
    from scipy import integrate
    from scipy.stats import binom, gamma

    for alpha in (0.5, 20.0):
        a_c, a_u, c, s, d0 = 0.075, 1.2, 64, 6, 0.3

        def f(lam, alpha=alpha, a_c=a_c, a_u=a_u, c=c, s=s, d0=d0):
            tail = binom.sf(c - 1, c + s, np.exp(-lam * a_c))
            return np.exp(-lam * a_u) * tail * gamma.pdf(lam, alpha, scale=d0 / alpha)

        ref = integrate.quad(f, 0, np.inf, limit=500, epsabs=1e-14, epsrel=1e-12)[0]
        y = harvested_yield(a_c * 100, a_u * 100, c, s, d0, alpha)
        assert y == pytest.approx(ref, rel=1e-8)


# --- invariants -----------------------------------------------------------------------------


def test_more_spares_never_lower_the_sellable_yield():
    spares = np.arange(0, 65)
    for alpha in (0.5, 3.0, np.inf):
        y = harvested_yield(7.5, 120.0, 64, spares, 0.2, alpha)
        assert (np.diff(y) >= -1e-15).all()
        assert (y[1:] >= y[0]).all()
        # bounded by the uncore's yield
        uncore = negative_binomial_yield(120.0, 0.2, alpha) if np.isfinite(alpha) else np.exp(-0.24)
        assert (y <= uncore * (1 + 1e-12)).all()


def test_yield_falls_with_defect_density_and_vectorises_over_mixed_alpha():
    d0 = np.linspace(0.01, 1.0, 50)
    y = harvested_yield(7.5, 120.0, 64, 4, d0, 3.0)
    assert (np.diff(y) < 0).all()
    # an array of several alphas equals per-element scalar calls
    alphas = np.array([3.0, 1.0, np.inf, 3.0, 0.7])
    spares = np.array([4, 0, 2, 8, 3])
    vec = harvested_yield(5.0, 80.0, 32, spares, 0.2, alphas)
    one = [harvested_yield(5.0, 80.0, 32, s, 0.2, a) for s, a in zip(spares, alphas, strict=True)]
    np.testing.assert_allclose(vec, one, rtol=1e-14)
    # broadcasting: (3, 1) x (4,) -> (3, 4)
    grid = harvested_yield(7.5, 120.0, 64, np.arange(4), np.array([[0.05], [0.15], [0.3]]), 3.0)
    assert grid.shape == (3, 4)


def test_cost_per_sellable_die_formula():
    # cost = wafer / (DPW(A) Y), A = (c + s) a_c + a_u
    cost = cost_per_sellable_die_usd(14000.0, 7.5, 120.0, 64, 3, 0.15, 3.0)
    area = 67 * 7.5 + 120.0
    y = harvested_yield(7.5, 120.0, 64, 3, 0.15, 3.0)
    assert cost == pytest.approx(14000.0 / (dies_per_wafer(area) * y), rel=1e-12)


@settings(max_examples=150, deadline=None)
@given(
    core=st.floats(0.05, 60.0),
    uncore=st.floats(0.0, 400.0),
    cores=st.integers(1, 2000),
    spares=st.integers(0, 64),
    d0=st.floats(0.001, 2.0),
    alpha=st.sampled_from([0.3, 1.0, 2.5, 3.0, 10.0, np.inf]),
)
def test_yield_is_a_probability_and_spares_help(core, uncore, cores, spares, d0, alpha):
    y0, y = harvested_yield(core, uncore, cores, [0, spares], d0, alpha)
    assert np.isfinite(y) and 0.0 <= y <= 1.0
    assert y >= y0 * (1 - 1e-12) - 1e-300  # both underflow to ~0 for huge dies
