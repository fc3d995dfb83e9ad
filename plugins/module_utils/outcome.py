# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The seam between the collection's host code and Ansible.

Code that reads or converges a host gets a Request (its parameters, check mode, diff
mode) and returns its result, the dict a module returns, or raises Failure. Only the
modules' main() turn that into Ansible's answer (exit_json/fail_json); node_state and the
boot-time restore run the same code through call(), without Ansible.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class Failure(Exception):
    """Why a call cannot do what it was asked: one line for the operator, plus result fields."""

    def __init__(self, msg, **fields):
        super(Failure, self).__init__(msg)
        self.msg = msg
        self.fields = fields

    def result(self):
        return dict(self.fields, failed=True, msg=self.msg)


class Request(object):
    """What the host code is asked: the (validated) parameters and the run's modes."""

    def __init__(self, params, check_mode=False, diff=False):
        self.params = params
        self.check_mode = check_mode
        self.diff = diff

    @classmethod
    def of(cls, module):
        """The request an AnsibleModule carries."""
        return cls(module.params, module.check_mode, module._diff)


def call(function, *args, **kwargs):
    """``function``'s result, or its Failure's (a result with failed=True)."""
    try:
        return function(*args, **kwargs)
    except Failure as failure:
        return failure.result()
