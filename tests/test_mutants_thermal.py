"""Tests that kill surviving mutants of ``dse.model.thermal`` (docs/mutation.md).

The junction temperature with exponential leakage is closed-form through the principal
branch W0 of the Lambert W function; dse evaluates W0 itself (series, then Halley's
iteration). Reference: ``scipy.special.lambertw`` and the definition W e^W = z
(Corless et al., "On the Lambert W function", Adv. Comput. Math. 5, 1996).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import lambertw

from dse.model import thermal
from dse.model.thermal import lambert_w0

# every starting region of the iteration: at and near the branch point -1/e, the
# branch-point series (z < -0.25), Winitzki's start (-0.25 <= z < 3), the asymptotic
# start (z >= 3), and the series region |z| < 0.02 on both sides
Z = np.concatenate(
    [
        [-math.exp(-1.0) + 1e-9, -math.exp(-1.0) + 1e-6],
        np.linspace(-0.367, -0.02, 60),
        np.linspace(-0.0199, 0.0199, 9),
        np.linspace(0.02, 3.0, 60),
        np.geomspace(3.0, 1e12, 60),
    ]
)


def test_lambert_w0_matches_scipy_to_double_precision():
    ref = lambertw(Z, 0).real
    got = lambert_w0(Z)
    away = Z > -math.exp(-1.0) + 1e-3  # W0 has infinite slope at the branch point
    np.testing.assert_allclose(got[away], ref[away], rtol=1e-14, atol=1e-300)
    np.testing.assert_allclose(got[~away], ref[~away], rtol=1e-7)


@pytest.mark.parametrize("dz", [1e-7, 1e-8])
def test_lambert_w0_next_to_the_branch_point(dz):
    # within p = sqrt(2 (e z + 1)) < 1e-3 of -1/e dse uses the branch-point series alone;
    # W0 there is conditioned as 1/p, so a few ulp in z allow ~1e-13 in W
    z = np.array([-math.exp(-1.0) + dz])
    np.testing.assert_allclose(lambert_w0(z), lambertw(z, 0).real, rtol=1e-11)


def test_lambert_w0_at_the_branch_point_is_minus_one():
    assert lambert_w0(np.array([-math.exp(-1.0)]))[0] == pytest.approx(-1.0, abs=1e-7)


@pytest.mark.parametrize("z", [-0.3, -0.1, 0.5, 2.0, 10.0, 1e6])
def test_lambert_w0_satisfies_its_definition(z):
    w = float(lambert_w0(np.array([z]))[0])
    assert w >= -1.0
    assert math.isclose(w * math.exp(w), z, rel_tol=1e-14)


# T = T_a + R (P_dyn + P_ref exp(beta (T - T_ref))): a 0.1 K/W path, 300 W dynamic power,
# 35 degC coolant, leakage referred to 25 degC with beta = 0.02 /K
R, P_DYN, T_A, T_REF, BETA = 0.1, 300.0, 35.0, 25.0, 0.02


def _z(p_ref):
    """Argument of W0 for a leakage ``p_ref``: -beta R P_ref exp(beta (a - T_ref))."""
    return -BETA * R * p_ref * math.exp(BETA * (T_A + R * P_DYN - T_REF))


@pytest.mark.parametrize("z", [-0.01, -0.2, -0.3, -0.36])  # -0.3, -0.36: near runaway
def test_junction_temperature_is_the_fixed_point(z):
    p_ref = z / _z(1.0)
    tj, runaway = thermal.junction_temperature(P_DYN, R, T_A, p_ref, T_REF, BETA)
    assert not runaway
    rhs = T_A + R * (P_DYN + p_ref * math.exp(BETA * (float(tj) - T_REF)))
    assert float(tj) == pytest.approx(rhs, abs=1e-9)


def test_runaway_past_the_tangency_returns_the_tangency_point():
    # no fixed point once -z > 1/e; the highest temperature a fixed point could have is
    # a + 1/beta (where the line and the exponential touch)
    p_ref = -0.38 / _z(1.0)
    tj, runaway = thermal.junction_temperature(P_DYN, R, T_A, p_ref, T_REF, BETA)
    assert runaway
    assert float(tj) == pytest.approx(T_A + R * P_DYN + 1.0 / BETA, rel=1e-12)
