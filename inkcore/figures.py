"""Plotly figures of handwriting: lines, grids of lines, pieces of lines, continuations,
possible futures, the mixture of the next point and a line coloured point by point by a
value (:func:`coloured_line`); and the one way inkcore builds a figure
(:func:`plain_figure`), which :mod:`inkcore.cell_figures` (figures of cells and scores)
and the dashboard's widgets share.

Handwriting is drawn in model units with y growing downward, as on the
whiteboard, at one-to-one aspect. Every builder returns a new
``plotly.graph_objects.Figure`` and changes none of its inputs.
"""
from __future__ import annotations

import os

import numpy as np
import plotly.graph_objects as go

from inkcore.model import Mixture
from inkcore.sampling import component_weights
from inkcore.strokes import split_strokes, to_absolute

INK = "#1d2330"
#: The palette: candidate continuations (and the lines of a comparison) take its colours
#: in turn; red also marks what a figure picks out (a point, a span, a step, a cell).
RED, BLUE, PURPLE, AMBER, GREEN, GREY = "#d1495b", "#2e86ab", "#8f5bb8", "#e08e0b", "#3b8b5a", "#6c757d"
CONTINUATION_COLOURS = (RED, BLUE, PURPLE, AMBER, GREEN, GREY)
#: Grey ink: a line under the colours of its points, and the context around a span.
PALE_INK, CONTEXT_INK = "#c9ccd3", "#b8bcc6"
#: The grid of a chart with axes, and a marker with no fill.
GRID, CLEAR = "#eee", "rgba(0,0,0,0)"
RIGHT_COLOUR = "#2a9d4b"  # the article's green: a future veering right of the path
LEFT_COLOUR = "#f28e2b"  # the article's orange: veering left
#: Half the width, in model units, of the window that follows the pen in a possibility figure.
FOLLOW_HALF_WIDTH = 18.0
#: A step's possibility view draws pen-lift circles this far (model units) either side of the pen.
CIRCLES_HALF_WIDTH = 3 * FOLLOW_HALF_WIDTH
#: A possibility figure with more hair segments than this draws them as one path per point
#: and colour, in bands of steps (:func:`_chained_hairs`) rather than a trace per step.
SVG_SEGMENTS = 20_000
#: The bands of steps a whole line's hairs are drawn in, nearest first, and their opacity.
HAIR_BANDS, BAND_OPACITY = 2, (0.45, 0.22)


def _rgb(colour: str) -> tuple[int, int, int]:
    """A colour "#rrggbb" as (r, g, b)."""
    return tuple(int(colour[k:k + 2], 16) for k in (1, 3, 5))


#: Set (to 1) to build every figure with Plotly's checks of each property, as the tests do.
CHECK_ENV = "INKCORE_CHECK_FIGURES"


def plain_figure(traces: list[dict], layout: dict) -> go.Figure:
    """A figure from plain dicts in one go. Plotly's checks of each property, and its
    figure-updating calls, cost a few milliseconds a figure, which every control that
    redraws one would pay; the tests build every figure with the checks on (CHECK_ENV)."""
    return go.Figure({"data": traces, "layout": layout}, _validate=os.environ.get(CHECK_ENV) == "1")


def ink_layout(height: int) -> dict:
    """The layout of ink: white, no axes drawn, x and y at one scale, y growing downward."""
    return dict(height=height, margin=dict(l=10, r=10, t=30, b=10), plot_bgcolor="white", paper_bgcolor="white",
                showlegend=False, dragmode="pan", xaxis=dict(visible=False, constrain="domain"),
                yaxis=dict(visible=False, autorange="reversed", scaleanchor="x", scaleratio=1))


def fitted_layout(layout: dict, points: np.ndarray, pad: float = 1.0) -> dict:
    """``layout`` with axis ranges that hold every point: with one scale for x and y, the
    axis with room to spare shrinks its domain rather than either one cutting the line off."""
    points = points[np.isfinite(points).all(axis=1)]
    if len(points):
        low, high = points.min(axis=0) - pad, points.max(axis=0) + pad
        layout["xaxis"].update(range=[float(low[0]), float(high[0])], autorange=False, constrain="domain")
        layout["yaxis"].update(range=[float(high[1]), float(low[1])], autorange=False, constrain="domain")  # y down
    return layout


