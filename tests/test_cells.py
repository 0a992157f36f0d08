"""Tests of inkcore.cells: probes, cell order, pattern search (recording: test_recording.py)."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from conftest import ARTICLE, ARTICLE_VALIDATION, random_rows, require_shared
from inkcore.cells import (
    FEATURES,
    METRICS,
    ORDER_STEPS,
    WINDOW,
    PATTERN_SHARE,
    CellOrder,
    Match,
    Pattern,
    article_order,
    cell_features,
    find_pattern,
    order_cells,
    pattern_cells,
    probe_cells,
    record,
)
from inkcore.data import read_article_lines

ARTICLE_METADATA = ARTICLE / "metadata.json"


# --- probe_cells ----------------------------------------------------------


def test_probe_cells_ranks_every_feature_with_plain_numbers(small_model, rng):
    lines = [random_rows(rng, 80), random_rows(rng, 50, lift_every=11)]
    ranking = probe_cells(small_model, lines, top=3)
    assert list(ranking) == list(FEATURES)
    cells = small_model.config.cells
    for scored in ranking.values():
        assert len(scored) == 3 and len({c for c, _ in scored}) == 3
        assert all(type(c) is int and 0 <= c < cells and type(s) is float and -1 <= s <= 1 for c, s in scored)
    json.dumps(ranking)
    with pytest.raises(ValueError):
        probe_cells(small_model, [])
    with pytest.raises(ValueError):
        probe_cells(small_model, lines, state="o")


def test_probe_cells_ranks_the_recording_of_each_line(small_model, rng):
    """Probing one line is rank_cells on its features and its recorded c (or h)."""
    from inkcore.probes import rank_cells, stroke_features

    rows = random_rows(rng, 120)
    for state in ("c", "h"):
        expected = rank_cells(stroke_features(rows), getattr(record(small_model, rows), state), top=4)
        got = probe_cells(small_model, [rows], top=4, state=state)
        for name in FEATURES:
            assert [c for c, _ in got[name]] == [c for c, _ in expected[name]]
            np.testing.assert_allclose([s for _, s in got[name]], [s for _, s in expected[name]])


def test_cli_probe_prints_json(tmp_path, capsys):
    from inkcore.cli import main

    weights = require_shared(ARTICLE / "b64_weights.json")
    for k in (0, 1, 2):
        shutil.copy(require_shared(ARTICLE_VALIDATION) / f"{k}.json", tmp_path / f"{k}.json")
    status = main(["probe", "--weights", str(weights), "--examples", str(tmp_path), "--top", "3", "--json"])
    assert status == 0
    printed = json.loads(capsys.readouterr().out)
    assert list(printed) == list(FEATURES)
    for scored in printed.values():
        assert len(scored) == 3
        assert all(isinstance(e["cell"], int) and isinstance(e["score"], float) for e in scored)


def test_the_probes_rediscover_cells_the_article_named(article_model, capsys):
    """On the article's own model, the probes find kinds of cells the article read off by
    eye: the cell in row 136 of the article's order (its "cell 136") follows the pen's
    horizontal position, the cell its heatmap opens on (93) the pen's direction, and
    some cells fire on pen lifts."""
    lines = read_article_lines(require_shared(ARTICLE_VALIDATION))
    ranking = probe_cells(article_model, [lines[k] for k in sorted(lines)[:10]], top=5)
    with capsys.disabled():
        print("\nthe article's model, validation lines 0-9, cell state c:")
        for feature, scored in ranking.items():
            print(f"  {feature:15s} " + "  ".join(f"{c}:{s:+.3f}" for c, s in scored))
    order = json.loads((require_shared(ARTICLE) / "metadata.json").read_text())["sortOrder"]
    assert ranking["x"][0][0] == order[136] and abs(ranking["x"][0][1]) > 0.8
    assert 93 in [cell for cell, _ in ranking["direction"]] and ranking["direction"][0][1] > 0.8
    assert abs(ranking["pen_lift"][0][1]) > 0.7


# --- order_cells ----------------------------------------------------------


def grouped_activations(seed=0, groups=3, per_group=20, steps=ORDER_STEPS):
    """Cells following one of a few smooth signals with positive means, scaled,
    noisy and a third of them sign-flipped. Returns (activations (T, cells), group, sign)."""
    rng = np.random.default_rng(seed)
    t = np.arange(steps)
    signals = []
    for _ in range(groups):
        wave = sum(rng.normal() * np.sin(2 * np.pi * t / rng.uniform(20, 120) + rng.uniform(0, 6)) for _ in range(4))
        signals.append(1.0 + 0.5 * wave / np.abs(wave).max())
    group = np.repeat(np.arange(groups), per_group)
    sign = np.where(rng.random(len(group)) < 1 / 3, -1, 1)
    scale = rng.uniform(0.8, 1.2, len(group))
    columns = [sign[i] * scale[i] * signals[g] + rng.normal(0, 0.05, steps) for i, g in enumerate(group)]
    shuffle = rng.permutation(len(group))  # so that index order says nothing
    return np.column_stack(columns)[:, shuffle], group[shuffle], sign[shuffle]


def neighbour_agreement(order: np.ndarray, group: np.ndarray) -> float:
    """Fraction of adjacent rows whose cells belong to the same group."""
    return float(np.mean(group[order[1:]] == group[order[:-1]]))


@pytest.fixture(scope="module")
def grouped():
    return grouped_activations()


@pytest.mark.parametrize("metric", METRICS)
def test_order_keeps_groups_together_and_beats_random(grouped, metric):
    activations, group, _ = grouped
    result = order_cells([activations], metric=metric, perplexity=10, seed=0)
    ours = neighbour_agreement(result.order, group)
    rng = np.random.default_rng(0)
    chance = np.mean([neighbour_agreement(rng.permutation(len(group)), group) for _ in range(50)])
    # Contiguous groups change group 2 times along the order; allow one more.
    # Without the sign flips, the flipped cells split off and this fails.
    breaks = round((1 - ours) * (len(group) - 1))
    assert breaks <= 3, f"{metric}: the order changes group {breaks} times"
    assert ours >= chance + 0.4
    assert result.metric == metric


def test_flip_makes_every_series_sum_non_negative(grouped):
    activations, _, sign = grouped
    result = order_cells([activations], metric="raw", perplexity=10)
    flipped = activations[:ORDER_STEPS] * result.flip
    assert (flipped.sum(axis=0) >= 0).all()
    np.testing.assert_array_equal(result.flip, sign)


def test_order_is_a_permutation_and_rows_of_inverts_it(grouped):
    activations, _, _ = grouped
    result = order_cells([activations[:200], activations[200:]], perplexity=10)
    cells = activations.shape[1]
    np.testing.assert_array_equal(np.sort(result.order), np.arange(cells))
    rows = result.rows_of()
    np.testing.assert_array_equal(result.order[rows], np.arange(cells))
    np.testing.assert_array_equal(rows[result.order], np.arange(cells))
    arranged = result.arrange(activations)
    np.testing.assert_array_equal(arranged[:, 3], activations[:, result.order[3]] * result.flip[result.order[3]])


def test_only_the_first_steps_of_each_example_count(grouped):
    activations, _, _ = grouped
    tail = np.full((500, activations.shape[1]), 1e6)  # would dominate if it were read
    a = order_cells([activations], metric="blur", perplexity=10)
    b = order_cells([np.vstack([activations[:ORDER_STEPS], tail])], metric="blur", perplexity=10)
    np.testing.assert_array_equal(a.order, b.order)


def test_perplexity_is_clipped_to_what_few_cells_allow():
    activations = np.random.default_rng(0).normal(size=(100, 8))
    result = order_cells([activations], perplexity=50)
    assert result.perplexity == pytest.approx(7 / 3)
    np.testing.assert_array_equal(np.sort(result.order), np.arange(8))


def test_order_cells_rejects_bad_input():
    activations = np.zeros((50, 10))
    with pytest.raises(ValueError, match="metric"):
        order_cells([activations], metric="cosine")
    with pytest.raises(ValueError):
        order_cells([])
    with pytest.raises(ValueError):
        order_cells([np.zeros((50, 3))])
    with pytest.raises(ValueError):
        order_cells([np.zeros((50, 10)), np.zeros((50, 9))])


def test_percentile_features_are_sorted_windows_and_their_blur():
    series = np.random.default_rng(0).normal(size=(4, 30))  # (cells, T)
    features = cell_features(series, "percentile")
    windows = 30 - WINDOW + 1
    assert features.shape == (4, 2 * windows * WINDOW)
    plain = features[:, : windows * WINDOW].reshape(4, windows, WINDOW)
    np.testing.assert_allclose(plain[:, 7], np.sort(series[:, 7 : 7 + WINDOW], axis=-1))
    blurred = features[:, windows * WINDOW :].reshape(4, windows, WINDOW)
    kernel = np.array([0.2, 0.4, 1.0, 0.4, 0.2]) / 2.2
    np.testing.assert_allclose(blurred[:, 10], np.tensordot(kernel, plain[:, 8:13], axes=([0], [1])))


# --- the article's order --------------------------------------------------


def test_article_order_is_a_permutation_of_its_cells():
    metadata = json.loads(require_shared(ARTICLE_METADATA).read_text())
    result = article_order(metadata)
    assert isinstance(result, CellOrder)
    np.testing.assert_array_equal(np.sort(result.order), np.arange(500))
    assert set(np.unique(result.flip)) == {-1, 1}
    np.testing.assert_array_equal(result.order[result.rows_of()], np.arange(500))


def test_article_flips_are_indexed_by_cell(article_model):
    """The article's flips are the signs of c over the first 370 steps of validation line 0."""
    rows = read_article_lines(require_shared(ARTICLE_VALIDATION))[0]
    sums = record(article_model, rows[:ORDER_STEPS]).c.sum(axis=0)
    result = article_order(json.loads(require_shared(ARTICLE_METADATA).read_text()))
    ours = np.where(sums < 0, -1, 1)
    assert np.mean(ours == result.flip) > 0.95
    assert np.mean(ours[result.order] == result.flip) < 0.7


