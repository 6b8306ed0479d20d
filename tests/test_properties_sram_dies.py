"""Property tests over SRAM-only chips and multi-die splits; an uneven split is an input
error (issue 17, item 7)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dse
from dse.errors import DseInputError

WORKLOADS = (
    "llm-decode:llama-3-8b:batch=1,context=1024",
    "llm-prefill:llama-3-8b:batch=1,seq=512",
    "gemm:4096,4096,4096",
    "resnet50:batch=8",
)


@st.composite
def sram_only_multi_die(draw):
    """An SRAM-only chip (memory "none", no DRAM) of 1-8 dies that split its cores evenly."""
    dies = draw(st.integers(1, 8))
    return {
        "node": draw(st.sampled_from(("tsmc-n7", "tsmc-n5", "tsmc-n4", "tsmc-n3"))),
        "memory": "none",
        "memory_count": draw(st.integers(0, 4)),
        "cores": dies * draw(st.integers(1, 256)),
        "spare_cores": dies * draw(st.integers(0, 4)),
        "dies": dies,
        "macs_per_core": draw(st.sampled_from((256, 1024, 4096))),
        "clock_ghz": draw(st.floats(0.3, 2.0)),
        "sram_mb": draw(st.floats(1.0, 4096.0)),
        "tdp_w": draw(st.floats(20.0, 2000.0)),
        "cooling": draw(st.sampled_from(("air", "liquid"))),
        "package": draw(st.sampled_from(("organic", "interposer"))),
        "system": draw(st.sampled_from(("single", "auto"))),
    }


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(designs=st.lists(sram_only_multi_die(), min_size=1, max_size=20), workload=st.sampled_from(WORKLOADS))
def test_sram_only_chips_give_finite_positive_numbers(designs, workload):
    out = dse.evaluate_many(pd.DataFrame(designs), workload)
    for name in ("latency_s", "die_area_mm2", "power_w", "energy_j", "unit_cost_usd"):
        values = out[name].to_numpy(dtype=float)
        assert np.isfinite(values).all() and (values > 0).all(), name
    # no DRAM: no capacity, and nothing is paid for memory devices
    assert (out["memory_capacity_gb"].fillna(0.0) == 0.0).all()
    assert (out["sustained_clock_ghz"] <= out["clock_ghz"] * (1 + 1e-12)).all()
    # an SRAM-only chip either holds the weights on chip or reports that it cannot
    if workload.startswith("llm"):
        single = out["system"] == "single"
        lost = single & ~out["weights_resident"].astype(bool)
        assert out.loc[lost, "violations"].str.contains("memory_capacity").all()


@settings(max_examples=30, deadline=None)
@given(dies=st.integers(2, 8), per_die=st.integers(1, 64), extra=st.integers(1, 7))
def test_an_uneven_core_split_is_an_input_error(h100, dies, per_die, extra):
    cores = dies * per_die + (extra % dies or 1)  # 1 to dies - 1 cores over an even split
    row = {**h100.to_dict(), "dies": dies, "cores": cores}
    with pytest.raises(DseInputError, match=rf"split evenly over {dies} dies \(row 1\)"):
        dse.evaluate_many(pd.DataFrame([h100.to_dict(), row]))


def test_uneven_spares_are_an_input_error_and_even_ones_are_not(h100):
    even = {**h100.to_dict(), "dies": 2, "cores": 132, "spare_cores": 4}
    assert dse.evaluate_many(pd.DataFrame([even]))["die_area_mm2"].iloc[0] > 0
    with pytest.raises(DseInputError, match="'spare_cores' \\(3\\) must split evenly over 2 dies"):
        dse.evaluate_many(pd.DataFrame([{**even, "spare_cores": 3}]))


def test_uneven_split_in_a_chip_file_exits_2_with_one_line(tmp_path):
    chip = tmp_path / "chip.toml"
    chip.write_text(
        '[chip]\nname = "x"\nnode = "tsmc-n5"\ncores = 129\ndies = 2\nmacs_per_core = 1024\n'
        'clock_ghz = 1.5\nsram_mb = 64\nmemory = "hbm3"\nmemory_count = 4\ntdp_w = 500\ncooling = "air"\nmac_dtype = "bf16"\n'
    )
    res = run_cli("evaluate", str(chip))
    assert res.returncode == 2
    assert res.stderr.strip().count("\n") == 0 and "split evenly over 2 dies" in res.stderr
    assert "Traceback" not in res.stderr
