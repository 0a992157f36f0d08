#!/usr/bin/env bash
# Set up and run every test on a fresh machine (the README's test command).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null
  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; fi
fi
python3 -m pip install -q -r requirements-dev.txt
python3 -m pytest -q "$@"
