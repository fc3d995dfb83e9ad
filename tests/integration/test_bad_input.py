"""The catalogue of bad input: each case fails before any host changes, with one line
that names the host (or "all") and the variable, and writes no lease."""

import glob
import json
import shutil
import subprocess

import pytest
import yaml

from labhelpers import assert_refused_without_change, ns_of, running_lab

pytestmark = [pytest.mark.lab, pytest.mark.slow]

LAB = "badinput"

# (case id, playbook, extra vars, host_vars by node, lease file content, message)
CATALOGUE = [
    ("pod subnets overlap", "hostgw", {"routednet_pod_cidr": "172.17.0.0/24"}, {}, None, "node2: pod subnet 172.17.0.0/24 overlaps 172.17.0.0/24 of node1"),
    (
        "pod subnet outside the cluster",
        "hostgw",
        {"routednet_cluster_cidr": "10.244.0.0/16"},
        {},
        None,
        "node1: routednet_pod_cidr 172.17.0.0/24 is outside routednet_cluster_cidr 10.244.0.0/16",
    ),
    ("subnet prefix out of range", "hostgw", {"routednet_subnet_prefix": 8}, {}, None, "routednet_subnet_prefix /8 must be longer than the cluster CIDR /12"),
    (
        "misaligned pod subnet",
        "hostgw",
        {},
        {"node1": {"routednet_pod_cidr": "172.17.0.5/24"}},
        None,
        "node1: routednet_pod_cidr 172.17.0.5/24 is not aligned (host bits set); use 172.17.0.0/24",
    ),
    ("cluster CIDR not a CIDR", "hostgw", {"routednet_cluster_cidr": "172.16.0.0"}, {}, None, "all: routednet_cluster_cidr '172.16.0.0' has no prefix length"),
    (
        "duplicate underlay address",
        "hostgw",
        {},
        {"node2": {"routednet_underlay_ip": "192.168.245.168"}},
        None,
        "node2: routednet_underlay_ip 192.168.245.168 is also the underlay address of node1; each node needs its own",
    ),
    (
        "missing underlay address",
        "hostgw",
        {},
        {"node2": {"routednet_underlay_ip": ""}},
        None,
        "node2: routednet_underlay_ip is not set and ansible_host is not an IPv4 address; set routednet_underlay_ip",
    ),
    (
        "underlay address not on the host",
        "hostgw",
        {},
        {"node2": {"routednet_underlay_ip": "192.168.245.99"}},
        None,
        "routednet_underlay_ip 192.168.245.99 is not configured on any interface of this host",
    ),
    (
        "pod address outside its node subnet",
        "hostgw",
        {},
        {"node1": {"routednet_pods": [{"name": "docker1", "address": "172.18.0.9"}]}},
        None,
        "node1: routednet_pods[docker1].address 172.18.0.9 is not a usable address of the node subnet 172.17.0.0/24",
    ),
    (
        "pod address is the gateway",
        "hostgw",
        {},
        {"node1": {"routednet_pods": [{"name": "docker1", "address": "172.17.0.1"}]}},
        None,
        "node1: routednet_pods[docker1].address 172.17.0.1 is already in use (gateway or another pod)",
    ),
    (
        "lease outside the cluster",
        "hostgw",
        {},
        {"node1": {"routednet_pod_cidr": ""}},
        {"node1": "10.9.0.0/24", "node2": "172.18.0.0/24"},
        "node1: its lease 10.9.0.0/24 is outside routednet_cluster_cidr 172.16.0.0/12; set routednet_pod_cidr or remove the lease",
    ),
    (
        "cluster CIDR over the underlay",
        "hostgw",
        {"routednet_cluster_cidr": "192.168.0.0/16"},
        {"node1": {"routednet_pod_cidr": "192.168.1.0/24"}, "node2": {"routednet_pod_cidr": "192.168.2.0/24"}},
        None,
        "node1: routednet_underlay_ip 192.168.245.168 lies inside routednet_cluster_cidr 192.168.0.0/16",
    ),
    (
        "cluster CIDR over the address Ansible connects to",
        "hostgw",
        {},
        {"node2": {"ansible_host": "172.30.0.9"}},
        None,
        "node2: routednet_cluster_cidr 172.16.0.0/12 covers ansible_host 172.30.0.9, the address Ansible connects to",
    ),
    (
        "pod subnet over an address the host uses",
        "hostgw",
        {},
        {},
        None,
        "node1: the pod subnet 172.18.0.0/24 of node2 overlaps 172.18.0.200 on opbr0 (network 172.18.0.200/32), which this host already uses",
    ),
    ("unknown backend", "hostgw", {"routednet_backend": "gre"}, {}, None, "value of routednet_backend must be one of: hostgw, vxlan, ipip, hybrid, got: gre"),
    ("VXLAN network identifier 0", "vxlan", {"routednet_vxlan_vni": 0}, {}, None, "routednet_vxlan_vni=0 (1-16777215)"),
    ("VXLAN port out of range", "vxlan", {"routednet_vxlan_port": 70000}, {}, None, "routednet_vxlan_port=70000 (1-65535)"),
    ("device name too long", "vxlan", {"routednet_vxlan_device": "a-name-far-too-long"}, {}, None, "routednet_vxlan_device=a-name-far-too-long (1-15"),
    ("MTU too small", "ipip", {"routednet_mtu": 100}, {}, None, "routednet_mtu=100 (0 for underlay MTU - 20"),
    ("IPIP device name too long", "ipip", {"routednet_ipip_device": "a-name-far-too-long"}, {}, None, "routednet_ipip_device=a-name-far-too-long (1-15"),
    (
        "unknown hybrid tunnel",
        "hybrid",
        {"routednet_hybrid_encap": "gre"},
        {},
        None,
        "routednet_hybrid_encap=gre is not a tunnel the hybrid backend can use; set it to vxlan (the default) or ipip",
    ),
    ("decommission without a node", "decommission", {}, {}, None, "routednet_decommission is empty; name the nodes to take out"),
    (
        "decommission of a node not in the inventory",
        "decommission",
        {"routednet_decommission": "node9"},
        {},
        None,
        "node9: routednet_decommission names a host that is not in the group 'routednet_nodes'",
    ),
]

