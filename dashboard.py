"""The app's side of inkcore: the model picker, cached results, the example
library, canvas input and session state. The only module that knows both
Streamlit and inkcore; pages call it and render what it returns.

Caching: the loaded model is a ``st.cache_resource`` (one read-only object per
weights file, shared by every session); pure results are ``st.cache_data``
keyed by the model's key and plain values. Every cache has a bound
(``max_entries``), so memory stays bounded however many sessions run.
"""
from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st

from inkcore import cells, downloads, evaluate, figures, sampling
from inkcore.cli import default_weights
from inkcore.data import DataError, load_lines, parse_stroke_json, read_article_lines, read_stroke_json, rows_from_json
from inkcore.library import DATABASE_NAME, Example, HandwritingStore, StoreError, data_folder, read_settings
from inkcore.model import LSTMState, Model, mixture
from inkcore.strokes import CanvasWriting, canvas_to_rows, from_points
from inkcore.weights import WeightsError, load

#: A folder holding the article's files (b64_weights.json, metadata.json,
#: validation-data/), used instead of downloading them.
ARTICLE_DIR_ENV = "INKCORE_ARTICLE_DIR"
#: The user's IAM-OnDB copy: a line set .npz, a lineStrokes folder or lineStrokes-all.tar.gz.
IAM_ENV = "INKCORE_IAM"

OURS, ARTICLE, UPLOADED = "inkcore's own model", "The article's model", "A weights file you upload"
#: The article's cell figure opens on cell 93; its ordered figure's "cell 136" is row 136 of its order.
ARTICLE_CELL = 93
ARTICLE_ROW = 136
SAMPLE_SEEDS = range(1, 9)
SAMPLE_STEPS = 700
CANVAS_HEIGHT, CANVAS_WIDTH = 250, 720
PEN_WIDTH = 3
MAX_UPLOAD_BYTES = 20 * 2**20


#: Every page in the article's order: script, title, icon, what it shows.
PAGES = (
    ("app.py", "Home", ":material/home:", ""),
    ("pages/1_write.py", "Write with the model", ":material/draw:",
     "it continues your handwriting, in your style."),
    ("pages/2_samples.py", "The model writes", ":material/edit_note:", "lines it writes by itself."),
    ("pages/3_possibilities.py", "Possibility space", ":material/call_split:",
     "at every step, the futures it could have drawn."),
    ("pages/4_cells.py", "Cell activations", ":material/grid_on:",
     "all 500 cells over a line; click one to colour the stroke."),
    ("pages/5_ordered.py", "Ordered cells", ":material/sort:",
     "the same, with cells that behave alike side by side (t-SNE)."),
    ("pages/6_watch.py", "Write and watch", ":material/visibility:", "every cell responding as you write."),
    ("pages/7_probes.py", "Cell probes", ":material/troubleshoot:",
     "which cells track pen lifts, position, direction; pattern search."),
    ("pages/8_surprise.py", "Surprise", ":material/bolt:", "how unlikely the model finds each point of a line."),
    ("pages/9_library.py", "Example library", ":material/library_books:",
     "your saved handwriting, the article's lines, IAM-OnDB."),
)


def remembered(key: str, default) -> str:
    """A widget key that starts at ``default`` and keeps the user's choice when they
    switch pages and come back (Streamlit forgets the state of widgets it did not draw)."""
    st.session_state.setdefault(key, st.session_state.get("_kept", {}).get(key, default))
    st.session_state.setdefault("_remembered", set()).add(key)
    return key


def _keep_choices() -> None:
    """Carry every remembered widget's value across page switches. Streamlit drops the state
    of a widget its page did not draw; a plain copy under another key outlives that, and the
    widget's own key is re-set so the value is the user's, not the widget's default."""
    kept = st.session_state.setdefault("_kept", {})
    for key in st.session_state.get("_remembered", ()):
        if key in st.session_state:
            kept[key] = st.session_state[key]
            st.session_state[key] = kept[key]
        elif key in kept:
            st.session_state[key] = kept[key]


def page_setup(title: str, heading: str | None = None) -> None:
    """The frame of every page: its tab title, the sidebar's links and model picker, its heading."""
    st.set_page_config(page_title=f"{title} · inkcore", page_icon=":material/draw:", layout="wide")
    _keep_choices()
    with st.sidebar:
        for script, label, icon, _ in PAGES:
            st.page_link(script, label=label, icon=icon)
        st.divider()
    model_picker()
    st.title(heading or title)


@dataclass(frozen=True, eq=False)
class LoadedModel:
    model: Model
    metadata: dict
    label: str
    key: str  # identifies the weights in every cache: path and modification time


# --- Models -------------------------------------------------------------------


@st.cache_resource(max_entries=6, show_spinner="Loading the model…")
def _load_model(path: str, modified: float) -> tuple[Model, dict]:
    return load(path)


