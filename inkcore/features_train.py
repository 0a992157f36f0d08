"""Train a dictionary of a model's state (a TopK sparse autoencoder) with PyTorch.

``inkcore features train`` runs :func:`train`; like :mod:`inkcore.train`, this is
training code: it imports torch, and nothing the app imports imports it. What it
writes is read by :mod:`inkcore.features` in NumPy alone.

The states are those the evaluation protocol reads (a zero row, then the line)
on lines of a line set's ``train`` split, every step of each line. The
autoencoder is the TopK form of Gao et al. (2024): ``z = (x / scale - b_dec) @
W_enc + b_enc``, the k largest of each row kept (and made non-negative), the
rest zero; ``x_hat = (a @ W_dec + b_dec) * scale``. Its loss is the squared
error of the scaled state over the batch's variance, plus an auxiliary term
(weight :data:`AUX_WEIGHT`) in which the :data:`AUX_K` largest pre-activations of
the features dead for :data:`DEAD_AFTER` states reconstruct what the live
ones missed, which brings dead features back. The decoder's rows are kept at
unit length. After :attr:`Settings.readout_from` steps a second term joins the
loss (weight :attr:`Settings.readout_weight`): the divergence, in nats per point,
of the mixture the model gives when it reads the reconstruction
(``h = o * tanh(c_hat)`` with the step's output gate) from the one it gives
reading the true state, KL(intact || reconstructed), the pen's part exact and
the offset's estimated from draws of the intact mixture. Squared error alone
spends its capacity evenly over the cells, while the mixture is far more
sensitive to some directions of the state than to others; the divergence makes
the dictionary keep what the model uses (the end-to-end objective of Braun et
al. 2024). It is measured against the model, not the data: a term on the data's
next row lets the dictionary fit the training lines' noise, predicting them
better than the model does, and it then reads held-out lines worse.
``scale`` is one number for every cell (the state's RMS spread
about its mean): the figures are measured in the state's own units, and a
per-cell scale would spend features on cells that hardly move.

Checkpoints (``.npz``, no pickle) hold the parameters, Adam's moments, the step
and the random generator; a run with the same run folder resumes from its
latest, and its states (with each step's output gate) are kept there too.
"""
from __future__ import annotations

import json
import signal
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np
import torch
import torch.nn.functional as functional
from torch import nn

from inkcore.features import Dictionary, DictionaryError, file_sha256, make_dictionary
from inkcore.features_eval import protocol_run
from inkcore.model import Model, output_layout
from inkcore.train import mixture_nll

AUX_K = 256
AUX_WEIGHT = 1.0 / 32
#: Offsets drawn from each state's intact mixture to measure the divergence.
KL_SAMPLES = 4
#: A feature that has not fired for this many training states counts as dead.
DEAD_AFTER = 200_000


@dataclass(frozen=True)
class Settings:
    """What a dictionary's training is; saved in its metadata."""

    features: int = 4096
    k: int = 32
    state: str = "c"
    lines: int = 1600
    batch: int = 4096
    learning_rate: float = 1e-3
    seed: int = 0
    #: From this step on, the loss also counts what the reconstruction costs the mixture.
    readout_from: int = 3000
    readout_weight: float = 0.1
    #: Total steps; the learning rate decays over the last fifth of each phase.
    steps: int = 5000

    def learning_rate_at(self, step: int) -> float:
        start, stop = 0, self.steps
        if 0 < self.readout_from < self.steps:
            start, stop = (0, self.readout_from) if step < self.readout_from else (self.readout_from, self.steps)
        return self.learning_rate * min(1.0, 5.0 * (1.0 - (step - start) / max(1, stop - start)))


