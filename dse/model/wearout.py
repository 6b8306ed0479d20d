"""Compiled wear-out of many designs: the chain's reliability stage in one pass.

:mod:`dse.model.reliability` holds the wear-out physics as vectorised numpy functions; the
chain's reliability stage composes them per design (duty-weighted electromigration and
gate-oxide rates, thermal cycling, their sum, the lifetime at a failure fraction, BTI).
This module evaluates the same formulas one design at a time in compiled code (numba),
with no temporary arrays and each power law as one exp of a log, which keeps
``evaluate_many`` fast. Without numba the chain composes the numpy functions instead; a
test checks that the two agree to 1e-12.
"""

from __future__ import annotations

import math

import numpy as np

from dse.model.reliability import (
    BOLTZMANN_EV_PER_K,
    FIT_HOURS,
    HOURS_PER_YEAR,
    KELVIN_OFFSET,
    TDDB_A,
    TDDB_B,
    TDDB_X_EV,
    TDDB_Y_EV_K,
    TDDB_Z_EV_PER_K,
)

try:  # optional: the chain falls back to the numpy functions
    from numba import njit
except ImportError:  # pragma: no cover - exercised only without numba
    njit = None

#: per-design inputs, in the order :func:`wear_out` takes them: current density under
#: load and idle [A/mm2], hot spot and die mean under load and idle [degC], core voltage
#: under load and idle [V], the TDDB log-life at the qualification point
#: (:func:`dse.model.reliability.tddb_log_life`), threshold voltage [V], ln of the BTI
#: prefactor, duty cycle [-], load cycles per day [1/day]
COLUMNS = (
    "j_load", "t_hot", "v_load", "t_mean", "j_idle", "t_idle_hot", "v_idle", "t_idle_mean",
    "tddb_log_life_ref", "vth", "log_a0", "duty", "cycles",
)  # fmt: skip
#: constants, in the order :func:`wear_out` takes them (``hazard`` = -ln(1 - F))
CONSTANTS = (
    "share_fit", "j_ref", "t_ref_c", "em_n", "em_ea", "tc_ref_dt", "tc_ref_cycles", "tc_q",
    "hazard", "bti_ea", "bti_gamma", "bti_n", "bti_ac_duty", "bti_guard_band", "alpha",
)  # fmt: skip
_FLOAT_MAX = np.finfo(float).max


def available() -> bool:
    """Whether the compiled kernel can run (numba importable).

    Returns
    -------
    bool
        True when numba imports and :func:`wear_out` is compiled.
    """
    return njit is not None


