"""The documentation site: it builds with ``mkdocs build --strict`` (a broken link or
anchor, a missing picture, an API reference that no longer resolves all fail it), every
page is in the navigation, every picture a page or the README shows exists, and the
README's links into the site lead somewhere."""
from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
IMAGES = DOCS / "images"
#: A Markdown picture or link: ![alt](target) or [text](target), the target up to a space or ")".
LINK = re.compile(r"(!?)\[[^\]]*\]\(([^)\s]+)")
#: Colour codes in the build's output.
ANSI = re.compile(r"\x1b\[[0-9;]*m")
#: The pictures of the site together stay small enough to keep in the repository.
IMAGES_BUDGET_BYTES = 4 * 1024 * 1024


def pages() -> set[str]:
    return {path.relative_to(DOCS).as_posix() for path in DOCS.rglob("*.md")}


def nav_pages(entries) -> set[str]:
    """The pages the nav of mkdocs.yml names, however deep its sections go."""
    found = set()
    for entry in entries:
        values = entry.values() if isinstance(entry, dict) else [entry]
        for value in values:
            found |= nav_pages(value) if isinstance(value, list) else {value}
    return found


def targets(path: Path, pictures: bool) -> list[str]:
    """The relative targets of a Markdown file's pictures (or of its links), without anchors."""
    found = []
    for bang, target in LINK.findall(path.read_text(encoding="utf-8")):
        if bool(bang) != pictures or re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        found.append(target.split("#", 1)[0])
    return found


def test_the_site_builds_without_a_warning(tmp_path):
    if importlib.util.find_spec("mkdocs") is None:
        pytest.skip("mkdocs is not installed: pip install -e '.[docs]' (the dev extra includes it)")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")  # Material's notice about its future, not a warning of ours
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    output = ANSI.sub("", result.stdout + result.stderr)
    warnings = [line for line in output.splitlines() if line.startswith(("WARNING", "ERROR"))]
    assert result.returncode == 0 and not warnings, output[-4000:]
    assert (tmp_path / "site" / "api" / "index.html").is_file()


def test_every_page_is_in_the_nav():
    yaml = pytest.importorskip("yaml", reason="PyYAML comes with mkdocs: pip install -e '.[docs]'")
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    listed = nav_pages(config["nav"])
    assert pages() - listed == set(), "pages missing from mkdocs.yml's nav"
    assert listed - pages() == set(), "the nav names pages that do not exist"


def test_every_picture_shown_exists():
    missing = [f"{path.relative_to(ROOT)}: {target}"
               for path in [*DOCS.rglob("*.md"), ROOT / "README.md"]
               for target in targets(path, pictures=True)
               if not (path.parent / target).is_file()]
    assert not missing


def test_every_picture_in_docs_images_is_shown():
    shown = {(path.parent / target).resolve() for path in DOCS.rglob("*.md") for target in targets(path, pictures=True)}
    unused = sorted(image.name for image in IMAGES.iterdir() if image.resolve() not in shown)
    assert not unused, "pictures no page shows: remove them, or show them"


def test_the_pictures_stay_small():
    assert sum(image.stat().st_size for image in IMAGES.iterdir()) < IMAGES_BUDGET_BYTES


def test_the_adaptation_figure_is_the_one_in_weights():
    # the site can show only files under docs/, so it shows a copy of weights/adaptation.png
    assert (IMAGES / "adaptation.png").read_bytes() == (ROOT / "weights" / "adaptation.png").read_bytes(), \
        "weights/adaptation.png was made again: copy it to docs/images/adaptation.png"


def test_the_readme_links_lead_somewhere():
    readme = ROOT / "README.md"
    broken = [target for target in targets(readme, pictures=False) if not (ROOT / target).exists()]
    assert not broken
    assert any(target.startswith("docs/") for target in targets(readme, pictures=False))
