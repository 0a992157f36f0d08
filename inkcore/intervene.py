"""Interventions on cells, and the cells two models share.

Looking at a cell says what it follows; holding it says what the model needs
it for. An intervention is a :class:`inkcore.model.Hold`: after every step's
update the state ``c`` of chosen cells is set (to their mean over given lines,
to zero or to a chosen value) or scaled by a factor, and ``h`` is made from the
set ``c`` through the cell's own output gate (see :class:`~inkcore.model.Hold`).
Every reader of the model takes one: :func:`inkcore.model.run`,
:func:`inkcore.cells.record`, :func:`inkcore.evaluate.score` and the sampling
functions (``generate``, ``continue_from``, ``continue_writing``). Holding no
cell gives the intact model's numbers bit for bit; the hold costs two
elementwise operations per step beside the step's matrix product.

*Mean ablation* (the default) holds a cell at its mean over the lines it is
judged on: the cell stops carrying information but the rest of the network
still sees the value it is used to. Zero is a value many cells never take: on
the article's model, zeroing a random 5-cell set cost 0.37 nats per point
where holding the same cells at their mean cost a few hundredths.

:func:`match_cells` pairs each cell of one model with the cell of another
whose ``c`` over the same lines correlates best, whatever the sign.
"""
from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np

import inkcore.corpus as corpus
from inkcore.evaluate import score
from inkcore.model import Hold, Model
from inkcore.probes import FEATURES

#: Ways to set a held cell's c besides a number.
HOLD_KINDS = ("mean", "zero")
#: ``rank_by_ablation`` judges cells on this many lines unless told: each of 500
#: cells is one batch row per line, so 10 lines are 5,000 rows of whole lines.
RANK_LINES = 10
#: Batch rows (cells held, one line) per batch when ranking: enough to keep BLAS
#: busy; a batch holds only a span of its states at a time (inkcore.model.run_ragged).
RANK_BATCH_ROWS = 400


def no_hold(model: Model) -> Hold:
    """A hold that holds nothing: every cell kept as it is."""
    n = model.config.cells
    return Hold(np.ones(n, model.dtype), np.zeros(n, model.dtype))


def hold_cells(model: Model, cells: Sequence[int], value=None, factor: float | None = None) -> Hold:
    """Hold ``cells`` at ``value`` (a number, or one per cell: (len(cells),) or
    the model's (cells,) of which only ``cells`` are used), or, with ``factor``,
    scale their c by it at every step. Exactly one of ``value`` and ``factor``."""
    if (value is None) == (factor is None):
        raise ValueError("give either a value to hold the cells at or a factor to scale them by")
    n = model.config.cells
    cells = np.asarray(list(cells), dtype=int)
    if cells.size and (cells.min() < 0 or cells.max() >= n):
        raise ValueError(f"cells must lie in 0..{n - 1}")
    keep, put = no_hold(model)
    if factor is not None:
        keep[cells] = factor
        return Hold(keep, put)
    value = np.asarray(value, dtype=np.float64)
    if value.shape == (n,):
        value = value[cells]
    keep[cells] = 0.0
    put[cells] = value
    return Hold(keep, put)


def cell_means(model: Model, lines: Sequence[np.ndarray], hold: Hold | None = None, executor=None,
               on_progress=None) -> np.ndarray:
    """Every cell's mean c (cells,) over every step of ``lines``, read by the
    evaluation protocol (the states that predict each row)."""
    sums = corpus.cell_mean_sums(model, corpus.corpus_of(lines), hold, executor, on_progress)
    return sums.c / sums.steps


def make_hold(model: Model, cells: Sequence[int], how: str | float = "mean",
              lines: Sequence[np.ndarray] | None = None, factor: float | None = None, executor=None) -> Hold:
    """The hold of ``cells`` a user names: ``how`` "mean" (over ``lines``), "zero"
    or a number; or, with ``factor``, their c scaled by it."""
    if factor is not None:
        return hold_cells(model, cells, factor=factor)
    if how == "mean":
        if lines is None:
            raise ValueError("holding cells at their mean needs the lines to take it over")
        return hold_cells(model, cells, value=cell_means(model, lines, executor=executor))
    if how == "zero":
        return hold_cells(model, cells, value=0.0)
    if isinstance(how, str):
        raise ValueError(f"hold cells at mean, zero or a number, not {how!r}")
    return hold_cells(model, cells, value=float(how))


