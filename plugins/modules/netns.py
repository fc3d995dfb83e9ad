#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: netns
short_description: Create or remove a named network namespace
version_added: 0.1.0
description:
  - Ensures a named network namespace (the kind C(ip netns add) makes) exists or not.
  - Existence is an exact name match, never a substring match.
  - The namespaces it creates are marked as the collection's - the loopback inside carries
    the link alias C(routednet.fabric) - and only those are changed or removed. A namespace
    of that name that exists without the mark is refused, never adopted (it may hold an
    operator's links and routes); one made before the mark existed (holding nothing but
    loopback and the collection's veth ends) is marked.
  - Removing a namespace also destroys the links inside it (for a pod, its end of the veth pair).
options:
  name:
    description: Name of the namespace.
    type: str
    required: true
  state:
    description: Whether the namespace should exist.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - routednet.fabric.netlink
author:
  - routednet maintainers (@routednet)
"""

EXAMPLES = r"""
- name: A pod's network namespace
  routednet.fabric.netns:
    name: docker1

- name: Remove it
  routednet.fabric.netns:
    name: docker1
    state: absent
"""

RETURN = r"""
changes:
  description: What was (or, in check mode, would be) done.
  returned: always
  type: list
  elements: str
  sample: ["create netns docker1"]
name:
  description: Name of the namespace.
  returned: always
  type: str
  sample: docker1
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.routednet.fabric.plugins.module_utils import outcome
from ansible_collections.routednet.fabric.plugins.module_utils.converge import netns as converge


def main():
    module = AnsibleModule(**converge.MODULE_KWARGS)
    result = outcome.call(converge.run, outcome.Request.of(module))
    (module.fail_json if result.get("failed") else module.exit_json)(**result)


if __name__ == "__main__":
    main()
