"""How well a dictionary describes its model's state, measured on lines it was not
trained on, and whether its features stand for one thing more often than cells do.

Every line is read by the evaluation protocol (:mod:`inkcore.evaluate`: a zero
row, then the line; every row scored). :func:`evaluate_dictionary` gives

* ``fve``: the fraction of the state's variance (summed over cells, about each
  cell's mean on these lines) that the reconstruction explains;
* ``l0``: active features per step; ``dead_share``: features never active here;
* ``nll_intact``: the protocol's negative log-likelihood per point;
* ``nll_mean_ablated``: every cell's c held at its mean over these lines at every
  step (the model then knows nothing of the line);
* ``nll_spliced_output``: the mixture reads the reconstructed state while the
  recurrence carries the true one;
* ``nll_spliced_state``: the reconstruction replaces the state at every step, so
  the next step reads it and errors compound;
* ``loss_recovered_output``, ``loss_recovered_state``:
  (nll_mean_ablated - nll_spliced) / (nll_mean_ablated - nll_intact);
* ``spliced_state_diverged``: whether the state splice ran away (a step's
  likelihood became NaN); its two figures are then None (JSON null).

A dictionary of c gives h as the cell would show it, ``h = o * tanh(c_hat)``
with the step's own output gate; a dictionary of h replaces h and leaves c.
"""
from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np

import inkcore.corpus as corpora
from inkcore.events import EVENTS, auc, events_of_lines
from inkcore.features import Dictionary, encode, reconstruct
from inkcore.model import (Hold, LSTMState, Model, _cell, blas_threads_for, log_likelihood, mixture, sigmoid,
                           zero_state)
from inkcore.recording import record
from inkcore.strokes import model_inputs

#: Points at most that the event AUCs are measured on (every line's points, thinned evenly).
AUC_POINTS = 60_000
#: A unit is said to stand for an event when its sign-free AUC reaches this.
MONOSEMANTIC_AUC = 0.9


class DictionarySums(NamedTuple):
    """What one batch adds to a dictionary's measurement."""

    steps: int
    state_sum: np.ndarray  # (S,)
    state_squares: np.ndarray  # (S,)
    error_squares: float
    active: float  # active features summed over steps
    fired: np.ndarray  # (F,) steps each feature was active on
    intact: float  # summed log-likelihoods
    ablated: float
    spliced_output: float
    spliced_state: float

    def __add__(self, other: "DictionarySums") -> "DictionarySums":
        return DictionarySums(*(a + b for a, b in zip(self, other)))


def _step(model: Model, zx: np.ndarray, state, hold: Hold | None = None):
    """One step from pre-computed input products ``zx``: the new state and its output gate."""
    n = model.config.cells
    z = state.h @ model.W_h
    z += zx
    o = sigmoid(z[..., 3 * n :])
    return _cell(model, z, state.c, hold), o


def _splice(dictionary: Dictionary, state, o: np.ndarray):
    """The state with its dictionary's reconstruction in place of the true one."""
    if dictionary.state == "c":
        c_hat = reconstruct(dictionary, state.c).astype(state.c.dtype)
        return type(state)(o * np.tanh(c_hat), c_hat)
    return type(state)(reconstruct(dictionary, state.h).astype(state.h.dtype), state.c)


class ProtocolRun(NamedTuple):
    """Lines read side by side by the protocol (a zero row, then the line)."""

    h: np.ndarray  # (T, B, S) the state after each step; the state at t predicts row t
    c: np.ndarray  # (T, B, S)
    gate: np.ndarray  # (T, B, S) the output gate o of each step (h = o * tanh(c))
    targets: np.ndarray  # (T, B, 3) the row each step predicts
    real: np.ndarray  # (T, B) the steps that belong to a line


