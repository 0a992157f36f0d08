"""Pen input: a canvas to write on, what to tell the writer about their drawing,
and a written line with its Clear and Save buttons.

Pages call only :func:`canvas_writing`, :func:`clear_canvas`,
:func:`writing_message` and :func:`written_line`; how the strokes are captured
stays in here (today streamlit-drawable-canvas, read by
:func:`inkcore.strokes.canvas_to_rows`)."""
from __future__ import annotations

import numpy as np
import streamlit as st

from dashboard.handwriting import save_controls
from inkcore.strokes import CanvasWriting, canvas_to_rows

CANVAS_HEIGHT, CANVAS_WIDTH = 250, 720
PEN_WIDTH = 3


def canvas_writing(key: str) -> CanvasWriting:
    """A canvas to write on; what is drawn survives reruns and page switches."""
    from streamlit_drawable_canvas import st_canvas

    version = st.session_state.get(f"{key}_version", 0)
    widget_key = f"{key}_canvas_{version}"
    saved_key = f"{key}_drawing"
    initial = st.session_state.get(saved_key) if widget_key not in st.session_state else None
    result = st_canvas(
        stroke_width=PEN_WIDTH, stroke_color="#1d2330", background_color="#ffffff",
        height=CANVAS_HEIGHT, width=CANVAS_WIDTH, drawing_mode="freedraw",
        initial_drawing=initial, key=widget_key,
    )
    if result.json_data is not None and result.json_data.get("objects") is not None:
        st.session_state[saved_key] = result.json_data
    return canvas_to_rows(st.session_state.get(saved_key))


def clear_canvas(key: str) -> None:
    st.session_state.pop(f"{key}_drawing", None)
    st.session_state[f"{key}_version"] = st.session_state.get(f"{key}_version", 0) + 1


def writing_message(writing: CanvasWriting) -> str | None:
    """What to tell the user about their drawing, if anything."""
    if writing.points == 1:
        return "That is a single dot: write a word or two and the model will read your strokes."
    if len(writing.rows) == 0:
        return "Write a word or two on the canvas: the model reads your pen strokes."
    if writing.truncated:
        return f"Your writing is long: the model reads its last {len(writing.rows):,} points."
    return None


def written_line(key: str) -> np.ndarray:
    """A canvas with Clear and Save to the library under it; the rows written. Stops
    the page with a hint while there is nothing to read."""
    writing = canvas_writing(key)
    left, right = st.columns([1, 6])
    if left.button("Clear", key=f"{key}_clear"):
        clear_canvas(key)
        st.rerun()
    with right:
        save_controls(writing.rows, key)
    message = writing_message(writing)
    if message:
        st.info(message)
        st.stop()
    return writing.rows
