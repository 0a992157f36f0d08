"""Every page of the dashboard under Streamlit's AppTest: it runs without an
exception, and its widgets (sliders, writing on the pen surface, chart clicks,
injected through session_state) change what it shows.

Writing is injected as the pen surface hands it to Python: a list of strokes,
each a list of ``[x, y, t]`` pointer events (CSS pixels, y down; ms), under
``{key}_strokes`` in session_state (keys: write, watch, and futures and surprise
for "your own writing")."""
from __future__ import annotations

import json
import math
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from conftest import ARTICLE, SMALL_CONFIG, random_model, random_rows
from inkcore import sampling

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
TIMEOUT = 180


#: A mouse reports a move about every 16 ms at a person's pace.
EVENT_MS = 16.0


def cursive(x0: float = 40, loops: int = 6, t0: float = 0.0) -> list[list[float]]:
    """A row of cursive loops, like a written 'eeeeee', about 40 px tall: one stroke of
    pointer events ``[x, y, t]``, one every ``EVENT_MS`` from ``t0``."""
    return [[x0 + 4 * t + 14 * math.cos(t / 2.2), 120 - 20 * math.sin(t / 2.2), t0 + EVENT_MS * t]
            for t in range(0, loops * 14)]


def two_words() -> list[list[list[float]]]:
    """Two strokes: six loops, and three more to their right written two seconds later."""
    return [cursive(), cursive(300, 3, t0=2000.0)]


def pen_data(at: AppTest) -> dict:
    """What the page gave its pen surface on the last run: mode, strokes to draw, the
    reading's scale, the model (see dashboard/pen.py)."""
    surfaces = [e for e in at.get("bidi_component") if e.proto.component_name == "inkcore_pen"]
    assert len(surfaces) == 1, f"expected one pen surface on the page, found {len(surfaces)}"
    return json.loads(surfaces[0].proto.json)


