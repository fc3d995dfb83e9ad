"""Node documents, golden, for the seeds' topologies (test_node_document.yaml): what the
controller computes for a node and the steps node_state makes of it, in order."""

import json
import os

import pytest
import yaml

from ansible_collections.routednet.fabric.plugins.module_utils.plan import adjacency, node_document, planning
from ansible_collections.routednet.fabric.plugins.module_utils.state import document_steps, saved_state, state_steps

with open(os.path.join(os.path.dirname(__file__), "test_node_document.yaml")) as handle:
    DATA = yaml.safe_load(handle)


def document_of(case):
    topology = DATA["topologies"][case["topology"]]
    plan, _leases = planning.build_plan(topology["nodes"], topology["cluster_cidr"])
    result = {"plan": plan, "settings": {case["node"]: dict(DATA["settings"], **case.get("settings", {}))}}
    return node_document.build(result, case["node"], case["facts"], case["pod_mtu"], case.get("adjacency"), case.get("underlay_v6"))


@pytest.mark.parametrize("case", DATA["cases"], ids=[case["name"] for case in DATA["cases"]])
def test_the_node_document_and_its_steps(case):
    document = document_of(case)
    assert document == case["document"]
    assert document_steps.problems(document) == []
    steps = document_steps.steps(document)
    assert [state_steps.label(step) + ("" if step["save"] else " (clean-up)") for step in steps] == case["steps"]
    # every step is a valid call of its module (what node_state checks before it runs any)
    _checked, errors = state_steps.validated(steps)
    assert errors == []


def test_what_is_not_a_document_is_named():
    assert document_steps.problems({"steps": []}) == ["it is not a node document of format 1 (build it with the routednet.fabric.node_document filter)"]
    document = document_of(DATA["cases"][0])
    del document["routes"]
    assert document_steps.problems(document) == ["it has no routes"]


def decommission_result():
    case = DATA["decommission"]
    topology = DATA["topologies"][case["topology"]]
    plan, _leases = planning.build_plan(topology["nodes"], topology["cluster_cidr"])
    leaving = {case["leaving"]: plan["nodes"].pop(case["leaving"])}
    return {"plan": plan, "leaving": leaving, "settings": dict((node["name"], dict(DATA["settings"])) for node in topology["nodes"])}


@pytest.mark.parametrize("kind,build", [("forget", node_document.forget), ("remove", node_document.removal)])
def test_decommission_documents_and_their_steps(kind, build):
    case = DATA["decommission"][kind]
    document = build(decommission_result(), case["node"])
    assert document == case["document"]
    assert document_steps.problems(document) == []
    steps = document_steps.steps(document)
    assert [state_steps.label(step) + ("" if step["save"] else " (clean-up)") for step in steps] == case["steps"]
    assert [step for step in steps if step["save"]] == [], "nothing of a decommission is restored at boot"
    _checked, errors = state_steps.validated(steps)
    assert errors == []


def test_an_unknown_kind_is_named():
    document = dict(DATA["decommission"]["forget"]["document"], kind="rename")
    assert document_steps.problems(document) == ["its kind 'rename' is none of converge, forget, remove"]


