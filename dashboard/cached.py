"""Every cached result of the dashboard: the only module that calls
``st.cache_resource`` or ``st.cache_data``.

The loaded model is a ``st.cache_resource`` (one read-only object per weights
file, shared by every session); pure results are ``st.cache_data`` keyed by the
model's key and plain values (arguments named ``_model`` are not hashed: the
key names the model), except large arrays every page run asks for again (the
library's lines, a line's states and mixtures): those are ``st.cache_resource``
objects made read-only, shared rather than copied on each call. Every cache has a bound, so memory stays bounded however
many sessions run; docs/serving.md lists them. Lines the model writes and
possibility spaces live in :class:`BoundedCache` objects made here and filled
by :mod:`dashboard.sampled`.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Callable

import numpy as np
import streamlit as st
from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx

from inkcore import cells, downloads, evaluate, sampling, traits
from inkcore.data import DataError, load_lines, read_article_lines, read_stroke_json
from inkcore.features import Dictionary
from inkcore.library import DATABASE_NAME, HandwritingStore, data_folder
from inkcore.model import LSTMState, Model, mixture
from inkcore.strokes import from_points
from inkcore.pen import PenReading, read_strokes
from inkcore.weights import float32_bytes, load


#: How much lower the threads of work in the background are scheduled than the server's
#: others (a thread's nice value, raised by this much; Linux only): the run of a page, and
#: a browser on the same machine drawing it, come before work that nobody waits on yet.
BACKGROUND_NICE = 10


def in_background(run: Callable[[], None], name: str) -> None:
    """Run ``run()`` in a thread of its own: the one way the dashboard's work leaves the run of
    the page that asked for it. A daemon, so it never holds up the server's exit; it carries
    that page's script context, so the caches it calls (Streamlit's among them) are the page's.
    It is scheduled below the page's runs (:data:`BACKGROUND_NICE`). None of the work draws anything."""
    thread = threading.Thread(target=_scheduled_below(run), name=name, daemon=True)
    context = get_script_run_ctx(suppress_warning=True)  # None outside a page's run: a test's thread
    if context is not None:
        add_script_run_ctx(thread, context)
    thread.start()


def _scheduled_below(run: Callable[[], None]) -> Callable[[], None]:
    def below() -> None:
        try:  # on Linux a thread's own id names it alone
            me = threading.get_native_id()
            os.setpriority(os.PRIO_PROCESS, me, min(19, os.getpriority(os.PRIO_PROCESS, me) + BACKGROUND_NICE))
        except (AttributeError, OSError):  # not Linux, or not allowed: the thread runs as it is
            pass
        run()

    return below


class Job:
    """A result computed in a thread of its own, which goes on when the page that asked
    for it is left: coming back finds it done or still at work, never started over."""

    def __init__(self):
        self.done = 0.0  # the fraction done, as the work reports it
        self.finished = threading.Event()
        self.result = None
        self.error: BaseException | None = None

    def report(self, done: float) -> None:
        self.done = float(done)


class _Computing:
    """The lock of one key of a :class:`BoundedCache` while threads compute it: ``with`` it
    waits for a thread that computes the same key, and the last thread to leave forgets it,
    however its computing ended."""

    def __init__(self, cache: BoundedCache, key):
        self.cache, self.key = cache, key
        self.lock = threading.Lock()
        self.users = 0  # threads inside, or waiting to get in

    def __enter__(self) -> _Computing:
        with self.cache.lock:
            self.users += 1
        self.lock.acquire()
        return self

    def __exit__(self, *raised) -> None:
        self.lock.release()
        with self.cache.lock:
            self.users -= 1
            if not self.users and self.cache.pending.get(self.key) is self:
                del self.cache.pending[self.key]


