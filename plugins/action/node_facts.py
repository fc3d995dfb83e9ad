# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""node_facts (and node_state): records who the run is with a lock node_facts takes, and
sends the collection's private pyroute2 to a host that needs it
(plugin_utils/private_pyroute2.py)."""

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
        result.update(private_pyroute2.execute(self, task_vars, self._task.action, args))
        return result
