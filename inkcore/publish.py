"""Turn a trained model into what ``weights/`` ships: the weights with their
metrics, a sample sheet and a model card.

``python -m inkcore.publish --model runs/main/best.npz --data lines.npz
--article ../shared/data/article --out weights``

Scores are computed here with the NumPy evaluation protocol
(:mod:`inkcore.evaluate`), for the new model and, on the same lines, for the
article's model, so the card compares like with like.
"""
from __future__ import annotations

import argparse
import datetime
import json
import platform
from dataclasses import asdict
import sys
from pathlib import Path

import numpy as np

from inkcore import fidelity, render, weights
from inkcore.data import load_lines, read_article_lines
from inkcore.evaluate import MOTION_KINDS, score, score_by_motion
from inkcore.sampling import SAMPLE_VARIATION, generate

SAMPLE_SEEDS = range(1, 9)
SAMPLE_STEPS = 700
WEIGHTS_NAME = "inkcore.npz"
#: Held-out lines on which the card measures how much of a writer's hand survives pen input.
FIDELITY_LINES = 32


def sample_sheet(model, path: Path) -> None:
    """8 samples of 700 steps at variation 0.65, seeds 1-8, one under another."""
    lines = [generate(model, SAMPLE_STEPS, np.random.default_rng(seed), SAMPLE_VARIATION) for seed in SAMPLE_SEEDS]
    path.write_bytes(render.to_png(lines, scale=3.0))


def schedule_text(schedule: dict) -> str:
    """The learning-rate schedule in words (the defaults of ``inkcore.train`` where unrecorded)."""
    schedule = {"lr": 1e-3, "warm_steps": 6000, "halve_every": 12000, "min_lr": 5e-5, **schedule}
    text = (f"learning rate {schedule['lr']:g}, held for {schedule['warm_steps']:,} updates, then halved\n"
            f"  every {schedule['halve_every']:,}")
    if schedule.get("anneal_from"):
        text += f", from update {schedule['anneal_from']:,} every {schedule['anneal_every']:,}"
    return text + f", floor {schedule['min_lr']:g}"


def score_table(metrics: dict) -> str:
    """The rows of the card's table of scores: inkcore's and the article's model's on each set of lines."""
    rows = []
    for name, label in (("article_validation", "the article's 200 validation lines"),
                        ("test_split", "IAM-OnDB `test` split (549 lines)")):
        if name in metrics:
            ours, theirs = metrics[name], metrics.get(f"{name}_article_model")
            rows.append(f"| {label} | {ours['points']:,} | **{ours['nll_per_point']:.3f}** "
                        f"({ours['gauss_per_point']:.3f} / {ours['eos_per_point']:+.3f}) | "
                        + (f"{theirs['nll_per_point']:.3f} ({theirs['gauss_per_point']:.3f} / "
                           f"{theirs['eos_per_point']:+.3f})" if theirs else "not measured") + " |")
    return "\n".join(rows)


def motion_table(metrics: dict) -> str:
    """The rows of the card's table of offset scores by kind of point."""
    motion = metrics.get("article_validation_by_motion")
    motion_theirs = metrics.get("article_validation_by_motion_article_model")
    return "\n".join(
        f"| {kind} ({MOTION_KINDS[kind]}) | {part['share']:.1%} | {part['gauss_per_point']:.3f} | "
        + (f"{motion_theirs[kind]['gauss_per_point']:.3f}" if motion_theirs else "not measured") + " |"
        for kind, part in (motion or {}).items()
    )


def point_mass_note(provenance: dict) -> str:
    """The training section's item on the dy = 0 point mass, when the model has one."""
    zero_dy = provenance.get("zero_dy_component")
    if zero_dy is None:
        return ""
    since = f", from update {provenance['zero_dy_since']:,} on" if provenance.get("zero_dy_since") else ""
    return f"""- Component {zero_dy} of the mixture is a point mass at dy = 0 (mu_y 0, sigma_y 2.7e-4 model units,
  rho 0, held there after every update; its weight, mu_x and sigma_x are learned){since}
  (`--zero-dy-component {zero_dy}`). Offsets lie on a grid of
  1/40 model unit and 3% of IAM-OnDB's points move exactly horizontally; the article's model grew
  such a component itself (its component 6, sigma_y about 2.7e-4 where it explains a point), and
  fixing the width at the article's keeps the two scores comparable. The table below shows
  the scores by kind of point.
"""


def pen_tuning_note(provenance: dict) -> str:
    """The training section's item on the fine-tuning with pen input, when there was one."""
    tune = provenance.get("pen_fine_tune")
    if not tune:
        return ""
    return f"""- Then {tune['updates']:,} updates at a constant learning rate of {tune['lr']:g}, in which
  {tune['pen_share']:.0%} of the lines read were pen input in their first half: the line up to a pen
  lift near its middle replayed as a 60 Hz mouse or a 120 Hz pen would report it, at a random size,
  and read by `inkcore.pen.read_strokes` as the dashboard reads a pen, the rest as recorded
  (`--pen-share {tune['pen_share']:g}`). The model learns to carry a writer's hand from what a page
  gives it into what comes next (see "Pen input" below).
"""


