"""The ``local`` sampler (Pareto local search, issue 16): positions and moves of each
kind of parameter, no design asked twice, options checked, and the exact front of a
small study neared."""

from __future__ import annotations

import math
import textwrap

import numpy as np
import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from test_storage import STUDY

from dse.errors import DseInputError
from dse.search import grid, make_sampler, run_study
from dse.search.local import _Dim
from dse.search.pareto import hypervolume
from dse.search.study import load_study

DISTS = {
    "int-step": IntDistribution(16, 256, step=16),
    "int-log": IntDistribution(1, 64, log=True),
    "float-step": FloatDistribution(0.8, 2.0, step=0.1),
    "float": FloatDistribution(10.0, 20.0),
    "float-log": FloatDistribution(1.0, 100.0, log=True),
    "numbers": CategoricalDistribution([4096, 256, 1024, 512]),
    "text": CategoricalDistribution(["hbm2e", "gddr6", "lpddr5x"]),
}


def _allowed(dist, value) -> bool:
    if isinstance(dist, CategoricalDistribution):
        return value in dist.choices
    if not dist.low <= value <= dist.high:
        return False
    step = 1 if isinstance(dist, IntDistribution) and dist.log else dist.step
    return step is None or abs((value - dist.low) / step - round((value - dist.low) / step)) < 1e-9


@pytest.mark.parametrize("kind", list(DISTS))
def test_positions_round_trip_and_moves_stay_in_the_range(kind):
    dist = DISTS[kind]
    dim = _Dim(dist)
    rng = np.random.RandomState(0)
    for _ in range(300):
        pos = dim.random(rng)
        value = dim.value(pos)
        assert _allowed(dist, value), value
        assert dim.position(value) == pytest.approx(pos, abs=1e-9)
        moved = dim.move(pos, rng, p_boundary=0.3)
        assert _allowed(dist, dim.value(moved))
        if not dim.ordered:  # a text list always takes another value
            assert moved != pos


def test_grid_sizes_and_order():
    assert _Dim(DISTS["int-step"]).size == 16
    assert _Dim(DISTS["float-step"]).size == 13
    assert _Dim(DISTS["float"]).size is None
    numbers = _Dim(DISTS["numbers"])
    # a number list is ordered by value: a one-step move from 512 reaches 256 or 1024
    assert numbers.ordered and [numbers.value(p) for p in range(4)] == [256, 512, 1024, 4096]
    assert not _Dim(DISTS["text"]).ordered
    # the log range is walked on the log scale: its middle is the geometric mean
    assert _Dim(DISTS["float-log"]).value(0.5) == pytest.approx(10.0)


def test_boundary_moves_reach_the_ends():
    rng = np.random.RandomState(1)
    for dist, ends in ((DISTS["int-step"], {16, 256}), (DISTS["float"], {10.0, 20.0})):
        dim = _Dim(dist)
        seen = {
            dim.value(dim.move(dim.position(dim.value(dim.random(rng))), rng, 1.0))
            for _ in range(50)
        }
        assert seen == ends


def test_steps_are_mostly_small():
    # heavy-tailed: one grid step is the most common move, and far jumps happen
    dim = _Dim(IntDistribution(0, 99))
    rng = np.random.RandomState(2)
    steps = np.array([abs(dim.move(50.0, rng, 0.0) - 50.0) for _ in range(4000)])
    counts = np.bincount(steps.astype(int))
    assert counts[1] == counts[1:].max()
    assert (steps >= 25).mean() > 0.05


SMALL = """
[study]
name = "tiny"
workload = "llm-decode:llama-3-8b:batch=8,context=1024"
trials = 24
seed = 5
sampler = "local"
[study.objectives]
tokens_per_s = "maximize"
unit_cost_usd = "minimize"
[fixed]
tdp_w = 350
cooling = "air"
macs_per_core = 1024
clock_ghz = 1.5
sram_mb = 64
[space]
node = ["smic-n2", "tsmc-n7"]
cores = { low = 16, high = 48, step = 16 }
memory = ["hbm2e", "gddr6"]
memory_count = { low = 2, high = 4, step = 2 }
"""


