"""Bad input gives one clear line on stderr and exit code 2, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_cli

GOOD = """name = "t"
node = "tsmc-n7"
cores = 64
macs_per_core = 1024
clock_ghz = 1.2
sram_mb = 64
memory = "hbm2e"
memory_count = 4
tdp_w = 300
cooling = "air"
"""


def _chip(tmp_path: Path, text: str) -> str:
    p = tmp_path / "chip.toml"
    p.write_text(text)
    return str(p)


def _replace(key: str, value: str) -> str:
    lines = [f"{key} = {value}" if line.startswith(f"{key} =") else line for line in GOOD.splitlines()]
    return "\n".join(lines) + "\n"


def _drop(key: str) -> str:
    return "\n".join(line for line in GOOD.splitlines() if not line.startswith(f"{key} =")) + "\n"


def _assert_one_line_error(proc, *needles: str) -> None:
    assert proc.returncode == 2, proc.stderr + proc.stdout
    err = proc.stderr.strip()
    assert "Traceback" not in proc.stderr
    assert len(err.splitlines()) == 1, err
    assert err.startswith("dse: error: ")
    for needle in needles:
        assert needle in err, err


def test_good_chip_passes(tmp_path):
    proc = run_cli("evaluate", _chip(tmp_path, GOOD), "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["die_area_mm2"] > 0


CASES = [
    ("unknown node", _replace("node", '"tsmc-n9"'), ("unknown node 'tsmc-n9'",)),
    ("misspelled node", _replace("node", '"smic-n+22"'), ("unknown node", "did you mean")),
    ("unknown memory", _replace("memory", '"hbm4z"'), ("unknown memory 'hbm4z'", "did you mean 'hbm")),
    ("missing key", _drop("cores"), ("missing required key 'cores'",)),
    ("misspelled key", GOOD + "sram_mbb = 3\n", ("unknown key 'sram_mbb'", "did you mean 'sram_mb'")),
    ("unknown key", GOOD + "flux_capacitor = 1\n", ("unknown key 'flux_capacitor'",)),
    ("wrong type", _replace("cores", '"many"'), ("'cores'", "integer")),
    ("fractional int", _replace("cores", "12.5"), ("'cores'", "integer")),
    ("bool as number", _replace("tdp_w", "true"), ("'tdp_w'",)),
    ("zero", _replace("clock_ghz", "0"), ("'clock_ghz'", "> 0")),
    ("negative", _replace("tdp_w", "-5"), ("'tdp_w'", "> 0")),
    ("nan", _replace("sram_mb", "nan"), ("'sram_mb'", "finite")),
    ("inf", _replace("sram_mb", "inf"), ("'sram_mb'", "finite")),
    ("bad cooling", _replace("cooling", '"liquidd"'), ("'cooling'", "did you mean 'liquid'")),
    ("bad dtype", GOOD + 'mac_dtype = "fp4"\n', ("'mac_dtype'",)),
    ("memory without count", _replace("memory_count", "0"), ("'memory_count'",)),
    ("malformed toml", GOOD + "cores = = 3\n", ("malformed TOML",)),
    ("duty above one", GOOD + "duty_cycle = 1.5\n", ("'duty_cycle'", "<= 1")),
    ("duty below zero", GOOD + "duty_cycle = -0.1\n", ("'duty_cycle'", ">= 0")),
    ("duty not a number", GOOD + 'duty_cycle = "always"\n', ("'duty_cycle'", "number")),
    ("cycles negative", GOOD + "load_cycles_per_day = -2\n", ("'load_cycles_per_day'", ">= 0")),
]


@pytest.mark.parametrize(("label", "text", "needles"), CASES, ids=[c[0] for c in CASES])
def test_bad_chip_file(tmp_path, label, text, needles):
    _assert_one_line_error(run_cli("evaluate", _chip(tmp_path, text)), *needles)


def test_missing_chip_file(tmp_path):
    _assert_one_line_error(run_cli("evaluate", str(tmp_path / "nope.toml")), "not found")


WORKLOADS = [
    ("unknown kind", "llm-decod:llama-3-8b:batch=1,context=8", ("llm-decod", "did you mean 'llm-decode'")),
    ("unknown model", "llm-decode:llama-9-8b:batch=1,context=8", ("llama-9-8b",)),
    ("zero batch", "llm-decode:llama-3-8b:batch=0,context=8", ("batch",)),
    ("bad option", "llm-decode:llama-3-8b:batch=1,contxt=8", ("contxt",)),
    ("bad gemm", "gemm:8,8", ("gemm",)),
    ("bad dtype", "gemm:8,8,8:dtype=fp4", ("fp4",)),
]


@pytest.mark.parametrize(("label", "wl", "needles"), WORKLOADS, ids=[w[0] for w in WORKLOADS])
def test_bad_workload(tmp_path, label, wl, needles):
    _assert_one_line_error(run_cli("evaluate", _chip(tmp_path, GOOD), "--workload", wl), *needles)


def test_unreadable_config_json(tmp_path):
    bad = tmp_path / "config.json"
    bad.write_text("{not json")
    proc = run_cli("evaluate", _chip(tmp_path, GOOD), "--workload", f"llm-decode:{bad}:batch=1,context=8")
    _assert_one_line_error(proc, "config.json")
    missing = tmp_path / "missing" / "config.json"
    proc = run_cli("evaluate", _chip(tmp_path, GOOD), "--workload", f"llm-decode:{missing}:batch=1,context=8")
    _assert_one_line_error(proc)


def test_bad_flag():
    _assert_one_line_error(run_cli("evaluate"), "chip")
    _assert_one_line_error(run_cli("frobnicate"), "frobnicate")


def test_bad_tech_file(tmp_path):
    tech = tmp_path / "tech.toml"
    tech.write_text('[nodes.my-node]\nbased_on = "tsmc-n77"\n')
    _assert_one_line_error(run_cli("nodes", "--tech", str(tech)), "tsmc-n77")
    tech.write_text('[nodes.my-node]\nbased_on = "tsmc-n7"\nlogic_densty_mtr_mm2 = 80\n')
    _assert_one_line_error(run_cli("nodes", "--tech", str(tech)), "logic_densty_mtr_mm2", "did you mean")
