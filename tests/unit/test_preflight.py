"""The preflight's one refusal per node: what its kernel, names and addresses stand in the way of."""

import pytest

from ansible_collections.routednet.fabric.plugins.module_utils.plan.planning import build_plan
from ansible_collections.routednet.fabric.plugins.module_utils.plan.preflight import check_cluster, cluster_problems, node_problems, pod_mtu

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


def node_view(identity, underlay_mtu=1500, **extra):
    """node_facts' result for a clear host on 192.168.1.0/24."""
    view = dict(CLEAR, identity=identity, underlay_mtu=underlay_mtu, underlay_dev="eth0")
    view["underlay_routes"] = [{"dst": "192.168.1.0/24", "via": None, "dev": "eth0", "metric": 0}]
    view.update(extra)
    return view


def checked(facts, backend="hostgw", encap=None, **settings):
    return check_cluster(PLAN, {"n1": dict(SETTINGS, **settings), "n2": dict(SETTINGS, **settings)}, facts, backend, encap)


@pytest.mark.parametrize(
    "setting, underlay_mtu, overhead, expected",
    [(0, 1500, 0, 1500), (0, 1500, 50, 1450), ("0", 9000, 20, 8980), (1400, 1500, 50, 1400), ("1400", 1500, 50, 1400), (None, 1500, 50, 1450)],
)
def test_a_pods_mtu_is_the_setting_else_the_underlays_minus_the_backends_overhead(setting, underlay_mtu, overhead, expected):
    assert pod_mtu(setting, underlay_mtu, overhead) == expected


def test_the_cluster_check_passes_a_clear_cluster_and_gives_each_node_its_pod_mtu():
    found = checked({"n1": node_view("a"), "n2": node_view("b")}, "vxlan")
    assert found["refusal"] is None and found["warning"] is None
    assert found["pod_mtus"] == {"n1": 1450, "n2": 1450}
    assert [pair["mode"] for pair in found["adjacency"]["pairs"]] == ["direct"]
    # (only the backends that route some pairs directly show how each pair is reached)
    assert found["pair_lines"] == []
    lines = checked({"n1": node_view("a"), "n2": node_view("b")})["pair_lines"]
    assert lines[0] == "1 pair(s): 1 direct" and lines[1].startswith("n1 <-> n2: direct (checked both ways")


def test_two_inventory_names_on_one_machine_are_refused_before_anything_else():
    found = checked({"n1": node_view("same"), "n2": node_view("same", kernel_features={"ipip": "missing"})}, "ipip")
    assert found["refusal"] == (
        "n1, n2: these inventory names reach the same machine (one boot id and network namespace); a node must be listed once "
        "in the node group: keep one name and remove the others. Nothing was changed."
    )


def test_every_nodes_problems_are_one_refusal_naming_each_node():
    found = checked({"n1": node_view("a", kernel_features={"ipip": "missing"}), "n2": node_view("b", kernel_features={"ipip": "missing"})}, "ipip")
    parts = found["refusal"].split(" | ")
    assert [part.split(":")[0] for part in parts] == ["n1", "n2"] and parts[-1].endswith(". Nothing was changed.")
    assert found["adjacency"] is None  # (no pair is judged for a refused cluster)


def test_differing_pod_mtus_are_a_warning_naming_the_setting_that_makes_them_one():
    found = checked({"n1": node_view("a", 9000), "n2": node_view("b", 1500)}, "vxlan")
    assert found["refusal"] is None
    assert found["warning"] == (
        "the nodes' pod MTUs differ (n1 8950, n2 1450): a packet a pod on one node may send can be too large for another. "
        "Set routednet_mtu=1450 for every node (see docs/runbooks/mtu.md)."
    )


def test_a_pair_the_backend_cannot_carry_is_refused_after_the_pairs_are_shown():
    apart = node_view("b", underlay_routes=[{"dst": "192.168.1.0/24", "via": "192.168.2.1", "dev": "eth0", "metric": 0}])
    found = checked({"n1": node_view("a", underlay_routes=apart["underlay_routes"]), "n2": apart})
    lines = found["refusal"].split("\n")
    assert lines[0] == "routednet_backend=hostgw: these pairs of nodes cannot carry it:"
    assert lines[1].startswith("host-gw needs every pair of nodes on one L2 segment, and 1 pair(s) are not") and lines[-1] == "Nothing was changed."
    assert found["pair_lines"][0] == "1 pair(s): 1 routed"
    assert checked({"n1": node_view("a", underlay_routes=apart["underlay_routes"]), "n2": apart}, "vxlan")["refusal"] is None


