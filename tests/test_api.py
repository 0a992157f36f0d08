"""inkcore's Python face (inkcore.api, re-exported by the package): the snippet of its
docstring as written, each method equal to the command line or to the engine function
it wraps, and inkcore.load refusing what ``--weights`` refuses, in the same words."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest

import inkcore
from conftest import ARTICLE, ARTICLE_WEIGHTS, SMALL_CONFIG, random_model, random_rows, require_shared
from inkcore.api import LoadedModel
from inkcore.attribution import explain
from inkcore.cells import probe_cells
from inkcore.cli import main
from inkcore.cli_common import CommandError
from inkcore.data import lines_from_json, read_stroke_json, stroke_json
from inkcore.downloads import DownloadError
from inkcore.features import DictionaryError, load_dictionary
from inkcore.features_eval import line_activations
from inkcore.figures import CELL_SCALE, coloured_path_figure
from inkcore.intervene import make_hold, no_hold
from inkcore.sampling import WRITE_VARIATION, continue_writing, possible_futures
from inkcore.weights import ARRAY_NAMES, WeightsError, load, save_npz

REPOSITORY = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def no_chosen_model(monkeypatch):
    """The shipped model is the default, whatever the environment names."""
    monkeypatch.delenv("INKCORE_WEIGHTS", raising=False)


@pytest.fixture(scope="module")
def written(tmp_path_factory, shipped_weights) -> Path:
    """The stroke file ``inkcore sample --n 1 --steps 700 --seed 1`` writes."""
    out = tmp_path_factory.mktemp("sample") / "line.json"
    assert main(["sample", "--n", "1", "--steps", "700", "--seed", "1", "--out", str(out),
                 "--weights", str(shipped_weights)]) == 0
    return out


@pytest.fixture(scope="module")
def shipped(shipped_weights) -> LoadedModel:
    return inkcore.load(shipped_weights)


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> LoadedModel:
    path = save_npz(tmp_path_factory.mktemp("small") / "small.npz", random_model(SMALL_CONFIG, seed=3))
    return inkcore.load(path)


def file_rows(path: Path) -> np.ndarray:
    return lines_from_json(read_stroke_json(path), str(path))[0]


def test_the_snippet_runs_as_written(shipped_weights):
    model = inkcore.load()
    line = model.sample(700, seed=1)
    cells = model.record(line)
    nll = model.score(line).nll_per_point
    fig = inkcore.figures.coloured_line(line, cells.c[:, 93])
    assert model.path == shipped_weights
    assert repr(model) == f"LoadedModel('{shipped_weights}', 500 cells, 20 components)"
    assert line.shape == (700, 3) and np.isin(line[:, 2], (0.0, 1.0)).all()
    assert cells.h.shape == cells.c.shape == (700, 500)
    assert np.isfinite(nll) and nll < 0  # a trained model gives its own line a density above 1 per point
    assert isinstance(fig, go.Figure)
    np.testing.assert_array_equal(fig.data[1].marker.color, cells.c[:, 93])


def test_the_readmes_first_python_block_runs(shipped_weights, capsys):
    """The README's snippet itself, as a reader copies it."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    block = re.search(r"```python\n(.*?)```", readme, re.S)
    assert block, "the README shows no Python block"
    namespace: dict = {}
    exec(compile(block.group(1), "README.md", "exec"), namespace)
    model, line = namespace["model"], namespace["line"]
    assert line.shape == (700, 3) and namespace["cells"].c.shape == (700, 500)
    assert float(capsys.readouterr().out.split()[-1]) == pytest.approx(model.score(line).nll_per_point)
    assert isinstance(namespace["fig"], go.Figure)


def test_sample_is_the_line_the_command_line_writes(shipped, written):
    line = shipped.sample(700, seed=1)
    assert written.read_text() == stroke_json([line])  # the CLI's file, byte for byte
    assert np.array_equal(file_rows(written), np.round(line, 4))
    assert np.array_equal(shipped.sample(50, seed=1, variation=0.65), line[:50])  # a longer line begins with it
    assert not np.array_equal(shipped.sample(50, seed=2), line[:50])


def test_sample_with_a_seed_and_variation_is_the_command_lines_too(small, tmp_path):
    out = tmp_path / "line.json"
    assert main(["sample", "--n", "1", "--steps", "60", "--seed", "7", "--variation", "0.3", "--out", str(out),
                 "--weights", str(small.path)]) == 0
    assert out.read_text() == stroke_json([small.sample(60, seed=7, variation=0.3)])


def test_record_is_what_cells_records(shipped, written, tmp_path):
    out = tmp_path / "cells.npz"
    assert main(["cells", "--strokes", str(written), "--out", str(out), "--weights", str(shipped.path)]) == 0
    recorded = shipped.record(file_rows(written))
    with np.load(out, allow_pickle=False) as archive:
        assert np.array_equal(archive["h"], recorded.h)
        assert np.array_equal(archive["c"], recorded.c)


