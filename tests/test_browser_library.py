"""Whose handwriting a visitor sees, in the real thing: two browser contexts (two
visitors with their own cookies) on one server, without sign-in, shared by default
and kept to each session with INKCORE_LIBRARY=session."""
from __future__ import annotations

import json

import pytest

from test_browser import CHROMIUM_ARGS, WAIT_MS, browser  # noqa: F401

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
bench_app = pytest.importorskip("benchmarks.harness", reason="benchmarks/ is part of the source checkout only")


@pytest.fixture(params=["shared", "session"])
def library_server(request, tmp_path, shipped_weights):
    env = bench_app.app_environment(tmp_path, shipped_weights)
    env.pop("INKCORE_LIBRARY", None)
    if request.param == "session":
        env["INKCORE_LIBRARY"] = "session"
    with bench_app.serve(env, tmp_path / "streamlit.log") as app:
        bench_app.wait_until_up(app)
        yield request.param, app.url


def visitor(browser):  # noqa: F811
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    tab.set_default_timeout(WAIT_MS)
    return context, tab


def entry_shown(tab) -> str:
    """The library's Entry dropdown's value ('' when nothing is saved): a select shows it in its input."""
    found = tab.locator("[data-testid=stSelectbox]").filter(has_text="Entry").locator("input")
    return found.first.input_value() if found.count() else ""


def open_library(tab, url: str) -> None:
    tab.goto(f"{url}/library")
    tab.get_by_role("heading", name="Example library").first.wait_for()
    tab.get_by_text("Your handwriting").first.wait_for()


def test_a_visitors_writing_reaches_the_others_only_when_the_library_is_shared(browser, library_server,  # noqa: F811
                                                                                tmp_path):
    mode, url = library_server
    line = tmp_path / "alices-line.json"
    line.write_text(json.dumps([[0.5, 0.1, 0], [0.4, -0.2, 0], [0.6, 0.3, 1], [-1.0, 0.0, 0], [0.5, 0.2, 1]]))
    alice, alice_tab = visitor(browser)
    bob, bob_tab = visitor(browser)
    try:
        open_library(alice_tab, url)
        alice_tab.locator("input[type=file]").first.set_input_files(str(line))
        alice_tab.get_by_text("Imported").first.wait_for()
        alice_tab.get_by_text("Entry", exact=True).first.wait_for()
        assert entry_shown(alice_tab).startswith("alices-line · 5 points")  # her entry, in her library

        open_library(bob_tab, url)
        if mode == "shared":
            bob_tab.get_by_text("shared by everyone who can open this server").first.wait_for()
            bob_tab.get_by_text("Entry", exact=True).first.wait_for()
            assert entry_shown(bob_tab).startswith("alices-line · 5 points")
        else:
            bob_tab.get_by_text("this browser session's alone").first.wait_for()
            bob_tab.get_by_text("Nothing saved yet").first.wait_for()
            assert entry_shown(bob_tab) == ""
            alice_tab.reload()  # a new session for Alice too: her writing stayed with the old one
            alice_tab.get_by_text("Nothing saved yet").first.wait_for()
    finally:
        alice.close()
        bob.close()


def write_and_save(tab, name: str, x0: float) -> None:
    """Write a word on Write with the model at a person's pace and save it under ``name``."""
    from test_browser import settle, write_word

    try:
        write_word(tab, x0=x0, count=4)
    except playwright_api.Error as error:  # the surface redrawn as the pen went down: write the word again
        if "not attached" not in str(error):
            raise
        tab.mouse.up()
        settle(tab)
        write_word(tab, x0=x0, count=4)
    tab.get_by_text("Save to the library").first.click()
    field = tab.get_by_label("Name").first
    field.fill(name)
    field.press("Enter")
    tab.get_by_role("button", name="Save", exact=True).first.click()
    tab.get_by_text("Saved as").first.wait_for()
    tab.keyboard.press("Escape")
    tab.get_by_role("button", name="Clear").first.click()
    settle(tab)
    tab.get_by_text("Write a word or two").first.wait_for()  # the surface, empty again, drawn anew
    settle(tab)


def choose(tab, chooser, name: str, tries: int = 5) -> None:
    """Pick the option ``name`` of the multiselect ``chooser``, and wait for the run it starts.
    A list opened while the page still redraws the widget closes with it: then it is opened again."""
    from test_browser import settle

    option = tab.get_by_role("option", name=name).first
    for _ in range(tries):
        settle(tab)
        chooser.click()
        try:
            option.click(timeout=3_000)
            playwright_api.expect(chooser).to_contain_text(name, timeout=3_000)
        except (playwright_api.TimeoutError, AssertionError):
            tab.keyboard.press("Escape")
            continue
        settle(tab)
        return
    raise AssertionError(f"the list of {chooser.inner_text()!r} never gave {name!r}")


def test_a_visitor_learns_their_hand_and_only_they_see_the_model(browser, tmp_path, shipped_weights):  # noqa: F811
    """Three lines written with the mouse, learned on the library page: the adapted model is
    in the writer's picker on every page, and not in another visitor's (INKCORE_LIBRARY=session)."""
    from test_browser import settle, shoot

    env = bench_app.app_environment(tmp_path, shipped_weights)
    env["INKCORE_LIBRARY"] = "session"
    with bench_app.serve(env, tmp_path / "streamlit.log") as app:
        bench_app.wait_until_up(app)
        alice, tab = visitor(browser)
        bob = None
        try:
            tab.goto(f"{app.url}/write")
            tab.get_by_role("heading", name="Write with the model").first.wait_for()
            settle(tab)
            for k, x0 in enumerate((40, 80, 60)):
                write_and_save(tab, f"my line {k + 1}", x0)
            tab.get_by_role("link", name="Example library").first.click()
            tab.get_by_role("heading", name="Learn my handwriting").first.wait_for()
            settle(tab)
            chooser = tab.locator("[data-testid=stMultiSelect]").filter(has_text="Lines to learn from")
            for k in range(3):
                choose(tab, chooser, f"my line {k + 1}")
            tab.keyboard.press("Escape")
            tab.get_by_label("Whose hand").fill("Alice")
            tab.get_by_label("Whose hand").press("Enter")
            settle(tab)
            tab.get_by_role("button", name="Learn my handwriting").click()
            tab.get_by_text("Learned").first.wait_for(timeout=240_000)
            sidebar = tab.locator("[data-testid=stSidebar]")
            sidebar.get_by_text("inkcore's model, adapted to Alice").wait_for()
            shoot(tab, "library-learned")
            sidebar.get_by_text("inkcore's model, adapted to Alice").click()
            settle(tab)
            tab.get_by_role("link", name="The model writes").first.click()
            tab.get_by_role("heading", name="In your hand?").first.wait_for(timeout=120_000)
            settle(tab)
            shoot(tab, "samples-in-your-hand")

            # Bob's page opens now: the newest page holds the focus, and a list closes on a page without it.
            bob, bob_tab = visitor(browser)
            bob_tab.goto(f"{app.url}/library")
            bob_tab.get_by_role("heading", name="Learn my handwriting").first.wait_for()
            settle(bob_tab)
            assert bob_tab.get_by_text("adapted to Alice").count() == 0
        finally:
            alice.close()
            if bob is not None:
                bob.close()
