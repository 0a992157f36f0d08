"""Tests of inkcore.probes: stroke features and the ranking of cells by them.

probe_cells, which records a model's cells and ranks them, is tested in test_cells.py.
"""
from __future__ import annotations

import numpy as np

from inkcore.probes import (
    CIRCULAR,
    CURVATURE_STEPS,
    FEATURE_HELP,
    FEATURE_LABELS,
    FEATURES,
    WORD_GAP,
    Y_BASELINE_STEPS,
    CellScores,
    rank_cells,
    stroke_features,
)

NAN = np.nan
# A stroke of three moves, a lift, a short jump (same word: 1 unit right of the
# ink), a stroke of two moves, a lift, a long jump (a new word: 6 units clear)
# and a stroke of two moves.
LINE = np.array([
    [1, 0, 0], [1, 0, 0], [0, 1, 1],
    [1, -1, 0], [1, 0, 0], [0, 1, 1],
    [6, 0, 0], [1, 1, 0], [-1, 1, 0],
], dtype=float)


def test_stroke_features_of_a_hand_made_line():
    f = stroke_features(LINE)
    assert list(f) == list(FEATURES)
    expected = {
        "pen_lift": [0, 0, 1, 0, 0, 1, 0, 0, 0],
        "pen_lift_soon": [1, 1, 1, 1, 1, 0, 0, 0, 0],
        "x": [1, 2, 2, 3, 4, 4, 10, 11, 10],
        # below the median of the points so far: 0 up to point 6, then 0.5 and 1
        "y": [0, 0, 1, 0, 0, 1, 1, 1.5, 2],
        "direction": [0, 0, np.pi / 2, NAN, 0, np.pi / 2, NAN, np.pi / 4, 3 * np.pi / 4],
        "curvature": [NAN] * 9,  # every stroke is shorter than the two chords
        "speed": [1, 1, 1, NAN, 1, 1, NAN, np.sqrt(2), np.sqrt(2)],
        "since_pen_lift": [1, 2, 0, 1, 2, 0, 1, 2, 3],
        "word_position": [1, 2, 2, 3, 4, 4, 0, 1, 0],
    }
    assert 1 < WORD_GAP < 6  # the line's two jumps sit either side of it
    for name, values in expected.items():
        assert f[name].shape == (len(LINE),)
        np.testing.assert_allclose(f[name], values, atol=1e-12, err_msg=name)


def test_stroke_features_mark_standing_still_and_wrap_turns():
    rows = np.array([[1, 0, 0], [0, 0, 0], [-1, 0.01, 0], [-1, -0.01, 0]], dtype=float)
    f = stroke_features(rows)
    assert np.isnan(f["direction"][1]) and f["speed"][1] == 0
    k = CURVATURE_STEPS
    leftward = np.array([[-1, 0, 0]] + [[-1, 0.002, 0]] * k + [[-1, -0.002, 0]] * k, dtype=float)
    turn = stroke_features(leftward)["curvature"]
    assert abs(turn[2 * k]) < 0.05  # chords at pi - 0.002 and -pi + 0.002: a small turn
    assert all(len(v) == 0 for v in stroke_features(np.zeros((0, 3))).values())


def circle(steps: int, per_turn: int, clockwise: bool = True) -> np.ndarray:
    """Rows tracing a circle of radius 10, ``per_turn`` points a revolution."""
    angle = 2 * np.pi * np.arange(steps + 1) / per_turn * (1 if clockwise else -1)
    rows = np.zeros((steps, 3))
    rows[:, :2] = np.diff(10 * np.column_stack([np.cos(angle), np.sin(angle)]), axis=0)
    return rows


def test_curvature_is_the_turn_over_a_few_moves_signed_by_the_side():
    k = CURVATURE_STEPS
    expected = k * 2 * np.pi / 40  # chords k points apart on a 40-point circle turn by k steps' angle
    for clockwise, sign in ((True, 1), (False, -1)):  # y grows downward: increasing angle is clockwise
        turn = stroke_features(circle(120, 40, clockwise))["curvature"]
        assert np.isnan(turn[: 2 * k]).all()
        np.testing.assert_allclose(turn[2 * k :], sign * expected, atol=1e-9)
    lifted = circle(120, 40)
    lifted[59, 2] = 1  # the pen lifts after point 59: no chord may cross it
    turn = stroke_features(lifted)["curvature"]
    assert np.isnan(turn[60 : 60 + 2 * k]).all() and np.isfinite(turn[60 + 2 * k :]).all()
    assert np.isfinite(turn[2 * k : 60]).all()


