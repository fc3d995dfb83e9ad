# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading links and reconciling a link's properties and addresses (IPv4 and IPv6)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.routednet.fabric.plugins.module_utils.host.netlink import (
    AF_INET,
    AF_INET6,
    IFF_UP,
    OWNER_ALIAS,
)

# An IPv6 address added without duplicate address detection: the link's gateway and pod
# addresses are the plan's own, unique by construction, and usable at once (not
# "tentative" for a second, when a pod's first packets would be dropped).
IFA_F_NODAD = 0x02
RT_SCOPE_LINK = 253


def find_link(ipr, name):
    """The link message for ``name`` or None."""
    indices = ipr.link_lookup(ifname=name) if name else []
    return ipr.link("get", index=indices[0])[0] if indices else None


def find_name(ipr, index):
    """The name of link ``index``, or None."""
    found = ipr.link("get", index=index)
    return found[0].get("ifname") if found else None


def link_kind(msg):
    return msg.get_nested("IFLA_LINKINFO", "IFLA_INFO_KIND")


def names_and_kinds(ipr):
    """{index: name} and {index: kind} of every link of the namespace."""
    links = ipr.link("dump")
    return {m["index"]: m.get("ifname") for m in links}, {m["index"]: link_kind(m) for m in links}


def is_owned(msg):
    return msg.get("ifalias") == OWNER_ALIAS


def ipv4_addresses(ipr, index):
    """Sorted ``a.b.c.d/len`` strings of the link's IPv4 addresses."""
    return sorted("%s/%d" % (msg.get("address"), msg["prefixlen"]) for msg in ipr.addr("dump", family=AF_INET, index=index))


def addresses(ipr, index):
    """The link's IPv4 addresses, then its IPv6 ones but the link-local (the kernel's own,
    on every IPv6 link), as sorted ``address/len`` strings."""
    v6 = sorted("%s/%d" % (msg.get("address"), msg["prefixlen"]) for msg in ipr.addr("dump", family=AF_INET6, index=index) if msg["scope"] != RT_SCOPE_LINK)
    return ipv4_addresses(ipr, index) + v6


def normalize_interfaces(texts):
    """Validate and canonicalise ``address/len`` strings (IPv4, IPv6): IPv4 first, each
    family sorted; raise ValueError."""
    result = set()
    for text in texts or []:
        iface = ipaddress.ip_interface(text)
        if "/" not in str(text):
            raise ValueError("%s has no prefix length (write it as %s/%d, say)" % (text, text, 24 if iface.version == 4 else 64))
        if iface.version == 6 and iface.ip.is_link_local:
            raise ValueError("%s is link-local; the kernel gives every IPv6 link its own" % text)
        result.add(iface)
    return [str(iface) for iface in sorted(result, key=lambda iface: (iface.version, iface))]


def link_view(ipr, msg):
    """What the diff shows of a link."""
    if msg is None:
        return {}
    master_name = None
    if msg.get("master"):
        master = ipr.link("get", index=msg.get("master"))[0]
        master_name = master.get("ifname")
    return {
        "name": msg.get("ifname"),
        "kind": link_kind(msg),
        "mtu": msg.get("mtu"),
        "up": bool(msg["flags"] & IFF_UP),
        "master": master_name,
        "owned": is_owned(msg),
        "mac": msg.get("address"),
        "addresses": addresses(ipr, msg["index"]),
    }


def link_changes(view, mtu=None, master=None, mac=None):
    """The ``link set`` arguments and change texts to bring a link to the wanted shape.

    ``master`` is a (name, index) pair or None to leave it alone.
    """
    args = {}
    changes = []
    if not view["up"]:
        args["state"] = "up"
        changes.append("set %s up" % view["name"])
    if mtu and view["mtu"] != mtu:
        args["mtu"] = mtu
        changes.append("set %s mtu %d (was %s)" % (view["name"], mtu, view["mtu"]))
    if master and view["master"] != master[0]:
        args["master"] = master[1]
        changes.append("set %s master %s (was %s)" % (view["name"], master[0], view["master"]))
    if mac and view.get("mac") != mac:
        args["address"] = mac
        changes.append("set %s address %s (was %s)" % (view["name"], mac, view.get("mac")))
    if not view["owned"]:
        args["ifalias"] = OWNER_ALIAS
        changes.append("tag %s as owned by %s" % (view["name"], OWNER_ALIAS))
    return args, changes