def _loaded(path: Path, label: str) -> LoadedModel:
    model, metadata = _load_model(str(path), path.stat().st_mtime)
    return LoadedModel(model, metadata, label, f"{path}@{path.stat().st_mtime}")


def article_dir() -> Path | None:
    folder = os.environ.get(ARTICLE_DIR_ENV)
    return Path(folder) if folder and Path(folder).is_dir() else None


def article_dir_problem() -> str | None:
    """What is wrong with ``INKCORE_ARTICLE_DIR``: set and naming no folder, or holding
    files that differ from the article's repository at the pinned commit."""
    folder = os.environ.get(ARTICLE_DIR_ENV)
    if folder and not Path(folder).is_dir():
        return (f"{ARTICLE_DIR_ENV}={folder} is not a folder of the article's files; "
                "its model and lines are downloaded on request instead.")
    if folder:
        different = _folder_differences(folder, _folder_stamp(Path(folder)))
        if different:
            listed = ", ".join(different[:3]) + (f" and {len(different) - 3} more" if len(different) > 3 else "")
            return (f"{len(different)} file(s) in {ARTICLE_DIR_ENV}={folder} differ from the article's repository "
                    f"at commit {downloads.ARTICLE_COMMIT[:7]} ({listed}): they are used as they are, but figures "
                    "made from them are not the article's. Point the variable at an unchanged copy, or unset it "
                    "to download the checked files.")
    return None


def _folder_stamp(folder: Path) -> tuple:
    """Changes when the folder's files do (their names, sizes and modification times)."""
    try:
        return tuple(sorted((str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns)
                            for p in folder.rglob("*.json")))
    except OSError:
        return ()


@st.cache_data(max_entries=4, show_spinner=False)
def _folder_differences(folder: str, stamp: tuple) -> list[str]:
    return downloads.folder_differences(folder)


def article_weights_path() -> Path | None:
    local = article_dir()
    if local and (local / "b64_weights.json").exists():
        return local / "b64_weights.json"
    return downloads.cached_weights()


def model_picker() -> None:
    """The sidebar's model choice, shared by every page."""
    with st.sidebar:
        # Widget state does not survive a page switch; the choice lives in its own key.
        st.session_state.model_choice = st.session_state.setdefault("chosen_model", OURS)
        st.radio("Model", (OURS, ARTICLE, UPLOADED), key="model_choice",
                 on_change=lambda: st.session_state.update(chosen_model=st.session_state.model_choice))
        choice = st.session_state.chosen_model
        if choice == ARTICLE and article_weights_path() is None:
            st.caption("The article's weights are not on this computer yet.")
            if st.button("Download the article's model (1.4 MB)", key="download_article"):
                _download(downloads.fetch_weights, "the article's model")
        if choice == UPLOADED:
            upload = st.file_uploader("Weights (.npz or b64_weights.json)", type=["npz", "json"], key="weights_upload")
            if upload is not None:
                st.session_state.uploaded_weights = _store_upload(upload)


def _download(fetch, what: str, unit: str = "MB"):
    bar = st.progress(0.0, text=f"Downloading {what}…")

    def progress(done: int, total: int | None) -> None:
        amount = f"{done / 2**20:.1f} MB" if unit == "MB" else f"{done} of {total} files"
        bar.progress(min(1.0, done / total) if total else 0.5, text=f"Downloading {what}… {amount}")

    try:
        result = fetch(progress=progress)
    except downloads.DownloadError as error:
        bar.empty()
        st.error(str(error))
        return None
    bar.empty()
    return result


def _store_upload(upload) -> str | None:
    data = upload.getvalue()
    if len(data) > MAX_UPLOAD_BYTES:
        st.error(f"{upload.name} is larger than {MAX_UPLOAD_BYTES // 2**20} MB; it is not a weights file.")
        return None
    digest = hashlib.sha256(data).hexdigest()[:16]
    suffix = ".json" if data.lstrip()[:1] == b"[" else ".npz"
    path = data_folder() / "uploads" / f"{digest}{suffix}"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            partial = path.with_suffix(".partial")
            partial.write_bytes(data)
            partial.replace(path)
    except OSError as error:
        st.error(f"Could not keep the uploaded file: {error.strerror}")
        return None
    st.session_state.uploaded_name = upload.name
    return str(path)


def current_model() -> LoadedModel | None:
    """The chosen model, or None after telling the user why there is none."""
    choice = st.session_state.get("chosen_model", OURS)
    try:
        if choice == OURS:
            path = default_weights()
            if not path.exists():
                st.warning(
                    f"No model of inkcore's own is installed (expected `{path}`). "
                    "Choose the article's model in the sidebar, or train one: see the README."
                )
                return None
            return _loaded(path, OURS)
        if choice == ARTICLE:
            if problem := article_dir_problem():
                st.warning(problem)
            path = article_weights_path()
            if path is None:
                st.info("The article's model is not downloaded yet: use the button in the sidebar.")
                return None
            return _loaded(path, ARTICLE)
        path = st.session_state.get("uploaded_weights")
        if not path:
            st.info("Upload a weights file in the sidebar: inkcore's .npz or the article's b64_weights.json.")
            return None
        return _loaded(Path(path), f"uploaded: {st.session_state.get('uploaded_name', Path(path).name)}")
    except WeightsError as error:
        message = str(error)
        if choice == UPLOADED:
            message = message.replace(str(path), st.session_state.get("uploaded_name", "the uploaded file"))
        st.error(f"This weights file cannot be used. {message}")
        return None


