"""Corpus work: many lines read in batches, on this machine's cores or on a Dask cluster.

An analysis over many lines (scoring, cell means, probes, ablation, matching) is
a *task* run on every batch of lines and a fold of the batches' small results:
sums and moments, never the lines' recordings. Three pieces make it:

* A :class:`Corpus`: lines (model rows) from a folder of the article's
  validation files or of stroke files, or from a line set ``.npz`` of
  ``import-iam`` (one split of it, or all), read line by line as batches need them.
* :func:`plan_batches`: lines sorted longest first and cut into batches of
  ``batch_lines``. A batch is read side by side by
  :func:`inkcore.model.run_ragged`, where a line that ends leaves the batch, so
  sorting wastes no step on padding. The plan depends on the lines alone, never
  on where the batches run: every way of running gives the same numbers.
* An executor: :class:`InProcess` (threads, one per core, BLAS on one thread
  each, so the gates run in parallel as well as the products) or
  :class:`OnDask` (a ``dask.distributed`` cluster; the model is scattered to
  every worker once, each batch ships its own lines). :func:`open_executor`
  picks one from a ``--scheduler`` value. Results are folded in batch order,
  whatever order they finish in.

Progress: every function that walks a corpus takes ``on_progress(done, total)``,
called after each batch with the work done so far (lines, or line readings for
ablation); the command line draws it, the dashboard can too.
"""
from __future__ import annotations

import itertools
import logging
import os
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator, NamedTuple, Sequence

import numpy as np

from inkcore.model import (Hold, LogLikelihood, Model, Recording, blas_threads_for, log_likelihood, mixture,
                           span_length)
from inkcore.motion import MOTION_KINDS, motion_kind
from inkcore.recording import record_spans, recording_arrays

#: Lines a batch reads side by side. Fixed, so a batch is the same lines however
#: the corpus runs (in-process or on any cluster) and every way gives the same bits.
BATCH_LINES = 32
#: Lines a batch of a cells export reads: its recordings travel back whole.
RECORD_BATCH_LINES = 8
#: Batches sent ahead of the results folded, per worker: enough to keep every
#: worker busy, few enough that what waits to be folded stays small.
BATCHES_AHEAD = 2
#: Seconds to wait for a Dask scheduler before giving up on it.
CONNECT_TIMEOUT_S = 5
#: ``--split`` values of a line set (see :mod:`inkcore.data`).
SPLITS = ("train", "val", "test")

Progress = Callable[[int, int], None]


class CorpusError(ValueError):
    """A corpus or a cluster that cannot be used; the message says which and why."""


# --- corpora ---------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Corpus:
    """Lines of model rows, read one at a time: ``rows(i)`` is line ``i`` (T_i, 3)."""

    lengths: np.ndarray  # (L,) rows of every line
    read: Callable[[int], np.ndarray]
    names: tuple[str, ...]  # one per line: a file's stem, an IAM line id

    def __len__(self) -> int:
        return len(self.lengths)

    def rows(self, i: int) -> np.ndarray:
        return self.read(int(i))

    def __iter__(self) -> Iterator[np.ndarray]:
        return (self.rows(i) for i in range(len(self)))

    def head(self, count: int) -> "Corpus":
        """The first ``count`` lines."""
        return Corpus(self.lengths[:count], self.read, self.names[:count])


def corpus_of(lines: Iterable[np.ndarray] | Corpus) -> Corpus:
    """A corpus of lines already in memory (a corpus is itself)."""
    if isinstance(lines, Corpus):
        return lines
    lines = [np.asarray(rows, dtype=np.float64).reshape(-1, 3) for rows in lines]
    return Corpus(np.array([len(rows) for rows in lines], dtype=np.int64), lines.__getitem__,
                  tuple(str(k) for k in range(len(lines))))


