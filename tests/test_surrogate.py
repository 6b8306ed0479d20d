"""The surrogate of the ``local`` sampler's first trials (issue 16): the Gaussian process
(its likelihood gradient against finite differences, a smooth function recovered, its
uncertainty growing away from the data) and the batch it proposes (new designs, distinct,
on the feasible side of a known limit)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from optuna.distributions import CategoricalDistribution, IntDistribution

from dse.errors import DseInputError
from dse.search import make_sampler
from dse.search.local import _Dim
from dse.search.surrogate import (
    GaussianProcess,
    Models,
    _Believer,
    _best,
    _extension,
    _matern52,
    _threshold,
    encode,
    propose_batch,
    screen,
)


def _smooth(x: np.ndarray) -> np.ndarray:
    return np.sin(3.0 * x[:, 0]) + x[:, 1] ** 2 - 0.5 * x[:, 0] * x[:, 1]


def test_likelihood_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    x = rng.random((25, 3))
    gp = GaussianProcess(x, _smooth(x) + 0.01 * rng.standard_normal(25))
    for theta in (np.array([0.3, -0.5, 1.0, 0.2, -4.0]), np.array([-1.0, 0.0, 0.5, 1.0, -2.0])):
        _, grad = gp.neg_log_likelihood(theta)
        h = 1e-6
        numeric = [
            (gp.neg_log_likelihood(theta + h * e)[0] - gp.neg_log_likelihood(theta - h * e)[0])
            / (2 * h)
            for e in np.eye(len(theta))
        ]
        # central differences of a smooth function: agreement to ~1e-6 relative
        np.testing.assert_allclose(grad, numeric, rtol=1e-4, atol=1e-5)


def test_recovers_a_smooth_function_and_knows_where_it_has_no_data():
    rng = np.random.default_rng(1)
    x = rng.random((60, 2)) * 0.5  # data on [0, 0.5]^2 only
    gp = GaussianProcess(x, _smooth(x))
    inside = rng.random((200, 2)) * 0.5
    mean, sd = gp.predict(inside)
    truth = _smooth(inside)
    # 60 noise-free samples of a smooth function on its square: error < 2 % of its spread
    assert np.sqrt(np.mean((mean - truth) ** 2)) < 0.02 * np.ptp(truth)
    # the predicted spread covers the error (nearly all points within 3 sd + a floor)
    assert np.mean(np.abs(mean - truth) <= 3 * sd + 1e-3) > 0.95
    _, sd_far = gp.predict(np.array([[1.0, 1.0]]))
    assert sd_far[0] > 10 * np.median(sd)  # far from the data it does not know


def test_believing_a_design_is_adding_it_at_its_mean_to_the_data():
    """The rank-one updates of the kriging believer give the posterior of the same GP
    (same hyperparameters) with the believed designs added as data at their predicted
    means: the means do not move, the variances are those of the enlarged data set."""
    rng = np.random.default_rng(3)
    x = rng.random((30, 2))
    gp = GaussianProcess(x, _smooth(x) + 0.01 * rng.standard_normal(30))
    cand = rng.random((40, 2))
    post = _Believer(gp, cand)
    mean0, sd0 = post.mean.copy(), post.sd()
    for i in (5, 17, 33):
        post.believe(i)
    xa = np.vstack([x, cand[[5, 17, 33]]])
    ya = np.r_[gp.y, (mean0[[5, 17, 33]] - gp.mean) / gp.sd]  # standardised, as gp.y
    k = _matern52(xa, xa, gp.scale, gp.signal) + (gp.noise + 1e-8) * np.eye(len(xa))
    ks = _matern52(cand, xa, gp.scale, gp.signal)
    direct_mean = ks @ np.linalg.solve(k, ya) * gp.sd + gp.mean
    direct_var = gp.signal - np.einsum("ij,ji->i", ks, np.linalg.solve(k, ks.T))
    np.testing.assert_allclose(post.mean, direct_mean, rtol=0, atol=1e-8)
    np.testing.assert_allclose(post.sd(), np.sqrt(np.maximum(direct_var, 1e-12)) * gp.sd, atol=1e-7)
    # a believed design is known to within the noise, the others no worse than before
    assert (post.sd()[[5, 17, 33]] <= np.sqrt(gp.noise + 1e-8) * gp.sd).all()
    assert (post.sd() <= sd0 + 1e-12).all()


def test_encoding_one_hot_for_text_and_unit_range_for_grids():
    dims = [
        _Dim(CategoricalDistribution(["a", "b", "c"])),
        _Dim(IntDistribution(16, 256, step=16)),
        _Dim(CategoricalDistribution(["only"])),
    ]
    x = encode(dims, np.array([[0, 0, 0], [2, 15, 0], [1, 5, 0]], dtype=float))
    np.testing.assert_array_equal(
        x, [[1, 0, 0, 0.0], [0, 0, 1, 1.0], [0, 1, 0, 1 / 3]]
    )  # the one-value key has no column


def _toy(n: int, seed: int):
    """Two keys on grids of 21; maximise both x and y (minimised: -x, -y) under
    x + y <= 20: the front is the limit's line, which is feasible."""
    dims = [_Dim(IntDistribution(0, 20)), _Dim(IntDistribution(0, 20))]
    rng = np.random.RandomState(seed)
    p = rng.randint(0, 21, size=(n, 2)).astype(float)
    f = -p.copy()
    c = ((p[:, 0] + p[:, 1] - 20.0) / 20.0)[:, None]
    ok = c[:, 0] <= 0
    front_x, front_f = [], np.empty((0, 2))
    for i in np.flatnonzero(ok):
        dominated = ((f[ok] <= f[i]).all(1) & (f[ok] < f[i]).any(1)).any()
        if not dominated and tuple(p[i]) not in front_x:
            front_x.append(tuple(p[i]))
            front_f = np.vstack([front_f, f[i]])
    return dims, p, f, c, front_x, front_f, rng


