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

    Notes
    -----
    DPW = floor( pi (d/2)^2 / A  -  pi d / sqrt(2 A) ), at least 1 (a die larger than
    the wafer is reported as one die; such a design already violates the reticle).
    """
    a = np.asarray(die_area_mm2, dtype=float)
    d = wafer_diameter_mm
    gross = np.pi * (d / 2.0) ** 2 / a - np.pi * d / np.sqrt(2.0 * a)
    return np.maximum(np.floor(gross), 1.0)


def negative_binomial_yield(die_area_mm2, defect_density_per_cm2, alpha):
    """Die yield of the negative-binomial model [fraction].

    Notes
    -----
    Y = (1 + A D0 / alpha) ** (-alpha), A in cm2; alpha -> inf gives Poisson exp(-A D0).
    """
    a_cm2 = np.asarray(die_area_mm2, dtype=float) / MM2_PER_CM2
    return (1.0 + a_cm2 * defect_density_per_cm2 / alpha) ** (-np.asarray(alpha, dtype=float))


def cost_per_good_die_usd(wafer_cost_usd, dies_per_wafer_, yield_):
    """Wafer cost spread over the good dies [USD]."""
    return np.asarray(wafer_cost_usd) / (np.asarray(dies_per_wafer_) * yield_)


def memory_cost_usd(memory_capacity_gb, cost_usd_per_gb):
    """Off-chip memory bill [USD]."""
    return np.asarray(memory_capacity_gb) * cost_usd_per_gb
