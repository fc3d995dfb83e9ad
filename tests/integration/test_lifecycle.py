"""Nodes joining and leaving, drift, and an operator's own state living beside ours."""

import json
import os
import re
import subprocess
import sys

import pytest
import yaml

from ansible_collections.routednet.fabric.plugins.module_utils.backends.vxlan import vtep_mac
from conftest import REPO
from labhelpers import BIN, LAB_TOOL, forwarding_state, holding_locks, in_node_namespaces, node_state, ns_of, playbook, recap, run, running_lab, sh

pytestmark = [pytest.mark.lab, pytest.mark.slow]

# An operator's own state on a node: another protocol's route, a link with an address,
# a permanent neighbour on the underlay, a VXLAN device of their own with an FDB entry.
OPERATOR_SETUP = [
    ["ip", "route", "add", "10.123.0.0/24", "via", "{peer}", "proto", "static"],
    ["ip", "link", "add", "opbr0", "type", "bridge"],
    ["ip", "addr", "add", "10.99.0.1/24", "dev", "opbr0"],
    ["ip", "neigh", "add", "{spare}", "lladdr", "02:00:00:00:00:fa", "dev", "eth0", "nud", "permanent"],
    ["ip", "link", "add", "opvx", "type", "vxlan", "id", "77", "dstport", "4789", "dev", "eth0", "nolearning"],
    ["bridge", "fdb", "append", "00:00:00:00:00:00", "dev", "opvx", "dst", "{spare}"],
]


def add_operator_state(lab, node, peer, spare):
    for cmd in OPERATOR_SETUP:
        sh(*[cmd[0], "-n", ns_of(lab, node)] + [word.format(peer=peer, spare=spare) for word in cmd[1:]])


def assert_operator_state(lab, node, peer, spare):
    ns = ns_of(lab, node)
    assert "10.123.0.0/24 via %s dev eth0 proto static" % peer in sh("ip", "-n", ns, "route")
    assert "inet 10.99.0.1/24" in sh("ip", "-n", ns, "addr", "show", "opbr0")
    assert "%s dev eth0 lladdr 02:00:00:00:00:fa PERMANENT" % spare in sh("ip", "-n", ns, "neigh", "show", "nud", "permanent")
    assert "vxlan id 77" in sh("ip", "-n", ns, "-d", "link", "show", "opvx")
    assert "00:00:00:00:00:00 dst %s self permanent" % spare in sh("bridge", "-n", ns, "fdb", "show", "dev", "opvx")


def write_inventory_without(inventory, node):
    data = yaml.safe_load(inventory.read_text())
    del data["all"]["children"]["routednet_nodes"]["hosts"][node]
    smaller = inventory.parent / ("hosts-without-%s.yml" % node)  # same directory: same lease file
    smaller.write_text(yaml.safe_dump(data))
    return smaller


def leases(inventory):
    return yaml.safe_load((inventory.parent / ".routednet-leases.yml").read_text())["routednet_leases"]


def converge(play, inventory, *extra):
    res = playbook("playbooks/%s.yml" % play, "-i", str(inventory), *extra)
    assert res.returncode == 0, res.stdout[-6000:]
    return res


def lab_of(name, topology, tmp_path):
    """A lab with its own name and inventory, removed at the end even on failure."""
    with running_lab(name, topology, tmp_path / "inventory" / "hosts.yml") as inventory:
        yield name, inventory


@pytest.fixture
def seed001(tmp_path):
    yield from lab_of("life", "seed001.yml", tmp_path)


