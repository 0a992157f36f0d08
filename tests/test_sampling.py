"""Sampling: seeds, the article's variation, continuations and possible futures."""
from __future__ import annotations

import numpy as np
import pytest

import inkcore.sampling as sampling
from conftest import SMALL_CONFIG, random_model, random_rows, reference_step
from inkcore.model import ARRAY_NAMES, Config, LSTMState, Mixture, make_model, mixture, run
from inkcore.sampling import (
    component_weights, continue_from, continue_writing, generate, next_mixture, possible_futures, sample,
)
from inkcore.strokes import model_inputs


def hand_mixture(pi, mu, sigma, rho, eos, batch=()):
    """A Mixture from per-component values, repeated over a batch shape."""
    m = len(pi)
    tile = lambda values: np.broadcast_to(np.asarray(values, np.float64), (*batch, m)).copy()  # noqa: E731
    mu = np.asarray(mu, np.float64)
    sigma = np.asarray(sigma, np.float64)
    return Mixture(
        log_pi=tile(np.log(pi)),
        mu_x=tile(mu[:, 0]),
        mu_y=tile(mu[:, 1]),
        log_sigma_x=tile(np.log(sigma[:, 0])),
        log_sigma_y=tile(np.log(sigma[:, 1])),
        rho=tile(rho),
        eos_logit=np.full(batch, np.log(eos / (1 - eos))),
    )


THREE = dict(
    pi=[0.2, 0.5, 0.3],
    mu=[[0.0, 0.0], [5.0, -3.0], [-4.0, 4.0]],
    sigma=[[1.0, 1.0], [0.8, 1.2], [1.0, 0.5]],
    rho=[0.0, 0.3, -0.5],
    eos=0.3,
)


@pytest.fixture(scope="module")
def pen_never_lifts():
    """A float64 model whose end-of-stroke probability is exactly 0: with variation 0
    its continuations are deterministic, so they can be recomputed independently."""
    model = random_model(SMALL_CONFIG, seed=21, dtype=np.float64)
    arrays = {name: np.array(getattr(model, name)) for name in ARRAY_NAMES}
    arrays["b_out"][0] = -80.0
    arrays["W_out"][:, 0] = 0.0
    return make_model(SMALL_CONFIG, **arrays)


def greedy_future(model, h, c, steps):
    """From a state that has read everything so far, the most likely component's
    mean at every step, the pen never lifting: (steps, 3)."""
    m = model.config.components
    out = np.zeros((steps, 3))
    for k in range(steps):
        y = h @ model.W_out + model.b_out
        j = np.argmax(y[1 : 1 + m])
        out[k] = y[1 + m + j], y[1 + 2 * m + j], 0.0
        h, c = reference_step(model, out[k], h, c)
    return out


def reference_states(model, rows):
    """States after reading the zero row and then rows 0..t, for every t: (T, cells) each."""
    h = c = np.zeros(model.config.cells)
    h, c = reference_step(model, np.zeros(3), h, c)
    hs, cs = [], []
    for row in rows:
        h, c = reference_step(model, row, h, c)
        hs.append(h)
        cs.append(c)
    return np.array(hs), np.array(cs)


def test_the_same_seed_gives_the_same_strokes(small_model):
    first = generate(small_model, 60, np.random.default_rng(1), count=3)
    again = generate(small_model, 60, np.random.default_rng(1), count=3)
    other = generate(small_model, 60, np.random.default_rng(2), count=3)
    assert np.array_equal(first, again)
    assert not np.allclose(first, other)
    assert first.shape == (3, 60, 3)
    assert generate(small_model, 7, np.random.default_rng(1)).shape == (7, 3)
    assert np.isin(first[..., 2], (0.0, 1.0)).all()


@pytest.mark.parametrize("batch", [(), (4,), (2, 3)])
def test_sample_shapes(batch):
    mix = hand_mixture(**THREE, batch=batch)
    rows = sample(mix, np.random.default_rng(0), 0.65)
    assert rows.shape == (*batch, 3)
    assert rows.dtype == np.float64
    assert np.isin(rows[..., 2], (0.0, 1.0)).all()


def test_variation_zero_gives_exactly_the_most_likely_mean():
    mix = hand_mixture(**THREE, batch=(50,))
    rows = sample(mix, np.random.default_rng(0), 0.0)
    assert np.all(rows[:, 0] == 5.0) and np.all(rows[:, 1] == -3.0)


