# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""VXLAN: one VTEP per node (VNI 1, UDP 8472 by default, as flannel's), each peer's pod
subnet on-link through it via the peer's tunnel address, with a static neighbour and FDB
entry per peer; crosses routed underlays."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.routednet.fabric.plugins.module_utils.mac import stable_mac

NAME = "vxlan"
# as the play names and messages spell it
TITLE = "VXLAN"
# outer IPv4 20 + UDP 8 + VXLAN 8 + inner Ethernet 14
OVERHEAD = 50
# the same over an IPv6 underlay: outer IPv6 40 + UDP 8 + VXLAN 8 + inner Ethernet 14
OVERHEAD_IPV6_UNDERLAY = 70
KERNEL = (("vxlan", "CONFIG_VXLAN"),)
TUNNEL_KIND = "vxlan"
DEVICE_VARIABLE = "routednet_vxlan_device"
# what the kernel cannot change in place (a difference recreates the device): our option ->
# (IFLA_INFO_DATA attribute, pyroute2 create keyword)
IMMUTABLE = {
    "vni": ("IFLA_VXLAN_ID", "vxlan_id"),
    "port": ("IFLA_VXLAN_PORT", "vxlan_port"),
    "local": ("IFLA_VXLAN_LOCAL", "vxlan_local"),
    "dev": ("IFLA_VXLAN_LINK", "vxlan_link"),
    "learning": ("IFLA_VXLAN_LEARNING", "vxlan_learning"),
}
# a local address over an IPv6 underlay: the attribute and keyword that hold it instead
LOCAL6 = ("IFLA_VXLAN_LOCAL6", "vxlan_local6")
# the tunnel module's options only this kind takes, those it cannot do without, and
# whether a recreated device gets its MAC back (its peers' entries name it)
DEVICE_OPTIONS = ("vni", "mac")
DEVICE_REQUIRED = ("vni",)
KEEPS_MAC = True
# cluster-wide whole-number settings: (variable, lowest, highest)
SETTINGS = (("routednet_vxlan_vni", 1, 16777215), ("routednet_vxlan_port", 1, 65535))
# cluster-wide settings of a few words: (variable, choices)
CHOICES = (("routednet_vxlan_underlay", ("ipv4", "ipv6")),)
# UDP to routednet_vxlan_port, from the nodes' underlay addresses only
FIREWALL = {"vxlan_port": True, "ipip": False}
PAIRS = "vxlan"
# hybrid's tunnel unless routednet_hybrid_encap names another
HYBRID_DEFAULT = True
# pods see one MTU whichever peer they talk to; every pair is tunnelled
MIXED = False
# the address families it carries pods of (IPv6 pods over the IPv4 underlay: the same
# VTEP, FDB and overhead; an IPv6 neighbour entry per peer)
FAMILIES = (4, 6)


def underlay_family(settings):
    """The address family of the underlay the VTEP runs over (routednet_vxlan_underlay)."""
    return 6 if settings.get("routednet_vxlan_underlay") == "ipv6" else 4


def overhead(settings):
    """What a packet gains through the VTEP over the underlay ``settings`` choose."""
    return OVERHEAD_IPV6_UNDERLAY if underlay_family(settings) == 6 else OVERHEAD


def vtep_mac(node):
    """The node's VTEP MAC, derived from its name: the same on every run and after the
    device is recreated, with no state to keep. Locally administered, unicast."""
    return stable_mac("routednet.fabric vtep " + node)


def device(node, settings, local, underlay_dev, mtu, addresses):
    """The node's VTEP (the tunnel module's parameters): ``addresses`` (the network
    address of each of the node's subnets), a MAC derived from the node name, learning off
    (every entry is static)."""
    return {
        "name": settings[DEVICE_VARIABLE],
        "kind": TUNNEL_KIND,
        "vni": int(settings["routednet_vxlan_vni"]),
        "port": int(settings["routednet_vxlan_port"]),
        "local": local,
        "dev": underlay_dev,
        "learning": False,
        "mtu": mtu,
        "mac": vtep_mac(node),
        "addresses": list(addresses),
    }


def host_conflicts(node, values, facts):
    """What on the host stops the node's VTEP (``values``: its checked settings,
    ``facts``: node_facts'): a VXLAN device of somebody else's on the same UDP port."""
    port = int(values["routednet_vxlan_port"])
    return [
        "%s: the VXLAN device %s (VNI %s) on this host, not the collection's, already uses UDP port %d; set routednet_vxlan_port "
        "(for every node) to a port of its own, e.g. 4789 - sharing it would put %s's traffic behind the collection's firewall"
        % (node, device["name"], device["vni"], port, device["name"])
        for device in facts.get("vxlan_devices") or []
        if not device["owned"] and device["port"] == port
    ]


def entry(peer, info, address):
    """What our VTEP holds for ``peer`` (``info``: its part of the plan, ``address``: its
    VTEP address): the neighbour entry (address -> MAC) and the FDB entry (MAC -> underlay)."""
    return {"ip": address, "mac": vtep_mac(peer), "dst": info["underlay_ip"]}


def ipv6_next_hop(node):
    """The IPv6 next hop of ``node``'s pods through its VTEP: the link-local address the
    kernel gives that VTEP from its MAC (EUI-64); our permanent neighbour entry maps it to
    the MAC, whatever address the peer's VTEP really has. Link-local, as IPv6 next hops
    are, not the peer's global VTEP address on-link: the kernel checks an on-link IPv6
    gateway against the routes it has, and refuses to move a route onto the VTEP while the
    host-gw route to that subnet still names the underlay (a switch replaces in place)."""
    mac = bytearray.fromhex(vtep_mac(node).replace(":", ""))
    mac[0] ^= 0x02  # (the universal/local bit, inverted in an interface identifier)
    return str(ipaddress.IPv6Address(b"\xfe\x80" + bytes(6) + bytes(mac[:3]) + b"\xff\xfe" + bytes(mac[3:])))


def route(peer, device, family=4):
    """Through our VTEP: for IPv4 on-link via the peer's VTEP address, the network address
    of its pod subnet, as flannel does (planning.tunnel_address); for IPv6 via the peer
    VTEP's link-local address (``peer`` then names the node: ``name``)."""
    if family == 6:
        return {"dst": peer["pod_cidr_v6"], "via": ipv6_next_hop(peer["name"]), "dev": device}
    return {"dst": peer["pod_cidr"], "via": peer["pod_cidr"].split("/")[0], "dev": device, "onlink": True}
