"""Weight files: inkcore's .npz, the article's 8-bit JSON, and every way a file can be bad."""
from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest

from conftest import ARTICLE_WEIGHTS, SMALL_CONFIG, random_model, require_shared
from inkcore.model import ARRAY_NAMES, Config, make_model
from inkcore.weights import (
    ARTICLE_SCALES,
    FORMAT_NAME,
    WeightsError,
    load,
    load_article,
    load_npz,
    quantize,
    save_article,
    save_npz,
)

#: The article's file, entry by entry: our tensor name, strings in the entry
#: (None: a single string), bytes per string, and the scale the article's code uses.
ARTICLE_LAYOUT = (
    ("W_out", 500, 121, 1.5),
    ("b_out", None, 121, 2.5),
    ("W_x", 3, 2000, 2.0),
    ("W_h", 500, 2000, 0.8),
    ("b", None, 2000, 1.5),
)


def synthetic_article_file(path: Path, seed: int = 0) -> dict[str, np.ndarray]:
    """Write random bytes in the article's format; return the bytes of each tensor."""
    rng = np.random.default_rng(seed)
    entries, codes = [], {}
    for name, rows, width, _ in ARTICLE_LAYOUT:
        tensor = rng.integers(0, 256, (rows or 1, width), dtype=np.uint8)
        strings = [base64.b64encode(row.tobytes()).decode("ascii") for row in tensor]
        entries.append(strings if rows else strings[0])
        codes[name] = tensor if rows else tensor[0]
    path.write_text(json.dumps(entries))
    return codes


def decoded_bytes(path: Path) -> list[np.ndarray]:
    entries = json.loads(path.read_text())
    out = []
    for entry in entries:
        strings = entry if isinstance(entry, list) else [entry]
        out.append(np.stack([np.frombuffer(base64.b64decode(s), np.uint8) for s in strings]))
    return out


# --- inkcore's own format --------------------------------------------------------


def test_npz_round_trip(tmp_path):
    model = random_model(SMALL_CONFIG, seed=7)
    path = save_npz(tmp_path / "small.npz", model, provenance={"trained_by": "a test"}, metrics={"nll": -1.5})
    loaded, metadata = load(path)
    assert loaded.config == SMALL_CONFIG
    for name in ARRAY_NAMES:
        assert np.array_equal(getattr(loaded, name), getattr(model, name))
        assert getattr(loaded, name).dtype == np.float32
    assert metadata["provenance"] == {"trained_by": "a test"}
    assert metadata["metrics"] == {"nll": -1.5}
    assert metadata["format"] == FORMAT_NAME
    assert Config.from_dict(metadata["config"]) == SMALL_CONFIG
    assert not list(tmp_path.glob("*.partial"))  # the atomic write leaves nothing behind


def test_npz_load_as_float64(tmp_path):
    model = random_model(SMALL_CONFIG, seed=7)
    loaded, _ = load(save_npz(tmp_path / "small.npz", model), dtype=np.float64)
    assert loaded.dtype == np.float64
    np.testing.assert_array_equal(loaded.W_h, model.W_h.astype(np.float64))


def test_config_keeps_non_default_conventions(tmp_path):
    config = Config(cells=8, components=2, forget_bias=0.5)
    loaded, _ = load(save_npz(tmp_path / "m.npz", random_model(config)))
    assert loaded.config == config


# --- the article's format --------------------------------------------------------


def test_article_decoding_of_every_byte(tmp_path):
    path = tmp_path / "b64_weights.json"
    codes = synthetic_article_file(path)
    model, metadata = load(path, dtype=np.float64)
    assert model.config == Config()
    for name, rows, width, scale in ARTICLE_LAYOUT:
        array = getattr(model, name)
        assert array.shape == ((rows, width) if rows else (width,))
        expected = (codes[name].astype(np.float64) - 127.0) / 127.0 * scale
        np.testing.assert_array_equal(array, expected)
    assert ARTICLE_SCALES == {name: scale for name, _, _, scale in ARTICLE_LAYOUT}
    assert metadata["format"] == "article-b64" and metadata["provenance"]["file"] == path.name


