"""Plotly figure builders (inkcore.figures, inkcore.cell_figures), and the turn angles
that colour the possibility figure (inkcore.sampling.future_turns)."""
from __future__ import annotations

import json

import numpy as np
import plotly.graph_objects as go
import pytest

from conftest import random_rows
from inkcore.cell_figures import (
    FULL_WIDTH_PX,
    colour_stops,
    coloured_path_figure,
    coloured_paths_figure,
    match_curve,
    score_bars,
    state_figure,
)
from inkcore.figures import _stroke_xy  # noqa: E402
from inkcore.figures import (
    CONTINUATION_COLOURS,
    LEFT_COLOUR,
    RIGHT_COLOUR,
    continuation_figure,
    covariance_ellipse,
    handwriting_figure,
    handwriting_grid,
    mixture_figure,
    path_points,
    CIRCLES_HALF_WIDTH,
    possibility_figure,
    span_figure,
    span_grid,
)
from inkcore.model import mixture
from inkcore.sampling import future_turns
from inkcore.strokes import split_strokes, to_absolute

# --- helpers -------------------------------------------------------------------------


def xy(trace) -> np.ndarray:
    """A trace's points (n, 2) with None turned into NaN."""
    to_float = lambda v: np.nan if v is None else float(v)  # noqa: E731
    return np.column_stack([[to_float(v) for v in trace.x], [to_float(v) for v in trace.y]])


def segments(trace) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """Every drawn line segment of a lines trace, as ((x0, y0), (x1, y1)) rounded to 1e-9."""
    points = xy(trace)
    found = []
    for a, b in zip(points[:-1], points[1:]):
        if np.isfinite(a).all() and np.isfinite(b).all():
            found.append((tuple(np.round(a, 9)), tuple(np.round(b, 9))))
    return found


def expected_segments(rows, start=(0.0, 0.0)):
    return [
        (tuple(np.round(a, 9)), tuple(np.round(b, 9)))
        for stroke in split_strokes(rows, start)
        for a, b in zip(stroke[:-1], stroke[1:])
    ]


