"""The pen surface in Chromium.

Its JavaScript (dashboard/pen.js) runs the model's step and reads the pen in the
page, so the page and the engine must agree: the LSTM step and the network's
output over a whole line equal inkcore.model's to 1e-4, for inkcore's model and
the article's, and the reading of timed strokes equals inkcore.pen's to 1e-9.
On the served dashboard, writing with the mouse at a person's pace draws a
prediction before the pen lifts, the cells of Write and watch follow the pen,
and writing survives a visit to another page.

The surface sits in a shadow root; Playwright's locators pierce it. Tests wait
on what the page shows, never on how long something takes.
"""
from __future__ import annotations

import base64
import json
import re

import numpy as np
import pytest

from conftest import ARTICLE_VALIDATION, ARTICLE_WEIGHTS, random_rows, require_shared
from inkcore import sampling
from inkcore.features import encode, file_sha256, find_dictionary, load_dictionary, pre_activations
from inkcore.model import LSTMState, network_output, run, step
from inkcore.pen import _read_at, as_strokes, read_strokes
from inkcore.strokes import from_article_file, model_inputs
from inkcore.weights import float32_bytes, load
from test_browser import (  # noqa: F401 (fixtures)
    INK, PEN, ROOT, WAIT_MS, app_url, browser, loops, move_on, open_page, page, pen_down_and_move,
    playwright_api, settle, shoot, write_word)

expect = playwright_api.expect
PEN_JS = ROOT / "dashboard" / "pen.js"
#: The browser's step and the engine's agree to this over a whole line (h, c and y).
STEP_TOLERANCE = 1e-4
#: The reading is the same arithmetic in double precision on both sides.
READING_TOLERANCE = 1e-9
#: What the status line says until the server's reading of the strokes has arrived.
SCALE_PENDING = "scale is estimated when the pen lifts"


# --- pen.js alone, in a blank page ----------------------------------------------------------


@pytest.fixture(scope="module")
def pen_js(browser):
    """A blank page with dashboard/pen.js imported as a module, its exports on ``window.pen``."""
    context = browser.new_context()
    tab = context.new_page()
    tab.set_default_timeout(WAIT_MS)
    tab.goto("about:blank")
    source = base64.b64encode(PEN_JS.read_bytes()).decode("ascii")
    exported = tab.evaluate("""async source => {
        window.pen = await import('data:text/javascript;base64,' + source);
        return Object.keys(window.pen).sort(); }""", source)
    assert {"makeModel", "step", "stepMany", "output", "readRows", "readPoints", "zeroState"} <= set(exported)
    yield tab
    context.close()


#: Float64Arrays come back as base64 of their bytes: a line's states are millions of numbers.
AS_BASE64 = """const asBase64 = (array) => {
    const bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
    let text = '';
    for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    return btoa(text); };"""

#: The page's model steps over every input row; h, c after each and the output y from h.
RUN_LINE = """([meta, weights, inputs]) => {
    %s
    const model = window.pen.makeModel(meta, weights);
    const n = model.n, out = model.out, steps = inputs.length;
    const h = new Float64Array(steps * n), c = new Float64Array(steps * n), y = new Float64Array(steps * out);
    let state = window.pen.zeroState(model);
    for (let t = 0; t < steps; t++) {
        state = window.pen.step(model, inputs[t], state);
        h.set(state.h, t * n);
        c.set(state.c, t * n);
        y.set(window.pen.output(model, state.h), t * out);
    }
    return {h: asBase64(h), c: asBase64(c), y: asBase64(y)};
}""" % AS_BASE64

#: One step of several pens at once from given states (as the prediction's candidates step).
STEP_MANY = """([meta, weights, xs, hs, cs]) => {
    %s
    const model = window.pen.makeModel(meta, weights);
    const states = hs.map((h, p) => ({h: Float64Array.from(h), c: Float64Array.from(cs[p])}));
    const next = window.pen.stepMany(model, xs, states);
    return {h: next.map((s) => asBase64(s.h)), c: next.map((s) => asBase64(s.c))};
}""" % AS_BASE64


def from_base64(text: str, shape: tuple[int, ...]) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype="<f8").reshape(shape)


def page_model(model) -> list:
    """What dashboard/pen.py sends a page for ``model``: its config and its float32 weights."""
    meta = {"cells": model.config.cells, "components": model.config.components,
            "forget_bias": model.config.forget_bias}
    return [meta, base64.b64encode(float32_bytes(model)).decode("ascii")]


