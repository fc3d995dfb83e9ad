"""The node-to-subnet map: stable allocation and every bad input, named."""

import pytest

from ansible_collections.routednet.fabric.plugins.module_utils.backends.vxlan import vtep_mac
from ansible_collections.routednet.fabric.plugins.module_utils.plan.node_document import peer_entries, peer_routes
from ansible_collections.routednet.fabric.plugins.module_utils.plan.planning import (
    PlanError,
    build_plan,
    host_address_conflicts,
    host_ifname,
    ping_targets,
    tunnel_address,
)


def node(name, ip, **extra):
    return dict(name=name, underlay_ip=ip, **extra)


def errors_of(*args, **kwargs):
    with pytest.raises(PlanError) as info:
        build_plan(*args, **kwargs)
    return info.value.errors


def test_first_subnet_is_skipped_and_nodes_are_allocated_in_name_order():
    plan, leases = build_plan([node("b", "10.0.0.2"), node("a", "10.0.0.1")], "10.244.0.0/16")
    assert leases == {"a": "10.244.1.0/24", "b": "10.244.2.0/24"}
    assert plan["nodes"]["a"]["gateway"] == "10.244.1.1/24"


def test_adding_a_node_never_renumbers_existing_ones():
    leases = build_plan([node("m", "10.0.0.1"), node("z", "10.0.0.2")], "10.244.0.0/16")[1]
    # "a" sorts first: without leases it would take m's subnet.
    after = build_plan([node("a", "10.0.0.3"), node("m", "10.0.0.1"), node("z", "10.0.0.2")], "10.244.0.0/16", leases=leases)[1]
    assert after["m"] == leases["m"] and after["z"] == leases["z"]
    assert after["a"] == "10.244.3.0/24"


def test_a_removed_node_frees_its_lease_and_others_keep_theirs():
    leases = build_plan([node("a", "10.0.0.1"), node("b", "10.0.0.2"), node("c", "10.0.0.3")], "10.244.0.0/16")[1]
    after = build_plan([node("a", "10.0.0.1"), node("c", "10.0.0.3")], "10.244.0.0/16", leases=leases)[1]
    assert after == {"a": leases["a"], "c": leases["c"]}


def test_override_of_any_prefix_like_seed_003():
    plan, leases = build_plan([node("n1", "192.168.1.1", pod_cidr="10.1.0.0/16"), node("n2", "192.168.1.2", pod_cidr="10.2.0.0/16")], "10.0.0.0/8")
    assert leases == {"n1": "10.1.0.0/16", "n2": "10.2.0.0/16"}
    assert plan["nodes"]["n2"]["gateway"] == "10.2.0.1/16"


def test_pods_get_addresses_after_the_gateway_and_keep_explicit_ones():
    plan = build_plan([node("a", "10.0.0.1", pods=["p1", {"name": "p2", "address": "10.244.1.9"}, "p3"])], "10.244.0.0/16")[0]
    pods = {p["name"]: p["address"] for p in plan["nodes"]["a"]["pods"]}
    assert pods == {"p1": "10.244.1.2/24", "p2": "10.244.1.9/24", "p3": "10.244.1.3/24"}
    assert all(len(p["host_ifname"]) <= 15 for p in plan["nodes"]["a"]["pods"])
    assert host_ifname("p1") == host_ifname("p1") != host_ifname("p2")


def test_routes_and_targets_cover_every_peer_and_only_peers():
    plan = build_plan([node("a", "10.0.0.1", pods=["pa"]), node("b", "10.0.0.2", pods=["pb"]), node("c", "10.0.0.3")], "10.244.0.0/16")[0]
    assert peer_routes(plan, "a", "hostgw", underlay_dev="eth0") == [
        {"dst": "10.244.2.0/24", "via": "10.0.0.2", "dev": "eth0"},
        {"dst": "10.244.3.0/24", "via": "10.0.0.3", "dev": "eth0"},
    ]
    assert ping_targets(plan, "a") == [{"node": "b", "pod": "pb", "address": "10.244.2.2", "family": 4}]


