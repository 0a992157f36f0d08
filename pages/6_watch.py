import streamlit as st

from dashboard import cached, cell_names, controls, frame, models, pen
from inkcore import figures

frame.page_setup("Write and watch")
st.caption("Write on the surface: under it, all 500 cells follow the pen as it moves (the grid holds cell "
           "25 × row + column; blue-green positive, brown negative). When the pen lifts, the figures below "
           "show every cell over everything you wrote: move along it with the step slider; pick a cell, "
           "or click the heatmap, to colour your strokes by it.")
loaded = models.require_model()
rows = pen.written_line("watch", loaded, pen.WATCH)

_, c = cached.recording(loaded.model, loaded.key, rows)
cell, step = controls.cell_step_controls("watch", c.shape[1], len(c) - 1, controls.ARTICLE_CELL, follow_end=True)
cell_names.order_caption(loaded, cell)
st.plotly_chart(figures.coloured_path_figure(rows, c[:, cell], figures.CELL_SCALE,
                                             cell_names.cell_name(loaded, cell),
                                             midpoint=0.0, marker_at=step), key="watch_stroke")
st.plotly_chart(figures.state_figure(c, step), key="watch_state")
controls.step_ruler("watch", len(c), step)
st.plotly_chart(figures.cell_heatmap(c, selected_cell=cell, height=460), key="watch_heatmap",
                on_select="rerun", selection_mode="points")