def test_a_tiny_variation_concentrates_on_the_most_likely_mean():
    mix = hand_mixture(**THREE, batch=(4000,))
    rows = sample(mix, np.random.default_rng(1), 0.01)
    # sigma x 0.01 is about 0.01; 0.1 is 8 standard deviations
    assert np.all(np.abs(rows[:, 0] - 5.0) < 0.1) and np.all(np.abs(rows[:, 1] + 3.0) < 0.1)
    assert rows[:, 0].std() > 0  # it is still a sample, not the mean


def test_sigmas_scale_with_variation():
    n = 40_000
    mix = hand_mixture(pi=[1.0], mu=[[1.0, -2.0]], sigma=[[2.0, 0.5]], rho=[0.6], eos=0.5, batch=(n,))
    for variation in (0.3, 1.0, 1.5):
        rows = sample(mix, np.random.default_rng(3), variation)
        assert rows[:, 0].std() == pytest.approx(2.0 * variation, rel=0.03)
        assert rows[:, 1].std() == pytest.approx(0.5 * variation, rel=0.03)
        assert rows[:, 0].mean() == pytest.approx(1.0, abs=4 * 2.0 * variation / np.sqrt(n))
        assert rows[:, 1].mean() == pytest.approx(-2.0, abs=4 * 0.5 * variation / np.sqrt(n))
        assert np.corrcoef(rows[:, 0], rows[:, 1])[0, 1] == pytest.approx(0.6, abs=0.02)


def test_mixture_weights_are_raised_to_one_over_variation():
    """pi = (0.25, 0.75) at variation 0.5 becomes (1/16, 9/16) renormalised: (0.1, 0.9)."""
    n = 40_000
    mix = hand_mixture(pi=[0.25, 0.75], mu=[[-10.0, 0], [10.0, 0]], sigma=[[1, 1], [1, 1]], rho=[0, 0], eos=0.5,
                       batch=(n,))
    for variation, expected in ((0.5, 0.1), (1.0, 0.25), (2.0, 1 / (1 + np.sqrt(3)))):
        rows = sample(mix, np.random.default_rng(4), variation)
        share = np.mean(rows[:, 0] < 0)
        assert share == pytest.approx(expected, abs=4 * np.sqrt(expected * (1 - expected) / n))


def test_component_weights_are_pi_raised_to_one_over_variation_for_a_batch():
    """The rule the sampler draws by and the mixture figure draws: the largest weight is 1,
    the others pi_k / pi_max to the power 1 / variation; at 0 the likeliest component alone."""
    log_pi = np.log(np.array([[0.25, 0.75], [0.6, 0.4]]))
    np.testing.assert_allclose(component_weights(log_pi, 0.5), [[1 / 9, 1.0], [1.0, 4 / 9]], rtol=1e-12)
    np.testing.assert_allclose(component_weights(log_pi, 2.0), [[np.sqrt(1 / 3), 1.0], [1.0, np.sqrt(2 / 3)]],
                               rtol=1e-12)
    np.testing.assert_array_equal(component_weights(log_pi, 0.0), [[0.0, 1.0], [1.0, 0.0]])


def test_pen_lifts_do_not_depend_on_variation():
    n = 40_000
    mix = hand_mixture(**THREE, batch=(n,))
    for variation in (0.0, 0.1, 0.65, 2.0):
        rows = sample(mix, np.random.default_rng(5), variation)
        assert rows[:, 2].mean() == pytest.approx(0.3, abs=4 * np.sqrt(0.3 * 0.7 / n))


def test_negative_variation_is_refused():
    with pytest.raises(ValueError):
        sample(hand_mixture(**THREE), np.random.default_rng(0), -0.1)


def test_continue_from_leaves_the_state_alone(small_model):
    rng = np.random.default_rng(6)
    state = LSTMState(rng.normal(0, 0.5, (2, 16)).astype(np.float32), rng.normal(0, 0.5, (2, 16)).astype(np.float32))
    last = random_rows(rng, 2)
    kept = [a.copy() for a in (*state, last)]
    result = continue_from(small_model, state, last, 5, rng)
    assert result.rows.shape == (2, 5, 3) and result.eos.shape == (2, 5)
    for before, after in zip(kept, (*state, last)):
        assert np.array_equal(before, after)


