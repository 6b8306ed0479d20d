"""Export-control metrics of ECCN 3A090 (US Commerce Control List).

References
----------
Bureau of Industry and Security, "Implementation of Additional Export Controls: Certain
Advanced Computing Items; Supercomputer and Semiconductor End Use", interim final rule,
88 FR 73458, 25 October 2023 (announced 17 October 2023): ECCN 3A090.a/.b and the
definitions of Total Processing Performance (TPP) and performance density (PD).

Notes
-----
TPP = 2 x MacTOPS x bit length of the operation (the highest over the precisions the
chip supports). With MAC arrays whose throughput doubles when the operand width halves
(bf16 -> fp8/int8, as on A100/H100/L4), TPP is the same at every precision, so it is
computed at ``mac_dtype``. PD = TPP / applicable die area. BIS counts only die area of
non-planar (FinFET/GAA) logic dies; for a planar-only die that definition leaves PD
undefined, and dse reports TPP / die area for it (flagged in the node table's
``planar`` column) so the number stays comparable.

3A090.a: TPP >= 4800, or TPP >= 1600 and PD >= 5.92.
3A090.b: TPP >= 2400 and 1.6 <= PD < 5.92, or TPP >= 1600 and 3.2 <= PD < 5.92
(when not already .a).
"""

from __future__ import annotations

import numpy as np

EXPORT_CLASSES = ("not-controlled", "3A090.b", "3A090.a")


def total_processing_performance(peak_tops, bits):
    """Total Processing Performance, TPP [TOPS x bit].

    Parameters
    ----------
    peak_tops : numeric
        Dense peak throughput, 2 x MacTOPS, at the precision of ``bits`` [TOPS].
    bits : numeric
        Bit length of the operands of that precision [bit].

    Returns
    -------
    numeric
        TPP [TOPS x bit].

    Notes
    -----
    TPP = 2 x MacTOPS x bit length.

    References
    ----------
    Bureau of Industry and Security, 88 FR 73458, 25 October 2023: ECCN 3A090 and the
    definitions of TPP and performance density.
    """
    return np.asarray(peak_tops) * bits


def performance_density(tpp, applicable_die_area_mm2):
    """PD, the performance density of 3A090 [TOPS x bit / mm2].

    Parameters
    ----------
    tpp : numeric
        Total Processing Performance [TOPS x bit] (:func:`total_processing_performance`).
    applicable_die_area_mm2 : numeric
        Die area that BIS counts (non-planar logic dies; the whole die area for a
        planar-only die) [mm2].

    Returns
    -------
    numeric
        PD [TOPS x bit / mm2].

    Notes
    -----
    PD = TPP / applicable die area.

    References
    ----------
    Bureau of Industry and Security, 88 FR 73458, 25 October 2023: ECCN 3A090 and the
    definitions of TPP and performance density.
    """
    return np.asarray(tpp) / applicable_die_area_mm2


def export_class_code(tpp, pd, c):
    """Export class of each design as an index into :data:`EXPORT_CLASSES`.

    Parameters
    ----------
    tpp : numeric
        Total Processing Performance [TOPS x bit].
    pd : numeric
        Performance density [TOPS x bit / mm2].
    c : Mapping[str, float]
        The thresholds of ``model_constants.csv`` by name (``tpp_threshold_a``,
        ``tpp_threshold_low``, ``tpp_threshold_b``, ``pd_threshold_a``,
        ``pd_threshold_b1``, ``pd_threshold_b2``), in the units of ``tpp`` and ``pd``.

    Returns
    -------
    ndarray of int
        0 not controlled, 1 3A090.b, 2 3A090.a [-].

    Notes
    -----
    3A090.a: TPP >= 4800, or TPP >= 1600 and PD >= 5.92. 3A090.b: TPP >= 2400 and
    1.6 <= PD < 5.92, or TPP >= 1600 and 3.2 <= PD < 5.92 (when not already .a).

    References
    ----------
    Bureau of Industry and Security, 88 FR 73458, 25 October 2023: ECCN 3A090 and the
    definitions of TPP and performance density.
    """
    tpp = np.asarray(tpp, dtype=float)
    pd = np.asarray(pd, dtype=float)
    is_a = (tpp >= c["tpp_threshold_a"]) | ((tpp >= c["tpp_threshold_low"]) & (pd >= c["pd_threshold_a"]))
    is_b = ((tpp >= c["tpp_threshold_b"]) & (pd >= c["pd_threshold_b1"])) | (
        (tpp >= c["tpp_threshold_low"]) & (pd >= c["pd_threshold_b2"])
    )
    return np.where(is_a, 2, np.where(is_b, 1, 0))
