"""Die area from process-node data.

Die area = (MAC arrays + per-core logic + SRAM) x (1 + uncore fraction) + memory PHYs
+ fixed uncore. Logic converts transistor counts with the node's quoted logic density
derated for real AI dies: per core a MAC array (transistors per MAC by precision), a
control part that grows with the array (a power of its MAC count) and a vector datapath
(transistors per fp32 lane). SRAM uses the node's compiled-macro density times a factor
for its class: a cache (tags, ECC,
redundancy, banking and the crossbar), a scratchpad (banks and their decoders only) or
register files (multi-ported bit cells). Board-memory PHYs (GDDR, LPDDR, DDR) carry a
factor over the memory table's per-unit PHY estimate. The free constants are fitted by
``scripts/calibrate.py`` on the published dies of ``dse/data/reference_dies.csv``, with
leave-one-family-out errors (see ``dse/data/model_constants.csv`` for values, bounds and
sources).

References
----------
M. Horowitz, "Computing's energy problem (and what we can do about it)", ISSCC 2014
(45 nm arithmetic areas behind the transistors-per-MAC constants).
N. P. Jouppi et al., "In-datacenter performance analysis of a tensor processing unit",
ISCA 2017 (the 65,536-MAC array takes 24 % of a < 331 mm2 28 nm die: the all-in area of
a MAC in a real array, bound of ``mac_transistors_*``).
AMD 3D V-Cache (Zen 3, TSMC N7): 64 MB of L3 on a 41 mm2 die (``sram_area_factor``).
AMD Navi 31 memory cache die (TSMC N6): 37.5 mm2 for 16 MB of cache and a 64-bit GDDR6
interface (``board_phy_area_factor``).
Node densities and their sources: ``dse/data/nodes.csv``.
"""

from __future__ import annotations

import numpy as np

from dse.units import MIB


def effective_logic_density_mtr_mm2(logic_density_mtr_mm2, derate):
    """Logic density achieved on an AI die [MTr/mm2].

    Parameters
    ----------
    logic_density_mtr_mm2 : numeric
        Quoted library logic density of the node [MTr/mm2] (``nodes.csv``).
    derate : numeric
        Fraction of the quoted density reached on a real AI die [-]
        (``logic_derate``).

    Returns
    -------
    numeric
        Effective logic density [MTr/mm2].

    Notes
    -----
    rho_eff = rho_quoted x derate.

    References
    ----------
    ``dse/data/model_constants.csv`` ``logic_derate``: H100, 80e9 transistors on 814 mm2
    of N4 = 98 MTr/mm2 against 146-180 quoted (``docs/reference/nodes.md`` section 1.1).
    """
    return np.asarray(logic_density_mtr_mm2) * derate


def logic_area_mm2(transistors, density_mtr_mm2):
    """Area of ``transistors`` at a logic density [mm2].

    Parameters
    ----------
    transistors : numeric
        Transistor count [transistors].
    density_mtr_mm2 : numeric
        Logic density [MTr/mm2].

    Returns
    -------
    numeric
        Logic area [mm2].

    Notes
    -----
    A = N / (rho x 1e6).
    """
    return np.asarray(transistors) / (np.asarray(density_mtr_mm2) * 1e6)


def mac_array_area_mm2(cores, macs_per_core, transistors_per_mac, density_mtr_mm2):
    """Area of all MAC arrays [mm2].

    Parameters
    ----------
    cores : numeric
        Cores [-].
    macs_per_core : numeric
        MAC units in one core's array [-].
    transistors_per_mac : numeric
        All-in transistors of one MAC at the precision [transistors]
        (``mac_transistors_*``).
    density_mtr_mm2 : numeric
        Derated logic density [MTr/mm2].

    Returns
    -------
    numeric
        Area of the MAC arrays of all cores [mm2].

    Notes
    -----
    A = cores x MACs x transistors per MAC / (rho x 1e6).

    References
    ----------
    M. Horowitz, ISSCC 2014 (45 nm arithmetic areas, lower bound of the transistors per
    MAC); N. P. Jouppi et al., ISCA 2017 (TPUv1 array area, upper bound); fitted by
    ``scripts/calibrate.py`` (``dse/data/model_constants.csv``).
    """
    return logic_area_mm2(np.asarray(cores) * macs_per_core * transistors_per_mac, density_mtr_mm2)


