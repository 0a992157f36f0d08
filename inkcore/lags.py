"""How far back the model looks: attribution mass against lag over a corpus.

For target points of every line (every ``every``-th row, and every point after
which the pen lifts), each earlier row's attribution to the target's
log-likelihood is its gradient times the row (gradient times input: one backward
pass per target, all of a line's targets back at once through one forward run;
integrated gradients would cost 64 of them each). A target's attribution mass
(the absolute values summed over dx, dy and pen) is shared out by lag, lag 1
being the row just before the target, and every target counts once. Targets just
before a pen lift and the rest are kept apart: the article's claim that the model
remembers "which letter preceded the current one" is a claim about lags of a
letter or more (IAM-OnDB writes a letter in about 25-40 points).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

import inkcore.backward as backward
from inkcore.corpus import Corpus, Executor, Progress, fold, line_batches, run_batches
from inkcore.model import Model, network_output
from inkcore.strokes import model_inputs

#: Targets: every EVERY-th row (and every pen lift); lags beyond MAX_LAG share one bin.
EVERY, MAX_LAG = 25, 400
#: Targets of one line sent back together.
TARGET_BATCH = 32
KINDS = ("before_lift", "other")


class LagSums(NamedTuple):
    """Per kind of target: the summed lag shares (MAX_LAG + 1,), bin MAX_LAG holding
    every lag beyond it, and the number of targets."""

    shares: np.ndarray  # (2, max_lag + 1), rows as KINDS; column k is lag k + 1
    targets: np.ndarray  # (2,)

    def __add__(self, other: "LagSums") -> "LagSums":
        return LagSums(self.shares + other.shares, self.targets + other.targets)


class LagProfile(NamedTuple):
    sums: LagSums
    every: int
    lines: int

    def shares(self) -> dict[str, np.ndarray]:
        """Each kind's mean share of attribution mass by lag (lag 1 first; the last bin the rest)."""
        found = {kind: self.sums.shares[k] / max(int(self.sums.targets[k]), 1) for k, kind in enumerate(KINDS)}
        found["all"] = self.sums.shares.sum(axis=0) / max(int(self.sums.targets.sum()), 1)
        return found

    def summary(self) -> dict:
        figures: dict = {"lines": self.lines, "every": self.every}
        for kind, shares in self.shares().items():
            count = int(self.sums.targets.sum() if kind == "all" else self.sums.targets[KINDS.index(kind)])
            figures[f"targets_{kind}"] = count
            for level in (50, 90):
                figures[f"lag{level}_{kind}"] = within(shares, level / 100) if count else None
        return figures


def within(shares: np.ndarray, level: float) -> int | None:
    """The smallest lag within which ``level`` of the mass lies (None if only beyond the last bin)."""
    reached = np.flatnonzero(np.cumsum(shares[:-1]) >= level - 1e-12)
    return int(reached[0]) + 1 if len(reached) else None


def targets_of(rows: np.ndarray, every: int) -> np.ndarray:
    """A line's target rows: every ``every``-th from row ``every`` on, and each pen lift (row 0 has nothing before it)."""
    chosen = set(range(every, len(rows), every)) | set(np.flatnonzero(rows[:, 2] > 0.5).tolist())
    return np.array(sorted(t for t in chosen if t > 0), dtype=np.int64)


def line_lag_shares(model: Model, rows: np.ndarray, targets: np.ndarray, max_lag: int = MAX_LAG) -> np.ndarray:
    """Each target's attribution mass shared out by lag (len(targets), max_lag + 1)."""
    rows = np.asarray(rows, np.float64)
    tape = backward.forward(model, model_inputs(rows)[:, None, :])
    shares = np.zeros((len(targets), max_lag + 1))
    for start in range(0, len(targets), TARGET_BATCH):
        chunk = targets[start : start + TARGET_BATCH]
        last = int(chunk.max())
        states = tape.h[chunk + 1, 0]  # (B, cells) the states that predict each target
        _, dy = backward.mixture_gradient(model, network_output(model, states), rows[chunk])
        dh = np.zeros((last + 2, len(chunk), model.config.cells), model.dtype)
        dh[chunk + 1, np.arange(len(chunk))] = dy @ model.W_out.T
        grads = backward.backward(model, backward.Tape(tape.xs[: last + 1], tape.h[: last + 2], tape.c[: last + 2],
                                                       tape.gates[: last + 1], None), dh)
        for b, target in enumerate(chunk):
            mass = np.abs(grads.xs[1 : target + 1, b] * rows[:target]).sum(axis=1)[::-1]  # lag 1 first
            total = mass.sum()
            if total > 0:
                shares[start + b, : min(max_lag, target)] = mass[:max_lag] / total
                shares[start + b, max_lag] = mass[max_lag:].sum() / total
    return shares


def lag_task(model: Model, every: int, max_lag: int, lines: list[np.ndarray]) -> LagSums:
    sums = LagSums(np.zeros((2, max_lag + 1)), np.zeros(2, np.int64))
    for rows in lines:
        targets = targets_of(rows, every)
        if not len(targets):
            continue
        shares = line_lag_shares(model, rows, targets, max_lag)
        lift = rows[targets, 2] > 0.5
        sums = sums + LagSums(np.stack([shares[lift].sum(0), shares[~lift].sum(0)]),
                              np.array([lift.sum(), (~lift).sum()]))
    return sums


def lag_profile(model: Model, corpus: Corpus, every: int = EVERY, max_lag: int = MAX_LAG,
                executor: Executor | None = None, on_progress: Progress | None = None) -> LagProfile:
    """The corpus's lag profile (see the module's docstring), batches of lines on ``executor``."""
    batches, payloads = line_batches(corpus)
    sums = fold(run_batches(lag_task, (model, every, max_lag), payloads, [len(b) for b in batches], executor,
                            on_progress))
    return LagProfile(sums, every, sum(len(b) for b in batches))
