"""``report.html``: one self-contained page to explore a study in the browser.

The page holds plotly's JavaScript (no network needed) and the study's data as JSON:
the Pareto fronts as linked scatter plots (hover a design to read its chip keys and
objectives with units, and to see it in the other plots; infeasible designs grey with
their violations), filters by node, memory and feasibility, and a detail panel that
shows the clicked design's key metrics and, for the Pareto set, its roofline, its
power by component and its thermal map (pre-rendered here with the model).

The page is a list of :class:`Section` objects. A section is an id, a title and a
function that returns the section's HTML from the :class:`ReportData`; it may draw
plotly figures with :func:`figure_html`. To add one (e.g. a convergence figure)::

    from dse.report.html import DEFAULT_SECTIONS, Section, figure_html

    def convergence(data):
        fig = {"data": [{"x": [...], "y": [...], "type": "scatter"}],
               "layout": {"xaxis": {"title": {"text": "trials"}}}}
        return figure_html(fig, "convergence-plot")

    sections = [*DEFAULT_SECTIONS, Section("convergence", "Convergence", convergence)]
    write_report(result, out_dir, sections=sections)

(or append it to :data:`DEFAULT_SECTIONS` in this module to have it in every report).
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dse.metrics import unit_of
from dse.report.html_data import (
    DETAIL_MAX,
    REPORT_MAX_POINTS,
    WEBGL_ABOVE,
    ReportData,
    _payload,
    _round,
    report_data,
)

__all__ = [
    "DEFAULT_SECTIONS",
    "Section",
    "figure_html",
    "write_report",
]


@dataclass(frozen=True)
class Section:
    """One section of the page: ``<section id=...><h2>title</h2>html(data)</section>``."""

    id: str
    title: str
    html: Callable[[ReportData], str]


def figure_html(figure: Mapping[str, Any], div_id: str, *, height_px: int = 420) -> str:
    """A plotly figure (``{"data": [...], "layout": {...}}``) as a div and its script."""
    fig = json.dumps(figure, allow_nan=False, default=_json_default)
    return (
        f'<div id="{html.escape(div_id)}" class="plot" style="height:{height_px}px"></div>\n'
        f"<script>(function(){{var f={fig};Plotly.newPlot({json.dumps(div_id)},f.data,"
        f"f.layout||{{}},{{responsive:true,displaylogo:false}});}})();</script>"
    )


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def _header_section(data: ReportData) -> str:
    study = data.study
    obj = ", ".join(
        f"{'maximise' if d == 'maximize' else 'minimise'} {k} [{unit_of(k)}]"
        for k, d in study.objectives.items()
    )
    d = data.designs
    n_feas = int(d["feasible"].sum())
    fixed = ", ".join(f"{k} = {v}" for k, v in study.fixed.items()) or "none"
    cons = ", ".join(f"{k} = {v}" for k, v in study.constraints.items()) or "none"
    drawn = f"<p class='note'>{html.escape(data.note)}</p>" if data.note else ""
    return (
        f"<p><b>{html.escape(study.name)}</b>: {html.escape(study.workload)}; {html.escape(obj)}.</p>"
        f"<p>{data.n_designs:,} designs ({data.kind}); drawn: {len(d):,}, of which {n_feas:,} feasible "
        f"and {int(d['pareto'].sum()):,} on the Pareto front. Fixed: {html.escape(fixed)}. "
        f"Constraints: {html.escape(cons)}.</p>{drawn}"
    )


def _fronts_section(data: ReportData) -> str:
    return (
        "<div id='filters'></div>"
        "<p class='hint'>Hover a design to read it (and to find it in the other plots); "
        "click it to show its details below. Grey: infeasible (hover for the violations); "
        "black-edged: Pareto-optimal; star: the chosen (knee) design; arrow: the selected design.</p>"
        "<div id='fronts'></div>"
        "<div id='hovercard' class='card'>Hover a design.</div>"
    )


def _detail_section(data: ReportData) -> str:
    n = len(data.details)
    return (
        f"<p class='hint'>Roofline, power by component and thermal map are pre-rendered for "
        f"{n:,} Pareto design{'s' if n != 1 else ''}; other designs show their key metrics "
        "(<code>dse evaluate</code> gives the rest).</p>"
        "<div id='detail' class='card'>Click a design.</div>"
        "<div id='detail-plots'><div id='roofline' class='plot'></div>"
        "<div id='power' class='plot'></div><div id='thermal' class='plot'></div></div>"
    )


def _category_fronts_section(data: ReportData) -> str:
    """Each choice's front of a categorical key (memory, ...), as ``<key>_fronts.png``."""
    if not data.category_fronts:
        return "<p class='hint'>The study searches no categorical key besides the node.</p>"
    parts = []
    for key, fr in data.category_fronts.items():
        traces = []
        for choice in fr.nodes:
            g = fr.fronts[fr.fronts["node"] == choice]
            shape = "hv" if fr.directions[0] == "minimize" else "vh"
            n = len(g)
            traces.append(
                {
                    "x": _round(g[fr.x].to_numpy(dtype=float)),
                    "y": _round(g[fr.y].to_numpy(dtype=float)),
                    "mode": "lines+markers",
                    "line": {"shape": shape},
                    "name": f"{choice} ({n} on its front of {fr.counts[choice]:,} feasible designs)",
                    "hovertemplate": f"{choice}<br>%{{x:.4~g}} {unit_of(fr.x)}, "
                    f"%{{y:.4~g}} {unit_of(fr.y)}<extra></extra>",
                }
            )
        axis = {"x": fr.x_label, "y": fr.y_label}
        layout = {
            "title": {"text": f"Best feasible designs per {key}", "font": {"size": 13}},
            "xaxis": {"title": {"text": axis["x"]}, "type": "log" if fr.log_x else "linear"},
            "yaxis": {"title": {"text": axis["y"]}, "type": "log" if fr.log_y else "linear"},
            "legend": {"title": {"text": key}},
            "margin": {"l": 70, "r": 10, "t": 40, "b": 50},
        }
        parts.append(figure_html({"data": traces, "layout": layout}, f"fronts-{key}"))
    return (
        "<p class='hint'>Each choice's own best feasible designs for the first two objectives; "
        "counts are of distinct designs, as in summary.md.</p>" + "\n".join(parts)
    )


