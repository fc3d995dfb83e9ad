# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Declarative IPv4 and IPv6 route reconcile, restricted to the collection's own routes.

A route is identified as the kernel does it: (table, destination, metric); the
destination's text says the family.
Routes carrying our protocol number are ours; every other route is read only
to refuse a desired route that would overwrite an operator's.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.routednet.fabric.plugins.module_utils import ipv4
from ansible_collections.routednet.fabric.plugins.module_utils.host import netlink_bulk as bulk
from ansible_collections.routednet.fabric.plugins.module_utils.host.links import find_name
from ansible_collections.routednet.fabric.plugins.module_utils.host.netlink import AF_INET, AF_INET6, RT_TABLE_MAIN

# The kernel gives an IPv6 route without a metric this one (IP6_RT_PRIO_USER) and reports
# it so; a desired route carries it too, or it would never match what was read back.
IPV6_DEFAULT_METRIC = 1024


class RouteSpecError(ValueError):
    """A desired route that cannot be understood."""


def route_key(table, dst, metric):
    return (int(table), dst, int(metric))


def normalize_route(spec, removing=False):
    """A canonical desired route from the module's ``routes`` entry. A route to remove is
    known by its table, destination and metric alone. ``default`` is the default route
    of the family of ``via`` (IPv4 without one)."""
    dst_text = spec.get("dst")
    via = spec.get("via")
    if dst_text in ("default", None):
        dst_text = "::/0" if via and ":" in str(via) else "0.0.0.0/0"
    dst = ipv4.canonical_network(dst_text)
    if dst is None:
        try:
            dst = ipaddress.ip_network(dst_text, strict=True)
        except ValueError as exc:
            raise RouteSpecError("route dst %r: %s" % (spec.get("dst"), exc)) from exc
    version = 4 if isinstance(dst, str) else dst.version
    if via and (version != 4 or ipv4.canonical_address(via) is None):
        try:
            address = ipaddress.ip_address(via)
        except ValueError as exc:
            raise RouteSpecError("route %s: via %r: %s" % (dst, via, exc)) from exc
        if address.version != version:
            raise RouteSpecError("route %s: via %s is an IPv%d address; an IPv%d route needs an IPv%d gateway" % (dst, via, address.version, version, version))
        via = str(address)
    if not via and not spec.get("dev") and not removing:
        raise RouteSpecError("route %s needs via, dev or both" % dst)
    if spec.get("onlink") and not spec.get("dev"):
        raise RouteSpecError("route %s: onlink needs dev" % dst)
    metric = int(spec.get("metric") or 0)
    return {
        "dst": str(dst),
        "via": via or None,
        "dev": spec.get("dev") or None,
        "onlink": bool(spec.get("onlink")),
        "metric": metric or (IPV6_DEFAULT_METRIC if version == 6 else 0),
        "table": int(spec.get("table") or RT_TABLE_MAIN),
    }


def describe(route):
    """``ip route`` style text, as the seeds print routes."""
    words = [route["dst"] if route["dst"] not in ("0.0.0.0/0", "::/0") else "default"]
    if route.get("via"):
        words += ["via", route["via"]]
    if route.get("dev"):
        words += ["dev", route["dev"]]
    if route.get("onlink"):
        words.append("onlink")
    if route.get("metric") and not (route["metric"] == IPV6_DEFAULT_METRIC and ":" in route["dst"]):
        words += ["metric", str(route["metric"])]
    if route.get("table", RT_TABLE_MAIN) != RT_TABLE_MAIN:
        words += ["table", str(route["table"])]
    if route.get("proto") is not None:
        words += ["proto", str(route["proto"])]
    return " ".join(words)


def read_routes(ipr, channel, proto=0, table=0):
    """IPv4 and IPv6 unicast routes as plain dicts keyed by route_key: those of protocol
    ``proto`` and/or table ``table`` when given (the kernel filters), else every one."""
    names = {}
    found = {}
    for family in (AF_INET, AF_INET6):
        for route in channel.routes(proto=proto, table=table, family=family):
            index = route["oif"]
            if index is not None and index not in names:
                names[index] = find_name(ipr, index)
            # the kernel reports destinations canonical; ipaddress only for anything else
            route["dst"] = ipv4.canonical_network(route["dst"]) or str(ipaddress.ip_network(route["dst"], strict=False))
            route["dev"] = names.get(index)
            found.setdefault(route_key(route["table"], route["dst"], route["metric"]), route)
    return found


