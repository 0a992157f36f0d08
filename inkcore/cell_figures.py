"""Plotly figures of cells and scores: every cell's state at one step, cells ranked by a
score, how well the cells of two models match, and attribution by lag.

A line coloured point by point by a value (a cell's state, the model's surprise) is
built in :mod:`inkcore.figures` (:func:`~inkcore.figures.coloured_path_figure`, whose
public name is :func:`~inkcore.figures.coloured_line`) and is importable from here too.
Every builder returns a new ``plotly.graph_objects.Figure`` and changes none of its inputs.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import plotly.graph_objects as go

# The line coloured by a value, its colour scale and its sizes are read from here by the dashboard.
from inkcore.figures import (  # noqa: F401
    BLUE, CELL_SCALE, CONTINUATION_COLOURS, FULL_WIDTH_PX, GREY, GRID, colour_stops, coloured_path_figure,
    coloured_paths_figure, plain_figure,
)

SURPRISE_SCALE = "YlOrRd"
#: The ends of CELL_SCALE: the state figure's colours above and below zero.
CELL_POSITIVE, CELL_NEGATIVE = "#01665e", "#8c510a"


def state_figure(c: np.ndarray, step: int, height: int = 170) -> go.Figure:
    """The state of every cell at one step (cell index along x), as two filled step
    outlines, green above zero and brown below: two paths for the browser to redraw
    rather than 500 bars."""
    values = np.asarray(c[step], dtype=np.float32)
    cells = np.arange(len(values))
    traces = [dict(type="scatter", x=cells, y=part, mode="lines", line=dict(shape="hvh", color=colour, width=1),
                   fill="tozeroy", fillcolor=colour, name=name, customdata=values,
                   hovertemplate="cell %{x}<br>c = %{customdata:.3f}<extra></extra>")
              for part, colour, name in ((np.maximum(values, 0), CELL_POSITIVE, "above 0"),
                                         (np.minimum(values, 0), CELL_NEGATIVE, "below 0"))]
    return plain_figure(traces, dict(height=height, margin=dict(l=50, r=10, t=30, b=30), showlegend=False,
                                     hovermode="x", xaxis=dict(range=[-0.5, len(values) - 0.5]),
                                     title=dict(text=f"Every cell's state c at step {step}", font=dict(size=13))))


def score_bars(scores: list[tuple[int, float]], label: str, height: int = 260,
               name: Callable[[int], str] | None = None) -> go.Figure:
    """One horizontal bar per (cell, score), best on top, labelled by ``name(cell)``
    ("cell 93" by default). Each bar carries its cell number as ``customdata`` (plain
    ints, not a typed array), so a click on it, reported by
    ``st.plotly_chart(on_select=...)``, says which cell it was."""
    cells = [(name or (lambda c: f"cell {c}"))(int(c)) for c, _ in scores]
    bars = dict(type="bar", x=[s for _, s in scores], y=cells, orientation="h", marker=dict(color=BLUE),
                customdata=[[int(c)] for c, _ in scores],
                hovertemplate="%{y}: %{x:.3f} · click to open<extra></extra>")
    return plain_figure([bars], dict(height=height, margin=dict(l=10, r=10, t=30, b=30),
                                     title=dict(text=label, font=dict(size=13)),
                                     yaxis=dict(autorange="reversed", automargin=True)))


def match_curve(best: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]], threshold: float = 0.8,
                height: int = 300) -> go.Figure:
    """How many cells of each model have a counterpart in the other: for each model
    (name -> its cells, their counterparts and the signed r, each (cells,)), its cells'
    best |r| from highest to lowest, and a dotted line at ``threshold``. A point carries
    ``[cell, counterpart]`` as ``customdata``, so a click says which pair it was."""
    traces = []
    for index, (name, (cells, others, r)) in enumerate(best.items()):
        order = np.argsort(-np.abs(r), kind="stable")
        traces.append(dict(
            type="scatter", x=np.arange(1, len(order) + 1), y=np.abs(r[order]), mode="lines+markers", name=name,
            marker=dict(size=4), line=dict(color=CONTINUATION_COLOURS[index % len(CONTINUATION_COLOURS)]),
            customdata=np.stack([cells[order], others[order], r[order]], axis=1).tolist(),
            hovertemplate=f"{name}: cell %{{customdata[0]:d}} ↔ cell %{{customdata[1]:d}}, "
                          "r %{customdata[2]:+.2f}<extra></extra>"))
    line = dict(type="line", xref="x domain", x0=0, x1=1, yref="y", y0=threshold, y1=threshold,
                line=dict(color=GREY, dash="dot"))
    note = dict(text=f"|r| = {threshold:g}", showarrow=False, xref="x domain", x=1, xanchor="right", yref="y",
                y=threshold, yanchor="bottom")
    return plain_figure(traces, dict(
        height=height, margin=dict(l=10, r=10, t=30, b=40), plot_bgcolor="white", legend=dict(orientation="h", y=1.12),
        hovermode="closest", shapes=[line], annotations=[note],
        xaxis=dict(title=dict(text="cells, best matched first"), gridcolor=GRID),
        yaxis=dict(title=dict(text="best |r| with a cell of the other model"), range=[0, 1.02], gridcolor=GRID)))


#: Colours of attribution: earlier points that made the point likelier (blue) or less likely (red).
ATTRIBUTION_SCALE = "RdBu"


def lag_figure(shares: np.ndarray, marks: dict[str, int | None], height: int = 260, shown: int = 200) -> go.Figure:
    """Each lag's share of the attribution mass (lag 1, the point just before, first), the
    first ``shown`` lags, with a dotted line at each of ``marks`` (label -> lag)."""
    lags = np.arange(1, min(len(shares), shown) + 1)
    bars = dict(type="bar", x=lags, y=shares[: len(lags)], marker=dict(color=BLUE),
                hovertemplate="%{x} points back: %{y:.1%} of the attribution<extra></extra>")
    shapes, notes = [], []
    for label, lag in marks.items():
        if lag is None or lag > len(lags):
            continue
        shapes.append(dict(type="line", xref="x", x0=lag + 0.5, x1=lag + 0.5, yref="y domain", y0=0, y1=1,
                           line=dict(color=GREY, dash="dot")))
        notes.append(dict(text=label, showarrow=False, xref="x", x=lag + 0.5, xanchor="left", yref="y domain", y=1,
                          yanchor="top"))
    return plain_figure([bars], dict(
        height=height, margin=dict(l=10, r=10, t=30, b=40), plot_bgcolor="white", bargap=0.05, shapes=shapes,
        annotations=notes, xaxis=dict(title=dict(text="points back (lag)"), gridcolor=GRID),
        yaxis=dict(title=dict(text="share of the attribution"), tickformat=".0%", gridcolor=GRID)))
