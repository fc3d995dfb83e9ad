# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What stops one node from taking its part of the plan, from what node_facts found on it,
and the whole cluster's checks once every host has been read (check_cluster).

One line per problem (the preflight joins them into one refusal): a kernel without the
backend's tunnel, a planned name something else holds, a cluster subnet over the host's
own addresses or SSH path. Runs on the controller, once per run.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.routednet.fabric.plugins.module_utils import backends
from ansible_collections.routednet.fabric.plugins.module_utils.plan.adjacency import adjacency_lines, adjacency_problems, adjacency_table
from ansible_collections.routednet.fabric.plugins.module_utils.plan.ownership import conflicts as ownership_conflicts
from ansible_collections.routednet.fabric.plugins.module_utils.plan.ownership import same_machine
from ansible_collections.routednet.fabric.plugins.module_utils.plan.planning import host_address_conflicts
from ansible_collections.routednet.fabric.plugins.module_utils.plan.settings import whole_number

REFUSED = "Nothing was changed."


def _alternatives(feature):
    others = backends.crossing_l3(feature)
    return " (%s also cross%s L3)" % (" or ".join(others), "" if len(others) > 1 else "es") if others else ""


def kernel_problems(node, backend, hybrid_encap, facts):
    """One line per kernel feature the backend's tunnel needs and the host has not."""
    lines = []
    release = facts.get("kernel_release")
    for need in backends.facts(backend, hybrid_encap)["kernel_needs"]:
        feature = need["feature"]
        if (facts.get("kernel_features") or {}).get(feature) != "missing":
            continue
        choice = "routednet_hybrid_encap" if backends.get(backend).MIXED else "routednet_backend"
        lines.append(
            "%s: routednet_backend=%s needs the kernel's %s support (%s), and kernel %s on this host has it"
            " neither built in nor as a module under /lib/modules/%s/. Fix: boot a kernel with the %s module"
            " (Debian's linux-image-amd64 has it) and run 'modprobe %s', or choose another %s%s"
            % (node, backend, feature, need["config"], release, release, feature, feature, choice, _alternatives(feature))
        )
    return lines


def node_problems(plan, node, settings, facts, pod_mtu, backend, hybrid_encap=None):
    """Every reason ``node`` cannot take its part of ``plan``; empty when it can.

    ``settings``: the node's settings as subnet_plan checked them, ``facts``: node_facts'
    result, ``pod_mtu``: the MTU its pods would get."""
    return (
        kernel_problems(node, backend, hybrid_encap, facts)
        + ownership_conflicts(plan, node, settings, facts, pod_mtu)
        + host_address_conflicts(plan, node, facts.get("addresses") or [], facts.get("connection"), facts.get("addresses_v6"))
    )


def cluster_problems(plan, settings, facts, pod_mtus, backend, hybrid_encap=None):
    """node_problems() of every node in ``facts`` (host -> node_facts' result), in its order;
    ``settings`` and ``pod_mtus`` by host likewise. One call for the whole cluster: the
    play checks every host in one task, not one task per host."""
    return [line for node in facts for line in node_problems(plan, node, settings[node], facts[node], pod_mtus[node], backend, hybrid_encap)]


def pod_mtu(setting, underlay_mtu, overhead):
    """The MTU a node's pods get: routednet_mtu when it is set (above 0), else the
    underlay's minus what the backend's header takes (host-gw: nothing)."""
    explicit = whole_number(setting) or 0
    return explicit if explicit > 0 else int(underlay_mtu) - overhead


def mtu_warning(pod_mtus):
    """The warning when the nodes' pod MTUs differ (None when they agree): a pod on the
    larger side may send packets the smaller side drops (TCP adapts through its MSS; UDP
    and full-size DF packets do not)."""
    if len(set(pod_mtus.values())) < 2:
        return None
    return (
        "the nodes' pod MTUs differ (%s): a packet a pod on one node may send can be too large for another. "
        "Set routednet_mtu=%d for every node (see docs/runbooks/mtu.md)." % (", ".join("%s %d" % item for item in pod_mtus.items()), min(pod_mtus.values()))
    )


def _without_ipv6_underlay(node, result, why, way_out):
    """The line for ``node`` (node_facts' ``result``) that has no IPv6 underlay address it
    needs (``why``), saying what its interface has instead and ``way_out`` besides a static
    address or the pin; None when it has one."""
    if result.get("underlay_v6"):
        return None
    dev = result.get("underlay_dev")
    passed = result.get("underlay_v6_passed_over") or []
    has = " (it has only %s)" % ", ".join(passed) if passed else ""
    return (
        "%s: %s, and %s has no IPv6 address on %s that can stay%s: give %s a static IPv6 address (or set routednet_underlay_ip_v6 "
        "to one of the host's), or %s" % (node, why, node, dev, has, dev, way_out)
    )


