"""The Features page's parts: the dictionary of the chosen model, a feature picked by
number, by the stroke event it tells best or by a click on the heatmap of the
features active on a line, what a feature is made of, where it is most active
across the example library, and steering the model's writing with it."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st

from dashboard import background, cached, controls, heatmap, intervene, library
from dashboard.models import LoadedModel
from inkcore import figures, traits
from inkcore.events import EVENTS
from inkcore.features import Dictionary, DictionaryError, dictionary_folders, file_sha256, find_dictionary, \
    load_dictionary, steering_hold
from inkcore.features_eval import PLACE_HALF_WIDTH, line_activations, peaks

#: Session keys of the page's controls.
FEATURE = "features_feature"
EXAMPLE = "features_example"
HEATMAP = "features_heatmap"
EVENT = "features_event"
CELL = "features_cell"
STRENGTH = "features_strength"
#: The model whose dictionary the chosen feature belongs to (a feature number means nothing in another's).
FEATURE_OF = "_features_feature_of"
#: What the page lists and draws.
MADE_OF_CELLS, CELL_FEATURES, PLACES, PLACE_EXAMPLES, STEER_SEEDS = 8, 8, 12, 24, (1, 2)
HEATMAP_HEIGHT = 360
#: Steering's strength, in units of the feature's activation (its largest on the line shown).
STRENGTH_RANGE = (-3.0, 3.0)


@st.cache_data(max_entries=16, show_spinner=False)
def _sha256(path: str, mtime: float) -> str:
    return file_sha256(path)


@st.cache_resource(max_entries=6, show_spinner="Loading the dictionary…")
def _dictionary(path: str, mtime: float, sha: str) -> Dictionary:
    return load_dictionary(path, model_sha256=sha)


def _found(loaded: LoadedModel) -> tuple[Path, Path, str] | None:
    """The model's weights, its dictionary's file and the model's sha256, if it has one."""
    weights = Path(loaded.key.rsplit("@", 1)[0])
    sha = _sha256(str(weights), weights.stat().st_mtime)
    path = find_dictionary(sha, dictionary_folders())
    return None if path is None else (weights, path, sha)


def dictionary_of(loaded: LoadedModel) -> Dictionary | None:
    """The chosen model's dictionary, or None after one line saying why there is none."""
    found = _found(loaded)
    if found is None:
        weights = Path(loaded.key.rsplit("@", 1)[0])
        st.info("This model has no dictionary of features yet. Train one with "
                f"`inkcore features train --weights {weights} --data lines.npz --out "
                f"{weights.with_suffix('').name}.features.npz` and put it in `{dictionary_folders()[-1]}`.")
        return None
    _, path, sha = found
    try:
        return _dictionary(str(path), path.stat().st_mtime, sha)
    except DictionaryError as error:
        st.error(f"The dictionary cannot be used. {error}")
        return None


def live_dictionary(loaded: LoadedModel) -> tuple[str, Dictionary] | tuple[None, str]:
    """For a page that lists features as the pen moves: (a key naming the file, the
    dictionary), or (None, one line saying why there is none)."""
    found = _found(loaded)
    if found is None:
        return None, "This model has no dictionary, so no features are listed (the Features page says how to train one)."
    _, path, sha = found
    try:
        mtime = path.stat().st_mtime
        return f"{path}@{mtime}", _dictionary(str(path), mtime, sha)
    except DictionaryError as error:
        return None, f"The dictionary cannot be used, so no features are listed. {error}"


def open_feature(dictionary: Dictionary, feature: int) -> None:
    """Go to the Features page with ``feature`` of ``dictionary`` chosen."""
    st.session_state[FEATURE] = int(feature)
    st.session_state[FEATURE_OF] = dictionary.model_sha256
    st.switch_page("pages/12_features.py")


def activations(loaded: LoadedModel, dictionary: Dictionary, rows: np.ndarray) -> np.ndarray:
    """The line's feature activations (T, F), kept per model, dictionary and line."""
    key = (loaded.key, id(dictionary), cached.line_digest(rows))
    store = _activation_cache()
    found = store.get(key)
    if found is None:
        found = line_activations(loaded.model, dictionary, rows).astype(np.float32)
        store.put(key, found)
    return found


@st.cache_resource
def _activation_cache() -> cached.BoundedCache:
    return cached.BoundedCache(size=16)  # a 1,000-point line's 4,096 activations: 16 MB


def active_order(a: np.ndarray) -> np.ndarray:
    """The features active on the line, those that fire at about the same steps side by
    side: sorted by the step of their strongest activation."""
    active = np.flatnonzero(a.max(axis=0) > 0)
    return active[np.argsort(a[:, active].argmax(axis=0), kind="stable")]


