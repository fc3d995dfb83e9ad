#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: hostgw_route
short_description: Declarative set of a host's routed-network routes, tagged as ours
version_added: 0.1.0
description:
  - One call carries the host's whole set of routes, for example every peer's pod subnet
    via that peer's underlay address (flannel's host-gw), or a pod's default route.
  - Every route it installs carries the collection's own route protocol number
    (O(protocol), 201 by default, shown by C(ip route) as C(proto 201)).
  - Missing routes are added and wrong ones replaced in place. With O(prune=true), routes
    carrying O(protocol) that are not in O(routes) are deleted.
  - A route of any other protocol is never changed or deleted. A desired route that would
    overwrite one (same table, destination and metric) makes the module fail, naming both.
options:
  routes:
    description: The wanted routes.
    type: list
    elements: dict
    default: []
    suboptions:
      dst:
        description: Destination in CIDR form, or C(default).
        type: str
        required: true
      via:
        description: Next hop (gateway) address.
        type: str
      dev:
        description: Outgoing interface. Omit to let the kernel pick it from O(routes[].via).
        type: str
      onlink:
        description: Treat the next hop as directly reachable on O(routes[].dev) even without a matching prefix.
        type: bool
        default: false
      metric:
        description: Route metric (priority).
        type: int
        default: 0
      table:
        description: Routing table number.
        type: int
        default: 254
  prune:
    description: Delete routes carrying O(protocol) that O(routes) does not list.
    type: bool
    default: true
  protocol:
    description: Route protocol number that marks the routes as the collection's.
    type: int
    default: 201
  state:
    description:
      - V(present) installs O(routes) (and prunes, see O(prune)).
      - V(absent) deletes the listed routes, or every route carrying O(protocol) when
        O(routes) is empty. Only routes carrying O(protocol) are deleted. A route to delete
        is known by O(routes[].dst), O(routes[].table) and O(routes[].metric);
        O(routes[].via) and O(routes[].dev) may be left out.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - routednet.fabric.netlink
  - routednet.fabric.netlink.netns
author:
  - routednet maintainers (@routednet)
"""

EXAMPLES = r"""
- name: host-gw routes of node1 (seed 000)
  routednet.fabric.hostgw_route:
    routes:
      - dst: 172.18.0.0/24
        via: 192.168.245.172
        dev: eth0

- name: A pod's default route through the bridge
  routednet.fabric.hostgw_route:
    netns: docker1
    routes:
      - dst: default
        via: 172.17.0.1

- name: Remove every route the collection installed
  routednet.fabric.hostgw_route:
    state: absent
"""

RETURN = r"""
added:
  description: Routes added or replaced, as C(ip route) would print them.
  returned: always
  type: list
  elements: str
  sample: ["172.18.0.0/24 via 192.168.245.172 dev eth0 proto 201"]
removed:
  description: Routes deleted.
  returned: always
  type: list
  elements: str
  sample: ["172.19.0.0/24 via 192.168.245.173 dev eth0 proto 201"]
routes:
  description: The collection's routes in this namespace after the run (before it, in check mode).
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.routednet.fabric.plugins.module_utils import netlink, routes as rt

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


def main():
    module = AnsibleModule(
        argument_spec=dict(
            routes=dict(type="list", elements="dict", default=[], options=ROUTE_SPEC),
            prune=dict(type="bool", default=True),
            protocol=dict(type="int", default=netlink.ROUTEDNET_RT_PROTO),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            netns=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    netlink.require_pyroute2(module)
    p = module.params
    place = netlink.where(p["netns"])
    proto = p["protocol"]
    if not 5 <= proto <= 255 or proto in (2, 3, 4):
        module.fail_json(msg="protocol %d is reserved or out of range; use a number from 5 to 255 that is not kernel, boot or static" % proto)
    try:
        desired = [rt.normalize_route(spec, removing=p["state"] == "absent") for spec in p["routes"]]
    except rt.RouteSpecError as exc:
        module.fail_json(msg="%s: %s" % (place, exc))

    if netlink.missing_in_check_mode(module, p["netns"]):
        # nothing exists there yet: every wanted route would be added
        added = [] if p["state"] == "absent" else [rt.describe(dict(r, proto=proto)) for r in desired]
        module.exit_json(changed=bool(added), added=added, removed=[], routes=[], diff=dict(before="", after="\n".join(added) + "\n"))
    with netlink.open_rtnl(module, p["netns"]) as ipr:
        current = rt.read_routes(ipr)
        to_set, to_delete, conflicts = rt.plan_routes(current, desired, proto, p["prune"], p["state"])
        if conflicts:
            module.fail_json(
                msg="%s: refusing to overwrite routes that are not ours: %s; remove them, or give ours another metric"
                % (place, "; ".join("%s would replace %s" % (rt.describe(w), rt.describe(c)) for w, c in conflicts))
            )
        indices = {}
        for route in to_set:
            if route["dev"] and route["dev"] not in indices:
                found = ipr.link_lookup(ifname=route["dev"])
                if not found:
                    module.fail_json(msg="%s: route %s: device %s does not exist" % (place, rt.describe(route), route["dev"]))
                indices[route["dev"]] = found[0]
        before = ours_text(current, proto)
        added = [rt.describe(r) for r in to_set]
        removed = [rt.describe(r) for r in to_delete]
        changed = bool(added or removed)
        after = before
        if changed and not module.check_mode:
            for route in to_set:
                try:
                    ipr.route("replace", **rt.route_request(route, indices.get(route["dev"])))
                except netlink.NetlinkError as exc:
                    netlink.kernel_error(
                        module,
                        "%s: route %s" % (place, rt.describe(route)),
                        exc,
                        hint="is the next hop on a directly connected network of this host?",
                    )
            for route in to_delete:
                try:
                    ipr.route("del", **rt.route_request(route, None))
                except netlink.NetlinkError as exc:
                    if exc.code != 3:  # ESRCH: already gone
                        netlink.kernel_error(module, "%s: delete route %s" % (place, rt.describe(route)), exc)
            after = ours_text(rt.read_routes(ipr), proto)
        elif changed:
            after = rt.projected(current, to_set, to_delete, proto)
    module.exit_json(
        changed=changed,
        added=added,
        removed=removed,
        routes=after if not module.check_mode else before,
        diff=dict(before="\n".join(before) + "\n", after="\n".join(after) + "\n"),
    )


if __name__ == "__main__":
    main()