def ipv6_underlay_problems(plan, facts, backend):
    """A dual-stack cluster on a backend whose peers route every node's pods via its
    underlay address (host-gw): every node without an IPv6 underlay address (node_facts'
    underlay_v6), one line each, saying what its interface has instead. (hybrid tunnels
    the IPv6 pods of a pair that has no shared IPv6 prefix, so it needs none.)"""
    if not plan.get("cluster_cidr_v6") or not backends.checks_pairs(backend) or backends.get(backend).MIXED:
        return []
    why = "routednet_backend=%s routes each node's IPv6 pods via its IPv6 underlay address" % backend
    way_out = "choose %s, which carries IPv6 pods over the IPv4 underlay" % " or ".join(backends.carrying(6, tunnels_only=True))
    return [line for line in (_without_ipv6_underlay(node, result, why, way_out) for node, result in facts.items()) if line]


def tunnel_underlay_problems(facts, backend, hybrid_encap, settings):
    """A tunnel over the IPv6 underlay (routednet_vxlan_underlay=ipv6): every node without
    an IPv6 underlay address, one line each."""
    why = "routednet_vxlan_underlay=ipv6 runs each node's VTEP over its IPv6 underlay address"
    found = (
        _without_ipv6_underlay(node, result, why, "set routednet_vxlan_underlay: ipv4")
        for node, result in facts.items()
        if backends.underlay_family(backend, hybrid_encap, settings[node]) == 6
    )
    return [line for line in found if line]


def underlay_v6_addresses(facts):
    """node -> its IPv6 underlay address as "address/prefix" (the inventory's pin or the one
    node_facts found: node_facts returns either, where the run needs one)."""
    found = {}
    for node, result in facts.items():
        # (with its prefix: hybrid routes a pair's IPv6 pods directly only on a shared one)
        address = (result.get("underlay_v6") or {}).get("cidr")
        if address:
            found[node] = address
    return found


def ipv6_pair_problems(facts, backend):
    """host-gw's L2 check for IPv6: a node routes a peer's IPv6 pods via the peer's IPv6
    underlay address, which must then be on the node's own IPv6 underlay prefix (the
    kernel reaches it on the link, as the seeds' IPv4 routes). One line per pair and end."""
    if not backends.checks_pairs(backend) or backends.get(backend).MIXED:
        return []
    nets = dict((node, result["underlay_v6"]) for node, result in facts.items() if result.get("underlay_v6"))
    tunnels = " or ".join(backends.carrying(6, tunnels_only=True))
    problems = []
    for node, own in nets.items():
        prefix = ipaddress.IPv6Interface(own["cidr"]).network
        for peer, theirs in nets.items():
            if peer != node and ipaddress.IPv6Address(theirs["address"]) not in prefix:
                problems.append(
                    "%s: routednet_backend=%s routes %s's IPv6 pods via %s, which is not on %s's IPv6 underlay prefix %s (%s): "
                    "the nodes need one IPv6 segment, or choose %s" % (node, backend, peer, theirs["address"], node, prefix, own["dev"], tunnels)
                )
    return problems


def check_cluster(plan, settings, facts, backend, hybrid_encap=None):
    """Every check of the whole cluster once node_facts has read each host (``facts``: host
    -> its result, in the play's order; ``settings``: subnet_plan's per host), in one pass:
    no two inventory names on one machine, every node able to take its part, every pair of
    nodes able to carry the backend. Returns dict(refusal: the failure's text or None,
    pod_mtus, adjacency: the pair table, pair_lines: how the pairs reach each other (for
    backends that route some pairs directly), warning: mtu_warning's)."""
    found = {"refusal": None, "pod_mtus": {}, "adjacency": None, "pair_lines": [], "warning": None, "underlay_v6": {}}
    missing_v6 = ipv6_underlay_problems(plan, facts, backend) + tunnel_underlay_problems(facts, backend, hybrid_encap, settings)
    if missing_v6:
        found["refusal"] = "%s. %s" % (" | ".join(missing_v6), REFUSED)
        return found
    off_segment = ipv6_pair_problems(facts, backend) if plan.get("cluster_cidr_v6") else []
    if off_segment:
        found["refusal"] = "%s. %s" % (" | ".join(off_segment), REFUSED)
        return found
    found["underlay_v6"] = underlay_v6_addresses(facts)
    twins = same_machine(dict((node, result.get("identity")) for node, result in facts.items()))
    if twins:
        found["refusal"] = "%s. %s" % (" | ".join(twins), REFUSED)
        return found
    pod_mtus = dict(
        (node, pod_mtu(settings[node].get("routednet_mtu"), result["underlay_mtu"], backends.overhead(backend, hybrid_encap, settings[node])))
        for node, result in facts.items()
    )
    found["pod_mtus"] = pod_mtus
    problems = cluster_problems(plan, settings, facts, pod_mtus, backend, hybrid_encap)
    if problems:
        found["refusal"] = "%s. %s" % (" | ".join(problems), REFUSED)
        return found
    found["warning"] = mtu_warning(pod_mtus)
    found["adjacency"] = table = adjacency_table(plan, facts)
    if backends.checks_pairs(backend):
        found["pair_lines"] = adjacency_lines(table)
    problems = adjacency_problems(table, backend)
    if problems:
        found["refusal"] = "\n".join(["routednet_backend=%s: these pairs of nodes cannot carry it:" % backend] + problems + [REFUSED])
    return found
