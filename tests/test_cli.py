"""``python -m inkcore`` as a user runs it: real subprocesses, real files."""
from __future__ import annotations

import csv
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from conftest import ARTICLE_VALIDATION, ARTICLE_WEIGHTS, random_model, random_rows, require_shared
from inkcore.data import read_article_lines
from inkcore.evaluate import score
from inkcore.model import Config, mixture, run
from inkcore.weights import ARTICLE_TENSORS, load, save_npz

REPOSITORY = Path(__file__).resolve().parents[1]
SCORE_KEYS = {"nll_per_point", "gauss_per_point", "eos_per_point", "points", "sequences"}


def inkcore(*args: str, weights: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPOSITORY), env.get("PYTHONPATH", "")])
    if weights is not None:
        env["INKCORE_WEIGHTS"] = str(weights)
    return subprocess.run(
        [sys.executable, "-m", "inkcore", *args],
        cwd=REPOSITORY, env=env, capture_output=True, text=True, timeout=120,
    )


def assert_one_line_failure(result: subprocess.CompletedProcess, *words: str) -> str:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> Path:
    """A full-size model of inkcore's own format: the article's shapes, random weights."""
    path = tmp_path_factory.mktemp("weights") / "random.npz"
    return save_npz(path, random_model(Config(), seed=0), provenance={"trained_by": "test_cli"})