def test_continue_writing_changes_nothing_and_returns_candidates(small_model):
    rows = random_rows(np.random.default_rng(7), 30)
    kept = rows.copy()
    result = continue_writing(small_model, rows, 12, np.random.default_rng(8), candidates=4)
    assert result.rows.shape == (4, 12, 3)
    assert result.eos.shape == (4, 12)
    assert np.all((result.eos > 0) & (result.eos < 1))
    assert np.array_equal(rows, kept)
    assert not np.allclose(result.rows[0], result.rows[1])  # candidates are drawn independently
    empty = continue_writing(small_model, np.zeros((0, 3)), 5, np.random.default_rng(8), candidates=2)
    assert empty.rows.shape == (2, 5, 3)


def test_continue_writing_continues_after_the_last_row(pen_never_lifts):
    rows = random_rows(np.random.default_rng(9), 20, lift_every=100)
    result = continue_writing(pen_never_lifts, rows, 6, np.random.default_rng(0), variation=0.0, candidates=2)
    hs, cs = reference_states(pen_never_lifts, rows)
    expected = greedy_future(pen_never_lifts, hs[-1], cs[-1], 6)
    for candidate in result.rows:
        np.testing.assert_allclose(candidate, expected, rtol=0, atol=1e-9)


def test_next_mixture_has_read_every_row(small_model):
    rows = random_rows(np.random.default_rng(10), 15)
    model64 = small_model.astype(np.float64)
    hs, _ = reference_states(model64, rows)
    expected = mixture(model64, hs[-1])
    got = next_mixture(model64, rows)
    np.testing.assert_allclose(got.mu_x, expected.mu_x, rtol=0, atol=1e-10)
    np.testing.assert_allclose(got.eos_logit, expected.eos_logit, rtol=0, atol=1e-10)


@pytest.mark.parametrize("chunk_points", [1, 4, 1000])
def test_possible_futures_start_after_each_point(pen_never_lifts, chunk_points):
    rows = random_rows(np.random.default_rng(11), 9, lift_every=100)
    kept = rows.copy()
    result = possible_futures(pen_never_lifts, rows, np.random.default_rng(0), variation=0.0, futures=3, steps=4,
                              chunk_points=chunk_points)
    assert result.rows.shape == (9, 3, 4, 3)
    assert result.eos.shape == (9,)
    assert np.array_equal(rows, kept)
    hs, cs = reference_states(pen_never_lifts, rows)  # hs[t] has read rows 0..t
    for t in range(len(rows)):
        expected = greedy_future(pen_never_lifts, hs[t], cs[t], 4)
        for n in range(3):
            np.testing.assert_allclose(result.rows[t, n], expected, rtol=0, atol=1e-9)


def test_possible_futures_report_the_pen_lift_probability_of_each_real_row(small_model):
    rows = random_rows(np.random.default_rng(12), 25)
    result = possible_futures(small_model, rows, np.random.default_rng(0), futures=2, steps=3)
    recording = run(small_model, model_inputs(rows)[:, None, :])
    np.testing.assert_allclose(result.eos, mixture(small_model, recording.h[:, 0]).eos, rtol=1e-6)
    again = possible_futures(small_model, rows, np.random.default_rng(0), futures=2, steps=3)
    assert np.array_equal(result.rows, again.rows)


def test_futures_differ_from_one_another(small_model):
    rows = random_rows(np.random.default_rng(13), 5)
    result = possible_futures(small_model, rows, np.random.default_rng(0), futures=4, steps=3)
    assert not np.allclose(result.rows[:, 0], result.rows[:, 1])


def test_generate_starts_from_the_zero_state(pen_never_lifts):
    rows = generate(pen_never_lifts, 5, np.random.default_rng(0), variation=0.0)
    h, c = reference_step(pen_never_lifts, np.zeros(3), np.zeros(16), np.zeros(16))  # a zero row read first
    np.testing.assert_allclose(rows, greedy_future(pen_never_lifts, h, c, 5), rtol=0, atol=1e-9)


def test_possible_futures_report_progress(small_model):
    rows = random_rows(np.random.default_rng(14), 10)
    seen = []
    possible_futures(small_model, rows, np.random.default_rng(0), futures=2, steps=2, chunk_points=4,
                     progress=seen.append)
    assert seen == sorted(seen) and len(seen) == 3 and seen[-1] == 1.0


