# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Neighbour and FDB entries of one VTEP: read, compare as sets, apply.

Only permanent IPv4 neighbour entries and FDB entries with a remote (dst) on
the collection's own VTEP are considered; entries on any other device are
never read, let alone changed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.routednet.fabric.plugins.module_utils.netlink import AF_INET

NUD_PERMANENT = 0x80


def read_entries(ipr, index):
    """({ip: mac} of permanent neighbours, {(mac, dst)} of remote FDB entries) on a device."""
    neighbours = {}
    for msg in ipr.neigh("dump", ifindex=index, family=AF_INET):
        if msg["ifindex"] == index and msg["state"] & NUD_PERMANENT and msg.get("lladdr"):
            neighbours[msg.get("dst")] = msg.get("lladdr").lower()
    fdb = set()
    for msg in ipr.fdb("dump", ifindex=index):
        if msg["ifindex"] == index and msg.get("dst") and msg.get("lladdr"):
            fdb.add((msg.get("lladdr").lower(), msg.get("dst")))
    return neighbours, fdb


def plan_entries(current_neigh, current_fdb, peers, prune, state="present"):
    """What to change: lists neigh_set, neigh_del, fdb_add, fdb_del, and neigh_wanted (ip -> mac)."""
    want_neigh = {p["ip"]: p["mac"].lower() for p in peers}
    want_fdb = {(p["mac"].lower(), p["dst"]) for p in peers}
    if state == "absent":
        every = not peers
        return {
            "neigh_set": [],
            "neigh_del": sorted(ip for ip in current_neigh if every or ip in want_neigh),
            "fdb_add": [],
            "fdb_del": sorted(e for e in current_fdb if every or e in want_fdb),
            "neigh_wanted": {},
        }
    wanted_macs = {mac for mac, _dst in want_fdb}
    return {
        "neigh_set": sorted(ip for ip, mac in want_neigh.items() if current_neigh.get(ip) != mac),
        "neigh_del": sorted(ip for ip in current_neigh if ip not in want_neigh) if prune else [],
        "fdb_add": sorted(want_fdb - current_fdb),
        # a wanted MAC pointing at the wrong host is fixed even without prune
        "fdb_del": sorted(e for e in current_fdb - want_fdb if prune or e[0] in wanted_macs),
        "neigh_wanted": want_neigh,
    }


def describe(plan, device, current_neigh):
    texts = ["fdb del %s dst %s dev %s" % (mac, dst, device) for mac, dst in plan["fdb_del"]]
    texts += ["fdb add %s dst %s dev %s" % (mac, dst, device) for mac, dst in plan["fdb_add"]]
    for ip in plan["neigh_set"]:
        texts.append("neigh replace %s lladdr %s dev %s (was %s)" % (ip, plan["neigh_wanted"][ip], device, current_neigh.get(ip) or "absent"))
    texts += ["neigh del %s dev %s" % (ip, device) for ip in plan["neigh_del"]]
    return texts


def apply_entries(ipr, index, plan, current_neigh, undo):
    """Apply the plan; record in ``undo`` how to put back each entry changed."""
    for mac, dst in plan["fdb_del"]:
        ipr.fdb("del", ifindex=index, lladdr=mac, dst=dst)
        undo.did("add back fdb %s dst %s" % (mac, dst), lambda mac=mac, dst=dst: ipr.fdb("append", ifindex=index, lladdr=mac, dst=dst, state=NUD_PERMANENT))
    for mac, dst in plan["fdb_add"]:
        ipr.fdb("append", ifindex=index, lladdr=mac, dst=dst, state=NUD_PERMANENT)
        undo.did("delete fdb %s dst %s" % (mac, dst), lambda mac=mac, dst=dst: ipr.fdb("del", ifindex=index, lladdr=mac, dst=dst))
    for ip in plan["neigh_set"]:
        ipr.neigh("replace", ifindex=index, dst=ip, lladdr=plan["neigh_wanted"][ip], state=NUD_PERMANENT)
        if ip in current_neigh:
            old = current_neigh[ip]
            undo.did("put back neigh %s" % ip, lambda ip=ip, old=old: ipr.neigh("replace", ifindex=index, dst=ip, lladdr=old, state=NUD_PERMANENT))
        else:
            new = plan["neigh_wanted"][ip]
            undo.did("delete neigh %s" % ip, lambda ip=ip, new=new: ipr.neigh("del", ifindex=index, dst=ip, lladdr=new))
    for ip in plan["neigh_del"]:
        ipr.neigh("del", ifindex=index, dst=ip, lladdr=current_neigh[ip])
        old = current_neigh[ip]
        undo.did("add back neigh %s" % ip, lambda ip=ip, old=old: ipr.neigh("replace", ifindex=index, dst=ip, lladdr=old, state=NUD_PERMANENT))


def entries_text(neighbours, fdb, device):
    """``ip neigh`` / ``bridge fdb`` style lines for diffs."""
    lines = ["%s dev %s lladdr %s PERMANENT" % (ip, device, mac) for ip, mac in sorted(neighbours.items())]
    lines += ["%s dev %s dst %s self permanent" % (mac, device, dst) for mac, dst in sorted(fdb)]
    return "\n".join(lines) + "\n"
