"""The app benchmark's machinery: the dashboard's server, headless Chromium, the word every
measurement writes, and the watch on the page's figures that times a change from the key
press or click to the figures settled (see :mod:`benchmarks.app`)."""
from __future__ import annotations

import itertools
import math
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from dashboard.defaults import UPDATING
from inkcore.bench import Row, Timing

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
#: The article's files beside the repository (developers and CI); the app reads them instead of downloading.
ARTICLE_DIR = ROOT.parent / "shared" / "data" / "article"

FIRST_PAGE_TARGET_S = 4.0
#: The pause between pointer moves: a person's pace, 60 moves a second.
PEN_MOVE_PAUSE_S = 1 / 60
#: A page counts as settled when Streamlit has not been running for this long (its status
#: widget shows 500 ms into a run) and, after a change, its figures have not changed either.
QUIET_MS = 600
#: Generous: a change of the possibility space redraws every point's futures on a busy machine.
WAIT_MS = 180_000
START_TIMEOUT_S = 90

HOME_HEADING = "inkcore"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

#: Pointer moves of the benchmark's word: a row of loops written in 2.5 s at a person's pace.
WORD_MOVES = 150


class BrowserMissing(Exception):
    """Playwright or Chromium is not there, or Chromium will not start."""


class AppError(Exception):
    """The dashboard did not start, or a figure never changed."""


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


def control(tab, key: str):
    """The element of the widget or chart keyed ``key``."""
    return tab.locator(f".st-key-{key}").first


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


# --- A change timed: from its event until the page's figures show it ---------------


#: Installs ``window.__inkWatch``: while armed, it records every new fingerprint of the
#: page's figures (one string per .js-plotly-plot) with its time, and the time of the first
#: ``event`` (keydown, mousedown, mouseup, pointerdown, pointerup) after arming, in the capture phase.
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
    armed: false, event: null, at: null, timeline: [], changed: 0, frames: [],
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
  // every frame painted while armed, and whether the page was busy as it was painted
  const frame = () => {
    look();
    if (watch.armed) watch.frames.push([performance.now(), !!document.querySelector('%s')]);
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
  for (const type of ['keydown', 'mousedown', 'mouseup', 'pointerdown', 'pointerup']) {
    document.addEventListener(type, () => {
      if (watch.armed && watch.event === type && watch.at === null) watch.at = performance.now();
    }, true);
  }
}""" % (UPDATING, BUSY)
ARM = """event => { const w = window.__inkWatch;
  w.timeline = [[performance.now(), w.fingerprint()]]; w.changed = performance.now();
  w.frames = []; w.event = event; w.at = null; w.armed = true; }"""
CHANGED = "() => window.__inkWatch.timeline.length > 1"
QUIET = """quiet => !document.querySelector('%s')
  && performance.now() - window.__inkWatch.changed >= quiet""" % BUSY
DISARM = """() => { const w = window.__inkWatch; w.armed = false;
  return {at: w.at, timeline: w.timeline, frames: w.frames}; }"""
#: A change is at rest when its figures show what they settle in, the script's run has
#: ended (Streamlit's running mark is gone), and this many frames have been painted since.
#: Work left in the background is at rest once the run that showed its Updating mark has
#: ended: the mark's own polling reruns (until the work is done) are not waited for.
FRAMES_AT_REST = 2


def settled_figures(figures: list[str], final: list[str]) -> bool:
    return figures == final


def updating_or_settled(figures: list[str], final: list[str]) -> bool:
    """A control whose work goes on in the background has answered when the page shows the
    Updating mark over the previous result (the fingerprint's last entry), or the new one."""
    return figures[-1] == "updating" or figures == final


def time_until_settled(tab, act: Callable[[], None], event: str,
                       reached: Callable[[list[str], list[str]], bool] | None = None,
                       animation: bool = False, at_rest: bool = False) -> float:
    """Seconds from the first ``event`` that ``act`` causes until the page's figures first
    showed what they settle in. ``reached(figures, final)`` says whether the figures of a
    moment show it; by default, when they equal the final ones. An ``animation`` has
    answered with its first frame: the first change after the event. ``at_rest``: until
    the change is at rest (:data:`FRAMES_AT_REST`), as a person sees the page done."""
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
    if at_rest:
        first = rest_after(first, watched["frames"], background=reached is updating_or_settled)
    return (first - at) / 1e3


def rest_after(shown: float, frames: list[tuple[float, bool]], background: bool = False) -> float:
    """When a change whose figures were shown at ``shown`` came to rest, from the frames
    painted (``(moment, busy)``: whether Streamlit was running then): the
    :data:`FRAMES_AT_REST`-th frame painted after both that and the last busy frame; for
    ``background`` work, the :data:`FRAMES_AT_REST`-th idle frame in a row after ``shown``."""
    if background:
        idle = 0
        for moment, busy in frames:
            idle = 0 if busy or moment <= shown else idle + 1
            if idle == FRAMES_AT_REST:
                return moment
        raise AppError("the page painted too few frames after the change")
    busy = [moment for moment, running in frames if running]
    done = max([shown] + busy)
    after = [moment for moment, _ in frames if moment > done]
    if len(after) < FRAMES_AT_REST:
        raise AppError("the page painted too few frames after the change")
    return after[FRAMES_AT_REST - 1]


# --- Rows of the report ---------------------------------------------------------------


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
