"""How much adaptation helps on writers the model never saw (:mod:`inkcore.adapt`).

Every IAM-OnDB form is one writer. For a form of the val or test split with at
least :data:`FIT_LINES` + 1 lines, the model adapts on the form's first
:data:`FIT_LINES` lines (the last of them held out to stop early), then every
other line of the form is scored after reading the first of the four
(``inkcore score --prime``) and without a prime, by the base model and by the
adapted one. A writer's gain is the base model's NLL per point minus the
adapted model's, over all of the form's other lines' points.

``python -m inkcore.bench`` runs the default method on :data:`WRITERS` writers;
``--adapt-methods output,biases,lora,all --writers 8`` compares the methods.
"""
from __future__ import annotations

import sys
from typing import NamedTuple

import numpy as np

from inkcore import adapt, corpus
from inkcore.data import LineSet
from inkcore.model import Model
from inkcore.strokes import from_points

#: Lines of a form the model adapts on; at least one more is scored.
FIT_LINES = 4
#: Writers measured by default.
WRITERS = 24
#: The issue's bounds: the share of writers adapted-and-primed must help, the seconds an adaptation may take.
MUST_HELP, MUST_SECONDS = 0.8, 60.0


class Writer(NamedTuple):
    form: str
    fit: list[np.ndarray]  # FIT_LINES lines, the last held out
    scored: list[np.ndarray]  # the form's other lines


class WriterResult(NamedTuple):
    form: str
    gain_primed: float  # base minus adapted NLL per point, both after the prime
    gain_unprimed: float
    base_primed: float  # NLL per point
    base_unprimed: float
    seconds: float
    best_step: int


def writers(line_set: LineSet, count: int, splits=("val", "test")) -> list[Writer]:
    """``count`` forms of ``splits`` with enough lines, spread evenly over them in id order."""
    by_form: dict[str, list[int]] = {}
    for i in np.flatnonzero(np.isin(line_set.split, splits)):
        by_form.setdefault(str(line_set.line_ids[i]).rsplit("-", 1)[0], []).append(int(i))
    eligible = sorted(form for form, lines in by_form.items() if len(lines) > FIT_LINES)
    if count < len(eligible):
        eligible = [eligible[k] for k in np.linspace(0, len(eligible) - 1, count).round().astype(int)]
    chosen = []
    for form in eligible:
        ids = sorted(by_form[form], key=lambda i: str(line_set.line_ids[i]))
        rows = [from_points(line_set.line_points(i)) for i in ids]
        chosen.append(Writer(form, rows[:FIT_LINES], rows[FIT_LINES:]))
    return chosen


def _nll(model: Model, lines: list[np.ndarray], prime: np.ndarray | None) -> float:
    primes = None if prime is None else [prime] * len(lines)
    scored = corpus.scored_log_likelihood(model, lines, primes)
    return -sum(float(ll.gauss.sum() + ll.eos.sum()) for ll in scored) / sum(len(rows) for rows in lines)


def measure_writer(model: Model, writer: Writer, method: str) -> WriterResult:
    result = adapt.adapt(model, writer.fit, method)
    prime = writer.fit[0]
    base_primed, adapted_primed = _nll(model, writer.scored, prime), _nll(result.model, writer.scored, prime)
    base, adapted = _nll(model, writer.scored, None), _nll(result.model, writer.scored, None)
    return WriterResult(writer.form, base_primed - adapted_primed, base - adapted, base_primed, base, result.seconds,
                        result.best_step)


def summary(results: list[WriterResult]) -> dict:
    primed = np.array([r.gain_primed for r in results])
    unprimed = np.array([r.gain_unprimed for r in results])
    seconds = np.array([r.seconds for r in results])
    base_primed, base = np.array([r.base_primed for r in results]), np.array([r.base_unprimed for r in results])
    return {"nll": {"base_unprimed": float(base.mean()), "base_primed": float(base_primed.mean()),
                    "adapted_unprimed": float((base - unprimed).mean()),
                    "adapted_primed": float((base_primed - primed).mean())},"writers": len(results), "gain_primed_mean": float(primed.mean()), "gain_primed_sd": float(primed.std()),
            "helped_primed": int((primed > 0).sum()), "gain_unprimed_mean": float(unprimed.mean()),
            "gain_unprimed_sd": float(unprimed.std()), "helped_unprimed": int((unprimed > 0).sum()),
            "seconds_mean": float(seconds.mean()), "seconds_max": float(seconds.max()),
            "best_step_median": float(np.median([r.best_step for r in results]))}


def report(model: Model, line_set: LineSet, count: int, methods: list[str], out=None) -> dict:
    out = out or sys.stdout
    chosen = writers(line_set, count)
    print(f"adaptation: {len(chosen)} writers of the val and test splits, adapted on {FIT_LINES} lines each "
          f"({sum(len(w.scored) for w in chosen)} other lines scored; takes minutes)", file=out, flush=True)
    print(f"  {'method':8s} {'gain primed':>18s} {'helped':>7s} {'gain unprimed':>18s} {'helped':>7s} "
          f"{'s mean':>7s} {'s max':>6s}  must", file=out)
    summaries = {}
    for method in methods:
        results = [measure_writer(model, w, method) for w in chosen]
        s = summaries[method] = summary(results)
        s["per_writer"] = [r._asdict() for r in results]
        met = s["helped_primed"] >= MUST_HELP * s["writers"] and s["seconds_max"] <= MUST_SECONDS
        print(f"  {method:8s} {s['gain_primed_mean']:+8.4f} ± {s['gain_primed_sd']:.4f} "
              f"{s['helped_primed']:4d}/{s['writers']:<2d} {s['gain_unprimed_mean']:+8.4f} ± {s['gain_unprimed_sd']:.4f} "
              f"{s['helped_unprimed']:4d}/{s['writers']:<2d} {s['seconds_mean']:7.1f} {s['seconds_max']:6.1f}  "
              f">= {MUST_HELP:.0%} helped, <= {MUST_SECONDS:.0f} s: {'ok' if met else 'MISSED'}", file=out, flush=True)
        nll = s["nll"]
        print(f"  {'':8s} mean NLL per point: base {nll['base_unprimed']:+.4f} alone, {nll['base_primed']:+.4f} "
              f"primed; adapted {nll['adapted_unprimed']:+.4f} alone, {nll['adapted_primed']:+.4f} primed", file=out)
    print("  gain: the base model's NLL per point minus the adapted model's, nats, on the form's other lines",
          file=out)
    return summaries
