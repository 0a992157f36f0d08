"""The example library: named lines of handwriting that every page can open.

Entries come from four places, each with a key prefix:

* ``sample:<seed>``: lines the model writes itself (always available);
* ``mine:<id>``: handwriting saved from a canvas into a local SQLite database;
* ``article:<k>``: the article's validation lines (``validation-data/k.json``);
* ``iam:<line id>``: ``val`` and ``test`` lines of the user's own IAM-OnDB copy.

The SQLite database lives in a per-user data folder (``$INKCORE_DATA``, else
``$XDG_DATA_HOME/inkcore``, else ``~/.local/share/inkcore``). Each write is one
transaction, so a crash never leaves half an entry; a corrupt database is
moved aside (never deleted) and a fresh one started.

Every entry has an owner (``''``, everyone's, unless the app says otherwise): a
store bound to an owner (:meth:`HandwritingStore.for_owner`) sees, renames and
deletes that owner's entries only. The dashboard gives a signed-in user, or one
browser session, an owner of its own.
"""
from __future__ import annotations

import copy
import json
import os
import sqlite3
import time
from contextlib import closing
from pathlib import Path
from typing import NamedTuple

import numpy as np

from inkcore.strokes import as_rows

DATA_ENV = "INKCORE_DATA"
DATABASE_NAME = "handwriting.sqlite3"
MAX_NAME_LENGTH = 80
#: The adapted models kept beside the handwriting (:mod:`inkcore.adapted_store`), one row each.
ADAPTED_TABLE = ("CREATE TABLE IF NOT EXISTS adapted (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL,"
                 " file TEXT NOT NULL, base_sha256 TEXT NOT NULL, method TEXT NOT NULL, created REAL NOT NULL,"
                 " owner TEXT NOT NULL DEFAULT '')")
#: Seconds to wait for another process's write lock before giving up.
LOCK_TIMEOUT = 3.0


class Example(NamedTuple):
    key: str
    name: str
    rows: np.ndarray  # (T, 3) model rows
    source: str  # "sample", "mine", "article" or "iam"


class StoreError(Exception):
    """The handwriting database could not do what was asked; the message says why."""


class SavedEntry(NamedTuple):
    id: int
    name: str
    points: int
    created: float


def data_folder() -> Path:
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV])
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "inkcore"


SETTINGS_NAME = "settings.json"


def read_settings(folder: Path | None = None) -> dict:
    """The user's saved settings (a JSON object in the data folder); {} when there are
    none or the file cannot be read."""
    path = (folder or data_folder()) / SETTINGS_NAME
    try:
        settings = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return settings if isinstance(settings, dict) else {}


def write_setting(name: str, value, folder: Path | None = None) -> None:
    """Set one setting (None removes it), written atomically: a temporary file renamed
    over the old one, so a crash leaves the old settings or the new, never half."""
    folder = folder or data_folder()
    settings = read_settings(folder)
    if value is None:
        settings.pop(name, None)
    else:
        settings[name] = value
    try:
        folder.mkdir(parents=True, exist_ok=True)
        temporary = folder / f".{SETTINGS_NAME}.{os.getpid()}.tmp"
        temporary.write_text(json.dumps(settings, indent=1), encoding="utf-8")
        os.replace(temporary, folder / SETTINGS_NAME)
    except OSError as error:
        raise StoreError(f"the setting could not be saved in {folder}: {error.strerror or error}") from error


