"""Probes: features of the pen's path, and scores of how closely cells follow them.

:func:`inkcore.cells.probe_cells` records lines and ranks the model's cells
with what is here; this module knows nothing of the model.

Every feature is a series (T,) aligned with :func:`inkcore.cells.record`:
feature ``[t]`` describes row ``t`` of the line, which the state at step ``t``
has just read (the move that reached point ``t``, the pen bit saying whether
the pen lifts after it). Features that look ahead (``pen_lift_soon``) describe
rows the state has not read yet, on purpose: they ask what the model expects.

A feature is NaN where it says nothing about the pen on paper: ``speed`` and
``direction`` on the pen-up jump to a stroke's first point (and ``direction``
on a zero offset), ``curvature`` wherever its points cross a pen lift or one
of its chords has no length. Scores skip those steps.

Scores (:func:`rank_cells`) are Pearson correlations of a cell with a feature
over every step of every line, signed, ranked by their absolute value. For a
0/1 feature this is the point-biserial correlation. ``direction`` is an angle,
which no single linear correlation fits (-pi and pi are the same direction):
its score is the circular-linear correlation, the multiple correlation of the
cell with (cos, sin) of the angle, in [0, 1]; it is 1 for a cell equal to
``cos(direction - phase)`` whatever the phase.

Scores add up line by line and merge batch by batch (:class:`CellScores`), so
probing many lines never holds all their recordings at once.
"""
from __future__ import annotations

import numpy as np

from inkcore.strokes import as_rows

#: ``pen_lift_soon`` looks this many rows ahead.
PEN_LIFT_SOON_STEPS = 5
#: ``curvature`` is the turn between the chords over the last this-many moves
#: and the this-many before them. Turns between single moves are mostly the
#: noise of the offsets' rounding: on the article's model with its 200
#: validation lines the best cell's |r| was 0.14 for them, 0.35 for chords of
#: 4 moves, 0.40 for 5 and 0.41 for 6; 5 is where the gain levels off.
CURVATURE_STEPS = 5
#: ``y`` is measured from the median y of the line's last this-many points, a
#: baseline that follows a line which climbs or falls across the page. On the
#: same model and lines the best cell's |r| rose from 0.46 (y from the line's
#: first point) to 0.71 with 25 points, 0.78 with 50 and 100, 0.76 with 200.
Y_BASELINE_STEPS = 100
#: A stroke starts a new word when its leftmost point lies more than this many
#: model units (140 whiteboard units) right of all the ink before it. Chosen on
#: every tenth IAM-OnDB training line by counting words against the
#: transcriptions: the count is exact for 58% of lines and off by at most one
#: for 88% (60% and 89% on the article's 200 validation lines). Thresholds on
#: the jump alone, or relative to the line's height, did worse.
WORD_GAP = 3.5

FEATURES = (
    "pen_lift", "pen_lift_soon", "x", "y", "direction", "curvature",
    "speed", "since_pen_lift", "word_position",
)
#: Features that are angles, scored by circular-linear correlation.
CIRCULAR = frozenset({"direction"})
#: Short names for figures and tabs, and one line on what each feature is.
FEATURE_LABELS = {
    "pen_lift": "Pen lift", "pen_lift_soon": "Pen lift soon", "x": "Position x", "y": "Position y",
    "direction": "Direction", "curvature": "Curvature", "speed": "Speed",
    "since_pen_lift": "Steps since lift", "word_position": "Position in word",
}
FEATURE_HELP = {
    "pen_lift": "1 where the point just written ends a stroke (the pen lifts after it), else 0.",
    "pen_lift_soon": f"1 where a stroke ends within the next {PEN_LIFT_SOON_STEPS} points: what the model expects.",
    "x": "How far along the line the pen is, in model units.",
    "y": f"How low the pen is, in model units (y grows downward), below the median of its last {Y_BASELINE_STEPS} points.",
    "direction": "The angle of the pen's last move; scored by circular correlation, so 0 to 1.",
    "curvature": f"How far the pen turned over its last {2 * CURVATURE_STEPS} moves (clockwise is positive).",
    "speed": "The length of the pen's last move on paper.",
    "since_pen_lift": "Points written since the last pen lift.",
    "word_position": "How far right of the current word's first point the pen is.",
}


