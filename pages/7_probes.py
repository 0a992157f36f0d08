import streamlit as st

from dashboard import cached, cell_names, controls, frame, library, models
from inkcore import cell_figures, cells, figures

#: Cells listed per feature; matches drawn, in rows of this many pictures; the default span's length;
#: pattern cells' buttons per row.
LISTED_CELLS, SHOWN_MATCHES, PICTURES_PER_ROW, SPAN_STEPS, BUTTONS_PER_ROW = 12, 9, 3, 20, 5


frame.page_setup("Cell probes")
st.caption("The article found by eye that some cells follow the pen's direction, its position, or the pen "
           "lifts. Here every cell is scored against features computed from the strokes, over a set of "
           "examples, and the best cells for each feature are listed.")
loaded = models.require_model()

options = library.example_keys(loaded)
default = [k for k in options if k.startswith("article:")][:20] or [k for k in options if k.startswith("sample:")]
chosen = st.multiselect("Examples to probe", list(options), default=default, format_func=options.get,
                        key="probe_examples", max_selections=60)
if not chosen:
    st.info("Pick at least one example.")
    st.stop()
lines = tuple(library.load_example(loaded, key).rows for key in chosen)
ranking = cached.probes(loaded.model, loaded.key, tuple(chosen), lines)

st.subheader("Best cells per feature")
st.caption(f"Click a bar to open its cell in Cell activations, on {options.get(chosen[0], chosen[0])} "
           "(the first example probed).")
tabs = st.tabs([cells.FEATURE_LABELS.get(name, name) for name in ranking])
for tab, (feature, scored) in zip(tabs, ranking.items()):
    with tab:
        chart, action = st.columns([2, 1])
        chart.plotly_chart(cell_figures.score_bars(scored[:LISTED_CELLS], cells.FEATURE_LABELS.get(feature, feature),
                                                   name=lambda c: cell_names.cell_name(loaded, c)),
                           key=f"probe_bars_{feature}", on_select="rerun", selection_mode="points")
        clicked = controls.clicked_cell(f"probe_bars_{feature}")
        if clicked is not None:
            controls.open_cell(clicked, chosen[0])
        with action:
            st.caption(cells.FEATURE_HELP.get(feature, ""))
            picked = st.selectbox("Cell", [c for c, _ in scored], key=f"probe_pick_{feature}",
                                  format_func=lambda c: cell_names.cell_name(loaded, c))
            if st.button("Show in Cell activations", key=f"probe_open_{feature}"):
                controls.open_cell(picked, chosen[0])

@st.fragment
def pattern_search() -> None:
    """A span of an example, the cells that set it apart and the places where they do so
    together: a new span or example reruns this, not the probes above."""
    st.subheader("Pattern search")
    st.caption("Select a span of an example: the cells whose values there stand apart from the rest of the line "
               "are listed (↑ higher there, ↓ lower), with the places in the example library where most of them "
               "move that way together.")
    example = library.example_picker(loaded, "Example", "pattern_example", default=chosen[0],
                                     ahead=library.recorded(loaded))
    _, c = cached.recording(loaded.model, loaded.key, example.rows)
    if len(c) < 2:
        st.info("This example is too short to select a span in.")
        return
    first = min(len(c) // 3, len(c) - 2)
    span = st.slider("Span of steps", 0, len(c), (first, min(first + SPAN_STEPS, len(c) - 1)), key="pattern_span")
    start, stop = span if span[1] > span[0] else (span[0], span[0] + 1)
    if stop - start >= len(c):
        start, stop = 0, len(c) - 1  # the whole line leaves nothing to contrast the span with
    st.plotly_chart(figures.span_figure(example.rows, start, stop, context=len(example.rows), height=200),
                    key="pattern_span_figure")
    with st.spinner("Searching the example library…"):
        pattern, matches, searched, available = library.pattern_matches(loaded, example.key, c, start, stop)
    if not len(pattern.cells):
        st.info("No cell stands out in this span; try a longer or different one.")
        return

    st.write(f"Cells that set steps {start}-{stop} apart (click one to see it on this example in Cell activations):")
    rows_of_buttons = -(-len(pattern.cells) // BUTTONS_PER_ROW)
    columns = [column for _ in range(rows_of_buttons) for column in st.columns(BUTTONS_PER_ROW)]
    for column, cell, sign in zip(columns, pattern.cells, pattern.sign):
        label = f"{cell_names.cell_name(loaded, cell)} {'↑' if sign > 0 else '↓'}"
        if column.button(label, key=f"pattern_cell_{cell}"):
            controls.open_cell(cell, example.key, start)
    needed = cells.cells_needed(len(pattern.cells))
    st.caption(f"A place matches where at least {needed} of these {len(pattern.cells)} cells are on together for "
               f"{cells.PATTERN_MIN_STEPS} steps or more. Searched {searched} example{'s' if searched != 1 else ''}"
               + (f": only the first {searched} of the library's {available}, to keep the search quick."
                  if searched < available else ", the whole library."))
    if not matches:
        st.info("No other place found where these cells are on together. Try a longer or different span.")
        return
    st.write(f"{len(matches)} place{'s' if len(matches) != 1 else ''} found"
             + (f"; the best {SHOWN_MATCHES}:" if len(matches) > SHOWN_MATCHES else ":"))
    spans = []
    for match in matches[:SHOWN_MATCHES]:
        rows = example.rows if match.example == example.key else library.load_example(loaded, match.example).rows
        spans.append((rows, match.start, match.stop, f"{options.get(match.example, match.example)} · steps "
                      f"{match.start}-{match.stop} · {match.cells_on:.1f} of {len(pattern.cells)} on"))
    st.plotly_chart(figures.span_grid(spans, PICTURES_PER_ROW), key="pattern_matches")


pattern_search()
