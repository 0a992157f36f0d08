"""The dashboard's side of inkcore: the only code that knows both Streamlit and
inkcore. Pages import these modules and render what they return:

- ``frame``: every page's frame (title, sidebar links, model picker) and the
  widget choices that outlive a page switch;
- ``models``: the model chosen in the sidebar (inkcore's, the article's, uploaded);
- ``article``: the article's files on this computer, and fetching them;
- ``cached``: every ``st.cache_*`` wrapper, each with a bound;
- ``sampled``: sample lines and possibility spaces shared by every session;
- ``library``: the example library and pattern search across it;
- ``handwriting``: the user's saved handwriting;
- ``pen``: the pen surface that pages take writing on (``pen.js`` in the page);
- ``controls``: a line to study, and the clicks on heatmaps, rulers and bars;
- ``cell_view``: the cell pages' view (cell, step, line, heatmap), each part a fragment;
- ``heatmap``, ``widgets``: the heatmap of every cell, on a canvas; the step ruler and row
  marker beside it;
- ``background``: slow results shown when ready (the previous one meanwhile, marked
  Updating), and results computed ahead of the controls;
- ``cell_names``: a cell's name by its row in the order last shown;
- ``defaults``: the controls' ranges and defaults that several modules read, without
  Streamlit (the app's benchmark imports them);
- ``write``, ``samples``, ``possibilities``, ``ordered``, ``probes``, ``intervene``,
  ``matching``: one page's controls, state and policy each (Write with the model, The
  model writes, Possibility space, Ordered cells, Cell probes, Intervene, Two models),
  with the session keys they own.
"""