def address_changes(name, current, desired):
    """(to_add, to_remove, change texts) for an owned link's exact address set."""
    to_add = [a for a in desired if a not in current]
    to_remove = [a for a in current if a not in desired]
    changes = ["add %s to %s" % (a, name) for a in to_add]
    changes += ["remove %s from %s" % (a, name) for a in to_remove]
    return to_add, to_remove, changes


def _address(ipr, verb, index, iface):
    """Add or delete one address; an IPv6 one is added without duplicate address detection."""
    where = dict(index=index, address=str(iface.ip), prefixlen=iface.network.prefixlen)
    if iface.version == 6:
        where.update(family=AF_INET6, **({"flags": IFA_F_NODAD} if verb == "add" else {}))
    ipr.addr(verb, **where)


def apply_addresses(ipr, index, to_add, to_remove, undo=None):
    """Remove, then add addresses; each change done is recorded in ``undo`` (a netlink.Undo)."""
    for verb, texts, inverse in (("del", to_remove, "add"), ("add", to_add, "del")):
        for text in texts:
            iface = ipaddress.ip_interface(text)
            _address(ipr, verb, index, iface)
            if undo is not None:
                undo.did("%s address %s" % (inverse, text), lambda inverse=inverse, iface=iface: _address(ipr, inverse, index, iface))


def plan_link(ipr, msg, mtu=None, master=None, addresses=None, mac=None):
    """Everything to change on an existing link: (set args, to_add, to_remove, texts)."""
    view = link_view(ipr, msg)
    args, changes = link_changes(view, mtu=mtu, master=master, mac=mac)
    to_add, to_remove = [], []
    if addresses is not None:
        to_add, to_remove, more = address_changes(view["name"], view["addresses"], addresses)
        changes += more
    return args, to_add, to_remove, changes


def restoring_args(msg, args):
    """The ``link set`` arguments that put back what ``args`` is about to change on msg's link."""
    current = {
        "state": "up" if msg["flags"] & IFF_UP else "down",
        "mtu": msg.get("mtu"),
        "master": msg.get("master") or 0,
        "address": msg.get("address"),
        "ifalias": msg.get("ifalias") or "",
    }
    return dict((key, current[key]) for key in args)


def apply_link(ipr, index, args, to_add, to_remove, undo=None):
    """Set the link's properties, then its addresses; with ``undo``, record how to go back."""
    if args:
        back = restoring_args(ipr.link("get", index=index)[0], args) if undo is not None else None
        ipr.link("set", index=index, **args)
        if undo is not None:
            undo.did("set %s back on link %d" % (", ".join(sorted(back)), index), lambda: ipr.link("set", index=index, **back))
    apply_addresses(ipr, index, to_add, to_remove, undo)


def created(undo, ipr, name):
    """Record that this call created link ``name``: undoing deletes it (and what hangs on it)."""
    index = find_link(ipr, name)["index"]
    undo.did("delete %s" % name, lambda: ipr.link("del", index=index))


def wanted_view(name, kind, mtu, master, addresses, current=None):
    """What the diff shows as the desired state of a link."""
    view = dict(current or {"name": name, "kind": kind, "mtu": None, "master": None, "addresses": []})
    view.update(up=True, owned=True)
    if mtu:
        view["mtu"] = mtu
    if master:
        view["master"] = master
    if addresses is not None:
        view["addresses"] = list(addresses)
    return view
