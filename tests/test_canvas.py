"""Handwriting from a drawing canvas (the canvas section of inkcore.strokes):
Fabric.js freedraw paths to model rows and back."""
from __future__ import annotations

import copy

import numpy as np
import pytest

from inkcore.strokes import (
    CANVAS_UNITS_PER_PIXEL,
    MAX_CANVAS_ROWS,
    MAX_OFFSET,
    POINT_SPACING,
    UNITS_PER_MODEL_UNIT,
    CanvasWriting,
    canvas_paths,
    canvas_to_rows,
    resample_stroke,
    rows_to_canvas,
    split_strokes,
    strokes_to_points,
    to_absolute,
)

#: One canvas pixel in model units, and the resampled spacing in model units and in pixels.
PIXEL = CANVAS_UNITS_PER_PIXEL / UNITS_PER_MODEL_UNIT
SPACING = POINT_SPACING / UNITS_PER_MODEL_UNIT
SPACING_PX = POINT_SPACING / CANVAS_UNITS_PER_PIXEL
#: IAM-OnDB's writing spans about this many whiteboard units from the 5th to the
#: 95th percentile of y in a line (a statistic of the data set, see inkcore.strokes).
IAM_LINE_SPAN = 350.0


def fabric_path(points) -> dict:
    """A freedraw object as Fabric.js's pencil brush writes it: ``M`` at the first
    pointer position, a ``Q`` through each position to the midpoint of the next,
    ``L`` to the last."""
    points = np.asarray(points, dtype=np.float64)
    commands = [["M", *points[0]]]
    for here, after in zip(points[1:-1], points[2:]):
        commands.append(["Q", *here, *((here + after) / 2)])
    commands.append(["L", *points[-1]])
    left, top = (points.min(axis=0) + points.max(axis=0)) / 2
    return {"type": "Path", "path": [[c[0], *map(float, c[1:])] for c in commands], "left": float(left),
            "top": float(top), "scaleX": 1, "scaleY": 1, "stroke": "#1d2330", "strokeWidth": 3}


def canvas(*strokes) -> dict:
    return {"version": "7.4.0", "objects": [fabric_path(s) for s in strokes], "background": "#ffffff"}


def line(start, end, count: int) -> np.ndarray:
    return np.linspace(start, end, count)


def test_module_constants_agree_with_their_description():
    assert PIXEL == pytest.approx(0.08)  # "0.08 model units" per pixel
    assert SPACING == pytest.approx(0.4875)


@pytest.mark.parametrize("empty", [None, {}, {"objects": []}, {"objects": None}, "not a drawing", []])
def test_an_empty_canvas_gives_no_rows(empty):
    writing = canvas_to_rows(empty)
    assert isinstance(writing, CanvasWriting)
    assert writing.rows.shape == (0, 3)
    assert writing.truncated == 0
    assert writing.origin.shape == (2,)


def test_a_single_dot_gives_no_rows():
    dot = {"objects": [{"type": "Path", "path": [["M", 120.0, 80.0], ["L", 120.0, 80.0]]}], "background": "#ffffff"}
    writing = canvas_to_rows(dot)
    assert writing.rows.shape == (0, 3)
    np.testing.assert_allclose(writing.origin, [120.0, 80.0])


def test_canvas_paths_follow_quadratic_curves_through_their_control_points():
    drawing = {"objects": [{"type": "Path", "path": [
        ["M", 0, 0], ["Q", 50, 100, 100, 0], ["L", 130, 0],  # a bump: its curve peaks at y = 50, not 100
    ]}, {"type": "path", "path": [["M", 5, 5], ["L", 9, 5], ["L", 9, 8]]}]}
    first, second = canvas_paths(drawing)
    np.testing.assert_allclose(first, [[0, 0], [50, 50], [100, 0], [130, 0]])
    np.testing.assert_allclose(second, [[5, 5], [9, 5], [9, 8]])


