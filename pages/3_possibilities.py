import time

import numpy as np
import streamlit as st

from dashboard import background, cached, controls, frame, models, sampled
from inkcore import figures, sampling

#: Play moves this many points at a time, this many seconds apart.
PLAY_STRIDE, PLAY_PAUSE_S = 2, 0.05

frame.page_setup("Possibility space")
st.caption("At every point of a line, the model could have gone many ways. Each hair is one of "
           "the futures it could have drawn from there: green where it veers right of the path "
           "actually taken, orange where it veers left. Grey circles grow with the model's "
           "expectation that the pen lifts.")
loaded = models.require_model()


def futures_controls() -> tuple[float, int, int]:
    a, b, c = st.columns(3)
    variation = a.select_slider("Variation", (0.1, 0.3, 0.5, 0.65, 0.9, 1.2),
                                key=frame.remembered("futures_variation", sampling.SAMPLE_VARIATION))
    count = b.slider("Futures per point", 5, 100, step=5, key=frame.remembered("futures_count", sampling.FUTURES))
    steps = c.slider("Steps per future", 2, 20, key=frame.remembered("futures_steps", sampling.FUTURE_STEPS))
    return variation, count, steps


rows = controls.line_source(loaded, "futures",  # the costly part of a newly chosen example, read ahead
                            ahead=lambda rows: cached.prediction(loaded.model, loaded.key,
                                                                 controls.limit_points(rows)[0]))
rows, note = controls.limit_points(rows)
if note:
    st.info(note)
mix = cached.prediction(loaded.model, loaded.key, rows)


@st.fragment
def one_point(variation: float, count: int, steps: int) -> None:
    """The Step slider and Play, one point's futures and its next-point mixture: a move costs milliseconds."""
    def step_figure(at: int):
        drawn, turns = cached.point_futures(loaded.model, loaded.key, rows, at, variation, count, steps, seed=0)
        return figures.possibility_figure(rows, drawn[None], turns[None], mix.eos, at, points=np.array([at]))

    last = len(rows) - 1
    if "futures_played_to" in st.session_state:  # Play leaves the slider where it stopped
        st.session_state.futures_at = st.session_state.pop("futures_played_to")
    controls.clamp_state("futures_at", last, default=min(last, 40))
    at = min(st.slider("Step", 0, max(last, 1), key="futures_at", disabled=last == 0), last)
    play = st.button("Play along the line", icon=":material/play_arrow:", key="futures_play", disabled=at >= last)
    chart, distribution = st.columns([3, 1])
    if play:
        shown = chart.empty()
        for t in range(at, len(rows), PLAY_STRIDE):
            shown.plotly_chart(step_figure(t), key=f"pf{t}", theme=None)
            time.sleep(PLAY_PAUSE_S)
        st.session_state.futures_played_to = t
        st.rerun()
    chart.plotly_chart(step_figure(at), key="futures_chart", theme=None)
    if at + 1 < len(rows):
        distribution.plotly_chart(figures.mixture_figure(mix.take(at + 1), variation, title=f"Point {at + 1}"),
                                  key="futures_mixture")


@st.fragment
def possibility_space() -> None:
    """The settings and the view they change, without the line's picker."""
    variation, count, steps = futures_controls()
    if not st.toggle("Show every point's futures at once", key=frame.remembered("futures_whole", False)):
        one_point(variation, count, steps)
        return
    (result, turns, every), job = sampled.futures(loaded, rows, variation, count, steps, seed=0)
    if job is not None:
        background.updating_mark(job, f"{count} futures of {steps} steps at variation {variation:g}; the figure "
                                      "shows the last ones drawn meanwhile")
    if every > 1:
        st.info(f"{result.rows.shape[1]} futures of {result.rows.shape[2]} steps at all {len(rows):,} points would "
                f"take long to draw and to show: they are drawn at every {sampled.ordinal(every)} point. Fewer "
                "futures or steps draw them at more points.")
    st.plotly_chart(figures.possibility_figure(rows, result.rows, turns, result.eos), key="futures_all")


possibility_space()
