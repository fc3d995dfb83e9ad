# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Converge the collection's nftables table.

What the firewall module does, as a function of a Request (outcome.py) that returns the
module's result or raises Failure, so that node_state and the boot-time restore run the
very same code without Ansible.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.routednet.fabric.plugins.module_utils.host import nft
from ansible_collections.routednet.fabric.plugins.module_utils.outcome import Failure

# What the module accepts; the boot-time restore validates its state file against it too.
MODULE_KWARGS = dict(
    argument_spec=dict(
        state=dict(type="str", default="present", choices=["present", "absent"]),
        table=dict(type="str", default="routednet"),
        nodes=dict(type="list", elements="str", default=[]),
        drop_nodes=dict(type="list", elements="str"),
        cluster_cidr=dict(type="str"),
        cluster_cidr_v6=dict(type="str"),
        nodes_v6=dict(type="list", elements="str"),
        local_v6=dict(type="str"),
        vxlan_port=dict(type="int"),
        ipip=dict(type="bool", default=False),
        masquerade=dict(type="bool", default=False),
        underlay_dev=dict(type="str"),
        local=dict(type="str"),
    ),
    mutually_exclusive=[("drop_nodes", "nodes"), ("drop_nodes", "cluster_cidr")],
    supports_check_mode=True,
)


def _checked(p):
    try:
        if p["cluster_cidr"]:
            ipaddress.IPv4Network(p["cluster_cidr"])
        if p.get("cluster_cidr_v6"):
            ipaddress.IPv6Network(p.get("cluster_cidr_v6"))
        for address in (p.get("nodes_v6") or []) + ([p["local_v6"]] if p.get("local_v6") else []):
            ipaddress.IPv6Address(address)
        for node in p["nodes"]:
            ipaddress.IPv4Address(node)
    except ValueError as exc:
        raise Failure("firewall: %s" % exc) from exc
    if not p["nodes"]:
        raise Failure("firewall: nodes is empty; it lists the underlay address of every node of the cluster")
    if p["vxlan_port"] == 0:
        p["vxlan_port"] = None  # 0 means no VXLAN, as omitting it does
    if p["vxlan_port"] is not None and not 0 < p["vxlan_port"] < 65536:
        raise Failure("firewall: vxlan_port %d is not a UDP port (1-65535)" % p["vxlan_port"])
    if (p["vxlan_port"] or p["ipip"]) and not (p["underlay_dev"] and p["local"]):
        raise Failure("firewall: underlay_dev and local (this node's underlay interface and address) are required with vxlan_port or ipip")
    if p["local"]:
        try:
            ipaddress.IPv4Address(p["local"])
        except ValueError as exc:
            raise Failure("firewall: local: %s" % exc) from exc


def refuse_theirs(table, current):
    """Never replace, change or delete a table the collection did not make."""
    if current is not None and nft.owner(current) == nft.THEIRS:
        raise Failure(
            "firewall: table %s %s exists and was not created by routednet.fabric (its rules do not carry the comment %r); "
            "refusing to touch it: set routednet_firewall_table to a name of its own" % (nft.FAMILY, table, nft.OWNER_COMMENT)
        )


def drop_nodes(request, p):
    """Take nodes that left out of the set of an existing table; nothing else changes."""
    try:
        with nft.Nft() as session:
            current = session.table(p["table"])
            if current is None:
                return dict(changed=False, changes=[], table=p["table"])
            refuse_theirs(p["table"], current)
            wanted = [nft.without_nodes(obj, p["drop_nodes"]) for obj in current]
            if wanted == current:
                return dict(changed=False, changes=[], table=p["table"])
            changes = ["drop %s from set %s" % (", ".join(sorted(set(p["drop_nodes"]))), nft.NODES_SET)]
            if not request.check_mode:
                session.run(nft.replace_table(p["table"], wanted))
    except nft.NftError as exc:
        raise Failure("firewall (table %s %s): %s" % (nft.FAMILY, p["table"], exc)) from exc
    return dict(changed=True, changes=changes, table=p["table"], diff=dict(before=nft.lines(current), after=nft.lines(wanted)))


def run(request):
    p = request.params
    present = p["state"] == "present"
    if present and p["drop_nodes"] is not None:
        return drop_nodes(request, p)
    if present and (not p["nodes"] or not (p["cluster_cidr"] or p.get("cluster_cidr_v6"))):
        raise Failure("firewall: nodes and cluster_cidr (or cluster_cidr_v6 alone) are required with state=present (or drop_nodes alone)")
    if present:
        _checked(p)
    try:
        with nft.Nft() as session:
            current = session.table(p["table"])
            refuse_theirs(p["table"], current)
            wanted = (
                nft.ruleset(
                    p["table"],
                    p["nodes"],
                    p["cluster_cidr"],
                    p["vxlan_port"],
                    p["ipip"],
                    p["masquerade"],
                    p["underlay_dev"],
                    p["local"],
                    cluster_cidr_v6=p.get("cluster_cidr_v6"),
                    nodes_v6=p.get("nodes_v6"),
                    local_v6=p.get("local_v6"),
                )
                if present
                else None
            )
            if current == wanted:
                return dict(changed=False, changes=[], table=p["table"])
            if not present:
                changes = ["delete table %s %s" % (nft.FAMILY, p["table"])]
            else:
                changes = ["%s table %s %s" % ("create" if current is None else "replace", nft.FAMILY, p["table"])]
            if not request.check_mode:
                session.run(nft.replace_table(p["table"], wanted) if present else nft.delete_table(p["table"]))
                if present and session.table(p["table"]) != wanted:
                    raise Failure("firewall: table %s %s reads back different from what was written" % (nft.FAMILY, p["table"]), changes=changes)
    except nft.NftError as exc:
        raise Failure("firewall (table %s %s): %s" % (nft.FAMILY, p["table"], exc)) from exc
    return dict(changed=True, changes=changes, table=p["table"], diff=dict(before=nft.lines(current), after=nft.lines(wanted)))
