#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: node_facts
short_description: Read-only preflight of a node before the routed network is applied
version_added: 0.1.0
description:
  - Finds the underlay interface that holds the node's underlay address and reports its
    name, prefix and MTU, the host's IPv4 addresses, IP forwarding, the pyroute2 version,
    and whether the running kernel can make each kind of tunnel device (VXLAN, IPIP).
  - Fails, naming the address, when no interface of the host holds the underlay address.
  - Never changes anything.
options:
  underlay_ip:
    description: The node's underlay address (C(routednet_underlay_ip)).
    type: str
    required: true
extends_documentation_fragment:
  - routednet.fabric.netlink
  - routednet.fabric.netlink.netns
author:
  - routednet maintainers (@routednet)
"""

EXAMPLES = r"""
- name: Find the underlay interface
  routednet.fabric.node_facts:
    underlay_ip: 192.168.245.168
  register: node
"""

RETURN = r"""
underlay_dev:
  description: Interface that holds the underlay address.
  returned: always
  type: str
  sample: eth0
underlay_cidr:
  description: The underlay address with its prefix length.
  returned: always
  type: str
  sample: 192.168.245.168/24
underlay_mtu:
  description: MTU of the underlay interface.
  returned: always
  type: int
  sample: 1500
addresses:
  description: Every IPv4 address of the host, with its interface.
  returned: always
  type: list
  elements: dict
  sample: [{"dev": "eth0", "address": "192.168.245.168/24"}]
ip_forward:
  description: Whether IPv4 forwarding is on now.
  returned: always
  type: bool
pyroute2_version:
  description: Version of pyroute2 on the host.
  returned: always
  type: str
kernel_release:
  description: Release of the running kernel.
  returned: always
  type: str
  sample: 6.1.0-56-amd64
kernel_features:
  description:
    - Per tunnel kind, whether the running kernel offers it, read from C(/sys/module) and
      the module index of the running release (nothing is loaded to find out).
    - V(present) (loaded, or built in), V(builtin), V(module) (loadable; the kernel loads it
      when the first such device is made) or V(missing).
  returned: always
  type: dict
  sample: {"vxlan": "present", "ipip": "missing"}
"""

import ipaddress
import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.routednet.fabric.plugins.module_utils import kernel, netlink

FORWARD_PATH = "/proc/sys/net/ipv4/ip_forward"


def main():
    module = AnsibleModule(
        argument_spec=dict(underlay_ip=dict(type="str", required=True), netns=dict(type="str")),
        supports_check_mode=True,
    )
    netlink.require_pyroute2(module)
    try:
        underlay = ipaddress.IPv4Address(module.params["underlay_ip"])
    except ValueError:
        module.fail_json(msg="routednet_underlay_ip %r is not an IPv4 address" % module.params["underlay_ip"])
    with netlink.open_rtnl(module, module.params["netns"]) as ipr:
        links = {m["index"]: m for m in ipr.link("dump")}
        addresses = []
        for msg in ipr.addr("dump", family=netlink.AF_INET):
            dev = links.get(msg["index"])
            addresses.append({"dev": dev.get("ifname") if dev else None, "address": "%s/%d" % (msg.get("address"), msg["prefixlen"]), "index": msg["index"]})
    holder = next((a for a in addresses if a["address"].split("/")[0] == str(underlay)), None)
    if holder is None:
        module.fail_json(
            msg="routednet_underlay_ip %s is not configured on any interface of this host (it has: %s); set routednet_underlay_ip to one of them"
            % (underlay, ", ".join("%s on %s" % (a["address"], a["dev"]) for a in addresses) or "none")
        )
    with open(FORWARD_PATH) as handle:
        forward = handle.read().strip() == "1"
    module.exit_json(
        changed=False,
        underlay_dev=holder["dev"],
        underlay_cidr=holder["address"],
        underlay_mtu=links[holder["index"]].get("mtu"),
        addresses=[{"dev": a["dev"], "address": a["address"]} for a in addresses],
        ip_forward=forward,
        pyroute2_version=netlink.PYROUTE2_VERSION,
        kernel_release=os.uname()[2],
        kernel_features=kernel.features(),
    )


if __name__ == "__main__":
    main()
