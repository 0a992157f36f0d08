"""The view the cell pages share (Cell activations, Ordered cells, Write and watch):
a cell and a step, picked with widgets or by clicks on the heatmap and the step ruler,
the line coloured by the cell, and the heatmap of every cell.

Each part reruns alone (``st.fragment``): a new cell redraws the heatmap's mark and the
line's colours; a new step redraws only the line's marker and the ruler, never the
heatmap of every cell, which is the page's heaviest figure. The rest of the page (its
example picker, the recording) is not run again for either. And the t-SNE orders of
Ordered cells, computed in the background and ahead of the Perplexity slider."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import streamlit as st

from dashboard import background, cached, controls, heatmap, widgets
from dashboard.cached import Job
from dashboard.frame import remembered
from dashboard.models import LoadedModel
from inkcore import cell_figures, cells


@dataclass(frozen=True)
class CellView:
    prefix: str  # the widgets' keys: {prefix}_cell, {prefix}_step, {prefix}_heatmap, {prefix}_ruler
    rows: np.ndarray  # (T, 3) the line
    c: np.ndarray  # (T, cells) its cell states
    default_cell: int
    name: Callable[[int], str]  # the colour bar's title for a cell
    about: Callable[[int], None] = lambda cell: None  # what the page says (or asks) about the chosen cell
    order: np.ndarray | None = None  # the heatmap's rows, and a sign per cell
    flip: np.ndarray | None = None
    label: str = "Cell"
    follow_end: bool = False  # a step at the line's end follows it as the line grows (the pen's position)
    state: bool = False  # the grid of every cell's state at the step, under the line (Write and watch)
    heatmap_height: int = 520
    explain: Callable[[int], None] | None = None  # what the page shows about a step, under the ruler

    @property
    def last(self) -> int:
        return len(self.c) - 1

    def signed(self, cell: int) -> np.ndarray:
        return self.c[:, cell] * (1 if self.flip is None else self.flip[cell])


#: The strip beside the heatmap that marks the chosen cell's row, in columns of this ratio.
MARKER_COLUMNS = (1, 40)


def cell_view(view: CellView) -> None:
    """The cell's widgets and the step's part, then the heatmap with the chosen cell's row
    marked beside it. The heatmap is drawn by the page: a click on it sets the cell and the
    step and reruns the view (:func:`_picked`), which redraws the mark, not the heatmap."""
    p = view.prefix
    top = st.container()
    mark, heat = st.columns(MARKER_COLUMNS, gap="small")
    with heat:
        heatmap.cell_heatmap(f"{p}_heatmap", view.c, view.order, view.flip, view.heatmap_height,
                             on_click=lambda: _clicked(p))
    with top:  # called here, the view's own elements are drawn in place on each of its reruns
        st.fragment(_picked, key=f"{p}_view")(view, mark)


def _clicked(prefix: str) -> None:
    controls.heatmap_click(f"{prefix}_heatmap", controls.cell_widget(prefix), controls.step_widget(prefix))
    st.rerun(f"{prefix}_view")


def _picked(view: CellView, mark) -> None:
    """The cell's widgets and what it colours (a fragment); its row marked in ``mark``."""
    p = view.prefix
    controls.heatmap_click(f"{p}_heatmap", controls.cell_widget(p), controls.step_widget(p))  # taken once: _clicked
    cell = int(st.columns(2)[0].number_input(view.label, 0, view.c.shape[1] - 1,
                                              key=remembered(controls.cell_widget(p), view.default_cell)))
    view.about(cell)
    step_view(view, cell)
    row = cell if view.order is None else int(np.flatnonzero(view.order == cell)[0])
    mark.plotly_chart(widgets.row_marker(view.c.shape[1], row, view.heatmap_height, view.name(cell)),
                      key=f"{p}_row_marker", config={"displayModeBar": False})


@st.fragment
def step_view(view: CellView, cell: int) -> None:
    """The step slider, the line coloured by ``cell`` with the step marked, and the ruler."""
    p = view.prefix
    controls.ruler_click(f"{p}_ruler", controls.step_widget(p))
    controls.clamp_state(controls.step_widget(p), view.last, default=view.last if view.follow_end else 0,
                         follow_end=view.follow_end)
    step = min(st.slider("Step", 0, max(view.last, 1), key=controls.step_widget(p), disabled=view.last == 0),
               view.last)
    st.plotly_chart(cell_figures.coloured_path_figure(view.rows, view.signed(cell), cell_figures.CELL_SCALE, view.name(cell),
                                                 midpoint=0.0, marker_at=step), key=f"{p}_stroke")
    if view.state:
        st.plotly_chart(cell_figures.state_figure(view.c, step), key=f"{p}_state")
    ruler = st.columns(MARKER_COLUMNS, gap="small")[1]  # lined up with the heatmap's steps
    ruler.plotly_chart(widgets.step_ruler(len(view.c), step), key=f"{p}_ruler", on_select="rerun",
                       selection_mode="points", config={"displayModeBar": False})
    if view.explain is not None:
        view.explain(step)


#: Perplexities computed ahead of the slider on Ordered cells: its step, and how many notches ahead.
PERPLEXITY_STEP, PERPLEXITIES_AHEAD = 5, 2
#: The order this session showed last (its key in the order cache), and the perplexity it was
#: shown at, from which the slider's next move is guessed.
ORDER_SHOWN, PERPLEXITY_SEEN = "_ordered_shown", "_ordered_perplexity_seen"


def order_key(loaded: LoadedModel, learned_from: tuple[str, ...], metric: str, perplexity: float) -> tuple:
    return loaded.key, learned_from, metric, float(perplexity)


def cell_order(loaded: LoadedModel, learned_from: tuple[str, ...], sources: tuple[np.ndarray, ...], metric: str,
               perplexity: float, perplexities: range) -> tuple[cells.CellOrder, Job | None]:
    """The t-SNE order of the cells learned from ``sources`` (the recordings of the
    examples ``learned_from``), or the one this session showed last and the job computing
    it (:func:`dashboard.background.newest`). When it is ready, the neighbouring notches of
    the Perplexity slider (within ``perplexities``) are ordered ahead: both ways on a first
    visit, then further the way the slider last moved."""
    def work(perplexity: float) -> Callable:
        return lambda report: cells.order_cells(list(sources), metric=metric, perplexity=perplexity)

    order, job = background.newest(cached.order_cache(), order_key(loaded, learned_from, metric, perplexity),
                                   work(perplexity), ORDER_SHOWN, "Ordering the cells with t-SNE…", slow=True)
    if job is None and st.session_state.get(PERPLEXITY_SEEN) != perplexity:
        ways = background.slider_moves(PERPLEXITY_SEEN, perplexity)
        ahead = background.notches(perplexity, ways, perplexities.step, perplexities.start, perplexities[-1],
                                   PERPLEXITIES_AHEAD)
        background.compute_ahead(cached.order_cache(), [  # once this run's order is drawn
            (order_key(loaded, learned_from, metric, p), background.later(work(p))) for p in ahead])
    return order, job
