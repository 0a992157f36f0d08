"""inkcore's version, in one place: pyproject.toml reads it for the package's metadata
(without importing inkcore), the package re-exports it and downloads send it."""

__version__ = "0.1.0"
