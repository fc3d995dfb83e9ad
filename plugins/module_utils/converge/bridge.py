# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Converge one bridge: create, adopt, set MTU and addresses, or delete.

What the bridge module does, as a function of a Request (outcome.py) that returns the
module's result or raises Failure, so that node_state and the boot-time restore run the
very same code without Ansible.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.routednet.fabric.plugins.module_utils.host import links, netlink
from ansible_collections.routednet.fabric.plugins.module_utils.outcome import Failure


# What the module accepts; the boot-time restore validates its state file against it too.
MODULE_KWARGS = dict(
    argument_spec=dict(
        name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        addresses=dict(type="list", elements="str"),
        mtu=dict(type="int"),
        mac=dict(type="str"),
        adopt=dict(type="bool", default=False),
        netns=dict(type="str"),
    ),
    supports_check_mode=True,
)


def announce_address_changes(name):
    """Have the kernel announce the bridge's new MAC (a gratuitous ARP for each of its
    addresses, arp_notify) when it changes: the pods' and containers' neighbour entries for
    the gateway then follow at once instead of going stale for tens of seconds."""
    try:
        with open("/proc/sys/net/ipv4/conf/%s/arp_notify" % name, "w") as handle:
            handle.write("1\n")
    except (IOError, OSError):
        pass  # (no such knob here: the entries re-resolve on their own, later)


def run(request):
    netlink.require_pyroute2()
    p = request.params
    name, place = p["name"], netlink.where(p["netns"])
    try:
        addresses = None if p["addresses"] is None else links.normalize_interfaces(p["addresses"])
    except ValueError as exc:
        raise Failure("bridge %s: addresses: %s" % (name, exc)) from exc

    pending = netlink.predict_link_in_pending_netns(request, "bridge %s" % name, p["state"], p["netns"])

    if pending is not None:
        return pending
    with netlink.open_rtnl(p["netns"]) as ipr:
        msg = links.find_link(ipr, name)
        if msg is not None and links.link_kind(msg) != "bridge":
            raise Failure("bridge %s (%s): a link of that name exists but is a %s, not a bridge" % (name, place, links.link_kind(msg)))
        before = links.link_view(ipr, msg)
        if p["state"] == "absent":
            if msg is None:
                return dict(changed=False, changes=[])
            if not links.is_owned(msg):
                raise Failure(
                    "bridge %s (%s) was not created by routednet.fabric (no link alias %s); refusing to delete it" % (name, place, netlink.OWNER_ALIAS)
                )
            changes = ["delete bridge %s" % name]
            if not request.check_mode:
                try:
                    ipr.link("del", index=msg["index"])
                except netlink.NetlinkError as exc:
                    netlink.kernel_error("delete bridge %s (%s)" % (name, place), exc)
            return dict(changed=True, changes=changes, diff=dict(before=before, after={}))

        if msg is not None and not links.is_owned(msg) and not p["adopt"]:
            raise Failure(
                "bridge %s (%s) exists but was not created by routednet.fabric; use another bridge name or set adopt=true to take it over" % (name, place)
            )
        changes = []
        if msg is None:
            changes.append("create bridge %s" % name)
            args, to_add, to_remove = {}, [], []
            changes += ["set %s up" % name] + ["add %s to %s" % (a, name) for a in addresses or []]
            if p["mtu"]:
                changes.append("set %s mtu %d" % (name, p["mtu"]))
            if p["mac"]:
                changes.append("set %s address %s" % (name, p["mac"]))
        else:
            args, to_add, to_remove, more = links.plan_link(ipr, msg, mtu=p["mtu"], addresses=addresses, mac=p["mac"])
            changes += more
        after = links.wanted_view(name, "bridge", p["mtu"], None, addresses, before or None)
        if p["mac"]:
            after["mac"] = p["mac"]
        if changes and not request.check_mode:
            undo = netlink.Undo()
            try:
                if msg is None:
                    ipr.link("add", ifname=name, kind="bridge")
                    links.created(undo, ipr, name)
                    msg = links.find_link(ipr, name)
                    args, to_add, to_remove, _texts = links.plan_link(ipr, msg, mtu=p["mtu"], addresses=addresses, mac=p["mac"])
                if "address" in args and p["netns"] is None:
                    announce_address_changes(name)
                links.apply_link(ipr, msg["index"], args, to_add, to_remove, undo)
                after = links.link_view(ipr, links.find_link(ipr, name))
            except netlink.NetlinkError as exc:
                netlink.refused_part_way("bridge %s (%s)" % (name, place), exc, undo, changes=changes)
        return dict(changed=bool(changes), changes=changes, link=after if not request.check_mode else before, diff=dict(before=before, after=after))
