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
        "public API is used (`dse.*`, `dse.plots`)."
    ),
    new_code_cell(
        "import matplotlib\n"
        "import numpy as np\n"
        "import pandas as pd\n"
        "import matplotlib.pyplot as plt\n\n"
        "import dse\n"
        "from dse import plots\n\n"
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
        "ax = plots.plot_roofline(plots.roofline_data(ops, ceilings), title=f'{chip.name}: {wl}')\n"
        "ops[['op', 'count', 'bound', 'time_s', 'intensity_flop_per_byte']]"
    ),
    new_markdown_cell(
        '## What-if: SRAM and clock\n'
        '\n'
        '`evaluate_many` takes a DataFrame of designs, so a sweep is one call. More SRAM never adds DRAM traffic, but decode streams all the weights every step, so a bigger cache barely moves tokens/s: SRAM would pay off only once all 16 GB of Llama-3-8B\'s weights fit on chip (weights-resident; the vertical line, where the weights fill the SRAM that is not kept for tiling). The sweep goes that far to show where that is: a die of tens of thousands of mm², dozens of reticle fields, which also breaks the power cap. Crosses mark designs that break a limit. On one die this chip stays DRAM-bound; holding an 8B model in SRAM takes a system of chips (see "Beyond one die" in the docs). The clock is bounded twice: the node\'s voltage-frequency law sets the highest clock it can reach at its maximum voltage (beyond it the design is infeasible, `timing`), and the power cap throttles a compute-bound step below that.'
    ),
    new_code_cell(
        'weights_mib = dse.parse_workload(wl).weight_bytes / 2**20\n'
        'sram = np.geomspace(16, 2 * weights_mib / 0.5, 48)  # half the SRAM is kept for tiling\n'
        'designs = pd.DataFrame([chip.replace(sram_mb=float(s)).to_dict() for s in sram])\n'
        'out = dse.evaluate_many(designs, wl)\n'
        "ok = out['feasible'].to_numpy()\n"
        'fig, axes = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)\n'
        "for ax, key, colour in ((axes[0], 'tokens_per_s', 'C0'), (axes[1], 'die_area_mm2', 'C1')):\n"
        "    ax.plot(out['sram_mb'][ok], out[key][ok], 'o-', color=colour, label='feasible')\n"
        "    ax.plot(out['sram_mb'][~ok], out[key][~ok], 'x', color='C3', label='infeasible (' + ', '.join(sorted(set(';'.join(out['violations'][~ok]).split(';')))) + ')')\n"
        "    ax.axvline(weights_mib / 0.5, color='0.4', ls=':', label='weights resident')\n"
        "    ax.set_xscale('log'); ax.grid(True, which='both', alpha=0.3); ax.legend(fontsize='small')\n"
        "axes[1].set_yscale('log')\n"
        'axes[0].set_ylim(0, None)\n'
        "axes[0].set(xlabel='sram_mb [MiB]', ylabel='tokens_per_s [tokens/s]', title='decode throughput vs SRAM')\n"
        "axes[1].set(xlabel='sram_mb [MiB]', ylabel='die_area_mm2 [mm2]', title='die area vs SRAM')\n"
        "assert (np.diff(out['dram_bytes']) <= 0).all()\n"
        "resident = out[out['weights_resident']]\n"
        'first = resident.iloc[0]\n'
        'print(f"weights resident from {first[\'sram_mb\']:,.0f} MiB: {first[\'tokens_per_s\']:,.0f} tokens/s "\n'
        '      f"(x{first[\'tokens_per_s\'] / m.tokens_per_s:.1f}) on a {first[\'die_area_mm2\']:,.0f} mm2 die, "\n'
        '      f"feasible: {bool(first[\'feasible\'])} ({first[\'violations\'] or \'none\'})")\n'
        'print(f"largest feasible SRAM: {out[\'sram_mb\'][ok].max():,.0f} MiB")'
    ),
    new_code_cell(
        "clock = np.linspace(0.6, 2.4, 19)\n"
        "designs = pd.DataFrame([chip.replace(clock_ghz=float(f)).to_dict() for f in clock])\n"
        "prefill = dse.evaluate_many(designs, 'llm-prefill:llama-3-8b:batch=1,seq=2048')\n"
        "timing = prefill['violations'].str.contains('timing')  # beyond the node's f_max at V_max\n"
        "fig, ax = plt.subplots(figsize=(6, 4), constrained_layout=True)\n"
        "ax.plot(prefill['clock_ghz'][~timing], prefill['sustained_clock_ghz'][~timing], 'o-', label='sustained clock')\n"
        "ax.plot(prefill['clock_ghz'][timing], prefill['sustained_clock_ghz'][timing], 'x', color='C3', label='infeasible: timing')\n"
        "ax.plot(clock, clock, ':', color='0.5', label='declared clock')\n"
        "ax.set(xlabel='clock_ghz (declared max) [GHz]', ylabel='sustained_clock_ghz [GHz]', title='prefill: the node caps the clock, the 400 W cap throttles it')\n"
        "ax.legend(); ax.grid(alpha=0.3)\n"
        "prefill[['clock_ghz', 'sustained_clock_ghz', 'core_voltage_v', 'power_w', 'junction_temp_c', 'tokens_per_s', 'violations']].round(3)"
    ),
    new_markdown_cell(
        '## The same design on other nodes\n'
        '\n'
        "How much does the older node cost? Same cores, SRAM, memory and TDP, on every node in the table. Only dies that can be built are ranked by price: a die above the node's reticle, or a clock the node cannot reach, is listed apart with what it breaks."
    ),
    new_code_cell(
        'tech = dse.default_tech()\n'
        'designs = pd.DataFrame([chip.replace(node=n).to_dict() for n in tech.node_ids])\n'
        "by_node = dse.evaluate_many(designs, wl).set_index('node')\n"
        "cols = ['die_area_mm2', 'yield', 'unit_cost_usd', 'tokens_per_s', 'energy_per_item_j', 'export_class']\n"
        "buildable = by_node[by_node['feasible']]\n"
        "display(buildable[cols].sort_values('unit_cost_usd').round(3))\n"
        "by_node.loc[~by_node['feasible'], ['die_area_mm2', 'violations']].round(1)"
    ),
]


