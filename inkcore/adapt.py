"""Adaptation: a copy of a model fitted to a few lines of one writer.

inkcore's model is unconditional, so learning a hand needs no transcript: the
writer only writes. :func:`adapt` fine-tunes a copy of a model on all but one
of the writer's lines by Adam on their mean negative log-likelihood per point
(the evaluation protocol's, :mod:`inkcore.evaluate`), through
:mod:`inkcore.backward`. The line left out is read beside the others at every
step, with no share in the loss, and the update that predicted it best is the
one kept (early stopping); it is never fitted.

What is trained is the *method*'s part of the network (:data:`METHODS`):

* ``output``: the mixture layer ``W_out``, ``b_out`` (the states stay as they are);
* ``biases``: the gate biases ``b`` and ``b_out``;
* ``lora``: a low-rank update ``A @ B`` of ``W_h`` and of ``W_x`` (Hu et al. 2021),
  ``B`` starting at zero, plus ``b_out``;
* ``all``: every array.

The result is an ordinary model; :func:`adapted_metadata` says what it was made
from, for :func:`inkcore.weights.save_npz`.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, NamedTuple, Sequence

import numpy as np

from inkcore import backward
from inkcore.model import ARRAY_NAMES, Model, make_model, network_output
from inkcore.strokes import model_inputs

#: What each method trains.
METHODS = {
    "output": "the mixture layer (W_out, b_out)",
    "biases": "the biases (b, b_out)",
    "lora": "a low-rank update of W_h and W_x, and b_out",
    "all": "every weight",
}
#: The method used unless one is asked for (chosen by measurement: docs/adaptation.md).
DEFAULT_METHOD = "all"
#: Adam's step size per method.
LEARNING_RATES = {"output": 1e-4, "biases": 1e-3, "lora": 3e-4, "all": 3e-5}
#: The rank of the low-rank update.
LORA_RANK = 8
#: At most this many updates; training stops sooner once the held-out line has not
#: improved for PATIENCE of them.
MAX_STEPS, PATIENCE = 80, 8
#: An adaptation ends after this many seconds at most, keeping its best update so far.
SECONDS = 50.0
#: Gradients are scaled down to at most this global norm (per point, in nats).
CLIP_NORM = 1.0
#: Each line is fitted as it is read, from the start, and also after the writer's previous
#: line: the last CONTEXT rows of it, read but not scored (90% of what the model attributes
#: a point to lies within about 220 rows; docs/attribution.md). A model trained on single
#: lines reads a line after another line of the same writer worse than alone
#: (docs/adaptation.md); fitting both readings teaches it the writer for both.
CONTEXT = 250
#: Lines shorter than this many rows cannot be adapted on.
MIN_ROWS = 2


class AdaptError(ValueError):
    """Lines that cannot be adapted on; the message says which and why."""


class Step(NamedTuple):
    """One update, as progress reports it."""

    step: int  # updates made before this reading (0: the base model)
    fit_nll: float  # mean NLL per point of the lines fitted
    held_out_nll: float  # of the held-out line
    best: bool  # the held-out line's best so far: the update kept


@dataclass
class Adapted:
    """An adapted model and how it was made."""

    model: Model
    method: str
    best_step: int
    history: list[Step] = field(default_factory=list)
    stopped: str = "converged"  # 'converged' (patience ran out), 'steps', 'asked' or 'time'
    seconds: float = 0.0
    learning_rate: float = 0.0
    rank: int | None = None
    held_out: int = -1
    lengths: tuple[int, ...] = ()

    @property
    def base(self) -> Step:
        return self.history[0]

    @property
    def best(self) -> Step:
        return self.history[self.best_step]

    def figures(self) -> dict:
        """What the held-out and fitted lines' NLL per point were before and after."""
        return {"held_out_nll": {"base": self.base.held_out_nll, "adapted": self.best.held_out_nll},
                "fit_nll": {"base": self.base.fit_nll, "adapted": self.best.fit_nll},
                "best_step": self.best_step, "steps_run": len(self.history) - 1, "stopped": self.stopped,
                "seconds": round(self.seconds, 2)}


