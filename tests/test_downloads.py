"""Fetching the article's files from a local HTTP server that serves ../shared's copy
in the repository's layout; never from the real GitHub."""
from __future__ import annotations

import errno
import functools
import hashlib
import json
import http.server
import os
import socket
import threading
from pathlib import Path

import pytest

import inkcore.downloads as downloads
from conftest import ARTICLE, require_shared
from inkcore.downloads import DownloadError, fetch, fetch_metadata, fetch_validation, fetch_weights

LOCAL_FILES = {
    "public/assets/model/b64_weights.json": "b64_weights.json",
    "public/assets/metadata.json": "metadata.json",
    **{f"validation-data/{k}.json": f"validation-data/{k}.json" for k in range(200)},
}


def require_article() -> Path:
    if not (ARTICLE / "b64_weights.json").is_file():
        pytest.skip("../shared/data/article is absent: only developers and CI have it")
    return ARTICLE


def build_layout(root: Path, layout: dict[str, str]) -> Path:
    """Symlinks to ../shared's files at their paths in the repository."""
    for repo_path, local in layout.items():
        link = root / repo_path
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(ARTICLE / local)
    return root


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class Server:
    """An HTTP server on a free local port, in a thread."""

    def __init__(self, handler):
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("INKCORE_CACHE", str(folder))
    monkeypatch.setenv("INKCORE_ARTICLE_URL", closed_port_url())  # never the real GitHub
    return folder


def serve(monkeypatch, handler) -> Server:
    server = Server(handler)
    monkeypatch.setenv("INKCORE_ARTICLE_URL", server.url)
    return server


@pytest.fixture
def article_server(tmp_path, monkeypatch, cache):
    require_article()
    root = build_layout(tmp_path / "served", LOCAL_FILES)
    server = serve(monkeypatch, functools.partial(Quiet, directory=str(root)))
    yield server
    server.close()


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def files_in(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def test_the_pinned_table_matches_the_shared_copy():
    require_article()
    table = downloads.pinned_files()
    assert len(table) == 202
    for repo_path, local in LOCAL_FILES.items():
        data = (ARTICLE / local).read_bytes()
        assert table[repo_path] == (repo_path, len(data), hashlib.sha256(data).hexdigest())


def test_fetch_weights_checks_and_caches_them(article_server, cache):
    calls = []
    path = fetch_weights(progress=lambda done, total: calls.append((done, total)))
    assert path == cache / "article" / "public" / "assets" / "model" / "b64_weights.json"
    assert path.read_bytes() == (ARTICLE / "b64_weights.json").read_bytes()
    size = path.stat().st_size
    assert calls[-1] == (size, size) and len(calls) > 1
    assert all(a[0] < b[0] for a, b in zip(calls, calls[1:]))
    assert downloads.cached_weights() == path
    assert files_in(cache) == [path]  # no partial file left beside it


def test_fetch_metadata_and_some_validation_lines(article_server, cache):
    assert fetch_metadata().read_bytes() == (ARTICLE / "metadata.json").read_bytes()
    calls = []
    folder = fetch_validation([0, 17, 199], progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 3), (2, 3), (3, 3)]
    assert folder == cache / "article" / "validation-data"
    assert sorted(p.name for p in folder.iterdir()) == ["0.json", "17.json", "199.json"]
    for k in (0, 17, 199):
        assert (folder / f"{k}.json").read_bytes() == (ARTICLE / "validation-data" / f"{k}.json").read_bytes()
    assert fetch("validation-data/17.json") == folder / "17.json"


def test_the_fetched_lines_read_as_article_lines(article_server):
    from inkcore.data import read_article_lines

    lines = read_article_lines(fetch_validation(range(5)))
    assert sorted(lines) == [0, 1, 2, 3, 4]


def test_a_server_that_is_down(cache):
    with pytest.raises(DownloadError) as raised:
        fetch_weights()
    message = str(raised.value)
    assert message.startswith("could not reach 127.0.0.1:")
    assert "check your connection or set INKCORE_ARTICLE_URL" in message
    assert files_in(cache) == []
    assert downloads.cached_weights() is None


def test_a_cached_file_is_not_downloaded_again(article_server, cache, monkeypatch):
    path = fetch_metadata()
    article_server.close()
    monkeypatch.setenv("INKCORE_ARTICLE_URL", closed_port_url())
    assert fetch_metadata() == path


