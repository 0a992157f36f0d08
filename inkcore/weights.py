"""Weight files: inkcore's own ``.npz`` format and the article's 8-bit JSON format.

inkcore's format is an ``.npz`` of the named arrays of :class:`inkcore.model.Model`
plus ``metadata``, a 0-d string array holding JSON: ``config`` (the model's
:class:`~inkcore.model.Config`), ``format`` and ``format_version``, and free
fields such as ``provenance`` and ``metrics``. Files are read with
``allow_pickle=False`` and validated before use.

The article's format (``b64_weights.json``) is a JSON list of five entries:
output weights (one base64 string per cell), output bias, input-to-hidden
weights (one string per input), hidden-to-hidden weights (one string per cell)
and the LSTM bias. Each byte ``b`` encodes ``(b - 127) / 127 * scale`` with a
per-tensor scale that the file does not carry (:data:`ARTICLE_SCALES`).
"""
from __future__ import annotations

import base64
import binascii
import io
import json
import os
import site
import sysconfig
import zipfile
import zlib
from pathlib import Path

import numpy as np

from inkcore.model import ARRAY_NAMES, Config, Model, expected_shapes, make_model

FORMAT_NAME = "inkcore-weights"
FORMAT_VERSION = 1

#: Order of the tensors in the article's file, our name for each, and its scale.
ARTICLE_TENSORS = (("W_out", 1.5), ("b_out", 2.5), ("W_x", 2.0), ("W_h", 0.8), ("b", 1.5))
ARTICLE_SCALES = dict(ARTICLE_TENSORS)
ARTICLE_ZERO_BYTE = 127

#: Larger JSON files are refused before parsing (the article's is 1.4 MB).
MAX_JSON_BYTES = 64 * 1024 * 1024


#: inkcore's own trained model, its model card and samples.png: ``weights/`` in a
#: source checkout; an installed package has them in ``<prefix>/share/inkcore/``
#: (pyproject.toml's data-files), ``<prefix>`` being the environment's or the user's.
SHIPPED_NAME = "inkcore.npz"
CHECKOUT_FOLDER = Path(__file__).resolve().parent.parent / "weights"
INSTALLED_FOLDER = Path("share") / "inkcore"


class WeightsError(ValueError):
    """A weights file that cannot be used; the message names the file and the fault."""


def shipped_weights() -> Path:
    """Where the shipped model lies: the source checkout's ``weights/inkcore.npz`` (a
    checkout or an editable install), else the installed copy; the checkout's path
    when there is neither, so that a message can name where it was expected."""
    installed = [Path(sysconfig.get_path("data")) / INSTALLED_FOLDER, Path(site.getuserbase()) / INSTALLED_FOLDER]
    for folder in (CHECKOUT_FOLDER, *installed):
        if (folder / SHIPPED_NAME).is_file():
            return folder / SHIPPED_NAME
    return CHECKOUT_FOLDER / SHIPPED_NAME


