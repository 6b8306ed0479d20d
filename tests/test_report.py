"""Study outputs: CSV headers with units, the chosen design, the summary, the PNGs."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest

from dse import metrics as M
from dse import report as R
from dse.metrics import column_name
from dse.report import figures as R_figures
from dse.spec import CHIP_KEYS

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PLOTS = (
    "pareto_fronts", "roofline", "thermal_map", "node_fronts", "parallel_coordinates", "convergence"
)


# --------------------------------------------------------------------------------------
# stand-ins for dse.search.StudyResult / dse.search.study.StudyConfig (same fields)
# --------------------------------------------------------------------------------------
@dataclass
class FakeStudy:
    name: str = "toy"
    workload: str = "llm-decode:llama-3-8b:batch=1,context=1024"
    objectives: dict[str, str] = field(
        default_factory=lambda: {"tokens_per_s": "maximize", "energy_per_item_j": "minimize"}
    )
    constraints: dict[str, Any] = field(
        default_factory=lambda: {"max_power_w": 400.0, "max_die_area_mm2": 800.0}
    )
    scenario: Any = None
    fixed: dict[str, Any] = field(default_factory=lambda: {"macs_per_core": 1024})
    space: dict[str, Any] = field(
        default_factory=lambda: {"node": ["tsmc-n5", "smic-n2"], "cores": [64, 128, 256]}
    )
    path: str | None = None


@dataclass
class FakeResult:
    study: FakeStudy
    designs: pd.DataFrame
    pareto: pd.DataFrame
    kind: str = "optuna"
    storage: str | None = None
    elapsed: float = 1.0


#: violations fed to the summary: (text, rows)
VIOLATIONS = [
    ("max_power_w: 450 > 400", 3),
    ("reticle;max_die_area_mm2: 900 > 800", 2),
    ("memory_capacity", 1),
]


def make_result(scenario: Any = None) -> FakeResult:
    """Twelve designs: six feasible (a known 2-D front of three), six infeasible."""
    feasible = pd.DataFrame(
        {
            "node": ["tsmc-n5", "tsmc-n5", "smic-n2", "smic-n2", "tsmc-n5", "smic-n2"],
            "cores": [64, 128, 256, 64, 128, 256],
            "tokens_per_s": [100.0, 200.0, 300.0, 90.0, 150.0, 250.0],
            "energy_per_item_j": [0.1, 0.2, 0.4, 0.3, 0.35, 0.5],
            "power_w": [100.0, 200.0, 390.0, 90.0, 150.0, 395.0],
            "die_area_mm2": [200.0, 400.0, 790.0, 300.0, 420.0, 780.0],
            "feasible": True,
            "violations": "",
        }
    )
    bad = [v for v, n in VIOLATIONS for _ in range(n)]
    infeasible = pd.DataFrame(
        {
            "node": ["tsmc-n5"] * len(bad),
            "cores": [256] * len(bad),
            "tokens_per_s": np.linspace(350.0, 400.0, len(bad)),
            "energy_per_item_j": [0.05] * len(bad),
            "power_w": [450.0] * len(bad),
            "die_area_mm2": [900.0] * len(bad),
            "feasible": False,
            "violations": bad,
        }
    )
    designs = pd.concat([feasible, infeasible], ignore_index=True)
    designs.insert(0, "trial", np.arange(len(designs)))
    for key, value in {
        "clock_ghz": 1.5,
        "sram_mb": 64.0,
        "memory": "hbm2e",
        "memory_count": 4,
        "tdp_w": 400.0,
        "cooling": "air",
        "junction_temp_c": 70.0,
        "sustained_clock_ghz": 1.5,
        "export_class": "not-controlled",
    }.items():
        designs[key] = value
    pareto = designs.iloc[[0, 1, 2]].copy()  # (100, 0.1), (200, 0.2), (300, 0.4)
    pareto["pareto_rank"] = 0
    pareto["crowding_distance"] = [math.inf, 2.0, math.inf]
    return FakeResult(FakeStudy(scenario=scenario), designs, pareto)


@pytest.fixture()
def fake_model(monkeypatch):
    """The chain's op_breakdown / roofline_ceilings replaced by fixed tables."""
    calls = []

    def op_breakdown(chip, workload, tech=None):
        calls.append((chip, workload))
        return pd.DataFrame(
            {
                "op": ["mlp", "attn"],
                "count": [32.0, 32.0],
                "flops": [1e9, 1e7],
                "dram_bytes": [1e9, 1e6],
                "intensity_flop_per_byte": [1.0, 10.0],
                "time_s": [1e-3, 1e-5],
                "bound": ["dram", "overhead"],
                "achieved_tflops": [1.0, 1.0],
            }
        )

    def roofline_ceilings(chip, workload, tech=None):
        return {"peak_tflops": 300.0, "dram_bandwidth_gbps": 2000.0, "sram_bandwidth_gbps": 2e4}

    monkeypatch.setattr(R_figures, "_model_roofline_functions", lambda: (op_breakdown, roofline_ceilings))
    return calls


