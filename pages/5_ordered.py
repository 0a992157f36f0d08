import json

import streamlit as st

from dashboard import article, background, cached, cell_names, controls, frame, library, models
from dashboard.cell_view import PERPLEXITY_STEP, CellView, cell_order, cell_view

#: The Perplexity slider's notches.
PERPLEXITIES = range(5, 151, PERPLEXITY_STEP)

frame.page_setup("Ordered cells")
st.caption("The same heatmap with the cells ordered by a one-dimensional t-SNE, as in the article's "
           "third footnote: cells that are mostly negative are sign-flipped, and cells that behave "
           "alike end up side by side. Cells are named by their row in this order and by their own index.")
loaded = models.require_model()
example = library.example_picker(loaded, "Example", "ordered_example", default="article:1",
                                 ahead=library.recorded(loaded))


def order_controls() -> tuple[str, float, list[str]]:
    a, b = st.columns(2)
    metrics = {"percentile": "Percentiles in a sliding window (the article's best)",
               "blur": "Blurred activations", "raw": "Raw activations", "article": "The article's own order"}
    metric = a.selectbox("Distance between cells", list(metrics), format_func=metrics.get,
                         key=frame.remembered("ordered_metric", "percentile"))
    perplexity = b.slider("Perplexity", PERPLEXITIES.start, PERPLEXITIES[-1], step=PERPLEXITIES.step,
                          key=frame.remembered("ordered_perplexity", 50), disabled=metric == "article")
    options = library.example_keys(loaded)
    learned = st.multiselect("Learn the order from", list(options), default=[example.key], format_func=options.get,
                             key="ordered_learn", disabled=metric == "article", max_selections=12)
    return metric, float(perplexity), learned or [example.key]


metric, perplexity, learned_from = order_controls()
_, c = cached.recording(loaded.model, loaded.key, example.rows)
job = None
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
    order, job = cell_order(loaded, tuple(learned_from), sources, metric, perplexity, PERPLEXITIES)
    if job is not None:
        background.updating_mark(job, f"the {metric} order at perplexity {perplexity:g}; the figures show the "
                                      f"{order.metric} order at perplexity {order.perplexity:g} meanwhile")

rows_of = order.rows_of()
description = ("the article's order" if metric == "article"
               else f"the {order.metric} order (perplexity {order.perplexity:g})")
cell_names.keep_order(loaded, order, description)


def row_chosen() -> None:
    st.session_state.ordered_cell = int(order.order[st.session_state.ordered_row])


def about(cell: int) -> None:
    st.session_state.ordered_row = int(rows_of[cell])
    st.columns(2)[0].number_input("Row in this order (the article names cells by it)", 0, len(order.order) - 1,
                                  key="ordered_row", on_change=row_chosen)
    st.markdown(f"**Row {rows_of[cell]}** in this order is **cell {cell}**"
                + (" (sign-flipped)" if order.flip[cell] < 0 else ""))


cell_view(CellView("ordered", example.rows, c, int(order.order[min(controls.ARTICLE_ROW, len(order.order) - 1)]),
                   name=lambda cell: f"row {rows_of[cell]} · cell {cell}", about=about, order=order.order,
                   flip=order.flip, label="Cell (its own index)"))
export = {"order": order.order.tolist(), "flip": order.flip.astype(int).tolist(), "metric": order.metric,
          "perplexity": order.perplexity, "examples": learned_from}
st.download_button("Export this order (JSON)", json.dumps(export), "cell-order.json", "application/json",
                   disabled=job is not None)
