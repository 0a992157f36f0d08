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
