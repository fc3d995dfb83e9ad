# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The files that make a node restore its routed network at boot.

The state file (the node's steps), the restore program (a copy of this
collection's module_utils, byte for byte what the modules ran, plus a short
launcher), and a systemd oneshot unit enabled for multi-user.target.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import pkgutil
import sys

from ansible_collections.routednet.fabric.plugins.module_utils.host import netlink
from ansible_collections.routednet.fabric.plugins.module_utils.host.files import read_bytes, write_atomically
from ansible_collections.routednet.fabric.plugins.module_utils.state import restore, saved_state
from ansible_collections.routednet.fabric.plugins.module_utils.outcome import Failure

UNIT_NAME = "routednet-restore.service"

# The options of the modules that save the state (boot_restore, node_state); documented
# in the doc fragment routednet.fabric.netlink.boot_files.
OPTIONS = dict(
    node=dict(type="str"),
    state_file=dict(type="path", default="/etc/routednet/boot-state.json"),
    lib_dir=dict(type="path", default="/usr/local/lib/routednet"),
    unit_dir=dict(type="path", default="/etc/systemd/system"),
    python=dict(type="path"),
)
LAUNCHER = "routednet-restore"
# (Ansible sends a module the module_utils it imports: importing restore here brings the
# boot program's files along to every module that saves the state)
# (module_utils itself: the names below are relative to it)
PACKAGE = restore.__name__.rpartition(".")[0].rpartition(".")[0]

UNIT_TEXT = """# Written by routednet.fabric (boot_restore): re-applies the node's routed network at boot.
[Unit]
Description=routednet.fabric: restore the routed container network saved by the last Ansible run
Wants=network-online.target
After=network-online.target systemd-sysctl.service
# (the container runtimes read what it restores: flannel's subnet.env in /run, the CNI files)
Before=containerd.service crio.service docker.service podman.service podman-restart.service kubelet.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart={python} {launcher} {state_file}

[Install]
WantedBy=multi-user.target
"""

LAUNCHER_TEXT = """#!{python}
# Written by routednet.fabric (boot_restore): re-applies {state_file}
# with the collection's own code, copied next to this file.
import sys

sys.path.insert(0, {lib_dir!r})
from ansible_collections.routednet.fabric.plugins.module_utils.state import restore  # noqa: E402

sys.exit(restore.main(default_state_file={state_file!r}))
"""


# The boot program's code: restore.py and every module_utils file it runs, named here
# rather than found by inspecting imports (which misses a module that only a constant is
# taken from). tests/unit/test_boot_files.py runs the installed copy on these files alone.
BOOT_MODULES = (
    "backends",
    "backends.hostgw",
    "backends.hybrid",
    "backends.ipip",
    "backends.vxlan",
    "converge.bridge",
    "converge.firewall",
    "converge.ip_forwarding",
    "converge.netns",
    "converge.routes",
    "converge.runtime_files",
    "converge.tunnel",
    "converge.veth",
    "converge.vxlan_fdb",
    "host.files",
    "host.kernel",
    "host.links",
    "host.neighbours",
    "host.netlink",
    "host.netlink_bulk",
    "host.nft",
    "host.routes",
    "host.tunnels",
    "ipv4",
    "mac",
    "outcome",
    "state.restore",
    "state.saved_state",
)


def code_files():
    """(path relative to the library directory, bytes) of every file of the boot program."""
    files = {}
    for name in BOOT_MODULES:
        package, _dot, leaf = (PACKAGE + "." + name).rpartition(".")
        data, path = None, None
        for path in (leaf + ".py", leaf + "/__init__.py"):  # a module, or a package
            try:
                data = pkgutil.get_data(package, path)
            except (IOError, OSError):
                data = None
            if data is not None:
                break
        if data is None:
            raise IOError("cannot read the source of %s.%s" % (package, leaf))
        files[package.replace(".", "/") + "/" + path] = data
        # every directory is a regular package, so this copy wins over any other on sys.path
        parts = package.split(".")
        for depth in range(1, len(parts) + 1):
            files.setdefault("/".join(parts[:depth]) + "/__init__.py", b"")
    return files


def state_text(state):
    return json.dumps(state, indent=2, sort_keys=True) + "\n"


def wanted_files(state, state_file, lib_dir, unit_dir, python):
    """Path -> (bytes, mode) of everything boot_restore writes (``state``: saved_state.state_of)."""
    launcher = os.path.join(lib_dir, LAUNCHER)
    files = {state_file: (state_text(state).encode(), 0o644)}
    for rel, data in code_files().items():
        files[os.path.join(lib_dir, rel)] = (data, 0o644)
    files[launcher] = (LAUNCHER_TEXT.format(python=python, lib_dir=lib_dir, state_file=state_file).encode(), 0o755)
    files[os.path.join(unit_dir, UNIT_NAME)] = (UNIT_TEXT.format(python=python, launcher=launcher, state_file=state_file).encode(), 0o644)
    return files


def enable_link(unit_dir):
    """The symlink `systemctl enable` makes: (link path, target)."""
    return os.path.join(unit_dir, "multi-user.target.wants", UNIT_NAME), os.path.join(unit_dir, UNIT_NAME)


def file_mode(path):
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        return None