def default_vector_lanes(macs_per_core, lanes_per_sqrt_mac):
    """fp32 lanes of a core's vector datapath when the design does not give them [-].

    Parameters
    ----------
    macs_per_core : numeric
        MAC units in one core's array [-].
    lanes_per_sqrt_mac : float
        Lanes per square root of the MAC count, k [-] (``vector_lanes_per_sqrt_mac``).

    Returns
    -------
    ndarray
        Vector lanes of one core [-], at least 1.

    Notes
    -----
    lanes = max(1, round(k sqrt(macs_per_core))): the datapath that feeds and drains a
    (square) MAC array scales with its edge; ``k`` is the median over the reference dies
    (``vector_lanes_per_sqrt_mac``).
    """
    macs = np.asarray(macs_per_core, dtype=float)
    return np.maximum(1.0, np.round(lanes_per_sqrt_mac * np.sqrt(macs)))


def core_control_transistors(macs_per_core, control_1k_transistors, mac_exponent):
    """Control transistors of one core, scaled with the size of its MAC array [transistors].

    Parameters
    ----------
    macs_per_core : numeric
        MAC units in one core's array [-].
    control_1k_transistors : float
        Control of a core with 1,024 MACs [transistors] (``core_control_transistors``).
    mac_exponent : float
        Exponent of the control in the MAC count [-] (``core_control_mac_exponent``).

    Returns
    -------
    ndarray
        Control transistors of one core [transistors].

    Notes
    -----
    control = C_1k x (MACs / 1024)^b. One fixed cost per core (b = 0) made a many-core
    chip of small tiles (Graphcore's 1,216 tiles of 32 MACs) pay the control of a large
    systolic core on every tile, and the large cores of systolic and dataflow chips too
    little; the sequencers, operand buffers, DMA and NoC ports that feed an array grow
    with it. ``b`` is fitted with the other area constants (``scripts/calibrate.py``).
    """
    macs = np.asarray(macs_per_core, dtype=float)
    return control_1k_transistors * (np.maximum(macs, 1.0) / 1024.0) ** mac_exponent


def core_overhead_area_mm2(cores, macs_per_core, vector_lanes, control_1k_transistors, mac_exponent,
                           transistors_per_lane, density_mtr_mm2):  # fmt: skip
    """Per-core logic beside the MAC array [mm2]: control and the vector datapath.

    Parameters
    ----------
    cores : numeric
        Cores [-].
    macs_per_core : numeric
        MAC units in one core's array [-].
    vector_lanes : numeric
        fp32 lanes of each core's vector/SIMT datapath [-].
    control_1k_transistors : float
        Control processor, sequencer, DMA and NoC port of a core with 1,024 MACs
        [transistors] (``core_control_transistors``).
    mac_exponent : float
        Exponent of the control in the MAC count [-] (``core_control_mac_exponent``).
    transistors_per_lane : float
        One fp32 lane with its share of register-file ports, load/store, operand
        collection and issue [transistors].
    density_mtr_mm2 : numeric
        Derated logic density [MTr/mm2].

    Returns
    -------
    numeric
        Control and vector-datapath area of all cores [mm2].

    Notes
    -----
    transistors per core = control(MACs) + per_lane x lanes
    (:func:`core_control_transistors`). A GPU SM (128 lanes, SIMT issue) and a many-core
    tile (a scalar core with a 2-16 lane vector unit) differ by two orders of magnitude
    here; the register-file arrays themselves are SRAM of their own class
    (:func:`sram_area_mm2` with ``register_file_area_factor``).
    """
    control = core_control_transistors(macs_per_core, control_1k_transistors, mac_exponent)
    per_core = control + transistors_per_lane * np.asarray(vector_lanes, dtype=float)
    return logic_area_mm2(np.asarray(cores) * per_core, density_mtr_mm2)


def sram_area_mm2(sram_mb, macro_density_mbit_mm2, area_factor=1.0):
    """On-chip SRAM area [mm2] for ``sram_mb`` MiB.

    Parameters
    ----------
    sram_mb : numeric
        SRAM capacity [MiB].
    macro_density_mbit_mm2 : numeric
        Compiled-macro density of the node [Mbit/mm2].
    area_factor : numeric
        Cache area over bare macro area [-]: tags, ECC, redundancy, bank decoders and
        the wiring between banks (1 = macros only).

    Returns
    -------
    numeric
        SRAM area [mm2].

    Notes
    -----
    A = bits / density x area_factor.

    References
    ----------
    AMD 3D V-Cache (Zen 3, TSMC N7): 64 MB of L3 on a 41 mm2 die (``sram_area_factor``);
    macro densities in ``dse/data/nodes.csv``.
    """
    bits = np.asarray(sram_mb) * MIB * 8.0
    return bits / (np.asarray(macro_density_mbit_mm2) * 1e6) * area_factor


