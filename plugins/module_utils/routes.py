# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Declarative IPv4 route reconcile, restricted to the collection's own routes.

A route is identified as the kernel does it: (table, destination, metric).
Routes carrying our protocol number are ours; every other route is read only
to refuse a desired route that would overwrite an operator's.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.routednet.fabric.plugins.module_utils.netlink import (
    AF_INET,
    RT_TABLE_MAIN,
    RTN_UNICAST,
    RTNH_F_ONLINK,
    NetlinkError,
)


class RouteSpecError(ValueError):
    """A desired route that cannot be understood."""


def route_key(table, dst, metric):
    return (int(table), dst, int(metric))


def normalize_route(spec, removing=False):
    """A canonical desired route from the module's ``routes`` entry. A route to remove is
    known by its table, destination and metric alone."""
    dst_text = spec.get("dst")
    if dst_text in ("default", None):
        dst_text = "0.0.0.0/0"
    try:
        dst = ipaddress.IPv4Network(dst_text, strict=True)
    except ValueError as exc:
        raise RouteSpecError("route dst %r: %s" % (spec.get("dst"), exc)) from exc
    via = spec.get("via")
    if via:
        try:
            via = str(ipaddress.IPv4Address(via))
        except ValueError as exc:
            raise RouteSpecError("route %s: via %r: %s" % (dst, via, exc)) from exc
    if not via and not spec.get("dev") and not removing:
        raise RouteSpecError("route %s needs via, dev or both" % dst)
    if spec.get("onlink") and not spec.get("dev"):
        raise RouteSpecError("route %s: onlink needs dev" % dst)
    return {
        "dst": str(dst),
        "via": via or None,
        "dev": spec.get("dev") or None,
        "onlink": bool(spec.get("onlink")),
        "metric": int(spec.get("metric") or 0),
        "table": int(spec.get("table") or RT_TABLE_MAIN),
    }


def describe(route):
    """``ip route`` style text, as the seeds print routes."""
    words = [route["dst"] if route["dst"] != "0.0.0.0/0" else "default"]
    if route.get("via"):
        words += ["via", route["via"]]
    if route.get("dev"):
        words += ["dev", route["dev"]]
    if route.get("onlink"):
        words.append("onlink")
    if route.get("metric"):
        words += ["metric", str(route["metric"])]
    if route.get("table", RT_TABLE_MAIN) != RT_TABLE_MAIN:
        words += ["table", str(route["table"])]
    if route.get("proto") is not None:
        words += ["proto", str(route["proto"])]
    return " ".join(words)


def read_routes(ipr):
    """Every IPv4 unicast route of every table, as plain dicts keyed by route_key."""
    names = {}
    for link in ipr.link("dump"):
        names[link["index"]] = link.get("ifname")
    found = {}
    for msg in ipr.route("dump", family=AF_INET):
        if msg["type"] != RTN_UNICAST:
            continue
        table = msg.get("table") or msg["table"]
        dst = "%s/%d" % (msg.get("dst") or "0.0.0.0", msg["dst_len"])
        route = {
            "dst": str(ipaddress.IPv4Network(dst, strict=False)),
            "via": msg.get("gateway"),
            "dev": names.get(msg.get("oif")),
            "onlink": bool(msg["flags"] & RTNH_F_ONLINK),
            "metric": msg.get("priority") or 0,
            "table": table,
            "proto": msg["proto"],
        }
        found.setdefault(route_key(route["table"], route["dst"], route["metric"]), route)
    return found


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
    ours = {k: r for k, r in current.items() if r["proto"] == proto}
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


def route_request(route, link_index):
    """pyroute2 keyword arguments for a route message."""
    args = {
        "dst": route["dst"],
        "table": route["table"],
        "proto": route["proto"],
        "priority": route["metric"],
        "type": RTN_UNICAST,
    }
    if route.get("via"):
        args["gateway"] = route["via"]
    if link_index is not None:
        args["oif"] = link_index
    if route.get("onlink"):
        args["flags"] = RTNH_F_ONLINK
    return args


def projected(current, to_set, to_delete, proto):
    """``ip route`` texts of our routes once the plan is applied."""
    ours = {k: r for k, r in current.items() if r["proto"] == proto}
    for route in to_delete:
        ours.pop(route_key(route["table"], route["dst"], route["metric"]), None)
    for route in to_set:
        ours[route_key(route["table"], route["dst"], route["metric"])] = route
    return [describe(r) for _k, r in sorted(ours.items())]


def _link_index(ipr, route, indices):
    if not route.get("dev"):
        return None
    if route["dev"] not in indices:
        found = ipr.link_lookup(ifname=route["dev"])
        indices[route["dev"]] = found[0] if found else None
    return indices[route["dev"]]


def set_route(ipr, route, current, indices, undo):
    """Add or replace ``route``; record how to put back what was there (``undo``)."""
    previous = current.get(route_key(route["table"], route["dst"], route["metric"]))
    ipr.route("replace", **route_request(route, _link_index(ipr, route, indices)))
    if previous is None:
        undo.did("delete %s" % describe(route), lambda: ipr.route("del", **route_request(route, None)))
    else:
        undo.did("put back %s" % describe(previous), lambda: ipr.route("replace", **route_request(previous, _link_index(ipr, previous, indices))))


def delete_route(ipr, route, undo):
    """Delete one of our routes (gone already is fine); record how to add it back."""
    try:
        ipr.route("del", **route_request(route, None))
    except NetlinkError as exc:
        if exc.code != 3:  # ESRCH: already gone
            raise
        return
    indices = {}
    undo.did("add back %s" % describe(route), lambda: ipr.route("replace", **route_request(route, _link_index(ipr, route, indices))))
