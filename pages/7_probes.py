import streamlit as st

import dashboard
from inkcore import cells, figures

dashboard.page_setup("Cell probes")
st.caption("The article found by eye that some cells follow the pen's direction, its position, or the pen "
           "lifts. Here every cell is scored against features computed from the strokes, over a set of "
           "examples, and the best cells for each feature are listed.")
loaded = dashboard.require_model()

options = dashboard.example_keys(loaded)
default = [k for k in options if k.startswith("article:")][:20] or [k for k in options if k.startswith("sample:")]
chosen = st.multiselect("Examples to probe", list(options), default=default, format_func=options.get,
                        key="probe_examples", max_selections=60)
if not chosen:
    st.info("Pick at least one example.")
    st.stop()
lines = tuple(dashboard.load_example(loaded, key).rows for key in chosen)
ranking = dashboard.probes(loaded.model, loaded.key, tuple(chosen), lines)

st.subheader("Best cells per feature")
tabs = st.tabs([cells.FEATURE_LABELS.get(name, name) for name in ranking])
for tab, (feature, scored) in zip(tabs, ranking.items()):
    with tab:
        chart, action = st.columns([2, 1])
        chart.plotly_chart(figures.score_bars(scored[:12], cells.FEATURE_LABELS.get(feature, feature)),
                           key=f"probe_bars_{feature}")
        with action:
            st.caption(cells.FEATURE_HELP.get(feature, ""))
            best = st.selectbox("Cell", [c for c, _ in scored], key=f"probe_pick_{feature}")
            if st.button("Show in Cell activations", key=f"probe_open_{feature}"):
                dashboard.open_cell(best)

st.subheader("Pattern search")
st.caption("Select a span of an example: the cells that are high there and low elsewhere are listed, "
           "with the places in other examples where those cells are on together.")
example = dashboard.example_picker(loaded, "Example", "pattern_example", default=chosen[0])
_, c = dashboard.recording(loaded.model, loaded.key, example.rows)
span = st.slider("Span of steps", 0, len(c), (min(len(c) // 3, len(c) - 1), min(len(c) // 3 + 20, len(c))),
                 key="pattern_span")
start, stop = span if span[1] > span[0] else (span[0], span[0] + 1)
st.plotly_chart(figures.span_figure(example.rows, start, stop, context=len(example.rows), height=200),
                key="pattern_span_figure")
found = dashboard.pattern_matches(loaded, example.key, c, start, stop, tuple(chosen))
if not found.cells:
    st.info("No cell stands out in this span; try a longer or different one.")
    st.stop()
st.write("Cells high here and low elsewhere: " + ", ".join(str(cell) for cell in found.cells))
columns = st.columns(3)
for index, match in enumerate(found.matches[:9]):
    rows = dashboard.load_example(loaded, match.example).rows
    columns[index % 3].plotly_chart(
        figures.span_figure(rows, match.start, match.stop,
                            title=f"{options.get(match.example, match.example)} · steps {match.start}-{match.stop}"),
        key=f"pattern_match_{index}")
