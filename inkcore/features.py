"""Features: a sparse dictionary of the model's state.

A dictionary (a sparse autoencoder, trained by :mod:`inkcore.features_train`)
describes each state ``x`` (S = 500 values of ``c`` or ``h``) as a few active
features out of F, each a direction in the state (a row of ``W_dec``). The
article looks at cells one by one and at groups of them ordered by t-SNE; a
feature is a group the data chose.

The file is one ``.npz`` of named arrays (loaded with ``allow_pickle=False``):

* ``W_enc (S, F)``, ``b_enc (F,)``, ``W_dec (F, S)``, ``b_dec (S,)``, float32 or float16;
* ``scale (S,)``, optional (ones when absent), and ``threshold (F,)`` for JumpReLU;
* ``metadata``: a JSON string with ``state`` (``"c"`` or ``"h"``), ``activation``
  (``"relu"``, ``"topk"`` with ``k``, or ``"jumprelu"``), ``model_sha256`` (the
  weights file it belongs to), what it was trained on and its measured figures.

Encoding and decoding, exactly::

    z = ((x / scale) - b_dec) @ W_enc + b_enc
    relu:      a = max(z, 0)
    topk:      a = max(z, 0) on each row's k largest z, 0 elsewhere
    jumprelu:  a = z where z > threshold, else 0
    x_hat = (a @ W_dec + b_dec) * scale
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from inkcore.library import data_folder
from inkcore.model import Hold
from inkcore.weights import shipped_weights

ACTIVATIONS = ("relu", "topk", "jumprelu")
STATES = ("c", "h")
REQUIRED_ARRAYS = ("W_enc", "b_enc", "W_dec", "b_dec")
#: A dictionary file is refused beyond this size before it is read.
MAX_DICTIONARY_BYTES = 256 * 2**20
#: Rows encoded at a time where many states are reconstructed at once.
BLOCK_ROWS = 2048
#: The shipped dictionaries lie beside the shipped weights, named after their model.
SUFFIX = ".features.npz"


class DictionaryError(ValueError):
    """A dictionary file that cannot be used; the message names the file and the fault."""


@dataclass(frozen=True, eq=False)
class Dictionary:
    """A sparse dictionary of one model's state. Arrays are read-only."""

    W_enc: np.ndarray  # (S, F)
    b_enc: np.ndarray  # (F,)
    W_dec: np.ndarray  # (F, S)
    b_dec: np.ndarray  # (S,)
    scale: np.ndarray  # (S,)
    threshold: np.ndarray | None  # (F,), JumpReLU only
    metadata: dict = field(default_factory=dict)

    @property
    def state(self) -> str:
        return self.metadata["state"]

    @property
    def activation(self) -> str:
        return self.metadata["activation"]

    @property
    def k(self) -> int | None:
        return self.metadata.get("k")

    @property
    def features(self) -> int:
        return self.W_enc.shape[1]

    @property
    def size(self) -> int:
        return self.W_enc.shape[0]

    @property
    def model_sha256(self) -> str | None:
        return self.metadata.get("model_sha256")

    def label(self, feature: int) -> str:
        """The feature's automatic label: the stroke event it tells best, with its AUC."""
        labels = self.metadata.get("labels")
        if not labels or labels[feature] is None:
            return f"feature {feature}"
        event, auc = labels[feature]
        return f"{event}, AUC {auc:.2f}"


def make_dictionary(W_enc, b_enc, W_dec, b_dec, scale=None, threshold=None, **metadata) -> Dictionary:
    """A dictionary from arrays, checked (see :func:`check`) and frozen; float16 arrays
    are widened to float32 for computing."""
    arrays = {"W_enc": W_enc, "b_enc": b_enc, "W_dec": W_dec, "b_dec": b_dec, "scale": scale, "threshold": threshold}
    return _checked(arrays, dict(metadata), "dictionary")


