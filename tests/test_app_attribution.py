"""Why this point, on the Surprise page, under AppTest: it opens on the line's most
surprising point, follows a click on the line and the point's number, switches method,
and every listed cell and feature opens where it lives."""
from __future__ import annotations

import re
import time

from test_app import click_cell_button, isolated, no_errors, page  # noqa: F401  (isolated: an autouse fixture)

#: How long a test waits for a point's attribution, computed in the background.
WAIT_S = 120


def surprise_page(example: str = "sample:2"):
    """The Surprise page on ``example``, once its opening point is attributed (the page
    draws everything else first and the attribution when it is ready)."""
    at = page("surprise")
    at.session_state["surprise_example"] = example
    at.run()
    return until_shown(at, at.number_input(key="surprise_point").value)


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def shown_point(at) -> int | None:
    found = [re.fullmatch(r"log p\(point (\d+)\)", label) for label in metrics(at)]
    return next((int(f.group(1)) for f in found if f), None)


def until_shown(at, point: int):
    """Rerun until the section shows ``point`` (a new point is attributed in the background)."""
    deadline = time.monotonic() + WAIT_S
    while shown_point(at) != point and time.monotonic() < deadline:
        time.sleep(0.2)
        at.run()
    no_errors(at)
    assert shown_point(at) == point
    return at


def most_surprising(at) -> int:
    caption = next(c.value for c in at.caption if c.value.startswith("Most surprising steps"))
    steps = [(float(nats), int(step)) for step, nats in re.findall(r"(\d+) \((-?[\d.]+) nats\)", caption)]
    return max(steps)[1]


def test_the_section_opens_on_the_most_surprising_point():
    at = surprise_page()
    no_errors(at)
    assert "Why this point: what the model remembered" in [s.value for s in at.subheader]
    point = most_surprising(at)
    assert at.number_input(key="surprise_point").value == point and shown_point(at) == point
    shown = metrics(at)
    assert float(shown["Completeness gap"].rstrip("%")) < 1.0
    assert re.fullmatch(r"\d+ back", shown["Half the attribution within"])


def test_a_click_on_the_line_and_a_number_choose_the_point():
    at = surprise_page()
    at.session_state["surprise_chart"] = {"selection": {
        "points": [{"curve_number": 1, "point_index": 37, "x": 0.0, "y": 0.0}], "point_indices": [37], "box": [],
        "lasso": []}}
    at.run()
    until_shown(at, 37)
    assert at.number_input(key="surprise_point").value == 37
    at.number_input(key="surprise_point").set_value(12).run()
    until_shown(at, 12)
    at.segmented_control(key="surprise_method").set_value("Gradient × input").run()
    deadline = time.monotonic() + WAIT_S
    while "Completeness gap" in metrics(at) and time.monotonic() < deadline:
        time.sleep(0.2)
        at.run()
    assert "Completeness gap" not in metrics(at) and shown_point(at) == 12  # no gap to report for a gradient


def test_point_zero_has_nothing_before_it():
    at = surprise_page()
    at.number_input(key="surprise_point").set_value(0).run()
    no_errors(at)
    assert any("nothing comes before it" in i.value for i in at.info)


def test_a_listed_cell_opens_on_the_step_that_predicted_the_point():
    at = surprise_page()
    point = shown_point(at)
    cell, *shown = click_cell_button(at, "surprise_cell_")
    assert shown == [cell, "sample:2", point - 1]


def test_a_listed_feature_opens_on_the_features_page():
    at = surprise_page()
    buttons = [b for b in at.button if b.key and b.key.startswith("surprise_feature_")]
    if not buttons:
        import pytest

        pytest.skip("the shipped model's dictionary is not in this checkout")
    feature = int(buttons[0].key.rsplit("_", 1)[1])
    buttons[0].click().run()
    no_errors(at)
    assert at.title[0].value == "Features"
    assert at.number_input(key="features_feature").value == feature


def test_the_cell_pages_explain_the_point_after_their_step_on_request():
    """Under the step of Cell activations and Ordered cells, a toggle attributes the point
    the step predicts (the state at step t has read rows 0..t: it predicts row t + 1)."""
    for name, prefix in (("cells", "cells"), ("ordered", "ordered")):
        at = page(name)
        at.session_state[f"{prefix}_step"] = 40
        at.run()
        no_errors(at)
        assert shown_point(at) is None, "nothing is attributed until the reader asks"
        at.toggle(key=f"{prefix}_why").set_value(True).run()
        until_shown(at, 41)
        assert float(metrics(at)["Completeness gap"].rstrip("%")) < 1.0
        at.session_state[f"{prefix}_step"] = 90
        at.run()
        until_shown(at, 91)


def test_the_last_step_has_no_next_point():
    at = page("cells")
    at.run()
    last = at.slider(key="cells_step").max
    at.session_state["cells_step"] = last
    at.toggle(key="cells_why").set_value(True).run()
    no_errors(at)
    assert any("last step" in i.value for i in at.info)
