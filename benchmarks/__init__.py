"""Benchmarks that need the source checkout: ``python -m benchmarks.app`` times the
dashboard in a browser. The engine's own benchmark is ``python -m inkcore.bench``,
whose ``--app`` runs this one."""
