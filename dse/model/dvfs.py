"""The DVFS throttle: the largest clock at which a design meets its power and hot-spot limits.

For each design, the clock fraction s in [s_min, 1] is the largest with

    module power (s) <= tdp_w   and   T_hot (s) <= tj_max_c,

where module power = (P_die + P_leak + P_memory) / eta + P_vrm,fixed, the leakage and the
die-mean temperature solve the balance T = T_sink + R (P_die + P_leak(V, T))
(:func:`dse.model.thermal.junction_temperature`), and T_hot = T + k P_die / A. Every term is the
one :mod:`dse.chain` evaluates with numpy (``_step_power``); this module solves the same
equations one design at a time in compiled code (numba), with no temporary arrays — the
chain's hot path: both limits are limits on the die-mean temperature, so the slack is the
balance evaluated at the highest allowed temperature (no Lambert W needed), and Brent's
method finds its zero to 1e-7 of the clock. Without numba the chain falls back to
its vectorised solver; a test checks that the two agree.

References
----------
R. P. Brent, "Algorithms for minimization without derivatives", Prentice-Hall 1973, ch. 4.
"""

from __future__ import annotations

import math

import numpy as np

try:  # the compiled solver is optional: the chain has a vectorised fallback
    from numba import njit
except ImportError:  # pragma: no cover - exercised only without numba
    njit = None

STEPS = 16  # evaluations per design at most 4 x STEPS (Brent)
_TOL = 1e-7  # bracket on the clock fraction at which the solver stops
# a design stops this far short of the runaway tangency (~1e-11 of the clock), where the
# chain's closed-form runaway test (z < -1/e) would otherwise round either way
_RUNAWAY_MARGIN_K = 1e-9


def available() -> bool:
    """Whether the compiled solver can run (numba importable).

    Returns
    -------
    bool
        True when numba imports and :func:`largest_feasible_clock` is compiled.
    """
    return njit is not None


if njit is not None:

    @njit(cache=True, nogil=True, inline="always")
    def _slack(s, p, clocked, dram, counts, table, k):
        """Slack of design row ``p`` (the columns of ``ROW``) at clock fraction s [K].

        > 0 where a limit is broken, rising with s.
        """
        # voltage for the absolute clock (power.voltage_for_clock)
        clock = p[_CLOCK] * s
        t = min(clock * p[_SPEED_SCALE] / k[_TABLE_STEP], table.size - 1 - 1e-9)
        j = int(t)
        v = max(table[j] + (t - j) * (table[j + 1] - table[j]), p[_VMIN])
        # step time (roofline.step_time_s)
        step = p[_FIXED_S]
        for m in range(counts.size):
            step += counts[m] * max(clocked[m] / s, dram[m])
        die = (p[_E_V2] * v * v + p[_PHY_J]) / step + p[_STATIC_W] + p[_CLOCK_W_PER_GHZ] * clock * v * v
        memory = p[_DEVICE_J] / step + p[_BACKGROUND_W]
        sink = p[_AMBIENT] + p[_STACKED] * p[_R_SINK] * memory
        leak = p[_LEAK_REF_W] * v * math.exp(p[_DIBL] * (v - 1.0) * p[_VNOM])
        # both limits bound the die-mean temperature T, since P_die + P_leak = (T - T_sink) / R:
        # module power ((T - T_sink) / R + P_memory) / eta + P_vrm <= tdp_w, and the hot spot
        # T + k (T - T_sink) / R <= tj_max_c (a tj_max_c below the ambient never binds, as
        # in the chain's slack)
        r = p[_R_TH]
        t_lim = sink + r * (k[_ETA] * (p[_TDP] - p[_VRM_FIXED_W]) - memory)
        if p[_TJ_MAX] > p[_AMBIENT]:
            t_lim = min(t_lim, (p[_TJ_MAX] + p[_K_HOT] * sink / r) / (1.0 + p[_K_HOT] / r))
        elif p[_TJ_MAX] == p[_AMBIENT]:
            return math.inf
        # leakage-temperature balance (thermal.junction_temperature) without solving it:
        # F(T) = T_sink + R (P_die + P_leak(T)) - T is convex and T is its smallest zero, so
        # T <= T_lim iff F(T_lim) <= 0 while F falls at T_lim; past F's minimum (at T*) the
        # design is feasible iff F(T*) <= 0, i.e. no thermal runaway
        beta = k[_BETA]
        leak_heat = r * leak * math.exp(beta * (t_lim - k[_T_REF]))  # R P_leak(T_lim) [K]
        if beta * leak_heat <= 1.0:  # F'(T_lim) <= 0
            return sink + r * die + leak_heat - t_lim
        t_star = k[_T_REF] - math.log(beta * r * leak) / beta
        return sink + r * die + 1.0 / beta - t_star + _RUNAWAY_MARGIN_K

    @njit(cache=True, nogil=True)
    def _root(lo, hi, g_lo, g_hi, p, clocked, dram, counts, table, k, max_steps):
        """Largest feasible s in [lo, hi] (g_lo <= 0 < g_hi), by Brent's method.

        Inverse quadratic interpolation or secant steps inside the bracket, bisection where
        they would not shrink it fast enough, no step shorter than a quarter of the
        tolerance; stops on the limit, at a bracket of 1e-7 or after ``4 max_steps``
        evaluations, and returns the feasible end of the bracket.
        """
        b, g_b, c, g_c = lo, g_lo, hi, g_hi  # b: the latest estimate; c: the bracket's other end
        a, g_a = c, g_c  # the previous b
        d = e = b - c  # the last step and the one before
        step_min = 0.25 * _TOL
        for _ in range(4 * max_steps):
            if abs(g_c) < abs(g_b):  # keep b the end with the smaller slack
                a, g_a = b, g_b
                b, g_b = c, g_c
                c, g_c = a, g_a
            if abs(c - b) < _TOL:
                break
            m = 0.5 * (c - b)
            d_bisect = True
            if abs(e) >= step_min and abs(g_a) > abs(g_b):
                r_ba = g_b / g_a
                if a == c:  # secant through b and c
                    num, den = 2.0 * m * r_ba, 1.0 - r_ba
                else:  # inverse quadratic interpolation through a, b, c
                    q, r = g_a / g_c, g_b / g_c
                    num = r_ba * (2.0 * m * q * (q - r) - (b - a) * (r - 1.0))
                    den = (q - 1.0) * (r - 1.0) * (r_ba - 1.0)
                if num > 0.0:
                    den = -den
                else:
                    num = -num
                if 2.0 * num < min(3.0 * m * den - abs(step_min * den), abs(e * den)):
                    e, d = d, num / den  # the interpolation stays well inside the bracket
                    d_bisect = False
            if d_bisect:
                e = d = m
            a, g_a = b, g_b
            b += d if abs(d) > step_min else (step_min if m > 0.0 else -step_min)
            g_b = _slack(b, p, clocked, dram, counts, table, k)
            if -1e-12 < g_b <= 0.0:
                return b  # on the limit
            if (g_b > 0.0) == (g_c > 0.0):  # the root now lies between a and b
                c, g_c = a, g_a
                e = d = b - a
        return b if g_b <= 0.0 else c

    @njit(cache=True, nogil=True)
    def _solve(s_min, steps, rows, clocked, dram, counts, table, k):
        n = rows.shape[0]
        s_out = np.ones(n)
        bad = np.zeros(n, dtype=np.bool_)
        for i in range(n):
            p, ck, dr = rows[i], clocked[i], dram[i]
            g_hi = _slack(1.0, p, ck, dr, counts, table, k)
            if g_hi <= 0.0:
                continue
            g_lo = _slack(s_min, p, ck, dr, counts, table, k)
            if g_lo > 0.0:
                s_out[i] = s_min
                bad[i] = True
                continue
            s_out[i] = _root(s_min, 1.0, g_lo, g_hi, p, ck, dr, counts, table, k, steps)
        return s_out, bad


