#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: routes
short_description: Declarative set of a host's routed-network routes, tagged as ours
version_added: 0.1.0
description:
  - One call carries the host's whole set of routes, for example every peer's pod subnet
    via that peer's underlay address (flannel's host-gw), or a pod's default route.
  - Every route it installs carries the collection's own route protocol number
    (O(protocol), 201 by default, shown by C(ip route) as C(proto 201)).
  - Missing routes are added and wrong ones replaced in place. With O(prune=true), routes
    carrying O(protocol) that are not in O(routes) are deleted.
  - A route of any other protocol is never changed or deleted. A desired route that would
    overwrite one (same table, destination and metric) makes the module fail, naming both.
options:
  routes:
    description: The wanted routes.
    type: list
    elements: dict
    default: []
    suboptions:
      dst:
        description: Destination in CIDR form, or C(default).
        type: str
        required: true
      via:
        description: Next hop (gateway) address.
        type: str
      dev:
        description: Outgoing interface. Omit to let the kernel pick it from O(routes[].via).
        type: str
      onlink:
        description: Treat the next hop as directly reachable on O(routes[].dev) even without a matching prefix.
        type: bool
        default: false
      metric:
        description: Route metric (priority).
        type: int
        default: 0
      table:
        description: Routing table number.
        type: int
        default: 254
  prune:
    description:
      - Delete routes carrying O(protocol) that O(routes) does not list, in the tables the
        module writes only - the main table and those O(routes[].table) names; a route of
        that protocol in any other table is left alone.
    type: bool
    default: true
  protocol:
    description: Route protocol number that marks the routes as the collection's.
    type: int
    default: 201
  state:
    description:
      - V(present) installs O(routes) (and prunes, see O(prune)).
      - V(absent) deletes the listed routes, or every route carrying O(protocol) when
        O(routes) is empty (in the main table). Only routes carrying O(protocol) are deleted. A route to delete
        is known by O(routes[].dst), O(routes[].table) and O(routes[].metric);
        O(routes[].via) and O(routes[].dev) may be left out.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - routednet.fabric.netlink
  - routednet.fabric.netlink.netns
author:
  - routednet maintainers (@routednet)
"""

EXAMPLES = r"""
- name: host-gw routes of node1 (seed 000)
  routednet.fabric.routes:
    routes:
      - dst: 172.18.0.0/24
        via: 192.168.245.172
        dev: eth0

- name: A pod's default route through the bridge
  routednet.fabric.routes:
    netns: docker1
    routes:
      - dst: default
        via: 172.17.0.1

- name: Remove every route the collection installed
  routednet.fabric.routes:
    state: absent
"""

RETURN = r"""
added:
  description: Routes added or replaced, as C(ip route) would print them.
  returned: always
  type: list
  elements: str
  sample: ["172.18.0.0/24 via 192.168.245.172 dev eth0 proto 201"]
removed:
  description: Routes deleted.
  returned: always
  type: list
  elements: str
  sample: ["172.19.0.0/24 via 192.168.245.173 dev eth0 proto 201"]
routes:
  description: The collection's routes in this namespace after the run (before it, in check mode).
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.routednet.fabric.plugins.module_utils import outcome
from ansible_collections.routednet.fabric.plugins.module_utils.converge import routes as converge


def main():
    module = AnsibleModule(**converge.MODULE_KWARGS)
    result = outcome.call(converge.run, outcome.Request.of(module))
    (module.fail_json if result.get("failed") else module.exit_json)(**result)


if __name__ == "__main__":
    main()
