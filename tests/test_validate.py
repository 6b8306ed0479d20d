"""`dse validate`: the reference-chip table, its files and the error table."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from conftest import run_cli

import dse
from dse.analysis.fidelity import (
    DIE_VALUED,
    QUALITIES,
    REFERENCE_DIR,
    ROLES,
    error_summary,
    load_reference_table,
    reference_chips,
    validation_table,
)
from dse.errors import DseInputError

# Issue 4: at least these chips, each as a chip file plus published numbers.
REQUIRED_CHIPS = (
    "a100",
    "h100",
    "t4",
    "l4",
    "tpuv4i",
    "groq-tsp",
    "tesla-d1",
    "mtia-v2",
    "wormhole-n150",
)


@pytest.fixture(scope="module")
def table():
    return load_reference_table()


@pytest.fixture(scope="module")
def frame():
    return validation_table()


def test_every_required_chip_has_a_file_and_published_numbers(table):
    chips = reference_chips()
    for key in REQUIRED_CHIPS:
        assert key in chips, key
        rows = table[table["chip"] == key]
        assert {"peak_tflops"} <= set(rows["metric"]), key
    assert set(table["chip"]) <= set(chips)


def test_reference_rows_are_sourced_and_classified(table):
    assert set(table["quality"]) <= set(QUALITIES)
    assert set(table["role"]) <= set(ROLES)
    assert table["source"].str.len().min() > 20  # a real citation, not a placeholder
    # die areas are compared on the dies as manufactured (reference_dies.csv), not here
    assert "die_area_mm2" not in set(table["metric"])


def test_die_area_rows_are_the_reference_dies_with_fit_and_held_out_sets(frame):
    area = frame[frame["metric"] == "die_area_mm2"]
    dies = dse.analysis.fidelity.load_reference_dies()
    used = dies[dies["role"] != "excluded"]
    assert list(area["chip"]) == list(used["key"])
    assert set(area["family"]) == {"gpu", "systolic", "manycore", "dataflow"}
    valued = area[area["quality"].isin(DIE_VALUED)]
    for role in ("fit", "held-out"):  # both sets span every family
        assert valued.loc[valued["role"] == role, "family"].nunique() == 4, role
    # harvested parts are compared with every core on the die: GA100 128 SMs (A100
    # enables 108), GH100 144 (H100: 132), Wormhole 80 Tensix cores (n150: 72)
    cores = used.set_index("key")["cores"]
    assert (cores["nvidia-ga100"], cores["nvidia-gh100"], cores["tenstorrent-wormhole"]) == (128, 144, 80)
    chips = reference_chips()
    assert chips["a100"].cores < cores["nvidia-ga100"] and chips["h100"].cores < cores["nvidia-gh100"]


def test_peak_is_exact_by_construction(frame):
    # Peak = 2 x cores x MACs x clock from the published core count, MACs and clock; the
    # residual is the datasheet's own rounding to 3 significant digits (< 0.5 %).
    peaks = frame[frame["metric"] == "peak_tflops"]
    assert set(peaks["chip"]) >= set(REQUIRED_CHIPS)
    assert (peaks["abs_error"] < 0.005).all(), peaks[["chip", "published", "model"]]


def test_memory_bandwidth_is_exact(frame):
    bw = frame[frame["metric"] == "memory_bandwidth_gbps"]
    assert len(bw) >= 7
    assert (bw["abs_error"] < 1e-9).all()


def test_range_rows_report_in_range(frame):
    # TPU v3 die < 700 mm2 (an upper bound): a one-sided range, shown with in_range
    tpu = frame[(frame["chip"] == "google-tpu-v3") & (frame["metric"] == "die_area_mm2")].iloc[0]
    assert tpu["quality"] == "range" and tpu["high"] == 700.0
    assert tpu["in_range"] == (tpu["model"] <= 700.0)
    summary = error_summary(frame)
    area = summary.set_index("metric").loc["die_area_mm2"]
    rows = frame[frame["metric"] == "die_area_mm2"]
    # only exact and analyst areas count: not the one-sided bounds, not the estimates
    assert area["n"] == rows["quality"].isin(DIE_VALUED).sum() < len(rows)


def test_cli_table_and_json():
    proc = run_cli("validate")
    assert proc.returncode == 0, proc.stderr
    assert "| chip | metric |" in proc.stdout and "held-out" in proc.stdout
    assert "median abs error" in proc.stdout
    assert "Die area per architecture family" in proc.stdout and "| manycore |" in proc.stdout
    proc = run_cli("validate", "--json")
    assert proc.returncode == 0, proc.stderr
    d = json.loads(proc.stdout)
    assert {"rows", "summary"} <= set(d)
    row = d["rows"][0]
    for key in ("chip", "metric", "published", "model", "error", "quality", "role", "source"):
        assert key in row
    assert d["summary"]["die_area_mm2"]["held_out_median_abs_error"] is not None
    assert d["summary"]["peak_tflops"]["held_out_median_abs_error"] is None  # NaN -> null


def test_reference_chips_evaluate_on_every_workload_metric(frame):
    for name in ("achieved_tflops", "tokens_per_s", "sustained_clock_ghz", "power_w"):
        rows = frame[frame["metric"] == name]
        assert len(rows) > 0 and (rows["model"] > 0).all(), name


def test_bad_reference_table_is_one_clear_line(tmp_path):
    good = pd.read_csv(dse.analysis.fidelity.REFERENCE_CSV, dtype=str, keep_default_na=False)
    bad = good.copy()
    bad.loc[0, "quality"] = "rumour"
    path = tmp_path / "ref.csv"
    bad.to_csv(path, index=False)
    with pytest.raises(DseInputError, match="quality must be one of") as exc:
        load_reference_table(path)
    assert "\n" not in str(exc.value)
    bad = good.copy()
    bad.loc[0, "source"] = ""
    bad.to_csv(path, index=False)
    with pytest.raises(DseInputError, match="needs a source"):
        load_reference_table(path)
    with pytest.raises(DseInputError, match="cannot read"):
        load_reference_table(tmp_path / "missing.csv")


def test_reference_chip_files_are_contract_chip_files():
    for path in sorted(REFERENCE_DIR.glob("*.toml")):
        proc = run_cli("evaluate", str(path), "--json")
        assert proc.returncode == 0, (path, proc.stderr)
