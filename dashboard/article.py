"""The article's files on this computer: a local folder (``INKCORE_ARTICLE_DIR``)
or the download cache, what is wrong with them, and fetching them with a
progress bar (:mod:`inkcore.downloads` does the fetching and checking)."""
from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from dashboard import cached
from inkcore import cells, downloads
from inkcore.downloads import LOCAL_DIR_ENV as ARTICLE_DIR_ENV


def article_dir_problem() -> str | None:
    """What is wrong with ``INKCORE_ARTICLE_DIR``: set and naming no folder, or holding
    files that differ from the article's repository at the pinned commit."""
    folder = os.environ.get(ARTICLE_DIR_ENV)
    if folder and not Path(folder).is_dir():
        return (f"{ARTICLE_DIR_ENV}={folder} is not a folder of the article's files; "
                "its model and lines are downloaded on request instead.")
    if folder:
        different = cached.folder_differences(folder, _folder_stamp(Path(folder)))
        if different:
            listed = ", ".join(different[:3]) + (f" and {len(different) - 3} more" if len(different) > 3 else "")
            return (f"{len(different)} file(s) in {ARTICLE_DIR_ENV}={folder} differ from the article's repository "
                    f"at commit {downloads.ARTICLE_COMMIT[:7]} ({listed}): they are used as they are, but figures "
                    "made from them are not the article's. Point the variable at an unchanged copy, or unset it "
                    "to download the checked files.")
    return None


def _folder_stamp(folder: Path) -> tuple:
    """Changes when the folder's files do (their names, sizes and modification times)."""
    try:
        return tuple(sorted((str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns)
                            for p in folder.rglob("*.json")))
    except OSError:
        return ()


def featured() -> list[int]:
    """The 16 examples the article's dropdown offered, from its metadata.json."""
    path = downloads.article_metadata()
    return cached.article_featured(str(path), path.stat().st_mtime) if path else []


def cell_order() -> cells.CellOrder | None:
    """The article's own order of its model's cells, from its metadata.json."""
    path = downloads.article_metadata()
    return cached.article_order(str(path), path.stat().st_mtime) if path else None


def download(fetch, what: str, unit: str = "MB"):
    """``fetch(progress=...)`` with a progress bar; None after showing the error if it fails."""
    bar = st.progress(0.0, text=f"Downloading {what}…")

    def progress(done: int, total: int | None) -> None:
        amount = f"{done / 2**20:.1f} MB" if unit == "MB" else f"{done} of {total} files"
        bar.progress(min(1.0, done / total) if total else 0.5, text=f"Downloading {what}… {amount}")

    try:
        result = fetch(progress=progress)
    except downloads.DownloadError as error:
        bar.empty()
        st.error(str(error))
        return None
    bar.empty()
    return result


def validation_download_controls() -> None:
    """Offer to fetch the article's validation lines when they are not here."""
    if downloads.article_validation() is not None:
        return
    if st.button("Download the article's 200 validation lines", key="download_validation"):
        if download(downloads.fetch_metadata, "the article's metadata") is not None:
            if download(downloads.fetch_validation, "the article's validation lines", unit="files") is not None:
                st.rerun()