@pytest.mark.parametrize("backend", ["hostgw", "vxlan"])
def test_join_leave_and_decommission(seed001, backend):
    lab, inventory = seed001
    without_vm3 = write_inventory_without(inventory, "vm3")
    for node, peer in (("vm1", "192.168.32.246"), ("vm3", "192.168.32.245")):
        add_operator_state(lab, node, peer, "192.168.32.250")

    def operator_state_intact():
        assert_operator_state(lab, "vm1", "192.168.32.246", "192.168.32.250")
        assert_operator_state(lab, "vm3", "192.168.32.245", "192.168.32.250")

    converge(backend, without_vm3)
    two_nodes = {node: forwarding_state(lab, node) for node in ("vm1", "vm2")}
    leases_before = leases(inventory)
    operator_state_intact()

    # vm3 joins: nobody is renumbered, each peer gains exactly vm3's entries
    res = converge(backend, inventory)
    assert {k: v for k, v in leases(inventory).items() if k != "vm3"} == leases_before
    for node in ("vm1", "vm2"):
        gained = forwarding_state(lab, node) - two_nodes[node]
        assert not two_nodes[node] - forwarding_state(lab, node), "an entry went away on %s" % node
        assert gained and all("172.247.0.0/24" in line or "192.168.32.247" in line or "172.247.0.0 " in line for line in gained), gained
        assert len(gained) == (1 if backend == "hostgw" else 3), gained  # route (+ neighbour + FDB entry)
    # vm2's one node_state call is its only change (its routes or entries, the firewall's
    # node set, the saved state); vm1 also writes the lease file
    assert recap(res.stdout, "vm2")["changed"] == 1, res.stdout
    ttl = "62"
    res = converge("verify", inventory, "-e", "verify_expected_ttl=%s" % ttl)
    assert re.search(r"vm1/ns245\s+-\s+62 (direct|vxlan)\s+62", res.stdout), res.stdout
    operator_state_intact()

    # vm3 is dropped from the inventory while vm2 is down (left out of the run)
    converge(backend, without_vm3, "--limit", "vm1")
    assert forwarding_state(lab, "vm1") == two_nodes["vm1"]
    assert any("172.247.0.0/24" in line for line in forwarding_state(lab, "vm2")), "vm2 was not supposed to be reached"
    # vm2 is back: the stale entries go, nothing else changes
    res = converge(backend, without_vm3)
    assert forwarding_state(lab, "vm2") == two_nodes["vm2"]
    assert recap(res.stdout, "vm1")["changed"] == 0, res.stdout
    operator_state_intact()

    # vm3 comes back, then leaves by the documented play
    converge(backend, inventory)
    if backend == "hostgw":
        # decommission takes each host's lock too: while an operator's run holds vm2's,
        # it waits, fails naming the holder, and nobody has forgotten vm3 yet
        before_decommission = {node: forwarding_state(lab, node) for node in ("vm1", "vm2")}
        with holding_locks(inventory, "vm2", "maint", "operator maintenance"):
            res = playbook("playbooks/decommission.yml", "-i", str(inventory), "-e", "routednet_decommission=vm3", "-e", "routednet_lock_timeout=2")
            assert res.returncode != 0 and "operator maintenance" in res.stdout and re.search(r"waited [12] s\.", res.stdout), res.stdout[-4000:]
            assert {node: forwarding_state(lab, node) for node in ("vm1", "vm2")} == before_decommission
            assert "vm3" in leases(inventory)
    res = converge("decommission", inventory, "-e", "routednet_decommission=vm3")
    for node in ("vm1", "vm2"):
        assert forwarding_state(lab, node) == two_nodes[node]
    vm3 = ns_of(lab, "vm3")
    assert "proto 201" not in sh("ip", "-n", vm3, "route", "show", "table", "all")
    links = sh("ip", "-n", vm3, "-o", "link")
    assert " cni0:" not in links and "routednet" not in links and "veth" not in links, links
    assert "routednet" not in sh("ip", "netns", "exec", vm3, "nft", "list", "tables")
    # its runtime files went too (the CNI network list, flannel's subnet.env)
    assert sh(*in_node_namespaces(lab, "vm3", "ls", "-A", "/etc/cni/net.d", "/run/flannel")).split() == ["/etc/cni/net.d:", "/run/flannel:"]
    assert "vm3" not in leases(inventory)
    for node, peer_subnet in (("vm1", "172.246.0.0/24"), ("vm2", "172.245.0.0/24")):  # a reboot would not bring vm3 back
        saved = sh(*in_node_namespaces(lab, node, "cat", "/etc/routednet/boot-state.json"))
        assert "172.247.0.0" not in saved and "192.168.32.247" not in saved and peer_subnet in saved, saved
    operator_state_intact()
    # and the cluster without vm3 is converged already
    res = converge(backend, without_vm3)
    assert recap(res.stdout, "vm1")["changed"] == 0 and recap(res.stdout, "vm2")["changed"] == 0, res.stdout