def _wrap(angle: np.ndarray) -> np.ndarray:
    """Angles into [-pi, pi)."""
    return (angle + np.pi) % (2.0 * np.pi) - np.pi


def stroke_features(rows: np.ndarray) -> dict[str, np.ndarray]:
    """The pen's path described step by step, each feature (T,) float.

    * ``pen_lift``: row t's pen bit, the lift just reported.
    * ``pen_lift_soon``: 1 if any of rows t+1 .. t+5 reports a lift.
    * ``x``: position of point t in model units from the line's first point.
    * ``y``: height of point t in model units (y grows downward) relative to
      a baseline that follows the line: the median y of points
      ``t - Y_BASELINE_STEPS + 1 .. t`` (fewer at the line's start), so it
      uses only points the state has read.
    * ``direction``: angle of the move (dx, dy) in the data's axes, so with y
      down pi/2 is moving down the page.
    * ``curvature``: signed turn, in [-pi, pi), from the chord of points
      ``t - 2k .. t - k`` to the chord of points ``t - k .. t`` with
      k = :data:`CURVATURE_STEPS`; positive turns clockwise on the page. NaN
      unless all 2k + 1 points are in one stroke and both chords have length.
    * ``speed``: length of the move in model units per step.
    * ``since_pen_lift``: rows since the last lift (0 on a lift row); the line
      counts as starting just after a lift.
    * ``word_position``: x minus the x of the current word's first point. A
      stroke starts a word when its leftmost point clears the ink before it by
      :data:`WORD_GAP`; that looks at the whole stroke, so from a stroke's
      first point on the feature knows what the model can only guess. The
      value (not a fraction of the word) needs no knowledge of where the word ends.
    """
    rows = as_rows(rows)
    steps = len(rows)
    dx, dy, pen = rows[:, 0], rows[:, 1], rows[:, 2]
    xy = np.cumsum(rows[:, :2], axis=0)  # (T, 2) point t, the origin being point "-1"
    jump = np.zeros(steps, bool)  # rows that carry the pen up to a new stroke
    jump[1:] = pen[:-1] > 0.5
    moving = ~jump & ((dx != 0) | (dy != 0))

    lifts_before = np.concatenate([[0.0], np.cumsum(pen)])  # lifts among rows < t
    ahead = np.minimum(np.arange(steps) + 1 + PEN_LIFT_SOON_STEPS, steps)
    soon = lifts_before[ahead] - lifts_before[np.minimum(np.arange(steps) + 1, steps)] > 0

    direction = np.where(moving, np.arctan2(dy, dx), np.nan)

    last_lift = np.where(pen > 0.5, np.arange(steps), -1)
    since = np.arange(steps) - np.maximum.accumulate(last_lift)

    return {
        "pen_lift": pen.copy(),
        "pen_lift_soon": soon.astype(np.float64),
        "x": xy[:, 0].copy(),
        "y": xy[:, 1] - _running_median(xy[:, 1], Y_BASELINE_STEPS),
        "direction": direction,
        "curvature": _chord_turn(xy, np.cumsum(jump), CURVATURE_STEPS),
        "speed": np.where(jump, np.nan, np.hypot(dx, dy)),
        "since_pen_lift": since.astype(np.float64),
        "word_position": _word_position(xy[:, 0], jump),
    }


def _running_median(values: np.ndarray, window: int) -> np.ndarray:
    """Median of ``values[t - window + 1 .. t]`` for each t (of fewer values at the start)."""
    steps = len(values)
    median = np.empty(steps)
    head = min(window - 1, steps)
    for t in range(head):
        median[t] = np.median(values[: t + 1])
    if steps >= window:
        median[head:] = np.median(np.lib.stride_tricks.sliding_window_view(values, window), axis=1)
    return median


