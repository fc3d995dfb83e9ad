#!/usr/bin/env bash
# The whole test suite: ruff, ansible-lint, the changelog, then pytest (planning units,
# modules on the real kernel, the SSH lab, molecule, packaging), and beside all of that
# ansible-test sanity and the IPIP tests in a VM on Debian's stock kernel.
# Needs root. Every lab, namespace and VM it makes is removed, also on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --tests
export PATH="$PWD/.venv/bin:$PATH"
export ANSIBLE_FORCE_COLOR=0 PY_COLORS=0 NO_COLOR=1

# The labs the suite builds (the operator-flow test uses the default lab, so a demo
# lab left up is taken down too); removed again here in case a test was killed.
vm_pid=""
sanity_pid=""
roots_pid=""
vm_log=$(mktemp)
sanity_log=$(mktemp)
roots_log=$(mktemp)
cleanup() {
    for pid in $vm_pid $sanity_pid; do
        kill -- -"$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    [ -z "$roots_pid" ] || kill "$roots_pid" 2>/dev/null || true
    for lab in default pytest core systems dualstack molecule-default molecule-vxlan molecule-crosssubnet; do
        python lab/routednet_lab.py down --name "$lab" >/dev/null 2>&1 || true
    done
    python lab/vm/routednet_vm.py stop-all || true
    rm -f "$vm_log" "$sanity_log" "$roots_log"
}
trap cleanup EXIT

# The VM tests spend their time in software emulation, the rest on the controller's CPU
# (Ansible) with pauses: so the VM tests run beside everything else, at the lowest CPU
# priority - they take the CPU the others leave (measured: at nice 10 the emulator slowed
# each converge run from 7.6 s to 12 s, at 19 to about 9 s). Their output is printed when
# they end. (They share no lab, name or port with the other tests.)
setsid nice -n 19 python -m pytest -m vm tests >"$vm_log" 2>&1 &
vm_pid=$!
# The system nodes' Debian roots (test_system_nodes.py) download and unpack meanwhile; a
# lab that needs one before it is ready waits for it (lab/routednet_lab.py, system_root).
nice -n 5 python lab/routednet_lab.py roots --release bookworm --release trixie >"$roots_log" 2>&1 &
roots_pid=$!

# ansible-test sanity on five Pythons takes minutes of mostly one core: beside the
# tests too, at the lowest priority, printed when it ends. (It works on a copy of the
# tracked files, taken when it starts.)
setsid nice -n 19 bash scripts/sanity.sh >"$sanity_log" 2>&1 &
sanity_pid=$!

echo "== ruff"
ruff check .
ruff format --check .

echo "== ansible-lint"
ansible-lint -q

echo "== changelog"
antsibull-changelog lint

echo "== pytest (all but the VM tests)"
status=0
python -m pytest -m "not vm" tests || status=$?

echo "== ansible-test sanity (run beside the tests)"
sanity_status=0
wait "$sanity_pid" || sanity_status=$?
sanity_pid=""
cat "$sanity_log"

echo "== pytest (the VM tests, run beside the others)"
vm_status=0
wait "$vm_pid" || vm_status=$?
vm_pid=""
cat "$vm_log"
echo "== the system roots built beside: $(tr '\n' ' ' <"$roots_log")"
[ "$sanity_status" -eq 0 ] || echo "ansible-test sanity failed (exit $sanity_status)"
[ "$vm_status" -eq 0 ] || echo "the VM tests failed (exit $vm_status)"
[ "$status" -eq 0 ] || echo "the tests outside the VM failed (exit $status)"
[ "$status" -eq 0 ] && [ "$vm_status" -eq 0 ] && [ "$sanity_status" -eq 0 ]
