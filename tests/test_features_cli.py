"""``inkcore features`` as a user runs it, and the Features page, with a small model
and dictionary of its own, and with the shipped model's shipped dictionary."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import SMALL_CONFIG, random_model, random_rows
from inkcore.features import file_sha256, load_dictionary, make_dictionary, save_dictionary
from inkcore.weights import save_npz, shipped_weights
from test_cli import assert_one_line_failure, inkcore

APP = Path(__file__).resolve().parents[1] / "app.py"
S, F = SMALL_CONFIG.cells, 24


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A small model's weights, a dictionary made for it, and a folder of two stroke files."""
    folder = tmp_path_factory.mktemp("features")
    weights = save_npz(folder / "small.npz", random_model(SMALL_CONFIG, seed=2))
    rng = np.random.default_rng(0)
    dictionary = make_dictionary(rng.normal(0, 0.5, (S, F)), np.zeros(F), rng.normal(0, 0.5, (F, S)), np.zeros(S),
                                 state="c", activation="topk", k=3, model_sha256=file_sha256(weights))
    path = save_dictionary(folder / "small.features.npz", dictionary)
    lines = folder / "lines"
    lines.mkdir()
    for k in range(2):
        (lines / f"line{k}.json").write_text(json.dumps(random_rows(rng, 50).round(3).tolist()))
    return weights, path, lines


def test_eval_prints_the_figures_as_json(files):
    weights, dictionary, lines = files
    result = inkcore("features", "eval", "--weights", str(weights), "--dictionary", str(dictionary),
                     "--examples", str(lines), "--events", "--json")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    for key in ("fve", "l0", "dead_share", "nll_intact", "nll_mean_ablated", "nll_spliced_output",
                "nll_spliced_state", "loss_recovered_output", "loss_recovered_state"):
        assert key in figures
    assert figures["l0"] <= 3 and figures["points"] == 100
    assert len(figures["events"]) == 15


def test_top_lists_the_strongest_places(files):
    weights, dictionary, lines = files
    from inkcore.features_eval import line_activations
    from inkcore.weights import load

    model, _ = load(weights)
    summed = line_activations(model, load_dictionary(dictionary), json.loads((lines / "line0.json").read_text()))
    feature = str(int(summed.sum(axis=0).argmax()))
    result = inkcore("features", "top", feature, "--weights", str(weights), "--dictionary", str(dictionary),
                     "--examples", str(lines), "--n", "4", "--json")
    assert result.returncode == 0, result.stderr
    places = json.loads(result.stdout)["places"]
    assert 0 < len(places) <= 4
    assert [p["activation"] for p in places] == sorted((p["activation"] for p in places), reverse=True)


def test_encode_writes_every_step(files, tmp_path):
    weights, dictionary, lines = files
    out = tmp_path / "a.npz"
    result = inkcore("features", "encode", "--weights", str(weights), "--dictionary", str(dictionary),
                     "--strokes", str(lines / "line0.json"), "--out", str(out))
    assert result.returncode == 0, result.stderr
    with np.load(out, allow_pickle=False) as archive:
        assert archive["activations"].shape == (50, F)
        assert ((archive["activations"] > 0).sum(axis=1) <= 3).all()


def test_info_and_the_faults_are_one_line(files, tmp_path):
    weights, dictionary, lines = files
    info = inkcore("features", "info", "--weights", str(weights), "--dictionary", str(dictionary))
    assert info.returncode == 0 and json.loads(info.stdout)["features"] == F
    other = save_npz(tmp_path / "other.npz", random_model(SMALL_CONFIG, seed=9))
    assert_one_line_failure(inkcore("features", "info", "--weights", str(other), "--dictionary", str(dictionary)),
                            "another model")
    assert_one_line_failure(inkcore("features", "info", "--weights", str(other)), "no dictionary")
    bad = tmp_path / "bad.features.npz"
    bad.write_bytes(b"not a zip")
    assert_one_line_failure(inkcore("features", "info", "--weights", str(weights), "--dictionary", str(bad)),
                            "bad.features.npz")
    assert_one_line_failure(inkcore("features", "top", "99", "--weights", str(weights), "--dictionary",
                                    str(dictionary), "--examples", str(lines)), "no feature 99")


