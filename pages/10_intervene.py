import streamlit as st

from dashboard import background, frame, intervene, models
from inkcore import figures, sampling

frame.page_setup("Intervene on cells")
st.caption("Looking at a cell says what it follows; holding it says what the model needs it for. Choose "
           "cells and hold their state c at every step: the model then writes, continues and is scored "
           "with them held, beside the intact model drawing the same random numbers.")
loaded = models.require_model()
examples = intervene.scoring_examples(loaded)
chosen = intervene.chosen_cells(loaded, examples)
if not chosen:
    st.info("Choose at least one cell to hold.")
    st.stop()
choice = intervene.hold_choice(loaded, examples, chosen)
st.caption(choice.described)


@st.fragment
def summary() -> None:
    st.subheader("What the hold changes")
    found, job = intervene.effect(loaded, examples, choice)
    if job is not None:
        background.updating_mark(job, f"measuring {choice.described}")
    intervene.effect_view(found, examples)


@st.fragment
def side_by_side() -> None:
    st.subheader("The same seed, intact and held")
    seeds, steps, variation = intervene.lines_controls()
    lines, job = intervene.side_by_side(loaded, seeds, steps, variation, choice)
    if job is not None:
        background.updating_mark(job, f"{len(seeds)} line{'s' if len(seeds) > 1 else ''} of {steps} steps "
                                      f"from seed {seeds[0]}")
    left, right = st.columns(2)
    left.markdown("**Intact**")
    right.markdown(f"**Held**: {choice.described}")
    st.plotly_chart(figures.handwriting_grid(*intervene.seed_panels(lines)), key="intervene_lines")


@st.fragment
def continuation() -> None:
    st.subheader("Continuing a line")
    st.caption("The model reads the line with the cells held and writes on; the intact model reads and "
               "writes with the same random numbers.")
    steps, seed, rows = intervene.continuation_controls(loaded)
    written, job = intervene.continuations(loaded, rows, steps, sampling.WRITE_VARIATION, seed, choice)
    if job is not None:
        background.updating_mark(job, f"continuations of {steps} steps")
    for title, name, line in (("Intact", "intact", written.intact),
                              (f"Held: {choice.described}", "held", written.held)):
        st.markdown(f"**{title}**")
        st.plotly_chart(figures.continuation_figure(written.written_for, line[None], height=200, fit=True),
                        key=f"intervene_continuation_{name}")


summary()
side_by_side()
continuation()
