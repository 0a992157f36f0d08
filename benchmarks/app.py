"""``python -m benchmarks.app``: how long a person waits for the dashboard.

``python -m inkcore.bench --app`` runs it after the engine's rows, from a source
checkout (the dashboard and this benchmark are not part of the installed package).

The benchmark starts the dashboard itself (``streamlit run app.py`` on a free
loopback port, with empty data and cache folders of its own), drives it in
headless Chromium with Playwright, and times what a person waits for:

- the first page: from launching ``streamlit run`` until the home page's
  heading shows in the browser (at most 4 s);
- every control of every page (sliders by arrow key, number inputs by their +
  button, select boxes, toggles and buttons by a click, heatmaps and step rulers
  by a click on them, and the examples chosen): from the key press or click until
  the page's Plotly figures show what it changed, each control changed 3 times from
  its page's defaults in a session of its own; a row per page with the worst and
  the median answer and the control that gave the worst (at most 0.5 s and 0.25 s).
  A slider moves to values this server has not drawn before, so no figure comes
  from a cache filled by an earlier press. Work that goes on in the background (a
  new t-SNE order) has answered when the previous result shows under the page's
  Updating mark; Play, when its first frame is drawn;
- a stroke on the write page: the server's work for the first continuation,
  timed in this process with the functions the page calls (at most 0.3 s),
  and the browser's wait from mouse-up until the continuation is drawn;
- the possibility space of a whole line: from the click on "Show every point's
  futures at once" until the figure shows 50 futures of 8 steps at every point
  of the article's validation line 1 (602 points; the page's default 700-point
  model sample without the article's files), at most 5 s, beside the engine's part
  of it against its matrix-multiply bound (:func:`inkcore.bench.bench_futures`).

Browser times are taken inside the page: ``performance.now()`` at the key
press, click or mouse-up, and at the first moment the page's figures reached
the state they settle in, found by watching a fingerprint of every figure's
data (trace count, lengths and a few values) on every DOM change and every
animation frame. Playwright's own round trips are not counted.

A person waits for every change, not only the quickest, so the first column
of these rows is the worst change of a figure and the verdict is on it; the
median is beside it. Browser rows need Playwright and Chromium; without them
one line says so and only the server's rows are printed.
"""
from __future__ import annotations

import argparse
import itertools
import math
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
from threadpoolctl import threadpool_limits

from inkcore.bench import Row, Timing, format_row

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
#: The article's files beside the repository (developers and CI); the app reads them instead of downloading.
ARTICLE_DIR = ROOT.parent / "shared" / "data" / "article"

FIRST_PAGE_TARGET_S = 4.0
#: Every control of a page: its worst answer, and the median of its answers.
CONTROL_TARGET_S, CONTROL_MEDIAN_TARGET_S = 0.5, 0.25
CONTINUATION_SERVER_TARGET_S = 0.3
WHOLE_LINE_FUTURES_TARGET_S = 5.0
#: The line the whole-line row draws on (the target is set for 600 points), and its length.
WHOLE_LINE_EXAMPLE, WHOLE_LINE_POINTS = "Article validation 1", 602
#: Pen move to redrawn prediction on the write page, at the 95th percentile (the page's own work).
PEN_PREDICTION_TARGET_MS = 50.0
#: Pointer moves of the timed word, and the pause between them (a person's pace: 60 moves a second).
PEN_MOVES, PEN_MOVE_PAUSE_S = 240, 1 / 60

#: New values timed per control, continuations per stroke row.
PRESSES = 3
STROKES = 3
#: Timings of the server's work for a stroke (a pure computation: repeats are honest).
SERVER_REPEATS = 7
#: A page counts as settled when Streamlit has not been running for this long (its status
#: widget shows 500 ms into a run) and, after a change, its figures have not changed either.
QUIET_MS = 600
#: Generous: a change of the possibility space redraws every point's futures on a busy machine.
WAIT_MS = 180_000
START_TIMEOUT_S = 90

HOME_HEADING = "inkcore"
#: The words of the mark over a result being replaced (dashboard.background.UPDATING, which
#: this benchmark does not import: importing the dashboard's modules outside a server warns).
UPDATING = "Updating"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

#: The write page's defaults (pages/1_write.py): length 20 at the article's variation, one candidate.
WRITE_LENGTH = 20
WRITE_CANDIDATES = 1
#: Pointer moves of the benchmark's word: a row of loops written in 2.5 s at a person's pace.
WORD_MOVES = 150


class BrowserMissing(Exception):
    """Playwright or Chromium is not there, or Chromium will not start."""


