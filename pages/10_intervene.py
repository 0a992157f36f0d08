import streamlit as st

from dashboard import background, controls, frame, intervene, models
from inkcore import figures, sampling, traits

#: Lines written side by side at most; the summary's seeds, length and variation are inkcore.traits'.
MAX_LINES = 6
#: A library line is read up to this point and continued from there: a few words, and room to write on.
PRIME_POINTS = 300

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
    cost, points = st.columns(2)
    cost.metric("Cost on the examples (nats per point)", f"{found.cost:+.3f}",
                help=f"Negative log-likelihood per point with the hold, {found.held.nll:.3f}, against "
                     f"{found.intact.nll:.3f} intact; lower is better, so a positive cost is a loss.")
    points.metric("Scored", f"{len(examples.keys)} lines, {found.intact.points:,} points")
    st.dataframe(intervene.effect_table(found), hide_index=True, key="intervene_effect",
                 column_config={name: st.column_config.NumberColumn(format="%.2f")
                                for name in ("Intact", "Held", "Change")})
    st.caption(f"Traits are means over the lines seeds {traits.EFFECT_SEEDS[0]}-{traits.EFFECT_SEEDS[-1]} "
               f"write, {traits.EFFECT_STEPS} steps at variation {traits.EFFECT_VARIATION:g}, with and without "
               "the hold, from the same random numbers.")


@st.fragment
def side_by_side() -> None:
    st.subheader("The same seed, intact and held")
    a, b, c, d = st.columns(4)
    count = a.slider("Lines", 1, MAX_LINES, key=frame.remembered("intervene_count", 2))
    steps = b.slider("Length (steps)", 100, 1000, step=50, key=frame.remembered("intervene_steps", 500))
    variation = c.slider("Variation", 0.0, 1.5, step=0.05, key=frame.remembered("intervene_variation", 0.7))
    seed = int(d.number_input("Seed", 0, 10**6, key=frame.remembered("intervene_seed", 1)))
    seeds = tuple(range(seed, seed + count))
    lines, job = intervene.side_by_side(loaded, seeds, steps, round(variation, 2), choice)
    if job is not None:
        background.updating_mark(job, f"{count} line{'s' if count > 1 else ''} of {steps} steps from seed {seed}")
    left, right = st.columns(2)
    left.markdown("**Intact**")
    right.markdown(f"**Held**: {choice.described}")
    pairs = [(line, f"seed {s}{suffix}") for s, plain, changed in zip(lines.written_for, lines.intact, lines.held)
             for line, suffix in ((plain, ""), (changed, ", held"))]
    st.plotly_chart(figures.handwriting_grid([line for line, _ in pairs], [title for _, title in pairs]),
                    key="intervene_lines")


@st.fragment
def continuation() -> None:
    st.subheader("Continuing a line")
    st.caption("The model reads the line with the cells held and writes on; the intact model reads and "
               "writes with the same random numbers.")
    length, seed_column = st.columns(2)
    steps = length.slider("Continuation length", 20, 600, step=20, key=frame.remembered("intervene_more", 200))
    seed = int(seed_column.number_input("Seed", 0, 10**6, key=frame.remembered("intervene_more_seed", 1)))
    rows = controls.line_source(loaded, "intervene", default="article:1")
    if st.session_state.get("intervene_source") == controls.FROM_LIBRARY and len(rows) > PRIME_POINTS:
        rows = rows[:PRIME_POINTS]
        st.caption(f"The model reads the example's first {PRIME_POINTS} points and writes on from there.")
    rows, cut = controls.limit_points(rows)
    if cut:
        st.caption(cut)
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