# Operator state some cases need on node1, set up before the play and removed after it.
SETUP = {
    "pod subnet over an address the host uses": (
        [["link", "add", "opbr0", "type", "bridge"], ["addr", "add", "172.18.0.200/32", "dev", "opbr0"]],
        [["link", "del", "opbr0"]],
    ),
}


@pytest.fixture(scope="module")
def catalogue_lab(tmp_path_factory):
    with running_lab(LAB, "seed000.yml", tmp_path_factory.mktemp("badinput") / "hosts.yml") as inventory:
        yield inventory


def test_the_catalogue_has_at_least_15_distinct_cases():
    assert len({case[0] for case in CATALOGUE}) == len(CATALOGUE) >= 15


@pytest.mark.parametrize("case, play, extra, host_vars, leases, message", CATALOGUE, ids=[case[0] for case in CATALOGUE])
def test_bad_input_fails_before_any_host_changes(catalogue_lab, tmp_path, case, play, extra, host_vars, leases, message):
    inventory = tmp_path / "hosts.yml"
    shutil.copy(catalogue_lab, inventory)
    for node, values in host_vars.items():
        (tmp_path / "host_vars").mkdir(exist_ok=True)
        (tmp_path / "host_vars" / ("%s.yml" % node)).write_text(yaml.safe_dump(values))
    lease_file = tmp_path / "group_vars" / "all" / "routednet_leases.yml"
    if leases:
        lease_file.parent.mkdir(parents=True)
        lease_file.write_text(yaml.safe_dump({"routednet_leases": leases}))
    before_leases = lease_file.read_text() if leases else None
    setup, undo = SETUP.get(case, ([], []))
    for args in setup:
        subprocess.run(["ip", "-n", ns_of(LAB, "node1")] + args, check=True)
    try:
        res = assert_refused_without_change(LAB, ["playbooks/%s.yml" % play, "-i", str(inventory), "-e", json.dumps(extra)], message)
    finally:
        for args in undo:
            subprocess.run(["ip", "-n", ns_of(LAB, "node1")] + args, check=True)
    assert "changed=1" not in res.stdout and " changed=0 " in res.stdout, res.stdout
    if leases:
        assert lease_file.read_text() == before_leases
    else:
        assert not glob.glob(str(tmp_path / "group_vars" / "all" / "*")), "a lease was written for a refused plan"
