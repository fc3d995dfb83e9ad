"""The collection's nftables table as data: what each setting puts in it."""

from ansible_collections.routednet.fabric.plugins.module_utils.host import nft

NODES = ["192.168.32.247", "192.168.32.245", "192.168.32.246"]


def described(**settings):
    return nft.lines(nft.ruleset("routednet", NODES, "172.240.0.0/12", underlay_dev="eth0", local="192.168.32.246", **settings)).splitlines()


def test_vxlan_only_from_the_nodes_and_pods_forwarded():
    assert described(vxlan_port=8472) == [
        "table inet routednet",
        "set nodes { 192.168.32.245, 192.168.32.246, 192.168.32.247 }",
        "chain forward { type filter hook forward priority 0; policy accept; }",
        "chain input { type filter hook input priority 0; policy accept; }",
        "forward: ip saddr 172.240.0.0/12 ip daddr 172.240.0.0/12 counter accept",
        "input: udp dport 8472 iifname eth0 ip saddr @nodes ip daddr 192.168.32.246 accept",
        "input: udp dport 8472 counter drop",
    ]


def test_host_gw_has_no_tunnel_rule_and_ipip_drops_protocol_4_from_strangers():
    assert not [line for line in described() if line.startswith("input:")]
    assert [line for line in described(ipip=True) if line.startswith("input:")] == [
        "input: ip protocol 4 iifname eth0 ip saddr @nodes ip daddr 192.168.32.246 accept",
        "input: ip protocol 4 counter drop",
    ]


def test_masquerade_only_what_leaves_the_cluster():
    lines = described(masquerade=True)
    assert "chain postrouting { type nat hook postrouting priority 100; policy accept; }" in lines
    assert "postrouting: ip saddr 172.240.0.0/12 ip daddr != 172.240.0.0/12 counter masquerade" in lines
    assert not [line for line in described() if "postrouting" in line]


def test_a_dual_stack_node_forwards_ipv6_pods_inside_the_ipv6_cluster_cidr_too():
    lines = described(cluster_cidr_v6="fd00:10:244::/56")
    assert [line for line in lines if line.startswith("forward:")] == [
        "forward: ip saddr 172.240.0.0/12 ip daddr 172.240.0.0/12 counter accept",
        "forward: ip6 saddr fd00:10:244::/56 ip6 daddr fd00:10:244::/56 counter accept",
    ]
    assert not [line for line in described() if "ip6" in line]


def test_masquerade_covers_each_family_the_node_has_pods_of():
    dual = described(masquerade=True, cluster_cidr_v6="fd00:10:244::/56")
    assert [line for line in dual if line.startswith("postrouting:")] == [
        "postrouting: ip saddr 172.240.0.0/12 ip daddr != 172.240.0.0/12 counter masquerade",
        "postrouting: ip6 saddr fd00:10:244::/56 ip6 daddr != fd00:10:244::/56 counter masquerade",
    ]
    only = nft.lines(nft.ruleset("routednet", NODES, None, masquerade=True, cluster_cidr_v6="fd00:10:244::/56")).splitlines()
    assert [line for line in only if line.startswith("postrouting:")] == dual[-1:]


def test_an_ipv6_only_node_forwards_ipv6_pods_only():
    lines = nft.lines(nft.ruleset("routednet", NODES, None, cluster_cidr_v6="fd00:10:244::/56")).splitlines()
    assert [line for line in lines if line.startswith("forward:")] == ["forward: ip6 saddr fd00:10:244::/56 ip6 daddr fd00:10:244::/56 counter accept"]


