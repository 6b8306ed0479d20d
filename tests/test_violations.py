"""Every violation of the chain, asserted through :func:`dse.evaluate` at its limit
(issue 17, item 7).

Each case walks one input (a chip key, a workload target or a model constant) from a
design that meets the limit to one that breaks it and bisects to the edge: the design
just under the edge has no such violation, the one just over has it, and where the
limit is a published number (the reticle, the HBM temperature rating, the bump current
density) the edge lies where the metric crosses that number. Switching a violation off
in :mod:`dse.chain` fails its case here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

import dse
from dse.chain import VIOLATIONS
from dse.constants import default_constants
from dse.tech import default_tech

H100 = dse.example_chip("h100-like")
C = default_constants()
TECH = default_tech()
GEMM = "gemm:8192,8192,8192"
DECODE = "llm-decode:llama-3-8b:batch=1,context=1024"


def _tech_value(table, key: str, column: str) -> float:
    return float(table.arrays[column][table.codes([key], where="test")][0])


@dataclass
class Edge:
    """A violation as a function of one input ``x``: ``ok`` meets the limit, ``bad`` breaks it."""

    violation: str
    design: Callable[[Any], tuple]  # x -> (chip, workload, constants)
    ok: float
    bad: float
    integer: bool = False
    #: (metrics just under, metrics just over, x under, x over) -> None; asserts the physics
    check: Callable[..., None] | None = None


def _evaluate(edge: Edge, x):
    chip, workload, constants = edge.design(x)
    return dse.evaluate(chip, workload, constants=constants)


def bisect(edge: Edge):
    """Adjacent inputs (integers) or inputs within 1e-6 relative on each side of the edge."""
    ok, bad = edge.ok, edge.bad
    assert edge.violation not in _evaluate(edge, ok).violations, "start design already violates"
    assert edge.violation in _evaluate(edge, bad).violations, "end design does not violate"
    while (abs(bad - ok) > 1) if edge.integer else (abs(bad - ok) > 1e-6 * abs(bad)):
        mid = (ok + bad) // 2 if edge.integer else 0.5 * (ok + bad)
        if edge.violation in _evaluate(edge, mid).violations:
            bad = mid
        else:
            ok = mid
    return ok, bad


def _between(limit: float, under: float, over: float, rel: float = 1e-3) -> None:
    """``limit`` is crossed between the two designs' metric values (to ``rel``)."""
    assert under <= limit * (1 + rel) and over > limit * (1 - rel), (under, limit, over)


def _reticle_check(m_ok, m_bad, *_):
    reticle = _tech_value(TECH.nodes, "tsmc-n4", "reticle_mm2")  # 26 mm x 33 mm = 858 mm2
    assert reticle == 858.0
    assert m_ok.die_area_mm2 <= reticle < m_bad.die_area_mm2


def _capacity_check(m_ok, m_bad, x_ok, x_bad):
    # Llama-3-8B: 8.03e9 parameters x 2 bytes (bf16) = 16.06 GB of weights, plus the KV
    # cache of 1024 tokens (32 layers x 8 KV heads x 128 x 2 (K, V) x 2 bytes = 128 KiB a
    # token: 0.13 GB): the edge lies between 16.06 and 16.3 GB
    assert 16.06 <= x_bad < x_ok <= 16.3


def _power_check(m_ok, m_bad, x_ok, x_bad):
    # over the edge, even the lowest clock of the throttle draws more than the cap
    assert m_bad.power_w > x_bad
    assert m_bad.sustained_clock_ghz == pytest.approx(C["dvfs_min_clock_fraction"] * H100.clock_ghz)
    assert m_ok.power_w <= x_ok * (1 + 1e-6)


def _memory_temp_check(m_ok, m_bad, *_):
    limit = _tech_value(TECH.memories, "hbm3", "max_temp_c")  # JEDEC HBM3 rating, 95 degC
    _between(limit, m_ok.memory_temp_c, m_bad.memory_temp_c)


def _power_delivery_check(m_ok, m_bad, x_ok, x_bad):
    # the limit is the bump current density: the design's current over its silicon
    density = m_ok.supply_current_a / m_ok.die_area_mm2
    assert x_bad < density <= x_ok * (1 + 1e-6)


