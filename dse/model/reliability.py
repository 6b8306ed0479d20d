"""Wear-out failure rates and lifetime of a chip: temperature, voltage, current and cycling.

Each wear-out mechanism is a failure rate in FIT (failures per 1e9 device-hours) scaled
from a qualification point by its own acceleration law; the rates add (sum of failure
rates, SOFR) and a constant total rate gives the lifetime at a stated cumulative failure
fraction. BTI is handled as a parametric drift instead: the path-delay increase it causes
at end of life, i.e. the frequency guard band it needs.

All functions are pure and vectorised: every argument may be a scalar or an array, and
arrays broadcast against each other. The chip model (``dse.chain``, its reliability
stage) feeds them the operating point and the idle state of each design; the choice of
the qualification point and of the reported failure fraction is argued in
docs/reliability.md.

References
----------
J. Srinivasan, S. V. Adve, P. Bose and J. A. Rivers, "The case for lifetime
reliability-aware microprocessors", ISCA 2004, and "The impact of technology scaling on
lifetime reliability", DSN 2004 (RAMP: SOFR, 800 FIT per mechanism at 345 K).
JEDEC JEP122H, "Failure mechanisms and models for semiconductor devices" (Arrhenius,
Black, BTI power law, Coffin-Manson); JEDEC JESD85, "Methods for calculating failure
rates in units of FITs".
E. Y. Wu et al., "Interplay of voltage and temperature acceleration of oxide breakdown
for ultra-thin gate oxides", Solid-State Electronics 46 (2002) 1787-1798 (TDDB).
CODATA 2018: Boltzmann constant 8.617333262e-5 eV/K.
Research notes: reliability.md (sections A1-A7) with the source and confidence of each
parameter.
"""

from __future__ import annotations

import numpy as np

BOLTZMANN_EV_PER_K = 8.617333262e-5  # CODATA 2018 (exact in the 2019 SI)
KELVIN_OFFSET = 273.15
HOURS_PER_YEAR = 8766.0  # Julian year, 365.25 d
FIT_HOURS = 1e9  # FIT = failures per 1e9 device-hours

# Wu et al. (IBM, Solid-State Electronics 2002) as used by RAMP (reliability.md A4):
# MTTF ~ V^-(a - b T) exp[(X + Y/T + Z T) / (k T)], T in kelvin, V in volts.
TDDB_A = 78.0  # [-]
TDDB_B = 0.081  # [1/K]; voltage exponent N = a - b T ~ 50 at 345 K
TDDB_X_EV = 0.759  # [eV]
TDDB_Y_EV_K = -66.8  # [eV K]
TDDB_Z_EV_PER_K = -8.37e-4  # [eV/K]


#: the mechanisms of the lifetime model, in the order of ``lifetime_mechanism`` codes
MECHANISMS = ("electromigration", "tddb", "thermal_cycling", "bti")


def _kelvin(temp_c):
    return np.asarray(temp_c, dtype=float) + KELVIN_OFFSET


def arrhenius_factor(temp_c, ref_temp_c, activation_energy_ev):
    """Reaction-rate multiplier at ``temp_c`` relative to ``ref_temp_c`` [-].

    Parameters
    ----------
    temp_c : numeric
        Temperature of use (junction or metal) [degC].
    ref_temp_c : numeric
        Reference temperature [degC].
    activation_energy_ev : numeric
        Activation energy Ea [eV].

    Returns
    -------
    numeric
        AF = rate(T) / rate(T_ref) [-]; > 1 when hotter than the reference (Ea > 0).
        Life scales as 1 / AF.

    Notes
    -----
    AF = exp[(Ea / k_B) (1 / T_ref - 1 / T)], T in kelvin, k_B = 8.617333262e-5 eV/K.
    Example: 85 -> 95 degC at 0.7 eV gives 1.85; HTOL 125 degC vs 55 degC use at
    0.7 eV gives 77.7 (reliability.md A2).

    References
    ----------
    JEDEC JEP122H section 3 (thermal activation); JESD85 (FIT from HTOL).
    """
    inv = 1.0 / _kelvin(ref_temp_c) - 1.0 / _kelvin(temp_c)
    return np.exp(np.asarray(activation_energy_ev, dtype=float) / BOLTZMANN_EV_PER_K * inv)


