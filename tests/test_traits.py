"""What a line looks like in numbers, and what a hold changes in what the model writes (inkcore.traits)."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import ARTICLE_VALIDATION, random_rows, require_shared
from inkcore import intervene, traits
from inkcore.sampling import generate


def zigzag(lean_degrees: float, strokes: int = 12, height: float = 4.0, points: int = 8) -> np.ndarray:
    """Up and down strokes leaning ``lean_degrees`` right of upright, moving right, one pen lift per stroke pair."""
    lean = np.radians(lean_degrees)
    rows = []
    for k in range(strokes):
        up = k % 2 == 0
        step_y = -height / points if up else height / points
        step_x = abs(step_y) * np.tan(lean) * (1 if up else -1) + 0.3
        for t in range(points):
            rows.append([step_x, step_y, 1.0 if (not up and t == points - 1) else 0.0])
    return np.array(rows)


def test_a_line_leaning_right_has_a_positive_slant_and_upright_one_none():
    assert traits.line_traits(zigzag(20.0))["slant"] > 12
    assert abs(traits.line_traits(zigzag(0.0))["slant"]) < 8
    assert traits.line_traits(zigzag(-20.0))["slant"] < -12


def test_pen_lifts_size_drift_and_baseline_are_measured_in_model_units():
    rows = zigzag(0.0, strokes=12, height=4.0, points=8)
    found = traits.line_traits(rows)
    assert found["pen_lifts"] == pytest.approx(100 * 6 / 96)
    assert found["advance"] == pytest.approx(100 * rows[:, 0].sum() / len(rows))
    assert 3.0 < found["size"] <= 4.0 + 1e-9
    assert abs(found["climb"]) < 1.0
    rising = rows.copy()
    rising[:, 1] -= 0.05  # y grows downward: a line that climbs to the right
    assert traits.line_traits(rising)["climb"] > 1.0
    backwards = rows * [-1, 1, 1]
    assert traits.line_traits(backwards)["advance"] < 0


def test_a_line_too_short_to_say_gives_nan_not_an_error():
    assert all(np.isnan(v) for v in traits.line_traits(np.zeros((0, 3))).values())
    one = traits.line_traits(np.array([[1.0, 0.0, 1.0]]))
    assert one["pen_lifts"] == 100.0 and np.isnan(one["slant"]) and np.isnan(one["size"])
    assert traits.mean_traits([np.zeros((0, 3)), zigzag(10.0)])["slant"] == traits.line_traits(zigzag(10.0))["slant"]


def test_the_lines_written_are_each_seeds_line_alone_bit_for_bit(small_model):
    held = intervene.hold_cells(small_model, [1, 4], value=0.5)
    together = traits.written_lines(small_model, [5, 9, 2], 40, 0.8, held)
    for seed, rows in zip([5, 9, 2], together):
        assert np.array_equal(rows, generate(small_model, 40, np.random.default_rng(seed), 0.8, hold=held))


def test_holding_nothing_changes_nothing_and_a_hold_is_measured(small_model):
    rng = np.random.default_rng(3)
    lines = [random_rows(rng, n) for n in (30, 50)]
    nothing = traits.intervention_effect(small_model, intervene.no_hold(small_model), lines, seeds=[1, 2], steps=30)
    assert nothing.cost == 0.0 and nothing.intact == nothing.held
    assert nothing.held.points == 80 and nothing.held.lines == 2
    held = traits.intervention_effect(small_model, intervene.hold_cells(small_model, range(8), value=3.0), lines,
                                      seeds=[1, 2], steps=30)
    assert held.cost != 0.0 and held.intact == nothing.intact
    assert any(held.change(name) != 0 for name in traits.TRAITS)
    with pytest.raises(ValueError, match="no lines"):
        traits.intervention_effect(small_model, intervene.no_hold(small_model), [np.zeros((0, 3))])


def test_cell_statistics_bracket_the_mean(small_model):
    rng = np.random.default_rng(4)
    lines = [random_rows(rng, n) for n in (25, 40)]
    mean, low, high = traits.cell_statistics(small_model, lines)
    assert np.all(low <= mean + 1e-9) and np.all(mean <= high + 1e-9) and np.any(low < high)
    np.testing.assert_allclose(mean, intervene.cell_means(small_model, lines), atol=1e-6)


def test_on_the_article_model_holding_its_direction_cells_costs_over_a_tenth_of_a_nat(article_model):
    from inkcore.data import read_article_lines

    lines = read_article_lines(require_shared(ARTICLE_VALIDATION))
    scored = [lines[k] for k in sorted(lines)[:4]]
    direction = traits.intervention_effect(article_model, intervene.make_hold(article_model, [434, 93, 227, 45, 184],
                                                                              "mean", scored),
                                           scored, seeds=range(1, 5), steps=300)
    assert direction.cost > 0.1
