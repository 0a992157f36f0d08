"""The LSTM step, recorded runs, the mixture output and the likelihood."""
from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import (
    ARTICLE_VALIDATION,
    SMALL_CONFIG,
    random_model,
    random_rows,
    reference_step,
    require_shared,
)
from inkcore.model import (
    OUTPUT_LAYOUT,
    Config,
    LSTMState,
    log_likelihood,
    make_model,
    mixture,
    network_output,
    output_layout,
    run,
    split_output,
    step,
    zero_state,
)
from inkcore.strokes import from_article_file, model_inputs


@pytest.fixture(scope="module")
def model64():
    return random_model(SMALL_CONFIG, seed=1, dtype=np.float64)


def test_step_matches_the_written_out_equations(model64, rng):
    x = random_rows(rng, 5)
    h = rng.normal(0, 0.5, (5, SMALL_CONFIG.cells))
    c = rng.normal(0, 2.0, (5, SMALL_CONFIG.cells))
    state = step(model64, x, LSTMState(h, c))
    h_ref, c_ref = reference_step(model64, x, h, c)
    np.testing.assert_allclose(state.h, h_ref, rtol=0, atol=1e-12)
    np.testing.assert_allclose(state.c, c_ref, rtol=0, atol=1e-12)


def test_a_batch_equals_single_runs(model64, rng):
    xs = np.stack([random_rows(rng, 40, lift_every=5 + b) for b in range(4)], axis=1)  # (T, B, 3)
    together = run(model64, xs)
    assert together.h.shape == (40, 4, SMALL_CONFIG.cells)
    for b in range(4):
        alone = run(model64, xs[:, b])
        np.testing.assert_allclose(together.h[:, b], alone.h, rtol=0, atol=1e-12)
        np.testing.assert_allclose(together.c[:, b], alone.c, rtol=0, atol=1e-12)
    # and the lines really differ, so the comparison above could have failed
    assert not np.allclose(together.h[:, 0], together.h[:, 1])


def test_run_records_what_step_by_step_reading_sees(model64, rng):
    xs = random_rows(rng, 30)[:, None, :]
    recording = run(model64, xs)
    state = zero_state(model64, (1,))
    for t, x in enumerate(xs):
        state = step(model64, x, state)
        np.testing.assert_allclose(recording.h[t], state.h, rtol=0, atol=1e-12)
        np.testing.assert_allclose(recording.c[t], state.c, rtol=0, atol=1e-12)
    final = recording.final
    np.testing.assert_array_equal(final.h, recording.h[-1])
    np.testing.assert_array_equal(final.c, recording.c[-1])


def test_run_continues_from_a_given_state(model64, rng):
    xs = random_rows(rng, 20)
    whole = run(model64, xs)
    first = run(model64, xs[:12])
    rest = run(model64, xs[12:], first.final)
    np.testing.assert_allclose(rest.h, whole.h[12:], rtol=0, atol=1e-12)


def test_any_leading_batch_shape(model64, rng):
    xs = np.stack([random_rows(rng, 15, lift_every=3 + k) for k in range(6)], axis=1)  # (T, 6, 3)
    flat = run(model64, xs)
    shaped = run(model64, xs.reshape(15, 2, 3, 3))
    n = SMALL_CONFIG.cells
    assert shaped.h.shape == (15, 2, 3, n)
    np.testing.assert_allclose(shaped.h.reshape(15, 6, n), flat.h, rtol=0, atol=1e-12)

    state = step(model64, xs[0].reshape(2, 3, 3), zero_state(model64, (2, 3)))
    assert state.h.shape == state.c.shape == (2, 3, n)
    np.testing.assert_allclose(state.h.reshape(6, n), flat.h[0], rtol=0, atol=1e-12)

    mix = mixture(model64, shaped.h)
    m = SMALL_CONFIG.components
    assert mix.log_pi.shape == mix.mu_x.shape == mix.rho.shape == (15, 2, 3, m)
    assert mix.eos_logit.shape == (15, 2, 3)
    ll = log_likelihood(mix, np.broadcast_to(xs.reshape(15, 2, 3, 3), (15, 2, 3, 3)))
    assert ll.gauss.shape == ll.eos.shape == (15, 2, 3)


def test_run_rejects_rows_of_the_wrong_width(model64):
    with pytest.raises(ValueError):
        run(model64, np.zeros((5, 1, 2)))
    with pytest.raises(ValueError):
        run(model64, np.zeros(3))


def check_mixture_invariants(mix):
    np.testing.assert_allclose(mix.pi.sum(axis=-1), 1.0, rtol=0, atol=1e-5)
    assert np.all(mix.pi >= 0)
    assert np.all(mix.sigma_x > 0) and np.all(mix.sigma_y > 0)
    assert np.all(np.abs(mix.rho) < 1)
    assert np.all(mix.eos > 0) and np.all(mix.eos < 1)
    for field in mix:
        assert np.isfinite(field).all()


def test_mixture_invariants_on_a_random_model(small_model, rng):
    recording = run(small_model, random_rows(rng, 50)[:, None, :])
    check_mixture_invariants(mixture(small_model, recording.h))


