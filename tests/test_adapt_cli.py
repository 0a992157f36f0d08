"""``inkcore adapt`` as a user runs it: the adapted file works with --weights elsewhere,
names its base and lines, and every bad input is one line with nothing half-written."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

from conftest import SMALL_CONFIG, random_model, random_rows
from inkcore.features import file_sha256
from inkcore.weights import load, save_npz
from test_cli import assert_one_line_failure, inkcore


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("adapt")
    weights = save_npz(folder / "small.npz", random_model(SMALL_CONFIG, seed=6))
    rng = np.random.default_rng(2)
    for k in range(3):
        (folder / f"line{k}.json").write_text(json.dumps(random_rows(rng, 30 + 5 * k).round(3).tolist()))
    (folder / "two.json").write_text(json.dumps([random_rows(rng, 20).round(3).tolist(),
                                                 random_rows(rng, 25).round(3).tolist()]))
    (folder / "one-row.json").write_text(json.dumps([[0.5, 0.2, 1.0]]))
    (folder / "object.json").write_text(json.dumps({"strokes": []}))
    return weights, folder


def adapt(weights, folder, *args):
    return inkcore("adapt", "--weights", str(weights), *args)


def test_the_adapted_model_works_with_weights_on_other_commands(files):
    weights, folder = files
    out = folder / "mine.npz"
    result = adapt(weights, folder, "--strokes", str(folder / "line0.json"), str(folder / "line1.json"),
                   str(folder / "line2.json"), "--out", str(out), "--method", "biases", "--steps", "3", "--json")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["method"] == "biases" and figures["steps_run"] <= 3
    assert figures["held_out_nll"]["adapted"] <= figures["held_out_nll"]["base"]
    model, metadata = load(out)
    made = metadata["adaptation"]
    assert made["base"]["sha256"] == file_sha256(weights)
    assert [line["name"] for line in made["lines"]] == [str(folder / f"line{k}.json") for k in range(3)]
    assert made["lines"][-1]["role"] == "held out"
    assert metadata["name"].endswith("adapted to mine")
    scored = inkcore("score", "--weights", str(out), "--strokes", str(folder / "line0.json"), "--json")
    assert scored.returncode == 0, scored.stderr
    assert json.loads(scored.stdout)["points"] == 30
    sampled = inkcore("sample", "--weights", str(out), "--n", "1", "--steps", "20", "--out", str(folder / "s.json"))
    assert sampled.returncode == 0, sampled.stderr


def test_a_file_of_several_lines_counts_each_and_progress_goes_to_stderr(files):
    weights, folder = files
    out = folder / "two.npz"
    result = adapt(weights, folder, "--strokes", str(folder / "two.json"), "--out", str(out), "--steps", "2",
                   "--progress", "--name", "Ada")
    assert result.returncode == 0, result.stderr
    assert "update   0" in result.stderr and "held out" in result.stderr
    assert "held-out line" in result.stdout
    metadata = load(out)[1]
    assert [line["name"] for line in metadata["adaptation"]["lines"]] == [
        f"{folder / 'two.json'} line 1", f"{folder / 'two.json'} line 2"]
    assert metadata["name"].endswith("adapted to Ada")


@pytest.mark.parametrize("strokes, message", [
    (["line0.json"], "at least two lines"),
    (["line0.json", "one-row.json"], "line 2 has 1 row"),
    (["line0.json", "object.json"], "object.json"),
    (["line0.json", "missing.json"], "missing.json"),
])
def test_bad_lines_are_one_line_and_write_nothing(files, strokes, message):
    weights, folder = files
    out = folder / "never.npz"
    result = adapt(weights, folder, "--strokes", *[str(folder / s) for s in strokes], "--out", str(out))
    assert_one_line_failure(result, message)
    assert not out.exists() and not list(folder.glob("never*"))


def test_an_output_that_cannot_be_written_is_refused_before_training(files, tmp_path):
    weights, folder = files
    lines = [str(folder / "line0.json"), str(folder / "line1.json")]
    assert_one_line_failure(adapt(weights, folder, "--strokes", *lines, "--out", str(tmp_path)), "is a folder")
    assert_one_line_failure(adapt(weights, folder, "--strokes", *lines, "--out", str(tmp_path / "no" / "a.npz")),
                            "does not exist")
    (tmp_path / "file.txt").write_text("x")
    assert_one_line_failure(adapt(weights, folder, "--strokes", *lines, "--out", str(tmp_path / "file.txt" / "a.npz")),
                            "is a file, not a folder")
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        assert_one_line_failure(adapt(weights, folder, "--strokes", *lines, "--out", str(locked / "a.npz")),
                                "cannot be written")
    assert not list(tmp_path.rglob("*.npz")) and not list(tmp_path.rglob("*.partial"))


def test_a_bad_base_model_is_one_line(files, tmp_path):
    _, folder = files
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"PK\x03\x04 not really")
    result = adapt(broken, folder, "--strokes", str(folder / "line0.json"), str(folder / "line1.json"),
                   "--out", str(tmp_path / "a.npz"))
    assert_one_line_failure(result, "broken.npz")
    assert not (tmp_path / "a.npz").exists()
