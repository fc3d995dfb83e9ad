#!/usr/bin/env bash
# The whole test suite: ruff, ansible-lint, the changelog, ansible-test sanity, then
# pytest (planning units, modules on the real kernel, the SSH lab, molecule, packaging).
# Needs root. Every lab and namespace it makes is removed, also on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
export ANSIBLE_FORCE_COLOR=0 PY_COLORS=0 NO_COLOR=1

cleanup() {
    python lab/routednet_lab.py down-all >/dev/null 2>&1 || true
}
trap cleanup EXIT

echo "== ruff"
ruff check .
ruff format --check .

echo "== ansible-lint"
ansible-lint -q

echo "== changelog"
antsibull-changelog lint

echo "== ansible-test sanity"
bash scripts/sanity.sh

echo "== pytest"
python -m pytest tests