def test_article_known_values(tmp_path):
    """Byte 127 is zero, 254 is +scale, 0 is -scale: checked on hand-picked bytes."""
    path = tmp_path / "b64_weights.json"
    codes = synthetic_article_file(path)
    entries = json.loads(path.read_text())
    first = bytearray(codes["b_out"].tobytes())
    first[0:3] = bytes([127, 254, 0])
    entries[1] = base64.b64encode(bytes(first)).decode("ascii")
    path.write_text(json.dumps(entries))
    model, _ = load_article(path, dtype=np.float64)
    assert model.b_out[0] == 0.0
    assert model.b_out[1] == pytest.approx(2.5, abs=1e-15)
    assert model.b_out[2] == pytest.approx(-2.5, abs=1e-15)


def test_article_reexport_gives_the_same_bytes(tmp_path):
    path = tmp_path / "b64_weights.json"
    synthetic_article_file(path, seed=3)
    model, _ = load(path)  # float32, as the app holds it
    out = save_article(tmp_path / "again.json", model)
    for before, after in zip(decoded_bytes(path), decoded_bytes(out)):
        assert np.array_equal(before, after)


def test_the_article_file_reexports_to_the_same_bytes(tmp_path, article_model):
    out = save_article(tmp_path / "again.json", article_model)
    for before, after in zip(decoded_bytes(ARTICLE_WEIGHTS), decoded_bytes(out)):
        assert np.array_equal(before, after)


def test_the_article_file_has_the_article_shapes(article_model):
    assert article_model.config == Config()
    for name, rows, width, _ in ARTICLE_LAYOUT:
        assert getattr(article_model, name).shape == ((rows, width) if rows else (width,))
    assert article_model.dtype == np.float32


def test_export_to_8_bits_and_back_is_within_half_a_step(tmp_path):
    rng = np.random.default_rng(5)
    arrays = {}
    for name, rows, width, scale in ARTICLE_LAYOUT:
        shape = (rows, width) if rows else (width,)
        arrays[name] = rng.uniform(-scale, scale, shape)
    model = make_model(Config(), **arrays)
    back, _ = load(save_article(tmp_path / "export.json", model), dtype=np.float64)
    for name, _, _, scale in ARTICLE_LAYOUT:
        error = np.abs(getattr(back, name) - arrays[name]).max()
        assert error <= scale / 127 / 2 * (1 + 1e-9), name
        assert error > scale / 127 / 10, name  # 8 bits really lose something: the check is not vacuous


def test_quantize_saturates_beyond_the_scale():
    codes = quantize(np.array([-10.0, -1.0, 0.0, 1.0, 10.0]), 1.0)
    np.testing.assert_array_equal(codes, [0, 0, 127, 254, 255])
    assert codes.dtype == np.uint8


def test_the_article_format_holds_only_the_article_shapes(tmp_path):
    with pytest.raises(WeightsError, match="small.json"):
        save_article(tmp_path / "small.json", random_model(SMALL_CONFIG))


# --- bad files -------------------------------------------------------------------


def small_arrays() -> dict[str, np.ndarray]:
    model = random_model(SMALL_CONFIG, seed=2)
    return {name: np.array(getattr(model, name)) for name in ARRAY_NAMES}


def good_metadata(**changes) -> str:
    record = {"format": FORMAT_NAME, "format_version": 1, "config": SMALL_CONFIG.to_dict()}
    record.update(changes)
    return json.dumps(record)


def crafted_npz(path: Path, drop=(), metadata: str | None = None, **replace) -> None:
    """An .npz written by NumPy directly, not by inkcore, so it can hold anything."""
    arrays = small_arrays()
    arrays.update(replace)
    arrays["metadata"] = np.array(good_metadata() if metadata is None else metadata)
    for name in drop:
        arrays.pop(name)
    np.savez(path, **arrays)


def good_npz_bytes(tmp_path: Path) -> bytes:
    return save_npz(tmp_path / "good.npz", random_model(SMALL_CONFIG)).read_bytes()


def truncated_npz(p):
    p.write_bytes(good_npz_bytes(p.parent)[:-200])


