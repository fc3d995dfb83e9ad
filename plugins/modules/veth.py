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

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.routednet.fabric.plugins.module_utils import outcome
from ansible_collections.routednet.fabric.plugins.module_utils.converge import veth as converge


def main():
    module = AnsibleModule(**converge.MODULE_KWARGS)
    result = outcome.call(converge.run, outcome.Request.of(module))
    (module.fail_json if result.get("failed") else module.exit_json)(**result)


if __name__ == "__main__":
    main()