def electromigration_fit(
    current_density_ratio, temp_c, fit_ref, exponent_n, activation_energy_ev, ref_temp_c
):
    """Electromigration failure rate by Black's equation [FIT].

    Parameters
    ----------
    current_density_ratio : numeric
        Wire current density over the current density of the reference point, J / J_ref
        [-]; its magnitude is used (a reversed DC current wears the same).
    temp_c : numeric
        Metal temperature [degC].
    fit_ref : numeric
        Failure rate at J_ref and ``ref_temp_c`` [FIT].
    exponent_n : numeric
        Current-density exponent n (1 void growth, 2 void nucleation) [-].
    activation_energy_ev : numeric
        Activation energy Ea (Cu cap interface ~0.9) [eV].
    ref_temp_c : numeric
        Temperature of the reference point [degC].

    Returns
    -------
    numeric
        FIT = fit_ref (J / J_ref)^n AF(T, T_ref) [FIT]; 0 for zero current.

    Notes
    -----
    Black: t_F = A J^-n exp(Ea / (k_B T)), so the rate is
    lambda / lambda_ref = (J / J_ref)^n exp[(Ea / k_B)(1 / T_ref - 1 / T)]. Holding the
    rate at its reference value gives the EM derating of allowed current,
    J_max(T) / J_max(T_ref) = AF^(-1/n) (reliability.md A3 table). RAMP takes
    J proportional to activity C V f / (W H).

    References
    ----------
    J. R. Black, "Electromigration - a brief survey and some recent results", IEEE Trans.
    Electron Devices 16(4), 1969; JEDEC JEP119A / JESD63; Srinivasan et al., ISCA 2004
    (RAMP: n = 1.1, Ea = 0.9 eV).
    """
    ratio = np.abs(np.asarray(current_density_ratio, dtype=float))
    af = arrhenius_factor(temp_c, ref_temp_c, activation_energy_ev)
    scaled = np.where(ratio > 0.0, ratio, 1.0) ** np.asarray(exponent_n, dtype=float) * af
    return np.where(ratio > 0.0, np.asarray(fit_ref, dtype=float) * scaled, 0.0)


def tddb_log_life(voltage_v, temp_c):
    """Natural log of the gate-oxide MTTF up to a constant (Wu et al. / RAMP) [-].

    Parameters
    ----------
    voltage_v : numeric
        Gate (supply) voltage, > 0 [V].
    temp_c : numeric
        Junction temperature [degC].

    Returns
    -------
    numeric
        -(a - b T) ln V + (X + Y/T + Z T) / (k_B T) [-], T in kelvin (see
        :func:`tddb_fit`); differences of it are log life ratios.

    Notes
    -----
    ln MTTF = -(a - b T) ln V + (X + Y / T + Z T) / (k_B T) + const.

    References
    ----------
    E. Y. Wu et al., Solid-State Electronics 46 (2002) 1787-1798; Srinivasan et al.,
    ISCA 2004 (RAMP TDDB model).
    """
    return _tddb_log_life(np.asarray(voltage_v, dtype=float), _kelvin(temp_c))


def _tddb_log_life(voltage_v, temp_k):
    """Natural log of the MTTF up to a constant: -(a - b T) ln V + (X + Y/T + Z T) / (k T)."""
    n = TDDB_A - TDDB_B * temp_k
    thermal = (TDDB_X_EV + TDDB_Y_EV_K / temp_k + TDDB_Z_EV_PER_K * temp_k) / (
        BOLTZMANN_EV_PER_K * temp_k
    )
    return -n * np.log(voltage_v) + thermal


