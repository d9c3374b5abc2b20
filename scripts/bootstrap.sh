#!/usr/bin/env bash
# Make sure the system can build a Python virtual environment (Debian ships venv separately).
set -euo pipefail
python="${1:-python3}"
if ! command -v "$python" >/dev/null; then
    echo "error: $python not found; install Python 3.11 (Debian: apt-get install python3)" >&2
    exit 1
fi
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "error: Misery Meter needs Python 3.11 or newer; $python is $("$python" --version)" >&2
    exit 1
fi
if ! "$python" -c 'import ensurepip, venv' 2>/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq && apt-get install -y -qq python3-venv
    else
        echo "error: $python cannot create virtual environments; run: sudo apt-get install python3-venv" >&2
        exit 1
    fi
fi
