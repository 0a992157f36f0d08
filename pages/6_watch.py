import streamlit as st

from dashboard import cached, cell_names, controls, features, frame, models, pen
from dashboard.cell_view import CellView, cell_view

frame.page_setup("Write and watch")
st.caption("Write on the surface: under it, all 500 cells follow the pen as it moves (the grid holds cell "
           "25 × row + column; blue-green positive, brown negative), and beside them the features of the "
           "model's dictionary most active at the pen's tip, each named by the stroke event it tells best. When the pen lifts, the figures below "
           "show every cell over everything you wrote: move along it with the step slider; pick a cell, "
           "or click the heatmap, to colour your strokes by it.")
loaded = models.require_model()
live = features.live_dictionary(loaded)
if live[0] is None:
    st.caption(live[1])
rows = pen.written_line(controls.WATCH, loaded, pen.WATCH, dictionary=live if live[0] is not None else None)
_, c = cached.recording(loaded.model, loaded.key, rows)
cell_view(CellView(controls.WATCH, rows, c, controls.ARTICLE_CELL, name=lambda cell: cell_names.cell_name(loaded, cell),
                   about=lambda cell: cell_names.order_caption(loaded, cell), follow_end=True, state=True,
                   heatmap_height=460))