if njit is not None:

    @njit(cache=True, nogil=True, inline="always")
    def _tddb_log_life(v, t_k):
        n = TDDB_A - TDDB_B * t_k
        return -n * math.log(v) + (TDDB_X_EV + TDDB_Y_EV_K / t_k + TDDB_Z_EV_PER_K * t_k) / (
            BOLTZMANN_EV_PER_K * t_k
        )

    @njit(cache=True, nogil=True, inline="always")
    def _em(j, t_c, k):
        if j == 0.0:
            return 0.0
        inv = 1.0 / (k[2] + KELVIN_OFFSET) - 1.0 / (t_c + KELVIN_OFFSET)
        return k[0] * math.exp(k[3] * math.log(abs(j) / k[1]) + k[4] / BOLTZMANN_EV_PER_K * inv)

    @njit(cache=True, nogil=True, inline="always")
    def _tddb(v, log_life_ref, t_c, k):
        if v <= 0.0:
            return 0.0
        return k[0] * math.exp(log_life_ref - _tddb_log_life(v, t_c + KELVIN_OFFSET))

    @njit(cache=True, nogil=True)
    def _kernel(c, k, out):
        j_load, t_hot, v_load, t_mean, j_idle, t_idle_hot, v_idle, t_idle_mean = c[:8]
        log_life_ref, vth, log_a0, duty_in, cycles_in = c[8:]
        # BTI failure shift per volt of overdrive (OldSpot's criterion), the same for all
        fail_per_v = -math.expm1(-math.log1p(k[13]) / k[14])
        for i in range(out.shape[0]):
            duty = min(max(duty_in[i], 0.0), 1.0)
            em = 0.0
            ox = 0.0
            if duty > 0.0:
                em = duty * _em(j_load[i], t_hot[i], k)
                ox = duty * _tddb(v_load[i], log_life_ref[i], t_hot[i], k)
            if duty < 1.0:
                em += (1.0 - duty) * _em(j_idle[i], t_idle_hot[i], k)
                ox += (1.0 - duty) * _tddb(v_idle[i], log_life_ref[i], t_idle_hot[i], k)
            swing = max(t_mean[i] - t_idle_mean[i], 0.0)
            cycles = cycles_in[i] if duty > 0.0 else 0.0
            tc = 0.0
            if swing > 0.0 and cycles > 0.0:
                tc = k[0] * math.exp(k[7] * math.log(swing / k[5])) * (cycles / k[6])
            em, ox, tc = min(em, _FLOAT_MAX), min(ox, _FLOAT_MAX), min(tc, _FLOAT_MAX)
            fit = min(em + ox + tc, _FLOAT_MAX)
            sofr = k[8] * FIT_HOURS / fit / HOURS_PER_YEAR if fit > 0.0 else math.inf
            # BTI: years until the shift uses up the guard band, at the load conditions
            v = v_load[i]
            overdrive = v - vth[i]
            if overdrive <= 0.0 or k[13] <= 0.0:
                bti = 0.0
            else:
                t_k = t_hot[i] + KELVIN_OFFSET
                log_rate = log_a0[i] - k[9] / (BOLTZMANN_EV_PER_K * t_k) + k[10] * math.log(v)
                stress = k[12]
                if duty < 1.0:
                    ratio = k[10] * (math.log(max(v_idle[i], 1e-9)) - math.log(max(v, 1e-9))) - k[
                        9
                    ] / BOLTZMANN_EV_PER_K * (1.0 / (t_idle_hot[i] + KELVIN_OFFSET) - 1.0 / t_k)
                    stress = k[12] * (duty + (1.0 - duty) * math.exp(ratio / k[11]))
                if stress > 0.0:
                    bti = math.exp((math.log(overdrive * fail_per_v) - log_rate) / k[11]) / stress
                else:
                    bti = math.inf
            out[i, 0] = em
            out[i, 1] = ox
            out[i, 2] = tc
            out[i, 3] = fit
            out[i, 4] = bti
            out[i, 5] = min(sofr, bti)
            if bti < sofr:
                out[i, 6] = 3.0
            elif ox > em and ox >= tc:
                out[i, 6] = 1.0
            elif tc > em:
                out[i, 6] = 2.0
            else:
                out[i, 6] = 0.0


def wear_out(columns: dict[str, np.ndarray], constants: tuple[float, ...]) -> np.ndarray:
    """Failure rates and lifetimes of many designs (compiled).

    Parameters
    ----------
    columns : dict of str to ndarray
        The per-design inputs :data:`COLUMNS`, each of shape (n,) [unit of each column
        in the comment above :data:`COLUMNS`].
    constants : tuple of float
        The values of :data:`CONSTANTS` in order [units of
        :mod:`dse.model.reliability` and ``model_constants.csv``].

    Returns
    -------
    ndarray, shape (n, 7)
        Columns fit_em, fit_tddb, fit_tc, fit [FIT], bti_years, lifetime_years [years],
        mechanism (index into :data:`dse.model.reliability.MECHANISMS`) [-].

    Notes
    -----
    The same formulas as the chain's reliability stage composed from
    :mod:`dse.model.reliability`: lambda = D lambda_load + (1 - D) lambda_idle per
    mechanism (electromigration, TDDB, thermal cycling), their sum (SOFR), the lifetime
    at failure fraction F, t = -ln(1 - F) / lambda, and the BTI lifetime; the lifetime
    is the shorter of the two, and the mechanism is BTI where it limits, otherwise the
    largest of the three rates.

    References
    ----------
    J. Srinivasan, S. V. Adve, P. Bose and J. A. Rivers, "The case for lifetime
    reliability-aware microprocessors", ISCA 2004 (RAMP: SOFR); JEDEC JEP122H.
    """
    c = tuple(np.ascontiguousarray(columns[name], dtype=float) for name in COLUMNS)
    out = np.empty((len(c[0]), 7))
    _kernel(c, np.asarray(constants, dtype=float), out)
    return out
