"""The whole line's possibility space: drawn in the background so that a reader who
leaves the page meanwhile comes back to it drawn, not started over; the whole-line
view kept across a page switch; its hairs drawn as few long paths."""
from __future__ import annotations

import threading

import numpy as np
import pytest

from conftest import SMALL_CONFIG, random_model, random_rows
from test_app import SCRIPTS, charts, isolated, no_errors, page  # noqa: F401


class Left(Exception):
    """Stands in for Streamlit stopping a script whose reader went to another page."""


def test_leaving_the_page_mid_drawing_does_not_stop_it(monkeypatch):
    from dashboard import background, models, sampled
    from inkcore import sampling

    calls, release = [], threading.Event()
    real = sampling.possible_futures

    def slow(*args, **kwargs):
        calls.append(1)
        release.wait(10)  # still drawing when the reader leaves
        return real(*args, **kwargs)

    class LeavingBar:
        def progress(self, *args, **kwargs):
            raise Left  # the reader went elsewhere: the script stops at its next Streamlit call

        def empty(self):
            pass

    monkeypatch.setattr(sampling, "possible_futures", slow)
    monkeypatch.setattr(background.st, "progress", lambda *a, **k: LeavingBar())
    loaded = models.LoadedModel(random_model(SMALL_CONFIG), {}, "test", "futures-left")
    rows = random_rows(np.random.default_rng(0), 30)
    with pytest.raises(Left):
        sampled.futures(loaded, rows, 0.5, 4, 3, seed=0)
    release.set()  # the drawing goes on without the page that asked for it

    class QuietBar(LeavingBar):
        def progress(self, *args, **kwargs):
            pass

    monkeypatch.setattr(background.st, "progress", lambda *a, **k: QuietBar())
    (result, turns, every), job = sampled.futures(loaded, rows, 0.5, 4, 3, seed=0)  # the reader comes back
    assert len(calls) == 1  # found drawn (or still drawing), not drawn again
    assert result.rows.shape == (30, 4, 3, 3) and every == 1 and np.isfinite(result.rows).all()


def test_an_error_while_drawing_reaches_the_page_that_waits(monkeypatch):
    from dashboard import models, sampled
    from inkcore import sampling

    def broken(*args, **kwargs):
        raise MemoryError("no room")

    monkeypatch.setattr(sampling, "possible_futures", broken)
    loaded = models.LoadedModel(random_model(SMALL_CONFIG), {}, "test", "futures-broken")
    with pytest.raises(MemoryError):
        sampled.futures(loaded, random_rows(np.random.default_rng(1), 12), 0.5, 4, 3, seed=0)


def test_the_whole_line_view_is_kept_across_a_page_switch():
    at = page("possibilities")
    at.session_state["futures_count"] = 5
    at.run()
    at.toggle(key="futures_whole").set_value(True).run()
    no_errors(at)
    whole = charts(at)[0]
    at.switch_page(SCRIPTS["samples"]).run()
    at.switch_page(SCRIPTS["possibilities"]).run()
    no_errors(at)
    assert at.toggle(key="futures_whole").value is True
    assert charts(at)[0] == whole  # the same futures, from the cache


def test_a_whole_lines_hairs_are_few_paths_that_hold_every_hair(rng):
    """A whole line's hairs: a path per band of steps and colour, in float32, a piece per
    point (a browser pays for every separate piece), and every hair's every position on it."""
    from inkcore import figures, sampling
    from inkcore.sampling import future_turns

    model = random_model(SMALL_CONFIG)
    rows = random_rows(rng, 200)
    result = sampling.possible_futures(model, rows, np.random.default_rng(0), futures=50, steps=8)
    turns = future_turns(rows, result.rows)
    fig = figures.possibility_figure(rows, result.rows, turns, result.eos)
    hairs = [trace for trace in fig.data if trace.line.color in (figures.RIGHT_COLOUR, figures.LEFT_COLOUR)]
    assert len(hairs) == 2 * figures.HAIR_BANDS and all(trace.type == "scatter" for trace in hairs)
    assert all(np.asarray(trace.x).dtype == np.float32 for trace in hairs)
    known = np.isfinite(turns).all(axis=2)  # (points, futures): near the line's end the path runs out
    pieces = sum(int(np.isnan(np.asarray(trace.x)).sum()) for trace in hairs)
    assert pieces <= 2 * figures.HAIR_BANDS * known.any(axis=1).sum()  # a piece per point and colour at most
    ends = np.concatenate([np.stack([trace.x, trace.y], axis=1) for trace in hairs])
    path = figures.path_points(rows)
    tips = path[1:, None, :][:, :, :] + np.cumsum(result.rows[:, :, :, :2], axis=2)[:, :, -1]  # (T, N, 2)
    found = {tuple(p) for p in np.round(ends[np.isfinite(ends[:, 0])], 3)}
    assert all(tuple(p) in found for p in np.round(tips[known].astype(np.float32), 3))
    one = figures.possibility_figure(rows, result.rows[:1], future_turns(rows, result.rows[:1], np.array([0])),
                                     result.eos, at=0, points=np.array([0]))
    assert all(trace.type == "scatter" for trace in one.data)  # one point's few hairs: a segment per step
