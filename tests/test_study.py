"""Study files: parsing, the space declaration, fab scenarios, and one-line errors."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from dse.errors import DseInputError
from dse.search.scenario import load_scenario, scenario_names
from dse.search.space import Param
from dse.search.study import load_study

ROOT = Path(__file__).resolve().parents[1]

GOOD = """
[study]
name = "t"
workload = "llm-decode:llama-3-8b:batch=4,context=1024"
trials = 50
seed = 3
[study.objectives]
tokens_per_s = "maximize"
unit_cost_usd = "minimize"

[fixed]
tdp_w = 300
cooling = "air"
clock_ghz = 1.5
sram_mb = 64

[space]
node = ["smic-n2", "tsmc-n4"]
cores = { low = 16, high = 64, step = 16 }
macs_per_core = [512, 1024]
memory = ["hbm2e", "lpddr5"]
memory_count = { low = 2, high = 6, step = 2 }

[constraints]
max_die_area_mm2 = 800
max_power_w = 300
"""


def write(tmp_path: Path, text: str, name: str = "s.toml") -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


def edit(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new)


def test_good_study(tmp_path):
    s = load_study(write(tmp_path, GOOD))
    assert s.name == "t" and s.trials == 50 and s.seed == 3 and s.sampler == "local"
    assert s.objectives == {"tokens_per_s": "maximize", "unit_cost_usd": "minimize"}
    assert s.directions == ["maximize", "minimize"]
    assert list(s.space) == ["node", "cores", "macs_per_core", "memory", "memory_count"]
    assert s.space["cores"] == Param("cores", "int", low=16, high=64, step=16)
    assert s.space["cores"].grid_values().tolist() == [16, 32, 48, 64]
    assert s.n_grid == 2 * 4 * 2 * 2 * 3
    assert s.fixed["cooling"] == "air" and s.fixed["tdp_w"] == 300.0
    assert s.constraint_names == ["model", "beachfront", "max_die_area_mm2", "max_power_w"]
    assert s.bounds == [
        ("max_die_area_mm2", "max", "die_area_mm2", 800.0),
        ("max_power_w", "max", "power_w", 300.0),
    ]
    assert len(s.fingerprint()) == 16


def test_param_declaration_drives_everything():
    p = Param("clock_ghz", "float", low=0.8, high=2.0, step=0.1)
    assert p.n_grid == 13
    assert np.allclose(p.grid_values(), np.arange(0.8, 2.0001, 0.1))
    assert p.grid_values()[-1] == 2.0
    assert str(p) == "0.8..2 GHz step 0.1"
    assert p.label == "clock_ghz"
    d = p.distribution()
    assert (d.low, d.high, d.step) == (0.8, 2.0, 0.1)
    q = Param("sram_mb", "float", low=1.0, high=512.0, log=True)
    assert q.n_grid is None
    with pytest.raises(DseInputError, match="sram_mb"):
        q.grid_values()
    c = Param("memory", "categorical", choices=("hbm2e", "none"))
    assert c.n_grid == 2 and list(c.grid_values()) == ["hbm2e", "none"]

    class FakeTrial:
        def suggest_float(self, name, low, high, step=None, log=False):
            return (name, low, high, step, log)

    assert p.suggest(FakeTrial()) == ("clock_ghz", 0.8, 2.0, 0.1, False)


def test_scenario_merges_with_study(tmp_path):
    text = edit(GOOD, "seed = 3", 'seed = 3\nscenario = "china-domestic-2025"')
    s = load_study(write(tmp_path, text))
    # tsmc-n4 is dropped from the node list, the HBM2E cap becomes a constraint
    assert s.space["node"].choices == ("smic-n2",)
    assert s.constraints["memory_count_max"] == {"hbm2": 4, "hbm2e": 4}
    assert "memory_count_max" in s.constraint_names
    assert s.scenario.name == "china-domestic-2025" and s.scenario.source


def test_scenario_sets_lifetime_and_memory_limits(tmp_path):
    scenario = write(
        tmp_path,
        '[scenario]\nname = "fleet"\ndescription = "a 6-year fleet"\nsource = "test"\n'
        "min_lifetime_years = 6\nmax_memory_temp_c = 90\n",
        "fleet.toml",
    )
    text = edit(GOOD, "seed = 3", f'seed = 3\nscenario = "{scenario}"')
    s = load_study(write(tmp_path, text))
    assert s.constraints["min_lifetime_years"] == 6.0
    assert s.constraints["max_memory_temp_c"] == 90.0
    assert {"min_lifetime_years", "max_memory_temp_c"} <= set(s.constraint_names)
    # with the study's own limits the stricter one holds
    both = edit(text, "max_power_w = 300", "max_power_w = 300\nmin_lifetime_years = 4\nmax_memory_temp_c = 85")
    s = load_study(write(tmp_path, both))
    assert s.constraints["min_lifetime_years"] == 6.0
    assert s.constraints["max_memory_temp_c"] == 85.0
    # a scenario's bad limit is one line too
    scenario.write_text('[scenario]\nname = "fleet"\nmin_lifetime_years = -1\n')
    with pytest.raises(DseInputError, match="min_lifetime_years"):
        load_study(write(tmp_path, text))


def test_packaged_scenarios_agree_with_the_tables():
    from dse.tech import default_tech

    tech = default_tech()
    nodes, mems = tech.node_table(), tech.memory_table()
    assert set(scenario_names()) >= {"unrestricted", "china-domestic-2025", "mature-28nm"}
    for name in scenario_names():
        sc = load_scenario(name)
        assert sc.source and sc.description
    un = load_scenario("unrestricted")
    assert un.nodes_allowed is None and un.memory_allowed is None
    cn = load_scenario("china-domestic-2025")
    # SMIC nodes only = exactly the nodes flagged domestic_china
    assert set(cn.nodes_allowed) == set(nodes.index[nodes["domestic_china"].astype(bool)])
    # every memory with domestic supply is allowed; no HBM newer than HBM2E
    assert set(mems.index[mems["domestic_china_supply"].astype(bool)]) <= set(cn.memory_allowed)
    assert not {"hbm3", "hbm3e"} & set(cn.memory_allowed)
    assert cn.export_class is None  # reported, not constrained
    m28 = load_scenario("mature-28nm")
    assert set(m28.nodes_allowed) == {"tsmc-n28", "smic-28"}
    assert all(bool(nodes.loc[n, "planar"]) for n in m28.nodes_allowed)
    assert not any(m.startswith("hbm") for m in m28.memory_allowed)


# every bad study -> DseInputError with a one-line message naming the problem
BAD_CASES = {
    "unknown metric": (
        ('tokens_per_s = "maximize"', 'tokens_per_sec = "maximize"'),
        "tokens_per_sec",
    ),
    "bad direction": (('unit_cost_usd = "minimize"', 'unit_cost_usd = "smaller"'), "minimize"),
    "non-numeric objective": (
        ('unit_cost_usd = "minimize"', 'export_class = "minimize"'),
        "export_class",
    ),
    "unknown chip key in space": (
        ("macs_per_core = [512, 1024]", "mac_per_core = [512, 1024]"),
        "mac_per_core",
    ),
    "unknown chip key in fixed": (("tdp_w = 300", "tdp = 300"), "tdp"),
    "key in both": (("tdp_w = 300", "tdp_w = 300\ncores = 8"), "both"),
    "empty list": (('memory = ["hbm2e", "lpddr5"]', "memory = []"), "empty"),
    "low > high": (("low = 16, high = 64", "low = 64, high = 16"), "low"),
    "step <= 0": (("step = 16 }", "step = 0 }"), "step"),
    "log with low <= 0": (("[fixed]", "[fixed]\n"), None),  # replaced below
    "unknown scenario": (("seed = 3", 'seed = 3\nscenario = "china-2025"'), "china-2025"),
    "unknown sampler": (("seed = 3", 'seed = 3\nsampler = "cmaes"'), "cmaes"),
    "unknown node": (('"smic-n2", "tsmc-n4"', '"smic-n2", "tsmc-n9"'), "tsmc-n9"),
    "unknown memory in constraint": (
        ("max_power_w = 300", 'max_power_w = 300\nmemory_allowed = ["hbm9"]'),
        "hbm9",
    ),
    "nodes_allowed empties": (
        ("max_power_w = 300", 'max_power_w = 300\nnodes_allowed = ["smic-28"]'),
        "nodes_allowed",
    ),
    "unknown constraint": (("max_power_w = 300", "max_powr_w = 300"), "max_powr_w"),
    "unknown export class": (
        ("max_power_w = 300", 'max_power_w = 300\nexport_class = "3A090.z"'),
        "3A090.z",
    ),
    "missing required key": (('cooling = "air"', ""), "cooling"),
    "no space": (("[space]", "[spacex]"), "spacex"),
    "float step not multiple": (
        ("[space]", "[space]\nambient_c = { low = 10.0, high = 40.0, step = 7.0 }"),
        "multiple",
    ),
    "int step fraction": (("step = 16 }", "step = 1.5 }"), "integer"),
    "range on categorical": (
        ('memory = ["hbm2e", "lpddr5"]', "memory = { low = 1, high = 2 }"),
        "categorical",
    ),
    "tokens_per_s on gemm": (
        ("llm-decode:llama-3-8b:batch=4,context=1024", "gemm:1024,1024,1024"),
        "LLM",
    ),
    "bad workload": (
        ("llm-decode:llama-3-8b:batch=4,context=1024", "llm-decode:llama-99:batch=4,context=1024"),
        "llama-99",
    ),
    "memory_count zero": (
        ("low = 2, high = 6, step = 2", "low = 0, high = 6, step = 2"),
        "memory_count",
    ),
    "trials not positive": (("trials = 50", "trials = 0"), "trials"),
    "lifetime target zero": (
        ("max_power_w = 300", "max_power_w = 300\nmin_lifetime_years = 0"),
        "min_lifetime_years",
    ),
    "lifetime target negative": (
        ("max_power_w = 300", "max_power_w = 300\nmin_lifetime_years = -5"),
        "min_lifetime_years",
    ),
    "lifetime target not a number": (
        ("max_power_w = 300", 'max_power_w = 300\nmin_lifetime_years = "five"'),
        "min_lifetime_years",
    ),
    "memory temperature limit not a number": (
        ("max_power_w = 300", 'max_power_w = 300\nmax_memory_temp_c = "hot"'),
        "max_memory_temp_c",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_study_one_line_error(tmp_path, case):
    (old, new), needle = BAD_CASES[case]
    if case == "log with low <= 0":
        text = edit(
            GOOD, "[space]\n", "[space]\nambient_c = { low = -10, high = 40, log = true }\n"
        )
        needle = "log"
    else:
        text = edit(GOOD, old, new)
    with pytest.raises(DseInputError) as info:
        load_study(write(tmp_path, text))
    msg = str(info.value)
    assert "\n" not in msg
    if needle:
        assert needle.lower() in msg.lower(), msg


def test_empty_space_is_an_error(tmp_path):
    text = GOOD.split("[space]")[0] + "[space]\n"
    with pytest.raises(DseInputError, match="empty"):
        load_study(write(tmp_path, text))


def test_unknown_file_and_bad_toml(tmp_path):
    with pytest.raises(DseInputError, match="not found"):
        load_study(tmp_path / "nope.toml")
    with pytest.raises(DseInputError, match="malformed"):
        load_study(write(tmp_path, "[study\nname="))


def test_close_match_hint(tmp_path):
    text = edit(GOOD, "macs_per_core = [512, 1024]", "macs_per_cor = [512, 1024]")
    with pytest.raises(DseInputError, match="did you mean 'macs_per_core'"):
        load_study(write(tmp_path, text))


def test_model_path_relative_to_study(tmp_path):
    cfg = ROOT / "studies" / "models" / "smollm2-135m.json"
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "m.json").write_text(cfg.read_text())
    text = edit(GOOD, "llm-decode:llama-3-8b:", "llm-decode:models/m.json:")
    s = load_study(write(tmp_path, text))
    assert str(tmp_path / "models" / "m.json") in s.workload


@pytest.mark.parametrize("command", ["run", "grid"])
def test_cli_bad_study_exit_2(tmp_path, command):
    text = edit(GOOD, 'tokens_per_s = "maximize"', 'tokens_per_sec = "maximize"')
    bad = write(tmp_path, text, "bad.toml")
    proc = subprocess.run(
        [sys.executable, "-m", "dse", command, str(bad), "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "tokens_per_sec" in proc.stderr


def test_cli_grid_unstepped_range_exit_2(tmp_path):
    text = edit(GOOD, "clock_ghz = 1.5\n", "")
    text = edit(text, "[space]\n", "[space]\nclock_ghz = { low = 0.8, high = 2.0 }\n")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "dse",
            "grid",
            str(write(tmp_path, text)),
            "--out",
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "clock_ghz" in proc.stderr and "step" in proc.stderr
