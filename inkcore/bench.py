"""``python -m inkcore.bench``: how fast the engine runs on this machine.

Every figure is set against a bound measured in the same run: the time this
machine's own BLAS takes for the matrix products a step cannot avoid
(``h @ W_h``, and ``h @ W_out`` when the mixture is computed too). A step can
hardly beat its bound, so ``x bound`` says how much time goes to everything
else (gates, allocation, Python). The loops of a figure and of its bound take
turns, so a machine that is busy with something else slows both alike.

Targets: one pen, one step in at most 0.1 ms (the article's "write with the
model" figure feeds the model point by point as the reader writes); fifty pens
within 1.5 times the bound (possible futures draw 50 pens at once). Targets
are judged on the best of many repeats, which is what the machine can do when
nothing else disturbs it; the median is shown beside it.

Sections are ``(name, function)`` pairs in :data:`BENCHMARKS`; a function
takes the shared :class:`Context` and returns rows. Add a section by adding a
pair.

``--app`` also starts the dashboard and times what a person waits for in a
browser (first page, sliders, a stroke, a heatmap click): it runs
``python -m benchmarks.app`` from the source checkout, as the dashboard is not
part of the installed package (see ``benchmarks/app.py``). The engine imports
nothing of the app's side.

Pen fidelity: how much of real handwriting the pen reading hands the model
(:func:`inkcore.fidelity.measure`), on IAM-OnDB lines outside the training
split replayed as a mouse and as a pen at three sizes, next to the canvas
reading inkcore had before. It needs a line set: ``--lines``, else
``$INKCORE_IAM`` when that is a ``.npz``, else ``../shared``'s; without one it
says so in a line. ``--fidelity-lines 0`` leaves it out.

BLAS runs on one thread unless ``--blas-threads`` says otherwise, as the
engine's recurrent loops do (:func:`inkcore.cells.single_blas_thread`): one
row times W_h is too little work to share, and with the other core busy a
multi-threaded OpenBLAS waits on it for many times the step's own time.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from inkcore.adapt import DEFAULT_METHOD, METHODS
from inkcore.bench_adapt import WRITERS
from inkcore.bench_attribution import bench_attribution
from inkcore.bench_timing import Row, Timing, measure
from inkcore.model import Config, LSTMState, Model, expected_shapes, make_model, mixture, run, step

#: The article's model, where ../shared sits beside the repository (developers and CI).
ARTICLE_WEIGHTS = Path(__file__).resolve().parents[2] / "shared" / "data" / "article" / "b64_weights.json"
#: IAM-OnDB's line set, where ../shared sits beside the repository.
SHARED_LINES = Path(__file__).resolve().parents[2] / "shared" / "data" / "iam-ondb" / "lines.npz"
#: Held-out lines the pen-fidelity section replays.
FIDELITY_LINES = 32
FIDELITY_MUST = 0.5  # issue 10: at least half the priming gain kept at every size and rate
#: The source checkout this engine runs from, if it is one: the dashboard's benchmark lives there.
CHECKOUT = Path(__file__).resolve().parents[1]

ONE_PEN_TARGET_MS = 0.1
MANY_PENS = 50
MANY_PENS_TARGET_BOUNDS = 1.5
RUN_STEPS = 1000
RECORD_TARGET_S = 0.25
ORDER_TARGET_S = 3.0
FUTURE_LINE_POINTS = 600
#: Corpus jobs (issue 14): evaluate the article's 200 lines within 1.5 times the
#: products' bound and 400 MB; rank cells by ablation on 40 lines within 2 times.
CORPUS_LINES = 200
CORPUS_REPEATS = 3
CORPUS_TARGET_BOUNDS = 1.5
CORPUS_MEMORY_TARGET_MB = 400
RANK_LINES_BENCH = 40
RANK_TARGET_BOUNDS = 2.0
RANK_BOUND_SAMPLE = 8  # the rank's bound is timed on every 8th batch of held rows
CORPUS_SAMPLE_POINTS = 600  # a written line's length where the article's lines are not here


def loops_for(pens: int) -> int:
    """Timed loops of some tens of milliseconds: long enough to time, short enough
    that many of them run undisturbed on a busy machine."""
    return 300 if pens == 1 else 30


@dataclass(frozen=True)
class Context:
    """What every section shares: the model and a seeded generator."""

    model: Model
    rng: np.random.Generator
    rank_lines: int | None = None  # lines of the ablate --rank row (None: RANK_LINES_BENCH)

    def inputs(self, pens: int) -> tuple[np.ndarray, LSTMState]:
        """A plausible input row and state for ``pens`` pens."""
        dtype, cells = self.model.dtype, self.model.config.cells
        x = np.zeros((pens, 3), dtype)
        x[:, :2] = self.rng.normal(0.0, 0.5, (pens, 2))
        h = np.tanh(self.rng.normal(0.0, 0.5, (pens, cells))).astype(dtype)
        c = self.rng.normal(0.0, 1.0, (pens, cells)).astype(dtype)
        return x, LSTMState(h, c)


def bench_products(context: Context) -> list[Row]:
    """This machine's matrix multiply on the step's shapes, with its throughput."""
    model = context.model
    rows = []
    for pens in (1, MANY_PENS):
        _, state = context.inputs(pens)
        h = state.h
        timings = measure([lambda: h @ model.W_h, lambda: h @ model.W_out], loops_for(pens))
        for weights, timing in zip((model.W_h, model.W_out), timings):
            flops = 2.0 * pens * weights.shape[0] * weights.shape[1]
            shape = f"({pens},{weights.shape[0]})@({weights.shape[0]},{weights.shape[1]})"
            rows.append(Row(f"matmul {shape}", timing, note=f"{flops / timing.best / 1e9:.1f} GFLOP/s"))
    return rows


def bench_steps(context: Context) -> list[Row]:
    model = context.model
    rows = []
    for pens in (1, MANY_PENS):
        x, state = context.inputs(pens)
        h = state.h
        alone, alone_bound, both, both_bound = measure(
            [
                lambda: step(model, x, state),
                lambda: h @ model.W_h,
                lambda: mixture(model, step(model, x, state).h),
                lambda: (h @ model.W_h, h @ model.W_out),
            ],
            loops_for(pens),
        )
        for name, timing, bound in (("step", alone, alone_bound), ("step + mixture", both, both_bound)):
            if pens == 1:
                note, met = f"<= {ONE_PEN_TARGET_MS} ms", timing.best * 1e3 <= ONE_PEN_TARGET_MS
            else:
                note, met = f"<= {MANY_PENS_TARGET_BOUNDS}x bound", timing.best <= MANY_PENS_TARGET_BOUNDS * bound.best
            rows.append(Row(f"{name}, {pens} pen{'s' if pens > 1 else ''}", timing, bound, note, met))
    return rows


def bench_run(context: Context) -> list[Row]:
    """A recorded run of RUN_STEPS steps for one pen, whole and per step."""
    model = context.model
    xs = np.zeros((RUN_STEPS, 1, 3), model.dtype)
    xs[:, 0, :2] = context.rng.normal(0.0, 0.5, (RUN_STEPS, 2))
    _, state = context.inputs(1)
    h = state.h

    def bound():
        for _ in range(RUN_STEPS):
            h @ model.W_h

    whole, whole_bound = measure([lambda: run(model, xs), bound], loops=1, repeats=7)
    per_step = lambda t: Timing(t.best / RUN_STEPS, t.median / RUN_STEPS)  # noqa: E731
    return [
        Row(f"run of {RUN_STEPS} steps, 1 pen (whole run)", whole, whole_bound),
        Row("run, per step", per_step(whole), per_step(whole_bound)),
    ]


def sample_line(context: Context, steps: int) -> np.ndarray:
    """A line the model writes itself: realistic input for the page-level figures."""
    from inkcore.sampling import generate

    return generate(context.model, steps, np.random.default_rng(1))


def bench_cells(context: Context) -> list[Row]:
    """The cell pages: recording a 1,000-point line, and the t-SNE order of every cell."""
    from inkcore.cells import order_cells, record

    line = sample_line(context, RUN_STEPS)
    recorded, = measure([lambda: record(context.model, line)], loops=1, repeats=5)
    c = record(context.model, line).c
    order_cells([c[:50]])  # the first call also imports openTSNE: not part of the figure
    ordered, = measure([lambda: order_cells([c])], loops=1, repeats=3)
    return [
        Row(f"record cells of a {RUN_STEPS}-point line", recorded, note=f"<= {RECORD_TARGET_S} s",
            met=recorded.best <= RECORD_TARGET_S),
        Row(f"t-SNE order of {context.model.config.cells} cells", ordered, note=f"<= {ORDER_TARGET_S} s",
            met=ordered.best <= ORDER_TARGET_S),
    ]


def bench_futures(context: Context) -> list[Row]:
    """The possibility space of a 600-point line: 50 futures of 8 steps at every point,
    against the products it cannot avoid, at the machine's best BLAS thread count.

    Those products: reading the line (one row at a time), and for every chunk of points
    the point's own step and its futures' shared second product (one row per point),
    each future's own ``h @ W_h`` at steps 3 to 8 and its ``h @ W_out`` at steps 2 to 8.
    The bound is the faster of two ways to use every core: BLAS's own threads, or the
    chunks shared among as many Python threads each with BLAS on one (as the engine does)."""
    from concurrent.futures import ThreadPoolExecutor

    from inkcore.sampling import FUTURE_CHUNK_POINTS, FUTURE_STEPS, FUTURES, possible_futures

    model = context.model
    line = sample_line(context, FUTURE_LINE_POINTS)
    pens = FUTURE_CHUNK_POINTS * FUTURES
    h_many = np.tanh(context.rng.normal(0.0, 0.5, (pens, model.config.cells))).astype(model.dtype)
    h_points, h_one = h_many[:FUTURE_CHUNK_POINTS], h_many[:1]
    chunks = -(-FUTURE_LINE_POINTS // FUTURE_CHUNK_POINTS)
    cpus = len(os.sched_getaffinity(0))

    def chunk_products(_=None):
        h_points @ model.W_h  # the point's own step
        h_points @ model.W_h  # the second step's product, shared by the point's futures
        h_points @ model.W_out
        for _ in range(FUTURE_STEPS - 2):
            h_many @ model.W_h
        for _ in range(FUTURE_STEPS - 1):
            h_many @ model.W_out

    def read_line():
        with threadpool_limits(limits=1, user_api="blas"):
            for _ in range(FUTURE_LINE_POINTS):
                h_one @ model.W_h

    def bound_blas_threads():
        read_line()
        with threadpool_limits(limits=cpus, user_api="blas"):
            for _ in range(chunks):
                chunk_products()

    def bound_python_threads():
        read_line()
        with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(cpus) as pool:
            list(pool.map(chunk_products, range(chunks)))

    drawn, by_blas, by_threads = measure(
        [lambda: possible_futures(model, line, np.random.default_rng(0)), bound_blas_threads, bound_python_threads],
        loops=1, repeats=3)
    bound, how = (by_blas, f"BLAS on {cpus} threads") if by_blas.best <= by_threads.best else (
        by_threads, f"{cpus} threads, BLAS on one each")
    return [Row(f"{FUTURES} x {FUTURE_STEPS} futures at {FUTURE_LINE_POINTS} points", drawn, bound,
                f"<= {MANY_PENS_TARGET_BOUNDS}x bound ({how})", drawn.best <= MANY_PENS_TARGET_BOUNDS * bound.best)]


def corpus_lines(context: Context, count: int) -> list[np.ndarray]:
    """The article's validation lines (the first ``count``), else lines the model writes."""
    from inkcore.data import read_article_lines
    from inkcore.downloads import article_validation

    folder = ARTICLE_WEIGHTS.parent / "validation-data"
    folder = folder if folder.is_dir() else article_validation()
    if folder is not None:
        return list(read_article_lines(folder).values())[:count]
    return [sample_line(context, CORPUS_SAMPLE_POINTS) for _ in range(count)]