class AppError(Exception):
    """The dashboard did not start, or a figure never changed."""


#: The kinds of control a page offers, and how the benchmark works each one: a slider by
#: arrow key, a number input by its + button, a select box by choosing another option, a
#: toggle or a button by a click, a chart (heatmap, step ruler) by a click on its plot, a
#: text input by typing one of its ``values`` and Enter, a table by a click on a row.
SLIDER, NUMBER, SELECT, TOGGLE, BUTTON, CHART = "slider", "number", "select", "toggle", "button", "chart"
#: A text input (typed, then Enter), and a table's row (a click on its selection box).
TEXT, TABLE = "text", "table"


@dataclass(frozen=True)
class Control:
    kind: str
    key: str  # the widget's (or chart's) key: Streamlit marks its element with the class st-key-{key}
    name: str  # as the page labels it
    animation: bool = False  # Play: answered by its first frame, not by its last
    background: bool = False  # answered at once by the Updating mark over the previous result
    values: tuple[str, ...] = ()  # what is typed in a text input, one per change


@dataclass(frozen=True)
class ControlPage:
    path: str  # the page's URL path
    heading: str
    controls: tuple[Control, ...]
    write_first: bool = False  # the page shows figures once something is written on its pen surface


def _cell_view(prefix: str) -> tuple[Control, ...]:
    """The controls of the cell pages' shared view (dashboard/cell_view.py)."""
    return (Control(SLIDER, f"{prefix}_step", "Step"), Control(NUMBER, f"{prefix}_cell", "Cell"),
            Control(CHART, f"{prefix}_heatmap", "heatmap click"), Control(CHART, f"{prefix}_ruler", "ruler click"))


CONTROL_PAGES = (
    ControlPage("write", "Write with the model", (
        Control(SLIDER, "write_length", "Length (steps)"), Control(SLIDER, "write_variation", "Variation"),
        Control(SLIDER, "write_candidates", "Candidates"), Control(BUTTON, "write_resample", "Re-sample"),
        Control(BUTTON, "write_play", "Play", animation=True)), write_first=True),
    ControlPage("samples", "The model writes", (
        Control(SLIDER, "samples_count", "Samples"), Control(SLIDER, "samples_steps", "Length (steps)"),
        Control(SLIDER, "samples_variation", "Variation"), Control(NUMBER, "samples_seed", "Seed"))),
    ControlPage("possibilities", "Possibility space", (
        Control(SLIDER, "futures_variation", "Variation"), Control(SLIDER, "futures_count", "Futures per point"),
        Control(SLIDER, "futures_steps", "Steps per future"), Control(SLIDER, "futures_at", "Step"),
        Control(BUTTON, "futures_play", "Play along the line", animation=True),
        Control(SELECT, "futures_example", "Example"))),
    ControlPage("cells", "Cell activations", _cell_view("cells") + (Control(SELECT, "cells_example", "Example"),)),
    ControlPage("ordered", "Ordered cells", (
        Control(SELECT, "ordered_example", "Example"),
        Control(SLIDER, "ordered_perplexity", "Perplexity", background=True),
        Control(SELECT, "ordered_metric", "Distance between cells", background=True),
        Control(NUMBER, "ordered_row", "Row in this order")) + _cell_view("ordered")),
    ControlPage("watch", "Write and watch", _cell_view("watch"), write_first=True),
    ControlPage("probes", "Cell probes", (
        Control(SLIDER, "pattern_span", "Span of steps"), Control(SELECT, "pattern_example", "Example"))),
    ControlPage("surprise", "Surprise", (Control(SELECT, "surprise_example", "Example"),)),
    ControlPage("intervene", "Intervene on cells", (
        Control(TEXT, "intervene_cells_ours", "Cells", background=True, values=("12", "12, 243", "7")),
        Control(SELECT, "intervene_how", "Hold them at", background=True),
        Control(SLIDER, "intervene_count", "Lines", background=True),
        Control(SLIDER, "intervene_steps", "Length (steps)", background=True),
        Control(SLIDER, "intervene_variation", "Variation", background=True),
        Control(NUMBER, "intervene_seed", "Seed", background=True),
        Control(SLIDER, "intervene_more", "Continuation length", background=True),
        Control(NUMBER, "intervene_more_seed", "Continuation seed", background=True),
        Control(SELECT, "intervene_example", "Example", background=True))),
    ControlPage("two_models", "Two models", (
        Control(NUMBER, "match_cell", "Cell"), Control(SELECT, "match_line", "Line"),
        Control(CHART, "match_curve", "curve click"), Control(TABLE, "match_pairs", "pairs table row"),
        Control(TABLE, "match_named", "named cells row"))),
)


