"""Every control the app benchmark moves (benchmarks.controls.CONTROL_PAGES), moved once
in a session under Streamlit's AppTest: what the page then shows, once its background
work is done, is what a fresh page opened with that value shows. Work written ahead of
a slider, a t-SNE order swapped in under the Updating mark, a result cached by another
setting: none may show anything a fresh page would not.

Buttons (Re-sample, Play), chart clicks and table rows are left to their own tests: a
click on a heatmap or a ruler sets the Cell and Step widgets checked here, and Play
shows frames of the figure Length shows (tests/test_app_pages.py)."""
from __future__ import annotations

import pytest

from test_app import charts, cursive, heatmaps, isolated, no_errors, page, swapped_in, with_article  # noqa: F401

controls = pytest.importorskip("benchmarks.controls", reason="benchmarks/ is part of the source checkout only")

#: What each page is given before it is opened, in both sessions: something written on
#: the pages that need it, and few futures, which are drawn at every point of a line.
GIVEN = {"write": {"write_strokes": [cursive()]}, "watch": {"watch_strokes": [cursive()]},
         "possibilities": {"futures_count": 5}}
#: The kinds of control moved here, and how long background work may take to be swapped in.
MOVED = (controls.SLIDER, controls.NUMBER, controls.SELECT, controls.TEXT)
DONE_S = 120
#: Pages that compare inkcore's model with the article's, which they need.
NEEDS_ARTICLE = ("two_models",)
CASES = [pytest.param(p, c, id=f"{p.path}-{c.key}") for p in controls.CONTROL_PAGES for c in p.controls
         if c.kind in MOVED and c.key not in GIVEN.get(p.path, {})]


def opened(name: str, values: dict):
    at = page(name)
    for key, value in {**GIVEN.get(name, {}), **values}.items():
        at.session_state[key] = value
    return done(at.run())


def done(at):
    """The page once its background work is swapped in, without an error."""
    swapped_in(at, DONE_S)
    no_errors(at)
    return at


def shown(at) -> tuple:
    """What the page shows: its figures and cell heatmaps, and the words around them."""
    words = [m.value for m in at.markdown] + [c.value for c in at.caption] + [i.value for i in at.info]
    return charts(at), heatmaps(at), words


def moved(at, item):
    """Move the control ``item`` once, to a value it did not have; the value it took."""
    if item.kind == controls.SLIDER and item.key in [w.key for w in at.select_slider]:
        widget = at.select_slider(key=item.key)  # options shown as text, of values of one type
        options, value = list(widget.options), widget.value
        index = options.index(str(value))
        widget.set_value(type(value)(options[index + 1 if index + 1 < len(options) else index - 1]))
    elif item.kind == controls.SLIDER:
        widget = at.slider(key=item.key)
        step, low, high = widget.step, widget.min, widget.max
        value = widget.value
        if isinstance(value, tuple):  # a range: both ends one step along
            way = step if value[1] + step <= high else -step
            new = (value[0] + way, value[1] + way)
        else:
            new = value + step if value + step <= high else value - step
        widget.set_value(new)
    elif item.kind == controls.NUMBER:
        widget = at.number_input(key=item.key)
        widget.set_value(widget.value + 1 if widget.max is None or widget.value < widget.max else widget.value - 1)
    elif item.kind == controls.SELECT:
        widget = at.selectbox(key=item.key)
        widget.set_value(next_option(widget))
    else:
        at.text_input(key=item.key).input(item.values[0])
    done(at.run())
    return at.session_state[item.key]


def next_option(widget):
    """The value of the select box's option after the one it shows (AppTest knows options
    only as the text shown; the pages label their values with a dict's ``get``)."""
    labels = getattr(widget.format_func, "__self__", None)
    values = list(labels) if isinstance(labels, dict) else list(widget.options)
    shown = [str(widget.format_func(value)) for value in values]
    at = shown.index(str(widget.format_func(widget.value))) if widget.value in values else -1
    return values[(at + 1) % len(values)]


#: The kinds of widget whose values make a page's settings.
WIDGETS = ("slider", "select_slider", "number_input", "selectbox", "multiselect", "text_input", "toggle", "radio")


def settings(at) -> dict:
    """The values of every widget the page shows in this session (a fresh page given them
    is the same page: the moved control's value, and what the session chose before)."""
    keys = [w.key for kind in WIDGETS for w in getattr(at, kind) if w.key]
    return {key: at.session_state[key] for key in keys if key in at.session_state}


@pytest.mark.parametrize("page_of, item", CASES)
def test_a_moved_control_shows_what_a_fresh_page_with_its_value_shows(page_of, item, request):
    if page_of.path in NEEDS_ARTICLE:
        request.getfixturevalue("with_article")  # skips, saying why, without the article's files
    at = opened(page_of.path, {})
    before = shown(at)
    value = moved(at, item)
    after = shown(at)
    fresh = shown(opened(page_of.path, settings(at)))  # the same value, and the same of every other
    assert after == fresh, f"{item.name} moved to {value!r} shows what a fresh page does not"
    assert after != before or item.kind == controls.SELECT and len(at.selectbox(key=item.key).options) < 2, (
        f"{item.name} moved to {value!r} changed nothing")