def corpus_bound(model: Model, batches: list[np.ndarray], rows: int) -> tuple[Callable[[], None], Callable[[], None]]:
    """The products a corpus job cannot avoid, two ways to use every core: BLAS's own
    threads, and batches shared among Python threads with BLAS on one each (as the
    engine runs them). ``batches`` hold each batch's line lengths, longest first; every
    step multiplies the rows still reading by W_h, every point's h by W_out."""
    from concurrent.futures import ThreadPoolExecutor

    cpus = len(os.sched_getaffinity(0))
    h = np.tanh(np.random.default_rng(0).normal(0.0, 0.5, (rows, model.config.cells))).astype(model.dtype)

    def products(lengths: np.ndarray) -> None:
        for t in range(int(lengths[0])):
            h[: int((lengths > t).sum())] @ model.W_h
        for start in range(0, int(lengths.sum()), rows):
            h[: min(rows, int(lengths.sum()) - start)] @ model.W_out

    def blas_threads():
        with threadpool_limits(limits=cpus, user_api="blas"):
            for lengths in batches:
                products(lengths)

    def python_threads():
        with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(cpus) as pool:
            list(pool.map(products, batches))

    return blas_threads, python_threads


#: Runs the command line in a child and reports its peak memory (VmHWM, the high-water
#: mark of the process's own pages; ru_maxrss would count the benchmark's, shared at fork).
PEAK_MEMORY_CHILD = """
import sys
from inkcore.cli import main
status = main(sys.argv[1:])
with open("/proc/self/status") as status_file:
    print(next(line for line in status_file if line.startswith("VmHWM:")).split()[1], file=sys.stderr)
sys.exit(status)
"""


