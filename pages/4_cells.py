import streamlit as st

from dashboard import cached, cell_names, controls, frame, library, models
from inkcore import figures

frame.page_setup("Cell activations")
st.caption("The state c of all 500 cells as the model reads a line: one row per cell, one column per "
           "step, brown below zero and green above. Click a cell's row (or pick its number) to colour "
           "the handwriting by that cell; click a moment to mark it on the line.")
loaded = models.require_model()
example = library.example_picker(loaded, "Example", "cells_example", default="article:1")
_, c = cached.recording(loaded.model, loaded.key, example.rows)

cell, step = controls.cell_step_controls("cells", c.shape[1], len(c) - 1, controls.ARTICLE_CELL)
cell_names.order_caption(loaded, cell)
st.plotly_chart(figures.coloured_path_figure(example.rows, c[:, cell], figures.CELL_SCALE,
                                             cell_names.cell_name(loaded, cell),
                                             midpoint=0.0, marker_at=step), key="cells_stroke")
controls.step_ruler("cells", len(c), step)
st.plotly_chart(figures.cell_heatmap(c, selected_cell=cell), key="cells_heatmap",
                on_select="rerun", selection_mode="points")
