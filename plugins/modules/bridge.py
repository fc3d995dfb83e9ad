#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: bridge
short_description: Linux bridge with the node subnet's gateway address
version_added: 0.1.0
description:
  - Ensures a Linux bridge (C(cni0), C(br0) in the seeds) exists, is up, has the given MTU
    and exactly the given IPv4 addresses.
  - Bridges the collection creates are tagged with the link alias C(routednet.fabric).
    An existing bridge without that tag is left alone and reported, unless O(adopt=true).
  - O(state=absent) removes only a bridge carrying the tag.
options:
  name:
    description: Name of the bridge (at most 15 characters).
    type: str
    required: true
  state:
    description: Whether the bridge should exist.
    type: str
    choices: [present, absent]
    default: present
  addresses:
    description:
      - IPv4 addresses in CIDR form, for example the gateway C(10.244.1.1/24).
      - The bridge ends up with exactly these IPv4 addresses; others on it are removed.
      - Omit to leave addresses alone.
    type: list
    elements: str
  mtu:
    description: MTU of the bridge. Omit to leave it alone.
    type: int
  mac:
    description:
      - MAC address of the bridge. Omit to leave it alone.
      - Set, it stays the bridge's whatever ports join; without it Linux gives a bridge
        the lowest MAC of its ports, so the gateway's MAC changes whenever a container
        with a lower one joins, and every pod's neighbour entry for it goes stale.
    type: str
  adopt:
    description:
      - Take over a bridge of this name that the collection did not create (tag it as ours).
      - Without it such a bridge makes the module fail rather than change an operator's link.
    type: bool
    default: false
extends_documentation_fragment:
  - routednet.fabric.netlink
  - routednet.fabric.netlink.netns
author:
  - routednet maintainers (@routednet)
"""

EXAMPLES = r"""
- name: The pod bridge with the node's gateway address
  routednet.fabric.bridge:
    name: cni0
    addresses:
      - 10.244.1.1/24
    mtu: 1500

- name: Remove it
  routednet.fabric.bridge:
    name: cni0
    state: absent
"""

RETURN = r"""
changes:
  description: What was (or in check mode would be) done, one line per change.
  returned: always
  type: list
  elements: str
  sample: ["create bridge cni0", "add 10.244.1.1/24 to cni0"]
link:
  description: The bridge as it is after the run (before it, in check mode).
  returned: when state is present
  type: dict
  sample: {"name": "cni0", "kind": "bridge", "mtu": 1500, "up": true, "addresses": ["10.244.1.1/24"]}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.routednet.fabric.plugins.module_utils import outcome
from ansible_collections.routednet.fabric.plugins.module_utils.converge import bridge as converge


def main():
    module = AnsibleModule(**converge.MODULE_KWARGS)
    result = outcome.call(converge.run, outcome.Request.of(module))
    (module.fail_json if result.get("failed") else module.exit_json)(**result)


if __name__ == "__main__":
    main()
