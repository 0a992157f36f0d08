"""What every section of ``python -m inkcore.bench`` times with: :func:`measure` and the
:class:`Row` of a figure beside its bound."""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Callable

REPEATS = 25


@dataclass(frozen=True)
class Timing:
    best: float  # seconds per call, the fastest repeat
    median: float  # seconds per call, the median repeat


def measure(calls: list[Callable[[], object]], loops: int, repeats: int | None = None) -> list[Timing]:
    """Seconds per call of each callable: ``repeats`` (default :data:`REPEATS`)
    rounds in which every callable runs a timed loop of ``loops`` calls in turn,
    after a warm-up."""
    samples: list[list[float]] = [[] for _ in calls]
    for call in calls:
        for _ in range(max(1, loops // 10)):
            call()
    for _ in range(repeats or REPEATS):
        for call, times in zip(calls, samples):
            start = time.perf_counter()
            for _ in range(loops):
                call()
            times.append((time.perf_counter() - start) / loops)
    return [Timing(min(times), statistics.median(times)) for times in samples]


@dataclass(frozen=True)
class Row:
    name: str
    timing: Timing
    bound: Timing | None = None  # the unavoidable matrix products, timed alongside
    note: str = ""  # the target, or a throughput
    met: bool | None = None
