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


def line_source(loaded: LoadedModel, key: str, default: str | None = "sample:1",
                ahead: Callable[[np.ndarray], object] | None = None) -> np.ndarray:
    """A line to study: one from the library, or one written here. Stops the page
    with a hint while there is nothing to show. ``ahead``: see :func:`dashboard.library.example_picker`."""
    source = st.radio("Line", (FROM_LIBRARY, FROM_CANVAS), horizontal=True,
                      key=remembered(f"{key}_source", FROM_LIBRARY), label_visibility="collapsed")
    if source == FROM_LIBRARY:
        return example_picker(loaded, "Example", f"{key}_example", default, ahead=ahead).rows
    return pen.written_line(key, loaded)


def limit_points(rows: np.ndarray, limit: int = MAX_FIGURE_POINTS) -> tuple[np.ndarray, str | None]:
    if len(rows) <= limit:
        return rows, None
    return rows[:limit], f"This line has {len(rows):,} points; the figure shows its first {limit:,}."


def clamp_state(key: str, last: int, default: int = 0, follow_end: bool = False) -> None:
    """Keep a step widget's value within a line that may have changed length.

    With ``follow_end``, a value that sat at the line's previous end moves to its
    new end, so a marker at the pen's position follows the writing."""
    previous_last = st.session_state.get(f"{key}_last")
    value = st.session_state[remembered(key, default)]
    if follow_end and (previous_last is None or value == previous_last):
        value = last
    st.session_state[key] = max(0, min(int(value), last))
    st.session_state[f"{key}_last"] = last


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
    if st.session_state.get(f"{chart_key}_seen") == signature:
        return
    st.session_state[f"{chart_key}_seen"] = signature
    st.session_state[cell_key] = int(click["cell"])
    st.session_state[step_key] = int(click["step"])


def ruler_click(chart_key: str, step_key: str) -> None:
    """Carry a new click on a step ruler (:func:`dashboard.widgets.step_ruler`) into the step widget."""
    points = selected_points(chart_key)
    x = points[0].get("x") if points else None
    if x is None or st.session_state.get(f"{chart_key}_seen") == x:
        return
    st.session_state[f"{chart_key}_seen"] = x
    st.session_state[step_key] = int(round(x))


def clicked_cell(chart_key: str) -> int | None:
    """The cell of a bar just clicked (its customdata[0]) in the score chart ``chart_key``, once per click."""
    points = selected_points(chart_key)
    seen = f"{chart_key}_seen"
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
    st.session_state.cells_cell = int(cell)
    if example is not None:
        st.session_state.cells_example = example
    if step is not None:
        st.session_state.cells_step = int(step)
    st.switch_page("pages/4_cells.py")
