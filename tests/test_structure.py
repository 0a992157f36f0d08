"""The shape of the project's source outside tests/: no function over 80 lines, no file
over 600 lines, and no import cycle among its modules (imports inside functions count)."""
from __future__ import annotations

import ast
from functools import cache
from pathlib import Path
from typing import NamedTuple

REPOSITORY = Path(__file__).resolve().parents[1]
#: The project's source: the dashboard's home page, its pages and app side, the engine,
#: the app benchmark and the scripts (their Python files, if any).
SOURCES = ("app.py", "pages", "dashboard", "inkcore", "benchmarks", "scripts")
MAX_FUNCTION_LINES = 80
MAX_FILE_LINES = 600


class Source(NamedTuple):
    path: Path  # relative to the repository
    lines: int
    tree: ast.Module


@cache
def sources() -> dict[str, Source]:
    """Every source file by its module name (``inkcore.cli``; a package by its own name)."""
    found = {}
    for name in SOURCES:
        top = REPOSITORY / name
        for path in sorted([top] if top.is_file() else top.rglob("*.py")):
            relative = path.relative_to(REPOSITORY)
            parts = relative.with_suffix("").parts
            module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            text = path.read_text(encoding="utf-8")
            found[module] = Source(relative, len(text.splitlines()), ast.parse(text, str(relative)))
    return found


def imported(module: str, source: Source) -> set[str]:
    """The project's modules that ``module`` imports anywhere in its file: a package
    imported counts as well as the module named from it (``from inkcore import cli``)."""
    modules = sources()
    package = module.split(".") if source.path.name == "__init__.py" else module.split(".")[:-1]
    names = set()
    for node in ast.walk(source.tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the package, or one above it for each dot past the first
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names & modules.keys()


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    """The modules ``start`` imports, directly or through others."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        for name in graph[todo.pop()] - seen:
            seen.add(name)
            todo.append(name)
    return seen


def test_no_function_is_over_80_lines():
    long = [f"{source.path}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
            for source in sources().values() for node in ast.walk(source.tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]
    assert not long, "functions over 80 lines:\n" + "\n".join(long)


def test_no_file_is_over_600_lines():
    long = [f"{source.path} ({source.lines} lines)" for source in sources().values()
            if source.lines > MAX_FILE_LINES]
    assert not long, "files over 600 lines:\n" + "\n".join(long)


def test_no_modules_import_each_other():
    graph = {module: imported(module, source) for module, source in sources().items()}
    reach = {module: reachable(graph, module) for module in graph}
    cycles = sorted({tuple(sorted(other for other in reach[module] if module in reach[other]))
                     for module in graph if module in reach[module]})
    assert not cycles, "modules that import each other:\n" + "\n".join(" <-> ".join(cycle) for cycle in cycles)


def test_the_check_reads_every_part_of_the_project():
    names = sources()
    assert {"app", "inkcore", "inkcore.cli", "dashboard", "benchmarks.app"} <= names.keys()
    assert any(name.startswith("pages.") for name in names)
    assert "inkcore.evaluate" in imported("inkcore.cli", names["inkcore.cli"])
