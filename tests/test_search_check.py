"""The design check of the ``local`` sampler (issue 16): designs that break a limit their
keys decide without running the workload (reticle, package, clock, beachfront,
interposer, a study bound on a workload-free metric, export classes, memory supply caps,
memory too small for the model) are never asked. Sound on every study of the project (a design it rules out is never feasible),
and the sampler asks none of them once the space is known."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dse.search import conditional, run_study
from dse.search.result import (
    DESIGN_FEATURES,
    design_features,
    design_infeasible,
    evaluate_designs,
)
from dse.search.run import _DesignCheck
from dse.search.study import load_study

STUDIES = sorted((Path(__file__).parents[1] / "studies").glob("*.toml"))


def _random_designs(config, n: int, seed: int) -> pd.DataFrame:
    """``n`` designs drawn uniformly from the study's space (conditional keys included)."""
    rows = [
        conditional.design_params(config.space, config.conditions, p)
        for p in _random_params(config, n, seed)
    ]
    return pd.DataFrame(rows, columns=list(config.space))


def _random_params(config, n: int, seed: int) -> list[dict]:
    """``n`` sets of optuna parameters drawn uniformly from the study's distributions."""
    dists = conditional.distributions(config.space, config.conditions)
    return conditional.random_params(dists, n, np.random.RandomState(seed))


@pytest.mark.parametrize("path", STUDIES, ids=[p.stem for p in STUDIES])
def test_a_ruled_out_design_is_never_feasible(path):
    config = load_study(path)
    tech = config.load_tech()
    params = _random_designs(config, 300, seed=1)
    ruled_out = design_infeasible(config, params, tech=tech)
    full = evaluate_designs(config, params, tech=tech)
    feasible = full["feasible"].to_numpy(dtype=bool)
    assert not (ruled_out & feasible).any(), full.loc[ruled_out & feasible, list(config.space)]
    # not a check that rules out nothing: every study's space reaches past a die or
    # package limit (27-73 % of random designs on 2,000 draws a study)
    assert ruled_out.sum() >= 30
    # and every design it rules out is infeasible for a reason it names
    text = full.loc[ruled_out, "violations"].astype(str)
    named = (
        "reticle",
        "package",
        "timing",
        "beachfront",
        "interposer_size",
        "max_die_area_mm2",
        "max_unit_cost_usd",
        "max_die_cost_usd",
        "export_class",
        "memory_count_max",
        "memory_capacity",
    )
    assert text.map(lambda t: any(n in t for n in named)).all()


def test_the_beachfront_and_a_supply_cap_rule_designs_out():
    node = load_study(Path(__file__).parents[1] / "studies" / "node_comparison_decode.toml")
    base = dict(node="tsmc-n7", cores=64, macs_per_core=2048, clock_ghz=0.9, sram_mb=224.0)
    base.update(memory="hbm3", memory_count=8)
    small = dict(base, cores=16, macs_per_core=256, sram_mb=16.0)
    # 8 HBM3 stacks on a ~750 mm2 N7 die (a design of the exact front) fit; on a small die
    # their PHYs need more edge than it has
    got = design_infeasible(node, pd.DataFrame([base, small]))
    assert got.tolist() == [False, True]
    main = load_study(Path(__file__).parents[1] / "studies" / "domestic_7nm_decode_400w.toml")
    d = dict(node="smic-n2", cores=240, macs_per_core=512, clock_ghz=1.4, sram_mb=16.0)
    d.update(memory="hbm2e", memory_count=4)
    # the study's scenario caps HBM2E at 4 stacks
    got = design_infeasible(main, pd.DataFrame([d, dict(d, memory_count=5)]))
    assert got.tolist() == [False, True]


def test_a_memory_too_small_for_the_model_is_ruled_out_where_nothing_else_decides():
    studies = Path(__file__).parents[1] / "studies"
    main = load_study(studies / "domestic_7nm_decode_400w.toml")
    d = dict(node="smic-n2", cores=160, macs_per_core=512, clock_ghz=1.4, sram_mb=16.0)
    # Llama-3-8B bf16 and 16 x 2,048 tokens of KV cache: 16.1 + 4.3 GB; 10 GDDR6 devices
    # hold 20 GB, 11 hold 22
    params = pd.DataFrame([dict(d, memory="gddr6", memory_count=k) for k in (10, 11)])
    assert design_infeasible(main, params).tolist() == [True, False]
    full = evaluate_designs(main, params)
    assert full["violations"].tolist() == ["memory_capacity", ""]
    # with system = "auto" two chips hold what one cannot: the check leaves it open
    auto = dataclasses.replace(main, fixed={**main.fixed, "system": "auto"})
    assert design_infeasible(auto, params).tolist() == [False, False]
    assert evaluate_designs(auto, params)["feasible"].all()
    # without DRAM the weights and the KV cache must sit in the SRAM the tiles leave:
    # SmolLM2-135M int8 and its KV cache (128 + 11 MiB) in half of 256 MiB do not fit, in
    # half of 384 MiB they do
    edge = load_study(studies / "sram_only_edge.toml")
    e = dict(node="tsmc-n7", cores=16, macs_per_core=1024, clock_ghz=1.0)
    params = pd.DataFrame([dict(e, sram_mb=256.0), dict(e, sram_mb=384.0)])
    assert design_infeasible(edge, params).tolist() == [True, False]
    assert "memory_capacity" in evaluate_designs(edge, params)["violations"].iloc[0]


