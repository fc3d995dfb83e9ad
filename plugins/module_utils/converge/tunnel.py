# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Converge one tunnel device of the collection (of a kind a backend of backends/ makes).

What the tunnel module does, as a function of a Request (outcome.py) that returns the
module's result or raises Failure, so that node_state and the boot-time restore run the
very same code without Ansible.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.routednet.fabric.plugins.module_utils import backends
from ansible_collections.routednet.fabric.plugins.module_utils.host import kernel, links, netlink, tunnels
from ansible_collections.routednet.fabric.plugins.module_utils.outcome import Failure


def _check_options(p, kind, name):
    """The options this kind cannot do without, and none that only another kind takes."""
    backend = backends.of_kind(kind)
    for option in backend.DEVICE_REQUIRED:
        if p[option] is None:
            raise Failure("%s %s: %s is required to create a %s device" % (kind, name, option, backend.TITLE))
    others = [other for other in backends.TUNNELS.values() if other is not backend and other.DEVICE_OPTIONS]
    foreign = [option for other in others for option in other.DEVICE_OPTIONS if option not in backend.DEVICE_OPTIONS]
    if any(p[option] not in (None, "") for option in foreign):
        raise Failure("%s %s: %s apply to %s devices only" % (kind, name, " and ".join(foreign), " and ".join(other.TITLE for other in others)))


def owned_of_kind(ipr, kind):
    return [m for m in ipr.link("dump") if links.is_owned(m) and links.link_kind(m) == kind]


def remove(request, ipr, doomed, place):
    changes = ["delete %s %s" % (links.link_kind(m), m.get("ifname")) for m in doomed]
    if changes and not request.check_mode:
        for msg in doomed:
            try:
                ipr.link("del", index=msg["index"])
            except netlink.NetlinkError as exc:
                netlink.kernel_error("delete %s (%s)" % (msg.get("ifname"), place), exc)
    return changes


def remaker(ipr, msg, names):
    """A callable that makes msg's device again as it was (settings, MAC, MTU, alias, state,
    addresses): the rollback of a recreate whose new device the kernel refused."""
    kind, name = links.link_kind(msg), msg.get("ifname")
    if kind not in tunnels.IMMUTABLE:

        def cannot():
            raise netlink.NetlinkError(0, "%s was a %s device, which this module cannot make again" % (name, kind))

        return cannot
    data = msg.get_nested("IFLA_LINKINFO", "IFLA_INFO_DATA")
    dev_index = data.get(tunnels.IMMUTABLE[kind]["dev"][0]) if data is not None else None
    args = tunnels.create_args(kind, tunnels.current_settings(msg, kind, names), dev_index or None)
    args["mtu"] = msg.get("mtu")
    if backends.of_kind(kind).KEEPS_MAC:
        args["address"] = msg.get("address")
    settings = dict(ifalias=msg.get("ifalias") or "", state="up" if msg["flags"] & netlink.IFF_UP else "down")
    addresses = links.addresses(ipr, msg["index"])

    def again():
        ipr.link("add", ifname=name, **args)
        index = links.find_link(ipr, name)["index"]
        ipr.link("set", index=index, **settings)
        links.apply_addresses(ipr, index, addresses, [])

    return again


# What the module accepts; the boot-time restore validates its state file against it too.
MODULE_KWARGS = dict(
    argument_spec=dict(
        name=dict(type="str"),
        kind=dict(type="str", default=backends.HYBRID_DEFAULT_TUNNEL, choices=sorted(tunnels.IMMUTABLE)),
        vni=dict(type="int"),
        port=dict(type="int", default=8472),
        local=dict(type="str"),
        dev=dict(type="str"),
        learning=dict(type="bool", default=False),
        mtu=dict(type="int"),
        mac=dict(type="str"),
        addresses=dict(type="list", elements="str"),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        netns=dict(type="str"),
    ),
    required_if=[("state", "present", ["name"])],
    supports_check_mode=True,
)


