import os

import streamlit as st

from dashboard import article, frame, handwriting, library
from inkcore import downloads
from inkcore.library import StoreError, read_settings, write_setting

frame.page_setup("Example library")
st.caption("Every page can open these lines: your saved handwriting, the article's validation lines, "
           "and the validation and test lines of your own IAM-OnDB copy.")

st.subheader("Your handwriting")
handwriting.scope_controls()
if "library_error" in st.session_state:
    st.error(st.session_state.pop("library_error"))
store = handwriting.store_or_message()
handwriting.import_controls(store)
entries = handwriting.saved_entries(store)
if not entries:
    st.info("Nothing saved yet. Write on any page that takes handwriting and use “Save to the library”.")
else:
    handwriting.entry_table(entries)
    handwriting.entry_view(store, handwriting.entry_picker(entries))

st.subheader("The article's validation lines")
if problem := article.article_dir_problem():
    st.warning(problem)
folder = downloads.article_validation()
if folder is None:
    st.write("200 held-out IAM-OnDB lines, as the article used them, downloaded from its public repository.")
    article.validation_download_controls()
else:
    st.caption(f"Read from {handwriting.as_typed(str(folder))}.")
    library.article_browser(folder)

st.subheader("Your IAM-OnDB copy")
st.write("IAM-OnDB is free for non-commercial research from its owners. Point inkcore at your copy "
         f"(a `lineStrokes` folder, `lineStrokes-all.tar.gz`, or a line set `.npz`), or set `{library.IAM_ENV}`.")
saved = read_settings().get("iam_source", "")
if saved and not os.environ.get(library.IAM_ENV):
    st.caption(f"Using `{saved}`, kept in your settings.")
source = st.text_input("Path", key="iam_source_input", placeholder="/data/iam-ondb/lineStrokes-all.tar.gz")
use, forget = st.columns([1, 5])
if use.button("Use this copy", key="iam_use", disabled=not source.strip()):
    st.session_state.iam_source = source.strip()
    try:  # remembered across restarts; for this session even if it cannot be saved
        write_setting("iam_source", source.strip())
    except StoreError as error:
        st.warning(f"Used for this session only: {error}")
if saved and forget.button("Forget this copy", key="iam_forget"):
    st.session_state.pop("iam_source", None)
    try:
        write_setting("iam_source", None)
    except StoreError as error:
        st.warning(str(error))
    st.rerun()
count = len(library.iam_lines())
if count:
    st.success(f"{count:,} validation and test lines are in the library.")