def tddb_fit(voltage_v, ref_voltage_v, temp_c, fit_ref, ref_temp_c):
    """Gate-oxide breakdown (TDDB) failure rate, RAMP / Wu et al. form [FIT].

    Parameters
    ----------
    voltage_v : numeric
        Gate (supply) voltage magnitude [V]; absolute, as in Wu's fit.
    ref_voltage_v : numeric
        Supply voltage of the qualification point [V].
    temp_c : numeric
        Junction temperature [degC].
    fit_ref : numeric
        Failure rate at ``ref_voltage_v`` and ``ref_temp_c`` [FIT].
    ref_temp_c : numeric
        Temperature of the qualification point [degC].

    Returns
    -------
    numeric
        FIT at (V, T) [FIT]; 0 at zero voltage (no oxide field).

    Notes
    -----
    MTTF ~ V^-(a - b T) exp[(X + Y/T + Z T) / (k_B T)] with a = 78, b = 0.081 1/K,
    X = 0.759 eV, Y = -66.8 eV K, Z = -8.37e-4 eV/K, T in kelvin, V in volts, so

        FIT = fit_ref MTTF(V_ref, T_ref) / MTTF(V, T).

    Sign convention (reliability.md A4): the voltage exponent is N = a - b T = 78 -
    0.081 T, ~50 at 345 K, 49 at 85 degC, 47 at 105 degC, as in the RAMP original and
    Wu's N ~ 40-50; ports that store b = -0.081 and form a - b T (~107) are wrong. The
    temperature term is non-Arrhenius with effective Ea = X + 2 Y / T (0.35 eV at 330 K,
    0.43 eV at 400 K). Because N falls with T, the voltage term adds b |ln V| per kelvin
    to d ln(FIT)/dT below 1 V (0.75 V, 72 -> 105 degC: x 6.8 in all, x 3.1 from the
    thermal term alone) and subtracts it above 1 V; the fit gives a FIT that falls with
    temperature above roughly 1.45 V (at 400 K; higher V at lower T), outside Wu's
    use-condition range: keep V below ~1.3 V (monotone up to 150 degC).

    References
    ----------
    E. Y. Wu et al., Solid-State Electronics 46 (2002) 1787-1798; Srinivasan et al.,
    ISCA 2004 (RAMP TDDB model).
    """
    v = np.abs(np.asarray(voltage_v, dtype=float))
    v_ref = np.abs(np.asarray(ref_voltage_v, dtype=float))
    t = _kelvin(temp_c)
    t_ref = _kelvin(ref_temp_c)
    on = v > 0.0
    log_ratio = _tddb_log_life(v_ref, t_ref) - _tddb_log_life(np.where(on, v, 1.0), t)
    return np.where(on, np.asarray(fit_ref, dtype=float) * np.exp(log_ratio), 0.0)


def bti_threshold_shift_v(
    voltage_v, temp_c, years, duty_cycle, a0, activation_energy_ev, voltage_exponent,
    time_exponent,
):
    """Threshold-voltage shift from bias temperature instability [V].

    Parameters
    ----------
    voltage_v : numeric
        Stress (supply) voltage [V].
    temp_c : numeric
        Junction temperature [degC].
    years : numeric
        Time in service [years]; negative values count as 0.
    duty_cycle : numeric
        Fraction of the time the device is under stress, clipped to 0..1 [-].
    a0 : numeric
        Prefactor [V V^-gamma year^-n].
    activation_energy_ev : numeric
        Activation energy Ea [eV].
    voltage_exponent : numeric
        Power-law voltage exponent gamma [-].
    time_exponent : numeric
        Time exponent n (1/6 reaction-diffusion with H2) [-].

    Returns
    -------
    ndarray
        Threshold-voltage shift dVth [V].

    Notes
    -----
    dVth = A0 exp(-Ea / (k_B T)) V^gamma (D t)^n (JEP122H generic power law, eq. 5.3.1;
    reliability.md A5 prints exp(+Ea/kT), which with Ea > 0 would make BTI weaker when
    hot: the sign here is the physical one). The stress time is the duty-weighted time
    D t, which ignores recovery during the off phase and so is conservative against the
    reaction-diffusion AC factor (D / (1 + sqrt((1 - D) / 2)))^(1/6) used by OldSpot.

    References
    ----------
    JEDEC JEP122H section 5.3 (BTI power law).
    """
    t = _kelvin(temp_c)
    v = np.maximum(np.asarray(voltage_v, dtype=float), 0.0)
    stress_years = np.clip(np.asarray(duty_cycle, dtype=float), 0.0, 1.0) * np.maximum(
        np.asarray(years, dtype=float), 0.0
    )
    return (
        np.asarray(a0, dtype=float)
        * np.exp(-np.asarray(activation_energy_ev, dtype=float) / (BOLTZMANN_EV_PER_K * t))
        * v ** np.asarray(voltage_exponent, dtype=float)
        * stress_years ** np.asarray(time_exponent, dtype=float)
    )


