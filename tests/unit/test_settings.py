"""The settings checks, case by case from test_settings.yaml, and the link-name clashes."""

import os

import pytest
import yaml

from ansible_collections.routednet.fabric.plugins.module_utils.plan import settings
from ansible_collections.routednet.fabric.plugins.module_utils.plan.planning import build_plan, host_ifname

with open(os.path.join(os.path.dirname(__file__), "test_settings.yaml")) as handle:
    CASES = yaml.safe_load(handle)


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_settings(case):
    assert settings.problems(case["hosts"]) == case["problems"]


def plan_with_pods(*pods):
    return build_plan([dict(name="node1", underlay_ip="10.0.0.1", pods=list(pods))], "10.244.0.0/16")[0]


def test_the_vtep_may_not_take_the_bridges_name():
    values = {"node1": {"routednet_backend": "vxlan", "routednet_bridge_name": "cni0", "routednet_vxlan_device": "cni0", "routednet_ipip_device": "cni0"}}
    assert settings.clashes(values, plan_with_pods()) == [
        "node1: routednet_bridge_name and routednet_vxlan_device both name the link cni0; give each its own name"
    ]


def test_a_tunnel_device_may_not_take_a_pods_veth_name():
    values = {"node1": {"routednet_backend": "ipip", "routednet_bridge_name": "cni0", "routednet_ipip_device": host_ifname("p1")}}
    assert settings.clashes(values, plan_with_pods("p1")) == [
        "node1: routednet_ipip_device and the host end of pod p1 both name the link %s; give each its own name" % host_ifname("p1")
    ]


def test_no_clash_between_a_backends_unused_device_and_the_bridge():
    values = {"node1": {"routednet_backend": "hostgw", "routednet_bridge_name": "cni0", "routednet_vxlan_device": "cni0"}}
    assert settings.clashes(values, plan_with_pods("p1")) == []


@pytest.mark.parametrize("word, value", [("yes", True), ("False", False), (1, True), (0, False), ("on", True), ("maybe", None), (2, None), (None, None)])
def test_strict_bool(word, value):
    assert settings.strict_bool(word) is value


def test_a_split_names_the_hosts_off_the_default():
    values = {"node1": {"routednet_vxlan_vni": 1}, "node2": {"routednet_vxlan_vni": 7}}
    assert settings.cluster_splits(values, {"routednet_vxlan_vni": 1}) == [
        "node2: routednet_vxlan_vni=7 differs from the rest of the cluster (1 on node1); it is cluster-wide: set it once for all nodes "
        "(group_vars or -e), not per host"
    ]


DUAL_STACK = {"cluster_cidr": "10.244.0.0/16", "cluster_cidr_v6": "fd00:10:244::/56"}
IPV6_ONLY = {"cluster_cidr_v6": "fd00:10:244::/56"}

# (id, each host's backend settings, the lines for a dual-stack cluster)
FAMILY_CASES = [
    ("host-gw and VXLAN carry both", {"n1": {"routednet_backend": "hostgw"}, "n2": {"routednet_backend": "vxlan"}}, []),
    ("hybrid over VXLAN carries both", {"n1": {"routednet_backend": "hybrid", "routednet_hybrid_encap": "vxlan"}}, []),
    (
        "IPIP: one line for all its hosts",
        {"n1": {"routednet_backend": "ipip"}, "n2": {"routednet_backend": "ipip"}},
        [
            "n1, n2: routednet_backend=ipip carries IPv4 only, and routednet_cluster_cidr lists the IPv6 CIDR fd00:10:244::/56: "
            "choose hostgw or vxlan for a cluster with IPv6 pods, or list only the IPv4 CIDR"
        ],
    ),
    (
        "hybrid tunnelling with IPIP",
        {"n1": {"routednet_backend": "hybrid", "routednet_hybrid_encap": "ipip"}},
        [
            "n1: routednet_backend=hybrid tunnels with routednet_hybrid_encap=ipip, which carries IPv4 only, and routednet_cluster_cidr lists "
            "the IPv6 CIDR fd00:10:244::/56: set routednet_hybrid_encap=vxlan, or list only the IPv4 CIDR"
        ],
    ),
    ("an unknown backend is host_problems' to name", {"n1": {"routednet_backend": "gre"}}, []),
]


@pytest.mark.parametrize(("values", "problems"), [case[1:] for case in FAMILY_CASES], ids=[case[0] for case in FAMILY_CASES])
def test_ipv6_pods_on_a_backend_that_carries_ipv4_only(values, problems):
    assert settings.family_problems(values, DUAL_STACK) == problems


@pytest.mark.parametrize(
    ("values", "problems"),
    [
        (
            {"n1": {"routednet_backend": "ipip"}},
            [
                "n1: routednet_backend=ipip carries IPv4 only, and routednet_cluster_cidr lists the IPv6 CIDR fd00:10:244::/56: "
                "choose hostgw or vxlan for a cluster with IPv6 pods, or give routednet_cluster_cidr an IPv4 CIDR"
            ],
        ),
        ({"n1": {"routednet_backend": "hostgw"}, "n2": {"routednet_backend": "vxlan"}}, []),
    ],
    ids=["IPIP", "host-gw and VXLAN"],
)
def test_an_ipv6_only_cluster_refuses_what_carries_ipv4_only(values, problems):
    assert settings.family_problems(values, IPV6_ONLY) == problems


def test_an_ipv4_cluster_fits_every_backend():
    assert settings.family_problems({"n1": {"routednet_backend": "ipip"}}, {"cluster_cidr_v6": None}) == []