def test_mixture_invariants_hold_for_extreme_outputs():
    rng = np.random.default_rng(3)
    m = 4
    y = rng.normal(0, 30.0, (200, 1 + 6 * m))  # logits far beyond where exp overflows naively
    y[:, output_layout(m)["rho_raw"]] = rng.normal(0, 3.0, (200, m))
    y[:, output_layout(m)["log_sigma_x"]] = rng.normal(0, 2.0, (200, m))
    y[:, output_layout(m)["log_sigma_y"]] = rng.normal(0, 2.0, (200, m))
    y[:, 0] = rng.normal(0, 5.0, 200)
    check_mixture_invariants(split_output(y, m))


def test_mixture_invariants_on_the_article_model(article_model):
    rows = from_article_file(json.loads((require_shared(ARTICLE_VALIDATION) / "0.json").read_text()))
    recording = run(article_model, model_inputs(rows)[:, None, :])
    check_mixture_invariants(mixture(article_model, recording.h[:, 0]))


def reference_log_likelihood(y: np.ndarray, target: np.ndarray, m: int):
    """Graves (2013) eqs. 18-26 in float64, straight from the density, on raw output y (N, 1+6m)."""
    y = y.astype(np.float64)
    eos = 1.0 / (1.0 + np.exp(-y[:, 0]))  # eq. 18, with the article's sign: eos = sigmoid(y0)
    e_pi = np.exp(y[:, 1 : 1 + m])
    pi = e_pi / e_pi.sum(axis=1, keepdims=True)  # eq. 19
    mu1, mu2 = y[:, 1 + m : 1 + 2 * m], y[:, 1 + 2 * m : 1 + 3 * m]  # eq. 20
    s1, s2 = np.exp(y[:, 1 + 3 * m : 1 + 4 * m]), np.exp(y[:, 1 + 4 * m : 1 + 5 * m])  # eq. 21
    rho = np.tanh(y[:, 1 + 5 * m : 1 + 6 * m])  # eq. 22
    x1, x2, pen = target[:, 0:1], target[:, 1:2], target[:, 2]
    Z = ((x1 - mu1) / s1) ** 2 + ((x2 - mu2) / s2) ** 2 - 2 * rho * (x1 - mu1) * (x2 - mu2) / (s1 * s2)  # eq. 25
    density = np.exp(-Z / (2 * (1 - rho**2))) / (2 * np.pi * s1 * s2 * np.sqrt(1 - rho**2))  # eq. 24
    gauss = np.log((pi * density).sum(axis=1))
    bernoulli = np.log(np.where(pen == 1, eos, 1 - eos))  # eq. 26
    return gauss, bernoulli