STUDY_END_TO_END = [
    new_markdown_cell(
        "# A study end to end\n\n"
        "Which LLM-decode chip should a PRC designer build in 2025 with only SMIC's 7 nm-class "
        "nodes, domestic memories (plus a capped HBM2E stockpile) and 400 W of air cooling? This "
        "notebook runs a small search of `studies/domestic_7nm_decode_400w.toml`, loads the Pareto "
        "set, picks a design and explains why it wins: what it trades against its Pareto "
        "neighbours and against the best design of each objective, its roofline, and which limits "
        "bind. Only the public API is used (`dse.*`, `dse.report`, `dse.plots`)."
    ),
    new_code_cell(
        "import tempfile\n"
        "from pathlib import Path\n\n"
        "import matplotlib.pyplot as plt\n"
        "import numpy as np\n"
        "import pandas as pd\n\n"
        "import dse\n"
        "from dse import plots, report\n"
        "from dse.search.pareto import distinct_mask\n\n"
        "# Jupyter runs a notebook in its own folder (notebooks/), so studies/ is next door; the\n"
        "# second place is the source checkout dse is imported from.\n"
        "NAME = 'domestic_7nm_decode_400w.toml'\n"
        "places = [Path.cwd().parent / 'studies', Path(dse.__file__).resolve().parents[1] / 'studies']\n"
        "STUDY = next(d / NAME for d in places if (d / NAME).is_file())\n"
        "OUT = Path(tempfile.mkdtemp(prefix='dse-study-'))  # storage and output files; any folder will do\n\n"
        "study = dse.load_study(STUDY)\n"
        "print(study.description)\n"
        "print('workload:  ', study.workload)\n"
        "print('objectives:', study.objectives)\n"
        "print('searched:  ', {k: str(p) for k, p in study.space.items()})\n"
        "print('limits:    ', {k: v for k, v in study.constraints.items() if k.startswith(('max_', 'min_', 'memory_count'))})"
    ),
    new_markdown_cell(
        "## Run a small study\n\n"
        "300 trials of the study's sampler, dse's Pareto local search, whose first 200 trials are "
        "mostly proposed from Gaussian-process models (the file asks for 2,000; "
        "about 30 s here). With `out=` the "
        "trials go to a journal file `OUT/study.journal`: calling `run_study` again with more "
        "trials resumes the study, and `optuna-dashboard OUT/study.journal` browses it. "
        "`progress=True` (the default) shows a bar with the ETA and the best values so far."
    ),
    new_code_cell(
        "result = dse.run_study(study, trials=300, out=OUT, progress=False)\n"
        "print(f'{result.n_evaluated} trials, {result.n_feasible} feasible, {len(result.pareto)} Pareto-optimal '\n"
        "      f'in {result.elapsed:.1f} s; storage {result.storage}')"
    ),
    new_markdown_cell(
        "## The Pareto set\n\n"
        "`result.pareto` holds the feasible non-dominated designs (one row per distinct design), "
        "`result.designs` every trial, both as DataFrames keyed by chip keys and metric names. "
        "`plots.axis_label` adds the unit to a name, as in the CSV headers."
    ),
    new_code_cell(
        "objectives = result.objectives  # metric -> 'minimize' / 'maximize'\n"
        "names = list(objectives)\n"
        "knobs = list(study.space)\n"
        "P = result.pareto\n"
        "show = ['trial', *knobs, *names, 'die_area_mm2', 'power_w']\n"
        "P[show].rename(columns=plots.axis_label).round(4)"
    ),
    new_markdown_cell(
        "## Pick a design: the knee\n\n"
        "`report.choose_design` scales every objective to [0, 1] over the Pareto set (0 = the best "
        "value on the front, 1 = the worst) and returns the design closest to the ideal point where "
        "all are 0: the *knee*, which gives up the least on all objectives at once. The plots put "
        "the first objective against each of the others: grey infeasible, blue dominated, red the "
        "2-D front, the star the knee (a design of the 3-D Pareto set need not be on every 2-D front)."
    ),
    new_code_cell(
        "knee = report.choose_design(P, objectives)\n"
        "fig, axes = plt.subplots(1, len(names) - 1, figsize=(6 * (len(names) - 1), 4.5), constrained_layout=True, squeeze=False)\n"
        "for ax, other in zip(axes[0], names[1:]):\n"
        "    data = plots.pareto_front_data(result.designs, names[0], other, objectives)\n"
        "    plots.plot_pareto_front(data, chosen=knee, ax=ax)\n"
        "knee[['trial', *knobs, *names]]"
    ),
    new_markdown_cell(
        "## Which memory, and what the search spent where\n\n"
        "The Pareto set mixes memories. `plots.node_fronts_data(..., node='memory')` gives each "
        "memory's own best feasible designs for the first two objectives (the figure "
        "`memory_fronts.png` that `dse run` writes; the node has `node_fronts.png`). A memory whose "
        "front lies below and right of another's is the better buy over that range. Counts are of "
        "distinct designs (a design proposed twice counts once), as in `summary.md`. The table "
        "counts, per memory, the trials, the feasible ones and the limit broken most often."
    ),
    new_code_cell(
        "memories = list(study.space['memory'].choices)\n"
        "mem = plots.node_fronts_data(result.designs, names[0], names[1], objectives, node='memory', order=memories)\n"
        "fig, ax = plt.subplots(figsize=(8, 5.5), constrained_layout=True)\n"
        "plots.plot_node_fronts(mem, ax=ax, title=f'Best feasible designs per memory ({names[0]} vs {names[1]})', legend_title='memory')\n\n"
        "def per_memory(designs):\n"
        "    designs = designs[distinct_mask(designs)]  # each design once, as in the legend\n"
        "    def top(v):\n"
        "        parts = pd.Series([p.split(':')[0] for p in ';'.join(v).split(';') if p])\n"
        "        return parts.value_counts().index[0] if len(parts) else ''\n"
        "    t = designs.groupby('memory').agg(designs=('trial', 'size'), feasible=('feasible', 'sum'), most_broken=('violations', top))\n"
        "    ok = designs[designs['feasible']]\n"
        "    t['best tokens/s'] = ok.groupby('memory')[names[0]].max().round(0)\n"
        "    t['least USD per token/s'] = (ok['unit_cost_usd'] / ok[names[0]]).groupby(ok['memory']).min().round(2)\n"
        "    return t.reindex(memories).fillna({'designs': 0, 'feasible': 0})\n\n"
        "shared = per_memory(result.designs)\n"
        "shared"
    ),
    new_markdown_cell(
        "Only the HBM fronts reach the highest tokens/s (the bandwidth of a few stacks), while the "
        "cheapest dollars per token/s come from GDDR6 or LPDDR, whose many channels cost less per "
        "GB/s: the table's last two columns say which, for this run. But HBM2 and HBM2E are capped "
        "at 4 stacks by the scenario (`memory_count_max`) while the study searches 1-16 units for "
        "every memory: 12 of those 16 values break the cap before the model is asked (the table's "
        "`most_broken`), so the search spends some of its HBM trials on designs that cannot be built. A range "
        "per memory fixes that: in the study file, `[space.when.memory.hbm2e]` with `memory_count = "
        "{ low = 1, high = 4, step = 1 }` (and the same for HBM2) replaces the 1-16 range when the "
        "memory is HBM (docs: The study file). The same 300 trials, with that change:"
    ),
    new_code_cell(
        "text = STUDY.read_text()\n"
        "assert text.count('[constraints]') == 1\n"
        "hbm = ''.join(f'[space.when.memory.{m}]\\nmemory_count = {{ low = 1, high = 4, step = 1 }}\\n\\n' for m in ('hbm2e', 'hbm2'))\n"
        "per_memory_file = OUT / 'per_memory_ranges.toml'\n"
        "per_memory_file.write_text(text.replace('[constraints]', hbm + '[constraints]'))\n"
        "conditional = dse.run_study(dse.load_study(per_memory_file), trials=300, progress=False)\n"
        "both = pd.concat({'one range': shared, 'a range per memory': per_memory(conditional.designs)}, axis=1)\n"
        "display(both)\n"
        "for m in ('hbm2e', 'hbm2'):\n"
        "    print(f\"{m}: {both.loc[m, ('one range', 'feasible')]:.0f} -> {both.loc[m, ('a range per memory', 'feasible')]:.0f} feasible designs; \"\n"
        "          f\"Pareto designs {int((result.pareto['memory'] == m).sum())} -> {int((conditional.pareto['memory'] == m).sum())}\")"
    ),
    new_markdown_cell(
        "No HBM trial breaks the cap any more. The budget also moves: the search spends trials where "
        "the front improves, so the count per memory says where the search looked, not how good "
        "a memory is (one seed, 300 trials); the fronts per memory answer that question."
    ),
    new_markdown_cell(
        "## Why the knee wins (1): against its Pareto neighbours\n\n"
        "In the scaled objectives `z` every Pareto design is a point of the unit cube; `to_ideal` "
        "is its distance to the ideal corner, the quantity the knee minimises. Its nearest "
        "neighbours on the front are the designs one would otherwise pick: each buys something "
        "(a better value of one objective, at times by less than 0.05 %, which the lines below "
        "print as 'gains nothing') with something else, and ends further from the ideal."
    ),
    new_code_cell(
        "sign = np.array([1.0 if objectives[m] == 'minimize' else -1.0 for m in names])\n"
        "f = P[names].to_numpy(float) * sign  # every objective to minimise\n"
        "span = f.max(axis=0) - f.min(axis=0)\n"
        "z = (f - f.min(axis=0)) / np.where(span > 0, span, 1.0)\n"
        "k = P.index.get_loc(knee.name)\n"
        "scaled = P.assign(**{f'z {m}': z[:, j] for j, m in enumerate(names)},\n"
        "                  to_ideal=np.linalg.norm(z, axis=1), from_knee=np.linalg.norm(z - z[k], axis=1))\n"
        "near = scaled.sort_values('from_knee').head(5)\n"
        "near[['trial', *knobs, *[f'z {m}' for m in names], 'to_ideal']].round(3)"
    ),
    new_code_cell(
        "def change(row, ref):\n"
        '    """Relative change of each objective from ref to row [%]."""\n'
        "    return {m: 100 * (row[m] / ref[m] - 1) for m in names}\n\n"
        "def better(m, pct):\n"
        "    return (pct < 0) == (objectives[m] == 'minimize')\n\n"
        "def fmt(v):\n"
        "    return v if isinstance(v, str) else f'{v:g}'\n\n"
        "for _, row in near.iloc[1:].iterrows():\n"
        "    d = change(row, knee)\n"
        "    gains = [f'{m} {d[m]:+.1f} %' for m in names if abs(d[m]) > 0.05 and better(m, d[m])]\n"
        "    costs = [f'{m} {d[m]:+.1f} %' for m in names if abs(d[m]) > 0.05 and not better(m, d[m])]\n"
        "    diff = [f'{c}={fmt(row[c])}' for c in knobs if row[c] != knee[c]]\n"
        "    print(f\"trial {row['trial']} ({', '.join(diff) or 'same knobs'}): gains {', '.join(gains) or 'nothing'}; \"\n"
        "          f\"pays {', '.join(costs) or 'nothing'}; {row['to_ideal']:.3f} from the ideal vs {scaled['to_ideal'].iloc[k]:.3f}\")"
    ),
    new_markdown_cell(
        "## Why the knee wins (2): what it gives up against the best design of each objective\n\n"
        "Each extreme of the front is the best design for one objective and pays for it in at "
        "least one of the others. The knee is judged by how much of each best value it keeps and how much cheaper "
        "it is in the other objectives."
    ),
    new_code_cell(
        "best = {f'best {m}': P.loc[(P[m] * s).idxmin()] for m, s in zip(names, sign)}\n"
        "cols = ['trial', *knobs, *names, 'die_area_mm2', 'power_w', 'sustained_clock_ghz', 'memory_bandwidth_gbps']\n"
        "table = pd.DataFrame({'knee': knee, **best}).T[cols]\n"
        "display(table.rename(columns=plots.axis_label))\n"
        "for label, b in best.items():\n"
        "    m = label.removeprefix('best ')\n"
        "    d = change(knee, b)\n"
        "    gets = ', '.join(f\"{o} {d[o]:+.0f} % ({'better' if better(o, d[o]) else 'worse'})\" for o in names if o != m)\n"
        "    print(f\"vs the {label} design (trial {b['trial']}): the knee's {m} is {d[m]:+.0f} %; in exchange {gets}\")"
    ),
    new_markdown_cell(
        "## The knee's roofline: what bounds the workload\n\n"
        "`report.chip_from_row` turns the row back into a chip; `dse.op_breakdown` and "
        "`dse.roofline_ceilings` place every op of the decode step on that chip's roofline (disc "
        "area: the op's share of the step time; colour: the bound). `dse.evaluate` of the same chip "
        "reproduces the numbers of the Pareto table: the table is traceable to the model."
    ),
    new_code_cell(
        "chip = report.chip_from_row(knee, study, name=f\"knee (trial {knee['trial']})\")\n"
        "ops = dse.op_breakdown(chip, study.workload)\n"
        "ceilings = dse.roofline_ceilings(chip, study.workload)\n"
        "fig, ax = plt.subplots(figsize=(10, 5.5), constrained_layout=True)\n"
        "plots.plot_roofline(plots.roofline_data(ops, ceilings), ax=ax, title=f'{chip.name}: {study.workload}')\n"
        "share = ops.groupby('bound')['total_time_s'].sum() / ops['total_time_s'].sum()\n"
        "m = dse.evaluate(chip, study.workload).to_dict()\n"
        "check = pd.DataFrame({'Pareto table': knee[names].astype(float), 'dse.evaluate': pd.Series({n: m[n] for n in names})})\n"
        "assert np.allclose(check.iloc[:, 0], check.iloc[:, 1], rtol=1e-9)\n"
        "display(check)\n"
        "share.rename('share of the step time').round(3)"
    ),
    new_markdown_cell(
        "## Which limits bind\n\n"
        "`report.binding_constraints` lists the limits a design sits on (`active`) or within 5 % "
        "of (`near-binding`): the study's `max_`/`min_` limits, the TDP, Tj max, the reticle, DVFS "
        "throttling, the scenario's memory supply cap, and, given the search space, the ends of the "
        "searched ranges (`space edge`: the study's space, not the physics, may be what stops the "
        "design; widen that range to find out)."
    ),
    new_code_cell(
        "binding = pd.concat(\n"
        "    {label: report.binding_constraints(r, study.constraints, space=study.space) for label, r in {'knee': knee, **best}.items()},\n"
        "    names=['design', None],\n"
        ")\n"
        "binding.droplevel(1)[['limit', 'status', 'value', 'bound', 'slack']].round(3)"
    ),
    new_code_cell(
        "# every limit of the knee, however far: the margin that is left\n"
        "report.binding_constraints(knee, study.constraints, within=np.inf)[['limit', 'value', 'bound', 'slack']].round(3)"
    ),
    new_code_cell(
        "bound = share.idxmax()\n"
        "edges = binding.loc['knee'].query(\"status == 'space edge'\")['limit'].tolist()\n"
        "active = binding.loc['knee'].query(\"status in ('active', 'near-binding', 'throttled')\")['limit'].tolist()\n"
        "print(f\"The knee (trial {knee['trial']}) spends {share.max():.0%} of the decode step {bound}-bound.\")\n"
        "print('Limits it sits on:', ', '.join(active) or 'none of the physical or study limits')\n"
        "print('Ends of the search space it sits on:', ', '.join(edges) or 'none')"
    ),
    new_markdown_cell(
        "**Reading it.** Decode at batch 16 reads every weight once per step, so its ops sit far "
        "left of the ridge and memory bandwidth sets the pace; compute beyond what the bandwidth "
        "can feed only adds area, cost and leakage. The knee therefore buys bandwidth where it is "
        "cheap per GB/s and keeps the die small, while the fastest design pays for HBM "
        "stacks and the cheapest one gives up most of the throughput. When the knee sits at the end "
        "of a searched range, the next question is the study's, not the chip's: widen that range "
        "(and run more trials: 300 is a demonstration, the study file asks for 2,000)."
    ),
    new_markdown_cell(
        "## Files for colleagues\n\n"
        "`report.write_outputs` writes what `dse run` writes: `pareto.csv` and `trials.csv` (units in "
        "the column names) each with a `.meta.json` sidecar (dse version, study file and its "
        "SHA-256, scenario, seed, sampler, trials, environment and a command that reruns it), the "
        "plots and `summary.md`."
    ),
    new_code_cell(
        "files = report.write_outputs(result, OUT, chosen=knee)\n"
        "print('\\n'.join(str(p) for p in files.values()))\n"
        "meta = report.read_csv_metadata(files['pareto'])\n"
        "print('\\nrerun:', meta['rerun'])\n"
        "print('study sha256:', meta['study']['file']['sha256'])\n"
        "print('browse the trials: optuna-dashboard', result.storage)"
    ),
]


#: the text twin of every notebook (jupytext "percent" script): what a diff reads
PAIRED_FORMAT = "py:percent"


def write(name: str, cells: list) -> Path:
    """Write ``name`` (.ipynb) and its paired script (.py, jupytext percent format)."""
    import jupytext

    for i, cell in enumerate(cells):
        cell.id = f"cell-{i:02d}"  # stable ids: regenerating changes nothing
    nb = new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "jupytext": {"formats": f"ipynb,{PAIRED_FORMAT}"},
        },
    )
    path = ROOT / name
    nbformat.write(nb, path)
    jupytext.write(nb, path.with_suffix(".py"), fmt=PAIRED_FORMAT)
    return path


#: every notebook this script writes: file name -> cells
NOTEBOOKS = {
    "01_explore_one_design.ipynb": EXPLORE,
    "02_study_end_to_end.ipynb": STUDY_END_TO_END,
}


def main() -> None:
    ROOT.mkdir(exist_ok=True)
    for name, cells in NOTEBOOKS.items():
        print(write(name, cells))


if __name__ == "__main__":
    main()
