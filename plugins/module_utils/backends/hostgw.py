# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""host-gw: each peer's pod subnet via the peer's underlay address; nothing encapsulated,
so every pair of nodes must share an L2 segment (the seeds' TTL 62 path)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

NAME = "hostgw"
# as the play names and messages spell it
TITLE = "host-gw"
OVERHEAD = 0
KERNEL = ()
TUNNEL_KIND = None
DEVICE_VARIABLE = None
SETTINGS = ()
# nothing to let in: pod packets arrive as plain forwarded traffic
FIREWALL = {"vxlan_port": False, "ipip": False}
PAIRS = "direct (host-gw)"
MIXED = False
# the address families it carries pods of (routes via the peer's underlay address of that family)
FAMILIES = (4, 6)


def route(peer, underlay_dev=None, family=4):
    """The route to ``peer``'s pods of ``family`` (``peer``: its part of the plan, with
    its IPv6 underlay address for family 6); without a device the kernel picks the one
    that reaches the peer."""
    suffix = "" if family == 4 else "_v6"
    found = {"dst": peer["pod_cidr" + suffix], "via": peer["underlay_ip" + suffix]}
    if underlay_dev:
        found["dev"] = underlay_dev
    return found