def test_log_likelihood_matches_the_density_written_out(rng):
    m, n = 5, 300
    y = np.empty((n, 1 + 6 * m))
    y[:, 0] = rng.normal(0, 2, n)
    y[:, 1 : 1 + m] = rng.normal(0, 2, (n, m))
    y[:, 1 + m : 1 + 3 * m] = rng.normal(0, 0.5, (n, 2 * m))
    y[:, 1 + 3 * m : 1 + 5 * m] = rng.normal(-0.5, 0.4, (n, 2 * m))
    y[:, 1 + 5 * m :] = rng.normal(0, 1.0, (n, m))
    target = random_rows(rng, n, lift_every=4)
    expected_gauss, expected_eos = reference_log_likelihood(y, target, m)

    ll = log_likelihood(split_output(y, m), target)
    np.testing.assert_allclose(ll.gauss, expected_gauss, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(ll.eos, expected_eos, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(ll.total, expected_gauss + expected_eos, rtol=1e-10, atol=1e-10)
    assert ll.gauss.dtype == np.float64


def test_log_likelihood_of_a_float32_model_is_close_to_float64(small_model, rng):
    rows = random_rows(rng, 60)
    h32 = run(small_model, model_inputs(rows)[:, None, :]).h[:, 0]
    model64 = small_model.astype(np.float64)
    h64 = run(model64, model_inputs(rows)[:, None, :]).h[:, 0]
    ll32 = log_likelihood(mixture(small_model, h32), rows)
    ll64 = log_likelihood(mixture(model64, h64), rows)
    expected = reference_log_likelihood(network_output(model64, h64), rows, SMALL_CONFIG.components)
    np.testing.assert_allclose(ll64.total, expected[0] + expected[1], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(ll32.total, ll64.total, rtol=1e-3, atol=1e-3)


def test_log_likelihood_stays_finite_where_the_density_underflows():
    m = 2
    y = np.zeros((1, 1 + 6 * m))
    y[0, output_layout(m)["log_sigma_x"]] = -6.0  # sigma 0.0025: a far point has density exp(-1e6)
    y[0, output_layout(m)["log_sigma_y"]] = -6.0
    ll = log_likelihood(split_output(y, m), np.array([[5.0, 5.0, 0.0]]))
    assert np.isfinite(ll.gauss).all() and ll.gauss[0] < -1e5


def test_nothing_is_mutated(model64, rng):
    xs = random_rows(rng, 25)[:, None, :]
    h0 = rng.normal(0, 0.5, (1, SMALL_CONFIG.cells))
    c0 = rng.normal(0, 0.5, (1, SMALL_CONFIG.cells))
    state = LSTMState(h0, c0)
    kept = [a.copy() for a in (xs, h0, c0)]

    recording = run(model64, xs, state)
    step(model64, xs[0], state)
    mix = mixture(model64, recording.h)
    mix_kept = [f.copy() for f in mix]
    y = network_output(model64, recording.h)
    y_kept = y.copy()
    split_output(y, SMALL_CONFIG.components)
    target = np.broadcast_to(xs, xs.shape).copy()
    target_kept = target.copy()
    log_likelihood(mix, target)

    for before, after in zip(kept, (xs, h0, c0)):
        assert np.array_equal(before, after)
    for before, after in zip(mix_kept, mix):
        assert np.array_equal(before, after)
    assert np.array_equal(y_kept, y)
    assert np.array_equal(target_kept, target)


def test_model_arrays_are_read_only_copies(rng):
    source = random_model(SMALL_CONFIG, seed=4)
    arrays = {name: np.array(getattr(source, name)) for name in ("W_x", "W_h", "b", "W_out", "b_out")}
    model = make_model(SMALL_CONFIG, **arrays)
    arrays["W_h"][0, 0] += 1.0  # the caller's array stays the caller's
    assert model.W_h[0, 0] == source.W_h[0, 0]
    for name in arrays:
        assert not getattr(model, name).flags.writeable
    with pytest.raises(ValueError):
        model.b[0] = 1.0


def test_make_model_checks_shapes():
    arrays = {name: np.zeros(shape) for name, shape in random_model(SMALL_CONFIG).expected_shapes().items()}
    arrays["W_h"] = np.zeros((16, 63))
    with pytest.raises(ValueError, match="W_h"):
        make_model(SMALL_CONFIG, **arrays)


def test_float64_on_request(small_model, rng):
    assert small_model.dtype == np.float32
    model64 = small_model.astype(np.float64)
    assert model64.dtype == np.float64 and model64.b_out.dtype == np.float64
    recording = run(model64, random_rows(rng, 10)[:, None, :])
    assert recording.h.dtype == recording.c.dtype == np.float64
    state = step(model64, np.zeros(3), zero_state(model64))
    assert state.h.dtype == state.c.dtype == np.float64
    assert mixture(model64, state.h).mu_x.dtype == np.float64
    # and float32 stays float32 end to end
    state32 = step(small_model, np.zeros(3), zero_state(small_model))
    assert state32.h.dtype == np.float32 and mixture(small_model, state32.h).mu_x.dtype == np.float32


def test_the_article_output_layout():
    """The article's JavaScript reads y in exactly this order; Magenta once shipped a wrong slice."""
    expected = {
        "eos_logit": (0, 1),
        "pi_logit": (1, 21),
        "mu_x": (21, 41),
        "mu_y": (41, 61),
        "log_sigma_x": (61, 81),
        "log_sigma_y": (81, 101),
        "rho_raw": (101, 121),
    }
    assert {k: (s.start, s.stop) for k, s in OUTPUT_LAYOUT.items()} == expected
    assert Config().output_size == 121


@pytest.mark.parametrize("m", [1, 3, 20])
def test_split_output_puts_each_parameter_where_the_layout_says(m):
    layout = output_layout(m)
    y = np.empty((2, 1 + 6 * m))
    # every slot gets its own recognisable values: slot k, component j -> k + j / 100
    for k, name in enumerate(layout):
        width = layout[name].stop - layout[name].start
        y[:, layout[name]] = k + np.arange(width) / 100.0
    y[1] *= -1.0  # and the second batch row differs from the first
    covered = np.zeros(1 + 6 * m, int)
    for part in layout.values():
        covered[part] += 1
    assert np.all(covered == 1), "the layout must cover every output exactly once"

    mix = split_output(y, m)
    np.testing.assert_array_equal(mix.eos_logit, y[:, 0])
    np.testing.assert_array_equal(mix.mu_x, y[:, layout["mu_x"]])
    np.testing.assert_array_equal(mix.mu_y, y[:, layout["mu_y"]])
    np.testing.assert_array_equal(mix.log_sigma_x, y[:, layout["log_sigma_x"]])
    np.testing.assert_array_equal(mix.log_sigma_y, y[:, layout["log_sigma_y"]])
    np.testing.assert_allclose(mix.rho, np.tanh(y[:, layout["rho_raw"]]), rtol=1e-15)
    logits = y[:, layout["pi_logit"]]
    pi = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(mix.pi, pi, rtol=1e-12)
    np.testing.assert_allclose(mix.eos, 1.0 / (1.0 + np.exp(-y[:, 0])), rtol=1e-12)


def test_mixture_take_selects_one_step(small_model, rng):
    recording = run(small_model, random_rows(rng, 8)[:, None, :])
    mix = mixture(small_model, recording.h[:, 0])
    one = mix.take(5)
    assert one.eos_logit.shape == () and one.mu_x.shape == (SMALL_CONFIG.components,)
    np.testing.assert_array_equal(one.mu_y, mix.mu_y[5])
