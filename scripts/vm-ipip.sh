#!/usr/bin/env bash
# The IPIP module tests, on a kernel that has the ipip module, inside the test VM (whose
# own forwarding is turned on first, which this machine's never is):
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
# The guest's own namespace forwards, as on any host that runs Docker or podman: the lab's
# nodes and the tests' namespaces must start from the kernel's defaults anyway.
sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.default.rp_filter=1
echo "guest ip_forward=$(cat /proc/sys/net/ipv4/ip_forward)"
echo "== IPIP module tests on kernel $(uname -r), and the forwarding ones, on a host that forwards"
python -m pytest -p no:cacheprovider -q -rs tests/integration/test_ipip_modules.py tests/integration/test_forwarding_host.py \
    tests/integration/test_modules.py::test_ip_forwarding_runtime_and_persistent
echo "== module tests took $((SECONDS - start)) s"
