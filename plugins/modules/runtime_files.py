#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: runtime_files
short_description: Write the files container runtimes read - a CNI network list, flannel's subnet.env
version_added: 0.5.0
description:
  - Writes each file of O(files) with the text given, atomically (a runtime reading it sees
    the old file or the new one, never part of one), and removes the collection's own files
    at the paths of O(absent).
  - The collection computes the texts from its plan (the C(node_document) filter) - a CNI
    network list on the node's bridge with host-local addresses from the node's runtime
    range, and flannel's C(subnet.env). M(routednet.fabric.node_state) runs this as one of
    its steps, and the boot restore runs it again at boot (C(/run) is empty then).
  - Only a file that carries the mark C(Managed by routednet.fabric) is ever rewritten or
    removed. Any other file at a path of O(files) is refused, nothing is changed; one at a
    path of O(absent) is left alone.
  - Never touches what a runtime keeps itself (host-local's leases, its containers).
options:
  files:
    description: The files to hold, each with its whole text (which must carry the mark).
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path; its directory is made (mode 0755) where missing.
        type: path
        required: true
      text:
        description: The file's whole text (written with mode 0644).
        type: str
        required: true
  absent:
    description: Paths of the collection's files to remove (a path in O(files) too is kept).
    type: list
    elements: path
    default: []
attributes:
  check_mode:
    support: full
    description: Reports what would change and changes nothing.
  diff_mode:
    support: full
    description: Shows each file before and after.
  platform:
    support: full
    platforms: linux
    description: Linux hosts.
author:
  - routednet maintainers (@routednet)
"""

EXAMPLES = r"""
- name: Hand flannel's CNI plugin this node's subnet
  routednet.fabric.runtime_files:
    files:
      - path: /run/flannel/subnet.env
        text: |
          # Managed by routednet.fabric
          FLANNEL_NETWORK=10.244.0.0/16
          FLANNEL_SUBNET=10.244.1.1/24
          FLANNEL_MTU=1500
          FLANNEL_IPMASQ=true
"""

RETURN = r"""
changes:
  description: What changed (or would change).
  returned: always
  type: list
  elements: str
  sample: ["write /run/flannel/subnet.env"]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.routednet.fabric.plugins.module_utils import outcome
from ansible_collections.routednet.fabric.plugins.module_utils.converge import runtime_files as converge


def main():
    module = AnsibleModule(**converge.MODULE_KWARGS)
    result = outcome.call(converge.run, outcome.Request.of(module))
    (module.fail_json if result.get("failed") else module.exit_json)(**result)


if __name__ == "__main__":
    main()
