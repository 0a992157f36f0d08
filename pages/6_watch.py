import streamlit as st

import dashboard
from inkcore import figures

dashboard.page_setup("Write and watch")
st.caption("Write on the canvas: after every stroke, all 500 cells are recomputed for everything you wrote. "
           "Move along your writing with the step slider; pick a cell, or click the heatmap, to colour "
           "your strokes by it.")
loaded = dashboard.require_model()
writing = dashboard.canvas_writing("watch")
clear, save = st.columns([1, 6])
if clear.button("Clear", key="watch_clear"):
    dashboard.clear_canvas("watch")
    st.rerun()
with save:
    dashboard.save_controls(writing.rows, "watch")
message = dashboard.writing_message(writing)
if message:
    st.info(message)
    st.stop()

_, c = dashboard.recording(loaded.model, loaded.key, writing.rows)
cell, step = dashboard.cell_step_controls("watch", c.shape[1], len(c) - 1, dashboard.ARTICLE_CELL, follow_end=True)
dashboard.order_caption(loaded, cell)
st.plotly_chart(figures.coloured_path_figure(writing.rows, c[:, cell], figures.CELL_SCALE,
                                             dashboard.cell_name(loaded, cell),
                                             midpoint=0.0, marker_at=step), key="watch_stroke")
st.plotly_chart(figures.state_figure(c, step), key="watch_state")
dashboard.step_ruler("watch", len(c), step)
st.plotly_chart(figures.cell_heatmap(c, selected_cell=cell, height=460), key="watch_heatmap",
                on_select="rerun", selection_mode="points")
