#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: tunnel
short_description: A tunnel device of the routed network (a VXLAN VTEP or an IPIP device)
version_added: 0.1.0
description:
  - Ensures one tunnel device exists with the given settings, is up, and carries exactly
    the given IPv4 addresses - for VXLAN, flannel's VTEP (C(flannel.1)) of seed 001; for
    IPIP, one device per node with a local address and no fixed remote (flannel's and
    Calico's style), so routes C(via <peer> dev <device> onlink) pick the outer destination.
  - Settings the kernel cannot change in place (VNI, port, local address, underlay device,
    learning) make the module delete and recreate the device; MTU, MAC and addresses are
    changed in place. Give O(mac) so a VXLAN device keeps its MAC when recreated.
  - When the running kernel cannot make devices of O(kind) (no module), the module fails
    with a message that says so, before changing anything.
  - Devices it creates carry the link alias C(routednet.fabric); a device of the same name
    without it is never changed or deleted.
  - O(state=absent) without O(name) removes every device of O(kind) that carries the alias,
    which is how switching to another backend leaves no stale device behind.
options:
  name:
    description: Device name (at most 15 characters). Required with O(state=present).
    type: str
  kind:
    description: Kind of tunnel device.
    type: str
    choices: [vxlan, ipip]
    default: vxlan
  vni:
    description: VXLAN network identifier. Required to create a VXLAN device; VXLAN only.
    type: int
  port:
    description: UDP destination port of the VXLAN traffic (flannel and Linux use 8472); VXLAN only.
    type: int
    default: 8472
  local:
    description: Local underlay address the tunnel packets come from.
    type: str
  dev:
    description: Underlay device the tunnel packets leave by.
    type: str
  learning:
    description:
      - Learn remote MACs from received packets. Off, as flannel does; the entries come from
        M(routednet.fabric.vxlan_fdb). VXLAN only.
    type: bool
    default: false
  mtu:
    description: MTU of the device. Omit to leave it alone.
    type: int
  mac:
    description: MAC address of the device. Omit to leave it alone. VXLAN only (an IPIP device has no MAC).
    type: str
  addresses:
    description:
      - IPv4 addresses in CIDR form, for example the VTEP address C(10.244.1.0/32).
      - The device ends up with exactly these IPv4 addresses. Omit to leave them alone.
    type: list
    elements: str
  state:
    description: Whether the device should exist.
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
- name: The VTEP of node 192.168.32.245 (seed 001)
  routednet.fabric.tunnel:
    name: vxlan-routednet
    vni: 1
    port: 8472
    local: 192.168.32.245
    dev: eth0
    mtu: 1450
    mac: 0a:58:ac:f5:00:00
    addresses:
      - 172.245.0.0/32

- name: The IPIP device of node 192.168.32.245 (seed 001), one for all peers
  routednet.fabric.tunnel:
    name: ipip-routednet
    kind: ipip
    local: 192.168.32.245
    dev: eth0
    mtu: 1480
    addresses:
      - 172.245.0.0/32

- name: Remove every VXLAN device of the collection (switching to host-gw)
  routednet.fabric.tunnel:
    kind: vxlan
    state: absent
"""

RETURN = r"""
changes:
  description: What was (or in check mode would be) done, one line per change.
  returned: always
  type: list
  elements: str
  sample: ["create vxlan vxlan-routednet", "add 172.245.0.0/32 to vxlan-routednet"]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.routednet.fabric.plugins.module_utils import outcome
from ansible_collections.routednet.fabric.plugins.module_utils.converge import tunnel as converge


def main():
    module = AnsibleModule(**converge.MODULE_KWARGS)
    result = outcome.call(converge.run, outcome.Request.of(module))
    (module.fail_json if result.get("failed") else module.exit_json)(**result)


if __name__ == "__main__":
    main()
