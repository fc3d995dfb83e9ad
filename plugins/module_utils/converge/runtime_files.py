# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Converge the files container runtimes read (a CNI network list, flannel's subnet.env).

What the runtime_files module does, as a function of a Request (outcome.py) that returns
the module's result or raises Failure, so that node_state and the boot-time restore run
the very same code without Ansible. The contents are computed on the controller
(plan/runtime_files.py); here they are only written, each atomically (a reader sees the
old file or the new one, never half of one), and removed.

A file is the collection's only if it carries MARK: one without it is never overwritten
or removed, whoever wrote it (flanneld's own subnet.env, another network's conflist).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.routednet.fabric.plugins.module_utils.host.files import read_text as read, write_atomically
from ansible_collections.routednet.fabric.plugins.module_utils.outcome import Failure

MARK = "Managed by routednet.fabric"

# What the module accepts; the boot-time restore validates its state file against it too.
MODULE_KWARGS = dict(
    argument_spec=dict(
        files=dict(
            type="list",
            elements="dict",
            default=[],
            options=dict(
                path=dict(type="path", required=True),
                text=dict(type="str", required=True),
            ),
        ),
        absent=dict(type="list", elements="path", default=[]),
    ),
    supports_check_mode=True,
)


def owner(path):
    """None when ``path`` does not exist, else "ours" (it carries MARK) or "theirs"."""
    if not os.path.lexists(path):
        return None
    try:
        text = read(path)
    except ValueError:  # not text: not a file the collection wrote
        return "theirs"
    return "ours" if text is not None and MARK in text and not os.path.islink(path) else "theirs"


def run(request):
    files, absent = request.params["files"], request.params["absent"]
    wanted_paths = set(entry["path"] for entry in files)
    for entry in files:
        if MARK not in entry["text"]:
            raise Failure("runtime_files: the text for %s does not carry %r, so no later run could tell it is the collection's" % (entry["path"], MARK))
        if owner(entry["path"]) == "theirs":
            raise Failure(
                "runtime_files: %s exists and was not written by routednet.fabric (it does not carry %r); refusing to overwrite it: "
                "move it away, or give the collection's file another path" % (entry["path"], MARK)
            )
    changes, before, after = [], {}, {}
    writes = []
    for entry in files:
        current = read(entry["path"])
        before[entry["path"]], after[entry["path"]] = current, entry["text"]
        if current != entry["text"]:
            writes.append(entry)
            changes.append("write %s" % entry["path"])
    # (a path the collection used before and no longer does: only its own file goes)
    removals = [path for path in absent if path not in wanted_paths and owner(path) == "ours"]
    for path in removals:
        before[path], after[path] = read(path), None
        changes.append("remove %s" % path)
    if changes and not request.check_mode:
        try:
            for entry in writes:
                write_atomically(entry["path"], entry["text"])
            for path in removals:
                os.remove(path)
        except (IOError, OSError) as exc:
            raise Failure("runtime_files: %s failed: %s" % (", ".join(changes), exc)) from exc
    return dict(changed=bool(changes), changes=changes, diff=dict(before=before, after=after))
