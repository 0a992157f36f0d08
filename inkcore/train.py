"""Train inkcore's own model on IAM-OnDB with PyTorch on the CPU.

The only module of inkcore that imports torch; the app and the command line
never import it. Run with ``python -m inkcore.train --help``.

The network is the article's: LSTM(3 -> 500) and a linear layer to a
20-component mixture (layout :data:`inkcore.model.OUTPUT_LAYOUT`). Training
reads lines of the ``train`` split as truncated back-propagation streams: each
of ``batch`` streams reads one line from the zero state (a zero row first, as
in evaluation) in windows of ``window`` steps, carrying the state between
windows of the same line and resetting it when a new line begins. The loss is
the negative log-likelihood of Graves (2013) eqs. 23-26 per point.

The offsets lie on a grid (whiteboard units are integers, so model units are
multiples of 1/40), and 3% of IAM-OnDB's points move exactly horizontally
(dy = 0, half of them not at all). A continuous density cannot place mass on a
line, so ``--zero-dy-component K`` makes component K a point mass in y: its
mu_y is fixed at 0, its sigma_y at :data:`ZERO_DY_SIGMA` and its rho at 0 (weights
and biases held there after every update); its weight pi, mu_x and sigma_x are
learned. The article's model grew such a component itself (its component 6:
mu_y 0, sigma_y about 2.7e-4 at the points it explains); fixing the width at
the article's keeps the two models' scores comparable, and the model card
reports the score on the exactly-horizontal points apart from the others.

Checkpoints are ``.npz`` files (no pickle) holding the parameters, Adam's
moments and the random generators' states, written atomically every few
minutes; a run started with the same ``--run-dir`` resumes from its latest one.
"""
from __future__ import annotations

import argparse
import json
import math
import platform
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from inkcore import weights as weight_files
from inkcore.data import load_lines
from inkcore.model import Config, make_model, output_layout
from inkcore.strokes import from_points, model_inputs

#: PyTorch's LSTM stacks its gates as i, f, g, o; the article's order is i, g, f, o.
TORCH_TO_ARTICLE_GATES = (0, 2, 1, 3)

#: The width in y of the point-mass component (model units), the article model's own.
ZERO_DY_SIGMA = 2.7e-4


def make_zero_dy(net: "HandwritingNet", component: int) -> bool:
    """Turn ``component`` into the dy = 0 point mass, unless it is one already
    (then return False).

    A component's weight only grows where its density explains points, so the
    new one starts from a working component (the one with the largest weight
    bias): its mu_x, sigma_x and weight rows are copied, the weight one tenth.
    """
    part = output_layout(net.config.components)
    if math.isclose(float(net.out.bias.detach()[part["log_sigma_y"].start + component]), math.log(ZERO_DY_SIGMA),
                    rel_tol=1e-6):
        return False
    logits = net.out.bias[part["pi_logit"]].detach().clone()
    logits[component] = -math.inf
    donor = int(torch.argmax(logits))
    with torch.no_grad():
        for name in ("pi_logit", "mu_x", "log_sigma_x"):
            net.out.weight[part[name].start + component] = net.out.weight[part[name].start + donor]
            net.out.bias[part[name].start + component] = net.out.bias[part[name].start + donor]
        net.out.bias[part["pi_logit"].start + component] -= math.log(10.0)
    hold_zero_dy(net, component)
    return True


def hold_zero_dy(net: "HandwritingNet", component: int | None) -> None:
    """Set component ``component`` to a point mass at dy = 0 (see the module docstring)."""
    if component is None:
        return
    part = output_layout(net.config.components)
    with torch.no_grad():
        for name, bias in (("mu_y", 0.0), ("log_sigma_y", math.log(ZERO_DY_SIGMA)), ("rho_raw", 0.0)):
            row = part[name].start + component
            net.out.weight[row].zero_()
            net.out.bias[row] = bias


class HandwritingNet(nn.Module):
    def __init__(self, config: Config):
        super().__init__()
        self.config = config
        self.lstm = nn.LSTM(config.input_size, config.cells, batch_first=True)
        self.out = nn.Linear(config.cells, config.output_size)
        with torch.no_grad():  # start the forget gates open, as the article's runtime bias does
            n = config.cells
            self.lstm.bias_ih_l0[n : 2 * n].fill_(config.forget_bias)
            self.lstm.bias_hh_l0[n : 2 * n].zero_()

    def forward(self, x, state=None):
        h, state = self.lstm(x, state)
        return self.out(h), state