# --- The word every measurement writes --------------------------------------------


def cursive_points(moves: int = WORD_MOVES, x0: float = 60.0, spacing: float = 1.0) -> list[tuple[float, float]]:
    """A row of cursive loops in CSS pixels of the pen surface, one point per pointer move, like a
    written 'eeee'; a larger ``spacing`` writes as much with fewer, faster moves (14 units make a loop)."""
    ts = [spacing * k for k in range(moves)]
    return [(x0 + 4 * t + 14 * math.cos(t / 2.2), 130 - 22 * math.sin(t / 2.2)) for t in ts]


def pen_events(points: list[tuple[float, float]], pause_s: float = PEN_MOVE_PAUSE_S) -> list[list[float]]:
    """The points as the pen surface records one stroke written at a person's pace:
    pointer events ``[x, y, t]``, ``pause_s`` apart (t in ms)."""
    return [[float(x), float(y), 1000.0 * pause_s * k] for k, (x, y) in enumerate(points)]


# --- The server -----------------------------------------------------------------------


@dataclass(frozen=True)
class App:
    url: str
    process: subprocess.Popen
    launched: float  # time.perf_counter() just before ``streamlit run`` was launched
    log: Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def app_environment(folder: Path, weights: str | os.PathLike | None = None) -> dict[str, str]:
    """The environment of a dashboard with empty data and cache folders under ``folder``."""
    from inkcore.cli import WEIGHTS_ENV
    from inkcore.downloads import CACHE_ENV, LOCAL_DIR_ENV
    from inkcore.library import DATA_ENV

    env = dict(os.environ, **{DATA_ENV: str(folder / "data"), CACHE_ENV: str(folder / "cache")})
    if ARTICLE_DIR.is_dir():
        env[LOCAL_DIR_ENV] = str(ARTICLE_DIR)
    if weights:
        env[WEIGHTS_ENV] = str(weights)
    return env


