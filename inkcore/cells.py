"""Cell analysis: recording the LSTM state along a line, probing, ordering cells, patterns.

Conventions a reader cannot guess:

* Recording. :func:`record` (:func:`inkcore.recording.record`) reads a line's
  model rows from the zero state *without* the leading zero row that scoring
  uses, unless told ``after_zero_row``: row ``t`` of a
  :class:`~inkcore.model.Recording` is the state after reading rows ``0..t``, so
  it lines up with what row ``t`` describes (the pen lift it reports, the
  position it reaches). ``python -m inkcore cells`` and the probes use the same
  convention.
* Probes. :func:`probe_cells` scores cells on their state c, which the
  article's heatmaps show (h is one argument away), against the stroke
  features of :mod:`inkcore.probes`.
* Cell order. A :class:`CellOrder` maps figure rows to cells: row ``r`` shows
  cell ``order[r]``; ``rows_of()[cell]`` is the inverse. ``flip`` is indexed by
  *cell*, not by row: ``values * flip`` makes each cell's series sum to >= 0.
  The article's ``metadata.json`` follows the same layout (``sortOrder`` maps
  rows to cells, ``flipCell`` is indexed by cell): with the article's model, the
  signs of the cell states summed over the first 370 steps of validation line 0
  agree with ``flipCell[cell]`` for 99% of cells and with ``flipCell[row]``
  for only 53%.
* Patterns. In the manner of LSTMVis (Strobelt et al. 2018), a span of steps
  selects the cells whose values inside it stand apart from those around it,
  and most of the same cells being on together elsewhere is a match. A cell
  lower in the span than around it counts too: "on" means toward the span's
  value (:class:`Pattern`), so no sign flip is needed beforehand.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from inkcore.model import Model, blas_threads_for
from inkcore.probes import FEATURE_HELP, FEATURE_LABELS, FEATURES, rank_cells, stroke_features
from inkcore.recording import record

__all__ = [
    "probe_cells", "CellOrder", "order_cells", "article_order", "cell_features",
    "Pattern", "pattern_cells", "cells_needed", "find_pattern", "Match", "single_blas_thread",
    # recording (inkcore.recording) and the probes' vocabulary, for callers that only import cells
    "record", "FEATURES", "FEATURE_LABELS", "FEATURE_HELP", "rank_cells", "stroke_features",
]

#: Footnote 3 of the article: the steps of each example that describe a cell,
#: the sliding window and its percentile bins, the blur kernel, the perplexity.
ORDER_STEPS = 370
WINDOW = 5  # steps per window, and also the number of percentile bins
BLUR_KERNEL = np.array([0.2, 0.4, 1.0, 0.4, 0.2])
PERPLEXITY = 50.0
METRICS = ("percentile", "blur", "raw")
#: openTSNE starts from the first principal component rescaled to this spread.
INIT_STD = 1e-4
#: openTSNE's threads. One, not two: on 500 cells with the other core busy, two
#: jobs spin-wait on each other.
TSNE_JOBS = 1


def single_blas_thread():
    """Run NumPy's BLAS on one thread (see :func:`inkcore.model.blas_threads_for`):
    the Gram matrix of 500 cells is too small to gain from a second, busy core."""
    return blas_threads_for(batch_rows=1)


def probe_cells(
    model: Model, lines: list[np.ndarray], top: int = 20, state: str = "c", executor=None, on_progress=None
) -> dict[str, list[tuple[int, float]]]:
    """Rank every cell for every stroke feature over the steps of all ``lines``.

    Each line (model rows (T, 3)) is recorded from the zero state as by
    :func:`record`; its features come from :func:`inkcore.probes.stroke_features`.
    Returns, for each name in :data:`inkcore.probes.FEATURES`, the ``top``
    cells as (cell, score), largest |score| first. ``state`` is "c" (as the
    article's heatmaps) or "h". Lines are read in batches on ``executor``
    (:mod:`inkcore.corpus`), which keeps only the scores' sums.
    """
    from inkcore.corpus import cell_scores, corpus_of

    if state not in ("c", "h"):
        raise ValueError(f"state must be 'c' or 'h', not {state!r}")
    lines = corpus_of(lines)
    if not (lines.lengths > 0).any():
        raise ValueError("no lines to probe")
    ranking = cell_scores(model, lines, state, executor, on_progress).ranking(top)
    return {name: ranking[name] for name in FEATURES}


@dataclass(frozen=True, eq=False)
class CellOrder:
    """Which cell each figure row shows, and the sign each cell is shown with."""

    order: np.ndarray  # (cells,) int, row r shows cell order[r]
    flip: np.ndarray  # (cells,) +1 / -1, indexed by cell
    metric: str  # "percentile", "blur", "raw", or "article" for the article's own order
    perplexity: float  # the perplexity the t-SNE actually used
    coordinate: np.ndarray | None = None  # (cells,) 1-D t-SNE position, indexed by cell

    def rows_of(self) -> np.ndarray:
        """The inverse of ``order``: ``rows_of()[cell]`` is the row showing ``cell``."""
        rows = np.empty_like(self.order)
        rows[self.order] = np.arange(len(self.order))
        return rows

    def arrange(self, values: np.ndarray) -> np.ndarray:
        """Cell values (..., cells) sign-flipped and put in row order (..., rows)."""
        return (np.asarray(values) * self.flip)[..., self.order]


def _blur(values: np.ndarray) -> np.ndarray:
    """Blur (..., T, F) along T with :data:`BLUR_KERNEL`, normalised to sum 1.

    The footnote gives the kernel's weights but not whether they were
    normalised; dividing by their sum (2.2) keeps blurred features in the units
    of the unblurred ones, so both halves weigh alike in the t-SNE distances.
    Edges repeat the end values.
    """
    kernel = BLUR_KERNEL / BLUR_KERNEL.sum()
    half = len(kernel) // 2
    pad = [(0, 0)] * values.ndim
    pad[-2] = (half, half)
    padded = np.pad(values, pad, mode="edge")
    steps = values.shape[-2]
    return sum(w * padded[..., k : k + steps, :] for k, w in enumerate(kernel))


def _window_percentiles(series: np.ndarray) -> np.ndarray:
    """Percentile bins of every sliding window: (cells, T) -> (cells, T - WINDOW + 1, WINDOW).

    A window of 5 steps split into 5 percentile bins holds one value per bin,
    so each window's features are its values sorted (its order statistics):
    they say how high, low and spread a cell is locally, whatever the order of
    the values inside the window.
    """
    windows = np.lib.stride_tricks.sliding_window_view(series, WINDOW, axis=-1)
    return np.sort(windows, axis=-1)


def cell_features(series: np.ndarray, metric: str = "percentile") -> np.ndarray:
    """What describes each cell for one example: (cells, T) -> (cells, features)."""
    if metric == "raw":
        return series
    if metric == "blur":
        return _blur(series[..., None])[..., 0]
    if metric == "percentile":
        if series.shape[-1] < WINDOW:
            return series[:, :0]
        bins = _window_percentiles(series)  # (cells, windows, WINDOW)
        cells = len(series)
        return np.hstack([bins.reshape(cells, -1), _blur(bins).reshape(cells, -1)])
    raise ValueError(f"unknown metric {metric!r}; expected one of {', '.join(METRICS)}")


def _pca_initialization(gram: np.ndarray) -> np.ndarray:
    """First principal coordinate (cells, 1) from a Gram matrix, rescaled as openTSNE does."""
    n = len(gram)
    centre = np.eye(n) - 1.0 / n
    values, vectors = np.linalg.eigh(centre @ gram @ centre)
    first = vectors[:, -1] * np.sqrt(max(values[-1], 0.0))
    if first[np.argmax(np.abs(first))] < 0:  # a fixed orientation, so one seed gives one order
        first = -first
    spread = first.std()
    first = first / spread * INIT_STD if spread > 0 else np.zeros(n)
    return first[:, None]


def order_cells(
    activations: list[np.ndarray],
    metric: str = "percentile",
    perplexity: float = PERPLEXITY,
    seed: int = 0,
) -> CellOrder:
    """Order cells so that cells behaving alike sit together (the article's footnote 3).

    ``activations`` holds one (T_i, cells) array per example (the article used
    the cell state c of one validation line). Each cell's series over the first
    :data:`ORDER_STEPS` steps of every example is sign-flipped when it sums
    below zero, described by :func:`cell_features` per example (windows never
    straddle two examples), embedded on a line by a 1-D t-SNE over Euclidean
    distances of the features, and sorted by its coordinate. ``perplexity`` is
    clipped to (cells - 1) / 3, the most the number of cells allows.
    """
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; expected one of {', '.join(METRICS)}")
    series = [np.asarray(a, dtype=np.float64)[:ORDER_STEPS].T for a in activations]  # (cells, T_i)
    if not series or any(s.ndim != 2 for s in series) or len({len(s) for s in series}) != 1:
        raise ValueError("expected a non-empty list of (T, cells) arrays with the same number of cells")
    cells = len(series[0])
    if cells < 4:
        raise ValueError(f"ordering needs at least 4 cells, got {cells}")
    if perplexity <= 0:
        raise ValueError("perplexity must be positive")
    flip = np.where(sum(s.sum(axis=1) for s in series) < 0, -1, 1)
    gram = np.zeros((cells, cells))
    features = 0
    with single_blas_thread():
        for s in series:
            described = cell_features(s * flip[:, None], metric)  # (cells, F_i)
            gram += described @ described.T
            features += described.shape[1]
        if features == 0:
            raise ValueError(f"the examples are too short to describe cells (need {WINDOW} steps)")
        norms = np.diag(gram)
        distances = np.sqrt(np.maximum(norms[:, None] + norms[None, :] - 2.0 * gram, 0.0))
        np.fill_diagonal(distances, 0.0)
        initialization = _pca_initialization(gram)
    used = float(min(perplexity, (cells - 1) / 3.0))
    from openTSNE import TSNE  # imported here, not at start: its import is slow

    embedding = TSNE(
        n_components=1,
        perplexity=used,
        metric="precomputed",
        initialization=initialization,
        random_state=seed,
        n_jobs=TSNE_JOBS,
    ).fit(distances)
    coordinate = np.asarray(embedding)[:, 0]
    return CellOrder(np.argsort(coordinate, kind="stable"), flip, metric, used, coordinate)


def article_order(metadata: dict) -> CellOrder:
    """The article's own order from its ``metadata.json``: ``sortOrder`` maps
    rows to cells, ``flipCell`` is indexed by cell (see the module docstring)."""
    try:
        order = np.asarray(metadata["sortOrder"], dtype=np.int64)
        flip = np.asarray(metadata["flipCell"], dtype=np.int64)
    except KeyError as missing:
        raise ValueError(f"the article's metadata has no {missing}") from None
    n = len(order)
    if order.ndim != 1 or not np.array_equal(np.sort(order), np.arange(n)):
        raise ValueError("sortOrder is not a permutation of the cells")
    if flip.shape != (n,) or not np.isin(flip, (-1, 1)).all():
        raise ValueError("flipCell must hold one +1 or -1 per cell")
    return CellOrder(order, flip, "article", PERPLEXITY)


#: A place matches a pattern when at least this share of its cells are on
#: together. All of them (the first rule tried) found almost nothing in the
#: article's model: with ten cells, any one dipping for a step cuts the run.
#: Two thirds still asks for most of the group, so a place where only a
#: stray cell or two fires does not count.
PATTERN_SHARE = 2 / 3
#: ... for at least this many steps: one step on is noise, not a recurrence.
PATTERN_MIN_STEPS = 3
#: How many cells a span's pattern holds at most, and how far (in standard
#: deviations) a cell's mean inside the span must sit from its mean outside.
PATTERN_CELLS = 10
PATTERN_MIN_SEPARATION = 0.5


class Pattern(NamedTuple):
    """Cells that single out a span, each with the side it sits on there.

    A cell is *on* at a step when ``c * sign`` is at or above its threshold:
    ``sign`` is +1 for a cell higher in the span than around it and -1 for one
    lower, so "on" always means "toward the span's value", and the threshold
    lies halfway between the flipped means inside and outside the span.
    """

    cells: np.ndarray  # (n,) int, best first
    sign: np.ndarray  # (n,) +1 / -1
    threshold: np.ndarray  # (n,) on the sign-flipped series

    def on(self, c: np.ndarray) -> np.ndarray:
        """(T, n) bool: which of the pattern's cells are on at each step of c (T, cells)."""
        return np.asarray(c)[:, self.cells] * self.sign >= self.threshold


def pattern_cells(
    c: np.ndarray,
    start: int,
    stop: int,
    top: int = PATTERN_CELLS,
    margin: int | None = None,
    min_separation: float = PATTERN_MIN_SEPARATION,
) -> Pattern:
    """The cells that set steps ``[start, stop)`` of ``c`` (T, cells) apart, best first.

    A cell's separation is its mean inside the span minus its mean outside, in
    units of its standard deviation over both (cells of any scale compare);
    cells are ranked by its size, whichever its sign, and kept while it is at
    least ``min_separation``, at most ``top`` of them. Outside is every other
    step, or only ``margin`` steps on each side of the span when given (LSTMVis
    looks only at the span's surroundings, so a cell that also fires somewhere
    else in the line is not penalised for it).
    """
    c = np.asarray(c, dtype=np.float64)
    steps = len(c)
    if not 0 <= start < stop <= steps:
        raise ValueError(f"the span [{start}, {stop}) is not a non-empty part of {steps} steps")
    lo, hi = (0, steps) if margin is None else (max(0, start - margin), min(steps, stop + margin))
    inside = c[start:stop]  # (S, cells)
    outside = np.vstack([c[lo:start], c[stop:hi]])
    if len(outside) == 0:
        raise ValueError("the span covers every step: nothing to contrast it with")
    mean_in, mean_out = inside.mean(axis=0), outside.mean(axis=0)
    spread = np.vstack([inside, outside]).std(axis=0)
    separation = (mean_in - mean_out) / np.where(spread > 0, spread, np.inf)
    best = np.argsort(-np.abs(separation), kind="stable")[:top]
    best = best[np.abs(separation[best]) >= min_separation]
    sign = np.where(separation[best] < 0, -1.0, 1.0)
    threshold = sign * (mean_in[best] + mean_out[best]) / 2.0
    return Pattern(best.astype(np.int64), sign, threshold)


class Match(NamedTuple):
    """Steps ``[start, stop)`` of ``example`` where most of a pattern's cells are on together."""

    example: object  # the key of the recording in find_pattern's dict
    start: int
    stop: int
    score: float  # cell-steps on: the number of the pattern's cells on, summed over the run
    cells_on: float  # how many of the pattern's cells are on, on average over the run


def _runs(on: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Starts and stops of the runs of True in a boolean series."""
    edges = np.diff(np.concatenate([[0], on.astype(np.int8), [0]]))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def cells_needed(count: int, share: float = PATTERN_SHARE) -> int:
    """How many of a pattern's ``count`` cells must be on for a place to match."""
    if not 0 < share <= 1:
        raise ValueError(f"share must be in (0, 1], not {share}")
    return max(1, int(np.ceil(share * count - 1e-9)))  # 1e-9: (9 / 14) * 42 is 27.000000000000004


def find_pattern(
    recordings: dict[object, np.ndarray],
    pattern: Pattern,
    share: float = PATTERN_SHARE,
    min_length: int = PATTERN_MIN_STEPS,
    exclude: tuple[object, int, int] | None = None,
) -> list[Match]:
    """Where at least ``share`` of ``pattern``'s cells are on together, best first.

    ``recordings`` maps an example's key to its c (T, cells). A match is a run
    of at least ``min_length`` steps in which at least ``ceil(share * n)`` of
    the n cells are on (:func:`cells_needed`, :meth:`Pattern.on`); runs overlapping ``exclude``
    (example key, start, stop), the span the pattern came from, are left out.
    Matches rank by how many cells are on for how long (cell-steps), then by
    length.
    """
    if len(pattern.cells) == 0:
        raise ValueError("the pattern has no cells")
    need = cells_needed(len(pattern.cells), share)
    matches = []
    for example, c in recordings.items():
        count = pattern.on(c).sum(axis=1)  # (T,)
        for start, stop in zip(*_runs(count >= need)):
            start, stop = int(start), int(stop)
            if stop - start < min_length:
                continue
            if exclude is not None and example == exclude[0] and start < exclude[2] and stop > exclude[1]:
                continue
            total = float(count[start:stop].sum())
            matches.append(Match(example, start, stop, total, total / (stop - start)))
    return sorted(matches, key=lambda m: (-m.score, -(m.stop - m.start)))
