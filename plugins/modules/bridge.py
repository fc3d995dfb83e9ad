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

from ansible_collections.routednet.fabric.plugins.module_utils import links, netlink


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            addresses=dict(type="list", elements="str"),
            mtu=dict(type="int"),
            adopt=dict(type="bool", default=False),
            netns=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    netlink.require_pyroute2(module)
    p = module.params
    name, place = p["name"], netlink.where(p["netns"])
    try:
        addresses = None if p["addresses"] is None else links.normalize_interfaces(p["addresses"])
    except ValueError as exc:
        module.fail_json(msg="bridge %s: addresses: %s" % (name, exc))

    netlink.predict_link_in_pending_netns(module, "bridge %s" % name, p["state"], p["netns"])
    with netlink.open_rtnl(module, p["netns"]) as ipr:
        msg = links.find_link(ipr, name)
        if msg is not None and links.link_kind(msg) != "bridge":
            module.fail_json(msg="bridge %s (%s): a link of that name exists but is a %s, not a bridge" % (name, place, links.link_kind(msg)))
        before = links.link_view(ipr, msg)
        if p["state"] == "absent":
            if msg is None:
                module.exit_json(changed=False, changes=[])
            if not links.is_owned(msg):
                module.fail_json(
                    msg="bridge %s (%s) was not created by routednet.fabric (no link alias %s); refusing to delete it" % (name, place, netlink.OWNER_ALIAS)
                )
            changes = ["delete bridge %s" % name]
            if not module.check_mode:
                try:
                    ipr.link("del", index=msg["index"])
                except netlink.NetlinkError as exc:
                    netlink.kernel_error(module, "delete bridge %s (%s)" % (name, place), exc)
            module.exit_json(changed=True, changes=changes, diff=dict(before=before, after={}))

        if msg is not None and not links.is_owned(msg) and not p["adopt"]:
            module.fail_json(
                msg="bridge %s (%s) exists but was not created by routednet.fabric; use another bridge name or set adopt=true to take it over" % (name, place)
            )
        changes = []
        if msg is None:
            changes.append("create bridge %s" % name)
            args, to_add, to_remove = {}, [], []
            changes += ["set %s up" % name] + ["add %s to %s" % (a, name) for a in addresses or []]
            if p["mtu"]:
                changes.append("set %s mtu %d" % (name, p["mtu"]))
        else:
            args, to_add, to_remove, more = links.plan_link(ipr, msg, mtu=p["mtu"], addresses=addresses)
            changes += more
        after = links.wanted_view(name, "bridge", p["mtu"], None, addresses, before or None)
        if changes and not module.check_mode:
            try:
                if msg is None:
                    ipr.link("add", ifname=name, kind="bridge")
                    msg = links.find_link(ipr, name)
                    args, to_add, to_remove, _texts = links.plan_link(ipr, msg, mtu=p["mtu"], addresses=addresses)
                links.apply_link(ipr, msg["index"], args, to_add, to_remove)
                after = links.link_view(ipr, links.find_link(ipr, name))
            except netlink.NetlinkError as exc:
                netlink.kernel_error(module, "bridge %s (%s)" % (name, place), exc, changes=changes)
        module.exit_json(changed=bool(changes), changes=changes, link=after if not module.check_mode else before, diff=dict(before=before, after=after))


if __name__ == "__main__":
    main()
