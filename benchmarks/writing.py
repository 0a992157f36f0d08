"""The write page timed: a pen move to its redrawn prediction (the page's own work), a new
word's mouse-up to its continuation in the browser, and the server's work for a stroke
timed in this process (see :mod:`benchmarks.app`)."""
from __future__ import annotations

import os
import statistics
import time

import numpy as np

from benchmarks.harness import (
    PEN_MOVE_PAUSE_S,
    WORD_MOVES,
    App,
    AppError,
    cursive_points,
    new_tab,
    open_page,
    pen_events,
    settle,
    time_until_settled,
    verdict,
    write_word,
)
from dashboard.defaults import WRITE_CANDIDATES, WRITE_LENGTH
from inkcore.bench import Row, Timing

CONTINUATION_SERVER_TARGET_S = 0.3
#: Pen move to redrawn prediction on the write page, at the 95th percentile (the page's own work).
PEN_PREDICTION_TARGET_MS = 50.0
#: Pointer moves of the word written while the pen's predictions are timed.
PEN_MOVES = 240
#: Continuations per stroke row.
STROKES = 3
#: Timings of the server's work for a stroke (a pure computation: repeats are honest).
SERVER_REPEATS = 7


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


# --- The server's work for a stroke, in this process ------------------------------------


def stroke_server_rows(weights: str | os.PathLike, repeats: int | None = None) -> list[Row]:
    """What the write page computes when the pen lifts, timed here with the same functions:
    the pen's events read into rows (the scale estimated by the model), the continuation
    (default length, variation and candidates) and the next point's mixture, then both
    figures as Streamlit serialises them; each ``repeats`` times (default :data:`SERVER_REPEATS`)."""
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
        for _ in range(SERVER_REPEATS if repeats is None else repeats):
            start = time.perf_counter()
            stroke(with_figures)
            times.append(time.perf_counter() - start)
        rows.append(verdict(name, times, CONTINUATION_SERVER_TARGET_S))
    return rows
