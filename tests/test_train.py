"""Training in PyTorch agrees with the NumPy engine: forward pass, loss, export and checkpoints."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch is not installed: training tests need the train extra "
                                           "(pip install -e '.[train]')")

from conftest import SMALL_CONFIG, random_rows  # noqa: E402
from inkcore.evaluate import score  # noqa: E402
from inkcore.model import Config, log_likelihood, network_output, output_layout, run, split_output  # noqa: E402
from inkcore.strokes import model_inputs  # noqa: E402
from inkcore.train import (  # noqa: E402
    ZERO_DY_SIGMA,
    HandwritingNet,
    evaluate_lines,
    hold_zero_dy,
    make_zero_dy,
    load_checkpoint,
    mixture_nll,
    save_checkpoint,
    to_numpy_model,
    warm_start,
)
from inkcore.weights import save_npz  # noqa: E402


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    return HandwritingNet(Config())


@pytest.fixture(scope="module")
def inputs():
    rng = np.random.default_rng(0)
    return np.stack([model_inputs(random_rows(rng, 30, lift_every=5 + b)) for b in range(2)])  # (B, T, 3)


def numpy_output(model, inputs: np.ndarray) -> np.ndarray:
    recording = run(model, inputs.transpose(1, 0, 2))  # (T, B, cells)
    return network_output(model, recording.h).transpose(1, 0, 2)  # (B, T, output)


def torch_output(net, inputs: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        out, _ = net(torch.from_numpy(inputs.astype(np.float32)))
    return out.double().numpy()


def test_the_numpy_forward_pass_equals_torch(net, inputs):
    model = to_numpy_model(net).astype(np.float64)
    assert model.dtype == np.float64
    expected = torch_output(net, inputs)
    got = numpy_output(model, inputs)
    assert got.shape == expected.shape == (2, 30, 121)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5)
    assert np.abs(expected).max() > 0.01  # outputs are not all zero: the comparison means something


def test_the_exported_forget_bias_is_applied_at_run_time(net):
    """torch holds the forget gate's +1 in its biases; the engine adds it when stepping."""
    model = to_numpy_model(net)
    n = model.config.cells
    b_ih = net.lstm.bias_ih_l0.detach().double().numpy()
    b_hh = net.lstm.bias_hh_l0.detach().double().numpy()
    torch_forget = (b_ih + b_hh)[n : 2 * n]  # torch's gate order is i, f, g, o
    np.testing.assert_allclose(model.b[2 * n : 3 * n] + model.config.forget_bias, torch_forget, atol=1e-6)


