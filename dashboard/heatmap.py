"""The cell heatmap of the cell pages: every cell's state over a line, drawn on a
canvas in the page by a component of inkcore's own (``heatmap.js``, inline, no build
step). Hovering names the row, the cell and its c; a click reports the cell and the
step, which :func:`clicked` reads.

The line goes to the page as 8-bit levels (:func:`inkcore.figures.heatmap_levels`),
decoded and drawn once: a rerun that sends the same line draws nothing again."""
from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Callable

import numpy as np
import streamlit as st

from inkcore import figures

_CSS = """
.inkcore-heatmap { position: relative; width: 100%; }
.inkcore-heatmap canvas { display: block; }
.inkcore-heatmap .tip { position: absolute; display: none; pointer-events: none; padding: 4px 7px;
  font: 12px/1.35 var(--st-font, sans-serif); color: #fff; background: rgba(29, 35, 48, 0.88);
  border-radius: 4px; white-space: nowrap; }
"""
_HEATMAP = st.components.v2.component("inkcore_heatmap", css=_CSS,
                                      js=Path(__file__).with_name("heatmap.js").read_text())


def heatmap_data(c: np.ndarray, order: np.ndarray | None, flip: np.ndarray | None, height: int) -> dict:
    """What the page's canvas draws: the levels in base64, and the line's id, by which it
    knows a line it has drawn already."""
    heat = figures.heatmap_levels(c, order, flip)
    levels = np.ascontiguousarray(heat.levels).tobytes()
    digest = hashlib.sha1(levels + heat.cells.tobytes() + f"{heat.limit!r}/{height}".encode()).hexdigest()[:16]
    return {
        "id": digest, "levels": base64.b64encode(levels).decode("ascii"), "rows": int(heat.levels.shape[0]),
        "steps": int(heat.levels.shape[1]), "cells": heat.cells.tolist(), "limit": heat.limit,
        "levels_max": figures.HEAT_LEVELS, "axis": heat.axis, "height": int(height),
        "margin": figures.HEATMAP_MARGIN, "scale": [[stop, list(rgb)] for stop, rgb in figures.colour_stops()],
    }


def cell_heatmap(key: str, c: np.ndarray, order: np.ndarray | None, flip: np.ndarray | None, height: int,
                 on_click: Callable[[], None]) -> None:
    """The heatmap of ``c`` (T, cells) keyed ``key``; ``on_click`` is called after a click."""
    _HEATMAP(data=heatmap_data(c, order, flip, height), key=key, default={"click": None},
             on_click_change=on_click)


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
