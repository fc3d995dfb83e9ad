#!/usr/bin/env bash
# The IPIP module tests, on a kernel that has the ipip module, inside the test VM:
#   python3 lab/vm/routednet_vm.py run -- bash scripts/vm-ipip.sh
# (tests/integration/test_vm.py does that; the IPIP molecule scenario runs on the host,
# with its nodes in a VM of its own). Prints the result and its time.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH" ANSIBLE_FORCE_COLOR=0 NO_COLOR=1 PY_COLORS=0

if [ "${ROUTEDNET_IN_VM:-}" != 1 ]; then
    echo "vm-ipip.sh: meant to run inside the test VM (lab/vm/routednet_vm.py run -- bash $0)" >&2
    exit 2
fi

start=$SECONDS
echo "== IPIP module tests on kernel $(uname -r)"
python -m pytest -p no:cacheprovider -q -rs tests/integration/test_ipip_modules.py
echo "== module tests took $((SECONDS - start)) s"
