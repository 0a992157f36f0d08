"""Adapted models kept for their user, beside the handwriting they were learned from.

An adapted model (:mod:`inkcore.adapt`) belongs to whoever made it, exactly as saved
handwriting does: its weights file lies in the data folder's ``adapted/`` and its
entry in the handwriting database (:class:`inkcore.library.HandwritingStore`), with
the same owner rule: a store bound to an owner lists, opens, renames and deletes that
owner's models only. The file is written before its entry, so an entry always has a
file; one whose file has gone missing is listed as such and can still be deleted.
"""
from __future__ import annotations

import secrets
import time
from pathlib import Path
from typing import NamedTuple

from inkcore.library import HandwritingStore, StoreError, clean_name
from inkcore.model import Model
from inkcore.weights import save_npz

FOLDER = "adapted"


class AdaptedEntry(NamedTuple):
    id: int
    name: str  # whose hand: "inkcore's model, adapted to <name>"
    path: Path
    base_sha256: str
    method: str
    created: float


class AdaptedModels:
    """The adapted models of one owner (the ``handwriting`` store's)."""

    def __init__(self, handwriting: HandwritingStore):
        self.handwriting = handwriting
        self.folder = handwriting.path.parent / FOLDER  # the table is the database's (inkcore.library)

    def _entry(self, row: tuple) -> AdaptedEntry:
        entry_id, name, file, base, method, created = row
        return AdaptedEntry(int(entry_id), name, self.folder / file, base, method, created)

    def save(self, name: str, model: Model, metadata: dict) -> int:
        """Keep ``model`` (with ``metadata``, as :func:`inkcore.adapt.adapted_metadata` makes
        it) under ``name``; its id."""
        name = clean_name(name)
        adaptation = metadata.get("adaptation", {})
        file = f"{int(time.time())}-{secrets.token_hex(6)}.npz"
        try:
            save_npz(self.folder / file, model, **metadata)
        except OSError as error:
            raise StoreError(f"the adapted model could not be saved in {self.folder}: "
                             f"{error.strerror or error}") from None
        try:
            _, entry_id = self.handwriting.execute(
                "INSERT INTO adapted (name, file, base_sha256, method, created, owner) VALUES (?, ?, ?, ?, ?, ?)",
                (name, file, adaptation.get("base", {}).get("sha256", ""), adaptation.get("method", ""), time.time(),
                 self.handwriting.owner))
        except StoreError:
            (self.folder / file).unlink(missing_ok=True)
            raise
        return int(entry_id)

    def entries(self) -> list[AdaptedEntry]:
        rows = self.handwriting.query("SELECT id, name, file, base_sha256, method, created FROM adapted"
                                     " WHERE owner = ? ORDER BY created DESC, id DESC", (self.handwriting.owner,))
        return [self._entry(row) for row in rows]

    def get(self, entry_id: int) -> AdaptedEntry:
        rows = self.handwriting.query("SELECT id, name, file, base_sha256, method, created FROM adapted"
                                     " WHERE id = ? AND owner = ?", (int(entry_id), self.handwriting.owner))
        if not rows:
            raise StoreError(f"no adapted model with id {entry_id}")
        return self._entry(rows[0])

    def rename(self, entry_id: int, name: str) -> None:
        self.handwriting.query("UPDATE adapted SET name = ? WHERE id = ? AND owner = ?",
                              (clean_name(name), int(entry_id), self.handwriting.owner))

    def delete(self, entry_id: int) -> None:
        """The entry, then its file: a failure between the two leaves a stray file, never an entry without one."""
        entry = self.get(entry_id)
        self.handwriting.query("DELETE FROM adapted WHERE id = ? AND owner = ?", (entry.id, self.handwriting.owner))
        try:
            entry.path.unlink(missing_ok=True)
        except OSError:
            pass  # the entry is gone; a file that cannot be removed is only disk space