def mixture_nll(y: torch.Tensor, target: torch.Tensor, components: int):
    """Per-point negative log-likelihood (gauss, eos) of ``target`` (..., 3) under output ``y``."""
    part = output_layout(components)
    log_pi = torch.log_softmax(y[..., part["pi_logit"]], dim=-1)
    mu_x, mu_y = y[..., part["mu_x"]], y[..., part["mu_y"]]
    log_sx, log_sy = y[..., part["log_sigma_x"]], y[..., part["log_sigma_y"]]
    rho = torch.tanh(y[..., part["rho_raw"]])
    eos_logit = y[..., part["eos_logit"]][..., 0]
    x1, x2, pen = target[..., 0:1], target[..., 1:2], target[..., 2]
    zx = (x1 - mu_x) * torch.exp(-log_sx)
    zy = (x2 - mu_y) * torch.exp(-log_sy)
    one_minus_rho2 = (1 - rho**2).clamp_min(1e-6)
    z = zx**2 + zy**2 - 2 * rho * zx * zy
    log_normal = -z / (2 * one_minus_rho2) - math.log(2 * math.pi) - log_sx - log_sy - 0.5 * torch.log(one_minus_rho2)
    gauss = -torch.logsumexp(log_pi + log_normal, dim=-1)
    eos = nn.functional.binary_cross_entropy_with_logits(eos_logit, pen, reduction="none")
    return gauss, eos


def to_numpy_model(net: HandwritingNet):
    """The trained network as an inkcore Model (article gate order, forget bias at run time)."""
    config = net.config
    n = config.cells
    order = np.concatenate([np.arange(k * n, (k + 1) * n) for k in TORCH_TO_ARTICLE_GATES])
    w_ih = net.lstm.weight_ih_l0.detach().double().numpy()[order]
    w_hh = net.lstm.weight_hh_l0.detach().double().numpy()[order]
    b = (net.lstm.bias_ih_l0 + net.lstm.bias_hh_l0).detach().double().numpy()[order]
    b[2 * n : 3 * n] -= config.forget_bias
    return make_model(
        config,
        W_x=w_ih.T,
        W_h=w_hh.T,
        b=b,
        W_out=net.out.weight.detach().double().numpy().T,
        b_out=net.out.bias.detach().double().numpy(),
    )


