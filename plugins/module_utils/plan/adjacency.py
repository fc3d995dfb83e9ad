# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which pairs of nodes share an L2 segment, decided from each node's own routes.

A node reaches a peer *directly* when the longest-prefix route for the peer's
underlay address in its main table has no gateway and leaves through the
node's underlay interface: the kernel then resolves the peer itself with ARP,
which is what a host-gw route ``<peer subnet> via <peer> dev <underlay>`` needs.
Any other match is *routed* (through a gateway or another interface); no match
is *unreachable*.  Pure Python: the node_facts module picks the routes that
decide (few, whatever the node count) and the controller builds one table for
the whole cluster from them, a single verdict per unordered pair.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.routednet.fabric.plugins.module_utils import backends


def tunnel_playbooks():
    """The playbooks of the backends that tunnel (they cross routed underlays), hybrid's
    default tunnel first."""
    first = backends.HYBRID_DEFAULT_TUNNEL
    return ["%s.yml" % name for name in [first] + sorted(name for name in backends.TUNNELS if name != first)]


DIRECT = "direct"
ROUTED = "routed"
UNREACHABLE = "unreachable"
ASYMMETRIC = "asymmetric"


class RouteIndex(object):
    """Longest-prefix match over a list of routes ({dst, via, dev, metric})."""

    def __init__(self, routes):
        self.by_len = {}
        for route in routes:
            net = ipaddress.IPv4Network(route["dst"], strict=False)
            slot = self.by_len.setdefault(net.prefixlen, {})
            key = int(net.network_address)
            # equal prefixes: the kernel uses the lowest metric
            if key not in slot or (route.get("metric") or 0) < (slot[key].get("metric") or 0):
                slot[key] = route
        self.lengths = sorted(self.by_len, reverse=True)

    def lookup(self, address):
        value = int(ipaddress.IPv4Address(address))
        for length in self.lengths:
            mask = (0xFFFFFFFF << (32 - length)) & 0xFFFFFFFF
            route = self.by_len[length].get(value & mask)
            if route is not None:
                return route
        return None


def path(index, address, underlay_dev):
    """How a node with these routes reaches an address: kind, and the route that decides."""
    route = index.lookup(address)
    if route is None or route.get("type", "unicast") != "unicast":
        return {"kind": UNREACHABLE, "route": describe(route) if route else None}
    direct = not route.get("via") and route.get("dev") == underlay_dev
    return {"kind": DIRECT if direct else ROUTED, "route": describe(route)}


def describe(route):
    words = [] if route.get("type", "unicast") == "unicast" else [route["type"]]
    words.append(route["dst"] if route["dst"] != "0.0.0.0/0" else "default")
    if route.get("via"):
        words += ["via", route["via"]]
    if route.get("dev"):
        words += ["dev", route["dev"]]
    return " ".join(words)


def deciding_routes(routes, addresses):
    """The routes that are the longest match for at least one address, in input order.

    Enough for the controller to repeat every lookup exactly, and small: a node on
    one segment behind one gateway sends two routes whatever the cluster's size.
    """
    index = RouteIndex(routes)
    used = set()
    for address in addresses:
        route = index.lookup(address)
        if route is not None:
            used.add(id(route))
    return [r for r in routes if id(r) in used]


def _pair_mode(forward, backward):
    kinds = {forward["kind"], backward["kind"]} if backward else {forward["kind"]}
    if UNREACHABLE in kinds:
        return UNREACHABLE
    if kinds == {DIRECT}:
        return DIRECT
    if kinds == {ROUTED}:
        return ROUTED
    return ASYMMETRIC


