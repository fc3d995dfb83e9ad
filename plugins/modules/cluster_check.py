#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cluster_check
short_description: Check the whole cluster once every node has been read, then keep the leases
version_added: 0.5.0
description:
  - Runs on the controller (an action plugin) and touches no managed host. Run it once
    (C(run_once)) after M(routednet.fabric.node_facts) has read every host.
  - Fails, in one message, when two inventory names reach one machine; then, naming each
    host and the fix, when a node cannot take its part of the plan (a kernel without the
    backend's tunnel, a planned name or file that something else holds, a cluster subnet
    over the host's own addresses or its SSH path); then when a pair of nodes cannot
    carry the backend (host-gw across a router, two ends that disagree, no route at all).
  - Works out each node's pod MTU (C(routednet_mtu), else the underlay's minus the
    backend's overhead) and warns when they differ; shows how each pair of nodes reaches
    the other, for the backends that route some pairs directly.
  - With O(leases), and only once every check has passed, writes the lease file as
    M(routednet.fabric.subnet_plan) does with those options.
  - Returns the pair table (RV(adjacency)) and each node's pod MTU (RV(pod_mtus)), to be
    registered (the plan role's C(routednet_cluster_check)); not as facts, which Ansible
    would copy into every host's variables for every later task.
  - With O(lock), when any host in O(facts) was found held by another run (node_facts
    could not take its lock), checks nothing and returns RV(contended); the play then waits
    for the hosts, reads them again, and calls it once more.
options:
  plan_result:
    description: M(routednet.fabric.subnet_plan)'s result (the plan and every node's checked settings).
    type: dict
    required: true
  facts:
    description: Node to M(routednet.fabric.node_facts)' result, in the play's order.
    type: dict
    required: true
  backend:
    description: The backend being provisioned.
    type: str
    required: true
  hybrid_encap:
    description: hybrid only. The tunnel for pairs of nodes that do not share an L2 segment.
    type: str
  lock:
    description: The hosts were read while taking their locks (node_facts' C(lock) in O(facts)).
    type: bool
    default: false
  leases:
    description: M(routednet.fabric.subnet_plan)'s options for writing the lease file; omitted, no lease is written.
    type: dict
extends_documentation_fragment:
  - routednet.fabric.controller
author:
  - routednet maintainers (@routednet)
"""

EXAMPLES = r"""
- name: Check every node and pair, then record new leases
  routednet.fabric.cluster_check:
    plan_result: "{{ routednet_plan_result }}"
    facts: "{{ dict(ansible_play_hosts | zip(ansible_play_hosts | map('extract', hostvars, 'routednet_node'))) }}"
    backend: vxlan
    leases:
      cluster_cidr: 10.244.0.0/16
      lease_file: "{{ inventory_dir }}/.routednet-leases.yml"
  run_once: true
"""

RETURN = r"""
contended:
  description: With O(lock), another run held some of the hosts, and nothing was checked.
  returned: always
  type: bool
held:
  description: With RV(contended), the hosts another run held.
  returned: when contended
  type: list
  elements: str
pod_mtus:
  description: Node to the MTU its bridge and pods get.
  returned: unless contended
  type: dict
  sample: {"node1": 1450, "node2": 1450}
adjacency:
  description: The pair table - per pair of nodes, whether they share an L2 segment, checked from both ends.
  returned: unless contended
  type: dict
"""
