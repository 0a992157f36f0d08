"""Offset rows, their units, and the conversions between ways of writing a line down."""
from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import ARTICLE_VALIDATION, SHARED, require_shared
from inkcore.strokes import (
    CANVAS_UNITS_PER_PIXEL,
    MAX_OFFSET,
    POINT_SPACING,
    UNITS_PER_MODEL_UNIT,
    as_rows,
    from_article_file,
    from_points,
    model_inputs,
    resample_stroke,
    split_strokes,
    strokes_to_points,
    to_absolute,
)


def test_from_article_file_drops_the_first_row_divides_by_40_and_clips():
    article = [[214, 511, 0], [40, -80, 0], [4000, 6, 1], [-3000, 10, 0], [2, 0, 1]]
    rows = from_article_file(article)
    expected = np.array([[1.0, -2.0, 0], [MAX_OFFSET, 0.15, 1], [-MAX_OFFSET, 0.25, 0], [0.05, 0.0, 1]])
    np.testing.assert_array_equal(rows, expected)
    assert rows.dtype == np.float64
    assert UNITS_PER_MODEL_UNIT == 40.0


def test_from_article_file_leaves_its_input_alone():
    article = np.array([[214.0, 511, 0], [40, -80, 0], [4000, 6, 1]])
    kept = article.copy()
    from_article_file(article)
    assert np.array_equal(article, kept)


@pytest.mark.parametrize("bad", [[], [[1, 2, 0]], [[1, 2, 0], [1, 2]], [[0, 0, 0], [1, 2, 3]], [[0, 0, 0], ["1", 2, 0]]])
def test_from_article_file_rejects_bad_files(bad):
    with pytest.raises(ValueError):
        from_article_file(bad)


def test_from_points_takes_differences_and_keeps_pen_lifts():
    points = np.array([[100, 200, 0], [140, 160, 0], [180, 160, 1], [400, 200, 0], [5000, 200, 1]])
    rows = from_points(points)
    expected = np.array([[1.0, -1.0, 0], [1.0, 0.0, 1], [5.5, 1.0, 0], [MAX_OFFSET, 0.0, 1]])
    np.testing.assert_array_equal(rows, expected)


def test_points_and_the_article_format_agree():
    points = np.array([[214, 511, 0], [217, 504, 0], [221, 501, 1], [260, 530, 0], [261, 540, 1]])
    article = np.vstack([points[:1], np.column_stack([np.diff(points[:, :2], axis=0), points[1:, 2]])])
    np.testing.assert_array_equal(from_points(points), from_article_file(article))


def test_the_article_files_are_lines_of_iam_ondb():
    """The importer's units and pen convention are the article's: its file k is line k of lines.npz."""
    lines_path = require_shared(SHARED / "data" / "iam-ondb" / "lines.npz")
    k = 0
    article = json.loads((require_shared(ARTICLE_VALIDATION) / f"{k}.json").read_text())
    with np.load(lines_path, allow_pickle=False) as archive:
        line = int(np.flatnonzero(archive["article_index"] == k)[0])
        starts = archive["starts"]
        points = archive["points"][starts[line] : starts[line + 1]]
    np.testing.assert_allclose(from_points(points), from_article_file(article), rtol=0, atol=1e-12)


def test_model_inputs_are_a_zero_row_then_the_rows_shifted():
    rows = np.array([[1.0, 2.0, 0], [3.0, 4.0, 1], [5.0, 6.0, 0]])
    kept = rows.copy()
    inputs = model_inputs(rows)
    np.testing.assert_array_equal(inputs, [[0, 0, 0], [1, 2, 0], [3, 4, 1]])
    assert np.array_equal(rows, kept)
    assert inputs.dtype == np.float64
    assert model_inputs(np.zeros((0, 3))).shape == (0, 3)


def test_to_absolute_sums_offsets_from_the_start():
    rows = np.array([[1.0, 2.0, 0], [3.0, -4.0, 1], [0.5, 0.5, 0]])
    np.testing.assert_array_equal(to_absolute(rows), [[1, 2], [4, -2], [4.5, -1.5]])
    np.testing.assert_array_equal(to_absolute(rows, start=(10, 20)), [[11, 22], [14, 18], [14.5, 18.5]])


def test_split_strokes_ends_a_stroke_right_after_a_pen_lift():
    rows = np.array(
        [
            [1, 0, 0],
            [1, 0, 0],
            [1, 0, 1],  # the pen lifts at x = 3
            [0, 5, 0],  # a move with the pen up: the next stroke begins at (3, 5)
            [1, 0, 1],  # a two-point stroke
            [2, 0, 0],
            [2, 0, 0],
        ],
        dtype=float,
    )
    strokes = split_strokes(rows, start=(10.0, 0.0))
    assert [len(s) for s in strokes] == [4, 2, 2]
    np.testing.assert_array_equal(strokes[0], [[10, 0], [11, 0], [12, 0], [13, 0]])
    np.testing.assert_array_equal(strokes[1], [[13, 5], [14, 5]])
    np.testing.assert_array_equal(strokes[2], [[16, 5], [18, 5]])
    assert sum(len(s) for s in strokes) == len(rows) + 1  # every point drawn once