def load(path: str | os.PathLike, dtype=np.float32) -> tuple[Model, dict]:
    """Load either format, chosen by content, and return the model and its metadata."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            head = handle.read(4)
    except FileNotFoundError:
        raise WeightsError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise WeightsError(f"{path}: is a folder, not a weights file") from None
    except OSError as error:
        raise WeightsError(f"{path}: cannot be read ({error.strerror})") from None
    if head.startswith(b"PK"):
        return load_npz(path, dtype)
    if head.lstrip()[:1] == b"[":
        return load_article(path, dtype)
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:  # a pickle's protocol marker
        raise WeightsError(f"{path}: a Python pickle, which inkcore never loads (it can run any code); "
                           "use an inkcore .npz or the article's b64_weights.json")
    if not head:
        raise WeightsError(f"{path}: an empty file, not a weights file")
    raise WeightsError(f"{path}: neither an inkcore .npz nor the article's b64_weights.json")


def load_npz(path: str | os.PathLike, dtype=np.float32) -> tuple[Model, dict]:
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            names = set(archive.files)
            arrays = {name: archive[name] for name in names}
    except ValueError as error:
        if "allow_pickle" in str(error) or "pickle" in str(error).lower():
            raise WeightsError(f"{path}: contains pickled objects, which inkcore never loads") from None
        raise WeightsError(f"{path}: not a readable .npz file ({error})") from None
    except (OSError, zipfile.BadZipFile, EOFError, zlib.error) as error:
        raise WeightsError(f"{path}: damaged or truncated .npz file ({error})") from None
    if "metadata" not in arrays:
        raise WeightsError(f"{path}: no 'metadata' entry; not an inkcore weights file")
    try:
        metadata = json.loads(str(arrays["metadata"][()]))
        config = Config.from_dict(metadata["config"])
    except (json.JSONDecodeError, KeyError, TypeError, ValueError, RecursionError) as error:
        raise WeightsError(f"{path}: metadata is not valid inkcore JSON ({error})") from None
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT_NAME:
        raise WeightsError(f"{path}: metadata does not say format '{FORMAT_NAME}'")
    version = metadata.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= FORMAT_VERSION:
        raise WeightsError(f"{path}: format version {version!r}, but this inkcore reads versions 1 to "
                           f"{FORMAT_VERSION}: a newer inkcore wrote it, or it is damaged")
    missing = [name for name in ARRAY_NAMES if name not in names]
    if missing:
        raise WeightsError(f"{path}: missing arrays {', '.join(missing)}")
    return _validated(path, config, arrays, dtype), metadata


def _validated(path: Path, config: Config, arrays: dict, dtype) -> Model:
    # A config read from JSON can hold anything; a size of 3.0 would pass the
    # shape checks below and only fail later, when the output is split.
    for field in ("input_size", "cells", "components"):
        value = getattr(config, field)
        if type(value) is not int or value < 1:
            raise WeightsError(f"{path}: config {field} is {value!r}, expected a positive whole number")
    bias = config.forget_bias
    if type(bias) not in (int, float) or not np.isfinite(bias):
        raise WeightsError(f"{path}: config forget_bias is {bias!r}, expected a number")
    if config.gate_order != "igfo":
        raise WeightsError(f"{path}: gate order '{config.gate_order}' is not supported (expected 'igfo')")
    for name, shape in expected_shapes(config).items():
        array = arrays[name]
        if array.shape != shape:
            raise WeightsError(f"{path}: {name} has shape {array.shape}, expected {shape}")
        if array.dtype.kind != "f":
            raise WeightsError(f"{path}: {name} has dtype {array.dtype}, expected floating point")
        if not np.isfinite(array).all():
            raise WeightsError(f"{path}: {name} contains NaN or infinite values")
    return make_model(config, **{name: arrays[name].astype(dtype) for name in ARRAY_NAMES})


def save_npz(path: str | os.PathLike, model: Model, **metadata) -> Path:
    """Write ``model`` atomically with JSON ``metadata`` (provenance, metrics, ...)."""
    path = Path(path)
    record = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION, "config": model.config.to_dict()}
    record.update(metadata)
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        metadata=np.array(json.dumps(record, indent=1)),
        **{name: np.asarray(getattr(model, name), np.float32) for name in ARRAY_NAMES},
    )
    _write_atomically(path, buffer.getvalue())
    return path


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    try:
        with partial.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def _decode_tensor(path: Path, name: str, entry, rows: int | None, width: int) -> np.ndarray:
    strings = [entry] if rows is None else entry
    if not isinstance(strings, list) or (rows is not None and len(strings) != rows):
        raise WeightsError(f"{path}: {name} should be a list of {rows} base64 strings")
    try:
        raw = [np.frombuffer(base64.b64decode(s, validate=True), np.uint8) for s in strings]
    except (binascii.Error, TypeError, ValueError):
        raise WeightsError(f"{path}: {name} is not valid base64") from None
    if any(len(r) != width for r in raw):
        raise WeightsError(f"{path}: {name} rows should hold {width} bytes each")
    array = np.stack(raw).astype(np.float64)
    values = (array - ARTICLE_ZERO_BYTE) / ARTICLE_ZERO_BYTE * ARTICLE_SCALES[name]
    return values[0] if rows is None else values


def load_article(path: str | os.PathLike, dtype=np.float32) -> tuple[Model, dict]:
    """Import the article's 8-bit ``b64_weights.json`` (500 cells, 20 components)."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_JSON_BYTES:
            raise WeightsError(f"{path}: larger than {MAX_JSON_BYTES // 2**20} MB; not a weights file")
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as error:
        raise WeightsError(f"{path}: not valid JSON ({type(error).__name__})") from None
    except OSError as error:
        raise WeightsError(f"{path}: cannot be read ({error.strerror})") from None
    if not isinstance(entries, list) or len(entries) != len(ARTICLE_TENSORS):
        raise WeightsError(f"{path}: expected a JSON list of {len(ARTICLE_TENSORS)} tensors")
    config = Config()
    shapes = expected_shapes(config)
    arrays = {}
    for (name, _), entry in zip(ARTICLE_TENSORS, entries):
        shape = shapes[name]
        rows = shape[0] if len(shape) == 2 else None
        arrays[name] = _decode_tensor(path, name, entry, rows, shape[-1])
    metadata = {
        "format": "article-b64",
        "config": config.to_dict(),
        "provenance": {
            "source": "Carter, Ha, Johnson, Olah (2016), Experiments in Handwriting with a Neural Network",
            "file": path.name,
            "quantization": "8-bit, per-tensor scales " + json.dumps(ARTICLE_SCALES),
        },
    }
    return _validated(path, config, arrays, dtype), metadata


