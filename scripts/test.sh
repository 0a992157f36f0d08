#!/usr/bin/env bash
# Set up and run every test on a fresh machine (the README's test command).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null
  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; fi
fi
# The package, editable, with its dev extra: pytest, Playwright and the train extra's
# torch==2.13.0. CI's machine has that version's CPU wheel on disk; elsewhere install it
# from PyTorch's CPU index first (docs/training.md), or pip fetches the CUDA build.
python3 -m pip install -q -e '.[dev]'
python3 -m pytest -q "$@"
