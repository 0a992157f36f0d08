import numpy as np
import streamlit as st

from dashboard import article, cached, frame, library, matching, models
from inkcore import cell_figures, downloads

#: The fragment a click on the curve or a table reruns.
PAIR_VIEW = "match_pair_view"

frame.page_setup("Two models")
st.caption("The article's model and inkcore's have the same architecture and were trained apart. Did they "
           "learn the same cells? Both read the same lines; every cell is paired with the other model's cell "
           "whose state c rises and falls most like it (r, whatever its sign).")
loaded = models.require_model()
other = models.other_model(loaded)
if other is None:
    st.info("This page compares two models: it needs the article's model beside inkcore's.")
    if downloads.article_weights() is None and st.button("Download the article's model (1.4 MB)",
                                                        key="match_download"):
        article.download(downloads.fetch_weights, "the article's model")
        st.rerun()
    st.stop()
mine, theirs = ("article", "inkcore") if loaded.label == models.ARTICLE else ("inkcore", "article")
keys, lines = matching.matching_examples(loaded)
found = matching.matches(loaded, other, keys, lines)

a, b, c = st.columns(3)
a.metric(f"{mine}'s cells with a counterpart, |r| ≥ {matching.SHARED_R:g}",
         int((np.abs(found.best_r()) >= matching.SHARED_R).sum()))
b.metric(f"{theirs}'s cells with a counterpart, |r| ≥ {matching.SHARED_R:g}",
         int((np.abs(found.best_r_back()) >= matching.SHARED_R).sum()))
c.metric("Lines read by both", len(lines), help=f"{sum(len(rows) for rows in lines):,} points")

mine_column, theirs_column = f"{mine} cell", f"{theirs} cell"
named_columns = ("Article cell", "inkcore cell") if mine == "article" else ("inkcore cell", "Article cell")
pairs = matching.pairs_table(found, mine, theirs)
named = matching.named_cells_table(loaded, found)


def take_picks() -> None:
    """A point or a row just clicked becomes the pair shown below."""
    matching.take_click("match_curve")
    matching.take_selection(pairs, "match_pairs", mine_column, theirs_column)
    if named is not None:
        matching.take_selection(named, "match_named", *named_columns)


def picked() -> None:
    """After a click on the curve or a table, only the pair's view runs again."""
    take_picks()
    st.rerun(PAIR_VIEW)


take_picks()
curve, table_column = st.columns([3, 2])
curve.plotly_chart(cell_figures.match_curve(found.curves(mine, theirs), matching.SHARED_R), key="match_curve",
                   on_select=picked, selection_mode="points")
table_column.dataframe(pairs, hide_index=True, height=300, key="match_pairs", on_select=picked,
                       selection_mode="single-row", column_config=matching.NUMBER_FORMATS)
st.caption("Click a point or a row (sort the table by any column) to see the pair colour the same line below.")

if named is not None:
    st.subheader("The cells the article named")
    st.caption(f"Rows {', '.join(map(str, matching.ARTICLE_ROWS))} of the article's own order, and its pen-lift "
               f"block from row {matching.PEN_LIFT_BLOCK_FROM} down, with their counterparts in inkcore's model.")
    st.dataframe(named, hide_index=True, height=250, key="match_named", on_select=picked,
                 selection_mode="single-row", column_config=matching.NUMBER_FORMATS)


def pair_view() -> None:
    """The chosen pair colouring one line: a new cell or line reruns this alone."""
    st.subheader("A pair on one line")
    cell_column, example_column = st.columns([1, 3])
    last = loaded.model.config.cells - 1
    st.session_state.setdefault("match_cell", int(pairs[mine_column].iloc[0]))
    cell = int(cell_column.number_input(f"{mine}'s cell", 0, last, key="match_cell"))
    pair = st.session_state.get("match_pair")
    other_cell = pair[1] if pair is not None and pair[0] == cell else int(found.counterpart[cell])
    with example_column:
        example = library.example_picker(loaded, "Line", "match_line", default="article:1",
                                         ahead=library.recorded(loaded, other))
    panels = [(example.rows, cached.recording(model.model, model.key, example.rows)[1][:, shown], f"{name} {shown}")
              for model, shown, name in ((loaded, cell, mine), (other, other_cell, theirs))]
    st.plotly_chart(cell_figures.coloured_paths_figure(panels, cell_figures.CELL_SCALE, midpoint=0.0),
                    key="match_lines")
    st.caption(f"r = {found.r[cell, other_cell]:+.2f} over the examples read: a negative r is the same cell "
               "with its sign flipped.")


st.fragment(pair_view, key=PAIR_VIEW)()
