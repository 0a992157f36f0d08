"""Drawing from the model: one next offset, whole lines, and possible futures.

Variation (temperature) follows the article: mixture weights are raised to
``1 / variation`` and renormalised, both sigmas are multiplied by
``variation``, and the end-of-stroke probability is left as it is. Variation
0 takes the most likely component's mean. Randomness always comes in as a
``numpy.random.Generator``: the same seed gives the same strokes.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, NamedTuple

import numpy as np

from inkcore.evaluate import line_states
from inkcore.model import (
    Hold, LSTMState, Mixture, Model, blas_threads_for, mixture, mixture_each_row, run, step, step_after_product,
    step_each_row, zero_state,
)
from inkcore.strokes import model_inputs

#: The article's defaults: continuing a reader's writing, and everything else.
WRITE_VARIATION = 0.1
SAMPLE_VARIATION = 0.65
#: Possibility space: the article draws 50 futures of 8 steps at every point.
FUTURES = 50
FUTURE_STEPS = 8
#: Points whose futures are drawn in one batch (x 50 pens: big enough for fast matrix
#: products, small enough that a step's gates stay in cache).
FUTURE_CHUNK_POINTS = 20


def component_weights(log_pi: np.ndarray, variation: float) -> np.ndarray:
    """The weights (..., M) by which a component is picked at this variation, not
    normalised (the largest is 1): pi raised to ``1 / variation``, and at variation 0
    the likeliest component alone. :func:`sample` draws by them, and the mixture figure
    (:func:`inkcore.figures.mixture_figure`) draws them."""
    if variation == 0:
        return (np.arange(log_pi.shape[-1]) == log_pi.argmax(axis=-1)[..., None]).astype(np.float64)
    logits = log_pi / variation
    return np.exp(logits - logits.max(axis=-1, keepdims=True))


def sample(mix: Mixture, rng: np.random.Generator, variation: float = SAMPLE_VARIATION) -> np.ndarray:
    """Draw one offset row (..., 3) from each mixture of a batch."""
    if not 0 <= variation < np.inf:
        raise ValueError(f"variation must be a finite number >= 0, not {variation}")
    batch_shape = mix.eos_logit.shape
    weights = component_weights(mix.log_pi, variation)
    if variation == 0:  # one component holds all the weight: nothing is drawn to pick it
        k = weights.argmax(axis=-1)
    else:
        cumulative = np.cumsum(weights, axis=-1)
        u = rng.random(batch_shape + (1,)) * cumulative[..., -1:]
        k = np.minimum((cumulative < u).sum(axis=-1), mix.log_pi.shape[-1] - 1)
    pick = lambda a: np.take_along_axis(a, k[..., None], axis=-1)[..., 0]  # noqa: E731
    mu_x, mu_y, rho = pick(mix.mu_x), pick(mix.mu_y), pick(mix.rho)
    sx = np.exp(pick(mix.log_sigma_x)) * variation
    sy = np.exp(pick(mix.log_sigma_y)) * variation
    z1 = rng.standard_normal(batch_shape)
    z2 = rng.standard_normal(batch_shape)
    out = np.empty(batch_shape + (3,), dtype=np.float64)
    out[..., 0] = mu_x + sx * z1
    out[..., 1] = mu_y + sy * (rho * z1 + np.sqrt(1.0 - rho**2) * z2)
    out[..., 2] = rng.random(batch_shape) < mix.eos
    return out


class Continuation(NamedTuple):
    rows: np.ndarray  # (..., steps, 3) sampled offsets
    eos: np.ndarray  # (..., steps) the pen-lift probability each row was drawn with
    state: LSTMState | None = None  # the state after the last row but one: it has not read the last row


def continue_from(
    model: Model,
    state: LSTMState,
    last_row: np.ndarray,
    steps: int,
    rng: np.random.Generator,
    variation: float = SAMPLE_VARIATION,
    each_row: bool = False,
    hold: Hold | None = None,
) -> Continuation:
    """Sample ``steps`` rows after the state that has read everything before
    ``last_row``; ``last_row`` (..., 3) is read first. ``state`` is not changed.

    ``each_row`` multiplies every pen's row by the weights on its own (on one BLAS
    thread), so each pen's arithmetic is the same whatever pens share its batch:
    a batched matrix product may round differently from a single row's in the
    last bit, and sampling turns a last bit into a different line. For a few
    pens it costs no more than the batched product. ``hold`` holds cells at every step."""
    x = np.array(last_row, dtype=np.float64)
    rows = np.empty(x.shape[:-1] + (steps, 3))
    eos = np.empty(x.shape[:-1] + (steps,))
    next_state, next_mixture = (step_each_row, mixture_each_row) if each_row else (step, mixture)
    with blas_threads_for(1 if each_row else int(np.prod(x.shape[:-1]))):
        for t in range(steps):
            state = next_state(model, x, state, hold)
            mix = next_mixture(model, state.h)
            x = sample(mix, rng, variation)
            rows[..., t, :] = x
            eos[..., t] = mix.eos
    return Continuation(rows, eos, state)


def generate(
    model: Model,
    steps: int,
    rng: np.random.Generator,
    variation: float = SAMPLE_VARIATION,
    count: int | None = None,
    hold: Hold | None = None,
) -> np.ndarray:
    """Lines the model writes by itself from the zero state: (steps, 3), or
    (count, steps, 3) for ``count`` lines drawn side by side."""
    batch = () if count is None else (count,)
    state = zero_state(model, batch)
    return continue_from(model, state, np.zeros(batch + (3,)), steps, rng, variation, each_row=True, hold=hold).rows


class PenStreams:
    """Random draws for a batch of pens, each from its own generator: pen ``i`` of the
    batch draws exactly what it would draw alone from ``generators[i]``, so lines
    written side by side are the lines each seed writes by itself. Stands in for a
    ``numpy.random.Generator`` in :func:`sample` (batch of shape ``(pens,)``)."""

    def __init__(self, generators):
        self.generators = list(generators)

    def random(self, shape) -> np.ndarray:
        return np.array([g.random(tuple(shape[1:])) for g in self.generators])

    def standard_normal(self, shape) -> np.ndarray:
        return np.array([g.standard_normal(tuple(shape[1:])) for g in self.generators])


class SeededLine(NamedTuple):
    """A line a seed wrote, with what it takes to write on: the state that has read all
    but its last row, and its generator's state. Longer lines from the same seed and
    variation begin with this one."""

    rows: np.ndarray  # (steps, 3)
    h: np.ndarray  # (cells,)
    c: np.ndarray  # (cells,)
    generator: dict  # the bit generator's state after the last draw


def generate_seeded(model: Model, steps: int, seeds, variation: float = SAMPLE_VARIATION,
                    begun: list[SeededLine | None] | None = None) -> list[SeededLine]:
    """Lines written side by side in one batch, line ``i`` the line :func:`generate`
    writes alone from ``default_rng(seeds[i])``, bit for bit: each line's products
    are its own (``each_row`` in :func:`continue_from`). ``begun[i]``, a line the same seed wrote at the same variation,
    is written on rather than written again; one that is already ``steps`` long or
    longer comes back as it is, so lines have at least ``steps`` rows."""
    seeds = list(seeds)
    begun = list(begun) if begun is not None else [None] * len(seeds)
    done: list[SeededLine | None] = [None] * len(seeds)
    groups: dict[int, list[int]] = {}  # lines by the rows they already have: each group is one batch
    for i, line in enumerate(begun):
        if line is not None and len(line.rows) >= steps:
            done[i] = line  # already long enough: its first ``steps`` rows are the line
        else:
            groups.setdefault(0 if line is None else len(line.rows), []).append(i)
    for have, members in groups.items():
        generators = []
        for i in members:
            generator = np.random.default_rng(seeds[i])
            if have:
                generator.bit_generator.state = begun[i].generator
            generators.append(generator)
        if have:
            state = LSTMState(np.stack([begun[i].h for i in members]), np.stack([begun[i].c for i in members]))
            last = np.stack([begun[i].rows[-1] for i in members])
        else:
            state, last = zero_state(model, (len(members),)), np.zeros((len(members), 3))
        written = continue_from(model, state, last, steps - have, PenStreams(generators), variation, each_row=True)
        for k, i in enumerate(members):
            rows = written.rows[k] if not have else np.vstack([begun[i].rows, written.rows[k]])
            done[i] = SeededLine(rows, written.state.h[k], written.state.c[k], generators[k].bit_generator.state)
    return done


def continue_writing(
    model: Model,
    rows: np.ndarray,
    steps: int,
    rng: np.random.Generator,
    variation: float = WRITE_VARIATION,
    candidates: int = 1,
    hold: Hold | None = None,
) -> Continuation:
    """Read a writer's rows (T, 3) and sample ``candidates`` continuations (candidates, steps, 3),
    reading and writing with the cells of ``hold`` held."""
    state, last = read_for_writing(model, rows, candidates, hold)
    return continue_from(model, state, last, steps, rng, variation, hold=hold)


def read_for_writing(model: Model, rows: np.ndarray, candidates: int = 1,
                     hold: Hold | None = None) -> tuple[LSTMState, np.ndarray]:
    """The state (candidates, cells) that has read all a writer's rows (T, 3) but the last,
    and that last row (candidates, 3): where :func:`continue_from` writes on from. Sampling
    draws the same random numbers at every step, so a continuation of n steps is the first
    n steps of a longer one from the same generator, and one can be written on from its
    own end with the generator as it was left."""
    rows = np.asarray(rows, dtype=np.float64)
    if len(rows) == 0:
        return zero_state(model, (candidates,)), np.zeros((candidates, 3))
    final = run(model, model_inputs(rows)[:, None, :], hold=hold).final  # has read all but the last row
    return LSTMState(*(np.repeat(a, candidates, axis=0) for a in final)), np.repeat(rows[-1:], candidates, axis=0)


def next_mixture(model: Model, rows: np.ndarray) -> Mixture:
    """The model's distribution of the point after a writer's rows (T, 3)."""
    inputs = np.vstack([np.zeros((1, 3)), np.asarray(rows, dtype=np.float64)])
    return mixture(model, run(model, inputs[:, None, :]).h[-1, 0])


class Futures(NamedTuple):
    rows: np.ndarray  # (T, N, K, 3) N possible futures of K steps from every point
    eos: np.ndarray  # (T,) the pen-lift probability the model gave each real row


def _point_futures(model: Model, h: np.ndarray, c: np.ndarray, last: np.ndarray, rng: np.random.Generator,
                   variation: float, futures: int, steps: int) -> np.ndarray:
    """``futures`` futures (P, futures, steps, 3) after each of P points, from the states
    (P, cells) that have read all before the point's row ``last`` (P, 3).

    Every future of a point begins alike: reading the point's own row is one step per
    point, not per future, and so is the next step's ``h @ W_h`` (all of a point's
    futures hold the same h until their first sampled row is read). Only steps 3 and
    on multiply each future's own h by W_h; and the last sampled row is never read."""
    points = len(last)
    first = step(model, last, LSTMState(h, c))  # (P, cells): the line's own next state
    mix = mixture(model, first.h)
    x = sample(Mixture(*(np.repeat(a, futures, axis=0) for a in mix)), rng, variation)  # (P * futures, 3)
    out = np.empty((points, futures, steps, 3))
    out[:, :, 0] = x.reshape(points, futures, 3)
    if steps == 1:
        return out
    shared = np.repeat(first.h @ model.W_h, futures, axis=0)  # (P * futures, 4 * cells)
    state = step_after_product(model, x, shared, np.repeat(first.c, futures, axis=0))
    for t in range(1, steps):
        if t > 1:
            state = step(model, x, state)
        x = sample(mixture(model, state.h), rng, variation)
        out[:, :, t] = x.reshape(points, futures, 3)
    return out