def test_vxlan_over_the_ipv6_underlay_only_from_the_nodes_ipv6_addresses():
    lines = described(vxlan_port=8472, nodes_v6=["fd00:1::12", "fd00:1::11"], local_v6="fd00:1::11")
    assert "set nodes6 { fd00:1::11, fd00:1::12 }" in lines
    assert [line for line in lines if line.startswith("input:")] == [
        "input: udp dport 8472 iifname eth0 ip saddr @nodes ip daddr 192.168.32.246 accept",
        "input: udp dport 8472 iifname eth0 ip6 saddr @nodes6 ip6 daddr fd00:1::11 accept",
        "input: udp dport 8472 counter drop",
    ]
    # a node that left goes from either set
    table = nft.ruleset(
        "routednet", NODES, "172.240.0.0/12", 8472, underlay_dev="eth0", local="192.168.32.246", nodes_v6=["fd00:1::12", "fd00:1::11"], local_v6="fd00:1::11"
    )
    kept = [nft.without_nodes(obj, ["fd00:1::12"]) for obj in table]
    assert "set nodes6 { fd00:1::11 }" in nft.lines(kept).splitlines()


def test_comparison_ignores_handles_metadata_and_element_order():
    wanted = nft.ruleset("routednet", NODES, "172.240.0.0/12", vxlan_port=8472)
    listed = [{"metainfo": {"version": "1.0.6"}}]
    # tables, sets and chains in any order; rules as the kernel lists them, in chain order
    shuffled = [o for o in reversed(wanted) if "rule" not in o] + [o for o in wanted if "rule" in o]
    for index, obj in enumerate(shuffled):
        kind, body = next(iter(obj.items()))
        body = dict(body, handle=index)
        if kind == "set":
            body["elem"] = list(reversed(body["elem"]))
        listed.append({kind: body})
    assert nft.comparable(listed) == wanted
    # a rule taken out (drift) is a difference
    assert nft.comparable(listed[:-1]) != wanted


def test_an_empty_node_set_is_written_without_elements():
    commands = nft.replace_table("routednet", nft.ruleset("routednet", [], "172.240.0.0/12"))["nftables"]
    assert commands[:2] == [{"add": {"table": {"family": "inet", "name": "routednet"}}}, {"delete": {"table": {"family": "inet", "name": "routednet"}}}]
    assert [c["add"]["set"] for c in commands if "set" in c.get("add", {})] == [{"family": "inet", "table": "routednet", "name": "nodes", "type": "ipv4_addr"}]


def test_a_table_is_ours_only_if_every_rule_carries_our_comment():
    ours = nft.ruleset("routednet", NODES, "172.240.0.0/12", vxlan_port=8472, underlay_dev="eth0", local="192.168.32.246")
    assert nft.owner(ours) == nft.OURS
    # an operator's rule added to our table makes it no longer ours alone
    foreign = dict(next(o for o in ours if "rule" in o)["rule"], comment="operator", expr=[{"accept": None}])
    assert nft.owner(ours + [{"rule": foreign}]) == nft.THEIRS


def test_a_table_an_older_version_wrote_is_recognised_and_an_operators_filter_table_is_not():
    legacy = [
        {"table": {"family": "inet", "name": "routednet"}},
        {"set": {"family": "inet", "table": "routednet", "name": "nodes", "type": "ipv4_addr", "elem": NODES}},
        {"chain": {"family": "inet", "table": "routednet", "name": "input", "type": "filter", "hook": "input", "prio": 0, "policy": "accept"}},
        {"rule": {"family": "inet", "table": "routednet", "chain": "input", "expr": [{"drop": None}]}},
    ]
    assert nft.owner(legacy) == nft.LEGACY
    operator = [
        {"table": {"family": "inet", "name": "filter"}},
        {"chain": {"family": "inet", "table": "filter", "name": "input", "type": "filter", "hook": "input", "prio": 0, "policy": "drop"}},
        {"chain": {"family": "inet", "table": "filter", "name": "output", "type": "filter", "hook": "output", "prio": 0, "policy": "accept"}},
        {"rule": {"family": "inet", "table": "filter", "chain": "input", "expr": [{"accept": None}]}},
    ]
    assert nft.owner(operator) == nft.THEIRS
    assert nft.owner([{"table": {"family": "inet", "name": "empty"}}]) == nft.THEIRS
