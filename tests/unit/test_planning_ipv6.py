"""IPv6 beside IPv4 in the plan: one CIDR per family, a /64 per node by default, the same
address layout in both families, and bad input refused in one line each."""

import pytest

from ansible_collections.routednet.fabric.plugins.module_utils.plan.planning import PlanError, build_plan, leases_v6

DUAL = ("10.244.0.0/16", "fd00:10:244::/56")


def nodes(**extra):
    first = dict({"name": "n1", "underlay_ip": "192.168.1.11", "pods": ["p1", "p2"]}, **extra)
    return [first, {"name": "n2", "underlay_ip": "192.168.1.12", "pods": ["q1"]}]


def plan_of(cluster=DUAL, node_list=None, **kwargs):
    return build_plan(node_list or nodes(), cluster, **kwargs)[0]


def refusal(cluster=DUAL, node_list=None, **kwargs):
    with pytest.raises(PlanError) as info:
        build_plan(node_list or nodes(), cluster, **kwargs)
    return info.value.errors


def test_each_node_gets_an_ipv6_subnet_gateway_and_range_laid_out_as_its_ipv4_one():
    plan = plan_of()
    assert (plan["cluster_cidr"], plan["cluster_cidr_v6"], plan["subnet_prefix_v6"]) == ("10.244.0.0/16", "fd00:10:244::/56", 64)
    n1 = plan["nodes"]["n1"]
    assert (n1["pod_cidr"], n1["pod_cidr_v6"], n1["gateway_v6"]) == ("10.244.1.0/24", "fd00:10:244:1::/64", "fd00:10:244:1::1/64")
    assert [(p["address"], p["address_v6"]) for p in n1["pods"]] == [("10.244.1.2/24", "fd00:10:244:1::2/64"), ("10.244.1.3/24", "fd00:10:244:1::3/64")]
    assert n1["runtime_range_v6"] == {"start": "fd00:10:244:1::10", "end": "fd00:10:244:1:ffff:ffff:ffff:fffe"}
    assert plan["nodes"]["n2"]["pod_cidr_v6"] == "fd00:10:244:2::/64"
    assert leases_v6(plan) == {"n1": "fd00:10:244:1::/64", "n2": "fd00:10:244:2::/64"}


def test_adding_ipv6_to_an_ipv4_cluster_moves_no_ipv4_lease():
    ipv4, leases = build_plan(nodes(), "10.244.0.0/16", leases={"n1": "10.244.7.0/24"})
    dual, dual_leases = build_plan(nodes(), DUAL, leases={"n1": "10.244.7.0/24"})
    assert dual_leases == leases == {"n1": "10.244.7.0/24", "n2": "10.244.1.0/24"}
    for node in ("n1", "n2"):
        assert {k: v for k, v in dual["nodes"][node].items() if not k.endswith("_v6") and k != "pods"} == {
            k: v for k, v in ipv4["nodes"][node].items() if k != "pods"
        }
    assert "cluster_cidr_v6" not in ipv4 and "pod_cidr_v6" not in ipv4["nodes"]["n1"]


def test_an_ipv6_lease_and_override_are_kept():
    plan = plan_of(node_list=nodes(pod_cidr=["10.244.9.0/24", "fd00:10:244:9::/64"]), leases_v6={"n2": "fd00:10:244:42::/64"})
    assert (plan["nodes"]["n1"]["pod_cidr"], plan["nodes"]["n1"]["pod_cidr_v6"]) == ("10.244.9.0/24", "fd00:10:244:9::/64")
    assert plan["nodes"]["n2"]["pod_cidr_v6"] == "fd00:10:244:42::/64"


def test_an_ipv6_only_cluster_has_only_ipv6_subnets_pods_and_leases():
    plan, leases = build_plan(nodes(pods=["p1", {"name": "p2", "address": "fd00:10:244:1::9"}]), "fd00:10:244::/56")
    assert "cluster_cidr" not in plan and (plan["cluster_cidr_v6"], plan["subnet_prefix_v6"]) == ("fd00:10:244::/56", 64)
    n1 = plan["nodes"]["n1"]
    assert not [key for key in ("pod_cidr", "gateway", "runtime_range") if key in n1]
    assert (n1["underlay_ip"], n1["pod_cidr_v6"], n1["gateway_v6"]) == ("192.168.1.11", "fd00:10:244:1::/64", "fd00:10:244:1::1/64")
    assert [(p["name"], p["address_v6"], "address" in p) for p in n1["pods"]] == [("p1", "fd00:10:244:1::2/64", False), ("p2", "fd00:10:244:1::9/64", False)]
    assert n1["runtime_range_v6"]["start"] == "fd00:10:244:1::10"
    assert leases == {} and leases_v6(plan) == {"n1": "fd00:10:244:1::/64", "n2": "fd00:10:244:2::/64"}