def test_the_loss_is_the_engine_log_likelihood(inputs):
    m = 20
    rng = np.random.default_rng(1)
    y = rng.normal(0, 1.0, (200, 1 + 6 * m))
    y[:, output_layout(m)["log_sigma_x"]] -= 1.0
    target = random_rows(rng, 200, lift_every=3)
    gauss, eos = mixture_nll(torch.from_numpy(y), torch.from_numpy(target), m)
    expected = log_likelihood(split_output(y, m), target)
    np.testing.assert_allclose(gauss.numpy(), -expected.gauss, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(eos.numpy(), -expected.eos, rtol=1e-10, atol=1e-10)


def test_torch_evaluation_matches_the_engine(net):
    rng = np.random.default_rng(2)
    lines = [random_rows(rng, length) for length in (12, 30, 7)]
    torch_scores = evaluate_lines(net, lines, batch=2)
    numpy_scores = score(to_numpy_model(net).astype(np.float64), lines).to_dict()
    assert torch_scores["points"] == numpy_scores["points"] == 49
    for key in ("nll_per_point", "gauss_per_point", "eos_per_point"):
        assert torch_scores[key] == pytest.approx(numpy_scores[key], abs=1e-4)


def test_warm_start_reproduces_the_exported_model(net, inputs, tmp_path):
    path = save_npz(tmp_path / "export.npz", to_numpy_model(net), provenance={"steps": 1234, "wall_hours": 0.5})
    torch.manual_seed(123)
    fresh = HandwritingNet(Config())
    assert not np.allclose(torch_output(fresh, inputs), torch_output(net, inputs), atol=1e-3)
    steps, seconds = warm_start(fresh, path)
    np.testing.assert_allclose(torch_output(fresh, inputs), torch_output(net, inputs), rtol=0, atol=1e-5)
    assert (steps, seconds) == (1234, 1800.0)  # the schedule and the card's clock go on from there


def small_training_steps(net, optimizer, steps: int, seed: int) -> None:
    generator = np.random.default_rng(seed)
    for _ in range(steps):
        rows = np.stack([random_rows(generator, 20) for _ in range(3)]).astype(np.float32)
        x = torch.from_numpy(np.stack([model_inputs(r) for r in rows]).astype(np.float32))
        out, _ = net(x)
        gauss, eos = mixture_nll(out, torch.from_numpy(rows), net.config.components)
        loss = (gauss + eos).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def test_a_checkpoint_restores_parameters_adam_and_generators(tmp_path):
    torch.manual_seed(0)
    net = HandwritingNet(SMALL_CONFIG)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
    small_training_steps(net, optimizer, 3, seed=0)
    rng = np.random.default_rng(5)
    rng.random(7)
    path = tmp_path / "checkpoint.npz"
    save_checkpoint(path, net, optimizer, 3, rng, {"best": -0.5, "elapsed": 12.0})
    assert not list(tmp_path.glob("*.partial*"))

    torch.manual_seed(99)
    restored = HandwritingNet(SMALL_CONFIG)
    restored_optimizer = torch.optim.Adam(restored.parameters(), lr=1e-2)
    restored_rng = np.random.default_rng(0)
    torch.rand(5)  # move torch's generator on, so that restoring it is tested
    meta = load_checkpoint(path, restored, restored_optimizer, restored_rng)
    assert meta["step"] == 3 and meta["best"] == -0.5 and meta["elapsed"] == 12.0

    for (name, a), (_, b) in zip(net.named_parameters(), restored.named_parameters()):
        assert torch.equal(a, b), name
        state, restored_state = optimizer.state[a], restored_optimizer.state[b]
        assert torch.equal(state["exp_avg"], restored_state["exp_avg"]), name
        assert torch.equal(state["exp_avg_sq"], restored_state["exp_avg_sq"]), name
        assert float(state["step"]) == float(restored_state["step"]) == 3.0
    assert np.array_equal(rng.random(4), restored_rng.random(4))
    expected_torch_draw = torch.rand(3)

    # the same next updates from both: Adam's moments and step count really came back
    small_training_steps(net, optimizer, 2, seed=1)
    small_training_steps(restored, restored_optimizer, 2, seed=1)
    for a, b in zip(net.parameters(), restored.parameters()):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-6)

    load_checkpoint(path, restored, restored_optimizer, restored_rng)
    assert torch.equal(torch.rand(3), expected_torch_draw)


def test_the_zero_dy_component_stays_a_point_mass_through_training(inputs):
    torch.manual_seed(1)
    net = HandwritingNet(Config())
    hold_zero_dy(net, 7)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
    x = torch.from_numpy(inputs.astype(np.float32))
    target = torch.from_numpy(np.roll(inputs, -1, axis=1).astype(np.float32))
    for _ in range(3):
        gauss, eos = mixture_nll(net(x)[0], target, net.config.components)
        optimizer.zero_grad()
        (gauss + eos).mean().backward()
        optimizer.step()
        hold_zero_dy(net, 7)
    model = to_numpy_model(net)
    mix = split_output(network_output(model, run(model, inputs.transpose(1, 0, 2)).h), model.config.components)
    assert np.all(mix.mu_y[..., 7] == 0)
    np.testing.assert_allclose(mix.sigma_y[..., 7], ZERO_DY_SIGMA, rtol=1e-6)
    assert np.all(mix.rho[..., 7] == 0)
    others = np.delete(mix.mu_y, 7, axis=-1)
    assert np.all(others != 0)  # the other components are left to learn
    assert not np.allclose(mix.mu_x[..., 7], mix.mu_x[0, 0, 7])  # its x part is learned too


