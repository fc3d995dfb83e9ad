# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which of a host's IPv6 addresses is its IPv6 underlay address.

A peer routes this node's IPv6 pods via it (host-gw), so it must stay: never a temporary
(privacy) address, which the kernel replaces every few hours, a deprecated one, whose
preferred lifetime ran out, or one that duplicate address detection has not passed; never
link-local. Pure: the addresses come from node_facts' dump.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

# ifa_flags (linux/if_addr.h)
IFA_F_TEMPORARY = 0x01
IFA_F_DADFAILED = 0x08
IFA_F_DEPRECATED = 0x20
IFA_F_TENTATIVE = 0x40
IFA_F_PERMANENT = 0x80
RT_SCOPE_UNIVERSE = 0

# why an address is not one to route a peer's pods via, in the order they are told
UNFIT = (
    (IFA_F_TEMPORARY, "temporary"),
    (IFA_F_DEPRECATED, "deprecated"),
    (IFA_F_TENTATIVE, "tentative (duplicate address detection not done)"),
    (IFA_F_DADFAILED, "duplicate address detection failed"),
)


def unfit(entry):
    """Why ``entry`` (dev, address "ip/len", flags, scope, preferred: seconds or None) cannot
    be the underlay address; '' when it can."""
    ip = ipaddress.IPv6Interface(entry["address"]).ip
    if ip.is_link_local:
        return "link-local"
    if ip.is_loopback or ip.is_multicast or ip.is_unspecified:
        return "not unicast"
    flags = entry.get("flags") or 0
    for flag, why in UNFIT:
        if flags & flag:
            return why
    if entry.get("preferred") == 0:
        return "deprecated"
    if entry.get("scope", RT_SCOPE_UNIVERSE) != RT_SCOPE_UNIVERSE:
        return "not of global scope"
    return ""


def choose(addresses, dev):
    """The IPv6 underlay address on ``dev`` (the interface of the IPv4 underlay): of those
    fit, a static one (made by hand or by the distribution's network configuration,
    IFA_F_PERMANENT) before one the kernel made from router advertisements, then the
    lowest. Returns (entry or None, the addresses on ``dev`` passed over, as "ip/len why")."""
    fit, passed = [], []
    for entry in addresses:
        if entry["dev"] != dev:
            continue
        why = unfit(entry)
        if why:
            passed.append("%s %s" % (entry["address"], why))
        else:
            fit.append(entry)
    fit.sort(key=lambda entry: (not (entry.get("flags") or 0) & IFA_F_PERMANENT, ipaddress.IPv6Interface(entry["address"]).ip))
    return (fit[0] if fit else None), passed


def pinned(addresses, address):
    """The entry holding ``address`` (routednet_underlay_ip_v6), or None, and why it cannot
    stay ('' when it can). It is the operator's choice, so one still in duplicate address
    detection is taken: that ends within seconds, and the address stays."""
    wanted = ipaddress.IPv6Address(address)
    entry = next((entry for entry in addresses if ipaddress.IPv6Interface(entry["address"]).ip == wanted), None)
    if entry is None:
        return None, ""
    why = unfit(dict(entry, flags=(entry.get("flags") or 0) & ~IFA_F_TENTATIVE))
    return entry, why
