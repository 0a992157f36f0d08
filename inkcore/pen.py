"""Pen input: pointer events from a page to the rows the model reads.

A page reports a pen, a mouse or a finger as pointer events: ``x, y`` in CSS
pixels (y grows downward) and ``t``, a timestamp in milliseconds. The model
learned on IAM-OnDB, which is a time series as well, so the reading keeps
time rather than distance:

* **Rate.** IAM-OnDB's tablet sampled the pen about every 15 ms. Its ``t_ms``
  column says 10 or 20 ms between most points, alternating, because its clock
  ticked in 10 ms; over strokes of 40 points or more the period is 15.2 ms on
  average (5th to 95th percentile 14.5 to 16.1), and the distance between two
  points does not depend on which of 10 or 20 was written down. Each stroke is
  therefore read at a point every ``SAMPLE_MS`` along its own time, positions
  interpolated between the events, so a fast pen gives long steps and a slow
  one short steps, as on the tablet.
* **Scale.** Whiteboard units per CSS pixel are estimated from the writing's
  height: the 5th to 95th percentile of y over every point, divided into
  ``WRITING_HEIGHT`` units (IAM-OnDB's median of that span over the first
  quarter of a line, a word or two). Percentiles ignore one stray stroke and
  do not depend on how long the writing is, and height does not depend on how
  fast someone writes, unlike the pen's speed: a person with a mouse writes
  several times slower than on a whiteboard. The estimate is kept between
  ``MIN_UNITS_PER_PIXEL`` and ``MAX_UNITS_PER_PIXEL`` so a single flat stroke
  (a line drawn across) is not blown up to the size of a word.
* **Speed.** A mouse is slow: a word that IAM-OnDB's writers write in half a
  second takes two or three seconds. Read at 15 ms, such ink is many short
  steps, slower writing than the model ever saw. Time is therefore stretched
  by the factor that brings the writing's ink speed (ink length over pen-down
  time, after scaling) to IAM-OnDB's median, ``INK_SPEED`` units per ms,
  within ``SPEED_FACTOR_RANGE``; fast and slow strokes keep their proportion
  to each other.
* **Strokes.** A stroke's last point carries the pen lift. A press without
  movement is a dot: one point, or as many as the tablet would have taken
  while the pen rested. The jump from one stroke to the next is kept whole:
  it is where the next stroke was written, however far (see ``read_pen``).

Of inkcore it imports only :mod:`inkcore.model` (to score a reading) and :mod:`inkcore.strokes`.
"""
from __future__ import annotations

import json
from typing import NamedTuple

import numpy as np

from inkcore.model import Model, log_likelihood, mixture, run
from inkcore.strokes import MAX_CANVAS_ROWS, UNITS_PER_MODEL_UNIT, model_inputs

#: IAM-OnDB's sampling period within a stroke, in ms.
SAMPLE_MS = 15.0
#: IAM-OnDB's median 5th-to-95th percentile span of y over a word or two, in whiteboard units.
WRITING_HEIGHT = 300.0
#: IAM-OnDB's median ink speed within strokes, whiteboard units per ms, and the 5th to
#: 95th percentile of a line's (over 1,000 training lines).
INK_SPEED = 1.33
INK_SPEED_RANGE = (0.9, 2.0)
#: Bounds on the estimated scale (whiteboard units per CSS pixel): writing from 30 to 1,000 px tall.
MIN_UNITS_PER_PIXEL, MAX_UNITS_PER_PIXEL = 0.3, 10.0
#: The scale before anything is written: a line of writing about 100 px tall.
DEFAULT_UNITS_PER_PIXEL = 3.0
#: Scales tried by the model's estimate (a factor of 1.125 apart across the band), and the rows it
#: reads for each (about the first three seconds of writing): few enough that a pen lift's reading
#: stays quick.
SCALE_CANDIDATES = 9
SCALE_ROWS = 200
#: The model's scale stays within this factor of the writing's height's.
SCALE_BAND = 1.6
#: Bounds on the factor that stretches the pen's time towards IAM-OnDB's speed.
SPEED_FACTOR_RANGE = (0.25, 8.0)
#: The most pointer events a drawing may hold (a line of writing with a 120 Hz pen has a few thousand).
MAX_EVENTS = 200_000


class PenError(ValueError):
    """Pointer events that cannot be read; the message says why."""


class PenReading(NamedTuple):
    rows: np.ndarray  # (T, 3) model rows
    origin: np.ndarray  # (2,) CSS pixel of the point the first row moves from
    units_per_pixel: float  # whiteboard units per CSS pixel used for the reading
    estimated: bool  # whether the scale was estimated from the writing
    speed_factor: float  # how much the pen's time was stretched (1: as written)
    truncated: int  # rows dropped from the start to stay within the model's view
    points: int  # pen positions read: 1 for a single dot, 0 for nothing

    @property
    def pixels_per_model_unit(self) -> float:
        return UNITS_PER_MODEL_UNIT / self.units_per_pixel

    def to_pixels(self, rows: np.ndarray) -> np.ndarray:
        """Positions (T, 2) in CSS pixels of ``rows`` that continue from the reading's start."""
        offsets = np.cumsum(np.asarray(rows, dtype=np.float64)[:, :2], axis=0)
        return self.origin + offsets * self.pixels_per_model_unit

    def end(self) -> np.ndarray:
        """The CSS pixel where the last row ends: where a continuation starts."""
        if len(self.rows) == 0:
            return self.origin.copy()
        return self.to_pixels(self.rows)[-1]