def _trace_points(traces: list[dict]) -> np.ndarray:
    """Every point the traces draw (N, 2), the breaks between strokes left out."""
    drawn = [(x, y) for trace in traces for x, y in zip(trace["x"], trace["y"]) if x is not None]
    return np.array(drawn, dtype=float).reshape(-1, 2)


def add_panel(layout: dict, index: int, x_domain: list | None, y_domain: list, traces: list[dict],
              points: np.ndarray) -> list[dict]:
    """Give panel ``index`` of a figure of panels its own axes in ``layout`` (ink's: one
    scale for x and y, fitted to ``points``, within the domains given), and its traces."""
    suffix = "" if index == 0 else str(index + 1)
    x_axis = dict(visible=False, constrain="domain", anchor=f"y{suffix}")
    if x_domain is not None:
        x_axis["domain"] = x_domain
    y_axis = dict(visible=False, autorange="reversed", scaleanchor=f"x{suffix}", scaleratio=1, domain=y_domain,
                  anchor=f"x{suffix}")
    fitted_layout(dict(xaxis=x_axis, yaxis=y_axis), points, pad=0.6)
    layout[f"xaxis{suffix}"], layout[f"yaxis{suffix}"] = x_axis, y_axis
    return [dict(trace, xaxis=f"x{suffix}", yaxis=f"y{suffix}") for trace in traces]

def _stroke_xy(rows: np.ndarray, start=(0.0, 0.0)) -> tuple[list, list]:
    """x and y of all strokes joined by None, so one trace draws them all."""
    xs: list = []
    ys: list = []
    for stroke in split_strokes(rows, start):
        xs.extend(stroke[:, 0].tolist() + [None])
        ys.extend(stroke[:, 1].tolist() + [None])
    return xs, ys


def path_points(rows: np.ndarray, start=(0.0, 0.0)) -> np.ndarray:
    """The start point and the point after every row: (T + 1, 2)."""
    return np.vstack([np.asarray(start, dtype=np.float64)[None], to_absolute(rows, start)])


def _strokes(rows, start=(0.0, 0.0), colour=INK, width=2.2, name="ink", opacity=1.0) -> dict:
    """One trace of ink for all the strokes of ``rows``, drawn from ``start``."""
    xs, ys = _stroke_xy(rows, start)
    return dict(type="scatter", x=xs, y=ys, mode="lines", line=dict(color=colour, width=width), name=name,
                opacity=opacity, hoverinfo="skip")


def handwriting_figure(rows: np.ndarray, height: int = 220, title: str | None = None) -> go.Figure:
    """A whole line in ink, at one scale for x and y, shrunk to fit rather than cut off."""
    layout = ink_layout(height)
    if title:
        layout["title"] = dict(text=title, font=dict(size=13))
    return plain_figure([_strokes(rows)], fitted_layout(layout, path_points(rows)) if len(rows) else layout)


#: The space between the panels of a grid of lines, as a fraction of the figure's width.
GRID_GAP = 0.04


def handwriting_grid(lines: list[np.ndarray], titles: list[str], columns: int = 2, row_height: int = 170
                     ) -> go.Figure:
    """Several lines in one figure, a panel each, ``columns`` to a row, filled row by row:
    each in ink at one scale for x and y, fitted to its panel, with its title above it.
    One figure is one redraw for the browser, where a figure a line is as many."""
    return _grid([([_strokes(rows, name=title)], title) for rows, title in zip(lines, titles)], columns, row_height)


def span_grid(spans: list[tuple[np.ndarray, int, int, str]], columns: int = 3, row_height: int = 130,
              context: int = 40) -> go.Figure:
    """Pieces of lines (rows, start, stop, title) as :func:`span_figure` draws each, in one
    figure: a panel each, ``columns`` to a row."""
    return _grid([(_span_traces(rows, start, stop, context), title) for rows, start, stop, title in spans], columns,
                 row_height, title_size=11)


