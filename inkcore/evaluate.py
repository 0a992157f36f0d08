"""How well a model predicts real handwriting, by one protocol used everywhere.

For each line of model rows (see :func:`inkcore.strokes.from_article_file` and
:func:`inkcore.strokes.from_points`): start from the zero state, read one zero
row and then every row but the last; score every row. Report the mean
negative log-likelihood per point in nats, split into the Gaussian part
(offsets, a density in model units) and the end-of-stroke part.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Iterable

import numpy as np

from inkcore.model import LogLikelihood, LSTMState, Model, log_likelihood, mixture, run
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


def batch_log_likelihood(model: Model, lines: list[np.ndarray]) -> list[LogLikelihood]:
    """Per-point log-likelihoods of several lines, read side by side in one run."""
    longest = max(len(rows) for rows in lines)
    inputs = np.zeros((longest, len(lines), 3))
    targets = np.zeros((longest, len(lines), 3))
    for b, rows in enumerate(lines):
        inputs[: len(rows), b] = model_inputs(rows)
        targets[: len(rows), b] = rows
    recording = run(model, inputs)
    ll = log_likelihood(mixture(model, recording.h), targets)
    return [LogLikelihood(ll.gauss[: len(r), b], ll.eos[: len(r), b]) for b, r in enumerate(lines)]


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


def score(model: Model, lines: Iterable[np.ndarray]) -> Score:
    """Mean negative log-likelihood per point over ``lines`` (each (T, 3) model rows)."""
    lines = [np.asarray(rows) for rows in lines if len(rows)]
    if not lines:
        raise ValueError("no lines to score")
    gauss = eos = 0.0
    points = 0
    order = sorted(range(len(lines)), key=lambda i: len(lines[i]))  # similar lengths pad less
    for start in range(0, len(order), BATCH_LINES):
        batch = [lines[i] for i in order[start : start + BATCH_LINES]]
        for ll in batch_log_likelihood(model, batch):
            gauss += float(ll.gauss.sum())
            eos += float(ll.eos.sum())
            points += len(ll.gauss)
    return Score(
        nll_per_point=-(gauss + eos) / points,
        gauss_per_point=-gauss / points,
        eos_per_point=-eos / points,
        points=points,
        sequences=len(lines),
    )