def phy_area_mm2(memory_count, phy_area_mm2_per_unit, area_factor=1.0):
    """Off-chip memory PHY + controller area on the logic die [mm2].

    Parameters
    ----------
    memory_count : numeric
        Memory units (HBM stacks or board-memory channels) [-].
    phy_area_mm2_per_unit : numeric
        PHY and controller area of one unit [mm2] (``memories.csv``).
    area_factor : numeric
        Scale on the memory table's per-unit estimate [-] (fitted for board memories,
        whose PHYs the table under-states; ``board_phy_area_factor``).

    Returns
    -------
    numeric
        PHY and controller area [mm2].

    Notes
    -----
    A = units x A_unit x area_factor.

    References
    ----------
    AMD Navi 31 memory cache die (TSMC N6): 37.5 mm2 for 16 MB of cache and a 64-bit GDDR6
    interface (``board_phy_area_factor``).
    """
    return np.asarray(memory_count) * phy_area_mm2_per_unit * area_factor


def die_edges_mm(die_area_mm2, aspect_max):
    """Long and short edge of a die stretched as far as ``aspect_max`` allows [mm].

    Parameters
    ----------
    die_area_mm2 : numeric
        Area of one die [mm2].
    aspect_max : numeric
        Largest long / short edge ratio [-].

    Returns
    -------
    long_mm, short_mm : ndarray
        Long and short edge [mm].

    Notes
    -----
    A die that needs edge for its memory PHYs is drawn as a rectangle of aspect ratio
    r = ``aspect_max`` (long / short; the 26 x 33 mm reticle gives 1.27): long edge
    sqrt(A r), short edge sqrt(A / r).
    """
    a = np.asarray(die_area_mm2, dtype=float)
    return np.sqrt(a * aspect_max), np.sqrt(a / aspect_max)


def memory_sites(die_area_mm2, aspect_max, stacked, d2d_edges, host_io_edge_mm, edge_per_unit_mm):
    """Memory units whose PHYs fit along one die's edge (the beachfront) [count].

    Parameters
    ----------
    die_area_mm2 : numeric
        Area of one die [mm2].
    aspect_max : numeric
        Largest long / short edge ratio of the die [-] (:func:`die_edges_mm`).
    stacked : bool or array
        Stacked memory (HBM): its stacks sit beside the two long edges only, on the
        interposer, and a stack's PHY does not turn a corner (whole PHYs per edge).
        Board memories (GDDR, LPDDR, DDR) may use the whole perimeter.
    d2d_edges : numeric
        Edges given to die-to-die interfaces (0 for one die; short edges first) [count].
    host_io_edge_mm : numeric
        Edge kept for the host interface (PCIe), clocks and pads [mm]; board memories only
        (an HBM die keeps its short edges for it).
    edge_per_unit_mm : numeric
        Die edge one memory unit's PHY needs [mm] (memories.csv ``phy_edge_mm_per_unit``).

    Returns
    -------
    numeric
        HBM: long edges left x floor(long edge / PHY length). Board memories:
        floor((perimeter left - host interface) / PHY length) [-]. +inf for a PHY of no
        length (no off-chip memory).
    """
    long_mm, long_left, board_mm = _memory_edges(die_area_mm2, aspect_max, d2d_edges, host_io_edge_mm)
    unit = np.asarray(edge_per_unit_mm, dtype=float)
    has = unit > 0.0
    u = np.where(has, unit, 1.0)
    hbm = long_left * np.floor(long_mm / u)
    board = np.floor(board_mm / u)
    return np.where(has, np.where(stacked, hbm, board), np.inf)


def _memory_edges(die_area_mm2, aspect_max, d2d_edges, host_io_edge_mm):
    """Return the edges memory PHYs may use on one die.

    The long edge [mm], the long edges left beside the die-to-die interfaces [count]
    (these take the short edges first) and the perimeter left for board memories less
    the host interface [mm].
    """
    long_mm, short_mm = die_edges_mm(die_area_mm2, aspect_max)
    e = np.asarray(d2d_edges, dtype=float)
    long_left = 2.0 - np.clip(e - 2.0, 0.0, 2.0)
    short_left = 2.0 - np.clip(e, 0.0, 2.0)
    board_mm = np.maximum(long_left * long_mm + short_left * short_mm - host_io_edge_mm, 0.0)
    return long_mm, long_left, board_mm


