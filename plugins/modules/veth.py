#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: veth
short_description: A veth pair between a host (or bridge) and a pod namespace
version_added: 0.1.0
description:
  - Ensures a veth pair exists with one end O(name) in O(netns) (the host by default),
    optionally enslaved to a bridge, and the other end O(peer) in O(peer_netns), carrying
    exactly the addresses in O(peer_addresses). Both ends are up and get the same MTU.
  - A pair whose ends no longer belong together (for example after a pod namespace was
    recreated) is replaced.
  - Both ends are tagged with the link alias C(routednet.fabric); links without the tag are
    never changed or deleted.
options:
  name:
    description: Name of the end in O(netns), for example C(veth1) in the seeds.
    type: str
    required: true
  peer:
    description: Name of the other end, for example C(eth0) inside the pod.
    type: str
    required: true
  peer_netns:
    description: Network namespace of the O(peer) end. Omit to keep it beside O(name).
    type: str
  master:
    description: Bridge in O(netns) that the O(name) end is attached to. Omit to leave it alone.
    type: str
  mtu:
    description: MTU of both ends. Omit to leave it alone.
    type: int
  peer_addresses:
    description:
      - IPv4 addresses in CIDR form on the O(peer) end, for example the pod address C(10.244.1.2/24).
      - The peer ends up with exactly these IPv4 addresses. Omit to leave them alone.
    type: list
    elements: str
  state:
    description: Whether the pair should exist. Deleting one end deletes the pair.
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
- name: Wire pod docker1 to the bridge, as seed 000 does by hand
  routednet.fabric.veth:
    name: veth1
    master: cni0
    peer: eth0
    peer_netns: docker1
    peer_addresses:
      - 172.17.0.2/24
    mtu: 1500

- name: Remove the pair
  routednet.fabric.veth:
    name: veth1
    peer: eth0
    peer_netns: docker1
    state: absent
"""

RETURN = r"""
changes:
  description: What was (or in check mode would be) done, one line per change.
  returned: always
  type: list
  elements: str
  sample: ["create veth veth1 <-> eth0 (netns docker1)", "set veth1 master cni0"]
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.routednet.fabric.plugins.module_utils import links, netlink


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


def main():
    module = AnsibleModule(
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
    netlink.require_pyroute2(module)
    p = module.params
    label = "veth %s (%s) <-> %s (%s)" % (p["name"], netlink.where(p["netns"]), p["peer"], netlink.where(p["peer_netns"]))
    try:
        peer_addresses = None if p["peer_addresses"] is None else links.normalize_interfaces(p["peer_addresses"])
    except ValueError as exc:
        module.fail_json(msg="%s: peer_addresses: %s" % (label, exc))

    netlink.predict_link_in_pending_netns(module, label, p["state"], p["netns"], p["peer_netns"])
    same_ns = p["peer_netns"] == p["netns"]
    with netlink.open_rtnl(module, p["netns"]) as ipr:
        pipr = ipr if same_ns else netlink.open_rtnl(module, p["peer_netns"])
        try:
            result = reconcile(module, p, label, ipr, pipr, peer_addresses)
        finally:
            if not same_ns:
                pipr.close()
    module.exit_json(**result)


def refuse_foreign(module, label, msg, where_text):
    if msg is not None and (links.link_kind(msg) != "veth" or not links.is_owned(msg)):
        module.fail_json(
            msg="%s: %s already has a link of that name that routednet.fabric did not create (%s); refusing to touch it, pick another name"
            % (label, where_text, links.link_kind(msg) or "no kind")
        )


def reconcile(module, p, label, ipr, pipr, peer_addresses):
    msg = links.find_link(ipr, p["name"])
    peer_msg = links.find_link(pipr, p["peer"])
    refuse_foreign(module, label, msg, netlink.where(p["netns"]))
    refuse_foreign(module, label, peer_msg, netlink.where(p["peer_netns"]))
    before = {"end": links.link_view(ipr, msg), "peer": links.link_view(pipr, peer_msg)}
    changes = []

    if p["state"] == "absent":
        doomed = [(s, m) for s, m in ((ipr, msg), (pipr, peer_msg)) if m is not None]
        if doomed:
            changes.append("delete %s" % label)
        if doomed and not module.check_mode:
            try:
                doomed[0][0].link("del", index=doomed[0][1]["index"])
                if not paired(msg, peer_msg) and len(doomed) > 1:
                    doomed[1][0].link("del", index=doomed[1][1]["index"])
            except netlink.NetlinkError as exc:
                netlink.kernel_error(module, "delete %s" % label, exc)
        return dict(changed=bool(changes), changes=changes, diff=dict(before=before, after={}))

    master = None
    if p["master"]:
        master_msg = links.find_link(ipr, p["master"])
        if master_msg is None and not module.check_mode:
            module.fail_json(msg="%s: master bridge %s does not exist in %s" % (label, p["master"], netlink.where(p["netns"])))
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
    if changes and not module.check_mode:
        try:
            if recreate:
                for s, m in ((ipr, msg), (pipr, peer_msg)):
                    if m is not None and links.find_link(s, m.get("ifname")) is not None:
                        s.link("del", index=m["index"])
                create_pair(ipr, p)
                msg, peer_msg = links.find_link(ipr, p["name"]), links.find_link(pipr, p["peer"])
                end_plan = links.plan_link(ipr, msg, mtu=p["mtu"], master=master)
                peer_plan = links.plan_link(pipr, peer_msg, mtu=p["mtu"], addresses=peer_addresses)
            links.apply_link(ipr, msg["index"], *end_plan[:3])
            links.apply_link(pipr, peer_msg["index"], *peer_plan[:3])
            after = {
                "end": links.link_view(ipr, links.find_link(ipr, p["name"])),
                "peer": links.link_view(pipr, links.find_link(pipr, p["peer"])),
            }
        except netlink.NetlinkError as exc:
            netlink.kernel_error(module, label, exc, changes=changes)
    return dict(changed=bool(changes), changes=changes, diff=dict(before=before, after=after))


if __name__ == "__main__":
    main()
