"""The model card: what it says comes from the metadata it is given."""
from __future__ import annotations

from inkcore.publish import card

SCORE = {"nll_per_point": -1.9, "gauss_per_point": -2.0, "eos_per_point": 0.1, "points": 1000, "sequences": 3}
THEIRS = {"nll_per_point": -1.85, "gauss_per_point": -1.95, "eos_per_point": 0.1, "points": 1000, "sequences": 3}


def metadata(**provenance) -> dict:
    motion = {kind: {"share": 0.25, "points": 250, "gauss_per_point": value}
              for kind, value in (("still", -7.0), ("horizontal", -5.5), ("vertical", -2.3), ("other", -1.75))}
    theirs = {kind: dict(part, gauss_per_point=part["gauss_per_point"] + 0.5) for kind, part in motion.items()}
    return {
        "provenance": {"steps": 40_000, "wall_hours": 3.5, "machine": "x86_64 CPU", "batch": 32, "window": 150,
                       "seed": 0, **provenance},
        "metrics": {"article_validation": SCORE, "article_validation_article_model": THEIRS,
                    "article_validation_by_motion": motion, "article_validation_by_motion_article_model": theirs},
        "published": "2026-11-22",
    }


def test_the_card_compares_scores_overall_and_by_kind_of_point():
    text = card(metadata(zero_dy_component=19, zero_dy_since=35_500), "python -m inkcore.train --zero-dy-component 19")
    assert "| the article's 200 validation lines | 1,000 | **-1.900** (-2.000 / +0.100) | -1.850" in text
    assert "| horizontal (dy = 0, dx != 0) | 25.0% | -5.500 | -5.000 |" in text
    assert "| other (dx != 0 and dy != 0) | 25.0% | -1.750 | -1.250 |" in text
    assert "Component 19 of the mixture is a point mass at dy = 0" in text
    assert "from update 35,500 on" in text
    assert "40,000 updates" in text and "python -m inkcore.train --zero-dy-component 19" in text


def test_a_model_without_a_point_mass_says_nothing_of_one():
    text = card(metadata(), "python -m inkcore.train")
    assert "point mass at dy = 0" not in text
    assert "from update" not in text


def test_the_card_states_the_schedule_it_was_trained_with():
    plain = card(metadata(), "python -m inkcore.train")
    assert "learning rate 0.001, held for 6,000 updates, then halved\n  every 12,000, floor 5e-05" in plain
    schedule = {"lr": 1e-3, "warm_steps": 6000, "halve_every": 12000, "anneal_from": 38516, "anneal_every": 3000,
                "min_lr": 5e-5}
    bent = card(metadata(schedule=schedule), "python -m inkcore.train")
    assert "every 12,000, from update 38,516 every 3,000, floor 5e-05" in bent