def test_a_damaged_cached_file_is_fetched_again(article_server, cache):
    path = fetch_metadata()
    path.write_bytes(b"{}")
    assert downloads.cached("metadata") is None
    assert fetch_metadata() == path
    assert path.read_bytes() == (ARTICLE / "metadata.json").read_bytes()


def test_a_damaged_cached_file_is_never_used_offline(article_server, cache, monkeypatch):
    path = fetch_metadata()
    path.write_bytes(path.read_bytes()[:-1] + b" ")
    article_server.close()
    monkeypatch.setenv("INKCORE_ARTICLE_URL", closed_port_url())
    with pytest.raises(DownloadError, match="could not reach"):
        fetch_metadata()
    assert not path.exists()


def test_a_missing_file_is_a_404(tmp_path, monkeypatch, cache):
    (tmp_path / "empty").mkdir()
    server = serve(monkeypatch, functools.partial(Quiet, directory=str(tmp_path / "empty")))
    try:
        with pytest.raises(DownloadError, match=r"public/assets/metadata.json: not found \(HTTP 404\)"):
            fetch_metadata()
    finally:
        server.close()
    assert files_in(cache) == []


def test_the_older_layout_is_tried_after_a_404(tmp_path, monkeypatch, cache):
    require_article()
    root = build_layout(tmp_path / "old", {"assets/metadata.json": "metadata.json"})
    server = serve(monkeypatch, functools.partial(Quiet, directory=str(root)))
    try:
        path = fetch_metadata()
    finally:
        server.close()
    assert path == cache / "article" / "public" / "assets" / "metadata.json"
    assert path.read_bytes() == (ARTICLE / "metadata.json").read_bytes()


class CutOff(http.server.BaseHTTPRequestHandler):
    """Announces the whole file, sends half of it, then closes the connection."""

    body = b""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body[: len(self.body) // 2])
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, *args):
        pass


def test_a_download_cut_off_halfway(monkeypatch, cache):
    require_article()
    handler = type("CutOffMetadata", (CutOff,), {"body": (ARTICLE / "metadata.json").read_bytes()})
    server = serve(monkeypatch, handler)
    try:
        with pytest.raises(DownloadError, match=r"cut off after 13132 of 26264 bytes"):
            fetch_metadata()
    finally:
        server.close()
    assert files_in(cache) == []


class Serves(http.server.BaseHTTPRequestHandler):
    """Answers every request with ``body``, announcing its length unless ``announce`` is False."""

    body = b""
    announce = True

    def do_GET(self):
        self.send_response(200)
        if self.announce:
            self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)
        self.close_connection = True

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("change", ["same size", "other size"])
def test_wrong_bytes_are_refused(monkeypatch, cache, change):
    require_article()
    body = (ARTICLE / "metadata.json").read_bytes()
    body = body[:100] + b"X" + body[101:] if change == "same size" else body + b"\n"
    server = serve(monkeypatch, type("Wrong", (Serves,), {"body": body}))
    try:
        expected = r"public/assets/metadata.json does not match the pinned checksum.*not used"
        with pytest.raises(DownloadError, match=expected):
            fetch_metadata()
    finally:
        server.close()
    assert files_in(cache) == []


def test_a_short_body_without_a_content_length(monkeypatch, cache):
    require_article()
    body = (ARTICLE / "metadata.json").read_bytes()[:1000]
    server = serve(monkeypatch, type("Short", (Serves,), {"body": body, "announce": False}))
    calls = []
    try:
        with pytest.raises(DownloadError, match=r"cut off after 1000 of 26264 bytes"):
            fetch_metadata(progress=lambda done, total: calls.append((done, total)))
    finally:
        server.close()
    assert calls[-1] == (1000, None)
    assert files_in(cache) == []


