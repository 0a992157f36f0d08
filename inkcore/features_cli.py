"""``inkcore features train|eval|info|top|encode``: dictionaries of a model's state from
the command line (:mod:`inkcore.features`; training in :mod:`inkcore.features_train`)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from inkcore import verbs
from inkcore.cli_common import CommandError, corpus_job, example_lines, load_model, read_line, weights_path
from inkcore.features import (SUFFIX, Dictionary, DictionaryError, dictionary_folders, file_sha256, find_dictionary,
                              load_dictionary, save_dictionary)
from inkcore.features_eval import evaluate_dictionary, event_table, line_activations, top_places

#: Lines of the line set's val split that ``train`` measures its dictionary on.
MEASURE_LINES = 200


def chosen_dictionary(args) -> tuple[object, Dictionary]:
    """The model ``--weights`` names and its dictionary: ``--dictionary``, else the one made
    for it (found by its sha256 beside the shipped weights or in the data folder)."""
    model, _ = load_model(args.weights)
    sha = file_sha256(weights_path(args.weights))
    path = args.dictionary or find_dictionary(sha, dictionary_folders())
    if path is None:
        raise CommandError("this model has no dictionary: train one with `inkcore features train --weights W "
                           "--data lines.npz --out W.features.npz`, or pass --dictionary")
    return model, load_dictionary(path, model_sha256=sha)


def cmd_train(args) -> None:
    try:
        from inkcore import features_train
    except ImportError:
        raise CommandError("training needs PyTorch: pip install 'inkcore[train]' (see docs/training.md)") from None
    if Path(args.data).suffix != ".npz":
        raise CommandError(f"{args.data}: --data is a line set .npz (inkcore import-iam)")
    if not args.out.endswith(".npz"):
        raise CommandError(f"{args.out}: the dictionary is written as a .npz")
    model, _ = load_model(args.weights)
    init = None
    if args.init is not None:
        init = load_dictionary(args.init, model_sha256=file_sha256(weights_path(args.weights)))
    lines = example_lines(args.data, split="train")
    chosen = np.sort(np.random.default_rng(args.seed).choice(len(lines), min(args.lines, len(lines)), replace=False))
    given = {name: getattr(args, name) for name in ("features", "k", "state", "steps", "readout_from",
                                                    "readout_weight") if getattr(args, name) is not None}
    settings = features_train.Settings(lines=len(chosen), seed=args.seed, **given)
    log = (lambda message: print(message, file=sys.stderr, flush=True)) if args.progress or sys.stderr.isatty() \
        else (lambda message: None)
    dictionary = features_train.train(
        model, str(weights_path(args.weights)), [lines.rows(i) for i in chosen], args.run_dir, settings,
        trained_on=f"{Path(args.data).name}, train split: {len(chosen)} lines chosen with seed {args.seed}", log=log,
        init=init)
    measured = example_lines(args.data, split="val").head(MEASURE_LINES)
    dictionary = measure_into(model, dictionary, measured, f"{Path(args.data).name}, val split, first "
                              f"{len(measured)} lines")
    save_dictionary(args.out, dictionary)
    print(json.dumps(dictionary.metadata["figures"]))


def measure_into(model, dictionary: Dictionary, lines, described: str) -> Dictionary:
    """The dictionary with its measured figures and every feature's label in its metadata."""
    figures = evaluate_dictionary(model, dictionary, lines)
    table = event_table(model, dictionary, list(lines))
    metadata = {**dictionary.metadata, "figures": {**figures, "lines": described}, "labels": table.labels,
                "events": table.rows(), "features_monosemantic": table.features_monosemantic,
                "cells_monosemantic": table.cells_monosemantic}
    return Dictionary(dictionary.W_enc, dictionary.b_enc, dictionary.W_dec, dictionary.b_dec, dictionary.scale,
                      dictionary.threshold, metadata)


def cmd_eval(args) -> None:
    model, dictionary = chosen_dictionary(args)
    lines = example_lines(args.examples, args.lines, args.split)
    with corpus_job(args) as (executor, progress):
        result = evaluate_dictionary(model, dictionary, lines, executor, progress)
    if args.events:
        table = event_table(model, dictionary, list(lines))
        result.update(events=table.rows(), features_monosemantic=table.features_monosemantic,
                      cells_monosemantic=table.cells_monosemantic)
    if args.json:
        print(json.dumps(result))
        return
    for key, value in result.items():
        if key == "events":
            print(f"{'event':26s} {'feature':>7s} {'AUC':>6s} {'cell':>5s} {'AUC':>6s}")
            for row in value:
                print(f"{row['event']:26s} {row['feature']:7d} {row['feature_auc']:6.3f} {row['cell']:5d} "
                      f"{row['cell_auc']:6.3f}")
        else:
            print(f"{key:22s} {value:.4f}" if isinstance(value, float) else f"{key:22s} {value}")


def cmd_info(args) -> None:
    _, dictionary = chosen_dictionary(args)
    meta = {key: value for key, value in dictionary.metadata.items() if key not in ("labels", "events")}
    meta.update(features=dictionary.features, state_size=dictionary.size)
    print(json.dumps(meta, indent=2, sort_keys=True))


