"""The benchmark's machinery on a small model, and ``--app``'s on the real dashboard:
it runs and reports sane rows (no timing asserts)."""
from __future__ import annotations

import ast
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

import inkcore.bench as bench
from benchmarks import app as bench_app, controls, harness, writing
from conftest import SMALL_CONFIG, random_model

REPOSITORY = Path(__file__).resolve().parents[1]


def test_measure_times_each_callable_separately():
    calls = []
    timings = bench.measure([lambda: calls.append("a"), lambda: calls.append("b")], loops=4, repeats=3)
    assert len(timings) == 2
    assert calls.count("a") == calls.count("b") == 3 * 4 + 1  # the timed loops and one warm-up
    for timing in timings:
        assert 0 < timing.best <= timing.median


def test_every_section_reports_rows(monkeypatch):
    from inkcore import bench_attribution, bench_timing

    monkeypatch.setattr(bench_timing, "REPEATS", 2)
    monkeypatch.setattr(bench_attribution, "ATTRIBUTION_POINTS", 40)
    monkeypatch.setattr(bench, "RUN_STEPS", 20)
    monkeypatch.setattr(bench, "loops_for", lambda pens: 2)
    monkeypatch.setattr(bench, "FUTURE_LINE_POINTS", 30)
    monkeypatch.setattr(bench, "CORPUS_LINES", 5)
    monkeypatch.setattr(bench, "CORPUS_REPEATS", 1)
    monkeypatch.setattr(bench, "RANK_LINES_BENCH", 2)
    context = bench.Context(random_model(SMALL_CONFIG), np.random.default_rng(0))
    for name, section in bench.BENCHMARKS:
        rows = section(context)
        assert rows, name
        for row in rows:
            line = bench.format_row(row)
            assert row.name in line and "\n" not in line
            if row.met is not None:
                assert "ok" in line or "MISSED" in line
    names = [row.name for row in bench.bench_steps(context)]
    assert names == ["step, 1 pen", "step + mixture, 1 pen", "step, 50 pens", "step + mixture, 50 pens"]


def test_app_rows_end_to_end(shipped_weights, tmp_path):
    """``--app`` on the real dashboard, cheaply: the server starts, the first page and one
    slider change are timed in Chromium, the rows read like the engine's, and the server
    is stopped on the way out."""
    rows = []
    try:
        with harness.chromium() as browser, harness.serve(
                harness.app_environment(tmp_path, shipped_weights), tmp_path / "streamlit.log") as app:
            rows.append(harness.first_page(browser, app))
            samples = controls.ControlPage("samples", "The model writes", (
                controls.Control(controls.SLIDER, "samples_count", "Samples"),
                controls.Control(controls.NUMBER, "samples_seed", "Seed")))
            rows += controls.control_rows(browser, app, [samples], changes=1)
            rows += controls.sequence_rows(browser, app, [samples])
    except harness.BrowserMissing as why:
        pytest.skip(str(why))
    assert app.process.poll() is not None
    assert [row.name for row in rows] == ["first page (launch to home heading)", "samples: 2 controls, 2 changes",
                                          "  samples: Samples, in a row", "samples: sliders in a row, 4 moves"]
    assert rows[2].note.startswith("presses ") and ", drag " in rows[2].note
    for row in rows:
        line = bench.format_row(row)
        assert row.name in line and "\n" not in line
        assert line.endswith(("  ok", "  MISSED"))
        assert 0 < row.timing.median <= row.timing.best < float("inf")  # the worst wait comes first


def test_a_change_is_at_rest_two_frames_after_it_was_shown_and_the_run_ended():
    idle = [(10.0, False), (26.0, False), (42.0, False), (58.0, False), (74.0, False)]
    assert harness.rest_after(20.0, idle) == 42.0  # shown at 20: the frames at 26 and 42
    running = [(10.0, True), (26.0, True), (42.0, True), (58.0, False), (74.0, False)]
    assert harness.rest_after(20.0, running) == 74.0  # still running at 42: the frames at 58 and 74
    with pytest.raises(harness.AppError, match="too few frames"):
        harness.rest_after(60.0, idle)


