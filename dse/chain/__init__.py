"""The model chain: ``evaluate`` (one design) and ``evaluate_many`` (a DataFrame of designs).

Both run the same vectorised code path (:func:`dse.chain.run.evaluate_arrays`): one design
is a batch of one. The stages run in a fixed order, each a function taking the design
arrays and the records of earlier stages (:mod:`dse.chain.records`) and returning one
record:

1. technology lookup (node, memory) and precision;
2. design (:mod:`dse.chain.design`): area, peak and export metrics, dies per wafer,
   yield and cost, the program's NRE and test cost and the embodied carbon, the power
   model and the idle state;
3. with a workload (:mod:`dse.chain.perf`): per-op roofline, dynamic energy, DVFS
   throttling to ``tdp_w`` and ``tj_max_c`` and the leakage-temperature fixed point
   (lumped or grid thermal), capacity checks;
4. reliability (:mod:`dse.chain.life`): supply current, memory temperature, wear-out;
5. the multi-chip system and serving (:mod:`dse.chain.run`), then the program over the
   service life: cost per throughput at volume, operational carbon and carbon per
   million items.

:mod:`dse.chain.api` holds the public functions.
"""

from __future__ import annotations

from dse.chain.api import (
    CHIPS_DIR,
    Metrics,
    chip_arrays,
    evaluate,
    evaluate_many,
    example_chip,
    example_chips,
    lifetime_sweep,
    op_breakdown,
    power_breakdown,
    reliability_breakdown,
    roofline_ceilings,
    serve_curve,
    thermal_map,
)
from dse.chain.records import VIOLATIONS
from dse.chain.run import evaluate_arrays

__all__ = [
    "CHIPS_DIR",
    "VIOLATIONS",
    "Metrics",
    "chip_arrays",
    "evaluate",
    "evaluate_arrays",
    "evaluate_many",
    "example_chip",
    "example_chips",
    "lifetime_sweep",
    "op_breakdown",
    "power_breakdown",
    "reliability_breakdown",
    "roofline_ceilings",
    "serve_curve",
    "thermal_map",
]