def peak_memory_mb(arguments: list[str]) -> float:
    """The peak resident memory of ``python -m inkcore ARGUMENTS`` run alone, in MB."""
    child = subprocess.run([sys.executable, "-c", PEAK_MEMORY_CHILD, *arguments], stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True)
    if child.returncode:
        raise RuntimeError(f"inkcore {' '.join(arguments)} failed: {child.stderr.strip()}")
    return int(child.stderr.split()[-1]) / 1024


def bench_corpus(context: Context) -> list[Row]:
    """Corpus jobs: ``evaluate`` on the article's lines (time and peak memory) and
    ``ablate --rank``, each against the products it cannot avoid at the faster way of
    using every core (:func:`corpus_bound`)."""
    import tempfile

    from inkcore import corpus
    from inkcore.evaluate import score
    from inkcore.intervene import RANK_BATCH_ROWS, ablation_costs
    from inkcore.weights import save_npz

    model = context.model
    lines = corpus_lines(context, CORPUS_LINES)
    lengths = np.array([len(rows) for rows in lines])
    batches = [np.sort(lengths[b])[::-1] for b in corpus.plan_batches(lengths)]
    blas_bound, thread_bound = corpus_bound(model, batches, corpus.BATCH_LINES)
    scored, by_blas, by_threads = measure([lambda: score(model, lines), blas_bound, thread_bound], loops=1,
                                          repeats=CORPUS_REPEATS)
    bound = min(by_blas, by_threads, key=lambda t: t.best)
    with tempfile.TemporaryDirectory() as folder:
        weights = save_npz(Path(folder) / "model.npz", model)
        for k, rows in enumerate(lines):
            (Path(folder) / f"line{k:05d}.json").write_text(json.dumps(rows.tolist()))
        memory = peak_memory_mb(["evaluate", "--weights", str(weights), "--examples", folder, "--json"])
    rows = [Row(f"evaluate {len(lines)} lines", scored, bound,
                f"<= {CORPUS_TARGET_BOUNDS}x bound and {CORPUS_MEMORY_TARGET_MB} MB: "
                f"{len(lines) / scored.best:.0f} lines/s, peak {memory:.0f} MB",
                scored.best <= CORPUS_TARGET_BOUNDS * bound.best and memory <= CORPUS_MEMORY_TARGET_MB)]
    rank_lines = RANK_LINES_BENCH if context.rank_lines is None else context.rank_lines
    if rank_lines <= 0:
        return rows
    judged = corpus_lines(context, rank_lines)
    cells = model.config.cells
    chunks = -(-cells // RANK_BATCH_ROWS)
    held = [np.full(len(part), len(rows)) for rows in judged for part in np.array_split(np.arange(cells), chunks)]
    # The rank takes minutes: it runs once, untimed warm-up aside, and its bound is
    # timed on every RANK_BOUND_SAMPLE-th batch and scaled by the steps of all of them.
    sample = held[::RANK_BOUND_SAMPLE]
    steps = lambda batches: sum(int(b.sum()) for b in batches)  # noqa: E731
    blas_bound, thread_bound = corpus_bound(model, sample, max(len(b) for b in held))
    by_blas, by_threads = measure([blas_bound, thread_bound], loops=1, repeats=1)
    scale = steps(held) / steps(sample)
    bound = min(by_blas, by_threads, key=lambda t: t.best)
    bound = Timing(bound.best * scale, bound.median * scale)
    start = time.perf_counter()
    ablation_costs(model, judged, values=np.zeros(cells))
    ranked = Timing(time.perf_counter() - start, time.perf_counter() - start)
    rows.append(Row(f"ablate --rank, {len(judged)} lines ({len(judged) * cells:,} readings)", ranked, bound,
                    f"<= {RANK_TARGET_BOUNDS}x bound (timed once)", ranked.best <= RANK_TARGET_BOUNDS * bound.best))
    return rows


BENCHMARKS: list[tuple[str, Callable[[Context], list[Row]]]] = [
    ("matrix products (this machine's BLAS, float32)", bench_products),
    ("LSTM step", bench_steps),
    ("recorded run", bench_run),
    ("cells", bench_cells),
    ("possibility space", bench_futures),
    ("corpus jobs (batches of lines on every core)", bench_corpus),
    ("attribution (inkcore.backward)", bench_attribution),
]


def pick_model(path: str | None) -> tuple[Model, str]:
    """The weights asked for, else the installed model, else the article's, else random weights."""
    from inkcore.cli import default_weights
    from inkcore.downloads import named_weights
    from inkcore.weights import load

    if path:
        path = named_weights(path)  # "article": the article's weights, when downloaded
        return load(path)[0], path
    for candidate in (default_weights(), ARTICLE_WEIGHTS):
        if candidate.exists():
            return load(candidate)[0], str(candidate)
    rng = np.random.default_rng(0)
    config = Config()
    arrays = {name: rng.normal(0.0, 0.05, shape) for name, shape in expected_shapes(config).items()}
    return make_model(config, **arrays), "random weights (no trained model found)"


def format_row(row: Row) -> str:
    line = f"  {row.name:44s}{row.timing.best * 1e3:10.4f} {row.timing.median * 1e3:10.4f}"
    verdict = "" if row.met is None else ("  ok" if row.met else "  MISSED")
    if row.bound is None:
        return f"{line} {'':10s} {'':8s}  {row.note}{verdict}"
    ratio = row.timing.best / row.bound.best
    return f"{line} {row.bound.best * 1e3:10.4f} {ratio:7.2f}x  {row.note}{verdict}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m inkcore.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--weights", help="weights to time (default: the installed model, else the article's)")
    parser.add_argument("--blas-threads", type=int, default=1, help="BLAS threads; 0 for the library's default")
    parser.add_argument("--app", action="store_true",
                        help="also start the dashboard and time it in headless Chromium (python -m benchmarks.app; "
                             "needs a source checkout)")
    parser.add_argument("--lines", help="IAM-OnDB line set (.npz) for pen fidelity (default: $INKCORE_IAM "
                                        "if a .npz, else ../shared/data/iam-ondb/lines.npz)")
    parser.add_argument("--rank-lines", type=int, default=RANK_LINES_BENCH,
                        help=f"lines the ablate --rank row ranks cells on (default {RANK_LINES_BENCH}, "
                             "minutes; 0 leaves it out)")
    parser.add_argument("--fidelity-lines", type=int, default=FIDELITY_LINES,
                        help=f"held-out lines pen fidelity replays (default {FIDELITY_LINES}; 0 leaves it out)")
    parser.add_argument("--writers", type=int, default=WRITERS,
                        help=f"unseen writers adaptation is measured on (default {WRITERS}, minutes; 0 leaves it out)")
    parser.add_argument("--adapt-methods", default=DEFAULT_METHOD, metavar="M,M",
                        help=f"the adaptation methods measured, comma-separated (default {DEFAULT_METHOD}; "
                             f"of {','.join(METHODS)})")
    parser.add_argument("--only-adaptation", action="store_true", help="measure adaptation alone")
    args = parser.parse_args(argv)
    unknown = [m for m in args.adapt_methods.split(",") if m not in METHODS]
    if unknown:
        parser.error(f"--adapt-methods: unknown {', '.join(unknown)}; choose from {', '.join(METHODS)}")

    from inkcore.data import DataError
    from inkcore.downloads import DownloadError
    from inkcore.weights import WeightsError

    try:
        lines, why_not = fidelity_lines(args.lines, args.fidelity_lines)
    except DataError as error:  # a --lines file that cannot be read: say so before minutes of timing
        parser.exit(1, f"error: {error}\n")

    try:
        model, source = pick_model(args.weights)
    except (WeightsError, DownloadError) as error:  # e.g. "article" before it is downloaded
        parser.exit(1, f"error: {error}\n")
    model = model.astype(np.float32)
    with threadpool_limits(limits=args.blas_threads or None, user_api="blas"):
        threads = ", ".join(str(pool["num_threads"]) for pool in threadpool_info() if pool["user_api"] == "blas")
        if not args.only_adaptation:
            report(model, source, threads, args.rank_lines)
            report_fidelity(model, lines, why_not)
        report_adaptation(model, args.lines, args.writers, args.adapt_methods.split(","))
    if args.app:
        run_app_benchmark(args.weights, args.blas_threads)
    return 0


