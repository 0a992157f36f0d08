import streamlit as st

from dashboard import cached, frame, library, models, probes
from inkcore import cells, figures

frame.page_setup("Cell probes")
st.caption("The article found by eye that some cells follow the pen's direction, its position, or the pen "
           "lifts. Here every cell is scored against features computed from the strokes, over a set of "
           "examples, and the best cells for each feature are listed.")
loaded = models.require_model()
options = library.example_keys(loaded)
chosen, lines = probes.probed_examples(loaded, options)
ranking = cached.probes(loaded.model, loaded.key, tuple(chosen), lines)

st.subheader("Best cells per feature")
st.caption(f"Click a bar to open its cell in Cell activations, on {options.get(chosen[0], chosen[0])} "
           "(the first example probed).")
tabs = st.tabs([cells.FEATURE_LABELS.get(name, name) for name in ranking])
for tab, (feature, scored) in zip(tabs, ranking.items()):
    with tab:
        probes.feature_tab(loaded, feature, scored, chosen[0])


@st.fragment
def pattern_search() -> None:
    """A span of an example, the cells that set it apart and the places where they do so
    together: a new span or example reruns this, not the probes above."""
    st.subheader("Pattern search")
    st.caption("Select a span of an example: the cells whose values there stand apart from the rest of the line "
               "are listed (↑ higher there, ↓ lower), with the places in the example library where most of them "
               "move that way together.")
    example = library.example_picker(loaded, "Example", probes.PATTERN_EXAMPLE, default=chosen[0],
                                     ahead=library.recorded(loaded))
    _, c = cached.recording(loaded.model, loaded.key, example.rows)
    span = probes.span_control(c)
    if span is None:
        return
    st.plotly_chart(figures.span_figure(example.rows, *span, context=len(example.rows), height=200),
                    key="pattern_span_figure")
    with st.spinner("Searching the example library…"):
        pattern, matches, searched, available = library.pattern_matches(loaded, example.key, c, *span)
    if probes.pattern_cells(loaded, pattern, example.key, *span, searched, available):
        spans = probes.match_spans(loaded, example, pattern, matches, options)
        if spans:
            st.plotly_chart(figures.span_grid(spans, probes.PICTURES_PER_ROW), key="pattern_matches")


pattern_search()
