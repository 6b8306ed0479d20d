"""Energy per operation, the voltage-frequency law of a node, leakage and other power terms.

The terms beyond the operations are the clock tree and on-chip transport.

References
----------
M. Horowitz, "Computing's energy problem (and what we can do about it)", ISSCC 2014
(45 nm / 0.9 V energies of arithmetic and SRAM reads).
A. Stillmaker and B. Baas, "Scaling equations for the accurate prediction of CMOS device
performance from 180 nm to 7 nm", Integration 58 (2017) 74-81 (energy scaling across
nodes, encoded per node as ``energy_factor`` in ``nodes.csv``).
W. Huang et al., "HotSpot: a compact thermal modeling methodology for early-stage VLSI
design", IEEE TVLSI 14(5) 2006, and HotSpot's ``calc_leakage`` (exp(beta dT) leakage).
"""

from __future__ import annotations

import functools

import numpy as np

SRAM_REFERENCE_BYTES = 8 * 1024.0  # Horowitz's 8 KB SRAM


def mac_energy_pj(energy_pj_45nm, energy_factor, operand_delivery_factor, array_side=32.0, reference_side=32.0):
    """Energy of one MAC incl. operand delivery at the node's nominal voltage [pJ].

    Parameters
    ----------
    energy_pj_45nm : numeric
        Arithmetic energy of one MAC at 45 nm and 0.9 V (Horowitz) [pJ].
    energy_factor : numeric
        The node's switching energy relative to 45 nm [-].
    operand_delivery_factor : numeric
        All-in MAC energy over the arithmetic alone for an array of ``reference_side`` [-].
    array_side : numeric
        Side r of the square MAC array of a core, sqrt(macs_per_core) [-].
    reference_side : float
        Array side at which ``operand_delivery_factor`` is defined [-].

    Returns
    -------
    numeric
        Energy of one MAC with its operand delivery [pJ].

    Notes
    -----
    E = E_45 x energy_factor x (1 + (k - 1) r_ref / r): an r x r array takes 2 r operands
    per r^2 MACs, so the delivery energy per MAC (register files, operand buses, local
    wires) falls as 1/r while the arithmetic stays.

    References
    ----------
    M. Horowitz, "Computing's energy problem", ISSCC 2014; V. Sze, Y.-H. Chen, T.-J. Yang
    and J. S. Emer, "Efficient processing of deep neural networks: a tutorial and
    survey", Proc. IEEE 105(12), 2017 (data reuse in spatial arrays).
    """
    delivery = (np.asarray(operand_delivery_factor) - 1.0) * reference_side / np.asarray(array_side)
    return np.asarray(energy_pj_45nm) * energy_factor * (1.0 + delivery)


def sram_energy_pj_per_byte(bank_bytes, energy_pj_per_byte_45nm_8kb, energy_factor):
    """SRAM read energy per byte for a bank of ``bank_bytes`` [pJ/B].

    Parameters
    ----------
    bank_bytes : numeric
        Capacity of one SRAM bank, S (at least 1 KiB is used) [B].
    energy_pj_per_byte_45nm_8kb : float
        Read energy per byte of an 8 KB bank at 45 nm and 0.9 V, E_8KB [pJ/B].
    energy_factor : numeric
        The node's switching energy relative to 45 nm [-].

    Returns
    -------
    numeric
        Read energy per byte [pJ/B].

    Notes
    -----
    E = E_8KB sqrt(S / 8 KB) x node factor: wire length across a bank grows with the
    square root of its capacity; this reproduces Horowitz's 8 KB / 32 KB / 1 MB points
    (10 / 20 / ~100 pJ per 64-bit read) to within 15 %.

    References
    ----------
    M. Horowitz, "Computing's energy problem (and what we can do about it)", ISSCC 2014;
    node factors after A. Stillmaker and B. Baas, Integration 58 (2017) 74-81.
    """
    size = np.maximum(np.asarray(bank_bytes, dtype=float), 1024.0)
    return energy_pj_per_byte_45nm_8kb * np.sqrt(size / SRAM_REFERENCE_BYTES) * energy_factor


# ---------------------------------------------------------------------------------------
# voltage and frequency
# ---------------------------------------------------------------------------------------

_V_TOP = 2.5  # highest V / V_nom of the tabulated inverse law (extrapolated clocks clamp)


