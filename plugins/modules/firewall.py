#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: firewall
short_description: The collection's nftables table - overlay traffic only from the cluster's nodes
version_added: 0.2.0
description:
  - Keeps one nftables table of the collection's own (family C(inet), default name
    C(routednet)) and nothing else; every other table and chain is left alone.
  - C(input) chain - VXLAN on O(vxlan_port) and IPIP (IP protocol 4, with O(ipip=true))
    are accepted only as a peer sends them - in on O(underlay_dev), from an underlay
    address in O(nodes), to this node's address O(local) - and dropped otherwise, so
    nobody outside the cluster can inject frames into the pods' network, neither a host
    elsewhere nor a pod on this node that forges a node's source address.
  - The table is the collection's only if every rule in it carries the comment
    C(routednet.fabric); an existing table of that name that is not (an operator's
    C(inet filter), say) is refused, never replaced or deleted. A table an older version
    wrote (before the comment) is recognised by its shape and replaced.
  - C(forward) chain - pod-to-pod traffic inside O(cluster_cidr) is accepted.
  - C(postrouting) chain (with O(masquerade=true)) - pod traffic leaving O(cluster_cidr) is
    masqueraded to the node's address (flannel's C(--ip-masq)), and IPv6 pod traffic
    leaving O(cluster_cidr_v6) to its IPv6 address.
  - The table is replaced in one transaction when it differs from the wanted one (drift
    included); O(state=absent) deletes it.
  - An accept in this table cannot override a drop in another table (nftables evaluates
    every base chain); where another table drops forwarded traffic (for example Docker's
    FORWARD policy), the operator allows the cluster CIDR there.
options:
  state:
    description: Whether the table should exist.
    type: str
    choices: [present, absent]
    default: present
  table:
    description: Name of the collection's table (family C(inet)).
    type: str
    default: routednet
  nodes:
    description: Underlay IPv4 address of every node of the cluster. Required with O(state=present).
    type: list
    elements: str
    default: []
  drop_nodes:
    description:
      - Instead of O(nodes) and the rest, only take these underlay addresses out of the node
        set of the existing table (nodes that left the cluster); nothing else changes, and
        nothing happens without a table.
    type: list
    elements: str
  cluster_cidr:
    description:
      - The (IPv4) cluster CIDR all IPv4 pod subnets come from. Required with O(state=present),
        unless O(cluster_cidr_v6) is set alone (an IPv6-only cluster).
    type: str
  cluster_cidr_v6:
    description: The IPv6 cluster CIDR of a cluster with IPv6 pods; pod-to-pod traffic inside it is accepted too.
    type: str
    version_added: 0.5.0
  nodes_v6:
    description:
      - The IPv6 underlay address of every node, where the tunnel runs over the IPv6 underlay
        (VXLAN with C(routednet_vxlan_underlay=ipv6)); its packets are accepted from these
        to O(local_v6) only.
    type: list
    elements: str
    version_added: 0.5.0
  local_v6:
    description: This node's IPv6 underlay address, with O(nodes_v6).
    type: str
    version_added: 0.5.0
  vxlan_port:
    description: UDP port of the VXLAN traffic to protect; omit it, or 0, when no VXLAN device is used.
    type: int
  ipip:
    description: Protect IPIP (IP protocol 4) too.
    type: bool
    default: false
  masquerade:
    description: Masquerade pod traffic that leaves the cluster CIDR (each of O(cluster_cidr) and O(cluster_cidr_v6) that is set).
    type: bool
    default: false
  underlay_dev:
    description: This node's underlay interface, the only one overlay packets may come in on. Required with O(vxlan_port) or O(ipip).
    type: str
  local:
    description: This node's underlay address, the only one overlay packets may be sent to. Required with O(vxlan_port) or O(ipip).
    type: str
requirements:
  - libnftables (the distribution's nftables package) and a kernel with nf_tables on the managed host
attributes:
  check_mode:
    support: full
    description: Reports whether the table would be created, replaced or deleted, and changes nothing.
  diff_mode:
    support: full
    description: Shows the table's objects before and after, one per line.
  platform:
    support: full
    platforms: linux
    description: Linux hosts with nf_tables.
notes:
  - Talks to the kernel through libnftables in JSON; no C(nft) command is run.
author:
  - routednet maintainers (@routednet)
"""

EXAMPLES = r"""
- name: VXLAN only from the three nodes, pods forwarded, pod traffic to the outside masqueraded
  routednet.fabric.firewall:
    nodes: [192.168.32.245, 192.168.32.246, 192.168.32.247]
    cluster_cidr: 172.16.0.0/12
    vxlan_port: 8472
    underlay_dev: eth0
    local: 192.168.32.246
    masquerade: true

- name: A node left the cluster
  routednet.fabric.firewall:
    drop_nodes: [192.168.32.247]

- name: Remove the collection's table
  routednet.fabric.firewall:
    state: absent
"""

RETURN = r"""
changes:
  description: What was (or, in check mode, would be) done to the table.
  returned: always
  type: list
  elements: str
  sample: ["create table inet routednet"]
table:
  description: Name of the table.
  returned: always
  type: str
  sample: routednet
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.routednet.fabric.plugins.module_utils import outcome
from ansible_collections.routednet.fabric.plugins.module_utils.converge import firewall as converge


def main():
    module = AnsibleModule(**converge.MODULE_KWARGS)
    result = outcome.call(converge.run, outcome.Request.of(module))
    (module.fail_json if result.get("failed") else module.exit_json)(**result)


if __name__ == "__main__":
    main()
