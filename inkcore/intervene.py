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

from inkcore.evaluate import batch_log_likelihood, score
from inkcore.model import Hold, Model, run
from inkcore.probes import FEATURES, CellScores, stroke_features
from inkcore.strokes import model_inputs

#: Ways to set a held cell's c besides a number.
HOLD_KINDS = ("mean", "zero")
#: ``rank_by_ablation`` judges cells on this many lines unless told: each of 500
#: cells is one batch row per line, so 10 lines are 5,000 rows of whole lines.
RANK_LINES = 10
#: Batch rows (cells held, one line) per run when ranking: enough to keep BLAS
#: busy; a run records h and c of every row and step (about 1 GB for 250 rows
#: of a 1,000-point line in float32).
RANK_BATCH_ROWS = 400
#: Lines read side by side when averaging or correlating states.
STATE_BATCH_LINES = 64


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


def _padded_inputs(lines: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Inputs (T, B, 3) of the evaluation protocol for lines read side by side, and
    which steps (T, B) belong to a line rather than to padding."""
    longest = max(len(rows) for rows in lines)
    inputs = np.zeros((longest, len(lines), 3))
    real = np.zeros((longest, len(lines)), bool)
    for b, rows in enumerate(lines):
        inputs[: len(rows), b] = model_inputs(np.asarray(rows, dtype=np.float64))
        real[: len(rows), b] = True
    return inputs, real


def _line_batches(lines: Sequence[np.ndarray]):
    lines = sorted((np.asarray(rows) for rows in lines if len(rows)), key=len)  # similar lengths pad less
    if not lines:
        raise ValueError("no lines")
    for start in range(0, len(lines), STATE_BATCH_LINES):
        yield _padded_inputs(lines[start : start + STATE_BATCH_LINES])


def cell_means(model: Model, lines: Sequence[np.ndarray], hold: Hold | None = None) -> np.ndarray:
    """Every cell's mean c (cells,) over every step of ``lines``, read by the
    evaluation protocol (the states that predict each row)."""
    total = np.zeros(model.config.cells)
    steps = 0
    for inputs, real in _line_batches(lines):
        c = run(model, inputs, hold=hold).c  # (T, B, cells)
        total += c[real].sum(axis=0, dtype=np.float64)
        steps += int(real.sum())
    return total / steps


def make_hold(model: Model, cells: Sequence[int], how: str | float = "mean",
              lines: Sequence[np.ndarray] | None = None, factor: float | None = None) -> Hold:
    """The hold of ``cells`` a user names: ``how`` "mean" (over ``lines``), "zero"
    or a number; or, with ``factor``, their c scaled by it."""
    if factor is not None:
        return hold_cells(model, cells, factor=factor)
    if how == "mean":
        if lines is None:
            raise ValueError("holding cells at their mean needs the lines to take it over")
        return hold_cells(model, cells, value=cell_means(model, lines))
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
                   cells: Sequence[int] | None = None, batch_rows: int = RANK_BATCH_ROWS) -> np.ndarray:
    """What holding each of ``cells`` (default all) alone at ``values`` (default: its
    mean over ``lines``) costs, in nats per point over ``lines``: (len(cells),).

    One batch row reads a line with one cell held, up to ``batch_rows`` cells' rows
    per run of the same line: two runs of 250 rows per line instead of 500 runs,
    and no row waits on padding for a longer line."""
    lines = sorted((np.asarray(rows) for rows in lines if len(rows)), key=len)
    if not lines:
        raise ValueError("no lines to rank cells on")
    n = model.config.cells
    cells = np.arange(n) if cells is None else np.asarray(list(cells), dtype=int)
    values = cell_means(model, lines) if values is None else np.asarray(values, dtype=np.float64)
    intact = score(model, lines).nll_per_point
    points = sum(len(rows) for rows in lines)
    chunks = np.array_split(np.arange(len(cells)), -(-len(cells) // max(1, batch_rows)))  # even sizes
    nats = np.zeros(len(cells))
    for rows in lines:
        for chunk in chunks:
            keep = np.ones((len(chunk), n), model.dtype)
            put = np.zeros((len(chunk), n), model.dtype)
            keep[np.arange(len(chunk)), cells[chunk]] = 0.0  # row k holds cell cells[chunk[k]]
            put[np.arange(len(chunk)), cells[chunk]] = values[cells[chunk]]
            scored = batch_log_likelihood(model, [rows] * len(chunk), hold=Hold(keep, put))
            nats[chunk] -= [float(ll.total.sum()) for ll in scored]
    return nats / points - intact


def best_features(model: Model, lines: Sequence[np.ndarray]) -> tuple[list[str], np.ndarray]:
    """For every cell, the probe feature its c follows most closely over ``lines``
    and that score (see :mod:`inkcore.probes`)."""
    from inkcore.cells import record

    scores = CellScores()
    for rows in lines:
        if len(rows):
            scores.add(stroke_features(rows), record(model, rows).c)
    table = np.array([scores.scores(name) for name in FEATURES])  # (features, cells)
    best = np.argmax(np.nan_to_num(np.abs(table), nan=-1.0), axis=0)
    return [FEATURES[k] for k in best], table[best, np.arange(table.shape[1])]


def rank_by_ablation(model: Model, lines: Sequence[np.ndarray], batch_rows: int = RANK_BATCH_ROWS) -> list[CellCost]:
    """Every cell ranked by what holding it alone at its mean over ``lines`` costs,
    costliest first (ties by cell index), with the feature it follows best."""
    costs = ablation_costs(model, lines, batch_rows=batch_rows)
    features, r = best_features(model, lines)
    order = np.lexsort((np.arange(len(costs)), -costs))
    return [CellCost(int(k), float(costs[k]), features[k], float(r[k])) for k in order]


class CellMatch(NamedTuple):
    cell: int  # a cell of the first model
    other: int  # the cell of the other model whose c correlates best with it, whatever the sign
    r: float  # their correlation, signed


def state_correlations(model: Model, other: Model, lines: Sequence[np.ndarray]) -> np.ndarray:
    """Pearson r (cells, other cells) of the two models' c over every step of ``lines``,
    both read by the evaluation protocol. A cell that never changes correlates 0."""
    n, m = model.config.cells, other.config.cells
    count = 0
    sum_a, sum_b = np.zeros(n), np.zeros(m)
    sq_a, sq_b, cross = np.zeros(n), np.zeros(m), np.zeros((n, m))
    for inputs, real in _line_batches(lines):
        a = run(model, inputs).c[real].astype(np.float64)  # (steps, n)
        b = run(other, inputs).c[real].astype(np.float64)  # (steps, m)
        count += len(a)
        sum_a += a.sum(axis=0)
        sum_b += b.sum(axis=0)
        sq_a += (a * a).sum(axis=0)
        sq_b += (b * b).sum(axis=0)
        cross += a.T @ b
    mean_a, mean_b = sum_a / count, sum_b / count
    cov = cross / count - np.outer(mean_a, mean_b)
    std_a = np.sqrt(np.maximum(sq_a / count - mean_a**2, 0.0))
    std_b = np.sqrt(np.maximum(sq_b / count - mean_b**2, 0.0))
    scale = np.outer(std_a, std_b)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(scale > 0, cov / np.where(scale > 0, scale, 1.0), 0.0)
    return np.clip(r, -1.0, 1.0)


def match_cells(model: Model, other: Model, lines: Sequence[np.ndarray]) -> list[CellMatch]:
    """For every cell of ``model``, the cell of ``other`` whose c over ``lines``
    correlates best with it, sign-free (the lowest index among equals)."""
    r = state_correlations(model, other, lines)
    best = np.argmax(np.abs(r), axis=1)
    return [CellMatch(int(k), int(best[k]), float(r[k, best[k]])) for k in range(len(best))]