def frozen(value):
    """A deep copy of arrays, tuples (NamedTuples too), lists and dicts, to compare with later."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return type(value)(*(frozen(v) for v in value))
    if isinstance(value, (list, tuple)):
        return type(value)(frozen(v) for v in value)
    if isinstance(value, dict):
        return {k: frozen(v) for k, v in value.items()}
    return value


def same(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.dtype == b.dtype \
            and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b


def assert_ink_axes(fig: go.Figure) -> None:
    """Handwriting is drawn with y growing downward at one-to-one aspect."""
    y = fig.layout.yaxis
    assert y.autorange == "reversed" or (y.autorange is False and y.range[0] > y.range[1])
    assert fig.layout.yaxis.scaleanchor == "x"
    assert fig.layout.yaxis.scaleratio == 1


# --- shared inputs ---------------------------------------------------------------------


@pytest.fixture
def rows(rng):
    return random_rows(rng, 30)


@pytest.fixture
def mix(small_model, rng):
    return mixture(small_model, rng.normal(0.0, 0.7, small_model.config.cells))


@pytest.fixture
def futures_of(rng):
    def make(rows, count=4, steps=3):
        futures = rng.normal(0.0, 0.5, (len(rows), count, steps, 3))
        futures[..., 2] = rng.random(futures.shape[:-1]) < 0.2
        return futures
    return make


def builder_calls(rows, mix, futures_of, rng):
    futures = futures_of(rows)
    turns = future_turns(rows, futures)
    eos = rng.random(len(rows))
    c = rng.normal(0.0, 1.0, (len(rows), 6))
    continuations = rng.normal(0.0, 0.5, (3, 10, 3))
    matched = {"ours": (np.arange(6), rng.permutation(6), rng.uniform(-1.0, 1.0, 6)),
               "theirs": (np.arange(6), rng.permutation(6), rng.uniform(-1.0, 1.0, 6))}
    return {
        "handwriting": (handwriting_figure, (rows,), {"title": "a line"}),
        "continuation": (continuation_figure, (rows, continuations), {"shown_steps": 4}),
        "possibility_all": (possibility_figure, (rows, futures, turns, eos), {}),
        "possibility_at": (possibility_figure, (rows, futures, turns, eos), {"at": 7}),
        "mixture": (mixture_figure, (mix,), {"variation": 0.5}),
        "coloured_path": (coloured_path_figure, (rows, c[:, 2], "BrBG", "cell 2"), {"midpoint": 0.0, "marker_at": 4}),
        "score_bars": (score_bars, ([(4, 0.9), (1, 0.5), (7, -0.2)], "pen lifts"), {}),
        "span": (span_figure, (rows, 10, 17), {"context": 5, "title": "a span"}),
        "handwriting_grid": (handwriting_grid, ([rows, rows[:5], rows[:0]], ["one", "two", "none"]), {}),
        "span_grid": (span_grid, ([(rows, 10, 17, "a"), (rows, 0, 4, "b")],), {"columns": 3}),
        "state": (state_figure, (c, 3), {}),
        "coloured_paths": (coloured_paths_figure, ([(rows, c[:, 1], "one"), (rows, c[:, 2], "two")], "BrBG"),
                           {"midpoint": 0.0}),
        "match_curve": (match_curve, (matched,), {"threshold": 0.7}),
    }


BUILDERS = ["handwriting", "continuation", "possibility_all", "possibility_at", "mixture", "coloured_path",
            "score_bars", "span", "handwriting_grid", "span_grid", "coloured_paths", "state", "match_curve"]
INK_BUILDERS = ["handwriting", "continuation", "possibility_all", "possibility_at", "mixture", "coloured_path", "span"]


@pytest.mark.parametrize("name", BUILDERS)
def test_every_builder_draws_the_same_figure_with_and_without_plotlys_checks(name, rows, mix, futures_of, rng,
                                                                            monkeypatch):
    from inkcore.figures import CHECK_ENV

    build, args, kwargs = builder_calls(rows, mix, futures_of, rng)[name]
    monkeypatch.setenv(CHECK_ENV, "1")
    checked = build(*args, **kwargs).to_json()
    monkeypatch.setenv(CHECK_ENV, "0")
    quick = build(*args, **kwargs)
    drawn = json.loads(quick.to_json())
    assert quick.to_json() == checked or _same_figure(drawn, json.loads(go.Figure(drawn).to_json()))


def _same_figure(a, b) -> bool:
    """Equal as drawn: numbers within rounding (a colour scale's stops), typed arrays by
    their values whatever their dtype, the rest exactly."""
    a, b = _typed_values(a), _typed_values(b)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_figure(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same_figure(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) < 1e-12 or (np.isnan(a) and np.isnan(b))
    return a == b


def _typed_values(value):
    """A typed array as Plotly sends it ({"dtype", "bdata"}), as a list of its values."""
    if isinstance(value, dict) and set(value) == {"dtype", "bdata"}:
        import base64

        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).astype(float).tolist()
    return value


@pytest.mark.parametrize("name", BUILDERS)
def test_every_builder_returns_a_new_figure_and_changes_none_of_its_inputs(name, rows, mix, futures_of, rng):
    build, args, kwargs = builder_calls(rows, mix, futures_of, rng)[name]
    kept = frozen((args, kwargs))
    first = build(*args, **kwargs)
    second = build(*args, **kwargs)
    assert isinstance(first, go.Figure) and first is not second
    assert len(first.data) >= 1
    assert same((args, kwargs), kept)
    first.update_layout(height=999)
    assert second.layout.height != 999  # no layout shared between figures


@pytest.mark.parametrize("name", INK_BUILDERS)
def test_handwriting_is_drawn_with_y_down_at_one_to_one(name, rows, mix, futures_of, rng):
    build, args, kwargs = builder_calls(rows, mix, futures_of, rng)[name]
    assert_ink_axes(build(*args, **kwargs))


# --- handwriting and continuations -----------------------------------------------------


def test_handwriting_figure_draws_every_stroke_and_no_pen_up_move(rows):
    fig = handwriting_figure(rows)
    assert len(fig.data) == 1
    drawn = segments(fig.data[0])
    assert drawn == expected_segments(rows)
    assert sum(v is None for v in fig.data[0].x) == len(split_strokes(rows))
    lifts = np.flatnonzero(rows[:-1, 2] == 1)
    positions = path_points(rows)
    for t in lifts + 1:  # row t moves with the pen up, from point t to point t + 1
        jump = (tuple(np.round(positions[t], 9)), tuple(np.round(positions[t + 1], 9)))
        assert jump not in drawn


def test_handwriting_figure_of_no_rows_is_empty_but_valid():
    fig = handwriting_figure(np.zeros((0, 3)))
    assert isinstance(fig, go.Figure) and len(fig.data[0].x) == 0


def test_continuation_figure_has_the_ink_and_one_trace_per_candidate(rows, rng):
    rows = rows.copy()
    rows[-1, 2] = 0  # the writer's pen is still down
    candidates = rng.normal(0.0, 0.5, (4, 12, 3))
    candidates[..., 2] = 0
    fig = continuation_figure(rows, candidates)
    assert len(fig.data) == 2 * len(candidates)  # each candidate after its own copy of the writing
    end = to_absolute(rows)[-1]
    shifts = []
    for index, candidate in enumerate(candidates):
        writing, trace = fig.data[2 * index], fig.data[2 * index + 1]
        assert trace.name == f"continuation {index + 1}"
        assert trace.line.color == CONTINUATION_COLOURS[index]
        shift = xy(writing)[0] - xy(fig.data[0])[0]
        assert shift[0] == 0
        np.testing.assert_allclose(xy(writing)[:-1] - shift, xy(fig.data[0])[:-1])  # the same writing, moved down
        points = xy(trace)
        np.testing.assert_allclose(points[0], end + shift)  # carries straight on from the pen
        np.testing.assert_allclose(points[-2], end + shift + candidate[:, :2].sum(axis=0))
        shifts.append(shift[1])
    assert segments(fig.data[0]) == expected_segments(rows)
    # candidates are told apart: each copy sits below the last, further than the writing is tall
    height = np.ptp(np.array([p for p in xy(fig.data[0]) if np.all(np.isfinite(p))])[:, 1])
    assert np.all(np.diff(shifts) > height)


def test_one_candidate_is_drawn_after_the_writing_itself(rows, rng):
    candidates = rng.normal(0.0, 0.5, (1, 5, 3))
    fig = continuation_figure(rows, candidates)
    assert [trace.name for trace in fig.data] == ["your writing", "continuation 1"]


def test_a_continuation_after_a_pen_lift_does_not_join_the_writing(rows, rng):
    rows = rows.copy()
    rows[-1, 2] = 1
    candidates = rng.normal(0.0, 0.5, (2, 6, 3))
    candidates[..., 2] = 0
    candidates[:, 0, :2] = [5.0, 0.0]  # the first row is the pen-up jump to the next stroke
    fig = continuation_figure(rows, candidates, shown_steps=4)
    end = to_absolute(rows)[-1]
    for index, candidate in enumerate(candidates):
        shift = xy(fig.data[2 * index])[0] - xy(fig.data[0])[0]
        points = xy(fig.data[2 * index + 1])
        np.testing.assert_allclose(points[0], end + shift + candidate[0, :2])
        finite = points[np.isfinite(points).all(axis=1)]
        assert len(finite) == 4  # shown_steps points, the jump's start left out
        assert not any(np.allclose(a, end + shift) for a in finite)


def test_continuation_figure_without_writing_starts_at_the_origin(rng):
    candidates = rng.normal(0.0, 0.5, (2, 5, 3))
    candidates[..., 2] = 0
    fig = continuation_figure(np.zeros((0, 3)), candidates)
    assert len(fig.data) == 4
    np.testing.assert_allclose(xy(fig.data[1])[0], [0.0, 0.0])
    assert xy(fig.data[3])[0][1] > 0  # the second candidate below the first


# --- possibility space -------------------------------------------------------------------


def tiny_possibilities():
    """Three rows, two futures of two steps, with turns chosen by hand (not measured):
    the figure colours by the turns it is given."""
    rows = np.array([[1.0, 0.0, 0.0], [1.0, 0.5, 0.0], [1.0, 0.0, 1.0]])
    futures = np.zeros((3, 2, 2, 3))
    futures[..., 0] = 1.0
    futures[..., 1] = np.arange(12).reshape(3, 2, 2) * 0.1  # every segment different
    turns = np.array([
        [[0.3, -0.2], [0.0, 0.8]],
        [[-1.0, -0.1], [2.0, 0.4]],
        [[np.nan, np.nan], [0.1, np.nan]],
    ])
    eos = np.array([0.0, 0.25, 1.0])
    return rows, futures, turns, eos


def hair_segments(rows, futures, pick):
    """The expected (start, end) of every hair segment [t, n, k] where pick[t, n, k]."""
    path = path_points(rows)
    found = []
    for t, n, k in zip(*np.nonzero(pick)):
        begin = path[t + 1] + futures[t, n, :k, :2].sum(axis=0)
        found.append((tuple(np.round(begin, 9)), tuple(np.round(begin + futures[t, n, k, :2], 9))))
    return sorted(found)


def coloured_hairs(fig, colour):
    traces = [t for t in fig.data if t.line is not None and t.line.color == colour]
    separators = sum(int(np.isnan(xy(t)[:, 0]).sum()) for t in traces)
    return traces, separators, sorted(s for t in traces for s in segments(t))


@pytest.mark.parametrize("at", [None, 0, 1, 2])
def test_possibility_figure_colours_each_hair_by_its_turn(at):
    rows, futures, turns, eos = tiny_possibilities()
    fig = possibility_figure(rows, futures, turns, eos, at=at)
    shown = np.zeros(turns.shape, bool)
    shown[slice(None) if at is None else at] = True
    right, right_count, right_segments = coloured_hairs(fig, RIGHT_COLOUR)
    left, left_count, left_segments = coloured_hairs(fig, LEFT_COLOUR)
    assert right_count == np.sum((turns > 0) & shown)
    assert left_count == np.sum((turns <= 0) & shown)
    assert right_segments == hair_segments(rows, futures, (turns > 0) & shown)
    assert left_segments == hair_segments(rows, futures, (turns <= 0) & shown)
    assert len(right) == len(left) == futures.shape[2]  # one trace per colour and step
    opacities = [t.opacity for t in right]
    assert opacities == sorted(opacities, reverse=True) and opacities[-1] > 0  # later steps fainter


def test_possibility_figure_draws_the_line_and_pen_lift_circles():
    rows, futures, turns, eos = tiny_possibilities()
    fig = possibility_figure(rows, futures, turns, eos)
    assert segments(fig.data[0]) == expected_segments(rows)
    circles = [t for t in fig.data if t.mode == "markers"]
    assert len(circles) == 1
    np.testing.assert_allclose(xy(circles[0]), path_points(rows)[1:])
    np.testing.assert_allclose(circles[0].marker.size, 2 * (0.7 + 5 * np.sqrt(eos)))


def test_possibility_figure_at_a_step_draws_the_circles_near_the_pen():
    rows = np.tile([4.0, 0.0, 0.0], (100, 1))  # a straight line 400 units long, to the right
    eos = np.linspace(0.0, 1.0, 100)
    futures = np.zeros((1, 2, 3, 3))
    fig = possibility_figure(rows, futures, np.zeros((1, 2, 3)), eos, at=50, points=np.array([50]))
    circles = [t for t in fig.data if t.mode == "markers" and t.customdata is not None][0]
    steps = np.asarray(circles.customdata)[:, 0].astype(int)
    near = np.flatnonzero(np.abs(4.0 * (np.arange(100) - 50)) <= CIRCLES_HALF_WIDTH)
    np.testing.assert_array_equal(steps, near)  # only those, each hovering with its own step
    np.testing.assert_allclose(np.asarray(circles.customdata)[:, 1], np.round(eos[near], 3))


def test_possibility_figure_at_a_step_rings_that_point():
    rows, futures, turns, eos = tiny_possibilities()
    fig = possibility_figure(rows, futures, turns, eos, at=1)
    rings = [t for t in fig.data if t.mode == "markers" and len(t.x) == 1]
    assert len(rings) == 1
    np.testing.assert_allclose(xy(rings[0])[0], path_points(rows)[2])


# --- the mixture ---------------------------------------------------------------------------


def test_covariance_ellipse_is_the_scale_sigma_contour():
    mu, sigma, rho = np.array([0.4, -1.2]), np.array([0.5, 1.5]), -0.6
    ring = covariance_ellipse(*mu, *sigma, rho, scale=2.0, points=40)
    cov = np.array([[sigma[0] ** 2, rho * sigma[0] * sigma[1]], [rho * sigma[0] * sigma[1], sigma[1] ** 2]])
    d = ring - mu
    np.testing.assert_allclose(np.einsum("ni,ij,nj->n", d, np.linalg.inv(cov), d), 4.0, rtol=1e-9)
    np.testing.assert_allclose(ring[:-1].mean(axis=0), mu, atol=1e-12)  # 39 evenly spaced angles
    np.testing.assert_allclose(ring[0], ring[-1])  # closed


def rgba_alpha(colour: str) -> float:
    """The opacity of a plotly ``rgba(r, g, b, a)`` colour."""
    assert colour.startswith("rgba(")
    return float(colour[5:-1].split(",")[3])


def sampler_weights(mix, variation: float) -> np.ndarray:
    """The component weights inkcore.sampling.sample draws by, written out again."""
    if variation == 0:
        return np.eye(len(mix.pi))[np.argmax(mix.pi)]
    pi = mix.pi ** (1.0 / variation)
    return pi / pi.sum()


def ring_points(shape) -> np.ndarray:
    """The (x, y) corners of an SVG path shape "M x,y L x,y ... Z"."""
    corners = shape.path.replace("M", "").replace("Z", "").split("L")
    return np.array([[float(v) for v in corner.split(",")] for corner in corners])


@pytest.mark.parametrize("variation", [1.0, 0.5, 0.0])
def test_mixture_figure_draws_the_weighty_components_centred_on_their_means(mix, variation):
    fig = mixture_figure(mix, variation=variation)
    pi = sampler_weights(mix, variation)
    kept = np.flatnonzero(pi >= 1e-3)
    rings, (centres, pen) = fig.layout.shapes, fig.data
    assert len(rings) == len(kept)
    assert np.allclose(xy(pen), [[0.0, 0.0]])
    drawn_order = []
    for ring in rings:
        assert ring.xref == "x" and ring.yref == "y"
        centre = ring_points(ring)[:-1].mean(axis=0)
        k = int(np.argmin(np.hypot(mix.mu_x - centre[0], mix.mu_y - centre[1])))
        np.testing.assert_allclose(centre, [mix.mu_x[k], mix.mu_y[k]], atol=1e-3)
        drawn_order.append(pi[k])
    assert drawn_order == sorted(drawn_order)  # the heaviest on top
    hover = np.asarray(centres.customdata)  # [component, weight] for each ellipse, in the same order
    np.testing.assert_array_equal(np.sort(hover[:, 0].astype(int)), kept)
    np.testing.assert_allclose(hover[:, 1], pi[hover[:, 0].astype(int)], rtol=1e-6)
    np.testing.assert_allclose(xy(centres), np.stack([mix.mu_x, mix.mu_y], 1)[hover[:, 0].astype(int)], rtol=1e-6)


def test_mixture_figure_ellipses_grow_bolder_with_their_weight(mix):
    fig = mixture_figure(mix, variation=1.0)
    rings = fig.layout.shapes
    assert len(rings) >= 2, "the fixture's mixture should have several visible components"
    weights = np.sort(sampler_weights(mix, 1.0))[-len(rings):]  # drawn lightest first
    assert len(np.unique(weights)) == len(weights)
    fills = [rgba_alpha(ring.fillcolor) for ring in rings]
    outlines = [rgba_alpha(ring.line.color) for ring in rings]
    widths = [ring.line.width for ring in rings]
    for style in (fills, outlines, widths):  # strictly bolder as the weight grows
        assert all(a < b for a, b in zip(style[:-1], style[1:])), style
    # the heaviest component is drawn at full strength whatever its absolute weight,
    # and one of a tenth of its weight is clearly fainter
    assert fills[-1] == pytest.approx(max(fills)) and fills[-1] >= 0.5 and outlines[-1] == pytest.approx(1.0)
    tenth = mixture_figure(mix._replace(log_pi=np.log(np.array([0.1, 1.0, 0.0001]) / 1.1001)), variation=1.0)
    light, heavy = tenth.layout.shapes[0], tenth.layout.shapes[1]
    assert rgba_alpha(light.fillcolor) < 0.2 * rgba_alpha(heavy.fillcolor)
    assert light.line.width < heavy.line.width / 2
    assert all(ring.opacity in (None, 1) for ring in rings)  # no shape-wide fading on top


@pytest.mark.parametrize("title", ["", "The next point", "Point 41"])
def test_mixture_figure_always_shows_the_pen_lift_probability(mix, title):
    for eos, shown in ((0.03, "0.03"), (0.62, "0.62"), (0.999, "1.00"), (0.0031, "0.0031"), (2e-5, "2e-05")):
        lifted = mix._replace(eos_logit=np.log(eos / (1 - eos)))
        text = mixture_figure(lifted, variation=0.5, title=title).layout.title.text
        assert text.endswith(f"p(pen lift) = {shown}")
        assert text.startswith(title)


# --- values along the path ---------------------------------------------------------------


def test_coloured_path_figure_centres_the_colour_scale_on_the_midpoint(rows, rng):
    values = rng.normal(0.3, 2.0, len(rows))
    values[5] = np.nan
    fig = coloured_path_figure(rows, values, "BrBG", "cell", midpoint=0.0, folds=1)
    marker = fig.data[1].marker
    limit = np.nanmax(np.abs(values))
    assert marker.cmid == 0.0
    assert marker.cmin == pytest.approx(-limit) and marker.cmax == pytest.approx(limit)
    assert marker.cmin == -marker.cmax
    np.testing.assert_allclose(xy(fig.data[1]), path_points(rows)[1:])
    np.testing.assert_array_equal(np.asarray(marker.color), values)

    shifted = coloured_path_figure(rows, values, "BrBG", "cell", midpoint=0.5).data[1].marker
    assert shifted.cmin + shifted.cmax == pytest.approx(1.0)
    plain = coloured_path_figure(rows, values, "YlOrRd", "nats").data[1].marker
    # without a midpoint the scale spans the 2nd to 98th percentile, so outliers do not wash it out
    assert (plain.cmin, plain.cmax) == pytest.approx(tuple(np.nanpercentile(values, [2, 98])))
    flat = coloured_path_figure(rows, np.zeros(len(rows)), "BrBG", "cell", midpoint=0.0).data[1].marker
    assert (flat.cmin, flat.cmax) == (-1.0, 1.0)  # a constant line still has a scale


@pytest.mark.parametrize("marker_at, rings", [(0, 1), (29, 1), (30, 0), (-1, 0), (None, 0)])
def test_coloured_path_figure_rings_the_chosen_point(rows, marker_at, rings):
    fig = coloured_path_figure(rows, np.arange(len(rows), dtype=float), "BrBG", "cell", marker_at=marker_at)
    assert len(fig.data) == 2 + rings
    if rings:
        np.testing.assert_allclose(xy(fig.data[2])[0], xy(fig.data[1])[marker_at])  # on the point, folded or not
    unfolded = coloured_path_figure(rows, np.arange(len(rows), dtype=float), "BrBG", "cell", marker_at=marker_at,
                                    folds=1)
    if rings:
        np.testing.assert_allclose(xy(unfolded.data[2])[0], path_points(rows)[marker_at + 1])


def long_line(rng, points: int = 600) -> np.ndarray:
    """A line like IAM-OnDB's: about 150 model units wide and 10 tall, a pen lift every 25 points."""
    rows = np.column_stack([np.full(points, 0.25), rng.normal(0.0, 0.4, points), np.zeros(points)])
    rows[24::25, 2] = 1
    rows[:, 1] -= rows[:, 1].mean()
    return rows


def test_a_long_coloured_line_is_folded_into_rows_and_given_the_height_it_needs(rng):
    rows = long_line(rng)
    values = rng.normal(size=len(rows))
    strip = coloured_path_figure(rows, values, "BrBG", "cell", folds=1)
    folded = coloured_path_figure(rows, values, "BrBG", "cell")
    flat, rowed = xy(strip.data[1]), xy(folded.data[1])
    assert len(rowed) == len(rows)  # every point, in order: step t is still marker t
    assert np.ptp(rowed[:, 0]) < 0.6 * np.ptp(flat[:, 0])  # rows narrower than the line...
    assert np.ptp(rowed[:, 1]) > 1.8 * np.ptp(flat[:, 1])  # ...stacked one under another
    assert folded.layout.height > strip.layout.height >= 220
    # at the width it is sized for, a row's ink is drawn at least twice as large as the strip's
    def drawn_scale(fig, points):  # pixels per model unit when the ink fills the figure one way or the other
        return min(FULL_WIDTH_PX / np.ptp(points[:, 0]), (fig.layout.height - 60) / np.ptp(points[:, 1]))

    assert drawn_scale(folded, rowed) > 2 * drawn_scale(strip, flat)
    # the grey ink breaks at every pen lift and at each fold, never joining two rows
    ink = xy(folded.data[0])
    for a, b in zip(ink[:-1], ink[1:]):
        if np.isfinite(a).all() and np.isfinite(b).all():
            assert abs(b[1] - a[1]) < 4 and abs(b[0] - a[0]) < 1


def test_a_short_line_is_not_folded(rows):
    values = np.arange(len(rows), dtype=float)
    np.testing.assert_allclose(xy(coloured_path_figure(rows, values, "BrBG", "cell").data[1]), path_points(rows)[1:])


@pytest.mark.parametrize("build", [lambda rows: handwriting_figure(rows, height=170),
                                   lambda rows: coloured_path_figure(rows, np.zeros(len(rows)), "BrBG", "c")])
def test_the_axes_hold_the_whole_line_so_nothing_is_cut_at_the_edge(build, rng):
    rows = long_line(rng)
    fig = build(rows)
    ink = xy(fig.data[-1] if len(fig.data) == 1 else fig.data[1])
    ink = ink[np.isfinite(ink).all(axis=1)]
    (x0, x1), (y0, y1) = fig.layout.xaxis.range, fig.layout.yaxis.range
    assert x0 < ink[:, 0].min() and ink[:, 0].max() < x1
    assert y1 < ink[:, 1].min() and ink[:, 1].max() < y0  # reversed: y grows downward
    assert fig.layout.xaxis.constrain == "domain" and fig.layout.yaxis.constrain == "domain"


# --- colour scales ------------------------------------------------------------------------


def test_colour_stops_run_from_brown_through_white_to_green():
    stops = colour_stops()
    assert stops[0][0] == 0.0 and stops[-1][0] == 1.0
    assert [s for s, _ in stops] == sorted(s for s, _ in stops)
    (_, low), (_, mid), (_, high) = stops[0], stops[len(stops) // 2], stops[-1]
    assert low[0] > low[2] and high[1] > high[0] and min(mid) > 230  # brown, near white, green


# --- bars and spans -----------------------------------------------------------------------


def test_score_bars_list_the_cells_top_down_with_their_scores():
    scores = [(4, 0.91), (17, 0.5), (3, -0.25)]
    fig = score_bars(scores, "pen lifts")
    bar = fig.data[0]
    assert isinstance(bar, go.Bar) and bar.orientation == "h"
    assert list(bar.x) == [0.91, 0.5, -0.25]
    assert list(bar.y) == ["cell 4", "cell 17", "cell 3"]
    assert fig.layout.yaxis.autorange == "reversed"
    assert fig.layout.title.text == "pen lifts"


def test_span_figure_draws_the_span_in_colour_over_its_context(rows):
    rows = rows.copy()
    rows[:, 2] = 0
    start, stop = 10, 17
    fig = span_figure(rows, start, stop, context=5)
    context, span = fig.data
    path = path_points(rows)
    np.testing.assert_allclose(xy(span)[:-1], path[start : stop + 1])
    np.testing.assert_allclose(xy(context)[:-1], path[start - 5 : stop + 5 + 1])
    assert span.line.width > context.line.width


def test_span_figure_at_the_ends_of_the_line(rows):
    rows = rows.copy()
    rows[:, 2] = 0
    fig = span_figure(rows, 0, len(rows), context=40)
    path = path_points(rows)
    for trace in fig.data:
        np.testing.assert_allclose(xy(trace)[:-1], path)


def test_span_figure_does_not_draw_the_pen_up_move_into_the_span():
    """A span (or its context) that begins right after a pen lift begins with a
    pen-up move; like every other figure, it must not be drawn as ink."""
    rows = np.zeros((12, 3))
    rows[:, 0] = 0.5
    rows[4, 2] = 1  # the pen lifts after row 4 ...
    rows[5, :2] = [10.0, -3.0]  # ... and row 5 moves it to the next stroke
    rows[-1, 2] = 1
    path = path_points(rows)
    jump = (tuple(np.round(path[5], 9)), tuple(np.round(path[6], 9)))
    for start, context in ((5, 0), (5, 3), (8, 3), (2, 2)):
        fig = span_figure(rows, start, 11, context=context)
        for trace in fig.data:
            assert jump not in segments(trace), (start, context)
        drawn = {s for trace in fig.data for s in segments(trace)}
        assert expected_segments(rows[6:11], path[6])[0] in drawn  # the next stroke is drawn


# --- turns: which way a possible future veers -----------------------------------------


def straight_path(direction, length=6):
    rows = np.zeros((length, 3))
    rows[:, :2] = direction
    return rows


def futures_all(direction, length=6, count=1, steps=3):
    futures = np.zeros((length, count, steps, 3))
    futures[..., :2] = direction
    return futures


@pytest.mark.parametrize("path_direction, future_direction, angle", [
    ((1.0, 0.0), (1.0, 1.0), np.pi / 4),  # going right, veering down the page: right turn
    ((1.0, 0.0), (1.0, -1.0), -np.pi / 4),  # going right, veering up the page: left turn
    ((0.0, 1.0), (-1.0, 1.0), np.pi / 4),  # going down the page, veering to its left side: right turn
    ((-1.0, 0.0), (-1.0, -1.0), np.pi / 4),  # going left, veering up: right turn (wrapped, not -7 pi / 4)
    ((-1.0, 0.0), (-1.0, 1.0), -np.pi / 4),
    ((1.0, 0.0), (1.0, 0.0), 0.0),
])
def test_future_turns_are_positive_to_the_right_on_the_page(path_direction, future_direction, angle):
    rows, futures = straight_path(path_direction), futures_all(future_direction)
    turns = future_turns(rows, futures)
    known = turns[np.isfinite(turns)]
    assert known.size > 0
    np.testing.assert_allclose(known, angle, atol=1e-12)


def test_future_turns_are_nan_where_the_line_has_ended():
    length, steps = 6, 3
    turns = future_turns(straight_path((1.0, 0.0), length), futures_all((1.0, 1.0), length, count=2, steps=steps))
    assert turns.shape == (length, 2, steps)
    for t in range(length):
        for k in range(1, steps + 1):  # the path has a point k steps after point t + 1 while t + 1 + k <= length
            assert np.isnan(turns[t, :, k - 1]).all() == (t + 1 + k > length), (t, k)


def test_a_future_that_follows_the_real_line_does_not_turn(rng):
    rows = random_rows(rng, 25)
    steps = 4
    futures = np.zeros((len(rows), 1, steps, 3))
    for t in range(len(rows)):
        ahead = rows[t + 1 : t + 1 + steps]
        futures[t, 0, : len(ahead)] = ahead
    kept = futures.copy()
    turns = future_turns(rows, futures)
    assert np.array_equal(futures, kept)
    known = np.isfinite(turns)
    assert known.sum() == sum(min(steps, len(rows) - 1 - t) for t in range(len(rows)))
    np.testing.assert_allclose(turns[known], 0.0, atol=1e-9)


def test_future_turns_stay_within_a_half_turn(rng):
    rows = random_rows(rng, 40)
    turns = future_turns(rows, rng.normal(0.0, 1.0, (40, 5, 6, 3)))
    known = turns[np.isfinite(turns)]
    assert np.all(np.abs(known) <= np.pi)
    assert (known > 0).any() and (known < 0).any()


def test_state_figure_shows_every_cell_at_the_step(rng):
    c = rng.normal(0.0, 1.0, (12, 9))
    fig = state_figure(c, 4)
    above, below = fig.data
    np.testing.assert_allclose(np.asarray(above.y) + np.asarray(below.y), c[4], rtol=1e-6)
    assert (np.asarray(above.y) >= 0).all() and (np.asarray(below.y) <= 0).all()
    np.testing.assert_array_equal(np.asarray(above.x), np.arange(9))
    np.testing.assert_allclose(np.asarray(above.customdata), c[4], rtol=1e-6)  # hover gives the value
    assert above.line.color != below.line.color
    assert "step 4" in fig.layout.title.text


def test_a_grid_gives_each_line_a_panel_of_its_own_at_one_scale_fitted_to_it(rows):
    lines = [rows, rows[:6] * 3, rows[:0]]
    fig = handwriting_grid(lines, ["a", "b", "c"], columns=2, row_height=150)
    assert [t.name for t in fig.data] == ["a", "b", "c"]
    assert {(t.xaxis or "x", t.yaxis or "y") for t in fig.data} == {("x", "y")}  # one pair of axes
    assert fig.layout.height == 2 * 150  # two rows of two columns
    assert fig.layout.yaxis.scaleanchor == "x" and fig.layout.yaxis.scaleratio == 1
    assert fig.layout.yaxis.range[0] > fig.layout.yaxis.range[1]  # y grows downward, as ink's does
    boxes = []
    for trace, line in zip(fig.data[:2], lines):
        drawn = np.array([(x, y) for x, y in zip(trace.x, trace.y) if x is not None])
        points = path_points(line)
        inked = np.array([(x, y) for x, y in zip(*_stroke_xy(line)) if x is not None])
        # moved and scaled by one factor for x and y: the ink's shape is kept
        scale = np.ptp(drawn, axis=0) / np.ptp(inked, axis=0)
        assert scale[0] == pytest.approx(scale[1])
        assert np.all(np.ptp(drawn, axis=0) > 0) and len(points)
        boxes.append((drawn.min(axis=0), drawn.max(axis=0)))
    (a_low, a_high), (b_low, b_high) = boxes
    assert a_high[0] < b_low[0]  # side by side, not overlapping
    cell = np.array([1.0, fig.layout.yaxis.range[0] / 2])  # a cell's width and height (two rows)
    assert max((a_high - a_low) / cell) > 0.6  # fitted to its panel: it fills it one way, under its title
    titles = {a.text: a for a in fig.layout.annotations}
    assert list(titles) == ["a", "b", "c"]
    assert titles["c"].y > titles["a"].y == titles["b"].y  # the third line is on the next row, under the first
    assert titles["c"].x == titles["a"].x < titles["b"].x
    assert titles["a"].y <= a_low[1]  # each title above its line


def test_two_coloured_lines_in_one_figure_each_have_their_panel_and_colour_bar(rows, rng):
    c = rng.normal(0.0, 1.0, (len(rows), 2))
    fig = coloured_paths_figure([(rows, c[:, 0], "ours 3"), (rows, c[:, 1], "theirs 7")], "BrBG", midpoint=0.0)
    alone = coloured_path_figure(rows, c[:, 1], "BrBG", "theirs 7", midpoint=0.0)
    scaled = [t for t in fig.data if t.marker and t.marker.showscale]
    assert [t.marker.colorbar.title.text for t in scaled] == ["ours 3", "theirs 7"]
    assert [t.yaxis for t in scaled] == ["y", "y2"]
    np.testing.assert_array_equal(scaled[1].marker.color, alone.data[1].marker.color)
    assert scaled[1].marker.cmax == alone.data[1].marker.cmax  # each coloured on its own scale
    top, bottom = fig.layout.yaxis.domain, fig.layout.yaxis2.domain
    assert bottom[1] < top[0]  # one under the other
    assert scaled[0].marker.colorbar.y > scaled[1].marker.colorbar.y  # each bar beside its own line
