import streamlit as st

from dashboard import frame, matching, models
from inkcore import cell_figures

frame.page_setup("Two models")
loaded = models.require_model()
st.caption("The article's model and inkcore's have the same architecture and were trained apart. Did they "
           "learn the same cells? Both read the same lines; every cell is paired with the other model's cell "
           "whose state c rises and falls most like it (r, whatever its sign)." if loaded.base is None else
           f"{loaded.label} beside the model it was adapted from: both read the same lines, and every cell is "
           "paired with the base model's cell whose state c rises and falls most like it (r, whatever its sign).")
other = matching.other_or_stop(loaded)
side = matching.sides(loaded)
keys, lines = matching.matching_examples(loaded)
found = matching.matches(loaded, other, keys, lines)
matching.shared_counts(found, side, lines)
pairs = matching.pairs_table(found, side.mine, side.theirs)
named = matching.named_cells_table(loaded, found)


def picked() -> None:
    """After a click on the curve or a table, only the pair's view runs again."""
    matching.take_picks(pairs, named, side)
    st.rerun(matching.PAIR_VIEW)


matching.take_picks(pairs, named, side)
curve, table_column = st.columns([3, 2])
curve.plotly_chart(cell_figures.match_curve(found.curves(side.mine, side.theirs), matching.SHARED_R), key=matching.CURVE,
                   on_select=picked, selection_mode="points")
table_column.dataframe(pairs, hide_index=True, height=300, key=matching.PAIRS, on_select=picked,
                       selection_mode="single-row", column_config=matching.NUMBER_FORMATS)
st.caption("Click a point or a row (sort the table by any column) to see the pair colour the same line below.")

matching.changed_cells(loaded, other, found)
if named is not None and loaded.base is None:
    st.subheader("The cells the article named")
    st.caption(f"Rows {', '.join(map(str, matching.ARTICLE_ROWS))} of the article's own order, and its pen-lift "
               f"block from row {matching.PEN_LIFT_BLOCK_FROM} down, with their counterparts in inkcore's model.")
    st.dataframe(named, hide_index=True, height=250, key=matching.NAMED, on_select=picked,
                 selection_mode="single-row", column_config=matching.NUMBER_FORMATS)


def pair_view() -> None:
    """The chosen pair colouring one line: a new cell or line reruns this alone."""
    matching.pair_view(loaded, other, found, pairs, side)


st.fragment(pair_view, key=matching.PAIR_VIEW)()