def damage(p, fraction: float, filler: bytes):
    data = bytearray(good_npz_bytes(p.parent))
    at = int(len(data) * fraction)
    data[at : at + len(filler)] = filler
    p.write_bytes(bytes(data))


def damaged_compressed_data(p):
    damage(p, 0.4, b"\xff" * 8)  # the deflate stream itself breaks (zlib.error)


def damaged_checksum(p):
    damage(p, 0.6, b"\xff" * 8)  # the stream decodes, to the wrong bytes


def wrong_shape(p):
    crafted_npz(p, W_h=np.zeros((16, 60), np.float32))


def nan_inside(p):
    arrays = small_arrays()
    arrays["W_out"][3, 4] = np.nan
    crafted_npz(p, W_out=arrays["W_out"])


def infinite_inside(p):
    crafted_npz(p, b=np.full(64, np.inf, np.float32))


def integer_dtype(p):
    crafted_npz(p, W_x=np.zeros((3, 64), np.int32))


def missing_array(p):
    crafted_npz(p, drop=("b_out",))


def missing_metadata(p):
    crafted_npz(p, drop=("metadata",))


def malformed_metadata(p):
    crafted_npz(p, metadata='{"format": "inkcore-weights", "config": {')


def metadata_not_an_object(p):
    crafted_npz(p, metadata="[1, 2, 3]")


def metadata_without_config(p):
    crafted_npz(p, metadata=json.dumps({"format": FORMAT_NAME, "format_version": 1}))


def metadata_of_another_format(p):
    crafted_npz(p, metadata=good_metadata(format="something-else"))


def metadata_of_a_newer_version(p):
    crafted_npz(p, metadata=good_metadata(format_version=99))


def metadata_without_a_version(p):
    record = json.loads(good_metadata())
    del record["format_version"]
    crafted_npz(p, metadata=json.dumps(record))


def metadata_with_text_for_a_size(p):
    crafted_npz(p, metadata=good_metadata(config={**SMALL_CONFIG.to_dict(), "cells": "sixteen"}))


def metadata_with_a_fractional_size(p):
    config = {**SMALL_CONFIG.to_dict(), "components": 3.0}
    crafted_npz(p, metadata=good_metadata(config=config))


def metadata_with_a_negative_size(p):
    crafted_npz(p, metadata=good_metadata(config={**SMALL_CONFIG.to_dict(), "cells": -16}))


def metadata_with_another_gate_order(p):
    crafted_npz(p, metadata=good_metadata(config={**SMALL_CONFIG.to_dict(), "gate_order": "ifgo"}))


def metadata_deeply_nested(p):
    crafted_npz(p, metadata="[" * 100_000)


def metadata_as_numbers(p):
    arrays = small_arrays()
    np.savez(p, metadata=np.arange(3), **arrays)


def object_array_in_npz(p):
    arrays = small_arrays()
    np.savez(p, metadata=np.array(good_metadata()), **{**arrays, "W_h": arrays["W_h"].astype(object)})


def pickle_renamed_to_npz(p):
    # a complete pickle stream (protocol 2, an empty dict) written out byte by byte: no pickle module
    p.write_bytes(b"\x80\x02}q\x00.")


def zip_without_arrays(p):
    import zipfile

    with zipfile.ZipFile(p, "w") as archive:
        archive.writestr("metadata.npy", "not an array at all")


def empty_file(p):
    p.write_bytes(b"")


def a_directory(p):
    p.mkdir()


def nonexistent(p):
    pass


def random_binary(p):
    p.write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())


def article_malformed_json(p):
    p.write_text('[["AAAA", "AAAA"], "AAAA"')


def article_wrong_length(p):
    p.write_text(json.dumps(["AAAA", "AAAA", "AAAA"]))


def article_objects_for_tensors(p):
    p.write_text(json.dumps([{}] * 5))


def article_an_object(p):
    p.write_text(json.dumps({"output_w": [], "output_b": ""}))


def article_bad_base64(p):
    synthetic_article_file(p)
    entries = json.loads(p.read_text())
    entries[1] = "@@@@" + entries[1][4:]
    p.write_text(json.dumps(entries))


