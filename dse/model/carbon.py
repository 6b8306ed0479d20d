"""Embodied and operational carbon of a chip (ACT-style).

Embodied carbon of a logic die follows ACT: the fab's electricity per cm2 of processed
silicon times the fab grid's carbon intensity, plus process gases (after abatement) and
raw materials per cm2, over the die yield; each integrated circuit in a package adds a
packaging footprint. DRAM is carbon per GB, and an HBM stack adds its base die and
stacking; a silicon interposer is carbon per cm2. Operational carbon is the energy the
chip draws over its service life times the carbon intensity of the grid it runs on.

References
----------
U. Gupta, M. Elgamal, G. Hills, G.-Y. Wei, H.-H. S. Lee, D. Brooks and C.-J. Wu, "ACT:
designing sustainable computer systems with an architectural carbon modeling tool",
ISCA 2022 (model and per-node tables: github.com/facebookresearch/ACT, ``logic/*.json``).
Per-node values and sources: ``dse/data/nodes.csv``, ``memories.csv``,
``model_constants.csv`` and ``dse/data/TECH_SOURCES.md``.
"""

from __future__ import annotations

import numpy as np

from dse.units import MM2_PER_CM2

HOURS_PER_YEAR = 8766.0  # 365.25 days


def carbon_per_area_gco2_per_cm2(fab_energy_kwh_per_cm2, fab_grid_gco2_per_kwh, gas_gco2_per_cm2, materials_gco2_per_cm2):
    """Carbon of processing one cm2 of logic silicon, before yield [gCO2/cm2].

    Parameters
    ----------
    fab_energy_kwh_per_cm2 : numeric
        Fab electricity per cm2 of processed wafer, EPA [kWh/cm2] (``nodes.csv``).
    fab_grid_gco2_per_kwh : numeric
        Carbon intensity of the fab's grid, CI_fab [gCO2/kWh].
    gas_gco2_per_cm2 : numeric
        Process gases after abatement, GPA [gCO2/cm2].
    materials_gco2_per_cm2 : numeric
        Raw materials, MPA [gCO2/cm2] (``fab_materials_gco2_per_cm2``).

    Returns
    -------
    numeric
        Carbon per area, CPA [gCO2/cm2].

    Notes
    -----
    CPA = CI_fab x EPA + GPA + MPA (ACT, eq. for the SoC embodied footprint).

    References
    ----------
    U. Gupta et al., "ACT: designing sustainable computer systems with an architectural
    carbon modeling tool", ISCA 2022.
    """
    return (
        np.asarray(fab_energy_kwh_per_cm2, dtype=float) * fab_grid_gco2_per_kwh
        + gas_gco2_per_cm2
        + materials_gco2_per_cm2
    )


def embodied_die_kgco2(die_area_mm2, die_yield, carbon_per_area_gco2_per_cm2_):
    """Embodied carbon of one good die [kgCO2].

    Parameters
    ----------
    die_area_mm2 : numeric
        Area of the die [mm2].
    die_yield : numeric
        Fraction of the dies that are good (sellable) [fraction].
    carbon_per_area_gco2_per_cm2_ : numeric
        :func:`carbon_per_area_gco2_per_cm2` of the node [gCO2/cm2].

    Returns
    -------
    numeric
        Embodied carbon of one good die [kgCO2].

    Notes
    -----
    E_die = CPA x A / Y (ACT). Like ACT, the area is the die's: the wafer edge lost to
    partial dies is not charged (it would add 10-20 % for large dies).

    References
    ----------
    U. Gupta et al., "ACT: designing sustainable computer systems with an architectural
    carbon modeling tool", ISCA 2022.
    """
    a_cm2 = np.asarray(die_area_mm2, dtype=float) / MM2_PER_CM2
    return carbon_per_area_gco2_per_cm2_ * a_cm2 / np.asarray(die_yield, dtype=float) * 1e-3


def embodied_memory_kgco2(capacity_gb, gco2_per_gb, stacks, stacking_kgco2_per_stack):
    """Embodied carbon of the off-chip memory of one part [kgCO2].

    Parameters
    ----------
    capacity_gb : numeric
        Off-chip memory capacity [GB].
    gco2_per_gb : numeric
        Embodied carbon of the DRAM per GB, C_GB [gCO2/GB] (``memories.csv``).
    stacks : numeric
        HBM stacks (0 for board memories) [count].
    stacking_kgco2_per_stack : numeric
        Base die and stacking of one HBM stack, E_stack [kgCO2]
        (``hbm_stacking_kgco2_per_stack``).

    Returns
    -------
    ndarray
        Embodied carbon of the memory [kgCO2].

    Notes
    -----
    E_mem = C_GB x capacity + stacks x E_stack (DRAM per GB from ACT; an HBM stack adds
    its logic base die and the stacking).

    References
    ----------
    U. Gupta et al., "ACT: designing sustainable computer systems with an architectural
    carbon modeling tool", ISCA 2022.
    """
    return (
        np.asarray(capacity_gb, dtype=float) * gco2_per_gb * 1e-3
        + np.asarray(stacks, dtype=float) * stacking_kgco2_per_stack
    )


