import streamlit as st

import dashboard
from inkcore import figures

dashboard.page_setup("Cell activations")
st.caption("The state c of all 500 cells as the model reads a line: one row per cell, one column per "
           "step, brown below zero and green above. Click a cell's row (or pick its number) to colour "
           "the handwriting by that cell; click a moment to mark it on the line.")
loaded = dashboard.require_model()
example = dashboard.example_picker(loaded, "Example", "cells_example", default="article:1")
_, c = dashboard.recording(loaded.model, loaded.key, example.rows)

cell, step = dashboard.cell_step_controls("cells", c.shape[1], len(c) - 1, dashboard.ARTICLE_CELL)
dashboard.order_caption(loaded, cell)
st.plotly_chart(figures.coloured_path_figure(example.rows, c[:, cell], figures.CELL_SCALE,
                                             dashboard.cell_name(loaded, cell),
                                             midpoint=0.0, marker_at=step), key="cells_stroke")
dashboard.step_ruler("cells", len(c), step)
st.plotly_chart(figures.cell_heatmap(c, selected_cell=cell), key="cells_heatmap",
                on_select="rerun", selection_mode="points")