def memory_edge_fraction(
    die_area_mm2, aspect_max, stacked, d2d_edges, host_io_edge_mm, edge_per_unit_mm, units
):
    """Die edge the memory PHYs need, as a fraction of the edge they may use [-].

    The graded form of :func:`memory_sites`: ``units`` fit exactly when it is at most 1.
    HBM: the PHYs of the fullest long edge (``units`` shared over the long edges left),
    whole PHYs of ``edge_per_unit_mm`` each, against the long edge; board memories: all
    PHYs against the perimeter left less the host interface. 0 without off-chip memory
    (no units, or a PHY of no length); +inf when no edge is left for them.

    Parameters
    ----------
    die_area_mm2 : numeric
        Area of one die [mm2].
    aspect_max : numeric
        Largest long / short edge ratio of the die [-].
    stacked : bool or array
        Stacked memory (HBM), beside the long edges only, whole PHYs per edge.
    d2d_edges : numeric
        Edges given to die-to-die interfaces (short edges first) [count].
    host_io_edge_mm : numeric
        Edge kept for the host interface; board memories only [mm].
    edge_per_unit_mm : numeric
        Die edge one memory unit's PHY needs [mm].
    units : numeric
        Memory units (PHYs) of one die [count].

    Returns
    -------
    numeric
        Needed / available edge [-]; a search sees how far a design is from the limit.
    """
    long_mm, long_left, board_mm = _memory_edges(die_area_mm2, aspect_max, d2d_edges, host_io_edge_mm)
    unit = np.asarray(edge_per_unit_mm, dtype=float)
    n = np.asarray(units, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_edge = np.ceil(n / long_left)  # inf with no long edge left
        hbm = per_edge * unit / long_mm
        board = n * unit / board_mm
    frac = np.where(stacked, hbm, board)
    return np.where((n > 0) & (unit > 0.0), frac, 0.0)


#: transistors per bit of a single-port SRAM array (the 6T cell) and of a register file
#: (an 8T 1R1W cell, the smallest multi-ported cell; Weste & Harris, CMOS VLSI Design,
#: 4th ed., ch. 12). Periphery (decoders, sense amplifiers) is not counted: a few % of a
#: large array's transistors.
SRAM_CELL_TRANSISTORS = 6.0
REGISTER_FILE_CELL_TRANSISTORS = 8.0


def die_transistors(logic_transistors, sram_mb, register_file_mb, uncore_logic_mm2, density_mtr_mm2):
    """Transistors on a die as the area model counts them [-].

    Parameters
    ----------
    logic_transistors : numeric
        MAC arrays and per-core logic (:func:`mac_array_area_mm2`,
        :func:`core_overhead_area_mm2` before the division by density) [transistors].
    sram_mb, register_file_mb : numeric
        Caches and scratchpads; register files [MiB].
    uncore_logic_mm2 : numeric
        Uncore area counted as logic at ``density_mtr_mm2`` (NoC, crossbar, host
        interface, control) [mm2]; memory PHYs are analog and left out.
    density_mtr_mm2 : numeric
        Derated logic density [MTr/mm2].

    Returns
    -------
    numeric
        Transistors on the die [transistors].

    Notes
    -----
    T = T_logic + 6 bits_SRAM + 8 bits_RF + rho A_uncore. The published transistor count
    of a die is a second observable besides its area: it constrains the transistors the
    model puts in the cores independently of the density they are drawn at
    (``scripts/area_transistors.py``).

    References
    ----------
    N. Weste and D. Harris, CMOS VLSI Design, 4th ed., ch. 12 (6T SRAM and 8T register-file
    cells).
    """
    bits_sram = np.asarray(sram_mb) * MIB * 8.0
    bits_rf = np.asarray(register_file_mb) * MIB * 8.0
    return (
        np.asarray(logic_transistors)
        + SRAM_CELL_TRANSISTORS * bits_sram
        + REGISTER_FILE_CELL_TRANSISTORS * bits_rf
        + np.asarray(density_mtr_mm2) * 1e6 * np.asarray(uncore_logic_mm2)
    )
