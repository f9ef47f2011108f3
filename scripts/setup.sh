#!/usr/bin/env bash
# Installs claude-usage-tray into ./.venv (and, with --test, the test tools).
# Works as root or with sudo on Debian/Ubuntu, and on macOS with a Python 3.11+ on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

extras=""
if [ "${1:-}" = "--test" ]; then extras="[test]"; fi

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"
    elif command -v sudo >/dev/null 2>&1; then sudo "$@"
    else echo "setup: '$*' needs root; run as root or install sudo" >&2; exit 1
    fi
}

python_ok() { command -v python3 >/dev/null 2>&1 && python3 -c 'import sys, venv, ensurepip; assert sys.version_info >= (3, 11)' 2>/dev/null; }

if ! python_ok && command -v apt-get >/dev/null 2>&1; then
    # Debian 12 / Ubuntu 24.04 ship Python 3.11+; python3-venv brings ensurepip for the venv.
    as_root apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        python3 python3-venv python3-pip ca-certificates
fi
if ! python_ok; then
    echo "setup: Python 3.11 or newer with the venv module is needed (macOS: brew install python@3.12)" >&2
    exit 1
fi

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check --editable ".${extras}"
echo "setup: installed into $(pwd)/.venv"
