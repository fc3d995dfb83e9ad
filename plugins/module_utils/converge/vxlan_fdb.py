# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Converge the static neighbour and FDB entries on a VTEP.

What the vxlan_fdb module does, as a function of a Request (outcome.py) that returns the
module's result or raises Failure, so that node_state and the boot-time restore run the
very same code without Ansible.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re


from ansible_collections.routednet.fabric.plugins.module_utils import ipv4
from ansible_collections.routednet.fabric.plugins.module_utils.host import links, neighbours, netlink, netlink_bulk as bulk
from ansible_collections.routednet.fabric.plugins.module_utils.outcome import Failure

MAC_RE = re.compile(r"^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$")
PEER_SPEC = dict(ip=dict(type="str", required=True), mac=dict(type="str", required=True), dst=dict(type="str", required=True))


def check_peers(peers):
    """Canonical addresses (a peer's VTEP address ``ip`` and underlay address ``dst``, each
    IPv4 or IPv6), or Failure naming the one that is none."""
    for peer in peers:
        for key in ("ip", "dst"):
            if ipv4.canonical_address(peer[key]):
                continue
            try:
                peer[key] = str(ipaddress.ip_address(peer[key]))
            except ValueError:
                raise Failure("vxlan_fdb: peer %s %r is not an IP address" % (key, peer[key])) from None
        if not MAC_RE.match(peer["mac"]):
            raise Failure("vxlan_fdb: peer mac %r is not a MAC address" % peer["mac"])
    ips = [p["ip"] for p in peers]
    if len(set(ips)) != len(ips):
        raise Failure("vxlan_fdb: the same peer VTEP address appears twice in peers")


def predict(p):
    """Check mode before the VTEP exists: the tunnel task before this one would create it."""
    if p["state"] == "absent":
        return dict(changed=False, changes=[])
    plan = neighbours.plan_entries({}, set(), p["peers"], p["prune"])
    changes = neighbours.describe(plan, p["device"], {})
    return dict(changed=bool(changes), changes=changes)


# What the module accepts; the boot-time restore validates its state file against it too.
MODULE_KWARGS = dict(
    argument_spec=dict(
        device=dict(type="str", required=True),
        peers=dict(type="list", elements="dict", default=[], options=PEER_SPEC),
        prune=dict(type="bool", default=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        netns=dict(type="str"),
    ),
    supports_check_mode=True,
)


def run(request):
    netlink.require_pyroute2()
    p = request.params
    place, device = netlink.where(p["netns"]), p["device"]
    check_peers(p["peers"])

    if netlink.missing_in_check_mode(request, p["netns"]):
        return predict(p)
    with netlink.open_rtnl(p["netns"]) as ipr, bulk.Channel(ipr) as channel, bulk.no_collection_pauses():
        msg = links.find_link(ipr, device)
        if msg is None:
            if request.check_mode and p["state"] == "present":
                return predict(p)
            if p["state"] == "absent":
                return dict(changed=False, changes=[])
            raise Failure("vxlan_fdb: device %s does not exist (%s); create it with routednet.fabric.tunnel first" % (device, place))
        if not links.is_owned(msg):
            raise Failure("vxlan_fdb: device %s (%s) was not created by routednet.fabric; refusing to touch its entries" % (device, place))
        index = msg["index"]
        current_neigh, current_fdb = neighbours.read_entries(channel, index)
        plan = neighbours.plan_entries(current_neigh, current_fdb, p["peers"], p["prune"], p["state"])
        changes = neighbours.describe(plan, device, current_neigh)
        if changes and not request.check_mode:
            undo = netlink.Undo()
            try:
                channel.apply(neighbours.entry_changes(index, plan, current_neigh), undo)
            except bulk.Refused as exc:
                netlink.refused_part_way("vxlan_fdb on %s (%s): %s" % (device, place, exc.what), exc.error, undo, changes=changes)
        result = dict(changed=bool(changes), changes=changes)
        if request.diff:
            # only when asked for (--diff): at thousands of peers the texts and the read-back
            # cost about as much as the change itself
            before = neighbours.entries_text(current_neigh, current_fdb, device)
            if not changes:
                after = before
            elif not request.check_mode:
                after = neighbours.entries_text(*neighbours.read_entries(channel, index), device=device)
            else:
                projected_neigh = {ip: mac for ip, mac in current_neigh.items() if ip not in plan["neigh_del"]}
                projected_neigh.update({ip: plan["neigh_wanted"][ip] for ip in plan["neigh_set"]})
                projected_fdb = (current_fdb - set(plan["fdb_del"])) | set(plan["fdb_add"])
                after = neighbours.entries_text(projected_neigh, projected_fdb, device)
            result["diff"] = dict(before=before, after=after)
    return result