def run_app_benchmark(weights: str | None, blas_threads: int) -> None:
    """``python -m benchmarks.app`` in the source checkout, its rows after the engine's;
    one line instead where this engine is an installed package without it."""
    if not (CHECKOUT / "benchmarks" / "app.py").is_file() or not (CHECKOUT / "app.py").is_file():
        print("dashboard: skipped: --app needs a source checkout of inkcore (benchmarks/app.py and app.py); "
              "this one is installed without the dashboard")
        return
    command = [sys.executable, "-m", "benchmarks.app", "--blas-threads", str(blas_threads)]
    sys.stdout.flush()
    child = subprocess.Popen(command + (["--weights", weights] if weights else []), cwd=CHECKOUT)
    # a TERM stops the child first, which stops its server and browser on the way out
    signal.signal(signal.SIGTERM, lambda signum, frame: child.terminate())
    child.wait()


def fidelity_lines(path: str | None, count: int) -> tuple[list, str]:
    """The held-out lines (points, t_ms) the pen-fidelity section replays, or none and why.
    A line set named by ``path`` must be readable; one found elsewhere is skipped when not."""
    from inkcore.data import DataError, load_lines
    from inkcore.fidelity import held_out_lines

    if count <= 0:
        return [], "left out (--fidelity-lines 0)"
    named = path is not None
    if not named:
        iam = os.environ.get("INKCORE_IAM", "")
        path = iam if iam.endswith(".npz") else SHARED_LINES if SHARED_LINES.exists() else None
    if path is None:
        return [], "skipped: no IAM-OnDB line set (pass --lines, or set INKCORE_IAM to a line set .npz)"
    try:
        line_set = load_lines(path)
    except DataError as error:
        if named:
            raise
        return [], f"skipped: {error}"
    lines = held_out_lines(line_set, count)
    return lines, "" if lines else "skipped: the line set has no val or test lines"


