"""How faithfully the pen reading hands real handwriting to the model.

Per-point NLL cannot compare two readings of the same ink (a denser reading
scores better), so fidelity is measured by what a reading *carries*: read a
line's first half, then score the line's true second half as recorded. The
model predicts the second half better after the original first half than with
no priming at all; the share of that gain a reading keeps,

    (nll_unprimed - nll_after_reading) / (nll_unprimed - nll_after_original),

is 1 for a reading that tells the model everything the recording did and 0
for one that tells it nothing.

Lines are replayed as pointer events with their own timing (IAM-OnDB's
``t_ms``), as a device would report them: a mouse at 60 Hz in whole pixels,
or a pen at 120 Hz with fractions of a pixel, at a given number of whiteboard
units per CSS pixel.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, NamedTuple, Sequence

import numpy as np

from inkcore.evaluate import score
from inkcore.model import Model
from inkcore.data import LineSet
from inkcore.pen import read_strokes
from inkcore.strokes import CANVAS_UNITS_PER_PIXEL, from_points, strokes_to_points


@dataclass(frozen=True)
class Device:
    name: str
    rate_hz: float
    whole_pixels: bool


MOUSE = Device("mouse, 60 Hz, whole pixels", 60.0, True)
PEN = Device("pen, 120 Hz", 120.0, False)
DEVICES = (MOUSE, PEN)
#: Whiteboard units per CSS pixel at which lines are replayed: small, middling and large writing.
SIZES = (2.5, 4.0, 6.5)


def replay(points: np.ndarray, t_ms: np.ndarray, units_per_pixel: float, device: Device,
           rng: np.random.Generator) -> list[np.ndarray]:
    """A recorded line (points (P, 3) in whiteboard units with pen-lift bits, and their
    times) as the pointer events (x, y, t) a device would report while it was written."""
    points = np.asarray(points, dtype=np.float64)
    t_ms = np.asarray(t_ms, dtype=np.float64)
    ends = np.flatnonzero(points[:, 2] > 0.5) + 1
    offset = rng.uniform(20, 60, size=2)  # where the writing sits on the surface
    phase = rng.uniform(0, 1000.0 / device.rate_hz)
    strokes = []
    for start, end in zip(np.r_[0, ends[:-1]], ends):
        xy, t = points[start:end, :2] / units_per_pixel + offset, t_ms[start:end]
        times = np.arange(t[0] + phase, t[-1], 1000.0 / device.rate_hz)
        times = np.concatenate([[t[0]], times[times > t[0]], [t[-1]]]) if t[-1] > t[0] else t[:1]
        events = np.column_stack([np.interp(times, t, xy[:, 0]), np.interp(times, t, xy[:, 1]), times])
        if device.whole_pixels:
            events[:, :2] = np.round(events[:, :2])
            events[:, 2] = np.round(events[:, 2], 1)  # the browser's timeStamp resolution
        strokes.append(events)
    return strokes


def held_out_lines(line_set: LineSet, count: int, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """``count`` lines (points, t_ms) of a line set's ``val`` and ``test`` splits, never
    ``train``, chosen with ``seed``; lines with no pen lift to split at are passed over."""
    candidates = [i for i in np.flatnonzero(np.isin(line_set.split, ("val", "test")))
                  if (line_set.line_points(i)[:-1, 2] > 0).any()]
    chosen = np.random.default_rng(seed).permutation(candidates)[:count]
    return [(line_set.line_points(i), line_set.t_ms[line_set.starts[i]:line_set.starts[i + 1]])
            for i in sorted(chosen)]


class _Rows(NamedTuple):
    rows: np.ndarray


def fixed_spacing_reading(strokes: Sequence[np.ndarray], model: Model | None = None,
                          units_per_pixel: float | None = None) -> _Rows:
    """The canvas reading inkcore had before the pen reading, for comparison: every
    stroke resampled every 19.5 whiteboard units along its length, timing ignored, at
    ``units_per_pixel`` or else the fixed 3.2 it assumed (``strokes.strokes_to_points``)."""
    scale = CANVAS_UNITS_PER_PIXEL if units_per_pixel is None else units_per_pixel
    points = strokes_to_points([np.asarray(stroke)[:, :2] for stroke in strokes], scale)
    return _Rows(from_points(points) if len(points) > 1 else np.zeros((0, 3)))


def split_at_lift(points: np.ndarray) -> int:
    """The number of points in a line's first half: up to the pen lift nearest its middle."""
    ends = np.flatnonzero(np.asarray(points)[:-1, 2] > 0.5) + 1
    if len(ends) == 0:
        raise ValueError("a line needs a pen lift before its last point to be split")
    return int(ends[np.argmin(np.abs(ends - len(points) / 2))])


def primed_nll(model: Model, primes: Sequence[np.ndarray], targets: Sequence[np.ndarray]) -> float:
    """Mean NLL per point of every target's rows after the model has read a zero row and
    its prime: the evaluation protocol with a prime (:func:`inkcore.evaluate.score`)."""
    return score(model, targets, primes=primes).nll_per_point


@dataclass(frozen=True)
class Fidelity:
    device: str
    units_per_pixel: float
    scale: str  # "given" or "estimated"
    nll_after_reading: float
    share_kept: float


def measure(model: Model, lines: Sequence[tuple[np.ndarray, np.ndarray]], seed: int = 0,
            devices: Sequence[Device] = DEVICES, sizes: Sequence[float] = SIZES,
            reader: Callable = read_strokes, progress: Callable[[str], None] | None = None) -> dict:
    """The share of the priming gain each reading keeps, for every device, size and scale."""
    rng = np.random.default_rng(seed)
    halves = [split_at_lift(points) for points, _ in lines]
    originals = [from_points(points) for points, _ in lines]
    firsts = [rows[:k - 1] for rows, k in zip(originals, halves)]
    seconds = [rows[k - 1:] for rows, k in zip(originals, halves)]
    empty = [np.zeros((0, 3))] * len(lines)
    unprimed = primed_nll(model, empty, seconds)
    after_original = primed_nll(model, firsts, seconds)
    gain = unprimed - after_original
    results = []
    for device in devices:
        for size in sizes:
            events = [replay(points[:k], t[:k], size, device, rng) for (points, t), k in zip(lines, halves)]
            for scale in ("given", "estimated"):
                readings = [reader(strokes, model, units_per_pixel=size if scale == "given" else None).rows
                            for strokes in events]
                nll = primed_nll(model, readings, seconds)
                results.append(Fidelity(device.name, size, scale, nll, (unprimed - nll) / gain))
                if progress:
                    progress(f"{device.name}, {size} units/px, scale {scale}: {results[-1].share_kept:.0%}")
    return {"lines": len(lines), "points_scored": int(sum(len(s) for s in seconds)),
            "nll_unprimed": unprimed, "nll_after_original": after_original, "readings": results}