def _grid(panels: list[tuple[list[dict], str]], columns: int, row_height: int, title_size: int = 13) -> go.Figure:
    """Panels of ink (their traces, and a title above each) in one figure on one pair of
    axes, each panel moved and scaled (one scale for x and y) into a cell of its own: the
    browser redraws one pair of axes far sooner than a pair per panel. Cells are sized for
    a figure :data:`FULL_WIDTH_PX` wide; on another width the grid keeps its shape."""
    rows_of_panels = max(1, -(-len(panels) // columns))
    margin = dict(l=10, r=10, t=10, b=4)
    unit_px = (FULL_WIDTH_PX - margin["l"] - margin["r"]) / (columns + GRID_GAP * columns * (columns - 1))
    cell_h, title_h, gap_h = row_height / unit_px, 2 * title_size / unit_px, 8 / unit_px  # in cell widths
    traces, annotations = [], []
    for index, (drawn, title) in enumerate(panels):
        row, column = divmod(index, columns)
        left, top = column * (1 + GRID_GAP * columns), row * cell_h
        traces += _fitted(drawn, left, top + title_h, 1.0, cell_h - title_h - gap_h)
        annotations.append(dict(text=title, x=left, y=top, xref="x", yref="y", xanchor="left", yanchor="top",
                                showarrow=False, font=dict(size=title_size)))
    width = columns + GRID_GAP * columns * (columns - 1)
    layout = dict(height=rows_of_panels * row_height, margin=margin, plot_bgcolor="white", paper_bgcolor="white",
                  showlegend=False, dragmode="pan", annotations=annotations,
                  xaxis=dict(visible=False, range=[0, width]),  # on another width a range grows: nothing is cut
                  yaxis=dict(visible=False, range=[rows_of_panels * cell_h, 0], scaleanchor="x", scaleratio=1))
    return plain_figure(traces, layout)


def _fitted(traces: list[dict], left: float, top: float, width: float, height: float) -> list[dict]:
    """``traces`` moved and scaled, one scale for x and y, to fit the box at (left, top)
    (y growing downward, as ink's does), centred in it."""
    points = _trace_points(traces)
    if not len(points):
        return traces
    low, high = points.min(axis=0), points.max(axis=0)
    size = np.maximum(high - low, 1e-9)
    scale = 0.94 * min(width / size[0], height / size[1])
    origin = np.array([left + (width - size[0] * scale) / 2, top + (height - size[1] * scale) / 2])

    def moved(values, axis: int) -> list:
        return [None if v is None else float(origin[axis] + (v - low[axis]) * scale) for v in values]

    return [dict(trace, x=moved(trace["x"], 0), y=moved(trace["y"], 1)) for trace in traces]


def continuation_figure(
    rows: np.ndarray, continuations: np.ndarray, shown_steps: int | None = None, height: int = 300,
    fit: bool = False,
) -> go.Figure:
    """The writer's rows in ink and each candidate continuation (C, S, 3) in colour,
    starting where the writing ends; ``shown_steps`` draws only their first steps.
    With ``fit`` the axes hold every point drawn (a figure that is not animated: while
    a continuation grows, fixed ranges would jump).

    Several candidates are drawn one under another, each after its own copy of the
    writing, so that candidates that differ little (at a low variation) are not one
    scribble."""
    traces = []
    end = to_absolute(rows)[-1] if len(rows) else np.zeros(2)
    path = path_points(rows) if len(rows) else np.zeros((1, 2))
    gap = max(float(np.ptp(path[:, 1])) * 1.4, 6.0) if len(continuations) > 1 else 0.0
    lifted = len(rows) > 0 and rows[-1, 2] > 0.5
    for index, candidate in enumerate(continuations):
        shift = np.array([0.0, index * gap])
        traces.append(_strokes(rows, shift, name="your writing" if index == 0 else f"your writing ({index + 1})",
                               opacity=1.0 if index == 0 else 0.55))
        part = candidate if shown_steps is None else candidate[:shown_steps]
        written = _strokes(part, end + shift, CONTINUATION_COLOURS[index % len(CONTINUATION_COLOURS)],
                           name=f"continuation {index + 1}")
        # the continuation begins with a pen-up jump when the writer just lifted the pen
        if lifted and len(part):
            written["x"], written["y"] = written["x"][1:], written["y"][1:]
        traces.append(written)
    if not len(continuations):
        traces.append(_strokes(rows, name="your writing"))
    layout = ink_layout(height if len(continuations) < 2 else int(height * (0.55 + 0.45 * len(continuations))))
    if fit:
        layout = fitted_layout(layout, _trace_points(traces), pad=0.6)
    return plain_figure(traces, layout)


def possibility_figure(
    rows: np.ndarray,
    futures: np.ndarray,
    turns: np.ndarray,
    eos: np.ndarray,
    at: int | None = None,
    height: int = 320,
    points: np.ndarray | None = None,
) -> go.Figure:
    """Possible futures as hairs along the path taken.

    ``futures`` (P, N, K, 3) start after the line's ``points`` (every point when
    None, P = T); ``turns`` (P, N, K) are their signed angles from
    :func:`inkcore.sampling.future_turns`; ``eos`` (T,) the model's pen-lift
    probability at each real point, drawn as circles of radius 0.7 + 5 sqrt(p).
    ``at`` rings that point, follows the pen there and shows only its futures;
    None shows all that were drawn (futures that are NaN were skipped).
    """
    path = path_points(rows)
    steps = futures.shape[2]
    points = np.arange(len(futures)) if points is None else np.asarray(points, dtype=np.int64).reshape(-1)
    finite = np.isfinite(futures[:, 0, 0, 0])
    drawn_at = np.flatnonzero(finite if at is None else finite & (points == at))  # indices into futures
    origin = path[points[drawn_at] + 1][:, None, None, :]  # (t, 1, 1, 2)
    drawn = origin + np.cumsum(futures[drawn_at, :, :, :2], axis=2)  # (t, N, K, 2)
    begins = np.concatenate([np.broadcast_to(origin, drawn[:, :, :1].shape), drawn[:, :, :-1]], axis=2)
    traces = [_strokes(rows, width=1.6)]
    if drawn.shape[0] * drawn.shape[1] * steps > SVG_SEGMENTS:  # a whole line's: few long paths
        hairs = list(_chained_hairs(origin, drawn, turns[drawn_at]))
    else:  # a segment per step, each step's opacity fading along the hair
        hairs = []
        for k in range(steps):
            sign = turns[drawn_at, :, k]
            for colour, pick in ((RIGHT_COLOUR, sign > 0), (LEFT_COLOUR, sign <= 0)):
                a, b = begins[:, :, k][pick], drawn[:, :, k][pick]  # (S, 2) segment ends
                ends = np.stack([a, b, np.full_like(a, np.nan)], axis=1).reshape(-1, 2)
                hairs.append((ends, colour, (0.3 if at is None else 0.9) * (steps - k) / steps))
    for xy, colour, opacity in hairs:
        traces.append(dict(type="scatter", x=xy[:, 0], y=xy[:, 1], mode="lines", opacity=opacity, connectgaps=False,
                           line=dict(color=colour, width=1.2), hoverinfo="skip"))
    radius = 0.7 + 5.0 * np.sqrt(np.clip(eos, 0.0, 1.0))
    shown = np.arange(len(eos))
    if at is not None:
        # a step's view follows the pen: circles near it only (hundreds of SVG circles
        # redrawn at every step would cost the browser a quarter of a second)
        shown = shown[np.abs(path[1:, 0] - path[at + 1, 0]) <= CIRCLES_HALF_WIDTH]
    traces.append(dict(
        type="scatter", x=path[shown + 1, 0], y=path[shown + 1, 1], mode="markers",
        marker=dict(size=2 * radius[shown], color="rgba({},{},{},0.25)".format(*_rgb(INK)), line=dict(width=0)),
        customdata=np.stack([shown, np.round(eos[shown], 3)], axis=1),
        hovertemplate="step %{customdata[0]}<br>p(pen lift) %{customdata[1]}<extra></extra>",
    ))
    layout = ink_layout(height)
    if at is not None:
        here = path[at + 1]
        traces.append(dict(type="scatter", x=[here[0]], y=[here[1]], mode="markers",
                           marker=dict(size=11, color=CLEAR, line=dict(color=INK, width=2)),
                           hoverinfo="skip"))
        # follow the pen: a window of the line around the current point
        layout["xaxis"]["range"] = [here[0] - FOLLOW_HALF_WIDTH, here[0] + FOLLOW_HALF_WIDTH]
    return plain_figure(traces, layout)


def _chained_hairs(origin: np.ndarray, drawn: np.ndarray, turns: np.ndarray):
    """A whole line's hairs as few, long paths: ``(xy, colour, opacity)`` per band of steps
    (:data:`HAIR_BANDS`) and colour. Within a band, a point's hairs of one colour (by their
    net turn over the band) are one path that runs out along each hair and back along it
    to where the next begins; points are apart by NaN. A browser draws a path's every
    separate piece at a cost, so a few thousand pieces draw in a fraction of the time of a
    piece per segment (hundreds of thousands), and a trace's opacity applies to the
    trace as a whole, so the way back does not darken the hair. Sent as float32.

    ``origin`` (P, 1, 1, 2) where each point's hairs begin, ``drawn`` (P, N, K, 2) their
    positions after each step, ``turns`` (P, N, K) their signed turns (NaN where unknown)."""
    points, futures, steps, _ = drawn.shape
    path = np.concatenate([np.broadcast_to(origin, (points, futures, 1, 2)), drawn], axis=2)  # (P, N, K+1, 2)
    known = np.isfinite(turns).all(axis=2)  # near the line's end the path runs out
    bounds = np.linspace(0, steps, HAIR_BANDS + 1).round().astype(int)
    for band, (a, b) in enumerate(zip(bounds[:-1], bounds[1:])):
        hairs = path[:, :, a:b + 1]  # (P, N, L, 2) the band's stretch of every hair
        there_and_back = np.concatenate([hairs, hairs[:, :, -2::-1]], axis=2).reshape(points, futures, -1, 2)
        net = turns[:, :, a:b].sum(axis=2)
        for colour, pick in ((RIGHT_COLOUR, known & (net > 0)), (LEFT_COLOUR, known & ~(net > 0))):
            pieces = []
            for t in np.flatnonzero(pick.any(axis=1)):
                pieces.append(there_and_back[t][pick[t]].reshape(-1, 2))
                pieces.append(np.full((1, 2), np.nan))
            xy = np.concatenate(pieces) if pieces else np.empty((0, 2))
            yield xy.astype(np.float32), colour, BAND_OPACITY[band]


def covariance_ellipse(mu_x, mu_y, sigma_x, sigma_y, rho, scale=2.0, points=40) -> np.ndarray:
    """The ``scale``-sigma ellipse of one bivariate normal, as (points, 2)."""
    cov = np.array([[sigma_x**2, rho * sigma_x * sigma_y], [rho * sigma_x * sigma_y, sigma_y**2]])
    values, vectors = np.linalg.eigh(cov)
    angles = np.linspace(0, 2 * np.pi, points)
    circle = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return np.array([mu_x, mu_y]) + scale * (circle * np.sqrt(np.maximum(values, 0))) @ vectors.T


#: The mixture figure's ellipse colour (r, g, b), and the fill opacity, outline opacity and
#: outline width of a component with no weight and of the heaviest one; the others lie between.
MIXTURE_RGB = _rgb(BLUE)
MIXTURE_FILL_ALPHA = (0.04, 0.55)
MIXTURE_LINE_ALPHA = (0.2, 1.0)
MIXTURE_LINE_WIDTH = (0.5, 3.0)
#: Components lighter than this are left out of the mixture figure: they would not show.
MIXTURE_MIN_WEIGHT = 1e-3


def _ellipse_style(relative: float) -> dict:
    """Fill and outline of a component whose weight is ``relative`` (0..1) of the heaviest's."""
    def between(bounds: tuple[float, float]) -> float:
        return bounds[0] + (bounds[1] - bounds[0]) * relative

    def rgba(alpha: float) -> str:
        return "rgba({}, {}, {}, {:.3f})".format(*MIXTURE_RGB, alpha)

    return dict(fillcolor=rgba(between(MIXTURE_FILL_ALPHA)),
                line=dict(color=rgba(between(MIXTURE_LINE_ALPHA)), width=between(MIXTURE_LINE_WIDTH)))


def mixture_figure(mix: Mixture, variation: float = 1.0, height: int = 260, title: str = "") -> go.Figure:
    """The next-offset distribution of one step, centred on the current pen position:
    each component's 2-sigma ellipse at this variation, its fill, outline and line width
    growing with its weight relative to the heaviest component, and the pen-lift
    probability always in the title (after ``title`` when one is given)."""
    pi = component_weights(mix.log_pi, variation)  # as the sampler picks a component
    pi = pi / pi.sum()
    shapes = []
    # Ellipses are layout shapes, not traces: shapes are cheap for the browser to
    # redraw when a slider moves, filled traces are not.
    # One trace of the centres carries the hover.
    shown = [k for k in np.argsort(pi) if pi[k] >= MIXTURE_MIN_WEIGHT]  # the heaviest drawn last, on top
    for k in shown:  # the sampler's sigmas times the variation; at 0 a speck, not nothing
        ring = covariance_ellipse(mix.mu_x[k], mix.mu_y[k], mix.sigma_x[k] * max(variation, 1e-3),
                                  mix.sigma_y[k] * max(variation, 1e-3), mix.rho[k])
        path = "M " + " L ".join(f"{x:.5g},{y:.5g}" for x, y in ring) + " Z"
        shapes.append(dict(type="path", path=path, xref="x", yref="y", **_ellipse_style(float(pi[k] / pi.max()))))
    centres = dict(
        type="scatter", x=mix.mu_x[shown], y=mix.mu_y[shown], mode="markers",
        marker=dict(size=4, color="rgb({}, {}, {})".format(*MIXTURE_RGB)),
        hovertemplate="component %{customdata[0]:.0f}<br>weight %{customdata[1]:.3f}<extra></extra>")
    if shown:
        centres["customdata"] = np.stack([np.asarray(shown, dtype=float), pi[shown]], axis=1)
    pen = dict(type="scatter", x=[0], y=[0], mode="markers", marker=dict(size=8, color=INK, symbol="x"),
               hovertemplate="current pen position<extra></extra>")
    eos = float(mix.eos)
    pen_lift = f"p(pen lift) = {eos:.2f}" if eos >= 0.01 else f"p(pen lift) = {eos:.2g}"  # not a bare 0.00
    layout = ink_layout(height)
    layout.update(title=dict(text=f"{title} · {pen_lift}" if title else pen_lift, font=dict(size=13)), shapes=shapes)
    grid = dict(visible=True, zeroline=True, showgrid=True, gridcolor=GRID)
    layout["xaxis"].update(grid, title=dict(text="dx (model units)"), nticks=4)
    layout["yaxis"].update(grid, title=dict(text="dy"))
    return plain_figure([centres, pen], layout)


def span_figure(rows: np.ndarray, start: int, stop: int, context: int = 40, height: int = 130,
                title: str | None = None) -> go.Figure:
    """A piece of a line around steps [start, stop), with that span drawn in colour."""
    layout = ink_layout(height)
    if title:
        layout["title"] = dict(text=title, font=dict(size=11))
    layout["margin"] = dict(l=4, r=4, t=24 if title else 4, b=4)
    return plain_figure(_span_traces(rows, start, stop, context), layout)


def _span_traces(rows: np.ndarray, start: int, stop: int, context: int) -> list[dict]:
    """The traces of :func:`span_figure`: the line around the span in grey, the span in colour."""
    path = path_points(rows)
    first, last = max(0, start - context), min(len(rows), stop + context)
    traces = []
    for lo, hi, colour, width in ((first, last, CONTEXT_INK, 1.6), (start, stop, RED, 2.6)):
        trace = _strokes(rows[lo:hi], path[lo], colour, width)
        if lo > 0 and rows[lo - 1, 2] > 0.5:  # the pen was lifted: row lo moves it, drawing nothing
            trace["x"], trace["y"] = trace["x"][1:], trace["y"][1:]
        traces.append(trace)
    return traces


# --- a line coloured point by point by a value ---------------------------------------

#: The article's heatmaps use a diverging brown-blue-green scale, centred on 0.
CELL_SCALE = "BrBG"
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


def coloured_line(rows: np.ndarray, values: np.ndarray, label: str = "value", colorscale: str = CELL_SCALE,
                  midpoint: float | None = 0.0, marker_at: int | None = None) -> go.Figure:
    """A line of handwriting with each point coloured by its value: the public name of
    :func:`coloured_path_figure`, with the cell pages' colours as defaults.

    Parameters
    ----------
    rows : numpy.ndarray
        The line's offset rows (T, 3): dx, dy and the pen bit, in model units.
    values : numpy.ndarray
        One value per row (T,), such as a cell's state along the line
        (``model.record(rows).c[:, 93]``) or the surprise at each point.
    label : str
        The colour bar's title and the hover label.
    colorscale : str
        A Plotly colour scale; by default the article's diverging brown-blue-green.
    midpoint : float or None
        The value the colour scale is centred on (0 suits a cell's state); None spans
        the values' 2nd to 98th percentile instead, for values with no natural centre.
    marker_at : int or None
        A step to ring in red.

    Returns
    -------
    plotly.graph_objects.Figure
        A new figure; the inputs are not changed.
    """
    return coloured_path_figure(rows, values, colorscale, label, midpoint, marker_at)


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
