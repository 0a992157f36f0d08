"""The user's saved handwriting (SQLite, in ``INKCORE_DATA``): saving a drawing,
importing stroke files, renaming and deleting entries, each failure shown
where it happened."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st

from dashboard import cached
from inkcore.data import DataError, parse_stroke_json, rows_from_json
from inkcore.library import HandwritingStore, StoreError, data_folder


def store() -> HandwritingStore | None:
    """The handwriting library, or None with the reason in ``store_error``."""
    try:
        return cached.store(str(data_folder()))
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
