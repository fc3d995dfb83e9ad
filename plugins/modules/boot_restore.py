#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: boot_restore
short_description: Save a node's desired network state and restore it at boot without Ansible
version_added: 0.2.0
description:
  - Writes the node's whole desired state (an ordered list of the collection's module calls)
    to a JSON state file, installs a restore program and a systemd oneshot unit, and enables
    the unit for C(multi-user.target), so that a node that reboots gets its forwarding,
    bridge, pods, tunnel device, routes, neighbour and FDB entries and firewall table back
    before any Ansible run.
  - The restore program is a copy of the collection's own module_utils, the same code the
    modules ran, plus a short launcher; it runs each saved step through that code.
  - Each step's parameters are validated against the named module's own argument spec
    before anything is written; defaults are filled in, so the file says exactly what is applied.
  - Run C(<lib_dir>/routednet-restore --check <state_file>) on the node to see what differs
    from the saved state without changing anything.
  - When systemd runs the host (C(/run/systemd/system) exists), C(systemctl daemon-reload)
    follows a change of the unit; without it the unit is still enabled for the next boot.
options:
  steps:
    description:
      - The node's desired state, in the order it is applied at boot.
      - With O(state=present), O(steps) or O(forget) is required.
    type: list
    elements: dict
    suboptions:
      module:
        description:
          - Short name of the collection module the step runs.
          - C(hostgw_route) is the route module's name before it was called C(routes); it
            runs C(routes).
        type: str
        required: true
        choices: [bridge, firewall, hostgw_route, ip_forwarding, netns, routes, runtime_files, tunnel, veth, vxlan_fdb]
      params:
        description: The module's parameters.
        type: dict
        default: {}
  forget:
    description:
      - Instead of O(steps), drop what is saved for nodes that leave the cluster (decommission),
        so that a reboot does not bring their routes and entries back. Only the state file changes;
        nothing happens when there is none.
    type: dict
    suboptions:
      routes:
        description: Routes to drop from the saved host routes, matched by destination.
        type: list
        elements: dict
        default: []
      vxlan_entries:
        description: Peers to drop from the saved VTEP entries, matched by VTEP address.
        type: list
        elements: dict
        default: []
      underlay_ips:
        description: Underlay addresses to drop from the saved firewall's node set.
        type: list
        elements: str
        default: []
  state:
    description: C(absent) removes the state file, the restore program and the unit.
    type: str
    choices: [present, absent]
    default: present
  private_pyroute2:
    description:
      - With O(state=absent), also remove the collection's private pyroute2 from
        C(/usr/local/lib/routednet-pyroute2) (only if the collection's mark is in it). The
        decommission's last step; a run with C(routednet_boot_restore=false) keeps it.
    type: bool
    default: false
extends_documentation_fragment:
  - routednet.fabric.netlink.boot_files
requirements:
  - pyroute2 >= 0.7.2 on the managed host (to run the restore), or the collection's private copy
attributes:
  check_mode:
    support: full
    description: Reports which files would change and writes none.
  diff_mode:
    support: full
    description: Shows the state file before and after.
  platform:
    support: full
    platforms: linux
    description: Linux hosts; systemd to run the unit at boot.
author:
  - routednet maintainers (@routednet)
"""

EXAMPLES = r"""
- name: Save the node's state and restore it at boot
  routednet.fabric.boot_restore:
    node: "{{ inventory_hostname }}"
    steps:
      - module: ip_forwarding
      - module: bridge
        params:
          name: cni0
          addresses: [172.17.0.1/24]
          mtu: 1500
      - module: routes
        params:
          routes:
            - dst: 172.18.0.0/24
              via: 192.168.245.172
              dev: eth0

- name: A node left the cluster; a reboot must not bring back its route
  routednet.fabric.boot_restore:
    forget:
      routes:
        - dst: 172.19.0.0/24

- name: Forget it all (decommissioning the node)
  routednet.fabric.boot_restore:
    state: absent
"""

RETURN = r"""
changes:
  description: The files written, linked or removed (or that would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: ["write /etc/routednet/boot-state.json"]
state_file:
  description: Path of the state file.
  returned: always
  type: str
  sample: /etc/routednet/boot-state.json
restore_command:
  description: What the unit runs at boot; add C(--check) before the state file to only compare.
  returned: when state is present
  type: str
  sample: /usr/bin/python3 /usr/local/lib/routednet/routednet-restore /etc/routednet/boot-state.json
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.routednet.fabric.plugins.module_utils.state import boot_files, state_steps
from ansible_collections.routednet.fabric.plugins.module_utils.outcome import Failure


def present(module, p):
    steps, errors = state_steps.validated(p["steps"] or [])
    if errors:
        module.fail_json(msg="boot_restore: invalid steps: " + " | ".join(errors))
    module.exit_json(**boot_files.save(module, p, steps))


def forget(module, p):
    """Drop the leaving nodes' routes, tunnel entries and firewall addresses from the saved state."""
    given = p["forget"]
    departure = {
        "routes": given["routes"] or [],
        "entries": [{"peers": given["vxlan_entries"] or []}],
        "firewall": {"drop_nodes": given["underlay_ips"] or []},
    }
    module.exit_json(**boot_files.forget(module, p, departure))


def run(module):
    """The module's work; Failure from the shared host code becomes its failure (main)."""
    p = module.params
    if p["state"] == "present" and p["forget"] is not None:
        forget(module, p)
    if p["state"] == "present":
        present(module, p)
    module.exit_json(**boot_files.remove(module, p, p["private_pyroute2"]))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            steps=dict(
                type="list",
                elements="dict",
                options=state_steps.STEP_OPTIONS,
            ),
            forget=dict(
                type="dict",
                options=dict(
                    routes=dict(type="list", elements="dict", default=[]),
                    vxlan_entries=dict(type="list", elements="dict", default=[]),
                    underlay_ips=dict(type="list", elements="str", default=[]),
                ),
            ),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            private_pyroute2=dict(type="bool", default=False),
            **boot_files.OPTIONS,
        ),
        required_if=[("state", "present", ["steps", "forget"], True)],
        mutually_exclusive=[("steps", "forget")],
        supports_check_mode=True,
    )
    try:
        run(module)
    except Failure as failure:
        module.fail_json(**failure.result())


if __name__ == "__main__":
    main()
