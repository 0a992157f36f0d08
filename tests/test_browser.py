"""The real thing: the dashboard served by `streamlit run`, driven by Playwright
in Debian's Chromium. Screenshots land in artifacts/browser/ for a person to look at."""
from __future__ import annotations

import json
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import ARTICLE

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts" / "browser"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
#: Generous: CI machines are slow and may be busy; tests wait on elements, never on sleeps.
WAIT_MS = 90_000

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory, shipped_weights):
    port = free_port()
    env = dict(os.environ, INKCORE_DATA=str(tmp_path_factory.mktemp("data")),
               INKCORE_CACHE=str(tmp_path_factory.mktemp("cache")), INKCORE_WEIGHTS=str(shipped_weights))
    if ARTICLE.exists():
        env["INKCORE_ARTICLE_DIR"] = str(ARTICLE)
    log = tmp_path_factory.mktemp("log") / "streamlit.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url + "/_stcore/health", timeout=2)
            break
        except OSError:
            if server.poll() is not None:
                pytest.fail(f"streamlit exited: {log.read_text()[-2000:]}")
            time.sleep(0.3)
    else:
        server.kill()
        pytest.fail(f"streamlit did not start: {log.read_text()[-2000:]}")
    yield url
    server.terminate()
    server.wait(timeout=20)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (apt-get install chromium); scripts/test.sh installs it")
    with playwright_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser, app_url):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    tab.set_default_timeout(WAIT_MS)
    tab.bring_to_front()  # the page with the browser's focus: a page without it may be throttled
    yield tab
    context.close()


#: The app root carries the script's run state; a run that ended reads notRunning (or
#: compilationError). Waiting on it does not race with the status widget, which
#: appears only half a second into a run.
SCRIPT_DONE = ("() => ['notRunning', 'compilationError'].includes("
               "document.querySelector('[data-testid=stApp]')?.dataset.testScriptState)")


def settle(tab) -> None:
    """Wait until Streamlit has finished running the script (call after something that
    starts a run has shown, such as the page's heading)."""
    try:
        tab.wait_for_selector("[data-testid=stMainBlockContainer]")
        tab.wait_for_function(SCRIPT_DONE)
        tab.wait_for_function("() => !document.querySelector('[data-testid=stStatusWidget]')")
    except playwright_api.TimeoutError as timeout:
        raise AssertionError(f"the page never settled: {page_state(tab)}") from timeout


#: What a page that never settles is doing: its script state, the running mark, fragments' marks and errors.
PAGE_STATE = """() => ({
  script: document.querySelector('[data-testid=stApp]')?.dataset.testScriptState,
  status: document.querySelector('[data-testid=stStatusWidget]')?.innerText,
  progress: Array.from(document.querySelectorAll('[data-testid=stProgress]'), (e) => e.innerText),
  errors: Array.from(document.querySelectorAll('[data-testid=stException], [data-testid=stAlert]'),
                     (e) => e.innerText.slice(0, 300)),
  headings: Array.from(document.querySelectorAll('h1, h2, h3'), (e) => e.innerText),
  focused: document.hasFocus(), visible: document.visibilityState })"""


def page_state(tab) -> str:
    """The state :data:`PAGE_STATE` reads, and a screenshot of the page (for a failure's report)."""
    try:
        shoot(tab, "never-settled")
        return json.dumps(tab.evaluate(PAGE_STATE))
    except playwright_api.Error as error:
        return f"(unreadable: {error})"


def open_page(tab, app_url: str, path: str, heading: str) -> None:
    tab.bring_to_front()
    tab.goto(f"{app_url}/{path}")
    tab.get_by_role("heading", name=heading).first.wait_for()
    settle(tab)
    assert tab.locator("[data-testid=stException]").count() == 0