def model_summary(loaded: LoadedModel) -> str:
    """The model card's figures as Markdown lines."""
    meta = loaded.metadata
    config = loaded.model.config
    lines = [f"- {config.cells} LSTM cells, {config.components} mixture components, inputs in {config.units}"]
    provenance = meta.get("provenance", {})
    if "steps" in provenance:
        lines.append(f"- trained {provenance['steps']:,} steps ({provenance.get('wall_hours', 0):.1f} h) "
                     f"on {provenance.get('data', 'IAM-OnDB')}")
    elif "source" in provenance:
        lines.append(f"- from {provenance['source']}")
    metrics = meta.get("metrics", {})
    names = {"article_validation": "the article's 200 validation lines", "test_split": "IAM-OnDB test split"}
    scored = [(names.get(k, k.replace("_", " ")), v, metrics.get(f"{k}_article_model")) for k, v in metrics.items()
              if isinstance(v, dict) and "nll_per_point" in v and not k.endswith("_article_model")]
    if scored:
        lines += ["", "Negative log-likelihood per point, in nats (lower is better):", "",
                  "| lines | points | this model | the article's model |", "| --- | ---: | ---: | ---: |"]
        for label, ours, theirs in scored:
            lines.append(f"| {label} | {ours['points']:,} | **{ours['nll_per_point']:.3f}** | "
                         + (f"{theirs['nll_per_point']:.3f}" if theirs else "not measured") + " |")
    return "\n".join(lines)


def other_model(loaded: LoadedModel) -> LoadedModel | None:
    """The model to compare with: the article's beside ours, ours beside any other, when present."""
    try:
        if loaded.label == OURS:
            path = article_weights_path()
            return _loaded(path, ARTICLE) if path else None
        path = default_weights()
        return _loaded(path, OURS) if path.exists() else None
    except WeightsError:
        return None


def require_model() -> LoadedModel:
    loaded = current_model()
    if loaded is None:
        st.stop()
    return loaded


# --- Cached results -------------------------------------------------------------


@st.cache_resource
def _sample_cache() -> _BoundedCache:
    return _BoundedCache(size=256)  # lines of at most 1,500 rows and their state: 40 kB each, 10 MB in all


def samples(model: Model, model_key: str, steps: int, variation: float, seeds) -> list[np.ndarray]:
    """The line (steps, 3) each seed writes (:func:`inkcore.sampling.generate_seeded`),
    one per distinct seed, in order.

    The longest line each seed has written at a variation is kept (with the state to
    write on), so a shorter length is a slice of it and a longer one writes only the
    rows it adds; lines not yet begun are written side by side in one batch."""
    return _write_samples(_sample_cache(), model, model_key, steps, variation, seeds)


def _write_samples(cache: _BoundedCache, model: Model, model_key: str, steps: int, variation: float,
                   seeds) -> list[np.ndarray]:
    seeds = list(dict.fromkeys(int(seed) for seed in seeds))
    keys = {seed: (model_key, variation, seed) for seed in seeds}
    begun = {seed: cache.get(keys[seed]) for seed in seeds}
    short = [seed for seed in seeds if begun[seed] is None or len(begun[seed].rows) < steps]
    if short:
        lines = sampling.generate_seeded(model, steps, short, variation, [begun[seed] for seed in short])
        for seed, line in zip(short, lines):
            line.rows.setflags(write=False)
            cache.put(keys[seed], line)
            begun[seed] = line
    return [begun[seed].rows[:steps] for seed in seeds]


#: Held while neighbouring variations are written in the background: one such job at a time.
_PREFETCHING = threading.Lock()


def prefetch_samples(model: Model, model_key: str, steps: int, variations, seeds) -> None:
    """Write the same lines at ``variations`` in a background thread, unless one is already
    at work, so that moving the Variation slider a notch finds its lines written (writing
    six 700-step lines takes about a third of a second). Only NumPy runs in the thread."""
    if not _PREFETCHING.acquire(blocking=False):
        return
    cache, seeds = _sample_cache(), list(seeds)

    def work() -> None:
        try:
            for variation in variations:
                _write_samples(cache, model, model_key, steps, variation, seeds)
        finally:
            _PREFETCHING.release()

    threading.Thread(target=work, name="inkcore-prefetch-samples", daemon=True).start()


