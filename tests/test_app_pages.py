"""The pages' controls under Streamlit's AppTest, each checked against what the page
then shows: the Write page's variation, Clear and Play/Pause; the possibility space's
variation; the samples' seed, length and downloads; the surprise view's example;
and the article's featured lines in the picker (the library's page: tests/test_app_library.py).
Writing on the pen surface is injected through session_state as tests/test_app.py does."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest
from streamlit.runtime.media_file_manager import MediaFileManager

from inkcore.figures import _stroke_xy
from conftest import ARTICLE
from test_app import SCRIPTS, charts, cursive, isolated, no_errors, page, pen_data, swapped_in, with_article  # noqa: F401

PEN_LIFT = re.compile(r"p\(pen lift\) = ([0-9.e+-]+)$")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def trace(chart: dict, name: str) -> dict:
    return next(t for t in chart["data"] if t.get("name") == name)


def drawn_points(chart_trace: dict) -> int:
    return sum(x is not None for x in chart_trace["x"])


def pen_lift_shown(chart: dict) -> float:
    found = PEN_LIFT.search(chart["layout"]["title"]["text"])
    assert found, chart["layout"]["title"]["text"]
    return float(found.group(1))


# --- Write with the model -------------------------------------------------------------------


@pytest.fixture
def written():
    at = page("write")
    at.session_state["write_strokes"] = [cursive()]
    at.run()
    no_errors(at)
    return at


@pytest.fixture
def frames_drawn(monkeypatch):
    """Every ``shown_steps`` the Write page asks the continuation figure for, in order."""
    from inkcore import figures

    calls: list[int | None] = []
    draw = figures.continuation_figure

    def recording(rows, continuations, shown_steps=None, *args, **kwargs):
        calls.append(shown_steps)
        return draw(rows, continuations, shown_steps, *args, **kwargs)

    monkeypatch.setattr(figures, "continuation_figure", recording)
    return calls


def test_write_variation_changes_the_continuation(written):
    before = trace(charts(written)[0], "continuation 1")
    written.slider(key="write_variation").set_value(1.0).run()
    no_errors(written)
    after = trace(charts(written)[0], "continuation 1")
    assert after["x"] != before["x"] or after["y"] != before["y"]


def test_write_shows_the_pen_lift_probability(written):
    mixture = charts(written)[1]
    assert mixture["layout"]["title"]["text"].startswith("The next point")
    assert 0.0 <= pen_lift_shown(mixture) <= 1.0


def test_clear_empties_the_drawing_and_the_continuation(written):
    assert len(charts(written)) == 2
    surface = written.get("bidi_component")[0].proto.id
    written.button(key="write_clear").click().run()
    no_errors(written)
    assert charts(written) == []
    assert any("Write a word" in i.value for i in written.info)
    assert "write_strokes" not in written.session_state
    assert pen_data(written)["strokes"] == []  # a fresh, empty surface, not the old one's ink
    assert written.get("bidi_component")[0].proto.id != surface
    written.run()  # and it stays cleared
    assert charts(written) == []
    assert pen_data(written)["strokes"] == []


def test_play_draws_the_whole_continuation_step_by_step(written, frames_drawn):
    full = charts(written)[0]
    frames_drawn.clear()
    written.button(key="write_play").click().run()
    no_errors(written)
    length = written.slider(key="write_length").value
    assert frames_drawn == [*range(1, length + 1), None]
    assert charts(written)[0] == full


def pause_at(at, frame: int) -> None:
    """Pause while Play runs: Play has drawn up to ``frame`` when the click reruns the page."""
    at.session_state["write_frame"] = frame
    at.session_state["write_paused"] = False
    at.button(key="write_pause").click().run()
    no_errors(at)


def test_pause_stops_the_animation_and_play_resumes_from_there(written, frames_drawn):
    full = trace(charts(written)[0], "continuation 1")
    pause_at(written, 9)
    assert frames_drawn[-1] == 9
    paused = trace(charts(written)[0], "continuation 1")
    assert drawn_points(paused) < drawn_points(full)
    written.run()  # any other rerun keeps it paused
    assert frames_drawn[-1] == 9
    assert trace(charts(written)[0], "continuation 1") == paused

    frames_drawn.clear()
    written.button(key="write_play").click().run()
    no_errors(written)
    length = written.slider(key="write_length").value
    assert frames_drawn == [*range(10, length + 1), None]  # on from step 10, not from step 1
    assert trace(charts(written)[0], "continuation 1") == full
    frames_drawn.clear()
    written.button(key="write_play").click().run()  # once finished, Play starts again
    assert frames_drawn[0] == 1


def test_pause_when_nothing_plays_changes_nothing(written, frames_drawn):
    full = charts(written)[0]
    written.button(key="write_pause").click().run()
    assert frames_drawn[-1] is None and charts(written)[0] == full


@pytest.mark.parametrize("change", ["stroke", "resample", "length"])
def test_a_new_continuation_is_shown_whole_after_a_pause(written, frames_drawn, change):
    pause_at(written, 5)
    assert frames_drawn[-1] == 5
    if change == "stroke":
        written.session_state["write_strokes"] = [cursive(), cursive(300, 2, t0=2000.0)]
        written.run()
    elif change == "resample":
        written.button(key="write_resample").click().run()
    else:
        written.slider(key="write_length").set_value(60).run()
    no_errors(written)
    assert frames_drawn[-1] is None  # the whole new continuation
    assert drawn_points(trace(charts(written)[0], "continuation 1")) > 6
    frames_drawn.clear()
    written.button(key="write_play").click().run()  # and Play draws it from its first step
    assert frames_drawn == [*range(1, written.slider(key="write_length").value + 1), None]


# --- Possibility space ----------------------------------------------------------------------


@pytest.fixture
def possibilities():
    at = page("possibilities")
    at.session_state["futures_count"] = 5
    at.run()
    no_errors(at)
    return at


def test_possibility_variation_changes_the_futures(possibilities):
    before = charts(possibilities)[0]
    possibilities.select_slider(key="futures_variation").set_value(1.2).run()
    no_errors(possibilities)
    assert charts(possibilities)[0] != before


def test_possibility_space_shows_the_pen_lift_probability(possibilities):
    mixture = charts(possibilities)[1]
    at = possibilities.slider(key="futures_at").value
    assert mixture["layout"]["title"]["text"].startswith(f"Point {at + 1}")
    assert 0.0 <= pen_lift_shown(mixture) <= 1.0


# --- The model writes -----------------------------------------------------------------------


@pytest.fixture
def made_files(monkeypatch):
    """The files behind the page's download buttons, by file name: (mime type, maker)."""
    made: dict[str, tuple[str, object]] = {}
    register = MediaFileManager.add_deferred

    def recording(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):
        made[file_name] = (mimetype, data_callable)
        return register(self, data_callable, mimetype, coordinates, file_name=file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", recording)
    return made


@pytest.fixture
def samples():
    at = page("samples")
    at.session_state["samples_count"] = 2
    at.session_state["samples_steps"] = 150
    at.run()
    no_errors(at)
    return at


def test_samples_seed_changes_the_lines(samples):
    before = charts(samples)[0]
    assert [note["text"] for note in before["layout"]["annotations"]][:2] == ["seed 1", "seed 2"]
    swapped_in(samples.number_input(key="samples_seed").set_value(7).run())
    no_errors(samples)
    after = charts(samples)[0]
    assert [note["text"] for note in after["layout"]["annotations"]][:2] == ["seed 7", "seed 8"]
    assert after["data"][0] != before["data"][0] and after["data"][1] != before["data"][1]


def test_samples_length_changes_the_lines(samples):
    before = sum(drawn_points(t) for t in charts(samples)[0]["data"])
    swapped_in(samples.slider(key="samples_steps").set_value(300).run())
    no_errors(samples)
    after = sum(drawn_points(t) for t in charts(samples)[0]["data"])
    assert after > before * 1.5


def test_samples_downloads_carry_the_lines_shown(samples, made_files):
    swapped_in(samples.slider(key="samples_steps").set_value(100).run())
    no_errors(samples)
    name = f"inkcore-sample-seed1-v{samples.slider(key='samples_variation').value:g}"
    mime, make = made_files[f"{name}.json"]
    assert mime == "application/json"
    rows = np.array(json.loads(make()))
    assert rows.shape == (100, 3)
    assert set(np.unique(rows[:, 2])) <= {0.0, 1.0}
    # the JSON is the line on the first panel: its pen positions are the panel's points
    path = np.cumsum(rows[:, :2], axis=0)
    first = charts(samples)[0]["data"][0]
    assert first["name"] == "seed 1"
    drawn = np.array([(x, y) for x, y in zip(first["x"], first["y"]) if x is not None])
    ink = np.array([(x, y) for x, y in zip(*_stroke_xy(rows)) if x is not None])  # as drawn, before fitting
    gaps = [np.min(np.hypot(*(path - point).T)) for point in ink[1:]]
    assert max(gaps) < 0.05

    def shape(points):
        return (points - points.min(axis=0)) / np.ptp(points[:, 0])

    # the panel draws that ink moved and scaled into its place, one scale for x and y
    np.testing.assert_allclose(shape(drawn), shape(ink), atol=1e-4)  # the JSON rounds its rows

    mime, make = made_files[f"{name}.svg"]
    assert mime == "image/svg+xml" and make().lstrip().startswith("<svg")
    mime, make = made_files[f"{name}.png"]
    assert mime == "image/png" and make().startswith(PNG_MAGIC)
    other = made_files[name.replace("seed1", "seed2") + ".png"][1]()
    assert other.startswith(PNG_MAGIC) and other != make()  # each button carries its own line


# --- Surprise -------------------------------------------------------------------------------


def test_surprise_example_picker_changes_the_figure_and_the_mean():
    at = page("surprise").run()
    no_errors(at)
    assert at.selectbox(key="surprise_example").value == "sample:1"
    figure, mean = charts(at)[0], at.metric[0].value
    at.selectbox(key="surprise_example").set_value("sample:3").run()
    no_errors(at)
    assert charts(at)[0] != figure
    assert at.metric[0].value != mean


def test_the_articles_featured_lines_come_first_in_order(with_article):
    featured = [int(k) for k in json.loads((ARTICLE / "metadata.json").read_text())["validationSamples"]]
    assert len(featured) == 16
    at = page("surprise").run()
    no_errors(at)
    labels = [label for label in at.selectbox(key="surprise_example").options if label.startswith("Article")]
    assert len(labels) == 200
    numbers = [int(label.split()[2]) for label in labels]
    assert numbers[:16] == featured
    assert all(label.endswith("★") for label in labels[:16])
    assert not any("★" in label for label in labels[16:])
