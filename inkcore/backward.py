"""The backward pass: gradients through the LSTM and the mixture, in NumPy.

Attribution (which earlier points made the model predict what it predicts here)
and adaptation (fitting a copy of the model to one writer) both need the
gradient of a log-likelihood with respect to what came before it: the input
rows, the state at every step, or the weights. This module is that one
backward pass, so the app never needs PyTorch; the tests hold it to PyTorch's
autograd on the same weights.

A run is recorded on a :class:`Tape`: the state before the first step and after
every step, and every step's gates. Its indexing follows :mod:`inkcore.model`:
``tape.h[t + 1]`` is the state after reading ``xs[t]``, ``tape.h[0]`` the state
before. With an :class:`inkcore.model.Hold` the held ``c`` is what the next
step reads and ``h = o * tanh(c)`` is made from it, so the gradient flows
through a held cell only by its ``keep`` factor.

Gradients of the state come in the two readings a question may need:

* ``Gradients.h[t]``: with respect to ``h[t]`` as the next step and the mixture
  read it, ``c[t]`` left as it is;
* ``Gradients.c[t]``: with respect to ``c[t]`` with ``h[t] = o * tanh(c[t])``
  following it, as a held or steered cell does (for ``t = 0``, the given start
  state, ``h[0]`` does not follow ``c[0]``).

The mixture's gradient (Graves 2013, eqs. 23-26, differentiated by hand) is
taken in float64; the recurrence runs in the model's dtype.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from inkcore.model import (LOG_2PI, Hold, LSTMState, Model, blas_threads_for, network_output, output_layout, sigmoid,
                           zero_state)
from inkcore.strokes import model_inputs

#: Integrated gradients' default number of points on the path from the baseline.
IG_STEPS = 64
#: Points of the integrated-gradients path run side by side in one batch.
IG_BATCH = 64
#: The rows before the target that integrated gradients' baseline zeroes (see integrated_gradients).
IG_WINDOW = 200
#: The completeness gap integrated gradients works to stay under, and its fewest points on a piece of path.
IG_GAP, IG_MIN_PIECE = 0.005, 8
#: At most this many times the asked-for steps are spent closing the gap.
IG_MAX_POINTS = 8


class Tape(NamedTuple):
    """What a run saw, for its backward pass."""

    xs: np.ndarray  # (T, ..., 3) the rows read
    h: np.ndarray  # (T + 1, ..., cells) h[0] the start, h[t + 1] after reading xs[t]
    c: np.ndarray  # (T + 1, ..., cells)
    gates: np.ndarray  # (T, ..., 4 * cells) i, g, f, o after their nonlinearities
    hold: Hold | None


class Gradients(NamedTuple):
    """The gradient of one scalar of a run (see the module's docstring for h and c)."""

    xs: np.ndarray  # (T, ..., 3)
    h: np.ndarray  # (T + 1, ..., cells)
    c: np.ndarray  # (T + 1, ..., cells)
    weights: dict[str, np.ndarray] | None  # W_x, W_h, b (W_out, b_out: see output_weight_gradients)


def forward(model: Model, xs: np.ndarray, state: LSTMState | None = None, hold: Hold | None = None) -> Tape:
    """Run ``model`` over rows ``xs`` (T, ..., 3) as :func:`inkcore.model.run` does, keeping
    what the backward pass needs."""
    xs = np.asarray(xs, model.dtype)
    n = model.config.cells
    if state is None:
        state = zero_state(model, xs.shape[1:-1])
    steps, batch = len(xs), xs.shape[1:-1]
    h = np.empty((steps + 1, *batch, n), model.dtype)
    c = np.empty((steps + 1, *batch, n), model.dtype)
    gates = np.empty((steps, *batch, 4 * n), model.dtype)
    h[0], c[0] = state
    zx = xs @ model.W_x + model.b  # (T, ..., 4 * cells)
    zx[..., 2 * n : 3 * n] += model.config.forget_bias
    with blas_threads_for(int(np.prod(batch))):
        _forward_steps(model, zx, h, c, gates, hold)
    return Tape(xs, h, c, gates, hold)


def _forward_steps(model: Model, zx: np.ndarray, h: np.ndarray, c: np.ndarray, gates: np.ndarray,
                   hold: Hold | None) -> None:
    n = model.config.cells
    for t in range(len(zx)):
        z = h[t] @ model.W_h
        z += zx[t]
        gate = gates[t]
        gate[...] = sigmoid(z)
        gate[..., n : 2 * n] = np.tanh(z[..., n : 2 * n])
        i, g, f, o = (gate[..., k * n : (k + 1) * n] for k in range(4))
        c_next = f * c[t] + i * g
        if hold is not None:
            c_next = c_next * hold.keep + hold.put
        c[t + 1] = c_next
        h[t + 1] = o * np.tanh(c_next)


def backward(model: Model, tape: Tape, dh: np.ndarray, dc: np.ndarray | None = None,
             weights: bool = False) -> Gradients:
    """Back through ``tape``, given the scalar's direct gradients on each state: ``dh``
    (T + 1, ..., cells) on h[t] as the mixture reads it (zero where it does not), and
    optionally ``dc`` on c[t]. With ``weights``, also the gradients of W_x, W_h and b.

    ``dh`` may carry a batch of its own over a tape of one run (tape (T, 1, 3), dh
    (T + 1, B, cells)): B scalars of the same run, each its own gradient, back at once."""
    grad_h = np.array(dh, model.dtype)  # becomes the total gradient on h[t], from t = T down
    grad_c = np.zeros_like(grad_h) if dc is None else np.array(dc, model.dtype)
    grad_x = np.empty((len(tape.xs), *grad_h.shape[1:-1], tape.xs.shape[-1]), model.dtype)
    if weights and grad_h.shape[1:] != tape.h.shape[1:]:
        raise ValueError("weight gradients need the tape's own batch")
    dz = np.empty((len(tape.xs), *grad_h.shape[1:-1], 4 * model.config.cells), model.dtype) if weights else None
    with blas_threads_for(int(np.prod(grad_h.shape[1:-1]))):
        _backward_steps(model, tape, grad_h, grad_c, grad_x, dz)
    sums = None
    if weights:  # every step's share at once: one product each instead of one a step
        flat = dz.reshape(-1, dz.shape[-1])
        sums = {"W_x": tape.xs.reshape(-1, tape.xs.shape[-1]).T @ flat,
                "W_h": tape.h[:-1].reshape(-1, model.config.cells).T @ flat, "b": flat.sum(axis=0)}
    return Gradients(grad_x, grad_h, grad_c, sums)


def _backward_steps(model: Model, tape: Tape, grad_h: np.ndarray, grad_c: np.ndarray, grad_x: np.ndarray,
                    dz_all: np.ndarray | None) -> None:
    """The steps of :func:`backward`, last first, filling the gradients in place, and with
    ``dz_all`` (T, ..., 4 * cells) each step's gradient on its gate inputs."""
    n = model.config.cells
    dz = np.empty((*grad_h.shape[1:-1], 4 * n), model.dtype)
    keep = None if tape.hold is None else np.asarray(tape.hold.keep, model.dtype)
    W_h_T, W_x_T = model.W_h.T, model.W_x.T
    for t in range(len(tape.xs) - 1, -1, -1):
        gate = tape.gates[t]
        i, g, f, o = (gate[..., k * n : (k + 1) * n] for k in range(4))
        tanh_c = np.tanh(tape.c[t + 1])
        grad_c[t + 1] += grad_h[t + 1] * o * (1.0 - tanh_c**2)  # now with h[t + 1] following c[t + 1]
        before_hold = grad_c[t + 1] if keep is None else grad_c[t + 1] * keep
        dz[..., :n] = before_hold * g * i * (1.0 - i)
        dz[..., n : 2 * n] = before_hold * i * (1.0 - g**2)
        dz[..., 2 * n : 3 * n] = before_hold * tape.c[t] * f * (1.0 - f)
        dz[..., 3 * n :] = grad_h[t + 1] * tanh_c * o * (1.0 - o)
        grad_c[t] += before_hold * f
        grad_h[t] += dz @ W_h_T
        grad_x[t] = dz @ W_x_T
        if dz_all is not None:
            dz_all[t] = dz


def mixture_gradient(model: Model, y: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The log-likelihood (...,) of ``target`` (..., 3) under raw outputs ``y`` (..., 1 + 6M),
    as :func:`inkcore.model.log_likelihood` scores it, and its gradient (..., 1 + 6M) on ``y``."""
    y = np.asarray(y, np.float64)
    target = np.asarray(target, np.float64)
    part = output_layout(model.config.components)
    logits = y[..., part["pi_logit"]]
    log_pi = logits - logits.max(axis=-1, keepdims=True)
    log_pi = log_pi - np.log(np.exp(log_pi).sum(axis=-1, keepdims=True))
    mu_x, mu_y = y[..., part["mu_x"]], y[..., part["mu_y"]]
    log_sx, log_sy = y[..., part["log_sigma_x"]], y[..., part["log_sigma_y"]]
    rho = np.clip(np.tanh(y[..., part["rho_raw"]]), -1 + 1e-12, 1 - 1e-12)
    zx = (target[..., 0:1] - mu_x) * np.exp(-log_sx)
    zy = (target[..., 1:2] - mu_y) * np.exp(-log_sy)
    one_minus_rho2 = 1.0 - rho**2
    z = zx**2 + zy**2 - 2.0 * rho * zx * zy
    terms = log_pi - z / (2.0 * one_minus_rho2) - LOG_2PI - log_sx - log_sy - 0.5 * np.log(one_minus_rho2)
    top = terms.max(axis=-1, keepdims=True)
    weight = np.exp(terms - top)
    total = weight.sum(axis=-1, keepdims=True)
    gauss = (top + np.log(total))[..., 0]
    gamma = weight / total  # each component's share of the point (its responsibility)
    logit = y[..., part["eos_logit"]][..., 0]
    sign = np.where(target[..., 2] > 0.5, 1.0, -1.0)
    eos = -np.logaddexp(0.0, -sign * logit)
    grad = np.empty_like(y)
    grad[..., part["eos_logit"]] = (sign * sigmoid(-sign * logit))[..., None]
    grad[..., part["pi_logit"]] = gamma - np.exp(log_pi)
    pull_x = (zx - rho * zy) / one_minus_rho2  # -d(log N)/d(zx)
    pull_y = (zy - rho * zx) / one_minus_rho2
    grad[..., part["mu_x"]] = gamma * pull_x * np.exp(-log_sx)
    grad[..., part["mu_y"]] = gamma * pull_y * np.exp(-log_sy)
    grad[..., part["log_sigma_x"]] = gamma * (zx * pull_x - 1.0)
    grad[..., part["log_sigma_y"]] = gamma * (zy * pull_y - 1.0)
    grad[..., part["rho_raw"]] = gamma * (zx * zy - z * rho / one_minus_rho2 + rho)
    return gauss + eos, grad


def output_weight_gradients(h: np.ndarray, dy: np.ndarray) -> dict[str, np.ndarray]:
    """The gradients of W_out and b_out for output gradients ``dy`` (..., out) at states ``h`` (..., cells)."""
    flat_h, flat_dy = h.reshape(-1, h.shape[-1]), dy.reshape(-1, dy.shape[-1])
    return {"W_out": flat_h.T @ flat_dy, "b_out": flat_dy.sum(axis=0)}


# --- one point's log-likelihood ---------------------------------------------------------------


class PointGradient(NamedTuple):
    """The gradient of f = log p(row T | a zero row, then rows 0..T-1)."""

    log_likelihood: float  # f
    rows: np.ndarray  # (T, 3) df / d(row j)
    h: np.ndarray  # (T + 1, cells) df / dh after reading the zero row and rows 0..t-1 (t = 0..T)
    c: np.ndarray  # (T + 1, cells) df / dc, h following
    states: LSTMState  # (T + 1, cells) each: those states


def _checked_at(rows: np.ndarray, at: int) -> np.ndarray:
    rows = np.asarray(rows, np.float64)
    if rows.ndim != 2 or rows.shape[1] != 3:
        raise ValueError(f"expected rows of shape (T, 3), got {rows.shape}")
    if not 0 <= at < len(rows):
        raise ValueError(f"row {at} is outside the line: it has rows 0 to {len(rows) - 1}")
    return rows


def last_point_backward(model: Model, tape: Tape, target: np.ndarray) -> tuple[np.ndarray, Gradients]:
    """The log-likelihood (...,) of ``target`` (..., 3) under the mixture of the tape's last
    state, and its gradients back through the tape."""
    f, dy = mixture_gradient(model, network_output(model, tape.h[-1]), target)
    dh = np.zeros_like(tape.h)
    dh[-1] = (dy @ model.W_out.T).astype(model.dtype)
    return f, backward(model, tape, dh)


def point_gradient(model: Model, rows: np.ndarray, at: int, hold: Hold | None = None) -> PointGradient:
    """The log-likelihood of row ``at`` of ``rows`` as :func:`inkcore.evaluate.score` scores it
    (read after a zero row and the rows before it) and its gradient on every earlier row and state.
    For ``at`` 0 nothing came before: the gradient on rows is empty."""
    rows = _checked_at(rows, at)
    inputs = model_inputs(rows[: at + 1])[:, None, :]  # (at + 1, 1, 3): the zero row, rows 0..at-1
    tape = forward(model, inputs, hold=hold)
    f, grads = last_point_backward(model, tape, rows[at][None])
    # tape index s is the state after s inputs; the PointGradient's t = s - 1 (after the zero row and t rows)
    return PointGradient(float(f[0]), grads.xs[1:, 0].astype(np.float64), grads.h[1:, 0], grads.c[1:, 0],
                         LSTMState(tape.h[1:, 0], tape.c[1:, 0]))


class Attribution(NamedTuple):
    """Integrated gradients of f from a baseline of all-zero rows (Sundararajan et al. 2017)."""

    attribution: np.ndarray  # (T, 3) each earlier row's share of f - f(baseline)
    log_likelihood: float
    baseline_log_likelihood: float
    completeness: float  # |sum of attributions - (f - f(baseline))| / |f - f(baseline)|
    points: int  # gradients taken on the path
    first: int  # the first row the baseline zeroes (0: every earlier row)


def _path_nodes(steps: int, start: float = 0.0, stop: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre points and weights on [start, stop]: for a smooth path far more
    accurate than a Riemann sum of the same length."""
    nodes, weights = np.polynomial.legendre.leggauss(steps)
    half = 0.5 * (stop - start)
    return start + half * (nodes + 1.0), half * weights


class _Path(NamedTuple):
    """The straight path of integrated gradients: rows ``first``..``at - 1`` scaled, read
    after the state the rows before them leave (the same at every point of the path)."""

    model: Model
    inputs: np.ndarray  # (at - first, 3) the inputs that read rows first..at-1
    start: LSTMState  # (cells,) each: the state before them
    target: np.ndarray  # (3,) row at
    hold: Hold | None

    @classmethod
    def of(cls, model: Model, rows: np.ndarray, at: int, first: int, hold: Hold | None) -> "_Path":
        inputs = model_inputs(rows[: at + 1])  # the zero row, rows 0..at-1
        before = forward(model, inputs[: first + 1][:, None, :], hold=hold)
        return cls(model, inputs[first + 1 :], LSTMState(before.h[-1, 0], before.c[-1, 0]), rows[at], hold)

    def _tape(self, alphas: np.ndarray) -> Tape:
        batch = (len(alphas),)
        start = LSTMState(np.broadcast_to(self.start.h, (*batch, len(self.start.h))).copy(),
                          np.broadcast_to(self.start.c, (*batch, len(self.start.c))).copy())
        return forward(self.model, self.inputs[:, None, :] * alphas[None, :, None], start, self.hold)

    def log_likelihoods(self, alphas: np.ndarray) -> np.ndarray:
        """f (B,) at each of ``alphas`` (B,): a forward run only."""
        tape = self._tape(alphas)
        return mixture_gradient(self.model, network_output(self.model, tape.h[-1]),
                                np.broadcast_to(self.target, (len(alphas), 3)))[0]

    def gradients(self, alphas: np.ndarray) -> np.ndarray:
        """df/d(rows first..at-1) (B, at - first, 3) at each of ``alphas`` (B,)."""
        _, grads = last_point_backward(self.model, self._tape(alphas), np.broadcast_to(self.target, (len(alphas), 3)))
        return np.moveaxis(grads.xs, 1, 0).astype(np.float64)


def integrated_gradients(model: Model, rows: np.ndarray, at: int, steps: int = IG_STEPS,
                         hold: Hold | None = None, window: int | None = IG_WINDOW, gap: float = IG_GAP) -> Attribution:
    """Each earlier row's attribution to the log-likelihood of row ``at``: the row times the
    mean gradient along the straight path from zero rows (the target row stays as it is).

    The baseline zeroes the ``window`` rows before the target (``None``: every earlier
    row, the textbook baseline); rows further back are kept as they are in both and
    get no attribution. The window exists because the straight path from an all-zero
    line of several hundred points is not smooth: a long line of tiny offsets throws
    the state into a regime where f jumps from one point of the path to the next
    (docs/attribution.md), which no quadrature can integrate.

    The path's gradients are taken at ``steps`` Gauss-Legendre points. On any piece
    [a, b] of the path the attributions must sum to f(b) - f(a), which a forward run
    gives exactly; a piece that misses by more than its share of ``gap`` (a fraction
    of f - f(baseline)) is halved, each half integrated again with half as many points
    (at least :data:`IG_MIN_PIECE`), up to :data:`IG_MAX_POINTS` times ``steps`` points
    in all. ``points`` says how many gradients were taken and ``completeness`` what
    gap is left."""
    rows = _checked_at(rows, at)
    if steps < 2:
        raise ValueError("integrated gradients needs at least 2 steps")
    first = 0 if window is None else max(0, at - window)
    path = _Path.of(model, rows, at, first, hold)
    ends = path.log_likelihoods(np.array([1.0, 0.0]))
    f, baseline = float(ends[0]), float(ends[1])
    if at == 0:
        return Attribution(np.zeros((0, 3)), f, baseline, 0.0, 0, 0)
    per_piece = steps
    change = f - baseline
    tolerance = gap * max(abs(change), 1e-12)
    pieces = [(0.0, 1.0)]
    edges = {0.0: baseline, 1.0: f}
    total = np.zeros((at - first, 3))
    points = 0
    while pieces:
        cuts = sorted({edge for piece in pieces for edge in piece} - set(edges))
        if cuts:
            edges.update(zip(cuts, path.log_likelihoods(np.array(cuts))))
        nodes = [_path_nodes(per_piece, a, b) for a, b in pieces]
        alphas, weights = np.concatenate([n for n, _ in nodes]), np.concatenate([w for _, w in nodes])
        integrals = np.empty((len(alphas), at - first, 3))
        for start in range(0, len(alphas), IG_BATCH):
            grads = path.gradients(alphas[start : start + IG_BATCH])
            integrals[start : start + IG_BATCH] = grads * weights[start : start + IG_BATCH, None, None]
        points += len(alphas)
        again = []
        for k, (a, b) in enumerate(pieces):
            piece = integrals[k * per_piece : (k + 1) * per_piece].sum(axis=0)
            missed = abs((rows[first:at] * piece).sum() - (edges[b] - edges[a]))
            next_cost = (len(again) + 2) * max(IG_MIN_PIECE, per_piece // 2)  # the next pass, this piece halved
            if missed > tolerance * (b - a) and points + next_cost <= IG_MAX_POINTS * steps:
                again += [(a, (a + b) / 2), ((a + b) / 2, b)]
            else:
                total += piece
        pieces = again
        per_piece = max(IG_MIN_PIECE, per_piece // 2)
    attribution = np.zeros((at, 3))
    attribution[first:] = rows[first:at] * total + 0.0  # + 0.0: no signed zeros where a row is zero
    missed = abs(attribution.sum() - change)
    return Attribution(attribution, f, baseline, float(missed / abs(change)) if change != 0 else float(missed), points,
                       first)
