"""The DVFS throttle: the largest clock at which a design meets its power and hot-spot limits.

For each design, the clock fraction s in [s_min, 1] is the largest with

    module power (s) <= tdp_w   and   T_hot (s) <= tj_max_c,

where module power = (P_die + P_leak + P_memory) / eta + P_vrm,fixed, the leakage and the
die-mean temperature solve the balance T = T_sink + R (P_die + P_leak(V, T)) in closed
form (Lambert W, :func:`dse.thermal.junction_temperature`), and T_hot = T + k P_die / A.
Every term is the one :mod:`dse.chain` evaluates with numpy (``_step_power``); this module
solves the same equations one design at a time in compiled code (numba), a bisection of
``STEPS`` steps per design with no temporary arrays — the chain's hot path. Without
numba the chain falls back to its vectorised solver; a test checks that the two agree.

References
----------
R. M. Corless et al., "On the Lambert W function", Adv. Comput. Math. 5 (1996) 329-359.
"""

from __future__ import annotations

import math

import numpy as np

try:  # the compiled solver is optional: the chain has a vectorised fallback
    from numba import njit
except ImportError:  # pragma: no cover - exercised only without numba
    njit = None

STEPS = 16  # evaluations per design at most 4 x STEPS (Illinois, safeguarded)
_TOL = 1e-7  # bracket on the clock fraction at which the solver stops

_E = math.e
_W0_SERIES_REVERSED = tuple((-n) ** (n - 1) / math.factorial(n) for n in range(10, 0, -1))


def available() -> bool:
    """Whether the compiled solver can run (numba importable)."""
    return njit is not None


if njit is not None:

    @njit(cache=True, nogil=True, fastmath=False)
    def _lambert_w0(z):
        if abs(z) < 0.02:  # Taylor series, exact to double precision here
            acc = 0.0
            for coef in _W0_SERIES_REVERSED:
                acc = (acc + coef) * z
            return acc
        p = math.sqrt(max(2.0 * (_E * z + 1.0), 0.0))
        if z < -0.25:
            w = -1.0 + p * (1.0 + p * (-1.0 / 3.0 + p * (11.0 / 72.0 + p * (-43.0 / 540.0))))
        elif z < 3.0:
            lp = math.log1p(z)
            w = lp * (1.0 - math.log1p(lp) / (2.0 + lp))
        else:
            l1 = math.log(z)
            l2 = math.log(l1)
            w = l1 - l2 + l2 / l1
        if p < 1e-3:
            return w
        for _ in range(3):  # cubic: 1e-2 -> 1e-6 -> 1e-18
            ew = math.exp(w)
            f = w * ew - z
            w = w - f / (ew * (w + 1.0) - (w + 2.0) * f / (2.0 * w + 2.0))
        return w

    @njit(cache=True, nogil=True, inline="always")
    def _slack(s, p, clocked, dram, counts, table, k):
        """Slack of design row ``p`` (the columns of ``ROW``) at clock fraction s."""
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
        # leakage-temperature balance (thermal.junction_temperature)
        beta = k[_BETA]
        a0 = sink + p[_R_TH] * die
        z = -beta * p[_R_TH] * leak * math.exp(beta * (a0 - k[_T_REF]))
        if z < -1.0 / _E:
            return 1.0  # thermal runaway
        tm = a0 - _lambert_w0(z) / beta
        p_leak = (tm - sink) / p[_R_TH] - die
        module = (die + p_leak + memory) / k[_ETA] + p[_VRM_FIXED_W]
        hot = tm + p[_K_HOT] * (die + p_leak)
        return max(module / p[_TDP] - 1.0, (hot - p[_TJ_MAX]) / (p[_TJ_MAX] - p[_AMBIENT]))

    @njit(cache=True, nogil=True)
    def _root(lo, hi, g_lo, g_hi, p, clocked, dram, counts, table, k, max_steps):
        """Largest feasible s in [lo, hi] (g_lo <= 0 < g_hi): Illinois false position with
        a bisection step whenever two steps have not halved the bracket, stopping on the
        limit, at a bracket of 1e-7 or after ``4 max_steps`` evaluations; returns the
        feasible end."""
        width = hi - lo
        side = 0
        for it in range(4 * max_steps):
            if hi - lo < _TOL:
                break
            if it % 2 == 1 and hi - lo > 0.5 * width:
                mid = 0.5 * (lo + hi)  # false position stalled: bisect
            else:
                mid = (lo * g_hi - hi * g_lo) / (g_hi - g_lo)
                if not (lo < mid < hi):
                    mid = 0.5 * (lo + hi)
            if it % 2 == 1:
                width = hi - lo
            g = _slack(mid, p, clocked, dram, counts, table, k)
            if g <= 0.0:
                lo, g_lo = mid, g
                if g > -1e-12:
                    break  # on the limit
                if side == -1:
                    g_hi *= 0.5
                side = -1
            else:
                hi, g_hi = mid, g
                if side == 1:
                    g_lo *= 0.5
                side = 1
        return lo

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
        Per-design parameters, columns :data:`ROW` (units in the names; ``stacked`` 1 where
        the memory devices share the heat sink).
    clocked_s, dram_s : ndarray (n, ops)
        Per-op time at the max clock that scales with 1/f, and DRAM time [s].
    counts : ndarray (ops,)
        Occurrences of each op per step.
    table : ndarray
        V / V_nom on a uniform speed grid (:func:`dse.power.inverse_speed_table`).
    constants : ndarray
        :data:`CONSTANTS` in order.
    """
    return _solve(
        float(s_min), int(steps), np.ascontiguousarray(rows, dtype=float),
        np.ascontiguousarray(clocked_s, dtype=float), np.ascontiguousarray(dram_s, dtype=float),
        np.ascontiguousarray(counts, dtype=float), table, np.asarray(constants, dtype=float),
    )  # fmt: skip