@pytest.mark.parametrize(
    "nodes, cidr, prefix, leases, expected",
    [
        ([node("a", "10.0.0.1")], "10.244.0.0/33", 24, None, "all: routednet_cluster_cidr '10.244.0.0/33' is not an IPv4 CIDR"),
        ([node("a", "10.0.0.1")], "10.244.0.0", 24, None, "all: routednet_cluster_cidr '10.244.0.0' has no prefix length"),
        ([node("a", "10.0.0.1")], "10.244.1.0/16", 24, None, "is not aligned (host bits set); use 10.244.0.0/16"),
        ([node("a", "10.0.0.1")], "10.244.0.0/16", 16, None, "routednet_subnet_prefix /16 must be longer"),
        (
            [node("a", "10.0.0.1", pod_cidr="10.245.0.0/24")],
            "10.244.0.0/16",
            24,
            None,
            "a: routednet_pod_cidr 10.245.0.0/24 is outside routednet_cluster_cidr 10.244.0.0/16",
        ),
        (
            [node("a", "10.0.0.1", pod_cidr="10.244.1.5/24")],
            "10.244.0.0/16",
            24,
            None,
            "a: routednet_pod_cidr 10.244.1.5/24 is not aligned (host bits set); use 10.244.1.0/24",
        ),
        ([node("a", "10.0.0.1", pod_cidr="bogus")], "10.244.0.0/16", 24, None, "a: routednet_pod_cidr 'bogus' is not an IPv4 CIDR"),
        (
            [node("a", "10.0.0.1", pod_cidr="10.244.0.0/23"), node("b", "10.0.0.2", pod_cidr="10.244.1.0/24")],
            "10.244.0.0/16",
            24,
            None,
            "b: pod subnet 10.244.1.0/24 overlaps 10.244.0.0/23 of a",
        ),
        ([node("a", "10.0.0.1"), node("b", "10.0.0.1")], "10.244.0.0/16", 24, None, "b: routednet_underlay_ip 10.0.0.1 is also the underlay address of a"),
        (
            [node("a", "10.0.0.1"), node("b", "10.0.0.2"), node("c", "10.0.0.3")],
            "10.244.0.0/23",
            24,
            None,
            "c: routednet_cluster_cidr 10.244.0.0/23 has no free /24 left",
        ),
        ([node("a", None)], "10.244.0.0/16", 24, None, "a: routednet_underlay_ip is not set"),
        ([node("a", "10.0.0.300")], "10.244.0.0/16", 24, None, "a: routednet_underlay_ip '10.0.0.300' is not an IPv4 address"),
        ([node("a", "10.0.0.1")], "10.244.0.0/16", 24, {"a": "10.9.0.0/24"}, "a: its lease 10.9.0.0/24 is outside routednet_cluster_cidr"),
        ([node("a", "10.244.1.7")], "10.244.0.0/16", 24, None, "a: routednet_underlay_ip 10.244.1.7 lies inside routednet_cluster_cidr 10.244.0.0/16"),
        (
            [node("a", "10.0.0.1", pods=[{"name": "p", "address": "10.244.9.2"}])],
            "10.244.0.0/16",
            24,
            None,
            "a: routednet_pods[p].address 10.244.9.2 is not a usable address of the node subnet 10.244.1.0/24",
        ),
        (
            [node("a", "10.0.0.1", pods=[{"name": "p", "address": "10.244.1.1"}])],
            "10.244.0.0/16",
            24,
            None,
            "a: routednet_pods[p].address 10.244.1.1 is already in use",
        ),
        ([node("a", "10.0.0.1", pods=["p", "p"])], "10.244.0.0/16", 24, None, "a: routednet_pods names p twice"),
        ([], "10.244.0.0/16", 24, None, "all: the inventory group has no nodes"),
    ],
)
def test_bad_input_is_refused_with_host_and_variable(nodes, cidr, prefix, leases, expected):
    errors = errors_of(nodes, cidr, prefix, leases)
    assert any(expected in e for e in errors), errors


def test_every_problem_is_reported_at_once():
    errors = errors_of([node("a", "10.0.0.1", pod_cidr="x"), node("b", "10.0.0.1")], "10.244.0.0/16")
    assert len(errors) == 2


def test_vtep_macs_are_stable_unicast_and_distinct():
    macs = {name: vtep_mac(name) for name in ("node1", "node2", "vm1")}
    assert macs["node1"] == vtep_mac("node1")
    assert len(set(macs.values())) == 3
    for mac in macs.values():
        first = int(mac.split(":")[0], 16)
        assert first & 0x02 and not first & 0x01  # locally administered, unicast