def read_corpus(source: str | os.PathLike, split: str | None = None) -> Corpus:
    """The lines of ``source``: a line set ``.npz`` (``split`` train, val or test, or
    every line), a folder of the article's validation files (``0.json``, ``1.json``,
    ... in order of k) or a folder of stroke files (every ``*.json``, by name; a file
    of several lines gives them all)."""
    from inkcore.data import DataError, lines_from_json, load_lines, read_article_lines, read_stroke_json

    path = Path(source)
    if split is not None and split not in SPLITS:
        raise CorpusError(f"--split {split}: a line set's splits are {', '.join(SPLITS)}")
    if path.suffix == ".npz":
        return _line_set_corpus(load_lines(path), split, path)
    if split is not None:
        raise CorpusError(f"--split chooses lines of a line set (.npz); {path} is not one")
    if not path.is_dir():
        raise DataError(f"{path}: no such folder or line set")
    if any(file.stem.isdigit() for file in path.glob("*.json")):
        lines = read_article_lines(path)
        return _in_memory(list(lines.values()), [str(k) for k in lines])
    rows, names = [], []
    for file in sorted(path.glob("*.json")):
        held = lines_from_json(read_stroke_json(file), str(file))
        rows += held
        names += [file.stem] if len(held) == 1 else [f"{file.stem}-{k + 1}" for k in range(len(held))]
    if not rows:
        raise DataError(f"{path}: holds no stroke or validation files (*.json)")
    return _in_memory(rows, names)


def _in_memory(lines: list[np.ndarray], names: list[str]) -> Corpus:
    corpus = corpus_of(lines)
    return Corpus(corpus.lengths, corpus.read, tuple(names))


def _line_set_corpus(line_set, split: str | None, path: Path) -> Corpus:
    from inkcore.strokes import from_points

    chosen = line_set.indices(split)
    if len(chosen) == 0:
        raise CorpusError(f"{path}: holds no {split} lines" if split else f"{path}: holds no lines")
    points = np.diff(line_set.starts)[chosen]
    return Corpus(np.maximum(points - 1, 0).astype(np.int64),
                  lambda i: from_points(line_set.line_points(chosen[i])),
                  tuple(str(name) for name in line_set.line_ids[chosen]))


# --- batches ---------------------------------------------------------------------


def plan_batches(lengths: Sequence[int], batch_lines: int = BATCH_LINES) -> list[np.ndarray]:
    """Line indices in batches of up to ``batch_lines``, each longest first (ties by
    index); lines without rows are left out. Depends on the lengths alone."""
    lengths = np.asarray(lengths, dtype=np.int64)
    order = np.argsort(-lengths, kind="stable")
    order = order[lengths[order] > 0]
    return [order[start : start + batch_lines] for start in range(0, len(order), max(1, batch_lines))]


def padded_targets(lines: Sequence[np.ndarray]) -> np.ndarray:
    """Lines (each (T_b, 3), longest first) side by side: (T, B, 3), zero past each end."""
    targets = np.zeros((len(lines[0]), len(lines), 3))
    for b, rows in enumerate(lines):
        targets[: len(rows), b] = rows
    return targets


def scored_log_likelihood(model: Model, lines: Sequence[np.ndarray], primes: Sequence[np.ndarray] | None = None,
                          hold: Hold | None = None) -> list[LogLikelihood]:
    """Per-point log-likelihoods of ``lines`` read side by side by the evaluation
    protocol, line ``b`` after ``primes[b]`` (not scored); ``hold`` (cells,) for every
    line or (B, cells) row by row. The mixture is made span by span and only for the
    steps scored, so nothing of size steps x cells outlives a span."""
    if primes is None:
        primes = [np.zeros((0, 3))] * len(lines)
    read = [np.concatenate([np.reshape(prime, (-1, 3)), np.asarray(rows, dtype=np.float64)])
            for prime, rows in zip(primes, lines)]
    order = np.argsort([-len(rows) for rows in read], kind="stable")
    sorted_read = [read[b] for b in order]
    if hold is not None and np.ndim(hold.keep) == 2:
        hold = Hold(np.asarray(hold.keep)[order], np.asarray(hold.put)[order])
    targets = padded_targets(sorted_read)  # (T, B, 3)
    steps = np.arange(len(targets))[:, None]
    first_scored = np.array([len(read[b]) - len(lines[b]) for b in order])
    scored = (steps >= first_scored) & (steps < np.array([len(rows) for rows in sorted_read]))  # (T, B)
    gauss, eos = np.zeros(targets.shape[:2]), np.zeros(targets.shape[:2])
    for span in record_spans(model, sorted_read, hold, after_zero_row=True):
        window = slice(span.start, span.start + len(span.real))
        wanted = scored[window]
        ll = log_likelihood(mixture(model, span.h[wanted]), targets[window][wanted])
        gauss[window][wanted] = ll.gauss
        eos[window][wanted] = ll.eos
    result: list[LogLikelihood] = [None] * len(lines)  # type: ignore[list-item]
    for k, b in enumerate(order):
        part = slice(first_scored[k], len(sorted_read[k]))
        result[b] = LogLikelihood(gauss[part, k], eos[part, k])
    return result


