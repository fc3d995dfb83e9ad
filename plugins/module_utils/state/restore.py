# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Boot-time restore: re-apply a node's saved desired state without Ansible.

The boot_restore module writes the node's state file: an ordered list of steps,
each the name of one of the collection's modules and the parameters it was
validated with. At boot a systemd oneshot unit runs this file's ``main`` on
that state, step by step, through the same converge functions the modules run,
so what comes back after a reboot is what the last Ansible run put there.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import sys

from ansible_collections.routednet.fabric.plugins.module_utils import outcome
from ansible_collections.routednet.fabric.plugins.module_utils.state.saved_state import load_state
from ansible_collections.routednet.fabric.plugins.module_utils.converge import (
    bridge,
    firewall,
    ip_forwarding,
    netns,
    routes,
    runtime_files,
    tunnel,
    veth,
    vxlan_fdb,
)

# The modules a state file may name, in the order a node's state is built.
CONVERGE = {
    "ip_forwarding": ip_forwarding,
    "bridge": bridge,
    "netns": netns,
    "veth": veth,
    "tunnel": tunnel,
    "vxlan_fdb": vxlan_fdb,
    "routes": routes,
    "firewall": firewall,
    "runtime_files": runtime_files,
}
# The names earlier versions saved steps under (a state file written before the route
# module was called routes).
ALIASES = {"hostgw_route": "routes"}


def module_of(step):
    """The module a step runs, by its current name (a saved step may use an old one)."""
    return ALIASES.get(step.get("module"), step.get("module"))


def run_step(step, check_mode=False, diff=False):
    """Apply one saved step; return the result a module would have returned."""
    converge = CONVERGE.get(module_of(step))
    if converge is None:
        return {"failed": True, "msg": "unknown module %r in the state file" % step.get("module")}
    return outcome.call(converge.run, outcome.Request(dict(step.get("params") or {}), check_mode, diff))


def what_changed(result):
    """The module's own account of a change: its changes, or (routes) the routes added and removed."""
    if result.get("changes"):
        return result["changes"]
    return ["add %s" % r for r in result.get("added") or []] + ["delete %s" % r for r in result.get("removed") or []]


def run_steps(steps, check_mode=False, diff=False):
    """Run ``steps`` in order, yielding (number, step, result, waiting) after each.

    ``waiting``: in check mode, the step failed while an earlier step would change
    something (a namespace, a device) it may need; it would change once those are
    applied. The caller decides whether a failure stops the run (stop iterating)."""
    pending = False
    for number, step in enumerate(steps, 1):
        result = run_step(step, check_mode, diff)
        waiting = bool(result.get("failed") and check_mode and pending)
        pending = pending or bool(result.get("changed") and not result.get("failed"))
        yield number, step, result, waiting


def apply_state(state, check_mode=False, out=None):
    """Run every step (a failed one does not stop the others); return the number that failed."""
    out = out or sys.stdout
    failed = 0
    for number, step, result, waiting in run_steps(state["steps"], check_mode):
        label = "step %d/%d %s" % (number, len(state["steps"]), step.get("module"))
        if waiting:
            out.write("%s: would change once the steps above are applied (now: %s)\n" % (label, result.get("msg")))
        elif result.get("failed"):
            failed += 1
            out.write("%s: FAILED: %s\n" % (label, result.get("msg")))
        elif result.get("changed"):
            out.write("%s: %s: %s\n" % (label, "would change" if check_mode else "changed", "; ".join(what_changed(result))))
        else:
            out.write("%s: ok\n" % label)
    return failed


def main(argv=None, default_state_file=None):
    parser = argparse.ArgumentParser(prog="routednet-restore", description="Re-apply the routednet.fabric state saved by the last Ansible run.")
    parser.add_argument("state_file", nargs="?", default=default_state_file, help="default: %s" % default_state_file)
    parser.add_argument("--check", action="store_true", help="report what differs from the saved state; change nothing")
    args = parser.parse_args(argv)
    if not args.state_file:
        parser.error("name the state file")
    try:
        state = load_state(args.state_file)
    except ValueError as exc:
        sys.stderr.write("routednet-restore: %s\n" % exc)
        return 2
    failed = apply_state(state, check_mode=args.check)
    sys.stdout.write("routednet-restore: %d step(s), %d failed (node %s)\n" % (len(state["steps"]), failed, state.get("node", "?")))
    return 1 if failed else 0
