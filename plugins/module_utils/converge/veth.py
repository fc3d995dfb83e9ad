# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Converge one veth pair between the host (or a namespace) and a pod namespace.

What the veth module does, as a function of a Request (outcome.py) that returns the
module's result or raises Failure, so that node_state and the boot-time restore run the
very same code without Ansible.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os


from ansible_collections.routednet.fabric.plugins.module_utils.host import links, netlink
from ansible_collections.routednet.fabric.plugins.module_utils.outcome import Failure


def paired(msg, peer_msg):
    """Both ends are veths that name each other as their peer."""
    if msg is None or peer_msg is None:
        return False
    if links.link_kind(msg) != "veth" or links.link_kind(peer_msg) != "veth":
        return False
    return msg.get("link") == peer_msg["index"] and peer_msg.get("link") == msg["index"]


def create_pair(ipr, p):
    peer = {"ifname": p["peer"]}
    if p["peer_netns"] != p["netns"]:
        if p["peer_netns"]:
            peer["net_ns_fd"] = p["peer_netns"]
        else:
            peer["net_ns_pid"] = os.getpid()
    ipr.link("add", ifname=p["name"], kind="veth", peer=peer)


# What the module accepts; the boot-time restore validates its state file against it too.
MODULE_KWARGS = dict(
    argument_spec=dict(
        name=dict(type="str", required=True),
        peer=dict(type="str", required=True),
        netns=dict(type="str"),
        peer_netns=dict(type="str"),
        master=dict(type="str"),
        mtu=dict(type="int"),
        peer_addresses=dict(type="list", elements="str"),
        state=dict(type="str", default="present", choices=["present", "absent"]),
    ),
    supports_check_mode=True,
)


def run(request):
    netlink.require_pyroute2()
    p = request.params
    label = "veth %s (%s) <-> %s (%s)" % (p["name"], netlink.where(p["netns"]), p["peer"], netlink.where(p["peer_netns"]))
    try:
        peer_addresses = None if p["peer_addresses"] is None else links.normalize_interfaces(p["peer_addresses"])
    except ValueError as exc:
        raise Failure("%s: peer_addresses: %s" % (label, exc)) from exc

    pending = netlink.predict_link_in_pending_netns(request, label, p["state"], p["netns"], p["peer_netns"])

    if pending is not None:
        return pending
    same_ns = p["peer_netns"] == p["netns"]
    with netlink.open_rtnl(p["netns"]) as ipr:
        pipr = ipr if same_ns else netlink.open_rtnl(p["peer_netns"])
        try:
            result = reconcile(request, p, label, ipr, pipr, peer_addresses)
        finally:
            if not same_ns:
                pipr.close()
    return result


def refuse_foreign(label, msg, where_text):
    if msg is not None and (links.link_kind(msg) != "veth" or not links.is_owned(msg)):
        raise Failure(
            "%s: %s already has a link of that name that routednet.fabric did not create (%s); refusing to touch it, pick another name"
            % (label, where_text, links.link_kind(msg) or "no kind")
        )


def reconcile(request, p, label, ipr, pipr, peer_addresses):
    msg = links.find_link(ipr, p["name"])
    peer_msg = links.find_link(pipr, p["peer"])
    refuse_foreign(label, msg, netlink.where(p["netns"]))
    refuse_foreign(label, peer_msg, netlink.where(p["peer_netns"]))
    before = {"end": links.link_view(ipr, msg), "peer": links.link_view(pipr, peer_msg)}
    changes = []

    if p["state"] == "absent":
        doomed = [(s, m) for s, m in ((ipr, msg), (pipr, peer_msg)) if m is not None]
        if doomed:
            changes.append("delete %s" % label)
        if doomed and not request.check_mode:
            try:
                doomed[0][0].link("del", index=doomed[0][1]["index"])
                if not paired(msg, peer_msg) and len(doomed) > 1:
                    doomed[1][0].link("del", index=doomed[1][1]["index"])
            except netlink.NetlinkError as exc:
                netlink.kernel_error("delete %s" % label, exc)
        return dict(changed=bool(changes), changes=changes, diff=dict(before=before, after={}))

    master = None
    if p["master"]:
        master_msg = links.find_link(ipr, p["master"])
        if master_msg is None and not request.check_mode:
            raise Failure("%s: master bridge %s does not exist in %s" % (label, p["master"], netlink.where(p["netns"])))
        master = (p["master"], master_msg["index"] if master_msg else None)

    recreate = not paired(msg, peer_msg)
    if recreate:
        if msg is not None or peer_msg is not None:
            changes.append("replace %s: its ends are not a pair" % label)
        else:
            changes.append("create %s" % label)
        changes += ["set %s up" % p["name"], "set %s up" % p["peer"]]
        if master:
            changes.append("set %s master %s" % (p["name"], p["master"]))
        if p["mtu"]:
            changes.append("set mtu %d on both ends" % p["mtu"])
        changes += ["add %s to %s" % (a, p["peer"]) for a in peer_addresses or []]
        end_plan = peer_plan = None
    else:
        end_plan = links.plan_link(ipr, msg, mtu=p["mtu"], master=master)
        peer_plan = links.plan_link(pipr, peer_msg, mtu=p["mtu"], addresses=peer_addresses)
        changes += end_plan[3] + peer_plan[3]

    after = {
        "end": links.wanted_view(p["name"], "veth", p["mtu"], p["master"], None, before["end"] or None),
        "peer": links.wanted_view(p["peer"], "veth", p["mtu"], None, peer_addresses, before["peer"] or None),
    }
    if changes and not request.check_mode:
        # Ends that are not a pair are the collection's own broken leftovers (foreign
        # ones were refused above): they are replaced, and not brought back on rollback.
        undo = netlink.Undo()
        try:
            if recreate:
                for s, m in ((ipr, msg), (pipr, peer_msg)):
                    if m is not None and links.find_link(s, m.get("ifname")) is not None:
                        s.link("del", index=m["index"])
                create_pair(ipr, p)
                links.created(undo, ipr, p["name"])  # deleting one end deletes the pair
                msg, peer_msg = links.find_link(ipr, p["name"]), links.find_link(pipr, p["peer"])
                end_plan = links.plan_link(ipr, msg, mtu=p["mtu"], master=master)
                peer_plan = links.plan_link(pipr, peer_msg, mtu=p["mtu"], addresses=peer_addresses)
            links.apply_link(ipr, msg["index"], *end_plan[:3], undo=undo)
            links.apply_link(pipr, peer_msg["index"], *peer_plan[:3], undo=undo)
            after = {
                "end": links.link_view(ipr, links.find_link(ipr, p["name"])),
                "peer": links.link_view(pipr, links.find_link(pipr, p["peer"])),
            }
        except netlink.NetlinkError as exc:
            netlink.refused_part_way(label, exc, undo, changes=changes)
    return dict(changed=bool(changes), changes=changes, diff=dict(before=before, after=after))