def bti_delay_increase(
    voltage_v, vth_v, temp_c, years, duty_cycle, a0, activation_energy_ev, voltage_exponent,
    time_exponent, alpha,
):
    """Fractional path-delay increase from BTI at end of life [-].

    Parameters
    ----------
    voltage_v : numeric
        Supply voltage [V].
    vth_v : numeric
        Effective (fresh) threshold voltage of the alpha-power law [V].
    temp_c : numeric
        Junction temperature [degC].
    years : numeric
        Time in service [years].
    duty_cycle : numeric
        Fraction of the time under stress [-].
    a0 : numeric
        BTI prefactor of :func:`bti_threshold_shift_v` [V V^-gamma year^-n].
    activation_energy_ev : numeric
        BTI activation energy [eV].
    voltage_exponent : numeric
        Voltage exponent gamma [-].
    time_exponent : numeric
        Time exponent n [-].
    alpha : numeric
        Velocity-saturation index of the alpha-power law (~1.3) [-].

    Returns
    -------
    numeric
        d_aged / d_0 - 1 [-]: the delay guard band a path needs at end of life (clock the
        chip at f_0 / (1 + x); the frequency loss is x / (1 + x), ~x when small). +inf
        where V <= V_th + dVth (the gate no longer switches: failure).

    Notes
    -----
    dVth from :func:`bti_threshold_shift_v`, then with the alpha-power law
    d ~ C V / (V - V_th)^alpha:

        d_aged / d_0 - 1 = ((V - V_th) / (V - V_th - dVth))^alpha - 1.

    The increase grows with V only where gamma (V - V_th) > V, i.e.
    V > gamma V_th / (gamma - 1): nearer threshold the shrinking overdrive makes the same
    shift costlier, and the fractional increase falls with V.

    References
    ----------
    JEDEC JEP122H section 5.3 (BTI); T. Sakurai and A. R. Newton, IEEE JSSC 25(2), 1990
    (alpha-power law); S. Bhardwaj et al., CICC 2006 (predictive NBTI model, Ea 0.49 eV,
    n = 1/6); OldSpot (hplp/oldspot) delay-based failure criterion.
    """
    dvth = bti_threshold_shift_v(
        voltage_v, temp_c, years, duty_cycle, a0, activation_energy_ev, voltage_exponent,
        time_exponent,
    )
    overdrive = np.asarray(voltage_v, dtype=float) - np.asarray(vth_v, dtype=float)
    aged = overdrive - dvth
    works = (aged > 0.0) & (overdrive > 0.0)
    ratio = np.where(works, overdrive, 1.0) / np.where(works, aged, 1.0)
    return np.where(works, ratio ** np.asarray(alpha, dtype=float) - 1.0, np.inf)


def bti_prefactor(
    delay_increase, voltage_v, vth_v, temp_c, years, duty_cycle, activation_energy_ev,
    voltage_exponent, time_exponent, alpha,
):
    """BTI prefactor A0 that gives a measured delay increase at a reference point.

    Parameters
    ----------
    delay_increase : numeric
        Fractional path-delay increase observed at the reference point [-].
    voltage_v, vth_v, temp_c, years, duty_cycle : numeric
        The reference point: supply [V], threshold [V], temperature [degC], time
        [years] and stress duty [-].
    activation_energy_ev : numeric
        Activation energy Ea [eV].
    voltage_exponent : numeric
        Power-law voltage exponent gamma [-].
    time_exponent : numeric
        Time exponent n [-].
    alpha : numeric
        Velocity-saturation index of the alpha-power law [-].

    Returns
    -------
    numeric
        A0 [V V^-gamma year^-n] such that :func:`bti_delay_increase` at the reference
        point returns ``delay_increase``.

    Notes
    -----
    Calibrating A0 on a measured point, rather than fixing it, keeps that point when the
    other parameters vary (a lower Ea then only changes the extrapolation away from the
    reference temperature, not the aging at it):

        dVth_ref = (V - V_th)(1 - (1 + x)^(-1/alpha)),
        A0 = dVth_ref / (exp(-Ea / (k_B T)) V^gamma (D t)^n).

    References
    ----------
    JEDEC JEP122H section 5.3; OldSpot (hplp/oldspot) NBTI failure criterion.
    """
    overdrive = np.asarray(voltage_v, dtype=float) - np.asarray(vth_v, dtype=float)
    dvth = overdrive * -np.expm1(
        -np.log1p(np.asarray(delay_increase, dtype=float)) / np.asarray(alpha, dtype=float)
    )
    per_a0 = bti_threshold_shift_v(
        voltage_v, temp_c, years, duty_cycle, 1.0, activation_energy_ev, voltage_exponent,
        time_exponent,
    )
    return dvth / per_a0


