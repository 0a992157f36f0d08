"""Learn my handwriting under AppTest: choosing saved lines and a name, the adaptation's
progress and its Stop button, the adapted model in the sidebar's picker for every page,
the Samples page's comparison, renaming and deleting it, and two owners kept apart."""
from __future__ import annotations

import time

import numpy as np

from conftest import random_rows
from inkcore.library import HandwritingStore, data_folder
from test_app import isolated, no_errors, page  # noqa: F401  (isolated: an autouse fixture)

#: How long a test waits for an adaptation, which runs in the background.
WAIT_S = 180


def saved_lines(count: int = 3, owner: str = "") -> list[int]:
    store = HandwritingStore(data_folder() / "handwriting.sqlite3").for_owner(owner)
    rng = np.random.default_rng(5)
    return [store.save(f"line {k + 1}", random_rows(rng, 40 + 5 * k) * [3.0, 3.0, 1.0]) for k in range(count)]


def start_learning(ids: list[int], name: str = "Ada"):
    at = page("library")
    at.run()
    at.multiselect(key="adapt_lines").set_value(ids)
    at.text_input(key="adapt_name").set_value(name)
    at.run()
    at.button(key="adapt_start").click().run()
    no_errors(at)
    return at


def until_learned(at):
    deadline = time.monotonic() + WAIT_S
    while not at.success and time.monotonic() < deadline:
        time.sleep(0.3)
        at.run()
    no_errors(at)
    assert at.success, "the adaptation did not finish"
    return at


def test_fewer_than_two_saved_lines_asks_for_more():
    saved_lines(1)
    at = page("library")
    at.run()
    no_errors(at)
    assert any("at least two lines" in i.value for i in at.info)


def test_learning_shows_progress_and_the_model_appears_in_the_picker_for_every_page():
    ids = saved_lines(3)
    at = start_learning(ids)
    assert at.button(key="adapt_stop") is not None or at.success  # the progress view, unless already done
    until_learned(at)
    assert "Ada" in at.success[0].value and "held-out line" in at.success[0].value
    radio = at.sidebar.radio(key="model_choice")
    adapted = [option for option in radio.options if "adapted to" in option]
    assert adapted == ["inkcore's model, adapted to Ada"]
    radio.set_value(adapted[0]).run()
    no_errors(at)
    chosen = at.session_state["chosen_model"]
    assert chosen.startswith("adapted:")
    for script in ("pages/2_samples.py", "pages/8_surprise.py", "pages/11_two_models.py", "pages/4_cells.py"):
        at.switch_page(script)
        at.run()
        no_errors(at)
        assert at.session_state["chosen_model"] == chosen, script
        if script == "pages/2_samples.py":
            assert "In your hand?" in [s.value for s in at.subheader]
        if script == "pages/11_two_models.py":
            assert "What adaptation changed" in [s.value for s in at.subheader]


def test_stop_keeps_the_best_model_so_far():
    ids = saved_lines(3)
    at = start_learning(ids, "Bo")
    if not at.success:
        at.button(key="adapt_stop").click().run()
    until_learned(at)
    assert "Bo" in at.success[0].value


def test_an_adapted_model_can_be_renamed_and_deleted():
    ids = saved_lines(2)
    until_learned(start_learning(ids, "Cy"))
    at = page("library")
    at.run()
    entry = next(b.key for b in at.button if b.key and b.key.startswith("adapted_delete_"))
    entry_id = entry.rsplit("_", 1)[1]
    at.text_input(key=f"adapted_rename_text_{entry_id}").set_value("Cy, again").run()
    at.button(key=f"adapted_rename_{entry_id}").click().run()
    no_errors(at)
    assert any("Cy, again" in str(m.value) for m in at.markdown)
    at.button(key=f"adapted_delete_{entry_id}").click().run()
    no_errors(at)
    assert not [b for b in at.button if b.key and b.key.startswith("adapted_delete_")]
    assert not [o for o in at.sidebar.radio(key="model_choice").options if "adapted to" in o]


def test_another_owners_models_are_not_offered(monkeypatch):
    monkeypatch.setenv("INKCORE_LIBRARY", "session")
    ids = saved_lines(2, owner="session:someone-else")
    at = page("library")
    at.run()
    no_errors(at)
    assert not [o for o in at.sidebar.radio(key="model_choice").options if "adapted to" in o]
    assert ids  # their lines exist, but this session sees none of them
    assert any("at least two lines" in i.value for i in at.info)