def sample_line(loaded: LoadedModel, seed: int) -> np.ndarray:
    """One of the library's model samples: ``SAMPLE_STEPS`` rows at the article's variation."""
    return samples(loaded.model, loaded.key, SAMPLE_STEPS, sampling.SAMPLE_VARIATION, [seed])[0]


@st.cache_data(max_entries=256, show_spinner=False)
def continuation(_model: Model, model_key: str, rows: np.ndarray, steps: int, variation: float,
                 candidates: int, seed: int) -> sampling.Continuation:
    return sampling.continue_writing(_model, rows, steps, np.random.default_rng(seed), variation, candidates)


@st.cache_data(max_entries=256, show_spinner=False)
def next_mixture(_model: Model, model_key: str, rows: np.ndarray):
    return sampling.next_mixture(_model, rows)


@st.cache_data(max_entries=64, show_spinner=False)
def recording(_model: Model, model_key: str, rows: np.ndarray):
    rec = cells.record(_model, rows)
    return rec.h, rec.c


@st.cache_data(max_entries=64, show_spinner=False)
def surprise(_model: Model, model_key: str, rows: np.ndarray) -> np.ndarray:
    """Negative log-likelihood (T,) of each row under the model, by the evaluation protocol."""
    return -evaluate.line_log_likelihood(_model, rows).total


@st.cache_data(max_entries=64, show_spinner=False)
def prediction(_model: Model, model_key: str, rows: np.ndarray):
    """The mixture that predicted each row (the evaluation protocol's run), as a record."""
    h, _ = line_states(_model, model_key, rows)
    return mixture(_model, h)


class _BoundedCache:
    """A small thread-safe LRU for results computed with a progress bar. ``computing(key)``
    is a lock per key, so sessions that ask for the same result at once compute it once."""

    def __init__(self, size: int):
        self.size = size
        self.items: OrderedDict = OrderedDict()
        self.lock = threading.Lock()
        self.pending: dict = {}

    def computing(self, key) -> threading.Lock:
        with self.lock:
            return self.pending.setdefault(key, threading.Lock())

    def done(self, key) -> None:
        with self.lock:
            self.pending.pop(key, None)

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


@st.cache_resource
def _futures_cache() -> _BoundedCache:
    # at most 1,000 points x 100 futures x 20 steps: 64 MB with their turns; typically 8 MB
    return _BoundedCache(size=6)


def ordinal(n: int) -> str:
    """2 -> "2nd", 11 -> "11th", 23 -> "23rd"."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


#: Pen steps drawn for one possibility space at most: the article's 50 futures of
#: 8 steps at each point of a 600-point line, about a second. Beyond it futures
#: are drawn at every n-th point, which the page says.
FUTURES_BUDGET = 600 * 50 * 8


def futures(loaded: LoadedModel, rows: np.ndarray, variation: float, count: int, steps: int, seed: int):
    """Possible futures at every point (every n-th when over :data:`FUTURES_BUDGET`),
    their turn angles and n; cached, with a progress bar."""
    every = sampling.futures_stride(len(rows), count, steps, FUTURES_BUDGET)
    key = (loaded.key, hashlib.sha1(np.ascontiguousarray(rows).tobytes()).hexdigest(), variation, count, steps, seed)
    cache = _futures_cache()
    found = cache.get(key)
    if found is not None:
        return found
    where = "each" if every == 1 else f"every {ordinal(every)}"
    bar = st.progress(0.0, text=f"Drawing {count} futures of {steps} steps at {where} of {len(rows)} points…")
    with cache.computing(key):  # another session drawing the same futures: wait for its result
        found = cache.get(key)
        if found is None:
            result = sampling.possible_futures(
                loaded.model, rows, np.random.default_rng(seed), variation, count, steps,
                progress=lambda done: bar.progress(done, text=f"Drawing possible futures… {done:.0%}"), every=every,
            )
            found = (result, sampling.future_turns(rows, result.rows), every)
            cache.put(key, found)
        cache.done(key)
    bar.empty()
    return found


@st.cache_data(max_entries=16, show_spinner=False)
def line_states(_model: Model, model_key: str, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """h and c (T, cells) along a line by the evaluation protocol (:func:`inkcore.evaluate.line_states`)."""
    states = evaluate.line_states(_model, rows)
    return states.h, states.c


@st.cache_data(max_entries=2048, show_spinner=False)  # 13 kB each at 50 x 8, 64 kB at most
def point_futures(_model: Model, model_key: str, rows: np.ndarray, at: int, variation: float, count: int,
                  steps: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The futures (count, steps, 3) after one point of a line and their turns (count, steps).

    Seeded by ``(seed, at)``, so a point shows the same futures however the reader
    reached it: by the slider, by Play, or after leaving the page. About 10 ms
    where the whole line's futures take a second or more.
    """
    h, c = line_states(_model, model_key, rows)
    rng = np.random.default_rng((seed, at))
    drawn = sampling.futures_after(_model, LSTMState(h, c), rows, np.array([at]), rng, variation, count, steps)
    return drawn[0], sampling.future_turns(rows, drawn, np.array([at]))[0]