def test_score_is_what_score_scores(shipped, written, tmp_path, capsys):
    rows = file_rows(written)
    capsys.readouterr()
    assert main(["score", "--strokes", str(written), "--json", "--weights", str(shipped.path)]) == 0
    assert json.loads(capsys.readouterr().out) == shipped.score(rows).to_dict()
    prime, rest = tmp_path / "prime.json", tmp_path / "rest.json"
    prime.write_text(stroke_json(rows[:200]))
    rest.write_text(stroke_json(rows[200:]))
    assert main(["score", "--strokes", str(rest), "--prime", str(prime), "--json",
                 "--weights", str(shipped.path)]) == 0
    primed = shipped.score(rows[200:], prime=rows[:200]).to_dict()
    assert json.loads(capsys.readouterr().out) == primed
    assert primed["points"] == 500 and primed != shipped.score(rows[200:]).to_dict()


# --- inkcore.load: each kind of name ---------------------------------------------------------


def test_load_without_a_name_is_the_shipped_model(shipped_weights):
    loaded = inkcore.load()
    model, metadata = load(shipped_weights)
    assert loaded.path == shipped_weights and loaded.metadata == metadata
    assert loaded.config == model.config
    for name in ARRAY_NAMES:
        assert np.array_equal(getattr(loaded.model, name), getattr(model, name))


def test_load_of_a_path_as_text_or_path(small):
    model, _ = load(small.path)
    for name in (str(small.path), small.path):
        loaded = inkcore.load(name)
        assert loaded.path == small.path
        assert np.array_equal(loaded.model.W_h, model.W_h)


def test_load_of_the_article(monkeypatch):
    require_shared(ARTICLE_WEIGHTS)
    monkeypatch.setenv("INKCORE_ARTICLE_DIR", str(ARTICLE))
    loaded = inkcore.load("article")
    assert loaded.path == ARTICLE_WEIGHTS
    assert loaded.metadata["format"] == "article-b64"
    assert np.array_equal(loaded.model.W_out, load(ARTICLE_WEIGHTS)[0].W_out)


def cli_error(capsys, *args: str) -> str:
    """The one line the command line prints for a failure, without its ``error: ``."""
    capsys.readouterr()
    assert main(list(args)) == 1
    line = capsys.readouterr().err
    assert line.startswith("error: ") and line.count("\n") == 1
    return line.removeprefix("error: ").rstrip("\n")


