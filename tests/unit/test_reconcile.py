"""Route and entry planning and step validation, without a kernel: the cases of
test_reconcile.yaml, and each saved step checked against its module's own spec."""

import os

import pytest
import yaml

from ansible_collections.routednet.fabric.plugins.module_utils.converge import ip_forwarding
from ansible_collections.routednet.fabric.plugins.module_utils.host import links, neighbours, routes
from ansible_collections.routednet.fabric.plugins.module_utils.state import state_steps

PROTO = 201
with open(os.path.join(os.path.dirname(__file__), "test_reconcile.yaml")) as handle:
    CASES = yaml.safe_load(handle)


def present_route(spec):
    """A route as read_routes reports one."""
    route = dict(routes.normalize_route(dict(spec, dev=spec.get("dev") or "eth0")), proto=spec["proto"])
    if not spec.get("dev"):
        route["dev"] = None  # as desired routes without dev: any device matches
    return route


@pytest.mark.parametrize("case", CASES["routes"], ids=[case["id"] for case in CASES["routes"]])
def test_route_planning(case):
    state = case.get("state", "present")
    current = {routes.route_key(r["table"], r["dst"], r["metric"]): r for r in map(present_route, case["current"])}
    desired = [routes.normalize_route(spec, removing=state == "absent") for spec in case["desired"]]
    to_set, to_delete, conflicts = routes.plan_routes(current, desired, PROTO, case.get("prune", False), state)
    assert [routes.describe(r) for r in to_set] == case.get("set", [])
    assert [routes.describe(r) for r in to_delete] == case.get("delete", [])
    assert ["%s would replace %s" % (routes.describe(w), routes.describe(c)) for w, c in conflicts] == case.get("conflicts", [])


@pytest.mark.parametrize("case", CASES["route_specs"], ids=[case["id"] for case in CASES["route_specs"]])
def test_route_specs(case):
    if "error" in case:
        with pytest.raises(routes.RouteSpecError) as raised:
            routes.normalize_route(case["spec"], removing=case.get("removing", False))
        assert str(raised.value) == case["error"]
    else:
        assert routes.normalize_route(case["spec"], removing=case.get("removing", False)) == case["route"]


@pytest.mark.parametrize("case", CASES["entries"], ids=[case["id"] for case in CASES["entries"]])
def test_entry_planning(case):
    fdb = {tuple(entry) for entry in case.get("fdb", [])}
    plan = neighbours.plan_entries(case.get("neigh", {}), fdb, case["peers"], case.get("prune", False), case.get("state", "present"))
    expected = dict({"neigh_set": [], "neigh_del": [], "fdb_add": [], "fdb_del": []}, **case["plan"])
    got = {key: [list(e) if isinstance(e, tuple) else e for e in plan[key]] for key in expected}
    assert got == expected


def test_steps_get_their_modules_defaults():
    steps, errors = state_steps.validated([{"module": "ip_forwarding", "params": {}}, {"module": "bridge", "params": {"name": "cni0"}}])
    assert errors == []
    assert steps[0]["params"] == {"state": "present", "persist_file": "/etc/sysctl.d/90-routednet.conf", "ipv6": False, "ipv4": True}
    assert steps[1]["params"]["state"] == "present" and steps[1]["params"]["netns"] is None


def test_a_bad_step_is_named_by_its_number_and_module():
    _steps, errors = state_steps.validated([{"module": "netns", "params": {"name": "p1"}}, {"module": "bridge", "params": {"name": "cni0", "colour": "red"}}])
    assert len(errors) == 1 and errors[0].startswith("step 2 (bridge): ") and "colour" in errors[0], errors


def test_the_sysctl_file_keeps_router_advertisements_before_ipv6_forwarding():
    assert ip_forwarding.persist_text() == ip_forwarding.PERSIST_TEXT
    assert ip_forwarding.persist_text(True, ["eth1", "eth0"]).splitlines()[1:] == [
        "net.ipv4.ip_forward = 1",
        "-net.ipv6.conf.eth0.accept_ra = 2",
        "-net.ipv6.conf.eth1.accept_ra = 2",
        "net.ipv6.conf.all.forwarding = 1",
    ]
    # what a file of ours keeps them on for is read back (a run after the first, at boot)
    assert ip_forwarding._KEEP_RA.findall(ip_forwarding.persist_text(True, ["eth0"])) == ["eth0"]
    # a VLAN's dot is a slash in the key
    assert "-net.ipv6.conf.eth0/100.accept_ra = 2" in ip_forwarding.persist_text(True, ["eth0.100"]).splitlines()
    assert ip_forwarding.is_ours(ip_forwarding.persist_text(True, []))


def test_addresses_are_canonical_ipv4_first_and_never_link_local():
    assert links.normalize_interfaces(["FD00:10:244:1:0::1/64", "172.17.0.1/24"]) == ["172.17.0.1/24", "fd00:10:244:1::1/64"]
    with pytest.raises(ValueError, match="fe80::1/64 is link-local; the kernel gives every IPv6 link its own"):
        links.normalize_interfaces(["fe80::1/64"])
    with pytest.raises(ValueError, match="write it as fd00::1/64, say"):
        links.normalize_interfaces(["fd00::1"])