def test_article_order_rejects_broken_metadata():
    with pytest.raises(ValueError):
        article_order({"sortOrder": [0, 1, 1], "flipCell": [1, 1, 1]})
    with pytest.raises(ValueError):
        article_order({"sortOrder": [0, 1, 2], "flipCell": [1, 0, 1]})
    with pytest.raises(ValueError):
        article_order({"sortOrder": [0, 1, 2]})


# --- patterns -------------------------------------------------------------


def planted_recording(seed=0, steps=120, cells=12):
    rng = np.random.default_rng(seed)
    return rng.normal(0.0, 0.3, (steps, cells))


def test_pattern_cells_finds_cells_high_or_low_only_in_the_span():
    c = planted_recording()
    c[40:60, 5] += 2.0
    c[:, 8] += 1.0
    c[40:60, 8] -= 2.5  # low in the span: its mean there is negative
    c[:, 7] += 2.0  # high everywhere: not a pattern of the span
    pattern = pattern_cells(c, 40, 60)
    assert isinstance(pattern, Pattern)
    assert set(pattern.cells[:2].tolist()) == {5, 8}
    assert 7 not in pattern.cells
    signs = dict(zip(pattern.cells.tolist(), pattern.sign.tolist()))
    assert signs[5] == 1 and signs[8] == -1
    on = pattern.on(c)[:, :2]  # on means toward the span's value, whichever the sign
    assert on[40:60].all() and not on[:40].any() and not on[60:].any()
    assert len(pattern_cells(c, 40, 60, top=1).cells) == 1
    assert len(pattern_cells(c, 40, 60, min_separation=1.0).cells) == 2  # the noise cells stay below


