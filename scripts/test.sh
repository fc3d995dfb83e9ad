#!/usr/bin/env bash
# The whole test suite: ruff, ansible-lint, the changelog, ansible-test sanity, then
# pytest (planning units, modules on the real kernel, the SSH lab, molecule, packaging,
# and the IPIP scenario inside a VM on Debian's stock kernel - the longest part).
# Needs root. Every lab, namespace and VM it makes is removed, also on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
export ANSIBLE_FORCE_COLOR=0 PY_COLORS=0 NO_COLOR=1

# The labs the suite builds (the operator-flow test uses the default lab, so a demo
# lab left up is taken down too); removed again here in case a test was killed.
cleanup() {
    for lab in default pytest molecule-default molecule-vxlan molecule-crosssubnet; do
        python lab/routednet_lab.py down --name "$lab" >/dev/null 2>&1 || true
    done
    python lab/vm/routednet_vm.py stop-all || true
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
