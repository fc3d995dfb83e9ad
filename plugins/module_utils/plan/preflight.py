# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What stops one node from taking its part of the plan, from what node_facts found on it.

One line per problem (the preflight joins them into one refusal): a kernel without the
backend's tunnel, a planned name something else holds, a cluster subnet over the host's
own addresses or SSH path. Runs on the controller, once per node and run.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.routednet.fabric.plugins.module_utils import backends
from ansible_collections.routednet.fabric.plugins.module_utils.plan.ownership import conflicts as ownership_conflicts
from ansible_collections.routednet.fabric.plugins.module_utils.plan.planning import host_address_conflicts


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
        + host_address_conflicts(plan, node, facts.get("addresses") or [], facts.get("connection"))
    )


def cluster_problems(plan, settings, facts, pod_mtus, backend, hybrid_encap=None):
    """node_problems() of every node in ``facts`` (host -> node_facts' result), in its order;
    ``settings`` and ``pod_mtus`` by host likewise. One call for the whole cluster: the
    play checks every host in one task, not one task per host."""
    return [line for node in facts for line in node_problems(plan, node, settings[node], facts[node], pod_mtus[node], backend, hybrid_encap)]
