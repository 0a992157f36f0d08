"""The pen reading: pointer events (CSS pixels, ms) to the rows the model reads."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import SHARED, SMALL_CONFIG, random_model, require_shared
from inkcore import pen
from inkcore.fidelity import PEN, held_out_lines, replay, split_at_lift
from inkcore.sampling import generate
from inkcore.strokes import to_absolute
from inkcore.weights import load

IAM_LINES = SHARED / "data" / "iam-ondb" / "lines.npz"


def straight(x0: float, x1: float, t0: float, t1: float, y: float = 50.0, events: int = 31) -> np.ndarray:
    """A stroke moving evenly from x0 to x1 (CSS px) between times t0 and t1 (ms)."""
    fraction = np.linspace(0.0, 1.0, events)
    return np.column_stack([x0 + (x1 - x0) * fraction, np.full(events, y), t0 + (t1 - t0) * fraction])


@pytest.fixture(scope="module")
def shipped_model(shipped_weights):
    return load(shipped_weights)[0]


# --- units and timing ------------------------------------------------------------


def test_a_straight_stroke_reads_in_model_units_at_one_point_every_15_ms():
    reading = pen.read_strokes([straight(10, 110, 1000, 1150)], units_per_pixel=4.0, normalise_speed=False)
    assert not reading.estimated and reading.units_per_pixel == 4.0 and reading.speed_factor == 1.0
    assert len(reading.rows) == 150 / pen.SAMPLE_MS  # points at 0, 15, ..., 150 ms
    assert reading.rows[:, 0].sum() == pytest.approx(100 * 4.0 / 40)  # 100 px at 4 units/px, 40 units a model unit
    np.testing.assert_allclose(reading.rows[:, 0], 100 * 4.0 / 40 / 10)  # an even pen moves evenly
    np.testing.assert_array_equal(reading.rows[:, 1], 0.0)
    np.testing.assert_array_equal(reading.rows[:, 2], [0] * 9 + [1])  # the pen lifts after the last point
    np.testing.assert_allclose(reading.origin, [10, 50])
    np.testing.assert_allclose(reading.end(), [110, 50])


def test_points_are_taken_every_15_ms_of_pen_time_not_every_so_many_pixels():
    """A pen that speeds up gives longer steps: each step covers 15 ms of the pen's own time."""
    t = np.linspace(0.0, 300.0, 200)
    x = 0.002 * t**2  # the pen accelerates: 0.6 px/ms at the end
    stroke = np.column_stack([x, np.full_like(t, 20.0), t])
    reading = pen.read_strokes([stroke], units_per_pixel=3.0, normalise_speed=False)
    expected = 0.002 * np.append(np.arange(0.0, 300.0, 15.0), 300.0) ** 2
    np.testing.assert_allclose(reading.rows[:, 0], np.diff(expected) * 3.0 / 40, rtol=1e-3)
    assert reading.rows[-1, 0] > 5 * reading.rows[1, 0]


@pytest.mark.parametrize("speed", [pen.INK_SPEED_RANGE[0] * 1.05, pen.INK_SPEED, pen.INK_SPEED_RANGE[1] * 0.95])
def test_writing_at_a_whiteboard_speed_is_read_as_written(speed):
    units_per_pixel, duration = 4.0, 600.0
    pixels = speed * duration / units_per_pixel
    reading = pen.read_strokes([straight(0, pixels, 0, duration, events=80)], units_per_pixel=units_per_pixel)
    assert reading.speed_factor == 1.0
    assert len(reading.rows) == duration / pen.SAMPLE_MS


@pytest.mark.parametrize("speed", [0.15, 0.3, 4.0])
def test_writing_slower_or_faster_than_the_range_is_brought_to_its_edge(speed):
    """A mouse writing at 0.3 units/ms is read as if it moved at the range's lower edge:
    its points are taken every 15 ms times the stretch, so each step is as long as a
    step of the slowest writing IAM-OnDB keeps."""
    units_per_pixel, duration = 4.0, 3000.0
    pixels = speed * duration / units_per_pixel
    reading = pen.read_strokes([straight(0, pixels, 0, duration, events=400)], units_per_pixel=units_per_pixel)
    edge = min(max(speed, pen.INK_SPEED_RANGE[0]), pen.INK_SPEED_RANGE[1])
    assert reading.speed_factor == pytest.approx(edge / speed)
    step_units = reading.rows[:-1, 0] * 40  # every full step; the last may be shorter
    np.testing.assert_allclose(step_units, edge * pen.SAMPLE_MS, rtol=1e-6)


# --- dots, jumps, strokes ----------------------------------------------------------


