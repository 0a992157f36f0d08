"""Fetch the article's public files on request, check them, and keep them in a cache.

Files
    The Distill article's repository, ``distillpub/post--handwriting``, pinned at one
    commit (:data:`ARTICLE_COMMIT`). ``article_files.json`` beside this module lists
    every file inkcore may fetch, by its path in the repository, with its size and
    SHA-256; nothing else is fetched, and a file that does not match is never used.
    Short names: ``weights`` (``public/assets/model/b64_weights.json``), ``metadata``
    (``public/assets/metadata.json``); the 200 validation lines are
    ``validation-data/<k>.json``.

    The repository moved its served files under ``public/`` in its history; on a 404
    the other layout's path is tried (:data:`ALTERNATE_PREFIXES`). The checksum decides
    what is accepted, so a path from either layout is safe.

Where from
    ``$INKCORE_ARTICLE_URL`` if set, else :data:`DEFAULT_BASE_URL`; a file's URL is the
    base followed by its repository path. The base may be a ``file://`` URL or a plain
    folder: a checkout or copy of the repository works offline.

Where to
    ``$INKCORE_CACHE``, else ``$XDG_CACHE_HOME/inkcore``, else ``~/.cache/inkcore``;
    files land in ``<cache>/article/<repository path>``. A download is written to a
    ``.partial`` file beside its target, flushed to disk, checked, then renamed over the
    target, so the cache never holds half a file; on any failure the partial is removed.
    :func:`copy_to` copies the cached files into a folder of your choice.

On this computer
    ``$INKCORE_ARTICLE_DIR``, a folder of the article's files (``b64_weights.json``,
    ``metadata.json``, ``validation-data/``), is used as it is where it has a file;
    else the cache's checked copy (:func:`article_weights`, :func:`article_metadata`,
    :func:`article_validation`). The dashboard and the command line (``--weights
    article``, ``--examples article``) both find the files this way.

Errors
    Every failure is a :class:`DownloadError` whose message says what happened and what
    to do: no connection, HTTP errors, a body cut off before its Content-Length, a
    checksum mismatch, a full disk.
"""
from __future__ import annotations

import errno
import functools
import hashlib
import http.client
import json
import os
import socket
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Callable, Iterable, NamedTuple

from inkcore.version import __version__

ARTICLE_REPOSITORY = "distillpub/post--handwriting"
ARTICLE_COMMIT = "65862bc4aa572d405f3e3cbd930eb885159aac29"
DEFAULT_BASE_URL = f"https://raw.githubusercontent.com/{ARTICLE_REPOSITORY}/{ARTICLE_COMMIT}/"
BASE_URL_ENV = "INKCORE_ARTICLE_URL"
CACHE_ENV = "INKCORE_CACHE"
#: A folder of the article's files (b64_weights.json, metadata.json, validation-data/),
#: used as they are instead of the cache's.
LOCAL_DIR_ENV = "INKCORE_ARTICLE_DIR"
#: On the command line, this name stands for the article's files: ``--weights article``,
#: ``--examples article``.
ARTICLE_NAME = "article"

#: Seconds to wait for a connection or for the next block of data.
TIMEOUT_S = 30.0
CHUNK_BYTES = 64 * 1024

NAMES = {
    "weights": "public/assets/model/b64_weights.json",
    "metadata": "public/assets/metadata.json",
}
VALIDATION_FOLDER = "validation-data"
VALIDATION_COUNT = 200

#: Paths of the repository's other layout, tried in order when a path answers 404.
ALTERNATE_PREFIXES = {
    "public/assets/": ("assets/",),
    "validation-data/": ("public/assets/validation-data/",),
}

CHECKSUM_TABLE = Path(__file__).resolve().parent / "article_files.json"

#: ``progress(done, total)``: bytes for one file (total None when the server does not
#: say), files for :func:`fetch_validation`.
Progress = Callable[[int, "int | None"], None]


