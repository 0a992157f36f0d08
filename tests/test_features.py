"""inkcore.features, inkcore.features_eval and inkcore.events: the dictionary format,
its encoding, splices, measurement, events and steering."""
from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import SMALL_CONFIG, random_model, random_rows
from inkcore import features_eval
from inkcore.evaluate import score
from inkcore.events import EVENTS, auc, stroke_events
from inkcore.features import (DictionaryError, decode, encode, exact_dictionary, find_dictionary, load_dictionary,
                              make_dictionary, reconstruct, save_dictionary, steering_hold)
from inkcore.model import mixture
from inkcore.sampling import generate

S, F = SMALL_CONFIG.cells, 40


@pytest.fixture(scope="module")
def small_model():
    return random_model(SMALL_CONFIG, seed=3)


@pytest.fixture(scope="module")
def lines():
    rng = np.random.default_rng(5)
    return [random_rows(rng, steps) for steps in (40, 33, 25, 12)]


def random_dictionary(activation="topk", k=4, state="c", seed=0, **metadata):
    rng = np.random.default_rng(seed)
    threshold = np.full(F, 0.1) if activation == "jumprelu" else None
    return make_dictionary(rng.normal(0, 0.5, (S, F)), rng.normal(0, 0.1, F), rng.normal(0, 0.5, (F, S)),
                           rng.normal(0, 0.1, S), rng.uniform(0.5, 2.0, S), threshold, state=state,
                           activation=activation, **({"k": k} if activation == "topk" else {}), **metadata)


def test_encoding_follows_the_formula_in_the_docstring():
    d = random_dictionary("relu")
    x = np.random.default_rng(1).normal(0, 3, (7, S)).astype(np.float32)
    z = ((x / d.scale) - d.b_dec) @ d.W_enc + d.b_enc
    np.testing.assert_allclose(encode(d, x), np.maximum(z, 0), rtol=1e-6)
    a = encode(d, x)
    np.testing.assert_allclose(decode(d, a), (a @ d.W_dec + d.b_dec) * d.scale, rtol=1e-6)
    jump = random_dictionary("jumprelu")
    np.testing.assert_allclose(encode(jump, x), np.where(z > 0.1, z, 0), rtol=1e-6)


def test_topk_keeps_exactly_the_k_largest():
    d = random_dictionary("topk", k=5)
    x = np.random.default_rng(2).normal(0, 3, (50, S)).astype(np.float32)
    z = ((x / d.scale) - d.b_dec) @ d.W_enc + d.b_enc
    a = encode(d, x)
    assert np.all((a != 0).sum(axis=1) <= 5)
    for row, zrow in zip(a, z):
        largest = set(np.argsort(-zrow)[:5][zrow[np.argsort(-zrow)[:5]] > 0])
        assert set(np.flatnonzero(row)) == largest
    np.testing.assert_allclose(reconstruct(d, x), decode(d, a), rtol=1e-5, atol=1e-5)


def test_an_exact_dictionary_reconstructs_and_splices_to_the_intact_nll(small_model, lines):
    d = exact_dictionary(S)
    x = np.random.default_rng(3).normal(0, 4, (20, S)).astype(np.float32)
    np.testing.assert_array_equal(reconstruct(d, x), x)
    figures = features_eval.evaluate_dictionary(small_model, d, lines)
    intact = score(small_model, lines).nll_per_point
    assert figures["nll_intact"] == pytest.approx(intact, abs=1e-6)  # float32, batched otherwise
    assert figures["nll_spliced_output"] == figures["nll_intact"]
    assert figures["nll_spliced_state"] == figures["nll_intact"]
    assert figures["fve"] == pytest.approx(1.0)
    assert figures["loss_recovered_output"] == pytest.approx(1.0)
    assert figures["loss_recovered_state"] == pytest.approx(1.0)


