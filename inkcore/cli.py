"""``inkcore`` (or ``python -m inkcore``): evaluate, score, record cells, sample, probe, inspect models,
fetch the article's, read pen input.

Every failure is one line on stderr and a non-zero exit status.
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
from pathlib import Path

import numpy as np

from inkcore import adapt_cli, attribute_cli, corpus, downloads, features_cli, pen, render, verbs
# DEFAULT_WEIGHTS, WEIGHTS_ENV and default_weights are also read from here by the app and the benchmark.
from inkcore.cli_common import (DEFAULT_WEIGHTS, WEIGHTS_ENV, CommandError, corpus_job, default_weights,  # noqa: F401
                                example_lines, load_model, print_figures, read_line)
from inkcore.data import DataError, lines_from_json, read_stroke_json, stroke_json
from inkcore.evaluate import by_motion, score, score_of
from inkcore.intervene import RANK_LINES
from inkcore.motion import MOTION_KINDS
from inkcore.recording import record, recording_arrays
from inkcore.sampling import generate_seeded
from inkcore.weights import WeightsError

#: ``match`` counts cells whose counterpart correlates at least this closely (|r|).
MATCH_CLOSE = 0.8
#: An events file larger than this is refused before it is read (pen.MAX_EVENTS events take a few MB).
MAX_EVENTS_JSON_BYTES = 32 * 2**20


def cmd_evaluate(args) -> None:
    model, _ = load_model(args.weights)
    lines = example_lines(args.examples, split=args.split)
    with corpus_job(args) as (executor, progress):
        sums = corpus.score_sums(model, lines, executor=executor, on_progress=progress)
    result = score_of(sums).to_dict()
    if args.by_motion:
        result["by_motion"] = by_motion(sums)
    if args.json:
        print(json.dumps(result))
        return
    for key, value in result.items():
        if key == "by_motion":
            for kind, part in value.items():
                print(f"{kind + ' points':16s} {part['share']:6.1%} of points, offsets "
                      f"{part['gauss_per_point']:+.4f} ({MOTION_KINDS[kind]})")
        else:
            print(f"{key:16s} {value:.4f}" if isinstance(value, float) else f"{key:16s} {value}")


def cmd_score(args) -> None:
    """The evaluation protocol on the lines of one or more stroke files, each read after --prime's rows."""
    lines = [rows for path in args.strokes for rows in lines_from_json(read_stroke_json(path), path)]
    if not any(len(rows) for rows in lines):
        raise CommandError(f"{', '.join(args.strokes)}: holds no rows to score")
    prime = read_line(args.prime, pick="a prime is one line") if args.prime else np.zeros((0, 3))
    model, _ = load_model(args.weights)
    with corpus_job(args) as (executor, progress):
        sums = corpus.score_sums(model, corpus.corpus_of(lines), primes=[prime] * len(lines), executor=executor,
                                 on_progress=progress)
    if print_figures(score_of(sums).to_dict(), args.json):
        return
    if args.prime:
        print(f"(after reading {len(prime)} rows of {args.prime}, which are not scored)")


def cmd_read_pen(args) -> None:
    """Pointer events to the rows the pages feed the model (inkcore.pen.read_strokes)."""
    given = args.units_per_pixel
    if given is not None and not (math.isfinite(given) and given > 0):
        raise CommandError(f"--units-per-pixel must be a positive number of whiteboard units per CSS pixel, not {given}")
    if Path(args.out).suffix != ".json":
        raise CommandError(f"{args.out}: the output must end in .json (a stroke file)")
    events = args.events
    if Path(events).stat().st_size > MAX_EVENTS_JSON_BYTES:
        raise CommandError(f"{events}: larger than {MAX_EVENTS_JSON_BYTES // 2**20} MB, not one drawing")
    strokes = pen.read_events_json(Path(events).read_bytes(), events)
    model = load_model(args.weights)[0] if given is None else None  # the model estimates the scale
    try:
        reading = pen.read_strokes(strokes, model, units_per_pixel=given)
    except pen.PenError as error:
        raise CommandError(f"{events}: {error}") from None
    if reading.points == 0:
        raise CommandError(f"{events}: holds no pointer events")
    if reading.points == 1:
        raise CommandError(f"{events}: a single dot (one pen position) gives the model no rows; write a word or two")
    Path(args.out).write_text(json.dumps([[dx, dy, int(lift)] for dx, dy, lift in reading.rows.tolist()]))
    how = "estimated by the model" if reading.estimated else "given"
    print(f"{len(reading.rows)} rows from {reading.points} pen positions; scale {reading.units_per_pixel:.3f} "
          f"whiteboard units per CSS pixel ({how}); pen time stretched x{reading.speed_factor:.2f}", file=sys.stderr)
    if reading.truncated:
        print(f"the first {reading.truncated} rows were dropped: the model reads the last {len(reading.rows)}",
              file=sys.stderr)
    print(f"wrote {args.out}", file=sys.stderr)