class DownloadError(RuntimeError):
    """A file that could not be fetched or was refused; the message says why and what to do."""


class ArticleFile(NamedTuple):
    path: str  # relative to the repository root, also under <cache>/article
    size: int
    sha256: str


@functools.lru_cache(maxsize=1)
def pinned_files() -> dict[str, ArticleFile]:
    """Every file that may be fetched, by repository path."""
    table = json.loads(CHECKSUM_TABLE.read_text(encoding="utf-8"))
    if table["commit"] != ARTICLE_COMMIT:
        raise DownloadError(f"{CHECKSUM_TABLE} lists commit {table['commit']}, not {ARTICLE_COMMIT}")
    return {path: ArticleFile(path, size, digest) for path, (size, digest) in table["files"].items()}


def validation_path(k: int) -> str:
    return f"{VALIDATION_FOLDER}/{k}.json"


def article_file(name_or_path: str) -> ArticleFile:
    """A short name (``weights``, ``metadata``) or a repository path, as a pinned file."""
    path = NAMES.get(name_or_path, name_or_path)
    try:
        return pinned_files()[path]
    except KeyError:
        raise DownloadError(
            f"{name_or_path!r} is not one of the article's pinned files "
            f"(names: {', '.join(NAMES)}; or a path such as {validation_path(0)})"
        ) from None


# --- locations -----------------------------------------------------------------------


def cache_dir() -> Path:
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]).expanduser() / "inkcore"
    return Path.home() / ".cache" / "inkcore"


def article_cache() -> Path:
    return cache_dir() / "article"


def base_url() -> str:
    base = os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL
    if "://" not in base:
        base = Path(base).expanduser().resolve().as_uri()
    return base.rstrip("/") + "/"


def candidate_paths(path: str) -> list[str]:
    paths = [path]
    for prefix, alternates in ALTERNATE_PREFIXES.items():
        if path.startswith(prefix):
            paths += [alt + path[len(prefix) :] for alt in alternates]
    return paths


# --- the cache -----------------------------------------------------------------------


def _matches(path: Path, entry: ArticleFile) -> bool:
    try:
        if path.stat().st_size != entry.size:
            return False
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return False
    return digest.hexdigest() == entry.sha256


def cached(name_or_path: str) -> Path | None:
    """The cached file if it is present and matches its checksum; never downloads."""
    entry = article_file(name_or_path)
    target = article_cache() / entry.path
    return target if _matches(target, entry) else None


def cached_weights() -> Path | None:
    return cached("weights")


def local_name(path: str) -> str:
    """Where a pinned file lies in a local folder of the article's files: the
    repository's ``public/assets/`` prefix dropped (``b64_weights.json``,
    ``metadata.json``, ``validation-data/k.json``)."""
    return path.split("public/assets/model/", 1)[-1].split("public/assets/", 1)[-1]


def folder_differences(folder: str | os.PathLike) -> list[str]:
    """The files of a local folder of the article's files that are not the pinned
    commit's (wrong size or sha256), by their name in the folder; files absent
    from the folder are not counted."""
    folder = Path(folder)
    different = []
    for path, entry in pinned_files().items():
        local = folder / local_name(path)
        if local.exists() and not _matches(local, entry):
            different.append(local_name(path))
    return different


# --- the article's files on this computer ---------------------------------------------


def local_folder() -> Path | None:
    """``$INKCORE_ARTICLE_DIR`` when it names a folder."""
    folder = os.environ.get(LOCAL_DIR_ENV)
    return Path(folder) if folder and Path(folder).is_dir() else None


def _local_or_cached(name: str) -> Path | None:
    local = local_folder()
    if local and (local / local_name(NAMES[name])).exists():
        return local / local_name(NAMES[name])
    return cached(name)


def article_weights() -> Path | None:
    """The article's b64_weights.json: the local folder's, else the checked cached copy."""
    return _local_or_cached("weights")