@contextmanager
def serve(env: dict[str, str], log: Path) -> Iterator[App]:
    """Launch the dashboard and stop it on the way out, whatever happens in between.
    It is not waited for: see :func:`wait_until_up`. It does not watch its source files,
    as a deployed dashboard does not: an edit made meanwhile changes nothing it shows."""
    port = free_port()
    with log.open("w") as out:
        launched = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(APP), "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true", "--server.fileWatcherType", "none",
             "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield App(f"http://127.0.0.1:{port}", process, launched, log)
    finally:
        stop(process)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_until_up(app: App, timeout: float = START_TIMEOUT_S) -> None:
    """Poll the server's health endpoint, often enough not to add to the first page's time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(app.url + "/_stcore/health", timeout=2).close()
            return
        except OSError:
            if app.process.poll() is not None:
                raise AppError(f"streamlit exited: {app.log.read_text()[-2000:]}") from None
            time.sleep(0.02)
    raise AppError(f"streamlit did not answer within {timeout:.0f} s: {app.log.read_text()[-2000:]}")


# --- The browser ------------------------------------------------------------------------


def chromium_path() -> str:
    return shutil.which("chromium") or CHROMIUM


@contextmanager
def chromium():
    """Headless Chromium through Playwright's sync API; BrowserMissing when either is absent."""
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        raise BrowserMissing("Playwright is not installed (pip install playwright)") from None
    path = chromium_path()
    if not Path(path).exists():
        raise BrowserMissing("Chromium is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        except Error as error:
            raise BrowserMissing(f"Chromium would not start: {str(error).splitlines()[0]}") from None
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def new_tab(browser):
    """A tab in a context of its own: a fresh Streamlit session with every widget at its default."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        tab = context.new_page()
        tab.set_default_timeout(WAIT_MS)
        yield tab
    finally:
        context.close()


#: Streamlit is running the script: its status widget's running icon shows (half a second
#: after a run starts) or elements of the previous run wait to be replaced (at once). The
#: widget alone is no sign: it also offers a rerun when a source file has changed.
BUSY = "[data-testid=stStatusWidgetRunningIcon], [data-stale=true]"
#: True once the page has not been busy for ``quiet`` ms; ``token`` tells one wait from another.
SETTLED = """([token, quiet]) => {
  const now = performance.now(), since = window.__inkSettled = window.__inkSettled || {};
  if (since[token] === undefined || document.querySelector('%s')) since[token] = now;
  return now - since[token] >= quiet;
}""" % BUSY
_settle_tokens = itertools.count()


def settle(tab) -> None:
    """Wait until Streamlit has finished running the script: not busy for longer than
    its status widget takes to show, so a run that has just begun is not missed."""
    tab.wait_for_selector("[data-testid=stMainBlockContainer]")
    tab.wait_for_function(SETTLED, arg=[next(_settle_tokens), QUIET_MS])


def open_page(tab, url: str, path: str, heading: str) -> None:
    tab.goto(f"{url}/{path}")
    tab.get_by_role("heading", name=heading).first.wait_for()
    settle(tab)
    if tab.locator("[data-testid=stException]").count():
        raise AppError(f"/{path} shows an exception: {tab.locator('[data-testid=stException]').first.inner_text()}")


def write_word(tab, points: list[tuple[float, float]]) -> None:
    """Write the points on the page's pen surface as one stroke with the mouse, at a
    person's pace (the surface stamps each event's time as it arrives)."""
    ink = tab.locator("[data-testid=inkcore-pen] canvas.ink").first
    ink.wait_for()
    box = ink.bounding_box()
    tab.mouse.move(box["x"] + points[0][0], box["y"] + points[0][1])
    tab.mouse.down()
    for x, y in points[1:]:
        tab.mouse.move(box["x"] + x, box["y"] + y)
        time.sleep(PEN_MOVE_PAUSE_S)
    tab.mouse.up()


#: Installs ``window.__inkWatch``: while armed, it records every new fingerprint of the
#: page's figures (one string per .js-plotly-plot) with its time, and the time of the first
#: ``event`` (keydown, mousedown, mouseup, pointerdown) after arming, in the capture phase.
WATCHER = """() => {
  if (window.__inkWatch) return;
  const sample = v => {
    if (v === null || v === undefined) return '';
    if (typeof v !== 'object') return String(v);
    if (typeof v.bdata === 'string') {
      const b = v.bdata, m = b.length >> 1;
      return `b${b.length}:${b.slice(0, 16)}.${b.slice(m, m + 16)}.${b.slice(-16)}`;
    }
    if (v.length === undefined) return JSON.stringify(v).slice(0, 120);
    const n = v.length, at = i => sample(v[i]);
    return n ? `${n}[${at(0)}/${at(n >> 2)}/${at(n >> 1)}/${at(n - 1)}]` : '0';
  };
  const trace = t => ['type', 'name', 'x', 'y', 'z', 'customdata'].map(k => sample(t[k])).join(',')
      + sample((t.marker || {}).color) + sample((t.line || {}).color);
  const plot = p => {
    const layout = p.layout || {};
    return (p.data || []).map(trace).join(';') + '#' + JSON.stringify(layout.shapes || [])
        + JSON.stringify((layout.title || {}).text || '');
  };
  const updating = () => Array.from(document.querySelectorAll('[data-testid=stProgress]'))
      .some(e => e.innerText.includes('%s'));
  // the cell heatmaps (dashboard/heatmap.js) draw on a canvas in a component's shadow root,
  // and say which line they drew, and at what width, when they have drawn it
  const canvases = () => Array.from(document.querySelectorAll('[data-testid=stBidiComponentIsolated]'))
      .map(host => host.shadowRoot && host.shadowRoot.querySelector('[data-testid=inkcore-heatmap]'))
      .filter(root => root).map(root => 'heatmap ' + (root.getAttribute('data-figure') || ''));
  const watch = window.__inkWatch = {
    fingerprint: () => Array.from(document.querySelectorAll('.js-plotly-plot')).map(plot)
        .concat(canvases()).concat([updating() ? 'updating' : '']),
    armed: false, event: null, at: null, timeline: [], changed: 0,
  };
  const look = () => {
    if (!watch.armed) return;
    const fps = watch.fingerprint(), last = watch.timeline[watch.timeline.length - 1];
    if (fps.join('|') !== last[1].join('|')) {
      watch.timeline.push([performance.now(), fps]);
      watch.changed = performance.now();
    }
  };
  new MutationObserver(look).observe(document.body, {subtree: true, childList: true, attributes: true});
  const frame = () => { look(); requestAnimationFrame(frame); };
  requestAnimationFrame(frame);
  for (const type of ['keydown', 'mousedown', 'mouseup', 'pointerdown']) {
    document.addEventListener(type, () => {
      if (watch.armed && watch.event === type && watch.at === null) watch.at = performance.now();
    }, true);
  }
}""" % UPDATING
ARM = """event => { const w = window.__inkWatch;
  w.timeline = [[performance.now(), w.fingerprint()]]; w.changed = performance.now();
  w.event = event; w.at = null; w.armed = true; }"""
CHANGED = "() => window.__inkWatch.timeline.length > 1"
QUIET = """quiet => !document.querySelector('%s')
  && performance.now() - window.__inkWatch.changed >= quiet""" % BUSY
DISARM = "() => { const w = window.__inkWatch; w.armed = false; return {at: w.at, timeline: w.timeline}; }"


def settled_figures(figures: list[str], final: list[str]) -> bool:
    return figures == final


def updating_or_settled(figures: list[str], final: list[str]) -> bool:
    """A control whose work goes on in the background has answered when the page shows the
    Updating mark over the previous result (the fingerprint's last entry), or the new one."""
    return figures[-1] == "updating" or figures == final


def time_until_settled(tab, act: Callable[[], None], event: str,
                       reached: Callable[[list[str], list[str]], bool] | None = None,
                       animation: bool = False) -> float:
    """Seconds from the first ``event`` that ``act`` causes until the page's figures first
    showed what they settle in. ``reached(figures, final)`` says whether the figures of a
    moment show it; by default, when they equal the final ones. An ``animation`` has
    answered with its first frame: the first change after the event."""
    tab.evaluate(WATCHER)
    tab.evaluate(ARM, event)
    act()
    tab.wait_for_function(CHANGED)
    settle(tab)
    tab.wait_for_function(QUIET, arg=QUIET_MS)
    watched = tab.evaluate(DISARM)
    at, timeline = watched["at"], watched["timeline"]
    if at is None:
        raise AppError(f"no {event} reached the page")
    final = timeline[-1][1]
    reached = reached or settled_figures
    if animation:
        before = timeline[0][1]
        reached = lambda figures, final: figures != before  # noqa: E731
    if reached(timeline[0][1], final):
        raise AppError("the figures did not change")
    first = next((moment for moment, figures in timeline if moment >= at and reached(figures, final)), None)
    if first is None:
        raise AppError(f"the figures changed before the {event}")
    return (first - at) / 1e3


def next_key(slider, seen: set[float]) -> str | None:
    """The arrow key that moves the slider to a value it has not had, towards the end
    with more room first (a select slider's value is the option's index)."""
    value, step = float(slider.input_value()), float(slider.get_attribute("step") or 1)
    low, high = float(slider.get_attribute("min")), float(slider.get_attribute("max"))
    moves = [("ArrowRight", value + step), ("ArrowLeft", value - step)]
    if value - low > high - value:
        moves.reverse()
    for key, target in moves:
        if low <= target <= high and not any(math.isclose(target, s) for s in seen):
            return key
    return None


def time_slider(tab, slider, presses: int, background: bool = False) -> list[float]:
    """Seconds from each key press until the figures show the slider's new value (or,
    for ``background`` work, the Updating mark over the previous one)."""
    seen = {float(slider.input_value())}
    times = []
    for _ in range(presses):
        key = next_key(slider, seen)
        if key is None:
            break
        slider.focus()
        times.append(time_until_settled(tab, lambda: slider.press(key), "keydown",
                                        updating_or_settled if background else None))
        seen.add(float(slider.input_value()))
        settle(tab)
    return times


def verdict(name: str, times: list[float], target: float | None, note: str = "") -> Row:
    """A row of a measured wait: worst and median, judged on the worst."""
    worst = max(times)
    if target is not None:
        note = f"<= {target:g} s" + (f"; {note}" if note else "")
    return Row(name, Timing(worst, statistics.median(times)), note=note,
               met=None if target is None else worst <= target)


def failed(name: str, error: Exception) -> Row:
    message = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return Row(name, Timing(math.nan, math.nan), note=f"failed: {type(error).__name__}: {message}"[:140], met=False)


def first_page(browser, app: App) -> Row:
    """From launching ``streamlit run`` until the home page's heading is visible."""
    with new_tab(browser) as tab:
        wait_until_up(app)
        tab.goto(app.url)
        tab.get_by_role("heading", name=HOME_HEADING).first.wait_for()
        seconds = time.perf_counter() - app.launched
    return verdict("first page (launch to home heading)", [seconds], FIRST_PAGE_TARGET_S)


def control(tab, key: str):
    """The element of the widget or chart keyed ``key``."""
    return tab.locator(f".st-key-{key}").first


def click_plot(tab, key: str, index: int) -> Callable[[], None]:
    """Hover on the chart keyed ``key`` (a Plotly chart, or a cell heatmap's canvas) at a
    place that differs with ``index`` (WebGL and SVG hover wake on a move within the plot);
    the click there, to be timed."""
    canvas = control(tab, key).locator("[data-testid=inkcore-heatmap] canvas")
    plot = canvas.first if canvas.count() else control(tab, key).locator(".nsewdrag").first
    plot.scroll_into_view_if_needed()
    box = plot.bounding_box()
    x = box["x"] + box["width"] * (0.3 + 0.2 * index)
    y = box["y"] + box["height"] * (0.5 if box["height"] < 80 else 0.35 + 0.15 * index)
    tab.mouse.move(x - 5, y - 5)
    tab.mouse.move(x, y)
    (control(tab, key).locator(".tip") if canvas.count() else tab.locator(".hoverlayer .hovertext")).first.wait_for()
    return lambda: tab.mouse.click(x, y)


def choose_option(tab, key: str, index: int) -> Callable[[], None]:
    """Open the select box keyed ``key``; the choice of an option it has not had, to be timed."""
    box = control(tab, key)
    box.scroll_into_view_if_needed()
    box.locator("[data-testid=stSelectbox] div[value], [data-testid=stSelectbox] input").first.click()
    options = tab.locator("[role=option]")
    options.first.wait_for()
    option = options.nth((index + 1) % max(options.count(), 1))
    return option.click


def type_text(tab, key: str, text: str) -> Callable[[], None]:
    """Type ``text`` over the text input keyed ``key``; its Enter, to be timed."""
    box = control(tab, key).locator("input").first
    box.scroll_into_view_if_needed()
    box.fill(text)
    return lambda: box.press("Enter")


#: A table's header and rows are this many pixels tall (Streamlit's data grid); a row's
#: selection box is in its first column, this far from the table's left edge.
TABLE_ROW_PX, TABLE_BOX_PX = 35, 20


def click_row(tab, key: str, index: int) -> Callable[[], None]:
    """The click on the selection box of row ``index + 2`` of the table keyed ``key`` (a page
    may open on its first row), to be timed."""
    table = control(tab, key).locator("[data-testid=stDataFrameResizable], canvas").first
    table.scroll_into_view_if_needed()
    box = table.bounding_box()
    x, y = box["x"] + TABLE_BOX_PX, box["y"] + TABLE_ROW_PX * (index + 2.5)
    tab.mouse.move(x, y)
    return lambda: tab.mouse.click(x, y)


def time_control(tab, item: Control, changes: int) -> list[float]:
    """Seconds from each change of the control until the page answered it."""
    if item.kind == SLIDER:
        return time_slider(tab, control(tab, item.key).locator("input[type=range]").first, changes,
                           item.background)
    times = []
    for index in range(changes):
        event = "mousedown"
        if item.kind == NUMBER:
            buttons = control(tab, item.key)
            up = buttons.locator("[data-testid=stNumberInputStepUp]")
            act = (up if up.is_enabled() else buttons.locator("[data-testid=stNumberInputStepDown]")).click
        elif item.kind == SELECT:
            act = choose_option(tab, item.key, index)
        elif item.kind in (TOGGLE, BUTTON):
            target = control(tab, item.key).locator("label, button").first
            target.scroll_into_view_if_needed()
            act = target.click
        elif item.kind == CHART:
            act = click_plot(tab, item.key, index)
        elif item.kind == TEXT:
            event = "keydown"
            act = type_text(tab, item.key, item.values[index % len(item.values)])
        elif item.kind == TABLE:
            event = "pointerdown"  # the data grid takes the pointer's press, and no mousedown follows it
            act = click_row(tab, item.key, index)
        else:
            raise ValueError(f"unknown kind of control {item.kind!r}")
        times.append(time_until_settled(tab, act, event, updating_or_settled if item.background else None,
                                        animation=item.animation))
        settle(tab)
    return times


def control_rows(browser, app: App, pages=CONTROL_PAGES, changes: int = PRESSES) -> list[Row]:
    """A row per page: every control changed ``changes`` times, each from the page's defaults in
    a session of its own; the worst and the median answer, and the control that gave the worst."""
    rows = []
    for page in pages:
        times: dict[str, list[float]] = {}
        for item in page.controls:
            try:
                with new_tab(browser) as tab:
                    open_page(tab, app.url, page.path, page.heading)
                    if page.write_first:
                        write_word(tab, cursive_points())
                        settle(tab)
                    tab.wait_for_selector(".js-plotly-plot")
                    settle(tab)
                    times[item.name] = time_control(tab, item, changes)
            except Exception as error:  # a control that fails (or times out) must not stop the others'
                rows.append(failed(f"{page.path}: {item.name}", error))
        every = [t for found in times.values() for t in found]
        if not every:
            continue
        slowest = max(times, key=lambda name: max(times[name], default=0.0))
        worst, median = max(every), statistics.median(every)
        note = (f"<= {CONTROL_TARGET_S:g} s worst, {CONTROL_MEDIAN_TARGET_S:g} s median; slowest: {slowest} "
                f"({max(times[slowest]) * 1000:.0f} ms)")
        rows.append(Row(f"{page.path}: {len(times)} controls, {len(every)} changes", Timing(worst, median),
                        note=note, met=worst <= CONTROL_TARGET_S and median <= CONTROL_MEDIAN_TARGET_S))
    return rows


def has_continuation(figures: list[str], final: list[str]) -> bool:
    return any("continuation 1" in figure for figure in figures)


def stroke_row(browser, app: App, strokes: int = STROKES) -> Row:
    """From mouse-up until the write page draws the continuation of a new word."""
    times = []
    with new_tab(browser) as tab:
        open_page(tab, app.url, "write", "Write with the model")
        for index in range(strokes):
            if index:
                tab.get_by_role("button", name="Clear").click()
                tab.get_by_text("Write a word or two").wait_for()
                settle(tab)
            word = cursive_points(WORD_MOVES - 10 * index)  # a new word each time: nothing cached
            times.append(time_until_settled(tab, lambda: write_word(tab, word), "mouseup", has_continuation))
    return verdict("write: mouse-up to continuation (browser)", times, None,
                   "no target of its own: the server's share is above")


def whole_line_futures_row(browser, app: App) -> Row:
    """From the click on the possibility space's whole-line toggle until every point's futures
    are drawn, on the article's validation line 1 (602 points) where the article's files are
    here, else on the page's default line (a 700-point model sample)."""
    with new_tab(browser) as tab:
        open_page(tab, app.url, "possibilities", "Possibility space")
        tab.wait_for_selector(".js-plotly-plot")
        settle(tab)
        line, points = "the page's default line", 700
        if ARTICLE_DIR.is_dir():
            picker = control(tab, "futures_example").locator("input").first
            picker.click()
            picker.type(WHOLE_LINE_EXAMPLE)  # the list shows its first options only: narrow it
            tab.get_by_role("option", name=re.compile(rf"^{WHOLE_LINE_EXAMPLE}( ★)?$")).first.click()
            settle(tab)
            line, points = WHOLE_LINE_EXAMPLE, WHOLE_LINE_POINTS
        toggle = control(tab, "futures_whole").locator("label").first
        seconds = time_until_settled(tab, toggle.click, "mousedown")
    return verdict(f"possibilities: whole line's futures, click to drawn ({points} points)", [seconds],
                   WHOLE_LINE_FUTURES_TARGET_S, f"{line}, 50 x 8 at every point")


def whole_line_engine_rows(weights: str | os.PathLike) -> list[Row]:
    """The engine's part of the whole line's futures, against its bound at the best thread count."""
    from inkcore.bench import Context, bench_futures
    from inkcore.weights import load

    return bench_futures(Context(load(weights)[0], np.random.default_rng(0)))


# --- The server's work for a stroke, in this process ------------------------------------


def stroke_server_rows(weights: str | os.PathLike, repeats: int = SERVER_REPEATS) -> list[Row]:
    """What the write page computes when the pen lifts, timed here with the same functions:
    the pen's events read into rows (the scale estimated by the model), the continuation
    (default length, variation and candidates) and the next point's mixture, then both
    figures as Streamlit serialises them."""
    from inkcore import figures
    from inkcore.pen import read_strokes
    from inkcore.sampling import WRITE_VARIATION, continue_writing, next_mixture
    from inkcore.weights import load

    model, _ = load(weights)  # as the app loads it, in the file's own precision
    strokes = [pen_events(cursive_points())]

    def stroke(with_figures: bool) -> None:
        writing = read_strokes(strokes, model).rows
        result = continue_writing(model, writing, WRITE_LENGTH, np.random.default_rng(0), WRITE_VARIATION,
                                  WRITE_CANDIDATES)
        mix = next_mixture(model, writing)
        if with_figures:
            figures.continuation_figure(writing, result.rows).to_json()
            figures.mixture_figure(mix, WRITE_VARIATION, title="The next point").to_json()

    rows = []
    points = len(read_strokes(strokes, model).rows)
    for name, with_figures in ((f"write: {points}-row word, continuation (server)", False),
                               ("write: the same with both figures (server)", True)):
        stroke(with_figures)  # imports and first-call allocations are not part of a stroke
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            stroke(with_figures)
            times.append(time.perf_counter() - start)
        rows.append(verdict(name, times, CONTINUATION_SERVER_TARGET_S))
    return rows


# --- The report ----------------------------------------------------------------------------


def pen_row(browser, app: App, moves: int = PEN_MOVES) -> Row:
    """Write a word at a person's pace on the write page; the surface times every pen
    move to its redrawn prediction (from the event's timestamp to the end of drawing).
    The script must not run while the pen moves: the server stays idle."""
    with new_tab(browser) as tab:
        open_page(tab, app.url, "write", "Write with the model")
        surface = tab.locator("[data-testid=inkcore-pen]").first
        surface.wait_for()
        deadline = time.monotonic() + 60
        while surface.get_attribute("data-model") != "ready":
            if time.monotonic() > deadline:
                raise AppError("the pen surface never received the model")
            time.sleep(0.1)
        box = tab.locator("[data-testid=inkcore-pen] canvas.ink").first.bounding_box()
        points = cursive_points(moves, spacing=0.6)
        tab.mouse.move(box["x"] + points[0][0], box["y"] + points[0][1])
        tab.mouse.down()
        runs = 0
        for x, y in points[1:]:
            tab.mouse.move(box["x"] + x, box["y"] + y)
            runs += tab.locator("[data-test-script-state=running]").count() > 0
            time.sleep(PEN_MOVE_PAUSE_S)
        latencies = [float(v) for v in (surface.get_attribute("data-latencies") or "").split(",") if v]
        tab.mouse.up()
    if not latencies:
        raise AppError("no prediction was drawn while the pen moved")
    p95 = float(np.percentile(latencies, 95))
    note = (f"<= {PEN_PREDICTION_TARGET_MS:g} ms at the 95th percentile; {len(latencies)} predictions, "
            f"p95 {p95:.0f} ms; script ran during {runs} of {len(points) - 1} moves")
    return Row("write: pen move to prediction (page)", Timing(p95 / 1000, statistics.median(latencies) / 1000),
               note=note, met=p95 <= PEN_PREDICTION_TARGET_MS and runs == 0)


def report(weights: str | os.PathLike | None) -> int:
    """Print the dashboard's rows; the dashboard runs on ``weights`` (default: the installed model)."""
    from inkcore.cli import default_weights

    print("dashboard: streamlit run app.py, driven in headless Chromium "
          "(first column: the worst wait, since every one counts)")
    print(f"  {'':44s}{'worst ms':>10s} {'median ms':>10s} {'':10s} {'':8s}  target")
    path = Path(weights) if weights else default_weights()
    if not path.exists():
        print(f"  skipped: no model at {path}; the dashboard's pages need one")
        return 0
    missed = 0
    for row in stroke_server_rows(path) + whole_line_engine_rows(path):
        print(format_row(row), flush=True)
        missed += row.met is False
    try:
        with chromium() as browser, tempfile.TemporaryDirectory(prefix="inkcore-bench-app-") as folder:
            folder = Path(folder)
            with serve(app_environment(folder, path), folder / "streamlit.log") as app:
                measures = (("first page", lambda: [first_page(browser, app)]),
                            ("write: pen move", lambda: [pen_row(browser, app)]),
                            ("write: mouse-up", lambda: [stroke_row(browser, app)]),
                            ("possibilities: whole line", lambda: [whole_line_futures_row(browser, app)]),
                            ("controls", lambda: control_rows(browser, app)))
                for name, measure in measures:
                    try:
                        rows = measure()
                    except Exception as error:  # report it and go on with the other measures
                        rows = [failed(name, error)]
                    for row in rows:
                        print(format_row(row), flush=True)
                        missed += row.met is False
    except BrowserMissing as why:
        print(f"  browser rows skipped: {why}")
    print("all dashboard targets met" if not missed else f"{missed} dashboard target(s) missed")
    return 0


def stop_on_sigterm() -> None:
    """Let ``kill`` unwind the benchmark, so its ``finally`` clauses stop the server and the browser."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


def main(argv=None) -> int:
    from inkcore.downloads import DownloadError, named_weights

    parser = argparse.ArgumentParser(prog="python -m benchmarks.app", description=__doc__.splitlines()[0])
    parser.add_argument("--weights", help="the model the dashboard runs on (default: the installed model); "
                                          "'article' for the article's")
    parser.add_argument("--blas-threads", type=int, default=1,
                        help="BLAS threads for the server's work timed in this process; 0 for the library's default")
    args = parser.parse_args(argv)
    try:
        weights = named_weights(args.weights)
    except DownloadError as error:
        parser.exit(1, f"error: {error}\n")
    stop_on_sigterm()
    with threadpool_limits(limits=args.blas_threads or None, user_api="blas"):
        return report(weights)


if __name__ == "__main__":
    sys.exit(main())
