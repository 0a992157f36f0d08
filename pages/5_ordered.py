import json

import streamlit as st

from dashboard import article, cached, cell_names, controls, frame, library, models
from inkcore import figures

frame.page_setup("Ordered cells")
st.caption("The same heatmap with the cells ordered by a one-dimensional t-SNE, as in the article's "
           "third footnote: cells that are mostly negative are sign-flipped, and cells that behave "
           "alike end up side by side. Cells are named by their row in this order and by their own index.")
loaded = models.require_model()
example = library.example_picker(loaded, "Example", "ordered_example", default="article:1")


def order_controls() -> tuple[str, float, list[str]]:
    a, b = st.columns(2)
    metrics = {"percentile": "Percentiles in a sliding window (the article's best)",
               "blur": "Blurred activations", "raw": "Raw activations", "article": "The article's own order"}
    metric = a.selectbox("Distance between cells", list(metrics), format_func=metrics.get,
                         key=frame.remembered("ordered_metric", "percentile"))
    perplexity = b.slider("Perplexity", 5, 150, step=5, key=frame.remembered("ordered_perplexity", 50),
                          disabled=metric == "article")
    options = library.example_keys(loaded)
    learned = st.multiselect("Learn the order from", list(options), default=[example.key], format_func=options.get,
                             key="ordered_learn", disabled=metric == "article", max_selections=12)
    return metric, float(perplexity), learned or [example.key]


metric, perplexity, learned_from = order_controls()
_, c = cached.recording(loaded.model, loaded.key, example.rows)
if metric == "article":
    order = article.cell_order()
    if order is None:
        st.warning("The article's order comes with its metadata.json: download the article's files in the "
                   "Example library, or pick another distance.")
        st.stop()
    if loaded.label != models.ARTICLE:
        st.info("The article's order was learned on the article's model; on another model it is only an example.")
else:
    sources = tuple(cached.recording(loaded.model, loaded.key, library.load_example(loaded, key).rows)[1]
                    for key in learned_from)
    order = cached.cell_order(loaded.model, loaded.key, tuple(learned_from), sources, metric, perplexity)

rows_of = order.rows_of()
description = ("the article's order" if metric == "article"
               else f"the {metric} order (perplexity {order.perplexity:g})")
cell_names.keep_order(loaded, order, description)


def row_chosen() -> None:
    st.session_state.ordered_cell = int(order.order[st.session_state.ordered_row])


cell, step = controls.cell_step_controls(
    "ordered", c.shape[1], len(c) - 1, int(order.order[min(controls.ARTICLE_ROW, len(order.order) - 1)]),
    label="Cell (its own index)")
st.session_state.ordered_row = int(rows_of[cell])
st.columns(2)[0].number_input("Row in this order (the article names cells by it)", 0, len(order.order) - 1,
                              key="ordered_row", on_change=row_chosen)
st.markdown(f"**Row {rows_of[cell]}** in this order is **cell {cell}**"
            + (" (sign-flipped)" if order.flip[cell] < 0 else ""))
st.plotly_chart(figures.coloured_path_figure(example.rows, c[:, cell] * order.flip[cell], figures.CELL_SCALE,
                                             f"row {rows_of[cell]} · cell {cell}", midpoint=0.0, marker_at=step),
                key="ordered_stroke")
controls.step_ruler("ordered", len(c), step)
st.plotly_chart(figures.cell_heatmap(c, order.order, order.flip, cell), key="ordered_heatmap",
                on_select="rerun", selection_mode="points")
export = {"order": order.order.tolist(), "flip": order.flip.astype(int).tolist(), "metric": order.metric,
          "perplexity": order.perplexity, "examples": learned_from}
st.download_button("Export this order (JSON)", json.dumps(export), "cell-order.json", "application/json")