def _convergence_section(data: ReportData) -> str:
    """The front's hypervolume against trials, with the convergence verdict."""
    conv = data.convergence
    if data.kind == "grid":
        return "<p class='hint'>An exhaustive grid: its front is exact, there is nothing to converge.</p>"
    if conv is None or not len(conv.trials):
        return "<p class='hint'>No feasible design yet: no front to measure.</p>"
    if conv.warning:
        verdict = f"<p class='warning'><b>Warning:</b> {html.escape(conv.warning)}</p>"
    else:
        verdict = (
            f"<p class='hint'>Converged by the 1 % rule: the last 20 % of the trials moved the "
            f"front's hypervolume by {100 * conv.tail_gain:.2f} %.</p>"
        )
    figure = {
        "data": [{
            "x": [int(t) for t in conv.trials], "y": _round(np.asarray(conv.hv_ratio)),
            "mode": "lines", "name": "hypervolume ratio",
            "hovertemplate": "%{x} trials: %{y:.4f}<extra></extra>",
        }],
        "layout": {
            "xaxis": {"title": {"text": "trials"}},
            "yaxis": {"title": {"text": f"hypervolume / {html.escape(conv.reference)}"}},
            "shapes": [{
                "type": "line", "xref": "x", "yref": "paper", "x0": int(conv.tail_start),
                "x1": int(conv.tail_start), "y0": 0, "y1": 1, "line": {"dash": "dot", "color": "#888"},
            }],
            "margin": {"t": 20},
        },
    }  # fmt: skip
    return verdict + figure_html(figure, "convergence-plot", height_px=320)


