"""The user's saved handwriting (SQLite, in ``INKCORE_DATA``): saving a drawing,
importing stroke files, looking at, downloading, renaming and deleting entries,
each failure shown where it happened.

Names are shown as typed: in widgets that do not read Markdown (a table, a
dropdown), and in messages as code spans (:func:`as_typed`), so ``**bold**``,
links and ``:material/home:`` stay text."""
from __future__ import annotations

import datetime
import json
import os
import re
import secrets
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import cached
from inkcore import figures, render
from inkcore.data import DataError, parse_stroke_json, rows_from_json
from inkcore.library import HandwritingStore, SavedEntry, StoreError, data_folder


def as_typed(text: str) -> str:
    """``text`` as a Markdown code span: Streamlit shows it character for character.
    The fence is one backtick longer than any run of backticks in the text."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    return f"{fence} {text} {fence}"


def named_message(name: str, message: str) -> str:
    """A message that begins with a file's name, with the name shown as typed."""
    reason = message.removeprefix(f"{name}: ")
    return f"{as_typed(name)}: {reason}" if reason != message else message


def points(n: int) -> str:
    return "one point" if n == 1 else f"{n:,} points"


#: ``session`` keeps each visitor's handwriting to their own browser session on a
#: server without sign-in; unset, everyone who can open the server shares one library.
LIBRARY_ENV = "INKCORE_LIBRARY"
#: This session's own library (its owner's token, without sign-in); why the library cannot be
#: opened; what the last rename or delete failed with, for the next run to show.
SESSION_TOKEN, STORE_ERROR, LIBRARY_ERROR = "_library_session", "store_error", "library_error"
#: The stroke files imported, by upload, with what came of each; the entry shown.
IMPORTED, ENTRY = "library_imported", "library_entry"


def sign_in_configured() -> bool:
    """Whether the server has Streamlit's authentication (``[auth]`` in its secrets)."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all: Streamlit raises rather than answer
        return False


def owner() -> tuple[str, str]:
    """Whose entries this session sees, and a sentence saying so (Markdown, names as typed)."""
    if sign_in_configured() and st.user.is_logged_in:
        who = str(st.user.get("email") or st.user.get("sub") or "")
        return f"user:{who}", f"Your own library: signed in as {as_typed(who)}, only you see what you save."
    if sign_in_configured() or os.environ.get(LIBRARY_ENV) == "session":
        token = st.session_state.setdefault(SESSION_TOKEN, secrets.token_hex(16))
        why = "Log in to keep a library of your own. " if sign_in_configured() else ""
        return f"session:{token}", (why + "What you save here is this browser session's alone: no other visitor "
                                    "sees it, and it is out of reach once the session ends.")
    return "", ("This library is **shared by everyone who can open this server**: they see, rename and delete "
                f"what you save. To keep each visitor's writing to their own session, start the server with "
                f"`{LIBRARY_ENV}=session`, or configure sign-in (`st.login`) for a library per user.")


def store() -> HandwritingStore | None:
    """This session's view of the handwriting library (:func:`owner`), or None with the
    reason under :data:`STORE_ERROR`."""
    try:
        return cached.store(str(data_folder())).for_owner(owner()[0])
    except StoreError as error:
        st.session_state[STORE_ERROR] = str(error)
        return None


def scope_controls() -> None:
    """Whose library this is, and the sign-in or sign-out button when the server has sign-in."""
    st.caption(owner()[1])
    if sign_in_configured():
        if st.user.is_logged_in:
            st.button("Log out", key="library_logout", on_click=st.logout)
        else:
            st.button("Log in", key="library_login", on_click=st.login)


def store_or_message() -> HandwritingStore | None:
    handwriting = store()
    if handwriting is None:
        st.error(st.session_state.get(STORE_ERROR, "The handwriting database cannot be opened."))
    elif handwriting.notice:
        st.warning(handwriting.notice)
    return handwriting


def save_controls(rows: np.ndarray, key: str) -> None:
    """Name and save handwriting into the library."""
    with st.popover("Save to the library", disabled=len(rows) == 0):
        name = st.text_input("Name", key=f"{key}_save_name", placeholder="e.g. my signature")
        if st.button("Save", key=f"{key}_save"):
            handwriting = store_or_message()
            if handwriting is not None:
                try:
                    handwriting.save(name, rows)
                    st.success(f"Saved as {as_typed(' '.join(name.split()))}.")
                except (StoreError, ValueError) as error:
                    st.error(str(error))


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
        held = "no points" if len(rows) == 0 else "only one point"
        raise DataError(f"{name}: holds {held}; a line needs at least two")
    return rows


def import_controls(handwriting: HandwritingStore | None) -> None:
    """Upload stroke files into the library; each file is imported once."""
    uploads = st.file_uploader("Import stroke files (.json)", type=["json"], accept_multiple_files=True,
                               key="library_import", disabled=handwriting is None,
                               help="JSON lists of [dx, dy, pen] rows in model units, as the samples page "
                                    "and `python -m inkcore sample --out F.json` write them.")
    done = st.session_state.setdefault(IMPORTED, {})
    for upload in uploads or ():
        if upload.file_id not in done:
            try:
                rows = stroke_file_rows(upload.name, upload.getvalue())
                handwriting.save(Path(upload.name).stem, rows)
                done[upload.file_id] = (True, f"Imported {as_typed(upload.name)}: {points(len(rows))}.")
            except (DataError, StoreError) as error:
                done[upload.file_id] = (False, named_message(upload.name, str(error)))
        ok, message = done[upload.file_id]
        (st.success if ok else st.error)(message)


def saved_on(entry: SavedEntry) -> str:
    return datetime.datetime.fromtimestamp(entry.created).strftime("%Y-%m-%d %H:%M")


def entry_table(entries: list[SavedEntry]) -> None:
    """Every saved entry in a table, which shows names as text."""
    table = pd.DataFrame({"Name": [e.name for e in entries], "Points": [e.points for e in entries],
                          "Saved": [saved_on(e) for e in entries]})
    st.dataframe(table, hide_index=True, width="stretch")


def entry_picker(entries: list[SavedEntry]) -> SavedEntry:
    by_id = {entry.id: entry for entry in entries}
    if st.session_state.get(ENTRY) not in by_id:  # e.g. just deleted
        st.session_state.pop(ENTRY, None)
    chosen = st.selectbox("Entry", list(by_id), key=ENTRY,
                          format_func=lambda i: f"{by_id[i].name} · {points(by_id[i].points)} · {saved_on(by_id[i])}")
    return by_id[chosen]


def file_stem(name: str) -> str:
    """A file name from an entry's name: letters, digits, dots and dashes."""
    return re.sub(r"[^\w.-]+", "-", name).strip("-.")[:60] or "handwriting"


