"""``python -m benchmarks.app``: how long a person waits for the dashboard.

``python -m inkcore.bench --app`` runs it after the engine's rows, from a source
checkout (the dashboard and this benchmark are not part of the installed package).

The benchmark starts the dashboard itself (``streamlit run app.py`` on a free
loopback port, with empty data and cache folders of its own), drives it in
headless Chromium with Playwright, and times what a person waits for:

- the first page: from launching ``streamlit run`` until the home page's
  heading shows in the browser (at most 4 s);
- every control of every page (sliders by arrow key, number inputs by their +
  button, select boxes, toggles and buttons by a click, heatmaps and step rulers
  by a click on them, and the examples chosen): from the key press or click until
  the page's Plotly figures show what it changed, each control changed 3 times from
  its page's defaults in a session of its own; a row per page with the worst and
  the median answer and the control that gave the worst (at most 0.5 s and 0.25 s).
  A slider moves to values this server has not drawn before, so no figure comes
  from a cache filled by an earlier press. Work that goes on in the background (a
  new t-SNE order) has answered when the previous result shows under the page's
  Updating mark; Play, when its first frame is drawn;
- a stroke on the write page: the server's work for the first continuation,
  timed in this process with the functions the page calls (at most 0.3 s),
  and the browser's wait from mouse-up until the continuation is drawn;
- every slider as a person moves it: right, right, left (the other way at its
  right end), then a drag of five notches, in a session of its own, each move
  timed from the key press or mouse-up until the change is at rest: its figures
  show what they settle in, Streamlit's running mark is gone and two frames
  have been painted since; a row per slider and per page (same budgets);
- the possibility space of a whole line: from the click on "Show every point's
  futures at once" until the figure shows 50 futures of 8 steps at every point
  of the article's validation line 1 (602 points; the page's default 700-point
  model sample without the article's files), at most 5 s, beside the engine's part
  of it against its matrix-multiply bound (:func:`inkcore.bench.bench_futures`).

Browser times are taken inside the page: ``performance.now()`` at the key
press, click or mouse-up, and at the first moment the page's figures reached
the state they settle in, found by watching a fingerprint of every figure's
data (trace count, lengths and a few values) on every DOM change and every
animation frame. Playwright's own round trips are not counted.

A person waits for every change, not only the quickest, so the first column
of these rows is the worst change of a figure and the verdict is on it; the
median is beside it. Browser rows need Playwright and Chromium; without them
one line says so and only the server's rows are printed.

The parts: :mod:`benchmarks.harness` (the server, the browser, the word written and the
timing of a change), :mod:`benchmarks.writing` (the write page: pen moves, mouse-up, the
server's work for a stroke), :mod:`benchmarks.futures` (the whole line's futures) and
:mod:`benchmarks.controls` (every control of every page); this module runs them and
prints the report.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
from pathlib import Path

from threadpoolctl import threadpool_limits

from benchmarks.controls import control_rows, sequence_rows
from benchmarks.futures import whole_line_engine_rows, whole_line_futures_row
from benchmarks.harness import BrowserMissing, app_environment, chromium, failed, first_page, serve, wait_until_up
from benchmarks.writing import pen_row, stroke_row, stroke_server_rows
from inkcore.bench import format_row


#: The measures, by the names ``--only`` takes.
MEASURES = ("server", "first page", "pen move", "mouse-up", "whole line", "controls", "sliders in a row")


def report(weights: str | os.PathLike | None, only: tuple[str, ...] = MEASURES) -> int:
    """Print the dashboard's rows (the ``only`` of :data:`MEASURES`); the dashboard runs on
    ``weights`` (default: the installed model)."""
    from inkcore.cli import default_weights

    print("dashboard: streamlit run app.py, driven in headless Chromium "
          "(first column: the worst wait, since every one counts)")
    print(f"  {'':44s}{'worst ms':>10s} {'median ms':>10s} {'':10s} {'':8s}  target")
    path = Path(weights) if weights else default_weights()
    if not path.exists():
        print(f"  skipped: no model at {path}; the dashboard's pages need one")
        return 0
    missed = 0
    for row in stroke_server_rows(path) + whole_line_engine_rows(path) if "server" in only else []:
        print(format_row(row), flush=True)
        missed += row.met is False
    try:
        with chromium() as browser, tempfile.TemporaryDirectory(prefix="inkcore-bench-app-") as folder:
            folder = Path(folder)
            with serve(app_environment(folder, path), folder / "streamlit.log") as app:
                measures = (("first page", lambda: [first_page(browser, app)]),
                            ("pen move", lambda: [pen_row(browser, app)]),
                            ("mouse-up", lambda: [stroke_row(browser, app)]),
                            ("whole line", lambda: [whole_line_futures_row(browser, app)]),
                            ("controls", lambda: control_rows(browser, app)),
                            ("sliders in a row", lambda: sequence_rows(browser, app)))
                for name, measure in ((n, m) for n, m in measures if n in only):
                    try:
                        if name != "first page":  # which times the launch, and waits for it itself
                            wait_until_up(app)
                        rows = measure()
                    except Exception as error:  # report it and go on with the other measures
                        rows = [failed(name, error)]
                    for row in rows:
                        print(format_row(row), flush=True)
                        missed += row.met is False
    except BrowserMissing as why:
        print(f"  browser rows skipped: {why}")
    print("all dashboard targets met" if not missed else f"{missed} dashboard target(s) missed")
    return 0


def stop_on_sigterm() -> None:
    """Let ``kill`` unwind the benchmark, so its ``finally`` clauses stop the server and the browser."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


def main(argv=None) -> int:
    from inkcore.downloads import DownloadError, named_weights

    parser = argparse.ArgumentParser(prog="python -m benchmarks.app", description=__doc__.splitlines()[0])
    parser.add_argument("--weights", help="the model the dashboard runs on (default: the installed model); "
                                          "'article' for the article's")
    parser.add_argument("--blas-threads", type=int, default=1,
                        help="BLAS threads for the server's work timed in this process; 0 for the library's default")
    parser.add_argument("--only", metavar="MEASURE,...", help="only these measures: " + ", ".join(MEASURES))
    args = parser.parse_args(argv)
    only = MEASURES if args.only is None else tuple(name.strip() for name in args.only.split(","))
    unknown = [name for name in only if name not in MEASURES]
    if unknown:
        parser.error(f"--only: unknown {', '.join(unknown)}; choose from {', '.join(MEASURES)}")
    try:
        weights = named_weights(args.weights)
    except DownloadError as error:
        parser.exit(1, f"error: {error}\n")
    stop_on_sigterm()
    with threadpool_limits(limits=args.blas_threads or None, user_api="blas"):
        return report(weights, only)


if __name__ == "__main__":
    sys.exit(main())
