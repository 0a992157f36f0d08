"""Interventions on cells (inkcore.intervene and the hold the model's readers take)."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import ARTICLE_VALIDATION, random_rows, require_shared
from inkcore import intervene
from inkcore.cells import record
from inkcore.evaluate import line_states, score
from inkcore.model import make_model, run
from inkcore.sampling import continue_writing, generate
from inkcore.strokes import model_inputs


@pytest.fixture(scope="module")
def lines():
    rng = np.random.default_rng(7)
    return [random_rows(rng, steps) for steps in (30, 45, 20, 38)]


def test_holding_nothing_is_the_intact_model_bit_for_bit(small_model, lines):
    nothing = intervene.no_hold(small_model)
    inputs = model_inputs(lines[0])[:, None, :]
    intact, held = run(small_model, inputs), run(small_model, inputs, hold=nothing)
    assert np.array_equal(intact.h, held.h) and np.array_equal(intact.c, held.c)
    assert np.array_equal(record(small_model, lines[1]).c, record(small_model, lines[1], hold=nothing).c)
    assert score(small_model, lines) == score(small_model, lines, hold=nothing)
    assert np.array_equal(generate(small_model, 60, np.random.default_rng(3), count=2),
                          generate(small_model, 60, np.random.default_rng(3), count=2, hold=nothing))
    plain = continue_writing(small_model, lines[2], 30, np.random.default_rng(4), candidates=3)
    kept = continue_writing(small_model, lines[2], 30, np.random.default_rng(4), candidates=3, hold=nothing)
    assert np.array_equal(plain.rows, kept.rows)


def test_a_held_cell_stays_at_its_value_and_h_follows_from_it(small_model, lines):
    rows = lines[0]
    hold = intervene.hold_cells(small_model, [3, 5], value=[0.4, -1.7])
    held = record(small_model, rows, hold=hold)
    intact = record(small_model, rows)
    assert np.all(held.c[:, 3] == np.float32(0.4)) and np.all(held.c[:, 5] == np.float32(-1.7))
    assert not np.allclose(held.c[:, 0], intact.c[:, 0])  # the others feel it from the second step
    # h of a held cell is its own output gate times tanh of the held c
    n = small_model.config.cells
    weights = np.vstack([small_model.W_x, small_model.W_h]).astype(np.float64)
    for t in range(1, len(rows)):
        z = np.concatenate([rows[t], held.h[t - 1]]) @ weights + small_model.b
        o = 1.0 / (1.0 + np.exp(-z[3 * n :]))
        np.testing.assert_allclose(held.h[t, [3, 5]], o[[3, 5]] * np.tanh([0.4, -1.7]), rtol=1e-5, atol=1e-6)


def test_a_scaled_cell_is_its_update_times_the_factor(small_model, lines):
    rows = lines[1]
    scaled = record(small_model, rows, hold=intervene.hold_cells(small_model, [2], factor=0.5))
    n = small_model.config.cells
    weights = np.vstack([small_model.W_x, small_model.W_h]).astype(np.float64)
    for t in range(1, len(rows)):
        z = np.concatenate([rows[t], scaled.h[t - 1]]) @ weights + small_model.b
        gate = lambda a: 1.0 / (1.0 + np.exp(-a))  # noqa: E731
        i, g = gate(z[2]), np.tanh(z[n + 2])
        f = gate(z[2 * n + 2] + small_model.config.forget_bias)
        np.testing.assert_allclose(scaled.c[t, 2], 0.5 * (f * scaled.c[t - 1, 2] + i * g), rtol=1e-5, atol=1e-6)


def test_mean_hold_uses_each_cell_mean_over_the_lines(small_model, lines):
    means = intervene.cell_means(small_model, lines)
    expected = np.concatenate([line_states(small_model, rows).c for rows in lines]).mean(axis=0)
    np.testing.assert_allclose(means, expected, rtol=1e-5, atol=1e-6)
    hold = intervene.make_hold(small_model, [1, 4], "mean", lines)
    assert hold.keep[1] == 0 and hold.keep[0] == 1
    assert hold.put[4] == np.float32(means[4]) and hold.put[0] == 0
    with pytest.raises(ValueError):
        intervene.make_hold(small_model, [1], "half", lines)
    with pytest.raises(ValueError):
        intervene.hold_cells(small_model, [16], value=0.0)


def test_holding_changes_what_the_model_writes(small_model):
    hold = intervene.hold_cells(small_model, [0, 1, 2], value=1.5)
    plain = generate(small_model, 60, np.random.default_rng(3))
    held = generate(small_model, 60, np.random.default_rng(3), hold=hold)
    assert not np.allclose(plain, held)


def test_batched_costs_equal_each_cell_held_alone(small_model, lines):
    cells = [0, 3, 7, 15]
    costs = intervene.ablation_costs(small_model, lines, cells=cells, batch_rows=3)  # two runs a line
    means = intervene.cell_means(small_model, lines)
    intact = score(small_model, lines).nll_per_point
    for cell, cost in zip(cells, costs):
        alone = score(small_model, lines, hold=intervene.hold_cells(small_model, [cell], value=means)).nll_per_point
        assert cost == pytest.approx(alone - intact, abs=1e-5)


def test_the_rank_is_deterministic_and_costliest_first(small_model, lines):
    first = intervene.rank_by_ablation(small_model, lines)
    assert intervene.rank_by_ablation(small_model, lines) == first
    # Batched otherwise, float32 products may round differently in the last bits (by BLAS build).
    second = {c.cell: c for c in intervene.rank_by_ablation(small_model, lines, batch_rows=13)}
    for c in first:
        assert second[c.cell].cost == pytest.approx(c.cost, rel=1e-5, abs=1e-7)
        assert (second[c.cell].feature, second[c.cell].r) == (c.feature, c.r)
    assert sorted(c.cell for c in first) == list(range(small_model.config.cells))
    costs = [c.cost for c in first]
    assert costs == sorted(costs, reverse=True)
    assert all(c.feature in intervene.FEATURES and abs(c.r) <= 1 for c in first)


def permuted(model, order, flip):
    """The same network with its cells renumbered (new cell k is old cell order[k])
    and the c of cells in ``flip`` negated."""
    n = model.config.cells
    sign = np.ones(n)
    sign[list(flip)] = -1.0
    columns = np.concatenate([block * n + order for block in range(4)])
    g_sign = np.concatenate([np.ones(n), sign[order], np.ones(2 * n)])  # -g gives -c, -h
    return make_model(
        model.config,
        W_x=model.W_x[:, columns] * g_sign,
        W_h=(model.W_h[order][:, columns] * sign[order][:, None]) * g_sign,
        b=model.b[columns] * g_sign,
        W_out=model.W_out[order] * sign[order][:, None],
        b_out=model.b_out,
    )


def test_a_model_matched_with_itself_is_the_identity(small_model, lines):
    matches = intervene.match_cells(small_model, small_model, lines)
    assert [m.other for m in matches] == list(range(small_model.config.cells))
    assert all(m.r == pytest.approx(1.0, abs=1e-9) for m in matches)


def test_matching_finds_renumbered_and_negated_cells(small_model, lines):
    order = np.random.default_rng(1).permutation(small_model.config.cells)
    other = permuted(small_model, order, flip=[2, 9])
    matches = intervene.match_cells(small_model, other, lines)
    found = np.array([m.other for m in matches])
    assert np.array_equal(order[found], np.arange(small_model.config.cells))
    for m in matches:
        assert m.r == pytest.approx(-1.0 if order[m.other] in (2, 9) else 1.0, abs=1e-4)


#: The article's direction cells (ECOSYSTEM.md, "Interventions"): held at their
#: mean over its first 40 validation lines they cost about 0.22 nats per point.
DIRECTION_CELLS = [434, 93, 227, 45, 184]


def test_ablation_tells_cells_that_matter_on_the_articles_model(article_model):
    from inkcore.data import read_article_lines

    lines = list(read_article_lines(require_shared(ARTICLE_VALIDATION)).values())[:40]
    means = intervene.cell_means(article_model, lines)
    intact = score(article_model, lines).nll_per_point

    def cost(cells):
        hold = intervene.hold_cells(article_model, cells, value=means)
        return score(article_model, lines, hold=hold).nll_per_point - intact

    direction = cost(DIRECTION_CELLS)
    assert 0.15 < direction < 0.3
    rng = np.random.default_rng(0)
    others = np.setdiff1d(np.arange(article_model.config.cells), DIRECTION_CELLS)
    random_costs = [cost(rng.choice(others, 5, replace=False)) for _ in range(3)]
    assert max(random_costs) < 0.1
    assert direction > 3 * max(random_costs)