#: columns of the per-design parameter matrix, in order
ROW = (
    "clock_ghz", "speed_scale", "vmin_fraction", "fixed_s", "e_v2_j", "phy_j", "static_w",
    "clock_w_per_ghz", "device_j", "background_w", "ambient_c", "stacked", "r_sink_k_per_w",
    "leakage_ref_w", "dibl_per_v", "vdd_nominal_v", "r_th_k_per_w", "vrm_fixed_w",
    "k_hot_k_per_w", "tdp_w", "tj_max_c",
)  # fmt: skip
(_CLOCK, _SPEED_SCALE, _VMIN, _FIXED_S, _E_V2, _PHY_J, _STATIC_W, _CLOCK_W_PER_GHZ, _DEVICE_J,
 _BACKGROUND_W, _AMBIENT, _STACKED, _R_SINK, _LEAK_REF_W, _DIBL, _VNOM, _R_TH, _VRM_FIXED_W,
 _K_HOT, _TDP, _TJ_MAX) = range(len(ROW))  # fmt: skip
#: the constants vector
CONSTANTS = ("vrm_efficiency", "beta_per_k", "ref_temp_c", "table_step")
_ETA, _BETA, _T_REF, _TABLE_STEP = range(len(CONSTANTS))


def largest_feasible_clock(
    s_min: float, rows, clocked_s, dram_s, counts, table, constants, steps: int = STEPS
):
    """Clock fraction and "infeasible even at s_min" flag of every design (compiled).

    Parameters
    ----------
    s_min : float
        Lowest clock fraction the governor reaches [-].
    rows : ndarray (n, len(ROW))
        Per-design parameters, columns :data:`ROW` [unit of each column in its name]
        (``stacked`` 1 where the memory devices share the heat sink); any memory layout
        (the transpose of a (len(ROW), n) array is not copied).
    clocked_s, dram_s : ndarray (n, ops)
        Per-op time at the max clock that scales with 1/f, and DRAM time [s].
    counts : ndarray (ops,)
        Occurrences of each op per step [-].
    table : ndarray
        V / V_nom on a uniform speed grid [-] (:func:`dse.model.power.inverse_speed_table`).
    constants : ndarray
        :data:`CONSTANTS` in order: VRM efficiency [-], leakage temperature coefficient
        [1/K], its reference temperature [degC] and the table's speed step [-].
    steps : int
        Brent iterations per design, at most 4 x ``steps`` evaluations [-].

    Returns
    -------
    s, infeasible : ndarray, ndarray of bool
        Largest clock fraction within the power and hot-spot limits [-], to 1e-7; and
        where even ``s_min`` breaks a limit (``s`` is then ``s_min``).

    Notes
    -----
    s = max{s in [s_min, 1] : P_module(s) <= TDP and T_hot(s) <= Tj,max}, with
    P_module = (P_die + P_leak + P_memory) / eta + P_vrm,fixed and
    T_hot = T + k P_die / A, T solving T = T_sink + R (P_die + P_leak(V, T)).

    References
    ----------
    R. P. Brent, "Algorithms for minimization without derivatives", Prentice-Hall 1973,
    ch. 4.
    """
    return _solve(
        float(s_min), int(steps), np.asarray(rows, dtype=float),
        np.ascontiguousarray(clocked_s, dtype=float), np.ascontiguousarray(dram_s, dtype=float),
        np.ascontiguousarray(counts, dtype=float), table, np.asarray(constants, dtype=float),
    )  # fmt: skip