def _checked(arrays: dict, metadata: dict, source: str) -> Dictionary:
    def fault(message: str) -> DictionaryError:
        return DictionaryError(f"{source}: {message}")

    for name in REQUIRED_ARRAYS:
        if arrays.get(name) is None:
            raise fault(f"has no array {name}; a dictionary needs {', '.join(REQUIRED_ARRAYS)}")
    frozen = {}
    for name, array in arrays.items():
        if array is None:
            frozen[name] = None
            continue
        array = np.asarray(array)
        if not np.issubdtype(array.dtype, np.floating):
            raise fault(f"{name} holds {array.dtype} values, not floating-point numbers")
        array = np.array(array, dtype=np.float32)
        if not np.all(np.isfinite(array)):
            raise fault(f"{name} holds NaN or infinite values")
        array.setflags(write=False)
        frozen[name] = array
    W_enc = frozen["W_enc"]
    if W_enc.ndim != 2:
        raise fault(f"W_enc has shape {W_enc.shape}, expected (state size, features)")
    size, features = W_enc.shape
    if frozen["scale"] is None:
        frozen["scale"] = np.ones(size, np.float32)
        frozen["scale"].setflags(write=False)
    expected = {"b_enc": (features,), "W_dec": (features, size), "b_dec": (size,), "scale": (size,),
                "threshold": (features,)}
    for name, shape in expected.items():
        if frozen[name] is not None and frozen[name].shape != shape:
            raise fault(f"{name} has shape {frozen[name].shape}, expected {shape} for W_enc of shape {W_enc.shape}")
    if np.any(frozen["scale"] <= 0):
        raise fault("scale holds values at or below zero")
    activation = metadata.get("activation")
    if activation not in ACTIVATIONS:
        raise fault(f"its activation {activation!r} is not one of {', '.join(ACTIVATIONS)}")
    if metadata.get("state") not in STATES:
        raise fault(f"its state {metadata.get('state')!r} is neither 'c' nor 'h'")
    if activation == "topk":
        k = metadata.get("k")
        if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= features:
            raise fault(f"a topk dictionary needs k, a whole number from 1 to {features}; it has {k!r}")
    if activation == "jumprelu" and frozen["threshold"] is None:
        raise fault("a jumprelu dictionary needs its threshold array")
    return Dictionary(frozen["W_enc"], frozen["b_enc"], frozen["W_dec"], frozen["b_dec"], frozen["scale"],
                      frozen["threshold"], metadata)


def load_dictionary(path: str | os.PathLike, model_sha256: str | None = None) -> Dictionary:
    """Read and check a dictionary file; with ``model_sha256``, refuse one made for another model."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_DICTIONARY_BYTES:
            raise DictionaryError(f"{path}: larger than {MAX_DICTIONARY_BYTES // 2**20} MB; not a dictionary")
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except FileNotFoundError:
        raise DictionaryError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DictionaryError(f"{path}: is a folder, not a dictionary file") from None
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
        if "pickle" in str(error).lower():
            raise DictionaryError(f"{path}: contains pickled objects, which inkcore never loads") from None
        raise DictionaryError(f"{path}: not a readable .npz file ({error})") from None
    metadata = _metadata(arrays.pop("metadata", None), path)
    dictionary = _checked({name: arrays.get(name) for name in (*REQUIRED_ARRAYS, "scale", "threshold")},
                          metadata, str(path))
    if model_sha256 is not None and dictionary.model_sha256 != model_sha256:
        raise DictionaryError(
            f"{path}: made for another model (weights sha256 {str(dictionary.model_sha256)[:12]}…, "
            f"the loaded model's is {model_sha256[:12]}…); train one for this model with `inkcore features train`")
    return dictionary


def _metadata(raw, path: Path) -> dict:
    if raw is None:
        raise DictionaryError(f"{path}: has no metadata (a JSON string naming its state and activation)")
    try:
        metadata = json.loads(str(raw[()] if np.ndim(raw) == 0 else raw))
    except (json.JSONDecodeError, TypeError):
        raise DictionaryError(f"{path}: its metadata is not JSON") from None
    if not isinstance(metadata, dict):
        raise DictionaryError(f"{path}: its metadata is not a JSON object")
    return metadata


def save_dictionary(path: str | os.PathLike, dictionary: Dictionary, dtype=np.float16) -> Path:
    """Write ``dictionary`` as a ``.npz`` (weights in ``dtype``), atomically: a failed
    write leaves no file behind and an earlier file as it was."""
    path = Path(path)
    arrays = {"W_enc": dictionary.W_enc.astype(dtype), "b_enc": dictionary.b_enc,
              "W_dec": dictionary.W_dec.astype(dtype), "b_dec": dictionary.b_dec, "scale": dictionary.scale,
              "metadata": np.array(json.dumps(dictionary.metadata, sort_keys=True))}
    if dictionary.threshold is not None:
        arrays["threshold"] = dictionary.threshold
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    partial = path.with_name(path.name + ".partial")
    try:
        partial.write_bytes(buffer.getvalue())
        partial.replace(path)
    except OSError:
        partial.unlink(missing_ok=True)
        raise
    return path


def file_sha256(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(2**20), b""):
            digest.update(block)
    return digest.hexdigest()


def dictionary_sha256(path: str | os.PathLike) -> str | None:
    """The model sha256 a dictionary file says it belongs to, reading only its metadata."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            return _metadata(archive["metadata"] if "metadata" in archive.files else None, Path(path)).get(
                "model_sha256")
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, DictionaryError):
        return None


def dictionary_folders() -> list[Path]:
    """Where dictionaries are looked for: beside the shipped weights (the ones inkcore
    ships, for its model and the article's), then the data folder's ``features/`` (the
    user's own)."""
    return [shipped_weights().parent, data_folder() / "features"]


