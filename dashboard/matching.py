"""The Two models page's tables: every cell's best counterpart in the other model,
the article's named cells with theirs, and the pair a click chose."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import article, background, cached, library
from dashboard.controls import point_custom, seen_key, selected_points
from dashboard.models import ARTICLE, LoadedModel, other_model
from inkcore import adapt, cell_figures, downloads
from inkcore.intervene import state_correlations

#: Examples the two models read to be matched, by default and at most.
MATCH_EXAMPLES, MAX_MATCH_EXAMPLES = 20, 200
#: A counterpart this close (|r|) is counted as the same cell learned twice.
SHARED_R = 0.8
#: The rows of its own order the article names (its "cell 136" and the others), and the
#: pen-lift block it shows below row 427.
ARTICLE_ROWS = (136, 236, 55, 25)
PEN_LIFT_BLOCK_FROM = 428
#: The fragment a click on the curve or a table reruns, and the charts and tables clicked.
PAIR_VIEW, CURVE, PAIRS, NAMED = "match_pair_view", "match_curve", "match_pairs", "match_named"
#: The pair shown: its cell on this model's side, the pair a click chose, and the line they colour.
CELL, PAIR, LINE = "match_cell", "match_pair", "match_line"
#: How the tables show r.
NUMBER_FORMATS = {"r": st.column_config.NumberColumn(format="%+.2f"), "|r|": st.column_config.NumberColumn(format="%.2f")}


class Matches(NamedTuple):
    """The correlation of every pair of cells, and each side's best counterpart."""

    r: np.ndarray  # (cells, other's cells)
    counterpart: np.ndarray  # (cells,) the other's cell whose c correlates best, sign-free
    back: np.ndarray  # (other's cells,) this model's cell that does so for each of the other's

    def best_r(self) -> np.ndarray:
        """Each cell's r with its counterpart (cells,)."""
        return self.r[np.arange(len(self.counterpart)), self.counterpart]

    def best_r_back(self) -> np.ndarray:
        """Each of the other's cells' r with its counterpart here (other's cells,)."""
        return self.r[self.back, np.arange(len(self.back))]

    def curves(self, mine: str, theirs: str) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Both sides' cells, counterparts and r, as :func:`inkcore.cell_figures.match_curve` takes them."""
        return {f"{mine}'s cells": (np.arange(len(self.counterpart)), self.counterpart, self.best_r()),
                f"{theirs}'s cells": (np.arange(len(self.back)), self.back, self.best_r_back())}

    def r_of(self, cell: int) -> float:
        return float(self.r[cell, self.counterpart[cell]])

    def r_back(self, other_cell: int) -> float:
        return float(self.r[self.back[other_cell], other_cell])


def matching_examples(loaded: LoadedModel) -> tuple[tuple[str, ...], tuple[np.ndarray, ...]]:
    return library.chosen_examples(
        loaded, "match_examples", "Lines both models read", MATCH_EXAMPLES, MAX_MATCH_EXAMPLES,
        "Two cells match when their states c rise and fall together over these lines. More lines give "
        "steadier r, and take longer (about 6 s for 20 lines on a 2-core machine).")


def matches(loaded: LoadedModel, other: LoadedModel, keys: tuple[str, ...], lines: tuple[np.ndarray, ...]) -> Matches:
    """Both models' cells matched over the lines: computed in the background, the previous
    match shown meanwhile under an Updating mark."""
    first, second = loaded.model, other.model

    def work(report):
        return state_correlations(first, second, list(lines))

    r, job = background.newest(cached.correlations_cache(), (loaded.key, other.key, keys), work, "_match_shown",
                               f"Reading {len(lines)} lines with both models and correlating every pair of cells…")
    if job is not None:
        background.updating_mark(job, f"matching the cells over {len(lines)} lines")
    strength = np.abs(r)
    return Matches(r, np.argmax(strength, axis=1), np.argmax(strength, axis=0))


