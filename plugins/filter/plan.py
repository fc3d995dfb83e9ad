# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that derive one node's desired state from the cluster plan."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.routednet.fabric.plugins.module_utils import backends
from ansible_collections.routednet.fabric.plugins.module_utils.plan.adjacency import (
    adjacency_lines,
    adjacency_problems,
    adjacency_table,
)
from ansible_collections.routednet.fabric.plugins.module_utils.plan import diagnosis
from ansible_collections.routednet.fabric.plugins.module_utils.plan.diagnosis import container_nodes, path_ends, path_report
from ansible_collections.routednet.fabric.plugins.module_utils.plan.node_document import build as node_document
from ansible_collections.routednet.fabric.plugins.module_utils.plan.node_document import forget as forget_document
from ansible_collections.routednet.fabric.plugins.module_utils.plan.node_document import removal as removal_document
from ansible_collections.routednet.fabric.plugins.module_utils.plan.planning import (
    peer_underlay_ips,
    ping_targets,
)
from ansible_collections.routednet.fabric.plugins.module_utils.plan.ownership import planned_links, same_machine
from ansible_collections.routednet.fabric.plugins.module_utils.plan.preflight import cluster_problems
from ansible_collections.routednet.fabric.plugins.module_utils.plan.report import container_sources, container_targets, verify_markdown, verify_matrix
from ansible_collections.routednet.fabric.plugins.module_utils.plan.runtime_files import planned_paths


def plan_report_filter(*args, **kwargs):
    # imported here: the report shares code with the modules, which load pyroute2 (half a
    # second), and every worker process that templates any filter of this file imports it
    from ansible_collections.routednet.fabric.plugins.module_utils.plan.plan_report import plan_report  # noqa: PLC0415

    return plan_report(*args, **kwargs)


def lock_holders(hostvars, hosts, among=None):
    """The hosts of ``hosts`` (in ``among``, when given) whose lock this run may still hold:
    every one whose node_state did not say it gave the lock back (``__routednet_converged``,
    registered by roles/node/tasks/main.yml). Giving back a lock the run does not hold
    changes nothing, so a host that never took one may be among them."""
    wanted = None if among is None else set(among)
    held = []
    for host in hosts:
        if wanted is not None and host not in wanted:
            continue
        converged = hostvars[host].get("__routednet_converged") or {}
        if not (isinstance(converged, dict) and converged.get("lock_released")):
            held.append(host)
    return held


class FilterModule(object):
    def filters(self):
        return {
            "adjacency_lines": adjacency_lines,
            "adjacency_problems": adjacency_problems,
            "adjacency_table": adjacency_table,
            "backend_devices": backends.devices,
            "backend_facts": backends.facts,
            "backend_problem": backends.problem,
            "backend_title": backends.title,
            "cluster_problems": cluster_problems,
            "container_nodes": container_nodes,
            "container_sources": container_sources,
            "container_targets": container_targets,
            "forget_document": forget_document,
            "lock_holders": lock_holders,
            "node_document": node_document,
            "planned_links": planned_links,
            "removal_document": removal_document,
            "runtime_file_paths": planned_paths,
            "same_machine": same_machine,
            "needs_found_underlays": diagnosis.needs_found_underlays,
            "path_ends": path_ends,
            "path_report": path_report,
            "peer_underlay_ips": peer_underlay_ips,
            "with_found_underlays": diagnosis.with_found_underlays,
            "plan_report": plan_report_filter,
            "ping_targets": ping_targets,
            "verify_markdown": verify_markdown,
            "verify_matrix": verify_matrix,
        }