def cmd_cells(args) -> None:
    if args.examples:
        return cells_of_corpus(args)
    if not args.strokes:
        raise CommandError("give --strokes FILE (one line) or --examples (a corpus, one file per line)")
    if Path(args.out).suffix not in (".npz", ".csv"):
        # np.savez would quietly write "<out>.npz" instead
        raise CommandError(f"{args.out}: the output must end in .npz or .csv")
    model, _ = load_model(args.weights)
    rows = read_line(args.strokes, args.line)
    if len(rows) == 0:
        raise CommandError(f"{args.strokes}: holds no rows")
    out = recording_arrays(model, record(model, rows))
    path = Path(args.out)
    if path.suffix == ".csv":
        write_cells_csv(path, out)
    else:
        np.savez_compressed(path, **out)
    print(f"wrote {len(rows)} steps to {path}", file=sys.stderr)


def cells_of_corpus(args) -> None:
    """``cells --examples``: every line's recording as OUT/<line>.npz, written batch by batch."""
    out = Path(args.out)
    if out.suffix or (out.exists() and not out.is_dir()):
        raise CommandError(f"{args.out}: with --examples the output is a folder (one .npz per line)")
    if args.strokes or args.line is not None:
        raise CommandError("--examples records a corpus: it takes no --strokes or --line")
    model, _ = load_model(args.weights)
    lines = example_lines(args.examples, split=args.split)
    out.mkdir(parents=True, exist_ok=True)
    written = 0
    with corpus_job(args) as (executor, progress):
        for index, arrays in corpus.recordings(model, lines, executor, progress):
            np.savez_compressed(out / f"{lines.names[index]}.npz", **arrays)
            written += 1
    print(f"wrote {written} lines' cells to {out}", file=sys.stderr)


def write_cells_csv(path: Path, arrays: dict) -> None:
    """One row per step; columns named like h_0 ... h_499, pi_0 ..., eos."""
    header, columns = ["step"], [np.arange(len(arrays["eos"]))[:, None]]
    for name, values in arrays.items():
        values = values.reshape(len(values), -1)
        header += [name] if values.shape[1] == 1 else [f"{name}_{k}" for k in range(values.shape[1])]
        columns.append(values)
    table = np.hstack(columns)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for t, row in enumerate(table):
            writer.writerow([t] + [f"{v:.6g}" for v in row[1:]])


def cmd_sample(args) -> None:
    if args.n < 1 or args.steps < 1 or not 0 <= args.variation < math.inf:
        raise CommandError("--n and --steps must be at least 1 and --variation a number of at least 0")
    if args.seed < 0:
        raise CommandError(f"--seed must be a whole number of at least 0, not {args.seed}")
    if Path(args.out).suffix not in (".svg", ".png", ".json"):  # before minutes of sampling, not after
        raise CommandError(f"{args.out}: the output must end in .svg, .png or .json")
    model, _ = load_model(args.weights)
    # line k is the line seed + k writes alone, as the Samples page labels it
    lines = generate_seeded(model, args.steps, range(args.seed, args.seed + args.n), args.variation)
    rows = [line.rows for line in lines]
    path = Path(args.out)
    if path.suffix == ".svg":
        path.write_text(render.to_svg(list(rows)))
    elif path.suffix == ".png":
        path.write_bytes(render.to_png(list(rows)))
    else:  # .json
        path.write_text(stroke_json(rows))
    print(f"wrote {args.n} samples of {args.steps} steps to {path}", file=sys.stderr)


def cmd_info(args) -> None:
    _, metadata = load_model(args.weights)
    print(json.dumps(metadata, indent=2))


