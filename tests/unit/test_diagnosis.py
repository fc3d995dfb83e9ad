"""Path diagnosis on the controller: finding both ends in the plan, and the report."""

from ansible_collections.routednet.fabric.plugins.module_utils.plan import diagnosis
from ansible_collections.routednet.fabric.plugins.module_utils.plan.diagnosis import container_nodes, path_ends, path_report
from ansible_collections.routednet.fabric.plugins.module_utils.backends.vxlan import ipv6_next_hop, vtep_mac
from ansible_collections.routednet.fabric.plugins.module_utils.plan.planning import build_plan


def plan():
    nodes = [
        dict(name="n1", underlay_ip="10.0.0.1", pod_cidr="10.244.0.0/24", pods=["web", "db"]),
        dict(name="n2", underlay_ip="10.0.0.2", pod_cidr="10.244.1.0/24", pods=["web"]),
    ]
    return build_plan(nodes, "10.244.0.0/16")[0]


def test_ends_of_a_path_across_nodes():
    ends = path_ends(plan(), "n1/db", "10.244.1.2")
    assert ends["to"] == "10.244.1.2"
    assert ends["source"]["node"] == "n1" and ends["source"]["pod"]["name"] == "db"
    assert ends["source"]["pod"]["address"] == "10.244.0.3/24"
    assert ends["source"]["peer"] == {
        "node": "n2",
        "pod_cidr": "10.244.1.0/24",
        "underlay_ip": "10.0.0.2",
        "tunnel_ip": "10.244.1.0",
        "vtep_mac": vtep_mac("n2"),
    }
    assert ends["destination"]["node"] == "n2" and ends["destination"]["peer"]["node"] == "n1"
    assert ends["destination"]["gateway"] == "10.244.1.1/24"


def test_a_node_as_source_and_a_pod_name_as_destination():
    ends = path_ends(plan(), "n2", "n1/db")
    assert ends["source"]["pod"] is None and ends["to"] == "10.244.0.3"
    assert ends["title"] == "n2 -> 10.244.0.3 (n1/db)"


def test_the_same_node_has_no_peer():
    ends = path_ends(plan(), "db", "10.244.0.2")
    assert ends["source"]["peer"] is None and ends["destination"]["peer"] is None


def test_bad_ends_are_named_with_the_fix():
    assert "write it as node/pod, e.g. src=n1/web" in path_ends(plan(), "web", "10.244.0.3")["error"]
    assert "give one of: n1, n2, n1/web, n1/db, n2/web" in path_ends(plan(), "cache", "10.244.0.3")["error"]
    assert path_ends(plan(), "n1/web", "10.244.0.2")["error"].startswith("src and dst are the same pod")
    assert "dst=10.9.9.9 is no pod address of the plan" in path_ends(plan(), "db", "10.9.9.9")["error"]
    assert "needs -e src=" in path_ends(plan(), "", "10.244.0.2")["error"]


def hop(node, name, ok):
    return {"node": node, "hop": name, "ok": ok, "seen": "seen " + name, "want": "want " + name, "command": "cmd " + name}


def test_the_report_names_the_first_broken_hop_only():
    ends = path_ends(plan(), "n1/db", "10.244.1.2")
    report = path_report(ends, [hop("n1", "a", True), hop("n1", "b", False)], [hop("n2", "c", False)], {"ok": False, "ttl": None})
    assert report["broken"]["hop"] == "b" and not report["ok"]
    assert " 2 FAIL n1    b: seen b" in report["lines"]
    assert "FIRST BROKEN HOP: n1, b" in report["lines"]
    assert "  see it on n1: cmd b" in report["lines"]
    assert "c" not in [line.split(": ")[-1] for line in report["lines"] if line.startswith("FIRST")]


def test_a_whole_path_that_drops_the_ping_points_at_tcpdump():
    ends = path_ends(plan(), "n1/db", "10.244.1.2")
    report = path_report(ends, [hop("n1", "a", True)], [hop("n2", "c", True)], {"ok": False, "ttl": None})
    assert report["broken"] is None and not report["ok"]
    assert any("tcpdump -ni %s icmp" % ends["source"]["pod"]["host_ifname"] in line for line in report["lines"])
    answered = path_report(ends, [hop("n1", "a", True)], [], {"ok": True, "ttl": 62})
    assert answered["ok"] and answered["lines"][-1].endswith("the ping was answered (TTL 62)")


FOUND = {
    "n2": {
        "containers": [
            {"netns": "cni-7f3a", "ifname": "eth0", "host_ifname": "veth9c1d", "addresses": ["10.244.1.16/24"]},
            {"netns": None, "ifname": None, "host_ifname": "vethgone", "addresses": []},
        ]
    }
}


def test_a_runtime_container_is_an_end_by_its_address_looked_for_on_its_own_node_only():
    assert container_nodes(plan(), "n1/db", "10.244.1.16") == ["n2"]
    assert container_nodes(plan(), "10.244.1.16", "10.244.0.2") == ["n2"]  # a pod's address needs no looking
    assert container_nodes(plan(), "n1/db", "10.244.1.2") == []
    ends = path_ends(plan(), "n1/db", "10.244.1.16", FOUND)
    assert ends["to"] == "10.244.1.16" and ends["title"] == "n1/db -> 10.244.1.16 (n2/cni-7f3a)"
    assert ends["destination"]["pod"] == {"name": "cni-7f3a", "address": "10.244.1.16/24", "ifname": "eth0", "host_ifname": "veth9c1d"}
    back = path_ends(plan(), "10.244.1.16", "10.244.0.3", FOUND)
    assert back["source"]["node"] == "n2" and back["source"]["pod"]["name"] == "cni-7f3a" and back["destination"]["pod"]["name"] == "db"


