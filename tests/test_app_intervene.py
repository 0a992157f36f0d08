"""The Intervene and Two models pages under AppTest: every control, checked against what
the page then shows."""
from __future__ import annotations

import json
import threading

import numpy as np
import pytest

from conftest import ARTICLE
from test_app import charts, cursive, isolated, no_errors, page, with_article  # noqa: F401


@pytest.fixture(autouse=True)
def answers_waited_for(monkeypatch):
    """Each run waits for the hold's measurement, so a test sees the effect of what it set
    (the page otherwise shows the previous hold's under an Updating mark: tested below)."""
    from dashboard import background

    monkeypatch.setattr(background, "ANSWER_WAIT_S", 120.0)


def captions(at) -> str:
    return "\n".join(c.value for c in at.caption)


def ink(chart: dict) -> list:
    """The shape of each line drawn: its points, wherever in the grid its panel put it and at
    whatever size (moved and scaled by one factor), with the breaks between its strokes."""
    return [_shape(trace.get("x"), trace.get("y")) for trace in chart["data"]]


def _shape(xs, ys) -> tuple:
    drawn = np.array([(x, y) for x, y in zip(xs, ys) if x is not None]).reshape(-1, 2)
    if not len(drawn):
        return ()
    low, span = drawn.min(axis=0), max(float(np.ptp(drawn[:, 0])), 1e-12)
    breaks = tuple(k for k, x in enumerate(xs) if x is None)
    return breaks, tuple(np.round((drawn - low) / span, 9).ravel().tolist())


def line_charts(at, kind: str) -> list[dict]:
    """The same-seed lines (``kind`` "intact" or "held"), each as a figure of its own panel of
    the page's grid: its trace, and its title."""
    keys = [c.proto.id for c in at.get("plotly_chart")]
    grid = next(chart for chart, key in zip(charts(at), keys) if "intervene_lines" in key)
    return [{"data": [trace], "layout": {"title": {"text": trace["name"]}}} for trace in grid["data"]
            if trace["name"].endswith(", held") == (kind == "held")]


@pytest.fixture
def intervene_page():
    at = page("intervene")
    at.session_state["intervene_cells_ours"] = "3, 7"
    at.run()
    no_errors(at)
    return at


def test_the_page_scores_and_measures_a_hold(intervene_page):
    at = intervene_page
    assert "cells 3, 7 held at high" in captions(at)
    cost = next(m for m in at.metric if m.label.startswith("Cost"))
    assert float(cost.value) != 0.0
    table = at.dataframe[0].value
    assert list(table["What it writes"]) == ["Pen lifts", "Slant", "Letter size", "Horizontal drift", "Baseline"]
    assert np.allclose(table["Change"], table["Held"] - table["Intact"])
    assert len(line_charts(at, "intact")) == len(line_charts(at, "held")) == 2


def test_a_factor_of_one_holds_nothing_and_costs_nothing(intervene_page):
    at = intervene_page
    at.selectbox(key="intervene_how").set_value("scaled by a factor").run()
    at.number_input(key="intervene_factor").set_value(1.0).run()
    no_errors(at)
    assert "scaled by 1 at every step" in captions(at)
    assert float(next(m for m in at.metric if m.label.startswith("Cost")).value) == 0.0
    assert [ink(c) for c in line_charts(at, "intact")] == [ink(c) for c in line_charts(at, "held")]
    assert np.all(at.dataframe[0].value["Change"] == 0)


def test_a_new_hold_shows_the_previous_measurement_until_its_own_is_ready(intervene_page, monkeypatch):
    from dashboard import background
    from inkcore import traits

    at = intervene_page
    before = next(m for m in at.metric if m.label.startswith("Cost")).value
    release = threading.Event()
    measure = traits.writing

    def slow(*args, **kwargs):
        release.wait(60)
        return measure(*args, **kwargs)

    monkeypatch.setattr(background, "ANSWER_WAIT_S", 0.0)
    monkeypatch.setattr(traits, "writing", slow)
    at.text_input(key="intervene_cells_ours").set_value("3, 7, 9").run()
    no_errors(at)
    assert next(m for m in at.metric if m.label.startswith("Cost")).value == before  # the previous hold's
    assert "cells 3, 7, 9 held at high" in captions(at)  # while the lines below are the new hold's
    release.set()
    monkeypatch.setattr(background, "ANSWER_WAIT_S", 120.0)
    at.run()
    assert next(m for m in at.metric if m.label.startswith("Cost")).value != before


@pytest.mark.parametrize("how", ["its mean", "zero", "high (its 99th percentile)", "low (its 1st percentile)",
                                 "a value", "scaled by a factor"])