def cmd_probe(args) -> None:
    from inkcore.cells import probe_cells

    model, _ = load_model(args.weights)
    lines = example_lines(args.examples, split=args.split)
    with corpus_job(args) as (executor, progress):
        ranking = probe_cells(model, lines, top=args.top, executor=executor, on_progress=progress)
    if args.json:
        print(json.dumps({f: [{"cell": c, "score": s} for c, s in cells] for f, cells in ranking.items()}))
        return
    for feature, cells in ranking.items():
        print(f"{feature:16s} " + "  ".join(f"{c}:{s:+.3f}" for c, s in cells[:8]))


def parse_cells(text: str | None, cells: int) -> list[int]:
    """``--cells 1,2,3``: cell indices, each in 0..cells-1."""
    if not text:
        return []
    try:
        chosen = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise CommandError(f"--cells {text}: give cell indices separated by commas, e.g. 434,93,227") from None
    wrong = [cell for cell in chosen if not 0 <= cell < cells]
    if wrong:
        raise CommandError(f"--cells: {wrong[0]} is not a cell; the model's are 0..{cells - 1}")
    return chosen


def parse_hold(text: str) -> str | float:
    """``--hold mean|zero|VALUE``."""
    if text in ("mean", "zero"):
        return text
    try:
        value = float(text)
    except ValueError:
        raise CommandError(f"--hold {text}: hold cells at mean, zero or a number") from None
    if not math.isfinite(value):
        raise CommandError(f"--hold {text}: the value must be a finite number")
    return value


def cmd_ablate(args) -> None:
    from inkcore.intervene import make_hold, rank_by_ablation

    if args.rank and (args.cells or args.scale is not None or args.hold != "mean"):
        raise CommandError("--rank holds each cell alone at its mean: it takes no --cells, --hold or --scale")
    model, _ = load_model(args.weights)
    lines = example_lines(args.examples, args.lines if args.lines is not None or not args.rank else RANK_LINES,
                          args.split)
    if args.rank:
        with corpus_job(args, unit="line readings") as (executor, progress):
            ranked = [cost._asdict() for cost in rank_by_ablation(model, lines, executor=executor,
                                                                  on_progress=progress)]
        if args.json:
            print(json.dumps(ranked))
            return
        print(f"{'cell':>5s} {'cost':>8s}  best feature")
        for row in ranked[: args.top]:
            print(f"{row['cell']:5d} {row['cost']:+8.4f}  {row['feature']} ({row['r']:+.3f})")
        return
    cells = parse_cells(args.cells, model.config.cells)
    how = parse_hold(args.hold)
    if args.scale is not None and not math.isfinite(args.scale):
        raise CommandError(f"--scale {args.scale}: the factor must be a finite number")
    with corpus_job(args) as (executor, progress):
        if not cells:
            result = score(model, lines, executor=executor, on_progress=progress).to_dict()
        else:
            hold = make_hold(model, cells, how, lines, factor=args.scale, executor=executor)
            held = score(model, lines, hold=hold, executor=executor, on_progress=progress).to_dict()
            intact = score(model, lines, executor=executor).nll_per_point
    if cells:
        result = {**held, "cells": cells,
                  "hold": f"scale {args.scale:g}" if args.scale is not None else args.hold,
                  "intact_nll_per_point": intact, "cost_per_point": held["nll_per_point"] - intact}
    print_figures(result, args.json, width=20)


def cmd_match(args) -> None:
    from inkcore.intervene import match_cells

    model, _ = load_model(args.weights)
    other, _ = load_model(args.other)
    if other.config.input_size != model.config.input_size:
        raise CommandError("--other reads rows of another size: the models cannot read the same lines")
    lines = example_lines(args.examples, args.lines, args.split)
    with corpus_job(args) as (executor, progress):
        matches = [match._asdict() for match in match_cells(model, other, lines, executor, progress)]
    if args.json:
        print(json.dumps(matches))
        return
    close = sum(abs(match["r"]) >= MATCH_CLOSE for match in matches)
    print(f"{close} of {len(matches)} cells have a counterpart with |r| >= {MATCH_CLOSE}")
    print(f"{'cell':>5s} {'other':>6s} {'r':>7s}")
    for match in sorted(matches, key=lambda m: -abs(m["r"])):
        print(f"{match['cell']:5d} {match['other']:6d} {match['r']:+7.3f}")


