"""IPIP end to end on Debian's stock kernel in a VM (this machine's kernel has no ipip).

Two parts, each in its own throwaway VM (lab/vm/routednet_vm.py):
- the IPIP module tests (device, rollback, boot-time restore) run inside the guest, with
  the forwarding ones (test_forwarding_host.py) on a guest whose own forwarding is on;
- `molecule test -s ipip` runs here, on the host, as an operator's controller would: its
  create step boots a VM and builds the lab's nodes inside it, and Ansible reaches them
  over SSH through the VM's sshd (VXLAN -> IPIP live switch, idempotence, full-size ping
  matrix, IP protocol 4 on the underlay, then IPIP -> host-gw with nothing stale). Only
  the nodes' side runs under software emulation.
Several minutes each. Nothing of either VM is left afterwards.
"""

import os
import subprocess
import sys

import pytest

from conftest import REPO

pytestmark = [pytest.mark.vm, pytest.mark.slow]

VM_TOOL = os.path.join(REPO, "lab", "vm", "routednet_vm.py")
MOLECULE = os.path.join(os.path.dirname(sys.executable), "molecule")


def qemu_processes():
    out = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if line.startswith("qemu-system")]


@pytest.fixture
def vm_ready():
    if os.geteuid() != 0:
        pytest.skip("needs root: the VM shares the host's filesystem with root's permissions")
    ready = subprocess.run([sys.executable, VM_TOOL, "check"], capture_output=True, text=True, check=False)
    assert ready.returncode == 0, "the VM cannot start here: %s (scripts/setup.sh --tests installs what it needs)" % ready.stdout
    yield
    # nothing of any VM is left behind, whatever happened
    left = qemu_processes()
    subprocess.run([sys.executable, VM_TOOL, "stop-all"], capture_output=True, check=False)
    assert left == []
    assert not os.path.exists("/run/routednet-vm") or os.listdir("/run/routednet-vm") == []


def test_ipip_module_tests_pass_in_the_vm(vm_ready):
    res = subprocess.run(
        [sys.executable, VM_TOOL, "run", "--timeout", "900", "--", "bash", "scripts/vm-ipip.sh"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    console = res.stdout + res.stderr
    print(console[-4000:])
    assert res.returncode == 0, console[-6000:]
    # they ran on the guest's kernel (not skipped for want of ipip), whose own namespace forwards
    assert "== IPIP module tests on kernel 6." in console and "guest ip_forward=1" in console
    assert "7 passed, 1 skipped" in console, console[-6000:]
    assert "routednet-vm: command exited 0" in console


def test_ipip_scenario_passes_with_the_nodes_in_the_vm(vm_ready):
    env = dict(os.environ, ANSIBLE_FORCE_COLOR="0", PY_COLORS="0", NO_COLOR="1")  # the steps' lines are matched below
    res = subprocess.run([MOLECULE, "test", "--scenario-name", "ipip"], cwd=REPO, env=env, capture_output=True, text=True, timeout=2400, check=False)
    out = res.stdout + res.stderr
    print(out[-6000:])
    assert res.returncode == 0, out[-6000:]
    for step in ("create", "prepare", "converge", "idempotence", "verify", "destroy"):
        assert "[ipip > %s] Executed: Successful" % step in out, step
