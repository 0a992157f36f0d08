"""Pen input: the pen surface every page writes on, what to tell the writer about
their writing, and a written line with its Clear and Save buttons.

The surface is a component of inkcore's own (``pen.js``, inline, no build step):
streamlit-drawable-canvas reports only finished, smoothed strokes without times,
and the model reads the pen's timing. The surface records pointer events with
their timestamps, draws the ink, and runs the model's step in the page, so the
prediction follows the pen with no round trip per move. When the pen lifts it
hands its strokes to Python, which reads them with :func:`inkcore.pen.read_strokes`
(the scale estimated by the chosen model) and sends back the scale and speed
factor; the surface reads its strokes again with them, so the page and the
engine feed the model the same rows. The weights go to a page once per model
and session.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import streamlit as st

from dashboard import cached, frame
from dashboard.defaults import WRITE_CANDIDATES, WRITE_LENGTH
from dashboard.handwriting import save_controls
from dashboard.models import LoadedModel
from inkcore import figures, sampling
from inkcore.features import Dictionary
from inkcore.pen import PenError, PenReading, read_strokes
from inkcore.strokes import MAX_CANVAS_ROWS

SURFACE_HEIGHT, SURFACE_WIDTH = 250, 720
#: The modes of the surface: a prediction drawn from the pen's tip, the cells' state, or ink alone.
WRITE, WATCH, PLAIN = "write", "watch", "plain"
#: The models whose weights this session's pages have been sent, and the one a page asked for again.
MODELS_SENT, NEED_MODEL = "_pen_models_sent", "_pen_need_model"
#: The same for the dictionaries of features the Watch surface lists live.
DICTIONARIES_SENT, NEED_DICTIONARY = "_pen_dictionaries_sent", "_pen_need_dictionary"
#: Features the Watch surface lists, the most active first.
LIVE_FEATURES = 8

_CSS = """
.inkcore-pen { font: 13px/1.4 var(--st-font, sans-serif); color: var(--st-text-color, #333); }
.inkcore-pen .stack { position: relative; border: 1px solid #d0d4dc; border-radius: 6px; background: #fff;
  overflow: hidden; cursor: crosshair; }
.inkcore-pen .stack canvas { position: absolute; left: 0; top: 0; }
.inkcore-pen .status { margin: 4px 2px 0; opacity: 0.75; min-height: 1.4em; }
.inkcore-pen canvas.cells { display: block; border-radius: 4px; flex: none; }
.inkcore-pen .live { display: flex; gap: 18px; margin-top: 6px; align-items: flex-start; }
.inkcore-pen .features { flex: 1; min-width: 0; }
.inkcore-pen .features .title { opacity: 0.75; margin-bottom: 4px; }
.inkcore-pen .features ol { margin: 0; padding: 0; list-style: none; }
.inkcore-pen .features li { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; line-height: 1.9; }
.inkcore-pen .features .bar { display: inline-block; height: 9px; margin-right: 8px; border-radius: 2px;
  background: #01665e; vertical-align: middle; }
.inkcore-pen .features b { display: inline-block; min-width: 3.2em; font-variant-numeric: tabular-nums; }
"""
_SURFACE = st.components.v2.component("inkcore_pen", css=_CSS, js=(Path(__file__).with_name("pen.js")).read_text())


def _strokes_key(key: str) -> str:
    return f"{key}_strokes"


def _version_key(key: str) -> str:
    return f"{key}_version"  # counts the surfaces a Clear replaced


def _widget_key(key: str) -> str:
    return f"{key}_pen_{st.session_state.get(_version_key(key), 0)}"


def _take_strokes(key: str) -> None:
    """The surface's strokes after a pen lift, kept under a key of our own so they
    outlive a page switch (Streamlit drops the state of widgets it did not draw)."""
    state = st.session_state.get(_widget_key(key)) or {}
    strokes = state.get("strokes")
    if isinstance(strokes, list):
        st.session_state[_strokes_key(key)] = strokes


def _model_data(loaded: LoadedModel | None) -> dict | None:
    """The model for the page's copy: its weights only the first time this session sends them."""
    if loaded is None:
        return None
    info = {"key": loaded.key, "cells": loaded.model.config.cells, "components": loaded.model.config.components,
            "forget_bias": loaded.model.config.forget_bias}
    if frame.first_time(MODELS_SENT, NEED_MODEL, loaded.key):
        info["weights"] = cached.browser_weights(loaded.model, loaded.key)
    return info


def _dictionary_data(entry: tuple[str, Dictionary] | None) -> dict | None:
    """The dictionary for the page's copy: its encoder only the first time this session sends it."""
    if entry is None:
        return None
    key, dictionary = entry
    info = {"key": key, "size": dictionary.size, "features": dictionary.features, "state": dictionary.state,
            "activation": dictionary.activation, "k": dictionary.k, "shown": LIVE_FEATURES}
    if frame.first_time(DICTIONARIES_SENT, NEED_DICTIONARY, key):
        info.update(cached.browser_dictionary(dictionary, key))
    return info


def pen_writing(key: str, loaded: LoadedModel | None = None, mode: str = PLAIN, length: int = WRITE_LENGTH,
                variation: float = sampling.WRITE_VARIATION, candidates: int = WRITE_CANDIDATES,
                dictionary: tuple[str, Dictionary] | None = None) -> PenReading:
    """A pen surface to write on, and what the writing says to the model (in the ``WRITE``
    mode the surface continues it ``length`` steps, ``candidates`` ways; in the ``WATCH``
    mode it shows the cells and, given ``dictionary`` (a key naming it and the
    dictionary), lists the features most active at the pen's tip). What is written
    survives reruns and page switches."""
    strokes = st.session_state.get(_strokes_key(key)) or []
    try:
        reading = cached.pen_reading(loaded.model if loaded else None, loaded.key if loaded else "",
                                     json.dumps(strokes))
    except PenError as error:
        st.error(f"Your writing could not be read: {error}")
        reading = None
    data = {
        "mode": mode, "width": SURFACE_WIDTH, "height": SURFACE_HEIGHT, "strokes": strokes,
        "length": int(length), "variation": float(variation), "candidates": int(candidates),
        "ink": figures.INK, "colours": list(figures.CONTINUATION_COLOURS),
        "model": _model_data(loaded) if mode != PLAIN else None,
        "dictionary": _dictionary_data(dictionary) if mode == WATCH and loaded is not None else None,
        "reading": None if reading is None else {"units_per_pixel": reading.units_per_pixel,
                                                 "speed_factor": reading.speed_factor, "strokes": len(strokes)},
    }
    _SURFACE(data=data, key=_widget_key(key), default={"strokes": None, "need_model": None, "need_dictionary": None},
             on_strokes_change=lambda: _take_strokes(key),
             on_need_model_change=lambda: frame.asked_for(_widget_key(key), "need_model", NEED_MODEL),
             on_need_dictionary_change=lambda: frame.asked_for(_widget_key(key), "need_dictionary",
                                                                      NEED_DICTIONARY))
    return reading if reading is not None else read_strokes([])  # unreadable: nothing written


def clear_pen(key: str) -> None:
    st.session_state.pop(_strokes_key(key), None)
    st.session_state[_version_key(key)] = st.session_state.get(_version_key(key), 0) + 1


def writing_message(writing: PenReading) -> str | None:
    """What to tell the user about their writing, if anything."""
    if writing.points == 1:
        return "That is a single dot: write a word or two and the model will read your strokes."
    if len(writing.rows) == 0:
        return "Write a word or two on the surface above: the model reads your pen strokes."
    if writing.truncated:
        return f"Your writing is long: the model reads its last {MAX_CANVAS_ROWS:,} points."
    return None


def written_line(key: str, loaded: LoadedModel | None = None, mode: str = PLAIN,
                 dictionary: tuple[str, Dictionary] | None = None) -> np.ndarray:
    """A pen surface with Clear and Save to the library under it; the rows written.
    Stops the page with a hint while there is nothing to read."""
    writing = pen_writing(key, loaded, mode, dictionary=dictionary)
    left, right = st.columns([1, 6])
    if left.button("Clear", key=f"{key}_clear"):
        clear_pen(key)
        st.rerun()
    with right:
        save_controls(writing.rows, key)
    message = writing_message(writing)
    if message:
        st.info(message)
        st.stop()
    return writing.rows