def _chord_turn(xy: np.ndarray, stroke: np.ndarray, k: int) -> np.ndarray:
    """Signed turn (T,) from chord xy[t-2k] -> xy[t-k] to chord xy[t-k] -> xy[t];
    NaN where the three points are not all in one stroke (``stroke`` (T,) numbers
    each point's stroke) or a chord has no length."""
    turn = np.full(len(xy), np.nan)
    if len(xy) <= 2 * k:
        return turn
    before, after = xy[k:-k] - xy[: -2 * k], xy[2 * k :] - xy[k:-k]  # (T - 2k, 2)
    angle = _wrap(np.arctan2(after[:, 1], after[:, 0]) - np.arctan2(before[:, 1], before[:, 0]))
    valid = (stroke[2 * k :] == stroke[: -2 * k]) & before.any(axis=1) & after.any(axis=1)
    turn[2 * k :] = np.where(valid, angle, np.nan)
    return turn


def _word_position(x: np.ndarray, jump: np.ndarray) -> np.ndarray:
    """x (T,) minus the x where the current word began; a word begins at the
    line's first point and at every stroke clear of the ink before it by WORD_GAP."""
    steps = len(x)
    starts = np.concatenate([[0], np.flatnonzero(jump), [steps]]).astype(int)
    reach = np.maximum.accumulate(np.concatenate([[0.0], x]))  # reach[t]: rightmost ink before point t
    position = np.empty(steps)
    word_start = 0.0  # the line's first point is the origin
    for first, end in zip(starts[:-1], starts[1:]):
        if first > 0 and x[first:end].min() - reach[first] > WORD_GAP:
            word_start = x[first]
        position[first:end] = x[first:end] - word_start
    return position


def _channels(name: str, values: np.ndarray) -> np.ndarray:
    """A feature as the columns a cell is regressed on: (n, 1), or (n, 2) for an angle."""
    if name in CIRCULAR:
        return np.column_stack([np.cos(values), np.sin(values)])
    return values[:, None]


