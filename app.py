"""inkcore's dashboard: `streamlit run app.py`."""
import streamlit as st

import dashboard

st.set_page_config(page_title="inkcore", page_icon="✒️", layout="wide")

PAGES = [
    st.Page("pages/home.py", title="Home", icon="✒️", default=True),
    st.Page("pages/write.py", title="Write with the model", icon="✍️"),
    st.Page("pages/samples.py", title="The model writes", icon="📝"),
    st.Page("pages/possibilities.py", title="Possibility space", icon="🌿"),
    st.Page("pages/cells.py", title="Cell activations", icon="🔥"),
    st.Page("pages/ordered.py", title="Ordered cells", icon="🧭"),
    st.Page("pages/watch.py", title="Write and watch", icon="👀"),
    st.Page("pages/probes.py", title="Cell probes", icon="🔎"),
    st.Page("pages/surprise.py", title="Surprise", icon="⚡"),
    st.Page("pages/library.py", title="Example library", icon="📚"),
]

navigation = st.navigation(PAGES)
dashboard.model_picker()
navigation.run()
