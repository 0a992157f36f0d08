"""The model writes page's controls, and what they likely ask for next, written ahead
(the lines themselves, kept for every session, are :mod:`dashboard.sampled`'s)."""
from __future__ import annotations

import streamlit as st

from dashboard import background, sampled
from dashboard.defaults import SEED_MAX, VARIATION_MAX, VARIATION_STEP
from dashboard.frame import remembered
from dashboard.library import SAMPLE_STEPS
from dashboard.models import LoadedModel
from inkcore import sampling

COUNT, STEPS, VARIATION, SEED = "samples_count", "samples_steps", "samples_variation", "samples_seed"
#: The variation shown last, from which the next move of the slider is guessed.
VARIATION_SEEN = "_samples_variation_seen"
#: The Samples slider's end and first value; the Length slider's end and step.
MAX_COUNT, COUNT_DEFAULT = 12, 6
STEPS_MAX, STEPS_STEP = 1500, 50


def sample_controls() -> tuple[int, int, float, int]:
    """How many lines, how long, at which variation, from which seed."""
    a, b, c, d = st.columns(4)
    count = a.slider("Samples", 1, MAX_COUNT, key=remembered(COUNT, COUNT_DEFAULT))
    steps = b.slider("Length (steps)", STEPS_STEP, STEPS_MAX, step=STEPS_STEP, key=remembered(STEPS, SAMPLE_STEPS))
    variation = c.slider("Variation", 0.0, VARIATION_MAX, step=VARIATION_STEP,
                         key=remembered(VARIATION, sampling.SAMPLE_VARIATION))
    seed = d.number_input("Seed", 0, SEED_MAX, key=remembered(SEED, 1))
    return count, steps, round(variation, 2), int(seed)  # 0.7, not the slider's 0.7000000000000001


def samples_ahead(loaded: LoadedModel, count: int, steps: int, variation: float, seed: int) -> None:
    """Write in the background what the next change of the controls likely asks for: the
    Variation slider's next notch, both ways on a first visit, then the way it last moved;
    a notch more Length, and one more Sample."""
    ways = background.slider_moves(VARIATION_SEEN, variation)
    variations = background.notches(variation, ways, VARIATION_STEP, 0, VARIATION_MAX)
    longer = (min(steps + STEPS_STEP, STEPS_MAX), variation, seed + count)
    sampled.prefetch_samples(loaded.model, loaded.key, steps, variations, range(seed, seed + count), longer=longer)
