"""``inkcore attribute``: which earlier points made the model predict a point, and how far
back the model looks over a corpus (:mod:`inkcore.backward`, :mod:`inkcore.lags`)."""
from __future__ import annotations

import argparse
import json

import numpy as np

from inkcore import backward, lags
from inkcore.cli_common import CommandError, corpus_job, example_lines, load_model, print_figures, read_line
from inkcore.evaluate import line_states

#: Rows the text report lists, the most attributed first.
SHOWN_ROWS = 10


def _line_for(args) -> np.ndarray:
    rows = read_line(args.strokes, args.line)
    if len(rows) < 2:
        raise CommandError(f"{args.strokes}: the line has {len(rows)} row{'' if len(rows) == 1 else 's'}; "
                           "attribution needs a point with points before it")
    if not 0 <= args.at < len(rows):
        raise CommandError(f"--at {args.at}: outside the line, whose rows are 0 to {len(rows) - 1}")
    return rows


def cell_attribution(model, rows: np.ndarray, at: int, gradient: backward.PointGradient) -> np.ndarray:
    """Each cell's attribution (cells,) at the step that predicts row ``at``: df/dc there
    times c's difference from its mean along the line."""
    c = line_states(model, rows).c  # (T, cells), the state at t predicts row t
    return gradient.c[at] * (c[at] - c.mean(axis=0))


def cmd_point(args) -> None:
    rows = _line_for(args)
    model, _ = load_model(args.weights)
    result: dict = {"at": args.at, "method": args.method}
    gradient = backward.point_gradient(model, rows, args.at)
    if args.method == "grad":
        result.update(log_likelihood=gradient.log_likelihood, gradient=gradient.rows.tolist())
        weights = gradient.rows * rows[: args.at] + 0.0  # + 0.0: no signed zeros in the report
    else:
        ig = backward.integrated_gradients(model, rows, args.at, steps=args.steps)
        result.update(attribution=ig.attribution.tolist(), log_likelihood=ig.log_likelihood,
                      baseline_log_likelihood=ig.baseline_log_likelihood, completeness=ig.completeness,
                      steps=args.steps, points=ig.points)
        weights = ig.attribution
    if args.cells:
        result["cells"] = cell_attribution(model, rows, args.at, gradient).tolist()
    if args.json:
        print(json.dumps(result))
        return
    _print_point(result, weights, args)


def _print_point(result: dict, weights: np.ndarray, args) -> None:
    print(f"log p(row {args.at}) = {result['log_likelihood']:.4f} nats")
    if args.method == "ig":
        print(f"baseline (all earlier rows zero) {result['baseline_log_likelihood']:.4f} nats; "
              f"completeness gap {100 * result['completeness']:.3f}% over {result['points']} gradients")
    mass = np.abs(weights).sum(axis=1)
    if not mass.sum():
        print("nothing comes before this point" if args.at == 0 else "no attribution: every earlier row is zero")
        return
    share = np.cumsum(mass[::-1]) / mass.sum()  # lag 1 first
    print(f"half of the attribution lies within {int(np.searchsorted(share, 0.5)) + 1} rows back, "
          f"90% within {int(np.searchsorted(share, 0.9)) + 1}")
    print(f"{'row':>6} {'lag':>5} {'dx':>9} {'dy':>9} {'pen':>9}")
    for j in np.argsort(-mass)[:SHOWN_ROWS]:
        dx, dy, pen = weights[j]
        print(f"{j:6d} {args.at - j:5d} {dx:9.4f} {dy:9.4f} {pen:9.4f}")
    if "cells" in result:
        cells = np.asarray(result["cells"])
        top = np.argsort(-np.abs(cells))[:SHOWN_ROWS]
        print("cells that mattered most: " + ", ".join(f"{k} ({cells[k]:+.3f})" for k in top))


def cmd_corpus(args) -> None:
    if args.every < 1:
        raise CommandError("--every must be at least 1")
    model, _ = load_model(args.weights)
    corpus = example_lines(args.examples, args.lines, args.split)
    with corpus_job(args) as (executor, progress):
        profile = lags.lag_profile(model, corpus, every=args.every, max_lag=args.max_lag, executor=executor,
                                   on_progress=progress)
    figures = profile.summary()
    if args.json:
        print(json.dumps({**figures, "shares": {name: shares.tolist() for name, shares in profile.shares().items()}}))
        return
    print_figures(figures, False, width=28)


def cmd_attribute(args) -> None:
    if (args.strokes is None) == (args.examples is None):
        raise CommandError("give --strokes F --at T for one point, or --examples for a corpus's lag profile")
    if args.strokes is not None:
        if args.at is None:
            raise CommandError("--at T: the row whose prediction is explained")
        cmd_point(args)
    else:
        cmd_corpus(args)


def add_verb(commands) -> argparse.ArgumentParser:
    from inkcore import verbs

    p = verbs._with_weights(commands.add_parser(
        "attribute", help="which earlier points made the model predict a point (--strokes, --at), or how far back "
                          "it looks over a corpus (--examples)"))
    p.add_argument("--strokes", help="a stroke file: JSON list of [dx, dy, pen] rows in model units")
    p.add_argument("--line", type=int, help="in a file of several lines, which one, from 1")
    p.add_argument("--at", type=int, help="the row T explained: f = log p(row T | a zero row, then rows 0..T-1)")
    p.add_argument("--method", choices=("grad", "ig"), default="ig",
                   help="ig: integrated gradients from all-zero rows (default); grad: the gradient of f")
    p.add_argument("--steps", type=int, default=backward.IG_STEPS,
                   help=f"integrated gradients' points on the path (default {backward.IG_STEPS})")
    p.add_argument("--cells", action="store_true",
                   help="also each cell's attribution at the step that predicts row T")
    verbs._with_examples(p, required=False)
    p.add_argument("--lines", type=int, help="with --examples: the first N lines")
    p.add_argument("--every", type=int, default=lags.EVERY, help=f"with --examples: a target every K rows "
                                                                  f"(default {lags.EVERY})")
    p.add_argument("--max-lag", type=int, default=lags.MAX_LAG,
                   help=f"with --examples: lags counted up to this (default {lags.MAX_LAG}); the rest is one bin")
    p.add_argument("--json", action="store_true")
    return p
