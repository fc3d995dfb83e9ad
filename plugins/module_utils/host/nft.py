# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""nftables through libnftables (the library the nft command is built on), in JSON.

The collection keeps all its rules in one table of its own (family inet) and
replaces that table in one transaction; no other table or chain is ever read
for changing, or changed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ctypes
import ipaddress
import json

LIBRARY = "libnftables.so.1"
OUTPUT_STATELESS = 1 << 2  # no counter values in listings
OUTPUT_JSON = 1 << 4
OUTPUT_NUMERIC_PROTO = 1 << 7  # "4", not "ipencap"
FAMILY = "inet"
NODES_SET = "nodes"
# the nodes' IPv6 underlay addresses, where a tunnel runs over IPv6
NODES_V6_SET = "nodes6"


class NftError(Exception):
    pass


class Nft(object):
    """One libnftables context with JSON input and output."""

    def __init__(self):
        try:
            lib = ctypes.CDLL(LIBRARY)
        except OSError:
            raise NftError("%s is not installed: install the distribution's nftables package (Debian, Ubuntu: libnftables1)" % LIBRARY) from None
        lib.nft_ctx_new.restype = ctypes.c_void_p
        lib.nft_ctx_new.argtypes = [ctypes.c_uint]
        for name in ("nft_ctx_buffer_output", "nft_ctx_buffer_error", "nft_ctx_free"):
            getattr(lib, name).argtypes = [ctypes.c_void_p]
        lib.nft_ctx_output_set_flags.argtypes = [ctypes.c_void_p, ctypes.c_uint]
        for name in ("nft_ctx_get_output_buffer", "nft_ctx_get_error_buffer"):
            getattr(lib, name).restype = ctypes.c_char_p
            getattr(lib, name).argtypes = [ctypes.c_void_p]
        lib.nft_run_cmd_from_buffer.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        self.lib = lib
        self.ctx = lib.nft_ctx_new(0)
        lib.nft_ctx_buffer_output(self.ctx)
        lib.nft_ctx_buffer_error(self.ctx)
        lib.nft_ctx_output_set_flags(self.ctx, OUTPUT_JSON | OUTPUT_STATELESS | OUTPUT_NUMERIC_PROTO)

    def close(self):
        if self.ctx:
            self.lib.nft_ctx_free(self.ctx)
            self.ctx = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def run(self, command):
        """Run one command (text, or a JSON document as a dict); return its JSON output or None."""
        text = json.dumps(command) if isinstance(command, dict) else command
        rc = self.lib.nft_run_cmd_from_buffer(self.ctx, text.encode())
        out = (self.lib.nft_ctx_get_output_buffer(self.ctx) or b"").decode()
        if rc != 0:
            err = (self.lib.nft_ctx_get_error_buffer(self.ctx) or b"").decode().strip()
            raise NftError(err.splitlines()[0] if err else "nft command failed (%d)" % rc)
        return json.loads(out) if out.strip() else None

    def table(self, name):
        """Our table's objects in comparable form, or None when it does not exist."""
        tables = self.run("list tables %s" % FAMILY) or {"nftables": []}
        if not any("table" in obj and obj["table"]["name"] == name for obj in tables["nftables"]):
            return None
        return comparable(self.run("list table %s %s" % (FAMILY, name))["nftables"])


def _match(protocol, field, value, op="=="):
    return {"match": {"op": op, "left": {"payload": {"protocol": protocol, "field": field}}, "right": value}}


def _prefix(cidr):
    network = ipaddress.ip_network(cidr)
    return {"prefix": {"addr": str(network.network_address), "len": network.prefixlen}}


def _meta(key, value, op="=="):
    return {"match": {"op": op, "left": {"meta": {"key": key}}, "right": value}}


# Every rule of ours carries this comment: the table is ours only if all its rules do
# (libnftables 1.0's JSON has no table comments).
OWNER_COMMENT = "routednet.fabric"
# Chains and set an older version wrote, before its rules carried the comment.
LEGACY_CHAINS = ("input", "forward", "postrouting")
OURS, LEGACY, THEIRS = "ours", "legacy", "theirs"


