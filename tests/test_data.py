"""inkcore.data: line sets, stroke files and the article's validation folder."""
from __future__ import annotations

import json

import numpy as np
import pytest

from inkcore.data import (
    MAX_STROKE_JSON_BYTES,
    DataError,
    LineSet,
    load_lines,
    parse_stroke_json,
    read_article_lines,
    read_stroke_json,
    rows_from_json,
    save_lines,
)


def small_line_set() -> LineSet:
    """Three lines of 4, 2 and 3 points (x, y, pen) in whiteboard units."""
    points = np.array([[0, 0, 0], [40, 0, 0], [80, 40, 1], [120, 40, 0],
                       [0, 0, 0], [40, 80, 1],
                       [5, 5, 0], [45, 5, 0], [45, 45, 1]], dtype=np.float32)
    return LineSet(points=points, t_ms=np.arange(9, dtype=np.int64), starts=np.array([0, 4, 6, 9]),
                   line_ids=np.array(["a01-000-01", "b02-111-02", "c03-222-03"]),
                   texts=np.array(["one", "two", ""]), split=np.array(["train", "val", "test"]),
                   article_index=np.array([-1, 7, -1]))


def test_a_line_set_round_trips_and_leaves_no_partial_file(tmp_path):
    path = save_lines(tmp_path / "sets" / "lines.npz", small_line_set())
    assert [p.name for p in path.parent.iterdir()] == ["lines.npz"]
    lines = load_lines(path)
    assert len(lines) == 3
    np.testing.assert_array_equal(lines.line_points(1), small_line_set().points[4:6])
    assert list(lines.indices("val")) == [1] and list(lines.indices(article_only=True)) == [1]
    rows = lines.model_rows("test")
    assert len(rows) == 1 and rows[0].shape[1] == 3


def test_a_line_set_whose_starts_do_not_match_is_refused(tmp_path):
    broken = small_line_set()
    arrays = {name: getattr(broken, name) for name in ("points", "t_ms", "line_ids", "texts", "split", "article_index")}
    np.savez(tmp_path / "broken.npz", starts=np.array([0, 4, 6, 99]), **arrays)
    with pytest.raises(DataError, match="broken.npz: 'starts' does not match"):
        load_lines(tmp_path / "broken.npz")
    np.savez(tmp_path / "other.npz", points=broken.points)
    with pytest.raises(DataError, match="other.npz: not a line set, missing t_ms"):
        load_lines(tmp_path / "other.npz")
    with pytest.raises(DataError, match="import-iam"):
        load_lines(tmp_path / "absent.npz")


def test_stroke_json_errors_name_the_source(tmp_path):
    with pytest.raises(DataError, match="mine.json: not valid JSON"):
        parse_stroke_json(b"[[1, 2, 0]", "mine.json")
    with pytest.raises(DataError, match="mine.json: not valid JSON"):
        parse_stroke_json(b"\xff\xfe", "mine.json")
    with pytest.raises(DataError, match="larger than 32 MB"):
        parse_stroke_json(b" " * (MAX_STROKE_JSON_BYTES + 1), "big.json")
    with pytest.raises(DataError, match="gone.json: no such file"):
        read_stroke_json(tmp_path / "gone.json")
    (tmp_path / "ok.json").write_text("[[1, 2, 0], [3, 4, 1]]")
    np.testing.assert_array_equal(rows_from_json(read_stroke_json(tmp_path / "ok.json"), "ok.json"),
                                  [[1, 2, 0], [3, 4, 1]])
    with pytest.raises(DataError, match="^ok.json: "):
        rows_from_json([[1, 2]], "ok.json")


def test_the_article_folder_reads_as_model_rows_keyed_by_number(tmp_path):
    # the first row is absolute and dropped; offsets are divided by 40
    (tmp_path / "10.json").write_text(json.dumps([[500, 900, 0], [40, -80, 0], [4, 0, 1]]))
    (tmp_path / "2.json").write_text(json.dumps([[0, 0, 0], [80, 40, 1]]))
    (tmp_path / "notes.json").write_text("{}")  # not a numbered line: left out
    lines = read_article_lines(tmp_path)
    assert list(lines) == [2, 10]
    np.testing.assert_allclose(lines[10], [[1.0, -2.0, 0.0], [0.1, 0.0, 1.0]])
    np.testing.assert_allclose(lines[2], [[2.0, 1.0, 1.0]])
    (tmp_path / "3.json").write_text("[[0, 0, 0], [1, 2]]")
    with pytest.raises(DataError, match="3.json"):
        read_article_lines(tmp_path)


def test_an_article_folder_that_is_missing_or_empty(tmp_path):
    with pytest.raises(DataError, match="no such folder"):
        read_article_lines(tmp_path / "nowhere")
    with pytest.raises(DataError, match="holds no validation-data files"):
        read_article_lines(tmp_path)
