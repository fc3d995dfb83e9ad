# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""IPIP: one tunnel device per node with no fixed remote; each peer's pod subnet on-link
through it via the peer's underlay address, which becomes the outer destination (as in
flannel and Calico). IPv4 only; crosses routed underlays."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

NAME = "ipip"
# outer IPv4 header
OVERHEAD = 20
KERNEL = (("ipip", "CONFIG_NET_IPIP"),)
TUNNEL_KIND = "ipip"
DEVICE_VARIABLE = "routednet_ipip_device"
# IP protocol 4, from the nodes' underlay addresses only
FIREWALL = {"vxlan_port": False, "ipip": True}
PAIRS = "ipip"


def route(peer, device):
    """On-link through our one IPIP device via the peer's underlay address: the gateway
    becomes the outer destination, so no per-peer tunnel is needed."""
    return {"dst": peer["pod_cidr"], "via": peer["underlay_ip"], "dev": device, "onlink": True}
