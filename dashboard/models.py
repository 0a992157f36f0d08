"""The model every page studies: the sidebar's choice between inkcore's own, the
article's (downloaded on request), an uploaded weights file and the user's own
adapted models (Learn my handwriting, :mod:`dashboard.adapting`), loaded once per
weights file for every session."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from dashboard import article, cached, handwriting
from inkcore import downloads
from inkcore.adapted_store import AdaptedEntry, AdaptedModels
from inkcore.cli import default_weights
from inkcore.features import file_sha256
from inkcore.library import StoreError, data_folder
from inkcore.model import Model
from inkcore.weights import WeightsError

OURS, ARTICLE, UPLOADED = "inkcore's own model", "The article's model", "A weights file you upload"
#: The picker's value for one of the user's adapted models: this prefix and its id.
ADAPTED = "adapted:"
MAX_UPLOAD_BYTES = 20 * 2**20
#: The model chosen, kept apart from the sidebar's radio (whose state a page switch drops);
#: the radio; the uploaded weights' path here, and the name they were uploaded under.
CHOSEN, CHOICE, UPLOADED_PATH, UPLOADED_NAME = "chosen_model", "model_choice", "uploaded_weights", "uploaded_name"


@dataclass(frozen=True, eq=False)
class LoadedModel:
    model: Model
    metadata: dict
    label: str
    key: str  # identifies the weights in every cache: path and modification time
    path: Path | None = None  # the weights file
    base: str | None = None  # for an adapted model, the picker's value of the model it was adapted from


def _loaded(path: Path, label: str, base: str | None = None) -> LoadedModel:
    model, metadata = cached.load_model(str(path), path.stat().st_mtime)
    return LoadedModel(model, metadata, label, f"{path}@{path.stat().st_mtime}", path, base)


def _adapted() -> list[AdaptedEntry]:
    """This session's owner's adapted models; none when the library cannot be opened."""
    store = handwriting.store()
    try:
        return AdaptedModels(store).entries() if store is not None else []
    except StoreError:
        return []


@st.cache_data(max_entries=16, show_spinner=False)
def _sha256(path: str, modified: float) -> str:
    return file_sha256(path)


def _base_of(entry: AdaptedEntry) -> tuple[str | None, str]:
    """The picker's value of the model ``entry`` was adapted from, and its name."""
    ours, theirs = default_weights(), downloads.article_weights()
    for choice, path, name in ((OURS, ours, "inkcore's model"), (ARTICLE, theirs, "The article's model")):
        if path is not None and Path(path).exists() and _sha256(str(path), Path(path).stat().st_mtime) == entry.base_sha256:
            return choice, name
    return None, "A model"


def adapted_label(entry: AdaptedEntry) -> str:
    """How the picker and the pages name an adapted model: "inkcore's model, adapted to Ada"."""
    return f"{_base_of(entry)[1]}, adapted to {entry.name}"


def model_picker() -> None:
    """The sidebar's model choice, shared by every page."""
    with st.sidebar:
        # Widget state does not survive a page switch; the choice lives in its own key.
        adapted = {f"{ADAPTED}{entry.id}": adapted_label(entry) for entry in _adapted()}
        if st.session_state.get(CHOSEN, OURS).startswith(ADAPTED) and st.session_state[CHOSEN] not in adapted:
            st.session_state[CHOSEN] = OURS  # deleted, or another owner's
        st.session_state[CHOICE] = st.session_state.setdefault(CHOSEN, OURS)
        st.radio("Model", (OURS, ARTICLE, UPLOADED, *adapted), key=CHOICE, format_func=lambda c: adapted.get(c, c),
                 on_change=lambda: st.session_state.update({CHOSEN: st.session_state[CHOICE]}))
        choice = st.session_state[CHOSEN]
        if choice == ARTICLE and downloads.article_weights() is None:
            st.caption("The article's weights are not on this computer yet.")
            if st.button("Download the article's model (1.4 MB)", key="download_article"):
                article.download(downloads.fetch_weights, "the article's model")
        if choice == UPLOADED:
            upload = st.file_uploader("Weights (.npz or b64_weights.json)", type=["npz", "json"], key="weights_upload")
            if upload is not None:
                st.session_state[UPLOADED_PATH] = _store_upload(upload)


def _store_upload(upload) -> str | None:
    data = upload.getvalue()
    if len(data) > MAX_UPLOAD_BYTES:
        st.error(f"{upload.name} is larger than {MAX_UPLOAD_BYTES // 2**20} MB; it is not a weights file.")
        return None
    digest = hashlib.sha256(data).hexdigest()[:16]
    suffix = ".json" if data.lstrip()[:1] == b"[" else ".npz"
    path = data_folder() / "uploads" / f"{digest}{suffix}"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            partial = path.with_suffix(".partial")
            partial.write_bytes(data)
            partial.replace(path)
    except OSError as error:
        st.error(f"Could not keep the uploaded file: {error.strerror}")
        return None
    st.session_state[UPLOADED_NAME] = upload.name
    return str(path)


