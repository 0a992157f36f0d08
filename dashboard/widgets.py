"""The strips the cell pages set beside and under the cell heatmap (:mod:`dashboard.heatmap`):
small Plotly figures that are widgets. The step ruler is clicked to choose a step and the
row marker shows the chosen cell, so a new step or cell redraws a strip, not the heatmap."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from dashboard.heatmap import HEATMAP_MARGIN
from inkcore.figures import CLEAR, PALE_INK, RED, plain_figure


def step_ruler(steps: int, step: int, height: int = 50) -> go.Figure:
    """A strip as wide as the cell heatmap's plot that marks one step, for pages where the
    step moves more often than the heatmap changes: the heatmap is drawn once and only
    this strip is redrawn. Every step is a click target whose ``customdata`` is the step."""
    xs = np.arange(steps)
    traces = [
        dict(type="scatter", x=[-0.5, steps - 0.5], y=[0, 0], mode="lines", line=dict(color=PALE_INK, width=2),
             hoverinfo="skip"),
        dict(type="scatter", x=xs, y=np.zeros(steps), mode="markers", marker=dict(size=6, opacity=0), customdata=xs,
             hovertemplate="step %{x}<extra>click to choose</extra>"),
        dict(type="scatter", x=[step], y=[0], mode="markers+text", text=[f"step {step}"], cliponaxis=False,
             textposition="top right" if step < 0.15 * steps else "top left" if step > 0.85 * steps else "top center",
             marker=dict(symbol="triangle-down", size=13, color=RED), hoverinfo="skip"),
    ]
    return plain_figure(traces, dict(
        height=height, margin=dict(HEATMAP_MARGIN, t=4, b=4), showlegend=False, hoverdistance=-1,
        plot_bgcolor="white", paper_bgcolor="white", dragmode=False,
        xaxis=dict(range=[-0.5, steps - 0.5], visible=False, fixedrange=True),
        yaxis=dict(range=[-1, 1.6], visible=False, fixedrange=True)))


def row_marker(rows: int, row: int, height: int = 520, name: str = "") -> go.Figure:
    """A narrow strip as tall as the cell heatmap's plot that marks one of its rows (the chosen
    cell) with a triangle, set beside it: a new cell redraws this strip, not the heatmap.
    The triangle sits at the strip's left edge, as Plotly draws a narrow chart at least
    150 px wide and clips the rest."""
    trace = dict(type="scatter", x=[0], y=[row], mode="markers", name=name,
                 marker=dict(symbol="triangle-right", size=12, color=RED))
    if name:
        trace["hovertemplate"] = f"{name}<extra></extra>"
    else:
        trace["hoverinfo"] = "skip"
    return plain_figure([trace], dict(
        height=height, margin=dict(l=0, r=0, t=HEATMAP_MARGIN["t"], b=HEATMAP_MARGIN["b"]), showlegend=False,
        plot_bgcolor=CLEAR, paper_bgcolor=CLEAR, dragmode=False,
        xaxis=dict(range=[-0.6, 12], visible=False, fixedrange=True),
        yaxis=dict(range=[rows - 0.5, -0.5], visible=False, fixedrange=True)))