def report_fidelity(model: Model, lines: list, why_not: str = "") -> dict | None:
    """Share of the priming gain the pen reading keeps, for every device, size and scale,
    beside the canvas reading of before (fixed 19.5-unit spacing)."""
    from inkcore.fidelity import fixed_spacing_reading, measure

    if not lines:
        print(f"pen fidelity: {why_not}")
        return None
    print(f"pen fidelity: share of the priming gain kept, {len(lines)} held-out IAM-OnDB lines "
          "(takes minutes)", flush=True)
    start = time.perf_counter()
    now = measure(model, lines)
    before = measure(model, lines, reader=fixed_spacing_reading)
    seconds = time.perf_counter() - start
    print(f"  after no priming {now['nll_unprimed']:+.3f}, after the original first half "
          f"{now['nll_after_original']:+.3f} nats/point ({now['points_scored']:,} points of second halves)")
    print(f"  {'':28s}{'units/px':>9s} {'given':>7s} {'estimated':>10s}   {'before: given':>14s} {'fixed 3.2':>10s}")
    shares = {(r.device, r.units_per_pixel, r.scale): r.share_kept for r in now["readings"]}
    old = {(r.device, r.units_per_pixel, r.scale): r.share_kept for r in before["readings"]}
    for device, size in dict.fromkeys((r.device, r.units_per_pixel) for r in now["readings"]):
        given, estimated = shares[device, size, "given"], shares[device, size, "estimated"]
        verdict = "ok" if min(given, estimated) >= FIDELITY_MUST else "MISSED"
        print(f"  {device:28s}{size:9.1f} {given:7.0%} {estimated:10.0%}   {old[device, size, 'given']:14.0%} "
              f"{old[device, size, 'estimated']:10.0%}  >= {FIDELITY_MUST:.0%} {verdict}")
    print(f"  measured in {seconds:.0f} s; before: the canvas reading inkcore had, a point every 19.5 units along "
          "each stroke, timing ignored")
    return {"now": now, "before": before}


