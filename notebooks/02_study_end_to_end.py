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
# # A study end to end
#
# Which LLM-decode chip should a PRC designer build in 2025 with only SMIC's 7 nm-class nodes, domestic memories (plus a capped HBM2E stockpile) and 400 W of air cooling? This notebook runs a small search of `studies/domestic_7nm_decode_400w.toml`, loads the Pareto set, picks a design and explains why it wins: what it trades against its Pareto neighbours and against the best design of each objective, its roofline, and which limits bind. Only the public API is used (`dse.*`, `dse.report`, `dse.plots`).

# %%
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import dse
from dse import plots, report
from dse.search.pareto import distinct_mask

# Jupyter runs a notebook in its own folder (notebooks/), so studies/ is next door; the
# second place is the source checkout dse is imported from.
NAME = 'domestic_7nm_decode_400w.toml'
places = [Path.cwd().parent / 'studies', Path(dse.__file__).resolve().parents[1] / 'studies']
STUDY = next(d / NAME for d in places if (d / NAME).is_file())
OUT = Path(tempfile.mkdtemp(prefix='dse-study-'))  # storage and output files; any folder will do

study = dse.load_study(STUDY)
print(study.description)
print('workload:  ', study.workload)
print('objectives:', study.objectives)
print('searched:  ', {k: str(p) for k, p in study.space.items()})
print('limits:    ', {k: v for k, v in study.constraints.items() if k.startswith(('max_', 'min_', 'memory_count'))})

# %% [markdown]
# ## Run a small study
#
# 300 trials of the study's sampler, dse's Pareto local search, whose first 200 trials are mostly proposed from Gaussian-process models (the file asks for 2,000; about 30 s here). With `out=` the trials go to a journal file `OUT/study.journal`: calling `run_study` again with more trials resumes the study, and `optuna-dashboard OUT/study.journal` browses it. `progress=True` (the default) shows a bar with the ETA and the best values so far.

# %%
result = dse.run_study(study, trials=300, out=OUT, progress=False)
print(f'{result.n_evaluated} trials, {result.n_feasible} feasible, {len(result.pareto)} Pareto-optimal '
      f'in {result.elapsed:.1f} s; storage {result.storage}')

# %% [markdown]
# ## The Pareto set
#
# `result.pareto` holds the feasible non-dominated designs (one row per distinct design), `result.designs` every trial, both as DataFrames keyed by chip keys and metric names. `plots.axis_label` adds the unit to a name, as in the CSV headers.

# %%
objectives = result.objectives  # metric -> 'minimize' / 'maximize'
names = list(objectives)
knobs = list(study.space)
P = result.pareto
show = ['trial', *knobs, *names, 'die_area_mm2', 'power_w']
P[show].rename(columns=plots.axis_label).round(4)

# %% [markdown]
# ## Pick a design: the knee
#
# `report.choose_design` scales every objective to [0, 1] over the Pareto set (0 = the best value on the front, 1 = the worst) and returns the design closest to the ideal point where all are 0: the *knee*, which gives up the least on all objectives at once. The plots put the first objective against each of the others: grey infeasible, blue dominated, red the 2-D front, the star the knee (a design of the 3-D Pareto set need not be on every 2-D front).

# %%
knee = report.choose_design(P, objectives)
fig, axes = plt.subplots(1, len(names) - 1, figsize=(6 * (len(names) - 1), 4.5), constrained_layout=True, squeeze=False)
for ax, other in zip(axes[0], names[1:]):
    data = plots.pareto_front_data(result.designs, names[0], other, objectives)
    plots.plot_pareto_front(data, chosen=knee, ax=ax)
knee[['trial', *knobs, *names]]

# %% [markdown]
# ## Which memory, and what the search spent where
#
# The Pareto set mixes memories. `plots.node_fronts_data(..., node='memory')` gives each memory's own best feasible designs for the first two objectives (the figure `memory_fronts.png` that `dse run` writes; the node has `node_fronts.png`). A memory whose front lies below and right of another's is the better buy over that range. Counts are of distinct designs (a design proposed twice counts once), as in `summary.md`. The table counts, per memory, the trials, the feasible ones and the limit broken most often.

# %%
memories = list(study.space['memory'].choices)
mem = plots.node_fronts_data(result.designs, names[0], names[1], objectives, node='memory', order=memories)
fig, ax = plt.subplots(figsize=(8, 5.5), constrained_layout=True)
plots.plot_node_fronts(mem, ax=ax, title=f'Best feasible designs per memory ({names[0]} vs {names[1]})', legend_title='memory')

