import numpy as np
import streamlit as st

from dashboard import background, cached, controls, frame, models, possibilities, sampled
from inkcore import figures

frame.page_setup("Possibility space")
st.caption("At every point of a line, the model could have gone many ways. Each hair is one of "
           "the futures it could have drawn from there: green where it veers right of the path "
           "actually taken, orange where it veers left. Grey circles grow with the model's "
           "expectation that the pen lifts.")
loaded = models.require_model()
rows = controls.line_source(loaded, possibilities.LINE,  # the costly part of a newly chosen example, read ahead
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

    at, play = possibilities.step_controls(len(rows))
    chart, distribution = st.columns([3, 1])
    if play:
        shown = chart.empty()
        for t in possibilities.play(at, len(rows)):
            shown.plotly_chart(step_figure(t), key=f"pf{t}", theme=None)
    chart.plotly_chart(step_figure(at), key="futures_chart", theme=None)
    if at + 1 < len(rows):
        distribution.plotly_chart(figures.mixture_figure(mix.take(at + 1), variation, title=f"Point {at + 1}"),
                                  key="futures_mixture")


@st.fragment
def possibility_space() -> None:
    """The settings and the view they change, without the line's picker."""
    variation, count, steps = possibilities.futures_controls()
    if not possibilities.whole_line():
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
