"""report.html: its data (by value), `dse report DIR`, and the page in a real browser.

The browser test loads the page in headless Chromium (Debian's ``chromium``, driven by
playwright's Python API pointed at that executable) and checks that the points are
drawn, that hovering shows a design, that clicking shows its details and that the page
logs no console error. It is skipped, with the reason, only where no Chromium or no
playwright is installed; under CI (``CI=true``; .ci/run installs both) that is a failure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from dse.report.html import DEFAULT_SECTIONS, Section, figure_html, write_report
from dse.report.html_data import THERMAL_CELLS, load_result
from dse.search.study import load_study

ROOT = Path(__file__).resolve().parents[1]

STUDY = """
[study]
name = "page"
workload = "llm-decode:llama-3-8b:batch=8,context=1024"
trials = 90
seed = 2
sampler = "nsga2"
[study.objectives]
tokens_per_s = "maximize"
unit_cost_usd = "minimize"
energy_per_item_j = "minimize"
[study.sampler_options]
population_size = 15

[fixed]
tdp_w = 350
cooling = "air"

[space]
node = ["smic-n2", "tsmc-n7"]
cores = { low = 16, high = 128, step = 16 }
macs_per_core = [512, 1024, 2048]
clock_ghz = { low = 1.0, high = 2.0, step = 0.5 }
sram_mb = [32, 128]
memory = ["hbm2e", "lpddr5", "gddr6"]
memory_count = { low = 2, high = 8, step = 2 }