def test_the_shipped_model_has_its_dictionary_beside_it():
    weights = shipped_weights()
    path = weights.with_name("inkcore.features.npz")
    if not path.exists():
        pytest.skip(f"{path} is not in this checkout")
    dictionary = load_dictionary(path, model_sha256=file_sha256(weights))
    assert path.stat().st_size <= 10 * 2**20
    assert dictionary.state == "c" and dictionary.activation == "topk" and dictionary.k <= 32
    figures = dictionary.metadata["figures"]
    assert figures["fve"] >= 0.9 and figures["l0"] <= 32
    assert 0.9 <= figures["loss_recovered_output"] <= 1 and "loss_recovered_state" in figures
    assert len(dictionary.metadata["labels"]) == dictionary.features


def test_the_articles_model_has_its_dictionary_among_the_shipped_ones():
    from conftest import ARTICLE_WEIGHTS, require_shared
    from inkcore.features import dictionary_folders, find_dictionary

    path = find_dictionary(file_sha256(require_shared(ARTICLE_WEIGHTS)), dictionary_folders())
    assert path is not None and path.name == "article.features.npz"
    assert path.stat().st_size <= 10 * 2**20
    dictionary = load_dictionary(path, model_sha256=file_sha256(ARTICLE_WEIGHTS))
    figures = dictionary.metadata["figures"]
    assert dictionary.state == "c" and figures["fve"] >= 0.9 and figures["l0"] <= 32
    assert figures["loss_recovered_output"] >= 0.9


def test_the_features_page_draws_a_feature_and_its_steering():
    from streamlit.testing.v1 import AppTest

    if not shipped_weights().with_name("inkcore.features.npz").exists():
        pytest.skip("the shipped dictionary is not in this checkout")
    at = AppTest.from_file(str(APP), default_timeout=300).run()
    at.switch_page("pages/12_features.py").run()
    assert not at.exception
    titles = [s.value for s in at.subheader]
    assert titles[0].startswith("Feature ") and "Steering: the model writes with the feature pushed" in titles
    at.number_input(key="features_feature").set_value(5).run()
    assert not at.exception and at.subheader[0].value.startswith("Feature 5")
    at.slider(key="features_strength").set_value(1.0).run()
    assert not at.exception


@pytest.fixture
def app_without_dictionary(tmp_path, monkeypatch):
    """The app with a model that has no dictionary as its default."""
    from streamlit.testing.v1 import AppTest

    weights = save_npz(tmp_path / "plain.npz", random_model(SMALL_CONFIG.__class__(), seed=1))
    monkeypatch.setenv("INKCORE_WEIGHTS", str(weights))
    monkeypatch.setenv("INKCORE_DATA", str(tmp_path / "data"))
    return AppTest.from_file(str(APP), default_timeout=300).run()


def test_the_features_page_says_when_a_model_has_no_dictionary(app_without_dictionary):
    at = app_without_dictionary
    at.switch_page("pages/12_features.py").run()
    assert not at.exception
    assert any("no dictionary of features" in info.value for info in at.info)


def test_write_and_watch_says_in_one_line_when_a_model_has_no_dictionary(app_without_dictionary):
    at = app_without_dictionary
    at.switch_page("pages/6_watch.py").run()
    assert not at.exception
    said = [caption.value for caption in at.caption if "no dictionary" in caption.value]
    assert said == ["This model has no dictionary, so no features are listed (the Features page says how to "
                    "train one)."]


def test_the_chosen_feature_follows_the_model_s_dictionary(monkeypatch):
    from streamlit.testing.v1 import AppTest

    from conftest import ARTICLE, require_shared

    require_shared(ARTICLE / "b64_weights.json")
    monkeypatch.setenv("INKCORE_ARTICLE_DIR", str(ARTICLE))
    at = AppTest.from_file(str(APP), default_timeout=300).run()
    at.switch_page("pages/12_features.py").run()
    ours = at.number_input(key="features_feature").value
    at.number_input(key="features_feature").set_value(7).run()
    at.sidebar.radio(key="model_choice").set_value("The article's model").run()
    assert not at.exception
    chosen = at.number_input(key="features_feature").value
    title = at.subheader[0].value
    assert title.startswith(f"Feature {chosen}: ") and "AUC" in title  # the article's dictionary's own first feature
    assert chosen != 7 and ours is not None
