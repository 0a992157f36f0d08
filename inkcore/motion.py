"""Kinds of point by their offset, so that scores can say where their nats come from.

Imports nothing of inkcore's: :mod:`inkcore.corpus` sums scores per kind and
:mod:`inkcore.evaluate` reports them.
"""
from __future__ import annotations

import numpy as np

#: Kinds of point by their offset. Offsets lie on a grid (whiteboard units are
#: integers), so some are exactly 0, where a model can put a point mass and
#: earn a density far above any smooth one; scores apart show where nats come from.
MOTION_KINDS = {
    "still": "dx = 0 and dy = 0",
    "horizontal": "dy = 0, dx != 0",
    "vertical": "dx = 0, dy != 0",
    "other": "dx != 0 and dy != 0",
}


def motion_kind(rows: np.ndarray) -> np.ndarray:
    """The :data:`MOTION_KINDS` name of every row (T,)."""
    dx0, dy0 = rows[:, 0] == 0, rows[:, 1] == 0
    return np.select([dx0 & dy0, dy0, dx0], ["still", "horizontal", "vertical"], "other")
