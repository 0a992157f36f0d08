"""Tests of inkcore.motion: kinds of point by their offset."""
from __future__ import annotations

import numpy as np

from inkcore.motion import motion_kind


def test_motion_kinds_of_rows():
    rows = np.array([[0, 0, 0], [0.5, 0, 0], [0, -0.25, 1], [0.1, 0.2, 0], [-0.0, 0.0, 1]])
    assert list(motion_kind(rows)) == ["still", "horizontal", "vertical", "other", "still"]
