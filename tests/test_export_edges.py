"""Export classes at every threshold edge of ECCN 3A090 (issue 17, item 7).

The rule (US Bureau of Industry and Security, interim final rule 88 FR 73458, 25 October
2023, 15 CFR 774 Supp. 1, ECCN 3A090; ECCN 4A090 controls computers that contain such
ICs and adds no chip threshold of its own):

- 3A090.a: TPP >= 4800, or TPP >= 1600 and PD >= 5.92;
- 3A090.b: TPP >= 2400 and 1.6 <= PD < 5.92, or TPP >= 1600 and 3.2 <= PD < 5.92.

Every inequality is inclusive ("greater than or equal to"), so a chip exactly at a
threshold is in the stricter class and one ulp below it is not. The thresholds are the
``tpp_threshold_*`` / ``pd_threshold_*`` rows of ``dse/data/model_constants.csv``.
"""

from __future__ import annotations

import math

import pytest

import dse
from dse.constants import default_constants
from dse.model.export_control import EXPORT_CLASSES, export_class_code, performance_density

C = default_constants()
NOT, B, A = 0, 1, 2


def below(x: float) -> float:
    """The largest float below ``x``: just under a threshold."""
    return math.nextafter(x, -math.inf)


def test_thresholds_are_the_published_rule():
    # 88 FR 73458: 4800, 1600, 2400 TPP; 5.92, 1.6, 3.2 TPP/mm2
    assert (C["tpp_threshold_a"], C["tpp_threshold_low"], C["tpp_threshold_b"]) == (4800.0, 1600.0, 2400.0)
    assert (C["pd_threshold_a"], C["pd_threshold_b1"], C["pd_threshold_b2"]) == (5.92, 1.6, 3.2)


# (tpp, pd, class, which edge)
EDGES = [
    # 3A090.a.1: TPP >= 4800 whatever the density
    (4800.0, 0.01, A, "TPP exactly 4800 is .a"),
    (below(4800.0), 0.01, NOT, "TPP just under 4800, PD under 1.6: not controlled"),
    (below(4800.0), 1.6, B, "TPP just under 4800 with PD 1.6 falls to .b.1"),
    # 3A090.a.2: TPP >= 1600 and PD >= 5.92
    (1600.0, 5.92, A, "PD exactly 5.92 at TPP 1600 is .a"),
    (1600.0, below(5.92), B, "PD just under 5.92 at TPP 1600 is .b.2 (PD >= 3.2)"),
    (below(1600.0), 5.92, NOT, "TPP just under 1600: no density makes it controlled"),
    (below(1600.0), 100.0, NOT, "TPP just under 1600 at any PD: not controlled"),
    (2400.0, 5.92, A, "PD 5.92 at TPP 2400 is .a, not .b"),
    (2400.0, below(5.92), B, "PD just under 5.92 at TPP 2400 is .b"),
    # 3A090.b.1: TPP >= 2400 and PD >= 1.6
    (2400.0, 1.6, B, "PD exactly 1.6 at TPP 2400 is .b.1"),
    (2400.0, below(1.6), NOT, "PD just under 1.6 at TPP 2400: not controlled"),
    (below(2400.0), 1.6, NOT, "TPP just under 2400 with PD 1.6 (< 3.2): not controlled"),
    (below(4800.0), below(1.6), NOT, "TPP just under 4800, PD just under 1.6: not controlled"),
    # 3A090.b.2: TPP >= 1600 and PD >= 3.2
    (1600.0, 3.2, B, "PD exactly 3.2 at TPP 1600 is .b.2"),
    (1600.0, below(3.2), NOT, "PD just under 3.2 at TPP 1600: not controlled"),
    (below(1600.0), 3.2, NOT, "TPP just under 1600 with PD 3.2: not controlled"),
    (2000.0, below(3.2), NOT, "TPP 2000 (< 2400) with PD under 3.2: not controlled"),
]


@pytest.mark.parametrize(("tpp", "pd", "expected", "edge"), EDGES, ids=[e[3] for e in EDGES])
def test_export_class_at_each_edge(tpp, pd, expected, edge):
    got = int(export_class_code(tpp, pd, C))
    assert got == expected, f"{edge}: TPP {tpp!r}, PD {pd!r} -> {EXPORT_CLASSES[got]}, expected {EXPORT_CLASSES[expected]}"


def test_export_class_vectorises_over_the_edges():
    tpp = [e[0] for e in EDGES]
    pd = [e[1] for e in EDGES]
    assert export_class_code(tpp, pd, C).tolist() == [e[2] for e in EDGES]


def test_performance_density_divides_by_the_applicable_area():
    assert performance_density(4736.0, 800.0) == pytest.approx(5.92)
    assert performance_density(1600.0, 500.0) == pytest.approx(3.2)


def _chip_at_density(h100, pd: float):
    """The H100 example with its die area changed (through the per-core SRAM) so that
    its performance density lands near ``pd``; returns the evaluated metrics."""
    lo, hi = 0.0, 4096.0
    for _ in range(40):  # PD falls as SRAM (area) grows: bisect the SRAM
        mid = 0.5 * (lo + hi)
        m = dse.evaluate(h100.replace(sram_mb=mid))
        lo, hi = (mid, hi) if m.performance_density > pd else (lo, mid)
    return dse.evaluate(h100.replace(sram_mb=lo)), dse.evaluate(h100.replace(sram_mb=hi))


def test_evaluate_reports_the_class_of_its_own_tpp_and_pd(h100):
    # Through the chain: TPP = dense peak [TFLOPS] x bits of mac_dtype, PD = TPP / die
    # area, and the class is the rule's at that (TPP, PD), on both sides of an edge.
    for chip in (h100, h100.replace(cores=30, clock_ghz=1.0), h100.replace(cores=40, clock_ghz=0.9)):
        m = dse.evaluate(chip)
        assert m.tpp == pytest.approx(m.peak_tflops * 16)  # bf16
        assert m.performance_density == pytest.approx(m.tpp / (m.die_area_mm2 * chip.dies))
        assert m.export_class == EXPORT_CLASSES[int(export_class_code(m.tpp, m.performance_density, C))]


def test_a_chip_crossing_pd_3_2_changes_class_through_evaluate(h100):
    # A TPP-2000 chip (between 1600 and 2400): .b.2 iff PD >= 3.2.
    chip = h100.replace(cores=30, clock_ghz=1.0)
    assert 1600 <= dse.evaluate(chip).tpp < 2400
    dense, sparse = _chip_at_density(chip, 3.2)
    assert dense.performance_density >= 3.2 > sparse.performance_density
    assert dense.performance_density / sparse.performance_density < 1 + 1e-6
    assert (dense.export_class, sparse.export_class) == ("3A090.b", "not-controlled")
