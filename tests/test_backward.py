"""inkcore.backward: the NumPy backward pass against PyTorch's autograd on the same
weights (float64), against central finite differences, with a hold in place, and
integrated gradients' completeness."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import SMALL_CONFIG, random_model, random_rows
from inkcore import backward
from inkcore.evaluate import score
from inkcore.model import Hold, log_likelihood, mixture, network_output, output_layout, run
from inkcore.strokes import model_inputs

#: Gradients agree with autograd to this in float64.
AUTOGRAD_TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def model():
    return random_model(SMALL_CONFIG, seed=11, dtype=np.float64)


@pytest.fixture(scope="module")
def rows():
    return random_rows(np.random.default_rng(4), 30)


def a_hold(cells: int) -> Hold:
    keep, put = np.ones(cells), np.zeros(cells)
    keep[[1, 5]] = 0.0
    put[[1, 5]] = [0.7, -1.2]
    keep[9] = 0.5
    return Hold(keep, put)


def torch_point(model, rows, at, hold=None):
    """f, df/d(rows), df/dh and df/dc (h following c) by autograd, the step written out
    from inkcore.model's conventions."""
    torch = pytest.importorskip("torch", reason="the train extra (PyTorch) is not installed")
    n = model.config.cells
    W_x, W_h, b = (torch.tensor(np.asarray(a, np.float64)) for a in (model.W_x, model.W_h, model.b))
    W_out, b_out = torch.tensor(np.asarray(model.W_out, np.float64)), torch.tensor(np.asarray(model.b_out, np.float64))
    earlier = torch.tensor(rows[:at], requires_grad=True)
    inputs = torch.cat([torch.zeros(1, 3, dtype=torch.float64), earlier])
    h, c = torch.zeros(n, dtype=torch.float64), torch.zeros(n, dtype=torch.float64)
    hs, cs = [], []
    for x in inputs:
        z = x @ W_x + h @ W_h + b
        i, g = torch.sigmoid(z[:n]), torch.tanh(z[n : 2 * n])
        f, o = torch.sigmoid(z[2 * n : 3 * n] + model.config.forget_bias), torch.sigmoid(z[3 * n :])
        c = f * c + i * g
        if hold is not None:
            c = c * torch.tensor(hold.keep) + torch.tensor(hold.put)
        c.retain_grad()
        h = o * torch.tanh(c)
        h.retain_grad()
        hs.append(h)
        cs.append(c)
    y = h @ W_out + b_out
    part = output_layout(model.config.components)
    log_pi = torch.log_softmax(y[part["pi_logit"]], -1)
    mu_x, mu_y, log_sx, log_sy = (y[part[k]] for k in ("mu_x", "mu_y", "log_sigma_x", "log_sigma_y"))
    rho = torch.tanh(y[part["rho_raw"]])
    x1, x2, pen = (float(v) for v in rows[at])
    zx, zy = (x1 - mu_x) / torch.exp(log_sx), (x2 - mu_y) / torch.exp(log_sy)
    z = zx**2 + zy**2 - 2 * rho * zx * zy
    log_n = -z / (2 * (1 - rho**2)) - np.log(2 * np.pi) - log_sx - log_sy - 0.5 * torch.log(1 - rho**2)
    eos_logit = y[part["eos_logit"]][0]
    f = torch.logsumexp(log_pi + log_n, -1) + torch.nn.functional.logsigmoid(eos_logit if pen > 0.5 else -eos_logit)
    f.backward()
    return (float(f.detach()), earlier.grad.numpy(), np.stack([s.grad.numpy() for s in hs]),
            np.stack([s.grad.numpy() for s in cs]))


@pytest.mark.parametrize("held", [False, True], ids=["intact", "held"])
def test_a_points_gradient_is_autograds(model, rows, held):
    hold = a_hold(model.config.cells) if held else None
    at = 23
    ours = backward.point_gradient(model, rows, at, hold)
    f, d_rows, d_h, d_c = torch_point(model, rows, at, hold)
    assert ours.log_likelihood == pytest.approx(f, abs=1e-10)
    np.testing.assert_allclose(ours.rows, d_rows, atol=AUTOGRAD_TOLERANCE)
    np.testing.assert_allclose(ours.h, d_h, atol=AUTOGRAD_TOLERANCE)
    np.testing.assert_allclose(ours.c, d_c, atol=AUTOGRAD_TOLERANCE)
    if held:  # the hold changed what flows back
        assert not np.allclose(ours.rows, backward.point_gradient(model, rows, at).rows)


def test_the_shipped_models_gradient_is_autograds(shipped_weights):
    from inkcore.weights import load

    model = load(shipped_weights)[0].astype(np.float64)
    line = random_rows(np.random.default_rng(8), 40) * 0.3
    ours = backward.point_gradient(model, line, 35)
    f, d_rows, d_h, d_c = torch_point(model, line, 35)
    assert ours.log_likelihood == pytest.approx(f, abs=1e-9)
    np.testing.assert_allclose(ours.rows, d_rows, atol=AUTOGRAD_TOLERANCE)
    np.testing.assert_allclose(ours.c, d_c, atol=AUTOGRAD_TOLERANCE)


