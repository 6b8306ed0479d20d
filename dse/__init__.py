"""dse: design-space exploration of AI inference chips under fab constraints.

Public API (docs/contract.md)::

    import dse
    chip = dse.load_chip("chip.toml")
    m = dse.evaluate(chip, "llm-decode:llama-3-8b:batch=1,context=1024")
    df = dse.evaluate_many(designs_dataframe, "gemm:8192,8192,8192")

Names are imported lazily so that ``import dse`` and the command line start fast
(optuna and matplotlib load only when a study or a plot needs them).
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "ChipSpec": "dse.spec",
    "load_chip": "dse.spec",
    "chip_from_dict": "dse.spec",
    "CHIP_KEYS": "dse.spec",
    "METRICS": "dse.metrics",
    "Metrics": "dse.chain",
    "evaluate": "dse.chain",
    "evaluate_many": "dse.chain",
    "example_chip": "dse.chain",
    "example_chips": "dse.chain",
    "op_breakdown": "dse.chain",
    "power_breakdown": "dse.chain",
    "reliability_breakdown": "dse.chain",
    "lifetime_sweep": "dse.chain",
    "serve_curve": "dse.chain",
    "roofline_ceilings": "dse.chain",
    "compare": "dse.analysis.compare",
    "parse_workload": "dse.workloads",
    "Workload": "dse.workloads",
    "Technology": "dse.tech",
    "load_tech": "dse.tech",
    "default_tech": "dse.tech",
    "DseInputError": "dse.errors",
    "load_study": "dse.search.study",
    "run_study": "dse.search",
    "grid": "dse.search",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'dse' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