def test_evaluation_figures_equal_a_computation_by_hand(small_model, lines):
    d = random_dictionary("topk", k=3)
    figures = features_eval.evaluate_dictionary(small_model, d, lines)
    # by hand: one line at a time, step by step, with the engine's plain step
    from inkcore.model import LSTMState, log_likelihood, mixture, sigmoid, step, zero_state
    from inkcore.strokes import model_inputs

    n = small_model.config.cells
    states, ll = [], {"intact": [], "output": [], "state": []}
    for rows in lines:
        intact = spliced = zero_state(small_model)
        for x, target in zip(model_inputs(rows), rows):
            o = sigmoid(intact.h @ small_model.W_h[:, 3 * n:] + x @ small_model.W_x[:, 3 * n:] + small_model.b[3 * n:])
            intact = step(small_model, x, intact)
            states.append(intact.c)
            c_hat = reconstruct(d, intact.c)
            o_s = sigmoid(spliced.h @ small_model.W_h[:, 3 * n:] + x @ small_model.W_x[:, 3 * n:]
                          + small_model.b[3 * n:])
            spliced = step(small_model, x, spliced)
            c_s = reconstruct(d, spliced.c)
            spliced = LSTMState(o_s * np.tanh(c_s), c_s)
            for name, h in (("intact", intact.h), ("output", o * np.tanh(c_hat)), ("state", spliced.h)):
                ll[name].append(float(log_likelihood(mixture(small_model, h), target).total))
    states = np.array(states, np.float64)
    error = states - reconstruct(d, states)
    fve = 1 - (error**2).sum() / ((states - states.mean(0)) ** 2).sum()
    a = encode(d, states)
    assert figures["fve"] == pytest.approx(fve, rel=1e-4)
    assert figures["l0"] == pytest.approx((a > 0).sum(axis=1).mean())
    assert figures["dead_share"] == pytest.approx(np.mean(~(a > 0).any(axis=0)))
    for name, key in (("intact", "nll_intact"), ("output", "nll_spliced_output"), ("state", "nll_spliced_state")):
        assert figures[key] == pytest.approx(-np.mean(ll[name]), abs=1e-4)
    gap = figures["nll_mean_ablated"] - figures["nll_intact"]
    assert figures["loss_recovered_output"] == pytest.approx(
        (figures["nll_mean_ablated"] - figures["nll_spliced_output"]) / gap)


def test_save_and_load_round_trip(tmp_path):
    d = random_dictionary("topk", k=4, model_sha256="ab" * 32)
    path = save_dictionary(tmp_path / "d.features.npz", d)
    back = load_dictionary(path, model_sha256="ab" * 32)
    np.testing.assert_allclose(back.W_enc, d.W_enc, atol=2e-3)  # float16 on disk
    np.testing.assert_array_equal(back.scale, d.scale)
    assert back.k == 4 and back.activation == "topk" and back.state == "c"
    assert find_dictionary("ab" * 32, [tmp_path]) == path
    assert find_dictionary("cd" * 32, [tmp_path, tmp_path / "absent"]) is None
    with np.load(path, allow_pickle=False) as archive:
        assert json.loads(str(archive["metadata"]))["model_sha256"] == "ab" * 32


def _write(path, **arrays):
    np.savez(path, **arrays)
    return path


@pytest.mark.parametrize("fault, words", [
    ("missing", "has no array W_dec"),
    ("shape", "W_dec has shape"),
    ("nan", "NaN"),
    ("activation", "activation 'gelu'"),
    ("k", "needs k"),
    ("metadata", "no metadata"),
    ("json", "not JSON"),
    ("state", "neither 'c' nor 'h'"),
    ("text", "not floating-point"),
])
def test_malformed_files_are_refused_with_the_fault_named(tmp_path, fault, words):
    d = random_dictionary("topk", k=4)
    arrays = {"W_enc": d.W_enc, "b_enc": d.b_enc, "W_dec": d.W_dec, "b_dec": d.b_dec}
    meta = {"state": "c", "activation": "topk", "k": 4}
    if fault == "missing":
        del arrays["W_dec"]
    if fault == "shape":
        arrays["W_dec"] = d.W_dec[:, :-1]
    if fault == "nan":
        arrays["b_enc"] = np.full(F, np.nan)
    if fault == "activation":
        meta["activation"] = "gelu"
    if fault == "k":
        del meta["k"]
    if fault == "state":
        meta["state"] = "x"
    if fault == "text":
        arrays["b_dec"] = np.array(["a"] * S)
    if fault != "metadata":
        arrays["metadata"] = np.array("{not json" if fault == "json" else json.dumps(meta))
    path = _write(tmp_path / "bad.npz", **arrays)
    with pytest.raises(DictionaryError, match="bad.npz") as caught:
        load_dictionary(path)
    assert words in str(caught.value)


def test_files_that_are_not_dictionaries_are_refused(tmp_path):
    (tmp_path / "cut.npz").write_bytes(b"PK\x03\x04 cut short")
    (tmp_path / "pickle.npz").write_bytes(b"\x80\x04 pickled")
    for name in ("cut.npz", "pickle.npz", "absent.npz"):
        with pytest.raises(DictionaryError, match=name):
            load_dictionary(tmp_path / name)
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    obj = tmp_path / "objects.npz"
    np.savez(obj, W_enc=np.array([{"a": 1}], dtype=object))
    with pytest.raises(DictionaryError, match="pickled"):
        load_dictionary(obj)


def test_a_dictionary_of_another_model_is_refused(tmp_path):
    path = save_dictionary(tmp_path / "d.npz", random_dictionary(model_sha256="ab" * 32))
    with pytest.raises(DictionaryError, match="another model"):
        load_dictionary(path, model_sha256="cd" * 32)


