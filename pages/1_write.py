import time

import streamlit as st

from dashboard import cached, frame, handwriting, models, pen, sampled
from inkcore import figures, sampling

frame.page_setup("Write with the model")
st.caption("Write on the surface. As the pen moves, the model reads each new point and draws where it "
           "would go next from the pen's tip, again and again, older guesses fading. Its prediction is "
           "sampled from a copy of its state, so predicting never changes what it has read. When the pen "
           "lifts, the continuation below can be played step by step.")
loaded = models.require_model()

#: Play draws the continuation in about this many frames, this many seconds apart.
ANIMATION_FRAMES = 60
FRAME_SECONDS = 0.03
#: The Variation slider's end and step, and the most candidates.
VARIATION_MAX, VARIATION_STEP, MAX_CANDIDATES = 1.5, 0.05, 6


def continuation_controls() -> tuple[int, float, int]:
    left, middle, right = st.columns(3)
    length = left.slider("Length (steps)", 5, 400, key=frame.remembered("write_length", 20))
    variation = middle.slider("Variation", 0.0, VARIATION_MAX, step=VARIATION_STEP,
                              key=frame.remembered("write_variation", sampling.WRITE_VARIATION))
    candidates = right.slider("Candidates", 1, MAX_CANDIDATES, key=frame.remembered("write_candidates", 1))
    return length, round(variation, 2), candidates


def reset_animation() -> None:
    """Forget a paused or unfinished animation: the whole continuation shows again."""
    st.session_state.pop("write_frame", None)
    st.session_state.pop("write_paused", None)


def forget_other_animations(continuation: tuple) -> None:
    """A new stroke, seed or setting makes a new continuation, whose animation starts afresh."""
    if st.session_state.get("write_animated") != continuation:
        st.session_state.write_animated = continuation
        reset_animation()


length, variation, candidates = continuation_controls()
writing = pen.pen_writing("write", loaded, pen.WRITE, length, variation, candidates)
seed = st.session_state.setdefault("write_seed", 0)
buttons = st.columns([1, 1, 1, 1, 3])
if buttons[0].button("Clear", icon=":material/delete:", key="write_clear"):
    pen.clear_pen("write")
    reset_animation()
    st.rerun()
if buttons[1].button("Re-sample", icon=":material/casino:", key="write_resample"):
    st.session_state.write_seed = seed = seed + 1
play = buttons[2].button("Play", icon=":material/play_arrow:", key="write_play")
pause = buttons[3].button("Pause", icon=":material/pause:", key="write_pause")
with buttons[4]:
    handwriting.save_controls(writing.rows, "write")

message = pen.writing_message(writing)
if message:
    st.info(message)
    st.stop()

forget_other_animations((cached.line_digest(writing.rows), length, variation, candidates, seed))
if pause and "write_frame" in st.session_state:  # Pause reruns the page while Play runs: stop at its frame
    st.session_state.write_paused = True
elif not st.session_state.get("write_paused"):  # an animation cut short by anything else is over
    reset_animation()
paused_at = st.session_state.get("write_frame")
result = sampled.continuation(loaded.model, loaded.key, writing.rows, length, variation, candidates, seed)
sampled.continuations_ahead(loaded.model, loaded.key, writing.rows, length, variation, candidates, seed,
                            VARIATION_STEP, VARIATION_MAX, MAX_CANDIDATES)
chart, distribution = st.columns([3, 1])
with chart:
    frame = st.empty()
    if play:
        st.session_state.write_paused = False
        for shown in range((paused_at or 0) + 1, length + 1, max(1, length // ANIMATION_FRAMES)):
            st.session_state.write_frame = shown  # where a Pause, which reruns the page, leaves it
            frame.plotly_chart(figures.continuation_figure(writing.rows, result.rows, shown), key=f"wf{shown}")
            time.sleep(FRAME_SECONDS)
        reset_animation()
        paused_at = None
    frame.plotly_chart(figures.continuation_figure(writing.rows, result.rows, paused_at), key="write_chart")
with distribution:
    mix = cached.next_mixture(loaded.model, loaded.key, writing.rows)
    st.plotly_chart(figures.mixture_figure(mix, variation, title="The next point"), key="write_mixture")
    st.caption("Each ellipse is one of the 20 mixture components (2 σ, at this variation); "
               "the bolder it is, the more weight it has. Above it, the probability that the pen "
               "lifts after the next point.")
