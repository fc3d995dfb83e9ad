#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ip_forwarding
short_description: IPv4 forwarding, now and across reboots
version_added: 0.1.0
description:
  - Turns on C(net.ipv4.ip_forward) in the running kernel (of the network namespace the
    module runs in) and writes a sysctl.d file so that it stays on after a reboot.
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
    type: path
    default: /etc/sysctl.d/90-routednet.conf
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

import os

from ansible.module_utils.basic import AnsibleModule

FORWARD_PATH = "/proc/sys/net/ipv4/ip_forward"
PERSIST_TEXT = "# Managed by routednet.fabric: pods are routed through this host.\nnet.ipv4.ip_forward = 1\n"


def read(path):
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type="str", default="present", choices=["present", "absent"]),
            persist_file=dict(type="path", default="/etc/sysctl.d/90-routednet.conf"),
        ),
        supports_check_mode=True,
    )
    present = module.params["state"] == "present"
    path = module.params["persist_file"]
    runtime = (read(FORWARD_PATH) or "").strip() == "1"
    file_text = read(path) if path else None
    changes = []
    if present and not runtime:
        changes.append("set net.ipv4.ip_forward = 1")
    if path and present and file_text != PERSIST_TEXT:
        changes.append("write %s" % path)
    if path and not present and file_text is not None:
        changes.append("remove %s" % path)
    if changes and not module.check_mode:
        try:
            if present and not runtime:
                with open(FORWARD_PATH, "w") as handle:
                    handle.write("1\n")
            if path and present and file_text != PERSIST_TEXT:
                directory = os.path.dirname(path)
                if not os.path.isdir(directory):
                    os.makedirs(directory)
                tmp = path + ".routednet-tmp"
                with open(tmp, "w") as handle:
                    handle.write(PERSIST_TEXT)
                os.rename(tmp, path)
            if path and not present and file_text is not None:
                os.remove(path)
        except (IOError, OSError) as exc:
            module.fail_json(msg="ip_forwarding: %s failed: %s" % (", ".join(changes), exc))
    after_runtime = runtime or present
    module.exit_json(
        changed=bool(changes),
        changes=changes,
        ip_forward=after_runtime if not module.check_mode else runtime,
        diff=dict(
            before={"net.ipv4.ip_forward": int(runtime), path or "persist_file": file_text},
            after={"net.ipv4.ip_forward": int(after_runtime), path or "persist_file": PERSIST_TEXT if present else None},
        ),
    )


if __name__ == "__main__":
    main()
