"""Why the model predicted a point: each earlier row's attribution, by lag, and the cells
(and features) that mattered at the step that predicted it (:mod:`inkcore.backward`)."""
from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

import inkcore.backward as backward
from inkcore.evaluate import line_states
from inkcore.lags import within
from inkcore.model import Model

METHODS = ("ig", "grad")


class Explanation(NamedTuple):
    at: int  # the row explained: f = log p(row at | a zero row, then rows 0..at-1)
    method: str  # "ig": integrated gradients from all-zero rows; "grad": gradient times input
    log_likelihood: float
    baseline_log_likelihood: float  # f with every earlier row zero; NaN for "grad"
    values: np.ndarray  # (at, 3) each earlier row's attribution, by dx, dy and pen
    completeness: float  # integrated gradients' gap as a share of f - f(baseline); NaN for "grad"
    points: int  # gradients taken
    first: int  # the first row integrated gradients' baseline zeroes (the rows before keep their values)
    gradient: np.ndarray  # (at, 3) df/d(row j)
    cells: np.ndarray  # (cells,) each cell's attribution at the step that predicts row at
    cell_gradient: np.ndarray  # (cells,) df/dc at that step, h following c
    state: np.ndarray  # (cells,) c at that step

    def row_values(self) -> np.ndarray:
        """Each earlier row's attribution (at,), its three parts summed."""
        return self.values.sum(axis=1)

    def lag_mass(self) -> np.ndarray:
        """Each lag's share of the attribution mass (at,), lag 1 (the row just before) first."""
        mass = np.abs(self.values).sum(axis=1)[::-1]
        return mass / mass.sum() if mass.sum() > 0 else mass

    def within(self, level: float) -> int | None:
        """The fewest rows back that hold ``level`` of the attribution mass."""
        return within(np.append(self.lag_mass(), 0.0), level)  # no mass beyond the line


def explain(model: Model, rows: np.ndarray, at: int, method: str = "ig", steps: int = backward.IG_STEPS,
            window: int | None = backward.IG_WINDOW, report: Callable[[float], None] | None = None) -> Explanation:
    """Explain the model's prediction of row ``at`` of ``rows`` (``steps`` and ``window``: see
    :func:`inkcore.backward.integrated_gradients`)."""
    if method not in METHODS:
        raise ValueError(f"method {method!r} is not one of {', '.join(METHODS)}")
    rows = np.asarray(rows, np.float64)
    gradient = backward.point_gradient(model, rows, at)
    if report is not None:
        report(0.1)
    if method == "ig":
        ig = backward.integrated_gradients(model, rows, at, steps=steps, window=window)
        values, baseline, completeness, points, first = (ig.attribution, ig.baseline_log_likelihood, ig.completeness,
                                                         ig.points, ig.first)
    else:  # + 0.0: no signed zeros where a row's value is zero
        values, baseline, completeness, points, first = gradient.rows * rows[:at] + 0.0, float("nan"), float("nan"), 1, 0
    c = line_states(model, rows).c  # (T, cells), the state at t predicts row t
    cells = gradient.c[at] * (c[at] - c.mean(axis=0))
    if report is not None:
        report(1.0)
    return Explanation(at, method, gradient.log_likelihood, baseline, values, completeness, points, first,
                       gradient.rows, cells, gradient.c[at], gradient.states.c[at])


def feature_attribution(dictionary, state: np.ndarray, cell_gradient: np.ndarray) -> np.ndarray:
    """Each feature's attribution (F,) at a step of state ``state`` (cells,) of the
    dictionary's kind: its activation times the gradient along its decoder direction
    (the reconstruction's first-order share of the prediction)."""
    from inkcore.features import encode

    a = encode(dictionary, state[None])[0]
    return a * ((dictionary.W_dec * dictionary.scale) @ cell_gradient)
