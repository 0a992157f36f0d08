"""Plotly figures of cells and scores: a line coloured point by point by a value (a
cell's state, the model's surprise), every cell's state at one step, cells ranked by a
score, and how well the cells of two models match.

A line is drawn as :mod:`inkcore.figures` draws ink (model units, y downward, one scale
for x and y), folded into rows when it is long. Every builder returns a new
``plotly.graph_objects.Figure`` and changes none of its inputs.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import plotly.graph_objects as go

from inkcore.figures import (
    BLUE, CLEAR, CONTINUATION_COLOURS, GREY, GRID, PALE_INK, RED, add_panel, fitted_layout, ink_layout, path_points,
    plain_figure,
)

SURPRISE_SCALE = "YlOrRd"
#: The article's heatmaps use a diverging brown-blue-green scale, centred on 0.
CELL_SCALE = "BrBG"
#: The ends of CELL_SCALE: the state figure's colours above and below zero.
CELL_POSITIVE, CELL_NEGATIVE = "#01665e", "#8c510a"
#: The width in pixels a full-width figure is sized for (Streamlit's wide layout on a laptop).
FULL_WIDTH_PX = 1100
#: A line whose width is more than this many times its height is folded into rows,
#: so each row is drawn larger than one thin strip across the page would be.
FOLD_ASPECT = 3.0
#: A folded line's rows are this many times the line's height apart.
ROW_SPACING = 1.35
#: Markers drawn as SVG at most; more are drawn with WebGL.
SVG_MARKERS = 3000


def fold_points(rows: np.ndarray, parts: int) -> tuple[np.ndarray, np.ndarray]:
    """The line's points (T, 2) after each row, folded into ``parts`` rows of about equal
    width, each one under the last, and the index of the first point of each row.

    Each cut is made at the pen lift nearest the even split, where there is one within a
    tenth of the line; each later row is shifted left to start where the first does, and
    down by :data:`ROW_SPACING` times the line's height per row."""
    path = path_points(rows)[1:]
    starts = [0]
    if parts > 1 and len(path) > parts:
        lifts = np.flatnonzero(rows[:, 2] > 0.5) + 1  # a new stroke starts at these points
        lifts = lifts[lifts < len(path)]
        x = path[:, 0]
        for k in range(1, parts):
            even = int(np.searchsorted(np.maximum.accumulate(x), x.min() + np.ptp(x) * k / parts))
            near = lifts[np.abs(lifts - even) <= len(path) // 10] if len(lifts) else lifts
            cut = int(near[np.argmin(np.abs(near - even))]) if len(near) else even
            if starts[-1] < cut < len(path):
                starts.append(cut)
    starts = np.asarray(starts)
    row_height = max(float(np.ptp(path[:, 1])) if len(path) else 0.0, 1.0) * ROW_SPACING
    folded = path.copy()
    bounds = list(zip(starts, list(starts[1:]) + [len(path)]))
    left = path[bounds[0][0]:bounds[0][1], 0].min() if len(path) else 0.0
    for k, (lo, hi) in enumerate(bounds[1:], start=1):  # the first row stays where it is
        folded[lo:hi, 0] += left - path[lo:hi, 0].min()
        folded[lo:hi, 1] += k * row_height
    return folded, starts


def folds_for(rows: np.ndarray) -> int:
    """How many rows a line is folded into: one while it is at most :data:`FOLD_ASPECT`
    times wider than tall, and up to four, so that the rows together are about that shape."""
    if len(rows) < 2:
        return 1
    path = path_points(rows)
    width, tall = np.ptp(path[:, 0]), max(float(np.ptp(path[:, 1])), 1.0)
    return int(np.clip(np.floor(np.sqrt(width / (tall * ROW_SPACING * FOLD_ASPECT))), 1, 4))


def fitted_height(points: np.ndarray, width_px: int = FULL_WIDTH_PX, low: int = 220, high: int = 900,
                  margin_px: int = 60) -> int:
    """The height in pixels at which ink of these points fills a figure ``width_px`` wide."""
    points = points[np.isfinite(points).all(axis=1)]
    if len(points) < 2:
        return low
    span = np.maximum(np.ptp(points, axis=0), 1.0) + 2.0
    return int(np.clip(width_px * span[1] / span[0] + margin_px, low, high))


def coloured_path_figure(
    rows: np.ndarray,
    values: np.ndarray,
    colorscale: str,
    label: str,
    midpoint: float | None = None,
    marker_at: int | None = None,
    height: int | None = None,
    folds: int | None = None,
) -> go.Figure:
    """Handwriting with each point coloured by a value (an activation, a surprise).

    A long line is folded into rows (``folds``, by default :func:`folds_for`) and the
    figure is as tall as the rows need at :data:`FULL_WIDTH_PX` (``height`` overrides),
    so the ink gets the room rather than a thin strip across a short chart."""
    traces, path = _coloured_traces(rows, values, colorscale, label, midpoint, marker_at, folds)
    layout = ink_layout(fitted_height(path) if height is None else height)
    return plain_figure(traces, fitted_layout(layout, path, pad=0.6))


def coloured_paths_figure(panels: list[tuple[np.ndarray, np.ndarray, str]], colorscale: str,
                          midpoint: float | None = None) -> go.Figure:
    """Lines (rows, values, label) coloured as :func:`coloured_path_figure` colours one, one
    under another in one figure, each with its own colour bar beside it: one figure
    for the browser to redraw, not two."""
    drawn = [_coloured_traces(rows, values, colorscale, label, midpoint) for rows, values, label in panels]
    heights = [fitted_height(path) for _, path in drawn]
    total, traces = sum(heights), []
    layout = dict(ink_layout(total), margin=dict(l=10, r=10, t=10, b=10))
    top = 1.0
    for index, ((panel, path), height) in enumerate(zip(drawn, heights)):
        bottom = top - height / total
        for trace in panel:
            if trace.get("marker", {}).get("showscale"):  # its colour bar beside its own line
                trace["marker"]["colorbar"].update(y=(top + bottom) / 2, yanchor="middle", len=0.8 * (top - bottom))
        traces += add_panel(layout, index, None, [bottom + 0.02, top - 0.02], panel, path)
        top = bottom
    return plain_figure(traces, layout)


def _coloured_traces(rows: np.ndarray, values: np.ndarray, colorscale: str, label: str,
                     midpoint: float | None = None, marker_at: int | None = None, folds: int | None = None
                     ) -> tuple[list[dict], np.ndarray]:
    """The traces of :func:`coloured_path_figure`, and the (folded) points they draw."""
    rows = np.asarray(rows, dtype=np.float64)
    path, starts = fold_points(rows, folds_for(rows) if folds is None else folds)
    xs: list = []
    ys: list = []
    ends = set(np.flatnonzero(rows[:, 2] > 0.5).tolist()) | {int(k) - 1 for k in starts[1:]}
    for t, (x, y) in enumerate(path):  # the ink: broken at pen lifts and at the folds
        xs.append(float(x))
        ys.append(float(y))
        if t in ends:
            xs.append(None)
            ys.append(None)
    traces = [dict(type="scatter", x=xs, y=ys, mode="lines", line=dict(color=PALE_INK, width=1.2), name="ink",
                   hoverinfo="skip")]
    # a scale by name is spelled out, as Plotly's checks would: the browser's Plotly knows fewer names
    marker = dict(size=6, color=values, colorscale=_colour_scale(colorscale), showscale=True,
                  colorbar=dict(title=dict(text=label), thickness=12, len=0.8))
    if midpoint is not None:
        limit = float(np.nanmax(np.abs(values - midpoint))) or 1.0
        marker.update(cmid=midpoint, cmin=midpoint - limit, cmax=midpoint + limit)
    elif len(values) > 1:
        # a few extreme points would wash out the rest: the scale spans the 2nd to 98th percentile
        low, high = np.nanpercentile(values, [2, 98])
        marker.update(cmin=float(low), cmax=float(max(high, low + 1e-6)))
    # SVG for up to a few thousand markers, so that a slider's redraw does not set up a
    # WebGL context every move; WebGL only for very long lines
    traces.append(dict(
        type="scatter" if len(path) <= SVG_MARKERS else "scattergl",
        x=path[:, 0], y=path[:, 1], mode="markers", marker=marker, customdata=values,
        hovertemplate="step %{pointNumber}<br>" + label + " %{customdata:.3f}<extra></extra>",
    ))
    if marker_at is not None and 0 <= marker_at < len(path):
        traces.append(dict(type="scatter", x=[path[marker_at, 0]], y=[path[marker_at, 1]], mode="markers",
                           marker=dict(size=14, color=CLEAR, line=dict(color=RED, width=2.5)),
                           hoverinfo="skip"))
    return traces, path


def _colour_scale(scale):
    from plotly.colors import get_colorscale

    return [[float(stop), colour] for stop, colour in get_colorscale(scale)] if isinstance(scale, str) else scale


def colour_stops(name: str = CELL_SCALE) -> list[tuple[float, tuple[int, int, int]]]:
    """A Plotly colour scale as (stop, (r, g, b)) pairs from 0 to 1."""
    from plotly.colors import unlabel_rgb

    return [(float(stop), tuple(int(round(v)) for v in unlabel_rgb(colour))) for stop, colour in _colour_scale(name)]


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