def _is_event(event) -> bool:
    return (isinstance(event, (list, tuple)) and len(event) >= 3
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in event[:3]))


def as_strokes(strokes) -> list[np.ndarray]:
    """Validate strokes of pointer events: a list of lists of ``[x, y, t]`` numbers.

    Events that are not three finite numbers are dropped, and so are events no later
    than one before them in their stroke.
    """
    if not isinstance(strokes, (list, tuple)):
        raise PenError('expected a list of strokes, each a list of [x, y, t] events')
    out, total = [], 0
    for stroke in strokes:
        if isinstance(stroke, np.ndarray) and stroke.ndim == 2 and stroke.shape[1] >= 3:
            array = stroke[:, :3].astype(np.float64)
        elif isinstance(stroke, (list, tuple)):
            array = np.asarray([event[:3] for event in stroke if _is_event(event)], dtype=np.float64).reshape(-1, 3)
        else:
            raise PenError('expected every stroke to be a list of [x, y, t] events')
        array = array[np.isfinite(array).all(axis=1)]
        total += len(array)
        if total > MAX_EVENTS:
            raise PenError(f"more than {MAX_EVENTS:,} pointer events: not one drawing of handwriting")
        if len(array) and array[:, 2].min() < array[:, 2].max():
            # Events whose time does not move on add nothing to a time series (a page
            # drops them as it records); all times equal means a file without timing.
            later = np.concatenate([[True], array[1:, 2] > np.maximum.accumulate(array[:-1, 2])])
            array = array[later]
        if len(array):
            out.append(array)
    return out


def height_scale(strokes: list[np.ndarray]) -> float:
    """Whiteboard units per CSS pixel that give the writing IAM-OnDB's height: a guess
    that needs no model, used when none is at hand, and the centre of the band in which
    the model's estimate is sought."""
    y = np.concatenate([stroke[:, 1] for stroke in strokes]) if strokes else np.zeros(0)
    span = float(np.percentile(y, 95) - np.percentile(y, 5)) if len(y) > 1 else 0.0
    if span <= 0:
        return DEFAULT_UNITS_PER_PIXEL
    return float(np.clip(WRITING_HEIGHT / span, MIN_UNITS_PER_PIXEL, MAX_UNITS_PER_PIXEL))


def estimate_scale(model: Model, strokes: list[np.ndarray]) -> float:
    """The whiteboard units per CSS pixel at which ``model`` finds the writing most likely,
    within a factor ``SCALE_BAND`` of the writing's height (:func:`height_scale`).

    The writing is read at each of ``SCALE_CANDIDATES`` scales, at IAM-OnDB's rate and
    without stretching time, so every reading has the same rows; the likelihood of the
    ink in pixels is the model's density of the rows times the Jacobian, (units per
    pixel / 40) squared per row. The best candidate is refined by a parabola through it
    and its neighbours in log scale. The estimate is no closer to the writing's true
    size than its height is (both are off by about a factor exp(0.3) on replayed IAM-OnDB
    lines, one standard deviation of the log), but it is the size at which the model
    reads that writer best: with it, a reading keeps more of the priming gain that the
    original points give than at the height's scale (``python -m inkcore.bench``).

    The band is there because the model cannot tell slow writing from small writing:
    read at 15 ms, a slow pen takes short steps, and short steps look like small
    letters. A word written with a mouse at half or a third of IAM-OnDB's speed went
    to the largest scale allowed; within the band it stays near its true size
    (4.3 units per pixel for a line written at 5, at both speeds).
    """
    height = height_scale(strokes)
    low = max(MIN_UNITS_PER_PIXEL, height / SCALE_BAND)
    high = min(MAX_UNITS_PER_PIXEL, height * SCALE_BAND)
    candidates = np.geomspace(low, high, SCALE_CANDIDATES)
    readings = [_read_at(strokes, float(k), 1.0)[0][:SCALE_ROWS] for k in candidates]
    rows = np.stack(readings, axis=1)  # (T, K, 3): the same events at every candidate scale
    if len(rows) < 2:
        return height_scale(strokes)
    recording = run(model, model_inputs(rows))
    likelihood = log_likelihood(mixture(model, recording.h), rows)
    log_p = likelihood.total.sum(axis=0) + 2 * len(rows) * np.log(candidates / UNITS_PER_MODEL_UNIT)
    best = int(np.argmax(log_p))
    log_k = np.log(candidates)
    if 0 < best < len(candidates) - 1:
        left, middle, right = log_p[best - 1 : best + 2]
        curvature = left - 2 * middle + right
        if curvature < 0:
            shift = 0.5 * (left - right) / curvature
            return float(np.exp(log_k[best] + shift * (log_k[1] - log_k[0])))
    return float(candidates[best])