def _codes(values: np.ndarray, scale: float) -> np.ndarray:
    """Values as the article's byte codes, before saturation: outside 0..255 beyond +-scale."""
    return np.rint(np.asarray(values, np.float64) / scale * ARTICLE_ZERO_BYTE) + ARTICLE_ZERO_BYTE


def quantize(values: np.ndarray, scale: float) -> np.ndarray:
    """Values to the article's bytes; values beyond +-scale saturate."""
    return np.clip(_codes(values, scale), 0, 255).astype(np.uint8)


def beyond_article_scales(model: Model) -> dict[str, int]:
    """How many values of each tensor the article's 8-bit format cannot hold: its
    scales are fixed, so values beyond them would saturate (see :func:`quantize`)."""
    counts = {}
    for name, scale in ARTICLE_TENSORS:
        codes = _codes(getattr(model, name), scale)
        counts[name] = int(np.count_nonzero((codes < 0) | (codes > 255)))
    return counts


def save_article(path: str | os.PathLike, model: Model, clip: bool = False) -> Path:
    """Export any 500-cell, 20-component model to the article's 8-bit format.

    A model with values beyond the format's fixed scales is refused unless
    ``clip``: saturated weights make a different model (inkcore's own, clipped,
    scores 0.21 nats per point worse on the article's lines)."""
    path = Path(path)
    if model.config.to_dict() | {"units": ""} != Config().to_dict() | {"units": ""}:
        raise WeightsError(f"{path}: the article's format holds only the article's shapes and conventions")
    beyond = {name: count for name, count in beyond_article_scales(model).items() if count}
    if beyond and not clip:
        listed = ", ".join(f"{name} {count}" for name, count in beyond.items())
        raise WeightsError(f"{path}: {sum(beyond.values())} weights lie beyond the 8-bit format's fixed scales "
                           f"({listed}) and would be clipped, changing the model; export with clipping "
                           "allowed (--clip) to write it anyway")
    entries = []
    for name, scale in ARTICLE_TENSORS:
        codes = quantize(getattr(model, name), scale)
        encode = lambda row: base64.b64encode(row.tobytes()).decode("ascii")  # noqa: E731
        entries.append(encode(codes) if codes.ndim == 1 else [encode(row) for row in codes])
    _write_atomically(path, json.dumps(entries).encode("ascii"))
    return path


def float32_bytes(model: Model) -> bytes:
    """The model's arrays as little-endian float32, back to back in the order of
    ``ARRAY_NAMES`` (W_x, W_h, b, W_out, b_out), each row-major: what a page's own
    copy of the model is built from."""
    return b"".join(np.ascontiguousarray(getattr(model, name), dtype="<f4").tobytes() for name in ARRAY_NAMES)

