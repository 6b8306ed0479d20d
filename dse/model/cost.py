"""Dies per wafer, yield and cost.

References
----------
J. L. Hennessy and D. A. Patterson, *Computer Architecture: A Quantitative Approach*,
5th ed., §1.6 (dies per wafer with edge loss; die yield).
C. H. Stapper, "On yield, fault distributions and clustering of particles", IBM J. Res.
Dev. 30(3), 1986 (negative-binomial yield).
"""

from __future__ import annotations

import numpy as np

from dse.units import MM2_PER_CM2


def dies_per_wafer(die_area_mm2, wafer_diameter_mm=300.0):
    """Gross dies per wafer, with the edge-loss term [count].

    Parameters
    ----------
    die_area_mm2 : numeric
        Area of one die [mm2].
    wafer_diameter_mm : float
        Wafer diameter [mm].

    Returns
    -------
    ndarray
        Gross dies per wafer [count], at least 1.

    Notes
    -----
    DPW = floor( pi (d/2)^2 / A  -  pi d / sqrt(2 A) ), at least 1 (a die larger than
    the wafer is reported as one die; such a design already violates the reticle).

    References
    ----------
    J. L. Hennessy and D. A. Patterson, *Computer Architecture: A Quantitative Approach*,
    5th ed., section 1.6.
    """
    a = np.asarray(die_area_mm2, dtype=float)
    d = wafer_diameter_mm
    gross = np.pi * (d / 2.0) ** 2 / a - np.pi * d / np.sqrt(2.0 * a)
    return np.maximum(np.floor(gross), 1.0)


def negative_binomial_yield(die_area_mm2, defect_density_per_cm2, alpha):
    """Die yield of the negative-binomial model [fraction].

    Parameters
    ----------
    die_area_mm2 : numeric
        Area of one die [mm2].
    defect_density_per_cm2 : numeric
        Killer defect density D0 [1/cm2].
    alpha : numeric
        Defect clustering parameter [-].

    Returns
    -------
    ndarray
        Die yield Y [fraction].

    Notes
    -----
    Y = (1 + A D0 / alpha) ** (-alpha), A in cm2; alpha -> inf gives Poisson exp(-A D0).

    References
    ----------
    C. H. Stapper, "On yield, fault distributions and clustering of particles", IBM J. Res.
    Dev. 30(3), 1986.
    """
    a_cm2 = np.asarray(die_area_mm2, dtype=float) / MM2_PER_CM2
    return (1.0 + a_cm2 * defect_density_per_cm2 / alpha) ** (-np.asarray(alpha, dtype=float))


def cost_per_good_die_usd(wafer_cost_usd, dies_per_wafer_, yield_):
    """Wafer cost spread over the good dies [USD].

    Parameters
    ----------
    wafer_cost_usd : numeric
        Cost of one processed wafer [USD].
    dies_per_wafer_ : numeric
        Gross dies per wafer [count] (:func:`dies_per_wafer`).
    yield_ : numeric
        Die yield [fraction].

    Returns
    -------
    numeric
        Cost of one good die [USD].

    Notes
    -----
    C_die = C_wafer / (DPW x Y).
    """
    return np.asarray(wafer_cost_usd) / (np.asarray(dies_per_wafer_) * yield_)


def memory_cost_usd(memory_capacity_gb, cost_usd_per_gb):
    """Off-chip memory bill [USD].

    Parameters
    ----------
    memory_capacity_gb : numeric
        Off-chip memory capacity [GB].
    cost_usd_per_gb : numeric
        Memory price [USD/GB] (``memories.csv``).

    Returns
    -------
    numeric
        Memory cost of one part [USD].
    """
    return np.asarray(memory_capacity_gb) * cost_usd_per_gb


# ---------------------------------------------------------------------------------------
# the program: non-recurring engineering, test, amortisation over the volume
# ---------------------------------------------------------------------------------------


