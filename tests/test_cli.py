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
