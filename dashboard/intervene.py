"""The Intervene page's controls and tables: which cells to hold, how, on which
examples, and what the hold changed."""
from __future__ import annotations

import hashlib
import re
from typing import NamedTuple

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import background, cached, cell_names, controls, library
from dashboard.defaults import SEED_MAX, VARIATION_MAX, VARIATION_STEP
from dashboard.frame import chosen_before, remembered
from dashboard.models import ARTICLE, OURS, LoadedModel
from inkcore import cells, sampling, traits
from inkcore.intervene import hold_cells
from inkcore.model import Hold

#: The article's x-position cell (its "cell 408" follows how far along the line the pen is):
#: the intervention to try first, held high.
ARTICLE_X_CELL = 408
#: Examples scored (and the cells' means and ranges taken over) by default, and at most.
SCORED_EXAMPLES, MAX_SCORED = 10, 40
#: A probe's top cells offered at most.
PROBE_TOP = 25
#: Lines written side by side at most, and by default; their length's range, step and first value.
MAX_LINES, FIRST_LINES = 6, 2
MIN_STEPS, MAX_STEPS, STEPS_STEP, FIRST_STEPS = 100, 1000, 50, 500
#: The continuation's length: its range, step and first value.
MIN_MORE, MAX_MORE, MORE_STEP, FIRST_MORE = 20, 600, 20, 200
#: A library line is read up to this point and continued from there: a few words, and room to write on.
PRIME_POINTS = 300
#: The prefix of the keys of the line continued (intervene_source, intervene_example, its pen's).
LINE = "intervene"

BY_INDEX, BY_ROW, BY_PROBE = "By number", "By row of an order", "A probe's top cells"
MEAN, ZERO, HIGH, LOW, VALUE, SCALE = (
    "its mean", "zero", "high (its 99th percentile)", "low (its 1st percentile)", "a value", "scaled by a factor")
HOW = (MEAN, ZERO, HIGH, LOW, VALUE, SCALE)


class Examples(NamedTuple):
    keys: tuple[str, ...]
    lines: tuple[np.ndarray, ...]


class Choice(NamedTuple):
    """A hold the reader chose: its cells, how they are held, and its arrays."""

    cells: tuple[int, ...]
    described: str  # "cell 408 held at its 99th percentile (0.768)"
    keep: np.ndarray  # (cells,)
    put: np.ndarray  # (cells,)


def scoring_examples(loaded: LoadedModel) -> Examples:
    """The examples an intervention is scored on and its means and ranges taken over."""
    return Examples(*library.chosen_examples(
        loaded, "intervene_examples", "Scored on", SCORED_EXAMPLES, MAX_SCORED,
        "The hold's cost is measured on these, and a cell's mean, low and high are taken over them."))


def parse_numbers(text: str, last: int, what: str) -> list[int]:
    """Whole numbers in 0..last from text like "408, 93 45"; raises ValueError saying what is wrong."""
    found = []
    for word in re.split(r"[\s,;]+", text.strip()):
        if not word:
            continue
        if not word.isdigit():
            raise ValueError(f"“{word}” is not a {what} number: give numbers from 0 to {last}, such as 408, 93.")
        number = int(word)
        if number > last:
            raise ValueError(f"There is no {what} {number}: they run from 0 to {last}.")
        if number not in found:
            found.append(number)
    return found


def default_cells(loaded: LoadedModel, examples: Examples) -> str:
    """The article's x-position cell for its model; for another, its best x-position cell by probe."""
    if loaded.label == ARTICLE:
        return str(ARTICLE_X_CELL)
    ranking = cached.probes(loaded.model, loaded.key, examples.keys, examples.lines)
    return str(ranking["x"][0][0]) if ranking.get("x") else "0"


def cells_key(loaded: LoadedModel) -> str:
    """The widget key of the cells typed for this model."""
    return "intervene_cells_" + {OURS: "ours", ARTICLE: "article"}.get(loaded.label, "uploaded")


def chosen_cells(loaded: LoadedModel, examples: Examples) -> list[int]:
    """The cells to hold, chosen by number, by row of an order, or as a probe's top cells."""
    last = loaded.model.config.cells - 1
    way = st.radio("Choose cells", (BY_INDEX, BY_ROW, BY_PROBE), horizontal=True,
                   key=remembered("intervene_way", BY_INDEX),
                   help="Try first: on the article's model, cell 408, which follows how far along the line "
                        "the pen is, held high. On another model the first cells offered are its best "
                        "x-position cell by probe.")
    try:
        if way == BY_INDEX:
            key = cells_key(loaded)  # each model keeps its own cells: a cell of one is not a cell of another
            if not chosen_before(key):
                st.session_state[key] = default_cells(loaded, examples)
            text = st.text_input("Cells (numbers, separated by commas)", key=remembered(key, "0"))
            return parse_numbers(text, last, "cell")
        if way == BY_ROW:
            shown = cell_names.shown_order(loaded)
            if shown is None:
                st.info("No order of this model's cells is known yet: open Ordered cells to make one, "
                        "or choose cells by number.")
                return []
            rows_of, description = shown
            text = st.text_input(f"Rows of {description}", key=remembered("intervene_rows", "136"))
            cell_at = np.argsort(rows_of)  # cell_at[row] is the cell shown on that row
            return [int(cell_at[row]) for row in parse_numbers(text, last, "row")]
        ranking = cached.probes(loaded.model, loaded.key, examples.keys, examples.lines)
        feature_column, count_column = st.columns(2)
        feature = feature_column.selectbox("Feature", list(ranking), key=remembered("intervene_feature", "x"),
                                           format_func=lambda name: cells.FEATURE_LABELS.get(name, name))
        count = count_column.slider("Top cells", 1, PROBE_TOP, key=remembered("intervene_top", 5))
        return [int(cell) for cell, _ in ranking[feature][:count]]
    except ValueError as error:
        st.error(str(error))
        return []