def adjacency_table(plan, views):
    """One verdict per unordered pair of planned nodes.

    ``views``: node -> {underlay_dev, underlay_routes} (node_facts' results) for the
    nodes in this run.  A pair is checked both ways when both nodes are in the run,
    and from the one side that is when the other is left out (``--limit``).
    Returns {"pairs": [{"nodes": [a, b], "mode", "checked", "paths": {a: .., b: ..}}]}
    sorted by node names; a pair with neither node in the run is not listed.
    """
    nodes = plan["nodes"]
    indexes = {}
    for name, view in views.items():
        if name in nodes and view:
            indexes[name] = (RouteIndex(view.get("underlay_routes") or []), view.get("underlay_dev"))
    names = sorted(nodes)
    pairs = []
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            paths = {}
            for src, dst in ((first, second), (second, first)):
                if src in indexes:
                    index, dev = indexes[src]
                    paths[src] = dict(path(index, nodes[dst]["underlay_ip"], dev), to=nodes[dst]["underlay_ip"])
            if not paths:
                continue
            found = list(paths.values())
            mode = _pair_mode(found[0], found[1] if len(found) > 1 else None)
            pairs.append({"nodes": [first, second], "mode": mode, "checked": "both ways" if len(paths) == 2 else "one way", "paths": paths})
    return {"pairs": pairs}


def direct_peers(table, node):
    """Peers this node reaches directly, both ways (the only ones host-gw may route to)."""
    peers = set()
    for pair in table["pairs"]:
        if node in pair["nodes"] and pair["mode"] == DIRECT:
            peers.update(n for n in pair["nodes"] if n != node)
    return peers


def _pair_text(pair):
    return "%s <-> %s" % tuple(pair["nodes"])


def _paths_text(pair):
    return "; ".join("%s reaches %s by '%s' (%s)" % (src, p["to"], p["route"] or "no route", p["kind"]) for src, p in sorted(pair["paths"].items()))


def adjacency_problems(table, backend):
    """Lines naming every pair the backend cannot use, each with the fix; [] when all is well.

    Every backend needs each peer's underlay address routable.  host-gw also needs every
    pair on one L2 segment; hybrid decides per pair, so it needs both ends to agree.
    """
    problems = []
    for pair in table["pairs"]:
        if pair["mode"] == UNREACHABLE:
            problems.append(
                "%s: no route to the peer's underlay address (%s). Fix: give the nodes a route to each other's routednet_underlay_ip."
                % (_pair_text(pair), _paths_text(pair))
            )
        elif pair["mode"] == ASYMMETRIC and backends.checks_pairs(backend):
            problems.append(
                "%s: the two ends disagree whether they share an L2 segment (%s); a route one way and a tunnel back would give"
                " one-way paths. Fix the netmask or the routes on the underlay interface so that both ends agree." % (_pair_text(pair), _paths_text(pair))
            )
    if backends.checks_pairs(backend) and not backends.get(backend).MIXED:  # every pair direct: host-gw
        apart = [p for p in table["pairs"] if p["mode"] == ROUTED]
        if apart:
            problems.append(
                "host-gw needs every pair of nodes on one L2 segment, and %d pair(s) are not: %s. Fix: run playbooks/hybrid.yml"
                " (host-gw routes between neighbours, a tunnel for these pairs) or %s."
                % (len(apart), "; ".join("%s (%s)" % (_pair_text(p), _paths_text(p)) for p in apart), " / ".join(tunnel_playbooks()))
            )
    return problems


def adjacency_lines(table, limit=60):
    """The table for the run's output: a count per mode, then one line per pair (at most
    ``limit``, so that a large cluster's output stays readable)."""
    counts = {}
    for pair in table["pairs"]:
        counts[pair["mode"]] = counts.get(pair["mode"], 0) + 1
    lines = ["%d pair(s): %s" % (len(table["pairs"]), ", ".join("%d %s" % (n, mode) for mode, n in sorted(counts.items())) or "none")]
    for pair in table["pairs"][:limit]:
        lines.append("%s: %s (checked %s: %s)" % (_pair_text(pair), pair["mode"], pair["checked"], _paths_text(pair)))
    if len(table["pairs"]) > limit:
        lines.append("... and %d more pair(s)" % (len(table["pairs"]) - limit))
    return lines
