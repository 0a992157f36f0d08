"""Lines of handwriting as SVG text and PNG bytes, with no dependency beyond NumPy.

Used for downloads in the app, ``python -m inkcore sample`` and the model
card's sample sheet. PNG rasterising stamps an anti-aliased pen along every
segment, which is plenty for handwriting.
"""
from __future__ import annotations

import struct
import zlib

import numpy as np

from inkcore.strokes import split_strokes

INK = (20, 24, 36)
MARGIN = 12.0


def _layout(lines: list[np.ndarray], scale: float):
    """Strokes of each line in pixels, stacked top to bottom, and the sheet size."""
    placed, y_offset, width = [], MARGIN, 0.0
    for rows in lines:
        strokes = split_strokes(rows)
        if strokes:
            xy = np.concatenate(strokes)
            low, high = xy.min(axis=0), xy.max(axis=0)
        else:
            low = high = np.zeros(2)
        shift = np.array([MARGIN, y_offset]) - low * scale
        placed.append([s * scale + shift for s in strokes])
        width = max(width, (high[0] - low[0]) * scale + 2 * MARGIN)
        y_offset += (high[1] - low[1]) * scale + 2 * MARGIN
    # y_offset now holds one margin below the last line too much: drop it, so
    # the sheet has the same margin on every side
    return placed, max(width, 2 * MARGIN), max(y_offset - MARGIN, 2 * MARGIN)


def to_svg(lines: list[np.ndarray], scale: float = 4.0, stroke_width: float = 1.6) -> str:
    """One or more lines of offset rows as an SVG document, one line under another."""
    placed, width, height = _layout(lines, scale)
    paths = []
    for strokes in placed:
        for s in strokes:
            if len(s) == 1:  # a path that only moves draws nothing; a zero-length segment draws a dot
                s = np.vstack([s, s])
            d = "M" + " L".join(f"{x:.2f},{y:.2f}" for x, y in s)
            paths.append(f'<path d="{d}"/>')
    colour = "#%02x%02x%02x" % INK
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.1f} {height:.1f}">'
        f'<rect width="100%" height="100%" fill="white"/>'
        f'<g fill="none" stroke="{colour}" stroke-width="{stroke_width}" stroke-linecap="round" '
        f'stroke-linejoin="round">{"".join(paths)}</g></svg>'
    )


def rasterize(lines: list[np.ndarray], scale: float = 4.0, pen_radius: float = 1.1) -> np.ndarray:
    """Lines drawn into an (H, W) array of ink coverage in [0, 1]."""
    placed, width, height = _layout(lines, scale)
    ink = np.zeros((int(np.ceil(height)), int(np.ceil(width))), np.float32)
    reach = int(np.ceil(pen_radius + 1))
    offsets = np.arange(-reach, reach + 1)
    for strokes in placed:
        for s in strokes:
            if len(s) == 1:
                s = np.vstack([s, s])
            lengths = np.hypot(*np.diff(s, axis=0).T)
            # points every half pixel along the stroke
            pieces = [np.linspace(a, b, max(2, int(n * 2) + 1)) for a, b, n in zip(s[:-1], s[1:], lengths)]
            dense = np.concatenate(pieces)
            cx, cy = np.floor(dense[:, 0]).astype(int), np.floor(dense[:, 1]).astype(int)
            for dy in offsets:
                for dx in offsets:
                    px, py = cx + dx, cy + dy
                    dist = np.hypot(px + 0.5 - dense[:, 0], py + 0.5 - dense[:, 1])
                    cover = np.clip(pen_radius + 0.5 - dist, 0.0, 1.0)
                    ok = (px >= 0) & (py >= 0) & (px < ink.shape[1]) & (py < ink.shape[0]) & (cover > 0)
                    np.maximum.at(ink, (py[ok], px[ok]), cover[ok])
    return ink


def png_bytes(image: np.ndarray) -> bytes:
    """Encode an (H, W, 3) uint8 image as PNG."""
    height, width, _ = image.shape
    raw = b"".join(b"\x00" + image[row].tobytes() for row in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b"")


def to_png(lines: list[np.ndarray], scale: float = 4.0) -> bytes:
    """One or more lines of offset rows as PNG bytes, ink on white."""
    ink = rasterize(lines, scale)[..., None]
    colour = np.array(INK, np.float32)
    image = 255.0 * (1.0 - ink) + colour * ink
    return png_bytes(np.clip(np.rint(image), 0, 255).astype(np.uint8))
