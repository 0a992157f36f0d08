"""The cell heatmap's data (dashboard.heatmap): every cell's state over a line in 8-bit
levels, as the page's canvas draws them."""
from __future__ import annotations

import numpy as np
import pytest

from dashboard.heatmap import HEAT_LEVELS, heatmap_levels


@pytest.mark.parametrize("ordered", [False, True])
def test_heatmap_levels_hold_each_cell_in_its_row_signed_in_8_bit_levels_of_c(ordered, rng):
    steps, cells = 40, 7
    c = rng.normal(0.0, 1.5, (steps, cells)).astype(np.float32)
    order = rng.permutation(cells) if ordered else np.arange(cells)
    flip = np.where(rng.random(cells) < 0.5, -1.0, 1.0) if ordered else np.ones(cells)
    kept = c.copy()
    heat = heatmap_levels(c, order, flip) if ordered else heatmap_levels(c)
    np.testing.assert_array_equal(c, kept)
    assert heat.levels.shape == (cells, steps) and heat.levels.dtype == np.int8
    np.testing.assert_array_equal(heat.cells, order)  # row r draws cell order[r]
    shown = (c * flip)[:, order].T
    limit = np.percentile(np.abs(shown), 99)
    assert heat.limit == pytest.approx(limit)
    # the levels give the value back in units of c, within half a level, clipped at the limit
    np.testing.assert_allclose(heat.levels / HEAT_LEVELS * limit, np.clip(shown, -limit, limit),
                               atol=0.5 * limit / HEAT_LEVELS + 1e-6)
    assert np.abs(heat.levels).max() == HEAT_LEVELS
    assert heat.axis == ("row" if ordered else "cell")


def test_heatmap_levels_of_a_silent_or_broken_line_are_drawable():
    quiet = heatmap_levels(np.zeros((5, 3)))
    assert quiet.limit == 1.0 and not quiet.levels.any()
    broken = np.ones((4, 2))
    broken[1, 1] = np.nan
    heat = heatmap_levels(broken)
    assert np.isfinite(heat.limit) and heat.levels[1, 1] == 0 and heat.levels[0, 0] == HEAT_LEVELS
    assert heatmap_levels(np.zeros((0, 4))).levels.shape == (4, 0)