def pairs_table(found: Matches, mine: str, theirs: str) -> pd.DataFrame:
    """Every cell of this model with its counterpart, best matched first."""
    r = found.best_r()
    table = pd.DataFrame({f"{mine} cell": np.arange(len(r)), f"{theirs} cell": found.counterpart, "r": r, "|r|": np.abs(r)})
    return table.sort_values("|r|", ascending=False, kind="stable").reset_index(drop=True)


def named_cells_table(loaded: LoadedModel, found: Matches) -> pd.DataFrame | None:
    """The cells the article names by row of its order, with their counterparts in the other
    model; None when the article's order is not at hand."""
    order = article.cell_order()
    if order is None:
        return None
    article_is_mine = loaded.label == ARTICLE
    named = [(f"row {row}", row) for row in ARTICLE_ROWS]
    named += [("pen-lift block", row) for row in range(PEN_LIFT_BLOCK_FROM, len(order.order))]
    rows = []
    for what, row in named:
        cell = int(order.order[row])
        partner = int(found.counterpart[cell]) if article_is_mine else int(found.back[cell])
        r = found.r_of(cell) if article_is_mine else found.r_back(cell)
        rows.append({"Named in the article": what, "Article row": row, "Article cell": cell,
                     "inkcore cell": partner, "r": r, "|r|": abs(r)})
    return pd.DataFrame(rows)


def take_selection(table: pd.DataFrame, key: str, mine: str, theirs: str) -> None:
    """Make the pair of a row just selected in the table keyed ``key`` (columns ``mine``
    and ``theirs`` name the two cells) the pair shown, once per selection."""
    try:
        selected = list(st.session_state[key]["selection"]["rows"])
    except (KeyError, TypeError):
        selected = []
    seen = seen_key(key)
    if not selected:
        st.session_state.pop(seen, None)
        return
    if st.session_state.get(seen) == selected[0]:
        return
    st.session_state[seen] = selected[0]
    row = table.iloc[int(selected[0])]
    show_pair(int(row[mine]), int(row[theirs]))


def take_click(key: str) -> None:
    """Make the pair of a point just clicked in the match curve keyed ``key`` the pair shown;
    the curve's points carry [cell, counterpart, r] of the model their trace is named for."""
    points = selected_points(key)
    point = points[0] if points else None
    custom = point_custom(point) if point else []
    if len(custom) < 2:
        st.session_state.pop(seen_key(key), None)
        return
    signature = (point.get("curve_number"), int(custom[0]))
    if st.session_state.get(seen_key(key)) == signature:
        return
    st.session_state[seen_key(key)] = signature
    first, second = int(custom[0]), int(custom[1])
    show_pair(*((first, second) if point.get("curve_number", 0) == 0 else (second, first)))


def show_pair(cell: int, other_cell: int) -> None:
    st.session_state[PAIR] = (cell, other_cell)
    st.session_state[CELL] = cell


class Sides(NamedTuple):
    """The two models' names as the page shows them, this one's first, and the tables' columns of their cells."""

    mine: str
    theirs: str

    @property
    def columns(self) -> tuple[str, str]:
        """The pairs table's columns: this model's cell, the other's."""
        return f"{self.mine} cell", f"{self.theirs} cell"

    @property
    def named_columns(self) -> tuple[str, str]:
        """The named cells table's columns of the same."""
        return ("Article cell", "inkcore cell") if self.mine == "article" else ("inkcore cell", "Article cell")


def sides(loaded: LoadedModel) -> Sides:
    if loaded.base is not None:
        return Sides("adapted", "article" if loaded.base == ARTICLE else "inkcore")
    return Sides("article", "inkcore") if loaded.label == ARTICLE else Sides("inkcore", "article")


#: The changed cells table's shares.
CHANGE_FORMATS = {"r with itself": st.column_config.NumberColumn(format="%+.2f"),
                  "weights changed": st.column_config.NumberColumn(format="%.2f%%")}


