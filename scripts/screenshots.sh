#!/usr/bin/env bash
# Refreshes the README's screenshots (docs/screenshots/*.png) by running the browser tests,
# which drive Debian's Chromium against a real `lexo serve` and save each page they visit.
set -euo pipefail
cd "$(dirname "$0")/.."
LEXO_SCREENSHOTS=docs/screenshots .venv/bin/pytest -q tests/e2e "$@"
ls -l docs/screenshots
