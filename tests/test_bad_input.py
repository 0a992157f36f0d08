"""Every bad input and fault the product can meet, in one table.

Each case ends in a clear message in the page (or one line on stderr and a
non-zero exit from the command line), never a traceback, and loses nothing the
user made: writing stays on its pen surface, a saved entry stays saved, no half
file is left behind. Cases whose input is odd but valid (writing right to
left, off the surface) end in the figure itself. The documentation's troubleshooting
page (docs/troubleshooting.md) lists every message of this table (a test checks it).
"""
from __future__ import annotations

import base64

import json
import math
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from inkcore import figures

from conftest import ARTICLE, SHARED, random_rows
from test_app import EVENT_MS, charts, cursive, no_errors, page, pen_data, two_words
from test_cli import assert_one_line_failure, inkcore
from test_downloads import CutOff, Server

ROOT = Path(__file__).resolve().parents[1]
TROUBLESHOOTING = ROOT / "docs" / "troubleshooting.md"
IAM_LINES = SHARED / "data" / "iam-ondb" / "lines.npz"


@dataclass(frozen=True)
class Case:
    id: str
    check: Callable[..., None]  # (tmp_path, monkeypatch) -> None
    message: str | None = None  # what the user reads (a fragment), listed in docs/troubleshooting.md
    needs: Path | None = None  # a file of ../shared the case needs


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch, shipped_weights):
    """Own data and cache folders, the shipped model, empty Streamlit caches, no network."""
    import streamlit as st

    monkeypatch.setenv("INKCORE_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("INKCORE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("INKCORE_WEIGHTS", str(shipped_weights))
    monkeypatch.setenv("INKCORE_ARTICLE_URL", "http://127.0.0.1:9/")  # the discard port: nothing listens
    monkeypatch.delenv("INKCORE_ARTICLE_DIR", raising=False)
    monkeypatch.delenv("INKCORE_IAM", raising=False)
    st.cache_data.clear()
    st.cache_resource.clear()


def texts(at: AppTest, kind: str) -> list[str]:
    return [str(element.value) for element in getattr(at, kind)]


def shows(at: AppTest, kind: str, fragment: str) -> None:
    found = texts(at, kind)
    assert any(fragment in text for text in found), (fragment, found)


# --- The pen surface -----------------------------------------------------------------
#: Pages that take writing and the key of their pen surface.
PEN_PAGES = {"write": "write", "watch": "watch", "possibilities": "futures", "surprise": "surprise"}


def zigzag(events: int) -> list[list[float]]:
    """One stroke of ``events`` pointer events scribbled back and forth across the surface."""
    return [[20 + (7 * i) % 680, 125 + 90 * math.sin(i / 3), EVENT_MS * i] for i in range(events)]


def tiny_strokes(count: int) -> list[list[list[float]]]:
    """``count`` strokes of two events one pixel apart, a tenth of a second between strokes."""
    return [[[20 + 2.3 * k, 60 + (k % 7) * 20, 100.0 * k], [21 + 2.3 * k, 61 + (k % 7) * 20, 100.0 * k + EVENT_MS]]
            for k in range(count)]


DRAWINGS = {
    "empty": ([], "Write a word or two on the surface above"),
    "single-dot": ([[[100.0, 100.0, 0.0]]], "That is a single dot"),
    "10000-event-stroke": ([zigzag(10_000)], "Your writing is long: the model reads its last"),
    # the surface keeps the pointer while the pen is down, so a stroke can leave it
    "partly-off-the-surface": ([[[x - 150, y + 120, t] for x, y, t in cursive(40, 12)]], None),
    "hundreds-of-tiny-strokes": (tiny_strokes(300), None),
    "right-to-left": ([[[760 - x, y, t] for x, y, t in cursive()]], None),
    "bottom-to-top": ([[[120 + 20 * math.sin(k / 2.2), 240 - 2.2 * k, EVENT_MS * k] for k in range(100)]], None),
}


def pen_case(page_name: str, drawing: str) -> Case:
    strokes, message = DRAWINGS[drawing]

    def check(tmp_path, monkeypatch):
        key = PEN_PAGES[page_name]
        at = page(page_name).run()
        if page_name in ("possibilities", "surprise"):
            at.session_state[f"{key}_source"] = "Your own writing"
            at.run()
        at.session_state[f"{key}_strokes"] = strokes
        at.run()
        no_errors(at)
        if message:
            shows(at, "info", message)
        else:
            assert charts(at), "odd but valid writing is drawn"
            assert not any("Write a word" in text for text in texts(at, "info"))
        # nothing lost: the writing is kept, on the surface too, and survives a visit to another page
        assert at.session_state[f"{key}_strokes"] == strokes
        assert pen_data(at)["strokes"] == strokes
        at.switch_page("pages/2_samples.py").run()
        at.switch_page(f"pages/{next(p.name for p in (ROOT / 'pages').glob(f'*_{page_name}.py'))}").run()
        no_errors(at)  # the page is back on the writing, "your own writing" still chosen
        assert at.session_state[f"{key}_strokes"] == strokes
        assert pen_data(at)["strokes"] == strokes

    return Case(f"pen-{page_name}-{drawing}", check, message)


# --- Weights files ----------------------------------------------------------------


def npz_bytes(**arrays) -> bytes:
    import io

    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def shipped_arrays() -> dict[str, np.ndarray]:
    from conftest import SHIPPED_WEIGHTS

    with np.load(SHIPPED_WEIGHTS, allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}


def truncated_npz() -> bytes:
    from conftest import SHIPPED_WEIGHTS

    data = SHIPPED_WEIGHTS.read_bytes()
    return data[: len(data) // 2]


def wrong_shaped_npz() -> bytes:
    arrays = shipped_arrays()
    arrays["W_h"] = arrays["W_h"][:, :100]
    return npz_bytes(**arrays)


def nan_npz() -> bytes:
    arrays = shipped_arrays()
    arrays["W_out"] = np.full_like(arrays["W_out"], np.nan)
    return npz_bytes(**arrays)


#: A complete pickle stream (protocol 2, an empty dict), written out so no pickle module is needed.
PICKLE_STREAM = b"\x80\x02}q\x00."

#: Each bad file, and what the message says about it after naming the file.
WEIGHTS_FILES = {
    "truncated": ("inkcore.npz", truncated_npz, "damaged or truncated .npz file"),
    "wrong-shaped": ("inkcore.npz", wrong_shaped_npz, "W_h has shape (500, 100), expected (500, 2000)"),
    "nan-filled": ("inkcore.npz", nan_npz, "W_out contains NaN or infinite values"),
    "pickle-renamed-npz": ("inkcore.npz", lambda: PICKLE_STREAM, "a Python pickle, which inkcore never loads"),
    "empty": ("inkcore.npz", lambda: b"", "an empty file"),
    "deeply-nested-json": ("b64_weights.json", lambda: b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),
    "huge-json": ("b64_weights.json", lambda: b'["' + b"A" * (65 * 2**20) + b'"]', "larger than 64 MB"),
    "json-of-the-wrong-kind": ("b64_weights.json", lambda: b'{"weights": [1, 2, 3]}',
                               "neither an inkcore .npz nor the article's b64_weights.json"),
}


def weights_case(kind: str) -> Case:
    name, make, detail = WEIGHTS_FILES[kind]

    def check(tmp_path, monkeypatch):
        path = tmp_path / name
        path.write_bytes(make())
        line = assert_one_line_failure(inkcore("info", "--weights", str(path)), str(path))
        assert detail in line
        monkeypatch.setenv("INKCORE_WEIGHTS", str(path))
        at = page("home").run()
        assert not at.exception
        shows(at, "error", "This weights file cannot be used")
        assert any(str(path) in text and detail in text for text in texts(at, "error"))
        at.switch_page("pages/1_write.py").run()  # every page says it, none runs a broken model
        assert not at.exception
        shows(at, "error", "This weights file cannot be used")
        assert path.read_bytes()[:16] == make()[:16]  # the user's file is left as it was

    return Case(f"weights-{kind}", check, "This weights file cannot be used")


# --- Stroke files -----------------------------------------------------------------

STROKE_FILES = {
    "nan": (b"[[0.1, 0.2, 0], [NaN, 0.1, 0], [0.3, 0.1, 1]]", "NaN or infinite"),
    "strings": (b'[[0.1, 0.2, 0], ["a", "b", "c"]]', "must be numbers"),
    "rows-of-the-wrong-length": (b"[[0.1, 0.2, 0], [0.1, 0.2]]", "rows of three numbers"),
    "a-million-rows": (("[" + ",".join(["[0.1,0.2,0]"] * 1_000_000) + "]").encode(),
                       "more than the 100,000 a line may have"),
    "deeply-nested": (b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),
    "huge": (b"[" + b" " * (33 * 2**20) + b"]", "larger than 32 MB"),
    "not-json": (b"\x89PNG\r\n\x1a\n", "not valid JSON"),
    "one-row": (b"[[0.1, 0.2, 1]]", "a line needs at least two"),
    "pen-not-0-or-1": (b"[[0.1, 0.2, 0.5], [0.1, 0.2, 1]]", "pen column must hold 0 or 1"),
    "a-json-object": (b'{"rows": [[0.1, 0.2, 0], [0.1, 0.2, 1]]}', "holds a JSON object, not a list of"),
    "a-string": (b'"[[0.1, 0.2, 0]]"', "holds a string, not a list of"),
    "one-row-flattened": (b"[0.1, 0.2, 0, 0.3, 0.1, 1]", "holds a list of single values"),
    "an-empty-list": (b"[]", "holds an empty list, no rows"),
}


def stroke_file_case(kind: str) -> Case:
    data, message = STROKE_FILES[kind]

    def check(tmp_path, monkeypatch):
        from dashboard import handwriting
        from inkcore.data import DataError

        path = tmp_path / "strokes.json"
        path.write_bytes(data)
        with pytest.raises(DataError, match=message.replace("(", r"\(")):
            handwriting.stroke_file_rows("strokes.json", data)  # the library page's import
        if kind != "one-row":  # the command line reads one row as it reads any
            out = tmp_path / "cells.npz"
            result = inkcore("cells", "--strokes", str(path), "--out", str(out))
            assert message in assert_one_line_failure(result, str(path))
            assert not out.exists()

    return Case(f"stroke-file-{kind}", check, message)


# --- The environment --------------------------------------------------------------


def write_with_a_drawing() -> AppTest:
    at = page("write").run()
    at.session_state["write_strokes"] = [cursive()]
    return at.run()


def save_drawing(at: AppTest, name: str) -> AppTest:
    at.text_input(key="write_save_name").set_value(name)
    return at.button(key="write_save").click().run()


def drawing_kept(at: AppTest) -> None:
    assert len(at.session_state["write_strokes"]) == 1
    assert pen_data(at)["strokes"] == at.session_state["write_strokes"]
    assert any(trace.get("name") == "continuation 1" for chart in charts(at) for trace in chart["data"])


def no_network(tmp_path, monkeypatch):
    at = page("samples").run()
    at.sidebar.radio(key="model_choice").set_value("The article's model").run()
    at.sidebar.button(key="download_article").click().run()
    assert not at.exception
    shows(at, "error", "could not reach")
    assert not [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]


def download_cut_off(tmp_path, monkeypatch):
    handler = type("CutOffWeights", (CutOff,), {"body": (ARTICLE / "b64_weights.json").read_bytes()})
    server = Server(handler)
    monkeypatch.setenv("INKCORE_ARTICLE_URL", server.url)
    try:
        at = page("samples").run()
        at.sidebar.radio(key="model_choice").set_value("The article's model").run()
        at.sidebar.button(key="download_article").click().run()
    finally:
        server.close()
    assert not at.exception
    shows(at, "error", "cut off after")
    assert not [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]  # no half file


def missing_article_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("INKCORE_ARTICLE_DIR", str(tmp_path / "nowhere"))
    at = page("library").run()
    no_errors(at)
    shows(at, "warning", "is not a folder of the article's files")
    at.switch_page("pages/4_cells.py").run()  # the pages go on with the lines that are there
    no_errors(at)
    assert charts(at)


def changed_article_folder(tmp_path, monkeypatch):
    """A local copy of the article's files with one line and its model changed: used, but said."""
    folder = tmp_path / "article"
    (folder / "validation-data").mkdir(parents=True)
    for name in ("b64_weights.json", "metadata.json"):
        (folder / name).write_bytes((ARTICLE / name).read_bytes())
    for k in range(3):
        (folder / f"validation-data/{k}.json").write_bytes((ARTICLE / f"validation-data/{k}.json").read_bytes())
    line = json.loads((folder / "validation-data/1.json").read_text())
    (folder / "validation-data/1.json").write_text(json.dumps(line[:-5]))
    monkeypatch.setenv("INKCORE_ARTICLE_DIR", str(folder))
    at = page("library").run()
    no_errors(at)
    shows(at, "warning", "differ from the article's repository at commit 65862bc (validation-data/1.json)")
    at.switch_page("pages/4_cells.py").run()
    no_errors(at)
    assert charts(at)  # the changed line is still shown


def missing_iam_copy(tmp_path, monkeypatch):
    monkeypatch.setenv("INKCORE_IAM", str(tmp_path / "no-iam-here"))
    at = page("library").run()
    assert not at.exception
    shows(at, "warning", "Your IAM-OnDB copy could not be read")


def unreadable_data_folder(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("INKCORE_DATA", str(blocker / "inkcore"))
    at = page("library").run()
    assert not at.exception
    shows(at, "error", "cannot create the data folder")
    at = write_with_a_drawing()  # writing goes on without a library
    assert not at.exception
    drawing_kept(at)
    at = save_drawing(at, "kept")
    shows(at, "error", "cannot create the data folder")
    drawing_kept(at)


def locked_database(tmp_path, monkeypatch):
    from inkcore import library

    monkeypatch.setattr(library, "LOCK_TIMEOUT", 0.2)
    store = library.HandwritingStore()
    store.save("earlier", random_rows(np.random.default_rng(0), 30))
    other = sqlite3.connect(store.path, isolation_level=None)  # another program holds the write lock
    other.execute("BEGIN EXCLUSIVE")
    try:
        at = save_drawing(write_with_a_drawing(), "while locked")
        assert not at.exception
        shows(at, "error", "the handwriting database is busy")
        drawing_kept(at)
    finally:
        other.execute("ROLLBACK")
        other.close()
    at = save_drawing(at, "after the lock")  # the same drawing saves once the lock is gone
    shows(at, "success", "Saved as")
    assert [e.name for e in store.entries()] == ["after the lock", "earlier"]


def corrupt_database(tmp_path, monkeypatch):
    folder = tmp_path / "data"
    folder.mkdir()
    garbage = b"this is not a database" * 100
    (folder / "handwriting.sqlite3").write_bytes(garbage)
    at = page("library").run()
    no_errors(at)
    shows(at, "warning", "The handwriting database was damaged; it was moved to")
    moved = [p for p in folder.iterdir() if ".corrupt-" in p.name]
    assert len(moved) == 1 and moved[0].read_bytes() == garbage  # moved aside, never deleted
    at = save_drawing(write_with_a_drawing(), "fresh start")
    shows(at, "success", "Saved as")


def full_disk(tmp_path, monkeypatch):
    """SQLite's own "database or disk is full", made real with a page limit on the file."""
    from inkcore import library

    store = library.HandwritingStore()
    store.save("earlier", random_rows(np.random.default_rng(0), 30))
    connect = library.HandwritingStore._connect

    def cramped(self):
        connection = connect(self)
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
        connection.execute(f"PRAGMA max_page_count = {pages}")
        return connection

    monkeypatch.setattr(library.HandwritingStore, "_connect", cramped)
    at = write_with_a_drawing()
    at.session_state["write_strokes"] = [cursive(40, 60)]  # too long for the free space
    at.run()
    at = save_drawing(at, "no room")
    assert not at.exception
    shows(at, "error", "the disk is full; nothing was saved")
    assert at.session_state["write_strokes"] == [cursive(40, 60)]
    assert [e.name for e in store.entries()] == ["earlier"]  # what was saved before is intact


def no_model_installed(tmp_path, monkeypatch):
    monkeypatch.setenv("INKCORE_WEIGHTS", str(tmp_path / "weights" / "inkcore.npz"))
    at = page("home").run()
    assert not at.exception
    shows(at, "warning", "No model of inkcore's own is installed")
    line = assert_one_line_failure(inkcore("info", weights=tmp_path / "weights" / "inkcore.npz"))
    assert "no model is installed" in line


def markdown_in_a_name(tmp_path, monkeypatch):
    """Names that Markdown would turn into bold, code, links and icons: the library shows them as typed."""
    from inkcore.library import HandwritingStore

    names = ["**bold**", "`code`", "[link](http://x)", ":material/home:", "a" * 75 + " **"]
    store = HandwritingStore()
    for name in names:
        store.save(name, random_rows(np.random.default_rng(2), 30))
    at = page("library").run()
    no_errors(at)
    assert sorted(at.dataframe[0].value["Name"]) == sorted(names)
    assert not any(name in element.value for element in at.markdown for name in names)


def delete_asks_first(tmp_path, monkeypatch):
    """The library's Delete opens a question; only its answer deletes."""
    from inkcore.library import HandwritingStore

    store = HandwritingStore()
    entry = store.save("kept until asked", random_rows(np.random.default_rng(3), 30))
    at = page("library").run()
    shows(at, "markdown", "This cannot be undone")
    assert [e.id for e in store.entries()] == [entry]  # shown and asked, not deleted
    at.button(key=f"delete_{entry}").click().run()
    no_errors(at)
    assert store.entries() == []


def negative_seed(tmp_path, monkeypatch):
    result = inkcore("sample", "--seed", "-1", "--out", str(tmp_path / "x.json"))
    assert "--seed must be a whole number of at least 0" in assert_one_line_failure(result)
    assert not (tmp_path / "x.json").exists()


def deleted_example(tmp_path, monkeypatch):
    """An entry open on a page is deleted (from another tab): the page falls back, no error."""
    from inkcore.library import HandwritingStore

    store = HandwritingStore()
    entry = store.save("soon gone", random_rows(np.random.default_rng(1), 80))
    at = page("cells").run()
    at.session_state["cells_example"] = f"mine:{entry}"
    at.run()
    no_errors(at)
    store.delete(entry)
    at.switch_page("pages/8_surprise.py").run()
    at.switch_page("pages/4_cells.py").run()
    no_errors(at)
    assert at.selectbox(key="cells_example").value != f"mine:{entry}"
    assert charts(at)


def futures_over_budget(tmp_path, monkeypatch):
    """The most futures of the most steps on a long line: the whole-line view draws them at
    every n-th point and says so; the step view draws any one point's futures."""
    at = page("possibilities").run()
    for widget, value in {"futures_count": 100, "futures_steps": 20, "futures_whole": True}.items():
        at.session_state[widget] = value
    at.run()
    no_errors(at)
    shows(at, "info", "they are drawn at every 5th point")  # 700 points x 100 x 20 over 700 x 50 x 8
    at.toggle(key="futures_whole").set_value(False).run()
    at.slider(key="futures_at").set_value(37).run()
    no_errors(at)
    assert at.slider(key="futures_at").value == 37
    hues = {figures.RIGHT_COLOUR, figures.LEFT_COLOUR}
    hairs = [trace for trace in charts(at)[0]["data"] if trace.get("line", {}).get("color") in hues]
    assert sum(np.isfinite(trace_values(trace["x"])).sum() for trace in hairs) == 2 * 100 * 20  # both ends of each


def trace_values(values) -> np.ndarray:
    """A trace's numbers as the chart's JSON carries them: a list, or Plotly's base64 typed array."""
    if isinstance(values, dict):
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"]).astype(float)
    return np.asarray(values, dtype=float)


def article_not_downloaded(tmp_path, monkeypatch):
    """The command line's name for the article's files, before they are here: one line that says what to run."""
    for args in (("info", "--weights", "article"), ("probe", "--examples", "article")):
        assert_one_line_failure(inkcore(*args), "not downloaded yet: run `inkcore download article`")


ENVIRONMENT = [
    Case("futures-over-the-work-budget", futures_over_budget, "they are drawn at every"),
    Case("env-example-deleted-meanwhile", deleted_example),
    Case("env-no-network", no_network, "could not reach"),
    Case("env-article-not-downloaded", article_not_downloaded, "not downloaded yet: run `inkcore download article`"),
    Case("env-download-cut-off", download_cut_off, "cut off after", needs=ARTICLE / "b64_weights.json"),
    Case("env-missing-article-folder", missing_article_folder, "is not a folder of the article's files"),
    Case("env-changed-article-folder", changed_article_folder, "differ from the article's repository at commit",
         needs=ARTICLE / "b64_weights.json"),
    Case("env-missing-iam-copy", missing_iam_copy, "Your IAM-OnDB copy could not be read"),
    Case("env-unreadable-data-folder", unreadable_data_folder, "cannot create the data folder"),
    Case("env-database-locked", locked_database, "the handwriting database is busy"),
    Case("env-database-corrupt", corrupt_database, "The handwriting database was damaged; it was moved to"),
    Case("env-disk-full", full_disk, "the disk is full; nothing was saved"),
    Case("env-no-model-installed", no_model_installed, "No model of inkcore's own is installed"),
    Case("library-markdown-in-a-name", markdown_in_a_name),
    Case("library-delete-asks-first", delete_asks_first, "This cannot be undone"),
    Case("cli-negative-seed", negative_seed, "--seed must be a whole number of at least 0"),
]


# --- Every slider at its extremes, on every page, with every kind of example -------------

LOW, HIGH = "low", "high"
#: Widget values at each end of their range, per page (a step beyond a line's end is clamped).
EXTREMES = {
    "write": {LOW: {"write_length": 5, "write_variation": 0.0, "write_candidates": 1},
              HIGH: {"write_length": 400, "write_variation": 1.5, "write_candidates": 6}},
    "samples": {LOW: {"samples_count": 1, "samples_steps": 50, "samples_variation": 0.0, "samples_seed": 0},
                HIGH: {"samples_count": 12, "samples_steps": 1500, "samples_variation": 1.5,
                       "samples_seed": 10**6}},
    "possibilities": {LOW: {"futures_variation": 0.1, "futures_count": 5, "futures_steps": 2, "futures_at": 0},
                      HIGH: {"futures_variation": 1.2, "futures_count": 100, "futures_steps": 20,
                             "futures_at": 10**6, "futures_whole": True}},
    "cells": {LOW: {"cells_cell": 0, "cells_step": 0}, HIGH: {"cells_cell": 499, "cells_step": 10**6}},
    "ordered": {LOW: {"ordered_perplexity": 5, "ordered_metric": "blur", "ordered_cell": 0, "ordered_step": 0},
                HIGH: {"ordered_perplexity": 150, "ordered_metric": "percentile", "ordered_cell": 499,
                       "ordered_step": 10**6}},
    "watch": {LOW: {"watch_cell": 0, "watch_step": 0}, HIGH: {"watch_cell": 499, "watch_step": 10**6}},
    "probes": {LOW: {"pattern_span": (0, 1)}, HIGH: {"pattern_span": (0, 10**6)}},
    "surprise": {LOW: {"surprise_point": 0, "surprise_method": "Gradient × input"},
                 HIGH: {"surprise_point": 10**6, "surprise_method": "Integrated gradients"}},
    "intervene": {LOW: {"intervene_cells_ours": "0", "intervene_how": "zero", "intervene_count": 1,
                        "intervene_steps": 100, "intervene_variation": 0.0, "intervene_seed": 0, "intervene_more": 20,
                        "intervene_more_seed": 0},
                  HIGH: {"intervene_cells_ours": ", ".join(map(str, range(500))), "intervene_how": "a value",
                         "intervene_value": 20.0, "intervene_count": 6, "intervene_steps": 1000,
                         "intervene_variation": 1.5, "intervene_seed": 10**6, "intervene_more": 600,
                         "intervene_more_seed": 10**6}},
    "two_models": {LOW: {"match_examples": ["sample:1"], "match_cell": 0}, HIGH: {"match_cell": 499}},
    "features": {LOW: {"features_feature": 0, "features_event": "pen lifts here", "features_cell": 0,
                       "features_strength": -3.0},
                 HIGH: {"features_feature": 4095, "features_cell": 499, "features_strength": 3.0}},
}
#: Pages that compare two models: they open with the article's model beside inkcore's.
NEEDS_ARTICLE = {"two_models"}
#: The example picker of each page that opens library examples.
PICKERS = {"possibilities": "futures_example", "cells": "cells_example", "ordered": "ordered_example",
           "probes": "pattern_example", "surprise": "surprise_example", "features": "features_example"}
KINDS = ("sample", "article", "mine", "iam", "pen")


def small_iam_copy(tmp_path: Path) -> Path:
    """A few val and test lines of ../shared's IAM-OnDB, standing in for the user's copy."""
    from inkcore.data import LineSet, load_lines, save_lines

    full = load_lines(IAM_LINES)
    keep = [*full.indices("val")[:2], *full.indices("test")[:1]]
    pieces = [full.line_points(i) for i in keep]
    small = LineSet(
        points=np.concatenate(pieces),
        t_ms=np.concatenate([full.t_ms[full.starts[i]:full.starts[i + 1]] for i in keep]),
        starts=np.concatenate([[0], np.cumsum([len(p) for p in pieces])]), line_ids=full.line_ids[keep],
        texts=full.texts[keep], split=full.split[keep], article_index=full.article_index[keep])
    return save_lines(tmp_path / "iam.npz", small)


def example_key(kind: str, tmp_path: Path, monkeypatch) -> str:
    if kind == "sample":
        return "sample:3"
    if kind == "article":
        monkeypatch.setenv("INKCORE_ARTICLE_DIR", str(ARTICLE))
        return "article:7"
    if kind == "mine":
        from inkcore.library import HandwritingStore

        rows = random_rows(np.random.default_rng(5), 120, lift_every=9)
        return f"mine:{HandwritingStore().save('saved line', rows)}"
    if kind == "iam":
        from inkcore.data import load_lines

        path = small_iam_copy(tmp_path)
        monkeypatch.setenv("INKCORE_IAM", str(path))
        lines = load_lines(path)
        return f"iam:{lines.line_ids[lines.split == 'test'][0]}"
    raise ValueError(kind)


def extremes_case(page_name: str, end: str, kind: str | None) -> Case:
    def check(tmp_path, monkeypatch):
        # the example exists before the first run, as the dropdown's labels come from that run
        chosen = example_key(kind, tmp_path, monkeypatch) if kind not in (None, "pen") else None
        if page_name in NEEDS_ARTICLE:
            monkeypatch.setenv("INKCORE_ARTICLE_DIR", str(ARTICLE))
        at = page(page_name).run()
        if kind == "pen" and page_name in PICKERS:
            key = PEN_PAGES[page_name]
            at.session_state[f"{key}_source"] = "Your own writing"
            at.run()
        if kind == "pen" or page_name in ("write", "watch"):
            key = PEN_PAGES[page_name]
            at.session_state[f"{key}_strokes"] = two_words()
        elif chosen is not None:
            at.session_state[PICKERS[page_name]] = chosen
        at.run()
        for widget, value in EXTREMES[page_name][end].items():
            at.session_state[widget] = value
        at.run()
        no_errors(at)
        assert not at.warning, texts(at, "warning")
        assert charts(at)
        at.run()  # and again, as after any rerun: still fine
        no_errors(at)

    suffix = f"-{kind}" if kind else ""
    needs = {"article": ARTICLE / "validation-data", "iam": IAM_LINES}.get(kind or "")
    if page_name in NEEDS_ARTICLE:
        needs = ARTICLE
    return Case(f"extremes-{page_name}-{end}{suffix}", check, needs=needs)


def ends_for(kind: str | None) -> tuple[str, ...]:
    """The ends a page's sliders are tried at with each kind of example. The page's
    default (a model sample) meets both; every other kind meets one, so that short
    lines (saved writing, the pen's) and long ones (the article's, IAM-OnDB's) each
    meet both ends. Which line a page opens and where its sliders sit are independent
    choices: every kind at both ends checked nothing more, and took a quarter of the suite."""
    if kind in (None, "sample"):
        return LOW, HIGH
    return (HIGH,) if kind in ("mine", "iam") else (LOW,)


def extremes_cases() -> list[Case]:
    cases = []
    for page_name in EXTREMES:
        if page_name in PICKERS:
            kinds = [k for k in KINDS if k != "pen" or page_name in PEN_PAGES]
        else:
            kinds = [None]
        for kind in kinds:
            for end in ends_for(kind):
                cases.append(extremes_case(page_name, end, kind))
    return cases


CASES = [
    *(pen_case(page_name, drawing) for page_name in PEN_PAGES for drawing in DRAWINGS),
    *(weights_case(kind) for kind in WEIGHTS_FILES),
    *(stroke_file_case(kind) for kind in STROKE_FILES),
    *ENVIRONMENT,
    *extremes_cases(),
]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_bad_input(case, tmp_path, monkeypatch):
    if case.needs is not None and not case.needs.exists():
        pytest.skip(f"{case.needs} is absent: ../shared holds the data this case needs")
    case.check(tmp_path, monkeypatch)


def test_the_troubleshooting_page_lists_every_message():
    text = TROUBLESHOOTING.read_text(encoding="utf-8")
    missing = sorted({case.message for case in CASES if case.message and case.message not in text})
    assert not missing, f"docs/troubleshooting.md does not list: {missing}"


def test_the_table_covers_every_page():
    pages = {path.stem.split("_", 1)[1] for path in (ROOT / "pages").glob("*.py")} - {"library"}
    assert pages <= set(EXTREMES)
    assert len({case.id for case in CASES}) == len(CASES)