def test_the_saved_document_forgets_the_leaving_nodes():
    """The boot restore's document, as vm1 saved it on VXLAN, loses vm3's route, entry and
    firewall address, and keeps the rest; so does a state file of explicit steps."""
    result = decommission_result()
    full = dict(result, plan=dict(result["plan"], nodes=dict(result["plan"]["nodes"], **result["leaving"])))
    full["settings"]["vm1"]["routednet_backend"] = "vxlan"
    facts = {"underlay_dev": "eth0", "saved_pods": [], "netns_found": {}, "saved": {}}
    document = node_document.build(full, "vm1", facts, 1450)
    departure = node_document.forget(result, "vm1")
    steps = [dict(module=step["module"], params=step["params"]) for step in document_steps.steps(document) if step["save"]]
    state, dropped = saved_state.forget(saved_state.state_of("vm1", steps, document), departure)
    assert sorted(dropped) == ["firewall node 192.168.32.247", "route 172.247.0.0/24", "tunnel entry 172.247.0.0"]
    kept = state["document"]
    assert [route["dst"] for route in kept["routes"]["routes"]] == ["172.246.0.0/24"]
    assert [peer["ip"] for peer in kept["entries"]["peers"]] == ["172.246.0.0"]
    assert kept["firewall"]["nodes"] == ["192.168.32.245", "192.168.32.246"]
    assert dict(kept, routes=None, entries=None, firewall=None) == dict(document, routes=None, entries=None, firewall=None)
    # the steps the restore runs lose the same: they are the forgotten document's
    assert state["steps"] == [dict(module=step["module"], params=step["params"]) for step in document_steps.steps(kept) if step["save"]]
    # and so does a state file of explicit steps
    state, dropped = saved_state.forget(saved_state.state_of("vm1", steps), departure)
    assert sorted(dropped) == ["firewall node 192.168.32.247", "route 172.247.0.0/24", "tunnel entry 172.247.0.0"]
    assert state == {"format": 1, "node": "vm1", "steps": saved_state.forget(saved_state.state_of("vm1", steps, document), departure)[0]["steps"]}


def test_a_vtep_over_the_ipv6_underlay_forgets_the_leaving_nodes_ipv6_address(tmp_path):
    """The controller knows vm3's IPv4 underlay address only; vm1's saved entries hold the
    IPv6 one its VTEP reaches vm3 by, and its firewall's nodes6 set loses that one too."""
    result = decommission_result()
    full = dict(result, plan=dict(result["plan"], nodes=dict(result["plan"]["nodes"], **result["leaving"])))
    full["settings"]["vm1"].update(routednet_backend="vxlan", routednet_vxlan_underlay="ipv6")
    facts = {"underlay_dev": "eth0", "saved_pods": [], "netns_found": {}, "saved": {}}
    underlay_v6 = dict(("vm%d" % n, "fd00:32::%d/64" % (244 + n)) for n in (1, 2, 3))
    document = node_document.build(full, "vm1", facts, 1430, underlay_v6=underlay_v6)
    steps = [dict(module=step["module"], params=step["params"]) for step in document_steps.steps(document) if step["save"]]
    path = tmp_path / "boot-state.json"
    path.write_text(json.dumps(saved_state.state_of("vm1", steps, document)))
    departure = node_document.forget(result, "vm1")
    assert departure["firewall"]["drop_nodes"] == ["192.168.32.247"]
    completed = saved_state.with_saved_underlays(departure, str(path))
    assert completed["firewall"]["drop_nodes"] == ["192.168.32.247", "fd00:32::247"]
    state, dropped = saved_state.forget(saved_state.load_state(str(path)), completed)
    assert sorted(dropped) == ["firewall node 192.168.32.247", "firewall node fd00:32::247", "route 172.247.0.0/24", "tunnel entry 172.247.0.0"]
    assert state["document"]["firewall"]["nodes_v6"] == ["fd00:32::245", "fd00:32::246"]
    # without a state file (boot restore off) the departure is as the controller made it
    assert saved_state.with_saved_underlays(departure, str(tmp_path / "none.json")) == departure


def test_the_saved_document_keeps_nothing_of_this_runs_clean_up():
    """What the boot restore keeps of a document is the same from one run to the next (a
    re-run rewrites no state file) and makes the same saved steps."""
    case = next(case for case in DATA["cases"] if any(step.endswith("(clean-up)") for step in case["steps"]))
    document = document_of(case)
    kept = document_steps.without_cleanup(document)
    assert kept["departed_pods"] == [] and kept["other_tunnels"] == [] and set(kept["renamed"].values()) == {None}
    assert [step for step in document_steps.steps(kept) if not step["save"]] == []
    assert document_steps.steps(kept) == [step for step in document_steps.steps(document) if step["save"]]