def _system_check(m_ok, m_bad, *_):
    assert m_ok.system_chips >= 2 and "memory_capacity" not in m_ok.violations


EDGES = [
    Edge("reticle", lambda n: (H100.replace(cores=int(n)), GEMM, None), 132, 400, integer=True, check=_reticle_check),
    Edge("memory_capacity", lambda gb: (H100.replace(memory_capacity_gb=gb), DECODE, None), 80.0, 10.0, check=_capacity_check),
    Edge("power", lambda w: (H100.replace(tdp_w=w), GEMM, None), 700.0, 100.0, check=_power_check),
    Edge("thermal_runaway", lambda r: (H100.replace(r_sink_k_per_w=r), GEMM, None), 0.3, 1.0),
    Edge("package", lambda organic: (H100.replace(package="organic" if organic else "interposer"), GEMM, None), 0, 1, integer=True),
    Edge(
        "system_size",
        lambda gb: (H100.replace(system="auto", tp_max=1, memory_capacity_gb=gb), "llm-decode:llama-3-70b:batch=1,context=1024", None),
        80.0, 1.0, check=_system_check,
    ),
    Edge("timing", lambda f: (H100.replace(clock_ghz=f), GEMM, None), 1.83, 3.0),
    Edge(
        "power_delivery",
        lambda limit: (H100, GEMM, C.replace(bump_current_limit_a_per_mm2=limit)),
        C["bump_current_limit_a_per_mm2"], 0.2, check=_power_delivery_check,
    ),
    Edge("memory_temp", lambda t: (H100.replace(ambient_c=t), DECODE, None), 40.0, 70.0, check=_memory_temp_check),
    Edge("beachfront", lambda k: (H100.replace(memory_count=int(k), memory_capacity_gb=None, memory_bandwidth_gbps=None), GEMM, None), 5, 12, integer=True),
    Edge(
        "interposer_size",
        lambda mm2: (H100, GEMM, C.replace(interposer_max_mm2=mm2)),
        C["interposer_max_mm2"], 100.0,
    ),
    Edge(
        "slo",
        lambda ms: (H100, f"llm-serve:llama-3-8b:prompt=1024,output=256,ttft_ms=500,tpot_ms={ms:.9g}", None),
        40.0, 1.0,
    ),
]


def test_every_violation_has_an_edge_case():
    assert sorted(e.violation for e in EDGES) == sorted(VIOLATIONS)


@pytest.mark.parametrize("edge", EDGES, ids=[e.violation for e in EDGES])
def test_violation_appears_just_over_its_limit(edge):
    ok, bad = bisect(edge)
    m_ok, m_bad = _evaluate(edge, ok), _evaluate(edge, bad)
    assert edge.violation not in m_ok.violations
    assert edge.violation in m_bad.violations and not m_bad.feasible
    if edge.check is not None:
        edge.check(m_ok, m_bad, ok, bad)


def test_no_violation_on_the_example_chips():
    # the example chips as shipped break no limit on their reference workloads
    for name in ("a100-like", "h100-like"):
        for workload in (None, GEMM, DECODE):
            m = dse.evaluate(dse.example_chip(name), workload)
            assert m.violations == () and m.feasible, (name, workload, m.violations)


def test_violations_reach_evaluate_many(h100):
    # the same flags through the vectorised path, one row per violated limit
    import pandas as pd

    # without a workload (the design metrics alone) the design-time limits still apply
    base = h100.to_dict()
    rows = [
        base, {**base, "cores": 200}, {**base, "clock_ghz": 3.0}, {**base, "package": "organic"},
        # 9 HBM stacks on a 120-SM die (759 mm2): beyond its edge, not yet beyond the
        # largest interposer (on the 132-SM die, 814 mm2, it is both)
        {**base, "cores": 120, "memory_count": 9, "memory_capacity_gb": None,
         "memory_bandwidth_gbps": None},
        {**base, "dies": 4, "cores": 528},
    ]  # fmt: skip
    out = dse.evaluate_many(pd.DataFrame(rows))
    assert out["violations"].tolist() == ["", "reticle", "timing", "package", "beachfront", "interposer_size"]
    assert out["feasible"].tolist() == [True, False, False, False, False, False]
    assert math.isfinite(out["die_area_mm2"].iloc[1])
