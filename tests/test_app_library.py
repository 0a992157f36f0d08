"""The example library page under AppTest: saved names shown as typed, an entry looked
at, downloaded, renamed and deleted (after asking), stroke files that are not lines
refused in plain words, and the article's validation lines browsed one by one."""
from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import random_rows
from dashboard import handwriting
from inkcore.data import DataError
from inkcore.library import DATABASE_NAME, HandwritingStore
from test_app import charts, isolated, no_errors, page, with_article  # noqa: F401
from test_app_pages import made_files  # noqa: F401

MARKDOWN_NAMES = ["**bold** and _slanted_", "`code` and [a link](http://example.com)", ":material/home: :smile:",
                  "x" * 70 + " **end**"]


@pytest.fixture
def store(monkeypatch, tmp_path):
    folder = tmp_path / "library"
    folder.mkdir()
    monkeypatch.setenv("INKCORE_DATA", str(folder))
    return HandwritingStore(folder / DATABASE_NAME)


def shown_names(at) -> list[str]:
    return list(at.dataframe[0].value["Name"])


def test_names_are_shown_as_typed_never_as_markdown(store, rng):
    for name in MARKDOWN_NAMES:
        store.save(name, random_rows(rng, 30))
    at = page("library").run()
    no_errors(at)
    assert sorted(shown_names(at)) == sorted(MARKDOWN_NAMES)
    picker = at.selectbox(key="library_entry")
    assert all(any(name in option for option in picker.options) for name in MARKDOWN_NAMES)
    # no Markdown element carries a name: Markdown would render it
    text = " ".join(e.value for kind in (at.markdown, at.caption, at.info, at.success) for e in kind)
    assert not any(name in text for name in MARKDOWN_NAMES)


@pytest.mark.parametrize("text", ["**bold**", "a `tick` and ``two``", ":material/home:", "plain"])
def test_a_name_as_typed_is_one_code_span_that_holds_the_text(text):
    span = handwriting.as_typed(text)
    fence = span[: len(span) - len(span.lstrip("`"))]
    assert span == f"{fence} {text} {fence}"
    assert fence not in text  # no run of backticks in the text can close the span early


def test_an_entry_is_previewed_downloaded_renamed_and_deleted_after_asking(store, rng, made_files):
    kept = store.save("kept line", random_rows(rng, 30))
    rows = random_rows(rng, 40)
    entry = store.save("first **try**", rows)
    at = page("library").run()
    no_errors(at)
    at.selectbox(key="library_entry").select(entry).run()
    no_errors(at)
    preview = charts(at)[0]
    ink = [(x, y) for t in preview["data"] for x, y in zip(t["x"], t["y"]) if x is not None]
    assert len(ink) == len(rows) + 1  # the start point and one per row
    mime, make = made_files["first-try.json"]
    assert mime == "application/json"
    np.testing.assert_allclose(json.loads(make()), rows, atol=1e-5)
    mime, make = made_files["first-try.svg"]
    assert mime == "image/svg+xml" and make().lstrip().startswith("<svg")

    at.text_input(key=f"rename_text_{entry}").input("my `signature`").run()
    at.button(key=f"rename_{entry}").click().run()
    no_errors(at)
    assert sorted(shown_names(at)) == ["kept line", "my `signature`"]
    assert {e.name for e in store.entries()} == {"my `signature`", "kept line"}

    # the delete button sits in a popover that says what it does: nothing is deleted until it is clicked
    assert any("cannot be undone" in m.value for m in at.markdown)
    assert len(store.entries()) == 2
    at.button(key=f"delete_{entry}").click().run()
    no_errors(at)
    assert shown_names(at) == ["kept line"]
    assert [e.id for e in store.entries()] == [kept]


