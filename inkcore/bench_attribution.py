"""The attribution section of ``python -m inkcore.bench`` (:mod:`inkcore.backward`).

One point's gradient through a line is set against a forward run of the same line
(the target: at most :data:`GRADIENT_TARGET_RUNS` runs); integrated gradients'
first pass of :data:`inkcore.backward.IG_STEPS` points against the matrix products
it cannot avoid (for every point of the path, ``h @ W_h`` forward and ``dz @ W_h.T``
back through the rows the baseline zeroes), with a target of :data:`IG_TARGET_S`
for a 1,000-point line, and beside it the same with the refinement that brings its
completeness gap under 0.5% (as many more points as the path needs).
"""
from __future__ import annotations

import numpy as np

from inkcore import backward
from inkcore.bench_timing import Row, measure
from inkcore.model import run
from inkcore.sampling import generate
from inkcore.strokes import model_inputs

ATTRIBUTION_POINTS = 1000
GRADIENT_TARGET_RUNS = 3.0
IG_TARGET_S = 2.0


def bench_attribution(context) -> list:
    model = context.model
    line = generate(model, ATTRIBUTION_POINTS, np.random.default_rng(1))
    at = len(line) - 1
    inputs = model_inputs(line)[:, None, :].astype(model.dtype)
    gradient, forward_run = measure([lambda: backward.point_gradient(model, line, at), lambda: run(model, inputs)],
                                    loops=1, repeats=5)
    rows = [Row(f"one point's gradient through {at} steps", gradient, forward_run,
                f"<= {GRADIENT_TARGET_RUNS:g}x a forward run (the bound column)",
                gradient.best <= GRADIENT_TARGET_RUNS * forward_run.best)]
    window = min(at, backward.IG_WINDOW)
    h = np.zeros((backward.IG_BATCH, model.config.cells), model.dtype)
    dz = np.zeros((backward.IG_BATCH, 4 * model.config.cells), model.dtype)

    def bound():
        for _ in range(backward.IG_STEPS // backward.IG_BATCH):
            for _ in range(window):
                h @ model.W_h
                dz @ model.W_h.T

    one_pass, refined = [], []
    ig, ig_bound, full = measure([
        lambda: one_pass.append(backward.integrated_gradients(model, line, at, gap=float("inf"))), bound,
        lambda: refined.append(backward.integrated_gradients(model, line, at))], loops=1, repeats=3)
    rows.append(Row(f"integrated gradients, {backward.IG_STEPS} steps, last {window} rows", ig, ig_bound,
                    f"<= {IG_TARGET_S:g} s; gap {100 * one_pass[-1].completeness:.2f}%", ig.best <= IG_TARGET_S))
    rows.append(Row("  the same, refined until its gap is under 0.5%", full, None,
                    f"gap {100 * refined[-1].completeness:.2f}% over {refined[-1].points} gradients"))
    return rows