def bti_lifetime_years(
    voltage_v, vth_v, temp_c, guard_band, duty_cycle, a0, activation_energy_ev,
    voltage_exponent, time_exponent, alpha,
):
    """Time until the BTI delay increase uses up the guard band [years].

    Parameters
    ----------
    voltage_v : numeric
        Supply voltage [V].
    vth_v : numeric
        Threshold voltage of the fresh device [V].
    temp_c : numeric
        Junction temperature [degC].
    guard_band : numeric
        Allowed fractional delay increase, e.g. 0.05 for a 5 % frequency guard band [-].
    duty_cycle : numeric
        Fraction of the time under stress [-].
    a0 : numeric
        Prefactor [V V^-gamma year^-n] (:func:`bti_prefactor`).
    activation_energy_ev : numeric
        Activation energy Ea [eV].
    voltage_exponent : numeric
        Power-law voltage exponent gamma [-].
    time_exponent : numeric
        Time exponent n [-].
    alpha : numeric
        Velocity-saturation index of the alpha-power law [-].

    Returns
    -------
    numeric
        Years of service [years]; 0 where the fresh circuit does not switch (V <= V_th)
        or the guard band is <= 0; +inf where there is no stress (duty 0 or A0 = 0).

    Notes
    -----
    Inverting the alpha-power law, the tolerable shift is
    dVth_fail = (V - V_th)(1 - (1 + g)^(-1/alpha)) (OldSpot's criterion); inverting the
    power law in time,

        t = (dVth_fail / (A0 exp(-Ea / (k_B T)) V^gamma))^(1/n) / D.

    Round trip: bti_delay_increase(..., years=t, ...) = g.

    References
    ----------
    JEDEC JEP122H section 5.3; OldSpot (hplp/oldspot) NBTI failure criterion.
    """
    v = np.asarray(voltage_v, dtype=float)
    g = np.asarray(guard_band, dtype=float)
    overdrive = v - np.asarray(vth_v, dtype=float)
    alpha = np.asarray(alpha, dtype=float)
    ok = (overdrive > 0.0) & (g > 0.0)
    dvth_fail = np.where(ok, overdrive, 1.0) * -np.expm1(-np.log1p(np.where(ok, g, 0.0)) / alpha)
    rate = bti_threshold_shift_v(
        v, temp_c, 1.0, 1.0, a0, activation_energy_ev, voltage_exponent, time_exponent
    )  # dVth after one year of full stress
    duty = np.clip(np.asarray(duty_cycle, dtype=float), 0.0, 1.0)
    stressed = (rate > 0.0) & (duty > 0.0)
    n = np.asarray(time_exponent, dtype=float)
    with np.errstate(over="ignore"):
        stress_years = (dvth_fail / np.where(stressed, rate, 1.0)) ** (1.0 / n)
        years = stress_years / np.where(stressed, duty, 1.0)
    return np.where(ok, np.where(stressed, years, np.inf), 0.0)


def thermal_cycling_fit(
    delta_t_k, cycles_per_day, fit_ref, ref_delta_t_k, ref_cycles_per_day, exponent_q
):
    """Thermal-cycling fatigue failure rate by Coffin-Manson [FIT].

    Parameters
    ----------
    delta_t_k : numeric
        Temperature swing of one cycle (e.g. idle <-> full load) [K].
    cycles_per_day : numeric
        Number of such cycles per day [1/day].
    fit_ref : numeric
        Failure rate at the reference swing and cycling rate [FIT].
    ref_delta_t_k : numeric
        Reference swing [K].
    ref_cycles_per_day : numeric
        Reference cycling rate [1/day].
    exponent_q : numeric
        Coffin-Manson exponent q (SnPb 1.9, SAC 2.65, die/package 2.35) [-].

    Returns
    -------
    numeric
        FIT [FIT]; 0 where the swing or the cycling rate is <= 0 (no fatigue damage).

    Notes
    -----
    Cycles to failure N_f = C (dT)^-q, so the failure rate is proportional to cycles per
    unit time over N_f:

        FIT = fit_ref (c / c_ref) (dT / dT_ref)^q.

    Frequency (Norris-Landzberg (f)^m) and peak-temperature (dwell) terms are left out.
    RAMP instead uses dT = T_mean - T_ambient with MTTF ~ (1 / dT)^2.35.

    References
    ----------
    JEDEC JEP122H section 5 (Coffin-Manson); K. C. Norris and A. H. Landzberg, IBM J.
    Res. Dev. 13(3), 1969; Srinivasan et al., ISCA 2004 (RAMP, q = 2.35).
    """
    dt = np.asarray(delta_t_k, dtype=float)
    c = np.asarray(cycles_per_day, dtype=float)
    on = (dt > 0.0) & (c > 0.0)
    scaled = (np.where(on, dt, 1.0) / np.asarray(ref_delta_t_k, dtype=float)) ** np.asarray(
        exponent_q, dtype=float
    ) * (np.where(on, c, 1.0) / np.asarray(ref_cycles_per_day, dtype=float))
    return np.where(on, np.asarray(fit_ref, dtype=float) * scaled, 0.0)


