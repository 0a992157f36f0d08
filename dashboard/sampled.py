"""What the model writes, kept for every session: sample lines, written on
rather than again and written ahead in the background, and possibility spaces,
computed once however many sessions ask for them at the same time. The caches
themselves are :func:`dashboard.cached.sample_cache` and
:func:`dashboard.cached.futures_cache`."""
from __future__ import annotations

import hashlib
import threading

import numpy as np

from dashboard import background, cached
from dashboard.models import LoadedModel
from inkcore import sampling
from inkcore.model import Model

#: Pen steps drawn for one possibility space at most: the article's 50 futures of
#: 8 steps at each point of a 700-point line (the library's model samples), a few
#: seconds. Beyond it futures are drawn at every n-th point, which the page says.
FUTURES_BUDGET = 700 * 50 * 8

#: Held while neighbouring variations are written in the background: one such job at a time.
PREFETCHING = threading.Lock()


def samples(model: Model, model_key: str, steps: int, variation: float, seeds) -> list[np.ndarray]:
    """The line (steps, 3) each seed writes (:func:`inkcore.sampling.generate_seeded`),
    one per distinct seed, in order.

    The longest line each seed has written at a variation is kept (with the state to
    write on), so a shorter length is a slice of it and a longer one writes only the
    rows it adds; lines not yet begun are written side by side in one batch."""
    return _write_samples(cached.sample_cache(), model, model_key, steps, variation, seeds)


def _write_samples(cache: cached.BoundedCache, model: Model, model_key: str, steps: int, variation: float,
                   seeds) -> list[np.ndarray]:
    seeds = list(dict.fromkeys(int(seed) for seed in seeds))
    keys = {seed: (model_key, variation, seed) for seed in seeds}
    begun = {seed: cache.get(keys[seed]) for seed in seeds}
    short = [seed for seed in seeds if begun[seed] is None or len(begun[seed].rows) < steps]
    if short:
        lines = sampling.generate_seeded(model, steps, short, variation, [begun[seed] for seed in short])
        for seed, line in zip(short, lines):
            line.rows.setflags(write=False)
            cache.put(keys[seed], line)
            begun[seed] = line
    return [begun[seed].rows[:steps] for seed in seeds]


def prefetch_samples(model: Model, model_key: str, steps: int, variations, seeds,
                     longer: tuple[int, float, int] | None = None) -> None:
    """Write the same lines at ``variations`` in a background thread, unless one is already
    at work, so that moving the Variation slider a notch finds its lines written (writing
    six 700-step lines takes about a third of a second); then, with ``longer`` (steps,
    variation, one more seed), the lines a notch of Length or one more Sample would show.
    Only NumPy runs in the thread."""
    if not PREFETCHING.acquire(blocking=False):
        return
    cache, seeds = cached.sample_cache(), list(seeds)

    def work() -> None:
        try:
            for variation in variations:
                _write_samples(cache, model, model_key, steps, variation, seeds)
            if longer is not None:
                more_steps, variation, seed = longer
                _write_samples(cache, model, model_key, steps, variation, [seed])
                _write_samples(cache, model, model_key, more_steps, variation, seeds)
        finally:
            PREFETCHING.release()

    threading.Thread(target=work, name="inkcore-prefetch-samples", daemon=True).start()


def ordinal(n: int) -> str:
    """2 -> "2nd", 11 -> "11th", 23 -> "23rd"."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def futures(loaded: LoadedModel, rows: np.ndarray, variation: float, count: int, steps: int, seed: int):
    """``((result, turns, every), job)``: possible futures at every point (every n-th when
    over :data:`FUTURES_BUDGET`), their turn angles and n; and None, or the job still
    drawing them while the result is the one this session last showed for this line
    (:func:`dashboard.background.newest`; with none, the page waits with a progress bar).

    They are drawn in the background: a reader who leaves the page meanwhile finds them
    drawn, or still being drawn, on coming back, and sessions that ask for the same
    futures share one drawing."""
    every = sampling.futures_stride(len(rows), count, steps, FUTURES_BUDGET)
    line = hashlib.sha1(np.ascontiguousarray(rows).tobytes()).hexdigest()
    model, rows = loaded.model, np.array(rows)

    def draw(report):
        result = sampling.possible_futures(model, rows, np.random.default_rng(seed), variation, count, steps,
                                           progress=report, every=every)
        return result, sampling.future_turns(rows, result.rows), every

    where = "each" if every == 1 else f"every {ordinal(every)}"
    return background.newest(cached.futures_cache(), (loaded.key, line, variation, count, steps, seed), draw,
                             f"_futures_shown:{line}",
                             f"Drawing {count} futures of {steps} steps at {where} of {len(rows)} points…")
