"""The handwriting model: one LSTM layer and a mixture density output, in NumPy.

This is the network of Graves (2013), "Generating Sequences With Recurrent
Neural Networks", section 4.2, with the single layer of the Distill article
"Experiments in Handwriting with a Neural Network" (Carter, Ha, Johnson, Olah,
2016). Everything here is a pure function over explicit state; nothing holds a
model or a random generator at module level.

Conventions a reader cannot guess:

* Units. A pen offset row is ``(dx, dy, pen)``. ``dx`` and ``dy`` are in the
  article's units: IAM-OnDB whiteboard units divided by 40 (``UNITS_PER_MODEL_UNIT``
  in :mod:`inkcore.strokes`); ``dy`` grows downward as on the whiteboard.
  ``pen`` is 1 on the last point of a stroke (the pen lifts after it), else 0.
* Time. The model reads row ``t`` and its output predicts row ``t + 1``. A
  line is read from the zero state, starting with one all-zero row, so the
  state after step ``t`` has seen the zero row and rows ``0..t-1`` of the line
  (see :func:`inkcore.strokes.model_inputs`). The cell pages read a line
  without the zero row instead; :mod:`inkcore.recording` makes both.
* Gates. ``z = x @ W_x + h @ W_h + b`` holds four blocks of ``cells`` columns
  in the order input ``i``, candidate ``g``, forget ``f``, output ``o`` (the
  article's order; PyTorch's is i, f, g, o). ``config.forget_bias`` is added to
  the forget block at run time and is not part of ``b``.
  ``c' = f * c + i * g`` and ``h' = o * tanh(c')``.
* Output. ``y = h @ W_out + b_out`` is split by :func:`output_layout` in
  :func:`split_output` and nowhere else.

Every function takes any leading batch shape: one pen ``(3,)``, fifty futures
``(50, 3)``, or every line of a batch.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Iterator, NamedTuple

import numpy as np
from threadpoolctl import ThreadpoolController

LOG_2PI = float(np.log(2.0 * np.pi))


@dataclass(frozen=True)
class Config:
    """What a weights file is: its shapes and the conventions its numbers follow."""

    input_size: int = 3
    cells: int = 500
    components: int = 20
    forget_bias: float = 1.0
    gate_order: str = "igfo"
    units: str = "IAM-OnDB whiteboard units / 40"

    @property
    def output_size(self) -> int:
        return 1 + 6 * self.components

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "Config":
        known = {name: values[name] for name in cls.__dataclass_fields__ if name in values}
        return cls(**known)


def output_layout(components: int) -> dict[str, slice]:
    """Where each mixture parameter sits in the network output (Graves eq. 17)."""
    m = components
    return {
        "eos_logit": slice(0, 1),
        "pi_logit": slice(1, 1 + m),
        "mu_x": slice(1 + m, 1 + 2 * m),
        "mu_y": slice(1 + 2 * m, 1 + 3 * m),
        "log_sigma_x": slice(1 + 3 * m, 1 + 4 * m),
        "log_sigma_y": slice(1 + 4 * m, 1 + 5 * m),
        "rho_raw": slice(1 + 5 * m, 1 + 6 * m),
    }


OUTPUT_LAYOUT = output_layout(Config().components)


@dataclass(frozen=True, eq=False)
class Model:
    """Weights of one network. Arrays are read-only: a loaded model is shared."""

    config: Config
    W_x: np.ndarray  # (input_size, 4 * cells)
    W_h: np.ndarray  # (cells, 4 * cells)
    b: np.ndarray  # (4 * cells,)
    W_out: np.ndarray  # (cells, output_size)
    b_out: np.ndarray  # (output_size,)

    @property
    def dtype(self) -> np.dtype:
        return self.W_h.dtype

    def astype(self, dtype) -> "Model":
        return make_model(self.config, **{k: getattr(self, k).astype(dtype) for k in ARRAY_NAMES})

    def expected_shapes(self) -> dict[str, tuple[int, ...]]:
        return expected_shapes(self.config)


ARRAY_NAMES = ("W_x", "W_h", "b", "W_out", "b_out")


def expected_shapes(config: Config) -> dict[str, tuple[int, ...]]:
    n = config.cells
    return {
        "W_x": (config.input_size, 4 * n),
        "W_h": (n, 4 * n),
        "b": (4 * n,),
        "W_out": (n, config.output_size),
        "b_out": (config.output_size,),
    }


def make_model(config: Config, **arrays: np.ndarray) -> Model:
    """Build a model from arrays, checking shapes, and freeze the arrays."""
    shapes = expected_shapes(config)
    frozen = {}
    for name in ARRAY_NAMES:
        array = np.array(arrays[name], copy=True)
        if array.shape != shapes[name]:
            raise ValueError(f"{name} has shape {array.shape}, expected {shapes[name]}")
        array.setflags(write=False)
        frozen[name] = array
    return Model(config, **frozen)


class LSTMState(NamedTuple):
    h: np.ndarray  # (..., cells)
    c: np.ndarray  # (..., cells)


class Hold(NamedTuple):
    """An intervention on the cells: after every step's update, ``c`` becomes
    ``c * keep + put`` and ``h`` is computed from that ``c`` (``h = o * tanh(c)``).

    A cell held at a value has ``keep`` 0 and ``put`` the value; a cell scaled by a
    factor has ``keep`` the factor and ``put`` 0; a free cell has 1 and 0, and its
    numbers are exactly those of the intact model. Holding c and then deriving h
    keeps the cell's output gate at work, as it is in the intact cell: the next
    step and the mixture see the held state as the cell would show it, not a
    value written into h that no c could give. Both arrays have shape
    (..., cells) and broadcast over the batch: row ``b`` may hold other cells
    than row ``b + 1`` (see :mod:`inkcore.intervene`, which builds them).
    """

    keep: np.ndarray  # (..., cells)
    put: np.ndarray  # (..., cells)


class Mixture(NamedTuple):
    """The distribution of the next pen offset (Graves eqs. 18-22).

    ``log_pi`` and ``eos_logit`` are kept in log space so that likelihoods do
    not underflow; ``pi``, ``sigma_x``, ``sigma_y`` and ``eos`` are derived.
    """

    log_pi: np.ndarray  # (..., M), log of mixture weights
    mu_x: np.ndarray  # (..., M)
    mu_y: np.ndarray  # (..., M)
    log_sigma_x: np.ndarray  # (..., M)
    log_sigma_y: np.ndarray  # (..., M)
    rho: np.ndarray  # (..., M), in (-1, 1)
    eos_logit: np.ndarray  # (...,), logit of the pen lifting after the next point

    @property
    def pi(self) -> np.ndarray:
        return np.exp(self.log_pi)

    @property
    def sigma_x(self) -> np.ndarray:
        return np.exp(self.log_sigma_x)

    @property
    def sigma_y(self) -> np.ndarray:
        return np.exp(self.log_sigma_y)

    @property
    def eos(self) -> np.ndarray:
        return sigmoid(self.eos_logit)

    def take(self, index) -> "Mixture":
        """The mixture at ``index`` of the leading axes, e.g. one time step."""
        return Mixture(*(field[index] for field in self))


class Recording(NamedTuple):
    """What a run over a sequence saw: the state after every step."""

    h: np.ndarray  # (T, ..., cells), h[t] has read rows 0..t
    c: np.ndarray  # (T, ..., cells)

    @property
    def final(self) -> LSTMState:
        return LSTMState(self.h[-1], self.c[-1])


def sigmoid(x: np.ndarray) -> np.ndarray:
    # tanh form: exact for large |x| and free of overflow warnings
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def zero_state(model: Model, batch_shape: tuple[int, ...] = ()) -> LSTMState:
    shape = (*batch_shape, model.config.cells)
    return LSTMState(np.zeros(shape, model.dtype), np.zeros(shape, model.dtype))


def _cell(model: Model, z: np.ndarray, c: np.ndarray, hold: Hold | None = None,
          out: LSTMState | None = None) -> LSTMState:
    """Gate nonlinearities on pre-activations ``z`` (..., 4 * cells), computed in
    place in ``z``: for one pen, the number of NumPy calls is what costs time.
    ``hold`` sets cells' c after the update, before h is made from it. With ``out``
    (arrays of the state's shape and dtype, not ``c``) the new state is written
    there: a long run allocates nothing per step (see :func:`run_ragged`)."""
    n = model.config.cells
    z[..., 2 * n : 3 * n] += model.config.forget_bias
    # sigmoid(a) = (1 + tanh(a / 2)) / 2, as in sigmoid(): one tanh serves all four
    # blocks once the sigmoid blocks i (first) and f, o (last two) are halved.
    sigmoid_blocks = (z[..., :n], z[..., 2 * n :])
    for block in sigmoid_blocks:
        block *= 0.5
    np.tanh(z, out=z)
    for block in sigmoid_blocks:
        block += 1.0
        block *= 0.5
    i, g, f, o = (z[..., k * n : (k + 1) * n] for k in range(4))
    if out is not None:
        c_next = np.multiply(f, c, out=out.c)
        i *= g
        c_next += i
        if hold is not None:
            c_next *= hold.keep
            c_next += hold.put
        h_next = np.tanh(c_next, out=out.h)
        h_next *= o
        return LSTMState(h_next, c_next)
    c_next = f * c
    c_next += i * g
    if hold is not None:
        c_next = c_next * hold.keep
        c_next += hold.put
    h_next = np.tanh(c_next)
    h_next *= o
    return LSTMState(h_next, c_next)


def step(model: Model, x: np.ndarray, state: LSTMState, hold: Hold | None = None) -> LSTMState:
    """One LSTM step: read offset rows ``x`` (..., 3) and return the new state."""
    x = np.asarray(x, dtype=model.dtype)
    z = state.h @ model.W_h
    z += x @ model.W_x
    z += model.b
    return _cell(model, z, state.c, hold)


#: Recurrent loops whose batch has fewer rows than this run BLAS on one thread.
#: One pen's step multiplies a single row by W_h: far too little work to share.
#: With the other core busy (a training run, a second session), a multi-threaded
#: OpenBLAS would wait on it at every step (docs/getting-started.md, Dependencies).
SINGLE_THREAD_BATCH = 256


@lru_cache(maxsize=1)
def _blas_controller() -> ThreadpoolController:
    return ThreadpoolController()  # inspects the loaded libraries: once per process


@contextmanager
def blas_threads_for(batch_rows: int) -> Iterator[None]:
    """Run the enclosed products on one BLAS thread when the batch is small."""
    if batch_rows >= SINGLE_THREAD_BATCH:
        yield
        return
    with _blas_controller().limit(limits=1, user_api="blas"):
        yield


def run(model: Model, xs: np.ndarray, state: LSTMState | None = None, hold: Hold | None = None) -> Recording:
    """Read rows ``xs`` (T, ..., 3) in order and record h and c after each one,
    with the cells ``hold`` names held at every step."""
    xs = np.asarray(xs, dtype=model.dtype)
    if xs.ndim < 2 or xs.shape[-1] != model.config.input_size:
        raise ValueError(f"expected rows of shape (T, ..., {model.config.input_size}), got {xs.shape}")
    if state is None:
        state = zero_state(model, xs.shape[1:-1])
    steps = xs.shape[0]
    h = np.empty((steps, *state.h.shape), model.dtype)
    c = np.empty((steps, *state.c.shape), model.dtype)
    # The input projection does not depend on the state: do it for all steps at once.
    zx = xs @ model.W_x + model.b  # (T, ..., 4 * cells)
    with blas_threads_for(int(np.prod(state.h.shape[:-1]))):
        for t in range(steps):
            z = state.h @ model.W_h
            z += zx[t]
            state = _cell(model, z, state.c, hold)
            h[t] = state.h
            c[t] = state.c
    return Recording(h, c)


class Span(NamedTuple):
    """The states of a ragged run (:func:`run_ragged`) over a span of steps."""

    start: int  # the span's first step
    h: np.ndarray  # (S, B, cells); zero where a sequence has ended
    c: np.ndarray  # (S, B, cells)
    real: np.ndarray  # (S, B) bool, whether step start + s belongs to sequence b


#: A ragged run works through its steps this many elements of gate pre-activations
#: (steps x rows x 4 cells) at a time, so what it holds does not grow with the sequences.
SPAN_ELEMENTS = 2**22
MAX_SPAN_STEPS = 64


def span_length(model: Model, rows: int) -> int:
    """Steps of a ragged run's spans for ``rows`` sequences side by side."""
    return int(np.clip(SPAN_ELEMENTS // (rows * 4 * model.config.cells), 1, MAX_SPAN_STEPS))


def run_ragged(model: Model, xs: list[np.ndarray], hold: Hold | None = None,
               span_steps: int | None = None) -> Iterator[Span]:
    """Read sequences ``xs`` (each (T_b, 3), longest first) side by side from the zero
    state, yielding their states span by span. A sequence that has ended drops out of
    the batch (rows are a prefix, as the sequences are sorted), so no step is spent on
    padding and nothing is held beyond one span. ``hold`` is (cells,) for every row
    alike or (B, cells), row b for sequence b. Spans are ``span_steps`` long (by default
    as many as :data:`SPAN_ELEMENTS` allows, at most :data:`MAX_SPAN_STEPS`)."""
    lengths = np.array([len(x) for x in xs], dtype=np.int64)
    if len(lengths) == 0:
        return
    if np.any(np.diff(lengths) > 0):
        raise ValueError("run_ragged reads sequences sorted longest first")
    n, rows = model.config.cells, len(xs)
    inputs = np.zeros((int(lengths[0]), rows, model.config.input_size), model.dtype)  # (T, B, 3)
    for b, x in enumerate(xs):
        inputs[: len(x), b] = x
    active = np.searchsorted(-lengths, -np.arange(len(inputs)), side="left")  # (T,) rows with length > t
    span = span_steps or span_length(model, rows)
    if hold is not None:  # in the model's dtype, as the state is updated in place
        hold = Hold(np.asarray(hold.keep, model.dtype), np.asarray(hold.put, model.dtype))
    per_row = hold is not None and np.ndim(hold.keep) == 2
    state = zero_state(model, (rows,))
    z_rows = np.empty((rows, 4 * n), model.dtype)  # one step's pre-activations, reused
    with blas_threads_for(rows):
        for start in range(0, len(inputs), span):
            stop = min(start + span, len(inputs))
            top = int(active[start])
            zx = inputs[start:stop, :top] @ model.W_x  # (S, B, 4 * cells)
            zx += model.b
            h = np.zeros((stop - start, rows, n), model.dtype)
            c = np.zeros((stop - start, rows, n), model.dtype)
            for t in range(start, stop):
                live = int(active[t])
                z = np.matmul(state.h[:live], model.W_h, out=z_rows[:live])
                z += zx[t - start, :live]
                held = Hold(hold.keep[:live], hold.put[:live]) if per_row else hold
                state = _cell(model, z, state.c[:live], held, LSTMState(h[t - start, :live], c[t - start, :live]))
            real = np.arange(start, stop)[:, None] < lengths[None, :]
            yield Span(start, h, c, real)


def network_output(model: Model, h: np.ndarray) -> np.ndarray:
    return h @ model.W_out + model.b_out


def split_output(y: np.ndarray, components: int) -> Mixture:
    """Turn raw network output (..., 1 + 6M) into mixture parameters (Graves eqs. 18-22)."""
    part = output_layout(components)
    logits = y[..., part["pi_logit"]]
    logits = logits - logits.max(axis=-1, keepdims=True)
    log_pi = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
    return Mixture(
        log_pi=log_pi,
        mu_x=y[..., part["mu_x"]],
        mu_y=y[..., part["mu_y"]],
        log_sigma_x=y[..., part["log_sigma_x"]],
        log_sigma_y=y[..., part["log_sigma_y"]],
        rho=np.tanh(y[..., part["rho_raw"]]),
        eos_logit=y[..., part["eos_logit"]][..., 0],
    )


def mixture(model: Model, h: np.ndarray) -> Mixture:
    """The predicted distribution of the next offset given hidden state ``h`` (..., cells)."""
    return split_output(network_output(model, np.asarray(h, model.dtype)), model.config.components)


def step_after_product(model: Model, x: np.ndarray, h_product: np.ndarray, c: np.ndarray) -> LSTMState:
    """:func:`step` for a state whose ``h @ W_h`` is already known (``h_product``,
    (..., 4 * cells), used up): when many pens share one h, its product is made once."""
    z = h_product
    z += np.asarray(x, model.dtype) @ model.W_x
    z += model.b
    return _cell(model, z, c)


def _each_row_product(a: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``a (..., n) @ weights (n, m)``, one vector-matrix product per row of ``a``."""
    flat = a.reshape(-1, a.shape[-1])
    out = np.empty((len(flat), weights.shape[1]), np.result_type(a, weights))
    for k, row in enumerate(flat):
        np.matmul(row, weights, out=out[k])
    return out.reshape(a.shape[:-1] + (weights.shape[1],))


def step_each_row(model: Model, x: np.ndarray, state: LSTMState, hold: Hold | None = None) -> LSTMState:
    """:func:`step`, with each row's products computed on their own: a row's new state
    is the same bits whatever rows share its batch (a batched matrix product may
    round differently from a single row's in the last bit)."""
    z = _each_row_product(np.asarray(state.h, model.dtype), model.W_h)
    z += _each_row_product(np.asarray(x, model.dtype), model.W_x)
    z += model.b
    return _cell(model, z, state.c, hold)


def mixture_each_row(model: Model, h: np.ndarray) -> Mixture:
    """:func:`mixture`, with each row's product computed on its own."""
    return split_output(_each_row_product(np.asarray(h, model.dtype), model.W_out) + model.b_out,
                        model.config.components)


class LogLikelihood(NamedTuple):
    gauss: np.ndarray  # (...,) log density of (dx, dy) under the mixture
    eos: np.ndarray  # (...,) log probability of the observed pen bit

    @property
    def total(self) -> np.ndarray:
        return self.gauss + self.eos


def log_likelihood(mix: Mixture, target: np.ndarray) -> LogLikelihood:
    """Log-likelihood of observed offsets ``target`` (..., 3) (Graves eqs. 23-26).

    The Gaussian part is a density in the model's units, so it can be positive.
    """
    target = np.asarray(target, dtype=np.float64)
    x1 = target[..., 0:1]
    x2 = target[..., 1:2]
    pen = target[..., 2]
    mu_x, mu_y = mix.mu_x.astype(np.float64), mix.mu_y.astype(np.float64)
    log_sx, log_sy = mix.log_sigma_x.astype(np.float64), mix.log_sigma_y.astype(np.float64)
    rho = np.clip(mix.rho.astype(np.float64), -1 + 1e-12, 1 - 1e-12)
    zx = (x1 - mu_x) * np.exp(-log_sx)
    zy = (x2 - mu_y) * np.exp(-log_sy)
    one_minus_rho2 = 1.0 - rho**2
    # eq. 25: Z, and eq. 24: the bivariate normal density, in log form
    z = zx**2 + zy**2 - 2.0 * rho * zx * zy
    log_normal = -z / (2.0 * one_minus_rho2) - LOG_2PI - log_sx - log_sy - 0.5 * np.log(one_minus_rho2)
    terms = mix.log_pi.astype(np.float64) + log_normal
    top = terms.max(axis=-1)
    gauss = top + np.log(np.exp(terms - top[..., None]).sum(axis=-1))
    # eq. 26: Bernoulli end-of-stroke term, via log-sigmoid of +/- the logit
    logit = mix.eos_logit.astype(np.float64)
    signed = np.where(pen > 0.5, logit, -logit)
    eos = -np.logaddexp(0.0, -signed)
    return LogLikelihood(gauss, eos)
