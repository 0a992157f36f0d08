"""Why this point, on the Surprise page (and under the cell pages' step): choose a point
(a click on the line, or by number), and the line is coloured by each earlier point's attribution to the model's
prediction of it, with attribution against lag and the cells (and features) that
mattered most at the step that predicted it (:mod:`inkcore.attribution`)."""
from __future__ import annotations

import numpy as np
import streamlit as st

from dashboard import background, cached, controls, features
from dashboard.models import LoadedModel
from inkcore import attribution, cell_figures

#: Session keys of the section's controls, and where the surprise chart's click lands.
POINT, METHOD, CHART = "surprise_point", "surprise_method", "surprise_chart"
#: The line the point belongs to, and the click on the chart last taken as the point.
LINE_SEEN, CLICK_SEEN = "_surprise_point_line", "_surprise_click_seen"
METHODS = {"Integrated gradients": "ig", "Gradient × input": "grad"}
#: What the section lists.
LISTED_CELLS, LISTED_FEATURES = 8, 5
#: The surprise chart's trace of points, whose point numbers are the line's steps.
POINT_TRACE = 1


def first_point(nll: np.ndarray) -> int:
    """The point the section opens on: the most surprising one with points before it."""
    return int(np.argmax(nll[1:]) + 1) if len(nll) > 1 else 0


def _clicked_point() -> int | None:
    """The point a click on the surprise chart chose, once per click."""
    event = st.session_state.get(CHART) or {}
    points = [p for p in (event.get("selection") or {}).get("points", []) if p.get("curve_number") == POINT_TRACE]
    if not points or points[0].get("point_index") == st.session_state.get(CLICK_SEEN):
        return None
    st.session_state[CLICK_SEEN] = points[0].get("point_index")
    return int(points[0]["point_index"])


def _job(loaded: LoadedModel, rows: np.ndarray, at: int, method: str):
    """The attribution cache's key for point ``at`` of ``rows``, and the work that computes it."""
    model, rows = loaded.model, np.array(rows)

    def work(report):
        return attribution.explain(model, rows, at, method, report=report)

    return (loaded.key, cached.line_digest(rows), at, method), work


def explained(loaded: LoadedModel, rows: np.ndarray, at: int, method: str):
    """``(explanation, job)`` as :func:`dashboard.background.newest` gives them; ``(None, job)``
    while the line's first explanation is computed."""
    key, work = _job(loaded, rows, at, method)
    return background.newest(cached.attribution_cache(), key, work, f"_attribution_shown:{key[1]}",
                             f"Attributing point {at} to the points before it…", wait=False)


def explain_ahead(loaded: LoadedModel, rows: np.ndarray, nll: np.ndarray) -> None:
    """What the section opens on for ``rows`` (its most surprising point, by the default
    method), computed now, as the page's read-ahead does for the examples near the chosen one."""
    at = first_point(nll)
    if at == 0:
        return
    key, work = _job(loaded, rows, at, METHODS[list(METHODS)[0]])
    if cached.attribution_cache().get(key) is None:
        cached.attribution_cache().start(key, work).finished.wait()


def point_controls(nll: np.ndarray, line: str) -> tuple[int, str]:
    """The point and the method chosen; a new line opens on its most surprising point."""
    if st.session_state.get(LINE_SEEN) != line:
        st.session_state[POINT] = first_point(nll)
        st.session_state[LINE_SEEN] = line
        st.session_state.pop(CLICK_SEEN, None)
    clicked = _clicked_point()
    if clicked is not None:
        st.session_state[POINT] = clicked
    st.session_state[POINT] = int(np.clip(st.session_state.get(POINT, 0), 0, len(nll) - 1))
    left, right = st.columns([1, 2])
    at = int(left.number_input("Point", 0, len(nll) - 1, key=POINT,
                               help="Click a point on the line above, or give its number"))
    label = right.segmented_control("Attribution", list(METHODS), default=list(METHODS)[0], key=METHOD,
                                    help="Integrated gradients: each earlier point's share of the change from a "
                                         "line of all-zero offsets. Gradient × input: the first-order share.")
    return at, METHODS[label or list(METHODS)[0]]


