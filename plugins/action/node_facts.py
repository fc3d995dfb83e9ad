# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""node_facts (and node_state), sending the collection's private pyroute2 to a host that needs it
(plugin_utils/private_pyroute2.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.plugins.action import ActionBase

from ansible_collections.routednet.fabric.plugins.plugin_utils import private_pyroute2


class ActionModule(ActionBase):
    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        result.update(private_pyroute2.execute(self, task_vars, self._task.action, dict(self._task.args)))
        return result
