import numpy as np
import streamlit as st

from dashboard import attribution, cached, controls, frame, models
from inkcore import cell_figures

frame.page_setup("Surprise")
st.caption("How unlikely the model found each point of a line: its negative log-likelihood in nats, "
           "the quantity training minimises. Hot points are where the writing did what the model "
           "did not expect.")
loaded = models.require_model()
rival = models.other_model(loaded)


def surprise_ahead(rows) -> None:
    """What a newly chosen example costs this page: its surprise under both models and the
    attribution of its most surprising point."""
    for model in (loaded, rival) if rival is not None else (loaded,):
        cached.surprise(model.model, model.key, rows)
    attribution.explain_ahead(loaded, rows, cached.surprise(loaded.model, loaded.key, rows))


rows = controls.line_source(loaded, controls.SURPRISE, default="article:1", ahead=surprise_ahead)
nll = cached.surprise(loaded.model, loaded.key, rows)
mean, other, points = st.columns(3)
mean.metric(f"{loaded.label}: nats per point", f"{np.mean(nll):.3f}")
if rival is not None:
    rival_nll = cached.surprise(rival.model, rival.key, rows)
    other.metric(f"{rival.label}: nats per point", f"{np.mean(rival_nll):.3f}",
                 delta=f"{np.mean(rival_nll) - np.mean(nll):+.3f}", delta_color="inverse")
points.metric("Points", f"{len(nll):,}")
st.plotly_chart(cell_figures.coloured_path_figure(rows, nll, cell_figures.SURPRISE_SCALE, "nats"),
                key=attribution.CHART, on_select="rerun", selection_mode="points")
worst = np.argsort(nll)[::-1][:5]
st.caption("Most surprising steps: " + ", ".join(f"{t} ({nll[t]:.1f} nats)" for t in sorted(worst)))
example = st.session_state.get(controls.example_widget(controls.SURPRISE)) \
    if controls.from_library(controls.SURPRISE) else None
attribution.why_this_point(loaded, rows, nll, example)
