"""The Write with the model page's controls and its animation: the continuation's
settings and seed, its buttons, and Play and Pause, whose state outlives the reruns that
a click makes (a Pause clicked while Play runs reruns the page, which stops Play)."""
from __future__ import annotations

import time
from typing import Iterator, NamedTuple

import streamlit as st

from dashboard import pen
from dashboard.defaults import (MAX_CANDIDATES, VARIATION_MAX, VARIATION_STEP, WRITE_CANDIDATES, WRITE_LENGTH,
                                WRITE_LENGTH_MAX, WRITE_LENGTH_MIN)
from dashboard.frame import remembered
from dashboard.handwriting import save_controls
from inkcore import sampling

#: The prefix of the page's pen surface's keys (its strokes are kept under "write_strokes").
PEN = "write"
#: The continuation's controls, and the seed Re-sample moves on.
LENGTH, VARIATION, CANDIDATES, SEED = "write_length", "write_variation", "write_candidates", "write_seed"
#: The animation's state: the step Play showed last, whether Pause stopped it there, and the
#: continuation it animates.
FRAME, PAUSED, ANIMATED = "write_frame", "write_paused", "write_animated"
#: Play draws the continuation in about this many frames, this many seconds apart.
ANIMATION_FRAMES = 60
FRAME_SECONDS = 0.03


def continuation_controls() -> tuple[int, float, int]:
    """The continuation's length, variation and candidates."""
    left, middle, right = st.columns(3)
    length = left.slider("Length (steps)", WRITE_LENGTH_MIN, WRITE_LENGTH_MAX, key=remembered(LENGTH, WRITE_LENGTH))
    variation = middle.slider("Variation", 0.0, VARIATION_MAX, step=VARIATION_STEP,
                              key=remembered(VARIATION, sampling.WRITE_VARIATION))
    candidates = right.slider("Candidates", 1, MAX_CANDIDATES, key=remembered(CANDIDATES, WRITE_CANDIDATES))
    return length, round(variation, 2), candidates


class Clicked(NamedTuple):
    seed: int  # the seed the continuation is written with, moved on by Re-sample
    play: bool
    pause: bool


def buttons(rows) -> Clicked:
    """Clear (which empties the surface and reruns the page), Re-sample, Play, Pause, and
    Save to the library for the writing's ``rows``."""
    seed = st.session_state.setdefault(SEED, 0)
    clear, resample, play, pause, save = st.columns([1, 1, 1, 1, 3])
    if clear.button("Clear", icon=":material/delete:", key="write_clear"):
        pen.clear_pen(PEN)
        _reset()
        st.rerun()
    if resample.button("Re-sample", icon=":material/casino:", key="write_resample"):
        st.session_state[SEED] = seed = seed + 1
    clicked = Clicked(seed, play.button("Play", icon=":material/play_arrow:", key="write_play"),
                      pause.button("Pause", icon=":material/pause:", key="write_pause"))
    with save:
        save_controls(rows, PEN)
    st.page_link("pages/9_library.py", label="Saved a few lines? Teach the model your hand: Learn my handwriting",
                 icon=":material/school:")
    return clicked


def _reset() -> None:
    """Forget a paused or unfinished animation: the whole continuation shows again."""
    st.session_state.pop(FRAME, None)
    st.session_state.pop(PAUSED, None)


def paused_at(continuation: tuple, pause: bool) -> int | None:
    """The step the animation of ``continuation`` (what tells it from another: the writing,
    the settings, the seed) is paused at, or None to show it whole. A new continuation starts
    afresh; Pause while Play runs stops at Play's frame; any other rerun ends an animation
    that was not paused."""
    if st.session_state.get(ANIMATED) != continuation:
        st.session_state[ANIMATED] = continuation
        _reset()
    if pause and FRAME in st.session_state:
        st.session_state[PAUSED] = True
    elif not st.session_state.get(PAUSED):
        _reset()
    return st.session_state.get(FRAME)


def play(paused: int | None, length: int) -> Iterator[int]:
    """The steps Play shows of a continuation ``length`` steps long, one frame each, from the
    one after ``paused``. Each is kept as the frame a Pause leaves the animation at (a Pause
    reruns the page, so the loop stops wherever it is); after the last the animation is over."""
    st.session_state[PAUSED] = False
    for shown in range((paused or 0) + 1, length + 1, max(1, length // ANIMATION_FRAMES)):
        st.session_state[FRAME] = shown
        yield shown
        time.sleep(FRAME_SECONDS)
    _reset()