def hold_choice(loaded: LoadedModel, examples: Examples, chosen: list[int]) -> Choice:
    """How the chosen cells are held, and the hold's arrays."""
    how_column, number_column = st.columns(2)
    how = how_column.selectbox("Hold them at", HOW, key=remembered("intervene_how", HIGH))
    mean, low, high = cached.cell_statistics(loaded.model, loaded.key, examples.keys, examples.lines)
    index = np.asarray(chosen, dtype=int)
    if how == VALUE:
        value = number_column.number_input("Value of c", -20.0, 20.0, step=0.5, key=remembered("intervene_value", 1.0))
        values, said = np.full(len(index), float(value)), f"{float(value):g}"
    elif how == SCALE:
        factor = number_column.number_input(
            "Factor", -1.0, 1.0, step=0.1, key=remembered("intervene_factor", 0.5),
            help="c is multiplied by it after every step's update, so the factor compounds: beyond ±1 "
                 "the state would grow without bound within a few dozen steps.")
        hold = hold_cells(loaded.model, index, factor=float(factor))
        return Choice(tuple(chosen), f"{_cells_named(chosen)} scaled by {float(factor):g} at every step", *hold)
    else:
        values = {MEAN: mean, ZERO: np.zeros_like(mean), HIGH: high, LOW: low}[how][index]
        said = how if len(index) > 1 else f"{how} ({float(values[0]):.3g})"
    hold = hold_cells(loaded.model, index, value=values)
    return Choice(tuple(chosen), f"{_cells_named(chosen)} held at {said}", *hold)


def _cells_named(chosen: list[int]) -> str:
    shown = ", ".join(str(c) for c in chosen[:12]) + (f" and {len(chosen) - 12} more" if len(chosen) > 12 else "")
    return f"cell{'s' if len(chosen) > 1 else ''} {shown}"


def _hold_digest(keep: np.ndarray | None, put: np.ndarray | None) -> str | None:
    return None if keep is None else hashlib.sha1(keep.tobytes() + put.tobytes()).hexdigest()


def _writing(loaded: LoadedModel, examples: Examples, keep: np.ndarray | None, put: np.ndarray | None):
    """The model's writing and score with a hold (None: intact), computed in the background:
    ``(writing, job)`` as :func:`dashboard.background.newest` gives them."""
    key = (loaded.key, examples.keys, _hold_digest(keep, put))
    model, lines = loaded.model, examples.lines
    hold = None if keep is None else Hold(keep, put)

    def work(report):
        return traits.writing(model, hold, lines)

    return background.newest(cached.writing_cache(), key, work, "_intervene_writing_shown" if keep is not None
                             else "_intervene_intact_shown", "Scoring the examples and writing with the hold…")


def effect(loaded: LoadedModel, examples: Examples, choice: Choice) -> tuple[traits.Effect, object]:
    """What ``choice`` changes, and the job still computing it (None when what is returned is
    its own effect; else the previous hold's effect is returned, to show meanwhile)."""
    intact, intact_job = _writing(loaded, examples, None, None)
    held, held_job = _writing(loaded, examples, choice.keep, choice.put)
    return traits.Effect(intact, held), held_job or intact_job


def effect_view(found: traits.Effect, examples: Examples) -> None:
    """The hold's cost on the examples (nats per point), how much was scored, and each trait
    of what the model writes, intact and held."""
    cost, points = st.columns(2)
    cost.metric("Cost on the examples (nats per point)", f"{found.cost:+.3f}",
                help=f"Negative log-likelihood per point with the hold, {found.held.nll:.3f}, against "
                     f"{found.intact.nll:.3f} intact; lower is better, so a positive cost is a loss.")
    points.metric("Scored", f"{len(examples.keys)} lines, {found.intact.points:,} points")
    st.dataframe(effect_table(found), hide_index=True, key="intervene_effect",
                 column_config={name: st.column_config.NumberColumn(format="%.2f")
                                for name in ("Intact", "Held", "Change")})
    st.caption(f"Traits are means over the lines seeds {traits.EFFECT_SEEDS[0]}-{traits.EFFECT_SEEDS[-1]} "
               f"write, {traits.EFFECT_STEPS} steps at variation {traits.EFFECT_VARIATION:g}, with and without "
               "the hold, from the same random numbers.")


