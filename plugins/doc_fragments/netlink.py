# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Shared by every module that changes kernel state over netlink.
    DOCUMENTATION = r"""
requirements:
  - pyroute2 >= 0.7.2 on the managed host, or the collection's private copy (a provisioning run's node_state installs it where needed)
attributes:
  check_mode:
    support: full
    description: Reports what would change and changes nothing.
  diff_mode:
    support: full
    description: Shows the state before and after.
  platform:
    support: full
    platforms: linux
    description: Linux hosts with netlink (any kernel with the features the module uses).
notes:
  - Talks to the kernel over netlink with pyroute2; no C(ip) command is run.
"""

    # Modules that only read (reachability, path_hops).
    READ_ONLY = r"""
requirements:
  - pyroute2 >= 0.7.2 on the managed host, or the collection's private copy (a provisioning run's node_state installs it where needed)
attributes:
  check_mode:
    support: full
    description: Only reads; runs the same in check mode.
  diff_mode:
    support: none
    description: Nothing changes, so there is nothing to show.
  platform:
    support: full
    platforms: linux
    description: Linux hosts.
"""

    # The netns option of modules that can act inside a namespace.
    NETNS = r"""
options:
  netns:
    description:
      - Name of the network namespace to act in (as listed by C(ip netns list)).
      - Omit to act in the host namespace.
      - The namespace must exist; it is never created implicitly.
    type: str
"""

    # Where the boot-time restore keeps the node's state (boot_restore, node_state).
    BOOT_FILES = r"""
options:
  node:
    description: Name of the node, written into the state file and printed by the restore.
    type: str
  state_file:
    description: Where the node's state is saved.
    type: path
    default: /etc/routednet/boot-state.json
  lib_dir:
    description: Directory of the restore program; the collection owns it entirely.
    type: path
    default: /usr/local/lib/routednet
  unit_dir:
    description: Directory of the systemd unit C(routednet-restore.service).
    type: path
    default: /etc/systemd/system
  python:
    description:
      - The Python that runs the restore at boot; it needs pyroute2.
      - Defaults to the Python running this module (the node's C(ansible_python_interpreter)).
    type: path
"""