def test_every_way_of_holding_writes_another_line(intervene_page, how):
    at = intervene_page
    at.selectbox(key="intervene_how").set_value(how).run()
    if how == "a value":
        at.number_input(key="intervene_value").set_value(4.0).run()
        assert "held at 4" in captions(at)
    no_errors(at)
    assert [ink(c) for c in line_charts(at, "intact")] != [ink(c) for c in line_charts(at, "held")]


def test_cells_typed_wrongly_get_a_message_and_no_hold(intervene_page):
    at = intervene_page
    at.text_input(key="intervene_cells_ours").set_value("3, seven").run()
    assert not at.exception
    assert any("“seven” is not a cell number" in e.value for e in at.error)
    assert any("Choose at least one cell" in i.value for i in at.info)
    at.text_input(key="intervene_cells_ours").set_value("600").run()
    assert any("There is no cell 600" in e.value for e in at.error)


def test_a_probes_top_cells_are_held(intervene_page):
    at = intervene_page
    at.radio(key="intervene_way").set_value("A probe's top cells").run()
    at.selectbox(key="intervene_feature").set_value("pen_lift").run()
    at.slider(key="intervene_top").set_value(3).run()
    no_errors(at)
    described = next(c.value for c in at.caption if "held at" in c.value)
    assert described.startswith("cells ") and len(described.split(" held")[0].split(",")) == 3


def test_rows_of_an_order_need_an_order_and_use_the_articles(with_article):
    from dashboard import models

    at = page("intervene")
    at.run()
    at.radio(key="intervene_way").set_value("By row of an order").run()
    assert any("No order of this model's cells is known yet" in i.value for i in at.info)
    at.session_state["chosen_model"] = models.ARTICLE
    at.run()
    at.text_input(key="intervene_rows").set_value("136").run()
    no_errors(at)
    order = json.loads((ARTICLE / "metadata.json").read_text())["sortOrder"]
    assert f"cell {order[136]} held at" in captions(at)


def test_the_article_model_opens_on_its_x_position_cell_held_high(with_article):
    from dashboard import models

    at = page("intervene").run()
    at.text_input(key="intervene_cells_ours").set_value("17").run()
    at.session_state["chosen_model"] = models.ARTICLE
    at.run()
    no_errors(at)
    assert at.text_input(key="intervene_cells_article").value == "408"
    assert "cell 408 held at high (its 99th percentile)" in captions(at)


def test_the_same_seed_controls_redraw_both_sides(intervene_page):
    at = intervene_page
    at.slider(key="intervene_count").set_value(3).run()
    assert len(line_charts(at, "intact")) == len(line_charts(at, "held")) == 3
    before = [ink(c) for c in line_charts(at, "intact")]
    at.number_input(key="intervene_seed").set_value(2).run()
    after = [ink(c) for c in line_charts(at, "intact")]
    assert after[:2] == before[1:] and after[2] not in before  # seeds 2, 3 drawn before; 4 new
    at.slider(key="intervene_steps").set_value(200).run()
    at.slider(key="intervene_variation").set_value(0.3).run()
    no_errors(at)
    titles = [c["layout"]["title"]["text"] for c in line_charts(at, "held")]
    assert titles == ["seed 2, held", "seed 3, held", "seed 4, held"]


def test_a_continuation_of_your_own_writing_with_and_without_the_hold(intervene_page):
    at = intervene_page
    at.slider(key="intervene_more").set_value(100).run()
    at.number_input(key="intervene_more_seed").set_value(5).run()
    at.radio(key="intervene_source").set_value("Your own writing").run()
    assert any("Write a word or two" in i.value for i in at.info)
    at.session_state["intervene_strokes"] = [cursive()]
    at.run()
    no_errors(at)
    keys = [c.proto.id for c in at.get("plotly_chart")]
    shown = [chart for chart, key in zip(charts(at), keys) if "intervene_continuation" in key]
    assert len(shown) == 2 and ink(shown[0])[0] == ink(shown[1])[0]  # the same writing read
    assert ink(shown[0])[1] != ink(shown[1])[1]  # continued otherwise


def test_the_scored_examples_can_be_changed(intervene_page):
    at = intervene_page
    at.multiselect(key="intervene_examples").set_value(["sample:2"]).run()
    no_errors(at)
    assert next(m for m in at.metric if m.label == "Scored").value.startswith("1 lines")
    at.multiselect(key="intervene_examples").set_value([]).run()
    assert any("pick at least one example" in i.value for i in at.info)


# --- Two models ------------------------------------------------------------------------------


def test_two_models_asks_for_the_article_model_when_it_is_absent():
    at = page("two_models").run()
    no_errors(at)
    assert any("needs the article's model" in i.value for i in at.info)


@pytest.fixture
def two_models(with_article):
    at = page("two_models")
    at.session_state["match_examples"] = ["article:0", "article:1", "article:2"]
    at.run()
    no_errors(at)
    return at


