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

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.routednet.fabric.plugins.module_utils import outcome
from ansible_collections.routednet.fabric.plugins.module_utils.converge import vxlan_fdb as converge


def main():
    module = AnsibleModule(**converge.MODULE_KWARGS)
    result = outcome.call(converge.run, outcome.Request.of(module))
    (module.fail_json if result.get("failed") else module.exit_json)(**result)


if __name__ == "__main__":
    main()