def test_vxlan_routes_and_peers_follow_flannel():
    plan = build_plan([node("a", "10.0.0.1"), node("b", "10.0.0.2")], "10.244.0.0/16")[0]
    assert peer_routes(plan, "a", "vxlan", device="vx") == [{"dst": "10.244.2.0/24", "via": "10.244.2.0", "dev": "vx", "onlink": True}]
    assert peer_entries(plan, "a", "vxlan") == [{"ip": "10.244.2.0", "mac": vtep_mac("b"), "dst": "10.0.0.2"}]


def test_ipip_routes_go_via_each_peers_underlay_address_through_one_device():
    plan = build_plan([node("a", "10.0.0.1"), node("b", "10.0.0.2"), node("c", "10.0.0.3")], "10.244.0.0/16")[0]
    assert peer_routes(plan, "a", "ipip", device="tun") == [
        {"dst": "10.244.2.0/24", "via": "10.0.0.2", "dev": "tun", "onlink": True},
        {"dst": "10.244.3.0/24", "via": "10.0.0.3", "dev": "tun", "onlink": True},
    ]
    assert tunnel_address(plan["nodes"]["a"]) == "10.244.1.0"


TWO_NODES = build_plan([node("n1", "192.168.1.11"), node("n2", "192.168.1.12")], "10.244.0.0/16")[0]
N1_EXPECTED = {"dev": "eth0", "address": "192.168.1.11/24", "owned": False}


@pytest.mark.parametrize(
    "addresses, connection, problem",
    [
        # an operator's address inside a node's pod subnet: that node's subnet is named
        ([{"dev": "dummy0", "address": "10.244.2.9/32", "owned": False}], None, "n1: the pod subnet 10.244.2.0/24 of n2 overlaps 10.244.2.9 on dummy0"),
        # a whole network (docker0 style) over a pod subnet
        ([{"dev": "docker0", "address": "10.244.0.1/16", "owned": False}], None, "n1: the pod subnet 10.244.1.0/24 of n1 overlaps 10.244.0.1 on docker0"),
        # inside the cluster CIDR but no pod subnet
        ([{"dev": "dummy0", "address": "10.244.200.1/32", "owned": False}], None, "n1: routednet_cluster_cidr 10.244.0.0/16 covers 10.244.200.1 on dummy0"),
        # the underlay network reaches into the cluster CIDR
        ([{"dev": "eth0", "address": "192.168.1.11/8", "owned": False}], None, None),
        # the SSH path: Ansible's address on the host and the controller's address
        ([N1_EXPECTED], {"server": "10.244.99.1", "client": None}, "covers 10.244.99.1, the address Ansible reaches this host on (SSH_CONNECTION)"),
        ([N1_EXPECTED], {"server": "192.168.1.11", "client": "10.244.77.7"}, "covers 10.244.77.7, the controller's address this SSH session comes from"),
    ],
)
def test_host_address_conflicts_are_named(addresses, connection, problem):
    problems = host_address_conflicts(TWO_NODES, "n1", addresses, connection)
    if problem is None:  # 192.168.0.0/8 does not overlap 10.244.0.0/16: no problem
        assert problems == []
    else:
        assert len(problems) == 1 and problem in problems[0], problems


def test_the_underlay_network_over_the_cluster_cidr_is_refused():
    plan = build_plan([node("n1", "10.1.0.11"), node("n2", "10.1.0.12")], "10.244.0.0/16")[0]
    problems = host_address_conflicts(plan, "n1", [{"dev": "eth0", "address": "10.1.0.11/8", "owned": False}])
    assert problems == [
        "n1: the pod subnet 10.244.1.0/24 of n1 overlaps 10.1.0.11 on eth0 (network 10.0.0.0/8), which this host already uses; "
        "give n1 another routednet_pod_cidr (or remove its lease) or choose another routednet_cluster_cidr"
    ]