def test_pattern_cells_margin_ignores_firing_far_away():
    c = planted_recording()
    c[40:60, 5] += 2.0
    c[80:118, 5] += 2.0  # fires again later, for longer
    c[40:60, 3] += 1.0  # weaker, but only here
    assert pattern_cells(c, 40, 60).cells[0] == 3
    assert pattern_cells(c, 40, 60, margin=10).cells[0] == 5


def test_pattern_cells_rejects_empty_or_whole_spans():
    c = planted_recording()
    with pytest.raises(ValueError):
        pattern_cells(c, 10, 10)
    with pytest.raises(ValueError):
        pattern_cells(c, 0, len(c))


def planted_group():
    """A group of four cells singling out steps 40-60 of example "a": cells 2, 5
    and 9 rise there, cell 4 (otherwise at +1) falls below zero. Example "b"
    holds the group again at 130-142 (all four) and at 170-180 (three of four),
    and places that must not match: one cell alone, two cells with cell 4 at its
    usual +1, and all four for a single step."""
    a, b = planted_recording(1), planted_recording(2, steps=200)
    for c in (a, b):
        c[:, 4] += 1.0
    a[40:60, [2, 5, 9]] += 2.0
    a[40:60, 4] -= 2.5
    b[130:142, [2, 5, 9]] += 2.5
    b[130:142, 4] -= 2.5
    b[170:180, [2, 5]] += 2.0
    b[170:180, 4] -= 2.5
    b[20:30, 2] += 2.0  # one cell alone is not the pattern
    b[60:70, [2, 5]] += 2.0  # two of four: too few, unless cell 4's sign were ignored
    b[190, [2, 5, 9]] += 2.0
    b[190, 4] -= 2.5  # one step is shorter than the shortest match
    return a, b


def test_find_pattern_finds_a_planted_group_elsewhere_and_not_the_span():
    a, b = planted_group()
    pattern = pattern_cells(a, 40, 60, top=4)
    assert sorted(pattern.cells.tolist()) == [2, 4, 5, 9]
    matches = find_pattern({"a": a, "b": b}, pattern, exclude=("a", 40, 60))
    assert [(m.example, m.start, m.stop) for m in matches] == [("b", 130, 142), ("b", 170, 180)]
    assert all(isinstance(m, Match) for m in matches)
    assert matches[0].cells_on == 4 and matches[1].cells_on == 3
    assert matches[0].score == 4 * 12 and matches[1].score == 3 * 10  # cell-steps on
    assert ("a", 40, 60) in {(m.example, m.start, m.stop) for m in find_pattern({"a": a}, pattern)}


def test_find_pattern_asks_for_most_cells_not_all():
    a, b = planted_group()
    pattern = pattern_cells(a, 40, 60, top=4)
    assert np.ceil(PATTERN_SHARE * 4) == 3
    every = find_pattern({"b": b}, pattern, share=1.0)
    assert [(m.start, m.stop) for m in every] == [(130, 142)]  # three of four is not all
    assert len(find_pattern({"b": b}, pattern, min_length=1)) == 3  # the single step counts now


def test_find_pattern_rejects_an_empty_pattern():
    empty = Pattern(np.zeros(0, np.int64), np.zeros(0), np.zeros(0))
    with pytest.raises(ValueError):
        find_pattern({"x": planted_recording()}, empty)