def charts(at: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def heatmaps(at: AppTest) -> list[dict]:
    """What each cell heatmap (dashboard/heatmap.py) shows: what it sends to the page, its
    line named by ``line`` (the levels themselves go once a session)."""
    sent = [json.loads(element.proto.json) for element in at.get("bidi_component")
            if element.proto.component_name == "inkcore_heatmap"]
    return [{k: v for k, v in data.items() if k != "levels"} for data in sent]


SCRIPTS = {path.stem.split("_", 1)[1]: f"pages/{path.name}" for path in (ROOT / "pages").glob("*.py")}


def page(name: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    if name != "home":
        at.switch_page(SCRIPTS[name])
    return at


def swapped_in(at: AppTest, within_s: float = 120) -> AppTest:
    """The page once no result it shows is a previous one under the Updating mark."""
    deadline = time.monotonic() + within_s
    while any("Updating" in bar.proto.text for bar in at.get("progress")):
        assert time.monotonic() < deadline, "the Updating mark stayed"
        time.sleep(0.2)
        at.run()
    return at


def no_errors(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def click_cell_button(at: AppTest, prefix: str) -> tuple[int, int, str, int]:
    """Click the first button keyed ``prefix``<cell> and land on Cell activations: the cell
    clicked, and the cell, example and step that page then shows."""
    button = next(b for b in at.button if b.key and b.key.startswith(prefix))
    cell = int(button.key.rsplit("_", 1)[1])
    button.click().run()
    no_errors(at)
    assert at.title[0].value == "Cell activations"
    return (cell, at.number_input(key="cells_cell").value, at.selectbox(key="cells_example").value,
            at.slider(key="cells_step").value)


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch, shipped_weights):
    """Each test gets its own data and cache folders and empty Streamlit caches."""
    import streamlit as st

    monkeypatch.setenv("INKCORE_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("INKCORE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("INKCORE_WEIGHTS", str(shipped_weights))
    monkeypatch.delenv("INKCORE_ARTICLE_DIR", raising=False)
    monkeypatch.delenv("INKCORE_IAM", raising=False)
    st.cache_data.clear()
    st.cache_resource.clear()
    yield


@pytest.fixture
def with_article(monkeypatch):
    if not ARTICLE.exists():
        pytest.skip("../shared/data/article is absent: the article's files are needed")
    monkeypatch.setenv("INKCORE_ARTICLE_DIR", str(ARTICLE))


@pytest.mark.parametrize("name", ["home", "write", "samples", "possibilities", "cells", "ordered", "watch",
                                  "probes", "surprise", "library"])
def test_every_page_runs(name):
    at = page(name)
    if name == "possibilities":
        at.session_state["futures_count"] = 5
    at.run()
    no_errors(at)


def test_home_shows_the_model_card():
    at = page("home").run()
    text = " ".join(m.value for m in at.markdown)
    assert "LSTM cells" in text
    assert "Negative log-likelihood per point" in text
    assert "| the article's 200 validation lines |" in text  # ours beside the article's model


def test_missing_model_is_explained(monkeypatch, tmp_path):
    monkeypatch.setenv("INKCORE_WEIGHTS", str(tmp_path / "none.npz"))
    at = page("samples").run()
    assert not at.exception
    assert any("No model of inkcore's own is installed" in w.value for w in at.warning)
    assert not at.get("plotly_chart")


def test_damaged_model_is_explained(monkeypatch, tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    monkeypatch.setenv("INKCORE_WEIGHTS", str(bad))
    at = page("write").run()
    assert not at.exception
    assert any("cannot be used" in e.value for e in at.error)


def test_write_continues_the_drawing():
    at = page("write").run()
    assert any("Write a word" in i.value for i in at.info)
    at.session_state["write_strokes"] = [cursive()]
    at.run()
    no_errors(at)
    first = charts(at)
    assert len(first) == 2  # the continuation, and the next point's mixture
    assert any(trace.get("name") == "continuation 1" for trace in first[0]["data"])
    at.slider(key="write_length").set_value(120).run()
    no_errors(at)
    assert charts(at)[0] != first[0]
    at.slider(key="write_candidates").set_value(3).run()
    names = [trace.get("name") for trace in charts(at)[0]["data"]]
    assert "continuation 3" in names


def test_the_watch_surface_is_given_the_dictionary_once(shipped_weights):
    import base64

    from inkcore.features import find_dictionary, file_sha256, load_dictionary

    path = find_dictionary(file_sha256(shipped_weights), [shipped_weights.parent])
    if path is None:
        pytest.skip("the shipped model's dictionary is not in this checkout")
    dictionary = load_dictionary(path)
    at = page("watch").run()
    no_errors(at)
    sent = pen_data(at)["dictionary"]
    assert (sent["size"], sent["features"], sent["k"], sent["state"]) == (500, dictionary.features, dictionary.k,
                                                                          dictionary.state)
    encoder = np.frombuffer(base64.b64decode(sent["encoder"]), "<f2" if sent["encoder_bits"] == 16 else "<f4")
    np.testing.assert_array_equal(encoder.reshape(dictionary.W_enc.shape), dictionary.W_enc)  # nothing lost
    vectors = np.frombuffer(base64.b64decode(sent["vectors"]), "<f4")
    np.testing.assert_array_equal(vectors, np.concatenate([dictionary.b_enc, dictionary.b_dec, dictionary.scale]))
    assert len(sent["labels"]) == dictionary.features
    at.session_state["watch_strokes"] = [cursive()]
    at.run()
    no_errors(at)
    again = pen_data(at)["dictionary"]
    assert again["key"] == sent["key"] and "encoder" not in again  # once per dictionary and session
    assert pen_data(page("write").run())["dictionary"] is None  # only the Watch surface lists features


def test_the_surface_is_given_the_writing_its_reading_and_the_model_once(shipped_weights):
    import base64

    from inkcore.pen import read_strokes
    from inkcore.weights import float32_bytes, load

    model, _ = load(shipped_weights)
    at = page("write").run()
    first = pen_data(at)
    assert first["mode"] == "write" and first["strokes"] == []
    assert base64.b64decode(first["model"]["weights"]) == float32_bytes(model)  # the page's copy of the model
    at.session_state["write_strokes"] = [cursive()]
    at.run()
    no_errors(at)
    data = pen_data(at)
    assert data["strokes"] == [cursive()]  # drawn again by a surface that has not seen them
    assert "weights" not in data["model"]  # sent once per model and session, not once per rerun
    reading = read_strokes([cursive()], model)
    assert data["reading"] == pytest.approx({"units_per_pixel": reading.units_per_pixel,
                                             "speed_factor": reading.speed_factor, "strokes": 1})
    at.slider(key="write_candidates").set_value(3).run()
    assert pen_data(at)["candidates"] == 3  # the live prediction follows the sliders


def test_write_resample_changes_the_continuation():
    at = page("write").run()
    at.session_state["write_strokes"] = [cursive()]
    at.run()
    before = charts(at)[0]
    at.button(key="write_resample").click().run()
    assert charts(at)[0] != before


def test_samples_follow_the_controls():
    at = page("samples").run()
    no_errors(at)
    assert len(charts(at)) == 1  # one figure, a panel per line
    grid = charts(at)[0]
    assert [trace["name"] for trace in grid["data"]] == [f"seed {seed}" for seed in range(1, 7)]
    # each line in a panel of its own, on one pair of axes at one scale for x and y
    assert {trace.get("xaxis", "x") for trace in grid["data"]} == {"x"}
    assert grid["layout"]["yaxis"]["scaleanchor"] == "x" and grid["layout"]["xaxis"]["range"]
    lefts = [min(x for x in trace["x"] if x is not None) for trace in grid["data"]]
    rights = [max(x for x in trace["x"] if x is not None) for trace in grid["data"]]
    assert rights[0] < lefts[1] and rights[2] < lefts[3]  # two columns: no panel over another
    at.slider(key="samples_variation").set_value(1.2).run()
    swapped_in(at)  # a notch nothing wrote ahead: the previous lines stay in view while the new ones are written
    assert charts(at)[0]["data"][0] != grid["data"][0]
    at.slider(key="samples_count").set_value(2).run()
    assert len(charts(at)[0]["data"]) == 2
    assert len(at.get("download_button")) == 6


def test_possibility_space_step_and_overlay():
    at = page("possibilities")
    at.session_state["futures_count"] = 5
    at.run()
    no_errors(at)
    one_step = charts(at)[0]
    at.slider(key="futures_at").set_value(10).run()
    assert charts(at)[0] != one_step
    at.toggle(key="futures_whole").set_value(True).run()
    no_errors(at)
    overlay = charts(at)[0]
    assert overlay != one_step
    at.toggle(key="futures_whole").set_value(False).run()
    assert charts(at)[0] == charts(page_at_step(10))[0]  # a point's futures are the same however it is reached


def page_at_step(step: int):
    at = page("possibilities")
    at.session_state["futures_count"] = 5
    at.session_state["futures_at"] = step
    return at.run()


def test_possibility_play_walks_to_the_end_of_the_line():
    at = page_at_step(0)
    last = at.slider(key="futures_at").max
    at.slider(key="futures_at").set_value(last - 7).run()
    at.button(key="futures_play").click().run()
    no_errors(at)
    assert at.slider(key="futures_at").value == last - 1  # steps of two from last - 7, left where Play stopped
    assert charts(at)[0] == charts(page_at_step(last - 1))[0]


def test_cells_click_selects_a_cell(with_article):
    at = page("cells").run()
    no_errors(at)
    assert at.number_input(key="cells_cell").value == 93
    heatmap_click(at, "cells_heatmap", step=12, row=250, cell=250)
    assert at.number_input(key="cells_cell").value == 250
    assert at.slider(key="cells_step").value == 12
    # the same spot clicked again is a new click: after the cell was changed by hand, it is chosen again
    at.number_input(key="cells_cell").set_value(3).run()
    heatmap_click(at, "cells_heatmap", step=12, row=250, cell=250, n=2)
    assert at.number_input(key="cells_cell").value == 250
    at.number_input(key="cells_cell").set_value(4).run()  # while a click that was taken is not taken twice
    assert at.number_input(key="cells_cell").value == 4


def test_ordered_cells_name_rows_and_cells(with_article):
    at = page("ordered").run()
    no_errors(at)
    text = " ".join(m.value for m in at.markdown)
    assert "Row " in text and "cell " in text
    at.selectbox(key="ordered_metric").set_value("article").run()
    no_errors(at)
    order = json.loads((ARTICLE / "metadata.json").read_text())["sortOrder"]
    at.number_input(key="ordered_row").set_value(136).run()  # the article's "cell 136" is its row 136
    no_errors(at)
    assert at.number_input(key="ordered_cell").value == order[136]
    at.number_input(key="ordered_cell").set_value(order[10]).run()
    assert at.number_input(key="ordered_row").value == 10
    # every page now names a cell by its row in the order last shown, as well as by its index
    at.switch_page("pages/4_cells.py").run()
    at.number_input(key="cells_cell").set_value(order[136]).run()
    no_errors(at)
    assert f"Cell {order[136]} is row 136 in the article's order" in " ".join(c.value for c in at.caption)
    assert f"cell {order[136]} · row 136" in json.dumps(charts(at)[0], ensure_ascii=False)


def test_watch_follows_the_writing():
    at = page("watch").run()
    at.session_state["watch_strokes"] = two_words()
    at.run()
    no_errors(at)
    # the coloured writing, the state at the step, the step ruler and the chosen cell's row mark; the heatmap
    assert len(charts(at)) == 4 and len(heatmaps(at)) == 1
    last = at.slider(key="watch_step").value
    assert last > 10
    mark, heatmap = charts(at)[3], heatmaps(at)[0]
    assert heatmap["steps"] == last + 1 and heatmap["rows"] == 500
    at.slider(key="watch_step").set_value(5).run()
    assert at.slider(key="watch_step").value == 5
    assert "step 5" in json.dumps(charts(at)[1]["layout"]["title"])
    assert "step 5" in json.dumps(charts(at)[2]["data"])  # the ruler marks it
    assert charts(at)[3] == mark and heatmaps(at) == [heatmap]  # the heatmap is not sent again for a step
    at.number_input(key="watch_cell").set_value(7).run()
    assert heatmaps(at) == [heatmap] and charts(at)[3] != mark  # nor for a cell: the mark beside it moves
    assert charts(at)[3]["data"][0]["y"] == [7]
    at.session_state["watch_ruler"] = {"selection": {"points": [{"curve_number": 1, "point_index": 8, "x": 8, "y": 0,
                                                                  "customdata": 8}], "point_indices": [8], "box": [],
                                                     "lasso": []}}
    at.run()
    no_errors(at)
    assert at.slider(key="watch_step").value == 8  # a click on the ruler chooses the step


def test_probes_rank_cells_and_open_one(with_article):
    at = page("probes").run()
    no_errors(at)
    assert len(charts(at)) >= 9


def test_surprise_reports_the_mean(with_article):
    at = page("surprise").run()
    no_errors(at)
    assert "nats per point" in at.metric[0].label and float(at.metric[0].value) < 0
    assert at.metric[1].label.startswith("The article's model")  # the same line, by the other model


def test_saving_from_the_pen_surface_reaches_the_library():
    at = page("write").run()
    at.session_state["write_strokes"] = [cursive()]
    at.run()
    at.text_input(key="write_save_name").input("my loops").run()
    at.button(key="write_save").click().run()
    no_errors(at)
    at.switch_page(SCRIPTS["library"]).run()
    assert list(at.dataframe[0].value["Name"]) == ["my loops"]


def test_the_article_model_is_downloaded_on_request(monkeypatch, tmp_path):
    """The sidebar's download, from a local copy laid out as the article's repository."""
    if not ARTICLE.exists():
        pytest.skip("../shared/data/article is absent: nothing to serve as the article's repository")
    mirror = tmp_path / "repo"
    (mirror / "public" / "assets" / "model").mkdir(parents=True)
    (mirror / "public" / "assets" / "model" / "b64_weights.json").symlink_to(ARTICLE / "b64_weights.json")
    monkeypatch.setenv("INKCORE_ARTICLE_URL", str(mirror))
    at = page("samples").run()
    at.sidebar.radio(key="model_choice").set_value("The article's model").run()
    assert any("not downloaded yet" in i.value for i in at.info)
    at.sidebar.button(key="download_article").click().run()
    no_errors(at)
    assert len(charts(at)) == 1 and len(charts(at)[0]["data"]) == 6  # the article's model writes


def test_an_unreachable_download_says_so(monkeypatch, tmp_path):
    monkeypatch.setenv("INKCORE_ARTICLE_URL", "http://127.0.0.1:9/")  # the discard port: nothing listens
    at = page("samples").run()
    at.sidebar.radio(key="model_choice").set_value("The article's model").run()
    at.sidebar.button(key="download_article").click().run()
    assert not at.exception
    assert any("could not reach" in e.value for e in at.error)


@pytest.fixture
def small_iam_copy(tmp_path) -> Path:
    """A line set standing in for the user's own IAM-OnDB copy: 2 train, 3 val and 2 test lines."""
    from conftest import SHARED
    from inkcore.data import LineSet, load_lines, save_lines

    source = SHARED / "data" / "iam-ondb" / "lines.npz"
    if not source.exists():
        pytest.skip("../shared/data/iam-ondb is absent: no IAM-OnDB lines to stand in for the user's copy")
    full = load_lines(source)
    keep = [*full.indices("train")[:2], *full.indices("val")[:3], *full.indices("test")[:2]]
    pieces = [full.line_points(i) for i in keep]
    small = LineSet(
        points=np.concatenate(pieces), t_ms=np.concatenate([full.t_ms[full.starts[i]:full.starts[i + 1]] for i in keep]),
        starts=np.concatenate([[0], np.cumsum([len(p) for p in pieces])]), line_ids=full.line_ids[keep],
        texts=full.texts[keep], split=full.split[keep], article_index=full.article_index[keep])
    return save_lines(tmp_path / "mine.npz", small)


def test_the_users_iam_copy_joins_the_library(monkeypatch, small_iam_copy):
    """A line set of the user's own IAM-OnDB copy: its val and test lines become examples."""
    from inkcore.data import load_lines

    small = load_lines(small_iam_copy)
    monkeypatch.setenv("INKCORE_IAM", str(small_iam_copy))
    at = page("library").run()
    no_errors(at)
    assert any("5 validation and test lines" in s.value for s in at.success)
    at.switch_page(SCRIPTS["cells"]).run()
    options = at.selectbox(key="cells_example").options
    assert sum("IAM-OnDB val" in o for o in options) == 3 and sum("IAM-OnDB test" in o for o in options) == 2
    test_line = str(small.line_ids[small.split == "test"][0])
    at.session_state["cells_example"] = f"iam:{test_line}"
    at.run()
    no_errors(at)
    assert len(charts(at)) == 3 and len(heatmaps(at)) == 1  # the line coloured by a cell, ruler, row mark; heatmap


def test_the_iam_copy_chosen_in_the_app_is_kept_across_restarts(small_iam_copy):
    import streamlit as st

    at = page("library").run()
    at.text_input(key="iam_source_input").set_value(str(small_iam_copy)).run()
    at.button(key="iam_use").click().run()
    no_errors(at)
    assert any("5 validation and test lines" in s.value for s in at.success)
    st.cache_data.clear()  # a restart: a new session, nothing cached
    st.cache_resource.clear()
    again = page("library").run()
    no_errors(again)
    assert any("5 validation and test lines" in s.value for s in again.success)
    assert any(str(small_iam_copy) in c.value for c in again.caption)
    again.button(key="iam_forget").click().run()
    no_errors(again)
    assert not again.success
    assert not page("library").run().success  # forgotten for good


def test_sessions_asking_for_the_same_futures_compute_them_once(monkeypatch):
    """sampled.futures itself, from eight threads at once: the futures are computed once."""
    import threading

    from dashboard import background, models, sampled
    from inkcore import sampling

    calls = []
    real = sampling.possible_futures

    def counted(*args, **kwargs):
        calls.append(1)
        threading.Event().wait(0.2)  # long enough for every visitor to arrive while it runs
        return real(*args, **kwargs)

    monkeypatch.setattr(sampling, "possible_futures", counted)
    monkeypatch.setattr(background.st, "progress", lambda *a, **k: type("Bar", (), {
        "progress": lambda self, *a, **k: None, "empty": lambda self: None})())
    loaded = models.LoadedModel(random_model(SMALL_CONFIG), {}, "test", "futures-once")
    rows = random_rows(np.random.default_rng(0), 30)
    results = []
    visitors = [threading.Thread(target=lambda: results.append(sampled.futures(loaded, rows, 0.5, 4, 3, seed=0)))
                for _ in range(8)]
    for thread in visitors:
        thread.start()
    for thread in visitors:
        thread.join()
    assert len(calls) == 1 and len(results) == 8
    assert all(drawn is results[0][0] and job is None for drawn, job in results)
    sampled.futures(loaded, rows, 0.6, 4, 3, seed=0)  # other settings: computed anew
    assert len(calls) == 2


def test_the_futures_cache_is_bounded():
    from dashboard import cached

    cache = cached.BoundedCache(size=2)
    assert cache.computing("other") is cache.computing("other")
    for key in ("line", "a", "b", "c"):
        cache.put(key, key)
    assert cache.get("line") is None and cache.get("a") is None and cache.get("c") == "c"  # bounded


def test_a_key_whose_computing_raised_is_let_go_and_forgotten():
    from dashboard import cached

    cache = cached.BoundedCache(size=2)
    with pytest.raises(ZeroDivisionError):
        with cache.computing("line"):
            1 / 0
    assert cache.pending == {}  # forgotten, not left for the next thread to wait on
    with cache.computing("line"):  # and free: this would wait forever otherwise
        cache.put("line", "written")
    assert cache.get("line") == "written" and cache.pending == {}


def test_a_sliders_next_notches_stay_within_its_range():
    from dashboard import background

    assert background.notches(0.7, (1, -1), 0.05, 0, 1.5) == [0.75, 0.65]
    assert background.notches(1.5, (1, -1), 0.05, 0, 1.5) == [1.45]
    assert background.notches(50.0, (1,), 5, 5, 150, count=2) == [55.0, 60.0]


def test_sample_lines_at_a_neighbouring_variation_are_written_in_the_background():
    from dashboard import background, cached, sampled

    model = random_model(SMALL_CONFIG)
    assert sampled.PREFETCHING.wait_idle(60)  # no guesses of an earlier test at work
    begun, go_on = threading.Event(), threading.Event()
    background.run_ahead([lambda: (begun.set(), go_on.wait(60))], sampled.PREFETCHING)  # a guess at work
    assert begun.wait(60)
    sampled.prefetch_samples(model, "prefetch", [(40, 0.8, range(3, 6))])  # queued behind it...
    sampled.prefetch_samples(model, "prefetch", [(40, 0.7, range(3, 6)), (40, 0.7, [6]), (50, 0.7, range(3, 6))])
    go_on.set()  # ...and replaced by the newer guess before it began
    assert sampled.PREFETCHING.wait_idle(60)
    assert len(cached.sample_cache().get(("prefetch", 0.7, 4)).rows) == 50  # a notch longer
    assert cached.sample_cache().get(("prefetch", 0.7, 6)) is not None  # and one more line
    cache = cached.sample_cache()
    assert all(cache.get(("prefetch", 0.7, seed)) is not None for seed in range(3, 6))
    assert cache.get(("prefetch", 0.8, 3)) is None
    written = [cache.get(("prefetch", 0.7, seed)).rows[:40] for seed in range(3, 6)]
    for rows, seed in zip(written, range(3, 6)):  # the lines the page would write itself
        np.testing.assert_allclose(rows, sampling.generate(model, 40, np.random.default_rng(seed), 0.7), atol=1e-5)
    assert sampled.samples(model, "prefetch", 40, 0.7, range(3, 6))[0] is not None


def heatmap_click(at: AppTest, key: str, step: int, row: int, cell: int, n: int = 1) -> None:
    """The ``n``-th click on a cell heatmap at (step, row), as its canvas reports it (dashboard/heatmap.js)."""
    at.session_state[key] = {"click": {"cell": cell, "row": row, "step": step, "n": n, "line": heatmaps(at)[0]["id"]}}
    at.run()
    no_errors(at)


def test_a_click_on_the_ordered_heatmap_chooses_the_cell_of_that_row(with_article):
    at = page("ordered").run()
    at.selectbox(key="ordered_metric").set_value("article").run()
    order = json.loads((ARTICLE / "metadata.json").read_text())["sortOrder"]
    heatmap_click(at, "ordered_heatmap", step=30, row=200, cell=order[200])
    assert at.number_input(key="ordered_cell").value == order[200]
    assert at.number_input(key="ordered_row").value == 200
    assert at.slider(key="ordered_step").value == 30
    assert f"row 200 · cell {order[200]}" in json.dumps(charts(at)[0], ensure_ascii=False)


def test_a_click_on_the_watch_heatmap_colours_the_writing_by_that_cell():
    at = page("watch").run()
    at.session_state["watch_strokes"] = two_words()
    at.run()
    heatmap_click(at, "watch_heatmap", step=7, row=321, cell=321)
    assert at.number_input(key="watch_cell").value == 321
    assert at.slider(key="watch_step").value == 7
    assert "cell 321" in json.dumps(charts(at)[0], ensure_ascii=False)  # the colour bar names it
    assert "step 7" in json.dumps(charts(at)[2]["data"])  # the ruler follows


def test_probe_bars_name_cells_by_row_on_the_article_model(with_article):
    from dashboard import models

    at = page("probes")
    at.session_state["chosen_model"] = models.ARTICLE
    at.run()
    no_errors(at)
    order = json.loads((ARTICLE / "metadata.json").read_text())["sortOrder"]
    rows_of = {cell: row for row, cell in enumerate(order)}
    bars = [c for c in charts(at) if c["data"] and c["data"][0].get("type") == "bar"]
    assert bars
    labels = bars[0]["data"][0]["y"]
    cell = int(labels[0].split()[1])
    assert labels[0] == f"cell {cell} · row {rows_of[cell]}"


def test_a_continuation_is_written_on_rather_than_again_and_equals_one_written_at_once():
    from dashboard import background, cached, sampled

    model = random_model(SMALL_CONFIG)
    rows = sampling.generate(model, 30, np.random.default_rng(3), 0.7)
    for candidates in (1, 3):
        direct = sampling.continue_writing(model, rows, 50, np.random.default_rng(5), 0.4, candidates)
        short = sampled.continuation(model, "written-on", rows, 20, 0.4, candidates, 5)
        np.testing.assert_array_equal(short.rows, direct.rows[:, :20])
        longer = sampled.continuation(model, "written-on", rows, 50, 0.4, candidates, 5)
        np.testing.assert_array_equal(longer.rows, direct.rows)  # bit for bit: the generator went on
        np.testing.assert_array_equal(longer.eos, direct.eos)
        np.testing.assert_array_equal(sampled.continuation(model, "written-on", rows, 35, 0.4, candidates, 5).rows,
                                      direct.rows[:, :35])  # a shorter one is a slice, not a new line
    assert sampled.continuation(model, "written-on", rows, 20, 0.4, 1, 6).rows.tolist() != short.rows.tolist()
    # what the page's controls ask for next is written in the background (once guessed work
    # an earlier test left behind is done: one such thread runs at a time)
    assert background.AHEAD.wait_idle(60)
    sampled.continuations_ahead(model, "ahead", rows, 20, 0.4, 1, 5, 0.05, 1.5, 6)
    assert background.AHEAD.wait_idle(60)
    cache = cached.continuation_cache()
    line = ("ahead", cached.line_digest(rows), len(rows))
    for setting in ((0.45, 1, 5), (0.35, 1, 5), (0.4, 2, 5), (0.4, 1, 6)):
        assert cache.get((*line, *setting)) is not None, setting
