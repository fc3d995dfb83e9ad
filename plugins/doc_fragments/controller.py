# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # subnet_plan and cluster_check: action plugins that touch no managed host and keep the lease file.
    DOCUMENTATION = r"""
attributes:
  check_mode:
    support: full
    description: Computes and checks everything; the lease file is not written.
  diff_mode:
    support: full
    description: Shows the lease file before and after.
  platform:
    support: full
    platforms: posix
    description: Runs on the controller only.
  action:
    support: full
    description: Runs on the controller.
"""