def test_the_log_likelihood_is_the_one_score_gives(model, rows):
    at = 17
    ours = backward.point_gradient(model, rows, at)
    states = run(model, model_inputs(rows))
    expected = log_likelihood(mixture(model, states.h[at]), rows[at]).total
    assert ours.log_likelihood == pytest.approx(float(expected), abs=1e-10)
    assert -score(model, [rows[: at + 1]]).nll_per_point * (at + 1) == pytest.approx(
        sum(backward.point_gradient(model, rows, t).log_likelihood for t in range(at + 1)), abs=1e-8)


@pytest.mark.parametrize("held", [False, True], ids=["intact", "held"])
def test_the_gradient_is_central_finite_differences(model, rows, held):
    hold = a_hold(model.config.cells) if held else None
    at, eps = 12, 1e-6
    ours = backward.point_gradient(model, rows, at, hold)

    def f(changed):
        return backward.point_gradient(model, changed, at, hold).log_likelihood

    numeric = np.zeros((at, 3))
    for j in range(at):
        for k in range(2):  # the pen bit is a number the model reads like any other
            up, down = rows.copy(), rows.copy()
            up[j, k] += eps
            down[j, k] -= eps
            numeric[j, k] = (f(up) - f(down)) / (2 * eps)
    np.testing.assert_allclose(ours.rows[:, :2], numeric[:, :2], atol=1e-6)


def test_the_mixture_gradient_is_finite_differences(model):
    rng = np.random.default_rng(2)
    y = rng.normal(0, 0.7, (4, model.config.output_size))
    target = np.array([[0.3, -0.2, 0.0], [1.1, 0.4, 1.0], [0.0, 0.0, 0.0], [-0.5, 0.9, 1.0]])
    f, grad = backward.mixture_gradient(model, y, target)
    reference = log_likelihood(mixture(model.astype(np.float64), np.zeros((4, model.config.cells))), target)
    assert f.shape == reference.total.shape
    eps = 1e-6
    for j in range(y.shape[1]):
        up, down = y.copy(), y.copy()
        up[:, j] += eps
        down[:, j] -= eps
        numeric = (backward.mixture_gradient(model, up, target)[0] - backward.mixture_gradient(model, down, target)[0])
        np.testing.assert_allclose(grad[:, j], numeric / (2 * eps), atol=1e-6)


def test_weight_gradients_are_autograds(model, rows):
    torch = pytest.importorskip("torch", reason="the train extra (PyTorch) is not installed")
    tape = backward.forward(model, model_inputs(rows)[:, None, :])
    y = network_output(model, tape.h[1:])
    f, dy = backward.mixture_gradient(model, y, rows[:, None, :])
    dh = np.zeros_like(tape.h)
    dh[1:] = dy @ model.W_out.T
    grads = backward.backward(model, tape, dh, weights=True)
    grads.weights.update(backward.output_weight_gradients(tape.h[1:], dy))
    n = model.config.cells
    params = {name: torch.tensor(np.asarray(getattr(model, name)), requires_grad=True)
              for name in ("W_x", "W_h", "b", "W_out", "b_out")}
    h, c, total = torch.zeros(n, dtype=torch.float64), torch.zeros(n, dtype=torch.float64), 0.0
    from inkcore.train import mixture_nll

    for x, target in zip(torch.tensor(model_inputs(rows)), torch.tensor(rows)):
        z = x @ params["W_x"] + h @ params["W_h"] + params["b"]
        i, g = torch.sigmoid(z[:n]), torch.tanh(z[n : 2 * n])
        fg, o = torch.sigmoid(z[2 * n : 3 * n] + model.config.forget_bias), torch.sigmoid(z[3 * n :])
        c = fg * c + i * g
        h = o * torch.tanh(c)
        gauss, eos = mixture_nll(h @ params["W_out"] + params["b_out"], target, model.config.components)
        total = total - gauss - eos
    total.backward()
    assert float(total.detach()) == pytest.approx(float(f.sum()), abs=1e-8)
    for name, param in params.items():
        np.testing.assert_allclose(grads.weights[name], param.grad.numpy(), atol=AUTOGRAD_TOLERANCE, err_msg=name)


def test_a_target_at_row_zero_has_nothing_before_it(model, rows):
    assert backward.point_gradient(model, rows, 0).rows.shape == (0, 3)
    ig = backward.integrated_gradients(model, rows, 0)
    assert ig.attribution.shape == (0, 3) and ig.log_likelihood == ig.baseline_log_likelihood


def test_a_row_outside_the_line_is_refused(model, rows):
    with pytest.raises(ValueError, match="outside the line"):
        backward.point_gradient(model, rows, len(rows))


