"""The Cell probes page under AppTest: pattern search over the example library,
and every listed cell one click from the Cell activations page."""
from __future__ import annotations

import re

import numpy as np

from test_app import charts, click_cell_button, isolated, no_errors, page  # noqa: F401  (isolated: an autouse fixture)


def match_titles(at) -> list[str]:
    """The titles of the pattern search's pictures of matches (the panels of one figure)."""
    titles = [note.get("text", "") for spec in charts(at) for note in spec["layout"].get("annotations", [])]
    return [t for t in titles if " on" in t and "steps" in t]


def test_pattern_search_finds_places_elsewhere_and_not_the_span():
    at = page("probes").run()
    no_errors(at)
    start, stop = at.slider(key="pattern_span").value
    titles = match_titles(at)
    assert titles, "the default span of a model sample found no other place"
    assert not any("No other place found" in i.value for i in at.info)
    assert any("the whole library" in c.value for c in at.caption)  # eight samples: all searched
    for title in titles:
        found = re.match(r"(.*) · steps (\d+)-(\d+) · ", title)
        assert found, title
        if found.group(1) == "Model sample 1":  # the example the span was selected on
            assert int(found.group(3)) <= start or int(found.group(2)) >= stop, (title, start, stop)
    assert len(at.button) >= 2 + 9  # a button for every cell of the pattern, beside the probes'


def test_pattern_search_says_so_when_no_other_place_is_found():
    from inkcore.library import HandwritingStore

    loops = np.zeros((120, 3))
    t = np.arange(120)
    loops[:, 0], loops[:, 1] = 0.3 + 0.15 * np.cos(t / 2.2), 0.6 * np.sin(t / 2.2)
    straight = np.zeros((60, 3))
    straight[:, 0] = 8.0  # sixty long moves straight right: nothing in the library is like it
    entry = HandwritingStore().save("loops then a long straight", np.vstack([loops, straight]))
    at = page("probes")
    at.session_state["pattern_example"] = f"mine:{entry}"
    at.run()
    at.slider(key="pattern_span").set_value((130, 180)).run()
    no_errors(at)
    assert any(b.label.endswith(("↑", "↓")) for b in at.button)  # cells do stand out in the span
    assert any("No other place found" in i.value for i in at.info)
    assert match_titles(at) == []


def test_clicking_a_cell_that_is_not_the_best_opens_it_in_cell_activations():
    at = page("probes").run()
    no_errors(at)
    bars = next(spec for spec in charts(at) if spec["layout"]["title"]["text"] == "Pen lift")
    listed = [row[0] for row in bars["data"][0]["customdata"]]
    third = listed[2]
    probed_first = at.multiselect(key="probe_examples").value[0]
    at.session_state["probe_bars_pen_lift"] = {"selection": {
        "points": [{"curve_number": 0, "point_index": 2, "customdata": [third], "x": 0.1, "y": f"cell {third}"}],
        "point_indices": [2], "box": [], "lasso": []}}
    at.run()
    no_errors(at)
    assert at.title[0].value == "Cell activations"
    assert at.number_input(key="cells_cell").value == third != listed[0]
    assert at.selectbox(key="cells_example").value == probed_first


def test_clicking_a_pattern_cell_opens_it_on_the_example_at_the_span():
    at = page("probes").run()
    start, _ = at.slider(key="pattern_span").value
    cell, *shown = click_cell_button(at, "pattern_cell_")
    assert shown == [cell, "sample:1", start]