def shoot(tab, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


#: The pen surface (in a shadow root, which Playwright's locators pierce) and the canvas to write on.
PEN = "[data-testid=inkcore-pen]"
INK = f"{PEN} canvas.ink"
#: A person's pace: a mouse reports a move about every 16 ms, and the page stamps each event's time.
MOVE_S = 0.016


def loops(x0: float = 60, count: int = 5) -> list[tuple[float, float]]:
    """A row of cursive loops in CSS pixels of the surface, one point per pointer move."""
    return [(x0 + 4 * t + 14 * math.cos(t / 2.2), 130 - 22 * math.sin(t / 2.2)) for t in range(count * 14)]


def pen_down_and_move(tab, points: list[tuple[float, float]]) -> dict:
    """Press on the surface at the first point and move through the others at a person's
    pace, leaving the pen down; returns the surface's box."""
    ink = tab.locator(INK).first
    ink.wait_for()
    ink.scroll_into_view_if_needed()
    box = ink.bounding_box()
    tab.mouse.move(box["x"] + points[0][0], box["y"] + points[0][1])
    tab.mouse.down()
    move_on(tab, box, points[1:])
    return box


def move_on(tab, box: dict, points: list[tuple[float, float]]) -> None:
    for x, y in points:
        tab.mouse.move(box["x"] + x, box["y"] + y)
        time.sleep(MOVE_S)


def write_word(tab, x0: float = 60, count: int = 5) -> None:
    """Write a row of cursive loops on the pen surface with the mouse, and lift the pen."""
    pen_down_and_move(tab, loops(x0, count))
    tab.mouse.up()
    settle(tab)


def plotly_trace_names(tab) -> list[str]:
    return tab.evaluate("""() => Array.from(document.querySelectorAll('.js-plotly-plot'))
        .flatMap(p => (p.data || []).map(t => t.name || ''))""")


PAGES = [
    ("", "inkcore"),
    ("write", "Write with the model"),
    ("samples", "The model writes"),
    ("possibilities", "Possibility space"),
    ("cells", "Cell activations"),
    ("ordered", "Ordered cells"),
    ("features", "Features"),
    ("watch", "Write and watch"),
    ("probes", "Cell probes"),
    ("surprise", "Surprise"),
    ("library", "Example library"),
    ("intervene", "Intervene on cells"),
    ("two_models", "Two models"),
]


@pytest.mark.parametrize("path,heading", PAGES)
def test_every_page_opens(page, app_url, path, heading):
    open_page(page, app_url, path, heading)
    # the page's own content, in the main area (the sidebar's links are on every page)
    main = "[data-testid=stMain]"
    page.wait_for_selector(f"{main} .js-plotly-plot, {main} [data-testid=stAlert], {main} canvas"
                           + (f", {main} [data-testid=stImage] img" if path == "" else ""))
    # work a page draws after the rest (Surprise's first attribution) ends, and nothing is left computing
    page.wait_for_function(f"() => !document.querySelector('{main} [data-testid=stProgress]')", timeout=WAIT_MS)
    settle(page)
    assert page.locator(f"{main} [data-testid=stProgress]").count() == 0
    assert page.locator("[data-testid=stException]").count() == 0
    shoot(page, f"page-{path or 'home'}")


def test_visitors_see_no_deploy_button(page, app_url):
    """.streamlit/config.toml's client.toolbarMode = "viewer": the menu, without Deploy."""
    open_page(page, app_url, "", "inkcore")
    page.locator("[data-testid=stMainMenu]").wait_for()
    assert page.locator("[data-testid=stAppDeployButton]").count() == 0


CONTINUATION_POINTS = """() => Math.max(0, ...Array.from(document.querySelectorAll('.js-plotly-plot'))
    .flatMap(p => (p.data || []).filter(t => t.name === 'continuation 1'))
    .map(t => (t.x || []).filter(v => v !== null).length))"""


def test_write_continue_and_come_back(page, app_url):
    open_page(page, app_url, "write", "Write with the model")
    write_word(page)
    page.wait_for_function("""() => Array.from(document.querySelectorAll('.js-plotly-plot'))
        .some(p => (p.data || []).some(t => t.name === 'continuation 1'))""")
    shoot(page, "write-continuation")
    slider = page.locator("[data-testid=stSlider]").filter(has_text="Length").locator("input[type=range]")
    before = slider.get_attribute("aria-valuetext")
    points = page.evaluate(CONTINUATION_POINTS)
    slider.focus()
    # one press at a time, each drawn before the next: a press made while the run of the one
    # before is finishing can be undone by it (five quick presses once left the slider at 24).
    # The slider reaches the server after a debounce: wait until the continuation drawn is as
    # long as the length chosen, as a user would see it
    for step in range(1, 6):
        slider.press("ArrowRight")
        playwright_api.expect(slider).to_have_attribute("aria-valuetext", str(int(before) + step), timeout=WAIT_MS)
        page.wait_for_function(f"() => ({CONTINUATION_POINTS})() === {points + step}")
        settle(page)
    chosen = str(int(before) + 5)
    assert chosen != before
    page.get_by_role("link", name="The model writes").first.click()
    page.get_by_role("heading", name="The model writes").first.wait_for()
    settle(page)
    page.get_by_role("link", name="Write with the model").first.click()
    page.get_by_role("heading", name="Write with the model").first.wait_for()
    settle(page)
    page.wait_for_function("""() => Array.from(document.querySelectorAll('.js-plotly-plot'))
        .some(p => (p.data || []).some(t => t.name === 'continuation 1'))""")
    assert page.get_by_text("Write a word or two").count() == 0
    assert slider.get_attribute("aria-valuetext") == chosen  # the length chosen before leaving
    shoot(page, "write-after-coming-back")


def tip_at(page, heatmap, spot: tuple[float, float]) -> str:
    """What the heatmap's tooltip says with the pointer moved onto ``spot``."""
    page.mouse.move(spot[0] - 5, spot[1] - 5)
    page.mouse.move(*spot)
    tip = heatmap.locator(".tip")
    tip.wait_for()
    return tip.inner_text()


def test_a_new_order_redraws_the_heatmap_from_the_line_the_page_kept(page, app_url):
    if not ARTICLE.exists():
        pytest.skip("../shared/data/article is absent: Ordered cells opens on the article's example")
    open_page(page, app_url, "ordered", "Ordered cells")
    heatmap = page.locator(".st-key-ordered_heatmap [data-testid=inkcore-heatmap][data-drawn]")
    heatmap.wait_for()
    heatmap.scroll_into_view_if_needed()
    figure = heatmap.get_attribute("data-figure")
    lines = "() => [...window.inkcoreHeatmap.lines.keys()]"
    kept = page.evaluate(lines)
    assert len(kept) == 1  # the line's levels, kept by the page
    page.evaluate("() => window.inkcoreHeatmap.lines.clear()")  # as a page that dropped its copy
    slider = page.locator(".st-key-ordered_perplexity input[type=range]").first
    slider.focus()
    slider.press("ArrowRight")  # a new order of the same line
    page.wait_for_function("([h, before]) => h.getAttribute('data-figure') !== before",
                           arg=[heatmap.element_handle(), figure])
    settle(page)
    assert page.evaluate(lines) == kept  # asked for again, and sent
    heatmap.scroll_into_view_if_needed()
    box = heatmap.locator("canvas").first.bounding_box()
    named = []
    for share in (0.3, 0.5, 0.7):
        text = tip_at(page, heatmap, (box["x"] + box["width"] * 0.5, box["y"] + box["height"] * share))
        found = re.search(r"row (\d+) · cell (\d+)", text)
        assert found, text
        named.append(tuple(int(v) for v in found.groups()))
    assert any(row != cell for row, cell in named)  # rows in the t-SNE order, not the cells' own
    assert page.locator("[data-testid=stException]").count() == 0
    shoot(page, "ordered-new-order")


def test_cells_click_recolours_the_stroke(page, app_url):
    if not ARTICLE.exists():
        pytest.skip("../shared/data/article is absent: the cells page opens on the article's example")
    open_page(page, app_url, "cells", "Cell activations")
    heatmap = page.locator(".st-key-cells_heatmap [data-testid=inkcore-heatmap]")
    heatmap.wait_for()
    heatmap.scroll_into_view_if_needed()
    heatmap = page.locator(".st-key-cells_heatmap [data-testid=inkcore-heatmap][data-drawn]")  # drawn
    heatmap.wait_for()
    # the canvas draws a line once: a heatmap drawn again counts up
    kept = "h => h.getAttribute('data-drawn')"
    drawn = heatmap.evaluate(kept)
    box = heatmap.locator("canvas").first.bounding_box()
    target = (box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.7)
    text = tip_at(page, heatmap, target)
    named = re.search(r"row (\d+) · cell (\d+)\s*step (\d+)", text)
    assert named, text
    row, cell, step = (int(v) for v in named.groups())
    assert 300 < row < 400 and row == cell  # 0.7 of the way down the plot, in the cells' own order
    page.mouse.click(*target)
    page.wait_for_function(f"""() => {{ const i = document.querySelector('[data-testid=stNumberInput] input');
        return i && i.value === '{cell}'; }}""")
    assert page.locator("[data-testid=stSlider] input[type=range]").first.input_value() == str(step)
    chosen = str(cell)
    # the stroke beside the heatmap is recoloured by the clicked cell (its colour bar names it)
    page.wait_for_function(f"""() => {{ const p = document.querySelector('.js-plotly-plot');
        return p && p.innerText.includes('cell {chosen}'); }}""")
    settle(page)
    assert heatmap.evaluate(kept) == drawn  # the click reran the cell's view, not the heatmap
    shoot(page, "cells-after-click")
    # a click on the ruler under the stroke chooses a step; the heatmap is not redrawn for it
    step_input = page.locator("[data-testid=stSlider] input[type=range]").first
    before = step_input.input_value()
    ruler = page.locator(".js-plotly-plot").nth(1)
    ruler.scroll_into_view_if_needed()
    box = ruler.locator(".nsewdrag").first.bounding_box()
    quarter = box["x"] + box["width"] * 0.25
    page.mouse.move(quarter, box["y"] + box["height"] * 0.5)
    page.mouse.click(quarter, box["y"] + box["height"] * 0.5)
    page.wait_for_function("""before => {
        const s = document.querySelector('[data-testid=stSlider] input[type=range]');
        return s && s.value !== before; }""", arg=before)
    settle(page)
    step = int(step_input.input_value())
    assert abs(step - 0.25 * int(step_input.get_attribute("max"))) < 10  # about a quarter along
    page.wait_for_function(f"""() => document.querySelectorAll('.js-plotly-plot')[1].innerText.includes('step {step}')""")
    assert heatmap.evaluate(kept) == drawn
    # the ruler and the heatmap line up: the heatmap names the same step at the same place (Plotly's
    # hover takes any marker within 3 px of the pointer, and 600 steps are 1.3 px apart on the ruler)
    heatmap.scroll_into_view_if_needed()
    heat_box = heatmap.locator("canvas").first.bounding_box()
    under = int(re.search(r"step (\d+)", tip_at(page, heatmap, (quarter, heat_box["y"] + heat_box["height"] * 0.3)))
                .group(1))
    assert abs(under - step) <= 3
    shoot(page, "cells-after-ruler-click")


INK_OF_PLOTS = """() => Array.from(document.querySelectorAll('.js-plotly-plot'))
    .map(p => JSON.stringify((p.data || []).map(t => [t.x, t.y])))"""


def test_an_intervention_changes_what_the_model_writes(page, app_url):
    open_page(page, app_url, "intervene", "Intervene on cells")
    cost = page.locator("[data-testid=stMetric]").filter(has_text="Cost").locator("[data-testid=stMetricValue]")
    page.locator("[data-testid=stDataFrame]").first.wait_for()
    before_cost, before_ink = cost.inner_text(), page.evaluate(INK_OF_PLOTS)
    cells = page.get_by_label("Cells (numbers, separated by commas)")
    cells.fill("3, 7, 11")
    cells.press("Enter")
    page.get_by_text("cells 3, 7, 11 held at high").first.wait_for()
    settle(page)
    page.wait_for_function("before => (" + INK_OF_PLOTS + ")().join() !== before.join()", arg=before_ink)
    # the measurement follows in the background (the previous one shown meanwhile, marked Updating)
    playwright_api.expect(cost).not_to_have_text(before_cost, timeout=WAIT_MS)
    ink = page.evaluate(INK_OF_PLOTS)
    assert len(ink) == 3  # the grid of two seeds intact and held, two continuations
    grid = json.loads(ink[0])
    assert len(grid) == 4
    assert grid[0] != grid[1] and grid[2] != grid[3]  # intact (left column) and held (right) differ seed by seed
    assert page.locator("[data-testid=stException]").count() == 0
    shoot(page, "intervene-held")


#: Where point ``k`` of a Plotly chart's trace ``trace`` sits on the screen.
POINT_ON_SCREEN = """([plot, trace, k]) => {
    const layout = plot._fullLayout, data = plot._fullData[trace], box = plot.getBoundingClientRect();
    const x = layout.xaxis.l2p(data.x[k]) + layout.xaxis._offset, y = layout.yaxis.l2p(data.y[k]) + layout.yaxis._offset;
    return [box.left + x, box.top + y]; }"""


def test_clicking_a_point_on_surprise_colours_the_line_by_attribution(page, app_url):
    if not ARTICLE.exists():
        pytest.skip("../shared/data/article is absent: Surprise opens on the article's example")
    open_page(page, app_url, "surprise", "Surprise")
    page.get_by_role("heading", name="Why this point: what the model remembered").first.wait_for()
    point_input = page.locator(".st-key-surprise_point input")
    first = int(point_input.input_value())
    surprise = page.locator(".st-key-surprise_chart .js-plotly-plot")
    surprise.scroll_into_view_if_needed()
    settle(page)
    chosen = 60 if first != 60 else 80
    x, y = page.evaluate(POINT_ON_SCREEN, [surprise.element_handle(), 1, chosen])
    page.mouse.move(x - 3, y - 3)
    page.mouse.move(x, y)
    page.mouse.click(x, y)
    page.wait_for_function("([el, before]) => el.value !== String(before)", arg=[point_input.element_handle(), first])
    at = int(point_input.input_value())
    assert abs(at - chosen) <= 2  # the point under the pointer (Plotly takes the nearest within a few pixels)
    page.get_by_text(f"log p(point {at})").first.wait_for()
    settle(page)
    coloured = page.locator(".st-key-surprise_attribution .js-plotly-plot")
    colours = coloured.evaluate("p => Array.from(p._fullData[1].marker.color)")
    assert len(colours) > at and any(v != 0 for v in colours[:at]) and all(v == 0 for v in colours[at:])
    marked = coloured.evaluate("p => [p._fullData[2].x[0], p._fullData[1].x[%d]]" % at)
    assert marked[0] == pytest.approx(marked[1])  # the ring marks the point explained
    coloured.scroll_into_view_if_needed()
    shoot(page, "surprise-attribution-after-click")