def dual_stack_document(backend, underlay_v6, adjacency=None):
    case = next(case for case in DATA["cases"] if case["topology"] == "dualstack")
    return document_of(dict(case, settings={"routednet_backend": backend}, underlay_v6=underlay_v6, adjacency=adjacency))


def test_vxlan_carries_ipv6_pods_through_the_same_vtep_via_the_peers_link_local_next_hop():
    document = dual_stack_document("vxlan", {})
    assert document["tunnel"]["addresses"] == ["172.17.0.0/32", "fd00:10:244:1::/128"]
    # one FDB entry per peer serves both families' neighbours
    assert document["entries"]["peers"] == [
        {"ip": "172.18.0.0", "mac": "86:03:1a:c1:89:98", "dst": "192.168.245.172"},
        {"ip": "fe80::8403:1aff:fec1:8998", "mac": "86:03:1a:c1:89:98", "dst": "192.168.245.172"},
    ]
    assert document["routes"]["routes"] == [
        {"dst": "172.18.0.0/24", "via": "172.18.0.0", "dev": "vxlan-routednet", "onlink": True},
        {"dst": "fd00:10:244:2::/64", "via": "fe80::8403:1aff:fec1:8998", "dev": "vxlan-routednet"},
    ]


ADJACENT = {"pairs": [{"nodes": ["node1", "node2"], "mode": adjacency.DIRECT}]}


@pytest.mark.parametrize(
    "underlay_v6, ipv6_route",
    [
        # both on one IPv6 prefix: direct in both families
        (
            {"node1": "fd00:192:168:245::168/64", "node2": "fd00:192:168:245::172/64"},
            {"dst": "fd00:10:244:2::/64", "via": "fd00:192:168:245::172", "dev": "eth0"},
        ),
        # node2 without an IPv6 underlay address, or on another prefix: its IPv6 pods tunnelled
        ({"node1": "fd00:192:168:245::168/64"}, {"dst": "fd00:10:244:2::/64", "via": "fe80::8403:1aff:fec1:8998", "dev": "vxlan-routednet"}),
        (
            {"node1": "fd00:192:168:245::168/64", "node2": "fd00:1::172/64"},
            {"dst": "fd00:10:244:2::/64", "via": "fe80::8403:1aff:fec1:8998", "dev": "vxlan-routednet"},
        ),
    ],
)
def test_hybrid_decides_each_family_of_a_direct_pair_on_its_own(underlay_v6, ipv6_route):
    document = dual_stack_document("hybrid", underlay_v6, adjacency=ADJACENT)
    assert document["routes"]["routes"] == [{"dst": "172.18.0.0/24", "via": "192.168.245.172", "dev": "eth0"}, ipv6_route]
    tunnelled = ipv6_route["dev"] == "vxlan-routednet"
    assert document["entries"]["peers"] == ([{"ip": "fe80::8403:1aff:fec1:8998", "mac": "86:03:1a:c1:89:98", "dst": "192.168.245.172"}] if tunnelled else [])


def test_vxlan_over_the_ipv6_underlay_names_the_nodes_ipv6_underlay_addresses():
    case = next(case for case in DATA["cases"] if case["topology"] == "dualstack")
    document = document_of(dict(case, settings={"routednet_backend": "vxlan", "routednet_vxlan_underlay": "ipv6"}))
    assert document["tunnel"]["local"] == "fd00:192:168:245::168"
    assert [peer["dst"] for peer in document["entries"]["peers"]] == ["fd00:192:168:245::172", "fd00:192:168:245::172"]
    firewall = document["firewall"]
    assert (firewall["nodes_v6"], firewall["local_v6"]) == (["fd00:192:168:245::168", "fd00:192:168:245::172"], "fd00:192:168:245::168")
    # over the IPv4 underlay, the IPv4 one
    assert dual_stack_document("vxlan", case["underlay_v6"])["tunnel"]["local"] == "192.168.245.168"
    assert "nodes_v6" not in dual_stack_document("vxlan", case["underlay_v6"])["firewall"]