def test_a_dual_stack_plan_checks_the_hosts_ipv6_addresses_and_ssh_path_too():
    plan = build_plan([node("n1", "192.168.1.11"), node("n2", "192.168.1.12")], ["10.244.0.0/16", "fd00:10:244::/56"])[0]
    found = [
        {"dev": "eth0", "address": "fe80::1/64", "owned": False},
        {"dev": "cni0", "address": "fd00:10:244:1::1/64", "owned": True},
        {"dev": "eth1", "address": "fd00:10:244:2::9/64", "owned": False},
    ]
    problems = host_address_conflicts(plan, "n1", [N1_EXPECTED], {"server": "192.168.1.11", "client": "fd00:10:244:7::1"}, found)
    assert problems == [
        "n1: the pod subnet fd00:10:244:2::/64 of n2 overlaps fd00:10:244:2::9 on eth1 (network fd00:10:244:2::/64), which this host already uses; "
        "give n2 another routednet_pod_cidr (its IPv6 one) (or remove its lease) or choose another routednet_cluster_cidr",
        "n1: routednet_cluster_cidr fd00:10:244::/56 covers fd00:10:244:7::1, the controller's address this SSH session comes from (SSH_CONNECTION); "
        "routing it into the pod network would cut Ansible off; choose a cluster CIDR clear of it",
    ]


def test_our_own_links_and_clear_hosts_raise_nothing():
    owned = [N1_EXPECTED, {"dev": "cni0", "address": "10.244.1.1/24", "owned": True}, {"dev": "lo", "address": "127.0.0.1/8", "owned": False}]
    assert host_address_conflicts(TWO_NODES, "n1", owned, {"server": "192.168.1.11", "client": "192.168.1.1"}) == []


def test_ansible_host_inside_the_cluster_cidr_is_refused_on_the_controller():
    errors = errors_of([node("a", "192.168.1.11", connect_ip="10.244.9.9")], "10.244.0.0/16")
    assert errors == [
        "a: routednet_cluster_cidr 10.244.0.0/16 covers ansible_host 10.244.9.9, the address Ansible connects to; choose a cluster CIDR clear of it"
    ]


@pytest.mark.parametrize(
    "cidr, reserved, why",
    [
        ("224.1.0.0/16", "224.0.0.0/4", "multicast"),
        ("240.0.0.0/8", "240.0.0.0/4", "reserved"),
        ("0.0.0.0/8", "0.0.0.0/8", "'this network'"),
        ("169.254.0.0/16", "169.254.0.0/16", "link-local"),
        ("255.255.0.0/16", "240.0.0.0/4", "broadcast"),
        ("127.0.0.0/16", "127.0.0.0/8", "loopback"),
    ],
)
def test_a_cluster_cidr_in_reserved_space_is_refused_saying_why(cidr, reserved, why):
    (error,) = errors_of([node("a", "10.0.0.1")], cidr)
    assert error.startswith("all: routednet_cluster_cidr %s overlaps %s, which is " % (cidr, reserved)) and why in error, error
    assert error.endswith("choose a private unicast range such as 10.244.0.0/16")


@pytest.mark.parametrize(
    "address, what",
    [("127.0.0.1", "a loopback address, which no peer can reach"), ("224.0.0.5", "not a unicast address"), ("0.0.0.0", "not a unicast address")],
)
def test_an_underlay_address_no_peer_can_use_is_refused(address, what):
    assert errors_of([node("a", address)], "10.244.0.0/16") == [
        "a: routednet_underlay_ip %s is %s; set it to this node's address on the network the nodes share" % (address, what)
    ]


def test_an_ipv6_only_plan_checks_the_hosts_ipv6_addresses_only():
    plan = build_plan([node("n1", "192.168.1.11"), node("n2", "192.168.1.12")], "fd00:10:244::/56")[0]
    ipv4 = [{"dev": "eth1", "address": "10.244.2.9/24", "owned": False}]
    problems = host_address_conflicts(plan, "n1", ipv4, {"server": "192.168.1.11"}, [{"dev": "eth1", "address": "fd00:10:244:2::9/64", "owned": False}])
    assert problems == [
        "n1: the pod subnet fd00:10:244:2::/64 of n2 overlaps fd00:10:244:2::9 on eth1 (network fd00:10:244:2::/64), which this host already uses; "
        "give n2 another routednet_pod_cidr (or remove its lease) or choose another routednet_cluster_cidr"
    ]
