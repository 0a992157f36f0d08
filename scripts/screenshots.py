"""``python scripts/screenshots.py``: docs/images/<page>.png, one picture of every dashboard page.

The pictures of the documentation are taken from the running app, not made by hand: the
dashboard is started as the app benchmark starts it (empty data and cache folders, the
article's files from ``../shared`` when they are there), every page of the sidebar is opened
in a fresh session of headless Chromium at the benchmark's viewport, a word is written with
the mouse on the pages that show nothing until something is written, and the page is saved
once its figures are drawn and no background work is pending.
"""
from __future__ import annotations

import argparse
import io
import logging
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import streamlit.logger  # noqa: E402

# The app side's cache wrappers, imported here for the page list, warn that no app is running.
streamlit.logger.get_logger("streamlit.runtime.caching.cache_data_api").setLevel(logging.ERROR)

from benchmarks.controls import CONTROL_PAGES  # noqa: E402
from benchmarks.harness import (  # noqa: E402
    HOME_HEADING,
    AppError,
    app_environment,
    chromium,
    cursive_points,
    new_tab,
    open_page,
    serve,
    settle,
    wait_until_up,
    write_word,
)
from dashboard.defaults import UPDATING  # noqa: E402
from dashboard.frame import PAGES  # noqa: E402

IMAGES = ROOT / "docs" / "images"
#: A screenshot is stored with at most this many colours: a page is mostly flat colour, and a
#: palette keeps each picture a few hundred kilobytes.
PALETTE_COLOURS = 256
#: True once the page shows no spinner and no Updating mark over a result that background
#: work will replace.
NOTHING_PENDING = """() => !document.querySelector('[data-testid=stSpinner]')
  && !Array.from(document.querySelectorAll('[data-testid=stProgress]')).some(e => e.innerText.includes('%s'))""" % UPDATING
#: Pages whose main figure lies below the first screen: this element is scrolled up to the
#: bottom of the view, with what stands above it (the cell pages' heatmap, under the line).
SCROLL_TO = {"cells": ".st-key-cells_heatmap", "ordered": ".st-key-ordered_heatmap",
             "library": ".st-key-library_article_preview"}
#: Something drawn: a Plotly figure, a component (the pen surface, a cell heatmap), or a picture.
DRAWN = ".js-plotly-plot, [data-testid=stBidiComponentIsolated], [data-testid=stMain] img"


@dataclass(frozen=True)
class Shot:
    name: str  # the picture's file name in docs/images/, without .png
    path: str  # the page's URL path ("" for the home page)
    heading: str
    write_first: bool  # the page draws its figures once something is written on its pen surface
    scroll_to: str | None = None  # a selector of what must be in view (see SCROLL_TO)


def shots() -> list[Shot]:
    """Every page of the sidebar, in its order; the pages the app benchmark writes on first
    are written on here too."""
    writing = {page.path for page in CONTROL_PAGES if page.write_first}
    found = []
    for script, title, _, _ in PAGES:
        if script == "app.py":
            found.append(Shot("home", "", HOME_HEADING, False))
            continue
        path = Path(script).stem.split("_", 1)[1]
        found.append(Shot(path, path, title, path in writing, SCROLL_TO.get(path)))
    return found


def drawn(tab) -> None:
    """Wait until the page shows its figures and no work is pending behind an Updating mark."""
    settle(tab)
    tab.wait_for_selector(DRAWN)
    tab.wait_for_function(NOTHING_PENDING)
    settle(tab)
    if tab.locator("[data-testid=stException]").count():
        raise AppError(f"the page shows an exception: {tab.locator('[data-testid=stException]').first.inner_text()}")


def smaller_png(png: bytes) -> bytes:
    """The screenshot with a palette of :data:`PALETTE_COLOURS`, optimised."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB").quantize(PALETTE_COLOURS)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def take(browser, url: str, shot: Shot, folder: Path) -> Path:
    with new_tab(browser) as tab:
        open_page(tab, url, shot.path, shot.heading)
        if shot.write_first:
            write_word(tab, cursive_points())
        drawn(tab)
        if shot.scroll_to:
            tab.locator(shot.scroll_to).first.evaluate("e => e.scrollIntoView({block: 'end'})")
            settle(tab)
        target = folder / f"{shot.name}.png"
        target.write_bytes(smaller_png(tab.screenshot()))
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python scripts/screenshots.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=IMAGES, help="folder of the pictures (default docs/images)")
    parser.add_argument("--only", default="", help="comma-separated page names (home, write, samples, ...)")
    args = parser.parse_args(argv)
    chosen = [shot for shot in shots() if not args.only or shot.name in args.only.split(",")]
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        with serve(app_environment(Path(folder)), Path(folder) / "streamlit.log") as app, chromium() as browser:
            wait_until_up(app)
            for shot in chosen:
                target = take(browser, app.url, shot, args.out)
                print(f"{target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}: "
                      f"{target.stat().st_size // 1024} kB", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