#: the sections of every report, in order (append to add one to every report)
DEFAULT_SECTIONS: list[Section] = [
    Section("study", "Study", _header_section),
    Section("pareto-fronts", "Pareto fronts", _fronts_section),
    Section("selected", "Selected design", _detail_section),
    Section("category-fronts", "Fronts per choice", _category_fronts_section),
    Section("convergence", "Convergence", _convergence_section),
]


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:1.2em 2em;color:#222}
h1{font-size:1.4em}h2{font-size:1.15em;border-bottom:1px solid #ddd;padding-bottom:.2em}
.note,.hint{color:#555;font-size:.9em}
.warning{color:#a33;font-size:.95em}
#fronts{display:flex;flex-wrap:wrap;gap:8px}#fronts .plot{flex:1 1 460px;min-width:380px;height:430px}
#detail-plots{display:flex;flex-wrap:wrap;gap:8px}#detail-plots .plot{flex:1 1 420px;min-width:360px;height:400px}
.card{background:#f7f7f9;border:1px solid #e2e2e8;border-radius:6px;padding:.6em .9em;margin:.5em 0;font-size:.88em}
.card table{border-collapse:collapse}.card td{padding:1px 10px 1px 0;vertical-align:top}
.card td.k{color:#555}.viol{color:#a33}
#filters{display:flex;flex-wrap:wrap;gap:1.5em;font-size:.9em;margin:.4em 0}
#filters fieldset{border:1px solid #ddd;border-radius:6px;padding:.3em .7em}
#filters label{margin-right:.7em;white-space:nowrap}
"""


_SCRIPT = r"""
(function(){
const D = JSON.parse(document.getElementById('dse-data').textContent);
const C = D.columns, N = D.n, OBJ = D.objectives;
const sep = s => s.replace(/\B(?=(\d{3})+(?!\d))/g, ',');  // 12345.6 -> 12,345.6
const fmt = v => {
  if (v === null || v === undefined || v === '') return '—';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v !== 'number') return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return v.toPrecision(4);
  if (Number.isInteger(v)) return sep(String(v));
  if (a >= 1) { const [w, f] = String(Number(v.toPrecision(4))).split('.'); return sep(w) + (f ? '.' + f : ''); }
  return v.toPrecision(4);
};
const withUnit = k => { const u = D.units[k]; return u && u !== 'count' ? ' ' + u : ''; };
const get = (k, i) => k in C ? C[k][i] : D.constants[k];
const val = (k, i) => { const v = get(k, i); return fmt(v) + (v === null || v === undefined ? '' : withUnit(k)); };
function hoverText(i, keys) {
  const lines = ['<b>trial ' + C.trial[i] + '</b>' + (C.pareto[i] ? ' (Pareto)' : '') +
                 (C.feasible[i] ? '' : ' <i>infeasible</i>')];
  for (const [k] of OBJ) lines.push(k + ': ' + val(k, i));
  for (const k of keys) lines.push(k + ': ' + val(k, i));
  if (!C.feasible[i] && C.violations[i]) lines.push('<span class="viol">violations: ' + C.violations[i].split(';').join('; ') + '</span>');
  return lines.join('<br>');
}
// the plots' tooltips: the objectives and the chip keys that vary; the card: every chip key
const TEXT = Array.from({length: N}, (_, i) => hoverText(i, D.varying_chip_keys));
// --- filters ---------------------------------------------------------------------
const filt = {};
const F = document.getElementById('filters');
function addBoxes(key, title) {
  if (!C[key]) return;  // one value for all: nothing to filter
  const vals = [...new Set(C[key])];
  if (vals.length < 2) return;
  const fs = document.createElement('fieldset'); fs.innerHTML = '<legend>' + title + '</legend>';
  filt[key] = new Set(vals);
  for (const v of vals) {
    const lab = document.createElement('label');
    const cb = document.createElement('input'); cb.type = 'checkbox'; cb.checked = true;
    cb.dataset.key = key; cb.value = v; cb.className = 'f-' + key;
    cb.addEventListener('change', () => { cb.checked ? filt[key].add(v) : filt[key].delete(v); draw(); });
    lab.appendChild(cb); lab.appendChild(document.createTextNode(' ' + v)); fs.appendChild(lab);
  }
  F.appendChild(fs);
}
addBoxes('node', 'node'); addBoxes('memory', 'memory');
let feasMode = 'all';
(function(){
  const fs = document.createElement('fieldset'); fs.innerHTML = '<legend>feasibility</legend>';
  for (const [v, t] of [['all','all'],['feasible','feasible'],['infeasible','infeasible'],['pareto','Pareto only']]) {
    const lab = document.createElement('label');
    const r = document.createElement('input'); r.type = 'radio'; r.name = 'feas'; r.value = v; r.checked = v === 'all';
    r.id = 'feas-' + v;
    r.addEventListener('change', () => { feasMode = v; draw(); });
    lab.appendChild(r); lab.appendChild(document.createTextNode(' ' + t)); fs.appendChild(lab);
  }
  const cnt = document.createElement('span'); cnt.id = 'shown'; cnt.style.marginLeft = '1em';
  fs.appendChild(cnt); F.appendChild(fs);
})();
function visible(i) {
  for (const k in filt) if (!filt[k].has(C[k][i])) return false;
  if (feasMode === 'feasible') return C.feasible[i];
  if (feasMode === 'infeasible') return !C.feasible[i];
  if (feasMode === 'pareto') return C.pareto[i];
  return true;
}
// --- the fronts ------------------------------------------------------------------
const pairs = [];
for (let a = 0; a < OBJ.length; a++) for (let b = a + 1; b < OBJ.length; b++) pairs.push([OBJ[a][0], OBJ[b][0]]);
if (!pairs.length && OBJ.length === 1) pairs.push([OBJ[0][0], 'trial']);
const label = k => k + (D.units[k] ? ' [' + D.units[k] + ']' : '');
const logAxis = k => D.log_axes[k] ? 'log' : 'linear';
const plots = [];  // {div, kx, ky, where: Map(row -> [curve, point])}
const FR = document.getElementById('fronts');
let selected = null;
function traces(kx, ky, rows) {
  const groups = [[], [], []];  // infeasible, feasible, Pareto
  for (const i of rows) groups[!C.feasible[i] ? 0 : (C.pareto[i] ? 2 : 1)].push(i);
  const mk = (ix, name, marker, gl) => ({type: gl ? 'scattergl' : 'scatter', mode: 'markers', name: name,
    x: ix.map(i => get(kx, i)), y: ix.map(i => get(ky, i)), customdata: ix,
    text: ix.map(i => TEXT[i]), hovertemplate: '%{text}<extra></extra>', marker: marker});
  const t = [mk(groups[0], 'infeasible', {color: '#b8b8b8', size: 4, opacity: 0.45}, D.webgl),
             mk(groups[1], 'feasible', {color: '#4c78a8', size: 5, opacity: 0.6}, D.webgl),
             mk(groups[2], 'Pareto', {color: '#f58518', size: 8, line: {color: '#222', width: 1}})];
  const ch = rows.filter(i => C.trial[i] === D.chosen);
  t.push(mk(ch, 'chosen (knee)', {symbol: 'star', size: 16, color: '#e45756', line: {color: '#222', width: 1}}));
  return [t, groups.concat([ch])];
}
function drawPlot(p, rows) {
  const [t, groups] = traces(p.kx, p.ky, rows);
  p.where = new Map();
  groups.slice(0, 3).forEach((g, c) => g.forEach((i, k) => p.where.set(i, [c, k])));
  const layout = {margin: {l: 70, r: 10, t: 30, b: 50}, hovermode: 'closest', showlegend: true,
    legend: {orientation: 'h', y: -0.22, font: {size: 10}},
    title: {text: p.ky + ' vs ' + p.kx, font: {size: 13}},
    xaxis: {title: {text: label(p.kx)}, type: p.xt, range: D.ranges[p.kx]},
    yaxis: {title: {text: label(p.ky)}, type: p.yt, range: D.ranges[p.ky]},
    hoverlabel: {align: 'left', font: {size: 11}}, annotations: ringAnnotation(p)};
  return Plotly.react(p.div, t, layout, {responsive: true, displaylogo: false});
}
pairs.forEach(([kx, ky], n) => {
  const div = document.createElement('div'); div.className = 'plot'; div.id = 'front-' + n; FR.appendChild(div);
  plots.push({div: div, kx: kx, ky: ky, xt: logAxis(kx), yt: logAxis(ky), where: new Map()});
});
let linking = false;
function draw() {
  const rows = []; for (let i = 0; i < N; i++) if (visible(i)) rows.push(i);
  document.getElementById('shown').textContent = sep(String(rows.length)) + ' of ' + sep(String(N)) + ' shown';
  return Promise.all(plots.map(p => drawPlot(p, rows)));
}
const card = document.getElementById('hovercard');
function onHover(p, ev) {
  const pt = ev.points[0]; if (!pt || pt.customdata === undefined) return;
  const i = pt.customdata;
  card.innerHTML = hoverText(i, D.varying_chip_keys) + constantsLine();
  if (linking) return;
  linking = true;
  for (const q of plots) if (q !== p) {
    const w = q.where.get(i);
    if (w) Plotly.Fx.hover(q.div, [{curveNumber: w[0], pointNumber: w[1]}]); else Plotly.Fx.unhover(q.div);
  }
  linking = false;
}
// --- the detail panel ------------------------------------------------------------
const DET = document.getElementById('detail');
function constantsLine() {
  const ks = Object.keys(D.constants);
  return ks.length ? '<p class="hint">Same for every design drawn: ' +
    ks.map(k => k + ' ' + fmt(D.constants[k]) + withUnit(k)).join(', ') + '.</p>' : '';
}
function row(k, i) { return '<tr><td class="k">' + k + '</td><td>' + val(k, i) + '</td></tr>'; }
function ringAnnotation(p) {
  // the selected design: an arrow and its trial number (a layout change: no redraw of the points)
  const i = selected;
  if (i === null || !visible(i)) return [];
  const pos = (k, t) => { const v = get(k, i); return t === 'log' ? Math.log10(v) : v; };
  return [{x: pos(p.kx, p.xt), y: pos(p.ky, p.yt), xref: 'x', yref: 'y', text: 'trial ' + C.trial[i],
           showarrow: true, arrowhead: 2, arrowwidth: 2, arrowcolor: '#000', ax: 30, ay: -35,
           font: {size: 11}, bgcolor: 'rgba(255,255,255,0.85)', bordercolor: '#000', name: 'selected'}];
}
function markSelected() {
  return Promise.all(plots.map(p => Plotly.relayout(p.div, {annotations: ringAnnotation(p)})));
}
function select(i) {
  selected = i;
  const trial = C.trial[i];
  let h = '<b>trial ' + trial + '</b>' + (C.pareto[i] ? ' — Pareto-optimal' : '') +
          (trial === D.chosen ? ' — the chosen (knee) design' : '') + (C.feasible[i] ? '' : ' — <span class="viol">infeasible</span>');
  h += '<table><tr><td><table>' + D.varying_chip_keys.map(k => row(k, i)).join('') + '</table></td><td><table>' +
       OBJ.map(([k]) => row(k, i)).join('') + D.metrics.filter(k => k in C).map(k => row(k, i)).join('') +
       '</table></td></tr></table>' + constantsLine();
  if (C.violations[i]) h += '<p class="viol">violations: ' + C.violations[i].split(';').join('; ') + '</p>';
  const det = D.details[String(trial)];
  if (!det) h += '<p class="hint">No pre-rendered roofline, power split or thermal map for this design (only for the Pareto set).</p>';
  else for (const e of det.errors) h += '<p class="viol">' + e + '</p>';
  DET.innerHTML = h;
  drawDetail(det);
  return markSelected();
}
function drawDetail(det) {
  const ids = ['roofline', 'power', 'thermal'];
  for (const id of ids) { const el = document.getElementById(id); Plotly.purge(el); el.style.display = det ? '' : 'none'; }
  if (!det) return;
  if (det.roofline) {
    const r = det.roofline, [x0, x1] = r.x_range;
    const xs = []; for (let k = 0; k <= 60; k++) xs.push(x0 * Math.pow(x1 / x0, k / 60));
    const roof = (bw) => xs.map(x => Math.min(r.peak_tflops, x * bw / 1e3));
    const t = [{x: xs, y: roof(r.dram_gbps), mode: 'lines', name: 'DRAM roof ' + fmt(r.dram_gbps) + ' GB/s', line: {color: '#4c78a8'}}];
    if (r.sram_gbps) t.push({x: xs, y: roof(r.sram_gbps), mode: 'lines', name: 'SRAM roof ' + fmt(r.sram_gbps) + ' GB/s', line: {color: '#72b7b2', dash: 'dash'}});
    t.push({x: r.x, y: r.y, mode: 'markers', name: 'ops', text: r.op.map((o, k) => o + ' (' + r.bound[k] + '-bound, ' + (100 * r.share[k]).toFixed(1) + ' % of the step)'),
            hovertemplate: '%{text}<br>%{x:.3g} FLOP/byte, %{y:.3g} TFLOP/s<extra></extra>',
            marker: {size: r.share.map(s => 6 + 30 * Math.sqrt(s)), color: '#f58518', line: {color: '#222', width: 1}}});
    Plotly.newPlot('roofline', t, {title: {text: 'Roofline at the sustained clock (peak ' + fmt(r.peak_tflops) + ' TFLOP/s)', font: {size: 13}},
      xaxis: {type: 'log', title: {text: 'intensity [FLOP/byte off-chip]'}, range: [Math.log10(x0), Math.log10(x1)]},
      yaxis: {type: 'log', title: {text: 'achieved [TFLOP/s]'}, range: r.y_range.map(Math.log10)},
      margin: {l: 60, r: 10, t: 30, b: 50}, legend: {orientation: 'h', y: -0.25, font: {size: 10}}}, {displaylogo: false, responsive: true});
  }
  if (det.power) {
    const p = det.power;
    Plotly.newPlot('power', [{type: 'bar', orientation: 'h', y: p.component, x: p.power_w,
      text: p.share.map(s => (100 * s).toFixed(1) + ' %'), textposition: 'auto',
      customdata: p.heats, hovertemplate: '%{y}: %{x:.3g} W (%{text}), heats the %{customdata}<extra></extra>',
      marker: {color: p.heats.map(h => h === 'die' ? '#e45756' : h === 'memory' ? '#4c78a8' : '#9d9d9d')}}],
      {title: {text: 'Power by component [W] (red: die, blue: memory, grey: board)', font: {size: 13}},
       yaxis: {autorange: 'reversed', automargin: true}, xaxis: {title: {text: 'power [W]'}},
       margin: {l: 10, r: 10, t: 30, b: 50}}, {displaylogo: false, responsive: true});
  }
  if (det.thermal) {
    const th = det.thermal, [x0, x1, y0, y1] = th.extent_mm, ny = th.z.length, nx = th.z[0].length;
    const xs = Array.from({length: nx}, (_, k) => x0 + (k + 0.5) * (x1 - x0) / nx);
    const ys = Array.from({length: ny}, (_, k) => y0 + (k + 0.5) * (y1 - y0) / ny);
    const shapes = th.blocks.map(b => ({type: 'rect', x0: b[2], y0: b[3], x1: b[2] + b[4], y1: b[3] + b[5],
      line: {color: 'rgba(255,255,255,0.6)', width: 1}}));
    Plotly.newPlot('thermal', [{type: 'heatmap', x: xs, y: ys, z: th.z, colorscale: 'Inferno',
      colorbar: {title: {text: '°C'}}, hovertemplate: 'x %{x:.1f} mm, y %{y:.1f} mm: %{z:.1f} °C<extra></extra>'},
      {x: [th.peak_xy_mm[0]], y: [th.peak_xy_mm[1]], mode: 'markers', marker: {symbol: 'x', size: 12, color: '#0ff'},
       hovertemplate: 'hot spot %{text}<extra></extra>', text: [fmt(th.peak_c) + ' °C'], showlegend: false}],
      {title: {text: 'Thermal map: hot spot ' + fmt(th.peak_c) + ' °C, die mean ' + fmt(th.mean_c) + ' °C' + (th.runaway ? ' (thermal runaway)' : ''), font: {size: 13}},
       xaxis: {title: {text: 'x [mm]'}, constrain: 'domain'}, yaxis: {title: {text: 'y [mm]'}, scaleanchor: 'x'},
       shapes: shapes, margin: {l: 50, r: 10, t: 30, b: 50}}, {displaylogo: false, responsive: true});
  }
}
draw().then(() => {
  plots.forEach(p => {
    p.div.on('plotly_hover', ev => onHover(p, ev));
    p.div.on('plotly_click', ev => { const pt = ev.points[0]; if (pt && pt.customdata !== undefined) select(pt.customdata); });
  });
  const c = C.trial.indexOf(D.chosen);
  document.body.dataset.frontsMs = performance.now().toFixed(0);
  return c >= 0 ? select(c) : null;
}).then(() => {
  document.body.dataset.loadMs = performance.now().toFixed(0);
  document.body.dataset.ready = '1';
});
})();
"""


def _page(data: ReportData, sections: Sequence[Section], webgl_above: int = WEBGL_ABOVE) -> str:
    import plotly.offline

    payload = json.dumps(
        _payload(data, webgl_above), allow_nan=False, separators=(",", ":"), default=_json_default
    )
    payload = payload.replace("</", "<\\/")  # never closes the script element
    title = html.escape(f"dse report: {data.study.name}")
    nav = " · ".join(f"<a href='#{s.id}'>{html.escape(s.title)}</a>" for s in sections)
    body = "\n".join(
        f"<section id='{s.id}'><h2>{html.escape(s.title)}</h2>\n{s.html(data)}\n</section>"
        for s in sections
    )
    from dse import __version__

    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{title}</title><style>{_CSS}</style>"
        f"<script>{plotly.offline.get_plotlyjs()}</script></head><body>"
        f"<h1>{title}</h1><p class='note'>{nav} · written by dse {__version__}; works offline.</p>"
        f"<script type='application/json' id='dse-data'>{payload}</script>\n{body}\n"
        f"<script>{_SCRIPT}</script></body></html>\n"
    )


def write_report(
    result: Any,
    out_dir: str | Path,
    *,
    chosen: Mapping[str, Any] | None = None,
    sections: Sequence[Section] | None = None,
    max_points: int = REPORT_MAX_POINTS,
    detail_max: int = DETAIL_MAX,
    webgl_above: int = WEBGL_ABOVE,
    convergence: Any = None,
) -> Path:
    """Write ``report.html`` into ``out_dir``.

    Parameters
    ----------
    result : StudyResult
        The study's result (:func:`dse.run_study`, :func:`dse.grid` or :func:`load_result`).
    out_dir : str or pathlib.Path
        Output folder.
    chosen : mapping, optional
        The chosen design (default: the knee of the Pareto set).
    sections : sequence of Section, optional
        The page's sections (default :data:`DEFAULT_SECTIONS`).
    max_points, detail_max : int
        See :func:`report_data`.
    webgl_above : int
        Draw the non-Pareto points with WebGL above this many designs.
    convergence : dse.plots.ConvergenceData, optional
        See :func:`report_data`.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    data = report_data(
        result, chosen=chosen, max_points=max_points, detail_max=detail_max, convergence=convergence
    )
    path = Path(out_dir) / "report.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    page = _page(data, list(sections or DEFAULT_SECTIONS), webgl_above)
    path.write_text(page, encoding="utf-8")
    return path