def test_a_straight_stroke_is_resampled_at_the_point_spacing():
    length = 200.0  # pixels: 640 whiteboard units, 32.8 spacings
    writing = canvas_to_rows(canvas(line([100, 120], [100 + length, 120], 60)))
    rows = writing.rows
    assert len(rows) == int(np.ceil(length * CANVAS_UNITS_PER_PIXEL / POINT_SPACING))
    np.testing.assert_allclose(rows[:-1, 0], SPACING, rtol=1e-9)  # every step but the last
    assert 0 < rows[-1, 0] <= SPACING + 1e-9
    np.testing.assert_allclose(rows[:, 1], 0.0, atol=1e-12)
    assert rows[:, 0].sum() == pytest.approx(length * CANVAS_UNITS_PER_PIXEL / UNITS_PER_MODEL_UNIT, rel=1e-12)
    np.testing.assert_array_equal(rows[:, 2], [0] * (len(rows) - 1) + [1])
    np.testing.assert_allclose(writing.origin, [100, 120])
    assert writing.truncated == 0


@pytest.mark.parametrize("spacings", [0.5, 1.01, 1.5, 3, 7.3])
def test_short_and_exact_strokes_keep_the_spacing_and_both_ends(spacings):
    length = spacings * SPACING_PX
    points = resample_stroke(np.array([[0.0, 0.0], [length * CANVAS_UNITS_PER_PIXEL, 0.0]]), POINT_SPACING)
    steps = np.diff(points[:, 0])
    assert points[0, 0] == 0.0 and points[-1, 0] == pytest.approx(length * CANVAS_UNITS_PER_PIXEL)
    assert np.all(steps > 0)  # no repeated point at the end
    np.testing.assert_allclose(steps[:-1], POINT_SPACING, rtol=1e-9)
    assert steps[-1] <= POINT_SPACING * (1 + 1e-9)


def test_spacing_does_not_depend_on_how_many_pointer_events_a_stroke_had():
    few = canvas_to_rows(canvas(line([50, 200], [410, 20], 5)))
    many = canvas_to_rows(canvas(line([50, 200], [410, 20], 500)))
    assert few.rows.shape == many.rows.shape
    np.testing.assert_allclose(few.rows, many.rows, rtol=0, atol=1e-6)
    np.testing.assert_allclose(few.origin, many.origin, atol=1e-9)
    steps = np.hypot(many.rows[:-1, 0], many.rows[:-1, 1])
    np.testing.assert_allclose(steps, SPACING, rtol=1e-9)


def test_two_strokes_have_one_pen_lift_inside_and_a_jump_equal_to_the_gap():
    first, second = line([40, 100], [140, 100], 30), line([180, 90], [180, 190], 30)
    rows = canvas_to_rows(canvas(first, second)).rows
    lifts = np.flatnonzero(rows[:-1, 2] == 1)
    assert len(lifts) == 1 and rows[-1, 2] == 1
    end_of_first = lifts[0]
    np.testing.assert_allclose(to_absolute(rows)[end_of_first], (first[-1] - first[0]) * PIXEL, atol=1e-9)
    np.testing.assert_allclose(rows[end_of_first + 1, :2], (second[0] - first[-1]) * PIXEL, atol=1e-9)
    assert rows[end_of_first + 1, 2] == 0
    assert len(split_strokes(rows)) == 2


def test_rows_to_canvas_maps_back_to_the_pixels_of_the_resampled_points():
    drawing = canvas(line([30, 60], [330, 60], 40),
                     [[400 + 30 * np.cos(a), 120 + 40 * np.sin(a)] for a in np.linspace(0, 5, 80)],
                     line([500, 200], [520, 30], 7))
    writing = canvas_to_rows(drawing)
    resampled = strokes_to_points(canvas_paths(drawing))[:, :2] / CANVAS_UNITS_PER_PIXEL
    np.testing.assert_allclose(writing.origin, resampled[0], atol=1e-9)
    np.testing.assert_allclose(rows_to_canvas(writing.rows, writing.origin), resampled[1:], atol=1e-6)


