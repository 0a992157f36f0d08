"""Work that cannot be fast never blocks the page: a new t-SNE order or a whole line's
futures is computed in the background while the page shows the previous result under
an Updating mark, every other control stays live, and the new result is swapped in when
it is ready; leaving the page meanwhile and coming back keeps the view as it was."""
from __future__ import annotations

import os
import sys
import threading

import pytest

from test_app import SCRIPTS, charts, heatmaps, isolated, no_errors, page, with_article  # noqa: F401

#: Long enough for a job of the small test lines; the tests never wait for it on success.
DONE_S = 120


def updating(at) -> list[str]:
    return [bar.proto.text for bar in at.get("progress") if "Updating" in bar.proto.text]


def finished(cache, key_part) -> None:
    """Wait until no job whose key holds ``key_part`` is at work in ``cache``."""
    for job in [job for key, job in list(cache.jobs.items()) if key_part in key]:
        assert job.finished.wait(DONE_S)


def test_a_new_order_shows_the_previous_one_as_updating_then_swaps_it_in(with_article, monkeypatch):
    from dashboard import cached
    from inkcore import cells

    at = page("ordered").run()
    no_errors(at)
    assert not updating(at)
    heatmap, stroke = heatmaps(at)[0], charts(at)[0]
    release, real = threading.Event(), cells.order_cells
    monkeypatch.setattr(cells, "order_cells", lambda *a, **k: (release.wait(DONE_S), real(*a, **k))[1])
    at.slider(key="ordered_perplexity").set_value(120).run()  # far from the notches computed ahead
    no_errors(at)
    assert updating(at) and "perplexity 120" in updating(at)[0]
    assert heatmaps(at)[0] == heatmap  # the previous order meanwhile
    at.number_input(key="ordered_cell").set_value(7).run()  # every other control stays live
    no_errors(at)
    assert charts(at)[0] != stroke and "cell 7" in str(charts(at)[0])
    release.set()
    finished(cached.order_cache(), 120.0)
    at.run()
    no_errors(at)
    assert not updating(at)
    assert heatmaps(at)[0] != heatmap  # the new order
    at.switch_page(SCRIPTS["cells"]).run()  # every page now names cells by their row in the new order
    assert "the percentile order (perplexity 120)" in " ".join(c.value for c in at.caption)


def test_leaving_the_possibility_page_mid_computation_keeps_the_view(monkeypatch):
    from dashboard import cached
    from inkcore import sampling

    at = page("possibilities")
    at.session_state["futures_count"] = 5
    at.run()
    at.toggle(key="futures_whole").set_value(True).run()  # the first whole line: waited for
    no_errors(at)
    assert not updating(at)
    first = charts(at)[0]
    release, real = threading.Event(), sampling.possible_futures
    monkeypatch.setattr(sampling, "possible_futures", lambda *a, **k: (release.wait(DONE_S), real(*a, **k))[1])
    at.select_slider(key="futures_variation").set_value(0.9).run()
    no_errors(at)
    assert updating(at) and charts(at)[0] == first  # the last futures drawn, marked as being replaced
    at.switch_page(SCRIPTS["samples"]).run()
    at.switch_page(SCRIPTS["possibilities"]).run()  # back while they are still being drawn
    no_errors(at)
    assert at.toggle(key="futures_whole").value is True
    assert at.select_slider(key="futures_variation").value == 0.9
    assert updating(at) and charts(at)[0] == first  # the view as it was left
    release.set()
    finished(cached.futures_cache(), 0.9)
    at.run()
    no_errors(at)
    assert not updating(at)
    assert charts(at)[0] != first  # the new futures, drawn once for both visits


def idle_ahead() -> None:
    """Wait until no guessed work is at work (dashboard.background.run_ahead)."""
    from dashboard import background

    assert background.AHEAD.wait_idle(DONE_S)


def test_the_examples_likely_chosen_next_are_recorded_before_they_are_chosen(monkeypatch):
    from dashboard import cached, library
    from inkcore import cells

    idle_ahead()
    cached.recording_cache().items.clear()  # nothing recorded by earlier tests
    at = page("cells")
    at.session_state["cells_example"] = "sample:3"
    at.run()
    no_errors(at)
    idle_ahead()
    options = at.selectbox(key="cells_example").options
    # the two either side of the chosen one, and the first few the dropdown shows, minus the chosen one
    assert options[:5] == [f"Model sample {seed}" for seed in range(1, 6)]
    recorded = []
    real = cells.record
    monkeypatch.setattr(cells, "record", lambda model, rows: (recorded.append(len(rows)), real(model, rows))[1])
    for seed in (1, 2, 4, 5, library.FIRST_AHEAD):
        at.selectbox(key="cells_example").set_value(f"sample:{seed}").run()
        no_errors(at)
        assert heatmaps(at)[0]["steps"] == library.SAMPLE_STEPS
    assert recorded == []  # each was read ahead: choosing it recorded nothing
    at.selectbox(key="cells_example").set_value(f"sample:{library.FIRST_AHEAD + 2}").run()
    no_errors(at)
    idle_ahead()
    assert recorded[:1] == [library.SAMPLE_STEPS]  # one further down the list is recorded when it is chosen...
    assert len(cached.recording_cache().items) >= library.FIRST_AHEAD + 2  # ...and its neighbours after it


def test_guessed_work_that_fails_is_passed_over():
    from dashboard import background

    done = []
    background.run_ahead([lambda: 1 / 0, lambda: done.append(True)])
    idle_ahead()
    assert done == [True]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a thread's own scheduling priority is Linux's")
def test_work_in_the_background_is_scheduled_below_the_runs_of_pages():
    from dashboard import cached

    seen, done = [], threading.Event()

    def report() -> None:
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        done.set()

    cached.in_background(report, "inkcore-test")
    assert done.wait(DONE_S)
    page_runs = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    assert seen == [min(19, page_runs + cached.BACKGROUND_NICE)]


def test_the_samples_a_drag_of_five_notches_reaches_are_written_ahead():
    from dashboard import cached, sampled

    assert sampled.PREFETCHING.wait_idle(DONE_S)  # no guesses of an earlier test at work
    at = page("samples")
    at.session_state["samples_steps"] = 100
    at.run()
    no_errors(at)
    assert sampled.PREFETCHING.wait_idle(DONE_S)
    cache, key = cached.sample_cache(), at.session_state[sampled.GRID_SHOWN][0]
    for variation in (0.4, 0.45, 0.6, 0.7, 0.85, 0.9):  # five notches either way of 0.65
        for seed in range(1, 7):
            assert len(cache.get((key, variation, seed)).rows) >= 100
    assert len(cache.get((key, 0.65, 3)).rows) >= 350  # a drag of five notches of Length
    assert all(cache.get((key, 0.65, seed)) is not None for seed in range(7, 13))  # every Sample more
    assert cache.get((key, 0.95, 1)) is None  # six notches away: not guessed