def pen_section(metrics: dict) -> str:
    """The card's section on pen input (:mod:`inkcore.fidelity`), when it was measured."""
    pen = metrics.get("pen_fidelity")
    if not pen:
        return ""
    cells = {(r["device"], r["units_per_pixel"], r["scale"]): r["share_kept"] for r in pen["readings"]}
    devices = list(dict.fromkeys(r["device"] for r in pen["readings"]))
    sizes = sorted({r["units_per_pixel"] for r in pen["readings"]})
    rows = "\n".join(
        f"| {device} | " + " | ".join(f"{cells[(device, size, 'given')]:.0%} / {cells[(device, size, 'estimated')]:.0%}"
                                      for size in sizes) + " |"
        for device in devices)
    return f"""
## Pen input
How much of a writer's hand the model keeps when it reads handwriting through the
dashboard's pen (`inkcore.fidelity`): {pen['lines']} held-out IAM-OnDB lines (`val` and
`test`) are replayed as pointer events with their own timing; after reading a line's
first half, the model scores the line's true second half. Reading the original points
gains {pen['nll_unprimed'] - pen['nll_after_original']:.3f} nats/point over no priming at all
({pen['nll_unprimed']:.3f} to {pen['nll_after_original']:.3f}); each cell is the share of that gain
kept with the scale given / estimated by the model:

| device | """ + " | ".join(f"{size:g} units/px" for size in sizes) + f""" |
| --- | """ + " | ".join("---" for _ in sizes) + f""" |
{rows}
"""


def card(metadata: dict, command: str) -> str:
    """The model card (``weights/MODEL_CARD.md``) of a model published with ``metadata``,
    trained by ``command``."""
    provenance = metadata["provenance"]
    metrics = metadata["metrics"]
    return f"""# inkcore's own handwriting model

One LSTM layer of 500 cells reading pen offsets `(dx, dy, pen)` in the article's units
(IAM-OnDB whiteboard units / 40) and predicting a 20-component bivariate Gaussian
mixture plus an end-of-stroke probability: the architecture of the Distill article's
model, trained by inkcore from scratch.

## Data
- IAM-OnDB `lineStrokes` (all 12,195 lines, converted by `python -m inkcore import-iam`);
  trained on split `train` only ({provenance.get('train_lines', 10197):,} lines), the split is by form,
  so no form is on two sides. Checkpoints were chosen on the article's validation lines
  that the line set identifies (all in `val`); `test` is used for this card only.
- Offsets clipped to ±50 model units, in training and evaluation alike.

## Training
- {provenance['steps']:,} updates of Adam ({schedule_text(provenance.get('schedule', {}))}), batch {provenance.get('batch')} streams, truncated back-propagation
  over windows of {provenance.get('window')} steps with the state carried along each line,
  gradient norm clipped at 10, seed {provenance.get('seed')}.
- {provenance['wall_hours']:.1f} hours of wall time on {provenance['machine']}
  (across sessions, resumed from checkpoints).
{point_mass_note(provenance)}{pen_tuning_note(provenance)}
## How well it predicts handwriting
Mean negative log-likelihood per point in nats, lower is better (offsets / pen lifts), by
the evaluation protocol of `python -m inkcore evaluate`:

| lines | points | inkcore | the article's model |
| --- | --- | --- | --- |
{score_table(metrics)}

By kind of point, on the article's 200 validation lines (offsets only, nats per point;
`python -m inkcore evaluate --by-motion`). Exact zeros are where a point mass earns its
nats; "other" points are where a smooth density must do the work:

| points | share | inkcore | the article's model |
| --- | --- | --- | --- |
{motion_table(metrics)}

{pen_section(metrics)}
## Samples
`samples.png`: 8 samples of {SAMPLE_STEPS} steps at variation {SAMPLE_VARIATION}, seeds 1-8
(`python -m inkcore sample --n 1 --steps 700 --variation 0.65 --seed K`).

## Reproduce
```
{command}
```
Published {metadata['published']} by `python -m inkcore.publish`.
"""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m inkcore.publish", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="exported inkcore .npz from training")
    parser.add_argument("--data", required=True, help="the line set trained on (for the test split)")
    parser.add_argument("--article", required=True, help="folder with the article's b64_weights.json and validation-data/")
    parser.add_argument("--out", default="weights")
    parser.add_argument("--command", default="python -m inkcore.train --data lines.npz --run-dir runs/main",
                        help="the training command, for the card")
    args = parser.parse_args(argv)

    model, metadata = weights.load(args.model)
    article_model, _ = weights.load(Path(args.article) / "b64_weights.json")
    validation = list(read_article_lines(Path(args.article) / "validation-data").values())
    test = load_lines(args.data).model_rows("test")
    metrics = {}
    for name, lines in (("article_validation", validation), ("test_split", test)):
        metrics[name] = score(model, lines).to_dict()
        metrics[f"{name}_article_model"] = score(article_model, lines).to_dict()
        print(name, json.dumps(metrics[name]), file=sys.stderr)
    metrics["article_validation_by_motion"] = score_by_motion(model, validation)
    metrics["article_validation_by_motion_article_model"] = score_by_motion(article_model, validation)
    line_set = load_lines(args.data)
    held_out = fidelity.held_out_lines(line_set, FIDELITY_LINES)
    measured = fidelity.measure(model.astype(np.float32), held_out)
    metrics["pen_fidelity"] = {**{k: v for k, v in measured.items() if k != "readings"},
                               "readings": [asdict(r) for r in measured["readings"]]}
    out = Path(args.out)
    provenance = dict(metadata.get("provenance", {}))
    provenance.setdefault("machine", f"{platform.machine()} CPU")
    record = {"provenance": provenance, "metrics": metrics,
              "published": datetime.date.today().isoformat(), "reproduce": args.command}
    weights.save_npz(out / WEIGHTS_NAME, model, **record)
    sample_sheet(model, out / "samples.png")
    (out / "MODEL_CARD.md").write_text(card(record, args.command))
    print(f"published to {out}: {WEIGHTS_NAME}, samples.png, MODEL_CARD.md", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
