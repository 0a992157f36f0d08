"""Learn my handwriting: a copy of the model fitted to a few of the user's saved lines
(:mod:`inkcore.adapt`), trained in the background with a progress bar and a Stop
button, and kept for that user beside their handwriting (:mod:`inkcore.adapted_store`),
from where the sidebar's model picker offers it to every page."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import cached, handwriting
from dashboard.models import LoadedModel
from inkcore import adapt
from inkcore.adapted_store import AdaptedEntry, AdaptedModels
from inkcore.features import file_sha256
from inkcore.library import StoreError

#: Session keys: the lines chosen, the name, the adapted model shown in the library.
LINES, NAME, SHOWN = "adapt_lines", "adapt_name", "adapt_shown"
#: At most this many lines are learned from at once.
MOST_LINES = 8
POLL_S = 0.5


@dataclass
class Learning:
    """One adaptation at work for one owner."""

    name: str
    lines: int
    started: float = field(default_factory=time.monotonic)
    history: list = field(default_factory=list)  # adapt.Step, as they come
    stop: threading.Event = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)
    entry: int | None = None  # the saved model's id when done
    error: str | None = None


@st.cache_resource
def _learning() -> dict[str, Learning]:
    """Every owner's adaptation at work or last finished, shared by the owner's sessions."""
    return {}


def models_store() -> AdaptedModels | None:
    """This session's owner's adapted models, or None (the handwriting library cannot be opened)."""
    store = handwriting.store()
    if store is None:
        return None
    try:
        return AdaptedModels(store)
    except StoreError as error:
        st.session_state[handwriting.STORE_ERROR] = str(error)
        return None


def _train(learning: Learning, loaded: LoadedModel, rows: list[np.ndarray], names: list[str],
           models: AdaptedModels) -> None:
    try:
        result = adapt.adapt(loaded.model, rows, on_step=learning.history.append, should_stop=learning.stop.is_set)
        metadata = adapt.adapted_metadata(result, file_sha256(loaded.path), loaded.metadata, names)
        metadata["name"] = f"{loaded.label}, adapted to {learning.name}"
        learning.entry = models.save(learning.name, result.model, metadata)
    except (StoreError, adapt.AdaptError, OSError, ValueError) as error:
        learning.error = str(error)
    finally:
        learning.finished.set()


def learn_controls(loaded: LoadedModel) -> None:
    """Choose saved lines and a name, press Learn: the adaptation runs for this owner."""
    store, models = handwriting.store(), models_store()
    if store is None or models is None:
        st.error(st.session_state.get(handwriting.STORE_ERROR, "The handwriting library cannot be opened."))
        return
    owner = store.owner
    learning = _learning().get(owner)
    if learning is not None and not learning.finished.is_set():
        progress_view(learning)
        return
    entries = handwriting.saved_entries(store)
    if len(entries) < 2:
        st.info("Save at least two lines of your handwriting (write on any page and use “Save to the library”, "
                "or import stroke files above): the model learns from all but one and keeps the last to check itself.")
        return
    labels = {e.id: f"{e.name} ({e.points:,} points)" for e in entries}
    chosen = st.multiselect("Lines to learn from", list(labels), format_func=labels.get, key=LINES,
                            max_selections=MOST_LINES, help="All but the last are learned; the last is held out, "
                            "and the model that predicts it best is kept. Four lines of about a sentence work well.")
    name = st.text_input("Whose hand", key=NAME, placeholder="e.g. Ada", max_chars=40)
    ready = len(chosen) >= 2 and bool(name.strip())
    if st.button("Learn my handwriting", type="primary", disabled=not ready, key="adapt_start",
                 help=None if ready else "Choose at least two lines and give a name"):
        rows = [store.load(entry_id).rows for entry_id in chosen]
        names = [f"mine:{entry_id} {labels[entry_id]}" for entry_id in chosen]
        learning = _learning()[owner] = Learning(" ".join(name.split()), len(rows))
        cached.in_background(lambda: _train(learning, loaded, rows, names, models), "inkcore-adapt")
        st.rerun()
    if learning is not None:
        finished_view(learning)


def _held_out_chart(learning: Learning) -> None:
    history = list(learning.history)
    if history:
        frame = pd.DataFrame({"update": [s.step for s in history],
                              "held-out line, nats per point": [s.held_out_nll for s in history]})
        st.line_chart(frame, x="update", y="held-out line, nats per point", height=220)


def progress_view(learning: Learning) -> None:
    @st.fragment(run_every=POLL_S)
    def view() -> None:
        if learning.finished.is_set():
            st.rerun()
        history = list(learning.history)
        done = min(1.0, max(len(history) / (adapt.MAX_STEPS + 1), (time.monotonic() - learning.started) / adapt.SECONDS))
        best = min((s.held_out_nll for s in history), default=None)
        text = f"Learning {learning.name}'s hand from {learning.lines} lines: {len(history)} readings"
        st.progress(done, text=text + (f", held-out line {best:.3f} nats per point" if best is not None else "…"))
        _held_out_chart(learning)
        if st.button("Stop", key="adapt_stop", help="Keep the best model found so far"):
            learning.stop.set()

    view()


def finished_view(learning: Learning) -> None:
    if learning.error:
        st.error(f"Learning {handwriting.as_typed(learning.name)}'s hand failed: {learning.error}")
        return
    if learning.entry is None or not learning.history:
        return
    first, best = learning.history[0], min(learning.history, key=lambda s: s.held_out_nll)
    st.success(f"Learned {handwriting.as_typed(learning.name)}'s hand in {best.step} updates: the held-out line "
               f"went from {first.held_out_nll:.3f} to {best.held_out_nll:.3f} nats per point. Choose it in the "
               "sidebar's model picker to use it on every page.")
    _held_out_chart(learning)


def models_table(models: AdaptedModels | None) -> None:
    """The owner's adapted models, with renaming and deleting (which asks first)."""
    if models is None:
        return
    try:
        entries = models.entries()
    except StoreError as error:
        st.error(str(error))
        return
    if not entries:
        return
    st.markdown("**Your adapted models**")
    for entry in entries:
        entry_row(models, entry)


def entry_row(models: AdaptedModels, entry: AdaptedEntry) -> None:
    label, rename, delete = st.columns([4, 1, 1], vertical_alignment="center")
    missing = "" if Path(entry.path).exists() else " (its file is missing)"
    label.write(f"{handwriting.as_typed(entry.name)}: {adapt.METHODS.get(entry.method, entry.method)}{missing}")
    with rename.popover("Rename"):
        new_name = st.text_input("New name", entry.name, key=f"adapted_rename_text_{entry.id}")
        if st.button("Rename", key=f"adapted_rename_{entry.id}"):
            _change(lambda: models.rename(entry.id, new_name))
    with delete.popover("Delete"):
        st.write("Delete this adapted model? This cannot be undone.")
        if st.button("Delete it", key=f"adapted_delete_{entry.id}", type="primary"):
            _change(lambda: models.delete(entry.id))


def _change(change) -> None:
    try:
        change()
    except StoreError as error:
        st.session_state[handwriting.LIBRARY_ERROR] = str(error)
    st.rerun()
