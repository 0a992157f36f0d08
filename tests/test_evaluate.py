"""The evaluation protocol: the article's model on its own validation lines, and batching."""
from __future__ import annotations

import numpy as np
import pytest

import inkcore.evaluate as evaluate
from conftest import ARTICLE_VALIDATION, SMALL_CONFIG, random_model, random_rows, require_shared
from inkcore import corpus
from inkcore.data import read_article_lines
from inkcore.evaluate import line_log_likelihood, score
from inkcore.motion import MOTION_KINDS


@pytest.fixture(scope="module")
def article_score(article_model):
    lines = read_article_lines(require_shared(ARTICLE_VALIDATION))
    return score(article_model, lines.values())


def test_the_article_model_scores_its_reference_figures(article_score):
    """Figures computed with an independent implementation (../shared/README.md)."""
    assert article_score.sequences == 200
    assert article_score.points == 125_410
    assert article_score.nll_per_point == pytest.approx(-1.851, abs=0.002)
    assert article_score.gauss_per_point == pytest.approx(-1.947, abs=0.002)
    assert article_score.eos_per_point == pytest.approx(0.096, abs=0.002)
    parts = article_score.gauss_per_point + article_score.eos_per_point
    assert article_score.nll_per_point == pytest.approx(parts, abs=1e-9)


def test_score_as_a_dict(article_score):
    assert set(article_score.to_dict()) == {"nll_per_point", "gauss_per_point", "eos_per_point", "points", "sequences"}


@pytest.fixture(scope="module")
def lines():
    rng = np.random.default_rng(8)
    return [random_rows(rng, length, lift_every=4 + k) for k, length in enumerate((37, 3, 80, 12, 1, 55, 20))]


@pytest.fixture(scope="module")
def model64():
    return random_model(SMALL_CONFIG, seed=9, dtype=np.float64)


def test_score_is_the_mean_over_points_of_single_line_likelihoods(model64, lines, monkeypatch):
    singles = [line_log_likelihood(model64, rows) for rows in lines]
    points = sum(len(rows) for rows in lines)
    gauss = sum(ll.gauss.sum() for ll in singles) / points
    eos = sum(ll.eos.sum() for ll in singles) / points
    for batch_lines in (64, 3, 1):  # one batch, several padded batches, no padding at all
        monkeypatch.setattr(corpus, "BATCH_LINES", batch_lines)
        result = score(model64, lines)
        assert result.points == points and result.sequences == len(lines)
        assert result.gauss_per_point == pytest.approx(-gauss, rel=1e-12)
        assert result.eos_per_point == pytest.approx(-eos, rel=1e-12)
        assert result.nll_per_point == pytest.approx(-(gauss + eos), rel=1e-12)


def test_padding_changes_no_line(model64, lines):
    together = corpus.scored_log_likelihood(model64, lines)
    for rows, ll in zip(lines, together):
        alone = line_log_likelihood(model64, rows)
        assert ll.gauss.shape == (len(rows),)
        np.testing.assert_allclose(ll.gauss, alone.gauss, rtol=0, atol=1e-10)
        np.testing.assert_allclose(ll.eos, alone.eos, rtol=0, atol=1e-10)


def test_line_likelihood_scores_every_row_from_the_zero_state(model64, lines):
    """The first row is scored by the mixture after reading one zero row."""
    from inkcore.model import log_likelihood, mixture, step, zero_state

    rows = lines[0]
    state = step(model64, np.zeros(3), zero_state(model64))
    first = log_likelihood(mixture(model64, state.h), rows[0])
    ll = line_log_likelihood(model64, rows)
    assert ll.gauss[0] == pytest.approx(float(first.gauss), abs=1e-12)
    assert ll.eos[0] == pytest.approx(float(first.eos), abs=1e-12)


def test_score_skips_empty_lines_and_refuses_nothing(model64, lines):
    with_empty = score(model64, [np.zeros((0, 3)), *lines])
    assert with_empty == score(model64, lines)
    with pytest.raises(ValueError):
        score(model64, [])
    with pytest.raises(ValueError):
        score(model64, [np.zeros((0, 3))])


def test_a_random_model_scores_worse_than_the_article_model(article_score):
    """A quality threshold: the trained model must beat an untrained one by a wide margin."""
    lines = list(read_article_lines(require_shared(ARTICLE_VALIDATION)).values())[:10]
    from inkcore.model import Config

    untrained = random_model(Config(), seed=0)
    assert score(untrained, lines).nll_per_point > article_score.nll_per_point + 1.0


def test_the_score_by_motion_adds_up_to_the_score(model64, lines):
    with_zeros = [rows.copy() for rows in lines]
    for k, rows in enumerate(with_zeros):  # plant exact zeros of each kind
        rows[:: 3 + k, 1] = 0.0
        rows[:: 5 + k, 0] = 0.0
    parts = evaluate.score_by_motion(model64, with_zeros)
    total = score(model64, with_zeros)
    assert set(parts) == set(MOTION_KINDS)
    assert sum(p["points"] for p in parts.values()) == total.points
    assert sum(p["share"] for p in parts.values()) == pytest.approx(1.0)
    assert all(p["points"] > 0 for p in parts.values())
    weighted = sum(p["share"] * p["gauss_per_point"] for p in parts.values())
    assert weighted == pytest.approx(total.gauss_per_point, abs=1e-9)


def test_the_shipped_model_scores_what_its_card_says():
    """The figures stored in weights/inkcore.npz (and printed in its model card) are re-measured, so a
    newer export with stale figures would fail here."""
    from inkcore.cli import DEFAULT_WEIGHTS
    from inkcore.weights import load

    if not DEFAULT_WEIGHTS.exists():
        pytest.skip(f"no shipped model at {DEFAULT_WEIGHTS}")
    model, metadata = load(DEFAULT_WEIGHTS)
    stored = metadata["metrics"]["article_validation"]
    measured = score(model, read_article_lines(require_shared(ARTICLE_VALIDATION)).values())
    assert measured.points == stored["points"] and measured.sequences == stored["sequences"]
    for key in ("nll_per_point", "gauss_per_point", "eos_per_point"):
        assert getattr(measured, key) == pytest.approx(stored[key], abs=1e-4), key
    card = (DEFAULT_WEIGHTS.parent / "MODEL_CARD.md").read_text()
    assert f"{stored['nll_per_point']:.3f}" in card