def nre_usd(mask_set_usd, design_nre_usd, ip_licence_usd, products=1):
    """Non-recurring engineering of one die design, this product's share [USD].

    Parameters
    ----------
    mask_set_usd : numeric
        One full mask set of the node [USD].
    design_nre_usd : numeric
        Design, verification, physical design, software bring-up and prototype
        validation [USD].
    ip_licence_usd : numeric
        Licensed third-party IP (PHYs, PLLs, controllers) [USD].
    products : numeric
        Products that share the die design (a chiplet reused across products) [count].

    Returns
    -------
    ndarray
        This product's share of the NRE [USD].

    Notes
    -----
    NRE = (C_mask + C_design + C_IP) / products. The identical dies of a multi-die
    package are one design: one mask set, one design effort.

    References
    ----------
    M. Khazraee et al., "Moonwalk: NRE optimization in ASIC clouds", ASPLOS 2017 (NRE as
    masks + design labour + IP). Per-node values and sources: ``dse/data/nodes.csv``.
    """
    total = (
        np.asarray(mask_set_usd, dtype=float)
        + np.asarray(design_nre_usd, dtype=float)
        + np.asarray(ip_licence_usd, dtype=float)
    )
    return total / np.asarray(products, dtype=float)


def test_cost_usd(die_area_mm2, dies, die_yield, package_yield, usd_per_hour, sort_s_per_mm2, final_s):
    """Wafer-sort and final test of one good packaged part [USD].

    Parameters
    ----------
    die_area_mm2 : numeric
        Area of one die [mm2].
    dies : numeric
        Dies in the package [count].
    die_yield : numeric
        Fraction of the probed dies that are good (sellable) [fraction].
    package_yield : numeric
        Fraction of the assembled parts that are good [fraction].
    usd_per_hour : numeric
        Cost of one hour of test (tester, handler, probe card or socket, floor) [USD/h].
    sort_s_per_mm2 : numeric
        Wafer-sort time per mm2 of die [s/mm2].
    final_s : numeric
        Final and system-level test time per assembled part [s].

    Returns
    -------
    ndarray
        Test cost of one good packaged part [USD].

    Notes
    -----
    Every die is probed and every assembled part is tested, so each cost lands on the
    good ones: C_test = r (n t_sort A / Y_die + t_final) / Y_pkg, r = usd_per_hour / 3600.

    References
    ----------
    Rates and times with their sources: ``test_usd_per_hour``, ``wafer_sort_s_per_mm2``,
    ``final_test_s_per_part`` in ``dse/data/model_constants.csv``.
    """
    rate = np.asarray(usd_per_hour, dtype=float) / 3600.0
    sort = np.asarray(sort_s_per_mm2, dtype=float) * np.asarray(die_area_mm2, dtype=float)
    per_part = np.asarray(dies, dtype=float) * sort / np.asarray(die_yield, dtype=float) + final_s
    return rate * per_part / np.asarray(package_yield, dtype=float)


def unit_cost_at_volume_usd(unit_cost_usd, test_cost_usd_, nre_usd_, volume):
    """Cost of one part of a program of ``volume`` parts, NRE included [USD].

    Parameters
    ----------
    unit_cost_usd : numeric
        Recurring cost of one part (dies, memory, package) [USD].
    test_cost_usd_ : numeric
        Test cost of one part [USD] (:func:`test_cost_usd`).
    nre_usd_ : numeric
        Non-recurring engineering of the program [USD] (:func:`nre_usd`).
    volume : numeric
        Parts made over the program [count].

    Returns
    -------
    ndarray
        Cost of one part, NRE amortised [USD].

    Notes
    -----
    C_V = C_unit + C_test + NRE / V: non-increasing in V, approaching the recurring
    cost C_unit + C_test.
    """
    return (
        np.asarray(unit_cost_usd, dtype=float)
        + test_cost_usd_
        + np.asarray(nre_usd_, dtype=float) / np.asarray(volume, dtype=float)
    )