def whole_line(model) -> np.ndarray:
    """An article validation line in model rows when the article's files are here, else a
    line inkcore's sampler writes with ``model``."""
    path = ARTICLE_VALIDATION / "0.json"
    if path.exists():
        return from_article_file(json.loads(path.read_text()))
    return sampling.generate(model, 700, np.random.default_rng(3), 0.65)


@pytest.mark.parametrize("which", ["inkcore", "article"])
def test_the_browsers_step_is_the_engines_over_a_whole_line(pen_js, request, which):
    weights = request.getfixturevalue("shipped_weights") if which == "inkcore" else require_shared(ARTICLE_WEIGHTS)
    model, _ = load(weights)
    rows = whole_line(model)
    inputs = model_inputs(rows)  # the evaluation protocol: a zero row, then every row but the last
    engine = run(model, inputs)
    y = network_output(model, engine.h)
    steps, cells = engine.h.shape
    found = pen_js.evaluate(RUN_LINE, [*page_model(model), inputs.tolist()])
    h, c = from_base64(found["h"], (steps, cells)), from_base64(found["c"], (steps, cells))
    y_page = from_base64(found["y"], y.shape)
    assert steps > 500 and y.shape[1] == 1 + 6 * model.config.components
    for name, page_value, engine_value in (("h", h, engine.h), ("c", c, engine.c), ("y", y_page, y)):
        gap = np.abs(page_value - engine_value)
        worst = np.unravel_index(np.argmax(gap), gap.shape)
        assert gap.max() <= STEP_TOLERANCE, f"{name} differs by {gap.max():.2e} at step {worst[0]}, unit {worst[1]}"


def test_several_pens_step_at_once_as_each_would_alone(pen_js, small_model, rng):
    """stepMany, which steps the prediction's candidates together, against the engine's batched step."""
    inputs = model_inputs(random_rows(rng, 40))
    recording = run(small_model, inputs)
    at = [5, 17, 33]
    state = LSTMState(recording.h[at].astype(np.float64), recording.c[at].astype(np.float64))
    xs = np.array([[0.4, -0.2, 0.0], [1.5, 0.3, 1.0], [-0.7, 2.0, 0.0]])
    expected = step(small_model, xs, state)
    found = pen_js.evaluate(STEP_MANY, [*page_model(small_model), xs.tolist(), state.h.tolist(), state.c.tolist()])
    cells = small_model.config.cells
    for p in range(len(at)):
        np.testing.assert_allclose(from_base64(found["h"][p], (cells,)), expected.h[p], atol=1e-6)
        np.testing.assert_allclose(from_base64(found["c"][p], (cells,)), expected.c[p], atol=1e-6)


def timed_strokes() -> list[list[list[float]]]:
    """Strokes as a page records them: cursive at a mouse's uneven pace, a dot, a press
    that rests in place, a long jump to a second line, a fast pen at 120 Hz, and a stroke
    whose events carry no time (a file without timing)."""
    rng = np.random.default_rng(7)
    times = 1000.0 + np.cumsum(rng.uniform(6.0, 30.0, 90))
    cursive = [[60 + 4 * k + 14 * np.cos(k / 2.2), 130 - 22 * np.sin(k / 2.2), t] for k, t in enumerate(times)]
    dot = [[430.0, 140.0, 3200.0]]
    resting = [[470.0, 120.0, 3500.0 + 16 * k] for k in range(6)]
    second_line = [[40 + 3 * k, 700 + 10 * np.sin(k / 3), 6000 + 8.3 * k] for k in range(70)]  # far below
    untimed = [[300 + 5 * k, 720 + 4 * k, 9000.0] for k in range(12)]
    return [[[float(v) for v in event] for event in stroke]
            for stroke in (cursive, dot, resting, second_line, untimed)]


@pytest.mark.parametrize("units_per_pixel,speed_factor", [(0.7, 1.0), (3.0, 1.0), (6.5, 0.4), (2.5, 3.7), (1.9, 8.0)])
def test_the_pages_reading_is_the_engines(pen_js, units_per_pixel, speed_factor):
    strokes = timed_strokes()
    expected, pixels = _read_at(as_strokes(strokes), units_per_pixel, speed_factor)
    found = np.array(pen_js.evaluate("([s, k, f]) => window.pen.readRows(s, k, f)",
                                     [strokes, units_per_pixel, speed_factor])).reshape(-1, 3)
    assert found.shape == expected.shape, (found.shape, expected.shape)
    np.testing.assert_allclose(found, expected, rtol=0, atol=READING_TOLERANCE)
    # the dot is one point and the long jump is read whole, not clipped
    assert expected[:, 2].sum() == len(strokes)
    jump = np.abs(expected[:, 1]).max() * 40 / units_per_pixel
    assert jump > 500


