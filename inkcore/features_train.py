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
unit length. ``scale`` is one number for every cell (the state's RMS spread
about its mean): the figures are measured in the state's own units, and a
per-cell scale would spend features on cells that hardly move.

Checkpoints (``.npz``, no pickle) hold the parameters, Adam's moments, the step
and the random generator; a run with the same run folder resumes from its
latest, and its states are kept there too.
"""
from __future__ import annotations

import json
import signal
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as functional
from torch import nn

from inkcore.features import Dictionary, file_sha256, make_dictionary
from inkcore.model import Model, run_ragged
from inkcore.strokes import model_inputs

AUX_K = 256
AUX_WEIGHT = 1.0 / 32
#: A feature that has not fired for this many training states counts as dead.
DEAD_AFTER = 200_000


@dataclass(frozen=True)
class Settings:
    """What a dictionary's training is; saved in its metadata."""

    features: int = 4096
    k: int = 32
    state: str = "c"
    lines: int = 1600
    steps: int = 3000
    batch: int = 4096
    learning_rate: float = 1e-3
    seed: int = 0


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

    def to_dictionary(self, **metadata) -> Dictionary:
        def array(tensor):
            return tensor.detach().cpu().numpy().astype(np.float32)

        return make_dictionary(array(self.W_enc), array(self.b_enc), array(self.W_dec), array(self.b_dec),
                               array(self.scale), activation="topk", k=self.k, **metadata)


def collect_states(model: Model, lines: list[np.ndarray], state: str = "c",
                   on_progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """Every protocol step's state (N, S) of ``lines``, in float16 (c ranges about
    +-15, so float16 keeps about three digits: enough to learn from)."""
    order = np.argsort([-len(rows) for rows in lines], kind="stable")
    parts = []
    for start in range(0, len(order), 32):
        batch = [model_inputs(np.asarray(lines[i], np.float64)) for i in order[start : start + 32]]
        for span in run_ragged(model, batch):
            parts.append(getattr(span, state)[span.real].astype(np.float16))
        if on_progress is not None:
            on_progress(min(start + 32, len(order)), len(order))
    return np.concatenate(parts)


def _batch_loss(net: TopKAutoencoder, x_scaled: torch.Tensor, idle: torch.Tensor) -> torch.Tensor:
    z = net.pre_activations(x_scaled)
    values, indices = net.sparse_code(z)
    residual = x_scaled - net.decode_sparse(values, indices)
    spread = ((x_scaled - x_scaled.mean(0)) ** 2).sum(1).mean()
    loss = (residual**2).sum(1).mean() / spread
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
    return loss


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


def train(model: Model, weights_path: str, lines: list[np.ndarray], run_dir: str | Path,
          settings: Settings = Settings(), trained_on: str = "", log: Callable[[str], None] = print,
          checkpoint_seconds: float = 300.0, should_stop: Callable[[int], bool] | None = None) -> Dictionary:
    """Train a dictionary of ``model``'s state on ``lines``, resuming from ``run_dir``;
    ``should_stop(step)`` (or SIGTERM) ends it early, checkpointed, its metadata saying so."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    states_path = run_dir / "states.npy"
    if states_path.exists():
        states = np.load(states_path, allow_pickle=False)
    else:
        states = collect_states(model, lines, settings.state,
                                lambda done, total: log(f"reading lines: {done}/{total}"))
        np.save(states_path, states)
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
    if checkpoint.exists():
        step, idle = _load_checkpoint(checkpoint, net, optimizer, generator)
        log(f"resumed from {checkpoint} at step {step}")
    stopping: list[bool] = []
    previous = signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    data = torch.from_numpy(states)
    last_saved, started = time.monotonic(), time.monotonic()
    try:
        while step < settings.steps and not stopping and not (should_stop and should_stop(step)):
            for group in optimizer.param_groups:  # a linear decay over the last fifth
                group["lr"] = settings.learning_rate * min(1.0, 5.0 * (1.0 - step / settings.steps))
            chosen = torch.randint(0, len(data), (settings.batch,), generator=generator)
            loss = _batch_loss(net, data[chosen].float() / net.scale, idle)
            optimizer.zero_grad()
            loss.backward()
            with torch.no_grad():  # unit-length decoder rows: no gradient along them
                net.W_dec.grad -= (net.W_dec.grad * net.W_dec).sum(1, keepdim=True) * net.W_dec
            optimizer.step()
            with torch.no_grad():
                net.W_dec /= net.W_dec.norm(dim=1, keepdim=True)
            step += 1
            if step % 50 == 0 or step == settings.steps:
                rate = step / max(time.monotonic() - started, 1e-9)
                log(f"step {step}/{settings.steps} loss {loss.item():.4f} dead {int((idle > DEAD_AFTER).sum())}"
                    f" ({rate:.2f} steps/s)")
            if time.monotonic() - last_saved > checkpoint_seconds:
                _save_checkpoint(checkpoint, net, optimizer, step, idle, generator)
                last_saved = time.monotonic()
    finally:
        signal.signal(signal.SIGTERM, previous)
        _save_checkpoint(checkpoint, net, optimizer, step, idle, generator)
    return net.to_dictionary(state=settings.state, model_sha256=file_sha256(weights_path),
                             trained_on={"data": trained_on, "lines": len(lines), "states": int(len(states))},
                             training={**asdict(settings), "steps_done": step}, complete=step >= settings.steps)


def metadata_json(dictionary: Dictionary) -> str:
    return json.dumps(dictionary.metadata, indent=2, sort_keys=True)
