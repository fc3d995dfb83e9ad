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
  - With O(peers), also returns the routes of the main table that decide how this host
    reaches each peer's underlay address (the longest match for at least one of them), so
    that the controller can tell which pairs of nodes share an L2 segment.
  - Fails, naming the address, when no interface of the host holds the underlay address.
  - Never changes anything.
options:
  underlay_ip:
    description: The node's underlay address (C(routednet_underlay_ip)).
    type: str
    required: true
  peers:
    description:
      - Underlay addresses of the other nodes. The collection's own routes (protocol 201)
        are left out of the lookup, as they carry pod subnets, never underlay addresses.
    type: list
    elements: str
    default: []
  state_file:
    description:
      - The state the last run saved for the boot-time restore (see M(routednet.fabric.boot_restore));
        the pods it names are returned as RV(saved_pods).
    type: path
    default: /etc/routednet/boot-state.json
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

- name: Also find the routes that decide how this node reaches its peers
  routednet.fabric.node_facts:
    underlay_ip: 192.168.1.11
    peers: [192.168.1.12, 192.168.2.13]
  register: node
"""

RETURN = r"""
saved_pods:
  description:
    - Pod namespaces the last run saved (none without a state file); those no longer in the
      inventory are the collection's to delete.
  returned: always
  type: list
  elements: str
  sample: [docker1]
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
  description:
    - Every IPv4 address of the host, with its interface; V(owned) marks the collection's
      own links (bridge, tunnel devices), whose addresses come from the plan.
  returned: always
  type: list
  elements: dict
  sample: [{"dev": "eth0", "address": "192.168.245.168/24", "owned": false}]
connection:
  description:
    - The addresses of the SSH session this module runs in, from C(SSH_CONNECTION) -
      V(server) (the address Ansible reaches the host on) and V(client) (the
      controller's address). V(null) when unknown (no SSH, or sshd behind a ProxyCommand).
  returned: always
  type: dict
  sample: {"server": "192.168.245.168", "client": "192.168.245.1"}
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
underlay_routes:
  description:
    - The main table's routes that are the longest match for at least one address in
      O(peers), in C(ip route) terms. A route with no C(via) on
      RV(underlay_dev) means the peer is on-link (same L2 segment).
    - V(type) is V(unicast), or V(unreachable), V(blackhole) or V(prohibit) for routes
      that drop the traffic.
  returned: always
  type: list
  elements: dict
  sample: [{"dst": "192.168.1.0/24", "via": null, "dev": "eth0", "metric": 0, "type": "unicast"},
           {"dst": "192.168.2.0/24", "via": "192.168.1.1", "dev": "eth0", "metric": 0, "type": "unicast"}]
"""

import ipaddress
import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.routednet.fabric.plugins.module_utils import kernel, netlink
from ansible_collections.routednet.fabric.plugins.module_utils.adjacency import deciding_routes
from ansible_collections.routednet.fabric.plugins.module_utils.links import is_owned
from ansible_collections.routednet.fabric.plugins.module_utils.saved_state import saved_pods

FORWARD_PATH = "/proc/sys/net/ipv4/ip_forward"
ROUTE_TYPES = {1: "unicast", 6: "blackhole", 7: "unreachable", 8: "prohibit"}


def main_table_routes(ipr, names):
    """The main table's IPv4 routes that steer traffic, minus the collection's own."""
    routes = []
    for msg in ipr.route("dump", family=netlink.AF_INET, table=netlink.RT_TABLE_MAIN):
        if msg.get("table") != netlink.RT_TABLE_MAIN or msg["type"] not in ROUTE_TYPES or msg["proto"] == netlink.ROUTEDNET_RT_PROTO:
            continue
        via = msg.get("gateway")
        if not via and msg.get("multipath"):
            via = "multipath"
        routes.append(
            {
                "dst": "%s/%d" % (msg.get("dst") or "0.0.0.0", msg["dst_len"]),
                "via": via,
                "dev": names.get(msg.get("oif")),
                "metric": msg.get("priority") or 0,
                "type": ROUTE_TYPES[msg["type"]],
            }
        )
    return routes


def ssh_connection():
    """The SSH session's addresses as this host sees them (None when not over SSH, or
    when sshd cannot tell, as with a ProxyCommand)."""
    fields = os.environ.get("SSH_CONNECTION", "").split()
    found = {"client": None, "server": None}
    if len(fields) == 4:
        for role, text in (("client", fields[0]), ("server", fields[2])):
            try:
                found[role] = str(ipaddress.ip_address(text))
            except ValueError:
                pass
    return found


def main():
    module = AnsibleModule(
        argument_spec=dict(
            underlay_ip=dict(type="str", required=True),
            peers=dict(type="list", elements="str", default=[]),
            state_file=dict(type="path", default="/etc/routednet/boot-state.json"),
            netns=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    netlink.require_pyroute2(module)
    try:
        underlay = ipaddress.IPv4Address(module.params["underlay_ip"])
    except ValueError:
        module.fail_json(msg="routednet_underlay_ip %r is not an IPv4 address" % module.params["underlay_ip"])
    for peer in module.params["peers"]:
        try:
            ipaddress.IPv4Address(peer)
        except ValueError:
            module.fail_json(msg="peers: %r is not an IPv4 address (a peer's routednet_underlay_ip)" % peer)
    with netlink.open_rtnl(module, module.params["netns"]) as ipr:
        links = {m["index"]: m for m in ipr.link("dump")}
        addresses = []
        for msg in ipr.addr("dump", family=netlink.AF_INET):
            dev = links.get(msg["index"])
            addresses.append(
                {
                    "dev": dev.get("ifname") if dev else None,
                    "address": "%s/%d" % (msg.get("address"), msg["prefixlen"]),
                    "index": msg["index"],
                    "owned": bool(dev) and is_owned(dev),
                }
            )
        routes = main_table_routes(ipr, {index: m.get("ifname") for index, m in links.items()})
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
        addresses=[{"dev": a["dev"], "address": a["address"], "owned": a["owned"]} for a in addresses],
        connection=ssh_connection(),
        ip_forward=forward,
        pyroute2_version=netlink.PYROUTE2_VERSION,
        kernel_release=os.uname()[2],
        kernel_features=kernel.features(),
        underlay_routes=deciding_routes(routes, module.params["peers"]),
        saved_pods=saved_pods(module.params["state_file"]),
    )


if __name__ == "__main__":
    main()