# --- The example library ------------------------------------------------------------


@st.cache_resource(max_entries=4)
def _store(folder: str) -> HandwritingStore:
    return HandwritingStore(Path(folder) / DATABASE_NAME)  # a failure is not cached: the next call tries again


def store() -> HandwritingStore | None:
    """The handwriting library, or None with the reason in ``store_error``."""
    try:
        return _store(str(data_folder()))
    except StoreError as error:
        st.session_state.store_error = str(error)
        return None


def store_or_message() -> HandwritingStore | None:
    handwriting = store()
    if handwriting is None:
        st.error(st.session_state.get("store_error", "The handwriting database cannot be opened."))
    elif handwriting.notice:
        st.warning(handwriting.notice)
    return handwriting


@st.cache_data(max_entries=4, show_spinner="Reading the article's validation lines…")
def _article_lines(folder: str) -> dict[int, np.ndarray]:
    return read_article_lines(folder)


def article_validation_folder() -> Path | None:
    local = article_dir()
    if local and (local / "validation-data").is_dir():
        return local / "validation-data"
    folder = downloads.article_cache() / downloads.VALIDATION_FOLDER
    return folder if folder.is_dir() and any(folder.glob("*.json")) else None


@st.cache_data(max_entries=2, show_spinner=False)
def article_featured() -> list[int]:
    """The 16 examples the article's dropdown offered, from its metadata.json."""
    local = article_dir()
    path = local / "metadata.json" if local else downloads.cached("metadata")
    try:
        return [int(k) for k in read_stroke_json(path)["validationSamples"]] if path else []
    except (DataError, KeyError, TypeError, ValueError):
        return []


@st.cache_data(max_entries=2, show_spinner="Reading your IAM-OnDB copy…")
def _iam_lines(source: str) -> dict[str, tuple[str, np.ndarray]]:
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
            found[str(lines.line_ids[i])] = (f"{split} {lines.line_ids[i]}: {text}", from_points(lines.line_points(i)))
    return found


def iam_lines() -> dict[str, tuple[str, np.ndarray]]:
    source = os.environ.get(IAM_ENV) or st.session_state.get("iam_source") or read_settings().get("iam_source")
    if not source:
        return {}
    try:
        return _iam_lines(source)
    except (DataError, OSError) as error:
        st.warning(f"Your IAM-OnDB copy could not be read: {error}")
        return {}


def example_keys(loaded: LoadedModel) -> dict[str, str]:
    """Every example's key and label, in the order a dropdown shows them."""
    options = {f"sample:{seed}": f"Model sample {seed}" for seed in SAMPLE_SEEDS}
    handwriting = store()
    if handwriting is not None:
        try:
            for entry in handwriting.entries():
                options[f"mine:{entry.id}"] = f"Your handwriting: {entry.name}"
        except StoreError as error:
            st.warning(str(error))
    folder = article_validation_folder()
    if folder is not None:
        try:
            lines = _article_lines(str(folder))
        except DataError as error:
            st.warning(str(error))
            lines = {}
        featured = [k for k in article_featured() if k in lines]
        for k in featured + [k for k in lines if k not in featured]:
            star = " ★" if k in featured else ""
            options[f"article:{k}"] = f"Article validation {k}{star}"
    for line_id, (label, _) in iam_lines().items():
        options[f"iam:{line_id}"] = f"IAM-OnDB {label}"
    return options


def load_example(loaded: LoadedModel, key: str) -> Example:
    source, _, ident = key.partition(":")
    if source == "sample":
        rows = sample_line(loaded, int(ident))
        return Example(key, f"Model sample {ident}", rows, "sample")
    if source == "mine":
        return store().load(int(ident))
    if source == "article":
        return Example(key, f"Article validation {ident}", _article_lines(str(article_validation_folder()))[int(ident)],
                       "article")
    label, rows = iam_lines()[ident]
    return Example(key, label, rows, "iam")


def example_picker(loaded: LoadedModel, label: str = "Example", key: str = "example", default: str | None = None):
    """A dropdown over the library; returns the chosen Example."""
    options = example_keys(loaded)
    if st.session_state.get(key) not in options:  # e.g. a saved entry deleted meanwhile
        st.session_state.pop(key, None)
        st.session_state.get("_kept", {}).pop(key, None)
    chosen = st.selectbox(label, list(options), format_func=options.get,
                          key=remembered(key, default if default in options else next(iter(options))))
    try:
        return load_example(loaded, chosen)
    except (StoreError, DataError, KeyError, ValueError) as error:
        st.error(f"This example cannot be opened: {error}")
        st.stop()