class Streams:
    """``batch`` readers, each reading one training line at a time in windows.

    With ``pen_lines`` (each a line's points and times) and ``pen_share`` > 0, that
    share of the lines read is first half pen input, second half as recorded: the
    line up to a pen lift near its middle is replayed as a mouse or a pen would
    report it (:func:`inkcore.fidelity.replay`, at a random size) and read by
    :func:`inkcore.pen.read_strokes` at its true scale, and the rest follows as
    recorded. The model learns to carry a writer's hand from what a page gives it
    into what comes next.
    """

    def __init__(self, lines: list[np.ndarray], batch: int, window: int, rng: np.random.Generator,
                 pen_lines: list[tuple[np.ndarray, np.ndarray]] | None = None, pen_share: float = 0.0):
        self.lines = list(lines)
        self.inputs = [model_inputs(rows).astype(np.float32) for rows in lines]
        self.window = window
        self.rng = rng
        self.pen_lines = pen_lines or []
        self.pen_share = pen_share if self.pen_lines else 0.0
        self.queue: list[int] = []
        self.current: list[tuple[np.ndarray, np.ndarray]] = [self._next_line() for _ in range(batch)]
        self.position = [0] * batch

    def _next_line(self) -> tuple[np.ndarray, np.ndarray]:
        if not self.queue:
            self.queue = list(self.rng.permutation(len(self.lines)))
        index = int(self.queue.pop())
        if self.pen_share and self.rng.random() < self.pen_share:
            rows = self._pen_first_half(*self.pen_lines[index])
            if rows is not None:
                return rows, model_inputs(rows).astype(np.float32)
        return self.lines[index], self.inputs[index]

    def _pen_first_half(self, points: np.ndarray, t_ms: np.ndarray) -> np.ndarray | None:
        from inkcore.fidelity import DEVICES, replay, split_at_lift
        from inkcore.pen import read_strokes

        try:
            half = split_at_lift(points)
        except ValueError:
            return None
        size = float(np.exp(self.rng.uniform(np.log(2.0), np.log(8.0))))
        device = DEVICES[int(self.rng.integers(len(DEVICES)))]
        read = read_strokes(replay(points[:half], t_ms[:half], size, device, self.rng), units_per_pixel=size).rows
        rest = from_points(points)[half - 1:]
        return np.concatenate([read, rest]).astype(np.float64)

    def next_window(self):
        batch = len(self.current)
        x = np.zeros((batch, self.window, 3), np.float32)
        y = np.zeros((batch, self.window, 3), np.float32)
        mask = np.zeros((batch, self.window), np.float32)
        fresh = np.zeros(batch, bool)
        for b in range(batch):
            if self.position[b] >= len(self.current[b][0]):
                self.current[b] = self._next_line()
                self.position[b] = 0
            fresh[b] = self.position[b] == 0
            start = self.position[b]
            line, inputs = self.current[b]
            rows = line[start : start + self.window]
            x[b, : len(rows)] = inputs[start : start + len(rows)]
            y[b, : len(rows)] = rows
            mask[b, : len(rows)] = 1
            self.position[b] += len(rows)
        return torch.from_numpy(x), torch.from_numpy(y), torch.from_numpy(mask), torch.from_numpy(fresh)


def learning_rate(step: int, args) -> float:
    """Constant, then halved every ``--halve-every`` steps, from ``--anneal-from`` on
    every ``--anneal-every`` steps instead (a smooth bend), never below ``--min-lr``."""
    if step < args.warm_steps:
        return args.lr
    bend = args.anneal_from if args.anneal_from is not None else math.inf
    halvings = (min(step, bend) - args.warm_steps) / args.halve_every
    if step > bend:
        halvings += (step - bend) / args.anneal_every
    return max(args.min_lr, args.lr * 0.5**halvings)


def evaluate_lines(net: HandwritingNet, lines: list[np.ndarray], batch: int = 100) -> dict:
    """The evaluation protocol of :mod:`inkcore.evaluate`, batched in torch."""
    gauss_total = eos_total = 0.0
    points = 0
    order = sorted(range(len(lines)), key=lambda i: len(lines[i]))
    with torch.no_grad():
        for start in range(0, len(order), batch):
            chunk = [lines[i] for i in order[start : start + batch]]
            longest = max(len(r) for r in chunk)
            x = np.zeros((len(chunk), longest, 3), np.float32)
            y = np.zeros_like(x)
            mask = np.zeros((len(chunk), longest), np.float32)
            for b, rows in enumerate(chunk):
                x[b, : len(rows)] = model_inputs(rows)
                y[b, : len(rows)] = rows
                mask[b, : len(rows)] = 1
            out, _ = net(torch.from_numpy(x))
            gauss, eos = mixture_nll(out, torch.from_numpy(y), net.config.components)
            m = torch.from_numpy(mask)
            gauss_total += float((gauss * m).sum())
            eos_total += float((eos * m).sum())
            points += int(mask.sum())
    return {
        "nll_per_point": (gauss_total + eos_total) / points,
        "gauss_per_point": gauss_total / points,
        "eos_per_point": eos_total / points,
        "points": points,
        "sequences": len(lines),
    }


def save_checkpoint(path: Path, net, optimizer, step: int, rng: np.random.Generator, extra: dict) -> None:
    arrays = {f"param/{name}": p.detach().numpy() for name, p in net.named_parameters()}
    for name, p in net.named_parameters():
        state = optimizer.state.get(p)
        if state:
            arrays[f"adam_m/{name}"] = state["exp_avg"].numpy()
            arrays[f"adam_v/{name}"] = state["exp_avg_sq"].numpy()
            arrays[f"adam_step/{name}"] = np.asarray(float(state["step"]))
    arrays["torch_rng"] = torch.get_rng_state().numpy()
    meta = {"step": step, "numpy_rng": rng.bit_generator.state, **extra}
    arrays["meta"] = np.array(json.dumps(meta))
    partial = path.with_name(path.name + ".partial.npz")
    np.savez(partial, **arrays)
    partial.replace(path)


