"""``python scripts/adaptation_figure.py``: weights/adaptation.png, three hands learned.

Three made-up writers, each a pointer moved at a person's pace in a hand of its own
(round loops, a sharp zigzag, tall slanted strokes lifted between letters), read as
the pen surface reads them (:func:`inkcore.pen.read_strokes`). The shipped model adapts
to four lines of each (:func:`inkcore.adapt.adapt`, its defaults), and each row of the
figure shows the writer's first line, the base model's sample and the adapted
model's from the same seed. None of it comes from IAM-OnDB: the writers are ours.
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from inkcore import adapt, render  # noqa: E402
from inkcore.pen import read_strokes  # noqa: E402
from inkcore.sampling import generate_seeded  # noqa: E402
from inkcore.weights import load, shipped_weights  # noqa: E402

#: A pointer reports a move about every 16 ms.
MOVE_MS = 16.0


def _timed(points: list[tuple[float, float]], start_ms: float) -> list[list[float]]:
    return [[x, y, start_ms + k * MOVE_MS] for k, (x, y) in enumerate(points)]


def loops(line: int, rng: np.random.Generator) -> list:
    """One stroke of round cursive loops."""
    size = 20 + 2 * rng.standard_normal()
    count = 9 + line
    return [_timed([(30 + 3.2 * t + size * 0.7 * math.cos(t / 2.3), 120 - size * math.sin(t / 2.3))
                    for t in range(count * 15)], 0.0)]


def zigzag(line: int, rng: np.random.Generator) -> list:
    """Words of sharp zigzags, a stroke a word."""
    strokes, clock = [], 0.0
    for word in range(3 + line % 2):
        x0 = 30 + word * 150
        points = []
        for k in range(6):
            for t in range(6):
                up = t / 5 if k % 2 == 0 else 1 - t / 5
                points.append((x0 + 20 * k + 3.4 * t + rng.normal(0, 0.4), 140 - 34 * up + rng.normal(0, 0.4)))
        strokes.append(_timed(points, clock))
        clock += len(points) * MOVE_MS + 250
    return strokes


def slanted(line: int, rng: np.random.Generator) -> list:
    """Tall strokes leaning right, the pen lifted after each."""
    strokes, clock = [], 0.0
    for k in range(14 + line):
        x0, height = 30 + 34 * k, 60 + 6 * rng.standard_normal()
        points = [(x0 + 0.45 * height * s / 12, 150 - height * s / 12) for s in range(13)]
        strokes.append(_timed(points, clock))
        clock += len(points) * MOVE_MS + 180
    return strokes


WRITERS = {"round loops": loops, "sharp zigzags": zigzag, "tall slanted strokes": slanted}


#: Each panel of the figure, in pixels, and the gap around it.
PANEL, GAP = (180, 520), 12


def grid_png(rows: list[list[np.ndarray]]) -> bytes:
    """Lines in a grid of panels (a row of the figure a writer), each line fitted to its panel."""
    height, width = PANEL
    image = np.zeros((len(rows) * (height + GAP) + GAP, len(rows[0]) * (width + GAP) + GAP), np.float32)
    for r, lines in enumerate(rows):
        for c, line in enumerate(lines):
            ink = render.rasterize([line], scale=1.0)
            fit = min((height - 8) / ink.shape[0], (width - 8) / ink.shape[1])
            ink = render.rasterize([line], scale=fit)[:height, :width]
            top, left = GAP + r * (height + GAP), GAP + c * (width + GAP)
            image[top : top + ink.shape[0], left : left + ink.shape[1]] = ink
    colour = np.array(render.INK, np.float32)
    pixels = 255.0 * (1.0 - image[..., None]) + colour * image[..., None]
    return render.png_bytes(np.clip(np.rint(pixels), 0, 255).astype(np.uint8))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "weights" / "adaptation.png"))
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    model, _ = load(shipped_weights())
    rows_of_figure, captions = [], []
    for name, hand in WRITERS.items():
        rng = np.random.default_rng(7)
        lines = [read_strokes(hand(k, rng), model).rows for k in range(4)]
        result = adapt.adapt(model, lines)
        base = generate_seeded(model, 700, [args.seed])[0].rows
        mine = generate_seeded(result.model, 700, [args.seed])[0].rows
        rows_of_figure.append([lines[0], base, mine])
        held = result.figures()["held_out_nll"]
        captions.append(f"{name}: held-out line {held['base']:.2f} -> {held['adapted']:.2f} nats/point, "
                        f"{result.best_step} updates")
        print(captions[-1], flush=True)
    Path(args.out).write_bytes(grid_png(rows_of_figure))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