@pytest.mark.parametrize("content, words", [
    (b'{"rows": [[1, 2, 0]]}', "a JSON object, not a list of [dx, dy, pen] rows"),
    (b'"12"', "a string, not a list"),
    (b"[1, 2, 0]", "a list of single values"),
    (b"[]", "an empty list"),
    (b"[[0.5, 1, 1]]", "only one point; a line needs at least two"),
    (b'[[1, "2", 0], [1, 2, 0]]', "offsets must be numbers"),
])
def test_a_stroke_file_that_is_not_a_line_is_refused_in_plain_words(content, words):
    with pytest.raises(DataError) as caught:
        handwriting.stroke_file_rows("mine.json", content)
    message = str(caught.value)
    assert words in message and message.startswith("mine.json: ")
    assert " rows;" not in message and "1 rows" not in message


def test_a_message_about_a_file_shows_its_name_as_typed():
    assert handwriting.named_message("**a**.json", "**a**.json: holds no points") == "` **a**.json `: holds no points"
    assert handwriting.named_message("a.json", "no such thing") == "no such thing"


def test_the_articles_validation_lines_can_be_browsed(with_article):
    at = page("library").run()
    no_errors(at)
    picker = at.selectbox(key="library_article_line")
    assert len(picker.options) == 200
    first = charts(at)[-1]["data"]
    picker.select(7).run()
    no_errors(at)
    assert charts(at)[-1]["data"] != first
    assert any("points" in c.value for c in at.caption)


# --- Whose library --------------------------------------------------------------------


def save_from_the_write_page(name: str):
    from test_app import cursive

    at = page("write").run()
    at.session_state["write_strokes"] = [cursive()]
    at.run()
    at.text_input(key="write_save_name").input(name).run()
    at.button(key="write_save").click().run()
    no_errors(at)
    return at


def names_in_library(at) -> list[str]:
    at.switch_page("pages/9_library.py").run()
    no_errors(at)
    return list(at.dataframe[0].value["Name"]) if len(at.dataframe) else []


def test_without_sign_in_the_library_says_it_is_shared_and_it_is(store):
    first = save_from_the_write_page("first visitor's")
    second = page("library").run()
    no_errors(second)
    assert any("shared by everyone who can open this server" in c.value for c in second.caption)
    assert names_in_library(second) == ["first visitor's"]
    assert names_in_library(first) == ["first visitor's"]


def test_the_session_setting_keeps_each_visitors_writing_to_their_session(store, monkeypatch):
    monkeypatch.setenv(handwriting.LIBRARY_ENV, "session")
    first = save_from_the_write_page("first visitor's")
    second = save_from_the_write_page("second visitor's")
    assert names_in_library(first) == ["first visitor's"]
    assert names_in_library(second) == ["second visitor's"]
    assert any("this browser session's alone" in c.value for c in second.caption)
    assert sorted(e.name for e in store.entries()) == []  # none of it is everyone's
    # the other pages' pickers offer a visitor only their own writing too
    second.switch_page("pages/4_cells.py").run()
    labels = second.selectbox(key="cells_example").options
    assert any("second visitor's" in label for label in labels)
    assert not any("first visitor's" in label for label in labels)


class SignedIn(dict):
    """Stands in for ``st.user`` on a server with sign-in configured."""

    is_logged_in = True


def test_with_sign_in_each_user_has_a_library_of_their_own(store, monkeypatch):
    import streamlit

    monkeypatch.setattr(handwriting, "sign_in_configured", lambda: True)
    monkeypatch.setattr(streamlit, "user", SignedIn(email="alice@example.com"))
    alice = save_from_the_write_page("alice's **line**")
    assert names_in_library(alice) == ["alice's **line**"]
    assert any("signed in as ` alice@example.com `" in c.value for c in alice.caption)
    assert alice.button(key="library_logout")
    monkeypatch.setattr(streamlit, "user", SignedIn(email="bob@example.com"))
    bob = page("library").run()
    no_errors(bob)
    assert names_in_library(bob) == []
    assert store.entries() == [] and [e.name for e in store.for_owner("user:alice@example.com").entries()] == [
        "alice's **line**"]
