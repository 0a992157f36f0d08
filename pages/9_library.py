import streamlit as st

from dashboard import adapting, article, frame, handwriting, library, models
from inkcore import downloads

frame.page_setup("Example library")
st.caption("Every page can open these lines: your saved handwriting, the article's validation lines, "
           "and the validation and test lines of your own IAM-OnDB copy.")

st.subheader("Your handwriting")
handwriting.scope_controls()
handwriting.last_error()
store = handwriting.store_or_message()
handwriting.import_controls(store)
entries = handwriting.saved_entries(store)
if not entries:
    st.info("Nothing saved yet. Write on any page that takes handwriting and use “Save to the library”.")
else:
    handwriting.entry_table(entries)
    handwriting.entry_view(store, handwriting.entry_picker(entries))

st.subheader("Learn my handwriting")
st.caption("The model learns your hand from a few of your saved lines: a copy of it is fitted to them "
           "(every weight, in small steps), and kept for you alone. It then writes in your "
           "hand on The model writes, and every page can study it.")
loaded = models.current_model()
if loaded is not None:
    adapting.learn_controls(loaded)
adapting.models_table(adapting.models_store())

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
library.iam_controls()