def cmd_export(args) -> None:
    from inkcore.weights import save_article, save_npz

    out = Path(args.out)
    if out.suffix not in (".json", ".npz"):
        raise CommandError(f"{args.out}: the output must end in .json (the article's 8-bit format) or .npz")
    model, metadata = load_model(args.weights)
    if out.suffix == ".json":
        save_article(out, model, clip=args.clip)
    else:
        kept = {k: v for k, v in metadata.items() if k not in ("format", "format_version", "config")}
        save_npz(out, model.astype(np.float32), **kept, converted_from=str(args.weights or default_weights()))
    print(f"wrote {out}", file=sys.stderr)


def cmd_download(args) -> None:
    """Fetch the article's files into the cache, each checked against its pinned sha256."""
    steps = (("the article's weights", downloads.fetch_weights), ("its metadata", downloads.fetch_metadata),
             ("its validation lines", downloads.fetch_validation))
    for what, fetch in steps:
        with _ProgressLine(what, files=fetch is downloads.fetch_validation) as progress:
            fetch(progress=progress)
    print(f"the article's files are in {downloads.article_cache()}: use --weights article, --examples article",
          file=sys.stderr)
    if args.to:
        print(f"copied them to {downloads.copy_to(args.to)}", file=sys.stderr)


class _ProgressLine:
    """A download's progress on one line of stderr, rewritten in place on a terminal
    (elsewhere only the final count is written)."""

    def __init__(self, what: str, files: bool):
        self.what, self.files, self.shown = what, files, ""
        self.live = sys.stderr.isatty()

    def __call__(self, done: int, total: int | None) -> None:
        if self.files:
            self.shown = f"{done} of {total} files"
        else:
            self.shown = _size(done) + (f" of {_size(total)}" if total else "")
        if self.live:
            print(f"\r{self.what}: {self.shown}", end="", file=sys.stderr, flush=True)

    def __enter__(self):
        return self

    def __exit__(self, failed, *_):
        if self.live and self.shown:
            print(file=sys.stderr)  # end the line rewritten in place, whatever happened
        elif failed is None:
            print(f"{self.what}: {self.shown or 'already here, checked'}", file=sys.stderr)


def _size(count: int) -> str:
    return f"{count / 2**20:.1f} MB" if count >= 2**20 else f"{count / 2**10:.0f} kB"


def cmd_import_iam(args) -> None:
    from inkcore.iamondb import import_iam

    report = import_iam(args.source, args.out, ascii_dir=args.ascii)
    print(report.summary(), file=sys.stderr)


class _Parser(argparse.ArgumentParser):
    """Argument errors as one line too, naming the command and pointing at --help."""

    def error(self, message: str):
        self.exit(2, f"error: {self.prog}: {message} (see --help)\n")


#: Every verb in the order ``--help`` lists them: the builder of its subparser (its name,
#: help and options) and the function that runs it.
VERBS = (
    (verbs.evaluate, cmd_evaluate), (verbs.cells, cmd_cells), (verbs.score, cmd_score),
    (verbs.read_pen, cmd_read_pen), (verbs.sample, cmd_sample), (verbs.info, cmd_info),
    (verbs.probe, cmd_probe), (verbs.ablate, cmd_ablate), (verbs.match, cmd_match),
    (verbs.export, cmd_export), (verbs.import_iam, cmd_import_iam), (verbs.download, cmd_download),
    (features_cli.add_verb, features_cli.run), (attribute_cli.add_verb, attribute_cli.cmd_attribute),
    (adapt_cli.add_verb, adapt_cli.cmd_adapt),
)


def build_parser() -> argparse.ArgumentParser:
    prog = "inkcore" if Path(sys.argv[0]).name == "inkcore" else "python -m inkcore"  # the command, or -m
    parser = _Parser(prog=prog, description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for add_verb, run_verb in VERBS:
        add_verb(commands).set_defaults(run=run_verb)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except (CommandError, WeightsError, DataError, downloads.DownloadError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # the reader stopped early (python -m inkcore info | head): not a failure
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing left to flush at exit
        return 0
    except OSError as error:
        where = f"{error.filename}: " if error.filename else ""
        print(f"error: {where}{error.strerror or error}", file=sys.stderr)
        return 1
    except (ValueError, MemoryError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    return 0
