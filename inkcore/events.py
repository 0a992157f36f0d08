"""Stroke events: yes-or-no facts about every point of a line, to ask of a cell or a
feature whether it stands for one thing.

Point ``t`` is the point row ``t`` moves the pen to; its state is the one after
reading rows ``0..t`` (as :func:`inkcore.cells.record` records it), so an event
of point ``t`` is something the state has seen, except where its name says it
looks ahead ("within the next 5 points"). Directions are as a reader sees the
page: up is up, whatever the data's y (which grows downward).

* ``pen lifts here``: the pen lifts after point t (row t's pen bit).
* ``pen lifts within 5 points``: one of rows t+1 .. t+5 reports a lift.
* ``stroke starts``: point t is a stroke's first (the line's first, or the pen
  lifted after point t-1).
* ``moving <octant>``: the move into point t, within a stroke, lies within 22.5
  degrees of that compass direction (right, up-right, up, ...); no octant for
  a stroke's first point or a point that does not move.
* ``turning left`` / ``turning right``: the path turns by more than
  :data:`TURN_RADIANS` from the chord of points t-10..t-5 to that of points
  t-5..t (:func:`inkcore.probes.stroke_features`' curvature), anticlockwise or
  clockwise as seen on the page.
* ``descender`` / ``ascender``: point t lies below the baseline, or above the
  top of the small letters, by more than half the height of the small
  letters. The baseline is the line's least-squares fit of y on x moved to the
  :data:`BASELINE_QUANTILE` of the points about it; the top of the small
  letters is the :data:`MIDLINE_QUANTILE`.
"""
from __future__ import annotations

import numpy as np

from inkcore.probes import stroke_features
from inkcore.strokes import as_rows

#: A turn beyond this many radians between chords five points apart (about 29 degrees).
TURN_RADIANS = 0.5
#: Points about the fitted line of y on x: the baseline's and the small letters' top quantiles.
BASELINE_QUANTILE = 0.8
MIDLINE_QUANTILE = 0.3
#: A point this many small-letter heights beyond the baseline or the top is a descender or ascender.
BEYOND_SHARE = 0.5

OCTANTS = ("right", "up-right", "up", "up-left", "left", "down-left", "down", "down-right")
EVENTS = ("pen lifts here", "pen lifts within 5 points", "stroke starts",
          *(f"moving {name}" for name in OCTANTS), "turning left", "turning right", "descender", "ascender")


def stroke_events(rows: np.ndarray) -> dict[str, np.ndarray]:
    """Every :data:`EVENTS` entry as a (T,) bool array for the line's rows (T, 3)."""
    rows = as_rows(rows)
    steps = len(rows)
    described = stroke_features(rows) if steps else {}
    events = {name: np.zeros(steps, bool) for name in EVENTS}
    if steps == 0:
        return events
    pen = rows[:, 2] > 0.5
    events["pen lifts here"] = pen.copy()
    events["pen lifts within 5 points"] = described["pen_lift_soon"] > 0.5
    events["stroke starts"] = np.concatenate([[True], pen[:-1]])
    # stroke_features' direction is in the data's axes (y down): turn it to the page's.
    heading = -described["direction"]
    known = np.isfinite(heading)
    octant = np.full(steps, -1)
    octant[known] = np.floor(((heading[known] + np.pi / 8) % (2 * np.pi)) / (np.pi / 4)).astype(np.int64) % 8
    for k, name in enumerate(OCTANTS):
        events[f"moving {name}"] = known & (octant == k)
    curvature = described["curvature"]  # positive turns clockwise on the page
    turned = np.isfinite(curvature)
    events["turning right"] = turned & (np.where(turned, curvature, 0.0) > TURN_RADIANS)
    events["turning left"] = turned & (np.where(turned, curvature, 0.0) < -TURN_RADIANS)
    below, above = _beyond_band(rows)
    events["descender"], events["ascender"] = below, above
    return events


def _beyond_band(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    xy = np.cumsum(rows[:, :2], axis=0)
    x, y = xy[:, 0], xy[:, 1]
    if len(x) < 3 or np.ptp(x) == 0:
        about = y - np.median(y)
    else:
        slope, intercept = np.polyfit(x, y, 1)
        about = y - (slope * x + intercept)
    baseline, midline = np.quantile(about, BASELINE_QUANTILE), np.quantile(about, MIDLINE_QUANTILE)
    height = baseline - midline  # y grows downward: the baseline has the larger y
    if height <= 0:
        return np.zeros(len(rows), bool), np.zeros(len(rows), bool)
    return about > baseline + BEYOND_SHARE * height, about < midline - BEYOND_SHARE * height


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..N of ``values`` (N,), tied values sharing the mean of their ranks."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    starts = np.flatnonzero(np.concatenate([[True], ordered[1:] != ordered[:-1]]))
    counts = np.diff(np.append(starts, len(values)))
    ranks = np.empty(len(values))
    ranks[order] = np.repeat(starts + (counts + 1) / 2.0, counts)
    return ranks


def auc(scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The area under the ROC curve (K, E) of each column of ``scores`` (N, K) for each
    column of the bool ``labels`` (N, E), or (K,) for labels (N,): the chance that a
    point with the event scores above one without, ties counting half (the
    Mann-Whitney statistic). NaN for an event that every point has, or none.

    Columns that are mostly zero (a sparse dictionary's activations) are ranked by
    their non-zero entries alone, the zeros sharing one mean rank."""
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels, bool)
    single = labels.ndim == 1
    labels = labels.reshape(len(labels), -1)
    n = len(scores)
    positives = labels.sum(axis=0).astype(np.float64)  # (E,)
    negatives = n - positives
    rank_sums = np.empty((scores.shape[1], labels.shape[1]))
    for k in range(scores.shape[1]):
        column = scores[:, k]
        nonzero = np.flatnonzero(column)
        if len(nonzero) < n // 4:
            zeros = n - len(nonzero)
            ranks = np.full(n, (zeros + 1) / 2.0)
            ranks[nonzero] = zeros + _average_ranks(column[nonzero]) if zeros else _average_ranks(column[nonzero])
            below = column[nonzero] < 0
            if below.any():  # negative entries rank below the zeros: rank the column whole
                ranks = _average_ranks(column)
        else:
            ranks = _average_ranks(column)
        rank_sums[k] = ranks @ labels
    with np.errstate(invalid="ignore", divide="ignore"):
        result = (rank_sums - positives * (positives + 1) / 2.0) / (positives * negatives)
    result[:, (positives == 0) | (negatives == 0)] = np.nan
    return result[:, 0] if single else result


def events_of_lines(lines) -> dict[str, np.ndarray]:
    """The events of several lines, back to back in the order of their points."""
    per_line = [stroke_events(rows) for rows in lines]
    return {name: np.concatenate([events[name] for events in per_line]) if per_line else np.zeros(0, bool)
            for name in EVENTS}
