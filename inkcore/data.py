"""Handwriting data sets: IAM-OnDB line sets and the article's validation files.

A line set is an ``.npz`` of named arrays (read with ``allow_pickle=False``):

======================  =========================================================
``points`` int16 (P,3)  every line's points back to back: x, y in whiteboard
                        units (y grows downward), 1 on a stroke's last point
``t_ms`` int32 (P,)     milliseconds since the line's first point
``starts`` int64 (L+1,) line i is ``points[starts[i]:starts[i+1]]``
``line_ids`` str (L,)   IAM line id, e.g. ``a01-000u-01``
``texts`` str (L,)      the transcription, '' where there is none
``split`` str (L,)      ``train``, ``val`` or ``test``
``article_index`` (L,)  k where the line is the article's validation-data/k.json, else -1
======================  =========================================================

:mod:`inkcore.iamondb` builds one from the files IAM-OnDB's owners distribute.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inkcore.strokes import as_rows, from_article_file, from_points

LINE_SET_ARRAYS = ("points", "t_ms", "starts", "line_ids", "texts", "split", "article_index")

#: Stroke JSON larger than this is refused before parsing (a long line is ~50 kB).
MAX_STROKE_JSON_BYTES = 32 * 1024 * 1024
#: Decimals of the offsets in a stroke file inkcore writes of the model's lines.
STROKE_DECIMALS = 4


class DataError(ValueError):
    """A data file or folder that cannot be used; the message says which and why."""


@dataclass(frozen=True, eq=False)
class LineSet:
    points: np.ndarray
    t_ms: np.ndarray
    starts: np.ndarray
    line_ids: np.ndarray
    texts: np.ndarray
    split: np.ndarray
    article_index: np.ndarray

    def __len__(self) -> int:
        return len(self.line_ids)

    def line_points(self, i: int) -> np.ndarray:
        return self.points[self.starts[i] : self.starts[i + 1]]

    def indices(self, split: str | None = None, article_only: bool = False) -> np.ndarray:
        keep = np.ones(len(self), bool)
        if split is not None:
            keep &= self.split == split
        if article_only:
            keep &= self.article_index >= 0
        return np.flatnonzero(keep)

    def model_rows(self, split: str | None = None, article_only: bool = False) -> list[np.ndarray]:
        """Lines as model rows (see :func:`inkcore.strokes.from_points`), in file order."""
        return [from_points(self.line_points(i)) for i in self.indices(split, article_only)]


def load_lines(path: str | os.PathLike) -> LineSet:
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such line set (import IAM-OnDB first: python -m inkcore import-iam)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [name for name in LINE_SET_ARRAYS if name not in archive.files]
            if missing:
                raise DataError(f"{path}: not a line set, missing {', '.join(missing)}")
            arrays = {name: archive[name] for name in LINE_SET_ARRAYS}
    except DataError:
        raise
    except (OSError, ValueError, EOFError) as error:
        raise DataError(f"{path}: cannot be read as a line set ({error})") from None
    starts = arrays["starts"]
    if starts.ndim != 1 or len(starts) != len(arrays["line_ids"]) + 1 or starts[-1] != len(arrays["points"]):
        raise DataError(f"{path}: 'starts' does not match the points and lines")
    return LineSet(**arrays)


def save_lines(path: str | os.PathLike, lines: LineSet) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial.npz")
    np.savez_compressed(partial, **{name: getattr(lines, name) for name in LINE_SET_ARRAYS})
    os.replace(partial, path)
    return path


def read_stroke_json(path: str | os.PathLike) -> list:
    """Parse a JSON file of rows, refusing huge files with a clear error."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_STROKE_JSON_BYTES:
            raise DataError(f"{path}: larger than {MAX_STROKE_JSON_BYTES // 2**20} MB")
        data = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except OSError as error:
        raise DataError(f"{path}: cannot be read ({error.strerror})") from None
    return parse_stroke_json(data, str(path))


def rows_from_json(values, source: str) -> np.ndarray:
    """Validated [dx, dy, pen] rows from a parsed stroke file; ``source`` names it in errors."""
    if not isinstance(values, list):
        kind = {dict: "a JSON object", str: "a string", bool: "true or false", type(None): "null"}.get(
            type(values), "a single number")
        raise DataError(f"{source}: holds {kind}, not a list of [dx, dy, pen] rows")
    if not values:
        raise DataError(f"{source}: holds an empty list, no rows")
    if not any(isinstance(value, list) for value in values):
        raise DataError(f"{source}: holds a list of single values, not a list of [dx, dy, pen] rows")
    try:
        return as_rows(values)
    except (ValueError, TypeError) as error:
        raise DataError(f"{source}: {error}") from None


def lines_from_json(values, source: str) -> list[np.ndarray]:
    """The lines of a parsed stroke file: one line of [dx, dy, pen] rows, or a list of
    such lines, as ``python -m inkcore sample --out F.json`` writes them."""
    holds_lines = (isinstance(values, list) and len(values) > 0 and isinstance(values[0], list)
                   and len(values[0]) > 0 and isinstance(values[0][0], list))
    if not holds_lines:
        return [rows_from_json(values, source)]
    return [rows_from_json(line, f"{source}, line {k + 1}") for k, line in enumerate(values)]


def stroke_json(lines: np.ndarray | list[np.ndarray]) -> str:
    """A stroke file's text, as :func:`lines_from_json` reads it back: one line's
    [dx, dy, pen] rows (an array (T, 3)), or a list of such lines, the offsets rounded
    to :data:`STROKE_DECIMALS`."""
    if isinstance(lines, np.ndarray):
        return json.dumps(np.round(lines, STROKE_DECIMALS).tolist())
    return json.dumps([np.round(rows, STROKE_DECIMALS).tolist() for rows in lines])


def parse_stroke_json(data: bytes, source: str) -> list:
    """The JSON value in ``data`` (a file's bytes); ``source`` names it in errors."""
    if len(data) > MAX_STROKE_JSON_BYTES:
        raise DataError(f"{source}: larger than {MAX_STROKE_JSON_BYTES // 2**20} MB")
    try:
        return json.loads(data.decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as error:
        raise DataError(f"{source}: not valid JSON ({type(error).__name__})") from None


def read_article_lines(folder: str | os.PathLike) -> dict[int, np.ndarray]:
    """The article's ``validation-data/k.json`` files as model rows, keyed by k."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: no such folder")
    lines = {}
    for file in folder.glob("*.json"):
        if not file.stem.isdigit():
            continue
        try:
            lines[int(file.stem)] = from_article_file(read_stroke_json(file))
        except ValueError as error:
            raise DataError(f"{file}: {error}") from None
    if not lines:
        raise DataError(f"{folder}: holds no validation-data files (0.json, 1.json, ...)")
    return dict(sorted(lines.items()))
