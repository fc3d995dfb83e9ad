#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: subnet_plan
short_description: Compute the node-to-subnet map of the cluster on the controller
version_added: 0.1.0
description:
  - Runs on the controller (an action plugin) and touches no managed host.
  - Reads, for every host of O(nodes_group), C(routednet_underlay_ip) (default C(ansible_host)
    when it is an IPv4 address), C(routednet_pod_cidr) (an override) and C(routednet_pods).
  - Gives each node a pod subnet of O(subnet_prefix) inside O(cluster_cidr) - an override
    first, then the node's lease from O(lease_file), then the first free subnet (the
    cluster's first subnet is skipped, as flannel does). Leases make allocation stable;
    adding a node never renumbers another.
  - Fails, naming host and variable, on an invalid or misaligned CIDR, a subnet outside the
    cluster CIDR, overlapping subnets, a duplicate underlay address, an exhausted cluster
    CIDR, pod addresses outside their node subnet or used twice, a cluster CIDR in
    reserved space (multicast, link-local, loopback...), and every node's settings
    (cluster-wide ones set differently on some hosts, pod lists and names, link names,
    booleans, MTUs) as M(routednet.fabric.plan) documents them.
options:
  nodes_group:
    description: Inventory group whose hosts are the cluster's nodes.
    type: str
    default: routednet_nodes
  cluster_cidr:
    description:
      - The cluster's pod network, for example C(10.244.0.0/16).
      - A list with an IPv6 CIDR beside the IPv4 one (C([10.244.0.0/16, fd00:10:244::/56]))
        plans dual-stack - each node also gets an IPv6 subnet of O(subnet_prefix_v6), kept in
        the lease file's C(routednet_leases_v6). The IPv4 plan is the same with or without it.
      - An IPv6 CIDR alone (C(fd00:10:244::/56)) plans an IPv6-only cluster - IPv6 subnets
        and pod addresses only (the lease file's IPv4 leases are kept as they are).
    type: raw
    required: true
  subnet_prefix:
    description: Prefix length of each node's subnet.
    type: int
    default: 24
  subnet_prefix_v6:
    description: Prefix length of each node's IPv6 subnet (dual-stack or IPv6 only).
    type: int
    default: 64
  lease_file:
    description:
      - YAML file holding C(routednet_leases), node to subnet. Created when missing.
      - Keep it out of C(group_vars/) - a directory C(group_vars/all/) makes Ansible ignore
        C(group_vars/all.yml).
    type: path
  legacy_lease_file:
    description:
      - Where an older version kept the leases. While O(lease_file) does not exist, the
        leases are read from there; the next write moves them to O(lease_file) and removes
        the old file (only if the collection wrote it) and its directory if left empty.
    type: path
  write_leases:
    description: Write the lease file when it changes (never in check mode).
    type: bool
    default: true
  will_write:
    description:
      - The run will write the lease file later (with O(write_leases=false) now); refuse
        now, before any host changes, a O(lease_file) that cannot be written.
    type: bool
    default: false
  leaving:
    description:
      - Nodes being decommissioned. They are planned with the others (so that their own
        entries are known), then taken out of RV(plan) and RV(leases) and returned in
        RV(leaving); with O(write_leases) their leases are released.
    type: list
    elements: str
    default: []
  play_hosts:
    description:
      - The hosts of the play (C(ansible_play_hosts)). Each must be a node of the plan or
        leaving, else the plan is refused, naming it.
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - routednet.fabric.controller
author:
  - routednet maintainers (@routednet)
"""

EXAMPLES = r"""
- name: Plan the cluster once
  routednet.fabric.subnet_plan:
    cluster_cidr: 10.244.0.0/16
    lease_file: "{{ inventory_dir }}/.routednet-leases.yml"
  run_once: true
  register: plan

- name: Plan the cluster without node3, releasing its lease
  routednet.fabric.subnet_plan:
    cluster_cidr: 10.244.0.0/16
    lease_file: "{{ inventory_dir }}/.routednet-leases.yml"
    leaving: [node3]
  run_once: true
  register: plan
"""

RETURN = r"""
settings:
  description:
    - Per node, the settings checked as that node sees them (the inventory's value, else the
      role default), for the preflight's checks of what already exists on each node.
  returned: success
  type: dict
  sample: {"node1": {"routednet_bridge_name": "cni0", "routednet_backend": "vxlan", "routednet_vxlan_port": 8472}}
plan:
  description: The cluster map.
  returned: success
  type: dict
  sample:
    cluster_cidr: 10.244.0.0/16
    subnet_prefix: 24
    nodes:
      node1:
        underlay_ip: 192.168.245.168
        pod_cidr: 10.244.1.0/24
        gateway: 10.244.1.1/24
        pods: [{name: docker1, address: 10.244.1.2/24, host_ifname: vethbf4339a9, pod_ifname: eth0}]
leases:
  description: Node to subnet, as written to the lease file.
  returned: success
  type: dict
leaving:
  description: Plan entries of the nodes named in O(leaving), by node.
  returned: success
  type: dict
  sample:
    node3:
      underlay_ip: 192.168.245.173
      pod_cidr: 10.244.3.0/24
      gateway: 10.244.3.1/24
      pods: []
errors:
  description: One line per problem found in the inventory.
  returned: failure
  type: list
  elements: str
"""
