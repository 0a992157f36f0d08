"""The Possibility space page's controls: the futures' settings, and the Step slider with
Play, which moves along the line and leaves the slider where it stopped."""
from __future__ import annotations

import time
from typing import Iterator

import streamlit as st

from dashboard import controls
from dashboard.frame import remembered
from inkcore import sampling

#: The prefix of the line picker's keys (futures_source, futures_example) and of its pen's.
LINE = "futures"
VARIATION, COUNT, STEPS, WHOLE = "futures_variation", "futures_count", "futures_steps", "futures_whole"
#: The Step slider, and where Play stopped, for the slider to take up on the next run.
AT, PLAYED_TO = "futures_at", "futures_played_to"
#: The Variation slider's notches (the article's 0.65 among them); the futures' counts and lengths.
VARIATIONS = (0.1, 0.3, 0.5, 0.65, 0.9, 1.2)
MAX_FUTURES, FUTURES_STEP, MIN_STEPS, MAX_STEPS = 100, 5, 2, 20
#: The Step slider starts here, or at the line's end on a shorter line.
FIRST_STEP = 40
#: Play moves this many points at a time, this many seconds apart.
PLAY_STRIDE, PLAY_PAUSE_S = 2, 0.05


def futures_controls() -> tuple[float, int, int]:
    """The futures' variation, how many at each point, and how many steps each."""
    a, b, c = st.columns(3)
    variation = a.select_slider("Variation", VARIATIONS, key=remembered(VARIATION, sampling.SAMPLE_VARIATION))
    count = b.slider("Futures per point", FUTURES_STEP, MAX_FUTURES, step=FUTURES_STEP,
                     key=remembered(COUNT, sampling.FUTURES))
    steps = c.slider("Steps per future", MIN_STEPS, MAX_STEPS, key=remembered(STEPS, sampling.FUTURE_STEPS))
    return variation, count, steps


def whole_line() -> bool:
    """Whether every point's futures are shown at once, rather than one point's."""
    return st.toggle("Show every point's futures at once", key=remembered(WHOLE, False))


def step_controls(points: int) -> tuple[int, bool]:
    """The Step slider along a line of ``points`` points, and whether Play was clicked."""
    last = points - 1
    if PLAYED_TO in st.session_state:  # Play leaves the slider where it stopped
        st.session_state[AT] = st.session_state.pop(PLAYED_TO)
    controls.clamp_state(AT, last, default=min(last, FIRST_STEP))
    at = min(st.slider("Step", 0, max(last, 1), key=AT, disabled=last == 0), last)
    return at, st.button("Play along the line", icon=":material/play_arrow:", key="futures_play", disabled=at >= last)


def play(at: int, points: int) -> Iterator[int]:
    """The points Play shows, from ``at`` to the line's end, one frame each; then the page
    reruns with the Step slider where Play stopped."""
    for shown in range(at, points, PLAY_STRIDE):
        yield shown
        time.sleep(PLAY_PAUSE_S)
    st.session_state[PLAYED_TO] = shown
    st.rerun()
