"""Results that take longer than a control may wait: computed in the background
(:meth:`dashboard.cached.BoundedCache.start`), the previous result shown meanwhile
under an "updating" mark, and swapped in when ready; and results whose next value
is predictable, computed before they are asked for.

A page asks :func:`newest` for a result. When it is ready (or becomes ready within
:data:`ANSWER_WAIT_S`) it is returned; otherwise the page gets the result it showed
last, with the job, and draws :func:`updating_mark`: a small fragment that looks at
the job every :data:`POLL_S` and reruns the page once it is done. Every other
control stays live meanwhile, and a reader who leaves the page and comes back finds
the job done or still at work, never started over."""
from __future__ import annotations

import threading
import time
from typing import Callable, Hashable, Iterable

import streamlit as st

from dashboard.cached import BoundedCache, Job, in_background
from dashboard.defaults import UPDATING

#: How long a control waits for a result before the page shows the previous one instead.
ANSWER_WAIT_S = 0.08
#: The same for work known to take seconds, which waiting would only delay.
SLOW_ANSWER_WAIT_S = 0.0
#: Work known to take seconds starts this much later, so that the run that asked for it
#: (and the browser drawing what it sent) does not share the processor with it.
SLOW_START_S = 0.3
#: How often a page showing an earlier result looks whether the new one is ready.
POLL_S = 0.25


class Lane:
    """Guessed work, done by one thread at a time whatever the sessions. A newer guess
    replaces the jobs of an older one that have not begun: a slider that has moved on
    needs the notches near where it is now, not those near where it was."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queued: list[Callable[[], object]] = []
        self._idle = threading.Event()
        self._idle.set()

    def offer(self, jobs: Iterable[Callable[[], object]]) -> None:
        """Queue ``jobs`` in place of those not yet begun, and start the lane's thread if
        none is at work."""
        with self._lock:
            self._queued = list(jobs)
            if not self._idle.is_set():
                return
            self._idle.clear()
        try:
            in_background(self._run, "inkcore-ahead")
        except BaseException:  # no thread to run them: the lane stays free
            with self._lock:
                self._queued = []
                self._idle.set()
            raise

    def _run(self) -> None:
        try:
            while True:
                with self._lock:
                    if not self._queued:
                        return
                    job = self._queued.pop(0)
                try:
                    job()
                except Exception:  # the page computes it again when asked, and reports it then
                    continue
        finally:
            with self._lock:
                self._queued = []
                self._idle.set()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Whether the lane's work was all done (or dropped) within ``timeout`` seconds."""
        return self._idle.wait(timeout)


#: The lane of guessed work that most pages share (:func:`run_ahead`).
AHEAD = Lane()


def newest(cache: BoundedCache, key: Hashable, work: Callable, shown_key: str, text: str, slow: bool = False,
           wait: bool = True):
    """``(result, None)`` when the result for ``key`` is ready; else ``(previous, job)``:
    the result this session last showed under ``shown_key`` and the job computing the
    new one. ``work(report)`` computes it. With nothing shown before, the page waits,
    with a progress bar saying ``text``, unless it asks not to (``wait=False``: then
    ``(None, job)``). Work that is ``slow`` (seconds: a t-SNE order) is not waited for
    at all when there is a previous result to show, and starts :data:`SLOW_START_S`
    later, once the run that asked for it has sent its page."""
    found = cache.get(key)
    if found is None:
        shown = st.session_state.get(shown_key)
        job = cache.start(key, later(work) if slow and shown is not None else work)
        if not job.finished.wait(SLOW_ANSWER_WAIT_S if slow else ANSWER_WAIT_S):
            previous = None if shown is None else cache.get(shown)
            if previous is not None or not wait:
                return previous, job
            bar = st.progress(job.done, text=text)
            while not job.finished.wait(POLL_S):
                bar.progress(job.done, text=f"{text} {job.done:.0%}")
            bar.empty()
        if job.error is not None:
            raise job.error
        found = job.result
    st.session_state[shown_key] = key
    return found, None


def later(work: Callable) -> Callable:
    """``work(report)`` begun :data:`SLOW_START_S` later: slow work that the run asking for it
    (and the browser drawing that run) should not share the processor with."""
    def delayed(report):
        time.sleep(SLOW_START_S)
        return work(report)

    return delayed


def updating_mark(job: Job, text: str) -> None:
    """The mark over a result that a newer one will replace: ``text`` says what is
    coming, with how far the job has got. When the job is done the page reruns."""

    @st.fragment(run_every=POLL_S)
    def mark() -> None:
        if job.finished.is_set():
            if job.error is not None:
                st.error(f"{text} failed: {job.error}")
                return
            st.rerun()
        st.progress(job.done, text=f":material/progress_activity: {UPDATING}: {text} ({job.done:.0%})")

    mark()


def compute_ahead(cache: BoundedCache, jobs: Iterable[tuple[Hashable, Callable]]) -> None:
    """Compute ``(key, work)`` results that are likely asked for next, one after the
    other in the lane of guessed work (:func:`run_ahead`: at most one such job runs,
    whatever the sessions). Done ones are skipped."""
    def job(key: Hashable, work: Callable) -> Callable[[], None]:
        return lambda: cache.get(key) is None and cache.start(key, work).finished.wait()

    run_ahead([job(key, work) for key, work in jobs])


def run_ahead(jobs: Iterable[Callable[[], object]], lane: Lane = AHEAD) -> None:
    """Run ``jobs`` (work whose results land in caches of their own) one after the other in
    ``lane``'s thread (:func:`dashboard.cached.in_background`), in place of the lane's
    guesses not yet begun. A job that fails is passed over: it was only a guess."""
    lane.offer(jobs)


def slider_moves(seen_key: str, value: float) -> tuple[int, ...]:
    """The ways a slider likely moves next: both ways (1, -1) on a first visit or when it has
    not moved, else on the way it last moved. ``value`` is kept under ``seen_key`` for the next guess."""
    previous = st.session_state.get(seen_key)
    st.session_state[seen_key] = value
    if previous is None or previous == value:
        return 1, -1
    return (1,) if value > previous else (-1,)


def notches(value: float, ways: Iterable[int], step: float, lowest: float, highest: float,
            count: int = 1) -> list[float]:
    """The ``count`` notches of a slider nearest ``value`` the ``ways`` it may move (1 up,
    -1 down), nearest first, within [lowest, highest]; rounded to 0.01 as the pages round."""
    ways = tuple(ways)
    found = [round(value + way * k * step, 2) for k in range(1, count + 1) for way in ways]
    return [v for v in found if lowest <= v <= highest]