def current_model() -> LoadedModel | None:
    """The chosen model, or None after telling the user why there is none."""
    choice = st.session_state.get(CHOSEN, OURS)
    try:
        if choice == OURS:
            path = default_weights()
            if not path.exists():
                st.warning(
                    f"No model of inkcore's own is installed (expected `{path}`). "
                    "Choose the article's model in the sidebar, or train one: see docs/training.md."
                )
                return None
            return _loaded(path, OURS)
        if choice == ARTICLE:
            if problem := article.article_dir_problem():
                st.warning(problem)
            path = downloads.article_weights()
            if path is None:
                st.info("The article's model is not downloaded yet: use the button in the sidebar.")
                return None
            return _loaded(path, ARTICLE)
        if choice.startswith(ADAPTED):
            return _adapted_model(int(choice.removeprefix(ADAPTED)))
        path = st.session_state.get(UPLOADED_PATH)
        if not path:
            st.info("Upload a weights file in the sidebar: inkcore's .npz or the article's b64_weights.json.")
            return None
        return _loaded(Path(path), f"uploaded: {st.session_state.get(UPLOADED_NAME, Path(path).name)}")
    except WeightsError as error:
        message = str(error)
        if choice == UPLOADED:
            message = message.replace(str(path), st.session_state.get(UPLOADED_NAME, "the uploaded file"))
        st.error(f"This weights file cannot be used. {message}")
        return None


def _adapted_model(entry_id: int) -> LoadedModel | None:
    store = handwriting.store()
    try:
        entry = AdaptedModels(store).get(entry_id) if store is not None else None
    except StoreError as error:
        st.error(f"This adapted model cannot be opened: {error}")
        return None
    if entry is None or not Path(entry.path).exists():
        st.error("This adapted model's file is missing; delete it on the Example library page and learn it again.")
        return None
    return _loaded(Path(entry.path), adapted_label(entry), _base_of(entry)[0])


def require_model() -> LoadedModel:
    loaded = current_model()
    if loaded is None:
        st.stop()
    return loaded


def other_model(loaded: LoadedModel) -> LoadedModel | None:
    """The model to compare with: an adapted model's base, the article's beside ours, ours
    beside any other, when present."""
    try:
        if loaded.base == ARTICLE:
            path = downloads.article_weights()
            return _loaded(path, ARTICLE) if path else None
        if loaded.label == OURS:
            path = downloads.article_weights()
            return _loaded(path, ARTICLE) if path else None
        path = default_weights()
        return _loaded(path, OURS) if path.exists() else None
    except WeightsError:
        return None


def model_summary(loaded: LoadedModel) -> str:
    """The model card's figures as Markdown lines. The article's model carries no scores of
    its own: its table is the one inkcore's model card measured for both on the same lines."""
    meta = loaded.metadata
    config = loaded.model.config
    lines = [f"- {config.cells} LSTM cells, {config.components} mixture components, inputs in {config.units}"]
    provenance = meta.get("provenance", {})
    if "steps" in provenance:
        lines.append(f"- trained {provenance['steps']:,} steps ({provenance.get('wall_hours', 0):.1f} h) "
                     f"on {provenance.get('data', 'IAM-OnDB')}")
    elif "source" in provenance:
        lines.append(f"- from {provenance['source']}")
    metrics, is_article = meta.get("metrics", {}), loaded.label == ARTICLE
    if is_article:
        ours = other_model(loaded)
        metrics = ours.metadata.get("metrics", {}) if ours is not None else {}
    names = {"article_validation": "the article's 200 validation lines", "test_split": "IAM-OnDB test split"}
    scored = [(names.get(k, k.replace("_", " ")), v, metrics.get(f"{k}_article_model")) for k, v in metrics.items()
              if isinstance(v, dict) and "nll_per_point" in v and not k.endswith("_article_model")]
    if is_article:  # this model is the article's: its column first, inkcore's beside it
        scored = [(label, theirs, ours) for label, ours, theirs in scored if theirs]
    if scored:
        other = "inkcore's own model" if is_article else "the article's model"
        lines += ["", "Negative log-likelihood per point, in nats (lower is better):", "",
                  f"| lines | points | this model | {other} |", "| --- | ---: | ---: | ---: |"]
        for label, mine, rival in scored:
            lines.append(f"| {label} | {mine['points']:,} | **{mine['nll_per_point']:.3f}** | "
                         + (f"{rival['nll_per_point']:.3f}" if rival else "not measured") + " |")
        if is_article:
            lines += ["", "Measured by inkcore's model card, the same protocol for both models."]
    return "\n".join(lines)
