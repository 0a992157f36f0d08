"""Fidelity of the pen reading: replayed lines, primed scoring, the share of the
priming gain kept, and the benchmark section that reports it."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

import inkcore.bench as bench
from conftest import SMALL_CONFIG, random_model, random_rows
from inkcore import fidelity
from inkcore.data import DataError, LineSet, save_lines
from inkcore.evaluate import line_log_likelihood, score
from inkcore.strokes import from_points


@pytest.fixture(scope="module")
def model():
    return random_model(SMALL_CONFIG, seed=0).astype(np.float64)


def written_line(rng: np.random.Generator, strokes: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """A line of loops in whiteboard units with IAM-OnDB's timing: a point every 15 ms,
    a pen lift after every stroke, 200 ms in the air between strokes."""
    points, times, start_x, start_t = [], [], 0.0, 0.0
    for _ in range(strokes):
        n = int(rng.integers(12, 30))
        phase = np.linspace(0, rng.uniform(3, 9), n)
        x = start_x + 25 * phase + 60 * np.cos(phase)
        y = 150 * np.sin(phase)
        lift = np.zeros(n)
        lift[-1] = 1
        points.append(np.column_stack([x, y, lift]))
        times.append(start_t + 15.0 * np.arange(n))
        start_x, start_t = x[-1] + 80, times[-1][-1] + 200
    return np.rint(np.vstack(points)).astype(np.int16), np.concatenate(times).astype(np.int32)


def line_set(rng: np.random.Generator, splits: list[str]) -> LineSet:
    lines = [written_line(rng) for _ in splits]
    starts = np.cumsum([0] + [len(points) for points, _ in lines])
    return LineSet(points=np.vstack([p for p, _ in lines]), t_ms=np.concatenate([t for _, t in lines]),
                   starts=starts, line_ids=np.array([f"line-{k}" for k in range(len(splits))]),
                   texts=np.array([""] * len(splits)), split=np.array(splits),
                   article_index=np.full(len(splits), -1, np.int32))


# --- replay ----------------------------------------------------------------------------


@pytest.mark.parametrize("device", fidelity.DEVICES, ids=lambda d: d.name)
def test_a_replayed_line_is_the_line_in_pixels_at_the_device_rate(device):
    points, t_ms = written_line(np.random.default_rng(0))
    strokes = fidelity.replay(points, t_ms, 4.0, device, np.random.default_rng(1))
    assert len(strokes) == points[:, 2].sum()
    ends = np.flatnonzero(points[:, 2]) + 1
    for stroke, start, end in zip(strokes, np.r_[0, ends[:-1]], ends):
        assert stroke[0, 2] == t_ms[start] and stroke[-1, 2] == t_ms[end - 1]
        gaps = np.diff(stroke[1:-1, 2])
        np.testing.assert_allclose(gaps, 1000.0 / device.rate_hz, atol=0.1)
        # the first and last events are the stroke's own ends, in pixels at 4 units/px
        shift = stroke[0, :2] - points[start, :2] / 4.0
        np.testing.assert_allclose(stroke[-1, :2] - shift, points[end - 1, :2] / 4.0, atol=1.0)
        assert np.all((20 - 1 <= shift) & (shift <= 60 + 1))
        if device.whole_pixels:
            np.testing.assert_array_equal(stroke[:, :2], np.round(stroke[:, :2]))


def test_split_at_lift_takes_the_lift_nearest_the_middle():
    points = np.zeros((20, 3))
    points[[3, 8, 15, 19], 2] = 1  # lifts after points 3, 8, 15 and the last
    assert fidelity.split_at_lift(points) == 9  # points 0..8: the lift after point 8 is nearest 10
    with pytest.raises(ValueError, match="pen lift"):
        fidelity.split_at_lift(np.array([[0, 0, 0], [1, 1, 0], [2, 2, 1]]))


# --- primed scoring --------------------------------------------------------------------


def test_primed_nll_scores_the_target_after_reading_the_prime(model, rng):
    primes = [random_rows(rng, n) for n in (12, 0, 30)]
    targets = [random_rows(rng, n) for n in (20, 9, 15)]
    expected = []
    for prime, target in zip(primes, targets):
        ll = line_log_likelihood(model, np.concatenate([prime, target]))
        expected.append(ll.total[len(prime):])
    nll = fidelity.primed_nll(model, primes, targets)
    assert nll == pytest.approx(-np.concatenate(expected).mean(), abs=1e-10)
    # without primes it is the evaluation protocol itself, and a prime changes the score
    assert fidelity.primed_nll(model, [np.zeros((0, 3))] * 3, targets) == pytest.approx(
        score(model, targets).nll_per_point, abs=1e-12)
    assert abs(nll - score(model, targets).nll_per_point) > 1e-3


def test_primes_must_match_the_lines(model, rng):
    with pytest.raises(ValueError, match="2 primes for 3 lines"):
        score(model, [random_rows(rng, 5)] * 3, primes=[random_rows(rng, 5)] * 2)


# --- the share of the gain kept --------------------------------------------------------


@pytest.fixture(scope="module")
def lines():
    rng = np.random.default_rng(7)
    return [written_line(rng) for _ in range(3)]


def test_a_reading_that_hands_over_the_original_keeps_all_the_gain_and_none_keeps_none(model, lines):
    halves = [fidelity.split_at_lift(points) for points, _ in lines]
    originals = [from_points(points[:k]) for (points, _), k in zip(lines, halves)]
    order = itertools.cycle(originals)  # measure reads the lines in order, for every device, size and scale

    class Rows:
        def __init__(self, rows):
            self.rows = rows

    faithful = fidelity.measure(model, lines, sizes=(4.0,), reader=lambda strokes, model, units_per_pixel: Rows(next(order)))
    blank = fidelity.measure(model, lines, sizes=(4.0,),
                             reader=lambda strokes, model, units_per_pixel: Rows(np.zeros((0, 3))))
    assert len(faithful["readings"]) == len(fidelity.DEVICES) * 2
    assert faithful["nll_unprimed"] != faithful["nll_after_original"]
    for result in faithful["readings"]:
        assert result.share_kept == pytest.approx(1.0, abs=1e-9)
        assert result.nll_after_reading == pytest.approx(faithful["nll_after_original"], abs=1e-12)
    for result in blank["readings"]:
        assert result.share_kept == pytest.approx(0.0, abs=1e-9)


def test_measure_reports_every_device_size_and_scale(model, lines):
    result = fidelity.measure(model, lines, sizes=(2.5, 6.5))
    assert result["lines"] == 3
    seen = {(r.device, r.units_per_pixel, r.scale) for r in result["readings"]}
    assert seen == {(d.name, s, k) for d in fidelity.DEVICES for s in (2.5, 6.5) for k in ("given", "estimated")}
    for r in result["readings"]:
        assert np.isfinite(r.share_kept)


def test_the_old_reading_spaces_points_evenly_and_clips_long_jumps():
    stroke = np.column_stack([np.linspace(0, 100, 50), np.zeros(50), np.arange(50.0)])
    far = np.array([[900.0, 0.0, 100.0], [910.0, 0.0, 110.0]])  # 800 px on: 2,560 units at 3.2 units/px
    rows = fidelity.fixed_spacing_reading([stroke, far]).rows
    lift = np.flatnonzero(rows[:, 2])[0]
    np.testing.assert_allclose(rows[:lift, 0], 19.5 / 40)  # full steps of 19.5 whiteboard units
    assert rows[lift + 1, 0] == 50.0  # the jump, clipped from 64 model units
    given = fidelity.fixed_spacing_reading([stroke], units_per_pixel=1.0).rows
    assert given[:, 0].sum() == pytest.approx(100 / 40)


# --- the lines it is measured on, and the benchmark's section ---------------------------


def test_held_out_lines_never_come_from_the_training_split():
    splits = ["train", "val", "test", "train", "val", "test", "val", "train"]
    lines = line_set(np.random.default_rng(3), splits)
    chosen = fidelity.held_out_lines(lines, 4, seed=5)
    held_out = {tuple(lines.line_points(i)[:, :2].ravel()[:12]) for i, s in enumerate(splits) if s != "train"}
    assert len(chosen) == 4
    assert all(tuple(points[:, :2].ravel()[:12]) in held_out for points, _ in chosen)
    for points, t_ms in chosen:
        assert len(points) == len(t_ms)
    again = fidelity.held_out_lines(lines, 4, seed=5)
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(chosen, again))
    assert len(fidelity.held_out_lines(lines, 100)) == 5  # all the val and test lines, no more


def test_held_out_lines_pass_over_lines_without_a_lift_to_split_at():
    lines = line_set(np.random.default_rng(3), ["val", "test"])
    points = lines.points.copy()
    points[lines.starts[0] : lines.starts[1] - 1, 2] = 0  # line 0 is one stroke
    lines = LineSet(**{**lines.__dict__, "points": points})
    chosen = fidelity.held_out_lines(lines, 2)
    assert len(chosen) == 1 and np.array_equal(chosen[0][0], lines.line_points(1))


def test_the_benchmark_says_in_one_line_when_it_has_no_line_set(monkeypatch, tmp_path, capsys):
    monkeypatch.delenv("INKCORE_IAM", raising=False)
    monkeypatch.setattr(bench, "SHARED_LINES", tmp_path / "absent.npz")
    lines, why = bench.fidelity_lines(None, 32)
    assert lines == [] and "no IAM-OnDB line set" in why and "--lines" in why
    assert bench.report_fidelity(random_model(SMALL_CONFIG), lines, why) is None
    assert capsys.readouterr().out.strip().splitlines() == [f"pen fidelity: {why}"]
    monkeypatch.setenv("INKCORE_IAM", str(tmp_path / "broken.npz"))
    (tmp_path / "broken.npz").write_bytes(b"not a line set")
    lines, why = bench.fidelity_lines(None, 32)
    assert lines == [] and why.startswith("skipped: ") and "broken.npz" in why


def test_the_benchmark_refuses_a_named_line_set_it_cannot_read(tmp_path, capsys):
    with pytest.raises(DataError, match="no such line set"):
        bench.fidelity_lines(str(tmp_path / "absent.npz"), 32)
    with pytest.raises(SystemExit) as stopped:
        bench.main(["--lines", str(tmp_path / "absent.npz")])
    assert stopped.value.code == 1
    assert capsys.readouterr().err.strip().count("\n") == 0


def test_the_benchmark_reports_a_row_per_device_and_size(monkeypatch, tmp_path, capsys):
    path = save_lines(tmp_path / "lines.npz", line_set(np.random.default_rng(4), ["train", "val", "test", "val"]))
    monkeypatch.setenv("INKCORE_IAM", str(path))
    lines, why = bench.fidelity_lines(None, 2)
    assert len(lines) == 2 and why == ""
    result = bench.report_fidelity(random_model(SMALL_CONFIG), lines)
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("pen fidelity: share of the priming gain kept, 2 held-out IAM-OnDB lines")
    rows = [line for line in out if line.rstrip().endswith(("ok", "MISSED"))]
    assert len(rows) == len(fidelity.DEVICES) * len(fidelity.SIZES)
    for reading in result["now"]["readings"]:
        assert f"{reading.share_kept:.0%}" in "".join(rows)
    assert f"{result['now']['nll_unprimed']:+.3f}" in out[1]
    assert [r.scale for r in result["before"]["readings"]] == [r.scale for r in result["now"]["readings"]]
