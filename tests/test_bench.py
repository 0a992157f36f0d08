"""The benchmark's machinery on a small model: it runs and reports sane rows (no timing asserts)."""
from __future__ import annotations

import numpy as np

import inkcore.bench as bench
from conftest import SMALL_CONFIG, random_model


def test_measure_times_each_callable_separately():
    calls = []
    timings = bench.measure([lambda: calls.append("a"), lambda: calls.append("b")], loops=4, repeats=3)
    assert len(timings) == 2
    assert calls.count("a") == calls.count("b") == 3 * 4 + 1  # the timed loops and one warm-up
    for timing in timings:
        assert 0 < timing.best <= timing.median


def test_every_section_reports_rows(monkeypatch):
    monkeypatch.setattr(bench, "REPEATS", 2)
    monkeypatch.setattr(bench, "RUN_STEPS", 20)
    monkeypatch.setattr(bench, "loops_for", lambda pens: 2)
    monkeypatch.setattr(bench, "FUTURE_LINE_POINTS", 30)
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