def futures_after(
    model: Model,
    states: LSTMState,
    rows: np.ndarray,
    points: np.ndarray,
    rng: np.random.Generator,
    variation: float = SAMPLE_VARIATION,
    futures: int = FUTURES,
    steps: int = FUTURE_STEPS,
    progress: Callable[[float], None] | None = None,
    chunk_points: int = FUTURE_CHUNK_POINTS,
    workers: int | None = None,
) -> np.ndarray:
    """``futures`` continuations (P, futures, steps, 3) of ``steps`` rows after each
    of the line's ``points`` (indices into ``rows``), from the line's ``states``
    (:func:`inkcore.evaluate.line_states`).

    Future ``[p, n]`` starts from the state that has read rows ``0..points[p]``.
    Points are drawn in chunks of ``chunk_points`` (x ``futures`` pens: large enough
    for fast matrix products, small enough that a step's gates stay in the CPU's
    cache), on ``workers`` threads (by default one per CPU), each with BLAS on one
    thread: the gates run in parallel too, which BLAS threads alone would not give.
    Chunk ``k`` draws from ``rng.spawn``'s ``k``-th generator, so the futures do not
    depend on which thread ran first. ``progress`` is called with the fraction done.
    """
    rows = np.asarray(rows, dtype=np.float64)
    points = np.asarray(points, dtype=np.int64).reshape(-1)
    drawn = np.empty((len(points), futures, steps, 3))
    starts = range(0, len(points), chunk_points)
    generators = rng.spawn(len(starts))

    def draw(chunk: int) -> None:
        part = points[starts[chunk] : starts[chunk] + chunk_points]
        drawn[starts[chunk] : starts[chunk] + len(part)] = _point_futures(
            model, states.h[part], states.c[part], rows[part], generators[chunk], variation, futures, steps)

    workers = max(1, min(len(starts), workers or len(os.sched_getaffinity(0))))
    with blas_threads_for(1):
        if workers == 1:
            for chunk in range(len(starts)):
                draw(chunk)
                if progress is not None:
                    progress((chunk + 1) / len(starts))
        else:
            with ThreadPoolExecutor(workers, thread_name_prefix="inkcore-futures") as pool:
                for done, _ in enumerate(pool.map(draw, range(len(starts))), start=1):
                    if progress is not None:
                        progress(done / len(starts))
    return drawn


