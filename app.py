import streamlit as st

from dashboard import frame, models

frame.page_setup("Home", heading="inkcore")
st.markdown(
    "Look inside a neural network that writes by hand. The network is the one of "
    "Graves (2013), *Generating Sequences With Recurrent Neural Networks*, section 4.2: "
    "one LSTM layer of 500 cells reads pen offsets and predicts the next one as a mixture of "
    "20 Gaussians plus the chance that the pen lifts. The experiments follow the Distill article "
    "[*Experiments in Handwriting with a Neural Network*](https://distill.pub/2016/handwriting/) "
    "(Carter, Ha, Johnson and Olah, 2016), and go further: they run on the article's own model "
    "as well as on inkcore's, measure how well each predicts real handwriting, and find the cells "
    "that track pen lifts, position and direction for you."
)

loaded = models.current_model()
if loaded is not None:
    st.subheader(f"Loaded: {loaded.label}")
    samples = models.default_weights().with_name("samples.png") if loaded.label == models.OURS else None
    summary, picture = st.columns([3, 2]) if samples is not None and samples.exists() else (st.container(), None)
    summary.markdown(models.model_summary(loaded))
    if picture is not None:
        picture.image(str(samples), caption="Lines it wrote by itself (variation 0.65), from its model card.")

st.subheader("Experiments")
for script, title, icon, what in frame.PAGES[1:]:
    st.page_link(script, label=f"**{title}**: {what}", icon=icon)