def picker(dictionary: Dictionary, a: np.ndarray) -> int:
    """The chosen feature, by number, by event or by a heatmap click."""
    def take_click() -> None:
        click = heatmap.clicked(HEATMAP)
        if click is not None:
            st.session_state[FEATURE] = int(click["cell"])

    def take_event() -> None:
        best = by_event(dictionary, st.session_state[EVENT])
        if best:
            st.session_state[FEATURE] = best[0]

    order = active_order(a)
    if st.session_state.get(FEATURE_OF) != dictionary.model_sha256 or FEATURE not in st.session_state:
        st.session_state[FEATURE] = first_feature(dictionary, a)
        st.session_state[FEATURE_OF] = dictionary.model_sha256
    number, event = st.columns([1, 2])
    number.number_input("Feature", 0, dictionary.features - 1, key=FEATURE)
    event.selectbox("Or the feature that tells best", EVENTS, key=EVENT, on_change=take_event, index=None,
                    placeholder="a stroke event…")
    if len(order):
        st.caption(f"The {len(order)} features active on this line, one row each (in the order of the "
                   "step where each is strongest); click a row to choose its feature.")
        heatmap.cell_heatmap(HEATMAP, a, order, None, HEATMAP_HEIGHT, take_click, unit="feature")
    return int(st.session_state[FEATURE])


def first_feature(dictionary: Dictionary, a: np.ndarray) -> int:
    """The feature a first view opens on: of those active on the line, the one whose label
    is surest (its event's AUC), else the most active."""
    active = np.flatnonzero(a.max(axis=0) > 0)
    labels = dictionary.metadata.get("labels") or []
    scored = [(labels[f][1], int(f)) for f in active if f < len(labels) and labels[f] is not None]
    if scored:
        return max(scored)[1]
    return int(active[np.argmax(a[:, active].max(axis=0))]) if len(active) else 0


def by_event(dictionary: Dictionary, event: str) -> list[int]:
    """Features whose label is ``event``, best first."""
    labels = dictionary.metadata.get("labels") or []
    chosen = [(label[1], f) for f, label in enumerate(labels) if label is not None and label[0] == event]
    return [f for _, f in sorted(chosen, reverse=True)]


def made_of(loaded: LoadedModel, dictionary: Dictionary, feature: int, example: str) -> None:
    """The cells the feature's direction weighs most, as links; the features a cell takes part in."""
    direction = dictionary.W_dec[feature] * dictionary.scale
    cells = np.argsort(-np.abs(direction))[:MADE_OF_CELLS]
    st.markdown("**Made of** (the cells its direction weighs most; a click opens the cell):")
    columns = st.columns(len(cells))
    for column, cell in zip(columns, cells):
        if column.button(f"{cell} ({direction[cell]:+.2f})", key=f"features_cell_{cell}"):
            controls.open_cell(int(cell), example)
    cell = int(st.number_input("A cell's features", 0, loaded.model.config.cells - 1,
                               value=int(cells[0]), key=CELL))
    weights = dictionary.W_dec[:, cell] * dictionary.scale[cell]
    top = np.argsort(-np.abs(weights))[:CELL_FEATURES]
    st.caption(f"Cell {cell} takes part most in: " + ", ".join(
        f"feature {f} ({weights[f]:+.2f}, {dictionary.label(int(f))})" for f in top))


def places(loaded: LoadedModel, dictionary: Dictionary, feature: int) -> list[tuple]:
    """The strongest places of ``feature`` over the library's examples (the article's lines,
    model samples, saved writing): (rows, start, stop, title, activation), strongest first."""
    found = []
    for key, label in list(library.example_keys(loaded).items())[:PLACE_EXAMPLES]:
        try:
            rows = library.load_example(loaded, key).rows
        except (KeyError, ValueError, OSError):
            continue
        values = activations(loaded, dictionary, rows)[:, feature]
        for t in peaks(values, 2, 2 * PLACE_HALF_WIDTH):
            found.append((rows, max(0, t - PLACE_HALF_WIDTH), min(len(rows), t + PLACE_HALF_WIDTH + 1),
                          f"{label}, point {t}: {values[t]:.2f}", float(values[t])))
    found.sort(key=lambda place: -place[4])
    return found[:PLACES]


def places_view(loaded: LoadedModel, dictionary: Dictionary, feature: int) -> None:
    found = places(loaded, dictionary, feature)
    if not found:
        st.caption("This feature is active nowhere in the first examples of the library.")
        return
    st.plotly_chart(figures.span_grid([place[:4] for place in found], columns=4), key="features_places")


def steering(loaded: LoadedModel, dictionary: Dictionary, feature: int, scale: float) -> None:
    """The model writing with the feature's direction added to c at every step, beside the
    intact model drawing the same random numbers, and what that changes (as Intervene
    measures a hold: cost on the scored examples, traits of what it writes)."""
    strength = st.slider("Strength (times the feature's largest activation on this line)", *STRENGTH_RANGE, 0.0,
                         0.25, key=STRENGTH)
    hold = steering_hold(dictionary, feature, strength * scale, loaded.model.config.cells)
    choice = intervene.Choice((), f"feature {feature} added at {strength:g} times its activation", *hold)
    examples = intervene.scoring_examples(loaded)
    if not examples.lines:
        st.info("Choose at least one example to score the steering on.")
        return
    found, job = intervene.effect(loaded, examples, choice)
    if job is not None:
        background.updating_mark(job, f"measuring {choice.described}")
    intervene.effect_view(found, examples)
    lines, job = intervene.side_by_side(loaded, STEER_SEEDS, traits.EFFECT_STEPS, traits.EFFECT_VARIATION, choice)
    if job is not None:
        background.updating_mark(job, "writing the steered lines")
    panels, titles = intervene.seed_panels(lines)
    st.plotly_chart(figures.handwriting_grid(panels, [t.replace("held", "steered") for t in titles], columns=2),
                    key="features_steered")