def _along(stroke: np.ndarray) -> np.ndarray:
    """Distance (n,) in pixels along a stroke's events from its first."""
    return np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(stroke[:, :2], axis=0).T))])


def _timed(stroke: np.ndarray, units_per_pixel: float) -> np.ndarray:
    """Times (n,) in ms of a stroke's events from its first. A stroke that moves with no
    time passing (points without timestamps) is given IAM-OnDB's median ink speed."""
    t = stroke[:, 2] - stroke[0, 2]
    if len(stroke) > 1 and t[-1] == 0:
        return _along(stroke) * units_per_pixel / INK_SPEED
    return t


def estimate_speed_factor(strokes: list[np.ndarray], units_per_pixel: float) -> float:
    """The factor by which the pen's time is stretched so its ink speed is IAM-OnDB's."""
    length = duration = 0.0
    for stroke in strokes:
        if len(stroke) > 1:
            length += float(_along(stroke)[-1]) * units_per_pixel
            duration += float(_timed(stroke, units_per_pixel)[-1])
    if length == 0 or duration == 0:
        return 1.0
    speed = length / duration  # whiteboard units per ms
    target = np.clip(speed, *INK_SPEED_RANGE)
    return float(np.clip(target / speed, *SPEED_FACTOR_RANGE))


def resample_in_time(stroke: np.ndarray, period: float, units_per_pixel: float = 1.0) -> np.ndarray:
    """A stroke's positions (n, 2): one every ``period`` ms of its own time from its
    first event, and its last event. A page reading the pen live emits each point as
    soon as the pen's time passes it, and the last when the pen lifts, so the reading
    never takes back a point it has given the model.
    """
    t = _timed(stroke, units_per_pixel)
    if len(stroke) == 1 or t[-1] == 0:
        return stroke[:1, :2].copy()
    times = np.append(np.arange(0.0, t[-1], period), t[-1])
    return np.column_stack([np.interp(times, t, stroke[:, k]) for k in range(2)])


def _read_at(strokes: list[np.ndarray], units_per_pixel: float, speed_factor: float
             ) -> tuple[np.ndarray, np.ndarray]:
    """Rows (P-1, 3) and the pixel positions (P, 3) they join, at a given scale and speed."""
    period = SAMPLE_MS * speed_factor  # ms of the pen's own time between two points: slow pens, longer
    parts = []
    for stroke in strokes:
        points = resample_in_time(stroke, period, units_per_pixel)
        lift = np.zeros((len(points), 1))
        lift[-1] = 1.0
        parts.append(np.hstack([points, lift]))
    pixels = np.vstack(parts) if parts else np.zeros((0, 3))  # x, y in CSS pixels, lift after the point
    rows = np.empty((max(0, len(pixels) - 1), 3))
    rows[:, :2] = np.diff(pixels[:, :2], axis=0) * (units_per_pixel / UNITS_PER_MODEL_UNIT)
    rows[:, 2] = pixels[1:, 2]
    return rows, pixels


def read_strokes(strokes, model: Model | None = None, units_per_pixel: float | None = None,
                 max_rows: int = MAX_CANVAS_ROWS, normalise_speed: bool = True) -> PenReading:
    """What pointer strokes say to the model: rows in model units and where they start.

    ``strokes`` is a list of strokes, each a list or array of ``[x, y, t]`` events
    (CSS pixels, y down; ms). ``units_per_pixel`` fixes the scale; otherwise it is
    estimated from the writing: by ``model`` where one is given (``estimate_scale``),
    else from its height (``height_scale``). The jump from one stroke to the next is
    never clipped: the rows put every stroke where it was written.
    """
    strokes = as_strokes(strokes)
    estimated = units_per_pixel is None
    if estimated:
        units_per_pixel = estimate_scale(model, strokes) if model is not None else height_scale(strokes)
    elif not (isinstance(units_per_pixel, (int, float)) and np.isfinite(units_per_pixel) and units_per_pixel > 0):
        raise PenError(f"units per pixel must be a positive number, not {units_per_pixel}")
    units_per_pixel = float(units_per_pixel)
    factor = estimate_speed_factor(strokes, units_per_pixel) if normalise_speed else 1.0
    rows, pixels = _read_at(strokes, units_per_pixel, factor)
    dropped = max(0, len(rows) - max_rows)
    origin = pixels[dropped, :2].copy() if len(pixels) else np.zeros(2)
    return PenReading(rows[dropped:], origin, units_per_pixel, estimated, factor, dropped, len(pixels))


def read_events_json(data: bytes | str, name: str = "events") -> list:
    """The strokes of an events file: ``{"strokes": [[[x, y, t], ...], ...]}``."""
    try:
        parsed = json.loads(data)
    except (ValueError, RecursionError) as error:
        raise PenError(f"{name}: not valid JSON ({error})") from None
    if not isinstance(parsed, dict) or "strokes" not in parsed:
        raise PenError(f'{name}: expected an object {{"strokes": [[[x, y, t], ...], ...]}}')
    return parsed["strokes"]
