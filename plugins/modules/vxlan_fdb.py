#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vxlan_fdb
short_description: Every peer's neighbour and FDB entry on the node's VTEP, in one call
version_added: 0.1.0
description:
  - For each peer, a permanent neighbour entry C(<peer VTEP address> lladdr <peer VTEP MAC>)
    and a permanent FDB entry C(<peer VTEP MAC> dst <peer underlay address>) on O(device),
    as flannel's vxlan backend and seed 001 set them.
  - Adds missing entries and fixes wrong ones; with O(prune=true) removes the entries of
    peers that are gone. Only permanent neighbour entries and remote FDB entries on
    O(device) are looked at; O(device) must be a device the collection created
    (link alias C(routednet.fabric)). Entries on any other device are never touched.
options:
  device:
    description: The VTEP (see M(routednet.fabric.tunnel)).
    type: str
    required: true
  peers:
    description: One entry per peer.
    type: list
    elements: dict
    default: []
    suboptions:
      ip:
        description: The peer's VTEP address (its pod subnet's network address).
        type: str
        required: true
      mac:
        description: The peer's VTEP MAC.
        type: str
        required: true
      dst:
        description: The peer's underlay address, where its VXLAN packets go.
        type: str
        required: true
  prune:
    description: Remove entries on O(device) for peers not in O(peers).
    type: bool
    default: true
  state:
    description:
      - V(present) installs O(peers) (and prunes, see O(prune)).
      - V(absent) removes the entries of O(peers), or every entry on O(device) when O(peers) is empty.
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
- name: Peers of node 192.168.32.245 (seed 001)
  routednet.fabric.vxlan_fdb:
    device: vxlan-routednet
    peers:
      - ip: 172.246.0.0
        mac: 0a:6b:1c:2d:3e:4f
        dst: 192.168.32.246
"""

RETURN = r"""
changes:
  description: What was (or in check mode would be) done, in C(bridge fdb) / C(ip neigh) terms.
  returned: always
  type: list
  elements: str
  sample: ["fdb add 0a:6b:1c:2d:3e:4f dst 192.168.32.246 dev vxlan-routednet"]
"""

import ipaddress
import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.routednet.fabric.plugins.module_utils import links, neighbours, netlink

MAC_RE = re.compile(r"^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$")
PEER_SPEC = dict(ip=dict(type="str", required=True), mac=dict(type="str", required=True), dst=dict(type="str", required=True))


def check_peers(module, peers):
    for peer in peers:
        for key in ("ip", "dst"):
            try:
                peer[key] = str(ipaddress.IPv4Address(peer[key]))
            except ValueError:
                module.fail_json(msg="vxlan_fdb: peer %s %r is not an IPv4 address" % (key, peer[key]))
        if not MAC_RE.match(peer["mac"]):
            module.fail_json(msg="vxlan_fdb: peer mac %r is not a MAC address" % peer["mac"])
    ips = [p["ip"] for p in peers]
    if len(set(ips)) != len(ips):
        module.fail_json(msg="vxlan_fdb: the same peer VTEP address appears twice in peers")


def predict(module, p):
    """Check mode before the VTEP exists: the tunnel task before this one would create it."""
    if p["state"] == "absent":
        module.exit_json(changed=False, changes=[])
    plan = neighbours.plan_entries({}, set(), p["peers"], p["prune"])
    changes = neighbours.describe(plan, p["device"], {})
    module.exit_json(changed=bool(changes), changes=changes)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            device=dict(type="str", required=True),
            peers=dict(type="list", elements="dict", default=[], options=PEER_SPEC),
            prune=dict(type="bool", default=True),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            netns=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    netlink.require_pyroute2(module)
    p = module.params
    place, device = netlink.where(p["netns"]), p["device"]
    check_peers(module, p["peers"])

    if netlink.missing_in_check_mode(module, p["netns"]):
        predict(module, p)
    with netlink.open_rtnl(module, p["netns"]) as ipr:
        msg = links.find_link(ipr, device)
        if msg is None:
            if module.check_mode and p["state"] == "present":
                predict(module, p)
            if p["state"] == "absent":
                module.exit_json(changed=False, changes=[])
            module.fail_json(msg="vxlan_fdb: device %s does not exist (%s); create it with routednet.fabric.tunnel first" % (device, place))
        if not links.is_owned(msg):
            module.fail_json(msg="vxlan_fdb: device %s (%s) was not created by routednet.fabric; refusing to touch its entries" % (device, place))
        index = msg["index"]
        current_neigh, current_fdb = neighbours.read_entries(ipr, index)
        plan = neighbours.plan_entries(current_neigh, current_fdb, p["peers"], p["prune"], p["state"])
        changes = neighbours.describe(plan, device, current_neigh)
        before = neighbours.entries_text(current_neigh, current_fdb, device)
        after = before
        if changes and not module.check_mode:
            try:
                neighbours.apply_entries(ipr, index, plan, current_neigh)
            except netlink.NetlinkError as exc:
                netlink.kernel_error(module, "vxlan_fdb on %s (%s)" % (device, place), exc, changes=changes)
            after = neighbours.entries_text(*neighbours.read_entries(ipr, index), device=device)
        elif changes:
            projected_neigh = {ip: mac for ip, mac in current_neigh.items() if ip not in plan["neigh_del"]}
            projected_neigh.update({ip: plan["neigh_wanted"][ip] for ip in plan["neigh_set"]})
            projected_fdb = (current_fdb - set(plan["fdb_del"])) | set(plan["fdb_add"])
            after = neighbours.entries_text(projected_neigh, projected_fdb, device)
    module.exit_json(changed=bool(changes), changes=changes, diff=dict(before=before, after=after))


if __name__ == "__main__":
    main()
