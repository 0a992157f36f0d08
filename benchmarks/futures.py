"""The possibility space of a whole line: the browser's wait from the click on "Show every
point's futures at once" until they are drawn, beside the engine's part of it against its
matrix-multiply bound (see :mod:`benchmarks.app`)."""
from __future__ import annotations

import os
import re

import numpy as np

from benchmarks.harness import ARTICLE_DIR, App, control, new_tab, open_page, settle, time_until_settled, verdict
from inkcore.bench import Row

WHOLE_LINE_FUTURES_TARGET_S = 5.0
#: The line the whole-line row draws on (the target is set for 600 points), and its length.
WHOLE_LINE_EXAMPLE, WHOLE_LINE_POINTS = "Article validation 1", 602


def whole_line_futures_row(browser, app: App) -> Row:
    """From the click on the possibility space's whole-line toggle until every point's futures
    are drawn, on the article's validation line 1 (602 points) where the article's files are
    here, else on the page's default line (a 700-point model sample)."""
    with new_tab(browser) as tab:
        open_page(tab, app.url, "possibilities", "Possibility space")
        tab.wait_for_selector(".js-plotly-plot")
        settle(tab)
        line, points = "the page's default line", 700
        if ARTICLE_DIR.is_dir():
            picker = control(tab, "futures_example").locator("input").first
            picker.click()
            picker.type(WHOLE_LINE_EXAMPLE)  # the list shows its first options only: narrow it
            tab.get_by_role("option", name=re.compile(rf"^{WHOLE_LINE_EXAMPLE}( ★)?$")).first.click()
            settle(tab)
            line, points = WHOLE_LINE_EXAMPLE, WHOLE_LINE_POINTS
        toggle = control(tab, "futures_whole").locator("label").first
        seconds = time_until_settled(tab, toggle.click, "mousedown")
    return verdict(f"possibilities: whole line's futures, click to drawn ({points} points)", [seconds],
                   WHOLE_LINE_FUTURES_TARGET_S, f"{line}, 50 x 8 at every point")


def whole_line_engine_rows(weights: str | os.PathLike) -> list[Row]:
    """The engine's part of the whole line's futures, against its bound at the best thread count."""
    from inkcore.bench import Context, bench_futures
    from inkcore.weights import load

    return bench_futures(Context(load(weights)[0], np.random.default_rng(0)))