def test_load_of_the_article_not_downloaded_says_so_as_the_cli_does(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("INKCORE_ARTICLE_DIR", str(tmp_path / "nowhere"))
    monkeypatch.setenv("INKCORE_CACHE", str(tmp_path / "cache"))
    with pytest.raises(DownloadError) as refused:
        inkcore.load("article")
    assert str(refused.value) == cli_error(capsys, "info", "--weights", "article")
    assert "inkcore download article" in str(refused.value)


def test_no_shipped_model_says_so_as_the_cli_does(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("INKCORE_WEIGHTS", str(tmp_path / "none.npz"))
    with pytest.raises(CommandError) as refused:
        inkcore.load()
    assert str(refused.value) == cli_error(capsys, "info")
    assert "no model is installed" in str(refused.value)


def npz_bytes(**arrays) -> bytes:
    import io

    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def bad_file(kind: str, folder: Path, good: Path) -> Path:
    path = folder / f"{kind}.npz"
    if kind == "folder":
        path.mkdir()
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "pickle":
        path.write_bytes(b"\x80\x02}q\x00.")  # a whole pickle stream (an empty dict), written out by hand
    elif kind == "truncated":
        path.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    elif kind == "wrong-shapes":
        with np.load(good, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
        arrays["W_h"] = arrays["W_h"][:, :10]
        path.write_bytes(npz_bytes(**arrays))
    return path  # "missing": never written


@pytest.mark.parametrize("kind, words", [
    ("missing", "no such file"), ("folder", "is a folder"), ("empty", "an empty file"),
    ("pickle", "a Python pickle"), ("truncated", "damaged or truncated .npz file"),
    ("wrong-shapes", "W_h has shape (16, 10), expected (16, 64)"),
])
def test_load_refuses_a_bad_file_as_the_cli_does(kind, words, small, tmp_path, capsys):
    path = bad_file(kind, tmp_path, small.path)
    with pytest.raises(WeightsError) as refused:
        inkcore.load(path)
    assert str(refused.value) == cli_error(capsys, "info", "--weights", str(path))
    assert str(refused.value).startswith(str(path)) and words in str(refused.value)


# --- the other methods: each the engine function it names ------------------------------------


def test_continue_writing_is_the_engines(small, rng):
    rows = random_rows(rng, 30)
    written = small.continue_writing(rows, 12, seed=4, candidates=3)
    engine = continue_writing(small.model, rows, 12, np.random.default_rng(4), WRITE_VARIATION, 3)
    assert written.rows.shape == (3, 12, 3)
    assert np.array_equal(written.rows, engine.rows) and np.array_equal(written.eos, engine.eos)
    held = small.hold([0, 5], "zero")
    assert not np.array_equal(small.continue_writing(rows, 12, seed=4, candidates=3, hold=held).rows, written.rows)


def test_possible_futures_are_the_engines(small, rng):
    rows = random_rows(rng, 20)
    drawn = small.possible_futures(rows, seed=2, futures=4, steps=3, every=5)
    engine = possible_futures(small.model, rows, np.random.default_rng(2), futures=4, steps=3, every=5)
    assert drawn.rows.shape == (20, 4, 3, 3)
    assert np.array_equal(drawn.rows, engine.rows, equal_nan=True) and np.array_equal(drawn.eos, engine.eos)


def test_hold_is_make_hold_and_changes_what_the_model_reads(small, rng):
    lines = [random_rows(rng, 25), random_rows(rng, 15)]
    held = small.hold([1, 2], "mean", lines)
    engine = make_hold(small.model, [1, 2], "mean", lines)
    assert np.array_equal(held.keep, engine.keep) and np.array_equal(held.put, engine.put)
    recorded = small.record(lines[0], hold=held)
    np.testing.assert_allclose(recorded.c[:, [1, 2]], np.broadcast_to(engine.put[[1, 2]], (25, 2)), rtol=1e-6)
    assert small.score(lines[0], hold=held) != small.score(lines[0])
    scaled = small.hold([3], factor=0.5)
    assert scaled.keep[3] == 0.5 and scaled.put[3] == 0.0
    free = small.sample(40, seed=1)
    assert np.array_equal(small.sample(40, seed=1, hold=no_hold(small.model)), free)  # holding nothing: bit for bit
    assert not np.array_equal(small.sample(40, seed=1, hold=small.hold(range(16), "zero")), free)


def test_probe_is_probe_cells(small, rng):
    lines = [random_rows(rng, 40), random_rows(rng, 30)]
    ranked = small.probe(lines, top=4)
    assert ranked == probe_cells(small.model, lines, top=4)
    assert all(len(cells) == 4 for cells in ranked.values()) and "pen_lift" in ranked
    assert small.probe(lines, top=4, state="h") == probe_cells(small.model, lines, top=4, state="h")


def test_explain_is_the_engines(small, rng):
    rows = random_rows(rng, 30)
    explained = small.explain(rows, 20, method="grad")
    engine = explain(small.model, rows, 20, "grad")
    assert explained.values.shape == (20, 3) and explained.cells.shape == (16,)
    assert np.array_equal(explained.values, engine.values) and np.array_equal(explained.cells, engine.cells)


def test_features_read_the_shipped_dictionary(shipped, written):
    rows = file_rows(written)[:80]
    dictionary = load_dictionary(shipped.path.with_name("inkcore.features.npz"))
    assert shipped.dictionary.features == dictionary.features
    activations = shipped.features(rows)
    assert activations.shape == (80, dictionary.features)
    assert np.array_equal(activations, line_activations(shipped.model, dictionary, rows))
    assert (activations > 0).any()


def test_a_model_without_a_dictionary_says_so(small, rng):
    with pytest.raises(DictionaryError, match="no dictionary of features was made for this model"):
        small.features(random_rows(rng, 10))


# --- the package and the figure ------------------------------------------------------------


def test_coloured_line_is_the_coloured_path_figure_with_the_cell_colours(rng):
    rows, values = random_rows(rng, 50), rng.normal(size=50)
    before = rows.copy(), values.copy()
    fig = inkcore.figures.coloured_line(rows, values)
    assert fig.to_dict() == coloured_path_figure(rows, values, CELL_SCALE, "value", midpoint=0.0).to_dict()
    assert fig.data[1].marker.cmid == 0.0
    assert np.array_equal(rows, before[0]) and np.array_equal(values, before[1])
    plain = inkcore.figures.coloured_line(rows, values, label="nats", colorscale="YlOrRd", midpoint=None)
    assert plain.data[1].marker.cmid is None and plain.data[1].marker.colorbar.title.text == "nats"


def test_every_public_name_is_documented_with_parameters_and_returns():
    assert set(inkcore.__all__) == {"LoadedModel", "figures", "load", "__version__"}
    names = {name for name in vars(LoadedModel) if not name.startswith("_") and callable(getattr(LoadedModel, name))}
    assert names == {"sample", "record", "score", "continue_writing", "possible_futures", "probe", "hold", "features",
                     "explain"}
    methods = [getattr(LoadedModel, name) for name in sorted(names)]
    for function in [inkcore.load, inkcore.figures.coloured_line, *methods]:
        doc = function.__doc__ or ""
        assert "Parameters\n" in doc and "Returns\n" in doc, function


def test_importing_inkcore_leaves_streamlit_and_torch_unimported():
    probe = "import sys, inkcore; print(sorted({'streamlit', 'torch', 'dask'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPOSITORY, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
