"""What every verb of ``inkcore`` shares: the failure reported in one line, the model
and the lines a command names, and a corpus job's executor and progress line."""
from __future__ import annotations

import json
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

import inkcore.corpus as corpus
import inkcore.downloads as downloads
from inkcore.data import lines_from_json, read_stroke_json
from inkcore.weights import load, shipped_weights

#: The model the app and the CLI load unless told otherwise (see inkcore.weights.shipped_weights).
DEFAULT_WEIGHTS = shipped_weights()
WEIGHTS_ENV = "INKCORE_WEIGHTS"
class CommandError(Exception):
    """A failure to report as one line."""


def default_weights() -> Path:
    return Path(os.environ.get(WEIGHTS_ENV, DEFAULT_WEIGHTS))


def weights_path(value: str | None) -> Path:
    """The weights file ``--weights`` names: a path, 'article', or by default the shipped model."""
    named = downloads.named_weights(value)
    return Path(named) if named else default_weights()


def load_model(path: str | None):
    path = weights_path(path)
    if path == default_weights() and not path.exists():
        raise CommandError(
            f"no model is installed at {path}: train one (python -m inkcore.train, see docs/training.md) "
            "or pass --weights with a weights file, e.g. the article's b64_weights.json"
        )
    return load(path)


def read_line(path: str, line: int | None = None, pick: str = "pass --line N to pick one") -> np.ndarray:
    """One line of a stroke file: its rows, or line ``line`` (from 1) of a file of several."""
    lines = lines_from_json(read_stroke_json(path), path)
    if line is None and len(lines) > 1:
        raise CommandError(f"{path}: holds {len(lines)} lines (as sample --n {len(lines)} writes): {pick}")
    if line is not None and not 1 <= line <= len(lines):
        raise CommandError(f"{path}: has no line {line}; it holds {len(lines)}")
    return lines[0 if line is None else line - 1]


def print_figures(result: dict, as_json: bool, width: int = 16) -> bool:
    """A result as one JSON object, or a line per figure; whether it went out as JSON."""
    if as_json:
        print(json.dumps(result))
        return True
    for key, value in result.items():
        print(f"{key:{width}s} {value:.4f}" if isinstance(value, float) else f"{key:{width}s} {value}")
    return False


def example_lines(examples: str, count: int | None = None, split: str | None = None) -> corpus.Corpus:
    """The lines of ``--examples`` ('article': the downloaded ones; a folder of validation
    or stroke files; a line set .npz, of ``split`` if given), the first ``count`` if given.
    Lines are read when a batch needs them."""
    if count is not None and count < 1:
        raise CommandError("--lines must be at least 1")
    lines = corpus.read_corpus(downloads.named_examples(examples), split)
    return lines if count is None else lines.head(count)


class _WorkLine:
    """Long work's progress on one line of stderr, rewritten in place: done of total,
    rate and time left. Never on stdout, so ``--json`` stays one object."""

    def __init__(self, unit: str, shown: bool):
        self.unit, self.shown, self.drawn = unit, shown, False
        self.start = time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        if not self.shown:
            return
        rate = done / max(time.monotonic() - self.start, 1e-9)
        left = (total - done) / rate if rate > 0 else float("inf")
        print(f"\r{done:,} of {total:,} {self.unit}, {rate:,.1f} {self.unit}/s, {left:,.0f} s left ",
              end="", file=sys.stderr, flush=True)
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            print(file=sys.stderr)  # end the line rewritten in place


@contextmanager
def corpus_job(args, unit: str = "lines"):
    """The executor ``--scheduler`` names and the progress line ``--progress`` (or a terminal) asks for."""
    with corpus.open_executor(args.scheduler) as executor:
        progress = _WorkLine(unit, args.progress or sys.stderr.isatty())
        try:
            yield executor, progress
        finally:
            progress.close()