def owner(objects):
    """Who owns an existing table (its objects as ``comparable`` returns them)."""
    rules = [o["rule"] for o in objects if "rule" in o]
    if rules and all(rule.get("comment") == OWNER_COMMENT for rule in rules):
        return OURS
    sets = [o["set"]["name"] for o in objects if "set" in o]
    chains = [o["chain"]["name"] for o in objects if "chain" in o]
    others = [o for o in objects if not set(o) & {"table", "set", "chain", "rule"}]
    if (
        rules
        and sets == [NODES_SET]
        and not others
        and set(chains) <= set(LEGACY_CHAINS)
        and all(rule["chain"] in LEGACY_CHAINS and "comment" not in rule for rule in rules)
    ):
        return LEGACY
    return THEIRS


def _overlay_rules(head, match, underlay_dev, local, local_v6=None):
    """Overlay packets (``match``: VXLAN's port or IPIP's protocol) are accepted only as a
    peer sends them: in on the underlay interface, from a node's address, to this node's
    underlay address (over IPv6, ``local_v6``: from a node's IPv6 address to this node's);
    every other one is dropped. A pod (its packets come in on the bridge) or a host
    elsewhere that forges a node's source address is dropped too."""
    genuine = [match, _meta("iifname", underlay_dev), _match("ip", "saddr", "@" + NODES_SET), _match("ip", "daddr", local)]
    rules = [{"rule": dict(head, chain="input", expr=genuine + [{"accept": None}])}]
    if local_v6:
        genuine_v6 = [match, _meta("iifname", underlay_dev), _match("ip6", "saddr", "@" + NODES_V6_SET), _match("ip6", "daddr", local_v6)]
        rules.append({"rule": dict(head, chain="input", expr=genuine_v6 + [{"accept": None}])})
    return rules + [{"rule": dict(head, chain="input", expr=[match, {"counter": None}, {"drop": None}])}]


def ruleset(
    table, nodes, cluster_cidr, vxlan_port=None, ipip=False, masquerade=False, underlay_dev=None, local=None, cluster_cidr_v6=None, nodes_v6=None, local_v6=None
):
    """The objects of our table, in the form libnftables lists them (without handles).

    - input: VXLAN's UDP port and IPIP (protocol 4) only from the nodes' underlay addresses,
      on the underlay interface (``underlay_dev``), to this node's address (``local``);
      with ``nodes_v6`` and ``local_v6`` (a VTEP over the IPv6 underlay) from the nodes'
      IPv6 underlay addresses to this node's too;
    - forward: pod to pod inside the cluster CIDR accepted (and inside the IPv6 one,
      ``cluster_cidr_v6``, for a node with IPv6 pods; an IPv6-only node has no IPv4 one);
    - postrouting (if masquerade): pod traffic leaving the cluster CIDR masqueraded, of
      each family the node has pods of (an IPv6 unique local range reaches nothing
      outside the cluster otherwise).
    """
    head = {"family": FAMILY, "table": table, "comment": OWNER_COMMENT}
    objects = [
        {"table": {"family": FAMILY, "name": table}},
        {"set": dict(family=FAMILY, table=table, name=NODES_SET, type="ipv4_addr", elem=sorted(set(nodes), key=ipaddress.ip_address))},
    ]
    if nodes_v6:
        objects.append({"set": dict(family=FAMILY, table=table, name=NODES_V6_SET, type="ipv6_addr", elem=sorted(set(nodes_v6), key=ipaddress.ip_address))})
    objects += [
        {"chain": dict(family=FAMILY, table=table, name="input", type="filter", hook="input", prio=0, policy="accept")},
        {"chain": dict(family=FAMILY, table=table, name="forward", type="filter", hook="forward", prio=0, policy="accept")},
    ]
    if vxlan_port:
        objects += _overlay_rules(head, _match("udp", "dport", vxlan_port), underlay_dev, local, local_v6)
    if ipip:
        objects += _overlay_rules(head, _match("ip", "protocol", 4), underlay_dev, local)
    if cluster_cidr:
        inside = [_match("ip", "saddr", _prefix(cluster_cidr)), _match("ip", "daddr", _prefix(cluster_cidr))]
        objects.append({"rule": dict(head, chain="forward", expr=inside + [{"counter": None}, {"accept": None}])})
    if cluster_cidr_v6:
        inside_v6 = [_match("ip6", "saddr", _prefix(cluster_cidr_v6)), _match("ip6", "daddr", _prefix(cluster_cidr_v6))]
        objects.append({"rule": dict(head, chain="forward", expr=inside_v6 + [{"counter": None}, {"accept": None}])})
    if masquerade:
        objects.append({"chain": dict(family=FAMILY, table=table, name="postrouting", type="nat", hook="postrouting", prio=100, policy="accept")})
        for protocol, cidr in (("ip", cluster_cidr), ("ip6", cluster_cidr_v6)):
            if cidr:
                leaving = [_match(protocol, "saddr", _prefix(cidr)), _match(protocol, "daddr", _prefix(cidr), op="!=")]
                objects.append({"rule": dict(head, chain="postrouting", expr=leaving + [{"counter": None}, {"masquerade": None}])})
    return comparable(objects)


