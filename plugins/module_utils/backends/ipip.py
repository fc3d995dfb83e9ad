# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""IPIP: one tunnel device per node with no fixed remote; each peer's pod subnet on-link
through it via the peer's underlay address, which becomes the outer destination (as in
flannel and Calico). IPv4 only; crosses routed underlays."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

NAME = "ipip"
# as the play names and messages spell it
TITLE = "IPIP"
# outer IPv4 header
OVERHEAD = 20
KERNEL = (("ipip", "CONFIG_NET_IPIP"),)
TUNNEL_KIND = "ipip"
DEVICE_VARIABLE = "routednet_ipip_device"
SETTINGS = ()
DEVICE_OPTIONS = ()
DEVICE_REQUIRED = ()
KEEPS_MAC = False
# as vxlan.py's; one device per node with no fixed remote (each route's gateway is the
# outer destination), so only its own end is fixed
IMMUTABLE = {
    "local": ("IFLA_IPIP_LOCAL", "ipip_local"),
    "dev": ("IFLA_IPIP_LINK", "ipip_link"),
}
# IP protocol 4, from the nodes' underlay addresses only
FIREWALL = {"vxlan_port": False, "ipip": True}
PAIRS = "ipip"
MIXED = False
# IPv4 in IPv4 only (protocol 4); IPv6 pods would need another tunnel (ip6ip6 or sit)
FAMILIES = (4,)


def device(node, settings, local, underlay_dev, mtu, addresses):
    """The node's one IPIP device (the tunnel module's parameters): local = the node's
    underlay address, any remote; each route's gateway is the outer destination."""
    return {"name": settings[DEVICE_VARIABLE], "kind": TUNNEL_KIND, "local": local, "dev": underlay_dev, "mtu": mtu, "addresses": list(addresses)}


# no per-peer entries: the kernel needs only the route's gateway
entry = None
# nothing on the host besides the names (checked for every backend) stops it
host_conflicts = None


def route(peer, device):
    """On-link through our one IPIP device via the peer's underlay address: the gateway
    becomes the outer destination, so no per-peer tunnel is needed."""
    return {"dst": peer["pod_cidr"], "via": peer["underlay_ip"], "dev": device, "onlink": True}
