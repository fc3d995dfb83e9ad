# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's private copy of pyroute2, on the controller's side.

A host whose Python has no pyroute2 that works (none, or older than the modules
support) gets the controller's own: pyroute2 is pure Python, so one zip of its
package serves every host Python it supports. The module installs it (netlink.py,
install_private); the action plugins of node_facts and node_state send it only when
the module says it needs it, so a host that has it costs nothing more.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.util
import io
import json
import os
import tempfile
import zipfile

from ansible import constants as C
from ansible.errors import AnsibleError

from ansible_collections.routednet.fabric.plugins.module_utils.host import netlink


def controller_pyroute2():
    """(version, package directory, distribution-info directory or None) of the controller's pyroute2.

    Found, not imported: every worker that runs node_facts or node_state asks, and
    importing pyroute2 costs the controller half a second or more each time. The version
    is the one its distribution info names (pip's dist-info); only a pyroute2 without
    one is imported to learn it."""
    try:
        spec = importlib.util.find_spec("pyroute2")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        return None, None, None  # (a controller without it still plans and previews)
    package = os.path.abspath(list(spec.submodule_search_locations)[0])
    parent = os.path.dirname(package)
    info = [name for name in netlink.metadata_dirs(package) if name.endswith(".dist-info")]
    if len(info) == 1:
        return netlink.metadata_version(info[0]), package, os.path.join(parent, info[0])
    import pyroute2  # noqa: PLC0415  (no single dist-info to read the version from)

    return netlink.installed_version(pyroute2), package, os.path.join(parent, info[-1]) if info else None


def archive_file():
    """archive_bytes() in a file of this run's local temporary directory, shared by its
    workers: built once per run, however many hosts need it."""
    version = controller_pyroute2()[0]
    path = os.path.join(C.DEFAULT_LOCAL_TMP, "routednet-pyroute2-%s.zip" % version)
    if not os.path.exists(path):
        version, data = archive_bytes()
        handle, fresh = tempfile.mkstemp(dir=C.DEFAULT_LOCAL_TMP, suffix=".zip")
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.rename(fresh, path)  # whole, for a worker reading it meanwhile
    return version, path


def archive_bytes():
    """The zip the module installs: the mark file, lib/pyroute2/ (no bytecode: each
    host's Python compiles its own) and pyroute2's licence files."""
    version, package, info = controller_pyroute2()
    if version is None:
        raise AnsibleError(
            "the controller has no pyroute2 to bring to the hosts that need it: install the collection's requirements (requirements.txt) on the controller"
        )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr(netlink.PRIVATE_MARK, json.dumps({"version": version, "from": "the controller's pyroute2"}))
        for root, dirs, files in os.walk(package):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(files):
                if name.endswith(".py") or name.endswith(".json"):
                    path = os.path.join(root, name)
                    bundle.write(path, os.path.join("lib", os.path.relpath(path, os.path.dirname(package))))
        if info:
            for root, _dirs, files in os.walk(info):
                for name in sorted(files):
                    if "LICENSE" in name.upper() or name == "METADATA":
                        path = os.path.join(root, name)
                        bundle.write(path, os.path.join("lib", "pyroute2-licence", os.path.relpath(path, info)))
    return version, buffer.getvalue()


def wanted(mode, status, controller_version):
    """Whether to send the private copy, given the mode and what the module found
    (its ``pyroute2`` result: source, version, usable)."""
    if not status or mode in ("distro", "none"):
        return False
    if mode == "private":
        return status.get("source") != "private" or status.get("version") != controller_version
    # auto: only where the host's own is missing or too old, or our copy is not the controller's
    if status.get("source") == "private":
        return status.get("version") != controller_version
    return not status.get("usable", True)


def unusable_message(host, mode, status):
    floor = ".".join(map(str, netlink.MIN_PYROUTE2))
    return (
        "%s: %s, and routednet_pyroute2_install=%s does not bring the collection's own copy. Fix: set routednet_pyroute2_install=auto "
        "(the default) or private, or install a pyroute2 >= %s for %s" % (host, status.get("problem"), mode, floor, status.get("python") or "the host's Python")
    )


def execute(action, task_vars, module_name, args):
    """Run ``module_name`` through ``action`` (an ActionBase), sending the private copy
    when the module says the host needs it, and running it once more with it."""
    mode = args.get("pyroute2_install") or "auto"  # (the module's argument spec checks it)
    result = action._execute_module(module_name=module_name, module_args=args, task_vars=task_vars)
    status = result.get("pyroute2") or {}
    controller_version = controller_pyroute2()[0]
    if not wanted(mode, status, controller_version):
        if not status.get("usable", True):
            result["msg"] = unusable_message(task_vars.get("inventory_hostname"), mode, status)
        return result
    version, local = archive_file()
    shell = action._connection._shell
    ours = shell.tmpdir is None
    if ours:
        action._make_tmp_path()
    try:
        remote = shell.join_path(shell.tmpdir, "routednet-pyroute2-%s.zip" % version)
        action._transfer_file(local, remote)
        action._fixup_perms2((shell.tmpdir, remote))
        return action._execute_module(module_name=module_name, module_args=dict(args, pyroute2_archive=remote), task_vars=task_vars)
    finally:
        if ours:
            action._remove_tmp_path(shell.tmpdir)