def article_metadata() -> Path | None:
    """The article's metadata.json: the local folder's, else the checked cached copy."""
    return _local_or_cached("metadata")


def article_validation() -> Path | None:
    """The folder of the article's validation lines: the local folder's, else the cache's
    when it holds any."""
    local = local_folder()
    if local and (local / VALIDATION_FOLDER).is_dir():
        return local / VALIDATION_FOLDER
    folder = article_cache() / VALIDATION_FOLDER
    return folder if folder.is_dir() and any(folder.glob("*.json")) else None


def named_weights(value: str | None) -> str | None:
    """A ``--weights`` value: ``article`` names the article's weights on this computer."""
    if value != ARTICLE_NAME:
        return value
    return str(_here(article_weights(), "weights are"))


def named_examples(value: str) -> str:
    """An ``--examples`` value: ``article`` names the article's validation lines on this computer."""
    if value != ARTICLE_NAME:
        return value
    return str(_here(article_validation(), "validation lines are"))


def _here(path: Path | None, what: str) -> Path:
    if path is None:
        raise DownloadError(f"the article's {what} not downloaded yet: run `inkcore download article`")
    return path


# --- fetching ------------------------------------------------------------------------


def fetch(name_or_path: str, progress: Progress | None = None) -> Path:
    """The checked file in the cache, downloaded first if it is missing or damaged."""
    entry = article_file(name_or_path)
    target = article_cache() / entry.path
    if target.exists():
        if _matches(target, entry):
            return target
        try:
            target.unlink()  # damaged or stale: never used, fetched again below
        except OSError as error:
            raise DownloadError(f"{target}: damaged cached copy cannot be removed ({error.strerror})") from None
    base = base_url()
    tried = []
    for path in candidate_paths(entry.path):
        url = base + urllib.parse.quote(path)
        if _download(url, entry, target, progress):
            return target
        tried.append(url)
    status = " (HTTP 404)" if base.startswith(("http:", "https:")) else ""
    raise DownloadError(
        f"{entry.path}: not found{status} at {' or '.join(tried)}; "
        f"check {BASE_URL_ENV} points at the repository root of {ARTICLE_REPOSITORY}"
    )


def fetch_weights(progress: Progress | None = None) -> Path:
    return fetch("weights", progress)


def fetch_metadata(progress: Progress | None = None) -> Path:
    return fetch("metadata", progress)


def fetch_validation(indices: Iterable[int] | None = None, progress: Progress | None = None) -> Path:
    """Ensure validation lines ``indices`` (default all 200) are cached; return their folder.

    ``progress(files_done, files_total)`` is called after every file.
    """
    indices = list(range(VALIDATION_COUNT) if indices is None else indices)
    for done, k in enumerate(indices, 1):
        fetch(validation_path(int(k)))
        if progress is not None:
            progress(done, len(indices))
    return article_cache() / VALIDATION_FOLDER


def copy_to(folder: str | os.PathLike) -> Path:
    """Copy the cached files into ``folder`` as a folder of the article's files
    (b64_weights.json, metadata.json, validation-data/), the layout ``$INKCORE_ARTICLE_DIR``
    names; each file is checked first and written whole or not at all."""
    folder = Path(folder)
    for path, entry in pinned_files().items():
        source = article_cache() / path
        if not _matches(source, entry):
            raise DownloadError(f"{path} is not in the cache: run `inkcore download article` first")
        target = folder / local_name(path)
        partial = target.with_name(target.name + ".partial")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            partial.write_bytes(source.read_bytes())
            os.replace(partial, target)
        except OSError as error:
            partial.unlink(missing_ok=True)
            raise DownloadError(f"cannot write {target} ({error.strerror or error}); choose another folder") from None
    return folder


def _unreachable(url: str, reason) -> DownloadError:
    host = urllib.parse.urlsplit(url).netloc or url
    return DownloadError(
        f"could not reach {host}: {reason}; check your connection or set {BASE_URL_ENV}, "
        "or point the app at a local copy"
    )


