import numpy as np
import streamlit as st

from dashboard import features, frame, library, models
from inkcore import cell_figures

frame.page_setup("Features")
st.caption("The article suspected that cells work in tandem, so that a group of cells may say more than any one "
           "of them. A dictionary of the model's state finds such groups: each feature is a direction in the "
           "500 cells' state, and at every step only a few of them are active. Pick a feature to see the "
           "handwriting coloured by it, what it is made of, where it is strongest, and what the model writes "
           "when it is pushed along it.")
loaded = models.require_model()
dictionary = features.dictionary_of(loaded)
if dictionary is None:
    st.stop()
example = library.example_picker(loaded, "Example", features.EXAMPLE, default="article:1",
                                 ahead=library.recorded(loaded))
a = features.activations(loaded, dictionary, example.rows)
feature = features.picker(dictionary, a)
values = a[:, feature]
st.subheader(f"Feature {feature}: {dictionary.label(feature)}")
active = int((values > 0).sum())
st.caption(f"Active at {active} of {len(values)} steps of this line, at most {values.max():.2f}.")
st.plotly_chart(cell_figures.coloured_path_figure(example.rows, values, "Greens", f"feature {feature}"),
                key="features_line")
features.made_of(loaded, dictionary, feature, st.session_state.get(features.EXAMPLE))

st.subheader("Where it is strongest")
features.places_view(loaded, dictionary, feature)

st.subheader("Steering: the model writes with the feature pushed")
scale = float(values.max()) if values.max() > 0 else float(np.abs(dictionary.W_dec[feature]).max())
features.steering(loaded, dictionary, feature, scale)
