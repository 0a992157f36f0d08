"""``inkcore adapt``: a copy of a model fitted to a few lines of one writer (:mod:`inkcore.adapt`)."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from inkcore import adapt
from inkcore.cli_common import CommandError, load_model, weights_path
from inkcore.data import lines_from_json, read_stroke_json
from inkcore.features import file_sha256
from inkcore.weights import save_npz, shipped_weights


def add_verb(commands) -> argparse.ArgumentParser:
    p = commands.add_parser("adapt", help="fit a copy of a model to a few lines of one writer's handwriting")
    p.add_argument("--weights", help=f"the model to adapt (default {shipped_weights()}); 'article' for the article's")
    p.add_argument("--strokes", required=True, nargs="+", metavar="FILE",
                   help="stroke files of one writer: JSON lists of [dx, dy, pen] rows in model units, or lists "
                        "of such lines; at least two lines in all, the last is held out to stop early")
    p.add_argument("--out", required=True, help="the adapted model's weights file (.npz)")
    p.add_argument("--method", choices=tuple(adapt.METHODS), default=adapt.DEFAULT_METHOD,
                   help="what is trained: " + "; ".join(f"{k}: {v}" for k, v in adapt.METHODS.items())
                        + f" (default {adapt.DEFAULT_METHOD})")
    p.add_argument("--steps", type=int, default=adapt.MAX_STEPS, help="at most this many updates")
    p.add_argument("--seconds", type=float, default=adapt.SECONDS,
                   help=f"stop after this many seconds, keeping the best update so far (default {adapt.SECONDS:.0f})")
    p.add_argument("--name", help="whose hand it is, for the model's name (default: the --out file's name)")
    p.add_argument("--progress", action="store_true",
                   help="each update's NLL per point on stderr (shown anyway on a terminal)")
    p.add_argument("--json", action="store_true")
    return p


def _writer_lines(paths: list[str]) -> tuple[list, list[str]]:
    lines, names = [], []
    for path in paths:
        found = lines_from_json(read_stroke_json(path), path)
        for k, rows in enumerate(found):
            lines.append(rows)
            names.append(path if len(found) == 1 else f"{path} line {k + 1}")
    return lines, names


def _writable(out: Path) -> Path:
    """``out`` if a file can be written there, refusing before any training."""
    if out.is_dir():
        raise CommandError(f"--out {out}: is a folder; give a file name such as {out / 'adapted.npz'}")
    folder = out.parent if str(out.parent) else Path(".")
    if folder.exists() and not folder.is_dir():
        raise CommandError(f"--out {out}: {folder} is a file, not a folder")
    if not folder.is_dir():
        raise CommandError(f"--out {out}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise CommandError(f"--out {out}: cannot be written here (no permission)")
    return out


def cmd_adapt(args) -> None:
    out = _writable(Path(args.out))
    lines, names = _writer_lines(args.strokes)
    if args.steps < 1:
        raise CommandError("--steps must be at least 1")
    if not args.seconds > 0:
        raise CommandError("--seconds must be more than 0")
    try:
        lines = adapt.checked_lines(lines)
    except adapt.AdaptError as error:
        raise CommandError(f"{', '.join(args.strokes)}: {error}") from None
    base_path = weights_path(args.weights)
    model, metadata = load_model(args.weights)
    shown = args.progress or sys.stderr.isatty()

    def report(step: adapt.Step) -> None:
        if shown:
            mark = " *" if step.best else ""
            print(f"update {step.step:3d}: fitted {step.fit_nll:.4f}, held out {step.held_out_nll:.4f} nats/point{mark}",
                  file=sys.stderr, flush=True)

    result = adapt.adapt(model, lines, args.method, steps=args.steps, seconds=args.seconds, on_step=report)
    record = adapt.adapted_metadata(result, file_sha256(base_path), metadata, names)
    name = args.name or out.stem
    record["name"] = f"{metadata.get('name') or 'inkcore’s model'}, adapted to {name}"
    try:
        save_npz(out, result.model, **record)
    except OSError as error:
        raise CommandError(f"--out {out}: cannot be written ({error.strerror or error})") from None
    figures = {"out": str(out), "method": result.method, **result.figures()}
    if args.json:
        print(json.dumps(figures))
        return
    held = figures["held_out_nll"]
    print(f"{out}: {adapt.METHODS[result.method]} adapted in {result.best_step} updates "
          f"({figures['steps_run']} run, {figures['stopped']}, {result.seconds:.1f} s)")
    print(f"held-out line {names[result.held_out]}: {held['base']:.4f} -> {held['adapted']:.4f} nats/point")

