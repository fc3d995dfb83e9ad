"""The verify matrix."""

from ansible_collections.routednet.fabric.plugins.module_utils.plan.report import container_sources, container_targets, verify_markdown, verify_matrix


def test_verify_matrix_marks_misses_and_same_node_pairs():
    lines = verify_matrix(
        {
            "n1": [{"source": "a", "node": "n2", "pod": "b", "address": "10.0.2.2", "ok": True, "ttl": 62, "path": {"kind": "vxlan"}}],
            "n2": [{"source": "b", "node": "n1", "pod": "a", "address": "10.0.1.2", "ok": False, "ttl": None}],
        }
    )
    assert lines[0].split() == ["from", "\\", "to", "n1/a", "n2/b"]
    assert lines[1].split() == ["n1/a", "-", "62", "vxlan"]
    assert lines[2].split() == ["n2/b", "FAIL", "-"]
    assert all(line == line.rstrip() for line in lines)


def path(peer):
    return {"kind": "vxlan" if peer % 2 else "direct"}


def results(count, miss=None):
    """Every pod pings every other; node i has pod i; ``miss``: (src, dst) numbers that fail."""
    return {
        "node%d" % n: [
            {"source": "p%d" % n, "node": "node%d" % m, "pod": "p%d" % m, "address": "10.0.%d.2" % m, "ok": (n, m) != miss, "ttl": 62, "path": path(m)}
            for m in range(1, count + 1)
            if m != n
        ]
        for n in range(1, count + 1)
    }


def test_a_large_matrix_numbers_its_columns_and_stays_narrow():
    lines = verify_matrix(results(21, miss=(3, 5)))
    assert lines[0].split()[3:] == [str(n) for n in range(1, 22)]
    # natural order: node2 before node10, rows numbered like the columns
    assert [line.split()[1] for line in lines[1:4]] == ["node1/p1", "node2/p2", "node3/p3"] and lines[10].split()[:2] == ["10", "node10/p10"]
    assert lines[3].split()[2:8] == ["62v", "62d", "-", "62d", "FAIL", "62d"]
    assert max(len(line) for line in lines) <= 130
    assert "cells: TTL of the reply, then the path: d direct, v vxlan" in lines
    assert lines[-1] == "FAIL: node3/p3 -> node5/p5 (10.0.5.2)"


def test_markdown_has_a_summary_the_table_and_the_misses():
    text = verify_markdown(results(3, miss=(1, 2)), title="Verify lab")
    lines = text.splitlines()
    assert lines[0] == "# Verify lab"
    assert lines[2].startswith("3 pods, 6 pairs across nodes, 5 answered, 1 missed.")
    assert lines[4] == "| from \\ to | node1/p1 | node2/p2 | node3/p3 |" and lines[5] == "|---|---|---|---|"
    assert lines[6] == "| node1/p1 | - | **FAIL** | 62 vxlan |"
    assert lines[-1] == "- node1/p1 -> node2/p2 (10.0.2.2)"


def dual_stack(miss_v6=None):
    """results(2), and the same pods' IPv6 pings; ``miss_v6``: (src, dst) of an IPv6 miss."""
    found = results(2)
    for n, entries in found.items():
        entries += [dict(e, address="fd00:%s::2" % e["node"][-1], family=6, ok=(int(n[-1]), int(e["node"][-1])) != miss_v6) for e in list(entries)]
    return found


def test_a_dual_stack_matrix_has_one_grid_per_family():
    lines = verify_matrix(dual_stack(miss_v6=(2, 1)))
    assert lines[0] == "IPv4:" and lines[4] == "IPv6:"
    assert lines[2].split() == ["node1/p1", "-", "62", "direct"] and lines[3].split() == ["node2/p2", "62", "vxlan", "-"]
    assert lines[7].split() == ["node2/p2", "FAIL", "-"] and lines[-1] == "FAIL: node2/p2 -> node1/p1 (fd00:1::2)"
    text = verify_markdown(dual_stack(), title="Verify lab").splitlines()
    assert [line for line in text if line.startswith("#")] == ["# Verify lab", "## IPv4", "## IPv6"]
    assert sum(line.startswith("2 pods, 2 pairs across nodes, 2 answered, 0 missed.") for line in text) == 2


def test_an_ipv6_only_matrix_is_titled_as_ipv6():
    only = dict((node, [e for e in entries if e.get("family") == 6]) for node, entries in dual_stack().items())
    lines = verify_matrix(only)
    assert lines[0] == "IPv6:" and lines[3].split() == ["node2/p2", "62", "vxlan", "-"] and "IPv4:" not in lines
    assert [line for line in verify_markdown(only).splitlines() if line.startswith("#")] == ["# Pod-to-pod reachability", "## IPv6"]


def test_the_other_nodes_containers_become_targets_named_by_their_namespace():
    found = {
        "node1": {"containers": [{"netns": "cni-a", "addresses": ["10.244.1.16/24"], "host_ifname": "veth1", "ifname": "eth0"}]},
        "node2": {
            "containers": [
                {"netns": "netns-b", "addresses": ["10.244.2.17/24"], "host_ifname": "veth2", "ifname": "eth0"},
                {"netns": None, "addresses": [], "host_ifname": "veth3", "ifname": None},
            ]
        },
        "node3": {"skipped": True},
    }
    assert container_targets(found, "node1") == [{"node": "node2", "pod": "netns-b", "address": "10.244.2.17"}]
    assert container_sources(found["node2"]) == ["netns-b"] and container_sources({"skipped": True}) == []