# --- executors -------------------------------------------------------------------


class InProcess:
    """Batches on this process's threads, one per core, each with BLAS on one thread."""

    def __init__(self, workers: int | None = None):
        self.workers = max(1, workers or len(os.sched_getaffinity(0)))

    def map(self, task: Callable, shared: tuple, payloads: Iterable[tuple], count: int) -> Iterator[tuple[int, object]]:
        """``task(*shared, *payload)`` for each of ``count`` payloads, made as they are
        sent: (index, result) as they finish."""
        numbered = enumerate(payloads)
        with blas_threads_for(1):
            if self.workers == 1 or count == 1:
                for index, payload in numbered:
                    yield index, task(*shared, *payload)
                return
            with ThreadPoolExecutor(self.workers) as pool:
                pending = {}

                def send(count: int) -> None:
                    for index, payload in itertools.islice(numbered, count):
                        pending[pool.submit(task, *shared, *payload)] = index

                send(BATCHES_AHEAD * self.workers)
                while pending:
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in sorted(done, key=pending.get):
                        yield pending.pop(future), future.result()
                    send(len(done))


def _on_one_blas_thread(task: Callable, *args):
    """A task as a Dask worker runs it: one worker thread, BLAS on one thread."""
    with blas_threads_for(1):
        return task(*args)


class OnDask:
    """Batches on a ``dask.distributed`` cluster: the shared arguments (the model) are
    scattered to every worker once; each batch's lines travel with its task."""

    def __init__(self, client):
        self.client = client
        self._scattered: dict[int, tuple[object, object]] = {}  # id -> (value, its future), for the job's life

    def share(self, value):
        """A model or array on every worker, scattered once however many analyses use it;
        small values (a hold, a name) ride along with each task."""
        if not isinstance(value, (Model, np.ndarray)):
            return value
        if id(value) not in self._scattered:
            self._scattered[id(value)] = (value, self.client.scatter(value, broadcast=True, hash=False))
        return self._scattered[id(value)][1]

    @property
    def workers(self) -> int:
        return max(1, len(self.client.scheduler_info().get("workers", {})))

    def map(self, task: Callable, shared: tuple, payloads: Iterable[tuple], count: int) -> Iterator[tuple[int, object]]:
        from distributed import as_completed

        handles = [self.share(value) for value in shared]
        numbered = enumerate(payloads)
        pending = {}
        finished = as_completed()

        def send(count: int) -> None:
            for index, payload in itertools.islice(numbered, count):
                future = self.client.submit(_on_one_blas_thread, task, *handles, *payload, pure=False)
                pending[future.key] = index
                finished.add(future)

        send(BATCHES_AHEAD * self.workers)
        for future in finished:
            index = pending.pop(future.key)
            result = future.result()
            future.release()
            yield index, result
            send(1)


Executor = InProcess | OnDask


