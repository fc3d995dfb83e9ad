# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Converge IPv4 forwarding and its sysctl.d file.

What the ip_forwarding module does, as a function of a Request (outcome.py) that returns the
module's result or raises Failure, so that node_state and the boot-time restore run the
very same code without Ansible.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.routednet.fabric.plugins.module_utils.host.files import read_text as read, write_atomically
from ansible_collections.routednet.fabric.plugins.module_utils.outcome import Failure


FORWARD_PATH = "/proc/sys/net/ipv4/ip_forward"
PERSIST_TEXT = "# Managed by routednet.fabric: pods are routed through this host.\nnet.ipv4.ip_forward = 1\n"
# The file is the collection's only if it starts with this line (every version wrote it).
MARK = PERSIST_TEXT.splitlines()[0]


def is_ours(text):
    return text.startswith(MARK)


# What the module accepts; the boot-time restore validates its state file against it too.
MODULE_KWARGS = dict(
    argument_spec=dict(
        state=dict(type="str", default="present", choices=["present", "absent"]),
        persist_file=dict(type="path", default="/etc/sysctl.d/90-routednet.conf"),
    ),
    supports_check_mode=True,
)


def run(request):
    present = request.params["state"] == "present"
    path = request.params["persist_file"]
    runtime = (read(FORWARD_PATH) or "").strip() == "1"
    file_text = read(path) if path else None
    if file_text is not None and not is_ours(file_text):
        raise Failure(
            "ip_forwarding: %s exists and was not written by routednet.fabric (it does not start with %r); refusing to %s it: "
            "set routednet_sysctl_file to a path of its own" % (path, MARK, "overwrite" if present else "remove")
        )
    changes = []
    if present and not runtime:
        changes.append("set net.ipv4.ip_forward = 1")
    if path and present and file_text != PERSIST_TEXT:
        changes.append("write %s" % path)
    if path and not present and file_text is not None:
        changes.append("remove %s" % path)
    if changes and not request.check_mode:
        try:
            if present and not runtime:
                with open(FORWARD_PATH, "w") as handle:
                    handle.write("1\n")
            if path and present and file_text != PERSIST_TEXT:
                write_atomically(path, PERSIST_TEXT)
            if path and not present and file_text is not None:
                os.remove(path)
        except (IOError, OSError) as exc:
            raise Failure("ip_forwarding: %s failed: %s" % (", ".join(changes), exc)) from exc
    after_runtime = runtime or present
    return dict(
        changed=bool(changes),
        changes=changes,
        ip_forward=after_runtime if not request.check_mode else runtime,
        diff=dict(
            before={"net.ipv4.ip_forward": int(runtime), path or "persist_file": file_text},
            after={"net.ipv4.ip_forward": int(after_runtime), path or "persist_file": PERSIST_TEXT if present else None},
        ),
    )