def run(request):
    netlink.require_pyroute2()
    p = request.params
    place = netlink.where(p["netns"])
    name, kind = p["name"], p["kind"]
    if p["state"] == "present":
        _check_options(p, kind, name)
    try:
        addresses = None if p["addresses"] is None else links.normalize_interfaces(p["addresses"])
    except ValueError as exc:
        raise Failure("%s %s: addresses: %s" % (kind, name, exc)) from exc
    mac = p["mac"].lower() if p["mac"] else None

    pending = netlink.predict_link_in_pending_netns(request, "%s %s" % (kind, name), p["state"], p["netns"])

    if pending is not None:
        return pending

    with netlink.open_rtnl(p["netns"]) as ipr:
        msg = links.find_link(ipr, name) if name else None
        if msg is not None and not links.is_owned(msg):
            raise Failure("%s (%s) exists but was not created by routednet.fabric; refusing to touch it, pick another name" % (name, place))
        if msg is not None and links.link_kind(msg) not in tunnels.IMMUTABLE:
            # the collection's bridge or a pod's veth: replacing it would cut the pods off
            raise Failure(
                "%s (%s) is the collection's %s, not a tunnel device; refusing to replace it: give the tunnel device another name"
                % (name, place, links.link_kind(msg))
            )
        before = links.link_view(ipr, msg)

        if p["state"] == "absent":
            doomed = [msg] if msg is not None else ([] if name else owned_of_kind(ipr, kind))
            changes = remove(request, ipr, doomed, place)
            return dict(changed=bool(changes), changes=changes, diff=dict(before=before, after={}))

        names = {m["index"]: m.get("ifname") for m in ipr.link("dump")}
        dev_index = None
        if p["dev"]:
            found = ipr.link_lookup(ifname=p["dev"])
            if not found:
                raise Failure("%s %s (%s): underlay device %s does not exist" % (kind, name, place, p["dev"]))
            dev_index = found[0]
        wanted = dict((option, p[option]) for option in tunnels.IMMUTABLE[kind])
        changes = []
        recreate = msg is None
        if msg is not None:
            if links.link_kind(msg) != kind:
                changes.append("replace %s: it is a %s, not a %s" % (name, links.link_kind(msg), kind))
                recreate = True
            else:
                differ = tunnels.differences(tunnels.current_settings(msg, kind, names), wanted)
                if differ:
                    changes.append("recreate %s %s: %s" % (kind, name, ", ".join(differ)))
                    recreate = True
        if msg is None:
            changes.append("create %s %s (%s)" % (kind, name, ", ".join("%s %s" % (k, v) for k, v in sorted(wanted.items()) if v is not None)))
        if recreate:
            changes += ["set %s up" % name] + ["add %s to %s" % (a, name) for a in addresses or []]
            plan = None
        else:
            plan = links.plan_link(ipr, msg, mtu=p["mtu"], addresses=addresses, mac=mac)
            changes += plan[3]
        after = links.wanted_view(name, kind, p["mtu"], None, addresses, before or None)
        if mac:
            after["mac"] = mac
        # Before deleting anything: a kernel without this kind could not make it again.
        if recreate and kernel.feature_state(kind) == "missing":
            raise Failure(tunnels.missing_kind_message(kind, name, place), changes=[])
        if changes and not request.check_mode:
            undo = netlink.Undo()
            try:
                if recreate:
                    if msg is not None:
                        again = remaker(ipr, msg, names)
                        ipr.link("del", index=msg["index"])
                        undo.did("make %s again as it was" % name, again)
                    args = tunnels.create_args(kind, wanted, dev_index)
                    if mac:
                        args["address"] = mac
                    if p["mtu"]:
                        args["mtu"] = p["mtu"]
                    try:
                        ipr.link("add", ifname=name, **args)
                    except netlink.NetlinkError as exc:
                        if tunnels.kernel_lacks_kind(exc) and msg is None:
                            raise Failure(tunnels.missing_kind_message(kind, name, place), changes=[]) from exc
                        raise
                    links.created(undo, ipr, name)
                    msg = links.find_link(ipr, name)
                    plan = links.plan_link(ipr, msg, mtu=p["mtu"], addresses=addresses, mac=mac)
                links.apply_link(ipr, msg["index"], *plan[:3], undo=undo)
                after = links.link_view(ipr, links.find_link(ipr, name))
            except netlink.NetlinkError as exc:
                netlink.refused_part_way("%s %s (%s)" % (kind, name, place), exc, undo, changes=changes)
        return dict(changed=bool(changes), changes=changes, diff=dict(before=before, after=after))