def test_an_ipv6_only_cluster_keeps_the_leases_of_the_dual_stack_one_it_was():
    dual, leases = build_plan(nodes(), DUAL, leases_v6={"n2": "fd00:10:244:42::/64"})
    only, kept = build_plan(nodes(), "fd00:10:244::/56", leases=leases, leases_v6=leases_v6(dual))
    assert leases_v6(only) == leases_v6(dual) == {"n1": "fd00:10:244:1::/64", "n2": "fd00:10:244:42::/64"}
    assert kept == leases == {"n1": "10.244.1.0/24", "n2": "10.244.2.0/24"}


def test_a_node_may_name_its_ipv6_underlay_address():
    plan = plan_of(node_list=nodes(underlay_ip_v6="2001:db9::11"))
    assert plan["nodes"]["n1"]["underlay_ip_v6"] == "2001:db9::11" and plan["nodes"]["n2"]["underlay_ip_v6"] is None


@pytest.mark.parametrize(
    "cluster, kwargs, node_extra, expected",
    [
        (
            ["10.244.0.0/16", "10.245.0.0/16"],
            {},
            {},
            "all: routednet_cluster_cidr lists two IPv4 CIDRs (10.244.0.0/16, 10.245.0.0/16); give at most one per family, such as 10.244.0.0/16, "
            "or [10.244.0.0/16, fd00:10:244::/56] for IPv6 beside it",
        ),
        (
            ["10.244.0.0/16", "fd00::/56", "fd01::/56"],
            {},
            {},
            "all: routednet_cluster_cidr=['10.244.0.0/16', 'fd00::/56', 'fd01::/56'] is neither a CIDR nor a list of one CIDR per family; "
            "write it like 10.244.0.0/16, or [10.244.0.0/16, fd00:10:244::/56] for IPv6 beside it",
        ),
        (
            "fd00:10:244::/56",
            {},
            {"pod_cidr": "10.244.7.0/24"},
            "n1: routednet_pod_cidr 10.244.7.0/24 is IPv4 but routednet_cluster_cidr fd00:10:244::/56 has no IPv4 CIDR; give the node an IPv6 "
            "subnet of it, or add an IPv4 CIDR to routednet_cluster_cidr, such as [10.244.0.0/16, fd00:10:244::/56]",
        ),
        (
            "fd00:10:244::/56",
            {},
            {"pods": [{"name": "p1", "address": "10.244.1.5"}]},
            "n1: routednet_pods[p1].address '10.244.1.5' is not an IPv6 address",
        ),
        (
            ["10.244.0.0/16", "fe80::/56"],
            {},
            {},
            "all: routednet_cluster_cidr fe80::/56 overlaps fe80::/10, which is link-local, never routed; choose a unique local range such as fd00:10:244::/56",
        ),
        (
            ["10.244.0.0/16", "ff02::/56"],
            {},
            {},
            "all: routednet_cluster_cidr ff02::/56 overlaps ff00::/8, which is multicast, not unicast; choose a unique local range such as fd00:10:244::/56",
        ),
        (
            ["10.244.0.0/16", "fd00:10:244::1/56"],
            {},
            {},
            "all: routednet_cluster_cidr fd00:10:244::1/56 is not aligned (host bits set); use fd00:10:244::/56",
        ),
        (
            DUAL,
            {"subnet_prefix_v6": 56},
            {},
            "all: routednet_subnet_prefix_v6 /56 must be longer than the IPv6 cluster CIDR /56 and at most /120 (the default is /64)",
        ),
        (
            DUAL,
            {"subnet_prefix_v6": 126},
            {},
            "all: routednet_subnet_prefix_v6 /126 must be longer than the IPv6 cluster CIDR /56 and at most /120 (the default is /64)",
        ),
        (
            DUAL,
            {"subnet_prefix_v6": 121, "subnet_prefix": 20},
            {},
            "all: routednet_subnet_prefix_v6 /121 must be longer than the IPv6 cluster CIDR /56 and at most /120 (the default is /64)",
        ),
        (
            ["10.240.0.0/12", "fd00:10:244::/56"],
            {"subnet_prefix_v6": 120, "subnet_prefix": 20},
            {},
            "all: routednet_subnet_prefix_v6 /120 gives each node fewer addresses than its IPv4 subnet /20, and a pod keeps one offset in both "
            "families: set /116 or shorter (the default is /64)",
        ),
        (
            DUAL,
            {},
            {"pod_cidr": ["10.244.9.0/24", "10.244.10.0/24"]},
            "n1: routednet_pod_cidr lists two IPv4 CIDRs (10.244.9.0/24, 10.244.10.0/24); give at most one per family, such as 10.244.7.0/24",
        ),
        (
            DUAL,
            {},
            {"pod_cidr": ["10.244.9.0/24", "fd00:99::/64"]},
            "n1: routednet_pod_cidr fd00:99::/64 is outside routednet_cluster_cidr fd00:10:244::/56; pick a subnet inside it",
        ),
        (
            DUAL,
            {},
            {"pod_cidr": ["10.244.9.0/24", "fd00:10:244:9::/80"]},
            "n1: routednet_pod_cidr fd00:10:244:9::/80 is not a /64 (routednet_subnet_prefix_v6); give it that prefix, or remove the lease to lease anew",
        ),
        (
            "10.244.0.0/16",
            {},
            {"pod_cidr": ["10.244.9.0/24", "fd00:10:244:9::/64"]},
            "n1: routednet_pod_cidr fd00:10:244:9::/64 is IPv6 but routednet_cluster_cidr has no IPv6 CIDR; add one beside the IPv4 one, such as "
            "[10.244.0.0/16, fd00:10:244::/56]",
        ),
        (
            DUAL,
            {},
            {"underlay_ip_v6": "fe80::1"},
            "n1: routednet_underlay_ip_v6 fe80::1 is link-local, which a peer reaches only on one link and never by a route; "
            "set the node's global or unique local address on the network the nodes share",
        ),
        (DUAL, {}, {"underlay_ip_v6": "192.168.1.11"}, "n1: routednet_underlay_ip_v6 '192.168.1.11' is not an IPv6 address"),
        (
            DUAL,
            {},
            {"underlay_ip_v6": "fd00:10:244:3::5"},
            "n1: routednet_underlay_ip_v6 fd00:10:244:3::5 lies inside routednet_cluster_cidr fd00:10:244::/56; choose a cluster CIDR clear of it",
        ),
    ],
    ids=[
        "two IPv4 CIDRs",
        "three CIDRs",
        "IPv4 override in an IPv6-only cluster",
        "IPv4 pod address in an IPv6-only cluster",
        "link-local",
        "multicast",
        "host bits set",
        "node prefix as long as the cluster's",
        "node prefix too long",
        "node prefix too long for the family",
        "IPv6 node subnet smaller than the IPv4 one",
        "two IPv4 overrides",
        "IPv6 override outside the cluster",
        "IPv6 override of another prefix",
        "IPv6 override without an IPv6 cluster",
        "link-local underlay",
        "IPv4 address as the IPv6 underlay",
        "underlay inside the pod network",
    ],
)
def test_bad_ipv6_input_is_one_line_naming_the_variable_and_the_fix(cluster, kwargs, node_extra, expected):
    assert refusal(cluster, nodes(**node_extra), **kwargs) == [expected]


def test_an_ipv6_underlay_ip_is_refused_naming_routednet_underlay_ip_v6():
    assert refusal("fd00:10:244::/56", nodes(underlay_ip="fd00:1::11")) == [
        "n1: routednet_underlay_ip fd00:1::11 is an IPv6 address; set it to the node's IPv4 underlay address, and the IPv6 one in "
        "routednet_underlay_ip_v6 (every node needs an IPv4 underlay address for now, also in an IPv6-only cluster)"
    ]


def test_two_nodes_on_one_ipv6_underlay_address_are_refused():
    both = [dict(node, underlay_ip_v6="fd00:1::1") for node in nodes()]
    assert refusal(node_list=both) == ["n2: routednet_underlay_ip_v6 fd00:1::1 is also the underlay address of n1; each node needs its own"]