[constraints]
max_power_w = 350
max_die_area_mm2 = 600
"""


@pytest.fixture(scope="module")
def study_run(tmp_path_factory):
    """A small study run through `dse run` (so report.html is written with the outputs)."""
    tmp = tmp_path_factory.mktemp("page")
    study = tmp / "page.toml"
    study.write_text(textwrap.dedent(STUDY))
    out = tmp / "out"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run(
        [sys.executable, "-m", "dse", "run", str(study), "--out", str(out), "-q"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert r.returncode == 0, r.stderr
    return study, out


def _payload(page: str) -> dict:
    m = re.search(r"<script type='application/json' id='dse-data'>(.*?)</script>", page, re.S)
    assert m, "no data block"
    return json.loads(m.group(1).replace("<\\/", "</"))


def test_report_is_written_with_the_outputs_and_works_offline(study_run):
    _, out = study_run
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "report.html" in (out / "summary.md").read_text()
    # self-contained: plotly inlined, nothing fetched from a network
    assert "plotly.js" in page.lower() or "Plotly" in page
    assert not re.search(r"<script[^>]+src=", page)
    assert not re.search(r"<link[^>]+href=['\"]?https?:", page)
    assert (out / "report.html").stat().st_size < 10e6


def test_report_data_matches_the_csvs(study_run):
    import pandas as pd

    _, out = study_run
    data = _payload((out / "report.html").read_text(encoding="utf-8"))
    trials = pd.read_csv(out / "trials.csv")
    pareto = pd.read_csv(out / "pareto.csv")
    cols = data["columns"]
    assert data["n"] == len(trials) == 90
    assert cols["trial"] == trials["trial"].tolist()
    on_front = {t for t, p in zip(cols["trial"], cols["pareto"], strict=True) if p}
    assert on_front == set(pareto["trial"])
    feas = trials["feasible"].astype(bool).tolist()
    assert [bool(x) for x in cols["feasible"]] == feas
    # infeasible designs carry their violations, feasible ones none
    for f, v in zip(feas, cols["violations"], strict=True):
        assert (v == "") == f
    # objectives to 5 significant digits
    for key in ("tokens_per_s", "unit_cost_usd", "energy_per_item_j"):
        col = next(c for c in trials.columns if c.split(" [")[0] == key)
        np.testing.assert_allclose(cols[key], trials[col].to_numpy(float), rtol=1e-4)
        assert data["units"][key]
    # fixed keys are stored once
    assert data["constants"]["tdp_w"] == 350 and data["constants"]["cooling"] == "air"
    assert set(data["varying_chip_keys"]) >= {"node", "cores", "memory"}


def test_details_of_the_pareto_set(study_run):
    from dse.chain import power_breakdown, thermal_map
    from dse.report import chip_from_row

    study, out = study_run
    data = _payload((out / "report.html").read_text(encoding="utf-8"))
    cfg = load_study(study)
    pareto = load_result(out).pareto
    assert set(data["details"]) == {str(t) for t in pareto["trial"]}
    assert data["chosen"] in set(pareto["trial"])
    row = pareto.iloc[0]
    det = data["details"][str(int(row["trial"]))]
    assert det["errors"] == []
    chip = chip_from_row(row, cfg, name="x")
    pb = power_breakdown(chip, cfg.workload)
    np.testing.assert_allclose(det["power"]["power_w"], pb["power_w"], rtol=1e-3)
    assert abs(sum(det["power"]["share"]) - 1.0) < 5e-3
    grid, _ = thermal_map(chip, cfg.workload, cells=THERMAL_CELLS)
    assert np.array(det["thermal"]["z"]).shape == (THERMAL_CELLS, THERMAL_CELLS)
    assert abs(det["thermal"]["peak_c"] - grid.peak_c) < 0.01
    assert max(map(max, det["thermal"]["z"])) == pytest.approx(grid.peak_c, abs=0.06)
    r = det["roofline"]
    assert len(r["op"]) == len(r["x"]) == len(r["y"]) > 0
    # no op above its roof: achieved <= min(peak, intensity x DRAM or SRAM bandwidth)
    roof = np.maximum(np.array(r["x"]) * r["dram_gbps"], np.array(r["x"]) * r["sram_gbps"]) / 1e3
    assert np.all(
        np.array(r["y"]) <= np.minimum(r["peak_tflops"], np.maximum(roof, r["y"])) * 1.001
    )
    assert np.all(np.array(r["y"]) <= r["peak_tflops"] * 1.001)


def test_dse_report_rebuilds_the_page(study_run, tmp_path):
    study, out = study_run
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    (copy / "report.html").unlink()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run(
        [sys.executable, "-m", "dse", "report", str(copy)], capture_output=True, text=True, env=env
    )
    assert r.returncode == 0, r.stderr
    a = _payload((out / "report.html").read_text(encoding="utf-8"))
    b = _payload((copy / "report.html").read_text(encoding="utf-8"))
    assert a["columns"] == b["columns"] and a["chosen"] == b["chosen"]
    assert a["details"].keys() == b["details"].keys()


@pytest.mark.parametrize(
    "setup, needle",
    [
        (lambda d: None, "is not a folder"),
        (lambda d: d.mkdir(), "holds no pareto.csv"),
    ],
)
def test_dse_report_bad_folder_is_one_line(tmp_path, setup, needle):
    target = tmp_path / "nothing"
    setup(target)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run(
        [sys.executable, "-m", "dse", "report", str(target)],
        capture_output=True,
        text=True,
        env=env,
    )
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1 and needle in r.stderr


def test_a_section_is_added_with_a_few_lines(study_run, tmp_path):
    study, out = study_run
    result = load_result(out)

    def extra(data):
        fig = {"data": [{"type": "scatter", "x": [1, 2, 3], "y": [3, 1, 2]}], "layout": {}}
        return f"<p>{len(data.designs)} designs</p>" + figure_html(fig, "extra-plot")

    sections = [*DEFAULT_SECTIONS, Section("extra", "An extra section", extra)]
    page = write_report(result, tmp_path, sections=sections).read_text(encoding="utf-8")
    assert "<section id='extra'><h2>An extra section</h2>" in page
    assert "<p>90 designs</p>" in page and 'id="extra-plot"' in page


# --- in a real browser --------------------------------------------------------------


def _browser():
    """Chromium and playwright, or a skip naming what is missing (under CI: a failure)."""
    give_up = pytest.fail if os.environ.get("CI") else pytest.skip
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        give_up("no Chromium on this machine (Debian: apt-get install chromium; .ci/run does)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        give_up("playwright is not installed (pip install -e '.[dev]')")
    return exe, sync_playwright


def test_report_in_headless_chromium(study_run):
    exe, sync_playwright = _browser()
    _, out = study_run
    data = _payload((out / "report.html").read_text(encoding="utf-8"))
    n = data["n"]
    n_pareto = sum(data["columns"]["pareto"])
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.goto((out / "report.html").resolve().as_uri())
        page.wait_for_selector("body[data-ready='1']", timeout=120_000)
        # points drawn: every design once in each front (+ the chosen star)
        n_plots = page.locator("#fronts .plot").count()
        assert n_plots == 3  # three objectives: three pairs
        for k in range(n_plots):
            traces = page.locator(f"#front-{k} .scatterlayer .trace")
            total = sum(traces.nth(c).locator("path.point").count() for c in range(3))
            assert total == n, (k, total, n)
        cols = data["columns"]

        def centre(locator):
            box = locator.bounding_box()
            return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2

        # hover a design: the card shows it (chip keys, objectives with units and, for an
        # infeasible one, its violations); the other plots show their tooltip of it
        page.mouse.move(
            *centre(
                page.locator("#front-0 .scatterlayer .trace").nth(0).locator("path.point").nth(0)
            )
        )
        page.wait_for_function("document.getElementById('hovercard').innerText.startsWith('trial')")
        card = page.inner_text("#hovercard")
        trial = int(re.match(r"trial (\d+)", card).group(1))
        i = cols["trial"].index(trial)
        assert "tokens_per_s:" in card and "tokens/s" in card and "unit_cost_usd:" in card
        assert "cores:" in card and "memory:" in card and "tdp_w 350 W" in card
        assert ("violations:" in card) == (not cols["feasible"][i])
        assert ("infeasible" in card) == (not cols["feasible"][i])
        page.wait_for_selector("#front-1 .hoverlayer .hovertext")
        assert (
            f"trial {trial}" in page.locator("#front-1 .hoverlayer .hovertext").first.text_content()
        )
        # Pareto only: then hover and click a Pareto design
        page.click("#feas-pareto")
        page.wait_for_function(
            f"document.getElementById('shown').innerText.startsWith('{n_pareto} of')"
        )
        shown = page.locator("#front-0 .scatterlayer path.point")
        assert shown.count() == n_pareto + 1  # the front and the star
        x, y = centre(shown.nth(n_pareto // 2))  # the Pareto trace is drawn first
        page.mouse.move(x, y)
        page.wait_for_function(
            "document.getElementById('hovercard').innerText.includes('(Pareto)')"
        )
        trial = int(re.match(r"trial (\d+)", page.inner_text("#hovercard")).group(1))
        page.mouse.click(x, y)
        page.wait_for_function(
            f"document.getElementById('detail').innerText.startsWith('trial {trial}')"
        )
        detail = page.inner_text("#detail")
        assert "Pareto-optimal" in detail and "junction_temp_c" in detail
        for plot in ("roofline", "power", "thermal"):
            page.wait_for_selector(f"#{plot} .main-svg", timeout=30_000)
        assert "hot spot" in page.locator("#thermal").text_content()
        assert "Roofline" in page.locator("#roofline").text_content()
        # an arrow marks it in every front
        for k in range(n_plots):
            notes = page.evaluate(f"document.getElementById('front-{k}').layout.annotations")
            assert [a["text"] for a in notes] == [f"trial {trial}"]
        assert page.locator("#fronts .annotation-text").count() == n_plots
        # all again, then one node off
        page.click("#feas-all")
        node = cols["node"][0]
        page.locator(f"input.f-node[value='{node}']").uncheck()
        left = sum(1 for v in cols["node"] if v != node)
        page.wait_for_function(
            f"document.getElementById('shown').innerText.startsWith('{left} of')"
        )
        browser.close()
    assert problems == []


def test_report_with_webgl_points_in_headless_chromium(study_run, tmp_path):
    """Large studies draw the non-Pareto points with WebGL: the page still draws every
    design, selects by click and logs no console error."""
    exe, sync_playwright = _browser()
    _, out = study_run
    path = write_report(load_result(out), tmp_path, webgl_above=0)
    data = _payload(path.read_text(encoding="utf-8"))
    assert data["webgl"] is True
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.goto(path.resolve().as_uri())
        page.wait_for_selector("body[data-ready='1']", timeout=120_000)
        full = page.evaluate(
            "document.getElementById('front-0')._fullData.map(t => [t.type, t.x.length])"
        )
        assert [t for t, _ in full[:2]] == ["scattergl", "scattergl"]
        assert sum(n for _, n in full[:3]) == data["n"]
        assert page.locator("#front-0 canvas").count() > 0
        # the chosen design is selected on opening, with its details
        assert page.inner_text("#detail").startswith(f"trial {data['chosen']}")
        page.wait_for_selector("#thermal .main-svg")
        browser.close()
    assert problems == []