def per_memory(designs):
    designs = designs[distinct_mask(designs)]  # each design once, as in the legend
    def top(v):
        parts = pd.Series([p.split(':')[0] for p in ';'.join(v).split(';') if p])
        return parts.value_counts().index[0] if len(parts) else ''
    t = designs.groupby('memory').agg(designs=('trial', 'size'), feasible=('feasible', 'sum'), most_broken=('violations', top))
    ok = designs[designs['feasible']]
    t['best tokens/s'] = ok.groupby('memory')[names[0]].max().round(0)
    t['least USD per token/s'] = (ok['unit_cost_usd'] / ok[names[0]]).groupby(ok['memory']).min().round(2)
    return t.reindex(memories).fillna({'designs': 0, 'feasible': 0})

shared = per_memory(result.designs)
shared

# %% [markdown]
# Only the HBM fronts reach the highest tokens/s (the bandwidth of a few stacks), while the cheapest dollars per token/s come from GDDR6 or LPDDR, whose many channels cost less per GB/s: the table's last two columns say which, for this run. But HBM2 and HBM2E are capped at 4 stacks by the scenario (`memory_count_max`) while the study searches 1-16 units for every memory: 12 of those 16 values break the cap before the model is asked (the table's `most_broken`), so the search spends some of its HBM trials on designs that cannot be built. A range per memory fixes that: in the study file, `[space.when.memory.hbm2e]` with `memory_count = { low = 1, high = 4, step = 1 }` (and the same for HBM2) replaces the 1-16 range when the memory is HBM (docs: The study file). The same 300 trials, with that change:

# %%
text = STUDY.read_text()
assert text.count('[constraints]') == 1
hbm = ''.join(f'[space.when.memory.{m}]\nmemory_count = {{ low = 1, high = 4, step = 1 }}\n\n' for m in ('hbm2e', 'hbm2'))
per_memory_file = OUT / 'per_memory_ranges.toml'
per_memory_file.write_text(text.replace('[constraints]', hbm + '[constraints]'))
conditional = dse.run_study(dse.load_study(per_memory_file), trials=300, progress=False)
both = pd.concat({'one range': shared, 'a range per memory': per_memory(conditional.designs)}, axis=1)
display(both)
for m in ('hbm2e', 'hbm2'):
    print(f"{m}: {both.loc[m, ('one range', 'feasible')]:.0f} -> {both.loc[m, ('a range per memory', 'feasible')]:.0f} feasible designs; "
          f"Pareto designs {int((result.pareto['memory'] == m).sum())} -> {int((conditional.pareto['memory'] == m).sum())}")

# %% [markdown]
# No HBM trial breaks the cap any more. The budget also moves: the search spends trials where the front improves, so the count per memory says where the search looked, not how good a memory is (one seed, 300 trials); the fronts per memory answer that question.

# %% [markdown]
# ## Why the knee wins (1): against its Pareto neighbours
#
# In the scaled objectives `z` every Pareto design is a point of the unit cube; `to_ideal` is its distance to the ideal corner, the quantity the knee minimises. Its nearest neighbours on the front are the designs one would otherwise pick: each buys something (a better value of one objective, at times by less than 0.05 %, which the lines below print as 'gains nothing') with something else, and ends further from the ideal.

# %%
sign = np.array([1.0 if objectives[m] == 'minimize' else -1.0 for m in names])
f = P[names].to_numpy(float) * sign  # every objective to minimise
span = f.max(axis=0) - f.min(axis=0)
z = (f - f.min(axis=0)) / np.where(span > 0, span, 1.0)
k = P.index.get_loc(knee.name)
scaled = P.assign(**{f'z {m}': z[:, j] for j, m in enumerate(names)},
                  to_ideal=np.linalg.norm(z, axis=1), from_knee=np.linalg.norm(z - z[k], axis=1))
near = scaled.sort_values('from_knee').head(5)
near[['trial', *knobs, *[f'z {m}' for m in names], 'to_ideal']].round(3)


# %%
def change(row, ref):
    """Relative change of each objective from ref to row [%]."""
    return {m: 100 * (row[m] / ref[m] - 1) for m in names}

def better(m, pct):
    return (pct < 0) == (objectives[m] == 'minimize')

def fmt(v):
    return v if isinstance(v, str) else f'{v:g}'

for _, row in near.iloc[1:].iterrows():
    d = change(row, knee)
    gains = [f'{m} {d[m]:+.1f} %' for m in names if abs(d[m]) > 0.05 and better(m, d[m])]
    costs = [f'{m} {d[m]:+.1f} %' for m in names if abs(d[m]) > 0.05 and not better(m, d[m])]
    diff = [f'{c}={fmt(row[c])}' for c in knobs if row[c] != knee[c]]
    print(f"trial {row['trial']} ({', '.join(diff) or 'same knobs'}): gains {', '.join(gains) or 'nothing'}; "
          f"pays {', '.join(costs) or 'nothing'}; {row['to_ideal']:.3f} from the ideal vs {scaled['to_ideal'].iloc[k]:.3f}")