def test_the_stroke_being_written_is_read_as_it_will_be_when_the_pen_lifts(pen_js):
    """The page steps the model over a stroke's points while it is written: every point it
    reads before the lift must be the point the finished stroke has there."""
    strokes = timed_strokes()
    before, writing = strokes[:1], strokes[3]
    final = np.array(pen_js.evaluate("([s, k, f]) => window.pen.readPoints(s, k, f)", [before + [writing], 2.5, 1.3]))
    finished = len(pen_js.evaluate("([s, k, f]) => window.pen.readPoints(s, k, f)", [before, 2.5, 1.3]))
    for end in range(1, len(writing) + 1):
        live = np.array(pen_js.evaluate("([s, w, k, f]) => window.pen.readPoints(s, k, f, w)",
                                        [before, writing[:end], 2.5, 1.3]))
        assert len(live) <= len(final) - 1  # the stroke's end is read only with the lift
        np.testing.assert_allclose(live, final[:len(live)], rtol=0, atol=READING_TOLERANCE)
    assert len(live) > finished + 10  # most of the stroke was read before the lift


# --- On the dashboard -----------------------------------------------------------------------

#: Pixels of a canvas in the surface that hold colour: not transparent and not (near) white.
COLOURED_PIXELS = """canvas => {
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let count = 0;
    for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3] > 0 && Math.min(data[i], data[i + 1], data[i + 2]) < 200) count++;
    }
    return count; }"""
#: The strokes the live surface holds (those it hands to Python when the pen lifts).
SURFACE_STROKES = """() => [...window.inkcorePen.surfaces.values()]
    .filter((s) => s.view && s.view.root.isConnected).map((s) => s.strokes)"""


def coloured(tab, layer: str) -> int:
    return tab.locator(f"{PEN} canvas.{layer}").first.evaluate(COLOURED_PIXELS)


def image(tab, layer: str) -> str:
    return tab.locator(f"{PEN} canvas.{layer}").first.evaluate("canvas => canvas.toDataURL()")


def model_ready(tab):
    surface = tab.locator(PEN).first
    expect(surface).to_have_attribute("data-model", "ready", timeout=WAIT_MS)
    return surface


def scale_arrived(tab) -> str:
    """Wait until the status line shows the scale the server read the strokes at; its text."""
    status = tab.locator(f"{PEN} .status").first
    expect(status).to_contain_text("whiteboard units per pixel", timeout=WAIT_MS)
    expect(status).not_to_contain_text(SCALE_PENDING, timeout=WAIT_MS)
    return status.inner_text()


def test_a_prediction_is_drawn_before_the_pen_lifts(page, app_url, shipped_weights):
    open_page(page, app_url, "write", "Write with the model")
    surface = model_ready(page)
    assert surface.get_attribute("data-predictions") is None
    assert coloured(page, "pred") == 0
    points = loops(60, 5)
    box = pen_down_and_move(page, points[:35])
    # the pen is still down: the page has read the points so far and drawn where the model would go next
    expect(surface).to_have_attribute("data-predictions", re.compile(r"^[1-9][0-9]*$"), timeout=WAIT_MS)
    assert coloured(page, "pred") > 0
    assert coloured(page, "ink") > 0
    assert SCALE_PENDING in page.locator(f"{PEN} .status").first.inner_text()
    shoot(page, "pen-predicting-while-writing")
    move_on(page, box, points[35:])
    page.mouse.up()
    # once lifted, the strokes go to the server, whose reading (scale and speed) the page then reads at
    status = scale_arrived(page)
    strokes = page.evaluate(SURFACE_STROKES)
    assert len(strokes) == 1 and len(strokes[0]) == 1 and len(strokes[0][0]) > 20
    model, _ = load(shipped_weights)
    reading = read_strokes(strokes[0], model)
    assert f"{reading.units_per_pixel:.2f} whiteboard units per pixel" in status
    expect(surface).to_have_attribute("data-rows", str(len(reading.rows)), timeout=WAIT_MS)
    settle(page)
    page.wait_for_function("""() => Array.from(document.querySelectorAll('.js-plotly-plot'))
        .some(p => (p.data || []).some(t => t.name === 'continuation 1'))""")


