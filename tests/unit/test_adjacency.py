"""Pairs of nodes: direct (one L2 segment, both ways), routed, asymmetric, unreachable."""

from ansible_collections.routednet.fabric.plugins.module_utils.plan.adjacency import (
    ASYMMETRIC,
    DIRECT,
    ROUTED,
    UNREACHABLE,
    RouteIndex,
    adjacency_lines,
    adjacency_problems,
    adjacency_table,
    deciding_routes,
    direct_peers,
)
from ansible_collections.routednet.fabric.plugins.module_utils.plan.node_document import peer_entries, peer_routes
from ansible_collections.routednet.fabric.plugins.module_utils.plan.planning import build_plan

# Two segments joined by a router (.1 on each), two nodes on each: the crosssubnet lab.
ADDRESSES = {"n1": "192.168.1.11", "n2": "192.168.1.12", "n3": "192.168.2.13", "n4": "192.168.2.14"}


def connected(cidr, dev="eth0"):
    return {"dst": cidr, "via": None, "dev": dev, "metric": 0}


def via(cidr, gateway, dev="eth0", metric=0):
    return {"dst": cidr, "via": gateway, "dev": dev, "metric": metric}


def segment_routes(own, other):
    """A node's routes: its own segment on-link, the other one through the router."""
    return [connected("192.168.%d.0/24" % own), via("192.168.%d.0/24" % other, "192.168.%d.1" % own)]


ROUTES = {"n1": segment_routes(1, 2), "n2": segment_routes(1, 2), "n3": segment_routes(2, 1), "n4": segment_routes(2, 1)}


def plan_of(names=None):
    addresses = names or ADDRESSES
    plan, _leases = build_plan([{"name": n, "underlay_ip": ip} for n, ip in sorted(addresses.items())], "10.244.0.0/16")
    return plan


def views(routes=None, dev="eth0"):
    return {name: {"underlay_dev": dev, "underlay_routes": r} for name, r in (routes or ROUTES).items()}


def modes(table):
    return {tuple(p["nodes"]): p["mode"] for p in table["pairs"]}


def test_longest_prefix_wins_and_equal_prefixes_take_the_lowest_metric():
    index = RouteIndex(
        [
            via("0.0.0.0/0", "10.0.0.1"),
            connected("192.168.1.0/24"),
            via("192.168.1.128/25", "192.168.1.1"),
            via("10.9.0.0/16", "10.0.0.9", metric=100),
            via("10.9.0.0/16", "10.0.0.8", metric=10),
        ]
    )
    assert index.lookup("192.168.1.5")["via"] is None
    assert index.lookup("192.168.1.200")["via"] == "192.168.1.1"
    assert index.lookup("8.8.8.8")["via"] == "10.0.0.1"
    assert index.lookup("10.9.1.1")["via"] == "10.0.0.8"
    assert RouteIndex([connected("192.168.1.0/24")]).lookup("192.168.2.1") is None


def test_deciding_routes_are_only_the_longest_matches_of_the_peers():
    routes = [via("0.0.0.0/0", "192.168.1.254"), connected("192.168.1.0/24"), via("192.168.2.0/24", "192.168.1.1"), connected("172.30.0.0/16", "docker0")]
    assert deciding_routes(routes, ["192.168.1.12", "192.168.2.13", "192.168.2.14"]) == routes[1:3]
    assert deciding_routes(routes, []) == []


def test_two_segments_and_a_router_give_direct_pairs_inside_and_routed_pairs_across():
    table = adjacency_table(plan_of(), views())
    assert modes(table) == {
        ("n1", "n2"): DIRECT,
        ("n1", "n3"): ROUTED,
        ("n1", "n4"): ROUTED,
        ("n2", "n3"): ROUTED,
        ("n2", "n4"): ROUTED,
        ("n3", "n4"): DIRECT,
    }
    assert all(p["checked"] == "both ways" for p in table["pairs"])
    pair = table["pairs"][1]
    assert pair["paths"]["n1"] == {"kind": ROUTED, "route": "192.168.2.0/24 via 192.168.1.1 dev eth0", "to": "192.168.2.13"}
    assert direct_peers(table, "n1") == {"n2"} and direct_peers(table, "n4") == {"n3"}


def test_host_gw_is_refused_naming_every_pair_across_the_router_and_suggesting_hybrid():
    table = adjacency_table(plan_of(), views())
    problems = adjacency_problems(table, "hostgw")
    assert len(problems) == 1
    for pair in ("n1 <-> n3", "n1 <-> n4", "n2 <-> n3", "n2 <-> n4"):
        assert pair in problems[0]
    assert "n1 <-> n2" not in problems[0] and "n3 <-> n4" not in problems[0]
    assert "4 pair(s)" in problems[0] and "playbooks/hybrid.yml" in problems[0]
    assert adjacency_problems(table, "hybrid") == [] and adjacency_problems(table, "vxlan") == []