# --------------------------------------------------------------------------------------
# choosing a design
# --------------------------------------------------------------------------------------
def test_choose_design_is_the_knee():
    front = pd.DataFrame({"a": [0.0, 0.2, 1.0], "b": [1.0, 0.2, 0.0]})
    row = R.choose_design(front, {"a": "minimize", "b": "minimize"})
    assert row.name == 1  # distance 0.28 to the ideal (0, 0) against 1.0 for the ends


def test_choose_design_normalises_and_handles_maximize():
    # tokens in the thousands, energy in fractions: the knee must not follow one scale
    front = pd.DataFrame({"tok": [1000.0, 1900.0, 2000.0], "e": [0.1, 0.15, 1.0]})
    row = R.choose_design(front, {"tok": "maximize", "e": "minimize"})
    # z = (1, 0), (0.1, 0.0556), (0, 1): the middle one
    assert row.name == 1


def test_choose_design_edge_cases():
    one = pd.DataFrame({"a": [3.0], "b": [4.0]})
    assert R.choose_design(one, {"a": "min", "b": "max"}).name == 0
    flat = pd.DataFrame({"a": [1.0, 1.0], "b": [2.0, 1.0]})
    assert R.choose_design(flat, {"a": "min", "b": "min"}).name == 1  # constant a ignored
    ranked = pd.DataFrame({"a": [0.0, 0.5], "b": [0.0, 0.5], "pareto_rank": [1, 0]})
    assert R.choose_design(ranked, {"a": "min", "b": "min"}).name == 1  # lowest rank only
    with pytest.raises(ValueError, match="no Pareto design"):
        R.choose_design(one.iloc[:0], {"a": "min"})


# --------------------------------------------------------------------------------------
# CSVs
# --------------------------------------------------------------------------------------
def test_output_columns_order():
    df = pd.DataFrame(
        columns=["violations", "power_w", "extra", "cores", "trial", "node", "pareto_rank"]
    )
    assert M.output_columns(df) == [
        "trial",
        "node",
        "cores",
        "power_w",
        "pareto_rank",
        "violations",
        "extra",
    ]


def test_csv_headers_carry_units(tmp_path, fake_model):
    result = make_result()
    files = R.write_outputs(result, tmp_path)
    pareto = pd.read_csv(files["pareto"])
    header = list(pareto.columns)
    for key in ("cores", "macs_per_core", "memory_count"):  # unit in brackets
        assert column_name(key) in header and "[" in column_name(key)
    for name in ("die_area_mm2", "tokens_per_s", "energy_per_item_j", "clock_ghz"):
        assert name in header  # the unit is already the suffix of the name
    assert "pareto_rank" in header and "crowding_distance" in header
    # every chip key: searched, fixed (macs_per_core) and defaulted (ambient_c, tj_max_c)
    for key, spec in CHIP_KEYS.items():
        if key != "name" and spec.default is not None or spec.required and key != "name":
            assert column_name(key) in header, key
    assert pareto[column_name("macs_per_core")].eq(1024).all()
    assert list(pareto["trial"]) == [0, 1, 2]
    trials = pd.read_csv(files["trials"])
    assert len(trials) == len(result.designs)
    assert column_name("cores") in trials.columns