def read_relevant(ipr, channel, desired, proto):
    """Our routes, plus any route of another protocol sitting where a desired route of
    ours is missing (a conflict). On a converged host only our routes are read."""
    current = read_routes(ipr, channel, proto=proto)
    missing_tables = {r["table"] for r in desired if route_key(r["table"], r["dst"], r["metric"]) not in current}
    for table in sorted(missing_tables):
        for key, route in read_routes(ipr, channel, table=table).items():
            current.setdefault(key, route)
    return current


def matches(current, desired):
    """True when a present route already does what the desired one asks."""
    if current["via"] != desired["via"] or current["onlink"] != desired["onlink"]:
        return False
    return desired["dev"] is None or current["dev"] == desired["dev"]


def plan_routes(current, desired, proto, prune, state="present"):
    """Compare and decide; touches nothing.

    Returns (to_set, to_delete, conflicts): routes to add or replace, our
    routes to delete, and desired routes that collide with a route of
    another protocol (never overwritten).
    """
    wanted = {route_key(r["table"], r["dst"], r["metric"]): r for r in desired}
    # only the tables the collection writes (main, and any a desired route names): a
    # route of our protocol elsewhere was put there by someone else, on purpose
    tables = {RT_TABLE_MAIN} | {key[0] for key in wanted}
    ours = {k: r for k, r in current.items() if r["proto"] == proto and k[0] in tables}
    to_set, to_delete, conflicts = [], [], []
    if state == "absent":
        keys = wanted if wanted else ours
        to_delete = [ours[k] for k in sorted(keys) if k in ours]
        return to_set, to_delete, conflicts
    for key in sorted(wanted):
        route = dict(wanted[key], proto=proto)
        present = current.get(key)
        if present is None:
            to_set.append(route)
        elif present["proto"] != proto:
            conflicts.append((route, present))
        elif not matches(present, route):
            to_set.append(route)
    if prune:
        to_delete = [ours[k] for k in sorted(ours) if k not in wanted]
    return to_set, to_delete, conflicts


def projected(current, to_set, to_delete, proto):
    """``ip route`` texts of our routes once the plan is applied."""
    ours = {k: r for k, r in current.items() if r["proto"] == proto}
    for route in to_delete:
        ours.pop(route_key(route["table"], route["dst"], route["metric"]), None)
    for route in to_set:
        ours[route_key(route["table"], route["dst"], route["metric"])] = route
    return [describe(r) for _k, r in sorted(ours.items())]


def _replace(route, oif):
    return (bulk.RTM_NEWROUTE, bulk.NLM_F_CREATE | bulk.NLM_F_REPLACE, bulk.route_message(bulk.RTM_NEWROUTE, route, route["proto"], oif))


def _delete(route):
    return (bulk.RTM_DELROUTE, 0, bulk.route_message(bulk.RTM_DELROUTE, route, route["proto"]))


def route_changes(to_set, to_delete, current, indices):
    """The bulk requests of a plan; how to take each back is worked out only for the
    ones applied, and only when a rollback needs it."""
    changes = []
    for route in to_set:
        previous = current.get(route_key(route["table"], route["dst"], route["metric"]))
        inverse = _take_out(route) if previous is None else _put_back("put back", previous)
        changes.append(bulk.Change(_replace(route, indices.get(route["dev"])), _words("route", route), inverse))
    for route in to_delete:
        # ESRCH: already gone
        changes.append(bulk.Change(_delete(route), _words("delete route", route), _put_back("add back", route), harmless=(3,)))
    return changes


def _words(verb, route):
    return lambda: "%s %s" % (verb, describe(route))


def _take_out(route):
    return lambda: ("delete %s" % describe(route), _delete(route))


def _put_back(verb, route):
    """Undo by setting ``route`` (one read from the kernel) as it was."""
    return lambda: ("%s %s" % (verb, describe(route)), _replace(route, route["oif"]))
