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
from typing import Iterable

import numpy as np

import inkcore.corpus as corpus
from inkcore.model import Hold, LogLikelihood, LSTMState, Model, log_likelihood, mixture
from inkcore.motion import MOTION_KINDS
from inkcore.recording import record


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
    the zero row and rows ``0..t-1``, so its mixture predicts row ``t``
    (:func:`inkcore.recording.record` with ``after_zero_row``)."""
    return LSTMState(*record(model, rows, after_zero_row=True))


def line_log_likelihood(model: Model, rows: np.ndarray) -> LogLikelihood:
    """Per-point log-likelihood (T,) of one line of model rows."""
    return log_likelihood(mixture(model, line_states(model, rows).h), rows)


def _scored_corpus(lines: Iterable[np.ndarray], primes: Iterable[np.ndarray] | None):
    """Lines and primes as a corpus and its primes, refusing a corpus with nothing to score."""
    lines = corpus.corpus_of(lines)
    if primes is not None:
        primes = [np.reshape(p, (-1, 3)) for p in primes]
        if len(primes) != len(lines):
            raise ValueError(f"{len(primes)} primes for {len(lines)} lines")
    if not (lines.lengths > 0).any():
        raise ValueError("no lines to score")
    return lines, primes


def by_motion(sums) -> dict[str, dict]:
    """Per :data:`MOTION_KINDS`, from scoring's sums (:class:`inkcore.corpus.ScoreSums`):
    its share of the points and the mean offset (Gaussian) negative log-likelihood per point."""
    result = {}
    for k, kind in enumerate(MOTION_KINDS):
        points = int(sums.kind_points[k])
        result[kind] = {"share": points / sums.points, "points": points,
                        "gauss_per_point": float(-sums.kind_gauss[k] / points) if points else float("nan")}
    return result


def score_of(sums) -> Score:
    """The :class:`Score` of scoring's sums (:class:`inkcore.corpus.ScoreSums`)."""
    return Score(
        nll_per_point=-(sums.gauss + sums.eos) / sums.points,
        gauss_per_point=-sums.gauss / sums.points,
        eos_per_point=-sums.eos / sums.points,
        points=sums.points,
        sequences=sums.sequences,
    )


def score_by_motion(model: Model, lines: Iterable[np.ndarray], executor=None, on_progress=None) -> dict[str, dict]:
    """Per :data:`MOTION_KINDS`: its share of the points and the mean offset
    (Gaussian) negative log-likelihood per point, in nats."""
    lines, _ = _scored_corpus(lines, None)
    return by_motion(corpus.score_sums(model, lines, executor=executor, on_progress=on_progress))


def score(model: Model, lines: Iterable[np.ndarray], primes: Iterable[np.ndarray] | None = None,
          hold: Hold | None = None, executor=None, on_progress=None) -> Score:
    """Mean negative log-likelihood per point over ``lines`` (each (T, 3) model rows),
    each read after its prime where ``primes`` are given (one per line), with the
    cells of ``hold`` held (:mod:`inkcore.intervene`). Lines are read in batches
    (:mod:`inkcore.corpus`) on ``executor`` (default: this process's cores), with
    ``on_progress(lines done, lines)`` after each batch."""
    lines, primes = _scored_corpus(lines, primes)
    return score_of(corpus.score_sums(model, lines, hold, primes, executor, on_progress))