def test_a_straight_line_round_trips_to_its_end_pixels():
    start, end = np.array([12.5, 200.25]), np.array([611.75, 33.5])
    writing = canvas_to_rows(canvas(line(start, end, 9)))
    positions = rows_to_canvas(writing.rows, writing.origin)
    np.testing.assert_allclose(writing.origin, start, atol=1e-6)
    np.testing.assert_allclose(positions[-1], end, atol=1e-6)
    # every resampled point lies on the line, evenly spaced in pixels
    direction = (end - start) / np.linalg.norm(end - start)
    offsets = positions - start
    np.testing.assert_allclose(offsets[:, 0] * direction[1] - offsets[:, 1] * direction[0], 0.0, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(np.diff(positions[:-1], axis=0), axis=1), SPACING_PX, rtol=1e-9)


def test_non_paths_and_malformed_commands_are_ignored():
    good = fabric_path(line([10, 10], [110, 10], 12))
    messy_path = [
        "M 0 0", None, [], ["M"], ["M", 1], ["Q", 5, 5], ["M", "x", 3], ["M", None, 3], ["M", [1], 2],
        ["Q", 1, 2, 3, 4], ["Z"], ["C", 1, 2, 3, 4, 5, 6], {"M": 1},
        ["M", 10.0, 10.0], ["L", float("nan"), 20.0], ["L", 20.0, float("inf")], ["Q", 40.0, float("nan"), 50.0, 10.0],
        ["L", 110.0, 10.0],
    ]
    drawing = {
        "objects": [
            {"type": "rect", "left": 5, "top": 5, "width": 40, "height": 40},
            {"type": "circle", "path": [["M", 0, 0], ["L", 500, 500]]},
            None, "Path", 12, [],
            {"type": "Path"}, {"type": "Path", "path": None}, {"type": "Path", "path": "M 0 0 L 30 30"},
            {"type": "Path", "path": 7}, {"type": None, "path": [["M", 0, 0]]},
            {"type": "path", "path": messy_path},
            good,
        ],
        "background": "#ffffff",
    }
    kept = copy.deepcopy(drawing)
    strokes = canvas_paths(drawing)
    assert len(strokes) == 2
    assert all(np.isfinite(s).all() for s in strokes)
    np.testing.assert_allclose(strokes[0][[0, -1]], [[10, 10], [110, 10]])
    writing = canvas_to_rows(drawing)
    assert np.isfinite(writing.rows).all() and len(writing.rows) > 0
    assert drawing == kept or repr(drawing) == repr(kept)  # NaN != NaN, so compare the text too


@pytest.mark.parametrize("objects", [5, 3.5, True, "objects"])
def test_a_malformed_object_list_gives_no_rows(objects):
    assert canvas_to_rows({"objects": objects}).rows.shape == (0, 3)


def test_a_very_long_stroke_keeps_its_last_rows():
    x = np.linspace(10, 700, 10_000)
    wave = np.column_stack([x, 125 + 100 * np.sin(x / 3)])  # about 40,000 px of ink
    drawing = canvas(wave)
    full = canvas_to_rows(drawing, max_rows=10**9)
    assert len(full.rows) > MAX_CANVAS_ROWS
    writing = canvas_to_rows(drawing)
    assert writing.rows.shape == (MAX_CANVAS_ROWS, 3)
    assert writing.truncated == len(full.rows) - MAX_CANVAS_ROWS > 0
    np.testing.assert_array_equal(writing.rows, full.rows[writing.truncated :])
    np.testing.assert_allclose(rows_to_canvas(writing.rows, writing.origin)[-1], wave[-1], atol=1e-6)
    assert writing.rows[-1, 2] == 1 and writing.rows[:-1, 2].sum() == 0


@pytest.mark.parametrize("start, end, sign", [([600, 100], [100, 100], (-1, 0)), ([300, 230], [300, 20], (0, -1)),
                                              ([500, 220], [40, 15], (-1, -1))])
def test_right_to_left_and_bottom_to_top_writing_gives_negative_offsets(start, end, sign):
    rows = canvas_to_rows(canvas(line(start, end, 25))).rows
    for axis in (0, 1):
        if sign[axis]:
            assert np.all(np.sign(rows[:, axis]) == sign[axis])
        else:
            np.testing.assert_allclose(rows[:, axis], 0.0, atol=1e-12)
    np.testing.assert_allclose(rows[:, :2].sum(axis=0), (np.array(end) - start) * PIXEL, atol=1e-9)


