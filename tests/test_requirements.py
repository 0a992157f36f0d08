"""requirements.txt, for hosts that install the dashboard from it, asks for what
pyproject.toml's [project] dependencies ask for, and the app needs nothing more from
a clean clone: inkcore and the shipped model are found in the checkout."""
from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPOSITORY = Path(__file__).resolve().parents[1]


def by_name(requirements: list[str]) -> dict[str, tuple]:
    """Each requirement's name, canonical, and what it asks: extras, versions, marker."""
    parsed = [Requirement(text) for text in requirements]
    named = {canonicalize_name(r.name): (sorted(r.extras), str(r.specifier), str(r.marker or "")) for r in parsed}
    assert len(named) == len(parsed), "a package is named twice"
    return named


def requirements_lines() -> list[str]:
    lines = [line.split("#", 1)[0].strip() for line in (REPOSITORY / "requirements.txt").read_text().splitlines()]
    return [line for line in lines if line]


def test_requirements_txt_asks_what_pyproject_asks():
    declared = tomllib.loads((REPOSITORY / "pyproject.toml").read_text())["project"]["dependencies"]
    listed = requirements_lines()
    assert not [line for line in listed if line.startswith("-")], "options or other files have no place in it"
    assert by_name(listed) == by_name(declared)


def test_requirements_txt_says_what_it_is_for():
    head = (REPOSITORY / "requirements.txt").read_text().split("\n\n")[0]
    assert "pip install -r requirements.txt && streamlit run app.py" in head
    assert "pyproject.toml" in head


def test_the_checkout_serves_inkcore_and_its_model_uninstalled():
    # streamlit run app.py puts app.py's folder first on the path, as python -c does the working folder
    probe = "import inkcore, inkcore.weights as w; print(inkcore.__file__); print(w.shipped_weights())"
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "INKCORE_WEIGHTS")}
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPOSITORY, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    package, weights = result.stdout.split()
    assert Path(package) == REPOSITORY / "inkcore" / "__init__.py"
    assert Path(weights) == REPOSITORY / "weights" / "inkcore.npz" and Path(weights).is_file()
