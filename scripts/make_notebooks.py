"""Write the notebooks in notebooks/ from the cell sources below (outputs cleared).

Usage: python scripts/make_notebooks.py   — the tests execute the notebooks it writes.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1] / "notebooks"

EXPLORE = [
    new_markdown_cell(
        "# Exploring one design\n\n"
        "Evaluate a domestic 7 nm-class inference chip (SMIC N+2), place the LLM-decode ops on its "
        "roofline, sweep SRAM and clock, and compare process nodes for the same design. Only the "
        "public API is used (`dse.*`, `dse.plotting`)."
    ),
    new_code_cell(
        "import matplotlib\n"
        "import numpy as np\n"
        "import pandas as pd\n"
        "import matplotlib.pyplot as plt\n\n"
        "import dse\n"
        "from dse import plotting\n\n"
        "chip = dse.example_chip('smic-n2-inference')\n"
        "wl = 'llm-decode:llama-3-8b:batch=16,context=2048'\n"
        "m = dse.evaluate(chip, wl)\n"
        "pd.Series(m.to_dict())"
    ),
    new_markdown_cell(
        "## Roofline\n\nEach disc is one op of the decode step, its area the op's share of the step "
        "time; colour says what bounds it. At batch 16 the weight GEMMs sit far left of the ridge: "
        "decode is bandwidth-bound."
    ),
    new_code_cell(
        "ops = dse.op_breakdown(chip, wl)\n"
        "ceilings = dse.roofline_ceilings(chip, wl)\n"
        "ax = plotting.plot_roofline(plotting.roofline_data(ops, ceilings), title=f'{chip.name}: {wl}')\n"
        "ops[['op', 'count', 'bound', 'time_s', 'intensity_flop_per_byte']]"
    ),
    new_markdown_cell(
        "## What-if: SRAM and clock\n\n`evaluate_many` takes a DataFrame of designs, so a sweep is one "
        "call. More SRAM never adds DRAM traffic; it pays off only once the weights fit on chip "
        "(weights-resident), at a large area and cost."
    ),
    new_code_cell(
        "sram = np.geomspace(16, 4096, 40)\n"
        "designs = pd.DataFrame([chip.replace(sram_mb=float(s)).to_dict() for s in sram])\n"
        "out = dse.evaluate_many(designs, wl)\n"
        "fig, axes = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)\n"
        "axes[0].loglog(out['sram_mb'], out['tokens_per_s'], 'o-')\n"
        "axes[0].set(xlabel='sram_mb [MiB]', ylabel='tokens_per_s [tokens/s]', title='decode throughput vs SRAM')\n"
        "axes[1].loglog(out['sram_mb'], out['die_area_mm2'], 'o-', color='C1')\n"
        "axes[1].set(xlabel='sram_mb [MiB]', ylabel='die_area_mm2 [mm2]', title='die area vs SRAM')\n"
        "for a in axes: a.grid(True, which='both', alpha=0.3)\n"
        "assert (np.diff(out['dram_bytes']) <= 0).all()"
    ),
    new_code_cell(
        "clock = np.linspace(0.6, 2.4, 19)\n"
        "designs = pd.DataFrame([chip.replace(clock_ghz=float(f)).to_dict() for f in clock])\n"
        "prefill = dse.evaluate_many(designs, 'llm-prefill:llama-3-8b:batch=1,seq=2048')\n"
        "fig, ax = plt.subplots(figsize=(6, 4), constrained_layout=True)\n"
        "ax.plot(prefill['clock_ghz'], prefill['sustained_clock_ghz'], 'o-', label='sustained clock')\n"
        "ax.plot(clock, clock, ':', color='0.5', label='max clock')\n"
        "ax.set(xlabel='clock_ghz (max) [GHz]', ylabel='sustained_clock_ghz [GHz]', title='prefill: the 400 W cap throttles the clock')\n"
        "ax.legend(); ax.grid(alpha=0.3)\n"
        "prefill[['clock_ghz', 'sustained_clock_ghz', 'power_w', 'junction_temp_c', 'tokens_per_s']].round(3)"
    ),
    new_markdown_cell(
        "## The same design on other nodes\n\nHow much does the older node cost? Same cores, SRAM, memory "
        "and TDP, on every node in the table."
    ),
    new_code_cell(
        "tech = dse.default_tech()\n"
        "designs = pd.DataFrame([chip.replace(node=n).to_dict() for n in tech.node_ids])\n"
        "by_node = dse.evaluate_many(designs, wl).set_index('node')\n"
        "cols = ['die_area_mm2', 'yield', 'unit_cost_usd', 'tokens_per_s', 'energy_per_item_j', 'export_class', 'violations']\n"
        "by_node[cols].sort_values('unit_cost_usd').round(3)"
    ),
]


def write(name: str, cells: list) -> Path:
    nb = new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    path = ROOT / name
    nbformat.write(nb, path)
    return path


def main() -> None:
    ROOT.mkdir(exist_ok=True)
    print(write("01_explore_one_design.ipynb", EXPLORE))


if __name__ == "__main__":
    main()
