# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a node already has under the names the plan would use, judged on the controller.

The collection owns only what it made and marked: links with its alias, namespaces whose
loopback carries it, nftables tables whose rules carry its comment, files that start with
its line. node_facts reports what exists under each planned name and who owns it; this
turns that into one line per name that is taken, before any host changes.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.routednet.fabric.plugins.module_utils import backends
from ansible_collections.routednet.fabric.plugins.module_utils.plan.settings import TUNNEL_DEVICE, encapsulation
from ansible_collections.routednet.fabric.plugins.module_utils.plan import runtime_files

TUNNEL_KINDS = tuple(backends.tunnel_kinds())
# The smallest packet every IPv4 link must carry (RFC 791).
IPV4_MIN_MTU = 576


def planned_links(plan, node, values):
    """Name -> (kind, the variable that names it) of every link the plan gives ``node``."""
    found = {values["routednet_bridge_name"]: ("bridge", "routednet_bridge_name")}
    tunnel = encapsulation(values)
    if tunnel:
        var = TUNNEL_DEVICE[tunnel]
        found[values[var]] = (tunnel, var)
    for pod in plan["nodes"][node]["pods"]:
        found[pod["host_ifname"]] = ("veth", "routednet_pods[%s] (its host end)" % pod["name"])
    return found


def _link_conflict(node, name, kind, var, present):
    if not present["owned"]:
        return (
            "%s: %s=%s: the link %s (%s) on this host was not made by routednet.fabric, and the collection never adopts one; "
            "choose another name, or delete %s if it is nobody's" % (node, var, name, name, present["kind"] or "of no kind", name)
        )
    same = present["kind"] == kind or (kind in TUNNEL_KINDS and present["kind"] in TUNNEL_KINDS)
    if not same:
        return "%s: %s=%s: the link %s on this host is the collection's %s, not a %s; give each its own name" % (node, var, name, name, present["kind"], kind)
    return None


def conflicts(plan, node, values, facts, pod_mtu=None):
    """One line per planned name that something else holds on the node.

    ``values``: the node's effective settings (subnet_plan's ``settings``), ``facts``:
    node_facts' result, ``pod_mtu``: the MTU its pods would get."""
    lines = []
    found = facts.get("links_found") or {}
    for name, (kind, var) in sorted(planned_links(plan, node, values).items()):
        if name in found:
            line = _link_conflict(node, name, kind, var, found[name])
            if line:
                lines.append(line)
    owners = facts.get("netns_found") or {}
    for pod in plan["nodes"][node]["pods"]:
        if owners.get(pod["name"]) == "theirs":
            lines.append(
                "%s: routednet_pods names %s, but a network namespace %s already exists on this host and was not made by "
                "routednet.fabric; the collection never adopts one (it may hold your own links and routes): rename the pod" % (node, pod["name"], pod["name"])
            )
    table = values.get("routednet_firewall_table")
    if facts.get("firewall_table_owner") == "theirs":
        lines.append(
            "%s: routednet_firewall_table=%s: the nftables table inet %s exists on this host and was not made by routednet.fabric; "
            "choose a table name of its own (the default is routednet)" % (node, table, table)
        )
    if facts.get("persist_file_owner") == "theirs":
        lines.append(
            "%s: routednet_sysctl_file=%s exists on this host and was not written by routednet.fabric; "
            "choose a file of its own (the default is /etc/sysctl.d/90-routednet.conf)" % (node, values.get("routednet_sysctl_file"))
        )
    lines += runtime_files.conflicts(node, values, facts)
    tunnel = backends.TUNNELS.get(encapsulation(values))
    if tunnel and tunnel.host_conflicts:
        lines += tunnel.host_conflicts(node, values, facts)
    if pod_mtu is not None and int(pod_mtu) < IPV4_MIN_MTU:
        lines.append(
            "%s: the pods' MTU would be %s (%s's MTU %s minus the backend's overhead), below IPv4's minimum of %d; "
            "raise the underlay's MTU, set routednet_mtu, or choose a backend with less overhead"
            % (node, pod_mtu, facts.get("underlay_dev"), facts.get("underlay_mtu"), IPV4_MIN_MTU)
        )
    return lines


def same_machine(identities):
    """Inventory names that reach one machine (``identities``: node -> node_facts identity)."""
    by_identity = {}
    for node, ident in sorted(identities.items()):
        by_identity.setdefault(ident, []).append(node)
    return [
        "%s: these inventory names reach the same machine (one boot id and network namespace); a node must be listed once "
        "in the node group: keep one name and remove the others" % ", ".join(names)
        for _ident, names in sorted(by_identity.items())
        if len(names) > 1
    ]