def report_adaptation(model: Model, path: str | None, writers: int, methods: list[str]) -> None:
    """Adaptation's gain on unseen IAM-OnDB writers (:mod:`inkcore.bench_adapt`), where a line set is found."""
    from inkcore import bench_adapt
    from inkcore.data import DataError, load_lines

    if writers <= 0:
        print("adaptation: left out (--writers 0)")
        return
    if path is None:
        iam = os.environ.get("INKCORE_IAM", "")
        path = iam if iam.endswith(".npz") else SHARED_LINES if SHARED_LINES.exists() else None
    if path is None:
        print("adaptation: skipped: no IAM-OnDB line set (pass --lines, or set INKCORE_IAM to a line set .npz)")
        return
    try:
        bench_adapt.report(model, load_lines(path), writers, methods)
    except DataError as error:
        print(f"adaptation: skipped: {error}")


def report(model: Model, source: str, threads: str, rank_lines: int | None = None) -> int:
    print(f"inkcore benchmark: {source}")
    print(f"float32, {model.config.cells} cells, {model.config.components} components; numpy {np.__version__}, "
          f"{platform.machine()}, {os.cpu_count()} CPUs, BLAS threads: {threads}")
    print(f"  {'':44s}{'best ms':>10s} {'median ms':>10s} {'bound ms':>10s} {'x bound':>8s}  target")
    context = Context(model, np.random.default_rng(0), rank_lines)
    missed = 0
    for title, benchmark in BENCHMARKS:
        print(title)
        for row in benchmark(context):
            print(format_row(row))
            missed += row.met is False
    print("all targets met" if not missed else f"{missed} target(s) missed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
