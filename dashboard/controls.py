"""Controls that several pages share: a line to study (from the library or the
canvas), and the clicks on heatmaps, step rulers and score bars that set the cell
pages' widgets (the cell pages' view itself is :mod:`dashboard.cell_view`)."""
from __future__ import annotations

from typing import Callable

import numpy as np
import streamlit as st

from dashboard import heatmap, pen
from dashboard.frame import remembered
from dashboard.library import example_picker
from dashboard.models import LoadedModel

#: The article's cell figure opens on cell 93; its ordered figure's "cell 136" is row 136 of its order.
ARTICLE_CELL = 93
ARTICLE_ROW = 136
#: Lines longer than this are cut for the figures that draw every point's futures.
MAX_FIGURE_POINTS = 1000
FROM_LIBRARY, FROM_CANVAS = "An example from the library", "Your own writing"


def source_widget(prefix: str) -> str:
    """The key of a line source's choice between the library and the canvas (:func:`line_source`)."""
    return f"{prefix}_source"


def example_widget(prefix: str) -> str:
    """The key of a page's example picker: its line source's, or the one of a cell page's line."""
    return f"{prefix}_example"


def cell_widget(prefix: str) -> str:
    """The key of a cell view's cell (:mod:`dashboard.cell_view`)."""
    return f"{prefix}_cell"


def step_widget(prefix: str) -> str:
    """The key of a cell view's step."""
    return f"{prefix}_step"


#: The prefixes of the keys of the pages that study one line with no module of their own:
#: Cell activations (its cell view's and picker's keys: cells_cell, cells_step, cells_example),
#: Write and watch (watch_cell, watch_strokes, ...) and Surprise (surprise_source, ...).
CELLS, WATCH, SURPRISE = "cells", "watch", "surprise"


def line_source(loaded: LoadedModel, key: str, default: str | None = "sample:1",
                ahead: Callable[[np.ndarray], object] | None = None) -> np.ndarray:
    """A line to study: one from the library, or one written here. Stops the page
    with a hint while there is nothing to show. ``key`` is the prefix of its keys (the
    pen's among them). ``ahead``: see :func:`dashboard.library.example_picker`."""
    source = st.radio("Line", (FROM_LIBRARY, FROM_CANVAS), horizontal=True,
                      key=remembered(source_widget(key), FROM_LIBRARY), label_visibility="collapsed")
    if source == FROM_LIBRARY:
        return example_picker(loaded, "Example", example_widget(key), default, ahead=ahead).rows
    return pen.written_line(key, loaded)


def from_library(prefix: str) -> bool:
    """Whether the line source keyed ``prefix`` shows a line of the library."""
    return st.session_state.get(source_widget(prefix)) == FROM_LIBRARY


def limit_points(rows: np.ndarray, limit: int = MAX_FIGURE_POINTS) -> tuple[np.ndarray, str | None]:
    if len(rows) <= limit:
        return rows, None
    return rows[:limit], f"This line has {len(rows):,} points; the figure shows its first {limit:,}."


def clamp_state(key: str, last: int, default: int = 0, follow_end: bool = False) -> None:
    """Keep a step widget's value within a line that may have changed length.

    With ``follow_end``, a value that sat at the line's previous end moves to its
    new end, so a marker at the pen's position follows the writing; a value given
    before any line was seen (a step asked for by a link, or kept) is kept."""
    previous_last = st.session_state.get(_last_key(key))
    value = st.session_state[remembered(key, default)]
    if follow_end and value == previous_last:
        value = last
    st.session_state[key] = max(0, min(int(value), last))
    st.session_state[_last_key(key)] = last


def _last_key(key: str) -> str:
    return f"{key}_last"  # the line's last step when the widget keyed ``key`` was last clamped


def seen_key(chart_key: str) -> str:
    """Where the click last taken from the chart keyed ``chart_key`` is kept, so that it is taken once."""
    return f"{chart_key}_seen"


def selected_points(chart_key: str) -> list:
    """The points of the selection a click left on the chart keyed ``chart_key``, if any."""
    try:  # a plotly chart's state is a dict-like record, not a dict
        return list(st.session_state[chart_key]["selection"]["points"])
    except (KeyError, TypeError, AttributeError):
        return []


def point_custom(point: dict) -> list:
    """A clicked point's customdata as a list ([] when it has none). A typed array's row
    comes back as a dict keyed by position."""
    custom = point.get("customdata")
    if isinstance(custom, dict):
        return [custom.get(str(k)) for k in range(len(custom))]
    return list(custom) if isinstance(custom, (list, tuple)) else []


def heatmap_click(chart_key: str, cell_key: str, step_key: str) -> None:
    """Carry a new click on a cell heatmap (:mod:`dashboard.heatmap`) into the cell
    and step widgets, once per click; call before those widgets are drawn."""
    click = heatmap.clicked(chart_key)
    if click is None:
        return
    signature = (click.get("line"), click.get("n"), click["cell"], click["step"])
    if st.session_state.get(seen_key(chart_key)) == signature:
        return
    st.session_state[seen_key(chart_key)] = signature
    st.session_state[cell_key] = int(click["cell"])
    st.session_state[step_key] = int(click["step"])


def ruler_click(chart_key: str, step_key: str) -> None:
    """Carry a new click on a step ruler (:func:`dashboard.widgets.step_ruler`) into the step widget."""
    points = selected_points(chart_key)
    x = points[0].get("x") if points else None
    if x is None or st.session_state.get(seen_key(chart_key)) == x:
        return
    st.session_state[seen_key(chart_key)] = x
    st.session_state[step_key] = int(round(x))


def clicked_cell(chart_key: str) -> int | None:
    """The cell of a bar just clicked (its customdata[0]) in the score chart ``chart_key``, once per click."""
    points = selected_points(chart_key)
    seen = seen_key(chart_key)
    custom = point_custom(points[0]) if points else []
    if not custom or custom[0] is None:
        st.session_state.pop(seen, None)  # no click, or it was cleared: the same bar may be clicked again
        return None
    if st.session_state.get(seen) == int(custom[0]):
        return None
    st.session_state[seen] = int(custom[0])
    return int(custom[0])


def open_cell(cell: int, example: str | None = None, step: int | None = None) -> None:
    """Go to the Cell activations page with ``cell`` chosen, on the library's
    ``example`` (a key of :func:`dashboard.library.example_keys`) and at ``step`` when given."""
    st.session_state[cell_widget(CELLS)] = int(cell)
    if example is not None:
        st.session_state[example_widget(CELLS)] = example
    if step is not None:
        st.session_state[step_widget(CELLS)] = int(step)
    st.switch_page("pages/4_cells.py")
