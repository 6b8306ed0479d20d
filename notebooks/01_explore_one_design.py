# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Exploring one design
#
# Evaluate a domestic 7 nm-class inference chip (SMIC N+2), place the LLM-decode ops on its roofline, sweep SRAM and clock, and compare process nodes for the same design. Only the public API is used (`dse.*`, `dse.plots`).

# %%
import matplotlib
import numpy as np
import pandas as pd
import matplotlib.pyplot as plt

import dse
from dse import plots

chip = dse.example_chip('smic-n2-inference')
wl = 'llm-decode:llama-3-8b:batch=16,context=2048'
m = dse.evaluate(chip, wl)
pd.Series(m.to_dict())

# %% [markdown]
# ## Roofline
#
# Each disc is one op of the decode step, its area the op's share of the step time; colour says what bounds it. At batch 16 the weight GEMMs sit far left of the ridge: decode is bandwidth-bound.

# %%
ops = dse.op_breakdown(chip, wl)
ceilings = dse.roofline_ceilings(chip, wl)
ax = plots.plot_roofline(plots.roofline_data(ops, ceilings), title=f'{chip.name}: {wl}')
ops[['op', 'count', 'bound', 'time_s', 'intensity_flop_per_byte']]

# %% [markdown]
# ## What-if: SRAM and clock
#
# `evaluate_many` takes a DataFrame of designs, so a sweep is one call. More SRAM never adds DRAM traffic, but decode streams all the weights every step, so a bigger cache barely moves tokens/s: SRAM would pay off only once all 16 GB of Llama-3-8B's weights fit on chip (weights-resident; the vertical line, where the weights fill the SRAM that is not kept for tiling). The sweep goes that far to show where that is: a die of tens of thousands of mm², dozens of reticle fields, which also breaks the power cap. Crosses mark designs that break a limit. On one die this chip stays DRAM-bound; holding an 8B model in SRAM takes a system of chips (see "Beyond one die" in the docs). The clock is bounded twice: the node's voltage-frequency law sets the highest clock it can reach at its maximum voltage (beyond it the design is infeasible, `timing`), and the power cap throttles a compute-bound step below that.

# %%
weights_mib = dse.parse_workload(wl).weight_bytes / 2**20
sram = np.geomspace(16, 2 * weights_mib / 0.5, 48)  # half the SRAM is kept for tiling
designs = pd.DataFrame([chip.replace(sram_mb=float(s)).to_dict() for s in sram])
out = dse.evaluate_many(designs, wl)
ok = out['feasible'].to_numpy()
fig, axes = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
for ax, key, colour in ((axes[0], 'tokens_per_s', 'C0'), (axes[1], 'die_area_mm2', 'C1')):
    ax.plot(out['sram_mb'][ok], out[key][ok], 'o-', color=colour, label='feasible')
    ax.plot(out['sram_mb'][~ok], out[key][~ok], 'x', color='C3', label='infeasible (' + ', '.join(sorted(set(';'.join(out['violations'][~ok]).split(';')))) + ')')
    ax.axvline(weights_mib / 0.5, color='0.4', ls=':', label='weights resident')
    ax.set_xscale('log'); ax.grid(True, which='both', alpha=0.3); ax.legend(fontsize='small')
axes[1].set_yscale('log')
axes[0].set_ylim(0, None)
axes[0].set(xlabel='sram_mb [MiB]', ylabel='tokens_per_s [tokens/s]', title='decode throughput vs SRAM')
axes[1].set(xlabel='sram_mb [MiB]', ylabel='die_area_mm2 [mm2]', title='die area vs SRAM')
assert (np.diff(out['dram_bytes']) <= 0).all()
resident = out[out['weights_resident']]
first = resident.iloc[0]
print(f"weights resident from {first['sram_mb']:,.0f} MiB: {first['tokens_per_s']:,.0f} tokens/s "
      f"(x{first['tokens_per_s'] / m.tokens_per_s:.1f}) on a {first['die_area_mm2']:,.0f} mm2 die, "
      f"feasible: {bool(first['feasible'])} ({first['violations'] or 'none'})")
print(f"largest feasible SRAM: {out['sram_mb'][ok].max():,.0f} MiB")

# %%
clock = np.linspace(0.6, 2.4, 19)
designs = pd.DataFrame([chip.replace(clock_ghz=float(f)).to_dict() for f in clock])
prefill = dse.evaluate_many(designs, 'llm-prefill:llama-3-8b:batch=1,seq=2048')
timing = prefill['violations'].str.contains('timing')  # beyond the node's f_max at V_max
fig, ax = plt.subplots(figsize=(6, 4), constrained_layout=True)
ax.plot(prefill['clock_ghz'][~timing], prefill['sustained_clock_ghz'][~timing], 'o-', label='sustained clock')
ax.plot(prefill['clock_ghz'][timing], prefill['sustained_clock_ghz'][timing], 'x', color='C3', label='infeasible: timing')
ax.plot(clock, clock, ':', color='0.5', label='declared clock')
ax.set(xlabel='clock_ghz (declared max) [GHz]', ylabel='sustained_clock_ghz [GHz]', title='prefill: the node caps the clock, the 400 W cap throttles it')
ax.legend(); ax.grid(alpha=0.3)
prefill[['clock_ghz', 'sustained_clock_ghz', 'core_voltage_v', 'power_w', 'junction_temp_c', 'tokens_per_s', 'violations']].round(3)

# %% [markdown]
# ## The same design on other nodes
#
# How much does the older node cost? Same cores, SRAM, memory and TDP, on every node in the table. Only dies that can be built are ranked by price: a die above the node's reticle, or a clock the node cannot reach, is listed apart with what it breaks.

# %%
tech = dse.default_tech()
designs = pd.DataFrame([chip.replace(node=n).to_dict() for n in tech.node_ids])
by_node = dse.evaluate_many(designs, wl).set_index('node')
cols = ['die_area_mm2', 'yield', 'unit_cost_usd', 'tokens_per_s', 'energy_per_item_j', 'export_class']
buildable = by_node[by_node['feasible']]
display(buildable[cols].sort_values('unit_cost_usd').round(3))
by_node.loc[~by_node['feasible'], ['die_area_mm2', 'violations']].round(1)