def test_integrated_gradients_are_complete(shipped_weights):
    from inkcore.sampling import generate
    from inkcore.weights import load

    model = load(shipped_weights)[0]
    line = generate(model, 300, np.random.default_rng(3))
    for at in (40, 150, 299):
        ig = backward.integrated_gradients(model, line, at)
        assert ig.attribution.shape == (at, 3)
        assert ig.completeness < 0.01
        assert abs(ig.attribution.sum() - (ig.log_likelihood - ig.baseline_log_likelihood)) < 0.01 * abs(
            ig.log_likelihood - ig.baseline_log_likelihood)


def test_more_quadrature_points_close_the_completeness_gap(model, rows):
    coarse = backward.integrated_gradients(model, rows, 20, steps=2)
    fine = backward.integrated_gradients(model, rows, 20, steps=64)
    assert fine.completeness < max(coarse.completeness, 1e-9)
    assert fine.completeness < 1e-3


# --- lags over a corpus ----------------------------------------------------------------


def test_a_model_without_memory_puts_all_mass_at_lag_one(rows):
    """With W_h zero and the forget gate shut, the state that predicts row T has read row
    T - 1 alone (c carries memory through the forget gate even when W_h is zero)."""
    from inkcore import lags
    from inkcore.corpus import corpus_of
    from inkcore.model import make_model

    base = random_model(SMALL_CONFIG, seed=5, dtype=np.float64)
    n = SMALL_CONFIG.cells
    b = np.array(base.b)
    b[2 * n : 3 * n] = -1e4
    memoryless = make_model(SMALL_CONFIG, W_x=base.W_x, W_h=np.zeros_like(base.W_h), b=b, W_out=base.W_out,
                            b_out=base.b_out)
    profile = lags.lag_profile(memoryless, corpus_of([rows, rows[:20]]), every=3, max_lag=10)
    shares = profile.shares()["all"]
    assert shares[0] == pytest.approx(1.0) and np.all(shares[1:] == 0.0)
    assert profile.summary()["lag50_all"] == 1 and profile.summary()["lag90_all"] == 1
    remembering = lags.lag_profile(base, corpus_of([rows]), every=3, max_lag=10).shares()["all"]
    assert remembering[0] < 0.99 and remembering[1:].sum() > 0.01


def test_a_lines_lag_shares_are_each_targets_own_gradient(model, rows):
    from inkcore import lags

    targets = np.array([3, 10, 20, 29])
    shares = lags.line_lag_shares(model, rows, targets, max_lag=8)
    for k, target in enumerate(targets):
        one = backward.point_gradient(model, rows, int(target))
        mass = np.abs(one.rows * rows[:target]).sum(axis=1)[::-1]
        expected = np.zeros(9)
        expected[: min(8, target)] = mass[:8] / mass.sum()
        expected[8] = mass[8:].sum() / mass.sum()
        np.testing.assert_allclose(shares[k], expected, atol=1e-9)
        assert shares[k].sum() == pytest.approx(1.0)


def test_targets_are_every_kth_row_and_every_lift():
    from inkcore import lags

    line = np.zeros((12, 3))
    line[[4, 11], 2] = 1.0
    assert lags.targets_of(line, 5).tolist() == [4, 5, 10, 11]
    assert lags.within(np.array([0.5, 0.3, 0.2, 0.0]), 0.5) == 1
    assert lags.within(np.array([0.5, 0.3, 0.2, 0.0]), 0.9) == 3
    assert lags.within(np.array([0.1, 0.1, 0.1, 0.7]), 0.5) is None  # only beyond the last lag counted


def test_the_baseline_zeroes_the_window_before_the_target_only(model, rows):
    at, window = 20, 5
    ig = backward.integrated_gradients(model, rows, at, window=window)
    assert np.all(ig.attribution[: at - window] == 0.0) and ig.first == at - window
    zeroed = rows.copy()
    zeroed[at - window : at] = 0.0
    assert ig.baseline_log_likelihood == pytest.approx(backward.point_gradient(model, zeroed, at).log_likelihood,
                                                       abs=1e-10)
    assert ig.completeness < 0.01
    whole = backward.integrated_gradients(model, rows, at, window=None)
    assert whole.first == 0
    np.testing.assert_allclose(backward.integrated_gradients(model, rows, at, window=at + 10).attribution,
                               whole.attribution, atol=1e-12)


def test_integrated_gradients_are_complete_far_along_a_real_line(shipped_weights):
    from conftest import ARTICLE_VALIDATION, require_shared
    from inkcore.data import read_article_lines
    from inkcore.weights import load

    lines = read_article_lines(require_shared(ARTICLE_VALIDATION))
    model = load(shipped_weights)[0]
    ig = backward.integrated_gradients(model, lines[0], 1010)  # its whole path is far from smooth (docs/attribution.md)
    assert ig.completeness < 0.01 and ig.first == 1010 - backward.IG_WINDOW
    assert np.all(ig.attribution[: ig.first] == 0.0)