def test_steering_at_strength_zero_is_the_intact_model_bit_for_bit(small_model):
    d = random_dictionary("topk", k=4)
    intact = generate(small_model, 80, np.random.default_rng(9))
    held = generate(small_model, 80, np.random.default_rng(9), hold=steering_hold(d, 3, 0.0, S))
    np.testing.assert_array_equal(intact, held)
    steered = generate(small_model, 80, np.random.default_rng(9), hold=steering_hold(d, 3, 5.0, S))
    assert not np.array_equal(intact, steered)
    with pytest.raises(DictionaryError, match="of h"):
        steering_hold(random_dictionary(state="h"), 3, 1.0, S)


def test_numpy_encoding_equals_the_torch_module_it_was_trained_as():
    torch = pytest.importorskip("torch", reason="the train extra (PyTorch) is not installed")
    from inkcore.features_train import TopKAutoencoder

    rng = np.random.default_rng(4)
    states = rng.normal(0, 3, (64, S)).astype(np.float32)
    net = TopKAutoencoder(S, F, 6, states.mean(0), np.full(S, 2.5, np.float32), seed=1)
    with torch.no_grad():
        net.b_enc.normal_(0, 0.3)
    d = net.to_dictionary(state="c")
    with torch.no_grad():
        expected_a = net.encode(torch.from_numpy(states)).numpy()
        expected_x = net(torch.from_numpy(states)).numpy()
    np.testing.assert_allclose(encode(d, states), expected_a, atol=1e-5)
    np.testing.assert_allclose(reconstruct(d, states), expected_x, atol=1e-5)


def test_one_training_step_lowers_the_loss_and_a_run_resumes(tmp_path, small_model, lines):
    pytest.importorskip("torch", reason="the train extra (PyTorch) is not installed")
    from inkcore.features_train import Settings, train

    settings = Settings(features=F, k=4, steps=30, batch=64, learning_rate=3e-3)
    weights = tmp_path / "w.bin"
    weights.write_bytes(b"weights")
    messages = []
    first = train(small_model, str(weights), lines, tmp_path / "run", settings, log=messages.append,
                  should_stop=lambda step: step >= 15)
    assert first.metadata["training"]["steps_done"] == 15 and not first.metadata["complete"]
    done = train(small_model, str(weights), lines, tmp_path / "run", settings, log=messages.append)
    assert any("resumed" in m and "step 15" in m for m in messages)
    assert done.metadata["complete"] and done.features == F and done.k == 4
    states = np.concatenate([features_eval.spliced_log_likelihoods(small_model, done, [rows])[1] for rows in lines])
    untrained = random_dictionary("topk", k=4)
    err = lambda d: ((states - reconstruct(d, states)) ** 2).sum()  # noqa: E731
    assert err(done) < err(untrained)


def test_the_readout_term_makes_the_mixture_lose_less_from_a_warm_start(tmp_path, small_model, lines):
    pytest.importorskip("torch", reason="the train extra (PyTorch) is not installed")
    from inkcore.features_train import Settings, train

    weights = tmp_path / "w.bin"
    weights.write_bytes(b"weights")
    base = Settings(features=F, k=4, steps=30, batch=64, learning_rate=3e-3)
    start = train(small_model, str(weights), lines, tmp_path / "start", base, log=lambda m: None)
    messages = []

    def continued(weight):
        settings = Settings(features=F, k=4, steps=90, batch=64, learning_rate=3e-3, readout_from=30,
                            readout_weight=weight)
        return train(small_model, str(weights), lines, tmp_path / f"weight{weight}", settings,
                     log=messages.append, init=start)

    squared, readout = continued(0.0), continued(1.0)
    assert any("warm start" in m and "30 steps" in m for m in messages)
    assert any("divergence" in m for m in messages)
    assert readout.metadata["training"]["steps_done"] == 90

    def output_loss(d):
        nll = features_eval.spliced_log_likelihoods(small_model, d, lines)[0]
        return float(np.sum(nll["intact"]) - np.sum(nll["output"]))

    assert output_loss(readout) < output_loss(squared)
    with pytest.raises(DictionaryError, match="features"):
        train(small_model, str(weights), lines, tmp_path / "other", Settings(features=2 * F, k=4, steps=40),
              log=lambda m: None, init=start)