def cmd_top(args) -> None:
    model, dictionary = chosen_dictionary(args)
    lines = example_lines(args.examples, args.lines, args.split)
    if args.n < 1:
        raise CommandError("--n must be at least 1")
    with corpus_job(args) as (executor, progress):
        places = top_places(model, dictionary, args.feature, lines, args.n, executor, progress)
    rows = [place._asdict() for place in places]
    if args.json:
        print(json.dumps({"feature": args.feature, "label": dictionary.label(args.feature), "places": rows}))
        return
    print(f"feature {args.feature}: {dictionary.label(args.feature)}")
    for place in places:
        print(f"{place.name:>16s} point {place.point:5d} (points {place.start}-{place.stop - 1}) "
              f"activation {place.activation:.3f}")


def cmd_encode(args) -> None:
    if not args.out.endswith(".npz"):
        raise CommandError(f"{args.out}: the activations are written as a .npz")
    rows = read_line(args.strokes, args.line)
    if len(rows) == 0:
        raise CommandError(f"{args.strokes}: holds no rows")
    model, dictionary = chosen_dictionary(args)
    activations = line_activations(model, dictionary, rows)
    partial = Path(args.out + ".partial.npz")
    np.savez_compressed(partial, activations=activations.astype(np.float32),
                        metadata=np.array(json.dumps({"state": dictionary.state, "model_sha256":
                                                      dictionary.model_sha256, "convention": "step t has read rows 0..t"})))
    partial.replace(args.out)
    print(f"{len(rows)} steps x {dictionary.features} features, {float((activations > 0).sum(1).mean()):.1f} "
          f"active a step, written to {args.out}")


def add_verb(commands) -> argparse.ArgumentParser:
    p = commands.add_parser("features", help="dictionaries of the model's state: train, eval, info, top, encode")
    steps = p.add_subparsers(dest="features_command", required=True, parser_class=type(p))

    def dictionary_options(q, examples: bool):
        verbs._with_weights(q)
        q.add_argument("--dictionary", help=f"a dictionary .npz (default: the one made for the model, "
                                            f"*{SUFFIX} beside the shipped weights or in the data folder)")
        if examples:
            verbs._with_examples(q)
            q.add_argument("--lines", type=int, help="only the first N lines")
        return q

    q = verbs._with_weights(steps.add_parser("train", help="train a TopK dictionary (needs the train extra)"))
    q.add_argument("--data", required=True, help="a line set .npz (inkcore import-iam); its train split is read")
    q.add_argument("--out", required=True, help=f"the dictionary, e.g. inkcore{SUFFIX}")
    q.add_argument("--run-dir", default="runs/features", help="states and checkpoints; a run resumes from here")
    q.add_argument("--lines", type=int, default=1600, help="train lines whose states it learns from")
    q.add_argument("--steps", type=int, help="training steps (default 5,000)")
    q.add_argument("--readout-from", type=int,
                   help="the step (default 3,000) from which the loss also counts what the reconstruction costs the mixture")
    q.add_argument("--readout-weight", type=float,
                   help="that cost's weight, per nat per point (default 0.1; 0: squared error alone)")
    q.add_argument("--features", type=int, help="the dictionary's size (default 4,096)")
    q.add_argument("--k", type=int, help="features active per state (default 32)")
    q.add_argument("--state", choices=("c", "h"), help="the state it describes (default c)")
    q.add_argument("--init", metavar="D.npz",
                   help="warm start from a dictionary of this model trained with the same settings, counted as the "
                        "steps it ran (used only when the run folder holds no checkpoint)")
    q.add_argument("--seed", type=int, default=0)
    q.add_argument("--progress", action="store_true", help="log steps on stderr (shown anyway on a terminal)")
    q.set_defaults(features_run=cmd_train)
    q = dictionary_options(steps.add_parser("eval", help="FVE, L0, dead features and loss recovered"), True)
    q.add_argument("--events", action="store_true", help="also the best feature and cell for each stroke event")
    q.add_argument("--json", action="store_true")
    q.set_defaults(features_run=cmd_eval)
    dictionary_options(steps.add_parser("info", help="a dictionary's metadata"), False).set_defaults(features_run=cmd_info)
    q = dictionary_options(steps.add_parser("top", help="the places where a feature is most active"), True)
    q.add_argument("feature", type=int)
    q.add_argument("--n", type=int, default=12)
    q.add_argument("--json", action="store_true")
    q.set_defaults(features_run=cmd_top)
    q = dictionary_options(steps.add_parser("encode", help="every step's feature activations of a stroke file"),
                           False)
    q.add_argument("--strokes", required=True)
    q.add_argument("--line", type=int, help="in a file of several lines, which one, from 1")
    q.add_argument("--out", required=True, help="an .npz with activations (T, F)")
    q.set_defaults(features_run=cmd_encode)
    return p


def run(args) -> None:
    try:
        args.features_run(args)
    except DictionaryError as error:
        raise CommandError(str(error)) from None
