"""The collection on lab nodes that are Debian systems, and a real reboot.

Each node of lab/topologies/systems.yml boots its own Debian root with systemd as PID 1
(systemd-nspawn in the node's network namespace) and Ansible reaches its own sshd; the
modules run with the node's /usr/bin/python3 and its distribution's pyroute2: 0.7.2 on
Debian 12, 0.7.7 on Debian 13, none on the third node, which gets the collection's
private copy. Then ansible.builtin.reboot reboots one: it comes back in a fresh network
namespace (nothing of the routed network left, as after a power cycle), systemd runs
routednet-restore.service as a real unit, and the pods answer with no run of the
collection in between.
"""

import json
import os
import shutil
import tempfile

import pytest

from labhelpers import BIN, playbook, recap, restorable_state, run, running_lab

pytestmark = [pytest.mark.lab, pytest.mark.slow, pytest.mark.skipif(os.geteuid() != 0, reason="needs root: builds a lab")]

LAB = "systems"
NODES = ("deb12", "deb13", "bare12")


@pytest.fixture(scope="module")
def systems(tmp_path_factory):
    missing = [tool for tool in ("systemd-nspawn", "mmdebstrap", "socat") if not shutil.which(tool)]
    assert not missing, "scripts/setup.sh --tests installs %s" % ", ".join(missing)
    with running_lab(LAB, "systems.yml", tmp_path_factory.mktemp("systems") / "hosts.yml") as inventory:
        yield inventory


def play(inventory, name, *extra):
    res = playbook(os.path.join("playbooks", name), "-i", str(inventory), *extra)
    assert res.returncode == 0, res.stdout[-5000:] + res.stderr[-2000:]
    return res.stdout


def on_nodes(inventory, module, args, hosts="all"):
    """An ad-hoc module run; {host: its result} (from Ansible's tree callback)."""
    with tempfile.TemporaryDirectory() as tree:
        res = run(os.path.join(BIN, "ansible"), hosts, "-i", str(inventory), "-m", module, "-a", args, "--tree", tree)
        results = {}
        for host in os.listdir(tree):
            with open(os.path.join(tree, host)) as handle:
                results[host] = json.load(handle)
    assert results, res.stdout[-3000:] + res.stderr[-2000:]
    return results


def test_a_mixed_debian_12_and_13_cluster_converges_on_their_own_pyroute2(systems):
    play(systems, "vxlan.yml")
    assert "62 vxlan" in play(systems, "verify.yml", "-e", "verify_expected_ttl=62")
    play(systems, "hostgw.yml")
    matrix = play(systems, "verify.yml", "-e", "verify_expected_ttl=62")
    assert matrix.count("62 direct") == len(NODES) * (len(NODES) - 1), matrix[-3000:]

    found = on_nodes(systems, "routednet.fabric.node_facts", "underlay_ip={{ routednet_underlay_ip }}")
    sources = {host: (r["pyroute2"]["source"], r["pyroute2"]["version"]) for host, r in found.items()}
    controller = __import__("pyroute2").__version__
    assert sources == {"deb12": ("system", "0.7.2"), "deb13": ("system", "0.7.7"), "bare12": ("private", controller)}, sources
    # the node's own Python: Debian's release, and nothing was installed into it
    own = on_nodes(systems, "ansible.builtin.shell", "cat /etc/debian_version; python3 -c 'import pyroute2' 2>/dev/null && echo has || echo none")
    assert {h: (r["stdout_lines"][0].split(".")[0], r["stdout_lines"][1]) for h, r in own.items()} == {
        "deb12": ("12", "has"),
        "deb13": ("13", "has"),
        "bare12": ("12", "none"),
    }


@pytest.mark.parametrize("backend", ["vxlan", "hybrid"])
def test_a_real_reboot_restores_the_node_with_no_run_in_between(systems, backend):
    """Backends in turn on one lab (so the saved state also follows each switch); host-gw's
    reboot is the default lab's (test_lab.py, test_operator_flow_on_the_default_lab)."""
    play(systems, "%s.yml" % backend)
    before = restorable_state(LAB, "deb13")
    assert before["forwarding"] == "1" and any(link[0] == "cni0" for link in before["links"]) and "set nodes" in before["firewall"]
    namespace = "/run/netns/rnlab-%s-node-deb13" % LAB
    inode = os.stat(namespace).st_ino

    rebooted = on_nodes(systems, "ansible.builtin.reboot", "reboot_timeout=180", hosts="deb13")["deb13"]
    assert rebooted.get("rebooted") and not rebooted.get("failed"), rebooted
    # it came back in a fresh network namespace, where only the unit can have put it all back
    assert os.stat(namespace).st_ino != inode
    unit = on_nodes(systems, "ansible.builtin.command", "systemctl show -p ActiveState -p Result -p ExecMainStatus routednet-restore.service", hosts="deb13")
    assert sorted(unit["deb13"]["stdout_lines"]) == ["ActiveState=active", "ExecMainStatus=0", "Result=success"], unit
    journal = on_nodes(systems, "ansible.builtin.command", "journalctl -b -u routednet-restore.service --no-pager -o cat", hosts="deb13")
    text = journal["deb13"]["stdout"]
    assert "create bridge cni0" in text and "0 failed (node deb13)" in text, text
    assert restorable_state(LAB, "deb13") == before
    # /run is empty after a boot: flannel's subnet.env is back, written before any runtime starts
    env = on_nodes(systems, "ansible.builtin.command", "cat /run/flannel/subnet.env", hosts="deb13")["deb13"]["stdout_lines"]
    assert env[0].startswith("# Managed by routednet.fabric") and "FLANNEL_SUBNET=10.244.3.1/24" in env, env
    order = on_nodes(systems, "ansible.builtin.command", "systemctl show -p Before routednet-restore.service", hosts="deb13")["deb13"]["stdout"]
    assert all(unit in order for unit in ("containerd.service", "crio.service", "podman.service", "kubelet.service", "docker.service")), order

    matrix = play(systems, "verify.yml", "-e", "verify_expected_ttl=62", "-e", "verify_full_size=true")
    assert matrix.count("62 ") == len(NODES) * (len(NODES) - 1), matrix[-3000:]
    check = play(systems, "%s.yml" % backend, "--check")
    assert [recap(check, node)["changed"] for node in NODES] == [0, 0, 0], check[-3000:]