@contextmanager
def open_executor(scheduler: str | None) -> Iterator[Executor]:
    """The executor a ``--scheduler`` value names: none, this process; ``local:N``, a
    local Dask cluster of N worker processes (one thread each); any other value, the
    address of a running Dask scheduler (``tcp://host:8786``)."""
    if not scheduler:
        yield InProcess()
        return
    with _dask_logs_quiet():
        client, cluster = _connect(scheduler)
    try:
        yield OnDask(client)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _connect(scheduler: str):
    """A client of the scheduler at ``scheduler``, or of a local cluster started for
    ``local:N`` (with that cluster); a failure as one :class:`CorpusError`."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise CorpusError("--scheduler needs dask.distributed: pip install 'inkcore[cluster]'") from None
    cluster = None
    try:
        if scheduler.startswith("local:"):
            count = scheduler.removeprefix("local:")
            if not count.isdigit() or int(count) < 1:
                raise CorpusError(f"--scheduler {scheduler}: local:N takes a number of workers of at least 1")
            import dask

            # Dask's workers return freed memory to the system at once by default
            # (MALLOC_TRIM_THRESHOLD_), which makes every large temporary array fresh
            # pages and a batch slower than in this process.
            with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
                cluster = LocalCluster(n_workers=int(count), threads_per_worker=1, processes=True,
                                       dashboard_address=None, silence_logs=logging.ERROR)
            return Client(cluster), cluster
        return Client(scheduler, timeout=f"{CONNECT_TIMEOUT_S}s"), None
    except CorpusError:
        raise
    except (OSError, TimeoutError, ValueError, TypeError) as error:
        if cluster is not None:
            cluster.close()
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise CorpusError(f"--scheduler {scheduler}: cannot reach a Dask scheduler there ({reason})") from None


#: Dask's loggers, kept quiet while connecting: a failure is reported in one line.
DASK_LOGGERS = ("distributed", "distributed.client", "distributed.comm")


@contextmanager
def _dask_logs_quiet() -> Iterator[None]:
    loggers = [logging.getLogger(name) for name in DASK_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def run_batches(task: Callable, shared: tuple, payloads: Iterable[tuple], work: Sequence[int],
                executor: Executor | None = None, on_progress: Progress | None = None) -> Iterator[object]:
    """Results of ``task(*shared, *payload)`` for every payload, in payload order,
    whichever order they finish in; ``on_progress(done, total)`` after each, counting
    ``work[k]`` for payload ``k`` (one per payload). Payloads are made as they are sent,
    so a corpus's lines are read a few batches ahead, never all at once."""
    executor = executor or InProcess()
    total, done = int(sum(work)), 0
    waiting: dict[int, object] = {}
    next_index = 0
    for index, result in executor.map(task, shared, payloads, len(work)):
        waiting[index] = result
        done += work[index]
        if on_progress is not None:
            on_progress(done, total)
        while next_index in waiting:
            yield waiting.pop(next_index)
            next_index += 1


def line_batches(corpus: Corpus, batch_lines: int = BATCH_LINES) -> tuple[list[np.ndarray], Iterator[tuple]]:
    """The corpus's batches (line indices) and their payloads, each batch's lines,
    read when the batch is sent."""
    batches = plan_batches(corpus.lengths, batch_lines)
    if not batches:
        raise ValueError("no lines")
    return batches, (([corpus.rows(i) for i in batch],) for batch in batches)


def _lines_in(batches: list[np.ndarray]) -> list[int]:
    return [len(batch) for batch in batches]


# --- tasks: what a worker computes for one batch --------------------------------


class ScoreSums(NamedTuple):
    """What scoring keeps of a batch: sums, overall and per kind of motion."""

    gauss: float
    eos: float
    points: int
    sequences: int
    kind_points: np.ndarray  # (kinds,) points of each kind of motion (inkcore.motion.MOTION_KINDS)
    kind_gauss: np.ndarray  # (kinds,) their summed offset log-likelihood

    def __add__(self, other: "ScoreSums") -> "ScoreSums":
        return ScoreSums(self.gauss + other.gauss, self.eos + other.eos, self.points + other.points,
                         self.sequences + other.sequences, self.kind_points + other.kind_points,
                         self.kind_gauss + other.kind_gauss)


def score_task(model: Model, hold: Hold | None, lines: list[np.ndarray], primes: list[np.ndarray] | None = None) -> ScoreSums:
    kind_points, kind_gauss = np.zeros(len(MOTION_KINDS), np.int64), np.zeros(len(MOTION_KINDS))
    gauss = eos = 0.0
    for rows, ll in zip(lines, scored_log_likelihood(model, lines, primes, hold)):
        gauss += float(ll.gauss.sum())
        eos += float(ll.eos.sum())
        kinds = motion_kind(np.asarray(rows))
        for k, name in enumerate(MOTION_KINDS):
            chosen = kinds == name
            kind_points[k] += int(chosen.sum())
            kind_gauss[k] += float(ll.gauss[chosen].sum())
    return ScoreSums(gauss, eos, sum(len(rows) for rows in lines), len(lines), kind_points, kind_gauss)