def test_a_single_click_is_a_dot_with_no_rows():
    reading = pen.read_strokes([[[40, 60, 1234.0]]], units_per_pixel=3.0)
    assert reading.points == 1 and len(reading.rows) == 0
    np.testing.assert_allclose(reading.origin, [40, 60])
    np.testing.assert_allclose(reading.end(), [40, 60])


def test_nothing_written_reads_as_no_points():
    reading = pen.read_strokes([], units_per_pixel=3.0)
    assert reading.points == 0 and len(reading.rows) == 0


def test_two_clicks_read_as_one_jump_with_the_pen_lifted():
    reading = pen.read_strokes([[[40, 60, 0]], [[140, 30, 400]]], units_per_pixel=2.0)
    assert reading.points == 2
    np.testing.assert_allclose(reading.rows, [[100 * 2.0 / 40, -30 * 2.0 / 40, 1]])


def test_a_long_jump_between_strokes_is_not_clipped():
    first = straight(0, 30, 0, 300)
    second = straight(930, 960, 800, 1100)  # 900 px to the right of the first stroke's end
    reading = pen.read_strokes([first, second], units_per_pixel=4.0)
    jump = np.flatnonzero(reading.rows[:, 2] == 1)[0] + 1  # the row after the first lift
    assert reading.rows[jump, 0] == pytest.approx(900 * 4.0 / 40)  # 90 model units, beyond the ±50 clip
    np.testing.assert_allclose(reading.end(), [960, 50])  # the rows put the second stroke where it was written


def test_every_stroke_ends_in_a_pen_lift():
    strokes = [straight(0, 40, 0, 200), straight(60, 100, 500, 700), straight(120, 160, 900, 1100)]
    reading = pen.read_strokes(strokes, units_per_pixel=3.0, normalise_speed=False)
    assert reading.rows[:, 2].sum() == 3 and reading.rows[-1, 2] == 1


def test_reading_rows_map_back_to_the_pixels_they_came_from():
    stroke = np.column_stack([np.linspace(5, 80, 40), 30 + 20 * np.sin(np.linspace(0, 6, 40)), np.linspace(0, 500, 40)])
    reading = pen.read_strokes([stroke], units_per_pixel=2.5)
    pixels = reading.to_pixels(reading.rows)
    np.testing.assert_allclose(pixels[-1], stroke[-1, :2], atol=1e-9)
    assert reading.pixels_per_model_unit == pytest.approx(40 / 2.5)


def test_only_the_last_rows_are_kept_beyond_max_rows():
    reading = pen.read_strokes([straight(0, 200, 0, 3000, events=300)], units_per_pixel=1.0,
                               max_rows=50, normalise_speed=False)
    full = pen.read_strokes([straight(0, 200, 0, 3000, events=300)], units_per_pixel=1.0, normalise_speed=False)
    assert len(reading.rows) == 50 and reading.truncated == len(full.rows) - 50
    np.testing.assert_array_equal(reading.rows, full.rows[-50:])
    np.testing.assert_allclose(reading.end(), full.end())


def test_the_input_is_not_changed():
    stroke = straight(0, 100, 0, 300)
    kept = stroke.copy()
    pen.read_strokes([stroke], random_model(SMALL_CONFIG))
    np.testing.assert_array_equal(stroke, kept)


def test_events_that_are_not_numbers_or_not_later_are_dropped():
    strokes = [[[0, 0, 0], [10, 0, 15], ["x", 1, 2], [20, 0, float("nan")], [15, 5, 15], [20, 0, 30]]]
    kept, = pen.as_strokes(strokes)
    np.testing.assert_array_equal(kept, [[0, 0, 0], [10, 0, 15], [20, 0, 30]])


# --- scale ---------------------------------------------------------------------------


def test_without_a_model_the_scale_comes_from_the_writing_height():
    stroke = np.column_stack([np.linspace(0, 200, 101), 100 + 50 * np.sin(np.linspace(0, 20, 101)),
                              np.linspace(0, 1000, 101)])
    reading = pen.read_strokes([stroke])
    assert reading.estimated
    span = np.percentile(stroke[:, 1], 95) - np.percentile(stroke[:, 1], 5)
    assert reading.units_per_pixel == pytest.approx(pen.WRITING_HEIGHT / span)


