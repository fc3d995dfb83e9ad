"""Nodes joining and leaving, drift, and an operator's own state living beside ours."""

import re

import pytest
import yaml

from ansible_collections.routednet.fabric.plugins.module_utils.planning import vtep_mac
from labhelpers import forwarding_state, lab_down, lab_up, node_state, ns_of, playbook, recap, sh

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
    return yaml.safe_load((inventory.parent / "group_vars" / "all" / "routednet_leases.yml").read_text())["routednet_leases"]


def converge(play, inventory, *extra):
    res = playbook("playbooks/%s.yml" % play, "-i", str(inventory), *extra)
    assert res.returncode == 0, res.stdout[-6000:]
    return res


def lab_of(name, topology, tmp_path):
    """A lab with its own name and inventory, removed at the end even on failure."""
    inventory = tmp_path / "inventory" / "hosts.yml"
    lab_up(name, topology, inventory)
    try:
        yield name, inventory
    finally:
        lab_down(name)


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
    # vm2 changes only the calls that carry the peers (vm1 also writes the lease file)
    assert recap(res.stdout, "vm2")["changed"] == (1 if backend == "hostgw" else 2), res.stdout
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
    res = converge("decommission", inventory, "-e", "routednet_decommission=vm3")
    for node in ("vm1", "vm2"):
        assert forwarding_state(lab, node) == two_nodes[node]
    vm3 = ns_of(lab, "vm3")
    assert "proto 201" not in sh("ip", "-n", vm3, "route", "show", "table", "all")
    links = sh("ip", "-n", vm3, "-o", "link")
    assert " cni0:" not in links and "routednet" not in links and "veth" not in links, links
    assert "vm3" not in leases(inventory)
    operator_state_intact()
    # and the cluster without vm3 is converged already
    res = converge(backend, without_vm3)
    assert recap(res.stdout, "vm1")["changed"] == 0 and recap(res.stdout, "vm2")["changed"] == 0, res.stdout


@pytest.fixture
def seed000(tmp_path):
    yield from lab_of("drift", "seed000.yml", tmp_path)


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
