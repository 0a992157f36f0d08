"""What a line of handwriting looks like, in numbers, and what an intervention on
cells changes in what the model writes.

A line's traits (:func:`line_traits`), all in the model's units (see
:mod:`inkcore.model`: whiteboard units / 40, y growing downward):

* ``pen_lifts``: pen lifts per 100 points, how often the pen leaves the paper.
* ``slant``: the lean of the near-vertical strokes, in degrees from upright,
  positive leaning right (as most right-handed cursive does). Every drawn
  segment is turned to point upward, those within 45 degrees of vertical count,
  weighted by their length.
* ``size``: the height of the writing band, the 5th to 95th percentile of y
  about the line's baseline (its least-squares fit of y on x), so a line that
  climbs or falls is not taken for tall letters.
* ``advance``: how far right the writing goes per 100 points (negative: it goes
  back left), the horizontal drift.
* ``climb``: the baseline's angle in degrees, positive rising to the right.

:func:`intervention_effect` writes the same seeds with and without a hold and
reports the mean of each trait for both, with the cost of the hold in nats per
point on given lines by the evaluation protocol.
"""
from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np

from inkcore.evaluate import line_states, score
from inkcore.model import Hold, Model
from inkcore.sampling import PenStreams, generate
from inkcore.strokes import to_absolute

#: Trait names in the order tables show them, with a label and the unit each is in.
TRAITS = {
    "pen_lifts": ("Pen lifts", "per 100 points"),
    "slant": ("Slant", "degrees right of upright"),
    "size": ("Letter size", "model units, 5-95% of y"),
    "advance": ("Horizontal drift", "model units right per 100 points"),
    "climb": ("Baseline", "degrees, rising to the right"),
}
#: Segments within this many degrees of vertical are the strokes whose lean is the slant.
UPRIGHT_WITHIN = 45.0
#: Seeds, length and variation an intervention's writing is measured on unless told.
EFFECT_SEEDS = range(1, 9)
EFFECT_STEPS = 600
EFFECT_VARIATION = 1.0


def line_traits(rows: np.ndarray) -> dict[str, float]:
    """The :data:`TRAITS` of one line of model rows (T, 3); NaN where a line has too
    little to say (no near-vertical stroke for the slant, fewer than two points)."""
    rows = np.asarray(rows, dtype=np.float64)
    traits = dict.fromkeys(TRAITS, float("nan"))
    if len(rows) == 0:
        return traits
    traits["pen_lifts"] = 100.0 * float(rows[:, 2].mean())
    traits["advance"] = 100.0 * float(rows[:, 0].sum()) / len(rows)
    # row t is drawn from point t-1 to point t unless the pen lifted after point t-1
    drawn = np.concatenate([[False], rows[:-1, 2] == 0])
    dx, dy = rows[drawn, 0], rows[drawn, 1]
    upward = np.where(dy > 0, -1.0, 1.0)  # turn every segment to point up (y grows downward)
    dx, dy = dx * upward, dy * upward
    length = np.hypot(dx, dy)
    lean = np.degrees(np.arctan2(dx, -dy))  # 0 upright, positive leaning right
    upright = (np.abs(lean) <= UPRIGHT_WITHIN) & (length > 0)
    if upright.any():
        traits["slant"] = float(np.average(lean[upright], weights=length[upright]))
    x, y = to_absolute(rows).T[:2]  # every point is a point of a stroke
    if len(x) >= 2 and np.ptp(x) > 0:
        slope, intercept = np.polyfit(x, y, 1)
        about = y - (slope * x + intercept)
        traits["size"] = float(np.percentile(about, 95) - np.percentile(about, 5))
        traits["climb"] = float(np.degrees(np.arctan(-slope)))
    elif len(y) >= 2:
        traits["size"] = float(np.percentile(y, 95) - np.percentile(y, 5))
    return traits


def mean_traits(lines: Sequence[np.ndarray]) -> dict[str, float]:
    """Each trait's mean over ``lines``, leaving out the lines where it is NaN."""
    table = np.array([[line_traits(rows)[name] for name in TRAITS] for rows in lines]).reshape(-1, len(TRAITS))
    means = {}
    for k, name in enumerate(TRAITS):
        known = table[:, k][np.isfinite(table[:, k])]
        means[name] = float(known.mean()) if len(known) else float("nan")
    return means


class Writing(NamedTuple):
    """A model's writing and reading with one hold (or none): the mean traits of the
    lines some seeds write, and its score on some lines."""

    traits: dict[str, float]
    nll: float  # nats per point on the lines scored, by the evaluation protocol
    points: int  # of the lines scored
    lines: int  # written


class Effect(NamedTuple):
    """What a hold changes: the same seeds' writing and the same lines' score without and with it."""

    intact: Writing
    held: Writing

    @property
    def cost(self) -> float:
        """Nats per point the hold costs on the lines scored (positive: worse)."""
        return self.held.nll - self.intact.nll

    def change(self, name: str) -> float:
        return self.held.traits[name] - self.intact.traits[name]


def written_lines(model: Model, seeds: Sequence[int], steps: int, variation: float,
                  hold: Hold | None = None) -> list[np.ndarray]:
    """The lines seeds write (line ``i`` the line :func:`inkcore.sampling.generate` writes
    alone from ``default_rng(seeds[i])``, bit for bit), with ``hold`` held: the same seed
    with and without a hold draws the same random numbers, so what differs is the hold's doing."""
    streams = PenStreams([np.random.default_rng(seed) for seed in seeds])
    return list(generate(model, steps, streams, variation, count=len(seeds), hold=hold))


def writing(model: Model, hold: Hold | None, scored: Sequence[np.ndarray], seeds: Sequence[int] = EFFECT_SEEDS,
            steps: int = EFFECT_STEPS, variation: float = EFFECT_VARIATION) -> Writing:
    """The traits of what the model writes from ``seeds`` with ``hold`` (None: intact), and
    its score on the ``scored`` lines."""
    scored = [rows for rows in scored if len(rows)]
    if not scored:
        raise ValueError("no lines to score the intervention on")
    result = score(model, scored, hold=hold)
    return Writing(mean_traits(written_lines(model, seeds, steps, variation, hold)), result.nll_per_point,
                   result.points, len(seeds))


def intervention_effect(model: Model, hold: Hold, scored: Sequence[np.ndarray],
                        seeds: Sequence[int] = EFFECT_SEEDS, steps: int = EFFECT_STEPS,
                        variation: float = EFFECT_VARIATION) -> Effect:
    """:func:`writing` without and with ``hold``."""
    return Effect(writing(model, None, scored, seeds, steps, variation),
                  writing(model, hold, scored, seeds, steps, variation))


def cell_statistics(model: Model, lines: Sequence[np.ndarray], low: float = 1.0, high: float = 99.0
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every cell's mean and its ``low`` and ``high`` percentile of c (each (cells,)) over
    every step of ``lines``, read by the evaluation protocol: what holding a cell at its
    mean, low or high means for that cell."""
    c = np.concatenate([line_states(model, rows).c for rows in lines if len(rows)])  # (steps, cells)
    return c.mean(axis=0, dtype=np.float64), np.percentile(c, low, axis=0), np.percentile(c, high, axis=0)
