"""The frame of every page: its title, the sidebar's links and model picker, and
the widget choices that outlive a switch to another page."""
from __future__ import annotations

import streamlit as st

from dashboard import models

#: Every page in the article's order: script, title, icon, what it shows.
PAGES = (
    ("app.py", "Home", ":material/home:", ""),
    ("pages/1_write.py", "Write with the model", ":material/draw:",
     "it continues your handwriting, in your style."),
    ("pages/2_samples.py", "The model writes", ":material/edit_note:", "lines it writes by itself."),
    ("pages/3_possibilities.py", "Possibility space", ":material/call_split:",
     "at every step, the futures it could have drawn."),
    ("pages/4_cells.py", "Cell activations", ":material/grid_on:",
     "all 500 cells over a line; click one to colour the stroke."),
    ("pages/5_ordered.py", "Ordered cells", ":material/sort:",
     "the same, with cells that behave alike side by side (t-SNE)."),
    ("pages/12_features.py", "Features", ":material/hub:",
     "groups of cells that work in tandem: a sparse dictionary of the state, browsed and steered."),
    ("pages/6_watch.py", "Write and watch", ":material/visibility:", "every cell responding as you write."),
    ("pages/7_probes.py", "Cell probes", ":material/troubleshoot:",
     "which cells track pen lifts, position, direction; pattern search."),
    ("pages/8_surprise.py", "Surprise", ":material/bolt:", "how unlikely the model finds each point of a line."),
    ("pages/10_intervene.py", "Intervene on cells", ":material/tune:",
     "hold cells and see what the model writes, and what it costs."),
    ("pages/11_two_models.py", "Two models", ":material/compare_arrows:",
     "the cells the article's model and inkcore's share."),
    ("pages/9_library.py", "Example library", ":material/library_books:",
     "your saved handwriting, the article's lines, IAM-OnDB."),
)


def page_setup(title: str, heading: str | None = None) -> None:
    """The frame of every page: its tab title, the sidebar's links and model picker, its heading."""
    st.set_page_config(page_title=f"{title} · inkcore", page_icon=":material/draw:", layout="wide")
    _keep_choices()
    with st.sidebar:
        for script, label, icon, _ in PAGES:
            st.page_link(script, label=label, icon=icon)
        st.divider()
    models.model_picker()
    st.title(heading or title)


#: Every remembered widget's key, and the copy of its value that outlives a page switch.
REMEMBERED, KEPT = "_remembered", "_kept"


def remembered(key: str, default) -> str:
    """A widget key that starts at ``default`` and keeps the user's choice when they
    switch pages and come back (Streamlit forgets the state of widgets it did not draw)."""
    st.session_state.setdefault(key, st.session_state.get(KEPT, {}).get(key, default))
    st.session_state.setdefault(REMEMBERED, set()).add(key)
    return key


def chosen_before(key: str) -> bool:
    """Whether the widget keyed ``key`` has a value: on this page, or kept from before a page switch."""
    return key in st.session_state or key in st.session_state.get(KEPT, {})


def forget(key: str) -> None:
    """Drop the value of the widget keyed ``key``, and the copy kept of it: it starts afresh."""
    st.session_state.pop(key, None)
    st.session_state.get(KEPT, {}).pop(key, None)


def _keep_choices() -> None:
    """Carry every remembered widget's value across page switches. Streamlit drops the state
    of a widget its page did not draw; a plain copy under another key outlives that, and the
    widget's own key is re-set so the value is the user's, not the widget's default."""
    kept = st.session_state.setdefault(KEPT, {})
    for key in st.session_state.get(REMEMBERED, ()):
        if key in st.session_state:
            kept[key] = st.session_state[key]
            st.session_state[key] = kept[key]
        elif key in kept:
            st.session_state[key] = kept[key]


def first_time(sent_key: str, need_key: str, key: str) -> bool:
    """Whether the page's copy of ``key`` (a model's weights, a dictionary, a heatmap's line)
    must be sent now: the first time this session sends it, or again when a page asked for
    it (``need_key``, a page that lost its copy). ``sent_key`` holds what this session sent."""
    sent = st.session_state.setdefault(sent_key, set())
    if key in sent and st.session_state.get(need_key) != key:
        return False
    sent.add(key)
    st.session_state.pop(need_key, None)
    return True


def asked_for(widget_key: str, field: str, need_key: str) -> None:
    """A page's copy asked again (its component's ``field``) for what it lacks: kept under
    ``need_key`` for :func:`first_time`."""
    state = st.session_state.get(widget_key) or {}
    st.session_state[need_key] = state.get(field)
