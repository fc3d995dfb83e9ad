# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""node_facts (and node_state): records who the run is with a lock node_facts takes, and
sends the collection's private pyroute2 to a host that needs it
(plugin_utils/private_pyroute2.py). With routednet_pyroute2_install=distro, node_facts
first has the distribution's python3-pyroute2 installed (ansible.builtin.package)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible.plugins.action import ActionBase

from ansible_collections.routednet.fabric.plugins.module_utils.host import host_lock

from ansible_collections.routednet.fabric.plugins.plugin_utils import private_pyroute2


class ActionModule(ActionBase):
    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = dict(self._task.args)
        if args.get("lock_run_id"):
            # the task runs in a worker process; its parent is the ansible process of the run
            args["controller_run"] = host_lock.controller_run(os.getppid())
        installed = {}
        if args.get("pyroute2_install") == "distro" and self._task.action.endswith("node_facts"):
            # here, not in a task of its own: a task skipped on every host but the odd one
            # still costs each host a worker process, every run (half a second at 50 nodes)
            installed = self._distro_pyroute2(task_vars)
            if installed.get("failed"):
                result.update(installed)
                return result
        result.update(private_pyroute2.execute(self, task_vars, self._task.action, args))
        if installed.get("changed"):
            result["changed"] = True
            result.setdefault("changes", []).insert(0, "install the distribution's python3-pyroute2 (routednet_pyroute2_install=distro)")
        return result

    def _distro_pyroute2(self, task_vars):
        """ansible.builtin.package name=python3-pyroute2 state=present on this host, as
        that task would (its action picks the host's package manager)."""
        task = self._task.copy()
        task.args = dict(name="python3-pyroute2", state="present")
        package = self._shared_loader_obj.action_loader.get(
            "ansible.legacy.package",
            task=task,
            connection=self._connection,
            play_context=self._play_context,
            loader=self._loader,
            templar=self._templar,
            shared_loader_obj=self._shared_loader_obj,
        )
        result = package.run(task_vars=task_vars)
        if result.get("failed"):
            result["msg"] = "%s: installing the distribution's python3-pyroute2 (routednet_pyroute2_install=distro) failed: %s" % (
                task_vars.get("inventory_hostname"),
                result.get("msg") or "see the result",
            )
        return result
