"""The collection's nftables table as data: what each setting puts in it."""

from ansible_collections.routednet.fabric.plugins.module_utils import nft

NODES = ["192.168.32.247", "192.168.32.245", "192.168.32.246"]


def described(**settings):
    return nft.lines(nft.ruleset("routednet", NODES, "172.240.0.0/12", **settings)).splitlines()


def test_vxlan_only_from_the_nodes_and_pods_forwarded():
    assert described(vxlan_port=8472) == [
        "table inet routednet",
        "set nodes { 192.168.32.245, 192.168.32.246, 192.168.32.247 }",
        "chain forward { type filter hook forward priority 0; policy accept; }",
        "chain input { type filter hook input priority 0; policy accept; }",
        "forward: ip saddr 172.240.0.0/12 ip daddr 172.240.0.0/12 counter accept",
        "input: udp dport 8472 ip saddr != @nodes counter drop",
    ]


def test_host_gw_has_no_tunnel_rule_and_ipip_drops_protocol_4_from_strangers():
    assert not [line for line in described() if line.startswith("input:")]
    assert [line for line in described(ipip=True) if line.startswith("input:")] == ["input: ip protocol 4 ip saddr != @nodes counter drop"]


def test_masquerade_only_what_leaves_the_cluster():
    lines = described(masquerade=True)
    assert "chain postrouting { type nat hook postrouting priority 100; policy accept; }" in lines
    assert "postrouting: ip saddr 172.240.0.0/12 ip daddr != 172.240.0.0/12 counter masquerade" in lines
    assert not [line for line in described() if "postrouting" in line]


def test_comparison_ignores_handles_metadata_and_element_order():
    wanted = nft.ruleset("routednet", NODES, "172.240.0.0/12", vxlan_port=8472)
    listed = [{"metainfo": {"version": "1.0.6"}}]
    for index, obj in enumerate(reversed(wanted)):
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
