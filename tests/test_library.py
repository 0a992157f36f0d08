"""The handwriting library's SQLite store: saving, listing, renaming, deleting,
and what happens when the database is damaged, locked, shared or unwritable."""
from __future__ import annotations

import os
import sqlite3
import threading

import numpy as np
import pytest

import inkcore.library as library
from conftest import random_rows
from inkcore.library import (
    DATA_ENV,
    DATABASE_NAME,
    MAX_NAME_LENGTH,
    HandwritingStore,
    StoreError,
    data_folder,
)


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "data" / DATABASE_NAME


@pytest.fixture
def store(db_path):
    return HandwritingStore(db_path)


def corrupt_copies(path):
    return sorted(path.parent.glob(f"{path.name}.corrupt-*"))


def test_save_then_load_returns_the_same_rows_and_name(store, rng):
    rows = random_rows(rng, 57)
    entry_id = store.save("my signature", rows)
    example = store.load(entry_id)
    assert example.name == "my signature"
    assert example.key == f"mine:{entry_id}"
    assert example.source == "mine"
    assert example.rows.shape == rows.shape
    np.testing.assert_allclose(example.rows, rows, rtol=0, atol=1e-5)
    np.testing.assert_array_equal(example.rows[:, 2], rows[:, 2])


def test_save_leaves_its_rows_alone(store, rng):
    rows = random_rows(rng, 20)
    kept = rows.copy()
    store.save("kept", rows)
    assert np.array_equal(rows, kept)


def test_entries_list_the_newest_first_with_point_counts(store, rng):
    lengths = {"first": 5, "second": 12, "third": 31}
    ids = {name: store.save(name, random_rows(rng, n)) for name, n in lengths.items()}
    entries = store.entries()
    assert [e.name for e in entries] == ["third", "second", "first"]
    assert [e.id for e in entries] == [ids["third"], ids["second"], ids["first"]]
    assert [e.points for e in entries] == [31, 12, 5]
    assert len(set(ids.values())) == 3
    assert entries[0].created >= entries[1].created >= entries[2].created


def test_a_new_store_on_the_same_file_still_has_everything(db_path, rng):
    rows = random_rows(rng, 40)
    entry_id = HandwritingStore(db_path).save("before the restart", rows)
    restarted = HandwritingStore(db_path)
    assert [e.id for e in restarted.entries()] == [entry_id]
    assert restarted.notice is None
    np.testing.assert_allclose(restarted.load(entry_id).rows, rows, atol=1e-5)


def test_the_store_lives_in_the_data_folder_from_the_environment(tmp_path, monkeypatch, rng):
    monkeypatch.setenv(DATA_ENV, str(tmp_path / "from env"))
    assert data_folder() == tmp_path / "from env"
    store = HandwritingStore()
    assert store.path == tmp_path / "from env" / DATABASE_NAME
    entry_id = store.save("env", random_rows(rng, 9))
    assert store.path.exists()
    assert HandwritingStore(tmp_path / "from env" / DATABASE_NAME).load(entry_id).name == "env"


def test_without_inkcore_data_the_folder_follows_xdg(tmp_path, monkeypatch):
    monkeypatch.setenv(DATA_ENV, "")  # empty counts as unset
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert data_folder() == tmp_path / "xdg" / "inkcore"
    monkeypatch.delenv(DATA_ENV)
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert data_folder() == tmp_path / "home" / ".local" / "share" / "inkcore"


def test_rename_changes_the_name_and_tidies_whitespace(store, rng):
    entry_id = store.save("  old\tname ", random_rows(rng, 8))
    assert store.load(entry_id).name == "old name"
    store.rename(entry_id, "  a   new\n name  ")
    assert store.load(entry_id).name == "a new name"
    assert [e.name for e in store.entries()] == ["a new name"]


@pytest.mark.parametrize("empty", ["", "   ", "\t\n"])
def test_rename_refuses_an_empty_name(store, rng, empty):
    entry_id = store.save("keep me", random_rows(rng, 8))
    with pytest.raises(StoreError, match="name"):
        store.rename(entry_id, empty)
    assert store.load(entry_id).name == "keep me"


