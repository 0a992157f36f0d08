"""The verbs of ``inkcore`` as ``--help`` shows them: one builder per verb, adding its
subparser with its help and options. :mod:`inkcore.cli` pairs each with the function
that runs it."""
from __future__ import annotations

import argparse

from inkcore.corpus import SPLITS
from inkcore.intervene import RANK_LINES
from inkcore.sampling import SAMPLE_VARIATION
from inkcore.weights import shipped_weights


def _with_weights(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p.add_argument("--weights", help=f"inkcore .npz or the article's b64_weights.json (default {shipped_weights()}); "
                                     "'article' for the article's (inkcore download article)")
    return p


def _with_corpus_job(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run the batches of lines on a Dask cluster: a scheduler's address (tcp://host:8786), "
                        "or local:N for N local worker processes (default: in this process, on every core)")
    p.add_argument("--progress", action="store_true",
                   help="show lines done, rate and time left on stderr (shown anyway on a terminal)")


def _with_examples(p: argparse.ArgumentParser, required: bool = True) -> None:
    p.add_argument("--examples", required=required,
                   help="folder of k.json files ([dx, dy, pen], first row absolute) or of stroke files, "
                        "or a line set .npz (import-iam); 'article' for the article's validation lines "
                        "(inkcore download article)")
    p.add_argument("--split", choices=SPLITS, help="with a line set .npz: only its train, val or test lines")
    _with_corpus_job(p)


def evaluate(commands) -> argparse.ArgumentParser:
    p = _with_weights(commands.add_parser("evaluate", help="NLL per point on a folder of article-format lines"))
    _with_examples(p)
    p.add_argument("--json", action="store_true")
    p.add_argument("--by-motion", action="store_true",
                   help="also the offset NLL of still, horizontal, vertical and other points apart")
    return p


def cells(commands) -> argparse.ArgumentParser:
    p = _with_weights(commands.add_parser("cells", help="record the state after every row of a stroke file "
                                                        "(or of every line of a corpus)"))
    p.add_argument("--strokes", help="JSON list of [dx, dy, pen] rows in model units")
    p.add_argument("--line", type=int, help="in a file of several lines (sample --n 4 writes four), which one, from 1")
    _with_examples(p, required=False)
    p.add_argument("--out", required=True, help=".npz or .csv; with --examples a folder, one .npz per line")
    return p


def score(commands) -> argparse.ArgumentParser:
    p = _with_weights(commands.add_parser("score", help="NLL per point of stroke files, optionally after a prime"))
    p.add_argument("--strokes", required=True, nargs="+", metavar="FILE",
                   help="JSON list of [dx, dy, pen] rows in model units (or a list of such lines, as sample writes); "
                        "several files are scored together")
    p.add_argument("--prime", help="a stroke file the model reads first; its rows are not scored")
    p.add_argument("--json", action="store_true")
    _with_corpus_job(p)
    return p


def read_pen(commands) -> argparse.ArgumentParser:
    p = _with_weights(commands.add_parser("read-pen", help="pointer events to the rows the pages feed the model"))
    p.add_argument("events", help='JSON {"strokes": [[[x, y, t], ...], ...]}: CSS pixels, y down, ms')
    p.add_argument("--out", required=True, help="stroke file (.json) of [dx, dy, pen] rows in model units")
    p.add_argument("--units-per-pixel", type=float, metavar="K",
                   help="whiteboard units per CSS pixel; by default the model estimates the scale")
    return p


def sample(commands) -> argparse.ArgumentParser:
    p = _with_weights(commands.add_parser("sample", help="lines the model writes by itself"))
    p.add_argument("--n", type=int, default=4)
    p.add_argument("--steps", type=int, default=700)
    p.add_argument("--variation", type=float, default=SAMPLE_VARIATION)
    p.add_argument("--seed", type=int, default=1, help="line k (from 0) is the line seed + k writes alone")
    p.add_argument("--out", required=True, help=".svg, .png or .json")
    return p


def info(commands) -> argparse.ArgumentParser:
    return _with_weights(commands.add_parser("info", help="print a weights file's metadata"))


def probe(commands) -> argparse.ArgumentParser:
    p = _with_weights(commands.add_parser("probe", help="rank cells by the stroke features they track"))
    _with_examples(p)
    p.add_argument("--top", type=int, default=20)
    p.add_argument("--json", action="store_true")
    return p


def ablate(commands) -> argparse.ArgumentParser:
    p = _with_weights(commands.add_parser("ablate", help="the evaluation with cells held (mean ablation), "
                                                         "or every cell ranked by what holding it costs"))
    _with_examples(p)
    p.add_argument("--cells", help="cells to hold, e.g. 434,93,227 (none: the intact model, as evaluate)")
    p.add_argument("--hold", default="mean",
                   help="mean (over the examples, the default), zero, or a number to hold their c at")
    p.add_argument("--scale", type=float, metavar="F", help="scale the cells' c by F instead of holding it")
    p.add_argument("--lines", type=int, metavar="N",
                   help=f"only the first N lines of the examples (default: all; with --rank {RANK_LINES}, a few minutes)")
    p.add_argument("--rank", action="store_true",
                   help="rank every cell by what holding it alone at its mean costs")
    p.add_argument("--top", type=int, default=20, help="--rank without --json prints this many cells")
    p.add_argument("--json", action="store_true")
    return p


def match(commands) -> argparse.ArgumentParser:
    p = _with_weights(commands.add_parser("match", help="for every cell, the other model's cell that "
                                                        "follows the same lines most closely"))
    p.add_argument("--other", required=True, help="the second model's weights ('article' for the article's)")
    _with_examples(p)
    p.add_argument("--lines", type=int, metavar="N", help="only the first N lines of the examples")
    p.add_argument("--json", action="store_true")
    return p


def export(commands) -> argparse.ArgumentParser:
    p = _with_weights(commands.add_parser("export", help="write a model in the article's 8-bit format or as .npz"))
    p.add_argument("--out", required=True, help=".json (the article's 8-bit format) or .npz (inkcore's)")
    p.add_argument("--clip", action="store_true",
                   help="for .json: clip weights beyond the format's fixed scales instead of refusing")
    return p


def import_iam(commands) -> argparse.ArgumentParser:
    p = commands.add_parser("import-iam", help="build a line set from IAM-OnDB's lineStrokes")
    p.add_argument("source", help="the lineStrokes folder or lineStrokes-all.tar.gz")
    p.add_argument("--ascii", help="the ascii folder or ascii-all.tar.gz, for transcriptions")
    p.add_argument("--out", required=True, help="line set .npz to write")
    return p


def download(commands) -> argparse.ArgumentParser:
    p = commands.add_parser("download", help="fetch, check and cache the article's weights, metadata and lines")
    p.add_argument("what", choices=["article"], help="article: its weights, metadata.json and 200 validation lines")
    p.add_argument("--to", metavar="DIR", help="also copy them into DIR (b64_weights.json, metadata.json, "
                                              "validation-data/), a folder INKCORE_ARTICLE_DIR can name")
    return p
