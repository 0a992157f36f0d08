"""inkcore.adapted_store: adapted models kept per owner, beside the handwriting database."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import SMALL_CONFIG, random_model
from inkcore.adapted_store import AdaptedModels
from inkcore.library import HandwritingStore, StoreError
from inkcore.weights import load


@pytest.fixture
def stores(tmp_path):
    shared = HandwritingStore(tmp_path / "handwriting.sqlite3")
    return AdaptedModels(shared.for_owner("session:a")), AdaptedModels(shared.for_owner("session:b"))


METADATA = {"adaptation": {"base": {"sha256": "ab" * 32}, "method": "lora"}, "name": "inkcore’s model, adapted to me"}


def test_a_saved_model_loads_and_is_its_owners_alone(stores):
    mine, theirs = stores
    model = random_model(SMALL_CONFIG, seed=1)
    entry_id = mine.save("  my   hand ", model, METADATA)
    (entry,) = mine.entries()
    assert entry.id == entry_id and entry.name == "my hand" and entry.method == "lora"
    assert entry.base_sha256 == "ab" * 32
    loaded, metadata = load(entry.path)
    np.testing.assert_array_equal(loaded.W_h, model.W_h)
    assert metadata["adaptation"]["method"] == "lora"
    assert theirs.entries() == []
    with pytest.raises(StoreError, match="no adapted model"):
        theirs.get(entry_id)
    with pytest.raises(StoreError):
        theirs.delete(entry_id)
    assert entry.path.exists()


def test_rename_and_delete_remove_the_entry_and_its_file(stores):
    mine, _ = stores
    entry_id = mine.save("first", random_model(SMALL_CONFIG, seed=2), METADATA)
    mine.rename(entry_id, "renamed")
    entry = mine.get(entry_id)
    assert entry.name == "renamed"
    mine.delete(entry_id)
    assert mine.entries() == [] and not entry.path.exists()


def test_a_model_that_cannot_be_written_leaves_no_entry(stores, monkeypatch):
    mine, _ = stores
    import inkcore.adapted_store as adapted_store

    def refuse(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(adapted_store, "save_npz", refuse)
    with pytest.raises(StoreError, match="No space left"):
        mine.save("full disk", random_model(SMALL_CONFIG, seed=3), METADATA)
    assert mine.entries() == []


def test_the_models_outlive_the_store_object(tmp_path):
    model = random_model(SMALL_CONFIG, seed=4)
    first = AdaptedModels(HandwritingStore(tmp_path / "h.sqlite3").for_owner("user:x"))
    entry_id = first.save("kept", model, METADATA)
    again = AdaptedModels(HandwritingStore(tmp_path / "h.sqlite3").for_owner("user:x"))
    assert [e.id for e in again.entries()] == [entry_id] and again.get(entry_id).path.exists()