def test_trials_for_csv_keeps_pareto_then_feasible(tmp_path):
    designs = pd.DataFrame({"feasible": [False] * 6 + [True] * 4, "x": range(10)})
    rows, note = R.trials_for_csv(designs, [9], max_rows=20)
    assert len(rows) == 10 and note == ""
    rows, note = R.trials_for_csv(designs, [9], max_rows=6)
    assert 9 in rows.index
    assert rows["feasible"].sum() == 4  # every feasible row kept before any infeasible
    assert len(rows) == 6
    assert list(rows.index) == sorted(rows.index)
    assert "6 of 10 rows" in note and "sample of 2 of 6 infeasible" in note


# --------------------------------------------------------------------------------------
# what limited the designs
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("token", "category"),
    [
        ("reticle", "reticle"),
        ("max_die_area_mm2: 900 > 800", "die area"),
        ("max_power_w: 450 > 400", "power"),
        ("power", "power"),
        ("max_junction_temp_c: 120 > 95", "junction temperature (Tj)"),
        ("memory_capacity", "memory capacity"),
        ("memory_count_max: 6 x hbm2e > 4", "memory supply cap"),
        ("export_class: 3A090.a not allowed", "export class"),
        ("thermal_runaway", "thermal runaway"),
        ("min_tokens_per_s: 90 < 100", "throughput / latency"),
        ("something_else", "other"),
    ],
)
def test_violation_category(token, category):
    assert R.violation_category(token) == category


def test_violation_counts_by_type_and_category():
    by_type, by_cat = R.violation_counts(make_result().designs)
    t = by_type.set_index("violation")
    assert t.loc["max_power_w", "designs"] == 3 and t.loc["max_power_w", "sole_cause"] == 3
    assert t.loc["reticle", "designs"] == 2 and t.loc["reticle", "sole_cause"] == 0
    assert t.loc["max_die_area_mm2", "designs"] == 2
    assert t.loc["memory_capacity", "sole_cause"] == 1
    assert "model" in t.loc["reticle", "meaning"]
    c = by_cat.set_index("category")
    assert c.loc["power", "designs"] == 3
    assert c.loc["reticle", "designs"] == 2 and c.loc["die area", "designs"] == 2
    assert c.loc["memory capacity", "sole_cause"] == 1
    assert list(by_type["designs"]) == sorted(by_type["designs"], reverse=True)


def test_binding_constraints():
    row = pd.Series(
        {
            "power_w": 390.0,
            "tdp_w": 400.0,
            "junction_temp_c": 60.0,
            "tj_max_c": 95.0,
            "die_area_mm2": 820.0,
            "node": "x",
            "clock_ghz": 2.0,
            "sustained_clock_ghz": 1.5,
            "tokens_per_s": 100.0,
            "tpp": 4700.0,
            "performance_density": 1.0,
        }
    )
    constraints = {"max_power_w": 400.0, "min_tokens_per_s": 100.0, "export_class": ("x",)}
    thresholds = {"tpp_threshold_a": 4800.0, "pd_threshold_a": 5.92}
    b = R.binding_constraints(
        row, constraints, reticle_mm2=858.0, export_thresholds=thresholds
    ).set_index("limit")
    assert b.loc["max_power_w", "status"] == "near-binding"
    assert b.loc["max_power_w", "slack"] == pytest.approx(0.025)
    assert b.loc["min_tokens_per_s", "status"] == "active"
    assert b.loc["tdp_w (power cap)", "status"] == "near-binding"
    assert b.loc["reticle", "slack"] == pytest.approx((858 - 820) / 858)
    assert b.loc["clock_ghz (DVFS)", "status"] == "throttled"
    assert b.loc["clock_ghz (DVFS)", "slack"] == pytest.approx(-0.25)
    assert b.loc["3A090 tpp_threshold_a", "category"] == "export class"
    assert "tj_max_c (junction limit)" not in b.index  # 35 K of margin
    assert "3A090 pd_threshold_a" not in b.index


