#!/usr/bin/env bash
# Installs what the controller and the lab need: Debian packages and a Python
# virtual environment (.venv) with the pinned controller dependencies; with --tests,
# also what only the test suite needs (scripts/test-packages.txt).
# Safe to run again; it only installs what is missing. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
    echo "setup.sh: run as root (the lab creates namespaces and mounts)" >&2
    exit 1
fi

lists=(scripts/system-packages.txt)
if [ "${1:-}" = "--tests" ]; then
    lists+=(scripts/test-packages.txt)
fi
mapfile -t packages < <(cat "${lists[@]}" | grep -v -e '^#' -e '^$')
missing=()
for pkg in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "== installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
    echo "== creating .venv"
    python3 -m venv .venv
fi
echo "== installing controller dependencies into .venv"
# (the filter drops pip's notes about package locations this machine does not have)
.venv/bin/pip install -q --disable-pip-version-check -r requirements.txt 2>&1 | { grep -v "^WARNING: Location 'file:" || true; }
exit "${PIPESTATUS[0]}"