def test_a_batch_is_new_distinct_and_mostly_feasible():
    dims, p, f, c, front_x, front_f, rng = _toy(40, 0)
    asked = {tuple(r) for r in p}
    batch, models = propose_batch(
        dims, p, f, c, front_x, front_f, [], asked, rng, size=6, kappa=1.0, n_random=200
    )
    assert models is not None
    assert len(batch) == 6 and len(set(batch)) == 6
    assert not set(batch) & asked
    # the constraint is linear in the keys: the surrogate learns it from 40 designs and
    # proposes on the feasible side, at or near the line x + y = 20 where the front is
    sums = np.array([x + y for x, y in batch])
    assert (sums <= 20).mean() >= 5 / 6
    assert np.median(sums) >= 18


def test_the_surrogate_finds_the_limit_line_faster_than_random():
    dims, p, f, c, front_x, front_f, rng = _toy(20, 3)
    asked = {tuple(r) for r in p}
    for _ in range(5):  # five rounds of 6 designs, each told before the next round
        batch, _ = propose_batch(
            dims, p, f, c, front_x, front_f, [], asked, rng, size=6, kappa=1.0, n_random=200
        )
        for x in batch:
            asked.add(x)
            p = np.vstack([p, x])
            f = np.vstack([f, [-x[0], -x[1]]])
            c = np.vstack([c, [(x[0] + x[1] - 20.0) / 20.0]])
    on_line = {tuple(r) for r in p[20:] if r.sum() == 20}
    # 30 asked designs; the line holds 21 of the 441, so random designs would put ~1.4
    # on it
    assert len(on_line) >= 10