def test_binding_constraints_supply_cap_and_space_edges():
    row = pd.Series(
        {"memory": "hbm2e", "memory_count": 4, "cores": 256, "sram_mb": 48.0, "node": "smic-n2"}
    )
    constraints = {"memory_count_max": {"hbm2e": 4, "hbm2": 2}}
    space = {
        "cores": SimpleNamespace(choices=(), low=16, high=256),  # a dse.search.space.Param range
        "sram_mb": {"low": 16.0, "high": 256.0},  # plain data
        "memory_count": [1, 2, 4],  # a numeric list
        "node": ["smic-n2", "smic-n1"],  # not numeric: no edge
    }
    b = R.binding_constraints(row, constraints, space=space, reticle_mm2=math.nan)
    b = b.set_index("limit")
    assert b.loc["memory_count_max (hbm2e supply cap)", "status"] == "active"
    assert b.loc["memory_count_max (hbm2e supply cap)", "category"] == "memory supply cap"
    assert b.loc["[space] cores (highest value)", "status"] == "space edge"
    assert b.loc["[space] memory_count (highest value)", "bound"] == 4
    assert not any("sram_mb" in k or "node" in k for k in b.index)
    # one unit under the cap is 25 % of slack: not reported
    b = R.binding_constraints(row.replace({4: 3}), constraints, reticle_mm2=math.nan)
    assert b.empty


@pytest.mark.parametrize(
    ("key", "name"),
    [
        ("die_area_mm2", "die_area_mm2"),
        ("yield", "yield [fraction]"),
        ("cores", "cores [count]"),
        ("constraint_max_power_w", "constraint_max_power_w [fraction of limit]"),
        ("constraint_min_tokens_per_s", "constraint_min_tokens_per_s [fraction of limit]"),
        ("constraint_model", "constraint_model [violations]"),
        ("constraint_export_class", "constraint_export_class [flag]"),
        ("constraint_memory_count_max", "constraint_memory_count_max [fraction of cap]"),
        ("feasible", "feasible"),
        ("trial", "trial"),
    ],
)
def test_output_name_carries_the_unit_and_inverts(key, name):
    assert M.output_name(key) == name
    assert M.input_name(name) == key


# --------------------------------------------------------------------------------------
# summary.md and the whole output folder
# --------------------------------------------------------------------------------------
def test_summary_mentions_objectives_scenario_and_violation_counts(tmp_path, fake_model):
    scenario = SimpleNamespace(
        name="china-domestic-2025", description="SMIC nodes only.", source="BIS IFR 2025."
    )
    files = R.write_outputs(make_result(scenario), tmp_path)
    text = files["summary"].read_text()
    assert "# Study `toy`" in text
    assert "maximize `tokens_per_s` [tokens/s]" in text
    assert "minimize `energy_per_item_j` [J/item]" in text
    assert "`max_power_w` = 400 W" in text
    assert "`china-domestic-2025`" in text and "BIS IFR 2025." in text and "SMIC" in text
    assert "| 12 | 6 (50.0 %) | 3 |" in text  # designs, feasible, Pareto
    assert "6 of 12 designs were infeasible" in text
    assert "| `max_power_w` | power | study upper limit on power_w | 3 | 3 |" in text
    assert (
        "| `reticle` | reticle | die larger than the node's reticle field (model) | 2 | 0 |" in text
    )
    assert "| power | 3 | 3 |" in text
    assert "| memory capacity | 1 | 1 |" in text
    assert "best tokens_per_s" in text and "best energy_per_item_j" in text
    assert "chosen (knee)" in text
    # the fastest design sits 2.5 % under the 400 W limit
    assert "| best tokens_per_s | max_power_w | near-binding | 390 | 400 | +2.5 % |" in text
    assert "| best tokens_per_s | max_die_area_mm2 | near-binding | 790 | 800 | +1.2 % |" in text