class StateSums(NamedTuple):
    """Running sums of one model's c over steps (and, with a second model, of both)."""

    steps: int
    c: np.ndarray  # (cells,)
    squares: np.ndarray | None = None  # (cells,)
    other: np.ndarray | None = None  # (other cells,)
    other_squares: np.ndarray | None = None
    cross: np.ndarray | None = None  # (cells, other cells)

    def __add__(self, more: "StateSums") -> "StateSums":
        return StateSums(*(a + b if a is not None else None for a, b in zip(self, more)))


def _protocol_states(model: Model, lines: list[np.ndarray], hold: Hold | None = None,
                     span_steps: int | None = None) -> Iterator[np.ndarray]:
    """c (steps, cells) of every step of ``lines`` (longest first) read after a zero row,
    as scoring reads them, span by span."""
    for span in record_spans(model, lines, hold, after_zero_row=True, span_steps=span_steps):
        yield span.c[span.real].astype(np.float64)


def state_sums_task(model: Model, hold: Hold | None, lines: list[np.ndarray]) -> StateSums:
    total, steps = np.zeros(model.config.cells), 0
    for c in _protocol_states(model, lines, hold):
        total += c.sum(axis=0)
        steps += len(c)
    return StateSums(steps, total)


def pair_sums_task(model: Model, other: Model, lines: list[np.ndarray]) -> StateSums:
    n, m = model.config.cells, other.config.cells
    sums = StateSums(0, np.zeros(n), np.zeros(n), np.zeros(m), np.zeros(m), np.zeros((n, m)))
    steps = min(span_length(model, len(lines)), span_length(other, len(lines)))  # the same spans for both
    for a, b in zip(_protocol_states(model, lines, span_steps=steps), _protocol_states(other, lines, span_steps=steps)):
        sums = sums + StateSums(len(a), a.sum(axis=0), (a * a).sum(axis=0), b.sum(axis=0), (b * b).sum(axis=0),
                                a.T @ b)
    return sums


def probe_task(model: Model, state: str, lines: list[np.ndarray]):
    """The batch's :class:`inkcore.probes.CellScores`: each line recorded without a
    zero row first (:mod:`inkcore.recording`), against its features."""
    from inkcore.probes import CellScores, stroke_features

    features = [stroke_features(rows) for rows in lines]
    padded = {name: np.full((len(lines[0]), len(lines)), np.nan) for name in features[0]}  # (T, B)
    for b, described in enumerate(features):
        for name, values in described.items():
            padded[name][: len(values), b] = values
    scores = CellScores()
    for span in record_spans(model, lines):
        window = slice(span.start, span.start + len(span.real))
        scores.add({name: values[window][span.real] for name, values in padded.items()},
                   getattr(span, state)[span.real])
    return scores