def find_dictionary(model_sha256: str, folders) -> Path | None:
    """The first ``*.features.npz`` in ``folders`` made for the model of that sha256."""
    for folder in folders:
        folder = Path(folder)
        if not folder.is_dir():
            continue
        for candidate in sorted(folder.glob(f"*{SUFFIX}")):
            if dictionary_sha256(candidate) == model_sha256:
                return candidate
    return None


# --- encoding and decoding ---------------------------------------------------------


def pre_activations(dictionary: Dictionary, x: np.ndarray) -> np.ndarray:
    """``z = ((x / scale) - b_dec) @ W_enc + b_enc``, (..., F) for states ``x`` (..., S)."""
    x = np.asarray(x, dtype=np.float32)
    return (x / dictionary.scale - dictionary.b_dec) @ dictionary.W_enc + dictionary.b_enc


def activate(dictionary: Dictionary, z: np.ndarray) -> np.ndarray:
    """The feature activations for pre-activations ``z`` (..., F), by the dictionary's rule."""
    if dictionary.activation == "relu":
        return np.maximum(z, 0.0)
    if dictionary.activation == "jumprelu":
        return np.where(z > dictionary.threshold, z, 0.0).astype(z.dtype)
    a = np.zeros_like(z)
    top, values = top_features(dictionary, z)
    np.put_along_axis(a, top, values, axis=-1)
    return a


def encode(dictionary: Dictionary, x: np.ndarray) -> np.ndarray:
    """Feature activations (..., F) of states ``x`` (..., S)."""
    return activate(dictionary, pre_activations(dictionary, x))


def decode(dictionary: Dictionary, a: np.ndarray) -> np.ndarray:
    """The state (..., S) that activations ``a`` (..., F) stand for."""
    return (np.asarray(a, dtype=np.float32) @ dictionary.W_dec + dictionary.b_dec) * dictionary.scale


def top_features(dictionary: Dictionary, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A topk dictionary's active features for pre-activations ``z`` (..., F): their
    indices and activations (..., k), in no order; an activation may be 0."""
    top = np.argpartition(z, -dictionary.k, axis=-1)[..., -dictionary.k :]
    return top, np.maximum(np.take_along_axis(z, top, axis=-1), 0.0)


def reconstruct(dictionary: Dictionary, x: np.ndarray) -> np.ndarray:
    """``decode(encode(x))`` for states ``x`` (..., S), :data:`BLOCK_ROWS` rows at a time;
    for a topk dictionary from its k active rows of ``W_dec`` alone."""
    x = np.asarray(x, dtype=np.float32)
    flat = x.reshape(-1, x.shape[-1])
    out = np.empty(flat.shape, np.float32)
    for start in range(0, len(flat), BLOCK_ROWS):
        block = flat[start : start + BLOCK_ROWS]
        if dictionary.activation != "topk":
            out[start : start + BLOCK_ROWS] = decode(dictionary, encode(dictionary, block))
            continue
        top, values = top_features(dictionary, pre_activations(dictionary, block))
        summed = np.einsum("nk,nks->ns", values, dictionary.W_dec[top])  # W_dec[top]: (n, k, S)
        out[start : start + BLOCK_ROWS] = (summed + dictionary.b_dec) * dictionary.scale
    return out.reshape(x.shape)


def direction(dictionary: Dictionary, feature: int) -> np.ndarray:
    """Feature ``feature``'s decoder direction in the state's own units (S,): what one
    unit of its activation adds to the state."""
    return dictionary.W_dec[feature] * dictionary.scale


def exact_dictionary(size: int, state: str = "c") -> Dictionary:
    """A dictionary that reconstructs every state exactly: F = 2S, ``W_enc = [I, -I]``,
    ``W_dec = [I; -I]``, zero biases, relu (the positive and negative part of each cell)."""
    eye = np.eye(size, dtype=np.float32)
    return make_dictionary(np.hstack([eye, -eye]), np.zeros(2 * size), np.vstack([eye, -eye]), np.zeros(size),
                           state=state, activation="relu")


def steering_hold(dictionary: Dictionary, feature: int, strength: float, cells: int):
    """The :class:`inkcore.model.Hold` that adds ``strength`` times the feature's decoder
    direction to c after every step (a dictionary of c only); strength 0 is the intact
    model bit for bit (c * 1 + 0)."""
    if dictionary.state != "c":
        raise DictionaryError("steering adds to the cell state c: this dictionary is of h")
    if not 0 <= feature < dictionary.features:
        raise DictionaryError(f"there is no feature {feature}: the dictionary has {dictionary.features}")
    return Hold(np.ones(cells, np.float32), (strength * direction(dictionary, feature)).astype(np.float32))