def entry_view(handwriting: HandwritingStore, entry: SavedEntry) -> None:
    """One entry drawn, its downloads (JSON rows, SVG), renaming and deleting, which asks first."""
    try:
        rows = handwriting.load(entry.id).rows
    except StoreError as error:
        st.error(str(error))
        return
    st.plotly_chart(figures.handwriting_figure(rows), key="library_preview")
    stem = file_stem(entry.name)
    data, svg, rename, delete = st.columns(4)
    data.download_button("JSON rows", partial(json.dumps, np.round(rows, 5).tolist()), f"{stem}.json",
                         "application/json", key="library_json")
    svg.download_button("SVG", partial(render.to_svg, [rows]), f"{stem}.svg", "image/svg+xml", key="library_svg")
    with rename.popover("Rename"):
        new_name = st.text_input("New name", entry.name, key=f"rename_text_{entry.id}")
        if st.button("Rename", key=f"rename_{entry.id}"):
            rename_entry(handwriting, entry.id, new_name)
            st.rerun()
    with delete.popover("Delete"):
        st.write("Delete this entry from the library? This cannot be undone.")
        if st.button("Delete it", key=f"delete_{entry.id}", type="primary"):
            delete_entry(handwriting, entry.id)
            st.rerun()


def rename_entry(handwriting: HandwritingStore, entry_id: int, name: str) -> None:
    try:
        handwriting.rename(entry_id, name)
    except StoreError as error:
        st.session_state[LIBRARY_ERROR] = str(error)


def delete_entry(handwriting: HandwritingStore, entry_id: int) -> None:
    try:
        handwriting.delete(entry_id)
    except StoreError as error:
        st.session_state[LIBRARY_ERROR] = str(error)


def last_error() -> None:
    """What the last rename or delete failed with, shown once (it reran the page)."""
    if LIBRARY_ERROR in st.session_state:
        st.error(st.session_state.pop(LIBRARY_ERROR))