# %% [markdown]
# ## Why the knee wins (2): what it gives up against the best design of each objective
#
# Each extreme of the front is the best design for one objective and pays for it in at least one of the others. The knee is judged by how much of each best value it keeps and how much cheaper it is in the other objectives.

# %%
best = {f'best {m}': P.loc[(P[m] * s).idxmin()] for m, s in zip(names, sign)}
cols = ['trial', *knobs, *names, 'die_area_mm2', 'power_w', 'sustained_clock_ghz', 'memory_bandwidth_gbps']
table = pd.DataFrame({'knee': knee, **best}).T[cols]
display(table.rename(columns=plots.axis_label))
for label, b in best.items():
    m = label.removeprefix('best ')
    d = change(knee, b)
    gets = ', '.join(f"{o} {d[o]:+.0f} % ({'better' if better(o, d[o]) else 'worse'})" for o in names if o != m)
    print(f"vs the {label} design (trial {b['trial']}): the knee's {m} is {d[m]:+.0f} %; in exchange {gets}")

# %% [markdown]
# ## The knee's roofline: what bounds the workload
#
# `report.chip_from_row` turns the row back into a chip; `dse.op_breakdown` and `dse.roofline_ceilings` place every op of the decode step on that chip's roofline (disc area: the op's share of the step time; colour: the bound). `dse.evaluate` of the same chip reproduces the numbers of the Pareto table: the table is traceable to the model.

# %%
chip = report.chip_from_row(knee, study, name=f"knee (trial {knee['trial']})")
ops = dse.op_breakdown(chip, study.workload)
ceilings = dse.roofline_ceilings(chip, study.workload)
fig, ax = plt.subplots(figsize=(10, 5.5), constrained_layout=True)
plots.plot_roofline(plots.roofline_data(ops, ceilings), ax=ax, title=f'{chip.name}: {study.workload}')
share = ops.groupby('bound')['total_time_s'].sum() / ops['total_time_s'].sum()
m = dse.evaluate(chip, study.workload).to_dict()
check = pd.DataFrame({'Pareto table': knee[names].astype(float), 'dse.evaluate': pd.Series({n: m[n] for n in names})})
assert np.allclose(check.iloc[:, 0], check.iloc[:, 1], rtol=1e-9)
display(check)
share.rename('share of the step time').round(3)

# %% [markdown]
# ## Which limits bind
#
# `report.binding_constraints` lists the limits a design sits on (`active`) or within 5 % of (`near-binding`): the study's `max_`/`min_` limits, the TDP, Tj max, the reticle, DVFS throttling, the scenario's memory supply cap, and, given the search space, the ends of the searched ranges (`space edge`: the study's space, not the physics, may be what stops the design; widen that range to find out).

# %%
binding = pd.concat(
    {label: report.binding_constraints(r, study.constraints, space=study.space) for label, r in {'knee': knee, **best}.items()},
    names=['design', None],
)
binding.droplevel(1)[['limit', 'status', 'value', 'bound', 'slack']].round(3)

# %%
# every limit of the knee, however far: the margin that is left
report.binding_constraints(knee, study.constraints, within=np.inf)[['limit', 'value', 'bound', 'slack']].round(3)

# %%
bound = share.idxmax()
edges = binding.loc['knee'].query("status == 'space edge'")['limit'].tolist()
active = binding.loc['knee'].query("status in ('active', 'near-binding', 'throttled')")['limit'].tolist()
print(f"The knee (trial {knee['trial']}) spends {share.max():.0%} of the decode step {bound}-bound.")
print('Limits it sits on:', ', '.join(active) or 'none of the physical or study limits')
print('Ends of the search space it sits on:', ', '.join(edges) or 'none')

# %% [markdown]
# **Reading it.** Decode at batch 16 reads every weight once per step, so its ops sit far left of the ridge and memory bandwidth sets the pace; compute beyond what the bandwidth can feed only adds area, cost and leakage. The knee therefore buys bandwidth where it is cheap per GB/s and keeps the die small, while the fastest design pays for HBM stacks and the cheapest one gives up most of the throughput. When the knee sits at the end of a searched range, the next question is the study's, not the chip's: widen that range (and run more trials: 300 is a demonstration, the study file asks for 2,000).

# %% [markdown]
# ## Files for colleagues
#
# `report.write_outputs` writes what `dse run` writes: `pareto.csv` and `trials.csv` (units in the column names) each with a `.meta.json` sidecar (dse version, study file and its SHA-256, scenario, seed, sampler, trials, environment and a command that reruns it), the plots and `summary.md`.

# %%
files = report.write_outputs(result, OUT, chosen=knee)
print('\n'.join(str(p) for p in files.values()))
meta = report.read_csv_metadata(files['pareto'])
print('\nrerun:', meta['rerun'])
print('study sha256:', meta['study']['file']['sha256'])
print('browse the trials: optuna-dashboard', result.storage)
