#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ip_forwarding
short_description: IPv4 and IPv6 forwarding, now and across reboots
version_added: 0.1.0
description:
  - Turns on C(net.ipv4.ip_forward) in the running kernel (of the network namespace the
    module runs in) and writes a sysctl.d file so that it stays on after a reboot (unless
    O(ipv4=false)).
  - With O(ipv6=true) IPv6 forwarding (C(net.ipv6.conf.all.forwarding)) too. Before
    turning it on, each interface whose IPv6 routes the host learns from router
    advertisements, and that takes them only while the host does not forward
    (C(accept_ra) 1), gets C(accept_ra) 2, so that the host keeps its own IPv6 default
    route and addresses. No other interface is touched (a pod's veth does not start
    trusting advertisements). The file keeps both at boot.
  - With O(state=absent) only the collection's sysctl.d file is removed; forwarding is left
    on in the running kernel, because other software on the host may rely on it.
options:
  state:
    description: Whether the collection wants forwarding on.
    type: str
    choices: [present, absent]
    default: present
  persist_file:
    description:
      - The sysctl.d file that keeps forwarding on at boot. Empty to skip persistence.
      - Only a file the collection wrote (it starts with C(# Managed by routednet.fabric)) is
        ever rewritten or removed; any other file at that path is refused.
    type: path
    default: /etc/sysctl.d/90-routednet.conf
  ipv6:
    description: Turn on IPv6 forwarding too (the node has IPv6 pods).
    type: bool
    default: false
    version_added: 0.5.0
  ipv4:
    description:
      - Turn on IPv4 forwarding (the node has IPv4 pods). V(false) for a node of an IPv6-only
        cluster - IPv4 forwarding is then left as it was found (never turned off, other
        software may rely on it) and the file does not keep it on.
    type: bool
    default: true
    version_added: 0.5.0
attributes:
  check_mode:
    support: full
    description: Reports what would change and changes nothing.
  diff_mode:
    support: full
    description: Shows the forwarding value and the file before and after.
  platform:
    support: full
    platforms: linux
    description: Linux hosts.
author:
  - routednet maintainers (@routednet)
"""

EXAMPLES = r"""
- name: Forward IPv4 between pods and the underlay
  routednet.fabric.ip_forwarding:
"""

RETURN = r"""
ip_forward:
  description: Whether forwarding is on after the run (before it, in check mode).
  returned: always
  type: bool
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.routednet.fabric.plugins.module_utils import outcome
from ansible_collections.routednet.fabric.plugins.module_utils.converge import ip_forwarding as converge


def main():
    module = AnsibleModule(**converge.MODULE_KWARGS)
    result = outcome.call(converge.run, outcome.Request.of(module))
    (module.fail_json if result.get("failed") else module.exit_json)(**result)


if __name__ == "__main__":
    main()
