"""Dynamic energy per operation, leakage, and the DVFS voltage-frequency relation.

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

import numpy as np

SRAM_REFERENCE_BYTES = 8 * 1024.0  # Horowitz's 8 KB SRAM


def dvfs_voltage_fraction(clock_fraction, vmin_fraction):
    """Supply voltage relative to nominal at a clock fraction of the max clock.

    Notes
    -----
    V/V_nom = v_min + (1 - v_min) f/f_max: linear V-f over the DVFS range, V_nom at the
    max clock.
    """
    return vmin_fraction + (1.0 - vmin_fraction) * np.asarray(clock_fraction)


def mac_energy_pj(energy_pj_45nm, energy_factor, operand_delivery_factor):
    """Energy of one MAC incl. operand delivery at the node's nominal voltage [pJ]."""
    return np.asarray(energy_pj_45nm) * energy_factor * operand_delivery_factor


def sram_energy_pj_per_byte(bank_bytes, energy_pj_per_byte_45nm_8kb, energy_factor):
    """SRAM read energy per byte for a bank of ``bank_bytes`` [pJ/B].

    Notes
    -----
    E = E_8KB sqrt(S / 8 KB) x node factor: wire length across a bank grows with the
    square root of its capacity; this reproduces Horowitz's 8 KB / 32 KB / 1 MB points
    (10 / 20 / ~100 pJ per 64-bit read) to within 15 %.
    """
    size = np.maximum(np.asarray(bank_bytes, dtype=float), 1024.0)
    return energy_pj_per_byte_45nm_8kb * np.sqrt(size / SRAM_REFERENCE_BYTES) * energy_factor


def leakage_power_w(
    leakage_w_per_mm2_ref, die_area_mm2, voltage_fraction, junction_temp_c, ref_temp_c, beta_per_k
):
    """Leakage power at a junction temperature [W].

    Notes
    -----
    P_leak = p_ref A (V/V_nom) exp(beta (T_j - T_ref)).
    """
    return (
        np.asarray(leakage_w_per_mm2_ref)
        * die_area_mm2
        * voltage_fraction
        * np.exp(beta_per_k * (np.asarray(junction_temp_c) - ref_temp_c))
    )