def model_line_as_events(model, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A line the model writes at full variation (what it finds likeliest at its own size),
    as whiteboard points with IAM-OnDB's timing: a point every 15 ms within a stroke,
    150 ms more across a pen lift."""
    rows = generate(model, 500, np.random.default_rng(seed), 1.0)
    xy = np.vstack([[0.0, 0.0], to_absolute(rows)]) * 40
    lifts = np.concatenate([[0.0], rows[:, 2]])  # row t's pen bit belongs to point t + 1
    lifts[-1] = 1.0
    t_ms = np.cumsum(np.concatenate([[0.0], 15.0 + 150.0 * lifts[:-1]]))
    return np.column_stack([xy, lifts]), t_ms


def test_the_same_writing_at_half_and_twice_the_size_reads_alike(shipped_model):
    """Drawn at half and at twice a middling size (four times as large in pixels), the
    same writing reads into rows within 10% of each other: the model estimates the scale."""
    points, t_ms = model_line_as_events(shipped_model, seed=4)
    readings = {}
    for name, units_per_pixel in (("small", 4.0), ("large", 1.0)):
        events = replay(points, t_ms, units_per_pixel, PEN, np.random.default_rng(0))
        readings[name] = pen.read_strokes(events, shipped_model)
        assert readings[name].estimated
        # near the truth (the shipped model reads its own samples up to 1.5 times larger), and
        # what matters here: the same factor at both sizes
        assert 0.5 < readings[name].units_per_pixel / units_per_pixel < 2.0
    small, large = readings["small"], readings["large"]
    assert small.units_per_pixel / large.units_per_pixel == pytest.approx(4.0, rel=0.1)
    assert len(small.rows) == pytest.approx(len(large.rows), rel=0.1)
    for reading in (small, large):
        assert reading.rows[:, 2].sum() == points[:, 2].sum()
    ink = {name: np.abs(r.rows[:, :2]).sum(axis=0) for name, r in readings.items()}
    np.testing.assert_allclose(ink["small"], ink["large"], rtol=0.1)
    extent = {name: np.ptp(to_absolute(r.rows), axis=0) for name, r in readings.items()}
    np.testing.assert_allclose(extent["small"], extent["large"], rtol=0.1)


def test_the_model_finds_the_scale_of_real_handwriting(shipped_model):
    """IAM-OnDB lines outside the training split, their first halves replayed as a pen
    at a known scale: the model's estimate lands near it, far nearer than assuming
    the scale a page starts from."""
    from inkcore.data import load_lines

    lines = held_out_lines(load_lines(require_shared(IAM_LINES)), 8, seed=1)
    rng = np.random.default_rng(0)
    error, assumed = [], []
    for (points, t_ms), truth in zip(lines, np.resize([2.5, 6.5], len(lines))):
        half = split_at_lift(points)
        events = pen.as_strokes(replay(points[:half], t_ms[:half], truth, PEN, rng))
        error.append(abs(np.log(pen.estimate_scale(shipped_model, events) / truth)))
        assumed.append(abs(np.log(pen.DEFAULT_UNITS_PER_PIXEL / truth)))
    assert np.median(error) < 0.25  # within a factor of 1.28 for half the lines
    assert max(error) < np.log(2.0)
    assert np.mean(error) < 0.5 * np.mean(assumed)


# --- bad input -----------------------------------------------------------------------


@pytest.mark.parametrize("strokes, words", [
    ("not strokes", "expected a list of strokes"),
    ([{"x": 1}], "expected every stroke to be a list"),
    ([[[0, 0, t] for t in range(pen.MAX_EVENTS + 1)]], "more than 200,000 pointer events"),
])
def test_strokes_that_cannot_be_read_say_why(strokes, words):
    with pytest.raises(pen.PenError, match=words):
        pen.read_strokes(strokes, units_per_pixel=3.0)


@pytest.mark.parametrize("units_per_pixel", [0, -2.0, float("nan"), float("inf"), "3"])
def test_a_scale_that_is_not_a_positive_number_is_refused(units_per_pixel):
    with pytest.raises(pen.PenError, match="units per pixel must be a positive number"):
        pen.read_strokes([straight(0, 10, 0, 100)], units_per_pixel=units_per_pixel)


@pytest.mark.parametrize("data, words", [
    ("{not json", "not valid JSON"),
    ("[[[0, 0, 0]]]", 'expected an object {"strokes"'),
    ('{"points": []}', 'expected an object {"strokes"'),
])
def test_an_events_file_that_cannot_be_read_says_why(data, words):
    with pytest.raises(pen.PenError, match=words) as error:
        pen.read_events_json(data, "drawing.json")
    assert str(error.value).startswith("drawing.json: ")


def test_an_events_file_gives_its_strokes():
    assert pen.read_events_json('{"strokes": [[[1, 2, 3]]]}') == [[[1, 2, 3]]]