def load_checkpoint(path: Path, net, optimizer, rng: np.random.Generator) -> dict:
    with np.load(path, allow_pickle=False) as archive:
        arrays = {k: archive[k] for k in archive.files}
    params = dict(net.named_parameters())
    with torch.no_grad():
        for name, p in params.items():
            p.copy_(torch.from_numpy(arrays[f"param/{name}"]))
    for name, p in params.items():
        if f"adam_m/{name}" in arrays:
            optimizer.state[p] = {
                "step": torch.tensor(float(arrays[f"adam_step/{name}"])),
                "exp_avg": torch.from_numpy(arrays[f"adam_m/{name}"].copy()),
                "exp_avg_sq": torch.from_numpy(arrays[f"adam_v/{name}"].copy()),
            }
    torch.set_rng_state(torch.from_numpy(arrays["torch_rng"].copy()))
    meta = json.loads(str(arrays["meta"][()]))
    rng.bit_generator.state = meta["numpy_rng"]
    return meta


def warm_start(net: HandwritingNet, path: Path) -> tuple[int, float]:
    """Start from an exported inkcore model (the inverse of :func:`to_numpy_model`);
    returns the updates and wall seconds it had been trained for, so the
    learning-rate schedule and the model card continue (Adam's moments start afresh)."""
    model, metadata = weight_files.load(path, dtype=np.float64)
    n = net.config.cells
    inverse = np.argsort(np.concatenate([np.arange(k * n, (k + 1) * n) for k in TORCH_TO_ARTICLE_GATES]))
    b = model.b.copy()
    b[2 * n : 3 * n] += net.config.forget_bias
    with torch.no_grad():
        net.lstm.weight_ih_l0.copy_(torch.from_numpy(model.W_x.T[inverse].copy()))
        net.lstm.weight_hh_l0.copy_(torch.from_numpy(model.W_h.T[inverse].copy()))
        net.lstm.bias_ih_l0.copy_(torch.from_numpy(b[inverse].copy()))
        net.lstm.bias_hh_l0.zero_()
        net.out.weight.copy_(torch.from_numpy(model.W_out.T.copy()))
        net.out.bias.copy_(torch.from_numpy(model.b_out.copy()))
    provenance = metadata.get("provenance", {})
    return int(provenance.get("steps", 0)), 3600.0 * float(provenance.get("wall_hours", 0.0))


def log(path: Path, record: dict) -> None:
    with path.open("a") as handle:
        handle.write(json.dumps(record) + "\n")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m inkcore.train", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="../shared/data/iam-ondb/lines.npz", help="lines.npz from the importer")
    parser.add_argument("--run-dir", default="runs/main", help="checkpoints and logs; resumed when present")
    parser.add_argument("--warm-start", default=None, help="inkcore .npz to start from when no checkpoint")
    parser.add_argument("--export", default="runs/main/best.npz", help="where the best model is exported")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--window", type=int, default=150)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--min-lr", type=float, default=5e-5)
    parser.add_argument("--warm-steps", type=int, default=6000)
    parser.add_argument("--halve-every", type=int, default=12000)
    parser.add_argument("--anneal-from", type=int, default=None, metavar="STEP",
                        help="from this update on, halve every --anneal-every updates instead")
    parser.add_argument("--anneal-every", type=int, default=3000)
    parser.add_argument("--clip", type=float, default=10.0, help="gradient norm clip")
    parser.add_argument("--steps", type=int, default=10**9, help="stop after this many updates")
    parser.add_argument("--hours", type=float, default=1e9, help="stop after this much wall time")
    parser.add_argument("--eval-every", type=int, default=500)
    parser.add_argument("--checkpoint-minutes", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pen-share", type=float, default=0.0, metavar="P",
                        help="share of lines whose first half is read as pen input (inkcore.pen), the rest as recorded")
    parser.add_argument("--export-last", default=None, metavar="PATH",
                        help="also export the model at every evaluation, best or not")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--zero-dy-component", type=int, default=None, metavar="K",
                        help="make mixture component K a point mass at dy = 0 (module docstring)")
    return parser.parse_args(argv)