# --- what a method trains ------------------------------------------------------------


def _initial(model: Model, method: str, rank: int, seed: int) -> dict[str, np.ndarray]:
    """The trained parameters at the start: a zero update of the base model."""
    if method == "output":
        return {"W_out": np.array(model.W_out), "b_out": np.array(model.b_out)}
    if method == "biases":
        return {"b": np.array(model.b), "b_out": np.array(model.b_out)}
    if method == "all":
        return {name: np.array(getattr(model, name)) for name in ARRAY_NAMES}
    rng = np.random.default_rng(seed)
    n, inputs = model.config.cells, model.config.input_size
    return {"A_h": (rng.standard_normal((n, rank)) / np.sqrt(n)).astype(model.dtype),
            "B_h": np.zeros((rank, 4 * n), model.dtype),
            "A_x": (rng.standard_normal((inputs, rank)) / np.sqrt(inputs)).astype(model.dtype),
            "B_x": np.zeros((rank, 4 * n), model.dtype),
            "b_out": np.array(model.b_out)}


def _model_of(base: Model, method: str, params: dict[str, np.ndarray]) -> Model:
    arrays = {name: getattr(base, name) for name in ARRAY_NAMES}
    if method == "lora":
        arrays["W_h"] = base.W_h + params["A_h"] @ params["B_h"]
        arrays["W_x"] = base.W_x + params["A_x"] @ params["B_x"]
        arrays["b_out"] = params["b_out"]
    else:
        arrays.update(params)
    return make_model(base.config, **{name: np.asarray(a, base.dtype) for name, a in arrays.items()})


