"""Pen offsets, their units, and conversions between ways of writing a line down.

A line is an array of offset rows ``(dx, dy, pen)`` (see :mod:`inkcore.model`
for the conventions). This module imports nothing of inkcore's.
"""
from __future__ import annotations

import numpy as np

#: IAM-OnDB whiteboard units in one model unit (the article divides by 40).
UNITS_PER_MODEL_UNIT = 40.0

#: Outlier handling, identical in training and evaluation: offsets are clipped
#: to this many model units (2,000 whiteboard units). In IAM-OnDB only 34 of
#: 7.6 M offsets exceed it (recording glitches); the largest offset in the
#: article's 200 validation lines is 25 units, so the clip never touches them.
MAX_OFFSET = 50.0

#: The most rows a line may have. IAM-OnDB's longest line has about 2,000
#: points; beyond this a file is not one line of handwriting, and reading it
#: would take minutes and gigabytes (a recording keeps 4 KB per row).
MAX_ROWS = 100_000


def as_rows(rows) -> np.ndarray:
    """Validate offset rows: a finite float array of shape (T, 3) with pen bits 0/1."""
    try:
        raw = np.asarray(rows)
    except ValueError:
        raise ValueError("expected rows of three numbers [dx, dy, pen], got rows of different shapes") from None
    # Converting straight to float would quietly accept text such as "12" and
    # drop the imaginary part of complex numbers.
    if raw.dtype.kind not in "biuf":
        raise ValueError("offsets must be numbers, not text, null or other values")
    array = raw.astype(np.float64)
    if array.ndim != 2 or array.shape[1] != 3:
        raise ValueError(f"expected rows of [dx, dy, pen], got an array of shape {array.shape}")
    if len(array) > MAX_ROWS:
        raise ValueError(f"{len(array):,} rows is more than the {MAX_ROWS:,} a line may have "
                         "(a line of handwriting has a few hundred)")
    if not np.isfinite(array).all():
        raise ValueError("offsets contain NaN or infinite values")
    if not np.isin(array[:, 2], (0.0, 1.0)).all():
        raise ValueError("the pen column must hold 0 or 1")
    return array


def clip_offsets(rows: np.ndarray) -> np.ndarray:
    """Return a copy with dx, dy clipped to +-MAX_OFFSET model units."""
    out = np.array(rows, dtype=np.float64, copy=True)
    np.clip(out[:, :2], -MAX_OFFSET, MAX_OFFSET, out=out[:, :2])
    return out


def from_article_file(rows) -> np.ndarray:
    """Rows of the article's validation-data format (whiteboard units, first row
    absolute) to model rows: drop the first row, divide dx, dy by 40, clip."""
    array = as_rows(rows)
    if len(array) < 2:
        raise ValueError("expected a list of at least two [dx, dy, pen] rows")
    model_rows = array[1:].copy()
    model_rows[:, :2] /= UNITS_PER_MODEL_UNIT
    return as_rows(clip_offsets(model_rows))


def from_points(points: np.ndarray) -> np.ndarray:
    """Absolute whiteboard points (P, 3) of x, y, pen-lift-after to model rows (P-1, 3)."""
    points = np.asarray(points, dtype=np.float64)
    rows = np.empty((len(points) - 1, 3))
    rows[:, :2] = np.diff(points[:, :2], axis=0) / UNITS_PER_MODEL_UNIT
    rows[:, 2] = points[1:, 2]
    return clip_offsets(rows)


def model_inputs(rows: np.ndarray) -> np.ndarray:
    """What the model reads to score ``rows``: one zero row, then every row but the last.

    Input ``t`` predicts ``rows[t]``, so every row is scored.
    """
    inputs = np.zeros_like(rows, dtype=np.float64)
    inputs[1:] = rows[:-1]
    return inputs


def to_absolute(rows: np.ndarray, start=(0.0, 0.0)) -> np.ndarray:
    """Cumulative positions (T, 2) of offset rows, starting after ``start``."""
    rows = np.asarray(rows, dtype=np.float64)
    return np.asarray(start, dtype=np.float64) + np.cumsum(rows[..., :2], axis=-2)


def split_strokes(rows: np.ndarray, start=(0.0, 0.0)) -> list[np.ndarray]:
    """Absolute positions of each stroke (a list of (n, 2) arrays), for drawing.

    The first stroke begins at ``start``, the point the first offset moves from.
    """
    rows = np.asarray(rows, dtype=np.float64)
    if len(rows) == 0:
        return []
    xy = np.vstack([np.asarray(start, dtype=np.float64)[None], to_absolute(rows, start)])
    ends = np.flatnonzero(rows[:, 2] > 0.5) + 2  # row t's pen bit belongs to point t + 1
    return [part for part in np.split(xy, ends) if len(part)]


# --- The fixed-spacing reading of drawn strokes, kept as a baseline ------------------
#
# A reading of drawn strokes at one fixed scale and one fixed spacing:
# CANVAS_UNITS_PER_PIXEL = 3.2 whiteboard units per pixel (a line written about
# 110 px tall spans IAM-OnDB's 350 units), and every stroke resampled along its
# length every POINT_SPACING = 19.5 units (IAM-OnDB's median distance between
# points), whatever the pen's speed. inkcore.fidelity measures it beside the pen
# reading (inkcore.pen) as the baseline; no page reads the pen this way.

CANVAS_UNITS_PER_PIXEL = 3.2
POINT_SPACING = 19.5  # whiteboard units between resampled points within a stroke
#: The most rows a drawing is turned into; longer writing keeps its last rows.
MAX_CANVAS_ROWS = 2000


def resample_stroke(stroke: np.ndarray, spacing: float) -> np.ndarray:
    """Points every ``spacing`` along a polyline (n, 2) from its start, and its end:
    only the last step may be shorter. A stroke of no length is one point."""
    if len(stroke) < 2:
        return stroke[:1].copy()
    along = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(stroke, axis=0).T))])
    total = along[-1]
    if total == 0:
        return stroke[:1].copy()
    # Spreading the points evenly instead would shorten every step of a short
    # stroke (to 0.51 spacings for one of 1.01), unlike IAM-OnDB's points.
    targets = spacing * np.arange(int(total // spacing) + 1)
    if total - targets[-1] > 1e-9 * spacing:
        targets = np.append(targets, total)
    targets[-1] = total  # the end exactly, whatever rounding did
    return np.column_stack([np.interp(targets, along, stroke[:, k]) for k in range(2)])


def strokes_to_points(strokes: list[np.ndarray], units_per_pixel: float = CANVAS_UNITS_PER_PIXEL) -> np.ndarray:
    """Strokes (n, 2) in pixels to whiteboard points (P, 3), resampled, pen bit on each stroke's end."""
    parts = []
    for stroke in strokes:
        resampled = resample_stroke(stroke * units_per_pixel, POINT_SPACING)
        pen = np.zeros((len(resampled), 1))
        pen[-1] = 1.0
        parts.append(np.hstack([resampled, pen]))
    return np.vstack(parts) if parts else np.zeros((0, 3))
