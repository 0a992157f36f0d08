"""The Cell probes page's controls: the examples probed, each feature's best cells one
click from Cell activations, and the pattern search's span, cells and matches (the
search itself is :func:`dashboard.library.pattern_matches`)."""
from __future__ import annotations

import numpy as np
import streamlit as st

from dashboard import cell_names, controls, library
from dashboard.models import LoadedModel
from inkcore import cell_figures, cells

EXAMPLES, PATTERN_EXAMPLE, SPAN = "probe_examples", "pattern_example", "pattern_span"
#: The article's lines probed by default, and the most examples probed at once.
FIRST_PROBED, MAX_PROBED = 20, 60
#: Cells listed per feature; matches drawn, in rows of this many pictures; the default span's length;
#: pattern cells' buttons per row.
LISTED_CELLS, SHOWN_MATCHES, PICTURES_PER_ROW, SPAN_STEPS, BUTTONS_PER_ROW = 12, 9, 3, 20, 5


def probed_examples(loaded: LoadedModel, options: dict[str, str]) -> tuple[list[str], tuple[np.ndarray, ...]]:
    """The examples to probe (of ``options``, the library's) and their rows; by default the
    article's first lines, else the model's samples. Stops the page while none is picked."""
    default = ([k for k in options if k.startswith("article:")][:FIRST_PROBED]
               or [k for k in options if k.startswith("sample:")])
    chosen = st.multiselect("Examples to probe", list(options), default=default, format_func=options.get,
                            key=EXAMPLES, max_selections=MAX_PROBED)
    if not chosen:
        st.info("Pick at least one example.")
        st.stop()
    return chosen, tuple(library.load_example(loaded, key).rows for key in chosen)


def feature_tab(loaded: LoadedModel, feature: str, scored: list, example: str) -> None:
    """A feature's best cells as bars, and a pick of one: a click on a bar, or the button,
    opens the cell in Cell activations on ``example``."""
    chart, action = st.columns([2, 1])
    bars = f"probe_bars_{feature}"
    chart.plotly_chart(cell_figures.score_bars(scored[:LISTED_CELLS], cells.FEATURE_LABELS.get(feature, feature),
                                          name=lambda c: cell_names.cell_name(loaded, c)),
                       key=bars, on_select="rerun", selection_mode="points")
    clicked = controls.clicked_cell(bars)
    if clicked is not None:
        controls.open_cell(clicked, example)
    with action:
        st.caption(cells.FEATURE_HELP.get(feature, ""))
        picked = st.selectbox("Cell", [c for c, _ in scored], key=f"probe_pick_{feature}",
                              format_func=lambda c: cell_names.cell_name(loaded, c))
        if st.button("Show in Cell activations", key=f"probe_open_{feature}"):
            controls.open_cell(picked, example)


def span_control(c: np.ndarray) -> tuple[int, int] | None:
    """The span of steps [start, stop) chosen on a line whose states are ``c`` (T, cells): at
    least one step, and never the whole line, which leaves nothing to contrast it with. None,
    after saying so, on a line too short to select a span in."""
    if len(c) < 2:
        st.info("This example is too short to select a span in.")
        return None
    first = min(len(c) // 3, len(c) - 2)
    span = st.slider("Span of steps", 0, len(c), (first, min(first + SPAN_STEPS, len(c) - 1)), key=SPAN)
    start, stop = span if span[1] > span[0] else (span[0], span[0] + 1)
    if stop - start >= len(c):
        start, stop = 0, len(c) - 1
    return start, stop


def pattern_cells(loaded: LoadedModel, pattern: cells.Pattern, example: str, start: int, stop: int,
                  searched: int, available: int) -> bool:
    """The cells that set the span apart, each a button that opens it on ``example`` at the
    span, and how the search went; False, after saying so, when no cell stands out."""
    if not len(pattern.cells):
        st.info("No cell stands out in this span; try a longer or different one.")
        return False
    st.write(f"Cells that set steps {start}-{stop} apart (click one to see it on this example in Cell activations):")
    rows_of_buttons = -(-len(pattern.cells) // BUTTONS_PER_ROW)
    columns = [column for _ in range(rows_of_buttons) for column in st.columns(BUTTONS_PER_ROW)]
    for column, cell, sign in zip(columns, pattern.cells, pattern.sign):
        label = f"{cell_names.cell_name(loaded, cell)} {'↑' if sign > 0 else '↓'}"
        if column.button(label, key=f"pattern_cell_{cell}"):
            controls.open_cell(cell, example, start)
    needed = cells.cells_needed(len(pattern.cells))
    st.caption(f"A place matches where at least {needed} of these {len(pattern.cells)} cells are on together for "
               f"{cells.PATTERN_MIN_STEPS} steps or more. Searched {searched} example{'s' if searched != 1 else ''}"
               + (f": only the first {searched} of the library's {available}, to keep the search quick."
                  if searched < available else ", the whole library."))
    return True


def match_spans(loaded: LoadedModel, example, pattern: cells.Pattern, matches: list[cells.Match],
                options: dict[str, str]) -> list[tuple]:
    """The best matches as :func:`inkcore.figures.span_grid` draws them (rows, start, stop,
    title), after saying how many were found; [] after saying that none was."""
    if not matches:
        st.info("No other place found where these cells are on together. Try a longer or different span.")
        return []
    st.write(f"{len(matches)} place{'s' if len(matches) != 1 else ''} found"
             + (f"; the best {SHOWN_MATCHES}:" if len(matches) > SHOWN_MATCHES else ":"))
    spans = []
    for match in matches[:SHOWN_MATCHES]:
        rows = example.rows if match.example == example.key else library.load_example(loaded, match.example).rows
        spans.append((rows, match.start, match.stop, f"{options.get(match.example, match.example)} · steps "
                      f"{match.start}-{match.stop} · {match.cells_on:.1f} of {len(pattern.cells)} on"))
    return spans