class HandwritingStore:
    """Handwriting saved by the user, in SQLite. Safe to share between sessions:
    every call opens its own connection."""

    def __init__(self, path: str | os.PathLike | None = None, owner: str = ""):
        self.path = Path(path) if path else data_folder() / DATABASE_NAME
        self.owner = owner
        self.notice: str | None = None  # set when the database had to be moved aside
        self._open_checked()

    def for_owner(self, owner: str) -> "HandwritingStore":
        """The same database as seen by ``owner``: only its entries exist for it."""
        view = copy.copy(self)
        view.owner = owner
        return view

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=LOCK_TIMEOUT, isolation_level=None)

    def _open_checked(self) -> None:
        folder = self.path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreError(f"cannot create the data folder {folder}: {error.strerror}; "
                             f"set {DATA_ENV} to a folder you can write to") from None
        if not os.access(folder, os.W_OK | os.X_OK):
            raise StoreError(f"the data folder {folder} is not writable; set {DATA_ENV} to a folder you can write to")
        try:
            self._create()
        except sqlite3.DatabaseError as error:
            if _is_locked(error):
                raise StoreError(f"the handwriting database is busy (locked by another program): {self.path}; "
                                 "try again in a moment") from None
            if not _is_damaged(error):  # e.g. cannot be opened: moving it aside would not help
                raise StoreError(f"cannot open the handwriting database {self.path}: {error}") from None
            moved = _unused_name(self.path.with_name(f"{self.path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}"))
            try:
                os.replace(self.path, moved)
            except OSError as move_error:
                raise StoreError(f"{self.path} is damaged and cannot be moved aside: {move_error.strerror}") from None
            self.notice = f"The handwriting database was damaged; it was moved to {moved} and a new one started."
            self._create()

    def _create(self) -> None:
        with closing(self._connect()) as db:  # closed at once, so a damaged file can be moved
            db.execute(
                "CREATE TABLE IF NOT EXISTS handwriting ("
                " id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, rows TEXT NOT NULL,"
                " points INTEGER NOT NULL, created REAL NOT NULL, owner TEXT NOT NULL DEFAULT '')"
            )
            columns = {row[1] for row in db.execute("PRAGMA table_info(handwriting)")}
            if "owner" not in columns:  # a database from before owners: its entries are everyone's
                try:
                    db.execute("ALTER TABLE handwriting ADD COLUMN owner TEXT NOT NULL DEFAULT ''")
                except sqlite3.OperationalError as error:
                    if "duplicate column" not in str(error):  # another process added it first
                        raise
            db.execute(ADAPTED_TABLE)
            db.execute("SELECT count(*) FROM handwriting").fetchone()

    def query(self, sql: str, args: tuple = ()) -> list[tuple]:
        """The result rows of one statement (:meth:`execute`)."""
        return self.execute(sql, args)[0]

    def execute(self, sql: str, args: tuple = ()) -> tuple[list[tuple], int | None]:
        """One statement in its own connection: its result rows and the id of a row it inserted."""
        try:
            connection = self._connect()
            try:
                with connection:
                    cursor = connection.execute(sql, args)
                    return cursor.fetchall(), cursor.lastrowid
            finally:
                connection.close()
        except sqlite3.DatabaseError as error:
            if _is_locked(error):
                raise StoreError("the handwriting database is busy (locked by another program); try again") from None
            if "full" in str(error).lower():
                raise StoreError("the disk is full; nothing was saved") from None
            raise StoreError(f"the handwriting database failed: {error}") from None

    def save(self, name: str, rows: np.ndarray) -> int:
        name = clean_name(name)
        rows = as_rows(rows)
        if len(rows) == 0:
            raise StoreError("there is nothing to save yet")
        text = json.dumps(np.round(rows, 5).tolist())
        # The id comes from the insert itself: asking afterwards for the newest
        # row of that name could return another session's save of the same name.
        _, entry_id = self.execute(
            "INSERT INTO handwriting (name, rows, points, created, owner) VALUES (?, ?, ?, ?, ?)",
            (name, text, len(rows), time.time(), self.owner),
        )
        return int(entry_id)

    def entries(self) -> list[SavedEntry]:
        rows = self.query("SELECT id, name, points, created FROM handwriting WHERE owner = ?"
                         " ORDER BY created DESC, id DESC", (self.owner,))
        return [SavedEntry(*row) for row in rows]

    def load(self, entry_id: int) -> Example:
        found = self.query("SELECT name, rows FROM handwriting WHERE id = ? AND owner = ?", (int(entry_id), self.owner))
        if not found:
            raise StoreError(f"no saved handwriting with id {entry_id}")
        name, text = found[0]
        return Example(f"mine:{entry_id}", name, as_rows(json.loads(text)), "mine")

    def rename(self, entry_id: int, name: str) -> None:
        self.query("UPDATE handwriting SET name = ? WHERE id = ? AND owner = ?",
                  (clean_name(name), int(entry_id), self.owner))

    def delete(self, entry_id: int) -> None:
        self.query("DELETE FROM handwriting WHERE id = ? AND owner = ?", (int(entry_id), self.owner))


def clean_name(name: str) -> str:
    name = " ".join(str(name).split())
    if not name:
        raise StoreError("give the handwriting a name")
    return name[:MAX_NAME_LENGTH]


def _is_locked(error: Exception) -> bool:
    text = str(error).lower()
    return "locked" in text or "busy" in text


def _is_damaged(error: sqlite3.Error) -> bool:
    """The file is not a database, or a damaged one (not: cannot be opened, read-only, full)."""
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None:
        return (code & 0xFF) in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)  # an extended code's primary
    text = str(error).lower()
    return "not a database" in text or "malformed" in text


def _unused_name(path: Path) -> Path:
    """``path``, or ``path-2``, ``path-3``...: a damaged file is never moved over an earlier one."""
    candidate, number = path, 1
    while candidate.exists():
        number += 1
        candidate = path.with_name(f"{path.name}-{number}")
    return candidate
