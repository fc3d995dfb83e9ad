# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A node's state as steps: calls of the collection's modules, as data.

Checked against each module's own argument spec (defaults filled in), then run in
order in one process through the converge functions the modules themselves run. The
node_state module converges a node in one call this way; boot_restore saves the same
steps for the boot-time restore.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.routednet.fabric.plugins.module_utils.state import restore

# A step as the modules that take steps (boot_restore, node_state) accept it.
STEP_OPTIONS = dict(
    module=dict(type="str", required=True, choices=sorted(list(restore.CONVERGE) + list(restore.ALIASES))),
    params=dict(type="dict", default={}),
)

RULES = ("mutually_exclusive", "required_together", "required_one_of", "required_if", "required_by")


def validated(steps):
    """(steps with defaults filled in, error texts): every step checked against its module's spec."""
    checked, errors = [], []
    for number, given in enumerate(steps, 1):
        step = dict(given, module=restore.module_of(given))
        kwargs = restore.CONVERGE[step["module"]].MODULE_KWARGS
        validator = ArgumentSpecValidator(kwargs["argument_spec"], **dict((rule, kwargs[rule]) for rule in RULES if rule in kwargs))
        result = validator.validate(step["params"] or {})
        if result.error_messages:
            errors.append("step %d (%s): %s" % (number, step["module"], "; ".join(result.error_messages)))
        checked.append(dict(step, params=result.validated_parameters))
    return checked, errors


def label(step):
    """``module name`` of a step, for messages and diff headers."""
    params = step["params"]
    what = params.get("name") or params.get("device") or params.get("kind") or params.get("table") or ""
    where = " (netns %s)" % params["netns"] if params.get("netns") else ""
    return ("%s %s%s" % (step["module"], what, where)).replace("  ", " ").strip()


def apply(steps, check_mode, diff):
    """Run the steps in order; stop at the first that fails.

    Returns (results, failure): one (step, result) per step run, and the failed step's
    (number, step, result) or None. In check mode a step that fails only because an
    earlier step's change is not made yet (a pod's namespace, a device) is reported as
    one that would change, and the next steps run."""
    results = []
    for number, step, result, waiting in restore.run_steps(steps, check_mode, diff):
        if waiting:
            results.append((step, {"changed": True, "changes": ["would change once the steps before it are applied (now: %s)" % result.get("msg")]}))
        elif result.get("failed"):
            return results, (number, step, result)
        else:
            results.append((step, result))
    return results, None