@dataclass
class Run:
    """A training run as this session carries it: the network and its optimizer, the
    random generator the streams draw from, where its files go and where it stands."""

    net: HandwritingNet
    optimizer: torch.optim.Optimizer
    rng: np.random.Generator
    checkpoint: Path
    log_path: Path
    step: int = 0
    best: float = math.inf  # the best validation NLL per point exported so far
    elapsed: float = 0.0  # wall seconds trained in earlier sessions
    zero_dy_since: int | None = None  # the update from which the point-mass component was held

    def save(self, elapsed: float) -> None:
        save_checkpoint(self.checkpoint, self.net, self.optimizer, self.step, self.rng,
                        {"best": self.best, "elapsed": elapsed, "zero_dy_since": self.zero_dy_since})


# --- setup: the data, the network (resumed or warm-started), the streams -----------------


def read_data(args):
    """The line set, its training lines and the article's validation lines (model rows)."""
    data = load_lines(args.data)
    train_lines = data.model_rows("train")
    val_lines = data.model_rows("val", article_only=True)
    print(f"train {len(train_lines)} lines, {sum(map(len, train_lines))} points; "
          f"val {len(val_lines)} lines (the article's validation lines)", flush=True)
    return data, train_lines, val_lines


def start(args, rng: np.random.Generator) -> Run:
    """A new network and its optimizer, resumed from the run's checkpoint when there is one,
    else from ``--warm-start`` when given; with ``--zero-dy-component``, its point mass made."""
    run_dir = Path(args.run_dir)
    config = Config()
    net = HandwritingNet(config)
    run = Run(net, torch.optim.Adam(net.parameters(), lr=args.lr), rng, run_dir / "checkpoint.npz",
              run_dir / "log.jsonl")
    if run.checkpoint.exists():
        meta = load_checkpoint(run.checkpoint, net, run.optimizer, rng)
        run.step, run.best, run.elapsed = meta["step"], meta["best"], meta["elapsed"]
        run.zero_dy_since = meta.get("zero_dy_since")
        print(f"resumed from {run.checkpoint} at step {run.step} (best val {run.best:.4f})", flush=True)
    elif args.warm_start and Path(args.warm_start).exists():
        run.step, run.elapsed = warm_start(net, Path(args.warm_start))
        print(f"warm start from {args.warm_start} (trained {run.step} updates)", flush=True)
    if args.zero_dy_component is not None:
        if not 0 <= args.zero_dy_component < config.components:
            raise SystemExit(f"--zero-dy-component must be 0..{config.components - 1}")
        if make_zero_dy(net, args.zero_dy_component):
            run.zero_dy_since = run.step
        print(f"component {args.zero_dy_component} is a point mass at dy = 0", flush=True)
    return run


def training_streams(args, data, train_lines: list[np.ndarray], rng: np.random.Generator) -> Streams:
    """The ``--batch`` streams over the training lines, with ``--pen-share`` of them read as pen input."""
    pen_lines = None
    if args.pen_share > 0:
        indices = data.indices("train")
        pen_lines = [(data.line_points(i), data.t_ms[data.starts[i]:data.starts[i + 1]]) for i in indices]
        print(f"{args.pen_share:.0%} of lines read as pen input in their first half", flush=True)
    return Streams(train_lines, args.batch, args.window, rng, pen_lines, args.pen_share)


# --- the loop: updates, evaluations, checkpoints ------------------------------------------


def update(args, run: Run, streams: Streams, state):
    """One update on the streams' next window: its mean loss, its points, and the state carried
    into the next window (reset for streams that begin a new line)."""
    x, y, mask, fresh = streams.next_window()
    if state is not None:
        keep = (~fresh).float()[None, :, None]
        state = (state[0].detach() * keep, state[1].detach() * keep)
    for group in run.optimizer.param_groups:
        group["lr"] = learning_rate(run.step, args)
    out, state = run.net(x, state)
    gauss, eos = mixture_nll(out, y, run.net.config.components)
    loss = ((gauss + eos) * mask).sum() / mask.sum()
    run.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    nn.utils.clip_grad_norm_(run.net.parameters(), args.clip)
    run.optimizer.step()
    hold_zero_dy(run.net, args.zero_dy_component)
    run.step += 1
    return loss.item(), float(mask.sum()), state


