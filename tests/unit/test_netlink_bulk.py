"""The hand-packed netlink messages (module_utils/host/netlink_bulk.py), byte for byte against
pyroute2's own encoder, and the attribute parser on what pyroute2 encodes. No kernel."""

import pytest
from pyroute2.netlink.rtnl.ndmsg import ndmsg
from pyroute2.netlink.rtnl.rtmsg import rtmsg

from ansible_collections.routednet.fabric.plugins.module_utils.host import netlink_bulk as bulk

AF_INET, AF_BRIDGE = 2, 7
PROTO = 201
NLMSG_HEADER = 16


def encoded(message, fields, attrs):
    """pyroute2's bytes of ``message`` after the netlink header."""
    msg = message()
    for key, value in fields.items():
        msg[key] = value
    msg["attrs"] = attrs
    msg.encode()
    return bytes(msg.data[NLMSG_HEADER:])


# (id, kind, our route, oif, rtmsg fields, attributes in the order we pack them)
ROUTES = [
    (
        "host-gw: a peer's subnet via its underlay address",
        bulk.RTM_NEWROUTE,
        {"dst": "10.244.2.0/24", "table": 254, "via": "192.168.1.12"},
        None,
        {"dst_len": 24, "table": 254, "scope": 0},
        [("RTA_DST", "10.244.2.0"), ("RTA_TABLE", 254), ("RTA_GATEWAY", "192.168.1.12")],
    ),
    (
        "VXLAN: on-link through the VTEP, by index, with a metric",
        bulk.RTM_NEWROUTE,
        {"dst": "10.244.3.0/24", "table": 254, "via": "10.244.3.0", "onlink": True, "metric": 100},
        7,
        {"dst_len": 24, "table": 254, "scope": 0, "flags": 4},
        [("RTA_DST", "10.244.3.0"), ("RTA_TABLE", 254), ("RTA_PRIORITY", 100), ("RTA_GATEWAY", "10.244.3.0"), ("RTA_OIF", 7)],
    ),
    (
        "a pod's default route on its device: scope link",
        bulk.RTM_NEWROUTE,
        {"dst": "0.0.0.0/0", "table": 254},
        2,
        {"dst_len": 0, "table": 254, "scope": 253},
        [("RTA_DST", "0.0.0.0"), ("RTA_TABLE", 254), ("RTA_OIF", 2)],
    ),
    (
        "host-gw IPv6: a peer's subnet via its IPv6 underlay address, at the kernel's metric",
        bulk.RTM_NEWROUTE,
        {"dst": "fd00:10:244:2::/64", "table": 254, "via": "fd00:192:168:245::172", "metric": 1024},
        3,
        {"family": 10, "dst_len": 64, "table": 254, "scope": 0},
        [("RTA_DST", "fd00:10:244:2::"), ("RTA_TABLE", 254), ("RTA_PRIORITY", 1024), ("RTA_GATEWAY", "fd00:192:168:245::172"), ("RTA_OIF", 3)],
    ),
    (
        "a table past 255: the header says compat, the attribute the table",
        bulk.RTM_NEWROUTE,
        {"dst": "10.244.4.0/24", "table": 1000, "via": "192.168.1.14"},
        None,
        {"dst_len": 24, "table": 252, "scope": 0},
        [("RTA_DST", "10.244.4.0"), ("RTA_TABLE", 1000), ("RTA_GATEWAY", "192.168.1.14")],
    ),
    (
        "a delete names table, metric and protocol, matches any scope, no next hop",
        bulk.RTM_DELROUTE,
        {"dst": "10.244.2.0/24", "table": 254, "via": "192.168.1.12", "metric": 5, "onlink": True},
        3,
        {"dst_len": 24, "table": 254, "scope": 255},
        [("RTA_DST", "10.244.2.0"), ("RTA_TABLE", 254), ("RTA_PRIORITY", 5)],
    ),
]


@pytest.mark.parametrize("kind, route, oif, fields, attrs", [case[1:] for case in ROUTES], ids=[case[0] for case in ROUTES])
def test_route_messages_are_what_pyroute2_encodes(kind, route, oif, fields, attrs):
    header = dict({"family": AF_INET, "proto": PROTO, "type": 1, "flags": 0}, **fields)
    assert bulk.route_message(kind, route, PROTO, oif=oif) == encoded(rtmsg, header, attrs)