@pytest.fixture(scope="module")
def strokes(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("strokes") / "line.json"
    path.write_text(json.dumps(random_rows(np.random.default_rng(0), 40).round(3).tolist()))
    return path


def test_evaluate_json_on_a_folder_of_article_lines(tmp_path):
    folder = tmp_path / "examples"
    folder.mkdir()
    for k in (0, 1, 2):
        shutil.copy(require_shared(ARTICLE_VALIDATION) / f"{k}.json", folder / f"{k}.json")
    (folder / "notes.json").write_text("not a line; skipped because its name is not a number")
    result = inkcore("evaluate", "--examples", str(folder), "--json", "--weights", str(require_shared(ARTICLE_WEIGHTS)))
    assert result.returncode == 0, result.stderr
    reported = json.loads(result.stdout)
    assert set(reported) == SCORE_KEYS
    model, _ = load(ARTICLE_WEIGHTS)
    expected = score(model, read_article_lines(folder).values()).to_dict()
    assert reported["sequences"] == 3
    points = sum(len(json.loads((folder / f"{k}.json").read_text())) - 1 for k in (0, 1, 2))
    assert reported["points"] == points == expected["points"]
    for key in ("nll_per_point", "gauss_per_point", "eos_per_point"):
        assert reported[key] == pytest.approx(expected[key], abs=1e-9)
    assert -2.5 < reported["nll_per_point"] < -1.0


def test_cells_to_npz(tmp_path, weights, strokes):
    out = tmp_path / "cells.npz"
    result = inkcore("cells", "--strokes", str(strokes), "--out", str(out), "--weights", str(weights))
    assert result.returncode == 0, result.stderr
    with np.load(out, allow_pickle=False) as archive:
        cells = {name: archive[name] for name in archive.files}
    assert cells["h"].shape == cells["c"].shape == (40, 500)
    for name in ("pi", "mu_x", "mu_y", "sigma_x", "sigma_y", "rho"):
        assert cells[name].shape == (40, 20), name
    assert cells["eos"].shape == (40,)
    # the state after every row, as the engine computes it in this process
    model, _ = load(weights)
    rows = np.array(json.loads(strokes.read_text()))
    recording = run(model, rows[:, None, :])
    np.testing.assert_allclose(cells["h"], recording.h[:, 0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(cells["pi"], mixture(model, recording.h[:, 0]).pi, rtol=1e-5, atol=1e-7)


def test_cells_to_csv(tmp_path, weights, strokes):
    out = tmp_path / "cells.csv"
    result = inkcore("cells", "--strokes", str(strokes), "--out", str(out), "--weights", str(weights))
    assert result.returncode == 0, result.stderr
    with out.open(newline="") as handle:
        table = list(csv.reader(handle))
    header, body = table[0], table[1:]
    assert len(body) == 40
    assert header[0] == "step" and header[-1] == "eos"
    assert header[1:3] == ["h_0", "h_1"] and "h_499" in header and "c_499" in header and "pi_19" in header
    assert len(header) == 1 + 2 * 500 + 6 * 20 + 1  # step, h, c, six mixture parameters, eos
    assert all(len(row) == len(header) for row in body)
    assert [int(row[0]) for row in body] == list(range(40))
    pi = np.array([[float(row[header.index(f"pi_{k}")]) for k in range(20)] for row in body])
    np.testing.assert_allclose(pi.sum(axis=1), 1.0, atol=1e-4)


@pytest.mark.parametrize("suffix", [".svg", ".png", ".json"])
def test_sample(tmp_path, weights, suffix):
    out = tmp_path / f"samples{suffix}"
    result = inkcore("sample", "--n", "2", "--steps", "30", "--seed", "3", "--out", str(out), "--weights", str(weights))
    assert result.returncode == 0, result.stderr
    if suffix == ".svg":
        assert ET.fromstring(out.read_text()).tag.endswith("svg")
    elif suffix == ".png":
        assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    else:
        lines = json.loads(out.read_text())
        assert np.array(lines).shape == (2, 30, 3)
        again = tmp_path / "again.json"
        inkcore("sample", "--n", "2", "--steps", "30", "--seed", "3", "--out", str(again), "--weights", str(weights))
        assert json.loads(again.read_text()) == lines


def test_sample_writes_the_lines_each_seed_writes_alone(tmp_path, weights):
    def written(n: int, seed: int) -> list:
        out = tmp_path / f"n{n}-seed{seed}.json"
        result = inkcore("sample", "--n", str(n), "--steps", "120", "--seed", str(seed), "--out", str(out),
                         "--weights", str(weights))
        assert result.returncode == 0, result.stderr
        return json.loads(out.read_text())

    together = written(3, 5)
    assert len(together) == 3
    for k, seed in enumerate([5, 6, 7]):
        assert together[k] == written(1, seed)[0], f"line {k} of --n 3 --seed 5 is not what --seed {seed} writes"
    assert together[0] != together[1]


def test_sample_refuses_a_negative_seed(tmp_path, weights):
    result = inkcore("sample", "--seed", "-2", "--out", str(tmp_path / "x.json"), "--weights", str(weights))
    assert "at least 0" in assert_one_line_failure(result, "--seed")


def test_info_prints_the_metadata(weights):
    result = inkcore("info", "--weights", str(weights))
    assert result.returncode == 0, result.stderr
    metadata = json.loads(result.stdout)
    assert metadata["config"]["cells"] == 500 and metadata["provenance"] == {"trained_by": "test_cli"}


def test_info_on_the_article_weights():
    result = inkcore("info", "--weights", str(require_shared(ARTICLE_WEIGHTS)))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["format"] == "article-b64"


def test_the_default_weights_come_from_the_environment(weights):
    result = inkcore("info", weights=weights)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["provenance"]["trained_by"] == "test_cli"


def test_missing_default_weights(tmp_path):
    missing = tmp_path / "nowhere" / "inkcore.npz"
    result = inkcore("sample", "--out", str(tmp_path / "x.svg"), weights=missing)
    assert_one_line_failure(result, str(missing), "--weights")


def test_a_bad_weights_file(tmp_path):
    bad = tmp_path / "broken.npz"
    bad.write_bytes(b"PK\x03\x04 this is no zip archive")
    assert_one_line_failure(inkcore("info", "--weights", str(bad)), "broken.npz")


def test_a_weights_file_that_does_not_exist(tmp_path):
    assert_one_line_failure(inkcore("info", "--weights", str(tmp_path / "gone.npz")), "gone.npz")


@pytest.mark.parametrize(
    "content",
    [
        pytest.param("[[0.5, NaN, 0], [1, 1, 0]]", id="nan"),
        pytest.param('[["a", "b", "c"]]', id="text"),
        pytest.param('[["1", "2", "0"]]', id="numbers-as-text"),
        pytest.param("[[1, 2, 0], [1, 2]]", id="ragged"),
        pytest.param("[[1, 2], [1, 2]]", id="two-columns"),
        pytest.param("[[1, 2, 0.5]]", id="pen-half"),
        pytest.param('{"rows": []}', id="an-object"),
        pytest.param("[[1, 2, 0]", id="truncated-json"),
        pytest.param("[" * 100_000, id="deeply-nested"),
        pytest.param("", id="empty"),
    ],
)
def test_a_bad_strokes_file(tmp_path, weights, content):
    strokes = tmp_path / "bad-strokes.json"
    strokes.write_text(content)
    result = inkcore("cells", "--strokes", str(strokes), "--out", str(tmp_path / "c.npz"), "--weights", str(weights))
    assert_one_line_failure(result, "bad-strokes.json")
    assert not (tmp_path / "c.npz").exists()


def test_a_strokes_file_that_does_not_exist(tmp_path, weights):
    result = inkcore("cells", "--strokes", str(tmp_path / "absent.json"), "--out", str(tmp_path / "c.npz"),
                     "--weights", str(weights))
    assert_one_line_failure(result, "absent.json")


@pytest.mark.parametrize("command", ["sample", "cells"])
def test_an_unknown_output_suffix(tmp_path, weights, strokes, command):
    out = tmp_path / "out.txt"
    extra = ["--strokes", str(strokes)] if command == "cells" else ["--steps", "5"]
    result = inkcore(command, *extra, "--out", str(out), "--weights", str(weights))
    assert_one_line_failure(result, "out.txt")
    assert list(tmp_path.iterdir()) == []


def test_evaluate_on_a_folder_that_does_not_exist(tmp_path, weights):
    result = inkcore("evaluate", "--examples", str(tmp_path / "no-such-folder"), "--weights", str(weights))
    assert_one_line_failure(result, "no-such-folder")


def test_evaluate_on_a_folder_with_a_bad_line(tmp_path, weights):
    (tmp_path / "0.json").write_text("[[0, 0, 0], [1, 2, 7]]")
    result = inkcore("evaluate", "--examples", str(tmp_path), "--weights", str(weights))
    assert_one_line_failure(result, "0.json")


def test_evaluate_by_motion(tmp_path):
    folder = tmp_path / "examples"
    folder.mkdir()
    for k in (0, 1):
        shutil.copy(require_shared(ARTICLE_VALIDATION) / f"{k}.json", folder / f"{k}.json")
    weights = str(require_shared(ARTICLE_WEIGHTS))
    result = inkcore("evaluate", "--examples", str(folder), "--json", "--by-motion", "--weights", weights)
    assert result.returncode == 0, result.stderr
    reported = json.loads(result.stdout)
    parts = reported.pop("by_motion")
    assert set(reported) == SCORE_KEYS
    assert set(parts) == {"still", "horizontal", "vertical", "other"}
    assert sum(p["points"] for p in parts.values()) == reported["points"]
    # the article's model keeps a point mass at dy = 0: horizontal moves cost it far fewer nats
    assert parts["horizontal"]["gauss_per_point"] < parts["other"]["gauss_per_point"] - 2
    text = inkcore("evaluate", "--examples", str(folder), "--by-motion", "--weights", weights)
    assert "horizontal points" in text.stdout and "dy = 0, dx != 0" in text.stdout


@pytest.mark.parametrize("variation", ["nan", "inf", "-0.5"])
def test_sample_refuses_a_variation_that_is_not_a_finite_number(tmp_path, weights, variation):
    out = tmp_path / "s.json"
    result = inkcore("sample", "--steps", "5", "--variation", variation, "--out", str(out), "--weights", str(weights))
    assert_one_line_failure(result, "--variation")
    assert not out.exists()


@pytest.mark.parametrize("args", [["no-such-command"], ["sample"], ["sample", "--steps", "many", "--out", "x.json"],
                                  ["evaluate", "--weights"]])
def test_argument_errors_are_one_line(args):
    line = assert_one_line_failure(inkcore(*args), "error:", "--help")
    assert "usage:" not in line


def test_a_reader_that_stops_early_is_not_an_error(weights):
    env = dict(os.environ, PYTHONPATH=str(REPOSITORY), INKCORE_WEIGHTS=str(weights))
    writer = subprocess.Popen([sys.executable, "-m", "inkcore", "info"], cwd=REPOSITORY, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    writer.stdout.read(1)  # read one byte, then hang up like `| head -c 1`
    writer.stdout.close()
    assert writer.wait(timeout=60) == 0
    assert writer.stderr.read() == b""


def test_export_to_the_article_format_and_back(tmp_path):
    source = require_shared(ARTICLE_WEIGHTS)
    out = tmp_path / "again.json"
    result = inkcore("export", "--weights", str(source), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert json.loads(out.read_text()) == json.loads(source.read_text())  # the article's model fits its own format
    result = inkcore("export", "--weights", str(source), "--out", str(tmp_path / "article.npz"))
    assert result.returncode == 0, result.stderr
    ours, metadata = load(tmp_path / "article.npz")
    article, _ = load(source)
    for name in ("W_x", "W_h", "b", "W_out", "b_out"):
        np.testing.assert_array_equal(getattr(ours, name), getattr(article, name))
    assert metadata["format"] == "inkcore-weights" and metadata["converted_from"] == str(source)


def test_export_refuses_to_clip_a_model_silently(tmp_path):
    model = random_model(Config(), seed=3)
    fitting = {name: np.clip(getattr(model, name), -scale, scale) for name, scale in ARTICLE_TENSORS}
    fitting["W_h"][0, :7] = 5.0  # far beyond the format's W_h scale of 0.8
    path = save_npz(tmp_path / "big.npz", dataclasses.replace(model, **fitting), provenance={})
    out = tmp_path / "big.json"
    assert_one_line_failure(inkcore("export", "--weights", str(path), "--out", str(out)), "7 weights", "W_h 7", "--clip")
    assert not out.exists()
    result = inkcore("export", "--weights", str(path), "--out", str(out), "--clip")
    assert result.returncode == 0, result.stderr
    back, _ = load(out)
    assert np.isclose(back.W_h[0, 0], 0.8 * 128 / 127)  # saturated at the largest byte


# --- read-pen and score ----------------------------------------------------------------


def events_file(path: Path, strokes) -> Path:
    path.write_text(json.dumps({"strokes": strokes}))
    return path


@pytest.fixture(scope="module")
def handwriting_events(tmp_path_factory) -> tuple[Path, list]:
    """Three strokes of pointer events (CSS px, ms), the last far to the right."""
    t = np.linspace(0.0, 400.0, 40)
    strokes = [
        np.column_stack([20 + 0.1 * t, 60 + 25 * np.sin(t / 40), 1000 + t]),
        np.column_stack([70 + 0.08 * t, 60 + 25 * np.cos(t / 50), 1600 + t]),
        np.column_stack([900 + 0.1 * t, 55 + 20 * np.sin(t / 30), 2300 + t]),
    ]
    strokes = [np.round(s, 2).tolist() for s in strokes]
    return events_file(tmp_path_factory.mktemp("events") / "events.json", strokes), strokes


def test_read_pen_writes_what_the_pages_feed_the_model(tmp_path, weights, handwriting_events):
    from inkcore.pen import read_strokes

    events, strokes = handwriting_events
    out = tmp_path / "rows.json"
    result = inkcore("read-pen", str(events), "--out", str(out), "--weights", str(weights))
    assert result.returncode == 0, result.stderr
    expected = read_strokes(strokes, load(weights)[0])
    written = np.array(json.loads(out.read_text()))
    np.testing.assert_array_equal(written, expected.rows)  # exactly: JSON keeps every float
    assert f"{expected.units_per_pixel:.3f}" in result.stderr and "estimated" in result.stderr
    assert f"x{expected.speed_factor:.2f}" in result.stderr and f"{len(expected.rows)} rows" in result.stderr
    # the default weights are the ones the pages use unless told otherwise
    again = tmp_path / "again.json"
    assert inkcore("read-pen", str(events), "--out", str(again), weights=weights).returncode == 0
    assert json.loads(again.read_text()) == json.loads(out.read_text())


def test_read_pen_with_a_given_scale(tmp_path, handwriting_events):
    from inkcore.pen import read_strokes

    events, strokes = handwriting_events
    out = tmp_path / "rows.json"
    missing = tmp_path / "no-model.npz"  # a given scale needs no model
    result = inkcore("read-pen", str(events), "--out", str(out), "--units-per-pixel", "4", weights=missing)
    assert result.returncode == 0, result.stderr
    rows = np.array(json.loads(out.read_text()))
    np.testing.assert_array_equal(rows, read_strokes(strokes, units_per_pixel=4.0).rows)
    assert "4.000" in result.stderr and "given" in result.stderr
    jump = np.flatnonzero(rows[:, 2])[1] + 1  # from the second stroke's end to the third's start
    assert rows[jump, 0] > 50  # about 790 px at 4 units/px: 79 model units, not clipped


@pytest.mark.parametrize("content, words", [
    pytest.param("{not json", ["not valid JSON"], id="not-json"),
    pytest.param('[[[0, 0, 0]]]', ['"strokes"'], id="no-strokes-key"),
    pytest.param('{"strokes": []}', ["no pointer events"], id="no-events"),
    pytest.param('{"strokes": [[["a", null, 1]]]}', ["no pointer events"], id="events-not-numbers"),
    pytest.param('{"strokes": [[[10, 20, 5]]]}', ["single dot"], id="a-dot"),
    pytest.param('{"strokes": "abc"}', ["expected a list of strokes"], id="strokes-not-a-list"),
])
def test_read_pen_refuses_bad_events_in_one_line(tmp_path, weights, content, words):
    events = tmp_path / "drawing.json"
    events.write_text(content)
    out = tmp_path / "rows.json"
    result = inkcore("read-pen", str(events), "--out", str(out), "--weights", str(weights))
    assert_one_line_failure(result, "drawing.json", *words)
    assert not out.exists()


def test_read_pen_refuses_too_many_events(tmp_path):
    from inkcore.pen import MAX_EVENTS

    events = events_file(tmp_path / "long.json", [[[k % 500, 0, k] for k in range(MAX_EVENTS + 1)]])
    result = inkcore("read-pen", str(events), "--out", str(tmp_path / "rows.json"), "--units-per-pixel", "3")
    assert_one_line_failure(result, "long.json", "more than 200,000 pointer events")
    assert not (tmp_path / "rows.json").exists()


@pytest.mark.parametrize("value", ["0", "-2", "nan", "inf"])
def test_read_pen_refuses_a_scale_that_is_not_positive(tmp_path, handwriting_events, value):
    events, _ = handwriting_events
    result = inkcore("read-pen", str(events), "--out", str(tmp_path / "rows.json"), f"--units-per-pixel={value}")
    assert_one_line_failure(result, "--units-per-pixel", "positive")
    assert not (tmp_path / "rows.json").exists()


def test_read_pen_on_a_file_that_does_not_exist(tmp_path, weights):
    result = inkcore("read-pen", str(tmp_path / "absent.json"), "--out", str(tmp_path / "rows.json"),
                     "--weights", str(weights))
    assert_one_line_failure(result, "absent.json")


def test_score_is_the_evaluation_protocol_on_one_line(weights, strokes):
    result = inkcore("score", "--strokes", str(strokes), "--json", "--weights", str(weights))
    assert result.returncode == 0, result.stderr
    reported = json.loads(result.stdout)
    assert {"nll_per_point", "gauss_per_point", "eos_per_point", "points"} <= set(reported)
    rows = np.array(json.loads(strokes.read_text()))
    expected = score(load(weights)[0], [rows]).to_dict()
    assert reported["points"] == expected["points"] == len(rows)
    for key in ("nll_per_point", "gauss_per_point", "eos_per_point"):
        assert reported[key] == pytest.approx(expected[key], abs=1e-9)
    text = inkcore("score", "--strokes", str(strokes), "--weights", str(weights))
    assert f"{expected['nll_per_point']:.4f}" in text.stdout


def test_score_after_a_prime_scores_only_what_follows_it(tmp_path, weights, strokes):
    from inkcore.evaluate import line_log_likelihood

    prime = tmp_path / "prime.json"
    prime_rows = random_rows(np.random.default_rng(9), 25).round(3)
    prime.write_text(json.dumps(prime_rows.tolist()))
    result = inkcore("score", "--strokes", str(strokes), "--prime", str(prime), "--json", "--weights", str(weights))
    assert result.returncode == 0, result.stderr
    reported = json.loads(result.stdout)
    rows = np.array(json.loads(strokes.read_text()))
    whole = line_log_likelihood(load(weights)[0], np.concatenate([prime_rows, rows]))
    assert reported["points"] == len(rows)
    # float32 weights: one line alone and in a batch agree to rounding
    assert reported["nll_per_point"] == pytest.approx(-whole.total[len(prime_rows):].mean(), abs=1e-6)
    assert reported["gauss_per_point"] == pytest.approx(-whole.gauss[len(prime_rows):].mean(), abs=1e-6)
    unprimed = json.loads(inkcore("score", "--strokes", str(strokes), "--json", "--weights", str(weights)).stdout)
    assert abs(reported["nll_per_point"] - unprimed["nll_per_point"]) > 1e-4  # the prime was read


@pytest.mark.parametrize("content, words", [
    pytest.param("{not json", ["not valid JSON"], id="not-json"),
    pytest.param("[[1, 2, 0.5]]", ["pen column"], id="pen-half"),
    pytest.param("[[[1, 2, 0]], [[1, 2]]]", ["line 2"], id="a-bad-line"),
])
def test_score_refuses_a_bad_strokes_file_in_one_line(tmp_path, weights, content, words):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    assert_one_line_failure(inkcore("score", "--strokes", str(bad), "--weights", str(weights)), "bad.json", *words)


def test_score_refuses_a_missing_file_or_a_prime_of_several_lines(tmp_path, weights, strokes):
    absent = inkcore("score", "--strokes", str(tmp_path / "absent.json"), "--weights", str(weights))
    assert_one_line_failure(absent, "absent.json")
    several = tmp_path / "several.json"
    several.write_text(json.dumps([json.loads(strokes.read_text())] * 2))
    primed = inkcore("score", "--strokes", str(strokes), "--prime", str(several), "--weights", str(weights))
    assert_one_line_failure(primed, "several.json", "2 lines", "a prime is one line")


def test_a_line_sample_writes_is_a_stroke_file_score_and_cells_read(tmp_path, weights):
    one, three = tmp_path / "one.json", tmp_path / "three.json"
    for out, n in ((one, "1"), (three, "3")):
        result = inkcore("sample", "--n", n, "--steps", "25", "--seed", "2", "--out", str(out), "--weights", str(weights))
        assert result.returncode == 0, result.stderr
    model = load(weights)[0]
    line = np.array(json.loads(one.read_text())[0])
    scored = inkcore("score", "--strokes", str(one), "--json", "--weights", str(weights))
    assert scored.returncode == 0, scored.stderr
    assert json.loads(scored.stdout)["nll_per_point"] == pytest.approx(score(model, [line]).nll_per_point, abs=1e-9)
    cells = inkcore("cells", "--strokes", str(one), "--out", str(tmp_path / "one.npz"), "--weights", str(weights))
    assert cells.returncode == 0, cells.stderr
    with np.load(tmp_path / "one.npz") as archive:
        np.testing.assert_allclose(archive["h"], run(model, line[:, None, :]).h[:, 0], rtol=1e-5, atol=1e-6)
    # a file of several lines: score reads them all, cells the one --line names
    lines = [np.array(rows) for rows in json.loads(three.read_text())]
    scored = json.loads(inkcore("score", "--strokes", str(three), "--json", "--weights", str(weights)).stdout)
    assert scored["sequences"] == 3 and scored["nll_per_point"] == pytest.approx(score(model, lines).nll_per_point,
                                                                                  abs=1e-9)
    refused = inkcore("cells", "--strokes", str(three), "--out", str(tmp_path / "c.npz"), "--weights", str(weights))
    assert_one_line_failure(refused, "three.json", "3 lines", "--line")
    second = inkcore("cells", "--strokes", str(three), "--line", "2", "--out", str(tmp_path / "c.npz"),
                     "--weights", str(weights))
    assert second.returncode == 0, second.stderr
    with np.load(tmp_path / "c.npz") as archive:
        np.testing.assert_allclose(archive["h"], run(model, lines[1][:, None, :]).h[:, 0], rtol=1e-5, atol=1e-6)
    beyond = inkcore("cells", "--strokes", str(three), "--line", "4", "--out", str(tmp_path / "d.npz"),
                     "--weights", str(weights))
    assert_one_line_failure(beyond, "no line 4")


@pytest.fixture(scope="module")
def examples(tmp_path_factory) -> Path:
    """A folder of three short lines in the article's format (k.json)."""
    folder = tmp_path_factory.mktemp("examples")
    rng = np.random.default_rng(5)
    for k, steps in enumerate((25, 40, 30)):
        (folder / f"{k}.json").write_text(json.dumps(random_rows(rng, steps).round(3).tolist()))
    return folder


def test_ablate_without_cells_is_evaluate_and_with_cells_holds_them(weights, examples):
    from inkcore.intervene import make_hold

    plain = inkcore("ablate", "--examples", str(examples), "--json", "--weights", str(weights))
    evaluated = inkcore("evaluate", "--examples", str(examples), "--json", "--weights", str(weights))
    assert plain.returncode == 0, plain.stderr
    assert json.loads(plain.stdout) == json.loads(evaluated.stdout)
    held = inkcore("ablate", "--examples", str(examples), "--cells", "4,17", "--hold", "zero", "--json",
                   "--weights", str(weights))
    assert held.returncode == 0, held.stderr
    reported = json.loads(held.stdout)
    model, _ = load(weights)
    lines = list(read_article_lines(examples).values())
    expected = score(model, lines, hold=make_hold(model, [4, 17], "zero")).nll_per_point
    assert reported["cells"] == [4, 17] and reported["hold"] == "zero"
    assert reported["nll_per_point"] == pytest.approx(expected, abs=1e-9)
    assert reported["cost_per_point"] == pytest.approx(expected - json.loads(plain.stdout)["nll_per_point"], abs=1e-9)


def test_ablate_rank_lists_every_cell_once_the_same_each_time(weights, examples):
    args = ("ablate", "--examples", str(examples), "--rank", "--lines", "2", "--json", "--weights", str(weights))
    first, second = inkcore(*args), inkcore(*args)
    assert first.returncode == 0, first.stderr
    ranked = json.loads(first.stdout)
    assert ranked == json.loads(second.stdout)
    assert sorted(row["cell"] for row in ranked) == list(range(500))
    assert [row["cost"] for row in ranked] == sorted((row["cost"] for row in ranked), reverse=True)
    assert set(ranked[0]) == {"cell", "cost", "feature", "r"}


def test_match_of_a_model_with_itself_is_the_identity(weights, examples):
    result = inkcore("match", "--other", str(weights), "--examples", str(examples), "--json", "--weights", str(weights))
    assert result.returncode == 0, result.stderr
    matches = json.loads(result.stdout)
    assert [(m["cell"], m["other"]) for m in matches] == [(k, k) for k in range(500)]
    assert all(m["r"] == pytest.approx(1.0, abs=1e-9) for m in matches)


@pytest.mark.parametrize("args, words", [
    (("--cells", "1,x"), ("--cells", "commas")),
    (("--cells", "500"), ("500", "0..499")),
    (("--cells", "3", "--hold", "half"), ("--hold half", "mean, zero")),
    (("--rank", "--cells", "3"), ("--rank", "--cells")),
    (("--lines", "0"), ("--lines",)),
])
def test_ablate_refuses_bad_choices_in_one_line(weights, examples, args, words):
    result = inkcore("ablate", "--examples", str(examples), *args, "--weights", str(weights))
    assert_one_line_failure(result, *words)


# --- corpus jobs: --progress, --scheduler, --split, many files ---------------------


def test_progress_goes_to_stderr_and_json_stays_one_object(weights, examples):
    result = inkcore("evaluate", "--examples", str(examples), "--json", "--progress", "--weights", str(weights))
    assert result.returncode == 0, result.stderr
    assert set(json.loads(result.stdout)) == SCORE_KEYS
    assert "3 of 3 lines" in result.stderr and "lines/s" in result.stderr and "left" in result.stderr
    quiet = inkcore("evaluate", "--examples", str(examples), "--json", "--weights", str(weights))
    assert quiet.stderr == "" and json.loads(quiet.stdout) == json.loads(result.stdout)  # no terminal: no progress
    ranked = inkcore("ablate", "--examples", str(examples), "--rank", "--lines", "1", "--json", "--progress",
                     "--weights", str(weights))
    assert ranked.returncode == 0, ranked.stderr
    assert len(json.loads(ranked.stdout)) == 500 and "500 of 500 line readings" in ranked.stderr


def test_a_bad_scheduler_address_is_one_line(weights, examples):
    pytest.importorskip("distributed", reason="dask.distributed is not installed (pip install 'inkcore[cluster]')")
    result = inkcore("evaluate", "--examples", str(examples), "--scheduler", "tcp://127.0.0.1:9", "--weights",
                     str(weights))
    assert_one_line_failure(result, "--scheduler tcp://127.0.0.1:9", "cannot reach a Dask scheduler")
    assert result.stdout == ""
    assert_one_line_failure(inkcore("probe", "--examples", str(examples), "--scheduler", "local:none",
                                    "--weights", str(weights)), "local:N")


def test_a_local_cluster_gives_the_in_process_figures(weights, examples):
    pytest.importorskip("distributed", reason="dask.distributed is not installed (pip install 'inkcore[cluster]')")
    here = inkcore("evaluate", "--examples", str(examples), "--json", "--by-motion", "--weights", str(weights))
    there = inkcore("evaluate", "--examples", str(examples), "--json", "--by-motion", "--scheduler", "local:2",
                    "--progress", "--weights", str(weights))
    assert there.returncode == 0, there.stderr
    here, there = json.loads(here.stdout), json.loads(there.stdout)
    for key in ("nll_per_point", "gauss_per_point", "eos_per_point"):
        assert there[key] == pytest.approx(here[key], abs=1e-9)
    assert there["by_motion"] == here["by_motion"]


def test_a_line_set_split_is_a_corpus(tmp_path, weights):
    from inkcore.data import LineSet, load_lines, save_lines

    rng = np.random.default_rng(3)
    sizes, splits = (30, 12, 45, 8), ["train", "val", "train", "test"]
    points = [np.column_stack([np.cumsum(rng.integers(-30, 30, (n, 2)), axis=0), np.arange(n) % 6 == 5])
              for n in sizes]
    starts = np.concatenate([[0], np.cumsum(sizes)])
    save_lines(tmp_path / "lines.npz", LineSet(np.concatenate(points).astype(np.int16), np.zeros(starts[-1], np.int32),
                                               starts, np.array([f"l-{k}" for k in range(4)]), np.array([""] * 4),
                                               np.array(splits), np.full(4, -1)))
    result = inkcore("evaluate", "--examples", str(tmp_path / "lines.npz"), "--split", "train", "--json",
                     "--weights", str(weights))
    assert result.returncode == 0, result.stderr
    reported = json.loads(result.stdout)
    expected = score(load(weights)[0], load_lines(tmp_path / "lines.npz").model_rows("train")).to_dict()
    assert reported["sequences"] == 2 and reported["points"] == 29 + 44 == expected["points"]
    assert reported["nll_per_point"] == pytest.approx(expected["nll_per_point"], abs=1e-9)
    refused = inkcore("evaluate", "--examples", str(tmp_path / "lines.npz"), "--split", "dev", "--weights",
                      str(weights))
    assert_one_line_failure(refused, "--split")


def test_cells_of_a_corpus_writes_one_file_per_line(tmp_path, weights, examples):
    out = tmp_path / "cells"
    result = inkcore("cells", "--examples", str(examples), "--out", str(out), "--weights", str(weights))
    assert result.returncode == 0, result.stderr
    model = load(weights)[0]
    lines = read_article_lines(examples)
    assert sorted(path.name for path in out.iterdir()) == [f"{k}.npz" for k in sorted(lines)]
    for k, rows in lines.items():
        with np.load(out / f"{k}.npz", allow_pickle=False) as archive:
            assert archive["h"].shape == (len(rows), 500) and archive["eos"].shape == (len(rows),)
            np.testing.assert_allclose(archive["c"], run(model, rows[:, None, :]).c[:, 0], rtol=1e-5, atol=1e-6)
    assert_one_line_failure(inkcore("cells", "--examples", str(examples), "--out", str(tmp_path / "x.npz"),
                                    "--weights", str(weights)), "folder")


def test_score_of_many_files_scores_them_together(tmp_path, weights, strokes, examples):
    files = [str(examples / f"{k}.json") for k in (0, 2)]
    result = inkcore("score", "--strokes", str(strokes), *files, "--json", "--weights", str(weights))
    assert result.returncode == 0, result.stderr
    lines = [np.array(json.loads(Path(path).read_text())) for path in (str(strokes), *files)]
    expected = score(load(weights)[0], lines).to_dict()
    reported = json.loads(result.stdout)
    assert reported["sequences"] == 3 and reported["points"] == expected["points"]
    assert reported["nll_per_point"] == pytest.approx(expected["nll_per_point"], abs=1e-9)
