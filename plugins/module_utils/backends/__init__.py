# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The backends, one file each, registered by name (as ``routednet_backend`` spells it).

A backend file says what the backend is: the bytes its encapsulation adds to a pod
packet, the kernel feature it needs, its tunnel device (none: routes via the underlay),
what the firewall opens for it, how its device, its per-peer entries and its route to a
peer's pods look. The node document (node_document.py: device, entries, routes, firewall
ports), the plan preview, the preflight, the settings checks and the tunnel messages read
them here; path diagnosis still names the backends itself (path_check.py). Adding a
backend means adding a file (and registering it below).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.routednet.fabric.plugins.module_utils.backends import hostgw, hybrid, ipip, vxlan

BACKENDS = dict((backend.NAME, backend) for backend in (hostgw, vxlan, ipip, hybrid))
# The backends a hybrid cluster may tunnel with between nodes that share no L2 segment.
TUNNELS = dict((name, backend) for name, backend in BACKENDS.items() if backend.TUNNEL_KIND)


def get(name):
    """The backend called ``name``; KeyError naming the choices for any other."""
    try:
        return BACKENDS[name]
    except KeyError:
        raise KeyError("%r is not a backend of the collection; choose one of %s" % (name, ", ".join(sorted(BACKENDS)))) from None


def encapsulation(name, hybrid_encap="vxlan"):
    """The backend whose encapsulation the pods' packets get: hybrid's chosen tunnel."""
    return get(hybrid_encap if name == hybrid.NAME else name)


def facts(name, hybrid_encap="vxlan"):
    """A backend as plain data for the roles (the preflight reads the overhead, the node
    role all tunnel kinds; the kernel check reads the backend itself, module_utils/preflight.py)."""
    encap = encapsulation(name, hybrid_encap)
    return {
        "name": name,
        "encapsulation": encap.NAME,
        "overhead": encap.OVERHEAD,
        "kernel_needs": [{"feature": feature, "config": config} for feature, config in encap.KERNEL],
        "tunnel_kind": encap.TUNNEL_KIND,
        "firewall": dict(encap.FIREWALL),
        # (so that a switch removes the other backends' devices)
        "all_tunnel_kinds": tunnel_kinds(),
    }


def title(name):
    """The backend as play names spell it (host-gw, VXLAN...); any other name as it is."""
    backend = BACKENDS.get(name)
    return backend.TITLE if backend else str(name)


def tunnel_kinds():
    """Every kind of tunnel device a backend of the collection creates."""
    return sorted(backend.TUNNEL_KIND for backend in TUNNELS.values())
