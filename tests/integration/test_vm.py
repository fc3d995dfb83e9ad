"""IPIP end to end inside a VM on Debian's stock kernel (this machine's kernel has no ipip).

One boot runs scripts/vm-ipip.sh: the IPIP module tests (device, rollback, boot-time
restore), then `molecule test -s ipip` (VXLAN -> IPIP live switch, idempotence, full-size
ping matrix, IP protocol 4 on the underlay, decommission of a node, then IPIP -> host-gw
with the node back and nothing stale). The VM's console comes
back here; the test fails when anything inside fails. Several minutes: software emulation.
"""

import os
import subprocess
import sys
import time

import pytest

from conftest import REPO

pytestmark = [pytest.mark.vm, pytest.mark.slow]

VM_TOOL = os.path.join(REPO, "lab", "vm", "routednet_vm.py")


def qemu_processes():
    out = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if line.startswith("qemu-system")]


def test_ipip_scenario_passes_in_the_vm():
    if os.geteuid() != 0:
        pytest.skip("needs root: the VM shares the host's filesystem with root's permissions")
    ready = subprocess.run([sys.executable, VM_TOOL, "check"], capture_output=True, text=True, check=False)
    assert ready.returncode == 0, "the VM cannot start here: %s (scripts/setup.sh installs what it needs)" % ready.stdout
    started = time.monotonic()
    res = subprocess.run(
        [sys.executable, VM_TOOL, "run", "--timeout", "3000", "--", "bash", "scripts/vm-ipip.sh"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    took = time.monotonic() - started
    console = res.stdout + res.stderr
    print(console[-6000:])
    print("VM run took %.0f s" % took)
    assert res.returncode == 0, console[-6000:]
    # the module tests ran there (not skipped), and every scenario step succeeded
    assert "== IPIP module tests on kernel 6." in console
    assert "3 passed, 1 skipped" in console, console[-6000:]
    for step in ("prepare", "converge", "idempotence", "verify"):
        assert "[ipip > %s] Executed: Successful" % step in console, step
    assert "routednet-vm: command exited 0" in console
    # nothing of the VM is left behind
    assert qemu_processes() == []
    assert not os.path.exists("/run/routednet-vm") or os.listdir("/run/routednet-vm") == []