class TopKAutoencoder(nn.Module):
    """The autoencoder the file format describes, in PyTorch."""

    def __init__(self, size: int, features: int, k: int, mean: np.ndarray, scale: np.ndarray, seed: int):
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        decoder = torch.randn(features, size, generator=generator)
        decoder /= decoder.norm(dim=1, keepdim=True)
        self.W_dec = nn.Parameter(decoder)
        self.W_enc = nn.Parameter(decoder.T.clone())
        self.b_enc = nn.Parameter(torch.zeros(features))
        self.b_dec = nn.Parameter(torch.as_tensor(mean / scale, dtype=torch.float32))
        self.register_buffer("scale", torch.as_tensor(scale, dtype=torch.float32))
        self.k = k

    def pre_activations(self, x_scaled: torch.Tensor) -> torch.Tensor:
        return (x_scaled - self.b_dec) @ self.W_enc + self.b_enc

    def sparse_code(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        values, indices = torch.topk(z, self.k, dim=-1)
        return torch.relu(values), indices

    def decode_sparse(self, values: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
        return functional.embedding_bag(indices, self.W_dec, per_sample_weights=values, mode="sum") + self.b_dec

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Dense activations (N, F) of states ``x`` (N, S) in the state's units."""
        values, indices = self.sparse_code(self.pre_activations(x / self.scale))
        return torch.zeros(len(x), self.W_enc.shape[1], dtype=x.dtype).scatter(1, indices, values)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        values, indices = self.sparse_code(self.pre_activations(x / self.scale))
        return self.decode_sparse(values, indices) * self.scale

    def load_dictionary(self, dictionary: Dictionary) -> None:
        """Take the parameters of a trained dictionary of the same shape (a warm start)."""
        with torch.no_grad():
            for name in ("W_enc", "b_enc", "W_dec", "b_dec", "scale"):
                getattr(self, name).copy_(torch.from_numpy(np.array(getattr(dictionary, name), np.float32)))
            self.W_dec /= self.W_dec.norm(dim=1, keepdim=True)

    def to_dictionary(self, **metadata) -> Dictionary:
        def array(tensor):
            return tensor.detach().cpu().numpy().astype(np.float32)

        return make_dictionary(array(self.W_enc), array(self.b_enc), array(self.W_dec), array(self.b_dec),
                               array(self.scale), activation="topk", k=self.k, **metadata)


class Collected(NamedTuple):
    """Every protocol step of the training lines: its state and what its mixture needs."""

    states: np.ndarray  # (N, S) float16, the dictionary's kind of state
    gates: np.ndarray  # (N, S) float16, the output gate o (h = o * tanh(c))


def collect_states(model: Model, lines: list[np.ndarray], state: str = "c",
                   on_progress: Callable[[int, int], None] | None = None) -> Collected:
    """Every protocol step's state and output gate of ``lines``, in float16 (c ranges
    about +-15, so float16 keeps about three digits: enough to learn from)."""
    order = np.argsort([-len(rows) for rows in lines], kind="stable")
    parts: list[tuple] = []
    for start in range(0, len(order), 32):
        run = protocol_run(model, [np.asarray(lines[i], np.float64) for i in order[start : start + 32]])
        parts.append((getattr(run, state)[run.real].astype(np.float16), run.gate[run.real].astype(np.float16)))
        if on_progress is not None:
            on_progress(min(start + 32, len(order)), len(order))
    return Collected(*(np.concatenate(column) for column in zip(*parts)))


class Readout(NamedTuple):
    """The model's output layer, to score a reconstruction by the mixture it gives."""

    W_out: torch.Tensor  # (S, output)
    b_out: torch.Tensor
    components: int
    state: str  # "c": h = o * tanh(state); "h": the state is h

    @classmethod
    def of(cls, model: Model, state: str) -> "Readout":
        def tensor(array):
            return torch.from_numpy(np.array(array, np.float32))  # a writable copy

        return cls(tensor(model.W_out), tensor(model.b_out), model.config.components, state)

    def output(self, x: torch.Tensor, gate: torch.Tensor) -> torch.Tensor:
        """The raw network output (N, 1 + 6M) when the mixture reads state ``x`` (N, S)."""
        h = gate * torch.tanh(x) if self.state == "c" else x
        return h @ self.W_out + self.b_out


def _mixture_samples(y: torch.Tensor, components: int, count: int, generator: torch.Generator) -> torch.Tensor:
    """``count`` offsets (count, N, 3) drawn from each row's mixture (pen 0: only the offset is used)."""
    part = output_layout(components)
    pi = torch.softmax(y[:, part["pi_logit"]], dim=-1)
    chosen = torch.multinomial(pi, count, replacement=True, generator=generator)  # (N, count)

    def pick(name):
        return torch.gather(y[:, part[name]], 1, chosen)

    mu_x, mu_y, rho = pick("mu_x"), pick("mu_y"), torch.tanh(pick("rho_raw"))
    sx, sy = torch.exp(pick("log_sigma_x")), torch.exp(pick("log_sigma_y"))
    e1 = torch.randn(chosen.shape, generator=generator)
    e2 = torch.randn(chosen.shape, generator=generator)
    x = mu_x + sx * e1
    y_ = mu_y + sy * (rho * e1 + torch.sqrt((1 - rho**2).clamp_min(0.0)) * e2)
    return torch.stack([x.T, y_.T, torch.zeros_like(x.T)], dim=-1)


def _divergence(readout: Readout, x_hat: torch.Tensor, x: torch.Tensor, gate: torch.Tensor,
                generator: torch.Generator) -> torch.Tensor:
    """KL(the intact state's mixture || the reconstruction's), nats per point: the pen's
    Bernoulli exactly, the offset's by :data:`KL_SAMPLES` draws from the intact mixture."""
    with torch.no_grad():
        y = readout.output(x, gate)
        samples = _mixture_samples(y, readout.components, KL_SAMPLES, generator)
        intact = torch.stack([mixture_nll(y, sample, readout.components)[0] for sample in samples])
    y_hat = readout.output(x_hat, gate)
    spliced = torch.stack([mixture_nll(y_hat, sample, readout.components)[0] for sample in samples])
    eos, eos_hat = y[:, 0], y_hat[:, 0]
    p = torch.sigmoid(eos)
    pen = p * (functional.logsigmoid(eos) - functional.logsigmoid(eos_hat)) + \
        (1 - p) * (functional.logsigmoid(-eos) - functional.logsigmoid(-eos_hat))
    return (spliced - intact).mean() + pen.mean()


def _batch_loss(net: TopKAutoencoder, x_scaled: torch.Tensor, idle: torch.Tensor,
                readout: tuple | None = None) -> tuple[torch.Tensor, float]:
    """The batch's loss, and the divergence in nats per point (NaN when not counted);
    ``readout`` is (Readout, weight, gates, generator) of the batch's states."""
    z = net.pre_activations(x_scaled)
    values, indices = net.sparse_code(z)
    decoded = net.decode_sparse(values, indices)
    residual = x_scaled - decoded
    spread = ((x_scaled - x_scaled.mean(0)) ** 2).sum(1).mean()
    loss = (residual**2).sum(1).mean() / spread
    gap = float("nan")
    if readout is not None:
        layer, weight, gate, generator = readout
        divergence = _divergence(layer, decoded * net.scale, x_scaled * net.scale, gate, generator)
        loss = loss + weight * divergence
        gap = float(divergence.detach())
    with torch.no_grad():
        idle += len(x_scaled)
        idle[indices[values > 0]] = 0
    dead = idle > DEAD_AFTER
    if dead.any():
        aux_values, aux_indices = torch.topk(z.masked_fill(~dead, -torch.inf), min(AUX_K, int(dead.sum())), dim=-1)
        missed = residual.detach()
        guess = functional.embedding_bag(aux_indices, net.W_dec, per_sample_weights=torch.relu(aux_values),
                                         mode="sum")
        aux = ((missed - guess) ** 2).sum(1).mean() / ((missed - missed.mean(0)) ** 2).sum(1).mean()
        loss = loss + AUX_WEIGHT * aux
    return loss, gap


def _collected(model: Model, lines: list[np.ndarray], run_dir: Path, state: str,
               log: Callable[[str], None]) -> Collected:
    """The run's states and gates: read from ``run_dir`` when they are there."""
    paths = Collected(run_dir / "states.npy", run_dir / "gates.npy")
    if all(path.exists() for path in paths):
        return Collected(*(np.load(path, allow_pickle=False) for path in paths))
    collected = collect_states(model, lines, state, lambda done, total: log(f"reading lines: {done}/{total}"))
    for path, values in zip(paths, collected):
        np.save(path, values)
    return collected


def _save_checkpoint(path: Path, net: TopKAutoencoder, optimizer, step: int, idle: torch.Tensor,
                     generator: torch.Generator) -> None:
    arrays = {f"param/{name}": value.detach().numpy() for name, value in net.state_dict().items()}
    for k, state in optimizer.state.items():
        for name, value in state.items():
            arrays[f"adam/{k}/{name}"] = np.asarray(value)
    arrays.update(step=np.array(step), idle=idle.numpy(), generator=generator.get_state().numpy())
    partial = path.with_name(path.name + ".partial.npz")
    np.savez(partial, **arrays)
    partial.replace(path)


def _load_checkpoint(path: Path, net: TopKAutoencoder, optimizer, generator: torch.Generator):
    with np.load(path, allow_pickle=False) as archive:
        net.load_state_dict({name[6:]: torch.from_numpy(archive[name]) for name in archive.files
                             if name.startswith("param/")})
        params = list(net.parameters())
        for k in range(len(params)):
            if f"adam/{k}/step" in archive.files:
                optimizer.state[params[k]] = {name: torch.from_numpy(np.array(archive[f"adam/{k}/{name}"]))
                                              for name in ("step", "exp_avg", "exp_avg_sq")}
        generator.set_state(torch.from_numpy(archive["generator"]))
        return int(archive["step"]), torch.from_numpy(archive["idle"])


def _check_warm_start(init: Dictionary, settings: Settings) -> None:
    shape = (init.features, init.state, init.k)
    if shape != (settings.features, settings.state, settings.k):
        raise DictionaryError(f"the warm-start dictionary has {shape[0]} features of {shape[1]} with k = {shape[2]}; "
                              f"this run asks for {settings.features} of {settings.state} with k = {settings.k}")


def train(model: Model, weights_path: str, lines: list[np.ndarray], run_dir: str | Path,
          settings: Settings = Settings(), trained_on: str = "", log: Callable[[str], None] = print,
          checkpoint_seconds: float = 300.0, should_stop: Callable[[int], bool] | None = None,
          init: Dictionary | None = None) -> Dictionary:
    """Train a dictionary of ``model``'s state on ``lines``, resuming from ``run_dir``;
    ``should_stop(step)`` (or SIGTERM) ends it early, checkpointed, its metadata saying so.
    With no checkpoint there, ``init`` (a dictionary this function made) is a warm start:
    its parameters, counted as the steps its metadata says it ran."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    states, gates = _collected(model, lines, run_dir, settings.state, log)
    torch.manual_seed(settings.seed)
    sample = states[:: max(1, len(states) // 200_000)].astype(np.float32)
    mean = sample.mean(axis=0)
    scale = np.full(states.shape[1], np.sqrt(((sample - mean) ** 2).sum(axis=1).mean() / states.shape[1]),
                    np.float32)
    net = TopKAutoencoder(states.shape[1], settings.features, settings.k, mean, scale, settings.seed)
    optimizer = torch.optim.Adam(net.parameters(), lr=settings.learning_rate)
    generator = torch.Generator().manual_seed(settings.seed)
    checkpoint = run_dir / "checkpoint.npz"
    step, idle = 0, torch.zeros(settings.features, dtype=torch.long)
    warm_start: dict = {}
    if checkpoint.exists():
        step, idle = _load_checkpoint(checkpoint, net, optimizer, generator)
        log(f"resumed from {checkpoint} at step {step}")
    elif init is not None:
        _check_warm_start(init, settings)
        net.load_dictionary(init)
        step = int(init.metadata.get("training", {}).get("steps_done", 0))
        warm_start = {"warm_start": {"steps": step, "fresh_optimizer": True}}
        log(f"warm start from a dictionary of {step} steps")
    stopping: list[bool] = []
    previous = signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    data, gates = torch.from_numpy(states), torch.from_numpy(gates)
    readout = Readout.of(model, settings.state)
    last_saved, started, first_step = time.monotonic(), time.monotonic(), step
    try:
        while step < settings.steps and not stopping and not (should_stop and should_stop(step)):
            for group in optimizer.param_groups:
                group["lr"] = settings.learning_rate_at(step)
            chosen = torch.randint(0, len(data), (settings.batch,), generator=generator)
            counted = (readout, settings.readout_weight, gates[chosen].float(), generator) \
                if step >= settings.readout_from and settings.readout_weight > 0 else None
            loss, gap = _batch_loss(net, data[chosen].float() / net.scale, idle, counted)
            optimizer.zero_grad()
            loss.backward()
            with torch.no_grad():  # unit-length decoder rows: no gradient along them
                net.W_dec.grad -= (net.W_dec.grad * net.W_dec).sum(1, keepdim=True) * net.W_dec
            optimizer.step()
            with torch.no_grad():
                net.W_dec /= net.W_dec.norm(dim=1, keepdim=True)
            step += 1
            if step % 50 == 0 or step == settings.steps:
                rate = (step - first_step) / max(time.monotonic() - started, 1e-9)
                readout_part = "" if gap != gap else f" divergence {gap:.3f} nats/point"
                log(f"step {step}/{settings.steps} loss {loss.item():.4f}{readout_part} dead "
                    f"{int((idle > DEAD_AFTER).sum())} ({rate:.2f} steps/s)")
            if time.monotonic() - last_saved > checkpoint_seconds:
                _save_checkpoint(checkpoint, net, optimizer, step, idle, generator)
                last_saved = time.monotonic()
    finally:
        signal.signal(signal.SIGTERM, previous)
        _save_checkpoint(checkpoint, net, optimizer, step, idle, generator)
    return net.to_dictionary(state=settings.state, model_sha256=file_sha256(weights_path),
                             trained_on={"data": trained_on, "lines": len(lines), "states": int(len(states))},
                             training={**asdict(settings), "steps_done": step, **warm_start},
                             complete=step >= settings.steps)


def metadata_json(dictionary: Dictionary) -> str:
    return json.dumps(dictionary.metadata, indent=2, sort_keys=True)
