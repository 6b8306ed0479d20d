"""The 2-D grid thermal model inside the chain: hot spot, mean, hot-spot throttling."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import ROOT, run_cli

import dse

GEMM = "gemm:8192,8192,8192"


def test_lumped_reports_the_mean_plus_the_fitted_hot_spot_margin(h100):
    # T_hot = T_mean + k P_die / A (hotspot_k_mm2_per_w, fitted against the grid model by
    # scripts/fit_hotspot_margin.py): a few kelvin for an H100-class die at its cap
    m = dse.evaluate(h100, GEMM)
    assert 2.0 < m.junction_temp_c - m.junction_temp_mean_c < 15.0


@pytest.mark.parametrize("layout", ["interleaved", "banked"])
def test_grid_hot_spot_binds_and_agrees_with_the_lumped_margin(h100, layout):
    # a 1 kW cap: the hot spot, not the power, limits the clock
    chip = h100.replace(sram_layout=layout, tdp_w=1000.0)
    lumped = dse.evaluate(chip, GEMM)
    grid = dse.evaluate(chip.replace(thermal_model="grid"), GEMM)
    # the hot spot sits above the die mean and the throttle holds the hot spot at Tj,max
    assert grid.junction_temp_c > grid.junction_temp_mean_c
    assert grid.junction_temp_c <= h100.tj_max_c + 0.05
    assert grid.junction_temp_c >= h100.tj_max_c - 1.0  # limited by the hot spot, not slack
    assert lumped.junction_temp_c == pytest.approx(h100.tj_max_c, abs=0.05)
    # the lumped model's fitted margin predicts the grid's throttled clock within 3 %
    assert grid.sustained_clock_ghz == pytest.approx(lumped.sustained_clock_ghz, rel=0.03)
    assert grid.power_w <= chip.tdp_w * (1 + 1e-6)


def test_grid_without_throttling_keeps_the_clock(h100):
    # memory-bound decode is far below the limits: both models run at the max clock
    wl = "llm-decode:llama-3-8b:batch=1,context=1024"
    m = dse.evaluate(h100.replace(thermal_model="grid"), wl)
    assert m.sustained_clock_ghz == pytest.approx(h100.clock_ghz)
    assert m.junction_temp_c >= m.junction_temp_mean_c


def test_a_grid_design_is_judged_by_the_grid_not_the_lumped_margin():
    # SMIC N+2 prefill at 60 degC inlet: at the lowest clock (0.3 GHz) the lumped hot spot
    # is 68.2 degC and the grid's 67.7 degC. With tj_max between them the lumped model
    # finds no clock that holds it, while the grid model throttles to the clock that does
    # (its hot spot at the limit); the lumped verdict must not make the grid design
    # infeasible
    chip = dse.example_chip("smic-n2-inference").replace(ambient_c=60.0)
    wl = "llm-prefill:llama-3-8b:batch=1,seq=2048"
    low = chip.replace(clock_ghz=0.3)
    lumped_hot = dse.evaluate(low, wl).junction_temp_c
    grid_hot = dse.evaluate(low.replace(thermal_model="grid"), wl).junction_temp_c
    assert grid_hot < lumped_hot
    limit = round((grid_hot + lumped_hot) / 2, 2)
    lumped = dse.evaluate(chip.replace(tj_max_c=limit), wl)
    grid = dse.evaluate(chip.replace(thermal_model="grid", tj_max_c=limit), wl)
    assert not lumped.feasible and "power" in lumped.violations
    assert grid.feasible, grid.violations
    assert 0.3 < grid.sustained_clock_ghz < 1.5
    assert grid.junction_temp_c == pytest.approx(limit, abs=0.05)


def test_grid_evaluate_many_matches_evaluate(h100, a100):
    chips = [
        h100.replace(thermal_model="grid"),
        a100.replace(thermal_model="grid", sram_layout="banked"),
        a100,
    ]
    many = dse.evaluate_many(pd.DataFrame([c.to_dict() for c in chips]), GEMM)
    for i, chip in enumerate(chips):
        one = dse.evaluate(chip, GEMM)
        assert many["junction_temp_c"].iloc[i] == pytest.approx(one.junction_temp_c, rel=1e-9)
        assert many["sustained_clock_ghz"].iloc[i] == pytest.approx(
            one.sustained_clock_ghz, rel=1e-9
        )


def test_evaluate_plot_writes_thermal_map(tmp_path):
    proc = run_cli("evaluate", "h100-like", "--workload", GEMM, "--plot", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    for name in ("thermal_map.png", "roofline.png", "power_breakdown.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    proc = run_cli("evaluate", "h100-like", "--plot", str(tmp_path))
    assert proc.returncode == 2 and "--workload" in proc.stderr


def test_study_outputs_include_the_chosen_designs_thermal_map(tmp_path):
    from dse.report import write_outputs

    result = dse.run_study(ROOT / "studies" / "domestic_7nm_decode_400w.toml", trials=40, progress=False)
    files = write_outputs(result, tmp_path)
    assert files["thermal_map"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