class _Moments:
    """Running sums for correlating every cell with one feature's channels.

    Sums are of deviations from the first batch's means, so a cell that
    barely moves around a large value does not lose its variance to rounding.
    """

    def __init__(self, cells: int, channels: int):
        self.n = 0
        self.ref_a: np.ndarray | None = None  # (cells,) the shift of the activations
        self.ref_y: np.ndarray | None = None  # (k,) the shift of the channels
        self.a = np.zeros(cells)  # sum of shifted activations
        self.aa = np.zeros(cells)  # sum of their squares
        self.y = np.zeros(channels)
        self.yy = np.zeros((channels, channels))
        self.ay = np.zeros((cells, channels))

    def add(self, activations: np.ndarray, channels: np.ndarray) -> None:
        """Add steps: activations (n, cells), channels (n, k)."""
        if len(activations) == 0:
            return
        if self.ref_a is None:
            self.ref_a, self.ref_y = activations.mean(axis=0), channels.mean(axis=0)
        a, y = activations - self.ref_a, channels - self.ref_y
        self.n += len(a)
        self.a += a.sum(axis=0)
        self.aa += np.einsum("tc,tc->c", a, a)
        self.y += y.sum(axis=0)
        self.yy += y.T @ y
        self.ay += a.T @ y

    def merge(self, other: "_Moments") -> "_Moments":
        """These sums and ``other``'s together, on this shift: other's shifted values
        ``a - r2`` become ``a - r1`` by adding ``r2 - r1``, expanded in each sum."""
        if other.n == 0:
            return self
        if self.n == 0:
            return other
        da, dy = other.ref_a - self.ref_a, other.ref_y - self.ref_y  # other's shifted values plus these
        n = other.n
        self.aa += other.aa + 2.0 * da * other.a + n * da**2
        self.yy += other.yy + np.outer(dy, other.y) + np.outer(other.y, dy) + n * np.outer(dy, dy)
        self.ay += other.ay + np.outer(da, other.y) + np.outer(other.a, dy) + n * np.outer(da, dy)
        self.a += other.a + n * da
        self.y += other.y + n * dy
        self.n += n
        return self

    def scores(self) -> np.ndarray:
        """(cells,) signed correlation for one channel, multiple correlation for two."""
        cells = len(self.a)
        if self.n < 3:
            return np.zeros(cells)
        mean_a, mean_y = self.a / self.n, self.y / self.n
        var_a = self.aa / self.n - mean_a**2
        cov_yy = self.yy / self.n - np.outer(mean_y, mean_y)
        cov_ay = self.ay / self.n - np.outer(mean_a, mean_y)  # (cells, k)
        sd_y = np.sqrt(np.clip(np.diag(cov_yy), 0.0, None))
        if not (sd_y > 1e-12 * (1.0 + np.abs(self.ref_y))).all():
            return np.zeros(cells)  # the feature does not vary here
        sd_a = np.sqrt(np.clip(var_a, 0.0, None))
        live = sd_a > 1e-12 * (1.0 + np.abs(self.ref_a))  # a constant cell scores 0
        r = np.zeros_like(cov_ay)
        r[live] = cov_ay[live] / (sd_a[live, None] * sd_y[None, :])
        if r.shape[1] == 1:
            return np.clip(r[:, 0], -1.0, 1.0)
        r_yy = cov_yy / np.outer(sd_y, sd_y)
        squared = np.einsum("ck,kj,cj->c", r, np.linalg.pinv(r_yy), r)
        return np.sqrt(np.clip(squared, 0.0, 1.0))


class CellScores:
    """Correlations of every cell with every feature, accumulated line by line."""

    def __init__(self) -> None:
        self._moments: dict[str, _Moments] = {}

    def add(self, features: dict[str, np.ndarray], activations: np.ndarray) -> None:
        """Add one line: features (T,) each, activations (T, cells). NaN steps of a feature are skipped."""
        activations = np.asarray(activations, dtype=np.float64)
        for name, values in features.items():
            values = np.asarray(values, dtype=np.float64)
            known = np.isfinite(values)
            channels = _channels(name, values[known])
            if name not in self._moments:
                self._moments[name] = _Moments(activations.shape[1], channels.shape[1])
            self._moments[name].add(activations[known], channels)

    def __bool__(self) -> bool:
        return bool(self._moments)

    def merge(self, other: "CellScores") -> "CellScores":
        """Add another set of lines' scores to these (both kept as sums): lines probed
        apart, in batches or on other machines, score as if probed together."""
        for name, moments in other._moments.items():
            self._moments[name] = self._moments[name].merge(moments) if name in self._moments else moments
        return self

    def scores(self, name: str) -> np.ndarray:
        """(cells,) every cell's score for one feature."""
        return self._moments[name].scores()

    def ranking(self, top: int = 20) -> dict[str, list[tuple[int, float]]]:
        """For each feature, the ``top`` cells as (cell, score), largest |score| first."""
        ranked = {}
        for name in self._moments:
            scores = self.scores(name)
            best = np.argsort(-np.abs(scores), kind="stable")[:top]
            ranked[name] = [(int(cell), float(scores[cell])) for cell in best]
        return ranked


def rank_cells(
    features: dict[str, np.ndarray], activations: np.ndarray, top: int = 20
) -> dict[str, list[tuple[int, float]]]:
    """For each feature (T,), the ``top`` cells of ``activations`` (T, cells) as
    (cell, score), strongest first (see the module docstring for the scores).
    A feature that does not vary ranks every cell at 0."""
    scores = CellScores()
    scores.add(features, activations)
    return scores.ranking(top)
