"""inkcore.adapt: a zero update is the base model, one update lowers the fitted lines'
NLL, the held-out line is read but never fitted, each method trains only its part,
and the weights gradients the adaptation uses agree with PyTorch's autograd."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import SMALL_CONFIG, random_model, random_rows
from inkcore import adapt
from inkcore.corpus import scored_log_likelihood
from inkcore.model import ARRAY_NAMES


@pytest.fixture(scope="module")
def model():
    return random_model(SMALL_CONFIG, seed=3, dtype=np.float64)


@pytest.fixture(scope="module")
def lines():
    rng = np.random.default_rng(8)
    return [random_rows(rng, n) for n in (40, 33, 27)]


def nll(model, lines, primes=None) -> float:
    scored = scored_log_likelihood(model, lines, primes)
    return -sum(float(ll.gauss.sum() + ll.eos.sum()) for ll in scored) / sum(len(r) for r in lines)


def both_readings(model, lines, primes) -> float:
    """The mean NLL per point of ``lines`` read alone and after ``primes``, every point once in each."""
    return (nll(model, lines) + nll(model, lines, primes)) / 2


@pytest.mark.parametrize("method", list(adapt.METHODS))
def test_a_zero_update_is_the_base_model(model, method):
    params = adapt._initial(model, method, adapt.LORA_RANK, seed=0)
    same = adapt._model_of(model, method, params)
    for name in ARRAY_NAMES:
        np.testing.assert_array_equal(getattr(same, name), getattr(model, name), err_msg=name)


@pytest.mark.parametrize("method", list(adapt.METHODS))
def test_the_first_reading_is_the_base_model_and_one_update_lowers_the_fitted_nll(model, lines, method):
    result = adapt.adapt(model, lines, method, steps=1, patience=5)
    first, second = result.history
    assert first.step == 0 and second.step == 1
    # fitted lines 0 and 1 each read after the other; the held-out line 2 after line 0
    assert first.fit_nll == pytest.approx(both_readings(model, lines[:2], [lines[1], lines[0]]), rel=1e-9)
    assert first.held_out_nll == pytest.approx(both_readings(model, lines[2:], [lines[0]]), rel=1e-9)
    assert second.fit_nll < first.fit_nll


@pytest.mark.parametrize("method, trained", [("output", {"W_out", "b_out"}), ("biases", {"b", "b_out"}),
                                             ("lora", {"W_h", "W_x", "b_out"}), ("all", set(ARRAY_NAMES))])
def test_each_method_changes_only_its_part(model, lines, method, trained):
    result = adapt.adapt(model, lines, method, steps=3, patience=10, held_out=0)
    assert result.best_step > 0, "a random model should gain on its first updates"
    changed = {name for name in ARRAY_NAMES if not np.array_equal(getattr(result.model, name), getattr(model, name))}
    assert changed == trained


def test_the_held_out_line_is_never_fitted(model, lines):
    """Changing the held-out line changes the readings of it, and nothing of the fitting."""
    other = [lines[0], lines[1], random_rows(np.random.default_rng(99), 31)]
    a = adapt.adapt(model, lines, "all", steps=4, patience=10)
    b = adapt.adapt(model, other, "all", steps=4, patience=10)
    assert [s.fit_nll for s in a.history] == [s.fit_nll for s in b.history]
    assert [s.held_out_nll for s in a.history] != [s.held_out_nll for s in b.history]


def test_early_stopping_keeps_the_update_that_read_the_held_out_line_best(model, lines):
    result = adapt.adapt(model, lines, "all", steps=12, patience=3, learning_rate=0.05)
    held = [s.held_out_nll for s in result.history]
    assert result.best_step == int(np.argmin(held))
    assert both_readings(result.model, lines[2:], [lines[0]]) == pytest.approx(min(held), rel=1e-9)
    if result.stopped == "converged":
        assert len(held) - 1 - result.best_step == 3


def test_stop_when_asked_keeps_the_best_so_far(model, lines):
    calls = []
    result = adapt.adapt(model, lines, "biases", steps=50, should_stop=lambda: len(calls) >= 2,
                         on_step=calls.append)
    assert result.stopped == "asked" and len(result.history) == 2
    assert calls == result.history


def test_lora_gradients_follow_the_chain_rule(model, lines):
    """dL/dA = dL/dW B^T and dL/dB = A^T dL/dW, checked by a finite difference of the loss."""
    params = adapt._initial(model, "lora", 2, seed=1)
    params["B_h"] = np.random.default_rng(2).standard_normal(params["B_h"].shape) * 0.01
    batch = adapt._Batch.of(lines, held_out=-1)
    current = adapt._model_of(model, "lora", params)
    _, _, grads = adapt._pass(current, batch, adapt._NEEDS["lora"])
    step = adapt._param_gradients("lora", params, grads)
    for name, (i, j) in (("A_h", (3, 1)), ("B_h", (1, 7)), ("A_x", (2, 0))):
        def loss(delta):
            moved = {k: v.copy() for k, v in params.items()}
            moved[name][i, j] += delta
            return adapt._pass(adapt._model_of(model, "lora", moved), batch, set())[0]
        numeric = (loss(1e-6) - loss(-1e-6)) / 2e-6
        assert step[name][i, j] == pytest.approx(numeric, rel=1e-4, abs=1e-8), name


def test_weight_gradients_agree_with_autograd(model, lines):
    torch = pytest.importorskip("torch", reason="the train extra (PyTorch) is not installed")
    batch = adapt._Batch.of(lines, held_out=-1)
    _, _, grads = adapt._pass(model, batch, set(ARRAY_NAMES))
    tensors = {name: torch.tensor(np.asarray(getattr(model, name)), requires_grad=True) for name in ARRAY_NAMES}
    loss = torch_loss(torch, model, tensors, batch)
    loss.backward()
    for name in ARRAY_NAMES:
        np.testing.assert_allclose(grads[name], tensors[name].grad.numpy(), atol=1e-7, err_msg=name)


def torch_loss(torch, model, t, batch):
    n, m = model.config.cells, model.config.components
    xs, targets = torch.tensor(batch.inputs), torch.tensor(batch.targets)
    h = torch.zeros(xs.shape[1], n, dtype=torch.float64)
    c = torch.zeros_like(h)
    total = torch.zeros((), dtype=torch.float64)
    for k in range(len(xs)):
        z = xs[k] @ t["W_x"] + h @ t["W_h"] + t["b"]
        i, g = torch.sigmoid(z[:, :n]), torch.tanh(z[:, n : 2 * n])
        f, o = torch.sigmoid(z[:, 2 * n : 3 * n] + model.config.forget_bias), torch.sigmoid(z[:, 3 * n :])
        c = f * c + i * g
        h = o * torch.tanh(c)
        y = h @ t["W_out"] + t["b_out"]
        eos, pi = y[:, 0], torch.log_softmax(y[:, 1 : 1 + m], dim=-1)
        mx, my, lsx, lsy = (y[:, 1 + k2 * m : 1 + (k2 + 1) * m] for k2 in range(1, 5))
        rho = torch.tanh(y[:, 1 + 5 * m :])
        dx, dy, pen = targets[k, :, 0:1], targets[k, :, 1:2], targets[k, :, 2]
        zx, zy = (dx - mx) / torch.exp(lsx), (dy - my) / torch.exp(lsy)
        zz = zx**2 + zy**2 - 2 * rho * zx * zy
        log_n = -zz / (2 * (1 - rho**2)) - np.log(2 * np.pi) - lsx - lsy - 0.5 * torch.log(1 - rho**2)
        gauss = torch.logsumexp(pi + log_n, dim=-1)
        bern = torch.where(pen > 0.5, torch.nn.functional.logsigmoid(eos), torch.nn.functional.logsigmoid(-eos))
        total = total - ((gauss + bern) * torch.tensor(batch.fit[k])).sum()
    return total


def test_the_weight_change_of_a_cell_is_its_own(model):
    assert not adapt.cell_weight_change(model, model).any()
    n = model.config.cells
    W_h = np.array(model.W_h)
    W_h[:, 2 * n + 3] *= 1.1  # cell 3's forget gate, every incoming weight 10% larger
    moved = adapt._model_of(model, "all", {name: getattr(model, name) for name in ARRAY_NAMES} | {"W_h": W_h})
    change = adapt.cell_weight_change(model, moved)
    assert np.flatnonzero(change).tolist() == [3] and 0 < change[3] < 0.1


@pytest.mark.parametrize("lines, message", [
    ([np.zeros((5, 3))], "at least two lines"),
    ([np.zeros((5, 3)), np.zeros((1, 3))], "line 2 has 1 row"),
    ([np.zeros((5, 3)), np.zeros((4, 2))], "shape"),
    ([np.zeros((5, 3)), np.full((4, 3), np.nan)], "NaN"),
])
def test_lines_that_cannot_be_adapted_on_are_refused(model, lines, message):
    with pytest.raises(adapt.AdaptError, match=message):
        adapt.adapt(model, lines)


def test_an_unknown_method_is_refused(model, lines):
    with pytest.raises(adapt.AdaptError, match="unknown method"):
        adapt.adapt(model, lines, "everything")


def test_the_metadata_names_the_base_the_lines_and_the_figures(model, lines):
    result = adapt.adapt(model, lines, "biases", steps=2)
    record = adapt.adapted_metadata(result, "ab" * 32, {"published": "2026-12-01"}, ["a.json", "b.json", "c.json"])
    made = record["adaptation"]
    assert made["base"]["sha256"] == "ab" * 32 and made["method"] == "biases"
    assert [line["role"] for line in made["lines"]] == ["fitted", "fitted", "held out"]
    assert [line["rows"] for line in made["lines"]] == [40, 33, 27]
    assert made["measured"]["held_out_nll"]["base"] == result.history[0].held_out_nll



# --- the benchmark on unseen writers -------------------------------------------------------


def forms_line_set(rng, forms: dict[str, tuple[str, int]]):
    """A line set of ``forms``: form id to (split, lines), each line a short random scrawl."""
    from inkcore.data import LineSet

    ids, splits, lines = [], [], []
    for form, (split, count) in forms.items():
        for k in range(count):
            rows = random_rows(rng, 25 + k)
            points = np.vstack([[0, 0, 0], np.c_[np.cumsum(rows[:, :2] * 40, axis=0), rows[:, 2]]]).astype(np.int16)
            ids.append(f"{form}-{k + 1:02d}")
            splits.append(split)
            lines.append(points)
    starts = np.cumsum([0] + [len(p) for p in lines])
    return LineSet(points=np.vstack(lines), t_ms=np.zeros(starts[-1], np.int32), starts=starts,
                   line_ids=np.array(ids), texts=np.array([""] * len(ids)), split=np.array(splits),
                   article_index=np.full(len(ids), -1, np.int32))


def test_the_benchmark_takes_unseen_writers_with_enough_lines(model):
    from inkcore import bench_adapt

    lines = forms_line_set(np.random.default_rng(0), {"a01-000": ("train", 6), "b02-001": ("val", 6),
                                                      "c03-002": ("test", 4), "d04-003": ("test", 5)})
    chosen = bench_adapt.writers(lines, 10)
    assert [w.form for w in chosen] == ["b02-001", "d04-003"]  # not train, not a form of only 4 lines
    first = chosen[0]
    assert len(first.fit) == bench_adapt.FIT_LINES and len(first.scored) == 2
    assert [len(rows) for rows in first.fit + first.scored] == [25, 26, 27, 28, 29, 30]


def test_the_benchmark_reports_gains_against_the_base_model(model, capsys):
    from inkcore import bench_adapt

    lines = forms_line_set(np.random.default_rng(1), {"b02-001": ("val", 5), "d04-003": ("test", 6)})
    summaries = bench_adapt.report(model, lines, 2, ["biases"])
    s = summaries["biases"]
    assert s["writers"] == 2 and len(s["per_writer"]) == 2
    writer = s["per_writer"][0]
    nll = s["nll"]
    assert nll["base_primed"] - nll["adapted_primed"] == pytest.approx(s["gain_primed_mean"])
    assert writer["base_primed"] > -100 and writer["seconds"] >= 0
    out = capsys.readouterr().out
    assert "biases" in out and "helped" in out and "mean NLL per point" in out
