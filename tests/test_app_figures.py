"""Figures a person can read, under AppTest: the home page's score table for either
model, lines on Cell activations and Surprise given the room they need, and sample
lines held whole by their figures."""
from __future__ import annotations

import base64

import numpy as np

from inkcore.weights import load
from test_app import charts, isolated, no_errors, page, with_article  # noqa: F401
from test_app_pages import samples  # noqa: F401


def values(spec) -> np.ndarray:
    """A figure's array as Plotly's JSON holds it: a list, or typed base64."""
    if isinstance(spec, dict):
        return np.frombuffer(base64.b64decode(spec["bdata"]), dtype=spec["dtype"]).astype(float)
    return np.array([np.nan if v is None else v for v in spec], dtype=float)


def home_table(at) -> str:
    return next(m.value for m in at.markdown if "| lines | points |" in m.value)


def test_the_home_page_shows_the_score_table_for_the_articles_model_too(with_article, shipped_weights):
    metrics = load(shipped_weights)[1]["metrics"]
    ours = f"{metrics['article_validation']['nll_per_point']:.3f}"
    theirs = f"{metrics['article_validation_article_model']['nll_per_point']:.3f}"
    at = page("home").run()
    no_errors(at)
    assert f"**{ours}** | {theirs}" in home_table(at)
    at.sidebar.radio(key="model_choice").set_value("The article's model").run()
    no_errors(at)
    table = home_table(at)
    assert f"**{theirs}** | {ours}" in table  # this model's column is the article's
    assert "inkcore's own model |" in table


def test_cell_activations_and_surprise_give_a_long_line_room(with_article):
    for name in ("cells", "surprise"):
        at = page(name).run()
        no_errors(at)
        line = charts(at)[0]
        assert line["layout"]["height"] > 300  # the article's line 1 is folded into rows, not a strip
        markers = np.column_stack([values(line["data"][1]["x"]), values(line["data"][1]["y"])])
        assert np.ptp(markers[:, 0]) < 100  # the line is 148 model units wide unfolded


def test_sample_lines_are_held_whole_by_their_figures(samples):
    samples.slider(key="samples_steps").set_value(900).run()
    no_errors(samples)
    for chart in charts(samples)[:2]:
        ink = np.column_stack([values(chart["data"][0]["x"]), values(chart["data"][0]["y"])])
        ink = ink[np.isfinite(ink).all(axis=1)]
        (x0, x1), (y0, y1) = chart["layout"]["xaxis"]["range"], chart["layout"]["yaxis"]["range"]
        assert x0 < ink[:, 0].min() and ink[:, 0].max() < x1
        assert y1 < ink[:, 1].min() and ink[:, 1].max() < y0
