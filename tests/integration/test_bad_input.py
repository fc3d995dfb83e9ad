"""The catalogue of bad input: each case fails before any host changes, with one line
that names the host (or "all") and the variable, and writes no lease. "Changes" covers
links, addresses, routes, forwarding, the node's namespaces, files and nftables tables
(labhelpers.node_state)."""

import json
import shutil
import subprocess

import pytest
import yaml

from labhelpers import assert_refused_without_change, in_node_namespaces, running_lab

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
    (
        "unknown backend",
        "hostgw",
        {"routednet_backend": "gre"},
        {},
        None,
        "node1: routednet_backend=gre is not a backend; set hostgw, vxlan, ipip or hybrid (or run that backend's playbook, such as playbooks/hostgw.yml)",
    ),
    (
        "VXLAN network identifier 0",
        "vxlan",
        {"routednet_vxlan_vni": 0},
        {},
        None,
        "node1: routednet_vxlan_vni=0 is out of range; set a whole number from 1 to 16777215",
    ),
    (
        "VXLAN port out of range",
        "vxlan",
        {"routednet_vxlan_port": 70000},
        {},
        None,
        "node1: routednet_vxlan_port=70000 is out of range; set a whole number from 1 to 65535",
    ),
    (
        "device name too long",
        "vxlan",
        {"routednet_vxlan_device": "a-name-far-too-long"},
        {},
        None,
        "node1: routednet_vxlan_device=a-name-far-too-long is not a link name (1-15",
    ),
    (
        "MTU too small",
        "ipip",
        {"routednet_mtu": 100},
        {},
        None,
        "node1: routednet_mtu=100 is out of range; set 0 (the underlay's MTU minus the backend's overhead) or 576-9000",
    ),
    (
        "IPIP device name too long",
        "ipip",
        {"routednet_ipip_device": "a-name-far-too-long"},
        {},
        None,
        "node1: routednet_ipip_device=a-name-far-too-long is not a link name (1-15",
    ),
    (
        "unknown hybrid tunnel",
        "hybrid",
        {"routednet_hybrid_encap": "gre"},
        {},
        None,
        "node1: routednet_hybrid_encap=gre is not a tunnel the hybrid backend can use; set it to vxlan (the default) or ipip",
    ),
    # issue 16: each of these once passed every check and changed or destroyed state
    (
        "VTEP named like the bridge",
        "vxlan",
        {"routednet_vxlan_device": "cni0"},
        {},
        None,
        "node1: routednet_bridge_name and routednet_vxlan_device both name the link cni0",
    ),
    (
        "VTEP named like an existing link",
        "vxlan",
        {"routednet_vxlan_device": "eth0"},
        {},
        None,
        "node1: routednet_vxlan_device=eth0: the link eth0 (veth) on this host was not made by routednet.fabric",
    ),
    (
        "pod named like an operator's namespace",
        "hostgw",
        {},
        {"node1": {"routednet_pods": ["docker1", "opns"]}},
        None,
        "node1: routednet_pods names opns, but a network namespace opns already exists on this host and was not made by routednet.fabric",
    ),
    (
        "firewall table named like an operator's",
        "vxlan",
        {"routednet_firewall_table": "filter"},
        {},
        None,
        "node1: routednet_firewall_table=filter: the nftables table inet filter exists on this host and was not made by routednet.fabric",
    ),
    ("pods as a string", "hostgw", {}, {"node1": {"routednet_pods": "p1"}}, None, "node1: routednet_pods=p1 is not a list; write it as a YAML list"),
    ("pod name with a slash", "hostgw", {}, {"node1": {"routednet_pods": ["a/b"]}}, None, "node1: routednet_pods entry a/b is not a valid pod name"),
    ("pod name not in ASCII", "hostgw", {}, {"node1": {"routednet_pods": ["pöd✓"]}}, None, "node1: routednet_pods entry pöd✓ is not a valid pod name"),
    (
        "bridge named like the underlay",
        "hostgw",
        {"routednet_bridge_name": "eth0"},
        {},
        None,
        "node1: routednet_bridge_name=eth0: the link eth0 (veth) on this host",
    ),
    (
        "bridge name too long",
        "hostgw",
        {"routednet_bridge_name": "a-name-far-too-long"},
        {},
        None,
        "node1: routednet_bridge_name=a-name-far-too-long is not a link name",
    ),
    ("host-gw MTU too large", "hostgw", {"routednet_mtu": 70000}, {}, None, "node1: routednet_mtu=70000 is out of range"),
    (
        "cluster CIDR in multicast space",
        "hostgw",
        {"routednet_cluster_cidr": "224.1.0.0/16"},
        {"node1": {"routednet_pod_cidr": ""}, "node2": {"routednet_pod_cidr": ""}},
        None,
        "all: routednet_cluster_cidr 224.1.0.0/16 overlaps 224.0.0.0/4, which is multicast",
    ),
    (
        "cluster-wide setting on one host",
        "vxlan",
        {},
        {"node2": {"routednet_vxlan_vni": 7}},
        None,
        "node2: routednet_vxlan_vni=7 differs from the rest of the cluster (1 on node1); it is cluster-wide",
    ),
    ("one machine under two names", "hostgw", {}, {}, None, "node1, node1b: these inventory names reach the same machine"),
    (
        "an operator's VXLAN device on the port",
        "vxlan",
        {},
        {},
        None,
        "node1: the VXLAN device opvx (VNI 5) on this host, not the collection's, already uses UDP port 8472",
    ),
    (
        "an operator's bridge of the bridge's name",
        "hostgw",
        {},
        {},
        None,
        "node1: routednet_bridge_name=cni0: the link cni0 (bridge) on this host was not made by routednet.fabric",
    ),
    (
        "sysctl file of the operator's",
        "hostgw",
        {"routednet_sysctl_file": "/etc/sysctl.d/99-operator.conf"},
        {},
        None,
        "node1: routednet_sysctl_file=/etc/sysctl.d/99-operator.conf exists on this host and was not written by routednet.fabric",
    ),
    (
        "empty node group",
        "hostgw",
        {"routednet_nodes_group": "spare"},
        {},
        None,
        "all: routednet_nodes_group=spare: the inventory has that group, but it has no hosts",
    ),
    (
        "misspelt node group",
        "hostgw",
        {"routednet_nodes_group": "routednet_nodez"},
        {},
        None,
        "all: routednet_nodes_group=routednet_nodez: the inventory has no such group",
    ),
    (
        "lease file under a file",
        "hostgw",
        {"routednet_lease_file": "{inventory}/leases.yml"},
        {},
        None,
        "hosts.yml, which is a file, not a directory; set routednet_lease_file to a file in a writable directory",
    ),
    (
        "lease file of a bare word",
        "hostgw",
        {},
        {},
        "garbage\n",
        "has no routednet_leases mapping; restore it from version control, or delete it to lease anew",
    ),
    (
        "masquerade not a boolean",
        "hostgw",
        {"routednet_masquerade": "maybe"},
        {},
        None,
        "node1: routednet_masquerade=maybe is not a boolean; write true or false",
    ),
    (
        "loopback underlay address",
        "hostgw",
        {},
        {"node2": {"routednet_underlay_ip": "127.0.0.1"}},
        None,
        "node2: routednet_underlay_ip 127.0.0.1 is a loopback address, which no peer can reach; set it to this node's address",
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

# Operator state some cases need on node1 (commands run on the node), set up before the
# play and removed after it.
SETUP = {
    "pod subnet over an address the host uses": (
        [["ip", "link", "add", "opbr0", "type", "bridge"], ["ip", "addr", "add", "172.18.0.200/32", "dev", "opbr0"]],
        [["ip", "link", "del", "opbr0"]],
    ),
    "pod named like an operator's namespace": (
        [
            ["ip", "netns", "add", "opns"],
            ["ip", "-n", "opns", "link", "add", "opv", "type", "veth", "peer", "name", "opv2"],
            ["ip", "-n", "opns", "addr", "add", "10.99.0.1/24", "dev", "opv"],
        ],
        [["ip", "netns", "del", "opns"]],
    ),
    "firewall table named like an operator's": (
        [["nft", "add table inet filter; add chain inet filter input { type filter hook input priority 0; }; add rule inet filter input tcp dport 22 accept"]],
        [["nft", "delete table inet filter"]],
    ),
    "one machine under two names": ([["ip", "addr", "add", "192.168.245.200/24", "dev", "eth0"]], [["ip", "addr", "del", "192.168.245.200/24", "dev", "eth0"]]),
    "an operator's VXLAN device on the port": (
        [["ip", "link", "add", "opvx", "type", "vxlan", "id", "5", "dstport", "8472", "dev", "eth0"]],
        [["ip", "link", "del", "opvx"]],
    ),
    "an operator's bridge of the bridge's name": ([["ip", "link", "add", "cni0", "type", "bridge"]], [["ip", "link", "del", "cni0"]]),
    "sysctl file of the operator's": (
        [["sh", "-c", "echo net.core.somaxconn=1024 > /etc/sysctl.d/99-operator.conf"]],
        [["rm", "/etc/sysctl.d/99-operator.conf"]],
    ),
}


def second_name_for_node1(inventory):
    """node1 once more, reached the same way, with its second underlay address."""
    hosts = inventory["all"]["children"]["routednet_nodes"]["hosts"]
    hosts["node1b"] = dict(hosts["node1"], routednet_underlay_ip="192.168.245.200", routednet_pods=[])
    hosts["node1b"].pop("routednet_pod_cidr", None)


def empty_group(inventory):
    inventory["all"]["children"]["spare"] = {"hosts": {}}


CATALOGUE += [
    # issue 20: IPv6 pods
    (
        "IPv6 pods on host-gw over an IPv4-only underlay",
        "hostgw",
        {"routednet_cluster_cidr": ["172.16.0.0/12", "fd00:10:244::/56"]},
        {},
        None,
        "node1: routednet_backend=hostgw routes each node's IPv6 pods via its IPv6 underlay address, and node1 has no IPv6 address on eth0 that can stay",
    ),
    (
        "VXLAN over an IPv6 underlay the nodes do not have",
        "vxlan",
        {"routednet_vxlan_underlay": "ipv6"},
        {},
        None,
        "node1: routednet_vxlan_underlay=ipv6 runs each node's VTEP over its IPv6 underlay address, and node1 has no IPv6 address on eth0 that can stay",
    ),
    (
        "a VXLAN underlay that is no address family",
        "vxlan",
        {"routednet_vxlan_underlay": "ipv5"},
        {},
        None,
        "node1: routednet_vxlan_underlay=ipv5 is not ipv4 or ipv6; set ipv4 (the default)",
    ),
    (
        "a pinned IPv6 underlay address the node does not have",
        "vxlan",
        {"routednet_cluster_cidr": ["172.16.0.0/12", "fd00:10:244::/56"]},
        {"node1": {"routednet_underlay_ip_v6": "fd00:192:168:245::168"}},
        None,
        "routednet_underlay_ip_v6 fd00:192:168:245::168 is not configured on any interface of this host",
    ),
    (
        "IPv6 pod network on IPIP",
        "ipip",
        {"routednet_cluster_cidr": ["172.16.0.0/12", "fd00:10:244::/56"]},
        {},
        None,
        "node1, node2: routednet_backend=ipip carries IPv4 only, and routednet_cluster_cidr lists the IPv6 CIDR fd00:10:244::/56: "
        "choose hostgw or vxlan for a cluster with IPv6 pods, or list only the IPv4 CIDR",
    ),
    (
        "two IPv4 cluster CIDRs",
        "vxlan",
        {"routednet_cluster_cidr": ["172.16.0.0/12", "10.244.0.0/16"]},
        {},
        None,
        "all: routednet_cluster_cidr lists two IPv4 CIDRs (172.16.0.0/12, 10.244.0.0/16); give at most one per family",
    ),
    (
        "multicast IPv6 cluster CIDR",
        "hostgw",
        {"routednet_cluster_cidr": ["172.16.0.0/12", "ff05::/56"]},
        {},
        None,
        "all: routednet_cluster_cidr ff05::/56 overlaps ff00::/8, which is multicast, not unicast",
    ),
    (
        "IPv4 pod subnet in an IPv6-only cluster",
        "vxlan",
        {"routednet_cluster_cidr": "fd00:10:244::/56"},
        {},
        None,
        "node1: routednet_pod_cidr 172.17.0.0/24 is IPv4 but routednet_cluster_cidr fd00:10:244::/56 has no IPv4 CIDR",
    ),
    (
        "IPIP in an IPv6-only cluster",
        "ipip",
        {"routednet_cluster_cidr": "fd00:10:244::/56", "routednet_pod_cidr": None},
        {},
        None,
        "routednet_backend=ipip carries IPv4 only, and routednet_cluster_cidr lists the IPv6 CIDR fd00:10:244::/56: "
        "choose hostgw or vxlan for a cluster with IPv6 pods, or give routednet_cluster_cidr an IPv4 CIDR",
    ),
]

# Inventory edits some cases need.
INVENTORY = {"one machine under two names": second_name_for_node1, "empty node group": empty_group}


@pytest.fixture(scope="module")
def catalogue_lab(tmp_path_factory):
    with running_lab(LAB, "default.yml", tmp_path_factory.mktemp("badinput") / "hosts.yml") as inventory:
        yield inventory


def test_the_catalogue_has_at_least_45_distinct_cases():
    assert len({case[0] for case in CATALOGUE}) == len(CATALOGUE) >= 45, len(CATALOGUE)


@pytest.mark.parametrize("case, play, extra, host_vars, leases, message", CATALOGUE, ids=[case[0] for case in CATALOGUE])
def test_bad_input_fails_before_any_host_changes(catalogue_lab, tmp_path, case, play, extra, host_vars, leases, message):
    inventory = tmp_path / "hosts.yml"
    shutil.copy(catalogue_lab, inventory)
    if case in INVENTORY:
        content = yaml.safe_load(inventory.read_text())
        INVENTORY[case](content)
        inventory.write_text(yaml.safe_dump(content))
    for node, values in host_vars.items():
        (tmp_path / "host_vars").mkdir(exist_ok=True)
        (tmp_path / "host_vars" / ("%s.yml" % node)).write_text(yaml.safe_dump(values, allow_unicode=True), encoding="utf-8")
    extra = {key: value.format(inventory=inventory) if isinstance(value, str) else value for key, value in extra.items()}
    lease_file = tmp_path / ".routednet-leases.yml"
    if leases:
        lease_file.write_text(leases if isinstance(leases, str) else yaml.safe_dump({"routednet_leases": leases}))
    before_leases = lease_file.read_text() if leases else None
    setup, undo = SETUP.get(case, ([], []))
    try:
        for cmd in setup:
            subprocess.run(in_node_namespaces(LAB, "node1", *cmd), check=True)
        res = assert_refused_without_change(LAB, ["playbooks/%s.yml" % play, "-i", str(inventory), "-e", json.dumps(extra)], message)
    finally:
        for cmd in undo:
            subprocess.run(in_node_namespaces(LAB, "node1", *cmd), check=False)
    assert "changed=1" not in res.stdout and " changed=0 " in res.stdout, res.stdout
    for word in ("Traceback", "_AnsibleTaggedStr", "'ascii' codec", "<class '"):
        assert word not in res.stdout + res.stderr, word
    if leases:
        assert lease_file.read_text() == before_leases
    else:
        assert not lease_file.exists(), "a lease was written for a refused plan"
    assert not (tmp_path / "group_vars").exists(), "the lease store wrote into group_vars"