def test_a_new_zero_dy_component_starts_from_the_heaviest_one():
    torch.manual_seed(2)
    net = HandwritingNet(Config())
    part = output_layout(net.config.components)
    with torch.no_grad():
        net.out.bias[part["pi_logit"].start + 4] = 5.0  # the heaviest component
    make_zero_dy(net, 11)
    for name in ("mu_x", "log_sigma_x"):
        assert torch.equal(net.out.weight[part[name].start + 11], net.out.weight[part[name].start + 4])
    assert float(net.out.bias[part["pi_logit"].start + 11]) == pytest.approx(5.0 - np.log(10.0))
    before = net.out.bias.detach().clone()
    make_zero_dy(net, 11)  # already one: left as it is (a resumed run keeps what it learned)
    assert torch.equal(net.out.bias.detach(), before)


def test_the_learning_rate_schedule_bends_smoothly():
    from types import SimpleNamespace

    from inkcore.train import learning_rate

    args = SimpleNamespace(lr=1e-3, warm_steps=6000, halve_every=12000, min_lr=5e-5, anneal_from=None, anneal_every=3000)
    assert learning_rate(0, args) == learning_rate(6000, args) == 1e-3
    assert learning_rate(18000, args) == pytest.approx(5e-4)
    assert learning_rate(10**6, args) == 5e-5
    bent = SimpleNamespace(**{**vars(args), "anneal_from": 30000})
    assert learning_rate(30000, bent) == pytest.approx(learning_rate(30000, args))  # no jump at the bend
    assert learning_rate(33000, bent) == pytest.approx(learning_rate(30000, args) / 2)
    assert learning_rate(29000, bent) == learning_rate(29000, args)


def test_a_run_exports_its_best_and_the_next_session_resumes_it(tmp_path, monkeypatch, capsys):
    import json

    from inkcore.data import LineSet, load_lines, save_lines
    from inkcore.train import main
    from inkcore.weights import load

    monkeypatch.setattr("inkcore.train.signal.signal", lambda *args: None)  # keep pytest's own SIGTERM
    rng = np.random.default_rng(0)
    sizes = [40, 50, 30, 35]
    points = [np.column_stack([np.cumsum(rng.integers(-30, 30, (n, 2)), axis=0), np.arange(n) % 6 == 5])
              for n in sizes]
    starts = np.concatenate([[0], np.cumsum(sizes)])
    data = save_lines(tmp_path / "lines.npz", LineSet(
        np.concatenate(points).astype(np.int16), np.zeros(starts[-1], np.int32), starts,
        np.array([f"l-{k}" for k in range(4)]), np.array([""] * 4), np.array(["train", "train", "train", "val"]),
        np.array([-1, -1, -1, 0])))
    run_dir, best = tmp_path / "run", tmp_path / "best.npz"
    command = ["--data", str(data), "--run-dir", str(run_dir), "--export", str(best), "--batch", "2",
               "--window", "20", "--eval-every", "2", "--threads", "1"]
    assert main(command + ["--steps", "4"]) == 0
    assert main(command + ["--steps", "2"]) == 0
    assert f"resumed from {run_dir / 'checkpoint.npz'} at step 4" in capsys.readouterr().out
    records = [json.loads(line) for line in (run_dir / "log.jsonl").read_text().splitlines()]
    assert [record["step"] for record in records] == [2, 4, 6]
    model, metadata = load(best, dtype=np.float64)
    chosen = min(records, key=lambda record: record["val_nll_per_point"])
    assert metadata["provenance"]["steps"] == chosen["step"]
    validation = load_lines(data).model_rows("val", article_only=True)
    assert score(model, validation).nll_per_point == pytest.approx(chosen["val_nll_per_point"], abs=1e-4)