def library_download_controls() -> None:
    """Offer to fetch the article's validation lines when they are not here."""
    if article_validation_folder() is not None:
        return
    if st.button("Download the article's 200 validation lines", key="download_validation"):
        if _download(downloads.fetch_metadata, "the article's metadata") is not None:
            if _download(downloads.fetch_validation, "the article's validation lines", unit="files") is not None:
                article_featured.clear()
                st.rerun()


# --- Canvas input -------------------------------------------------------------------


def canvas_writing(key: str) -> CanvasWriting:
    """A canvas to write on; what is drawn survives reruns and page switches."""
    from streamlit_drawable_canvas import st_canvas

    version = st.session_state.get(f"{key}_version", 0)
    widget_key = f"{key}_canvas_{version}"
    saved_key = f"{key}_drawing"
    initial = st.session_state.get(saved_key) if widget_key not in st.session_state else None
    result = st_canvas(
        stroke_width=PEN_WIDTH, stroke_color="#1d2330", background_color="#ffffff",
        height=CANVAS_HEIGHT, width=CANVAS_WIDTH, drawing_mode="freedraw",
        initial_drawing=initial, key=widget_key,
    )
    if result.json_data is not None and result.json_data.get("objects") is not None:
        st.session_state[saved_key] = result.json_data
    return canvas_to_rows(st.session_state.get(saved_key))


def clear_canvas(key: str) -> None:
    st.session_state.pop(f"{key}_drawing", None)
    st.session_state[f"{key}_version"] = st.session_state.get(f"{key}_version", 0) + 1


def writing_message(writing: CanvasWriting) -> str | None:
    """What to tell the user about their drawing, if anything."""
    if writing.points == 1:
        return "That is a single dot: write a word or two and the model will read your strokes."
    if len(writing.rows) == 0:
        return "Write a word or two on the canvas: the model reads your pen strokes."
    if writing.truncated:
        return f"Your writing is long: the model reads its last {len(writing.rows):,} points."
    return None


def save_controls(rows: np.ndarray, key: str) -> None:
    """Name and save handwriting into the library."""
    with st.popover("Save to the library", disabled=len(rows) == 0):
        name = st.text_input("Name", key=f"{key}_save_name", placeholder="e.g. my signature")
        if st.button("Save", key=f"{key}_save"):
            handwriting = store_or_message()
            if handwriting is not None:
                try:
                    handwriting.save(name, rows)
                    st.success(f"Saved as “{' '.join(name.split())}”.")
                except (StoreError, ValueError) as error:
                    st.error(str(error))


#: Lines longer than this are cut for the figures that draw every point's futures.
MAX_FIGURE_POINTS = 1000
FROM_LIBRARY, FROM_CANVAS = "An example from the library", "Your own writing"


def limit_points(rows: np.ndarray, limit: int = MAX_FIGURE_POINTS) -> tuple[np.ndarray, str | None]:
    if len(rows) <= limit:
        return rows, None
    return rows[:limit], f"This line has {len(rows):,} points; the figure shows its first {limit:,}."


def line_source(loaded: LoadedModel, key: str, default: str | None = "sample:1") -> np.ndarray:
    """A line to study: one from the library, or one written here. Stops the page
    with a hint while there is nothing to show."""
    source = st.radio("Line", (FROM_LIBRARY, FROM_CANVAS), horizontal=True, key=f"{key}_source",
                      label_visibility="collapsed")
    if source == FROM_LIBRARY:
        return example_picker(loaded, "Example", f"{key}_example", default).rows
    writing = canvas_writing(key)
    left, right = st.columns([1, 6])
    if left.button("Clear", key=f"{key}_clear"):
        clear_canvas(key)
        st.rerun()
    with right:
        save_controls(writing.rows, key)
    message = writing_message(writing)
    if message:
        st.info(message)
        st.stop()
    return writing.rows


def saved_entries(handwriting: HandwritingStore | None):
    if handwriting is None:
        return []
    try:
        return handwriting.entries()
    except StoreError as error:
        st.error(str(error))
        return []


def stroke_file_rows(name: str, data: bytes) -> np.ndarray:
    """The rows of an uploaded stroke file (a JSON list of [dx, dy, pen] rows in model
    units, as ``sample`` and the samples page write); a DataError says what is wrong."""
    rows = rows_from_json(parse_stroke_json(data, name), name)
    if len(rows) < 2:
        raise DataError(f"{name}: holds {len(rows)} rows; a line needs at least two")
    return rows


