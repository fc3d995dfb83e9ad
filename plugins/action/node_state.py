# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""node_state, sending the collection's private pyroute2 to a host that needs it: the same
plugin as node_facts' (plugin_utils/private_pyroute2.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.routednet.fabric.plugins.action.node_facts import ActionModule  # noqa: F401  pylint: disable=unused-import
