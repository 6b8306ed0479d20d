"""Per-row bands on the held-out rows of ``dse validate``: a model that gets worse on any
one published chip fails ``tests/test_validate_bands.py``.

The median error of a metric hides a single row made much worse; this script keeps, for
every held-out row of :func:`dse.analysis.fidelity.validation_table` (die areas, LLM decode and
prefill step times, ResNet-50 rates, power and idle power, GEMM rates), its current
signed relative error and a band around it:

    band = [error - tolerance, error + tolerance],  tolerance = TOLERANCE[quality]

The tolerance is set by the row's data quality (``quality`` column of
``dse/data/reference_chips.csv`` / ``area_quality`` of ``reference_dies.csv``): a
datasheet value (``exact``) is one number the model must keep to 3 points; die-shot
areas (``analyst``), numbers derived from other published numbers (``derived``) and
third-party benchmark measurements (``measured``; MLPerf and LLM-serving runs repeat to a
few percent) to 5 points; ``marketing`` ("up to"), ``range`` rows and estimated die areas
(``estimate``: a press figure, shown but not counted in the medians) to 10 points. The
band is two-sided: a row that moves by more than its tolerance either way is a change of
the model that someone must look at, then accept by regenerating the table.

Usage::

    python scripts/validate_bands.py            # check: list rows outside their band, exit 1 if any
    python scripts/validate_bands.py --write    # regenerate tests/data/validate_bands.csv

Regenerate after a deliberate physics or calibration change (a refit of the area model
moves the die-area rows) and say in the commit how the rows moved (``--write`` prints
every row whose error moved by more than 0.1 point).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
BANDS = ROOT / "tests" / "data" / "validate_bands.csv"
#: band half-width per data quality [fraction, absolute points of relative error]
TOLERANCE = {
    "exact": 0.03,
    "analyst": 0.05,
    "derived": 0.05,
    "measured": 0.05,
    "marketing": 0.10,
    "range": 0.10,
    "estimate": 0.10,
}
#: a row's key; ``n`` numbers the rows that share chip, metric and workload (two serving
#: stacks timing the same batch), in the order of the reference table
KEY = ["chip", "metric", "workload", "n"]
COLUMNS = [*KEY, "quality", "published", "error", "low", "high", "tolerance"]


def held_out_rows(frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """The held-out rows of the validation table with a finite error, one per key."""
    if frame is None:
        from dse.analysis.fidelity import validation_table

        frame = validation_table()
    rows = frame[(frame["role"] == "held-out") & np.isfinite(frame["error"])].copy()
    rows["n"] = rows.groupby(KEY[:3]).cumcount()
    return rows.reset_index(drop=True)


def make_bands(frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """The band table of the current model: one row per held-out row."""
    rows = held_out_rows(frame)
    tol = rows["quality"].map(TOLERANCE)
    if tol.isna().any():
        raise ValueError(f"no tolerance for quality '{rows.loc[tol.isna(), 'quality'].iloc[0]}'")
    return pd.DataFrame(
        {
            **{k: rows[k] for k in KEY}, "quality": rows["quality"], "published": rows["published"],
            "error": rows["error"].round(6), "low": (rows["error"] - tol).round(6),
            "high": (rows["error"] + tol).round(6), "tolerance": tol,
        }
    )  # fmt: skip


def read_bands(path: Path = BANDS) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"workload": str}, keep_default_na=False, na_values={"error": [""]})


def out_of_band(frame: pd.DataFrame | None = None, bands: pd.DataFrame | None = None) -> list[str]:
    """One line per held-out row outside its band, or missing from either side.

    Each line names the row (chip, metric, workload), its error now and its band.
    """
    rows = held_out_rows(frame)
    bands = read_bands() if bands is None else bands
    band = bands[[*KEY, "quality", "error", "low", "high", "tolerance"]].rename(columns={"error": "error_band"})
    merged = rows[[*KEY, "error"]].merge(band, on=KEY, how="outer", indicator=True)
    problems = []
    for _, r in merged.iterrows():
        name = f"{r['chip']} {r['metric']}" + (f" [{r['workload']}]" if r["workload"] else "")
        name += f" (#{int(r['n']) + 1})" if r["n"] else ""
        if r["_merge"] == "left_only":
            problems.append(f"{name}: held-out row with no band (regenerate: python scripts/validate_bands.py --write)")
        elif r["_merge"] == "right_only":
            problems.append(f"{name}: band for a row that is no longer held out (regenerate the table)")
        elif not (r["low"] <= r["error"] <= r["high"]):
            problems.append(
                f"{name}: error {r['error']:+.1%} outside its band [{r['low']:+.1%}, {r['high']:+.1%}] "
                f"(was {r['error_band']:+.1%}, {r['quality']} data, tolerance {r['tolerance']:.0%})"
            )
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"regenerate {BANDS.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    if args.write:
        new = make_bands()
        if BANDS.exists():
            old = read_bands()
            moved = new.merge(old, on=KEY, how="left", suffixes=("", "_old"))
            moved = moved[(moved["error"] - moved["error_old"]).abs().fillna(1.0) > 1e-3]
            for _, r in moved.iterrows():
                print(f"{r['chip']} {r['metric']} {r['workload']} #{r['n']}: {r['error_old']:+.1%} -> {r['error']:+.1%}")
        new.to_csv(BANDS, index=False, float_format="%.6g")
        print(f"wrote {len(new)} bands to {BANDS.relative_to(ROOT)}")
        return 0
    problems = out_of_band()
    for line in problems:
        print(line)
    print(f"{len(problems)} held-out rows outside their bands")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
