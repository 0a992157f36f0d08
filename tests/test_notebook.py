"""The example notebook examples/inside-the-model.ipynb: stored without outputs, and run
from top to bottom in a fresh python3 kernel, from the repository's top folder with the
checkout's inkcore and the shipped model, without a cell failing."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "examples" / "inside-the-model.ipynb"
#: Seconds any one cell may run before the run fails; the notebook's cells need a small part of it.
CELL_TIMEOUT_S = 300
#: What the notebook's Plotly figures show up as, when run.
PLOTLY_MIME = "application/vnd.plotly.v1+json"
#: Calls that would write a file.
FILE_WRITES = ("open(", "np.save", "write_html", "write_image", "to_csv", "to_png", "to_svg")


def stored() -> dict:
    return json.loads(NOTEBOOK.read_text(encoding="utf-8"))


def ends_in_figure(cell) -> bool:
    """A code cell whose last line is a figure, which Jupyter then draws."""
    last = cell.source.strip().splitlines()[-1] if cell.cell_type == "code" and cell.source.strip() else ""
    return last.startswith("inkcore.figures.") or last == "heatmaps"


def test_the_notebook_is_stored_without_outputs():
    notebook = stored()
    assert "widgets" not in notebook["metadata"], "widget state in the notebook's metadata"
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert code
    for index, cell in enumerate(notebook["cells"]):
        assert not {"widgets", "execution"} & set(cell["metadata"]), f"cell {index} keeps run metadata"
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [], f"cell {index} has outputs: clear them before committing"
            assert cell["execution_count"] is None, f"cell {index} has an execution count"


def test_the_notebook_uses_the_public_api():
    sources = ["".join(cell["source"]) for cell in stored()["cells"] if cell["cell_type"] == "code"]
    assert "import inkcore" in sources[0] and "inkcore.load()" in sources[0]
    assert not [source for source in sources if any(write in source for write in FILE_WRITES)], \
        "the notebook writes no files"


#: Executes notebook argv[1] into argv[2], argv[3] seconds per cell at most, from folder argv[4].
RUN_NOTEBOOK = """
import sys
import nbclient, nbformat
notebook = nbformat.read(sys.argv[1], as_version=4)
nbclient.NotebookClient(notebook, timeout=int(sys.argv[3]), kernel_name="python3",
                        resources={"metadata": {"path": sys.argv[4]}}).execute()
nbformat.write(notebook, sys.argv[2])
"""


def test_the_notebook_runs(tmp_path, monkeypatch):
    pytest.importorskip("nbclient", reason="nbclient is not installed: pip install -e '.[dev]'")
    import nbformat  # nbclient depends on it

    # The kernel inherits this environment: the checkout's inkcore, the shipped model, and
    # every folder a kernel, IPython or inkcore might write to kept out of the repository and home.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    monkeypatch.delenv("INKCORE_WEIGHTS", raising=False)
    for variable in ("IPYTHONDIR", "JUPYTER_RUNTIME_DIR", "INKCORE_CACHE", "INKCORE_DATA"):
        monkeypatch.setenv(variable, str(tmp_path / variable.lower()))

    # Run in a process of its own: nbclient leaves an asyncio event loop set in the process that
    # ran it, and the browser tests' Playwright, later in this process, then loses pages.
    executed = tmp_path / "executed.ipynb"
    run = subprocess.run([sys.executable, "-c", RUN_NOTEBOOK, str(NOTEBOOK), str(executed), str(CELL_TIMEOUT_S),
                          str(ROOT)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]  # CellExecutionError names the cell that failed
    notebook = nbformat.read(executed, as_version=4)

    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    assert not [output for output in outputs if output.output_type == "error"]
    drawn = [index for index, cell in enumerate(notebook.cells) if cell.cell_type == "code"
             and any(PLOTLY_MIME in output.get("data", {}) for output in cell.outputs)]
    assert drawn == [index for index, cell in enumerate(notebook.cells) if ends_in_figure(cell)]
