# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""VXLAN: one VTEP per node (VNI 1, UDP 8472 by default, as flannel's), each peer's pod
subnet on-link through it via the peer's tunnel address, with a static neighbour and FDB
entry per peer; crosses routed underlays."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

NAME = "vxlan"
# outer IPv4 20 + UDP 8 + VXLAN 8 + inner Ethernet 14
OVERHEAD = 50
KERNEL = (("vxlan", "CONFIG_VXLAN"),)
TUNNEL_KIND = "vxlan"
DEVICE_VARIABLE = "routednet_vxlan_device"
# UDP to routednet_vxlan_port, from the nodes' underlay addresses only
FIREWALL = {"vxlan_port": True, "ipip": False}
PAIRS = "vxlan"


def route(peer, device):
    """On-link through our VTEP via the peer's VTEP address: the network address of its
    pod subnet, as flannel does (planning.tunnel_address)."""
    return {"dst": peer["pod_cidr"], "via": peer["pod_cidr"].split("/")[0], "dev": device, "onlink": True}