def _param_gradients(method: str, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> dict:
    """The loss's gradients on the trained parameters from its gradients on the arrays."""
    if method != "lora":
        return {name: grads[name] for name in params}
    return {"A_h": grads["W_h"] @ params["B_h"].T, "B_h": params["A_h"].T @ grads["W_h"],
            "A_x": grads["W_x"] @ params["B_x"].T, "B_x": params["A_x"].T @ grads["W_x"],
            "b_out": grads["b_out"]}


# --- one pass over the lines -----------------------------------------------------------


class _Batch(NamedTuple):
    inputs: np.ndarray  # (T, B, 3) each column's model inputs side by side, zero past its end
    targets: np.ndarray  # (T, B, 3)
    fit: np.ndarray  # (T, B) 1 / (points fitted) where a row is fitted, else 0
    held: np.ndarray  # (T, B) 1 / (held-out points) on the held-out line's rows, else 0

    @classmethod
    def of(cls, lines: Sequence[np.ndarray], held_out: int, context: int = 0) -> "_Batch":
        """Every line a column as it is; with ``context``, every line a second column too,
        read after the last ``context`` rows of the line before it (the held-out line after
        the first fitted one), which are read but not scored."""
        held_out = range(len(lines))[held_out]
        fitted = [k for k in range(len(lines)) if k != held_out]
        before = {k: fitted[(fitted.index(k) - 1) % len(fitted)] for k in fitted}
        before[held_out] = fitted[0]
        columns = [(k, np.zeros((0, 3))) for k in range(len(lines))]
        if context:
            columns += [(k, lines[before[k]][max(0, len(lines[before[k]]) - context):])
                        for k in range(len(lines)) if before[k] != k]
        steps = max(len(prime) + len(lines[k]) for k, prime in columns)
        inputs, targets = np.zeros((steps, len(columns), 3)), np.zeros((steps, len(columns), 3))
        scored = np.zeros((steps, len(columns)), bool)
        for b, (k, prime) in enumerate(columns):
            read = np.concatenate([prime, lines[k]])
            inputs[: len(read), b], targets[: len(read), b] = model_inputs(read), read
            scored[len(prime) : len(read), b] = True
        held = np.array([k == held_out for k, _ in columns])
        fit, kept = scored & ~held, scored & held
        return cls(inputs, targets, fit / fit.sum(), kept / kept.sum())


def _pass(model: Model, batch: _Batch, names: set[str], tape: backward.Tape | None = None):
    """The fitted lines' NLL per point, the held-out line's, and the gradients of the
    former on the arrays in ``names``. A ``tape`` of this model's run may be given
    when only the output layer is trained (its states do not change)."""
    if tape is None:
        tape = backward.forward(model, batch.inputs)
    ll, dy = backward.mixture_gradient(model, network_output(model, tape.h[1:]), batch.targets)
    fit_nll, held_nll = -float((ll * batch.fit).sum()), -float((ll * batch.held).sum())
    dy = -dy * batch.fit[..., None]  # the loss is minus the fitted lines' mean log-likelihood
    grads = {}
    if names & {"W_out", "b_out"}:
        grads.update(backward.output_weight_gradients(tape.h[1:].astype(np.float64), dy))
    if names - {"W_out", "b_out"}:
        dh = np.zeros_like(tape.h)
        dh[1:] = (dy @ model.W_out.T).astype(model.dtype)
        grads.update(backward.backward(model, tape, dh, weights=True).weights)
    return fit_nll, held_nll, grads


_NEEDS = {"output": {"W_out", "b_out"}, "biases": {"b", "b_out"}, "lora": {"W_h", "W_x", "b_out"},
          "all": set(ARRAY_NAMES)}


# --- training -----------------------------------------------------------------------


class _Adam:
    def __init__(self, params: dict[str, np.ndarray], learning_rate: float):
        self.rate, self.t = learning_rate, 0
        self.m = {k: np.zeros_like(v, np.float64) for k, v in params.items()}
        self.v = {k: np.zeros_like(v, np.float64) for k, v in params.items()}

    def update(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        norm = np.sqrt(sum(float((g.astype(np.float64) ** 2).sum()) for g in grads.values()))
        scale = min(1.0, CLIP_NORM / norm) if norm > 0 else 1.0
        self.t += 1
        new = {}
        for name, value in params.items():
            g = grads[name].astype(np.float64) * scale
            self.m[name] = 0.9 * self.m[name] + 0.1 * g
            self.v[name] = 0.999 * self.v[name] + 0.001 * g**2
            m_hat, v_hat = self.m[name] / (1 - 0.9**self.t), self.v[name] / (1 - 0.999**self.t)
            new[name] = (value - self.rate * m_hat / (np.sqrt(v_hat) + 1e-8)).astype(value.dtype)
        return new


def checked_lines(lines: Sequence[np.ndarray]) -> list[np.ndarray]:
    """The writer's lines as float rows, refusing what cannot be adapted on."""
    lines = [np.asarray(rows, np.float64) for rows in lines]
    if len(lines) < 2:
        raise AdaptError(f"adaptation needs at least two lines (one is held out to stop early); got {len(lines)}")
    for k, rows in enumerate(lines):
        if rows.ndim != 2 or rows.shape[1] != 3:
            raise AdaptError(f"line {k + 1}: expected rows of shape (T, 3), got {rows.shape}")
        if len(rows) < MIN_ROWS:
            raise AdaptError(f"line {k + 1} has {len(rows)} row{'s' * (len(rows) != 1)}: "
                             f"a line to learn from needs at least {MIN_ROWS}")
        if not np.isfinite(rows).all():
            raise AdaptError(f"line {k + 1} holds NaN or infinite values")
    return lines


def adapt(model: Model, lines: Sequence[np.ndarray], method: str = DEFAULT_METHOD, held_out: int = -1,
          steps: int = MAX_STEPS, patience: int = PATIENCE, learning_rate: float | None = None,
          rank: int = LORA_RANK, context: int = CONTEXT, seed: int = 0, seconds: float | None = SECONDS,
          on_step: Callable[[Step], None] | None = None,
          should_stop: Callable[[], bool] | None = None) -> Adapted:
    """Fit a copy of ``model`` to ``lines`` (each (T, 3) model rows of one writer),
    holding line ``held_out`` out to stop early (see the module's docstring).

    Training ends after ``steps`` updates, once ``patience`` of them in a row have not
    improved the held-out line, when ``should_stop()`` says so, or after ``seconds``;
    the update that predicted the held-out line best is returned. ``on_step`` hears
    every reading, the base model's first."""
    if method not in METHODS:
        raise AdaptError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    lines = checked_lines(lines)
    held_out = range(len(lines))[held_out]
    rate = LEARNING_RATES[method] if learning_rate is None else learning_rate
    batch = _Batch.of(lines, held_out, context)
    started = time.monotonic()
    params = _initial(model, method, rank, seed)
    optimizer = _Adam(params, rate)
    fixed_tape = backward.forward(model, batch.inputs) if method == "output" else None
    result = Adapted(model, method, 0, learning_rate=rate, rank=rank if method == "lora" else None,
                     held_out=held_out, lengths=tuple(len(rows) for rows in lines))
    best_nll, since_best = np.inf, 0
    for step in range(steps + 1):
        current = _model_of(model, method, params) if step else model
        fit_nll, held_nll, grads = _pass(current, batch, _NEEDS[method], fixed_tape)
        improved = held_nll < best_nll
        if improved:
            best_nll, since_best, result.model, result.best_step = held_nll, 0, current, step
        else:
            since_best += 1
        result.history.append(Step(step, fit_nll, held_nll, improved))
        if on_step is not None:
            on_step(result.history[-1])
        stop = _stop_reason(step, steps, since_best, patience, should_stop, started, seconds)
        if stop:
            result.stopped = stop
            break
        params = optimizer.update(params, _param_gradients(method, params, grads))
    result.seconds = time.monotonic() - started
    return result


def _stop_reason(step: int, steps: int, since_best: int, patience: int, should_stop, started: float,
                 seconds: float | None) -> str | None:
    if since_best >= patience:
        return "converged"
    if step >= steps:
        return "steps"
    if should_stop is not None and should_stop():
        return "asked"
    if seconds is not None and time.monotonic() - started >= seconds:
        return "time"
    return None


def cell_weight_change(base: Model, adapted: Model) -> np.ndarray:
    """Each cell's change (cells,) in the weights that drive it (its four gates' columns of
    W_x, W_h and b), as a share of their size in ``base``."""
    n = base.config.cells

    def per_cell(rows: np.ndarray) -> np.ndarray:  # (rows, 4 * cells) -> (cells,): the norm over rows and gates
        return np.sqrt((np.asarray(rows, np.float64).reshape(-1, 4, n) ** 2).sum(axis=(0, 1)))

    delta = per_cell(np.vstack([adapted.W_x - base.W_x, adapted.W_h - base.W_h, (adapted.b - base.b)[None]]))
    return delta / np.maximum(per_cell(np.vstack([base.W_x, base.W_h, base.b[None]])), 1e-12)


def adapted_metadata(result: Adapted, base_sha256: str, base_metadata: dict, line_names: Sequence[str]) -> dict:
    """The metadata of an adapted model's weights file: the base model, the lines, the
    method and its measured figures."""
    lines = [{"name": name, "rows": rows, "role": "held out" if k == result.held_out else "fitted"}
             for k, (name, rows) in enumerate(zip(line_names, result.lengths))]
    settings = {"learning_rate": result.learning_rate, "patience": PATIENCE, "clip_norm": CLIP_NORM}
    if result.rank is not None:
        settings["rank"] = result.rank
    return {"adaptation": {"base": {"sha256": base_sha256, "published": base_metadata.get("published"),
                                    "name": base_metadata.get("name")},
                           "method": result.method, "method_trains": METHODS[result.method], "settings": settings,
                           "lines": lines, "measured": result.figures()}}