def test_screening_picks_the_move_the_models_expect_on_the_limit():
    # after its first trials the sampler keeps their models and takes, of a few candidate
    # moves, the one of the largest optimistic gain times probability of feasibility
    dims, p, f, c, front_x, front_f, _ = _toy(40, 0)
    models = Models(dims, p, f, c)
    _, _, feasible = models.predict(np.array([[5.0, 5.0], [14.0, 14.0]]))
    assert feasible[0] > 0.9 and feasible[1] < 0.1  # 10 and 28 against the limit 20
    on_line = next(
        (x, y) for x in range(21) for y in range(21) if x + y == 20 and (x, y) not in front_x
    )
    cands = [(2.0, 3.0), (14.0, 14.0), tuple(map(float, on_line)), (20.0, 20.0)]
    # dominated, past the limit, on the limit (a front point not found yet), far past it
    assert screen(models, cands, front_f, kappa=1.0) == 2


def test_a_count_of_violations_divides_at_one_half():
    # the model's constraint counts violations (0, 1, 2, ...): every design that holds it
    # sits at exactly 0, which a threshold of 0 would give probability 1/2 however far
    # it is from the limit
    assert _threshold(np.array([0.0, 0.0, 1.0, 2.0])) == 0.5
    assert _threshold(np.array([-0.2, -0.1, 0.1, 0.3])) == pytest.approx(0.0)
    assert _threshold(np.array([-0.2, -0.1])) == 0.0
    dims, p, f, _, _, _, _ = _toy(40, 0)
    count = (p.sum(axis=1) > 20).astype(float)[:, None]
    _, _, feasible = Models(dims, p, f, count).predict(np.array([[3.0, 3.0], [18.0, 18.0]]))
    assert feasible[0] > 0.9 and feasible[1] < 0.1


def test_surrogate_options_are_checked():
    make_sampler(
        "local",
        seed=0,
        options={
            "surrogate_trials": 0,
            "surrogate_local": 8,
            "surrogate_kappa": 0.0,
            "surrogate_screen_kappa": 0.0,
        },
    )
    for key, bad, msg in (
        ("surrogate_trials", -1, "surrogate_trials must be an integer >= 0"),
        ("surrogate_trials", 2.5, "surrogate_trials must be an integer >= 0"),
        ("surrogate_local", 9, "surrogate_local must be an integer from 0 to 8"),
        ("surrogate_local", True, "surrogate_local must be an integer from 0 to 8"),
        ("surrogate_kappa", -1.0, "surrogate_kappa must be a number >= 0"),
        ("surrogate_kappa", float("inf"), "surrogate_kappa must be a number >= 0"),
        ("surrogate_screen", 0, "surrogate_screen must be an integer >= 1"),
        ("surrogate_screen", 2.0, "surrogate_screen must be an integer >= 1"),
        ("surrogate_screen_kappa", -0.5, "surrogate_screen_kappa must be a number >= 0"),
        ("surrogate_features", 1, "surrogate_features must be true or false"),
        ("surrogate_extend", "no", "surrogate_extend must be true or false"),
        ("surrogate_refit", 0, "surrogate_refit must be true or false"),
        ("balanced_start", "yes", "balanced_start must be true or false"),
    ):
        with pytest.raises(DseInputError, match=msg):
            make_sampler("local", seed=0, options={key: bad})


def test_a_feature_carrying_the_product_of_keys_is_learnt_from_few_trials():
    # throughput grows with the product of keys (peak compute = cores x MACs x clock): on
    # the keys' positions a Gaussian process needs many trials to learn a product, with the
    # design's log peak compute as a feature it is a straight line
    dims = [_Dim(IntDistribution(1, 20)), _Dim(IntDistribution(1, 20))]
    rng = np.random.RandomState(0)
    p = rng.randint(0, 20, size=(14, 2)).astype(float)
    test = rng.randint(0, 20, size=(200, 2)).astype(float)

    def log_product(pos):
        return np.log((pos[:, :1] + 1.0) * (pos[:, 1:2] + 1.0))

    f = -np.exp(log_product(p))  # maximised; modelled as its logarithm
    c = np.zeros((len(p), 0))
    plain = Models(dims, p, f, c)
    informed = Models(dims, p, f, c, log_product)
    truth = -np.exp(log_product(test))
    plain, informed = (m.tf.inverse(m.predict(test)[0])[:, 0] for m in (plain, informed))
    plain, informed, truth = (np.log(-v.ravel()) for v in (plain, informed, truth))
    err_plain = np.abs(plain - truth).mean()
    err_informed = np.abs(informed - truth).mean()
    assert err_informed < 0.05 < err_plain
    assert err_informed < err_plain / 5


