import streamlit as st

from dashboard import attribution, cached, controls, frame, library, models, ordered
from dashboard.cell_view import CellView, cell_view

frame.page_setup("Ordered cells")
st.caption("The same heatmap with the cells ordered by a one-dimensional t-SNE, as in the article's "
           "third footnote: cells that are mostly negative are sign-flipped, and cells that behave "
           "alike end up side by side. Cells are named by their row in this order and by their own index.")
loaded = models.require_model()
example = library.example_picker(loaded, "Example", ordered.EXAMPLE, default="article:1",
                                 ahead=library.recorded(loaded))
metric, perplexity, learned_from = ordered.order_controls(loaded, example.key)
_, c = cached.recording(loaded.model, loaded.key, example.rows)
order, job = ordered.chosen_order(loaded, metric, perplexity, learned_from)
ordered.keep(loaded, order, metric)
rows_of = order.rows_of()
cell_view(CellView(ordered.ORDERED, example.rows, c, int(order.order[min(controls.ARTICLE_ROW, len(order.order) - 1)]),
                   name=lambda cell: f"row {rows_of[cell]} · cell {cell}",
                   about=lambda cell: ordered.row_control(order, cell), order=order.order, flip=order.flip,
                   label="Cell (its own index)",
                   explain=lambda step: attribution.why_next_point(loaded, example.rows, step, ordered.ORDERED,
                                                                   example.key)))
st.download_button("Export this order (JSON)", ordered.export(order, learned_from), "cell-order.json",
                   "application/json", disabled=job is not None)
