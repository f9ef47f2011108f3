#!/usr/bin/env bash
# Installs the test dependencies, then runs the linters, the type checker and every test
# (the end-to-end ones on a private X server and session bus they start themselves).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh --test
echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "== mypy"
.venv/bin/mypy
echo "== actionlint"
# The CI workflow; shellcheck and pyflakes off so that the verdict is the same on every machine,
# whether or not they happen to be installed.
.venv/bin/actionlint -shellcheck= -pyflakes=
echo "== pytest"
# A private session bus for the whole run, so nothing reaches (or autolaunches) a desktop's own bus.
if command -v dbus-run-session >/dev/null 2>&1; then
    exec dbus-run-session -- .venv/bin/pytest -q -p no:cacheprovider
fi
exec .venv/bin/pytest -q -p no:cacheprovider
