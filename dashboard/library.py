"""The example library every page opens lines from: the model's samples, the
user's saved handwriting, the article's validation lines and the user's
IAM-OnDB copy; and pattern search across it."""
from __future__ import annotations

import json
import os
from functools import partial
from typing import Callable

import numpy as np
import streamlit as st

from dashboard import article, background, cached, handwriting, sampled
from dashboard.frame import forget, remembered
from dashboard.models import LoadedModel
from inkcore import cells, downloads, figures, sampling
from inkcore.data import DataError
from inkcore.library import Example, StoreError, read_settings, write_setting

#: The user's IAM-OnDB copy: a line set .npz, a lineStrokes folder or lineStrokes-all.tar.gz.
IAM_ENV = "INKCORE_IAM"
#: The copy in use: its session key, and its name in the settings file (where it outlives a restart).
IAM_SOURCE = "iam_source"
SAMPLE_SEEDS = range(1, 9)
SAMPLE_STEPS = 700


def sample_line(loaded: LoadedModel, seed: int) -> np.ndarray:
    """One of the library's model samples: ``SAMPLE_STEPS`` rows at the article's variation."""
    return sampled.samples(loaded.model, loaded.key, SAMPLE_STEPS, sampling.SAMPLE_VARIATION, [seed])[0]


def iam_lines() -> dict[str, tuple[str, np.ndarray]]:
    source = os.environ.get(IAM_ENV) or st.session_state.get(IAM_SOURCE) or read_settings().get(IAM_SOURCE)
    if not source:
        return {}
    try:
        return cached.iam_lines(source)
    except (DataError, OSError) as error:
        st.warning(f"Your IAM-OnDB copy could not be read: {error}")
        return {}


def iam_controls() -> None:
    """Where the user's IAM-OnDB copy is: typed, used and kept in the settings (for this
    session alone when they cannot be written), or forgotten; and how many lines it adds."""
    saved = read_settings().get(IAM_SOURCE, "")
    if saved and not os.environ.get(IAM_ENV):
        st.caption(f"Using `{saved}`, kept in your settings.")
    source = st.text_input("Path", key="iam_source_input", placeholder="/data/iam-ondb/lineStrokes-all.tar.gz")
    use_column, forget_column = st.columns([1, 5])
    if use_column.button("Use this copy", key="iam_use", disabled=not source.strip()):
        st.session_state[IAM_SOURCE] = source.strip()
        try:  # remembered across restarts; for this session even if it cannot be saved
            write_setting(IAM_SOURCE, source.strip())
        except StoreError as error:
            st.warning(f"Used for this session only: {error}")
    if saved and forget_column.button("Forget this copy", key="iam_forget"):
        st.session_state.pop(IAM_SOURCE, None)
        try:
            write_setting(IAM_SOURCE, None)
        except StoreError as error:
            st.warning(str(error))
        st.rerun()
    count = len(iam_lines())
    if count:
        st.success(f"{count:,} validation and test lines are in the library.")


def article_lines(folder) -> dict[int, np.ndarray] | None:
    """The article's validation lines in ``folder``, or None after a warning saying why not."""
    try:
        return cached.article_lines(str(folder))
    except DataError as error:
        st.warning(str(error))
        return None


def example_keys(loaded: LoadedModel) -> dict[str, str]:
    """Every example's key and label, in the order a dropdown shows them."""
    options = {f"sample:{seed}": f"Model sample {seed}" for seed in SAMPLE_SEEDS}
    mine = handwriting.store()
    if mine is not None:
        try:
            for entry in mine.entries():
                options[f"mine:{entry.id}"] = f"Your handwriting: {entry.name}"
        except StoreError as error:
            st.warning(str(error))
    folder = downloads.article_validation()
    if folder is not None:
        lines = article_lines(folder) or {}
        featured = [k for k in article.featured() if k in lines]
        for k in featured + [k for k in lines if k not in featured]:
            star = " ★" if k in featured else ""
            options[f"article:{k}"] = f"Article validation {k}{star}"
    for line_id, (label, _) in iam_lines().items():
        options[f"iam:{line_id}"] = f"IAM-OnDB {label}"
    return options


def article_browser(folder) -> None:
    """The article's validation lines, one at a time: drawn, with their size and a download."""
    lines = article_lines(folder)
    if lines is None:
        return
    featured = set(article.featured())
    k = st.selectbox(f"Line (of {len(lines)})", sorted(lines), key="library_article_line",
                     format_func=lambda k: f"validation {k}" + (" ★ featured in the article" if k in featured else ""))
    rows = lines[k]
    st.plotly_chart(figures.handwriting_figure(rows), key="library_article_preview")
    st.caption(f"{len(rows):,} points, {int(rows[:, 2].sum()):,} strokes")
    st.download_button("JSON rows (model units)", partial(json.dumps, np.round(rows, 5).tolist()),
                       f"article-validation-{k}.json", "application/json", key="library_article_json")


