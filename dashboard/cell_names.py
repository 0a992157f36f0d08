"""How every page names a cell: by its own index, and by its row in the order last
shown on the Ordered cells page (or the article's own order, for its model)."""
from __future__ import annotations

import numpy as np
import streamlit as st

from dashboard import article
from dashboard.models import ARTICLE, LoadedModel
from inkcore import cells


def _order_key(loaded: LoadedModel) -> str:
    return f"cell_order:{loaded.key}"  # each model's cells have an order of their own


def keep_order(loaded: LoadedModel, order: cells.CellOrder, description: str) -> None:
    """Remember the order last shown on the Ordered cells page, so that every page can
    name a cell by its row in it as well as by its own index."""
    st.session_state[_order_key(loaded)] = (order.rows_of(), description)


def shown_order(loaded: LoadedModel) -> tuple[np.ndarray, str] | None:
    """``(rows_of, description)``: the order last shown for this model on the Ordered
    cells page, else the article's own order for the article's model, else None."""
    kept = st.session_state.get(_order_key(loaded))
    if kept is not None:
        return kept
    if loaded.label == ARTICLE:
        order = article.cell_order()
        if order is not None:
            return order.rows_of(), "the article's order"
    return None


def cell_name(loaded: LoadedModel, cell: int) -> str:
    """"cell 93 · row 37" where an order is known (:func:`shown_order`), else "cell 93"."""
    shown = shown_order(loaded)
    if shown is None or not 0 <= cell < len(shown[0]):
        return f"cell {cell}"
    return f"cell {cell} · row {int(shown[0][cell])}"


def order_caption(loaded: LoadedModel, cell: int) -> None:
    """Say which row of the ordered view shows ``cell``, or how to get an order."""
    shown = shown_order(loaded)
    if shown is None:
        st.caption(f"Cell {cell} is its own index. Open Ordered cells to name it by its row in a t-SNE order too.")
    else:
        st.caption(f"Cell {cell} is row {int(shown[0][cell])} in {shown[1]} (Ordered cells).")