def possible_futures(
    model: Model,
    rows: np.ndarray,
    rng: np.random.Generator,
    variation: float = SAMPLE_VARIATION,
    futures: int = FUTURES,
    steps: int = FUTURE_STEPS,
    progress: Callable[[float], None] | None = None,
    chunk_points: int = FUTURE_CHUNK_POINTS,
    every: int = 1,
) -> Futures:
    """At every point of a line (or every ``every``-th, from the first), ``futures``
    continuations of ``steps`` rows; the points skipped have NaN futures.
    Future ``[t, n]`` continues the line after its point ``t`` (:func:`futures_after`)."""
    if every < 1:
        raise ValueError("every must be at least 1")
    rows = np.asarray(rows, dtype=np.float64)
    states = line_states(model, rows)
    eos = mixture(model, states.h).eos
    drawn = np.full((len(rows), futures, steps, 3), np.nan)
    points = np.arange(0, len(rows), every)
    drawn[points] = futures_after(model, states, rows, points, rng, variation, futures, steps, progress, chunk_points)
    return Futures(drawn, eos)


def futures_stride(points: int, futures: int, steps: int, budget: int) -> int:
    """The smallest ``every`` that keeps ``points / every * futures * steps`` pen steps within ``budget``."""
    return max(1, -(-points * futures * steps // budget))


def future_turns(rows: np.ndarray, futures: np.ndarray, points: np.ndarray | None = None) -> np.ndarray:
    """Signed angle (P, N, K) by which each future veers from the path taken.

    ``futures`` (P, N, K, 3) start after the line's ``points`` (every point, in
    order, when None). Seen from the point future ``[p, n]`` starts at, the
    angle between its k-th point and the real path's point k steps ahead,
    wrapped into [-pi, pi]. Positive means the future turns right of the path
    as the line is seen on the page (y grows downward); where the line has
    fewer than k points left, the angle is NaN.
    """
    rows = np.asarray(rows, dtype=np.float64)
    steps = futures.shape[2]
    path = np.vstack([np.zeros((1, 2)), np.cumsum(rows[:, :2], axis=0)])  # (T+1, 2)
    length = len(rows)
    points = np.arange(length) if points is None else np.asarray(points, dtype=np.int64).reshape(-1)
    ahead_index = points[:, None] + 1 + np.arange(1, steps + 1)[None, :]  # (P, K)
    valid = ahead_index <= length
    ahead = path[np.minimum(ahead_index, length)] - path[points + 1, None, :]  # (P, K, 2)
    drawn = np.cumsum(futures[..., :2], axis=2)  # (P, N, K, 2), relative to the start point
    angle = np.arctan2(drawn[..., 1], drawn[..., 0]) - np.arctan2(ahead[:, None, :, 1], ahead[:, None, :, 0])
    angle = (angle + np.pi) % (2 * np.pi) - np.pi
    return np.where(valid[:, None, :], angle, np.nan)