def load_example(loaded: LoadedModel, key: str) -> Example:
    source, _, ident = key.partition(":")
    if source == "sample":
        rows = sample_line(loaded, int(ident))
        return Example(key, f"Model sample {ident}", rows, "sample")
    if source == "mine":
        return handwriting.store().load(int(ident))
    if source == "article":
        return Example(key, f"Article validation {ident}",
                       cached.article_lines(str(downloads.article_validation()))[int(ident)], "article")
    label, rows = iam_lines()[ident]
    return Example(key, label, rows, "iam")


#: Examples read ahead on a page that records its example: the options either side of the
#: chosen one, and the first ones the dropdown shows when it opens.
NEIGHBOURS_AHEAD, FIRST_AHEAD = 2, 6


def example_picker(loaded: LoadedModel, label: str = "Example", key: str = "example", default: str | None = None,
                   ahead: Callable[[np.ndarray], object] | None = None):
    """A dropdown over the library; returns the chosen Example. With ``ahead``, the page's
    work on an example's rows (recording it, say) is done in the background for the
    examples likely chosen next (:func:`read_ahead`)."""
    options = example_keys(loaded)
    if st.session_state.get(key) not in options:  # e.g. a saved entry deleted meanwhile
        forget(key)
    chosen = st.selectbox(label, list(options), format_func=options.get,
                          key=remembered(key, default if default in options else next(iter(options))))
    try:
        example = load_example(loaded, chosen)
    except (StoreError, DataError, KeyError, ValueError) as error:
        st.error(f"This example cannot be opened: {error}")
        st.stop()
    if ahead is not None:
        read_ahead(loaded, list(options), chosen, ahead)
    return example


def recorded(*models: LoadedModel) -> Callable[[np.ndarray], None]:
    """Work for ``example_picker(ahead=...)``: a line recorded by each of ``models``."""
    def record(rows: np.ndarray) -> None:
        for model in models:
            cached.recording(model.model, model.key, rows)

    return record


def read_ahead(loaded: LoadedModel, keys: list[str], chosen: str, work: Callable[[np.ndarray], object]) -> None:
    """Do ``work(rows)`` in the background for the examples either side of ``chosen`` in
    ``keys`` and the first few, so that choosing one of them finds it done. A model
    sample is written there too; a line of the user's own is left: reading it is quick.
    One thread does all such work at a time (:func:`dashboard.background.run_ahead`)."""
    at = keys.index(chosen) if chosen in keys else 0
    near = [keys[i] for k in range(1, NEIGHBOURS_AHEAD + 1) for i in (at + k, at - k) if 0 <= i < len(keys)]
    wanted = [k for k in dict.fromkeys(near + keys[:FIRST_AHEAD]) if k != chosen]
    jobs = []
    for example_key in wanted:
        source, _, ident = example_key.partition(":")
        if source == "sample":
            jobs.append(lambda seed=int(ident): work(sample_line(loaded, seed)))
        elif source in ("article", "iam"):
            try:
                rows = load_example(loaded, example_key).rows  # lines already in memory
            except (DataError, KeyError, ValueError):
                continue
            jobs.append(lambda rows=rows: work(rows))
    background.run_ahead(jobs)


def pattern_matches(loaded: LoadedModel, example_key: str, c: np.ndarray, start: int, stop: int,
                    limit: int = 40) -> tuple[cells.Pattern, list[cells.Match], int, int]:
    """The cells that set steps [start, stop) of one example apart, and where else in
    the library most of them are on together (see :func:`inkcore.cells.find_pattern`).

    Searches the example itself and the library's first examples, ``limit`` in
    all: each is recorded once through :func:`dashboard.cached.recording`, whose
    cache holds 64, so the default leaves room for other pages and keeps a first
    search to a few seconds (the article's lines take about 0.05 s each here).
    Returns the pattern, its matches (the span itself left out), how many
    examples were searched and how many the library holds.
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
            recordings[key] = cached.recording(loaded.model, loaded.key, rows)[1]
    matches = cells.find_pattern(recordings, pattern, exclude=(example_key, start, stop))
    return pattern, matches, len(recordings), len(library)


def chosen_examples(loaded: LoadedModel, key: str, label: str, count: int, most: int, help: str
                    ) -> tuple[tuple[str, ...], tuple[np.ndarray, ...]]:
    """Several examples picked in a folded list (by default the article's first ``count``
    lines, else the model's samples): their keys and rows. Stops the page while none is picked."""
    options = example_keys(loaded)
    default = ([k for k in options if k.startswith("article:")][:count]
               or [k for k in options if k.startswith("sample:")][:count])
    remembered(key, default)
    st.session_state[key] = [k for k in st.session_state[key] if k in options]  # e.g. an entry deleted meanwhile
    shown = len(st.session_state[key])
    with st.expander(f"{label}: {shown} example{'s' if shown != 1 else ''}"):
        chosen = st.multiselect(label, list(options), format_func=options.get, key=key, max_selections=most,
                                help=help)
    if not chosen:
        st.info(f"{label}: pick at least one example.")
        st.stop()
    return tuple(chosen), tuple(load_example(loaded, k).rows for k in chosen)