def test_features_are_scaled_over_the_trials_and_missing_ones_sit_midway():
    dims = [_Dim(IntDistribution(0, 10))]
    p = np.array([[0.0], [5.0], [10.0]])
    f = np.array([[1.0], [2.0], [3.0]])

    def feats(pos):
        x = pos[:, 0]
        # a feature over the trials' range, a constant one (nothing to learn: dropped)
        # and one the chain leaves NaN for one design
        return np.column_stack([2.0 * x + 4.0, np.ones_like(x), np.where(x == 10.0, np.nan, x)])

    m = Models(dims, p, f, np.zeros((3, 0)), feats)
    z = m.encode(np.array([[0.0], [5.0], [10.0], [20.0]]))
    assert z.shape == (4, 3)  # the key, two features
    np.testing.assert_allclose(z[:3, 1], [0.0, 0.5, 1.0])
    assert z[3, 1] == pytest.approx(2.0)  # beyond the trials: extrapolated, not clipped
    np.testing.assert_allclose(z[:, 2], [0.0, 1.0, 0.5, 4.0])


def test_a_feature_no_design_has_is_left_out_without_a_warning():
    # a study without DRAM: the chain gives no memory bandwidth for any design
    dims = [_Dim(IntDistribution(0, 10))]
    p = np.array([[0.0], [5.0], [10.0]])

    def feats(pos):
        x = pos[:, 0]
        return np.column_stack([x + 1.0, np.full_like(x, np.nan)])

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's all-NaN RuntimeWarning would fail here
        m = Models(dims, p, np.array([[1.0], [2.0], [3.0]]), np.zeros((3, 0)), feats)
        z = m.encode(p)
    assert z.shape == (3, 2)  # the key and the one feature the designs have
    np.testing.assert_allclose(z[:, 1], [0.0, 0.5, 1.0])


def test_a_batch_ends_with_the_design_that_extends_the_front_its_gain_misses():
    # minimised: -tokens/s and die cost. The front runs from 1,000 to 2,000 tokens/s at
    # $100-200; a design predicted at 2,800 tokens/s costs $600, four spans past the
    # front's dearest, where the reference point of the gain (3 spans) gives it nothing
    front = np.array([[-1000.0, 100.0], [-1500.0, 150.0], [-2000.0, 200.0]])
    cands = np.array([[-2800.0, 600.0], [-1200.0, 110.0], [-3000.0, 650.0], [-900.0, 90.0]])
    feasible = np.array([0.9, 0.9, 0.2, 0.9])
    none = np.zeros(4, dtype=bool)
    assert _best(cands, feasible, front, none) in (1, 3)  # gains of a few per cent
    # the extension: the fastest likely feasible design (2,800), not the faster one the
    # models give 0.2 (3,000)
    assert _extension(cands, feasible, front, 0) == 0
    assert _extension(cands[:2], np.array([0.4, 0.9]), front, 0) is None
    assert _extension(cands, feasible, front, 1) == 3  # the cheapest, $90
    # where the gain finds the front's ends itself (the toy: maximise x and y under
    # x + y <= 20, whose ends (20, 0) and (0, 20) gain most), the batch is unchanged
    dims, p, f, c, front_x, front_f, _ = _toy(40, 0)
    asked = {tuple(r) for r in p}
    args = (dims, p, f, c, front_x, front_f, [], asked)
    plain, _ = propose_batch(*args, np.random.RandomState(1), size=6, kappa=1.0, n_random=200)
    for k in (0, 1):
        ends, _ = propose_batch(
            *args, np.random.RandomState(1), size=6, kappa=1.0, n_random=200, extend=k
        )
        assert ends == plain and {(20.0, 0.0), (0.0, 20.0)} <= set(ends)
