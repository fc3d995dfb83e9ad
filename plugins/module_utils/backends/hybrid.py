# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""hybrid: host-gw between nodes that share an L2 segment (checked from both ends on the
hosts), a tunnel (routednet_hybrid_encap: vxlan or ipip) between the others. Its
encapsulation, overhead and kernel needs are the tunnel's: a node's pods have one MTU,
whichever pair they talk to."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

NAME = "hybrid"
# as the play names and messages spell it
TITLE = "hybrid"
OVERHEAD = None  # the tunnel's
KERNEL = ()  # the tunnel's
TUNNEL_KIND = None  # the tunnel's
DEVICE_VARIABLE = None  # the tunnel's
SETTINGS = ()  # the tunnel's
FIREWALL = {}
PAIRS = "direct where both share an L2 segment, %s otherwise (decided at run time)"
# pairs are direct or tunnelled (the plan role's adjacency table): the tunnel's entries
# for newly tunnelled peers are added before any route moves, the others pruned after
MIXED = True
# what both its direct routes and its tunnel carry (families())
FAMILIES = None