ENTRIES = [
    (
        "a permanent neighbour (the peer VTEP's MAC)",
        lambda: bulk.neighbour_message(5, "10.244.2.0", "aa:bb:cc:dd:ee:0f"),
        ndmsg,
        {"family": AF_INET, "ifindex": 5, "state": 0x80, "flags": 0, "ndm_type": 0},
        [("NDA_DST", "10.244.2.0"), ("NDA_LLADDR", "aa:bb:cc:dd:ee:0f")],
    ),
    (
        "its delete: by address only",
        lambda: bulk.neighbour_message(5, "10.244.2.0"),
        ndmsg,
        {"family": AF_INET, "ifindex": 5, "state": 0x80, "flags": 0, "ndm_type": 0},
        [("NDA_DST", "10.244.2.0")],
    ),
    (
        "an IPv6 neighbour (the peer VTEP's link-local address)",
        lambda: bulk.neighbour_message(5, "fe80::8403:1aff:fec1:8998", "86:03:1a:c1:89:98"),
        ndmsg,
        {"family": 10, "ifindex": 5, "state": 0x80, "flags": 0, "ndm_type": 0},
        [("NDA_DST", "fe80::8403:1aff:fec1:8998"), ("NDA_LLADDR", "86:03:1a:c1:89:98")],
    ),
    (
        "its delete",
        lambda: bulk.neighbour_message(5, "fe80::8403:1aff:fec1:8998"),
        ndmsg,
        {"family": 10, "ifindex": 5, "state": 0x80, "flags": 0, "ndm_type": 0},
        [("NDA_DST", "fe80::8403:1aff:fec1:8998")],
    ),
    (
        "an FDB entry behind an IPv6 underlay address",
        lambda: bulk.fdb_message(9, "aa:bb:cc:dd:ee:0f", "fd00:192:168:245::172"),
        ndmsg,
        {"family": AF_BRIDGE, "ifindex": 9, "state": 0x80, "flags": 2, "ndm_type": 0},
        [("NDA_LLADDR", "aa:bb:cc:dd:ee:0f"), ("NDA_DST", "fd00:192:168:245::172")],
    ),
    (
        "an FDB entry: the MAC behind the peer's underlay address",
        lambda: bulk.fdb_message(9, "aa:bb:cc:dd:ee:0f", "192.168.1.12"),
        ndmsg,
        {"family": AF_BRIDGE, "ifindex": 9, "state": 0x80, "flags": 2, "ndm_type": 0},
        [("NDA_LLADDR", "aa:bb:cc:dd:ee:0f"), ("NDA_DST", "192.168.1.12")],
    ),
]


@pytest.mark.parametrize("ours, message, fields, attrs", [case[1:] for case in ENTRIES], ids=[case[0] for case in ENTRIES])
def test_entry_messages_are_what_pyroute2_encodes(ours, message, fields, attrs):
    assert ours() == encoded(message, fields, attrs)


def test_the_parser_reads_back_what_pyroute2_encodes():
    body = encoded(
        rtmsg,
        {"family": AF_INET, "dst_len": 24, "table": 254, "proto": PROTO, "scope": 0, "type": 1},
        [("RTA_DST", "10.244.2.0"), ("RTA_TABLE", 254), ("RTA_GATEWAY", "192.168.1.12"), ("RTA_OIF", 4)],
    )
    found = bulk.attributes(body, bulk.RTMSG.size, len(body))
    assert bulk._ip_text(found[bulk.RTA_DST]) == "10.244.2.0" and bulk._ip_text(found[bulk.RTA_GATEWAY]) == "192.168.1.12"
    assert bulk.U32.unpack(found[bulk.RTA_TABLE])[0] == 254 and bulk.U32.unpack(found[bulk.RTA_OIF])[0] == 4


def test_the_parser_reads_ipv6_addresses():
    body = encoded(rtmsg, {"family": 10, "dst_len": 64, "table": 254, "proto": PROTO, "type": 1}, [("RTA_DST", "fd00:10:244:2::"), ("RTA_GATEWAY", "fe80::1")])
    found = bulk.attributes(body, bulk.RTMSG.size, len(body))
    assert (bulk._ip_text(found[bulk.RTA_DST]), bulk._ip_text(found[bulk.RTA_GATEWAY])) == ("fd00:10:244:2::", "fe80::1")


def test_the_parser_stops_at_a_truncated_attribute():
    body = bulk._attr(bulk.RTA_TABLE, bulk.U32.pack(254)) + b"\x02\x00\x01\x00"  # length 2: shorter than its header
    assert list(bulk.attributes(body, 0, len(body))) == [bulk.RTA_TABLE]