def sum_of_failure_rates(*fits):
    """Total failure rate of competing mechanisms (SOFR) [FIT].

    Parameters
    ----------
    *fits : numeric
        Failure rates of the individual mechanisms, broadcast together [FIT].

    Returns
    -------
    numeric
        lambda_total = sum of lambda_i [FIT]; 0.0 with no arguments.

    Notes
    -----
    Series system of independent mechanisms with constant rates: R(t) = prod exp(-l_i t)
    = exp(-(sum l_i) t). Wear-out is really lognormal/Weibull; SOFR is the first-order
    useful-life approximation used by RAMP and JEDEC FIT budgets.

    References
    ----------
    Srinivasan et al., ISCA 2004 (RAMP); JEDEC JESD85.
    """
    total = np.asarray(0.0)
    for fit in fits:  # over mechanisms, not over designs
        total = total + np.asarray(fit, dtype=float)
    return total


def lifetime_years(fit_total, failure_fraction):
    """Time until a cumulative fraction of devices has failed at a constant rate [years].

    Parameters
    ----------
    fit_total : numeric
        Total failure rate [FIT].
    failure_fraction : numeric
        Cumulative failure fraction F, e.g. 0.01 [-].

    Returns
    -------
    numeric
        t [years]; 0 for F <= 0, +inf for F >= 1 or zero rate.

    Notes
    -----
    F(t) = 1 - exp(-lambda t) with lambda = FIT / 1e9 per hour, so
    t = -ln(1 - F) 1e9 / FIT hours, over 8766 h per year. F = 1 - 1/e (0.63212) gives
    the MTTF.

    References
    ----------
    JEDEC JESD85 (FIT and exponential failure distribution).
    """
    f = np.asarray(fit_total, dtype=float)
    frac = np.asarray(failure_fraction, dtype=float)
    inner = (frac > 0.0) & (frac < 1.0)
    hazard = -np.log1p(-np.where(inner, frac, 0.5))  # cumulative hazard -ln(1 - F)
    rated = f > 0.0
    with np.errstate(over="ignore"):  # a subnormal rate -> +inf years, correctly
        years = hazard * FIT_HOURS / np.where(rated, f, 1.0) / HOURS_PER_YEAR
    return np.where(frac <= 0.0, 0.0, np.where(inner & rated, years, np.inf))


def mttf_years(fit_total):
    """Mean time to failure at a constant failure rate [years].

    Parameters
    ----------
    fit_total : numeric
        Total failure rate [FIT].

    Returns
    -------
    numeric
        MTTF = 1e9 / FIT hours, over 8766 h per year [years]; +inf at zero rate.

    Notes
    -----
    RAMP's qualification point: 4000 FIT = 28.5 years (quoted as "~30 years").

    References
    ----------
    JEDEC JESD85; Srinivasan et al., ISCA 2004.
    """
    f = np.asarray(fit_total, dtype=float)
    rated = f > 0.0
    with np.errstate(over="ignore"):
        years = FIT_HOURS / np.where(rated, f, 1.0) / HOURS_PER_YEAR
    return np.where(rated, years, np.inf)