def article_short_row(p):
    synthetic_article_file(p)
    entries = json.loads(p.read_text())
    entries[3][7] = base64.b64encode(bytes(1999)).decode("ascii")
    p.write_text(json.dumps(entries))


def article_missing_row(p):
    synthetic_article_file(p)
    entries = json.loads(p.read_text())
    entries[0] = entries[0][:-1]
    p.write_text(json.dumps(entries))


def article_numbers_for_strings(p):
    synthetic_article_file(p)
    entries = json.loads(p.read_text())
    entries[4] = 12
    p.write_text(json.dumps(entries))


def article_deeply_nested(p):
    p.write_text("[" * 100_000)


def article_not_utf8(p):
    p.write_bytes(b"[\xff\xfe\xfd]")


BAD_FILES = [
    truncated_npz,
    damaged_compressed_data,
    damaged_checksum,
    wrong_shape,
    nan_inside,
    infinite_inside,
    integer_dtype,
    missing_array,
    missing_metadata,
    malformed_metadata,
    metadata_not_an_object,
    metadata_without_config,
    metadata_of_another_format,
    metadata_of_a_newer_version,
    metadata_without_a_version,
    metadata_with_text_for_a_size,
    metadata_with_a_fractional_size,
    metadata_with_a_negative_size,
    metadata_with_another_gate_order,
    metadata_deeply_nested,
    metadata_as_numbers,
    object_array_in_npz,
    pickle_renamed_to_npz,
    zip_without_arrays,
    empty_file,
    a_directory,
    nonexistent,
    random_binary,
    article_malformed_json,
    article_wrong_length,
    article_objects_for_tensors,
    article_an_object,
    article_bad_base64,
    article_short_row,
    article_missing_row,
    article_numbers_for_strings,
    article_deeply_nested,
    article_not_utf8,
]


@pytest.mark.parametrize("make_bad_file", BAD_FILES, ids=lambda f: f.__name__)
def test_a_bad_file_fails_with_a_message_naming_it(tmp_path, make_bad_file):
    suffix = ".json" if make_bad_file.__name__.startswith("article") else ".npz"
    path = tmp_path / f"bad-{make_bad_file.__name__}{suffix}"
    make_bad_file(path)
    with pytest.raises(WeightsError) as failure:
        load(path)
    message = str(failure.value)
    assert path.name in message
    assert "\n" not in message


def test_the_npz_loader_refuses_pickles_by_itself(tmp_path):
    """Called directly, not through load()'s sniffing of the first bytes."""
    path = tmp_path / "pickled.npz"
    pickle_renamed_to_npz(path)
    with pytest.raises(WeightsError, match="pickled.npz"):
        load_npz(path)
    object_array_in_npz(path)
    with pytest.raises(WeightsError, match="pickle"):
        load_npz(path)


def test_the_shipped_model_is_found_in_a_checkout_and_in_an_installed_package(tmp_path, monkeypatch):
    import sysconfig

    import inkcore.weights as weights

    checkout = tmp_path / "checkout" / "weights"
    checkout.mkdir(parents=True)
    (checkout / "inkcore.npz").write_bytes(b"PK")
    monkeypatch.setattr(weights, "CHECKOUT_FOLDER", checkout)
    assert weights.shipped_weights() == checkout / "inkcore.npz"  # a checkout, or an editable install

    prefix = tmp_path / "environment"
    (prefix / "share" / "inkcore").mkdir(parents=True)
    (prefix / "share" / "inkcore" / "inkcore.npz").write_bytes(b"PK")
    monkeypatch.setattr(weights.site, "getuserbase", lambda: str(tmp_path / "user"))
    real_get_path = sysconfig.get_path
    monkeypatch.setattr(sysconfig, "get_path", lambda name, *a, **k: str(prefix) if name == "data"
                        else real_get_path(name, *a, **k))
    (checkout / "inkcore.npz").unlink()
    assert weights.shipped_weights() == prefix / "share" / "inkcore" / "inkcore.npz"  # pip install .
    (prefix / "share" / "inkcore" / "inkcore.npz").unlink()
    assert weights.shipped_weights() == checkout / "inkcore.npz"  # neither: the path a message names
