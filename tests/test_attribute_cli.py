"""``inkcore attribute`` as a user runs it: one point's gradient or integrated gradients,
each cell's attribution, a corpus's lag profile, and the faults as one line."""
from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import SMALL_CONFIG, random_model, random_rows
from inkcore import backward
from inkcore.weights import load, save_npz
from test_cli import assert_one_line_failure, inkcore


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("attribute")
    weights = save_npz(folder / "small.npz", random_model(SMALL_CONFIG, seed=6))
    rng = np.random.default_rng(1)
    lines = folder / "lines"
    lines.mkdir()
    for k in range(3):
        (lines / f"line{k}.json").write_text(json.dumps(random_rows(rng, 40 + 10 * k).round(3).tolist()))
    (folder / "one.json").write_text(json.dumps([[0.5, 0.2, 1.0]]))
    (folder / "object.json").write_text(json.dumps({"strokes": []}))
    return weights, lines, folder


def test_the_gradient_is_the_engines(files):
    weights, lines, _ = files
    stroke = lines / "line1.json"
    result = inkcore("attribute", "--weights", str(weights), "--strokes", str(stroke), "--at", "30",
                     "--method", "grad", "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    rows = np.array(json.loads(stroke.read_text()))
    expected = backward.point_gradient(load(weights)[0], rows, 30)
    assert out["log_likelihood"] == pytest.approx(expected.log_likelihood)
    assert np.shape(out["gradient"]) == (30, 3)
    np.testing.assert_allclose(out["gradient"], expected.rows, atol=1e-9)


def test_integrated_gradients_are_complete_and_cells_are_attributed(files):
    weights, lines, _ = files
    result = inkcore("attribute", "--weights", str(weights), "--strokes", str(lines / "line2.json"), "--at", "45",
                     "--cells", "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["method"] == "ig" and np.shape(out["attribution"]) == (45, 3)
    assert out["completeness"] < 0.01
    change = out["log_likelihood"] - out["baseline_log_likelihood"]
    assert np.sum(out["attribution"]) == pytest.approx(change, rel=0.01)
    assert len(out["cells"]) == SMALL_CONFIG.cells
    text = inkcore("attribute", "--weights", str(weights), "--strokes", str(lines / "line2.json"), "--at", "45")
    assert text.returncode == 0 and "completeness gap" in text.stdout and "rows back" in text.stdout


def test_a_target_at_row_zero_has_an_empty_attribution(files):
    weights, lines, _ = files
    result = inkcore("attribute", "--weights", str(weights), "--strokes", str(lines / "line0.json"), "--at", "0",
                     "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["attribution"] == []


def test_a_corpus_gives_its_lag_profile(files):
    weights, lines, _ = files
    result = inkcore("attribute", "--weights", str(weights), "--examples", str(lines), "--every", "5", "--max-lag",
                     "20", "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["lines"] == 3 and out["targets_all"] == out["targets_before_lift"] + out["targets_other"] > 0
    assert len(out["shares"]["all"]) == 21 and sum(out["shares"]["all"]) == pytest.approx(1.0)
    assert 1 <= out["lag50_all"] <= out["lag90_all"] <= 20


@pytest.mark.parametrize("args,words", [
    (["--at", "500"], ["--at 500", "outside the line", "0 to 39"]),
    (["--at", "-1"], ["--at -1", "outside the line"]),
    ([], ["--at T"]),
])
def test_a_point_outside_the_line_is_one_line(files, args, words):
    weights, lines, _ = files
    assert_one_line_failure(inkcore("attribute", "--weights", str(weights), "--strokes", str(lines / "line0.json"),
                                    *args), *words)


def test_other_faults_are_one_line(files):
    weights, _, folder = files
    assert_one_line_failure(inkcore("attribute", "--weights", str(weights), "--strokes", str(folder / "one.json"),
                                    "--at", "0"), "one.json", "1 row")
    assert_one_line_failure(inkcore("attribute", "--weights", str(weights), "--strokes",
                                    str(folder / "object.json"), "--at", "1"), "object.json", "not a list")
    assert_one_line_failure(inkcore("attribute", "--weights", str(weights)), "--strokes", "--examples")