def test_the_constraints_the_check_decides():
    main = load_study(Path(__file__).parents[1] / "studies" / "domestic_7nm_decode_400w.toml")
    dists = conditional.distributions(main.space, main.conditions)
    check = _DesignCheck(main, dists, main.load_tech())
    decided = [main.constraint_names[i] for i in check.constraint_columns]
    # power and temperature need the workload; the model's count mixes both kinds
    assert decided == ["beachfront", "max_die_area_mm2", "memory_count_max"]


def test_the_local_sampler_asks_no_ruled_out_design():
    config = load_study(Path(__file__).parents[1] / "studies" / "domestic_7nm_decode_400w.toml")
    res = run_study(config, trials=96, seed=3, progress=False)
    d = res.designs.sort_values("trial")
    ruled_out = design_infeasible(config, d[list(config.space)].reset_index(drop=True))
    # the first round (8 trials) is drawn before the space is known, unchecked
    first = d["trial"].to_numpy() < 8
    assert not ruled_out[~first].any()
    # random designs of this space are ruled out three times in four: the first round
    # shows the check is what keeps the others out
    assert ruled_out[first].any()


def test_the_features_are_the_chains_metrics_from_the_same_pass_as_the_check():
    config = load_study(Path(__file__).parents[1] / "studies" / "node_comparison_decode.toml")
    tech = config.load_tech()
    params = _random_designs(config, 60, seed=2)
    ruled_out, z = design_features(config, params, tech=tech)
    assert ruled_out.tolist() == design_infeasible(config, params, tech=tech).tolist()
    full = evaluate_designs(config, params, tech=tech)
    assert z.shape == (60, len(DESIGN_FEATURES))
    for j, name in enumerate(DESIGN_FEATURES):  # the full evaluation's values, as logs
        np.testing.assert_allclose(np.exp(z[:, j]), full[name].to_numpy(dtype=float), rtol=1e-12)


def test_the_random_start_holds_every_memory_under_a_supply_cap():
    # the serving study caps HBM2E at 4 stacks of its 2-16: the check leaves 3 HBM2E counts
    # of 15, and an unbalanced start of 16 random designs often held one HBM2E design
    # or none (the whole front is HBM2E)
    config = load_study(Path(__file__).parents[1] / "studies" / "serve_moe_domestic.toml")
    for seed in (0, 4):
        d = run_study(config, trials=16, seed=seed, progress=False).designs
        counts = d["memory"].value_counts()
        # 8 trials before the space is known (unchecked, unbalanced), then each of the
        # next 8 at the memory least asked: at least 4 of each after the worst first round
        assert set(counts.index) == {"hbm2e", "lpddr5x", "gddr6"}
        assert counts.min() >= 4, counts.to_dict()


@pytest.mark.parametrize("path", STUDIES, ids=[p.stem for p in STUDIES])
def test_designs_as_columns_are_checked_as_a_frame_of_them(path):
    # the sampler's check passes its few designs a call as columns (no DataFrame):
    # the same verdicts and features, bit for bit, with the memory caps and NaN keys
    config = load_study(path)
    tech = config.load_tech()
    frame = _random_designs(config, 40, seed=5)
    columns = {k: frame[k].tolist() for k in frame.columns}
    assert (
        design_infeasible(config, columns, tech=tech).tolist()
        == design_infeasible(config, frame, tech=tech).tolist()
    )
    r_col, z_col = design_features(config, columns, tech=tech)
    r_frame, z_frame = design_features(config, frame, tech=tech)
    assert r_col.tolist() == r_frame.tolist()
    np.testing.assert_array_equal(z_col, z_frame)
    # and the check the sampler holds builds those columns from optuna's parameters
    check = _DesignCheck(config, conditional.distributions(config.space, config.conditions), tech)
    params = _random_params(config, 40, seed=5)
    assert check(params).tolist() == design_infeasible(config, frame, tech=tech).tolist()
    np.testing.assert_array_equal(check.features(params)[1], z_frame)
    with pytest.raises(ValueError, match="at least one column"):
        design_infeasible(config, {}, tech=tech)
