import streamlit as st

import dashboard

dashboard.page_setup("Home", heading="inkcore")
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

loaded = dashboard.current_model()
if loaded is not None:
    st.subheader(f"Loaded: {loaded.label}")
    st.markdown(dashboard.model_summary(loaded))

st.subheader("Experiments")
for script, title, icon, what in dashboard.PAGES[1:]:
    st.page_link(script, label=f"**{title}**: {what}", icon=icon)