class CellCost(NamedTuple):
    cell: int
    cost: float  # nats per point the score worsens with the cell held alone
    feature: str  # the probe feature its c correlates with best (inkcore.probes)
    r: float  # that correlation (signed; in [0, 1] for the circular "direction")


def ablation_costs(model: Model, lines: Sequence[np.ndarray], values: np.ndarray | None = None,
                   cells: Sequence[int] | None = None, batch_rows: int = RANK_BATCH_ROWS, executor=None,
                   on_progress=None) -> np.ndarray:
    """What holding each of ``cells`` (default all) alone at ``values`` (default: its
    mean over ``lines``) costs, in nats per point over ``lines``: (len(cells),).

    One batch row reads a line with one cell held, up to ``batch_rows`` cells' rows
    a batch of the same line: two batches of 250 rows per line instead of 500 runs,
    no row waits on padding for a longer line, and the batches of every line run
    as one job on ``executor`` (:mod:`inkcore.corpus`); ``on_progress`` counts line
    readings (one per line and cell)."""
    judged = corpus.corpus_of(lines)
    if not (judged.lengths > 0).any():
        raise ValueError("no lines to rank cells on")
    n = model.config.cells
    cells = np.arange(n) if cells is None else np.asarray(list(cells), dtype=int)
    values = cell_means(model, lines, executor=executor) if values is None else np.asarray(values, dtype=np.float64)
    intact = score(model, lines, executor=executor).nll_per_point
    points = int(judged.lengths.sum())
    nats = corpus.ablation_sums(model, judged, values, cells, batch_rows, executor, on_progress)
    return nats / points - intact


def best_features(model: Model, lines: Sequence[np.ndarray], executor=None) -> tuple[list[str], np.ndarray]:
    """For every cell, the probe feature its c follows most closely over ``lines``
    and that score (see :mod:`inkcore.probes`)."""
    scores = corpus.cell_scores(model, corpus.corpus_of(lines), "c", executor)
    table = np.array([scores.scores(name) for name in FEATURES])  # (features, cells)
    best = np.argmax(np.nan_to_num(np.abs(table), nan=-1.0), axis=0)
    return [FEATURES[k] for k in best], table[best, np.arange(table.shape[1])]


def rank_by_ablation(model: Model, lines: Sequence[np.ndarray], batch_rows: int = RANK_BATCH_ROWS, executor=None,
                     on_progress=None) -> list[CellCost]:
    """Every cell ranked by what holding it alone at its mean over ``lines`` costs,
    costliest first (ties by cell index), with the feature it follows best."""
    costs = ablation_costs(model, lines, batch_rows=batch_rows, executor=executor, on_progress=on_progress)
    features, r = best_features(model, lines, executor)
    order = np.lexsort((np.arange(len(costs)), -costs))
    return [CellCost(int(k), float(costs[k]), features[k], float(r[k])) for k in order]


class CellMatch(NamedTuple):
    cell: int  # a cell of the first model
    other: int  # the cell of the other model whose c correlates best with it, whatever the sign
    r: float  # their correlation, signed


def state_correlations(model: Model, other: Model, lines: Sequence[np.ndarray], executor=None,
                       on_progress=None) -> np.ndarray:
    """Pearson r (cells, other cells) of the two models' c over every step of ``lines``,
    both read by the evaluation protocol. A cell that never changes correlates 0."""
    sums = corpus.pair_sums(model, other, corpus.corpus_of(lines), executor, on_progress)
    count = sums.steps
    mean_a, mean_b = sums.c / count, sums.other / count
    cov = sums.cross / count - np.outer(mean_a, mean_b)
    std_a = np.sqrt(np.maximum(sums.squares / count - mean_a**2, 0.0))
    std_b = np.sqrt(np.maximum(sums.other_squares / count - mean_b**2, 0.0))
    scale = np.outer(std_a, std_b)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(scale > 0, cov / np.where(scale > 0, scale, 1.0), 0.0)
    return np.clip(r, -1.0, 1.0)


def match_cells(model: Model, other: Model, lines: Sequence[np.ndarray], executor=None,
                on_progress=None) -> list[CellMatch]:
    """For every cell of ``model``, the cell of ``other`` whose c over ``lines``
    correlates best with it, sign-free (the lowest index among equals)."""
    r = state_correlations(model, other, lines, executor, on_progress)
    best = np.argmax(np.abs(r), axis=1)
    return [CellMatch(int(k), int(best[k]), float(r[k, best[k]])) for k in range(len(best))]