def test_no_design_is_asked_twice_after_the_start(tmp_path):
    p = tmp_path / "tiny.toml"
    p.write_text(textwrap.dedent(SMALL))
    cfg = load_study(p)  # 2 x 3 x 2 x 2 = 24 designs
    keys = list(cfg.space)
    d = run_study(cfg, trials=24, progress=False).designs.sort_values("trial")
    designs = [tuple(r) for r in d[keys].itertuples(index=False)]
    start = 16  # the random start-up trials may repeat; the search never does
    for i in range(start, len(designs)):
        assert designs[i] not in designs[:i], (i, designs[i])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_nears_the_exact_front_of_a_small_study(tmp_path, seed):
    p = tmp_path / "store.toml"
    p.write_text(textwrap.dedent(STUDY))
    cfg = load_study(p)  # 3,456 designs
    exact = grid(cfg, progress=False).pareto
    names, dirs = cfg.metric_names, cfg.directions
    sign = np.array([1.0 if d == "minimize" else -1.0 for d in dirs])
    f = exact[names].to_numpy(dtype=float) * sign
    lo, span = f.min(axis=0), np.ptp(f, axis=0)
    ref = np.full(len(names), 1.1)
    hv_exact = hypervolume((f - lo) / span, ref)
    d = run_study(cfg, trials=300, sampler="local", seed=seed, progress=False).designs
    found = d.loc[d["feasible"].to_numpy(dtype=bool), names].to_numpy(dtype=float) * sign
    ratio = hypervolume((found - lo) / span, ref) / hv_exact
    # 300 of the 3,456 designs (9 %) give 99 % of the exact front's hypervolume (measured
    # 0.992-0.999 on seeds 0-4; NSGA-II with this study's population of 12: 0.990-1.000)
    assert ratio >= 0.99


def test_options_are_checked():
    make_sampler("local", seed=0, options={"p_two": 0.2, "n_startup_trials": 8})
    with pytest.raises(DseInputError, match="p_two must be a number from 0 to 1"):
        make_sampler("local", seed=0, options={"p_two": 2})
    with pytest.raises(DseInputError, match="n_startup_trials must be an integer >= 1"):
        make_sampler("local", seed=0, options={"n_startup_trials": 0})
    with pytest.raises(DseInputError, match="did you mean 'p_two'"):
        make_sampler("local", seed=0, options={"p_tow": 0.5})
    make_sampler("local", seed=0, options={"beyond_scale": 1.0})
    for bad in (0, -0.5, float("nan"), "0.3", True):
        with pytest.raises(DseInputError, match="beyond_scale must be a number > 0"):
            make_sampler("local", seed=0, options={"beyond_scale": bad})


def test_parents_past_a_limit_nearest_it_come_first():
    # three infeasible designs not dominated in (objective, violation): the one 0.05 past
    # its limit is drawn with weight 1 / 0.35^2 = 8.2, the ones 1 and 3 past with
    # 1 / 1.3^2 = 0.59 and 1 / 3.3^2 = 0.092 (beyond_scale 0.3): 92 %, 6.7 %, 1.0 %
    from optuna.distributions import IntDistribution

    from dse.search.local import _Archive, _Dim

    sampler = make_sampler("local", seed=0, options={"p_beyond": 1.0})
    a = _Archive(["x"], [_Dim(IntDistribution(0, 9))], np.array([1.0]))
    for x, value, violation in ((1.0, 3.0, 0.05), (2.0, 2.0, 1.0), (3.0, 1.0, 3.0)):
        a.add((x,), [value], violation)
    assert sorted(a.beyond_x) == [(1.0,), (2.0,), (3.0,)]
    assert all(sampler._parent(a)[1] for _ in range(20))  # each one past a limit
    drawn = [sampler._parent(a)[0][0] for _ in range(4000)]
    share = {x: drawn.count(x) / len(drawn) for x in (1.0, 2.0, 3.0)}
    w = np.array([1 / 0.35**2, 1 / 1.3**2, 1 / 3.3**2])
    expected = w / w.sum()
    assert share[1.0] == pytest.approx(expected[0], abs=0.02)
    assert share[2.0] == pytest.approx(expected[1], abs=0.02)
    assert share[3.0] == pytest.approx(expected[2], abs=0.01)


