"""The cell heatmap of the cell pages: every cell's state over a line, drawn on a
canvas in the page by a component of inkcore's own (``heatmap.js``, inline, no build
step). Hovering names the row, the cell and its c; a click reports the cell and the
step, which :func:`clicked` reads.

The line goes to the page as 8-bit levels (:func:`heatmap_levels`), once a session,
and is decoded once; an order of its cells is only which cell each row shows, so a new
order is drawn without the line being sent again, and a rerun that sends the same
picture draws nothing."""
from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import streamlit as st

from dashboard import frame
from inkcore import cell_figures

_CSS = """
.inkcore-heatmap { position: relative; width: 100%; }
.inkcore-heatmap canvas { display: block; }
.inkcore-heatmap .tip { position: absolute; display: none; pointer-events: none; padding: 4px 7px;
  font: 12px/1.35 var(--st-font, sans-serif); color: #fff; background: rgba(29, 35, 48, 0.88);
  border-radius: 4px; white-space: nowrap; }
"""
_HEATMAP = st.components.v2.component("inkcore_heatmap", css=_CSS,
                                      js=Path(__file__).with_name("heatmap.js").read_text())


#: Colour levels either side of zero in the heatmap.
HEAT_LEVELS = 127
#: The heatmap and the step ruler under it (:func:`dashboard.widgets.step_ruler`) share
#: these margins, so their steps line up; the heatmap's colour bar sits in the right margin.
HEATMAP_MARGIN = dict(l=64, r=80, t=6, b=52)


@dataclass(frozen=True)
class HeatmapLevels:
    """A cell heatmap's data, as the canvas (``heatmap.js``) draws it."""

    levels: np.ndarray  # (rows, T) int8 in -HEAT_LEVELS..HEAT_LEVELS: row r is cell cells[r], signed
    cells: np.ndarray  # (rows,) the cell drawn in each row
    limit: float  # the c of the top level: the 99th percentile of |c| over the line
    axis: str  # "cell" when rows are cells in their own order, "row" when in another order


def heatmap_levels(c: np.ndarray, order: np.ndarray | None = None, flip: np.ndarray | None = None) -> HeatmapLevels:
    """Cell states over time (T, cells) as a heatmap: one row per cell (in ``order``, each
    multiplied by its ``flip``), one column per step, in 8-bit levels of ``limit``: the
    colour scale has far fewer distinguishable steps than 255, and its bar is labelled in c."""
    steps, cells = c.shape
    axis = "cell" if order is None else "row"
    order = np.arange(cells) if order is None else np.asarray(order)
    values = c[:, order].T  # (cells, T) rows in display order
    if flip is not None:
        values = values * np.asarray(flip)[order, None]
    limit = float(np.percentile(np.abs(values), 99)) if values.size else 1.0
    limit = limit if limit > 0 and np.isfinite(limit) else 1.0
    levels = np.clip(np.rint(np.nan_to_num(values) / limit * HEAT_LEVELS), -HEAT_LEVELS, HEAT_LEVELS).astype(np.int8)
    return HeatmapLevels(levels, order.astype(np.int64), limit, axis)


#: The lines of c whose levels this session sent to its pages, and the line a page asked for
#: again (its copy was dropped): a line's levels are sent once, then only which rows show it.
LINES_SENT, NEED_LINE = "_heatmap_lines_sent", "_heatmap_need_line"


def heatmap_data(c: np.ndarray, order: np.ndarray | None, flip: np.ndarray | None, height: int,
                 unit: str = "cell") -> dict:
    """What the page's canvas draws: the line's levels in base64, a row per cell in its own
    order, and which cell each row of the picture shows, with its sign (``cells``,
    ``signs``: an order and its flips only move or negate rows). ``line`` names the levels,
    by which the page keeps a line it has, and ``id`` the picture, by which it knows one it
    has drawn."""
    heat = heatmap_levels(c)
    cells = np.arange(c.shape[1]) if order is None else np.asarray(order, np.int64)
    signs = np.ones(len(cells), np.int8) if flip is None else np.asarray(flip, np.int8)[cells]
    levels = np.ascontiguousarray(heat.levels).tobytes()
    line = hashlib.sha1(levels + f"{heat.levels.shape}/{heat.limit!r}".encode()).hexdigest()[:16]
    picture = hashlib.sha1(f"{line}/{height}/{unit}".encode() + cells.tobytes() + signs.tobytes()).hexdigest()
    return {
        "id": picture[:16], "line": line, "levels": base64.b64encode(levels).decode("ascii"),
        "rows": int(len(cells)), "steps": int(heat.levels.shape[1]), "cells": cells.tolist(),
        "signs": signs.tolist(), "limit": heat.limit, "levels_max": HEAT_LEVELS,
        "axis": "cell" if order is None else "row", "height": int(height), "margin": HEATMAP_MARGIN,
        "unit": unit, "value": "c" if unit == "cell" else "a",
        "scale": [[stop, list(rgb)] for stop, rgb in cell_figures.colour_stops()],
    }


def cell_heatmap(key: str, c: np.ndarray, order: np.ndarray | None, flip: np.ndarray | None, height: int,
                 on_click: Callable[[], None], unit: str = "cell") -> None:
    """The heatmap of ``c`` (T, cells) keyed ``key``; ``on_click`` is called after a click.
    With ``unit`` "feature" the rows are features and their values activations. A line's
    levels go to the page once a session (:func:`dashboard.frame.first_time`): a new order
    of the same line sends only its rows."""
    data = heatmap_data(c, order, flip, height, unit)
    if not frame.first_time(LINES_SENT, NEED_LINE, data["line"]):
        del data["levels"]
    _HEATMAP(data=data, key=key, default={"click": None, "need_line": None},
             on_click_change=on_click, on_need_line_change=lambda: frame.asked_for(key, "need_line", NEED_LINE))


def clicked(key: str) -> dict | None:
    """The last click on the heatmap keyed ``key``: ``{"cell", "row", "step", "n"}``
    (n counts the clicks, so the same spot clicked twice is two clicks), or None."""
    state = st.session_state.get(key)
    try:
        click = state["click"]
    except (KeyError, TypeError):
        click = getattr(state, "click", None)
    if not isinstance(click, dict) or click.get("cell") is None or click.get("step") is None:
        return None
    return click
