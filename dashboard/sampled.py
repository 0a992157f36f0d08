"""What the model writes, kept for every session: sample lines, written on
rather than again and written ahead in the background, and possibility spaces,
computed once however many sessions ask for them at the same time. The caches
themselves are :func:`dashboard.cached.sample_cache` and
:func:`dashboard.cached.futures_cache`."""
from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from dashboard import background, cached
from dashboard.models import LoadedModel
from inkcore import sampling
from inkcore.model import LSTMState, Model

#: Pen steps drawn for one possibility space at most: the article's 50 futures of
#: 8 steps at each point of a 700-point line (the library's model samples), a few
#: seconds. Beyond it futures are drawn at every n-th point, which the page says.
FUTURES_BUDGET = 700 * 50 * 8

#: The lane of sample lines written ahead (:func:`prefetch_samples`): one such thread at a time,
#: apart from the examples that other pages read ahead, which take seconds and must not hold up
#: the lines a notch of the Samples page's sliders asks for.
PREFETCHING = background.Lane()
#: How many notches of a slider the work written ahead reaches either way: a drag that far finds it.
NOTCHES_AHEAD = 5
#: The settings of the sample lines a session showed last (their key in the grid cache).
GRID_SHOWN = "_samples_grid_shown"


class SampleGrid(NamedTuple):
    """Sample lines, the variation and the seeds that wrote them: line ``i`` is seed ``seeds[i]``'s."""

    variation: float
    seeds: tuple[int, ...]
    lines: list[np.ndarray]


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


def sample_grid(loaded: LoadedModel, steps: int, variation: float, seeds):
    """``(grid, None)``: the lines :func:`samples` writes, when they are written at once;
    else ``(the grid this session showed last, the job writing the new one)``, as
    :func:`dashboard.background.newest` gives them. Lines written ahead (:func:`prefetch_samples`)
    are sliced or written on, not written again; a setting nothing wrote ahead (a slider
    dragged far) is written in the background while the previous lines stay in view."""
    seeds = tuple(dict.fromkeys(int(seed) for seed in seeds))
    model, model_key = loaded.model, loaded.key

    def work(report) -> SampleGrid:
        return SampleGrid(variation, seeds, samples(model, model_key, steps, variation, seeds))

    plural = "s" if len(seeds) > 1 else ""
    return background.newest(cached.sample_grid_cache(), (model_key, steps, variation, seeds), work, GRID_SHOWN,
                             f"Writing {len(seeds)} line{plural} of {steps} steps at variation {variation:g}…")


def prefetch_samples(model: Model, model_key: str, settings) -> None:
    """Write the lines of ``settings`` (``(steps, variation, seeds)``, the likeliest first) in
    the background, in place of earlier guesses not yet begun, so that the next moves of
    the Samples page's sliders find their lines written. Only NumPy runs in the thread
    (:func:`dashboard.background.run_ahead`, in a lane of its own: :data:`PREFETCHING`)."""
    cache = cached.sample_cache()

    def write(steps: int, variation: float, seeds) -> Callable[[], object]:
        return lambda: _write_samples(cache, model, model_key, steps, variation, list(seeds))

    background.run_ahead([write(*setting) for setting in settings if len(setting[2])], PREFETCHING)


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
    line = cached.line_digest(rows)
    model, rows = loaded.model, np.array(rows)

    def draw(report):
        result = sampling.possible_futures(model, rows, np.random.default_rng(seed), variation, count, steps,
                                           progress=report, every=every)
        return result, sampling.future_turns(rows, result.rows), every

    where = "each" if every == 1 else f"every {ordinal(every)}"
    return background.newest(cached.futures_cache(), (loaded.key, line, variation, count, steps, seed), draw,
                             f"_futures_shown:{line}",
                             f"Drawing {count} futures of {steps} steps at {where} of {len(rows)} points…")


class _Written(NamedTuple):
    """The longest continuation written yet for a writing, setting and seed, with what
    writing on from its end needs: the state before its last row, and the generator."""

    rows: np.ndarray  # (candidates, steps, 3)
    eos: np.ndarray  # (candidates, steps)
    state: LSTMState
    rng: np.random.Generator


def continuation(model: Model, model_key: str, rows: np.ndarray, steps: int, variation: float, candidates: int,
                 seed: int) -> sampling.Continuation:
    """``candidates`` continuations (candidates, steps, 3) of a writer's rows, the same as
    :func:`inkcore.sampling.continue_writing` with ``default_rng(seed)`` writes them.

    The longest one written for the same writing, variation, candidates and seed is kept,
    so a shorter Length is a slice of it and a longer one writes only the steps it adds;
    the writing is read once for every setting. Safe in a background thread."""
    cache = cached.continuation_cache()
    line = (model_key, cached.line_digest(rows), len(rows))
    key = (*line, float(variation), int(candidates), int(seed))
    with cache.computing(key):
        kept = cache.get(key)
        if kept is None or kept.rows.shape[1] < steps:
            if kept is None:
                read = cache.get(("read", *line))
                if read is None:
                    read = sampling.read_for_writing(model, rows)
                    cache.put(("read", *line), read)
                state, last = read
                state = LSTMState(*(np.repeat(a, candidates, axis=0) for a in state))
                last = np.repeat(last, candidates, axis=0)
                done, done_eos = np.empty((candidates, 0, 3)), np.empty((candidates, 0))
                rng = np.random.default_rng(seed)
            else:
                rng = _copy(kept.rng)  # the kept one stays where it was, for a reader who shortens
                done, done_eos, state, last = kept.rows, kept.eos, kept.state, kept.rows[:, -1]
            more = sampling.continue_from(model, state, last, steps - done.shape[1], rng, variation)
            kept = _Written(np.concatenate([done, more.rows], axis=1), np.concatenate([done_eos, more.eos], axis=1),
                            more.state, rng)
            cache.put(key, kept)
    return sampling.Continuation(kept.rows[:, :steps], kept.eos[:, :steps])


def _copy(rng: np.random.Generator) -> np.random.Generator:
    twin = np.random.Generator(type(rng.bit_generator)())
    twin.bit_generator.state = rng.bit_generator.state
    return twin


def continuations_ahead(model: Model, model_key: str, rows: np.ndarray, steps: int, variation: float,
                        candidates: int, seed: int, variation_step: float, variation_max: float,
                        most_candidates: int) -> None:
    """Write in the background what the write page's controls likely ask for next, the
    nearest first: the Variation slider's notches either side, one more candidate and the
    next seed (Re-sample); then every notch of Variation and every number of candidates a
    drag of :data:`NOTCHES_AHEAD` reaches (a continuation is a few steps: milliseconds each)."""
    variations = background.notches(variation, (1, -1), variation_step, 0, variation_max, NOTCHES_AHEAD)
    more = [c for c in range(candidates + 1, min(candidates + NOTCHES_AHEAD, most_candidates) + 1)]
    fewer = [c for c in range(max(1, candidates - NOTCHES_AHEAD), candidates)][::-1]
    settings = [(v, candidates, seed) for v in variations[:2]] + [(variation, c, seed) for c in more[:1]]
    settings += [(variation, candidates, seed + 1)]
    settings += [(v, candidates, seed) for v in variations[2:]] + [(variation, c, seed) for c in more[1:] + fewer]
    background.run_ahead([
        (lambda v=v, c=c, s=s: continuation(model, model_key, rows, steps, v, c, s)) for v, c, s in settings])