def import_controls(handwriting: HandwritingStore | None) -> None:
    """Upload stroke files into the library; each file is imported once."""
    uploads = st.file_uploader("Import stroke files (.json)", type=["json"], accept_multiple_files=True,
                               key="library_import", disabled=handwriting is None,
                               help="JSON lists of [dx, dy, pen] rows in model units, as the samples page "
                                    "and `python -m inkcore sample --out F.json` write them.")
    done = st.session_state.setdefault("library_imported", {})
    for upload in uploads or ():
        if upload.file_id not in done:
            try:
                rows = stroke_file_rows(upload.name, upload.getvalue())
                entry = handwriting.save(Path(upload.name).stem, rows)
                done[upload.file_id] = (True, f"Imported {upload.name}: {len(rows):,} rows (entry {entry}).")
            except (DataError, StoreError) as error:
                done[upload.file_id] = (False, str(error))
        ok, message = done[upload.file_id]
        (st.success if ok else st.error)(message)


def rename_entry(handwriting: HandwritingStore, entry_id: int, name: str) -> None:
    try:
        handwriting.rename(entry_id, name)
    except StoreError as error:
        st.session_state.library_error = str(error)


def delete_entry(handwriting: HandwritingStore, entry_id: int) -> None:
    try:
        handwriting.delete(entry_id)
    except StoreError as error:
        st.session_state.library_error = str(error)


# --- Cells ---------------------------------------------------------------------------


def selected_points(chart_key: str) -> list:
    """The points of the selection a click left on the chart keyed ``chart_key``, if any."""
    try:  # a plotly chart's state is a dict-like record, not a dict
        return list(st.session_state[chart_key]["selection"]["points"])
    except (KeyError, TypeError, AttributeError):
        return []


def heatmap_click(chart_key: str, cell_key: str, step_key: str) -> None:
    """Carry a new click on a cell heatmap (see inkcore.figures.cell_heatmap) into
    the cell and step widgets; call before those widgets are drawn."""
    points = selected_points(chart_key)
    if not points:
        return
    point = points[0]
    signature = (point.get("x"), point.get("y"))
    if st.session_state.get(f"{chart_key}_seen") == signature:
        return
    st.session_state[f"{chart_key}_seen"] = signature
    custom = point.get("customdata")
    if isinstance(custom, dict):  # a typed array's row comes back keyed by position
        custom = [custom.get(str(k)) for k in range(len(custom))]
    if isinstance(custom, (list, tuple)) and custom and point.get("x") is not None:
        st.session_state[cell_key] = int(custom[0])  # customdata is [cell, c]; x is the step
        st.session_state[step_key] = int(point["x"])


def clicked_cell(chart_key: str) -> int | None:
    """The cell of a bar just clicked (its customdata[0]) in the score chart ``chart_key``, once per click."""
    points = selected_points(chart_key)
    seen = f"{chart_key}_seen"
    custom = points[0].get("customdata") if points else None
    if isinstance(custom, dict):  # a typed array's row comes back keyed by position
        custom = [custom.get("0")]
    if not isinstance(custom, (list, tuple)) or not custom or custom[0] is None:
        st.session_state.pop(seen, None)  # no click, or it was cleared: the same bar may be clicked again
        return None
    if st.session_state.get(seen) == int(custom[0]):
        return None
    st.session_state[seen] = int(custom[0])
    return int(custom[0])


@st.cache_data(max_entries=32, show_spinner="Ordering the cells with t-SNE…")
def cell_order(_model: Model, model_key: str, example_keys: tuple[str, ...], activations: tuple[np.ndarray, ...],
               metric: str, perplexity: float) -> cells.CellOrder:
    return cells.order_cells(list(activations), metric=metric, perplexity=perplexity)


@st.cache_data(max_entries=8, show_spinner="Probing every cell…")
def probes(_model: Model, model_key: str, example_keys: tuple[str, ...], lines: tuple[np.ndarray, ...]):
    return cells.probe_cells(_model, list(lines), top=25)


def article_cell_order() -> cells.CellOrder | None:
    """The article's own order of its model's cells, from its metadata.json."""
    local = article_dir()
    path = local / "metadata.json" if local else downloads.cached("metadata")
    if path is None or not Path(path).exists():
        return None
    return _article_order(str(path), Path(path).stat().st_mtime)


@st.cache_data(max_entries=2, show_spinner=False)
def _article_order(path: str, modified: float) -> cells.CellOrder | None:
    try:
        return cells.article_order(read_stroke_json(path))
    except (DataError, KeyError, TypeError, ValueError):
        return None


def cell_step_controls(prefix: str, cells: int, last: int, default_cell: int, label: str = "Cell",
                       follow_end: bool = False) -> tuple[int, int]:
    """The cell and step pickers beside a heatmap keyed ``{prefix}_heatmap``; clicks on
    the heatmap set them. Returns the chosen cell and a step within 0..last."""
    heatmap_click(f"{prefix}_heatmap", f"{prefix}_cell", f"{prefix}_step")
    ruler_click(f"{prefix}_ruler", f"{prefix}_step")
    left, right = st.columns(2)
    cell = left.number_input(label, 0, cells - 1, key=remembered(f"{prefix}_cell", default_cell))
    clamp_state(f"{prefix}_step", last, default=last if follow_end else 0, follow_end=follow_end)
    step = right.slider("Step", 0, max(last, 1), key=f"{prefix}_step", disabled=last == 0)
    return cell, min(step, last)


