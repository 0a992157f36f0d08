"""Every control of every page, changed and timed: the pages and their controls
(:data:`CONTROL_PAGES`), how each kind of control is worked, and a row per page with the
worst and the median answer (see :mod:`benchmarks.app`)."""
from __future__ import annotations

import math
import statistics
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable

from benchmarks.harness import (
    App,
    control,
    cursive_points,
    failed,
    new_tab,
    open_page,
    settle,
    time_until_settled,
    updating_or_settled,
    write_word,
)
from inkcore.bench import Row, Timing

#: Every control of a page: its worst answer, and the median of its answers.
CONTROL_TARGET_S, CONTROL_MEDIAN_TARGET_S = 0.5, 0.25
#: New values timed per control.
PRESSES = 3

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
        Control(SLIDER, "samples_count", "Samples", background=True),
        Control(SLIDER, "samples_steps", "Length (steps)", background=True),
        Control(SLIDER, "samples_variation", "Variation", background=True),
        Control(NUMBER, "samples_seed", "Seed", background=True))),
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
    ControlPage("surprise", "Surprise", (Control(SELECT, "surprise_example", "Example", background=True),)),
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


@contextmanager
def page_opened(browser, app: App, page: ControlPage):
    """A session of its own on ``page``, something written first where the page needs it,
    with its figures drawn and its run ended."""
    with new_tab(browser) as tab:
        open_page(tab, app.url, page.path, page.heading)
        if page.write_first:
            write_word(tab, cursive_points())
            settle(tab)
        tab.wait_for_selector(".js-plotly-plot")
        settle(tab)
        yield tab


def control_rows(browser, app: App, pages=CONTROL_PAGES, changes: int = PRESSES) -> list[Row]:
    """A row per page: every control changed ``changes`` times, each from the page's defaults in
    a session of its own; the worst and the median answer, and the control that gave the worst."""
    rows = []
    for page in pages:
        times: dict[str, list[float]] = {}
        for item in page.controls:
            try:
                with page_opened(browser, app, page) as tab:
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


# --- as a person moves a slider: presses in a row both ways, and a drag ------------------

#: The presses in a row, towards the end with more room first; then a drag of this many notches.
PRESS_SEQUENCE, DRAG_NOTCHES = ("ArrowRight", "ArrowRight", "ArrowLeft"), 5
#: A drag's pointer moves, at a person's pace.
DRAG_MOVES, DRAG_MOVE_S = 12, 0.016


#: A slider's track, from its (hidden) range input: the thumb lies at the value's share of its width.
TRACK = "xpath=ancestor::div[@role='group'][1]/div[@data-orientation='horizontal']"


def _slider_range(slider) -> tuple[float, float, float, float]:
    value, step = float(slider.input_value()), float(slider.get_attribute("step") or 1)
    return value, step, float(slider.get_attribute("min")), float(slider.get_attribute("max"))


def time_drag(tab, slider, notches: int, reached) -> float:
    """Drag the slider's thumb ``notches`` notches towards the end with more room and let go,
    timed from the pointer's release (a slider takes the pointer's events, and no mouseup
    follows them) until the change is at rest."""
    value, step, low, high = _slider_range(slider)
    track = slider.locator(TRACK)
    track.scroll_into_view_if_needed()
    box = track.bounding_box()
    sign = 1 if high - value >= value - low else -1
    target = min(high, max(low, value + sign * notches * step))
    x_of = lambda v: box["x"] + box["width"] * (v - low) / (high - low)  # noqa: E731
    y = box["y"] + box["height"] / 2

    def drag() -> None:
        tab.mouse.move(x_of(value), y)
        tab.mouse.down()
        for k in range(1, DRAG_MOVES + 1):
            tab.mouse.move(x_of(value + (target - value) * k / DRAG_MOVES), y)
            time.sleep(DRAG_MOVE_S)
        tab.mouse.up()

    return time_until_settled(tab, drag, "pointerup", reached, at_rest=True)


def time_slider_moves(tab, slider, background: bool = False) -> list[float]:
    """Seconds each of the presses in a row took until the change was at rest, and the drag's."""
    reached = updating_or_settled if background else None
    value, step, low, high = _slider_range(slider)
    keys = PRESS_SEQUENCE
    if value + 2 * step > high:  # at the right end: left, left, right
        keys = tuple("ArrowLeft" if k == "ArrowRight" else "ArrowRight" for k in keys)
    times = []
    for key in keys:
        slider.focus()
        times.append(time_until_settled(tab, lambda key=key: slider.press(key), "keydown", reached, at_rest=True))
        settle(tab)
    times.append(time_drag(tab, slider, DRAG_NOTCHES, reached))
    settle(tab)
    return times


def sequence_rows(browser, app: App, pages=CONTROL_PAGES) -> list[Row]:
    """A row per slider of every page, moved as a person moves it (:func:`time_slider_moves`)
    in a session of its own, each move timed until at rest; and a row per page."""
    rows = []
    for page in pages:
        every = []
        for item in (c for c in page.controls if c.kind == SLIDER):
            try:
                with page_opened(browser, app, page) as tab:
                    times = time_slider_moves(tab, control(tab, item.key).locator("input[type=range]").first,
                                              item.background)
            except Exception as error:
                rows.append(failed(f"{page.path}: {item.name}, in a row", error))
                continue
            every += times
            note = "presses " + ", ".join(f"{t * 1000:.0f}" for t in times[:-1]) + f" ms, drag {times[-1] * 1000:.0f} ms"
            rows.append(Row(f"  {page.path}: {item.name}, in a row", Timing(max(times), statistics.median(times)),
                            note=note, met=max(times) <= CONTROL_TARGET_S and statistics.median(times)
                            <= CONTROL_MEDIAN_TARGET_S))
        if every:
            worst, median = max(every), statistics.median(every)
            rows.append(Row(f"{page.path}: sliders in a row, {len(every)} moves", Timing(worst, median),
                            note=f"<= {CONTROL_TARGET_S:g} s worst, {CONTROL_MEDIAN_TARGET_S:g} s median, at rest",
                            met=worst <= CONTROL_TARGET_S and median <= CONTROL_MEDIAN_TARGET_S))
    return rows