DUAL = build_plan([{"name": "n1", "underlay_ip": "192.168.1.11"}, {"name": "n2", "underlay_ip": "192.168.1.12"}], ["10.244.0.0/16", "fd00:10:244::/56"])[0]


def with_v6(identity, address):
    return node_view(identity, underlay_v6={"address": address, "cidr": address + "/64", "dev": "eth0", "source": "found"})


def test_a_dual_stack_plan_passes_on_every_backend_that_carries_ipv6():
    facts = {"n1": with_v6("a", "fd00:1::11"), "n2": with_v6("b", "fd00:1::12")}
    for backend in ("hostgw", "vxlan", "hybrid"):
        found = check_cluster(DUAL, {"n1": SETTINGS, "n2": SETTINGS}, facts, backend)
        assert found["refusal"] is None, (backend, found["refusal"])
        assert found["underlay_v6"] == {"n1": "fd00:1::11/64", "n2": "fd00:1::12/64"}


def test_vxlan_and_hybrid_carry_ipv6_pods_without_an_ipv6_underlay():
    facts = {"n1": node_view("a", underlay_v6=None), "n2": node_view("b", underlay_v6=None)}
    for backend in ("vxlan", "hybrid"):
        found = check_cluster(DUAL, {"n1": SETTINGS, "n2": SETTINGS}, facts, backend)
        assert found["refusal"] is None and found["underlay_v6"] == {}, (backend, found["refusal"])


def test_host_gw_ipv6_peers_must_share_the_ipv6_underlay_prefix():
    facts = {"n1": with_v6("a", "fd00:1::11"), "n2": with_v6("b", "fd00:2::12")}
    found = check_cluster(DUAL, {"n1": SETTINGS, "n2": SETTINGS}, facts, "hostgw")
    assert found["refusal"].split(" | ")[0] == (
        "n1: routednet_backend=hostgw routes n2's IPv6 pods via fd00:2::12, which is not on n1's IPv6 underlay prefix fd00:1::/64 (eth0): "
        "the nodes need one IPv6 segment, or choose vxlan"
    )
    assert found["refusal"].endswith("Nothing was changed.")


def test_host_gw_ipv6_pods_need_an_ipv6_underlay_address_on_every_node():
    passed = ["fe80::a/64 link-local", "2001:db8::8a3f:1/64 temporary"]
    facts = {"n1": with_v6("a", "fd00:1::11"), "n2": node_view("b", underlay_v6=None, underlay_v6_passed_over=passed)}
    found = check_cluster(DUAL, {"n1": SETTINGS, "n2": SETTINGS}, facts, "hostgw")
    assert found["refusal"] == (
        "n2: routednet_backend=hostgw routes each node's IPv6 pods via its IPv6 underlay address, and n2 has no IPv6 address on eth0 that can "
        "stay (it has only fe80::a/64 link-local, 2001:db8::8a3f:1/64 temporary): give eth0 a static IPv6 address (or set "
        "routednet_underlay_ip_v6 to one of the host's), or choose vxlan, which carries IPv6 pods over the IPv4 underlay. Nothing was changed."
    )
    # VXLAN carries IPv6 pods over the IPv4 underlay: no refusal
    assert check_cluster(DUAL, {"n1": SETTINGS, "n2": SETTINGS}, facts, "vxlan")["refusal"] is None


def test_a_vtep_over_the_ipv6_underlay_needs_an_ipv6_underlay_address_on_every_node():
    facts = {"n1": with_v6("a", "fd00:1::11"), "n2": node_view("b", underlay_v6=None)}
    over_ipv6 = dict(SETTINGS, routednet_vxlan_underlay="ipv6")
    found = check_cluster(PLAN, {"n1": over_ipv6, "n2": over_ipv6}, facts, "vxlan")
    assert found["refusal"] == (
        "n2: routednet_vxlan_underlay=ipv6 runs each node's VTEP over its IPv6 underlay address, and n2 has no IPv6 address on eth0 that can "
        "stay: give eth0 a static IPv6 address (or set routednet_underlay_ip_v6 to one of the host's), or set routednet_vxlan_underlay: ipv4. "
        "Nothing was changed."
    )
    # 70 bytes, not 50, over the IPv6 underlay
    facts["n2"] = with_v6("b", "fd00:1::12")
    assert check_cluster(PLAN, {"n1": over_ipv6, "n2": over_ipv6}, facts, "vxlan")["pod_mtus"] == {"n1": 1430, "n2": 1430}
    assert check_cluster(PLAN, {"n1": SETTINGS, "n2": SETTINGS}, facts, "vxlan")["pod_mtus"] == {"n1": 1450, "n2": 1450}