def ablation_task(model: Model, values: np.ndarray, rows: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """Summed negative log-likelihood (len(cells),) of one line read once per cell of
    ``cells``, that cell alone held at ``values[cell]``: one batch row per cell."""
    n = model.config.cells
    keep = np.ones((len(cells), n), model.dtype)
    put = np.zeros((len(cells), n), model.dtype)
    keep[np.arange(len(cells)), cells] = 0.0
    put[np.arange(len(cells)), cells] = values[cells]
    scored = scored_log_likelihood(model, [rows] * len(cells), hold=Hold(keep, put))
    return -np.array([float(ll.total.sum()) for ll in scored])


def record_task(model: Model, lines: list[np.ndarray]) -> list[dict[str, np.ndarray]]:
    """Every line's state after each row (no zero row first, as :func:`inkcore.cells.record`)
    and the mixture it predicts (:func:`inkcore.recording.recording_arrays`): what
    ``cells`` exports, for one batch."""
    shapes = [(len(rows), model.config.cells) for rows in lines]
    recorded = [Recording(np.empty(shape, model.dtype), np.empty(shape, model.dtype)) for shape in shapes]
    for span in record_spans(model, lines):
        for b, (h, c) in enumerate(recorded):
            steps = span.real[:, b]
            h[span.start : span.start + steps.sum()] = span.h[steps, b]
            c[span.start : span.start + steps.sum()] = span.c[steps, b]
    return [recording_arrays(model, recording) for recording in recorded]


# --- analyses over a corpus ------------------------------------------------------


def fold(parts: Iterable):
    """The sum of batch results, added in batch order."""
    total = None
    for part in parts:
        total = part if total is None else total + part
    return total


def score_sums(model: Model, corpus: Corpus, hold: Hold | None = None, primes: Sequence[np.ndarray] | None = None,
               executor: Executor | None = None, on_progress: Progress | None = None,
               batch_lines: int | None = None) -> ScoreSums:
    """The evaluation protocol's sums over every line of ``corpus`` (empty lines left
    out), line ``i`` read after ``primes[i]`` where given, ``batch_lines`` lines a batch
    (by default :data:`BATCH_LINES`)."""
    batches = plan_batches(corpus.lengths, batch_lines or BATCH_LINES)
    if not batches:
        raise ValueError("no lines to score")
    payloads = (([corpus.rows(i) for i in batch], None if primes is None else [primes[i] for i in batch])
                for batch in batches)
    return fold(run_batches(score_task, (model, hold), payloads, _lines_in(batches), executor, on_progress))


def cell_mean_sums(model: Model, corpus: Corpus, hold: Hold | None = None, executor: Executor | None = None,
                   on_progress: Progress | None = None) -> StateSums:
    batches, payloads = line_batches(corpus)
    return fold(run_batches(state_sums_task, (model, hold), payloads, _lines_in(batches), executor, on_progress))


def pair_sums(model: Model, other: Model, corpus: Corpus, executor: Executor | None = None,
              on_progress: Progress | None = None) -> StateSums:
    batches, payloads = line_batches(corpus)
    return fold(run_batches(pair_sums_task, (model, other), payloads, _lines_in(batches), executor, on_progress))


def cell_scores(model: Model, corpus: Corpus, state: str = "c", executor: Executor | None = None,
                on_progress: Progress | None = None):
    """Every cell's :class:`inkcore.probes.CellScores` over the corpus, merged in batch order."""
    batches, payloads = line_batches(corpus)
    scores = None
    for part in run_batches(probe_task, (model, state), payloads, _lines_in(batches), executor, on_progress):
        scores = part if scores is None else scores.merge(part)
    return scores


def ablation_sums(model: Model, corpus: Corpus, values: np.ndarray, cells: np.ndarray, batch_rows: int,
                  executor: Executor | None = None, on_progress: Progress | None = None) -> np.ndarray:
    """Summed negative log-likelihood (len(cells),) over the corpus with each of ``cells``
    held alone: one batch row per (line, cell), up to ``batch_rows`` rows of one line a
    batch; progress counts line readings (rows)."""
    chunks = np.array_split(np.asarray(cells), -(-len(cells) // max(1, batch_rows)))  # even sizes
    lines = [int(batch[0]) for batch in plan_batches(corpus.lengths, 1)]
    payloads = ((corpus.rows(line), chunk) for line in lines for chunk in chunks)
    offsets = [0, *np.cumsum([len(chunk) for chunk in chunks])]
    nats = np.zeros(len(cells))
    parts = run_batches(ablation_task, (model, np.asarray(values, dtype=np.float64)), payloads,
                        [len(chunk) for _ in lines for chunk in chunks], executor, on_progress)
    for k, part in enumerate(parts):
        where = k % len(chunks)
        nats[offsets[where] : offsets[where + 1]] += part
    return nats


def recordings(model: Model, corpus: Corpus, executor: Executor | None = None, on_progress: Progress | None = None,
               batch_lines: int = RECORD_BATCH_LINES) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
    """(line index, its recording and mixtures) for every line with rows, a batch at a
    time: a corpus export holds a few batches' recordings, never the corpus's."""
    batches, payloads = line_batches(corpus, batch_lines)
    parts = run_batches(record_task, (model,), payloads, _lines_in(batches), executor, on_progress)
    for batch, arrays in zip(batches, parts):
        yield from zip((int(i) for i in batch), arrays)