def test_y_follows_a_line_whose_baseline_moves():
    zigzag = np.tile([[1, 1, 0], [1, 1, 0], [1, -1, 0], [1, -1, 0]], (100, 1)).astype(float)
    stepped = zigzag.copy()
    stepped[150, 1] += 20.0  # the line drops 20 units and carries on
    raw_y = np.cumsum(stepped[:, 1])
    y = stroke_features(stepped)["y"]
    # points whose baseline window lies wholly after the drop, and the same phase
    # of the zigzag (148 is a whole number of its 4-point periods) wholly before it
    later = np.arange(150 + Y_BASELINE_STEPS, 298)
    earlier = later - 148
    assert earlier[0] >= Y_BASELINE_STEPS - 1 and earlier[-1] < 150
    np.testing.assert_allclose(y[later], y[earlier], atol=1e-12)
    assert np.all(raw_y[later] - raw_y[earlier] == 20.0)
    assert y[0] == 0.0


def test_features_at_a_step_use_no_later_point_except_pen_lift_soon():
    rows = random_line(np.random.default_rng(3), steps=400)
    changed = rows.copy()
    changed[250:, :2] = np.random.default_rng(4).normal(0, 1, (150, 2))
    before, after = stroke_features(rows), stroke_features(changed)
    for name in ("x", "y", "direction", "curvature", "speed", "since_pen_lift"):
        np.testing.assert_array_equal(before[name][:250], after[name][:250], err_msg=name)


def test_stroke_features_do_not_change_the_rows():
    rows = LINE.copy()
    stroke_features(rows)
    np.testing.assert_array_equal(rows, LINE)


def random_line(rng, steps=3000):
    """A wandering pen with a lift every 10-30 steps and now and then a word gap."""
    rows = np.zeros((steps, 3))
    angle = np.cumsum(rng.normal(0, 0.3, steps))
    speed = rng.gamma(4.0, 0.15, steps)
    rows[:, 0], rows[:, 1] = speed * np.cos(angle), speed * np.sin(angle)
    lifts = np.cumsum(rng.integers(10, 30, steps // 10))
    lifts = lifts[lifts < steps - 1]
    rows[lifts, 2] = 1
    rows[lifts + 1, 0] += rng.choice([-1.0, 2.0, 8.0], len(lifts))
    return rows


def test_a_planted_cell_ranks_first_for_its_feature():
    rng = np.random.default_rng(0)
    features = stroke_features(random_line(rng))
    steps = len(features["x"])
    noise = rng.normal(0, 1.0, (steps, 6))
    planted = {}
    columns = []
    for k, name in enumerate(FEATURES):
        values = np.nan_to_num(features[name])
        if name in CIRCULAR:
            values = np.cos(values - 0.7)  # tracks the direction at some phase
        sign = -1 if k % 2 else 1
        columns.append(sign * 3.0 * values + 5.0)  # offset and scale must not matter
        planted[name] = (k, sign)
    activations = np.column_stack(columns + [noise])  # (T, 9 + 6)
    ranking = rank_cells(features, activations, top=4)
    for name, (cell, sign) in planted.items():
        best, score = ranking[name][0]
        assert best == cell, f"{name}: cell {best} ranked above the planted cell {cell}"
        assert abs(score) > 0.999
        if name not in CIRCULAR:
            assert np.sign(score) == sign
        assert len(ranking[name]) == 4
        assert all(type(c) is int and type(s) is float for c, s in ranking[name])


def test_rank_cells_scores_a_constant_feature_or_cell_as_zero():
    rng = np.random.default_rng(1)
    activations = rng.normal(size=(200, 5))
    activations[:, 2] = 0.3123  # not exact in binary: rounding must not make it vary
    ranking = rank_cells({"flat": np.ones(200), "wavy": activations[:, 0] + activations[:, 2]}, activations, top=5)
    assert all(score == 0.0 for _, score in ranking["flat"])
    assert dict(ranking["wavy"])[2] == 0.0
    assert ranking["wavy"][0][0] == 0


def test_scores_added_line_by_line_equal_scores_of_the_joined_lines():
    rng = np.random.default_rng(3)
    lines = [random_line(rng, 400), random_line(rng, 300)]
    activations = [rng.normal(size=(len(rows), 6)) + np.nan_to_num(stroke_features(rows)["speed"])[:, None]
                   for rows in lines]
    joined = CellScores()
    for rows, a in zip(lines, activations):
        joined.add(stroke_features(rows), a)
    features = [stroke_features(rows) for rows in lines]
    together = {name: np.concatenate([f[name] for f in features]) for name in FEATURES}
    once = rank_cells(together, np.vstack(activations), top=6)
    for name, scored in joined.ranking(top=6).items():
        assert [c for c, _ in scored] == [c for c, _ in once[name]]
        np.testing.assert_allclose([s for _, s in scored], [s for _, s in once[name]], atol=1e-10)


def test_every_feature_has_a_label_and_a_help_line():
    assert set(FEATURE_LABELS) == set(FEATURES) == set(FEATURE_HELP)