def embodied_part_kgco2(die_kgco2, dies, memory_kgco2, ics, package_kgco2_per_ic, interposer_mm2, interposer_kgco2_per_cm2, package_yield):
    """Embodied carbon of one good packaged part [kgCO2].

    Parameters
    ----------
    die_kgco2 : numeric
        Embodied carbon of one good die, E_die [kgCO2] (:func:`embodied_die_kgco2`).
    dies : numeric
        Logic dies in the package, n [count].
    memory_kgco2 : numeric
        Embodied carbon of the memory, E_mem [kgCO2] (:func:`embodied_memory_kgco2`).
    ics : numeric
        Integrated circuits in the package (logic dies and memory units), N_IC [count].
    package_kgco2_per_ic : numeric
        Packaging footprint per IC, K_r [kgCO2] (``package_kgco2_per_ic``).
    interposer_mm2 : numeric
        Silicon interposer area, A_int (0 for none) [mm2].
    interposer_kgco2_per_cm2 : numeric
        Embodied carbon of the interposer, c_int [kgCO2/cm2].
    package_yield : numeric
        Fraction of the assembled parts that are good, Y_pkg [fraction].

    Returns
    -------
    ndarray
        Embodied carbon of one good part [kgCO2].

    Notes
    -----
    E = (n E_die + E_mem + N_IC K_r + A_int c_int) / Y_pkg: ACT's sum over the ICs with
    its packaging footprint K_r per IC, plus the interposer; a failed bond scraps the
    assembly, as in the cost model (:func:`dse.model.chiplet.assembled_unit_cost_usd`).

    References
    ----------
    U. Gupta et al., "ACT: designing sustainable computer systems with an architectural
    carbon modeling tool", ISCA 2022.
    """
    total = (
        np.asarray(dies, dtype=float) * die_kgco2
        + memory_kgco2
        + np.asarray(ics, dtype=float) * package_kgco2_per_ic
        + np.asarray(interposer_mm2, dtype=float) / MM2_PER_CM2 * interposer_kgco2_per_cm2
    )
    return total / np.asarray(package_yield, dtype=float)


def operational_kgco2(power_w, idle_power_w, duty_cycle, service_years, grid_gco2_per_kwh):
    """Carbon of the electricity one part draws over its service life [kgCO2].

    Parameters
    ----------
    power_w : numeric
        Power while serving, P [W].
    idle_power_w : numeric
        Power while idle, P_idle [W].
    duty_cycle : numeric
        Fraction of the service life spent serving, d [fraction].
    service_years : numeric
        Service life, T [years].
    grid_gco2_per_kwh : numeric
        Carbon intensity of the grid the part runs on, CI_use [gCO2/kWh].

    Returns
    -------
    ndarray
        Operational carbon over the service life [kgCO2].

    Notes
    -----
    E_op = CI_use x (P d + P_idle (1 - d)) x T (ACT's CI_use x energy, with the idle
    share of a duty cycle d below 1).

    References
    ----------
    U. Gupta et al., "ACT: designing sustainable computer systems with an architectural
    carbon modeling tool", ISCA 2022.
    """
    d = np.asarray(duty_cycle, dtype=float)
    mean_w = np.asarray(power_w, dtype=float) * d + np.asarray(idle_power_w, dtype=float) * (1.0 - d)
    kwh = mean_w * 1e-3 * np.asarray(service_years, dtype=float) * HOURS_PER_YEAR
    return kwh * np.asarray(grid_gco2_per_kwh, dtype=float) * 1e-3


def co2_per_million_items_kg(embodied_kgco2_, operational_kgco2_, throughput_per_s, duty_cycle, service_years):
    """Life-cycle carbon per million items served (tokens, images, GEMMs) [kgCO2].

    Parameters
    ----------
    embodied_kgco2_ : numeric
        Embodied carbon of the part, E_emb [kgCO2].
    operational_kgco2_ : numeric
        Operational carbon over the service life, E_op [kgCO2].
    throughput_per_s : numeric
        Items served per second while serving [1/s].
    duty_cycle : numeric
        Fraction of the service life spent serving, d [fraction].
    service_years : numeric
        Service life, T [years].

    Returns
    -------
    ndarray
        Carbon per million items [kgCO2]; +inf where nothing is served.

    Notes
    -----
    (E_emb + E_op) / N x 1e6, N = throughput x d x T the items served over the service
    life; infinite for a chip that never runs (d = 0).
    """
    seconds = np.asarray(service_years, dtype=float) * HOURS_PER_YEAR * 3600.0
    items = np.asarray(throughput_per_s, dtype=float) * np.asarray(duty_cycle, dtype=float) * seconds
    with np.errstate(divide="ignore", invalid="ignore"):
        return (np.asarray(embodied_kgco2_, dtype=float) + operational_kgco2_) / items * 1e6
