# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""host_lock, driven from the controller: one attempt per second on the host, and a lock
held by a dead run of this same controller broken at once.

The host can tell a dead run only by its SSH connection ending, and SSH multiplexing
lets the next run of the same controller keep that very connection alive. Here, on the
controller, the holder's process is visible: when it is gone, so is its run.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import time

from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

from ansible_collections.routednet.fabric.plugins.module_utils.host import host_lock


class ActionModule(ActionBase):
    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        # the task runs in a worker process; its parent is the ansible process of the run
        args = dict(self._task.args, controller_run=host_lock.controller_run(os.getppid()))
        if args.get("state", "acquired") == "released":
            result.update(self._execute_module(module_args=args, task_vars=task_vars))
            return result
        wait = boolean(args.get("wait", True), strict=False)
        timeout = int(args.get("timeout", 900))
        start = time.time()
        runs, waited_for, warnings, dead = [], [], [], None
        while True:
            attempt = self._execute_module(module_args=dict(args, wait=False, break_run=dead), task_vars=task_vars)
            if attempt.get("failed") or attempt.get("acquired"):
                break
            holder = attempt.get("holder") or {}
            if host_lock.dead_here(holder.get("controller_run"), args["controller_run"]) and dead != holder.get("run_id"):
                dead = holder.get("run_id")
                warnings.append("broke the lock of %s: that run's ansible process on this controller is gone" % attempt.get("held_by"))
                continue  # at once: that run will never give it back
            if not wait:
                break
            if not runs or runs[-1] != holder.get("run_id"):
                runs.append(holder.get("run_id"))
                waited_for.append(attempt.get("held_by"))
            if time.time() - start >= timeout:
                attempt = dict(
                    failed=True,
                    msg="host_lock: %s holds %s; waited %d s. The lock goes when that run gives it back or its SSH connection to this host "
                    "ends; if that run is stuck, stop it" % (attempt.get("held_by"), args.get("path", "/run/routednet/lock"), timeout),
                )
                break
            time.sleep(1)
        if attempt.get("taken_over") and not dead:
            warnings.append("the lock's last holder, %s, ended without giving it back; its run is gone" % attempt["taken_over"])
        attempt.pop("holder", None)
        attempt.pop("now", None)
        result.update(attempt)
        result["waited"] = int(time.time() - start) if waited_for else 0
        result["waited_for"] = waited_for
        if waited_for and attempt.get("acquired"):
            warnings.append("waited %d s for this host's lock, held by %s" % (result["waited"], "; then ".join(waited_for)))
        result["warnings"] = result.get("warnings", []) + warnings
        return result
