"""The LSTM state along lines of model rows: every recording in inkcore is made here.

A line is read from the zero state by one of two conventions, named by
``after_zero_row``; what the state at step ``t`` has read differs by one row:

* ``after_zero_row=False``: the model reads the line's rows themselves, so the
  state at step ``t`` has read rows ``0..t``. It lines up with what row ``t``
  describes (the pen lift it reports, the position it reaches): the cell pages,
  the probes and ``python -m inkcore cells`` record this way.
* ``after_zero_row=True``: the model reads one zero row and then every row but
  the last (:func:`inkcore.strokes.model_inputs`), so the state at step ``t``
  has read rows ``0..t-1`` and its mixture predicts row ``t``: the evaluation
  protocol (:mod:`inkcore.evaluate`), cell means and the futures drawn after
  each point record this way.

:func:`record` reads one line; :func:`record_spans` reads many side by side, span
by span, as corpus work does (:mod:`inkcore.corpus`). Both read the same rows
for the same convention (:func:`model_reads`).
"""
from __future__ import annotations

from typing import Iterator, Sequence

import numpy as np

from inkcore.model import Hold, Model, Recording, Span, mixture, run, run_ragged
from inkcore.strokes import as_rows, model_inputs

__all__ = ["model_reads", "record", "record_spans", "recording_arrays"]


def model_reads(rows: np.ndarray, after_zero_row: bool) -> np.ndarray:
    """The rows (T, 3) the model reads to record ``rows`` (T, 3) by a convention:
    the rows themselves, or after a zero row every row but the last."""
    rows = np.asarray(rows, dtype=np.float64)
    return model_inputs(rows) if after_zero_row else rows


def record(model: Model, rows: np.ndarray, hold: Hold | None = None, after_zero_row: bool = False) -> Recording:
    """The state along one line of model rows ``rows`` (T, 3), read from the zero state.

    Returns h, c of shape (T, cells). ``h[t]`` has read rows ``0..t``, or with
    ``after_zero_row`` the zero row and rows ``0..t-1``, so that its mixture
    predicts row ``t`` (see the module docstring). ``hold`` (shaped (cells,))
    holds its cells at every step.
    """
    rows = as_rows(rows)
    # (T, 1, cells); one BLAS thread, as run() does for one pen
    recording = run(model, model_reads(rows, after_zero_row)[:, None, :], hold=hold)
    return Recording(recording.h[:, 0], recording.c[:, 0])


def record_spans(model: Model, lines: Sequence[np.ndarray], hold: Hold | None = None, after_zero_row: bool = False,
                 span_steps: int | None = None) -> Iterator[Span]:
    """The states along ``lines`` (each (T_b, 3) model rows, longest first) read side
    by side from the zero state, span by span (:func:`inkcore.model.run_ragged`).

    Step ``t`` of line ``b`` has read its rows ``0..t``, or with ``after_zero_row``
    the zero row and rows ``0..t-1``, as in :func:`record`. ``hold`` is (cells,)
    for every line alike or (B, cells), row ``b`` for line ``b``.
    """
    yield from run_ragged(model, [model_reads(rows, after_zero_row) for rows in lines], hold, span_steps)


def recording_arrays(model: Model, recording: Recording) -> dict[str, np.ndarray]:
    """A recording's h and c (T, cells) and the mixture each h gives, as named arrays:
    what ``python -m inkcore cells`` writes (pi, mu and sigma (T, components), eos (T,))."""
    mix = mixture(model, recording.h)
    return {
        "h": recording.h, "c": recording.c,
        "pi": mix.pi, "mu_x": mix.mu_x, "mu_y": mix.mu_y,
        "sigma_x": mix.sigma_x, "sigma_y": mix.sigma_y, "rho": mix.rho, "eos": mix.eos,
    }