def stale_files(lib_dir, wanted):
    """The boot program's files an earlier version wrote that this one does not (its
    module_utils laid out otherwise): only the collection's own copy is looked at."""
    root = os.path.join(lib_dir, *PACKAGE.split(".")[:3])
    found = []
    for top, _dirs, names in os.walk(root):
        found += [os.path.join(top, name) for name in names if name.endswith(".py") and os.path.join(top, name) not in wanted]
    return sorted(found)


def save(module, p, steps, document=None):
    """Write the state file, the restore program and the unit, and enable the unit; the
    result a module returns. The state is the validated ``steps`` (and the node
    ``document`` they were made of, if any); ``p`` holds node, state_file, lib_dir, unit_dir and python (None: this Python)."""
    python = p["python"] or sys.executable
    node = p["node"] or os.uname()[1]
    wanted = wanted_files(saved_state.state_of(node, steps, document), p["state_file"], p["lib_dir"], p["unit_dir"], python)
    changes, writes = [], []
    for path in sorted(wanted):
        data, mode = wanted[path]
        if read_bytes(path) != data or file_mode(path) != mode:
            changes.append("write %s" % path)
            writes.append(path)
    stale = stale_files(p["lib_dir"], wanted)
    changes += ["remove %s" % path for path in stale]
    link, target = enable_link(p["unit_dir"])
    link_ok = os.path.islink(link) and os.readlink(link) == target
    if not link_ok:
        changes.append("enable %s (link %s)" % (UNIT_NAME, link))
    before = (read_bytes(p["state_file"]) or b"").decode("utf-8", "replace")
    if changes and not module.check_mode:
        try:
            for path in writes:
                write_atomically(path, *wanted[path])
            for path in stale:
                os.remove(path)
            if not link_ok:
                if os.path.lexists(link):
                    os.remove(link)
                if not os.path.isdir(os.path.dirname(link)):
                    os.makedirs(os.path.dirname(link), 0o755)
                os.symlink(target, link)
        except (IOError, OSError) as exc:
            raise Failure("boot_restore: %s" % exc, changes=changes) from exc
        unit_changed = os.path.join(p["unit_dir"], UNIT_NAME) in writes or not link_ok
        if unit_changed and os.path.isdir("/run/systemd/system"):
            module.run_command([module.get_bin_path("systemctl", required=True), "daemon-reload"], check_rc=True)
    return dict(
        changed=bool(changes),
        changes=changes,
        state_file=p["state_file"],
        restore_command="%s %s %s" % (python, os.path.join(p["lib_dir"], LAUNCHER), p["state_file"]),
        diff=dict(before_header=p["state_file"], after_header=p["state_file"], before=before, after=wanted[p["state_file"]][0].decode()),
    )


def forget(module, p, departure):
    """Drop what the state file saved for the nodes of ``departure`` (a forget document),
    so that a reboot does not bring back their routes and entries; only the state file
    changes, and nothing happens without one. The result a module returns."""
    current = read_bytes(p["state_file"])
    if current is None:
        return dict(changed=False, changes=[], state_file=p["state_file"])
    try:
        state, dropped = saved_state.forget(saved_state.load_state(p["state_file"]), departure)
    except ValueError as exc:
        raise Failure("boot_restore: %s" % exc) from None
    text = state_text(state).encode()
    changes = ["drop %s from %s" % (what, p["state_file"]) for what in dropped]
    if changes and not module.check_mode:
        try:
            write_atomically(p["state_file"], text, file_mode(p["state_file"]) or 0o644)
        except (IOError, OSError) as exc:
            raise Failure("boot_restore: %s" % exc, changes=changes) from exc
    before = current.decode("utf-8", "replace")
    return dict(changed=bool(changes), changes=changes, state_file=p["state_file"], diff=dict(before=before, after=text.decode() if changes else before))


def remove(module, p, private_pyroute2=False):
    """Remove the state file, the restore program and the unit (and, with
    ``private_pyroute2``, the collection's private pyroute2: decommission's very last
    change). The result a module returns."""
    link, _target = enable_link(p["unit_dir"])
    unit = os.path.join(p["unit_dir"], UNIT_NAME)
    doomed = [path for path in (link, unit, p["state_file"]) if os.path.lexists(path)]
    launcher = os.path.join(p["lib_dir"], LAUNCHER)
    # the library directory goes only if our launcher is in it
    library = os.path.isfile(launcher)
    changes = ["remove %s" % path for path in doomed] + (["remove %s" % p["lib_dir"]] if library else [])
    private = private_pyroute2 and os.path.exists(os.path.join(netlink.PRIVATE_LIBRARY, netlink.PRIVATE_MARK))
    if private:
        changes.append("remove the collection's private pyroute2 %s" % netlink.PRIVATE_LIBRARY)
    before = (read_bytes(p["state_file"]) or b"").decode("utf-8", "replace")
    if changes and not module.check_mode:
        try:
            for path in doomed:
                os.remove(path)
            if library:
                netlink.remove_directory(p["lib_dir"])
            if private:
                netlink.remove_private()
        except (IOError, OSError) as exc:
            raise Failure("boot_restore: %s" % exc, changes=changes) from exc
    return dict(changed=bool(changes), changes=changes, state_file=p["state_file"], diff=dict(before=before, after=""))
