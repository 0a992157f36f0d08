"""inkcore from Python: load a model, then ask it what the command line and the pages ask.

::

    import inkcore
    model = inkcore.load()                  # the shipped model; "article", or a path
    line = model.sample(700, seed=1)        # (700, 3) rows dx, dy, pen
    cells = model.record(line)              # cells.h, cells.c: (700, 500)
    print(model.score(line).nll_per_point)  # nats per point
    fig = inkcore.figures.coloured_line(line, cells.c[:, 93])

:func:`load` returns a :class:`LoadedModel`, the engine's :class:`inkcore.model.Model`
with the file it came from. Each of its methods calls one engine function (named in
its docstring) with that function's defaults, so its numbers are the command line's:

* ``sample(steps, seed=s)`` is the line ``inkcore sample --n 1 --steps STEPS --seed S``
  writes, bit for bit before the stroke file rounds it to
  :data:`inkcore.data.STROKE_DECIMALS` decimals;
* ``record(rows)`` is the ``h`` and ``c`` that ``inkcore cells --strokes`` records,
  the state at step ``t`` having read rows ``0..t`` (:mod:`inkcore.recording`);
* ``score(rows)`` is ``inkcore score --strokes``: the evaluation protocol of
  :mod:`inkcore.evaluate`.

Randomness comes in as a seed: the same seed gives the same rows, and no seed a fresh
draw each call.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Sequence

import numpy as np

import inkcore.attribution as attribution
import inkcore.evaluate as evaluate
import inkcore.intervene as intervene
import inkcore.recording as recording
import inkcore.sampling as sampling
from inkcore.cells import probe_cells
from inkcore.cli_common import load_model, weights_path
from inkcore.features import (Dictionary, DictionaryError, dictionary_folders, file_sha256, find_dictionary,
                              load_dictionary)
from inkcore.features_eval import line_activations
from inkcore.model import Config, Hold, Model, Recording

__all__ = ["LoadedModel", "load"]


def load(name: str | os.PathLike | None = None) -> LoadedModel:
    """Load a model as the command line's ``--weights`` does, with the same checks.

    Parameters
    ----------
    name : str, path-like or None
        None for the shipped model (or the file ``$INKCORE_WEIGHTS`` names, as for the
        command line and the app); ``"article"`` for the article's model once
        downloaded (``inkcore download``, or a folder of its files named by
        ``$INKCORE_ARTICLE_DIR``); otherwise the path of an inkcore ``.npz`` or of the
        article's ``b64_weights.json``.

    Returns
    -------
    LoadedModel
        The model, its metadata and the path it was read from.

    Raises
    ------
    inkcore.weights.WeightsError
        The file is missing, a folder, empty, a pickle, damaged or of the wrong
        shapes; the message is the command line's, naming the file.
    inkcore.cli_common.CommandError
        No argument, and no shipped model is installed.
    inkcore.downloads.DownloadError
        ``"article"``, and the article's weights are not on this computer.
    """
    given = None if name is None else os.fspath(name)
    model, metadata = load_model(given)  # resolves the name as the command line does
    return LoadedModel(model, metadata, weights_path(given))


@dataclass(frozen=True, eq=False, repr=False)
class LoadedModel:
    """A model read from a weights file, with what the engine does with a model as methods.

    Attributes
    ----------
    model : inkcore.model.Model
        The weights, for the engine's own functions.
    metadata : dict
        The file's metadata (its config, provenance and measured figures).
    path : pathlib.Path
        The file the model was read from.
    """

    model: Model
    metadata: dict
    path: Path

    @property
    def config(self) -> Config:
        """The model's shapes and conventions (:class:`inkcore.model.Config`)."""
        return self.model.config

    def __repr__(self) -> str:  # the weights themselves are too many to print
        return f"LoadedModel('{self.path}', {self.config.cells} cells, {self.config.components} components)"

    def sample(self, steps: int, seed: int | None = None, variation: float = sampling.SAMPLE_VARIATION,
               hold: Hold | None = None) -> np.ndarray:
        """A line the model writes by itself from the zero state.

        Parameters
        ----------
        steps : int
            Rows to write.
        seed : int or None
            The seed of the line's ``numpy.random.default_rng``; None draws a fresh one.
        variation : float
            The article's variation (temperature), at least 0; 0.65 unless given.
        hold : inkcore.model.Hold or None
            Cells held at every step (:meth:`hold`).

        Returns
        -------
        numpy.ndarray
            Rows (steps, 3): dx, dy and the pen bit. Without a hold,
            :func:`inkcore.sampling.generate_seeded`'s line, as ``inkcore sample`` writes it.
        """
        if hold is None:
            return sampling.generate_seeded(self.model, steps, [seed], variation)[0].rows
        return sampling.generate(self.model, steps, np.random.default_rng(seed), variation, hold=hold)

    def record(self, rows: np.ndarray, hold: Hold | None = None) -> Recording:
        """The state along a line, as ``inkcore cells --strokes`` records it.

        Parameters
        ----------
        rows : numpy.ndarray
            The line's rows (T, 3).
        hold : inkcore.model.Hold or None
            Cells held at every step (:meth:`hold`).

        Returns
        -------
        inkcore.model.Recording
            ``h`` and ``c`` (T, cells): step ``t`` has read rows ``0..t``
            (:func:`inkcore.recording.record`).
        """
        return recording.record(self.model, rows, hold)

    def score(self, rows: np.ndarray, prime: np.ndarray | None = None, hold: Hold | None = None) -> evaluate.Score:
        """How well the model predicts a line, as ``inkcore score --strokes`` scores it.

        Parameters
        ----------
        rows : numpy.ndarray
            The line's rows (T, 3), every one scored.
        prime : numpy.ndarray or None
            Rows (P, 3) read first and not scored, as ``--prime``.
        hold : inkcore.model.Hold or None
            Cells held at every step (:meth:`hold`).

        Returns
        -------
        inkcore.evaluate.Score
            Mean negative log-likelihoods per point in nats (``nll_per_point``, its
            ``gauss_per_point`` and ``eos_per_point`` parts) and the points scored.
        """
        return evaluate.score(self.model, [rows], None if prime is None else [prime], hold)

    def continue_writing(self, rows: np.ndarray, steps: int, seed: int | None = None,
                         variation: float = sampling.WRITE_VARIATION, candidates: int = 1,
                         hold: Hold | None = None) -> sampling.Continuation:
        """Continuations of a writer's rows, as the Write page writes on.

        Parameters
        ----------
        rows : numpy.ndarray
            The writer's rows (T, 3), read first.
        steps : int
            Rows each continuation writes.
        seed : int or None
            The seed of the ``numpy.random.default_rng`` drawn from; None draws a fresh one.
        variation : float
            The variation; 0.1 unless given, the article's for continuing a reader's writing.
        candidates : int
            Continuations drawn side by side.
        hold : inkcore.model.Hold or None
            Cells held while reading and writing (:meth:`hold`).

        Returns
        -------
        inkcore.sampling.Continuation
            ``rows`` (candidates, steps, 3) and the pen-lift probability ``eos``
            (candidates, steps) each row was drawn with
            (:func:`inkcore.sampling.continue_writing`).
        """
        return sampling.continue_writing(self.model, rows, steps, np.random.default_rng(seed), variation, candidates,
                                         hold)

    def possible_futures(self, rows: np.ndarray, seed: int | None = None,
                         variation: float = sampling.SAMPLE_VARIATION, futures: int = sampling.FUTURES,
                         steps: int = sampling.FUTURE_STEPS, every: int = 1) -> sampling.Futures:
        """At every point of a line, short futures the model might write next.

        Parameters
        ----------
        rows : numpy.ndarray
            The line's rows (T, 3).
        seed : int or None
            The seed of the ``numpy.random.default_rng`` drawn from; None draws a fresh one.
        variation : float
            The variation of the futures; 0.65 unless given.
        futures : int
            Futures per point; the article's 50 unless given.
        steps : int
            Rows per future; the article's 8 unless given.
        every : int
            Draw after every ``every``-th point only (the others are NaN).

        Returns
        -------
        inkcore.sampling.Futures
            ``rows`` (T, futures, steps, 3), future ``[t, n]`` continuing after row
            ``t``, and ``eos`` (T,), the pen-lift probability the model gave each row
            (:func:`inkcore.sampling.possible_futures`).
        """
        return sampling.possible_futures(self.model, rows, np.random.default_rng(seed), variation, futures, steps,
                                         every=every)

    def probe(self, lines: Sequence[np.ndarray], top: int = 20, state: str = "c") -> dict[str, list[tuple[int, float]]]:
        """The cells that follow each feature of the pen's path over some lines, as
        ``inkcore probe`` ranks them.

        Parameters
        ----------
        lines : sequence of numpy.ndarray
            Lines of rows (T, 3) each.
        top : int
            Cells listed per feature.
        state : str
            ``"c"`` (the cell state, which the article's heatmaps show) or ``"h"``.

        Returns
        -------
        dict
            For each feature of :data:`inkcore.probes.FEATURES` (``pen_lift``,
            ``direction``, ...), the ``top`` cells as (cell, score), largest
            \\|score\\| first: Pearson's r, circular for ``direction``
            (:func:`inkcore.cells.probe_cells`).
        """
        return probe_cells(self.model, lines, top=top, state=state)

    def hold(self, cells: Sequence[int], how: str | float = "mean", lines: Sequence[np.ndarray] | None = None,
             factor: float | None = None) -> Hold:
        """An intervention on cells, for :meth:`sample`, :meth:`record`, :meth:`score`
        and :meth:`continue_writing`.

        Parameters
        ----------
        cells : sequence of int
            The cells held.
        how : str or float
            ``"mean"`` (their mean c over ``lines``), ``"zero"`` or a number to hold
            their c at.
        lines : sequence of numpy.ndarray or None
            The lines the mean is taken over (needed for ``"mean"``).
        factor : float or None
            Scale their c by this at every step instead of holding it.

        Returns
        -------
        inkcore.model.Hold
            The hold (:func:`inkcore.intervene.make_hold`).
        """
        return intervene.make_hold(self.model, cells, how, lines, factor)

    @cached_property
    def dictionary(self) -> Dictionary:
        """The sparse dictionary made for this model (beside the shipped weights or in the
        data folder's ``features/``), found by the weights file's sha256.

        Raises
        ------
        inkcore.features.DictionaryError
            No dictionary was made for this model, or its file cannot be used.
        """
        sha = file_sha256(self.path)
        found = find_dictionary(sha, dictionary_folders())
        if found is None:
            raise DictionaryError(f"{self.path}: no dictionary of features was made for this model; "
                                  "train one with `inkcore features train`")
        return load_dictionary(found, model_sha256=sha)

    def features(self, rows: np.ndarray) -> np.ndarray:
        """The dictionary's features along a line.

        Parameters
        ----------
        rows : numpy.ndarray
            The line's rows (T, 3).

        Returns
        -------
        numpy.ndarray
            Activations (T, F) of the states :meth:`record` records
            (:func:`inkcore.features_eval.line_activations`).
        """
        return line_activations(self.model, self.dictionary, rows)

    def explain(self, rows: np.ndarray, at: int, method: str = "ig") -> attribution.Explanation:
        """Why the model predicted row ``at`` of a line: each earlier row's and each cell's part.

        Parameters
        ----------
        rows : numpy.ndarray
            The line's rows (T, 3).
        at : int
            The index of the row explained (row 0 has no earlier rows to explain it by).
        method : str
            ``"ig"`` (integrated gradients from all-zero rows) or ``"grad"``
            (gradient times input).

        Returns
        -------
        inkcore.attribution.Explanation
            ``values`` (at, 3), each earlier row's attribution, and ``cells``
            (cells,), each cell's at the step that predicts row ``at``
            (:func:`inkcore.attribution.explain`).
        """
        return attribution.explain(self.model, rows, at, method)