def alpha_power_speed(voltage_fraction, vth_fraction, alpha):
    """Clock reachable at a supply voltage, relative to the clock at nominal voltage [-].

    Parameters
    ----------
    voltage_fraction : numeric
        Supply voltage over the node's nominal voltage, V / V_nom [-].
    vth_fraction : float
        Effective threshold voltage over the nominal voltage, V_th / V_nom [-].
    alpha : float
        Velocity-saturation index of the alpha-power law [-].

    Returns
    -------
    numeric
        f(V) / f(V_nom) [-]; 0 at or below the threshold.

    Notes
    -----
    Gate delay t_d ~ C V / (V - V_th)^alpha, so f ~ (V - V_th)^alpha / V; with
    x = V / V_nom and r = V_th / V_nom: f / f_nom = (x - r)^alpha / x / (1 - r)^alpha.

    References
    ----------
    T. Sakurai and A. R. Newton, "Alpha-power law MOSFET model and its applications to
    CMOS inverter delay and other formulas", IEEE JSSC 25(2), 1990.
    """
    x = np.asarray(voltage_fraction, dtype=float)
    return np.maximum(x - vth_fraction, 0.0) ** alpha / x / (1.0 - vth_fraction) ** alpha


def voltage_for_clock(clock_ghz, fmax_ghz, vmax_fraction, vmin_fraction, vth_fraction, alpha):
    """Lowest supply voltage that reaches an absolute clock on a node, relative to V_nom [-].

    Parameters
    ----------
    clock_ghz : numeric
        Sustained clock [GHz].
    fmax_ghz : numeric
        The node's highest clock, reached at ``vmax_fraction`` [GHz].
    vmax_fraction, vmin_fraction : numeric
        The node's highest and lowest operating voltage over its nominal voltage [-].
    vth_fraction, alpha : float
        Alpha-power law parameters: V_th / V_nom and the velocity-saturation index [-]
        (:func:`alpha_power_speed`).

    Returns
    -------
    numeric
        V / V_nom [-], never below ``vmin_fraction`` (below the clock that V_min reaches,
        the voltage stays at V_min). Above ``fmax_ghz`` the law is extrapolated: the
        returned voltage exceeds ``vmax_fraction`` (a timing violation for the caller).

    Notes
    -----
    f(V) = fmax h(V / V_nom) / h(V_max / V_nom) with h = :func:`alpha_power_speed`,
    inverted through a table of V / V_nom on a uniform grid of speed (4,096 steps up to
    V = 2.5 V_nom, linear interpolation): the speed law depends on the node only through
    f at V_nom, so one table serves every node.

    References
    ----------
    T. Sakurai and A. R. Newton, "Alpha-power law MOSFET model and its applications to
    CMOS inverter delay and other formulas", IEEE JSSC 25(2), 1990.
    """
    step, table = inverse_speed_table(float(vth_fraction), float(alpha))
    target = np.asarray(clock_ghz, dtype=float) / np.asarray(fmax_ghz) * alpha_power_speed(
        vmax_fraction, vth_fraction, alpha
    )
    t = np.minimum(target * (1.0 / step), _TABLE_STEPS - 1e-9)
    i = t.astype(np.intp)
    frac = t - i
    v = table[i] + frac * (table[i + 1] - table[i])
    return np.maximum(v, vmin_fraction)


_TABLE_STEPS = 4096


@functools.cache
def inverse_speed_table(vth_fraction: float, alpha: float) -> tuple[float, np.ndarray]:
    """V / V_nom on a uniform grid of speed f / f(V_nom), the inverse of the alpha-power law.

    The grid runs from 0 to the speed at the top of the range, V = 2.5 V_nom; linear
    interpolation between its points is exact to ~1e-7 above V_min, where the law is used.

    Parameters
    ----------
    vth_fraction : float
        Effective threshold voltage over the nominal voltage, V_th / V_nom [-].
    alpha : float
        Velocity-saturation index of the alpha-power law [-].

    Returns
    -------
    step : float
        Speed step of the grid, in f / f(V_nom) [-].
    table : ndarray
        V / V_nom at speeds 0, step, 2 step, ... (4,097 points) [-].

    Notes
    -----
    table[i] = h^-1(i step), h = :func:`alpha_power_speed`, by interpolation of h on
    400,001 voltages between V_th and 2.5 V_nom.
    """
    fine = np.linspace(vth_fraction + 1e-12, _V_TOP, 400001)
    speeds = alpha_power_speed(fine, vth_fraction, alpha)
    step = float(speeds[-1]) / _TABLE_STEPS
    grid = np.arange(_TABLE_STEPS + 1) * step
    return step, np.interp(grid, speeds, fine)


