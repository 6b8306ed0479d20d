"""Size and load time of ``report.html`` in headless Chromium.

Usage::

    python benchmarks/report_load.py OUT_DIR [OUT_DIR ...] [--repeat 5] [--screenshot PNG]

``OUT_DIR`` is the output folder of ``dse run`` / ``dse grid`` (its ``report.html`` is
loaded as written; ``dse report OUT_DIR`` rebuilds it). For each page the script prints
the file size, the number of designs drawn and, over ``--repeat`` fresh page loads, the
median and range of two times measured in the page (``performance.now()``, from the
start of navigation): the Pareto fronts drawn and interactive, and everything drawn
(the chosen design's roofline, power split and thermal map included). The first load
is reported apart: the browser's caches are cold then.

``--screenshot PNG`` saves the first page of the first report as the README shows it:
the fronts section with the Pareto designs only, the design in the middle of the first
front hovered (its card and the linked tooltips) and clicked (its arrow in every front).

Needs Debian's ``chromium`` and playwright (the ``dev`` extra). The machine's load
matters: say which machine and how busy it was next to the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
from pathlib import Path


def _screenshot(page, png: Path) -> None:
    """The fronts section with the Pareto designs only, the middle design of the first
    front hovered (its card and the linked tooltips) and clicked (its arrow): ``png``."""
    page.click("#feas-pareto")
    page.wait_for_function("document.getElementById('shown').innerText.includes(' of ')")
    n_pareto = int(page.inner_text("#shown").split()[0].replace(",", ""))
    points = page.locator("#front-0 .scatterlayer path.point")  # the Pareto trace first
    box = points.nth(n_pareto // 2).bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.wait_for_function("document.getElementById('hovercard').innerText.includes('(Pareto)')")
    page.mouse.click(x, y)
    page.wait_for_function("document.getElementById('detail').innerText.startsWith('trial')")
    page.wait_for_selector("#front-1 .hoverlayer .hovertext")
    top = page.locator("#fronts").bounding_box()["y"] - 160  # from the section's heading
    page.screenshot(
        path=str(png), full_page=True, clip={"x": 0, "y": top, "width": 1400, "height": 1000}
    )


def main(argv: list[str] | None = None) -> int:
    from playwright.sync_api import sync_playwright

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dirs", nargs="+", type=Path)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument(
        "--screenshot",
        type=Path,
        help="PNG of the first page, a Pareto design picked (1400 x 1000)",
    )
    args = ap.parse_args(argv)
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        raise SystemExit("no chromium on this machine (Debian: apt-get install chromium)")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start\n")
    print("| report | size | designs drawn | first load [s] | fronts [s] | all [s] |")
    print("|---|---:|---:|---:|---:|---:|")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=["--no-sandbox"])
        for n_dir, d in enumerate(args.dirs):
            path = d / "report.html"
            text = path.read_text(encoding="utf-8")
            m = re.search(
                r"<script type='application/json' id='dse-data'>(.*?)</script>", text, re.S
            )
            n = json.loads(m.group(1).replace("<\\/", "</"))["n"] if m else 0
            fronts, total, first = [], [], None
            for k in range(args.repeat + 1):
                page = browser.new_page(viewport={"width": 1400, "height": 1150})
                page.goto(path.resolve().as_uri())
                page.wait_for_selector("body[data-ready='1']", timeout=300_000)
                f = float(page.get_attribute("body", "data-fronts-ms")) / 1e3
                a = float(page.get_attribute("body", "data-load-ms")) / 1e3
                if k == 0:
                    first = a
                    if args.screenshot and n_dir == 0:
                        _screenshot(page, args.screenshot)
                else:
                    fronts.append(f)
                    total.append(a)
                page.close()
            print(
                f"| {d} | {path.stat().st_size / 1e6:.1f} MB | {n:,} | {first:.1f} | "
                f"{statistics.median(fronts):.1f} ({min(fronts):.1f}-{max(fronts):.1f}) | "
                f"{statistics.median(total):.1f} ({min(total):.1f}-{max(total):.1f}) |"
            )
        browser.close()
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