def changed_cells(loaded: LoadedModel, other: LoadedModel, found: Matches) -> None:
    """For an adapted model beside its base: the cells that changed most, by how unlike
    itself each cell's state became on the lines (r of a cell with the same cell of the
    base) and by how much the weights that drive it moved."""
    if loaded.base is None:
        return
    st.subheader("What adaptation changed")
    st.caption("Each cell beside the same cell of the base model: r of their states over the lines above (1: it "
               "behaves as before) and the change in the weights that drive it, as a share of their size.")
    table = pd.DataFrame({"cell": np.arange(loaded.model.config.cells), "r with itself": np.diag(found.r),
                          "weights changed": 100 * adapt.cell_weight_change(other.model, loaded.model)})
    st.dataframe(table.sort_values("r with itself", kind="stable").reset_index(drop=True), hide_index=True,
                 height=250, key="changed_cells", column_config=CHANGE_FORMATS)


def other_or_stop(loaded: LoadedModel) -> LoadedModel:
    """The model to compare with; without one, the page stops, offering the article's model."""
    other = other_model(loaded)
    if other is None:
        st.info("This page compares two models: it needs the article's model beside inkcore's.")
        if downloads.article_weights() is None and st.button("Download the article's model (1.4 MB)",
                                                            key="match_download"):
            article.download(downloads.fetch_weights, "the article's model")
            st.rerun()
        st.stop()
    return other


def shared_counts(found: Matches, side: Sides, lines: tuple[np.ndarray, ...]) -> None:
    """How many cells of each model have a counterpart, and the lines both read."""
    a, b, c = st.columns(3)
    a.metric(f"{side.mine}'s cells with a counterpart, |r| ≥ {SHARED_R:g}",
             int((np.abs(found.best_r()) >= SHARED_R).sum()))
    b.metric(f"{side.theirs}'s cells with a counterpart, |r| ≥ {SHARED_R:g}",
             int((np.abs(found.best_r_back()) >= SHARED_R).sum()))
    c.metric("Lines read by both", len(lines), help=f"{sum(len(rows) for rows in lines):,} points")


def take_picks(pairs: pd.DataFrame, named: pd.DataFrame | None, side: Sides) -> None:
    """A point or a row just clicked becomes the pair shown (:func:`pair_view`)."""
    take_click(CURVE)
    take_selection(pairs, PAIRS, *side.columns)
    if named is not None:
        take_selection(named, NAMED, *side.named_columns)


def pair_view(loaded: LoadedModel, other: LoadedModel, found: Matches, pairs: pd.DataFrame, side: Sides) -> None:
    """The chosen pair colouring one line: a new cell or line reruns this alone (the page's
    fragment :data:`PAIR_VIEW`)."""
    st.subheader("A pair on one line")
    cell_column, example_column = st.columns([1, 3])
    last = loaded.model.config.cells - 1
    st.session_state.setdefault(CELL, int(pairs[side.columns[0]].iloc[0]))
    cell = int(cell_column.number_input(f"{side.mine}'s cell", 0, last, key=CELL))
    pair = st.session_state.get(PAIR)
    other_cell = pair[1] if pair is not None and pair[0] == cell else int(found.counterpart[cell])
    with example_column:
        example = library.example_picker(loaded, "Line", LINE, default="article:1",
                                         ahead=library.recorded(loaded, other))
    panels = [(example.rows, cached.recording(model.model, model.key, example.rows)[1][:, shown], f"{name} {shown}")
              for model, shown, name in ((loaded, cell, side.mine), (other, other_cell, side.theirs))]
    st.plotly_chart(cell_figures.coloured_paths_figure(panels, cell_figures.CELL_SCALE, midpoint=0.0), key="match_lines")
    st.caption(f"r = {found.r[cell, other_cell]:+.2f} over the examples read: a negative r is the same cell "
               "with its sign flipped.")