def test_strokes_partly_off_the_canvas_are_accepted():
    off = canvas(line([-60, -25], [90, 40], 20), line([650, 200], [790, 280], 20))  # the canvas is 720 x 250
    writing = canvas_to_rows(off)
    np.testing.assert_allclose(writing.origin, [-60, -25])
    np.testing.assert_allclose(rows_to_canvas(writing.rows, writing.origin)[-1], [790, 280], atol=1e-6)
    assert np.abs(writing.rows[:, :2]).max() <= MAX_OFFSET
    assert writing.rows[:, 2].sum() == 2


def test_a_jump_longer_than_the_offset_clip_is_clipped_like_the_training_data():
    """From one end of a wide canvas to the other is more than MAX_OFFSET model units:
    it is clipped as IAM-OnDB's outliers are, so the model never reads an offset it never saw."""
    far = MAX_OFFSET / PIXEL + 100  # pixels
    rows = canvas_to_rows(canvas(line([0, 100], [30, 100], 5), line([30 + far, 100], [60 + far, 100], 5))).rows
    jump = np.flatnonzero(rows[:, 2] == 1)[0] + 1
    assert rows[jump, 0] == MAX_OFFSET
    assert np.abs(rows[:, :2]).max() <= MAX_OFFSET


def test_hundreds_of_dots_give_a_pen_lift_after_every_dot():
    grid = [(20 + 2.0 * (k % 150), 60 + 40 * (k // 150)) for k in range(300)]
    dots = {"objects": [{"type": "Path", "path": [["M", x, y], ["L", x, y]]} for x, y in grid]}
    writing = canvas_to_rows(dots)
    assert writing.rows.shape == (299, 3)  # one point per dot; rows move between them
    assert np.all(writing.rows[:, 2] == 1)
    np.testing.assert_allclose(writing.origin, grid[0])
    np.testing.assert_allclose(rows_to_canvas(writing.rows, writing.origin), grid[1:], atol=1e-6)


def test_hundreds_of_tiny_strokes_give_one_pen_lift_per_stroke():
    strokes = [line([5 + 2.4 * k, 100 + (k % 7)], [7 + 2.4 * k, 100 + (k % 7)], 3) for k in range(300)]
    rows = canvas_to_rows(canvas(*strokes)).rows
    assert rows.shape == (599, 3)  # two points per 2-px stroke
    np.testing.assert_array_equal(rows[:, 2], np.arange(599) % 2 == 0)
    assert rows[:, 2].sum() == 300
    assert len(split_strokes(rows)) == 300


def test_a_canvas_line_of_handwriting_is_about_as_tall_as_an_iam_ondb_line():
    """Cursive loops 110 px tall, the height people write a line on the page's canvas,
    should span about what a line of IAM-OnDB spans, so the model reads familiar sizes."""
    t = np.linspace(0, 16 * np.pi, 3000)
    loops = np.column_stack([20 + 12 * t - 20 * np.sin(t), 125 - 55 * np.cos(t)])
    assert np.ptp(loops[:, 1]) == pytest.approx(110)
    rows = canvas_to_rows(canvas(loops)).rows
    y = to_absolute(rows)[:, 1]
    span = np.percentile(y, 95) - np.percentile(y, 5)
    iam_span = IAM_LINE_SPAN / UNITS_PER_MODEL_UNIT
    assert iam_span / 1.5 < span < iam_span * 1.5, (span, iam_span)


def test_canvas_conversion_leaves_its_input_alone():
    drawing = canvas(line([10, 10], [300, 200], 50), line([5, 5], [6, 6], 2))
    kept = copy.deepcopy(drawing)
    strokes = canvas_paths(drawing)
    kept_strokes = [s.copy() for s in strokes]
    strokes_to_points(strokes)
    canvas_to_rows(drawing)
    assert drawing == kept
    assert all(np.array_equal(a, b) for a, b in zip(strokes, kept_strokes))