def test_long_names_are_cut(store, rng):
    entry_id = store.save("x" * (MAX_NAME_LENGTH + 50), random_rows(rng, 8))
    assert store.load(entry_id).name == "x" * MAX_NAME_LENGTH


def test_delete_removes_only_that_entry(store, rng):
    gone = store.save("gone", random_rows(rng, 8))
    kept = store.save("kept", random_rows(rng, 8))
    store.delete(gone)
    assert [e.id for e in store.entries()] == [kept]
    with pytest.raises(StoreError, match=f"no saved handwriting with id {gone}"):
        store.load(gone)
    assert store.load(kept).name == "kept"


def test_saving_nothing_fails_and_writes_nothing(store):
    with pytest.raises(StoreError, match="nothing to save"):
        store.save("empty", np.zeros((0, 3)))
    assert store.entries() == []


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_saving_rows_with_nan_fails_and_writes_nothing(store, rng, bad):
    rows = random_rows(rng, 10)
    rows[4, 1] = bad
    with pytest.raises(ValueError, match="NaN or infinite"):
        store.save("broken", rows)
    assert store.entries() == []


def test_saving_with_an_empty_name_writes_nothing(store, rng):
    with pytest.raises(StoreError, match="name"):
        store.save("   ", random_rows(rng, 10))
    assert store.entries() == []


def test_a_corrupt_database_is_moved_aside_and_a_new_one_started(db_path, rng):
    db_path.parent.mkdir(parents=True)
    garbage = np.random.default_rng(3).bytes(8192)
    db_path.write_bytes(garbage)
    store = HandwritingStore(db_path)
    assert store.notice is not None and "moved" in store.notice
    moved = corrupt_copies(db_path)
    assert len(moved) == 1
    assert str(moved[0]) in store.notice
    assert moved[0].read_bytes() == garbage  # never deleted, never changed
    assert store.entries() == []
    entry_id = store.save("fresh", random_rows(rng, 6))
    assert store.load(entry_id).name == "fresh"
    assert HandwritingStore(db_path).notice is None


def test_a_second_corruption_keeps_both_damaged_files(db_path):
    db_path.parent.mkdir(parents=True)
    first, second = b"first damaged file" * 100, b"second damaged file" * 100
    db_path.write_bytes(first)
    HandwritingStore(db_path)
    db_path.write_bytes(second)  # within the same second, as often as not
    HandwritingStore(db_path)
    assert sorted(p.read_bytes() for p in corrupt_copies(db_path)) == sorted([first, second])


