"""The preflight's one refusal per node: what its kernel, names and addresses stand in the way of."""

import pytest

from ansible_collections.routednet.fabric.plugins.module_utils.plan.planning import build_plan
from ansible_collections.routednet.fabric.plugins.module_utils.plan.preflight import cluster_problems, node_problems

PLAN = build_plan([{"name": "n1", "underlay_ip": "192.168.1.11"}, {"name": "n2", "underlay_ip": "192.168.1.12"}], "10.244.0.0/16")[0]
SETTINGS = {
    "routednet_backend": "hostgw",
    "routednet_bridge_name": "cni0",
    "routednet_firewall_table": "routednet",
    "routednet_vxlan_device": "vxlan-routednet",
    "routednet_vxlan_port": 8472,
    "routednet_ipip_device": "ipip-routednet",
}
CLEAR = {
    "kernel_release": "6.1.0-test",
    "kernel_features": {"vxlan": "module", "ipip": "missing"},
    "addresses": [{"dev": "eth0", "address": "192.168.1.11/24", "owned": False}],
    "connection": {"server": "192.168.1.11", "client": "192.168.1.1"},
}


@pytest.mark.parametrize(
    "backend, encap, expected",
    [
        ("hostgw", "vxlan", []),
        ("vxlan", "vxlan", []),
        ("hybrid", "vxlan", []),
        ("ipip", "vxlan", ["n1: routednet_backend=ipip needs the kernel's ipip support (CONFIG_NET_IPIP)", "or choose another routednet_backend (vxlan also"]),
        ("hybrid", "ipip", ["n1: routednet_backend=hybrid needs the kernel's ipip support", "or choose another routednet_hybrid_encap"]),
    ],
)
def test_a_kernel_without_the_backends_tunnel_is_one_line_naming_the_fix(backend, encap, expected):
    problems = node_problems(PLAN, "n1", dict(SETTINGS, routednet_backend=backend, routednet_hybrid_encap=encap), CLEAR, 1500, backend, encap)
    if not expected:
        assert problems == []
    else:
        assert len(problems) == 1 and all(part in problems[0] for part in expected), problems
        assert "6.1.0-test" in problems[0] and "modprobe ipip" in problems[0]


def test_every_kind_of_problem_is_reported_at_once():
    facts = dict(
        CLEAR,
        netns_found={"ns1": "theirs"},
        addresses=CLEAR["addresses"] + [{"dev": "docker0", "address": "10.244.0.1/16", "owned": False}],
        firewall_table_owner="theirs",
    )
    plan = build_plan([{"name": "n1", "underlay_ip": "192.168.1.11", "pods": ["ns1"]}, {"name": "n2", "underlay_ip": "192.168.1.12"}], "10.244.0.0/16")[0]
    problems = node_problems(plan, "n1", SETTINGS, facts, 1500, "ipip")
    assert len(problems) == 4, problems
    assert [p.split(":")[0] for p in problems] == ["n1"] * 4
    assert "kernel's ipip" in problems[0] and "namespace ns1" in problems[1] and "inet routednet" in problems[2] and "docker0" in problems[3]


def test_the_cluster_check_lists_every_nodes_problems_in_the_plays_order():
    taken = dict(CLEAR, netns_found={"ns1": "theirs"})
    plan = build_plan([{"name": "n1", "underlay_ip": "192.168.1.11"}, {"name": "n2", "underlay_ip": "192.168.1.12", "pods": ["ns1"]}], "10.244.0.0/16")[0]
    settings = {"n1": SETTINGS, "n2": SETTINGS}
    mtus = {"n1": 1500, "n2": 1500}
    problems = cluster_problems(plan, settings, {"n2": taken, "n1": dict(CLEAR, kernel_features={"ipip": "missing"})}, mtus, "ipip")
    assert [p.split(":")[0] for p in problems] == ["n2", "n2", "n1"], problems
    assert "namespace ns1" in problems[1] and "kernel's ipip" in problems[2]
    assert cluster_problems(plan, settings, {"n1": CLEAR, "n2": CLEAR}, mtus, "hostgw") == []
