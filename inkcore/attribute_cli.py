"""``inkcore attribute``: which earlier points made the model predict a point, and how far
back the model looks over a corpus (:mod:`inkcore.backward`, :mod:`inkcore.lags`)."""
from __future__ import annotations

import argparse
import json

import numpy as np

from inkcore import attribution, backward, lags
from inkcore.cli_common import CommandError, corpus_job, example_lines, load_model, print_figures, read_line

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


def cmd_point(args) -> None:
    rows = _line_for(args)
    model, _ = load_model(args.weights)
    window = args.window if args.window > 0 else None
    explained = attribution.explain(model, rows, args.at, args.method, args.steps, window)
    result: dict = {"at": args.at, "method": args.method, "log_likelihood": explained.log_likelihood}
    if args.method == "grad":
        result["gradient"] = explained.gradient.tolist()
    else:
        result.update(attribution=explained.values.tolist(), baseline_log_likelihood=explained.baseline_log_likelihood,
                      completeness=explained.completeness, steps=args.steps, points=explained.points,
                      window=window, first=explained.first)
    if args.cells:
        result["cells"] = explained.cells.tolist()
    if args.json:
        print(json.dumps(result))
        return
    _print_point(explained, args.cells)


def _print_point(explained: attribution.Explanation, cells: bool) -> None:
    print(f"log p(row {explained.at}) = {explained.log_likelihood:.4f} nats")
    if explained.method == "ig":
        print(f"baseline (rows {explained.first} to {explained.at - 1} zero) {explained.baseline_log_likelihood:.4f} nats; "
              f"completeness gap {100 * explained.completeness:.3f}% over {explained.points} gradients")
    mass = np.abs(explained.values).sum(axis=1)
    if not mass.sum():
        print("nothing comes before this point" if explained.at == 0 else "no attribution: every earlier row is zero")
        return
    print(f"half of the attribution lies within {explained.within(0.5)} rows back, 90% within {explained.within(0.9)}")
    print(f"{'row':>6} {'lag':>5} {'dx':>9} {'dy':>9} {'pen':>9}")
    for j in np.argsort(-mass)[:SHOWN_ROWS]:
        dx, dy, pen = explained.values[j]
        print(f"{j:6d} {explained.at - j:5d} {dx:9.4f} {dy:9.4f} {pen:9.4f}")
    if cells:
        top = np.argsort(-np.abs(explained.cells))[:SHOWN_ROWS]
        print("cells that mattered most: " + ", ".join(f"{k} ({explained.cells[k]:+.3f})" for k in top))


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
                   help="ig: integrated gradients from zero rows (default; see --window); grad: the gradient of f")
    p.add_argument("--steps", type=int, default=backward.IG_STEPS,
                   help=f"integrated gradients' points on the path (default {backward.IG_STEPS})")
    p.add_argument("--window", type=int, default=backward.IG_WINDOW,
                   help=f"integrated gradients' baseline zeroes the last N rows before T, the rest kept as they are "
                        f"(default {backward.IG_WINDOW}; 0: every earlier row, which a long line's path may not "
                        "integrate: docs/attribution.md)")
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
