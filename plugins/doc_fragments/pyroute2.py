# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # node_facts and node_state: the calls that may bring the collection's own pyroute2.
    DOCUMENTATION = r"""
options:
  pyroute2_install:
    description:
      - Where this host's pyroute2 comes from (the role variable C(routednet_pyroute2_install)).
      - C(auto) uses the host Python's own pyroute2 when it is 0.7.2 or newer, and otherwise the
        collection's private copy, which the action plugin sends from the controller (no pip,
        no network access on the host); node_facts uses it from the task's temporary
        directory, node_state installs it in C(/usr/local/lib/routednet-pyroute2).
      - C(private) always uses the private copy; C(distro) and C(none) only the host's own
        (node_state removes a private copy an earlier run left).
    type: str
    choices: [auto, distro, private, none]
    default: auto
  pyroute2_archive:
    description: Internal, set by the action plugin. The private copy's zip, in the task's temporary directory.
    type: path
"""