def test_write_outputs_writes_every_file(tmp_path, fake_model):
    files = R.write_outputs(make_result(), tmp_path / "out")
    assert set(files) == {
        "pareto",
        "trials",
        "pareto_meta",
        "trials_meta",
        "summary",
        "report",
        *PLOTS,
    }
    assert files["report"].name == "report.html"
    assert files["report"].read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    for name in PLOTS:
        data = files[name].read_bytes()
        assert files[name].suffix == ".png"
        assert data[:8] == PNG_SIGNATURE and len(data) > 10_000, name
    assert all(p.parent == tmp_path / "out" for p in files.values())
    # the chosen design (the knee of the 3-point front) is the one whose roofline is drawn
    chip, workload = fake_model[0]
    assert (chip.node, chip.cores, chip.macs_per_core) == ("tsmc-n5", 128, 1024)
    assert workload == make_result().study.workload


def test_write_outputs_chosen_by_trial_number(tmp_path, fake_model):
    R.write_outputs(make_result(), tmp_path, chosen=2)
    assert fake_model[0][0].cores == 256


def test_roofline_failure_is_a_note_not_a_crash(tmp_path, monkeypatch):
    def broken():
        raise ImportError("no model here")

    monkeypatch.setattr(R_figures, "_model_roofline_functions", broken)
    with pytest.warns(RuntimeWarning, match="roofline.png not drawn"):
        files = R.write_outputs(make_result(), tmp_path)
    assert "roofline" not in files
    assert "roofline.png not drawn: ImportError: no model here" in files["summary"].read_text()


def test_single_objective_and_empty_front(tmp_path, fake_model):
    result = make_result()
    result.study.objectives = {"tokens_per_s": "maximize"}
    result.pareto = result.pareto.iloc[:0]
    result.designs["feasible"] = False
    files = R.write_outputs(result, tmp_path)
    assert set(files) == {"pareto", "trials", "pareto_meta", "trials_meta", "summary", "report"}
    text = files["summary"].read_text()
    assert "No feasible design" in text
    assert "pareto_fronts.png not drawn: the study has a single objective." in text
    assert len(pd.read_csv(files["pareto"])) == 0


def test_sampled_grid_counts_come_from_the_search(tmp_path, fake_model):
    result = make_result()
    result.kind = "grid"
    result.n_evaluated = 1000
    result.n_feasible = 400
    text = R.write_outputs(result, tmp_path)["summary"].read_text()
    assert "| 1,000 | 400 (40.0 %) | 3 |" in text
    assert "keeps 12 of the 1,000 designs" in text
    assert "exhaustive grid" in text


# --------------------------------------------------------------------------------------
# end to end with the real model and search (a tiny study)
# --------------------------------------------------------------------------------------
def test_real_study_end_to_end(tmp_path):
    search = pytest.importorskip("dse.search")
    toml = tmp_path / "tiny.toml"
    toml.write_text(
        """
[study]
name = "tiny"
workload = "llm-decode:llama-3-8b:batch=1,context=1024"
trials = 24
seed = 1

[study.objectives]
tokens_per_s = "maximize"
unit_cost_usd = "minimize"

[fixed]
tdp_w = 400
cooling = "air"
clock_ghz = 1.5
macs_per_core = 1024
sram_mb = 64
memory = "hbm2e"

[space]
node = ["tsmc-n5", "tsmc-n7"]
cores = [32, 64, 128]
memory_count = [2, 4]

[constraints]
max_power_w = 400
""".lstrip()
    )
    result = search.grid(toml, progress=False)
    files = R.write_outputs(result, tmp_path / "out")
    grid_plots = [p for p in PLOTS if p != "convergence"]  # a grid has no convergence
    assert set(files) >= {"pareto", "trials", "summary", *grid_plots}
    assert "convergence" not in files
    for name in grid_plots:
        assert files[name].read_bytes()[:8] == PNG_SIGNATURE
    pareto = pd.read_csv(files["pareto"])
    assert len(pareto) == len(result.pareto) > 0
    assert column_name("cores") in pareto.columns
    text = files["summary"].read_text()
    assert "tokens_per_s" in text and "unit_cost_usd" in text