class BoundedCache:
    """A small thread-safe LRU for results computed with a progress bar. ``with computing(key)``
    holds a lock per key, so sessions that ask for the same result at once compute it once;
    :meth:`start` computes it in the background, so leaving the page does not stop it."""

    def __init__(self, size: int):
        self.size = size
        self.items: OrderedDict = OrderedDict()
        self.lock = threading.Lock()
        self.pending: dict = {}
        self.jobs: dict = {}

    def start(self, key, work: Callable[[Callable[[float], None]], object]) -> Job:
        """The job computing ``key``: the one already at work (another session's, or this
        one's before its page was left), or ``work(report)`` started now in a thread
        (:func:`in_background`). Its result is put in the cache when it is done; the job is
        finished, and forgotten, however the work ends."""
        with self.lock:
            job = self.jobs.get(key)
            if job is not None:
                return job
            job = self.jobs[key] = Job()

        def finish() -> None:
            with self.lock:
                self.jobs.pop(key, None)
            job.finished.set()

        def run() -> None:
            try:
                job.result = work(job.report)
                self.put(key, job.result)
            except BaseException as error:  # handed to whoever waits for the job
                job.error = error
            finally:
                finish()

        try:
            in_background(run, "inkcore-job")
        except BaseException as error:  # no thread to run it: the job ends here, not waited for forever
            job.error = error
            finish()
            raise
        return job

    def computing(self, key) -> _Computing:
        """The lock of ``key``, to hold (``with``) while computing it: the same one for every
        thread that computes the key at the same time."""
        with self.lock:
            found = self.pending.get(key)
            if found is None:
                found = self.pending[key] = _Computing(self, key)
            return found

    def get(self, key):
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
        return None

    def put(self, key, value) -> None:
        with self.lock:
            self.items[key] = value
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)


# --- Models and the article's files ------------------------------------------------


@st.cache_resource(max_entries=6, show_spinner="Loading the model…")
def load_model(path: str, modified: float) -> tuple[Model, dict]:
    return load(path)


@st.cache_data(max_entries=4, show_spinner=False)
def folder_differences(folder: str, stamp: tuple) -> list[str]:
    """The files of a local article folder that differ from the pinned commit's;
    ``stamp`` changes when the folder's files do."""
    return downloads.folder_differences(folder)


# Data read once and shared read-only by every session: a st.cache_data copy of it on each
# call (every page run asks for the library's lines several times) would cost more than its reading.
@st.cache_resource(max_entries=4, show_spinner="Reading the article's validation lines…")
def article_lines(folder: str) -> dict[int, np.ndarray]:
    return {k: read_only(rows) for k, rows in read_article_lines(folder).items()}


def read_only(*arrays: np.ndarray):
    """``arrays`` made read-only (one array, or a tuple of them), as results every session shares are."""
    for array in arrays:
        array.setflags(write=False)
    return arrays[0] if len(arrays) == 1 else arrays


@st.cache_data(max_entries=2, show_spinner=False)
def article_featured(path: str, modified: float) -> list[int]:
    """The 16 examples the article's dropdown offered, from its metadata.json."""
    try:
        return [int(k) for k in read_stroke_json(path)["validationSamples"]]
    except (DataError, KeyError, TypeError, ValueError):
        return []


@st.cache_data(max_entries=2, show_spinner=False)
def article_order(path: str, modified: float) -> cells.CellOrder | None:
    """The article's own order of its model's cells, from its metadata.json."""
    try:
        return cells.article_order(read_stroke_json(path))
    except (DataError, KeyError, TypeError, ValueError):
        return None


# --- What the model writes -----------------------------------------------------------


@st.cache_resource
def sample_cache() -> BoundedCache:
    return BoundedCache(size=256)  # lines of at most 1,500 rows and their state: 40 kB each, 10 MB in all


@st.cache_resource
def sample_grid_cache() -> BoundedCache:
    return BoundedCache(size=32)  # the lines of one setting of the Samples page: views of sample_cache's lines


@st.cache_resource
def futures_cache() -> BoundedCache:
    # at most 1,000 points x 100 futures x 20 steps: 64 MB with their turns; typically 8 MB
    return BoundedCache(size=6)