def test_works_as_a_plain_optuna_sampler_with_constraints():
    # outside dse: optuna's optimize loop, constraints given by constraints_func only
    def objective(trial):
        x = trial.suggest_int("x", 0, 20)
        y = trial.suggest_float("y", 0.0, 1.0)
        trial.set_user_attr("c", (x - 15.0,))  # feasible: x <= 15
        return float(x), float(x) * (1.0 - y) + y

    sampler = make_sampler("local", seed=0, constraints_func=lambda t: t.user_attrs["c"])
    study = optuna.create_study(directions=["maximize", "minimize"], sampler=sampler)
    study.optimize(objective, n_trials=120)
    xs = [t.params["x"] for t in study.trials]
    # the search moves to the feasible maximum of x and stays near it
    assert max(x for x in xs[16:] if x <= 15) == 15
    assert math.isfinite(study.trials[-1].values[0])


def test_failed_trials_do_not_hold_the_search_at_random():
    # the local search starts once n_startup_trials trials are complete, wherever they are
    def objective(trial):
        x = trial.suggest_int("x", 0, 50)
        if trial.number < 3:
            raise optuna.TrialPruned()  # not complete: does not count as a start-up trial
        return float(x), float(50 - x) + (x % 7)

    sampler = make_sampler("local", seed=1, options={"n_startup_trials": 4})
    study = optuna.create_study(directions=["maximize", "minimize"], sampler=sampler)
    study.optimize(objective, n_trials=40)
    archive = sampler._archive
    assert archive is not None and len(archive.asked) > 4  # the search ran


def test_the_cli_offers_the_studies_samplers_with_their_default():
    from dse.cli import build_parser
    from dse.search.study import DEFAULT_SAMPLER, SAMPLERS

    run = build_parser()._subparsers._group_actions[0].choices["run"]
    (action,) = [a for a in run._actions if "--sampler" in a.option_strings]
    assert tuple(action.choices) == SAMPLERS
    assert action.help.endswith(f"default: the study's, {DEFAULT_SAMPLER})")


def test_one_step_moves_and_the_repair_of_a_parent_past_a_limit():
    from optuna.distributions import CategoricalDistribution, IntDistribution

    from dse.search.local import _Archive, _Dim

    dims = [
        _Dim(IntDistribution(0, 9)),
        _Dim(CategoricalDistribution(["hbm2e", "gddr6", "lpddr5x"])),
        _Dim(IntDistribution(1, 16)),
    ]
    rng = np.random.RandomState(0)
    # one grid step, reflected at an end; a text list takes another value
    assert {dims[0].near(4.0, rng) for _ in range(50)} == {3.0, 5.0}
    assert {dims[0].near(0.0, rng) for _ in range(50)} == {1.0}
    assert {dims[0].near(9.0, rng) for _ in range(50)} == {8.0}
    assert {dims[1].near(0.0, rng) for _ in range(50)} == {1.0, 2.0}

    # a parent past a limit (5 stacks against a cap of 4): its children differ from it in
    # one key by one step, so 4 stacks is among them
    sampler = make_sampler(
        "local", seed=0, options={"p_beyond": 1.0, "p_random": 0.0, "n_startup_trials": 1}
    )
    a = _Archive(["x", "memory", "count"], dims, np.array([1.0]))
    a.add((5.0, 0.0, 4.0), [1.0], 0.0)  # a feasible design
    parent = (2.0, 0.0, 4.0)  # count position 4 = 5 stacks
    a.add(parent, [0.5], 0.25)
    children = set()
    for _ in range(300):
        child = sampler._propose(a)
        diff = [abs(c - p) for c, p in zip(child, parent, strict=True)]
        assert sum(d > 0 for d in diff) == 1
        assert diff[0] <= 1 and diff[2] <= 1
        children.add(child)
    assert (2.0, 0.0, 3.0) in children  # 4 stacks
    assert len(children) == 6  # x +-1, the two other memories, count +-1

    # p_near = 1 without the other moves: every changed key moves by one step
    sampler = make_sampler(
        "local",
        seed=0,
        options={"p_near": 1.0, "p_beyond": 0.0, "p_random": 0.0, "p_crossover": 0.0},
    )
    b = _Archive(["x", "memory", "count"], dims, np.array([1.0]))
    b.add((5.0, 1.0, 8.0), [1.0], 0.0)
    for _ in range(200):
        child = sampler._propose(b)
        assert abs(child[0] - 5.0) <= 1 and abs(child[2] - 8.0) <= 1


