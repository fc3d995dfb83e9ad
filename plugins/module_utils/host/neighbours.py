# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Neighbour and FDB entries of one VTEP: read, compare as sets, apply.

Only permanent neighbour entries (IPv4 and IPv6) and FDB entries with a remote (dst)
on the collection's own VTEP are considered; entries on any other device are
never read, let alone changed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.routednet.fabric.plugins.module_utils.host import netlink_bulk as bulk

NUD_PERMANENT = bulk.NUD_PERMANENT
ENOENT = 2


def read_entries(channel, index):
    """({ip: mac} of permanent neighbours, {(mac, dst)} of remote FDB entries) on a device."""
    neighbours = {}
    for family in (bulk.AF_INET, bulk.AF_INET6):
        for state, _flags, ip, mac in channel.neighbours(index, family=family):
            if state & NUD_PERMANENT and ip and mac:
                neighbours[ip] = mac
    fdb = set()
    for _state, _flags, dst, mac in channel.neighbours(index, family=bulk.AF_BRIDGE):
        if dst and mac:
            fdb.add((mac, dst))
    return neighbours, fdb


def plan_entries(current_neigh, current_fdb, peers, prune, state="present"):
    """What to change: lists neigh_set, neigh_del, fdb_add, fdb_del, and neigh_wanted (ip -> mac)."""
    want_neigh = {p["ip"]: p["mac"].lower() for p in peers}
    want_fdb = {(p["mac"].lower(), p["dst"]) for p in peers}
    wanted_macs = {mac for mac, _dst in want_fdb}
    if state == "absent":
        every = not peers
        return {
            "neigh_set": [],
            "neigh_del": sorted(ip for ip in current_neigh if every or ip in want_neigh),
            "fdb_add": [],
            # by the peer VTEP's MAC (each node's own): whichever underlay address it is behind
            "fdb_del": sorted(e for e in current_fdb if every or e[0] in wanted_macs),
            "neigh_wanted": {},
        }
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


def entry_changes(index, plan, current_neigh):
    """The bulk requests of a plan; how to take each back is worked out only for the
    ones applied, and only when a rollback needs it."""

    def add_fdb(mac, dst):
        return (bulk.RTM_NEWNEIGH, bulk.NLM_F_CREATE | bulk.NLM_F_APPEND, bulk.fdb_message(index, mac, dst))

    def del_fdb(mac, dst):
        return (bulk.RTM_DELNEIGH, 0, bulk.fdb_message(index, mac, dst))

    def set_neigh(ip, mac):
        return (bulk.RTM_NEWNEIGH, bulk.NLM_F_CREATE | bulk.NLM_F_REPLACE, bulk.neighbour_message(index, ip, mac))

    def del_neigh(ip):
        return (bulk.RTM_DELNEIGH, 0, bulk.neighbour_message(index, ip))

    changes = []
    for mac, dst in plan["fdb_del"]:
        changes.append(
            bulk.Change(
                del_fdb(mac, dst),
                lambda mac=mac, dst=dst: "fdb del %s dst %s" % (mac, dst),
                lambda mac=mac, dst=dst: ("add back fdb %s dst %s" % (mac, dst), add_fdb(mac, dst)),
                harmless=(ENOENT,),
            )
        )
    for mac, dst in plan["fdb_add"]:
        changes.append(
            bulk.Change(
                add_fdb(mac, dst),
                lambda mac=mac, dst=dst: "fdb add %s dst %s" % (mac, dst),
                lambda mac=mac, dst=dst: ("delete fdb %s dst %s" % (mac, dst), del_fdb(mac, dst)),
            )
        )

    def undo_set(ip):
        if ip in current_neigh:
            return lambda: ("put back neigh %s" % ip, set_neigh(ip, current_neigh[ip]))
        return lambda: ("delete neigh %s" % ip, del_neigh(ip))

    for ip in plan["neigh_set"]:
        changes.append(bulk.Change(set_neigh(ip, plan["neigh_wanted"][ip]), lambda ip=ip: "neigh replace %s" % ip, undo_set(ip)))
    for ip in plan["neigh_del"]:
        changes.append(
            bulk.Change(
                del_neigh(ip),
                lambda ip=ip: "neigh del %s" % ip,
                lambda ip=ip: ("add back neigh %s" % ip, set_neigh(ip, current_neigh[ip])),
                harmless=(ENOENT,),
            )
        )
    return changes


def entries_text(neighbours, fdb, device):
    """``ip neigh`` / ``bridge fdb`` style lines for diffs."""
    lines = ["%s dev %s lladdr %s PERMANENT" % (ip, device, mac) for ip, mac in sorted(neighbours.items())]
    lines += ["%s dev %s dst %s self permanent" % (mac, device, dst) for mac, dst in sorted(fdb)]
    return "\n".join(lines) + "\n"
