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
name:
  description: Name of the namespace.
  returned: always
  type: str
  sample: docker1
"""

import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.routednet.fabric.plugins.module_utils import netlink

# What ip-netns accepts as a name: no slash, not . or ..
NAME_RE = re.compile(r"^(?!\.{1,2}$)[^/\x00]{1,255}$")


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            state=dict(type="str", default="present", choices=["present", "absent"]),
        ),
        supports_check_mode=True,
    )
    netlink.require_pyroute2(module)
    name = module.params["name"]
    if not NAME_RE.match(name):
        module.fail_json(msg="netns: %r is not a valid namespace name" % name)
    present = name in netlink.list_netns()
    wanted = module.params["state"] == "present"
    changed = present != wanted
    if changed and not module.check_mode:
        try:
            if wanted:
                netlink.pyroute2_netns.create(name)
            else:
                netlink.pyroute2_netns.remove(name)
        except OSError as exc:
            module.fail_json(msg="netns %s: could not %s it: %s" % (name, "create" if wanted else "remove", exc))
    result = dict(changed=changed, name=name)
    if module._diff:
        result["diff"] = dict(before={"present": present}, after={"present": wanted}, before_header=name, after_header=name)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
