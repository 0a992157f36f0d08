import streamlit as st

from dashboard import cached, defaults, frame, models, pen, sampled, write
from inkcore import figures

frame.page_setup("Write with the model")
st.caption("Write on the surface. As the pen moves, the model reads each new point and draws where it "
           "would go next from the pen's tip, again and again, older guesses fading. Its prediction is "
           "sampled from a copy of its state, so predicting never changes what it has read. When the pen "
           "lifts, the continuation below can be played step by step.")
loaded = models.require_model()

length, variation, candidates = write.continuation_controls()
writing = pen.pen_writing(write.PEN, loaded, pen.WRITE, length, variation, candidates)
clicked = write.buttons(writing.rows)
message = pen.writing_message(writing)
if message:
    st.info(message)
    st.stop()

settings = (length, variation, candidates, clicked.seed)
paused_at = write.paused_at((cached.line_digest(writing.rows), *settings), clicked.pause)
result = sampled.continuation(loaded.model, loaded.key, writing.rows, *settings)
sampled.continuations_ahead(loaded.model, loaded.key, writing.rows, *settings, defaults.VARIATION_STEP,
                            defaults.VARIATION_MAX, defaults.MAX_CANDIDATES)
chart, distribution = st.columns([3, 1])
with chart:
    shown = st.empty()
    if clicked.play:
        for step in write.play(paused_at, length):
            shown.plotly_chart(figures.continuation_figure(writing.rows, result.rows, step), key=f"wf{step}")
        paused_at = None
    shown.plotly_chart(figures.continuation_figure(writing.rows, result.rows, paused_at), key="write_chart")
with distribution:
    mix = cached.next_mixture(loaded.model, loaded.key, writing.rows)
    st.plotly_chart(figures.mixture_figure(mix, variation, title="The next point"), key="write_mixture")
    st.caption("Each ellipse is one of the 20 mixture components (2 σ, at this variation); "
               "the bolder it is, the more weight it has. Above it, the probability that the pen "
               "lifts after the next point.")
