import streamlit as st

from dashboard import attribution, cached, cell_names, controls, frame, library, models
from dashboard.cell_view import CellView, cell_view

frame.page_setup("Cell activations")
st.caption("The state c of all 500 cells as the model reads a line: one row per cell, one column per "
           "step, brown below zero and green above. Click a cell's row (or pick its number) to colour "
           "the handwriting by that cell; click a moment to mark it on the line.")
loaded = models.require_model()
example = library.example_picker(loaded, "Example", controls.example_widget(controls.CELLS), default="article:1",
                                 ahead=library.recorded(loaded))
_, c = cached.recording(loaded.model, loaded.key, example.rows)
cell_view(CellView(controls.CELLS, example.rows, c, controls.ARTICLE_CELL,
                   name=lambda cell: cell_names.cell_name(loaded, cell),
                   about=lambda cell: cell_names.order_caption(loaded, cell),
                   explain=lambda step: attribution.why_next_point(loaded, example.rows, step, controls.CELLS,
                                                                   example.key)))