def test_background_work_is_at_rest_when_the_run_that_showed_its_mark_ends():
    polling = [(10.0, True), (26.0, False), (42.0, False), (58.0, True), (74.0, False), (90.0, True)]
    assert harness.rest_after(20.0, polling, background=True) == 42.0  # the mark's later polls are not waited for
    with pytest.raises(harness.AppError, match="too few frames"):
        harness.rest_after(20.0, polling)  # busy at the last frame: not at rest, by the stricter rule
    late = [(10.0, False), (26.0, True), (42.0, False), (58.0, True), (74.0, False), (90.0, False)]
    assert harness.rest_after(20.0, late, background=True) == 90.0  # two idle frames in a row


def test_app_server_is_stopped_when_a_measurement_fails(shipped_weights, tmp_path):
    with pytest.raises(RuntimeError, match="a measurement failed"):
        with harness.serve(harness.app_environment(tmp_path, shipped_weights), tmp_path / "streamlit.log") as app:
            harness.wait_until_up(app)
            raise RuntimeError("a measurement failed")
    assert app.process.poll() is not None


def test_app_report_without_a_browser_says_so_in_one_line(monkeypatch, capsys, shipped_weights):
    @contextmanager
    def no_browser():
        raise harness.BrowserMissing("Chromium is not installed (apt-get install chromium)")
        yield

    monkeypatch.setattr(bench_app, "chromium", no_browser)
    monkeypatch.setattr(writing, "SERVER_REPEATS", 2)
    bench_app.report(shipped_weights)
    out = capsys.readouterr().out.splitlines()
    assert sum("browser rows skipped: Chromium is not installed" in line for line in out) == 1
    assert any("continuation (server)" in line and ("ok" in line or "MISSED" in line) for line in out)


def test_slider_presses_go_to_values_not_seen_before():
    class Slider:  # the attributes a Streamlit slider's range input has
        def __init__(self, value, low, high, step=1):
            self.attributes = {"min": str(low), "max": str(high), "step": str(step)}
            self.value = str(value)

        def input_value(self):
            return self.value

        def get_attribute(self, name):
            return self.attributes[name]

    assert controls.next_key(Slider(20, 5, 400), {20.0}) == "ArrowRight"
    assert controls.next_key(Slider(40, 0, 40), {40.0}) == "ArrowLeft"  # a step slider at the line's end
    assert controls.next_key(Slider(4, 0, 5), {3.0, 4.0}) == "ArrowRight"  # the far end first, else back
    assert controls.next_key(Slider(5, 0, 5), {4.0, 5.0}) is None


def test_the_benchmark_looks_for_the_pages_own_updating_mark():
    from dashboard import background

    assert harness.UPDATING == background.UPDATING


def test_app_benchmark_runs_from_the_checkout_as_its_own_process(monkeypatch):
    """``python -m inkcore.bench --app`` runs ``python -m benchmarks.app`` in the checkout."""
    result = subprocess.run([sys.executable, "-m", "benchmarks.app", "--help"], cwd=REPOSITORY,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "how long a person waits for the dashboard" in result.stdout
    started = []

    class Child:
        def __init__(self, command, cwd):
            started.append((command, cwd))

        def wait(self):
            return 0

    monkeypatch.setattr(bench.subprocess, "Popen", Child)
    monkeypatch.setattr(bench.signal, "signal", lambda *args: None)
    bench.run_app_benchmark("some.npz", 1)
    assert started == [([sys.executable, "-m", "benchmarks.app", "--blas-threads", "1", "--weights", "some.npz"],
                        REPOSITORY)]


def test_app_benchmark_outside_a_checkout_says_so_in_one_line(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(bench, "CHECKOUT", tmp_path)  # an installed package: no benchmarks/ beside it
    bench.run_app_benchmark(None, 1)
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1 and "needs a source checkout" in out[0]


def test_the_engine_imports_nothing_of_the_app_side():
    app_side = {"streamlit", "streamlit_drawable_canvas", "dashboard", "benchmarks", "playwright"}
    for path in sorted((REPOSITORY / "inkcore").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            assert not {name.split(".")[0] for name in names} & app_side, (path.name, names)

