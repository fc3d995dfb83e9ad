"""The runbooks' commands still run: every ``sh`` block of docs/runbooks/*.md, in order, on
a lab of its own, with the placeholders filled in. A block must exit 0 (or the status its
``<!-- expect rc=N: ... -->`` comment names) and its output must contain the text that
comment gives."""

import os
import re

import pytest

from conftest import REPO
from labhelpers import BIN, playbook, run, running_lab

RUNBOOKS = os.path.join(REPO, "docs", "runbooks")
LAB = "rb"
# runbook -> (lab topology, the backend the cluster runs, whether the test converges it
# before the runbook starts: not where the runbook's first command does just that)
SCENARIOS = {
    "pod-to-pod-loss.md": ("default.yml", "vxlan", False),
    "mtu.md": ("default.yml", "vxlan", False),
    "switch-backend.md": ("default.yml", "hostgw", True),
    "rollback.md": ("default.yml", "hostgw", True),
    "drift-check.md": ("default.yml", "vxlan", True),
    "firewall.md": ("seed001.yml", "vxlan", True),
    "podman.md": ("default.yml", "hostgw", True),
}
# Runbooks whose steps between commands are not commands; where the same sequence runs.
RUN_ELSEWHERE = {
    "containerd.md": "needs containerd's CRI, a CRI client (Debian packages no crictl) and a pause image from a registry; "
    "test_containers.py drives the CNI plugins with the list as containerd's CRI does (tests/cni_driver.py)",
    "add-ipv6.md": "step 2 edits the inventory; test_dualstack.py converges IPv4 first, then adds IPv6 with a ping running through it, "
    "verifies both families, and takes IPv6 away again",
    "add-node.md": "step 1 edits the inventory; test_lifecycle.py::test_join_leave_and_decommission runs the commands after that edit",
    "remove-node.md": "the host is deleted from the inventory between its commands; test_join_leave_and_decommission runs them",
    "reboot.md": "needs systemd and a reboot; test_system_nodes.py::test_a_real_reboot_restores_the_node_with_no_run_in_between reboots a Debian node",
    "README.md": "the index; it has no commands",
    "replace-flanneld.md": "needs a running flanneld to replace; test_containers.py and test_system_nodes.py check the subnet.env it leaves to the collection",
    "docker.md": "dockerd does not start on this machine or in its lab nodes; the runbook says so and has no sh block",
}
BLOCK = re.compile(r"^( *)```sh\n(?P<body>.*?)^\1```\n(?:\s*<!-- expect(?: rc=(?P<rc>\d+))?: (?P<text>.*?) -->)?", re.M | re.S)


def blocks(name):
    with open(os.path.join(RUNBOOKS, name)) as handle:
        text = handle.read()
    return [(m.group("body"), int(m.group("rc") or 0), m.group("text")) for m in BLOCK.finditer(text)]


def test_every_runbook_is_run_here_or_elsewhere():
    names = sorted(n for n in os.listdir(RUNBOOKS) if n.endswith(".md"))
    assert sorted(set(SCENARIOS) | set(RUN_ELSEWHERE)) == names
    for name in SCENARIOS:
        assert blocks(name), "%s has no sh block" % name


@pytest.fixture
def inventory_path(tmp_path):
    """Where the lab writes its inventory (put under git by the test: the rollback runbook reverts in it)."""
    directory = tmp_path / "inventory"
    directory.mkdir()
    return directory / "hosts.yml"


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_runbook_commands_run_on_the_lab(name, inventory_path):
    topology, backend, converge_first = SCENARIOS[name]
    inventory = inventory_path
    env = dict(
        PATH=BIN + os.pathsep + os.environ["PATH"],
        GIT_AUTHOR_NAME="runbook test",
        GIT_AUTHOR_EMAIL="runbook@test.invalid",
        GIT_COMMITTER_NAME="runbook test",
        GIT_COMMITTER_EMAIL="runbook@test.invalid",
    )
    with running_lab(LAB, topology, inventory):
        if converge_first:
            first = playbook("playbooks/%s.yml" % backend, "-i", str(inventory))
            assert first.returncode == 0, first.stdout[-3000:]
        else:
            assert blocks(name)[0][0].startswith("ansible-playbook playbooks/%s.yml -i INVENTORY\n" % backend)
        git = ["git", "-C", str(inventory.parent)]
        for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "the lab's inventory"]):
            done = run(*git, *args, env=env)
            assert done.returncode == 0, done.stderr
        for number, (body, rc, text) in enumerate(blocks(name), 1):
            script = body.replace("INVENTORY_DIR", str(inventory.parent)).replace("INVENTORY", str(inventory)).replace("BACKEND", backend)
            res = run("bash", "-e", "-o", "pipefail", "-c", script, env=env)
            where = "%s block %d:\n%s\n--- output:\n%s%s" % (name, number, script, res.stdout[-4000:], res.stderr[-2000:])
            assert res.returncode == rc, where
            assert "Traceback" not in res.stdout + res.stderr, where
            if text:
                assert text in res.stdout + res.stderr, where
