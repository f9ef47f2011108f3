#!/usr/bin/env bash
# Installs claude-usage-tray into ./.venv; with --test also the test tools and the headless desktop
# the end-to-end tests run on. Works as root or with sudo on Debian 12 / Ubuntu 24.04, and on macOS
# with a Python 3.11+ on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

with_tests=0
if [ "${1:-}" = "--test" ]; then with_tests=1; fi

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"
    elif command -v sudo >/dev/null 2>&1; then sudo "$@"
    else echo "setup: '$*' needs root; run as root or install sudo" >&2; exit 1
    fi
}

if command -v apt-get >/dev/null 2>&1; then
    # Python 3.11+ and its venv; PyGObject's build needs (gcc, headers, girepository, cairo); the GTK and
    # AppIndicator typelibs that give the tray a menu; notify-send as a notification fallback; Tk for
    # the details window (Debian packages the standard library's tkinter separately).
    packages=(python3 python3-venv python3-pip python3-dev ca-certificates gcc pkg-config
              libgirepository1.0-dev libcairo2-dev gir1.2-gtk-3.0 gir1.2-ayatanaappindicator3-0.1 libnotify-bin
              python3-tk)
    if [ "$with_tests" = 1 ]; then
        # A virtual X server, a tray host, a session bus and a notification daemon for the end-to-end tests.
        packages+=(xvfb x11-utils xdotool trayer dbus dbus-x11 dunst)
        # The packaging tests: desktop-file-validate, systemd-analyze, and PyInstaller's objdump.
        packages+=(desktop-file-utils systemd binutils)
        # The hardening tests: a self-signed certificate, setpriv and a small tmpfs.
        packages+=(openssl util-linux)
    fi
    missing=()
    for package in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "setup: installing ${missing[*]}"
        as_root apt-get update -q
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
    fi
fi

if ! command -v python3 >/dev/null 2>&1 \
    || ! python3 -c 'import sys, venv, ensurepip; assert sys.version_info >= (3, 11)' 2>/dev/null; then
    echo "setup: Python 3.11 or newer with the venv module is needed (macOS: brew install python@3.12)" >&2
    exit 1
fi

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
extras=()
case "$(uname -s)" in Linux) extras+=(gtk) ;; esac
if [ "$with_tests" = 1 ]; then extras+=(test); fi
spec="."
if [ ${#extras[@]} -gt 0 ]; then spec=".[$(IFS=,; echo "${extras[*]}")]"; fi
# A regular (not editable) install: its import path is plain, which keeps every start-up (the
# statusline runs on each Claude Code prompt) free of the editable finder's cost.
.venv/bin/python -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps "."
.venv/bin/python -m pip install --quiet --disable-pip-version-check "$spec"
echo "setup: installed into $(pwd)/.venv"