def test_a_database_locked_by_another_program_makes_save_fail_clearly(store, monkeypatch, rng):
    monkeypatch.setattr(library, "LOCK_TIMEOUT", 0.2)
    kept = store.save("before the lock", random_rows(rng, 5))
    holder = sqlite3.connect(store.path, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        with pytest.raises(StoreError, match=r"busy \(locked by another program\); try again"):
            store.save("during the lock", random_rows(rng, 5))
        with pytest.raises(StoreError, match="busy"):
            store.entries()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert [e.id for e in store.entries()] == [kept]
    store.save("after the lock", random_rows(rng, 5))
    assert len(store.entries()) == 2


def test_a_locked_database_is_not_mistaken_for_a_damaged_one(db_path, monkeypatch, rng):
    monkeypatch.setattr(library, "LOCK_TIMEOUT", 0.2)
    entry_id = HandwritingStore(db_path).save("precious", random_rows(rng, 5))
    holder = sqlite3.connect(db_path, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        with pytest.raises(StoreError, match="locked"):
            HandwritingStore(db_path)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert corrupt_copies(db_path) == []
    assert HandwritingStore(db_path).load(entry_id).name == "precious"


def test_concurrent_saves_from_many_stores_lose_nothing(db_path):
    HandwritingStore(db_path)
    threads_count, saves = 8, 10
    saved: dict[int, list[tuple[int, np.ndarray]]] = {}
    errors: list[BaseException] = []

    def writer(index: int) -> None:
        try:
            own = HandwritingStore(db_path)
            rng = np.random.default_rng(100 + index)
            saved[index] = [
                (own.save("same name", rows), rows) for rows in (random_rows(rng, 5 + k) for k in range(saves))
            ]
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    store = HandwritingStore(db_path)
    assert len(store.entries()) == threads_count * saves
    ids = [entry_id for results in saved.values() for entry_id, _ in results]
    assert len(set(ids)) == threads_count * saves  # every save got its own id back
    for results in saved.values():
        for entry_id, rows in results:  # ... and that id holds what that save wrote
            np.testing.assert_allclose(store.load(entry_id).rows, rows, atol=1e-5)


@pytest.fixture
def unwritable(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root ignores file permissions")
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o500)
    yield folder
    folder.chmod(0o700)


def test_a_data_folder_that_cannot_be_created_gives_a_clear_error(unwritable):
    with pytest.raises(StoreError, match="cannot create the data folder"):
        HandwritingStore(unwritable / "inkcore" / DATABASE_NAME)


def test_a_data_folder_that_cannot_be_written_gives_a_clear_error(unwritable):
    with pytest.raises(StoreError, match="not writable") as raised:
        HandwritingStore(unwritable / DATABASE_NAME)
    assert str(unwritable) in str(raised.value)
    assert "damaged" not in str(raised.value)


def test_a_database_that_cannot_be_opened_is_not_moved_aside(tmp_path):
    """Only a damaged file is moved aside; one SQLite cannot open (here a folder
    where the file should be) is reported and left where it is."""
    in_the_way = tmp_path / DATABASE_NAME
    in_the_way.mkdir()
    with pytest.raises(StoreError, match="cannot open") as raised:
        HandwritingStore(in_the_way)
    assert "damaged" not in str(raised.value)
    assert in_the_way.is_dir()
    assert corrupt_copies(in_the_way) == []


# --- Owners -----------------------------------------------------------------------------


def test_an_owner_sees_renames_and_deletes_only_its_own_entries(store, rng):
    alice, bob = store.for_owner("user:alice@example.com"), store.for_owner("session:0f3a")
    shared = store.save("everyone's", random_rows(rng, 20))
    mine = alice.save("alice's", random_rows(rng, 20))
    theirs = bob.save("bob's", random_rows(rng, 20))
    assert [e.name for e in store.entries()] == ["everyone's"]
    assert [e.name for e in alice.entries()] == ["alice's"] and [e.name for e in bob.entries()] == ["bob's"]
    for other, entry in ((bob, mine), (alice, theirs), (store, mine), (alice, shared)):
        with pytest.raises(StoreError, match="no saved handwriting"):
            other.load(entry)
        other.rename(entry, "taken over")
        other.delete(entry)
    assert alice.load(mine).name == "alice's" and bob.load(theirs).name == "bob's"
    assert store.load(shared).name == "everyone's"
    alice.delete(mine)
    assert alice.entries() == [] and [e.name for e in bob.entries()] == ["bob's"]


def test_a_database_from_before_owners_keeps_its_entries_as_everyones(db_path, rng):
    db_path.parent.mkdir(parents=True)
    with sqlite3.connect(db_path) as db:
        db.execute("CREATE TABLE handwriting (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL,"
                   " rows TEXT NOT NULL, points INTEGER NOT NULL, created REAL NOT NULL)")
        db.execute("INSERT INTO handwriting (name, rows, points, created) VALUES (?, ?, ?, ?)",
                   ("old line", "[[0.5, 0.1, 0], [0.4, 0.2, 1]]", 2, 1.0))
    db.close()
    store = HandwritingStore(db_path)
    assert [e.name for e in store.entries()] == ["old line"]
    assert store.for_owner("user:someone").entries() == []
    HandwritingStore(db_path)  # opened again: the column is there already