def test_an_address_no_pod_and_no_container_holds_is_named():
    assert path_ends(plan(), "n1/db", "10.244.1.99", FOUND)["error"] == (
        "dst=10.244.1.99 is no pod address of the plan; give one of: 10.244.0.2 (n1/web), 10.244.0.3 (n1/db), 10.244.1.2 (n2/web)"
        " - or a running container's address (none on n2's bridge holds 10.244.1.99)"
    )


def dual_stack():
    nodes = [
        dict(name="n1", underlay_ip="10.0.0.1", pod_cidr="10.244.0.0/24", pods=["web"]),
        dict(name="n2", underlay_ip="10.0.0.2", pod_cidr="10.244.1.0/24", pods=["web"]),
    ]
    return build_plan(nodes, ["10.244.0.0/16", "fd00:10:244::/56"])[0]


def test_an_ipv6_address_at_either_end_diagnoses_the_ipv6_path():
    ends = path_ends(dual_stack(), "n1/web", "fd00:10:244:2::2")
    assert (ends["family"], ends["to"], ends["title"]) == (6, "fd00:10:244:2::2", "n1/web -> fd00:10:244:2::2 (n2/web)")
    assert ends["source"]["pod"]["address"] == "fd00:10:244:1::2/64" and ends["source"]["gateway"] == "fd00:10:244:1::1/64"
    assert ends["source"]["peer"] == {
        "node": "n2",
        "family": 6,
        "pod_cidr": "fd00:10:244:2::/64",
        "underlay_ip": "10.0.0.2",
        "underlay_ip_v6": None,
        "tunnel_ip": ipv6_next_hop("n2"),
        "vtep_mac": vtep_mac("n2"),
    }
    back = path_ends(dual_stack(), "fd00:10:244:2::2", "n1/web")
    assert back["family"] == 6 and back["source"]["node"] == "n2" and back["to"] == "fd00:10:244:1::2"
    # a pod named at both ends: IPv4, where the plan has it
    assert path_ends(dual_stack(), "n1/web", "n2/web")["family"] == 4


def test_the_ipv6_underlay_node_facts_found_completes_the_peers():
    ends = path_ends(dual_stack(), "n1/web", "fd00:10:244:2::2")
    found = dict((node, {"underlay_v6": {"address": address, "cidr": address + "/64"}}) for node, address in (("n1", "fd00:1::11"), ("n2", "fd00:1::12")))
    done = diagnosis.with_found_underlays(ends, found, {"n1": {"routednet_vxlan_underlay": "ipv4"}, "n2": {"routednet_vxlan_underlay": "ipv6"}})
    assert done["source"]["peer"]["underlay_ip_v6"] == "fd00:1::12" and "outer_ip" not in done["source"]["peer"]
    assert done["destination"]["peer"]["underlay_ip_v6"] == "fd00:1::11" and done["destination"]["peer"]["outer_ip"] == "fd00:1::11"
    # an IPv4 path over a VTEP on the IPv6 underlay: the outer address only
    ipv4 = diagnosis.with_found_underlays(path_ends(dual_stack(), "n1/web", "n2/web"), found, {"n1": {"routednet_vxlan_underlay": "ipv6"}})
    assert ipv4["source"]["peer"]["outer_ip"] == "fd00:1::12" and "underlay_ip_v6" not in ipv4["source"]["peer"]
    assert diagnosis.with_found_underlays({"error": "x"}, found, {}) == {"error": "x"}
    settings = {"n1": {"routednet_vxlan_underlay": "ipv4"}}
    assert diagnosis.needs_found_underlays(ends, settings) and not diagnosis.needs_found_underlays(path_ends(dual_stack(), "n1/web", "n2/web"), settings)
    assert diagnosis.needs_found_underlays(path_ends(dual_stack(), "n1/web", "n2/web"), {"n2": {"routednet_vxlan_underlay": "ipv6"}})


def test_an_ipv6_only_cluster_diagnoses_its_pods_by_name_and_refuses_an_ipv4_address():
    nodes = [dict(name="n1", underlay_ip="10.0.0.1", pods=["web"]), dict(name="n2", underlay_ip="10.0.0.2", pods=["web"])]
    only = build_plan(nodes, "fd00:10:244::/56")[0]
    ends = path_ends(only, "n1/web", "n2/web")
    assert ends["family"] == 6 and ends["to"] == "fd00:10:244:2::2" and ends["destination"]["gateway"] == "fd00:10:244:2::1/64"
    assert container_nodes(only, "n1/web", "fd00:10:244:2::10") == ["n2"]
    assert path_ends(only, "n1/web", "10.244.1.2") == {
        "error": "dst=10.244.1.2 is IPv4, and routednet_cluster_cidr fd00:10:244::/56 has no IPv4 CIDR: give a pod's IPv6 address or name"
    }
    assert path_ends(plan(), "fd00:10:244:1::2", "n2/web")["error"] == (
        "src=fd00:10:244:1::2 is IPv6, and routednet_cluster_cidr 10.244.0.0/16 has no IPv6 CIDR: give a pod's IPv4 address or name"
    )