def test_the_cells_follow_the_pen_while_it_moves(page, app_url):
    open_page(page, app_url, "watch", "Write and watch")
    surface = model_ready(page)
    points = loops(60, 5)
    box = pen_down_and_move(page, points[:25])
    expect(surface).to_have_attribute("data-rows", re.compile(r"^[1-9][0-9]*$"), timeout=WAIT_MS)
    rows = int(surface.get_attribute("data-rows"))
    early = image(page, "cells")
    assert coloured(page, "cells") > 0  # cells away from zero are coloured
    move_on(page, box, points[25:])
    page.wait_for_function("([el, rows]) => Number(el.getAttribute('data-rows')) > rows",
                           arg=[surface.element_handle(), rows])
    later = image(page, "cells")
    assert later != early  # the pen has not lifted, and the cells have moved with it
    page.mouse.up()
    settle(page)


#: The live surface's state of its dictionary's kind, its pre-activations by the page's
#: encoder and the features it lists, read together while the pen rests.
TIP_FEATURES = """() => {
    const s = [...window.inkcorePen.surfaces.values()].find((s) => s.view && s.view.root.isConnected && s.dictionary);
    const x = s.state[s.dictionary.state];
    return { x: Array.from(x), z: Array.from(window.inkcorePen.preActivations(s.dictionary, x)),
             listed: JSON.parse(s.view.root.getAttribute('data-features')),
             items: Array.from(s.view.features.querySelectorAll('li'), (li) => li.textContent) }; }"""


def test_write_and_watch_lists_features_as_the_numpy_encoder_does(page, app_url, shipped_weights):
    open_page(page, app_url, "watch", "Write and watch")
    surface = model_ready(page)
    expect(surface).to_have_attribute("data-dictionary", "ready", timeout=WAIT_MS)
    dictionary = load_dictionary(find_dictionary(file_sha256(shipped_weights), [shipped_weights.parent]))
    points = loops(60, 5)
    box = pen_down_and_move(page, points[:25])
    expect(surface).to_have_attribute("data-features", re.compile(r"^\[\["), timeout=WAIT_MS)
    early = page.evaluate(TIP_FEATURES)
    updates = int(surface.get_attribute("data-feature-updates"))
    move_on(page, box, points[25:])
    page.wait_for_function("([el, n]) => Number(el.getAttribute('data-feature-updates')) > n + 5",
                           arg=[surface.element_handle(), updates])
    shoot(page, "watch-features-while-writing")
    later = page.evaluate(TIP_FEATURES)
    page.mouse.up()
    assert [f for f, _ in later["listed"]] != [f for f, _ in early["listed"]]  # the list follows the pen
    for seen in (early, later):
        x = np.array(seen["x"])
        np.testing.assert_allclose(seen["z"], pre_activations(dictionary, x), atol=1e-4)
        a = encode(dictionary, x)
        listed = np.array(seen["listed"])
        assert len(listed) == np.count_nonzero(a) <= dictionary.k
        np.testing.assert_allclose(listed[:, 1], a[listed[:, 0].astype(int)], atol=1e-4)
        assert np.all(np.diff(listed[:, 1]) <= 0)  # the most active first
        top = int(listed[0, 0])
        assert seen["items"][0].startswith(str(top)) and dictionary.label(top) in seen["items"][0]
    settle(page)


@pytest.mark.parametrize("path,heading,source", [("write", "Write with the model", None),
                                                 ("surprise", "Surprise", "Your own writing")])
def test_writing_survives_a_visit_to_another_page(page, app_url, path, heading, source):
    open_page(page, app_url, path, heading)
    if source:
        page.get_by_text(source, exact=True).first.click()
        settle(page)
    write_word(page)
    status = scale_arrived(page)
    ink = image(page, "ink")
    assert coloured(page, "ink") > 0 and status.startswith("1 stroke")
    page.locator("[data-testid=stSidebar]").get_by_role("link", name="The model writes").first.click()
    page.get_by_role("heading", name="The model writes").first.wait_for()
    settle(page)
    assert page.locator(PEN).count() == 0
    page.locator("[data-testid=stSidebar]").get_by_role("link", name=heading).first.click()
    page.get_by_role("heading", name=heading).first.wait_for()
    settle(page)
    assert scale_arrived(page) == status  # the same strokes, read at the same scale
    assert image(page, "ink") == ink  # and drawn as they were
    assert page.get_by_text("Write a word or two").count() == 0
    shoot(page, f"pen-{path}-after-coming-back")