def leakage_voltage_factor(voltage_fraction, vdd_nominal_v, dibl_per_v):
    """Leakage power at a supply voltage relative to its value at nominal voltage [-].

    Parameters
    ----------
    voltage_fraction : numeric
        V / V_nom [-].
    vdd_nominal_v : numeric
        The node's nominal voltage [V].
    dibl_per_v : numeric
        Exponential voltage sensitivity of the subthreshold current, ln(10) eta / S [1/V].

    Returns
    -------
    ndarray
        P_leak(V) / P_leak(V_nom) [-].

    Notes
    -----
    P_leak = V I_leak(V) with I_leak ~ exp(ln10 eta V / S) (drain-induced barrier
    lowering eta, subthreshold swing S):
    P_leak(V) / P_leak(V_nom) = (V / V_nom) exp(k (V - V_nom)), faster than linear in V.

    References
    ----------
    K. Roy, S. Mukhopadhyay and H. Mahmoodi-Meimand, "Leakage current mechanisms and
    leakage reduction techniques in deep-submicrometer CMOS circuits", Proc. IEEE 91(2),
    2003.
    """
    x = np.asarray(voltage_fraction, dtype=float)
    return x * np.exp(dibl_per_v * (x - 1.0) * vdd_nominal_v)


# ---------------------------------------------------------------------------------------
# power terms beyond the operations: clock tree, on-chip transport, interfaces, DRAM
# ---------------------------------------------------------------------------------------


def clock_tree_power_w(logic_mtr, clock_ghz, voltage_fraction, energy_pj_per_mtr_cycle_45nm, energy_factor):
    """Clocked baseline: clock distribution, sequencers and always-on logic [W].

    Parameters
    ----------
    logic_mtr : numeric
        Logic transistors clocked by the tree [million].
    clock_ghz : numeric
        Clock frequency [GHz].
    voltage_fraction : numeric
        V / V_nom [-].
    energy_pj_per_mtr_cycle_45nm : float
        Energy per million logic transistors per cycle at 45 nm and nominal voltage [pJ].
    energy_factor : numeric
        The node's switching energy relative to 45 nm (``nodes.csv``) [-].

    Returns
    -------
    numeric
        Clock-tree and always-on power [W].

    Notes
    -----
    P = e45 x energy_factor x N_Mtr x f x (V / V_nom)^2: switched capacitance of the
    clock network and registers grows with the logic it clocks, whether or not the
    datapaths compute (clock gating is in the fitted coefficient).

    References
    ----------
    Fit and sources of ``clock_energy_pj_per_mtr_cycle_45nm``: ``dse/data/model_constants.csv``.
    """
    return (
        energy_pj_per_mtr_cycle_45nm * energy_factor * np.asarray(logic_mtr)
        * np.asarray(clock_ghz) * 1e-3 * np.asarray(voltage_fraction) ** 2
    )  # fmt: skip


def transport_energy_pj_per_byte(die_area_mm2, wire_pj_per_bit_mm, distance_factor):
    """On-chip transport energy of one byte between a die edge and the cores [pJ/B].

    Parameters
    ----------
    die_area_mm2 : numeric
        Die area [mm2].
    wire_pj_per_bit_mm : float
        Repeated global-wire energy at nominal voltage [pJ/(bit mm)].
    distance_factor : float
        Mean route length in units of the die edge sqrt(A) [-].

    Returns
    -------
    numeric
        Transport energy per byte [pJ/B].

    Notes
    -----
    E = 8 e_wire d sqrt(A): bytes from the memory PHYs (or a die-to-die port) cross the
    NoC / L2 to the cores; the mean distance grows with the die edge.

    References
    ----------
    S. W. Keckler, W. J. Dally, B. Khailany, M. Garland and D. Glasco, "GPUs and the
    future of parallel computing", IEEE Micro 31(5), 2011 (wire energy per bit per mm).
    """
    return 8.0 * wire_pj_per_bit_mm * distance_factor * np.sqrt(np.asarray(die_area_mm2))
