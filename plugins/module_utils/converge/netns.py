# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Converge one named network namespace.

What the netns module does, as a function of an object with the AnsibleModule
interface the collection uses (params, check_mode, _diff, fail_json, exit_json),
so that the boot-time restore runs the very same code without Ansible.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re


from ansible_collections.routednet.fabric.plugins.module_utils import netlink

# What ip-netns accepts as a name: no slash, not . or ..
NAME_RE = re.compile(r"^(?!\.{1,2}$)[^/\x00]{1,255}$")


# What the module accepts; the boot-time restore validates its state file against it too.
MODULE_KWARGS = dict(
    argument_spec=dict(
        name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
    ),
    supports_check_mode=True,
)


def run(module):
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
    result = dict(changed=changed, name=name, changes=["%s netns %s" % ("create" if wanted else "delete", name)] if changed else [])
    if module._diff:
        result["diff"] = dict(before={"present": present}, after={"present": wanted}, before_header=name, after_header=name)
    module.exit_json(**result)