@st.cache_resource
def attribution_cache() -> BoundedCache:
    return BoundedCache(size=32)  # a 1,000-point line's attribution and its cells: 40 kB each


@st.cache_resource
def continuation_cache() -> BoundedCache:
    return BoundedCache(size=256)  # continuations of the write page (at most 6 x 400 rows) and readings of a writing


@st.cache_data(max_entries=256, show_spinner=False)
def next_mixture(_model: Model, model_key: str, rows: np.ndarray):
    return sampling.next_mixture(_model, rows)


@st.cache_data(max_entries=2048, show_spinner=False)  # 13 kB each at 50 x 8, 64 kB at most
def point_futures(_model: Model, model_key: str, rows: np.ndarray, at: int, variation: float, count: int,
                  steps: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The futures (count, steps, 3) after one point of a line and their turns (count, steps).

    Seeded by ``(seed, at)``, so a point shows the same futures however the reader
    reached it: by the slider, by Play, or after leaving the page. One point's futures
    are a small part of the whole line's, so a Step answers without waiting for them.
    """
    h, c = line_states(_model, model_key, rows)
    rng = np.random.default_rng((seed, at))
    drawn = sampling.futures_after(_model, LSTMState(h, c), rows, np.array([at]), rng, variation, count, steps)
    return drawn[0], sampling.future_turns(rows, drawn, np.array([at]))[0]


# --- What the model reads ------------------------------------------------------------


def line_digest(rows: np.ndarray) -> str:
    """A line's fingerprint, for the keys of the caches that hold what is computed from it."""
    return hashlib.sha1(np.ascontiguousarray(rows).tobytes()).hexdigest()


@st.cache_resource
def recording_cache() -> BoundedCache:
    return BoundedCache(size=64)  # h and c of a 700-point line: 2.8 MB in float32; 180 MB at most


def recording(model: Model, model_key: str, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """h and c (T, cells) as the model reads ``rows`` (:func:`inkcore.cells.record`), read-only.
    Safe to call from a background thread (examples are recorded ahead: dashboard.library)."""
    rows = np.ascontiguousarray(rows)
    key = (model_key, rows.shape, line_digest(rows))
    cache = recording_cache()
    found = cache.get(key)
    if found is None:
        with cache.computing(key):
            found = cache.get(key)
            if found is None:
                rec = cells.record(model, rows)
                for part in (rec.h, rec.c):
                    part.setflags(write=False)
                found = (rec.h, rec.c)
                cache.put(key, found)
    return found


@st.cache_resource(max_entries=16, show_spinner=False)
def line_states(_model: Model, model_key: str, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """h and c (T, cells) along a line by the evaluation protocol (:func:`inkcore.evaluate.line_states`)."""
    states = evaluate.line_states(_model, rows)
    return read_only(states.h, states.c)


@st.cache_data(max_entries=64, show_spinner=False)
def surprise(_model: Model, model_key: str, rows: np.ndarray) -> np.ndarray:
    """Negative log-likelihood (T,) of each row under the model, by the evaluation protocol."""
    return -evaluate.line_log_likelihood(_model, rows).total


@st.cache_resource(max_entries=64, show_spinner=False)
def prediction(_model: Model, model_key: str, rows: np.ndarray):
    """The mixture that predicted each row (the evaluation protocol's run), as a record."""
    h, _ = line_states(_model, model_key, rows)
    found = mixture(_model, h)
    read_only(*found)
    return found


@st.cache_resource
def order_cache() -> BoundedCache:
    """t-SNE orders of the cells (:func:`inkcore.cells.order_cells`), a few kB each:
    computed in the background, neighbouring perplexities ahead (:mod:`dashboard.background`)."""
    return BoundedCache(size=32)


@st.cache_data(max_entries=8, show_spinner="Probing every cell…")
def probes(_model: Model, model_key: str, example_keys: tuple[str, ...], lines: tuple[np.ndarray, ...]):
    return cells.probe_cells(_model, list(lines), top=25)


# --- The user's files ----------------------------------------------------------------


@st.cache_resource(max_entries=4)
def store(folder: str) -> HandwritingStore:
    return HandwritingStore(Path(folder) / DATABASE_NAME)  # a failure is not cached: the next call tries again


@st.cache_resource(max_entries=2, show_spinner="Reading your IAM-OnDB copy…")
def iam_lines(source: str) -> dict[str, tuple[str, np.ndarray]]:
    path = Path(source)
    if path.suffix == ".npz":
        lines = load_lines(path)
    else:
        from inkcore.iamondb import import_iam

        target = data_folder() / "iam-lines.npz"
        import_iam(path, target)
        lines = load_lines(target)
    found = {}
    for split in ("val", "test"):
        for i in lines.indices(split):
            text = str(lines.texts[i]) or "(no transcription)"
            found[str(lines.line_ids[i])] = (f"{split} {lines.line_ids[i]}: {text}",
                                             read_only(from_points(lines.line_points(i))))
    return found


@st.cache_data(max_entries=6, show_spinner=False)  # 5.7 MB each for a model of 500 cells
def browser_weights(_model: Model, model_key: str) -> str:
    """The model's weights for a page's own copy, as base64 of float32."""
    return base64.b64encode(float32_bytes(_model)).decode("ascii")


@st.cache_data(max_entries=4, show_spinner=False)  # 5.5 MB each for 4,096 features of 500 cells
def browser_dictionary(_dictionary: Dictionary, dictionary_key: str) -> dict:
    """A dictionary's encoder for a page's own copy: ``W_enc`` (S, F) as base64 of
    float16 when that loses nothing (the precision the shipped files keep), ``b_enc``, ``b_dec``, ``scale`` and,
    for JumpReLU, ``threshold`` as base64 of float32, and every feature's label."""
    vectors = [_dictionary.b_enc, _dictionary.b_dec, _dictionary.scale]
    if _dictionary.threshold is not None:
        vectors.append(_dictionary.threshold)

    def encoded(array, dtype) -> str:
        return base64.b64encode(np.ascontiguousarray(array, dtype=np.dtype(dtype).newbyteorder("<")).tobytes()) \
            .decode("ascii")

    labels = _dictionary.metadata.get("labels") or [None] * _dictionary.features
    half = np.array_equal(_dictionary.W_enc.astype(np.float16).astype(np.float32), _dictionary.W_enc)
    return {"encoder": encoded(_dictionary.W_enc, np.float16 if half else np.float32),
            "encoder_bits": 16 if half else 32,
            "vectors": encoded(np.concatenate([np.ravel(v) for v in vectors]), np.float32),
            "labels": [None if label is None else [label[0], round(float(label[1]), 3)] for label in labels]}


@st.cache_data(max_entries=64, show_spinner=False)
def pen_reading(_model: Model | None, model_key: str, strokes_json: str) -> PenReading:
    """What the pen's strokes (JSON of [x, y, t] events) say to the model, its scale
    estimated by that model."""
    return read_strokes(json.loads(strokes_json), _model)



# --- Interventions and the cells two models share ----------------------------------------


@st.cache_data(max_entries=16, show_spinner="Taking every cell's mean and range over the examples…")
def cell_statistics(_model: Model, model_key: str, example_keys: tuple[str, ...], lines: tuple[np.ndarray, ...]
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every cell's mean, 1st and 99th percentile of c (cells,) over the examples."""
    return traits.cell_statistics(_model, lines)


@st.cache_resource
def writing_cache() -> BoundedCache:
    return BoundedCache(size=64)  # an inkcore.traits.Writing: a few numbers each


@st.cache_resource
def held_writing_cache() -> BoundedCache:
    return BoundedCache(size=128)  # lines written intact or with a hold: at most 6 x 1,000 rows each


@st.cache_resource
def correlations_cache() -> BoundedCache:
    return BoundedCache(size=8)  # r of two 500-cell models: 2 MB each