def why_this_point(loaded: LoadedModel, rows: np.ndarray, nll: np.ndarray, example: str | None) -> None:
    st.subheader("Why this point: what the model remembered")
    st.caption("Choose a point: each point before it is coloured by how much it made the model expect it (blue) "
               "or not (red). The bars say how far back that came from; the cells below are those that "
               "mattered most at the step that predicted the point.")
    line = cached.line_digest(rows)
    at, method = point_controls(nll, line)
    explanation(loaded, rows, at, method, "surprise", example, nll[at])


def why_next_point(loaded: LoadedModel, rows: np.ndarray, step: int, prefix: str, example: str | None) -> None:
    """On the cell pages, under the step: at a reader's request, what made the model predict
    the point after ``step`` (the state at step t has read rows 0..t and predicts row t + 1)."""
    if not st.toggle("Why the next point", key=f"{prefix}_why", help="Attribute the model's prediction of the point "
                     "after this step to every point before it, as the Surprise page does"):
        return
    if step + 1 >= len(rows):
        st.info("This is the line's last step: no point of the line comes after it.")
        return
    explanation(loaded, rows, step + 1, "ig", prefix, example)


def explanation(loaded: LoadedModel, rows: np.ndarray, at: int, method: str, prefix: str, example: str | None,
                surprise: float | None = None) -> None:
    """Point ``at`` explained: the line coloured by attribution, the figures, the lag bars and
    the cells and features that mattered, the widgets keyed by ``prefix``."""
    if at == 0:
        st.info("Point 0 is the line's first: nothing comes before it. Choose a later point.")
        return
    found, job = explained(loaded, rows, at, method)
    if job is not None:
        background.updating_mark(job, f"attributing point {at}")
    if found is None:  # the line's first point asked for: the rest of the page does not wait for it
        return
    at = found.at  # while a new point is attributed, the last one shown stays, under the mark
    values = np.zeros(len(rows))
    values[:at] = found.row_values()
    st.plotly_chart(cell_figures.coloured_path_figure(rows, values, cell_figures.ATTRIBUTION_SCALE, "attribution",
                                                      midpoint=0.0, marker_at=at), key=f"{prefix}_attribution")
    likelihood, half, most, gap = st.columns(4)
    likelihood.metric(f"log p(point {at})", f"{found.log_likelihood:.2f} nats",
                      help=None if surprise is None else f"{surprise:.2f} nats of surprise")
    half.metric("Half the attribution within", f"{found.within(0.5)} back",
                help="How many points back from this one half of the attribution lies")
    most.metric("90% within", f"{found.within(0.9)} back", help="How many points back 90% of it lies")
    if found.method == "ig":
        gap.metric("Completeness gap", f"{100 * found.completeness:.2f}%",
                   help="How far the attributions' sum misses log p(point) minus its value after all-zero points")
    st.plotly_chart(cell_figures.lag_figure(found.lag_mass(), {"50%": found.within(0.5), "90%": found.within(0.9)}),
                    key=f"{prefix}_lags")
    cells_that_mattered(loaded, found, example, prefix)


def cells_that_mattered(loaded: LoadedModel, found: attribution.Explanation, example: str | None,
                        prefix: str = "surprise") -> None:
    """The cells, and the features of the model's dictionary, that mattered most at the step
    that predicted the point, each a button that opens it."""
    top = np.argsort(-np.abs(found.cells))[:LISTED_CELLS]
    st.markdown("**Cells that mattered most** at that step (the gradient times the cell's difference from its "
                "mean on this line; a click opens the cell):")
    for column, cell in zip(st.columns(len(top)), top):
        if column.button(f"{cell} ({found.cells[cell]:+.2f})", key=f"{prefix}_cell_{cell}"):
            # the cell pages' step t has read rows 0..t: the one that predicts row at is at - 1
            controls.open_cell(int(cell), example, step=found.at - 1)
    key, dictionary = features.live_dictionary(loaded)
    if key is None or dictionary.state != "c":
        return
    shares = attribution.feature_attribution(dictionary, found.state, found.cell_gradient)
    top = [int(f) for f in np.argsort(-np.abs(shares))[:LISTED_FEATURES] if shares[f] != 0]
    if not top:
        return
    st.markdown("**Features that mattered most** (each active feature's activation times the gradient along its "
                "direction; a click opens it on the Features page):")
    for column, feature in zip(st.columns(len(top)), top):
        if column.button(f"{feature} ({shares[feature]:+.2f})", key=f"{prefix}_feature_{feature}",
                         help=dictionary.label(feature)):
            features.open_feature(dictionary, feature)
