"""The Ordered cells page's controls: the distance and perplexity of the t-SNE order and
the examples it is learned from; the order they give (the article's own, or one computed
in the background: :func:`dashboard.cell_view.cell_order`); and the row of that order
that names a cell as the article does."""
from __future__ import annotations

import json

import streamlit as st

from dashboard import article, background, cached, cell_names, controls, library
from dashboard.cell_view import PERPLEXITY_STEP, cell_order
from dashboard.frame import remembered
from dashboard.models import ARTICLE, LoadedModel
from inkcore import cells

#: The prefix of the cell view's keys (ordered_cell, ordered_step, ...), and the page's other keys.
ORDERED = "ordered"
EXAMPLE, METRIC, PERPLEXITY, LEARN, ROW = (
    "ordered_example", "ordered_metric", "ordered_perplexity", "ordered_learn", "ordered_row")
#: The Perplexity slider's notches, and where it starts.
PERPLEXITIES, FIRST_PERPLEXITY = range(5, 151, PERPLEXITY_STEP), 50
#: The examples an order is learned from, at most.
MAX_LEARNED = 12
#: The distances between cells, the article's best first; "article" is the article's own order.
METRICS = {"percentile": "Percentiles in a sliding window (the article's best)",
           "blur": "Blurred activations", "raw": "Raw activations", "article": "The article's own order"}
ARTICLE_ORDER = "article"


def order_controls(loaded: LoadedModel, example: str) -> tuple[str, float, list[str]]:
    """The distance, the perplexity, and the examples the order is learned from (by
    default the page's ``example``)."""
    a, b = st.columns(2)
    metric = a.selectbox("Distance between cells", list(METRICS), format_func=METRICS.get,
                         key=remembered(METRIC, "percentile"))
    perplexity = b.slider("Perplexity", PERPLEXITIES.start, PERPLEXITIES[-1], step=PERPLEXITIES.step,
                          key=remembered(PERPLEXITY, FIRST_PERPLEXITY), disabled=metric == ARTICLE_ORDER)
    options = library.example_keys(loaded)
    learned = st.multiselect("Learn the order from", list(options), default=[example], format_func=options.get,
                             key=LEARN, disabled=metric == ARTICLE_ORDER, max_selections=MAX_LEARNED)
    return metric, float(perplexity), learned or [example]


def chosen_order(loaded: LoadedModel, metric: str, perplexity: float, learned_from: list[str]
                 ) -> tuple[cells.CellOrder, object]:
    """The order to show, and the job still computing it (None when it is the one asked for;
    else the order this session showed last comes meanwhile, under an Updating mark). The
    page stops with a warning when the article's order is asked for and not at hand."""
    if metric == ARTICLE_ORDER:
        order = article.cell_order()
        if order is None:
            st.warning("The article's order comes with its metadata.json: download the article's files in the "
                       "Example library, or pick another distance.")
            st.stop()
        if loaded.label != ARTICLE:
            st.info("The article's order was learned on the article's model; on another model it is only an "
                    "example.")
        return order, None
    sources = tuple(cached.recording(loaded.model, loaded.key, library.load_example(loaded, key).rows)[1]
                    for key in learned_from)
    order, job = cell_order(loaded, tuple(learned_from), sources, metric, perplexity, PERPLEXITIES)
    if job is not None:
        background.updating_mark(job, f"the {metric} order at perplexity {perplexity:g}; the figures show the "
                                      f"{order.metric} order at perplexity {order.perplexity:g} meanwhile")
    return order, job


def keep(loaded: LoadedModel, order: cells.CellOrder, metric: str) -> None:
    """Make ``order`` the one every page names cells by (:mod:`dashboard.cell_names`)."""
    description = ("the article's order" if metric == ARTICLE_ORDER
                   else f"the {order.metric} order (perplexity {order.perplexity:g})")
    cell_names.keep_order(loaded, order, description)


def row_control(order: cells.CellOrder, cell: int) -> None:
    """The row of ``order`` that shows ``cell``, which a new row changes the cell by, and what it is."""
    rows_of = order.rows_of()

    def row_chosen() -> None:
        st.session_state[controls.cell_widget(ORDERED)] = int(order.order[st.session_state[ROW]])

    st.session_state[ROW] = int(rows_of[cell])
    st.columns(2)[0].number_input("Row in this order (the article names cells by it)", 0, len(order.order) - 1,
                                  key=ROW, on_change=row_chosen)
    st.markdown(f"**Row {rows_of[cell]}** in this order is **cell {cell}**"
                + (" (sign-flipped)" if order.flip[cell] < 0 else ""))


def export(order: cells.CellOrder, learned_from: list[str]) -> str:
    """The order as JSON, with what it was learned from."""
    return json.dumps({"order": order.order.tolist(), "flip": order.flip.astype(int).tolist(),
                       "metric": order.metric, "perplexity": order.perplexity, "examples": learned_from})