def test_future_turns_measure_the_angle_from_the_path_taken():
    from inkcore.sampling import future_turns

    rows = np.tile([1.0, 0.0, 0.0], (10, 1))  # a straight line to the right
    futures = np.zeros((10, 2, 3, 3))
    futures[:, 0, :, :2] = [1.0, 0.0]  # straight on
    futures[:, 1, :, :2] = [1.0, 1.0]  # down and right: a right turn on the page, where y grows downward
    turns = future_turns(rows, futures)
    assert turns.shape == (10, 2, 3)
    known = ~np.isnan(turns)
    np.testing.assert_allclose(turns[:, 0][known[:, 0]], 0.0, atol=1e-12)
    np.testing.assert_allclose(turns[:, 1][known[:, 1]], np.pi / 4, atol=1e-12)
    # the future from point t (after row t) can be compared for 9 - t steps; beyond, no angle
    for t in range(10):
        assert np.array_equal(known[t], np.broadcast_to(np.arange(1, 4) <= 9 - t, (2, 3))), t


def test_futures_at_every_nth_point_only(small_model):
    rows = random_rows(np.random.default_rng(3), 23)
    every = sampling.possible_futures(small_model, rows, np.random.default_rng(0), 0.5, 4, 3, every=5)
    drawn = np.isfinite(every.rows).all(axis=(1, 2, 3))
    assert list(np.flatnonzero(drawn)) == [0, 5, 10, 15, 20]
    assert np.isnan(every.rows[~drawn]).all()
    assert every.eos.shape == (23,) and np.isfinite(every.eos).all()  # the real rows are all scored
    with pytest.raises(ValueError):
        sampling.possible_futures(small_model, rows, np.random.default_rng(0), every=0)


@pytest.mark.parametrize("points, futures, steps, budget, every", [
    (600, 50, 8, 240_000, 1), (601, 50, 8, 240_000, 2), (700, 100, 20, 240_000, 6), (1, 100, 20, 10, 200),
])
def test_the_futures_stride_keeps_the_work_within_the_budget(points, futures, steps, budget, every):
    assert sampling.futures_stride(points, futures, steps, budget) == every
    assert -(-points // every) * futures * steps <= budget or every >= points


@pytest.fixture(scope="module")
def full_size_model():
    """float32 and 500 cells, like the shipped model: where a batched product rounds unlike a single row's."""
    return random_model(Config(), seed=3)


@pytest.mark.parametrize("seeds, variation, steps", [
    ([1, 2, 3, 4, 5, 6], 0.65, 120), ([4, 9, 4, 11], 0.8, 60), ([0, 17], 0.3, 200), ([8, 1, 2], 1.2, 90),
])
def test_lines_written_side_by_side_are_the_lines_each_seed_writes_alone(full_size_model, seeds, variation, steps):
    model = full_size_model
    together = [line.rows for line in sampling.generate_seeded(model, steps, seeds, variation=variation)]
    assert np.shape(together) == (len(seeds), steps, 3)
    for line, seed in zip(together, seeds):
        alone = generate(model, steps, np.random.default_rng(seed), variation=variation)
        assert np.array_equal(line, alone), f"seed {seed} written in a batch differs from seed {seed} alone"
        assert np.array_equal(line, sampling.generate_seeded(model, steps, [seed], variation=variation)[0].rows)
    assert not np.allclose(together[0], together[1])
    for line, seed in zip(together, seeds):  # the same seed twice: the same line
        assert np.array_equal(line, together[seeds.index(seed)])


def test_a_longer_line_writes_on_from_a_shorter_one(small_model):
    model = small_model.astype(np.float64)
    whole = sampling.generate_seeded(model, 40, [2, 7, 8], variation=0.6)
    short = sampling.generate_seeded(model, 15, [2, 7], variation=0.6)
    # seed 2 goes on from its 15 rows, seed 7 from 25 it was given, seed 8 starts afresh: three batches
    longer = sampling.generate_seeded(model, 25, [7], variation=0.6, begun=[short[1]])
    again = sampling.generate_seeded(model, 40, [2, 7, 8], variation=0.6, begun=[short[0], longer[0], None])
    for a, b in zip(whole, again):
        assert np.array_equal(b.rows, a.rows) and np.array_equal(b.h, a.h) and np.array_equal(b.c, a.c)
        assert b.generator == a.generator
    kept = sampling.generate_seeded(model, 10, [2], variation=0.6, begun=[whole[0]])[0]
    assert kept is whole[0]  # long enough already: nothing is written
