#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: path_hops
short_description: Read this node's part of a pod-to-pod path hop by hop and say which hop is wrong
version_added: 0.4.0
description:
  - Reads, over netlink and never changing anything, the state one node holds for a path
    between pods, in the order a packet meets it, and compares each hop with the plan.
  - On the source node (O(side=source)) - the pod's interface and address, the pod's route
    to O(to) (C(ip route get) inside the pod), the pod's veth on the bridge, the bridge and
    its gateway address, IP forwarding, the node's route to O(to), then what that route
    needs next - the underlay neighbour (host-gw), or the VXLAN neighbour and FDB entry of
    the peer and an underlay route to the peer (tunnels).
  - On the destination node (O(side=destination)) - forwarding, the route to the pod, the
    bridge, the pod's veth and interface, then the way back to O(to) - the pod's route, the
    node's route and what it needs next.
  - Each hop comes with the command an operator runs on that node to see the same state.
  - A path between IPv6 pods (O(peer.family=6)) reads the IPv6 state - addresses, routes,
    neighbours, IPv6 forwarding.
  - Used by C(playbooks/diagnose.yml), which computes the options from the plan.
options:
  side:
    description: Which end of the path this node is.
    type: str
    required: true
    choices: [source, destination]
  node:
    description: This node's name in the report (its inventory name); the host name when omitted.
    type: str
  to:
    description:
      - O(side=source) - the address the path goes to.
      - O(side=destination) - the source's address, to check the way back; omitted when the
        source node had no route (its own hops already name what is wrong).
    type: str
  pod:
    description: The pod at this end (the source pod, or the destination pod); omitted when a node itself is the source.
    type: dict
    suboptions:
      name:
        description: The pod's network namespace.
        type: str
        required: true
      address:
        description: The pod's planned address with prefix length.
        type: str
        required: true
      ifname:
        description: The pod's interface inside its namespace.
        type: str
        default: eth0
      host_ifname:
        description: The host side of the pod's veth pair.
        type: str
        required: true
  peer:
    description: The node at the other end; omitted when both ends are on this node (the path stays on the bridge).
    type: dict
    suboptions:
      node:
        description: Its inventory name.
        type: str
        required: true
      pod_cidr:
        description: Its pod subnet (of O(peer.family)).
        type: str
        required: true
      underlay_ip:
        description: Its (IPv4) underlay address.
        type: str
        required: true
      tunnel_ip:
        description: The next hop of our routes through the tunnel to its pods (IPv4 - its subnet's network address; IPv6 - its VTEP's link-local address).
        type: str
        required: true
      vtep_mac:
        description: The MAC address of its VTEP.
        type: str
        required: true
      family:
        description: The address family of the path (the pods' addresses).
        type: int
        choices: [4, 6]
        default: 4
        version_added: 0.5.0
      underlay_ip_v6:
        description: Its IPv6 underlay address, which host-gw routes its IPv6 pods via (O(peer.family=6)).
        type: str
        version_added: 0.5.0
      outer_ip:
        description: Its address the tunnel's packets go to, when not O(peer.underlay_ip) (a VTEP over the IPv6 underlay).
        type: str
        version_added: 0.5.0
  gateway:
    description: This node's gateway address on the bridge, with prefix length.
    type: str
    required: true
  bridge:
    description: The bridge the pods hang on.
    type: str
    default: cni0
  vxlan_device:
    description: The name of the collection's VXLAN device.
    type: str
    default: vxlan-routednet
  ipip_device:
    description: The name of the collection's IPIP device.
    type: str
    default: ipip-routednet
author:
  - routednet maintainers (@routednet)
extends_documentation_fragment:
  - routednet.fabric.netlink.read_only
"""

EXAMPLES = r"""
- name: The source node's hops from docker1 to a pod on node2
  routednet.fabric.path_hops:
    side: source
    to: 172.18.0.2
    pod: {name: docker1, address: 172.17.0.2/24, host_ifname: veth1a2b3c4d}
    gateway: 172.17.0.1/24
    peer:
      node: node2
      pod_cidr: 172.18.0.0/24
      underlay_ip: 192.168.245.172
      tunnel_ip: 172.18.0.0
      vtep_mac: 86:03:1a:c1:89:98
  register: source_hops
"""

RETURN = r"""
hops:
  description: This node's hops in path order.
  returned: always
  type: list
  elements: dict
  sample:
    - {node: node1, hop: forwarding, ok: false, seen: net.ipv4.ip_forward = 0, want: net.ipv4.ip_forward = 1,
       command: sysctl net.ipv4.ip_forward}
source_address:
  description: On the source node, the address the path leaves with (the pod's, or the one the node's kernel picks).
  returned: when O(side=source)
  type: str
  sample: 172.17.0.2
"""

import platform

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.routednet.fabric.plugins.module_utils.host import netlink, path_check
from ansible_collections.routednet.fabric.plugins.module_utils.outcome import Failure

POD_OPTIONS = dict(
    name=dict(type="str", required=True),
    address=dict(type="str", required=True),
    ifname=dict(type="str", default="eth0"),
    host_ifname=dict(type="str", required=True),
)
PEER_OPTIONS = dict(
    node=dict(type="str", required=True),
    pod_cidr=dict(type="str", required=True),
    underlay_ip=dict(type="str", required=True),
    tunnel_ip=dict(type="str", required=True),
    vtep_mac=dict(type="str", required=True),
    family=dict(type="int", default=4, choices=[4, 6]),
    underlay_ip_v6=dict(type="str"),
    outer_ip=dict(type="str"),
)


def run(module):
    """The module's work; Failure from the shared host code becomes its failure (main)."""
    netlink.require_pyroute2()
    p = module.params
    devices = {"vxlan": p["vxlan_device"], "ipip": p["ipip_device"]}
    args = (p["node"] or platform.node(), p["pod"], p["to"], p["peer"], p["bridge"], p["gateway"], devices)
    if p["side"] == "source":
        hops, source_address = path_check.check_source(*args)
        module.exit_json(changed=False, hops=hops, source_address=source_address)
    module.exit_json(changed=False, hops=path_check.check_destination(*args))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            side=dict(type="str", required=True, choices=["source", "destination"]),
            node=dict(type="str"),
            to=dict(type="str"),
            pod=dict(type="dict", options=POD_OPTIONS),
            peer=dict(type="dict", options=PEER_OPTIONS),
            gateway=dict(type="str", required=True),
            bridge=dict(type="str", default="cni0"),
            vxlan_device=dict(type="str", default="vxlan-routednet"),
            ipip_device=dict(type="str", default="ipip-routednet"),
        ),
        required_if=[("side", "source", ["to"]), ("side", "destination", ["pod"])],
        supports_check_mode=True,
    )
    try:
        run(module)
    except Failure as failure:
        module.fail_json(**failure.result())


if __name__ == "__main__":
    main()
