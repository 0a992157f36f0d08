"""How well a model predicts real handwriting, by one protocol used everywhere.

For each line of model rows (see :func:`inkcore.strokes.from_article_file` and
:func:`inkcore.strokes.from_points`): start from the zero state, read one zero
row and then every row but the last; score every row. Report the mean
negative log-likelihood per point in nats, split into the Gaussian part
(offsets, a density in model units) and the end-of-stroke part.

A line may be *primed*: the model reads the zero row, the prime's rows and
then the line's, and only the line's rows are scored. With an empty prime
this is the protocol above.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Iterable, Sequence

import numpy as np

from inkcore.model import Hold, LogLikelihood, LSTMState, Model, log_likelihood, mixture, run
from inkcore.strokes import model_inputs

#: Lines are read this many at a time: one batched run is far faster than many.
BATCH_LINES = 64


@dataclass(frozen=True)
class Score:
    nll_per_point: float
    gauss_per_point: float
    eos_per_point: float
    points: int
    sequences: int

    def to_dict(self) -> dict:
        return asdict(self)


def line_states(model: Model, rows: np.ndarray) -> LSTMState:
    """States (T, cells) along a line by the evaluation protocol: state ``t`` has read
    the zero row and rows ``0..t-1``, so its mixture predicts row ``t``."""
    recording = run(model, model_inputs(np.asarray(rows, dtype=np.float64))[:, None, :])
    return LSTMState(recording.h[:, 0], recording.c[:, 0])


def prediction_states(model: Model, rows: np.ndarray) -> np.ndarray:
    """Hidden states (T, cells) whose mixtures predict each row (:func:`line_states`)."""
    return line_states(model, rows).h


def line_log_likelihood(model: Model, rows: np.ndarray) -> LogLikelihood:
    """Per-point log-likelihood (T,) of one line of model rows."""
    return log_likelihood(mixture(model, prediction_states(model, rows)), rows)


def batch_log_likelihood(model: Model, lines: list[np.ndarray],
                         primes: Sequence[np.ndarray] | None = None, hold: Hold | None = None) -> list[LogLikelihood]:
    """Per-point log-likelihoods of several lines, read side by side in one run; with
    ``primes``, line ``b`` is read after ``primes[b]`` and only its own rows are scored;
    with ``hold`` (shaped (cells,) for every line alike), its cells are held."""
    if primes is None:
        primes = [np.zeros((0, 3))] * len(lines)
    read = [np.concatenate([np.reshape(prime, (-1, 3)), rows]) for prime, rows in zip(primes, lines)]
    longest = max(len(rows) for rows in read)
    inputs = np.zeros((longest, len(read), 3))
    targets = np.zeros((longest, len(read), 3))
    for b, rows in enumerate(read):
        inputs[: len(rows), b] = model_inputs(rows)
        targets[: len(rows), b] = rows
    recording = run(model, inputs, hold=hold)
    ll = log_likelihood(mixture(model, recording.h), targets)
    return [LogLikelihood(ll.gauss[len(r) - len(line) : len(r), b], ll.eos[len(r) - len(line) : len(r), b])
            for b, (r, line) in enumerate(zip(read, lines))]


#: Kinds of point by their offset. Offsets lie on a grid (whiteboard units are
#: integers), so some are exactly 0, where a model can put a point mass and
#: earn a density far above any smooth one; scores apart show where nats come from.
MOTION_KINDS = {
    "still": "dx = 0 and dy = 0",
    "horizontal": "dy = 0, dx != 0",
    "vertical": "dx = 0, dy != 0",
    "other": "dx != 0 and dy != 0",
}


def motion_kind(rows: np.ndarray) -> np.ndarray:
    """The :data:`MOTION_KINDS` name of every row (T,)."""
    dx0, dy0 = rows[:, 0] == 0, rows[:, 1] == 0
    return np.select([dx0 & dy0, dy0, dx0], ["still", "horizontal", "vertical"], "other")


def score_by_motion(model: Model, lines: Iterable[np.ndarray]) -> dict[str, dict]:
    """Per :data:`MOTION_KINDS`: its share of the points and the mean offset
    (Gaussian) negative log-likelihood per point, in nats."""
    lines = [np.asarray(rows) for rows in lines if len(rows)]
    gauss, kinds = [], []
    for start in range(0, len(lines), BATCH_LINES):
        batch = lines[start : start + BATCH_LINES]
        gauss += [ll.gauss for ll in batch_log_likelihood(model, batch)]
        kinds += [motion_kind(rows) for rows in batch]
    gauss_all, kind_all = np.concatenate(gauss), np.concatenate(kinds)
    result = {}
    for kind in MOTION_KINDS:
        chosen = kind_all == kind
        result[kind] = {"share": float(chosen.mean()), "points": int(chosen.sum()),
                        "gauss_per_point": float(-gauss_all[chosen].mean()) if chosen.any() else float("nan")}
    return result


def score(model: Model, lines: Iterable[np.ndarray], primes: Iterable[np.ndarray] | None = None,
          hold: Hold | None = None) -> Score:
    """Mean negative log-likelihood per point over ``lines`` (each (T, 3) model rows),
    each read after its prime where ``primes`` are given (one per line), with the
    cells of ``hold`` held (:mod:`inkcore.intervene`)."""
    lines = [np.asarray(rows) for rows in lines]
    primes = [np.zeros((0, 3))] * len(lines) if primes is None else [np.reshape(p, (-1, 3)) for p in primes]
    if len(primes) != len(lines):
        raise ValueError(f"{len(primes)} primes for {len(lines)} lines")
    pairs = [(prime, rows) for prime, rows in zip(primes, lines) if len(rows)]
    if not pairs:
        raise ValueError("no lines to score")
    gauss = eos = 0.0
    points = 0
    pairs.sort(key=lambda pair: len(pair[0]) + len(pair[1]))  # similar lengths pad less
    for start in range(0, len(pairs), BATCH_LINES):
        batch_primes, batch = zip(*pairs[start : start + BATCH_LINES])
        for ll in batch_log_likelihood(model, list(batch), batch_primes, hold):
            gauss += float(ll.gauss.sum())
            eos += float(ll.eos.sum())
            points += len(ll.gauss)
    return Score(
        nll_per_point=-(gauss + eos) / points,
        gauss_per_point=-gauss / points,
        eos_per_point=-eos / points,
        points=points,
        sequences=len(pairs),
    )