def budget_fit(design_life_years, failure_fraction, mechanisms):
    """Failure rate per mechanism that spends a design-life budget in equal shares [FIT].

    Parameters
    ----------
    design_life_years : numeric
        Design life at the qualification point [years].
    failure_fraction : numeric
        Cumulative failure fraction allowed at the design life, in (0, 1) [-].
    mechanisms : int
        Number of mechanisms sharing the budget [-].

    Returns
    -------
    numeric
        -ln(1 - F) 1e9 / (t 8766 h) / mechanisms [FIT]: at this rate each, the summed
        constant rate reaches F at the design life (:func:`lifetime_years` inverted).

    Notes
    -----
    RAMP splits its qualification budget equally over its mechanisms (800 FIT each of
    4,000); the equal split is kept here, the total comes from the design life.
    Example: 7 years at 1 % is 163.9 FIT in all, 54.6 FIT each over three mechanisms.

    References
    ----------
    Srinivasan et al., ISCA 2004 (RAMP); Intel, US patent application 2005/0140418 A1
    (seven-year design life with about 1 % failed).
    """
    frac = np.asarray(failure_fraction, dtype=float)
    years = np.asarray(design_life_years, dtype=float)
    return -np.log1p(-frac) * FIT_HOURS / (years * HOURS_PER_YEAR) / mechanisms


def duty_weighted(load_value, idle_value, duty_cycle):
    """Time average of a rate over a load profile.

    Parameters
    ----------
    load_value, idle_value : numeric
        The rate while under load and while idle [unit of the rate: FIT or 1/h].
    duty_cycle : numeric
        Fraction of the time under load, clipped to 0..1 [-].

    Returns
    -------
    numeric
        The time-averaged rate [unit of the inputs]. Under SOFR with constant rates, the
        failure rate of a chip that alternates between two states is the time average of
        the two.

    Notes
    -----
    lambda = D lambda_load + (1 - D) lambda_idle.
    """
    duty = np.clip(np.asarray(duty_cycle, dtype=float), 0.0, 1.0)
    with np.errstate(invalid="ignore"):  # 0 x inf in the branch np.where discards
        load = np.where(duty > 0.0, duty * np.asarray(load_value, dtype=float), 0.0)
        idle = np.where(duty < 1.0, (1.0 - duty) * np.asarray(idle_value, dtype=float), 0.0)
    return load + idle  # a state never visited adds nothing, even at an infinite rate


def bti_equivalent_duty(
    load_voltage_v, load_temp_c, idle_voltage_v, idle_temp_c, duty_cycle, ac_duty,
    activation_energy_ev, voltage_exponent, time_exponent,
):
    """Fraction of calendar time that is BTI stress at the load conditions [-].

    Parameters
    ----------
    load_voltage_v, load_temp_c : numeric
        Supply voltage [V] and junction temperature [degC] under load.
    idle_voltage_v, idle_temp_c : numeric
        Supply voltage [V] and junction temperature [degC] while idle.
    duty_cycle : numeric
        Fraction of the time under load [-].
    ac_duty : numeric
        Fraction of the time a transistor is under stress while powered (about 0.5 for
        clocked logic) [-].
    activation_energy_ev : numeric
        Activation energy Ea [eV].
    voltage_exponent : numeric
        Power-law voltage exponent gamma [-].
    time_exponent : numeric
        Time exponent n [-] (:func:`bti_threshold_shift_v`).

    Returns
    -------
    numeric
        D_eq [-] such that the shift after t years of the two-state profile equals the
        shift after D_eq t years of stress at the load conditions.

    Notes
    -----
    With dVth = r (t_stress)^n and r = exp(-Ea / (k_B T)) V^gamma (A0 cancels), an idle
    year counts as (r_idle / r_load)^(1/n) of a load year (equivalent-time
    superposition, recovery ignored):

        D_eq = ac_duty [D + (1 - D) (r_idle / r_load)^(1/n)].

    References
    ----------
    JEDEC JEP122H section 5.3 (BTI power law).
    """
    duty = np.clip(np.asarray(duty_cycle, dtype=float), 0.0, 1.0)
    n = np.asarray(time_exponent, dtype=float)
    log_ratio = np.asarray(voltage_exponent, dtype=float) * (
        np.log(np.maximum(np.asarray(idle_voltage_v, dtype=float), 1e-9))
        - np.log(np.maximum(np.asarray(load_voltage_v, dtype=float), 1e-9))
    ) - np.asarray(activation_energy_ev, dtype=float) / BOLTZMANN_EV_PER_K * (
        1.0 / _kelvin(idle_temp_c) - 1.0 / _kelvin(load_temp_c)
    )
    return np.asarray(ac_duty, dtype=float) * (duty + (1.0 - duty) * np.exp(log_ratio / n))
