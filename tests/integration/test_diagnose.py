"""playbooks/diagnose.yml on a seed 000 lab: a healthy path passes every hop and the ping;
each break made on purpose is named as the first broken hop, with a command that shows
it on that node; the play itself changes nothing."""

import re

import pytest

from labhelpers import in_node_namespaces, node_state, playbook, recap, run, running_lab

LAB = "diag"
PATH = ["-e", "src=docker1", "-e", "dst=172.18.0.2"]

# (what is broken, node, command that breaks it, hop named, what its command prints then)
HOSTGW_BREAKS = [
    ("a peer route deleted", "node1", "ip route del 172.18.0.0/24", "node1, route to node2's pods", "unreachable"),
    ("forwarding off", "node1", "sysctl -qw net.ipv4.ip_forward=0", "node1, forwarding", "net.ipv4.ip_forward = 0"),
    ("the source pod's default route dropped", "node1", "ip netns exec docker1 ip route del default", "node1, pod docker1 route", "unreachable"),
    ("the destination pod's default route dropped", "node2", "ip netns exec docker2 ip route del default", "node2, pod docker2 route", "unreachable"),
    ("forwarding off on the destination", "node2", "sysctl -qw net.ipv4.ip_forward=0", "node2, forwarding", "net.ipv4.ip_forward = 0"),
]


def on_node(node, command):
    """Run a shell command on a lab node as an operator logged in there would."""
    return run(*in_node_namespaces(LAB, node, "sh", "-c", command))


def diagnose(inventory, *extra):
    res = playbook("playbooks/diagnose.yml", "-i", str(inventory), *(extra or PATH))
    assert "Traceback" not in res.stdout + res.stderr
    return res


def verdict(res):
    """(first broken hop, the command that shows it) or (None, None), from the report."""
    assert res.returncode == 0, res.stdout[-3000:]
    broken = re.search(r"FIRST BROKEN HOP: (.+)", res.stdout)
    command = re.search(r"see it on \S+: (.+)", res.stdout)
    return (broken.group(1).strip(), command.group(1).strip()) if broken else (None, None)


@pytest.fixture(scope="module")
def inventory(tmp_path_factory):
    with running_lab(LAB, "default.yml", tmp_path_factory.mktemp("diag") / "hosts.yml") as path:
        yield path


def assert_healthy(inventory, hops):
    res = diagnose(inventory)
    assert verdict(res) == (None, None), res.stdout[-3000:]
    assert "every hop holds the planned state, and the ping was answered (TTL 62)" in res.stdout
    assert len(re.findall(r"^\s+\d+ ok  ", res.stdout, re.M)) == hops, res.stdout[-3000:]
    for node in ("node1", "node2"):
        assert recap(res.stdout, node)["changed"] == 0


# The nodes' state on the healthy host-gw path, as the first break case found it.
HEALTHY_HOSTGW = {}


@pytest.mark.parametrize("what, node, breaker, hop, shows", HOSTGW_BREAKS, ids=[b[0] for b in HOSTGW_BREAKS])
def test_a_hostgw_break_is_named(inventory, what, node, breaker, hop, shows):
    assert playbook("playbooks/hostgw.yml", "-i", str(inventory)).returncode == 0
    converged = {n: node_state(LAB, n) for n in ("node1", "node2")}
    if not HEALTHY_HOSTGW:
        assert_healthy(inventory, hops=15)
        HEALTHY_HOSTGW.update(converged)
    else:
        # the play put the previous case's break back: exactly the state diagnosed healthy
        # (one diagnose run less per case)
        assert converged == HEALTHY_HOSTGW, what
    assert on_node(node, breaker).returncode == 0
    before = {n: node_state(LAB, n) for n in ("node1", "node2")}
    named, command = verdict(diagnose(inventory))
    assert named == hop, what
    # the command the report gives, run on that node, shows the break
    shown = on_node(node, command)
    assert shows in (shown.stdout + shown.stderr), (command, shown)
    # diagnosing changed nothing
    assert {n: node_state(LAB, n) for n in ("node1", "node2")} == before


def test_a_vxlan_fdb_entry_flushed_is_named(inventory):
    assert playbook("playbooks/vxlan.yml", "-i", str(inventory)).returncode == 0
    assert_healthy(inventory, hops=19)
    fdb = on_node("node1", "bridge fdb show dev vxlan-routednet").stdout
    mac = re.search(r"^(\S+) dst 192\.168\.245\.172 ", fdb, re.M).group(1)
    assert on_node("node1", "bridge fdb del %s dev vxlan-routednet dst 192.168.245.172" % mac).returncode == 0
    named, command = verdict(diagnose(inventory))
    assert named == "node1, VXLAN FDB entry of node2"
    assert command == "bridge fdb show dev vxlan-routednet"
    assert mac not in on_node("node1", command).stdout
    # the backend's play puts it back, and the path is whole again
    assert playbook("playbooks/vxlan.yml", "-i", str(inventory)).returncode == 0
    assert_healthy(inventory, hops=19)


def test_a_node_as_source_and_bad_input(inventory):
    assert playbook("playbooks/hostgw.yml", "-i", str(inventory)).returncode == 0
    res = diagnose(inventory, "-e", "src=node1", "-e", "dst=docker2")
    assert verdict(res) == (None, None), res.stdout[-3000:]
    assert "path node1 -> 172.18.0.2 (node2/docker2)" in res.stdout
    # routed by node2 only: one hop fewer than pod to pod
    assert "every hop holds the planned state, and the ping was answered (TTL 63)" in res.stdout
    bad = [
        (["-e", "src=docker9", "-e", "dst=172.18.0.2"], "src=docker9 is neither a node nor a pod of the plan; give one of: node1, node2"),
        (["-e", "src=docker1", "-e", "dst=172.18.0.99"], "dst=172.18.0.99 is no pod address of the plan; give one of: 172.17.0.2 (node1/docker1)"),
        (["-e", "src=docker1"], "diagnose.yml needs -e src=<node, pod or node/pod> -e dst=<pod address>"),
    ]
    for args, message in bad:
        res = diagnose(inventory, *args)
        assert res.returncode != 0 and message in res.stdout, res.stdout[-2000:]


def planned_state(report, node):
    """The lines of ``node``'s section of a plan preview's Markdown."""
    section = report.split("## %s\n" % node, 1)[1]
    return set(section.split("```\n", 2)[1].splitlines())


def held_state(node):
    """What the node holds of ours, in the preview's layout: routes, permanent
    neighbours and FDB entries with a destination."""
    routes = on_node(node, "ip route show proto 201").stdout.splitlines()
    neighbours = on_node(node, "ip neigh show nud permanent").stdout.splitlines()
    fdb = [line for line in on_node(node, "bridge fdb show").stdout.splitlines() if " dst " in line]
    return {line.strip() + " proto 201" for line in routes} | {line.strip() for line in neighbours + fdb}


def test_the_plan_preview_is_what_the_run_installs(inventory, tmp_path):
    """plan.yml on the lab predicts each node's routes and VXLAN entries line for line."""
    report_path = tmp_path / "plan.md"
    res = playbook("playbooks/plan.yml", "-i", str(inventory), "-e", "routednet_backend=vxlan", "-e", "plan_report=%s" % report_path)
    assert res.returncode == 0, res.stdout[-3000:]
    assert playbook("playbooks/vxlan.yml", "-i", str(inventory)).returncode == 0
    report = report_path.read_text()
    for node in ("node1", "node2"):
        planned = planned_state(report, node)
        assert len(planned) == 3, planned  # one route, one neighbour, one FDB entry
        assert planned == held_state(node)
