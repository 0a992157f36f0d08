"""The model writes page's controls, and what they likely ask for next, written ahead
(the lines themselves, kept for every session, are :mod:`dashboard.sampled`'s)."""
from __future__ import annotations

import numpy as np
import streamlit as st

from dashboard import background, handwriting, models, sampled
from dashboard.defaults import SEED_MAX, VARIATION_MAX, VARIATION_STEP
from dashboard.frame import remembered
from dashboard.library import SAMPLE_STEPS
from dashboard.models import LoadedModel
from inkcore import figures, sampling
from inkcore.library import StoreError

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
    """Write in the background what the next moves of the controls likely ask for, the
    nearest first: the Variation slider's next notch (both ways on a first visit, then
    the way it last moved), one more Sample and a drag's worth more Length; then every
    notch of Variation a drag of :data:`dashboard.sampled.NOTCHES_AHEAD` reaches, and every Sample more."""
    ways = background.slider_moves(VARIATION_SEEN, variation)
    seeds = range(seed, seed + count)
    more = range(seed + count, min(seed + MAX_COUNT, SEED_MAX + 1))
    next_notch = background.notches(variation, ways, VARIATION_STEP, 0, VARIATION_MAX)
    either_way = ways + tuple(way for way in (1, -1) if way not in ways)
    reach = background.notches(variation, either_way, VARIATION_STEP, 0, VARIATION_MAX, sampled.NOTCHES_AHEAD)
    longest = min(steps + sampled.NOTCHES_AHEAD * STEPS_STEP, STEPS_MAX)
    settings = [(steps, v, seeds) for v in next_notch] + [(steps, variation, more[:1]), (longest, variation, seeds)]
    settings += [(steps, v, seeds) for v in reach if v not in next_notch] + [(steps, variation, more)]
    sampled.prefetch_samples(loaded.model, loaded.key, settings)


#: How many of the writer's lines, and of each model's samples, the comparison shows.
HAND_LINES = 3


def writer_lines(loaded: LoadedModel) -> list[tuple[str, np.ndarray]]:
    """The saved lines an adapted model learned from that are still in its owner's library."""
    store = handwriting.store()
    found = []
    for line in loaded.metadata.get("adaptation", {}).get("lines", []):
        key = str(line.get("name", "")).split(" ", 1)[0]
        if store is None or not key.startswith("mine:"):
            continue
        try:
            example = store.load(int(key.removeprefix("mine:")))
        except (StoreError, ValueError):
            continue  # deleted since, or not this owner's
        found.append((example.name, example.rows))
    return found


def hand_comparison(loaded: LoadedModel, steps: int, variation: float, seed: int) -> None:
    """For an adapted model: the writer's own lines beside the base model's samples and the
    adapted model's, from the same seeds, so the reader can judge whether it writes in that hand."""
    base = models.other_model(loaded)
    if loaded.base is None or base is None:
        return
    st.subheader("In your hand?")
    st.caption(f"Your lines, then {base.label}'s samples and the adapted model's from the same seeds "
               f"({seed} to {seed + HAND_LINES - 1}), at this variation and length.")
    mine = writer_lines(loaded)[:HAND_LINES]
    seeds = range(seed, seed + HAND_LINES)
    theirs = sampled.samples(base.model, base.key, steps, variation, seeds)
    ours = sampled.samples(loaded.model, loaded.key, steps, variation, seeds)
    lines, titles = [], []
    for k in range(HAND_LINES):
        if mine:
            name, rows = mine[k] if k < len(mine) else ("", np.zeros((0, 3)))
            lines.append(rows)
            titles.append(f"yours: {name}" if name else "")
        lines += [theirs[k], ours[k]]
        titles += [f"{base.label}, seed {seeds[k]}", f"adapted, seed {seeds[k]}"]
    if not mine:
        st.caption("The lines it learned from are no longer in your library.")
    st.plotly_chart(figures.handwriting_grid(lines, titles, columns=3 if mine else 2), key="samples_hand")
