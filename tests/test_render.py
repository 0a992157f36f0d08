"""SVG and PNG output of lines of offset rows."""
from __future__ import annotations

import re
import struct
import xml.etree.ElementTree as ET
import zlib

import numpy as np
import pytest

from inkcore.render import MARGIN, rasterize, to_png, to_svg
from inkcore.strokes import split_strokes

SVG = "{http://www.w3.org/2000/svg}"
SCALE = 4.0

#: Two strokes far apart: a horizontal bar, a pen-up jump, then a vertical bar.
ROWS = np.array(
    [[2, 0, 0], [2, 0, 0], [2, 0, 1], [4, -3, 0], [0, 2, 0], [0, 2, 1]],
    dtype=float,
)


def expected_pixels(rows: np.ndarray) -> list[np.ndarray]:
    """Where each stroke's points should land for a single line: margin, then scale."""
    strokes = split_strokes(rows)
    low = np.concatenate(strokes).min(axis=0)
    return [(s - low) * SCALE + MARGIN for s in strokes]


def decode_png(data: bytes) -> np.ndarray:
    """A minimal reader for the PNGs inkcore writes: 8-bit RGB, filter 0 on every row."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, chunks = 8, {}
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF, kind
        chunks[kind] = chunks.get(kind, b"") + body
        position += 12 + length
    width, height, depth, colour_type = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, colour_type) == (8, 2)
    raw = zlib.decompress(chunks[b"IDAT"])
    assert len(raw) == height * (1 + 3 * width)
    rows = np.frombuffer(raw, np.uint8).reshape(height, 1 + 3 * width)
    assert np.all(rows[:, 0] == 0)
    assert b"IEND" in chunks
    return rows[:, 1:].reshape(height, width, 3)


def test_svg_is_xml_with_one_path_per_stroke():
    svg = to_svg([ROWS], scale=SCALE)
    root = ET.fromstring(svg)
    assert root.tag == SVG + "svg"
    paths = root.findall(f".//{SVG}path")
    assert len(paths) == len(split_strokes(ROWS)) == 2
    for path, expected in zip(paths, expected_pixels(ROWS)):
        numbers = np.array(re.findall(r"-?\d+\.\d+", path.get("d")), float).reshape(-1, 2)
        np.testing.assert_allclose(numbers, expected, atol=0.006)


def test_svg_size_covers_the_writing():
    root = ET.fromstring(to_svg([ROWS], scale=SCALE))
    pixels = np.concatenate(expected_pixels(ROWS))
    assert float(root.get("width")) == pytest.approx(pixels[:, 0].max() + MARGIN, abs=0.5)
    assert float(root.get("height")) == pytest.approx(pixels[:, 1].max() + MARGIN, abs=0.5)


def test_several_lines_stack_and_empty_lines_are_allowed():
    one = ET.fromstring(to_svg([ROWS], scale=SCALE))
    two = ET.fromstring(to_svg([ROWS, ROWS], scale=SCALE))
    assert len(two.findall(f".//{SVG}path")) == 4
    assert float(two.get("height")) > 1.9 * float(one.get("height")) - 2 * MARGIN
    empty = ET.fromstring(to_svg([np.zeros((0, 3))]))
    assert empty.findall(f".//{SVG}path") == []


def test_png_decodes_to_its_declared_size():
    data = to_png([ROWS], scale=SCALE)
    image = decode_png(data)
    ink = rasterize([ROWS], scale=SCALE)
    assert image.shape == (*ink.shape, 3)
    root = ET.fromstring(to_svg([ROWS], scale=SCALE))
    assert image.shape[1] == pytest.approx(float(root.get("width")), abs=1)
    assert image.shape[0] == pytest.approx(float(root.get("height")), abs=1)


def test_ink_appears_where_the_strokes_are_and_nowhere_else():
    image = decode_png(to_png([ROWS], scale=SCALE)).astype(int)
    darkness = 255 - image.min(axis=2)
    for stroke in expected_pixels(ROWS):
        for a, b in zip(stroke[:-1], stroke[1:]):
            for s in np.linspace(0, 1, 9):  # along every segment, not only at its ends
                x, y = np.floor(a + s * (b - a)).astype(int)
                assert darkness[y, x] > 150, (x, y)
    # the pen-up jump between the strokes leaves no ink, nor do the corners
    bar_end, column_start = expected_pixels(ROWS)[0][-1], expected_pixels(ROWS)[1][0]
    x, y = np.floor((bar_end + column_start) / 2).astype(int)
    assert darkness[y, x] == 0
    assert darkness[0, 0] == darkness[-1, -1] == darkness[0, -1] == darkness[-1, 0] == 0
    # and the amount of ink is about the strokes' length times the pen's width
    length = sum(np.hypot(*np.diff(s, axis=0).T).sum() for s in expected_pixels(ROWS))
    assert 1.0 * length < (darkness / 255.0).sum() < 5.0 * length


def test_a_stroke_of_one_point_is_drawn_as_a_dot():
    rows = np.array([[1.0, 1.0, 1.0], [5.0, 0.0, 1.0]])  # a short stroke, then a stroke of one point
    strokes = split_strokes(rows)
    assert [len(s) for s in strokes] == [2, 1]
    ink = rasterize([rows], scale=SCALE)
    x, y = np.floor(expected_pixels(rows)[1][0]).astype(int)
    assert ink[y - 1 : y + 1, x - 1 : x + 1].max() > 0.5
    paths = ET.fromstring(to_svg([rows])).findall(f".//{SVG}path")
    assert len(paths) == 2
    assert " L" in paths[1].get("d")  # a lone moveto would draw nothing at all
