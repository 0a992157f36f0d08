import time

import streamlit as st

import dashboard
from inkcore import figures, sampling

dashboard.page_setup("Write with the model")
st.caption("Write on the canvas. After each stroke the model reads everything you wrote and "
           "continues it, in your style. Its prediction is drawn from a copy of its state, "
           "so predicting never changes what it has read.")
loaded = dashboard.require_model()


def continuation_controls() -> tuple[int, float, int]:
    left, middle, right = st.columns(3)
    length = left.slider("Length (steps)", 5, 400, key=dashboard.remembered("write_length", 20))
    variation = middle.slider("Variation", 0.0, 1.5, step=0.05,
                              key=dashboard.remembered("write_variation", sampling.WRITE_VARIATION))
    candidates = right.slider("Candidates", 1, 6, key=dashboard.remembered("write_candidates", 1))
    return length, variation, candidates


length, variation, candidates = continuation_controls()
writing = dashboard.canvas_writing("write")
seed = st.session_state.setdefault("write_seed", 0)
buttons = st.columns([1, 1, 1, 1, 3])
if buttons[0].button("Clear", icon=":material/delete:", key="write_clear"):
    dashboard.clear_canvas("write")
    st.rerun()
if buttons[1].button("Re-sample", icon=":material/casino:", key="write_resample"):
    st.session_state.write_seed = seed = seed + 1
play = buttons[2].button("Play", icon=":material/play_arrow:", key="write_play")
if buttons[3].button("Pause", icon=":material/pause:", key="write_pause"):
    st.session_state.write_paused = True
with buttons[4]:
    dashboard.save_controls(writing.rows, "write")

message = dashboard.writing_message(writing)
if message:
    st.info(message)
    st.stop()

result = dashboard.continuation(loaded.model, loaded.key, writing.rows, length, variation, candidates, seed)
chart, distribution = st.columns([3, 1])
with chart:
    frame = st.empty()
    if play:
        st.session_state.write_paused = False
        for shown in range(1, length + 1, max(1, length // 60)):
            st.session_state.write_frame = shown
            frame.plotly_chart(figures.continuation_figure(writing.rows, result.rows, shown), key=f"wf{shown}")
            time.sleep(0.03)
    shown = st.session_state.get("write_frame") if st.session_state.get("write_paused") else None
    frame.plotly_chart(figures.continuation_figure(writing.rows, result.rows, shown), key="write_chart")
with distribution:
    mix = dashboard.next_mixture(loaded.model, loaded.key, writing.rows)
    st.plotly_chart(figures.mixture_figure(mix, variation, title="The next point"), key="write_mixture")
    st.caption("Each ellipse is one of the 20 mixture components (2 σ, at this variation); "
               "the stronger its colour, the more weight it has.")
