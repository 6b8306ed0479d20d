"""Junction temperature with leakage feedback, thermal runaway, and the throttle limit.

The lumped model: a thermal resistance from junction to coolant/inlet air,
R = r_package / A_die + r_sink(cooling), and leakage growing exponentially with T_j.

References
----------
W. Huang et al., "HotSpot: a compact thermal modeling methodology for early-stage VLSI
design", IEEE TVLSI 14(5), 2006 (material constants behind ``r_package_k_mm2_per_w``,
leakage temperature coefficient 0.036 /K).
R. M. Corless et al., "On the Lambert W function", Adv. Comput. Math. 5 (1996) 329-359.
"""

from __future__ import annotations

import math

import numpy as np


def thermal_resistance_k_per_w(die_area_mm2, r_package_k_mm2_per_w, r_sink_k_per_w):
    """Junction-to-ambient thermal resistance: area-normalised package part + heat sink [K/W].

    Parameters
    ----------
    die_area_mm2 : numeric
        Die area [mm2].
    r_package_k_mm2_per_w : numeric
        Area-normalised resistance of die, TIM1, lid and TIM2 [K mm2/W]
        (``r_package_k_mm2_per_w``).
    r_sink_k_per_w : numeric
        Case-to-ambient resistance of the heat sink of the cooling class [K/W].

    Returns
    -------
    numeric
        R = r_package / A + r_sink [K/W].

    Notes
    -----
    R = r_package / A_die + r_sink(cooling).

    References
    ----------
    W. Huang et al., "HotSpot: a compact thermal modeling methodology for early-stage VLSI
    design", IEEE TVLSI 14(5), 2006 (material constants behind ``r_package_k_mm2_per_w``);
    sink resistances and their sources: ``r_sink_*`` in ``dse/data/model_constants.csv``.
    """
    return r_package_k_mm2_per_w / np.asarray(die_area_mm2) + r_sink_k_per_w


def junction_temperature(
    dynamic_power_w, r_th_k_per_w, ambient_c, leakage_w_ref, ref_temp_c, beta_per_k
):
    """Self-consistent junction temperature with exponential leakage [degC].

    Solves T = T_a + R (P_dyn + P_ref exp(beta (T - T_ref))) in closed form.

    Parameters
    ----------
    dynamic_power_w : numeric
        Power that does not depend on temperature [W].
    r_th_k_per_w : numeric
        Junction-to-ambient thermal resistance [K/W].
    ambient_c : numeric
        Coolant / inlet temperature [degC].
    leakage_w_ref : numeric
        Leakage power at ``ref_temp_c`` (already scaled for voltage) [W].
    ref_temp_c : float
        Reference temperature of ``leakage_w_ref`` [degC].
    beta_per_k : float
        Leakage temperature coefficient [1/K].

    Returns
    -------
    junction_temp_c, runaway : ndarray, ndarray of bool
        The stable (lowest) fixed point [degC]; where none exists (thermal runaway) the
        temperature returned is the tangency point T_a + R P_dyn + 1/beta, the highest
        temperature at which a fixed point could still exist (a finite lower bound).

    Notes
    -----
    With a = T_a + R P_dyn and b = R P_ref exp(-beta T_ref), T = a + b exp(beta T) has
    the solution T = a - W0(-beta b exp(beta a)) / beta, which exists iff
    beta b exp(beta a) <= 1/e (Lambert W, principal branch).

    References
    ----------
    W. Huang et al., IEEE TVLSI 14(5), 2006, and HotSpot's ``calc_leakage`` (leakage
    exp(beta dT), beta = 0.036 /K); R. M. Corless et al., "On the Lambert W function",
    Adv. Comput. Math. 5 (1996) 329-359.
    """
    a = np.asarray(ambient_c, dtype=float) + np.asarray(r_th_k_per_w) * dynamic_power_w
    z = (
        -beta_per_k
        * np.asarray(r_th_k_per_w)
        * leakage_w_ref
        * np.exp(beta_per_k * (a - ref_temp_c))
    )
    runaway = z < -np.exp(-1.0)
    w = lambert_w0(np.maximum(z, -np.exp(-1.0)))
    temp = np.where(runaway, a + 1.0 / beta_per_k, a - w / beta_per_k)
    return temp, runaway


_W0_SERIES = tuple((-n) ** (n - 1) / math.factorial(n) for n in range(1, 11))
_W0_SERIES_MAX = 0.02  # |z| below which the 10-term series is exact to < 2e-16 relative


def lambert_w0(z):
    """Principal branch W0 of the Lambert W function for real z >= -1/e [-].

    Parameters
    ----------
    z : numeric
        Argument, z >= -1/e [-].

    Returns
    -------
    ndarray
        W0(z), the w >= -1 with w exp(w) = z [-].

    Notes
    -----
    The Taylor series W0(z) = sum_n (-n)^(n-1) / n! z^n (10 terms) where |z| < 0.02 —
    the common case of small leakage, exact to double precision there — and elsewhere
    Halley's iteration from a starting point that is already close: the branch-point
    series near -1/e, Winitzki's approximation in between, the asymptotic expansion for
    large z (Corless et al. 1996, section 4). Agrees with ``scipy.special.lambertw`` to
    a few ulp (tests/test_thermal_chain.py) at a fraction of its cost.

    References
    ----------
    R. M. Corless, G. H. Gonnet, D. E. G. Hare, D. J. Jeffrey and D. E. Knuth, "On the
    Lambert W function", Adv. Comput. Math. 5 (1996) 329-359.
    """
    z = np.asarray(z, dtype=float)
    small = np.abs(z) < _W0_SERIES_MAX
    w = np.zeros_like(z)
    zs = z[small]
    acc = np.zeros_like(zs)
    for coef in reversed(_W0_SERIES):  # Horner: z (c1 + z (c2 + ...))
        acc = (acc + coef) * zs
    w[small] = acc
    big = ~small
    if big.any():
        w[big] = _lambert_w0_halley(z[big])
    return w


def _lambert_w0_halley(z: np.ndarray) -> np.ndarray:
    p = np.sqrt(np.maximum(2.0 * (math.e * z + 1.0), 0.0))  # distance from the branch point
    near = -1.0 + p * (1.0 + p * (-1.0 / 3.0 + p * (11.0 / 72.0 + p * (-43.0 / 540.0))))
    lp = np.log1p(np.maximum(z, -0.25))
    middle = lp * (1.0 - np.log1p(lp) / (2.0 + lp))
    l1 = np.log(np.maximum(z, 3.0))
    l2 = np.log(l1)
    far = l1 - l2 + l2 / l1
    w = np.where(z < -0.25, near, np.where(z < 3.0, middle, far))
    at_branch = p < 1e-3  # the series alone is exact to ~1e-13 there; Halley would divide by ~0
    for _ in range(4):
        ew = np.exp(w)
        f = w * ew - z
        wp1 = np.where(at_branch, 1.0, w + 1.0)
        step = f / (ew * wp1 - (w + 2.0) * f / (2.0 * wp1))
        w = np.where(at_branch, w, w - step)
    return w
