# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Converge a set of routes tagged with the collection's protocol.

What the routes module does, as a function of a Request (outcome.py) that returns the
module's result or raises Failure, so that node_state and the boot-time restore run the
very same code without Ansible.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.routednet.fabric.plugins.module_utils.host import netlink, netlink_bulk as bulk, routes as rt
from ansible_collections.routednet.fabric.plugins.module_utils.outcome import Failure

ROUTE_SPEC = dict(
    dst=dict(type="str", required=True),
    via=dict(type="str"),
    dev=dict(type="str"),
    onlink=dict(type="bool", default=False),
    metric=dict(type="int", default=0),
    table=dict(type="int", default=netlink.RT_TABLE_MAIN),
)


def ours_text(current, proto):
    return [rt.describe(r) for _k, r in sorted(current.items()) if r["proto"] == proto]


# What the module accepts; the boot-time restore validates its state file against it too.
MODULE_KWARGS = dict(
    argument_spec=dict(
        routes=dict(type="list", elements="dict", default=[], options=ROUTE_SPEC),
        prune=dict(type="bool", default=True),
        protocol=dict(type="int", default=netlink.ROUTEDNET_RT_PROTO),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        netns=dict(type="str"),
    ),
    supports_check_mode=True,
)


def run(request):
    netlink.require_pyroute2()
    p = request.params
    place = netlink.where(p["netns"])
    proto = p["protocol"]
    if not 5 <= proto <= 255 or proto in (2, 3, 4):
        raise Failure("protocol %d is reserved or out of range; use a number from 5 to 255 that is not kernel, boot or static" % proto)
    try:
        desired = [rt.normalize_route(spec, removing=p["state"] == "absent") for spec in p["routes"]]
    except rt.RouteSpecError as exc:
        raise Failure("%s: %s" % (place, exc)) from exc

    if netlink.missing_in_check_mode(request, p["netns"]):
        # nothing exists there yet: every wanted route would be added
        added = [] if p["state"] == "absent" else [rt.describe(dict(r, proto=proto)) for r in desired]
        return dict(changed=bool(added), added=added, removed=[], routes=[], diff=dict(before="", after="\n".join(added) + "\n"))
    with netlink.open_rtnl(p["netns"]) as ipr, bulk.Channel(ipr) as channel, bulk.no_collection_pauses():
        current = rt.read_relevant(ipr, channel, desired, proto)
        to_set, to_delete, conflicts = rt.plan_routes(current, desired, proto, p["prune"], p["state"])
        if conflicts:
            raise Failure(
                "%s: refusing to overwrite routes that are not ours: %s; remove them, or give ours another metric"
                % (place, "; ".join("%s would replace %s" % (rt.describe(w), rt.describe(c)) for w, c in conflicts))
            )
        indices = {}
        for route in to_set:
            if route["dev"] and route["dev"] not in indices:
                found = ipr.link_lookup(ifname=route["dev"])
                if not found and not request.check_mode:
                    raise Failure("%s: route %s: device %s does not exist" % (place, rt.describe(route), route["dev"]))
                # check mode: an earlier task of the run (the tunnel device) would have created it
                indices[route["dev"]] = found[0] if found else None
        before = ours_text(current, proto)
        added = [rt.describe(r) for r in to_set]
        removed = [rt.describe(r) for r in to_delete]
        changed = bool(added or removed)
        after = before
        if changed and not request.check_mode:
            undo = netlink.Undo()
            try:
                channel.apply(rt.route_changes(to_set, to_delete, current, indices), undo)
            except bulk.Refused as exc:
                hint = {} if exc.what.startswith("delete") else {"hint": "is the next hop on a directly connected network of this host?"}
                netlink.refused_part_way("%s: %s" % (place, exc.what), exc.error, undo, **hint)
            if any(route["dev"] is None for route in to_set):
                # the kernel chose their device: read back what it did
                after = ours_text(rt.read_routes(ipr, channel, proto=proto), proto)
            else:
                # every request was applied (or the call failed above): no need to read back
                after = rt.projected(current, to_set, to_delete, proto)
        elif changed:
            after = rt.projected(current, to_set, to_delete, proto)
    result = dict(changed=changed, added=added, removed=removed, routes=after if not request.check_mode else before)
    if request.diff:
        # only when asked for (--diff): at thousands of routes it doubles what the host sends back
        result["diff"] = dict(before="\n".join(before) + "\n", after="\n".join(after) + "\n")
    return result