def train_session(args, run: Run, streams: Streams, val_lines: list[np.ndarray], stopping: list) -> None:
    """Update until ``--steps`` more updates, ``--hours`` of this session or a request to stop
    (``stopping`` not empty); evaluate every ``--eval-every`` updates, checkpoint every
    ``--checkpoint-minutes`` and on the way out."""
    state = None
    started = time.monotonic() - run.elapsed
    last_checkpoint = time.monotonic()
    window_loss, window_points = 0.0, 0.0
    session_start = time.monotonic()
    stop_step = run.step + args.steps
    while not stopping and run.step < stop_step and (time.monotonic() - session_start) / 3600 < args.hours:
        loss, points, state = update(args, run, streams, state)
        window_loss += loss * points
        window_points += points
        if run.step % 50 == 0:
            rate = (time.monotonic() - session_start) / max(1, run.step - (stop_step - args.steps))
            print(f"step {run.step} train nll {window_loss / window_points:.4f} "
                  f"lr {learning_rate(run.step, args):.2e} {rate:.2f} s/step", flush=True)
        if run.step % args.eval_every == 0:
            evaluate_and_export(args, run, val_lines, (time.monotonic() - started) / 3600, window_loss / window_points)
            window_loss, window_points = 0.0, 0.0
        if time.monotonic() - last_checkpoint > args.checkpoint_minutes * 60:
            run.save(time.monotonic() - started)
            last_checkpoint = time.monotonic()
    run.save(time.monotonic() - started)


# --- export: the evaluation's record, the best model and the last -------------------------


def evaluate_and_export(args, run: Run, val_lines: list[np.ndarray], hours: float, train_nll: float) -> None:
    """Score the validation lines, log the scores, and export the model: to ``--export-last``
    always, to ``--export`` when it is the best so far."""
    scores = evaluate_lines(run.net, val_lines)
    record = {"step": run.step, "hours": hours, "train_nll": train_nll, "lr": learning_rate(run.step, args),
              **{f"val_{k}": v for k, v in scores.items() if k.endswith("point")}}
    log(run.log_path, record)
    print(json.dumps(record), flush=True)
    if args.export_last:
        weight_files.save_npz(args.export_last, to_numpy_model(run.net),
                              provenance={"trained_by": "inkcore.train", "steps": run.step,
                                          "pen_share": args.pen_share},
                              metrics={"article_validation": scores})
    if scores["nll_per_point"] < run.best:
        run.best = scores["nll_per_point"]
        weight_files.save_npz(args.export, to_numpy_model(run.net), provenance=provenance(args, run, hours),
                              metrics={"article_validation": scores})
        print(f"exported {args.export} (val {run.best:.4f})", flush=True)


def provenance(args, run: Run, hours: float) -> dict:
    """How the exported model was trained, for its weights file and its model card."""
    return {"trained_by": "inkcore.train", "data": "IAM-OnDB lineStrokes, split 'train'",
            "steps": run.step, "wall_hours": round(hours, 3),
            "machine": f"{platform.machine()}, {torch.get_num_threads()} threads, CPU",
            "batch": args.batch, "window": args.window, "seed": args.seed,
            "schedule": {"lr": args.lr, "warm_steps": args.warm_steps,
                         "halve_every": args.halve_every, "anneal_from": args.anneal_from,
                         "anneal_every": args.anneal_every, "min_lr": args.min_lr},
            "zero_dy_component": args.zero_dy_component, "zero_dy_since": run.zero_dy_since}


def main(argv=None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    Path(args.run_dir).mkdir(parents=True, exist_ok=True)
    data, train_lines, val_lines = read_data(args)
    run = start(args, rng)
    stopping = []  # a SIGTERM ends the session after the update under way, with a checkpoint
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    streams = training_streams(args, data, train_lines, rng)
    train_session(args, run, streams, val_lines, stopping)
    return 0


if __name__ == "__main__":
    sys.exit(main())