def ruler_click(chart_key: str, step_key: str) -> None:
    """Carry a new click on a step ruler (:func:`inkcore.figures.step_ruler`) into the step widget."""
    points = selected_points(chart_key)
    x = points[0].get("x") if points else None
    if x is None or st.session_state.get(f"{chart_key}_seen") == x:
        return
    st.session_state[f"{chart_key}_seen"] = x
    st.session_state[step_key] = int(round(x))


def step_ruler(prefix: str, steps: int, step: int) -> None:
    """The strip under a cell heatmap that marks the chosen step; click it to choose another.
    The heatmap itself does not move with the step, so the browser need not redraw it."""
    st.plotly_chart(figures.step_ruler(steps, step), key=f"{prefix}_ruler", on_select="rerun",
                    selection_mode="points", config={"displayModeBar": False})


def clamp_state(key: str, last: int, default: int = 0, follow_end: bool = False) -> None:
    """Keep a step widget's value within a line that may have changed length.

    With ``follow_end``, a value that sat at the line's previous end moves to its
    new end, so a marker at the pen's position follows the writing."""
    previous_last = st.session_state.get(f"{key}_last")
    value = st.session_state[remembered(key, default)]
    if follow_end and (previous_last is None or value == previous_last):
        value = last
    st.session_state[key] = max(0, min(int(value), last))
    st.session_state[f"{key}_last"] = last


def keep_order(loaded: LoadedModel, order: cells.CellOrder, description: str) -> None:
    """Remember the order last shown on the Ordered cells page, so that every page can
    name a cell by its row in it as well as by its own index."""
    st.session_state[f"cell_order:{loaded.key}"] = (order.rows_of(), description)


def shown_order(loaded: LoadedModel) -> tuple[np.ndarray, str] | None:
    """``(rows_of, description)``: the order last shown for this model on the Ordered
    cells page, else the article's own order for the article's model, else None."""
    kept = st.session_state.get(f"cell_order:{loaded.key}")
    if kept is not None:
        return kept
    if loaded.label == ARTICLE:
        order = article_cell_order()
        if order is not None:
            return order.rows_of(), "the article's order"
    return None


def cell_name(loaded: LoadedModel, cell: int) -> str:
    """"cell 93 · row 37" where an order is known (:func:`shown_order`), else "cell 93"."""
    shown = shown_order(loaded)
    if shown is None or not 0 <= cell < len(shown[0]):
        return f"cell {cell}"
    return f"cell {cell} · row {int(shown[0][cell])}"


def order_caption(loaded: LoadedModel, cell: int) -> None:
    """Say which row of the ordered view shows ``cell``, or how to get an order."""
    shown = shown_order(loaded)
    if shown is None:
        st.caption(f"Cell {cell} is its own index. Open Ordered cells to name it by its row in a t-SNE order too.")
    else:
        st.caption(f"Cell {cell} is row {int(shown[0][cell])} in {shown[1]} (Ordered cells).")


def open_cell(cell: int, example: str | None = None, step: int | None = None) -> None:
    """Go to the Cell activations page with ``cell`` chosen, on the library's
    ``example`` (a key of :func:`example_keys`) and at ``step`` when given."""
    st.session_state.cells_cell = int(cell)
    if example is not None:
        st.session_state.cells_example = example
    if step is not None:
        st.session_state.cells_step = int(step)
    st.switch_page("pages/4_cells.py")


def pattern_matches(loaded: LoadedModel, example_key: str, c: np.ndarray, start: int, stop: int,
                    limit: int = 40) -> tuple[cells.Pattern, list[cells.Match], int, int]:
    """The cells that set steps [start, stop) of one example apart, and where else in
    the library most of them are on together (see :func:`inkcore.cells.find_pattern`).

    Searches the example itself and the library's first examples, ``limit`` in
    all: each is recorded once through :func:`recording`, whose cache holds 64,
    so the default leaves room for other pages and keeps a first search to a few
    seconds (the article's lines take about 0.05 s each here). Returns the
    pattern, its matches (the span itself left out), how many examples were
    searched and how many the library holds.
    """
    pattern = cells.pattern_cells(c, start, stop)
    library = list(example_keys(loaded))
    if len(pattern.cells) == 0:
        return pattern, [], 0, len(library)
    keys = list(dict.fromkeys([example_key] + library))[:limit]
    recordings = {example_key: c}
    for key in keys[1:]:
        try:
            rows = load_example(loaded, key).rows
        except (StoreError, DataError, KeyError, ValueError):  # e.g. an entry deleted meanwhile
            continue
        if len(rows):
            recordings[key] = recording(loaded.model, loaded.key, rows)[1]
    matches = cells.find_pattern(recordings, pattern, exclude=(example_key, start, stop))
    return pattern, matches, len(recordings), len(library)