def test_near_options_are_checked():
    make_sampler("local", seed=0, options={"p_near": 0.0, "near_beyond": False})
    with pytest.raises(DseInputError, match="p_near must be a number from 0 to 1"):
        make_sampler("local", seed=0, options={"p_near": 1.5})
    for bad in (1, "true", 0.0):
        with pytest.raises(DseInputError, match="near_beyond must be true or false"):
            make_sampler("local", seed=0, options={"near_beyond": bad})


def test_a_slide_lands_on_the_nearest_edge_of_what_the_check_allows():
    # a band of allowed designs, 20 <= x + y <= 22 (as a die at least as large as its
    # memory's PHYs need and at most the area cap): a slide of y from a design the check
    # rules out lands on the first allowed value, and from inside the band on its nearer
    # edge; a key the check allows everywhere has no edge to slide to
    from optuna.distributions import CategoricalDistribution, IntDistribution

    from dse.search.local import _Archive, _Dim

    def check(params):
        return np.array([not 20 <= p["x"] + p["y"] <= 22 for p in params])

    sampler = make_sampler("local", seed=0, design_check=check)
    dims = [
        _Dim(IntDistribution(0, 15)),
        _Dim(IntDistribution(0, 15)),
        _Dim(CategoricalDistribution(["hbm3", "gddr6"])),
    ]
    a = _Archive(["x", "y", "memory"], dims, np.array([1.0, 1.0]))
    # x moved, so y is the one ordered key to slide (the text key never slides)
    assert {sampler._slide(a, [8.0, 3.0, 0.0], [0]) for _ in range(20)} == {(8.0, 12.0, 0.0)}
    assert {sampler._slide(a, [5.0, 3.0, 1.0], [0]) for _ in range(20)} == {(5.0, 15.0, 1.0)}
    assert {sampler._slide(a, [8.0, 13.0, 0.0], [0]) for _ in range(40)} == {
        (8.0, 12.0, 0.0),
        (8.0, 14.0, 0.0),
    }
    # with nothing moved either key may slide (x to 11..13 or y to 14..15, nearer edges
    # 11 and 14; y = 15 is the range's end, not an edge of the band)
    slides = {sampler._slide(a, [6.0, 9.0, 0.0], []) for _ in range(40)}
    assert slides == {(11.0, 9.0, 0.0), (6.0, 14.0, 0.0)}
    # a check that rules nothing out leaves no edge to slide to
    everywhere = make_sampler("local", seed=0, design_check=lambda ps: np.zeros(len(ps), bool))
    assert everywhere._slide(a, [8.0, 3.0, 0.0], [0]) is None


def test_slides_are_an_option():
    make_sampler("local", seed=0, options={"p_slide": 0.0})
    for bad in (1.5, -0.1, "0.25"):
        with pytest.raises(DseInputError, match="p_slide must be a number from 0 to 1"):
            make_sampler("local", seed=0, options={"p_slide": bad})