def test_a_full_disk(article_server, cache, monkeypatch):
    def no_space(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(downloads.os, "fsync", no_space)
    with pytest.raises(DownloadError, match="no space left on the disk to store b64_weights.json.*INKCORE_CACHE"):
        fetch_weights()
    assert files_in(cache) == []


def test_a_local_copy_as_the_base(tmp_path, monkeypatch, cache):
    require_article()
    root = build_layout(tmp_path / "checkout", LOCAL_FILES)
    monkeypatch.setenv("INKCORE_ARTICLE_URL", str(root))
    assert fetch_metadata().read_bytes() == (ARTICLE / "metadata.json").read_bytes()
    monkeypatch.setenv("INKCORE_ARTICLE_URL", root.as_uri())
    assert fetch("validation-data/3.json").read_bytes() == (ARTICLE / "validation-data" / "3.json").read_bytes()
    monkeypatch.setenv("INKCORE_ARTICLE_URL", str(tmp_path / "not-a-checkout"))
    with pytest.raises(DownloadError, match="not found"):
        fetch("validation-data/4.json")


def test_only_pinned_files_are_fetched(cache):
    with pytest.raises(DownloadError, match="not one of the article's pinned files"):
        fetch("public/index.html")
    with pytest.raises(DownloadError, match="not one of the article's pinned files"):
        fetch("validation-data/200.json")


def test_the_default_locations(monkeypatch, tmp_path):
    monkeypatch.delenv("INKCORE_CACHE", raising=False)
    monkeypatch.delenv("INKCORE_ARTICLE_URL", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert downloads.article_cache() == tmp_path / "xdg" / "inkcore" / "article"
    assert downloads.base_url() == (
        "https://raw.githubusercontent.com/distillpub/post--handwriting/"
        "65862bc4aa572d405f3e3cbd930eb885159aac29/"
    )
    assert downloads.candidate_paths("validation-data/7.json") == [
        "validation-data/7.json", "public/assets/validation-data/7.json"]


def test_a_local_copy_is_checked_against_the_pinned_commit(tmp_path):
    assert {path: downloads.local_name(path) for path in LOCAL_FILES} == LOCAL_FILES
    source = require_shared(ARTICLE)
    assert downloads.folder_differences(source) == []  # ../shared holds the pinned commit's files
    (tmp_path / "validation-data").mkdir()
    (tmp_path / "metadata.json").write_bytes((source / "metadata.json").read_bytes())
    (tmp_path / "validation-data" / "7.json").write_bytes((source / "validation-data" / "7.json").read_bytes() + b" ")
    (tmp_path / "b64_weights.json").write_text("[]")
    assert sorted(downloads.folder_differences(tmp_path)) == ["b64_weights.json", "validation-data/7.json"]


# --- the command line: inkcore download article, --weights article, --examples article ----------


def test_the_command_line_downloads_the_article_and_names_its_files(article_server, cache, tmp_path, monkeypatch):
    from conftest import SMALL_CONFIG, random_model
    from inkcore.weights import save_npz
    from test_cli import inkcore

    monkeypatch.delenv("INKCORE_ARTICLE_DIR", raising=False)
    result = inkcore("download", "article", "--to", str(tmp_path / "copy"))
    assert result.returncode == 0, result.stderr
    assert "the article's weights: 1.4 MB of 1.4 MB" in result.stderr  # progress, on stderr
    assert "its validation lines: 200 of 200 files" in result.stderr
    assert result.stdout == ""
    assert len(files_in(cache)) == 202  # every pinned file, checked, and nothing half-written
    for repo_path, local in LOCAL_FILES.items():
        assert (tmp_path / "copy" / local).read_bytes() == (ARTICLE / local).read_bytes()

    article_server.close()  # from here on, only what is on this computer
    monkeypatch.setenv("INKCORE_ARTICLE_URL", closed_port_url())
    again = inkcore("download", "article")
    assert again.returncode == 0 and "the article's weights: already here, checked" in again.stderr
    info = inkcore("info", "--weights", "article")
    assert info.returncode == 0 and json.loads(info.stdout)["format"] == "article-b64"
    small = save_npz(tmp_path / "small.npz", random_model(SMALL_CONFIG))
    scored = inkcore("evaluate", "--weights", str(small), "--examples", "article", "--json")
    assert scored.returncode == 0 and json.loads(scored.stdout)["sequences"] == 200


def test_article_names_the_files_only_once_they_are_here(cache, monkeypatch):
    from test_cli import assert_one_line_failure, inkcore

    monkeypatch.delenv("INKCORE_ARTICLE_DIR", raising=False)
    for args in (("info", "--weights", "article"), ("evaluate", "--examples", "article")):
        assert_one_line_failure(inkcore(*args), "not downloaded yet: run `inkcore download article`")
    assert_one_line_failure(inkcore("download", "article"), "could not reach 127.0.0.1")
    assert files_in(cache) == []
    require_article()
    monkeypatch.setenv("INKCORE_ARTICLE_DIR", str(ARTICLE))  # a local folder of the article's files serves too
    assert inkcore("info", "--weights", "article").returncode == 0