def pair_shown(at) -> tuple[int, int]:
    keys = [c.proto.id for c in at.get("plotly_chart")]
    lines = next(chart for chart, key in zip(charts(at), keys) if "match_lines" in key)  # one panel per model
    titles = [trace["marker"]["colorbar"]["title"]["text"] for trace in lines["data"]
              if trace.get("marker", {}).get("showscale")]
    return int(titles[0].split()[-1]), int(titles[1].split()[-1])


def test_two_models_matches_every_cell_and_shows_a_pair(two_models):
    at = two_models
    pairs = at.dataframe[0].value
    assert len(pairs) == 500 and list(pairs.columns) == ["inkcore cell", "article cell", "r", "|r|"]
    assert pairs["|r|"].is_monotonic_decreasing and pairs["|r|"].max() <= 1.0
    assert pair_shown(at) == (int(pairs["inkcore cell"][0]), int(pairs["article cell"][0]))
    named = at.dataframe[1].value
    order = json.loads((ARTICLE / "metadata.json").read_text())["sortOrder"]
    assert list(named["Article cell"][:4]) == [order[136], order[236], order[55], order[25]]
    assert len(named) == 4 + 500 - 428


def test_a_row_clicked_in_either_table_shows_that_pair(two_models):
    at = two_models
    pairs = at.dataframe[0].value
    at.session_state["match_pairs"] = {"selection": {"rows": [5], "columns": []}}
    at.run()
    assert pair_shown(at) == (int(pairs["inkcore cell"][5]), int(pairs["article cell"][5]))
    named = at.dataframe[1].value
    at.session_state["match_named"] = {"selection": {"rows": [0], "columns": []}}
    at.run()
    no_errors(at)
    assert pair_shown(at) == (int(named["inkcore cell"][0]), int(named["Article cell"][0]))


def test_a_point_clicked_on_the_curve_and_a_cell_typed_show_their_pairs(two_models):
    at = two_models
    at.session_state["match_curve"] = {"selection": {"points": [
        {"curve_number": 1, "point_index": 0, "x": 1, "y": 0.9, "customdata": [45, 173, 0.85]}],
        "point_indices": [0], "box": [], "lasso": []}}
    at.run()
    assert pair_shown(at) == (173, 45)  # the article's cell 45 and its counterpart in inkcore's model
    at.number_input(key="match_cell").set_value(12).run()
    no_errors(at)
    mine, theirs = pair_shown(at)
    pairs = at.dataframe[0].value
    assert mine == 12 and theirs == int(pairs.loc[pairs["inkcore cell"] == 12, "article cell"].iloc[0])
    at.selectbox(key="match_line").set_value("article:2").run()
    no_errors(at)


def test_other_lines_are_matched_in_the_background_the_previous_match_shown_meanwhile(two_models, monkeypatch):
    from dashboard import background, matching

    at = two_models
    before = at.dataframe[0].value
    release = threading.Event()
    correlate = matching.state_correlations

    def slow(*args):
        release.wait(60)
        return correlate(*args)

    monkeypatch.setattr(background, "ANSWER_WAIT_S", 0.0)
    monkeypatch.setattr(matching, "state_correlations", slow)
    at.multiselect(key="match_examples").set_value(["article:3", "article:4"]).run()
    no_errors(at)
    assert at.dataframe[0].value.equals(before)  # the match over the lines read before
    release.set()
    monkeypatch.setattr(background, "ANSWER_WAIT_S", 120.0)
    at.run()
    assert not at.dataframe[0].value.equals(before)


def test_lines_not_yet_written_leave_the_previous_pair_under_the_updating_mark(intervene_page, monkeypatch):
    from dashboard import background
    from inkcore import traits

    at = intervene_page
    before = [ink(c) for c in line_charts(at, "intact") + line_charts(at, "held")]
    release, real = threading.Event(), traits.written_lines
    monkeypatch.setattr(traits, "written_lines", lambda *a, **k: (release.wait(60), real(*a, **k))[1])
    monkeypatch.setattr(background, "ANSWER_WAIT_S", 0.0)
    at.slider(key="intervene_count").set_value(3).run()
    no_errors(at)
    # the pair shown before, intact and held from the same seeds, while three lines are written
    assert [ink(c) for c in line_charts(at, "intact") + line_charts(at, "held")] == before
    assert [c["layout"]["title"]["text"] for c in line_charts(at, "held")] == ["seed 1, held", "seed 2, held"]
    assert any("Updating" in bar.proto.text and "3 lines" in bar.proto.text for bar in at.get("progress"))
    release.set()
    monkeypatch.setattr(background, "ANSWER_WAIT_S", 120.0)
    at.run()
    no_errors(at)
    assert len(line_charts(at, "intact")) == len(line_charts(at, "held")) == 3
    assert not any("Updating" in bar.proto.text for bar in at.get("progress"))