def test_one_sided_on_link_view_is_reported_not_used():
    # n1 has a /16 and believes n3 is on its segment; n3 routes to n1 through the router
    routes = dict(ROUTES, n1=[connected("192.168.0.0/16")])
    table = adjacency_table(plan_of(), views(routes))
    assert modes(table)[("n1", "n3")] == ASYMMETRIC
    for backend in ("hostgw", "hybrid"):
        text = " ".join(adjacency_problems(table, backend))
        assert "n1 <-> n3: the two ends disagree" in text and "n1 <-> n4: the two ends disagree" in text
        assert "n1 reaches 192.168.2.13 by '192.168.0.0/16 dev eth0' (direct)" in text
        assert "n3 reaches 192.168.1.11 by '192.168.1.0/24 via 192.168.2.1 dev eth0' (routed)" in text
    # a tunnel works whichever way each end would route: VXLAN and IPIP do not use the verdict
    assert adjacency_problems(table, "vxlan") == []
    # and hybrid never routes an asymmetric pair directly
    assert direct_peers(table, "n1") == {"n2"}


def test_a_peer_with_no_route_or_behind_a_blackhole_is_unreachable_for_every_backend():
    routes = dict(
        ROUTES,
        n2=[connected("192.168.1.0/24"), {"dst": "192.168.2.0/24", "via": None, "dev": None, "metric": 0, "type": "blackhole"}],
        n4=[connected("192.168.2.0/24")],
    )
    table = adjacency_table(plan_of(), views(routes))
    assert modes(table)[("n2", "n3")] == UNREACHABLE
    assert modes(table)[("n1", "n4")] == UNREACHABLE
    for backend in ("hostgw", "vxlan", "ipip", "hybrid"):
        text = " ".join(adjacency_problems(table, backend))
        assert "n2 <-> n3: no route to the peer's underlay address" in text
        assert "n2 reaches 192.168.2.13 by 'blackhole 192.168.2.0/24' (unreachable)" in text
        assert "n4 reaches 192.168.1.11 by 'no route' (unreachable)" in text


def test_on_link_through_another_interface_is_not_direct_for_the_underlay():
    routes = dict(ROUTES, n1=[connected("192.168.1.0/24", dev="eth1")])
    table = adjacency_table(plan_of(), views(routes))
    assert modes(table)[("n1", "n2")] == ASYMMETRIC


def test_a_node_left_out_of_the_run_is_judged_from_the_other_end_only():
    table = adjacency_table(plan_of(), {n: v for n, v in views().items() if n != "n2"})
    pair = next(p for p in table["pairs"] if p["nodes"] == ["n1", "n2"])
    assert pair["mode"] == DIRECT and pair["checked"] == "one way" and list(pair["paths"]) == ["n1"]
    assert not [p for p in table["pairs"] if p["nodes"] == ["n2"]]


def test_hybrid_gives_exactly_one_route_per_peer_subnet_direct_or_tunnelled():
    plan = plan_of()
    table = adjacency_table(plan, views())
    for encap, device in (("vxlan", "vxlan-routednet"), ("ipip", "ipip-routednet")):
        routes = peer_routes(plan, "n1", "hybrid", encap, device, "eth0", table)
        by_dst = {r["dst"]: r for r in routes}
        assert len(routes) == len(by_dst) == 3
        n2, n3, n4 = (plan["nodes"][n] for n in ("n2", "n3", "n4"))
        assert by_dst[n2["pod_cidr"]] == {"dst": n2["pod_cidr"], "via": "192.168.1.12", "dev": "eth0"}
        for peer in (n3, n4):
            route = by_dst[peer["pod_cidr"]]
            assert route["dev"] == device and route["onlink"] is True
            assert route["via"] == (peer["pod_cidr"].split("/")[0] if encap == "vxlan" else peer["underlay_ip"])
    # only the tunnelled peers get a neighbour and FDB entry
    assert [e["dst"] for e in peer_entries(plan, "n1", "hybrid", "vxlan", table)] == ["192.168.2.13", "192.168.2.14"]
    assert len(peer_entries(plan, "n1", "vxlan")) == 3


def test_moving_a_node_flips_its_pairs_on_both_ends():
    moved = dict(ADDRESSES, n2="192.168.2.12")
    routes = dict(ROUTES, n2=segment_routes(2, 1))
    plan = plan_of(moved)
    table = adjacency_table(plan, views(routes))
    assert modes(table)[("n1", "n2")] == ROUTED and modes(table)[("n2", "n3")] == DIRECT
    assert direct_peers(table, "n1") == set() and direct_peers(table, "n2") == {"n3", "n4"}
    assert direct_peers(table, "n3") == {"n2", "n4"}


def test_the_table_prints_a_summary_then_a_line_per_pair_within_a_limit():
    table = adjacency_table(plan_of(), views())
    lines = adjacency_lines(table)
    assert lines[0] == "6 pair(s): 2 direct, 4 routed"
    assert lines[1].startswith("n1 <-> n2: direct (checked both ways: n1 reaches 192.168.1.12 by '192.168.1.0/24 dev eth0' (direct);")
    short = adjacency_lines(table, limit=2)
    assert len(short) == 4 and short[-1] == "... and 4 more pair(s)"
