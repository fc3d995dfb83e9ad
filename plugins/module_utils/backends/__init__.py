# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The backends, one file each, registered by name (as ``routednet_backend`` spells it).

A backend file says what the backend is: the bytes its encapsulation adds to a pod
packet, the kernel feature it needs, its tunnel device (none: routes via the underlay)
with the settings the kernel cannot change in place and the tunnel module's options only
it takes, its cluster-wide settings, what the firewall opens for it, how its device, its
per-peer entries and its route to a peer's pods look, and what on a host stops it. The
node document (node_document.py), the plan preview, the preflight, the pair checks, the
settings checks, the tunnel device's code and messages, the kernel probe and path
diagnosis read them here and name no backend. Adding a backend means adding a file (and
registering it below).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.routednet.fabric.plugins.module_utils.backends import hostgw, hybrid, ipip, vxlan

BACKENDS = dict((backend.NAME, backend) for backend in (hostgw, vxlan, ipip, hybrid))
# The backends a hybrid cluster may tunnel with between nodes that share no L2 segment.
TUNNELS = dict((name, backend) for name, backend in BACKENDS.items() if backend.TUNNEL_KIND)
# the backend of the pairs that need no tunnel (hybrid's direct pairs), and of a node
# whose settings name none
DIRECT = DEFAULT = hostgw
HYBRID_DEFAULT_TUNNEL = next(name for name, backend in TUNNELS.items() if getattr(backend, "HYBRID_DEFAULT", False))


def get(name):
    """The backend called ``name``; KeyError naming the choices for any other."""
    try:
        return BACKENDS[name]
    except KeyError:
        raise KeyError("%r is not a backend of the collection; choose one of %s" % (name, ", ".join(sorted(BACKENDS)))) from None


def encapsulation(name, hybrid_encap=None):
    """The backend whose encapsulation the pods' packets get: hybrid's chosen tunnel
    (``hybrid_encap``, by default HYBRID_DEFAULT_TUNNEL)."""
    return get((hybrid_encap or HYBRID_DEFAULT_TUNNEL) if name == hybrid.NAME else name)


def families(name, hybrid_encap=None):
    """The address families (4, 6) the backend carries pods of: hybrid's, those both its
    direct pairs and its tunnel carry."""
    backend = get(name)
    if backend.MIXED:
        return tuple(family for family in DIRECT.FAMILIES if family in encapsulation(name, hybrid_encap).FAMILIES)
    return backend.FAMILIES


def carrying(family, tunnels_only=False):
    """The backends that carry pods of ``family``, hybrid aside (alternatives to offer);
    with ``tunnels_only``, those that tunnel, so need no underlay address of ``family``."""
    pool = TUNNELS if tunnels_only else BACKENDS
    return sorted(name for name, backend in pool.items() if not backend.MIXED and family in backend.FAMILIES)


def underlay_family(name, hybrid_encap, settings):
    """The address family of the underlay the backend's tunnel runs over (4 without a
    choice: IPIP; host-gw's routes name each peer's address of the pods' family)."""
    encap = encapsulation(name, hybrid_encap)
    return encap.underlay_family(settings) if hasattr(encap, "underlay_family") else 4


def overhead(name, hybrid_encap, settings):
    """The bytes the backend's encapsulation adds to a pod packet, over the underlay a
    node's ``settings`` choose."""
    encap = encapsulation(name, hybrid_encap)
    return encap.overhead(settings) if hasattr(encap, "overhead") else encap.OVERHEAD


def crossing_l3(feature):
    """The tunnel backends that need no kernel ``feature`` (alternatives to offer)."""
    return sorted(name for name, backend in TUNNELS.items() if feature not in [need for need, _config in backend.KERNEL])


def facts(name, hybrid_encap=None):
    """A backend as plain data for the roles (the preflight reads the overhead, the node
    role all tunnel kinds; the kernel check reads the backend itself, module_utils/plan/preflight.py)."""
    encap = encapsulation(name, hybrid_encap)
    return {
        "name": name,
        "encapsulation": encap.NAME,
        "overhead": encap.OVERHEAD,
        "kernel_needs": [{"feature": feature, "config": config} for feature, config in encap.KERNEL],
        "tunnel_kind": encap.TUNNEL_KIND,
        "firewall": dict(encap.FIREWALL),
        # (the plan checks which pairs of nodes share an L2 segment)
        "checks_pairs": checks_pairs(name),
        # (so that a switch removes the other backends' devices)
        "all_tunnel_kinds": tunnel_kinds(),
    }


def problem(name):
    """Why ``name`` is no backend, in one line naming the variable and the choices ('' when
    it is one)."""
    if name in BACKENDS:
        return ""
    names = list(BACKENDS)
    return "routednet_backend must be %s or %s, not %s" % (", ".join(names[:-1]), names[-1], name)


def checks_pairs(name):
    """Whether the backend routes some pairs of nodes directly, so the plan must check which
    pairs share an L2 segment (from both ends)."""
    return get(name).TUNNEL_KIND is None


def of_kind(kind):
    """The tunnel backend whose device is of link kind ``kind`` (None for any other kind)."""
    return next((backend for backend in TUNNELS.values() if kind == backend.TUNNEL_KIND), None)


def devices(settings):
    """Tunnel backend -> the name ``settings`` (one node's) give its device."""
    return dict((name, settings[backend.DEVICE_VARIABLE]) for name, backend in TUNNELS.items())


def title(name):
    """The backend as play names spell it (host-gw, VXLAN...); any other name as it is."""
    backend = BACKENDS.get(name)
    return backend.TITLE if backend else str(name)


def tunnel_kinds():
    """Every kind of tunnel device a backend of the collection creates."""
    return sorted(backend.TUNNEL_KIND for backend in TUNNELS.values())