def effect_table(found: traits.Effect) -> pd.DataFrame:
    """Each trait of the lines written without and with the hold, and the change."""
    return pd.DataFrame([{"What it writes": label, "Unit": unit, "Intact": found.intact.traits[name],
                          "Held": found.held.traits[name], "Change": found.change(name)}
                         for name, (label, unit) in traits.TRAITS.items()])


class Pair(NamedTuple):
    """What the intact model and the held one wrote for the same request, and what that
    request was written for (the seeds, or the line continued): a pair shown while a
    newer one is written says itself what it shows."""

    intact: object
    held: object
    written_for: object


def _pair(loaded: LoadedModel, key: tuple, write, choice: Choice, written_for, shown: str, text: str):
    """What ``write(hold)`` gives intact and with the chosen hold, as one :class:`Pair` from
    :func:`dashboard.background.newest`, so that the two shown side by side always come
    from the same request; the intact part is kept apart too, as every hold shares it."""
    cache, hold = cached.held_writing_cache(), Hold(choice.keep, choice.put)

    def work(report):
        intact_key = (*key, None)
        intact = cache.get(intact_key)
        if intact is None:
            intact = write(None)
            cache.put(intact_key, intact)
        return Pair(intact, write(hold), written_for)

    return background.newest(cache, (*key, _hold_digest(*hold)), work, shown, text)


def seed_panels(lines: Pair) -> tuple[list[np.ndarray], list[str]]:
    """The lines of a :func:`side_by_side` pair as :func:`inkcore.figures.handwriting_grid` takes
    them: each seed's intact line, then its held one, with their titles."""
    panels = [(line, f"seed {seed}{suffix}")
              for seed, plain, changed in zip(lines.written_for, lines.intact, lines.held)
              for line, suffix in ((plain, ""), (changed, ", held"))]
    return [line for line, _ in panels], [title for _, title in panels]


def side_by_side(loaded: LoadedModel, seeds: tuple[int, ...], steps: int, variation: float, choice: Choice):
    """The lines ``seeds`` write intact and with the hold, each as written alone, and the job
    still writing them (None when they are the ones asked for; else the pair shown last
    comes meanwhile, as :func:`dashboard.background.newest` gives them)."""
    model = loaded.model
    return _pair(loaded, ("lines", loaded.key, seeds, steps, variation),
                 lambda hold: traits.written_lines(model, seeds, steps, variation, hold), choice, seeds,
                 "_intervene_lines_shown", "Writing the lines…")


def continuations(loaded: LoadedModel, rows: np.ndarray, steps: int, variation: float, seed: int, choice: Choice):
    """One continuation of ``rows`` by the intact model and one with the hold, from the same
    random numbers, and the job still writing them (as :func:`side_by_side`)."""
    model, line = loaded.model, cached.line_digest(rows)

    def write(hold: Hold | None) -> np.ndarray:
        return sampling.continue_writing(model, rows, steps, np.random.default_rng(seed), variation, hold=hold).rows[0]

    return _pair(loaded, ("continuation", loaded.key, line, len(rows), steps, variation, seed), write, choice,
                 rows, "_intervene_more_shown", "Writing on…")


def lines_controls() -> tuple[tuple[int, ...], int, float]:
    """The seeds of the lines written side by side, their length and their variation."""
    a, b, c, d = st.columns(4)
    count = a.slider("Lines", 1, MAX_LINES, key=remembered("intervene_count", FIRST_LINES))
    steps = b.slider("Length (steps)", MIN_STEPS, MAX_STEPS, step=STEPS_STEP,
                     key=remembered("intervene_steps", FIRST_STEPS))
    variation = c.slider("Variation", 0.0, VARIATION_MAX, step=VARIATION_STEP,
                         key=remembered("intervene_variation", sampling.SAMPLE_VARIATION))
    seed = int(d.number_input("Seed", 0, SEED_MAX, key=remembered("intervene_seed", 1)))
    return tuple(range(seed, seed + count)), steps, round(variation, 2)


def continuation_controls(loaded: LoadedModel) -> tuple[int, int, np.ndarray]:
    """The continuation's length and seed, and the line it continues: a library line's first
    :data:`PRIME_POINTS`, or the reader's writing (cut for the figure when long)."""
    length, seed_column = st.columns(2)
    steps = length.slider("Continuation length", MIN_MORE, MAX_MORE, step=MORE_STEP,
                          key=remembered("intervene_more", FIRST_MORE))
    seed = int(seed_column.number_input("Seed", 0, SEED_MAX, key=remembered("intervene_more_seed", 1)))
    rows = controls.line_source(loaded, LINE, default="article:1")
    if controls.from_library(LINE) and len(rows) > PRIME_POINTS:
        rows = rows[:PRIME_POINTS]
        st.caption(f"The model reads the example's first {PRIME_POINTS} points and writes on from there.")
    rows, cut = controls.limit_points(rows)
    if cut:
        st.caption(cut)
    return steps, seed, rows