def test_split_strokes_of_a_line_ending_with_a_pen_lift_has_no_empty_stroke():
    rows = np.array([[1, 1, 0], [1, 1, 1]], dtype=float)
    strokes = split_strokes(rows)
    assert len(strokes) == 1
    np.testing.assert_array_equal(strokes[0], [[0, 0], [1, 1], [2, 2]])
    assert split_strokes(np.zeros((0, 3))) == []


def test_as_rows_accepts_lists_and_arrays():
    rows = as_rows([[1, 2, 0], [3.5, -4, 1]])
    assert rows.dtype == np.float64 and rows.shape == (2, 3)
    source = np.array([[1, 2, 0]], np.float32)
    assert as_rows(source).dtype == np.float64
    assert as_rows(np.zeros((0, 3))).shape == (0, 3)


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param([[1, 2, 0], [np.nan, 0, 0]], id="nan"),
        pytest.param([[np.inf, 2, 0]], id="infinite"),
        pytest.param([["a", "b", "c"]], id="text"),
        pytest.param([["1", "2", "0"]], id="numbers-as-text"),
        pytest.param("abc", id="a-string"),
        pytest.param([[1, 2, None]], id="null"),
        pytest.param([[1, 2]], id="two-columns"),
        pytest.param([[1, 2, 0, 0]], id="four-columns"),
        pytest.param([[1, 2, 0], [1, 2]], id="ragged"),
        pytest.param([1, 2, 0], id="one-dimensional"),
        pytest.param([[[1, 2, 0]]], id="three-dimensional"),
        pytest.param([[1, 2, 0.5]], id="pen-half"),
        pytest.param([[1, 2, 2]], id="pen-two"),
        pytest.param([[1, 2, -1]], id="pen-negative"),
        pytest.param([[1j, 2, 0]], id="complex"),
    ],
)
def test_as_rows_rejects(bad):
    with pytest.raises(ValueError):
        as_rows(bad)


# --- The fixed-spacing reading, kept as a baseline for inkcore.fidelity -------------------


@pytest.mark.parametrize("spacings", [0.5, 1.01, 1.5, 3, 7.3])
def test_resampling_keeps_the_spacing_and_both_ends(spacings):
    length = spacings * POINT_SPACING
    points = resample_stroke(np.array([[0.0, 0.0], [length, 0.0]]), POINT_SPACING)
    steps = np.diff(points[:, 0])
    assert points[0, 0] == 0.0 and points[-1, 0] == pytest.approx(length)
    assert np.all(steps > 0)  # no repeated point at the end
    np.testing.assert_allclose(steps[:-1], POINT_SPACING, rtol=1e-9)
    assert steps[-1] <= POINT_SPACING * (1 + 1e-9)


def test_the_fixed_spacing_reading_ignores_how_many_events_a_stroke_had():
    few, many = np.linspace([50, 200], [410, 20], 5), np.linspace([50, 200], [410, 20], 500)
    points = strokes_to_points([few])
    np.testing.assert_allclose(points, strokes_to_points([many]), rtol=0, atol=1e-6)
    np.testing.assert_allclose(points[0, :2], few[0] * CANVAS_UNITS_PER_PIXEL)
    steps = np.hypot(*np.diff(points[:, :2], axis=0).T)
    np.testing.assert_allclose(steps[:-1], POINT_SPACING, rtol=1e-9)


def test_the_fixed_spacing_reading_lifts_the_pen_after_each_stroke_and_a_dot_is_one_point():
    stroke, dot = np.linspace([40, 100], [140, 100], 30), np.array([[200.0, 90.0]])
    points = strokes_to_points([stroke, dot], units_per_pixel=2.0)
    assert len(points) == int(np.ceil(100 * 2.0 / POINT_SPACING)) + 2
    np.testing.assert_array_equal(np.flatnonzero(points[:, 2]), [len(points) - 2, len(points) - 1])
    np.testing.assert_allclose(points[-1, :2], dot[0] * 2.0)
    assert strokes_to_points([]).shape == (0, 3)


def test_the_fixed_spacing_reading_leaves_its_input_alone():
    strokes = [np.linspace([10, 10], [300, 200], 50), np.array([[5.0, 5.0], [6.0, 6.0]])]
    kept = [s.copy() for s in strokes]
    strokes_to_points(strokes)
    assert all(np.array_equal(a, b) for a, b in zip(strokes, kept))