@pytest.fixture
def seed000(tmp_path):  # (seed 000's layout: the default lab's)
    yield from lab_of("drift", "default.yml", tmp_path)


def test_drift_of_entries_mtu_and_addresses_is_listed_then_put_back(seed000):
    lab, inventory = seed000
    converge("vxlan", inventory)
    converged = {node: (node_state(lab, node), forwarding_state(lab, node)) for node in ("node1", "node2")}
    ns = ns_of(lab, "node1")
    mac = vtep_mac("node2")
    sh("bridge", "-n", ns, "fdb", "del", mac, "dev", "vxlan-routednet", "dst", "192.168.245.172")
    sh("ip", "-n", ns, "neigh", "del", "172.18.0.0", "dev", "vxlan-routednet")
    sh("ip", "-n", ns, "link", "set", "cni0", "mtu", "1400")
    sh("ip", "-n", ns, "addr", "del", "172.17.0.1/24", "dev", "cni0")
    sh("ip", "-n", ns, "link", "set", "vxlan-routednet", "mtu", "1300")
    drifted = node_state(lab, "node1"), forwarding_state(lab, "node1")

    res = converge("vxlan", inventory, "--check", "--diff")
    for expected in (
        "+172.18.0.0 dev vxlan-routednet lladdr %s PERMANENT" % mac,
        "+%s dev vxlan-routednet dst 192.168.245.172 self permanent" % mac,
        "-    mtu: 1400",
        "+    mtu: 1450",
        "+    - 172.17.0.1/24",
        "-    mtu: 1300",
    ):
        assert expected in res.stdout, (expected, res.stdout[-8000:])
    assert (node_state(lab, "node1"), forwarding_state(lab, "node1")) == drifted, "check mode changed the host"
    assert recap(res.stdout, "node2")["changed"] == 0

    converge("vxlan", inventory)
    assert {node: (node_state(lab, node), forwarding_state(lab, node)) for node in ("node1", "node2")} == converged
    converge("verify", inventory, "-e", "verify_expected_ttl=62", "-e", "verify_full_size=true")


@pytest.fixture(scope="module")
def reboot_lab(tmp_path_factory):
    for lab, inventory in lab_of("reboot", "seed001.yml", tmp_path_factory.mktemp("reboot")):
        add_operator_state(lab, "vm1", "192.168.32.246", "192.168.32.250")
        yield lab, inventory


@pytest.fixture
def seed001_down(tmp_path):
    yield from lab_of("down", "seed001.yml", tmp_path)


def test_node_unreachable_mid_run(seed001_down):
    """vm3 joins, and goes dark once the nodes are planned: vm1 and vm2 converge anyway
    and vm3 is reported; once it is back, a re-run converges it and nobody else changes."""
    lab, inventory = seed001_down
    converge("vxlan", write_inventory_without(inventory, "vm3"))
    env = dict(os.environ, ANSIBLE_FORCE_COLOR="0", NO_COLOR="1", PYTHONUNBUFFERED="1")
    cmd = [os.path.join(BIN, "ansible-playbook"), "playbooks/vxlan.yml", "-i", str(inventory)]
    with subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            # (the last task before the converge, run on the controller: every node is planned and read)
            if line.startswith("TASK [routednet.fabric.plan : Check every host and every pair of nodes"):
                assert run(sys.executable, LAB_TOOL, "power-off", "--name", lab, "--node", "vm3").returncode == 0
                break
        lines += proc.stdout.readlines()
    out = "".join(lines)
    assert proc.returncode != 0, out
    assert recap(out, "vm3")["unreachable"] == 1, out
    for node in ("vm1", "vm2"):
        assert recap(out, node)["failed"] == 0 and recap(out, node)["unreachable"] == 0, out
        # converged for three nodes: vm3's route, neighbour and FDB entry are there
        assert len([line for line in forwarding_state(lab, node) if "172.247.0.0" in line or "192.168.32.247" in line]) == 3, node

    booted = run(sys.executable, LAB_TOOL, "power-on", "--name", lab, "--node", "vm3")
    assert booted.returncode == 0, booted.stderr
    res = converge("vxlan", inventory)
    assert recap(res.stdout, "vm1")["changed"] == 0 and recap(res.stdout, "vm2")["changed"] == 0, res.stdout
    assert recap(res.stdout, "vm3")["changed"] > 0
    converge("verify", inventory, "-e", "verify_expected_ttl=62")