def _inputs(model: Model, lines: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The input products (T, B, 4 * cells), targets (T, B, 3) and mask (T, B) of ``lines``."""
    inputs = corpora.padded_targets([model_inputs(np.asarray(rows, np.float64)) for rows in lines])  # (T, B, 3)
    targets = corpora.padded_targets([np.asarray(rows, np.float64) for rows in lines])
    real = np.arange(len(targets))[:, None] < np.array([len(rows) for rows in lines])[None, :]
    return inputs.astype(model.dtype) @ model.W_x + model.b, targets, real


def protocol_run(model: Model, lines: Sequence[np.ndarray], hold: Hold | None = None) -> ProtocolRun:
    """The intact model's states and output gates along ``lines``."""
    return _run_inputs(model, *_inputs(model, lines), hold)


def _run_inputs(model: Model, zx: np.ndarray, targets: np.ndarray, real: np.ndarray,
                hold: Hold | None) -> ProtocolRun:
    lines = zx.shape[1]
    state = zero_state(model, (lines,))
    shape = (len(targets), lines, model.config.cells)
    h, c, gate = np.empty(shape, model.dtype), np.empty(shape, model.dtype), np.empty(shape, model.dtype)
    with blas_threads_for(lines):
        for t in range(len(targets)):
            state, gate[t] = _step(model, zx[t], state, hold)
            h[t], c[t] = state
    return ProtocolRun(h, c, gate, targets, real)


def spliced_log_likelihoods(model: Model, dictionary: Dictionary, lines: Sequence[np.ndarray],
                            hold: Hold | None = None):
    """Per-step log-likelihoods (T, B) of ``lines`` read side by side by the protocol, for
    the intact model (``intact``), the output splice (``output``) and the state splice
    (``state``), with the intact states of the dictionary's kind at the steps that belong
    to a line (N, S), their reconstructions (N, S) and the mask (T, B) of those steps."""
    zx, targets, real = _inputs(model, lines)
    run = _run_inputs(model, zx, targets, real, hold)
    spliced = zero_state(model, (len(lines),))
    spliced_h = np.empty_like(run.h)
    with blas_threads_for(len(lines)), np.errstate(over="ignore", invalid="ignore"):
        for t in range(len(targets)):
            spliced, o = _step(model, zx[t], spliced, hold)
            spliced = _splice(dictionary, spliced, o)
            spliced_h[t] = spliced.h
        # the output splice changes nothing the recurrence reads: all steps at once
        output = _splice(dictionary, LSTMState(run.h, run.c), run.gate)
        outputs = {name: _finite(log_likelihood(mixture(model, states[real]), targets[real]).total)
                   for name, states in (("intact", run.h), ("output", output.h), ("state", spliced_h))}
    kind = "c" if dictionary.state == "c" else "h"
    return outputs, getattr(LSTMState(run.h, run.c), kind)[real], getattr(output, kind)[real], real


def _finite(values: np.ndarray) -> np.ndarray:
    """Log-likelihoods with a diverged run's NaN read as the least likely it can be."""
    return np.where(np.isnan(values), -np.inf, values)


def dictionary_task(model: Model, dictionary: Dictionary, means: np.ndarray, lines: list[np.ndarray]) -> DictionarySums:
    outputs, states, rebuilt, _ = spliced_log_likelihoods(model, dictionary, lines)
    x = states.astype(np.float64)  # (N, S)
    a = encode(dictionary, x)
    error = x - rebuilt
    hold = Hold(np.zeros_like(means), means)
    ablated = sum(float(ll.total.sum()) for ll in corpora.scored_log_likelihood(model, lines, hold=hold))
    return DictionarySums(len(x), x.sum(axis=0), (x * x).sum(axis=0), float((error * error).sum()),
                          float((a > 0).sum()), (a > 0).sum(axis=0).astype(np.int64),
                          float(outputs["intact"].sum()), ablated, float(outputs["output"].sum()),
                          float(outputs["state"].sum()))


def figures_of(sums: DictionarySums) -> dict[str, float]:
    """The measured figures (see the module's docstring) of summed batches."""
    mean = sums.state_sum / sums.steps
    variance = float((sums.state_squares - sums.steps * mean * mean).sum())
    nll = {name: -getattr(sums, name) / sums.steps for name in ("intact", "ablated", "spliced_output", "spliced_state")}
    gap = nll["ablated"] - nll["intact"]
    diverged = not np.isfinite(nll["spliced_state"])
    return {
        "fve": 1.0 - sums.error_squares / variance if variance > 0 else float("nan"),
        "l0": sums.active / sums.steps,
        "dead_share": float(np.mean(sums.fired == 0)),
        "nll_intact": nll["intact"],
        "nll_mean_ablated": nll["ablated"],
        "nll_spliced_output": nll["spliced_output"],
        "nll_spliced_state": None if diverged else nll["spliced_state"],
        "loss_recovered_output": (nll["ablated"] - nll["spliced_output"]) / gap if gap else float("nan"),
        "loss_recovered_state": None if diverged or not gap else (nll["ablated"] - nll["spliced_state"]) / gap,
        "spliced_state_diverged": diverged,
        "points": sums.steps,
    }


def evaluate_dictionary(model: Model, dictionary: Dictionary, lines, executor=None, on_progress=None) -> dict:
    """:func:`figures_of` for ``lines`` (a corpus or lines of model rows) as one corpus
    job: the cells' means first (for the ablation), then the splices."""
    corpus = corpora.corpus_of(lines)
    state_sums = corpora.cell_mean_sums(model, corpus, executor=executor)
    means = (state_sums.c / state_sums.steps).astype(model.dtype)
    batches, payloads = corpora.line_batches(corpus)
    parts = corpora.run_batches(dictionary_task, (model, dictionary, means), payloads, [len(b) for b in batches],
                                executor, on_progress)
    return figures_of(corpora.fold(parts))


# --- one thing or many: stroke events ---------------------------------------------


class EventTable(NamedTuple):
    """The best single feature and the best single cell for every stroke event."""

    events: tuple[str, ...]
    feature: np.ndarray  # (E,) the best feature of each event
    feature_auc: np.ndarray  # (E,) its sign-free AUC
    cell: np.ndarray  # (E,)
    cell_auc: np.ndarray  # (E,)
    features_monosemantic: int  # features reaching MONOSEMANTIC_AUC for some event
    cells_monosemantic: int
    labels: list  # per feature: [event, AUC] it tells best with activation high, or None if never active

    def rows(self) -> list[dict]:
        return [{"event": event, "feature": int(self.feature[k]), "feature_auc": float(self.feature_auc[k]),
                 "cell": int(self.cell[k]), "cell_auc": float(self.cell_auc[k])}
                for k, event in enumerate(self.events)]


def _thinned(count: int, limit: int) -> np.ndarray:
    return np.arange(count) if count <= limit else np.linspace(0, count - 1, limit).round().astype(np.int64)


def event_table(model: Model, dictionary: Dictionary, lines: Sequence[np.ndarray],
                points: int = AUC_POINTS) -> EventTable:
    """Per stroke event (:data:`inkcore.events.EVENTS`), on the states of ``lines``
    recorded as the cell pages record them (after reading rows 0..t): the feature and
    the cell whose value tells the event best (sign-free AUC, max(AUC, 1 - AUC))."""
    lines = [np.asarray(rows, np.float64) for rows in lines if len(rows)]
    states = np.concatenate([getattr(record(model, rows), dictionary.state) for rows in lines])
    events = events_of_lines(lines)
    chosen = _thinned(len(states), points)
    cells = states[chosen].astype(np.float64)
    activations = encode(dictionary, cells)
    active = activations.any(axis=0)
    labels = np.stack([events[name][chosen] for name in EVENTS], axis=1)  # (N, E)
    feature_auc = np.full((len(EVENTS), dictionary.features), np.nan)
    feature_auc[:, active] = auc(activations[:, active], labels).T
    cell_auc = auc(cells, labels).T
    return _table(feature_auc, cell_auc, active)


def _table(feature_auc: np.ndarray, cell_auc: np.ndarray, active: np.ndarray) -> EventTable:
    free_features = np.fmax(feature_auc, 1.0 - feature_auc)
    free_cells = np.fmax(cell_auc, 1.0 - cell_auc)
    best_feature = np.nanargmax(np.nan_to_num(free_features, nan=-1.0), axis=1)
    best_cell = np.nanargmax(np.nan_to_num(free_cells, nan=-1.0), axis=1)
    rows = np.arange(len(EVENTS))
    labels = []
    for f in range(feature_auc.shape[1]):
        if not active[f] or np.all(np.isnan(feature_auc[:, f])):
            labels.append(None)
            continue
        k = int(np.nanargmax(feature_auc[:, f]))
        labels.append([EVENTS[k], round(float(feature_auc[k, f]), 3)])
    return EventTable(
        EVENTS, best_feature, free_features[rows, best_feature], best_cell, free_cells[rows, best_cell],
        int(np.sum(np.nanmax(np.nan_to_num(free_features, nan=0.0), axis=0) >= MONOSEMANTIC_AUC)),
        int(np.sum(np.nanmax(np.nan_to_num(free_cells, nan=0.0), axis=0) >= MONOSEMANTIC_AUC)),
        labels)


# --- where a feature is active -----------------------------------------------------


class Place(NamedTuple):
    """A point where a feature is strongly active, and the span of the line around it."""

    line: int  # the line's index in its corpus
    name: str  # the line's name there
    point: int  # the point (rows read 0..point)
    start: int  # the span shown: points start..stop-1
    stop: int
    activation: float


#: Points shown either side of a top-activating point.
PLACE_HALF_WIDTH = 20
#: A line gives at most this many places, at least a span apart.
PLACES_PER_LINE = 3


def line_activations(model: Model, dictionary: Dictionary, rows: np.ndarray) -> np.ndarray:
    """Feature activations (T, F) of a line's states recorded as the cell pages record
    them (after reading rows 0..t)."""
    return encode(dictionary, getattr(record(model, np.asarray(rows, np.float64)), dictionary.state))


def peaks(values: np.ndarray, count: int, apart: int) -> list[int]:
    """Up to ``count`` points of the largest positive ``values``, at least ``apart`` apart."""
    chosen: list[int] = []
    for t in np.argsort(-values, kind="stable"):
        if values[t] <= 0 or len(chosen) == count:
            break
        if all(abs(int(t) - other) >= apart for other in chosen):
            chosen.append(int(t))
    return chosen


def places_task(model: Model, dictionary: Dictionary, feature: int, lines: list[np.ndarray]):
    """Each line's strongest places of ``feature``: (line in batch, point, activation) rows."""
    found = []
    for b, rows in enumerate(lines):
        values = line_activations(model, dictionary, rows)[:, feature]
        for t in peaks(values, PLACES_PER_LINE, 2 * PLACE_HALF_WIDTH):
            found.append((b, t, float(values[t])))
    return found


def top_places(model: Model, dictionary: Dictionary, feature: int, lines, count: int = 12,
               executor=None, on_progress=None) -> list[Place]:
    """The ``count`` places of the corpus (or lines) where ``feature`` is most active,
    strongest first, at most :data:`PLACES_PER_LINE` a line."""
    if not 0 <= feature < dictionary.features:
        raise ValueError(f"there is no feature {feature}: the dictionary has {dictionary.features} (0 to "
                         f"{dictionary.features - 1})")
    corpus = corpora.corpus_of(lines)
    batches, payloads = corpora.line_batches(corpus)
    places = []
    parts = corpora.run_batches(places_task, (model, dictionary, feature), payloads, [len(b) for b in batches],
                                executor, on_progress)
    for batch, found in zip(batches, parts):
        for b, t, value in found:
            line = int(batch[b])
            length = int(corpus.lengths[line])
            places.append(Place(line, corpus.names[line], t, max(0, t - PLACE_HALF_WIDTH),
                                min(length, t + PLACE_HALF_WIDTH + 1), value))
    places.sort(key=lambda place: (-place.activation, place.line, place.point))
    return places[:count]
