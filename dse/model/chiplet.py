"""Chiplets: several identical compute dies in one package (beyond the reticle).

A design with ``dies > 1`` splits its cores and SRAM evenly over identical dies. Each
die carries a die-to-die (D2D) interface sized by the D2D bandwidth it must serve; the
dies sit either on a 2.5-D silicon interposer (``"interposer"``: dense, cheap per bit,
an extra silicon part with its own yield and size limit) or side by side on an organic
substrate (``"organic"``: cheaper, lower bandwidth per mm of die edge, more energy per
bit). Every function here is pure and broadcasts over designs; package kinds are given
as names or as integer codes into :data:`PACKAGES`.

Cost and yield (known-good-die flow)
------------------------------------
Dies are wafer-tested before assembly, so each die enters the package at the cost of a
*good* die (:func:`dse.model.cost.cost_per_good_die_usd`). Assembly bonds ``dies`` logic dies
and the stacked memories; each bond succeeds with probability y_b, and one failure
scraps the assembly (all its good dies). The interposer is tested before bonding, so
its own yield enters its cost. Then

    unit cost = (dies x good-die cost + memory + interposer + substrate + assembly)
                / y_b^(dies + stacks)

Traffic between dies (assumption)
---------------------------------
The compute is split tensor-parallel across the dies, Megatron style: every die keeps
its slice of the weights and of the KV cache in its own memory (weights never cross),
and the activations are all-reduced twice per transformer layer (after the attention
output projection and after the MLP down projection); see
:func:`dse.chain.system.collectives_per_step`. A hardware-transparent multi-die GPU moves
more (remote L2 / memory traffic), so this is the lower bound a compiler that knows the
die boundary reaches. GEMM and CNN workloads are taken as split without exchange (GEMM:
weight columns per die, A read by every die from its own memory; CNN: the batch split
over dies).

References
----------
UCIe Consortium, *Universal Chiplet Interconnect Express Specification 1.0* (2022);
D. Das Sharma et al., "On-package memory with UCIe", Hot Interconnects 2025 / arXiv
2510.06513 (2-D: up to 224 GB/s/mm, 0.5-0.6 pJ/bit; 2.5-D: 1.3 TB/s/mm,
0.25-0.3 pJ/bit), via Converge Digest.
S. Ardalan et al., "An open inter-chiplet communication link: Bunch of Wires (BoW)",
IEEE Micro 41(1), 2021 (320 Gbit/s/mm to 1+ Tbit/s/mm).
A. Graening et al., "CATCH: a cost analysis tool for co-optimization of chiplet-based
heterogeneous systems", arXiv 2503.15753, 2025, and its data files
(github.com/nanocad-lab/cost_model_chiplets: UCIe PHY areas, interposer cost and
defect density, bonding yields).
Y. Feng and K. Ma, "Chiplet Actuary: a quantitative cost model and multi-chiplet
architecture exploration", DAC 2022 (known-good-die package cost).
Silicon Analysts, "Advanced 2.5D/3D packaging cost calculator" (2026): interposer sizing
1.5x, interposer D0 0.001-0.05/cm2, CoWoS 300-2,000 USD per unit.
Constants and their sources: ``dse/data/model_constants.csv``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np

from dse.model.cost import negative_binomial_yield
from dse.units import PJ

__all__ = [
    "PACKAGES",
    "PackageCost",
    "assembled_unit_cost_usd",
    "d2d_area_mm2",
    "d2d_bandwidth_gbps",
    "d2d_energy_pj_per_bit",
    "d2d_step_energy_j",
    "d2d_step_time_s",
    "package_code",
    "package_cost_and_yield",
]

#: Package kinds, in code order.
PACKAGES = ("organic", "interposer")
#: Clustering parameter of the interposer's negative-binomial yield.
INTERPOSER_ALPHA = 3.0
#: Per-hop latency of an on-package D2D link [us]: UCIe ~2 ns round trip through the
#: PHY and adapter (Das Sharma, Hot Interconnects 2025); 10 ns with protocol layers [A].
D2D_HOP_LATENCY_US = 0.01


def _constants(constants: Mapping[str, float] | None) -> Mapping[str, float]:
    if constants is not None:
        return constants
    from dse.constants import default_constants

    return default_constants()


def package_code(package: Any) -> np.ndarray:
    """Integer codes (index into :data:`PACKAGES`) from names or codes [-].

    Parameters
    ----------
    package : str or int or array
        Package names (``"organic"``, ``"interposer"``, any case) or codes.

    Returns
    -------
    ndarray of intp
        Index into :data:`PACKAGES` [-], the shape of ``package``.

    Raises
    ------
    ValueError
        For an unknown name or a code out of range.
    """
    arr = np.asarray(package)
    if arr.dtype.kind in "iuf":
        codes = arr.astype(np.intp)
        if ((codes < 0) | (codes >= len(PACKAGES))).any():
            raise ValueError(f"package codes must be in 0..{len(PACKAGES) - 1}")
        return codes
    flat = [str(p).strip().lower() for p in arr.ravel()]
    bad = [p for p in flat if p not in PACKAGES]
    if bad:
        raise ValueError(f"package must be one of {', '.join(PACKAGES)}, got '{bad[0]}'")
    return np.array([PACKAGES.index(p) for p in flat], dtype=np.intp).reshape(arr.shape)


def _by_package(package, organic_value, interposer_value):
    return np.where(package_code(package) == 1, interposer_value, organic_value)


def d2d_energy_pj_per_bit(package, constants: Mapping[str, float] | None = None):
    """Energy to move one bit between two dies of the package [pJ/bit].

    Parameters
    ----------
    package : str or int or array
        ``"organic"`` / ``"interposer"`` (or codes into :data:`PACKAGES`).
    constants : Mapping[str, float], optional
        Model constants by name, in the units of ``model_constants.csv`` (default: the
        packaged table).

    Returns
    -------
    ndarray
        D2D energy per bit [pJ/bit].

    Notes
    -----
    UCIe 2.5-D (interposer) 0.25-0.3 pJ/bit, UCIe 2-D (organic) 0.5-0.6 pJ/bit
    (``d2d_energy_pj_per_bit_*`` in ``model_constants.csv``).

    References
    ----------
    UCIe Consortium, *Universal Chiplet Interconnect Express Specification 1.0* (2022);
    D. Das Sharma et al., "On-package memory with UCIe", Hot Interconnects 2025 / arXiv
    2510.06513.
    """
    c = _constants(constants)
    return _by_package(
        package, c["d2d_energy_pj_per_bit_organic"], c["d2d_energy_pj_per_bit_interposer"]
    ).astype(float)


def d2d_bandwidth_gbps(
    die_area_mm2,
    package,
    edges=1,
    constants: Mapping[str, float] | None = None,
):
    """Largest D2D bandwidth the die edge supports, both directions summed [GB/s].

    Parameters
    ----------
    die_area_mm2 : numeric
        Area of one die [mm2]; the die is taken as square (edge = sqrt(A)).
    package : str or int or array
        ``"organic"`` / ``"interposer"`` (or codes).
    edges : numeric
        Die edges facing a neighbour [count] (1 for two dies side by side; 2 for the
        middle dies of a row; up to 4).
    constants : Mapping[str, float], optional
        Model constants by name, in the units of ``model_constants.csv`` (default: the
        packaged table).

    Returns
    -------
    ndarray
        D2D bandwidth of one die, both directions summed [GB/s].

    Notes
    -----
    BW = sqrt(A) x edges x f_usable x rho, rho the shoreline bandwidth density
    (UCIe: 1.3 TB/s/mm on an interposer, 224 GB/s/mm on organic).

    References
    ----------
    UCIe Consortium, *Universal Chiplet Interconnect Express Specification 1.0* (2022);
    D. Das Sharma et al., "On-package memory with UCIe", Hot Interconnects 2025 / arXiv
    2510.06513.
    """
    c = _constants(constants)
    rho = _by_package(
        package,
        c["d2d_shoreline_gbps_per_mm_organic"],
        c["d2d_shoreline_gbps_per_mm_interposer"],
    )
    edge_mm = np.sqrt(np.asarray(die_area_mm2, dtype=float))
    return edge_mm * np.asarray(edges, dtype=float) * c["d2d_edge_usable_fraction"] * rho


def d2d_area_mm2(d2d_bandwidth_gbps_, package, constants: Mapping[str, float] | None = None):
    """D2D PHY + adapter area on one die for its D2D bandwidth [mm2].

    Parameters
    ----------
    d2d_bandwidth_gbps_ : numeric
        The die's D2D bandwidth, both directions summed [GB/s].
    package : str or int or array
        ``"organic"`` / ``"interposer"`` (or codes into :data:`PACKAGES`).
    constants : Mapping[str, float], optional
        Model constants by name, in the units of ``model_constants.csv`` (default: the
        packaged table).

    Returns
    -------
    ndarray
        D2D PHY and adapter area of one die [mm2].

    Notes
    -----
    A = BW x 8 / 1000 [Tbit/s] x a_phy, a_phy = 0.1 mm2/(Tbit/s) on an interposer,
    0.74 on organic (UCIe advanced / standard modules in CATCH).

    References
    ----------
    A. Graening et al., "CATCH: a cost analysis tool for co-optimization of chiplet-based
    heterogeneous systems", arXiv 2503.15753, 2025 (UCIe PHY areas).
    """
    c = _constants(constants)
    per_tbps = _by_package(
        package,
        c["d2d_phy_area_mm2_per_tbps_organic"],
        c["d2d_phy_area_mm2_per_tbps_interposer"],
    )
    return np.asarray(d2d_bandwidth_gbps_, dtype=float) * 8.0 / 1000.0 * per_tbps


class PackageCost(NamedTuple):
    """Result of :func:`package_cost_and_yield` (arrays broadcast over designs).

    Attributes
    ----------
    package_usd : ndarray
        Interposer + substrate + assembly + known-good-die test, before package yield [USD].
    package_yield : ndarray
        Probability that all bonds succeed [fraction].
    interposer_mm2 : ndarray
        Interposer area, 0 for organic [mm2].
    interposer_usd : ndarray
        Cost of one tested-good interposer, 0 for organic [USD].
    substrate_mm2 : ndarray
        Organic substrate area [mm2].
    oversize : ndarray of bool
        Interposer above ``interposer_max_mm2``.
    """

    package_usd: np.ndarray  # interposer + substrate + assembly, before package yield
    package_yield: np.ndarray  # probability that all bonds succeed
    interposer_mm2: np.ndarray  # 0 for organic
    interposer_usd: np.ndarray  # per tested-good interposer; 0 for organic
    substrate_mm2: np.ndarray
    oversize: np.ndarray  # bool: interposer above interposer_max_mm2


def package_cost_and_yield(
    die_area_mm2,
    dies,
    stacked_memory_count,
    package,
    constants: Mapping[str, float] | None = None,
) -> PackageCost:
    """Raw package cost and assembly yield of a package of one die or many.

    Parameters
    ----------
    die_area_mm2 : numeric
        Area of one logic die [mm2] (all dies identical).
    dies : numeric
        Logic dies in the package [count].
    stacked_memory_count : numeric
        Memory stacks bonded in the package (HBM) [count]; 0 for board memories.
    package : str or int or array
        ``"organic"`` or ``"interposer"`` (or codes). HBM needs an interposer: the caller
        flags organic packages with stacks as infeasible.
    constants : Mapping[str, float], optional
        Model constants by name, in the units of ``model_constants.csv`` (default: the
        packaged table).

    Returns
    -------
    PackageCost
        Package cost [USD] and yield [fraction], interposer and substrate areas [mm2]
        and cost [USD], the oversize flag.

    Notes
    -----
    The same model for one die and many, so cost is continuous from one die to two.

    Interposer: A_i = f_i (dies A_die + stacks A_hbm); cost A_i c_i / Y_NB(A_i, D0_i),
    c_i the CoWoS-class price per mm2 of interposer; the organic substrate under it has
    the interposer's area.
    Organic: substrate area f_o dies A_die.
    Substrate cost = ``package_base_usd`` + ``package_usd_per_mm2`` x area.
    Assembly = ``assembly_usd_per_die`` x (dies + stacks).
    Known-good-die test = ``kgd_test_usd_per_die`` x (dies + stacks) in an interposer
    package or a multi-die one (a single die on an organic substrate is tested in the
    package).
    Package yield = y_b^(dies + stacks) (known-good dies and stacks; a failed bond
    scraps the assembly).

    References
    ----------
    Y. Feng and K. Ma, "Chiplet Actuary: a quantitative cost model and multi-chiplet
    architecture exploration", DAC 2022 (known-good-die package cost); A. Graening et al.,
    CATCH, arXiv 2503.15753, 2025 (interposer cost and defect density, bonding yields);
    constants and sources in ``dse/data/model_constants.csv``.
    """
    c = _constants(constants)
    code = package_code(package)
    interposer = code == 1
    a = np.asarray(die_area_mm2, dtype=float)
    n = np.asarray(dies, dtype=float)
    m = np.asarray(stacked_memory_count, dtype=float)
    footprint = n * a + m * c["hbm_footprint_mm2"]
    a_int = np.where(interposer, c["interposer_area_factor"] * footprint, 0.0)
    usd_int = np.zeros(np.broadcast(a_int, interposer).shape)
    on = np.flatnonzero(np.broadcast_to(interposer, usd_int.shape))  # the yield only where used
    if on.size:
        a_on = np.broadcast_to(a_int, usd_int.shape).ravel()[on]
        y_int = negative_binomial_yield(a_on, c["interposer_defect_density_per_cm2"], INTERPOSER_ALPHA)
        usd_int.ravel()[on] = a_on * c["interposer_usd_per_mm2"] / y_int
    a_sub = np.where(interposer, a_int, c["organic_area_factor"] * n * a)
    usd_sub = c["package_base_usd"] + c["package_usd_per_mm2"] * a_sub
    bonds = n + m
    kgd = np.where(interposer | (n > 1), c["kgd_test_usd_per_die"] * bonds, 0.0)
    usd = usd_int + usd_sub + c["assembly_usd_per_die"] * bonds + kgd
    y_bond = np.where(
        interposer, c["bond_yield_per_die_interposer"], c["bond_yield_per_die_organic"]
    )
    y_pkg = np.where(bonds == 1.0, y_bond, y_bond**bonds)  # one bond: its yield (as y**1)
    oversize = interposer & (a_int > c["interposer_max_mm2"])
    return PackageCost(usd, y_pkg, a_int, usd_int, a_sub, oversize)


def assembled_unit_cost_usd(good_die_cost_usd, dies, memory_cost_usd, package_usd, package_yield):
    """Cost of one good assembled package [USD].

    Parameters
    ----------
    good_die_cost_usd : numeric
        Cost of one known-good logic die [USD].
    dies : numeric
        Logic dies in the package [count].
    memory_cost_usd : numeric
        Memory of one package [USD].
    package_usd : numeric
        Raw package cost (:attr:`PackageCost.package_usd`) [USD].
    package_yield : numeric
        Assembly yield [fraction].

    Returns
    -------
    numeric
        Cost of one good package [USD].

    Notes
    -----
    C = (dies x C_good_die + C_memory + C_package) / Y_package (known-good-die flow:
    a failed bond scraps every good die and stack of the assembly).

    References
    ----------
    Y. Feng and K. Ma, "Chiplet Actuary", DAC 2022.
    """
    return (
        np.asarray(dies, dtype=float) * good_die_cost_usd + memory_cost_usd + package_usd
    ) / package_yield


def d2d_step_time_s(
    message_bytes,
    allreduces_per_step,
    dies,
    d2d_bandwidth_gbps_,
    hop_latency_us=D2D_HOP_LATENCY_US,
):
    """Time of one workload step spent in all-reduces between the dies [s].

    Parameters
    ----------
    message_bytes : numeric
        Bytes of one all-reduced activation tensor [B]
        (:func:`dse.chain.system.collectives_per_step`).
    allreduces_per_step : numeric
        All-reduces per step [count].
    dies : numeric
        Dies taking part (the tensor-parallel degree inside the package) [count].
    d2d_bandwidth_gbps_ : numeric
        Each die's D2D bandwidth, both directions summed [GB/s]; the ring uses half of
        it per direction.
    hop_latency_us : numeric
        Latency of one hop of the ring [us].

    Returns
    -------
    ndarray
        All-reduce time per step [s].

    Notes
    -----
    Ring all-reduce (:func:`dse.model.multichip.ring_allreduce_time_s`) per collective, not
    overlapped with compute (conservative); 0 for one die.
    """
    from dse.model.multichip import ring_allreduce_time_s

    per_direction = np.asarray(d2d_bandwidth_gbps_, dtype=float) / 2.0
    return np.asarray(allreduces_per_step, dtype=float) * ring_allreduce_time_s(
        message_bytes, dies, per_direction, hop_latency_us
    )


def d2d_step_energy_j(message_bytes, allreduces_per_step, dies, energy_pj_per_bit):
    """Energy of the D2D traffic of one step [J].

    Parameters
    ----------
    message_bytes : numeric
        Bytes of one all-reduced activation tensor, S [B].
    allreduces_per_step : numeric
        All-reduces per step [count].
    dies : numeric
        Dies taking part, d [count].
    energy_pj_per_bit : numeric
        D2D energy per bit, e_bit [pJ/bit] (:func:`d2d_energy_pj_per_bit`).

    Returns
    -------
    ndarray
        D2D energy per step [J].

    Notes
    -----
    Every die sends 2 (d - 1) / d x S bytes per ring all-reduce:
    E = allreduces x d x 2 (d - 1) / d x S x 8 x e_bit.
    """
    from dse.model.multichip import allreduce_bytes_sent

    d = np.asarray(dies, dtype=float)
    sent = d * allreduce_bytes_sent(message_bytes, d)
    return np.asarray(allreduces_per_step, dtype=float) * sent * 8.0 * energy_pj_per_bit * PJ
