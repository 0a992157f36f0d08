import numpy as np
import streamlit as st

import dashboard
from inkcore import figures

dashboard.page_setup("Surprise")
st.caption("How unlikely the model found each point of a line: its negative log-likelihood in nats, "
           "the quantity training minimises. Hot points are where the writing did what the model "
           "did not expect.")
loaded = dashboard.require_model()
rows = dashboard.line_source(loaded, "surprise", default="article:1")
nll = dashboard.surprise(loaded.model, loaded.key, rows)
left, right = st.columns(2)
left.metric("Mean over the line", f"{np.mean(nll):.3f} nats per point")
right.metric("Points", f"{len(nll):,}")
st.plotly_chart(figures.coloured_path_figure(rows, nll, figures.SURPRISE_SCALE, "nats"), key="surprise_chart")
worst = np.argsort(nll)[::-1][:5]
st.caption("Most surprising steps: " + ", ".join(f"{t} ({nll[t]:.1f} nats)" for t in sorted(worst)))