def test_the_divergence_is_zero_for_the_true_state_and_grows_with_the_error(small_model):
    torch = pytest.importorskip("torch", reason="the train extra (PyTorch) is not installed")
    from inkcore.features_train import Readout, _divergence, _mixture_samples

    readout = Readout.of(small_model, "c")
    x, gate = torch.randn(512, S, generator=torch.Generator().manual_seed(1)), torch.full((512, S), 0.7)
    noise = torch.randn(512, S, generator=torch.Generator().manual_seed(2))
    divergence = [float(_divergence(readout, x + size * noise, x, gate, torch.Generator().manual_seed(3)))
                  for size in (0.0, 0.05, 0.5)]
    assert divergence[0] == 0.0 and 0.0 < divergence[1] < divergence[2]
    y = readout.output(x[:1], gate[:1]).repeat(20000, 1)
    drawn = _mixture_samples(y, small_model.config.components, 1, torch.Generator().manual_seed(4))[0].numpy()
    mix = mixture(small_model, (0.7 * np.tanh(x[:1].numpy())).astype(np.float32))
    np.testing.assert_allclose(drawn[:, 0].mean(), float((mix.pi * mix.mu_x).sum()), atol=0.05)
    np.testing.assert_allclose(drawn[:, 1].mean(), float((mix.pi * mix.mu_y).sum()), atol=0.05)


# --- events ----------------------------------------------------------------------


def circle_rows(points: int = 60, clockwise: bool = False) -> np.ndarray:
    """A circle drawn anticlockwise on the page (y grows downward in rows), pen lifted at the end."""
    angle = np.linspace(0, 2 * np.pi, points + 1)
    sign = 1.0 if clockwise else -1.0
    xy = np.stack([np.cos(angle), sign * np.sin(angle)], axis=1) * 3.0
    rows = np.zeros((points, 3))
    rows[:, :2] = np.diff(xy, axis=0)
    rows[-1, 2] = 1.0
    return rows


def test_a_circle_turns_left_everywhere_and_a_lifted_pen_is_a_lift():
    events = stroke_events(circle_rows())
    measured = slice(10, None)  # the curvature needs ten points of the stroke behind it
    assert events["turning left"][measured].all() and not events["turning right"].any()
    assert events["pen lifts here"][-1] and events["pen lifts here"].sum() == 1
    assert events["stroke starts"][0] and events["stroke starts"].sum() == 1
    assert events["pen lifts within 5 points"][-6:-1].all() and not events["pen lifts within 5 points"][:-6].any()
    right = stroke_events(circle_rows(clockwise=True))
    assert right["turning right"][measured].all() and not right["turning left"].any()


def test_directions_are_the_page_s():
    up = np.array([[0.0, -1.0, 0.0]] * 5 + [[1.0, 0.0, 1.0]])  # y grows downward: -dy goes up the page
    events = stroke_events(up)
    assert events["moving up"][:5].all() and events["moving right"][5]
    assert set(stroke_events(up)) == set(EVENTS)


def test_descenders_and_ascenders_lie_beyond_the_small_letters():
    rng = np.random.default_rng(0)
    xy = np.stack([np.linspace(0, 40, 200), rng.uniform(-1, 1, 200)], axis=1)
    xy[50, 1], xy[120, 1] = 4.0, -4.0  # y grows downward: a descender, then an ascender
    rows = np.zeros((200, 3))
    rows[:, :2] = np.diff(np.vstack([[0, 0], xy]), axis=0)
    events = stroke_events(rows)
    assert events["descender"][50] and not events["descender"][120]
    assert events["ascender"][120] and not events["ascender"][50]


def test_auc_counts_ties_half_and_is_nan_for_a_missing_class():
    scores = np.array([[0.0], [0.0], [1.0], [2.0]])
    # positives 0 and 2 against negatives 0 and 1: a tie (half), a loss and two wins of four pairs
    assert auc(scores, np.array([False, True, False, True]))[0] == pytest.approx(2.5 / 4)
    assert np.isnan(auc(scores, np.zeros(4, bool))[0])


def test_the_event_table_finds_a_cell_that_copies_the_pen(small_model, lines):
    d = exact_dictionary(S)
    table = features_eval.event_table(small_model, d, lines)
    assert len(table.rows()) == len(EVENTS)
    assert 0 <= table.features_monosemantic <= d.features and 0 <= table.cells_monosemantic <= S
    assert all(0.5 <= row["cell_auc"] <= 1.0 for row in table.rows() if np.isfinite(row["cell_auc"]))
    # the exact dictionary's features are the cells' positive and negative parts
    for row in table.rows():
        if np.isfinite(row["cell_auc"]):
            assert row["feature_auc"] == pytest.approx(row["cell_auc"], abs=0.25)


def test_top_places_are_the_strongest_activations(small_model, lines):
    d = random_dictionary("relu")
    feature = 7
    places = features_eval.top_places(small_model, d, feature, lines, count=5)
    best = max(features_eval.line_activations(small_model, d, rows)[:, feature].max() for rows in lines)
    assert places and places[0].activation == pytest.approx(best)
    assert all(a.activation >= b.activation for a, b in zip(places, places[1:]))
    assert all(p.start <= p.point < p.stop for p in places)
    with pytest.raises(ValueError, match="no feature 99"):
        features_eval.top_places(small_model, d, 99, lines)