def without_nodes(obj, addresses):
    """``obj`` with ``addresses`` taken out if it is one of our node sets."""
    body = obj.get("set")
    if not body or body.get("name") not in (NODES_SET, NODES_V6_SET):
        return obj
    return {"set": dict(body, elem=[e for e in body.get("elem") or [] if e not in set(addresses)])}


def comparable(objects):
    """Objects without handles and metadata, set elements sorted, in a stable order."""
    kinds = ("table", "set", "chain", "rule")
    result = []
    for obj in objects:
        kind = next((k for k in kinds if k in obj), None)
        if kind is None:
            continue
        body = dict((k, v) for k, v in obj[kind].items() if k != "handle")
        if kind == "set":
            body["elem"] = sorted(body.get("elem") or [], key=lambda e: ipaddress.ip_address(e) if isinstance(e, str) else str(e))
        result.append({kind: body})
    # rules keep their order within a chain; everything else by kind and name
    order = dict((k, i) for i, k in enumerate(kinds))
    return sorted(result, key=lambda o: (order[next(iter(o))], next(iter(o.values())).get("chain") or next(iter(o.values())).get("name")))


def _value(right):
    if isinstance(right, dict) and "prefix" in right:
        return "%s/%s" % (right["prefix"]["addr"], right["prefix"]["len"])
    return str(right)


def _expression(expr):
    if "match" in expr and "meta" in expr["match"]["left"]:
        match = expr["match"]
        return "%s %s%s" % (match["left"]["meta"]["key"], "" if match["op"] == "==" else match["op"] + " ", _value(match["right"]))
    if "match" in expr and "payload" in expr["match"]["left"]:
        match = expr["match"]
        payload = match["left"]["payload"]
        op = "" if match["op"] == "==" else match["op"] + " "
        return "%s %s %s%s" % (payload["protocol"], payload["field"], op, _value(match["right"]))
    if len(expr) == 1 and next(iter(expr.values())) is None or "counter" in expr:
        return next(iter(expr))
    return json.dumps(expr, sort_keys=True)


def describe(obj):
    """An object of our table in nft's own words, for diffs (JSON for shapes we never write)."""
    if "table" in obj:
        return "table %s %s" % (obj["table"]["family"], obj["table"]["name"])
    if "set" in obj:
        return "set %s { %s }" % (obj["set"]["name"], ", ".join(str(e) for e in obj["set"].get("elem") or []))
    if "chain" in obj:
        chain = obj["chain"]
        if "hook" not in chain:
            return "chain %s" % chain["name"]
        return "chain %s { type %s hook %s priority %s; policy %s; }" % (chain["name"], chain["type"], chain["hook"], chain["prio"], chain["policy"])
    if "rule" in obj:
        return "%s: %s" % (obj["rule"]["chain"], " ".join(_expression(e) for e in obj["rule"]["expr"]))
    return json.dumps(obj, sort_keys=True)


def lines(objects):
    """One line per object, for diffs."""
    return "".join(describe(obj) + "\n" for obj in objects or [])


def replace_table(table, objects):
    """One transaction: create-or-keep, delete, then create the table with ``objects``."""
    ident = {"family": FAMILY, "name": table}
    commands = [{"add": {"table": ident}}, {"delete": {"table": ident}}]
    for obj in objects:
        empty_set = "set" in obj and not obj["set"].get("elem")
        # libnftables refuses an empty element list; a set without one is empty
        commands.append({"add": {"set": dict((k, v) for k, v in obj["set"].items() if k != "elem")}} if empty_set else {"add": obj})
    return {"nftables": commands}


def delete_table(table):
    return {"nftables": [{"delete": {"table": {"family": FAMILY, "name": table}}}]}
