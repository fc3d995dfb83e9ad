"""Path diagnosis on the controller: finding both ends in the plan, and the report."""

from ansible_collections.routednet.fabric.plugins.module_utils.plan.diagnosis import container_nodes, path_ends, path_report
from ansible_collections.routednet.fabric.plugins.module_utils.backends.vxlan import vtep_mac
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


def test_an_ipv6_pod_address_is_refused_naming_the_pods_ipv4_address():
    nodes = [
        dict(name="n1", underlay_ip="10.0.0.1", pod_cidr="10.244.0.0/24", pods=["web"]),
        dict(name="n2", underlay_ip="10.0.0.2", pod_cidr="10.244.1.0/24", pods=["web"]),
    ]
    dual = build_plan(nodes, ["10.244.0.0/16", "fd00:10:244::/56"])[0]
    assert path_ends(dual, "n1/web", "fd00:10:244:2::2") == {
        "error": "dst=fd00:10:244:2::2 is the IPv6 address of n2/web; diagnose.yml follows a pod's IPv4 path for now: give its IPv4 address "
        "10.244.1.2 (verify.yml pings the IPv6 addresses)"
    }
    assert path_ends(dual, "fd00:10:244:1::2", "10.244.1.2")["error"].startswith("src=fd00:10:244:1::2 is the IPv6 address of n1/web;")


def test_an_ipv6_only_cluster_is_refused_pointing_at_verify():
    nodes = [dict(name="n1", underlay_ip="10.0.0.1", pods=["web"]), dict(name="n2", underlay_ip="10.0.0.2", pods=["web"])]
    only = build_plan(nodes, "fd00:10:244::/56")[0]
    assert container_nodes(only, "n1/web", "fd00:10:244:2::9") == []
    assert path_ends(only, "n1/web", "fd00:10:244:2::2") == {
        "error": "diagnose.yml follows a pod's IPv4 path, and routednet_cluster_cidr fd00:10:244::/56 is IPv6 only: verify.yml pings every IPv6 pod "
        "and names the path each ping took"
    }