def _download(url: str, entry: ArticleFile, target: Path, progress: Progress | None) -> bool:
    """Fetch ``url`` into ``target`` after checking it; False on 404; DownloadError otherwise."""
    request = urllib.request.Request(url, headers={"User-Agent": f"inkcore/{__version__}"})
    try:
        response = urllib.request.urlopen(request, timeout=TIMEOUT_S)
    except urllib.error.HTTPError as error:
        error.close()
        if error.code == 404:
            return False
        raise DownloadError(f"{url}: HTTP {error.code} {error.reason}") from None
    except urllib.error.URLError as error:
        if isinstance(error.reason, FileNotFoundError):
            return False  # a file:// base without this file
        raise _unreachable(url, getattr(error.reason, "strerror", None) or error.reason) from None
    except (TimeoutError, socket.timeout):
        raise _unreachable(url, f"no answer within {TIMEOUT_S:g} s") from None
    except (http.client.HTTPException, OSError) as error:
        raise _unreachable(url, error) from None
    with response:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        if total is not None and total != entry.size:
            raise DownloadError(
                f"{entry.path} does not match the pinned checksum (the server sends {total} bytes, "
                f"expected {entry.size}); not used"
            )
        _receive(url, response, entry, target, total, progress)
    return True


def _receive(url: str, response, entry: ArticleFile, target: Path, total: int | None,
             progress: Progress | None) -> None:
    """Stream the body into a partial file beside ``target``; rename it only when it checks."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, partial_name = tempfile.mkstemp(dir=target.parent, prefix=target.name + ".", suffix=".partial")
    except OSError as error:
        raise _disk_error(error, target) from None
    partial = Path(partial_name)
    try:
        with os.fdopen(handle, "wb") as out:
            done, digest = _copy_body(url, response, out, entry, target, total, progress)
            try:
                out.flush()
                os.fsync(out.fileno())
            except OSError as error:
                raise _disk_error(error, target) from None
        if done < (total or entry.size):
            raise DownloadError(f"{url}: the download was cut off after {done} of {total or entry.size} bytes; "
                                "try again")
        if digest != entry.sha256:
            raise DownloadError(f"{entry.path} does not match the pinned checksum; not used")
        try:
            os.replace(partial, target)
        except OSError as error:
            raise _disk_error(error, target) from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _copy_body(url, response, out, entry: ArticleFile, target: Path, total, progress) -> tuple[int, str]:
    """Copy the response to ``out``; the byte count and SHA-256 of what arrived."""
    digest = hashlib.sha256()
    done = 0
    while True:
        try:
            chunk = response.read(CHUNK_BYTES)
        except (TimeoutError, socket.timeout):
            raise DownloadError(f"{url}: the download stalled (no data for {TIMEOUT_S:g} s) after {done} bytes; "
                                "try again") from None
        except (http.client.HTTPException, OSError) as error:
            raise DownloadError(f"{url}: the connection broke after {done} bytes ({error}); try again") from None
        if not chunk:
            return done, digest.hexdigest()
        done += len(chunk)
        if done > entry.size:
            raise DownloadError(
                f"{entry.path} does not match the pinned checksum (longer than {entry.size} bytes); not used"
            )
        digest.update(chunk)
        try:
            out.write(chunk)
        except OSError as error:
            raise _disk_error(error, target) from None
        if progress is not None:
            progress(done, total)


def _disk_error(error: OSError, target: Path) -> DownloadError:
    if error.errno == errno.ENOSPC:
        return DownloadError(
            f"no space left on the disk to store {target.name} in {target.parent}; "
            f"free some space or set {CACHE_ENV} to a folder on another disk"
        )
    return DownloadError(
        f"cannot write {target} ({error.strerror or error}); set {CACHE_ENV} to a writable folder"
    )