def test_two_runs_at_once_take_turns_on_each_host(seed001_down):
    """vm3 joins through two runs started together: they do not interleave (one of them
    changes nothing on any host: the other had made every change first), the later one
    says which run it waited for, and neither deadlocks on a host the other holds."""
    lab, inventory = seed001_down
    converge("vxlan", write_inventory_without(inventory, "vm3"))
    cmd = [os.path.join(BIN, "ansible-playbook"), "playbooks/vxlan.yml", "-i", str(inventory)]
    env = dict(os.environ, ANSIBLE_FORCE_COLOR="0", NO_COLOR="1")
    procs = [subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for _run in range(2)]
    outs = [proc.communicate(timeout=600)[0] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], outs
    # what each run changed on the hosts, in its provisioning play (both runs plan at the
    # same time and both write vm3's lease on the controller, before any lock)
    provisioned = [out[out.index("PLAY [Provision the VXLAN network]") : out.index("PLAY RECAP")] for out in outs]
    changes = [re.findall(r"^changed: \[(vm\d)\]", part, re.M) for part in provisioned]
    later = [i for i, changed in enumerate(changes) if not changed]
    assert len(later) == 1, "the runs' changes interleaved: %s" % changes
    # (said when it first finds a host held, and again if it still has to wait for one)
    waited = re.search(r"held by run \w+ from \S+, Provision the VXLAN network", outs[later[0]])
    assert waited, outs[later[0]][-4000:]
    assert set(changes[1 - later[0]]) == {"vm1", "vm2", "vm3"}, changes
    converge("verify", inventory, "-e", "verify_expected_ttl=62")


def test_pods_that_leave_the_inventory_are_deleted(reboot_lab):
    lab, inventory = reboot_lab

    def on_vm2(*cmd):
        return sh(*in_node_namespaces(lab, "vm2", *cmd))

    on_vm2("ip", "netns", "add", "opns")  # an operator's namespace on the node
    data = yaml.safe_load(inventory.read_text())
    data["all"]["children"]["routednet_nodes"]["hosts"]["vm2"]["routednet_pods"] = ["ns246", "extra"]
    bigger = inventory.parent / "hosts-extra-pod.yml"  # same directory: same lease file
    bigger.write_text(yaml.safe_dump(data))
    converge("vxlan", bigger)
    assert on_vm2("ip", "netns", "list").split().count("extra") == 1

    def links():
        return {link["ifname"]: link.get("master") for link in json.loads(sh("ip", "-j", "-n", ns_of(lab, "vm2"), "link", "show"))}

    before = links()
    converge("vxlan", inventory)
    netns = on_vm2("ip", "netns", "list").split()
    assert "extra" not in netns and "ns246" in netns and "opns" in netns, netns
    # its veth went with it, nothing else did
    after = links()
    gone = set(before) - set(after)
    assert len(gone) == 1 and before[gone.pop()] == "cni0" and set(after) <= set(before), (before, after)
    converge("verify", inventory, "-e", "verify_expected_ttl=62")
    again = converge("vxlan", inventory)
    assert recap(again.stdout, "vm2")["changed"] == 0, again.stdout[-3000:]
