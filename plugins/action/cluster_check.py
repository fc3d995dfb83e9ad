# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller-side: every check of the whole cluster once each host has been read, then the
leases. One task for the cluster (module_utils/plan/preflight.py, check_cluster), not one
task per check: a task costs every host of the play a turn, whatever it does. Its result is
registered, not returned as facts: Ansible deep-copies a module's facts into every host's
variables for every later task."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.routednet.fabric.plugins.action.subnet_plan import ARGS as PLAN_ARGS
from ansible_collections.routednet.fabric.plugins.action.subnet_plan import plan_inventory
from ansible_collections.routednet.fabric.plugins.module_utils.plan.preflight import check_cluster

display = Display()


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("plan_result", "facts", "backend", "hybrid_encap", "leases", "lock"))
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = self._task.args
        plan_result = args["plan_result"]
        # Another run holds some of this run's hosts: what node_facts read of those may be
        # that run's work half done. Check nothing yet: the play waits for every host, reads
        # them again and calls this once more (roles/plan/tasks/lock_wait.yml).
        held = dict((node, read["lock"].get("held_by")) for node, read in args["facts"].items() if not (read.get("lock") or {}).get("acquired", True))
        if held and args.get("lock"):
            holders = sorted(set(held.values()))
            display.warning(
                "%s held by %s: this run gives back what it took and waits for each host in turn, then reads and checks them again"
                % (", ".join(held), "; ".join(str(holder) for holder in holders))
            )
            result.update(changed=False, contended=True, held=list(held))
            return result
        found = check_cluster(plan_result["plan"], plan_result["settings"], args["facts"], args["backend"], args.get("hybrid_encap"))
        if found["warning"]:
            display.warning(found["warning"])
        for line in found["pair_lines"]:
            display.display("    " + line)
        if found["refusal"]:
            result.update(failed=True, msg=found["refusal"])
            return result
        result.update(changed=False, contended=False, pod_mtus=found["pod_mtus"], adjacency=found["adjacency"], underlay_v6=found["underlay_v6"])
        # (only now, with the plan and every node and pair checked: a refused run leaves the
        # lease file as it was; the planner is deterministic, so this is the plan just checked)
        leases = args.get("leases")
        if leases:
            unknown = sorted(set(leases) - set(PLAN_ARGS))
            if unknown:
                result.update(failed=True, msg="cluster_check: leases takes subnet_plan's options, not %s" % ", ".join(unknown))
                return result
            written = plan_inventory(self, task_vars, leases)
            if written.get("failed"):
                result.update(failed=True, msg=written["msg"])
                return result
            result["changed"] = written["changed"]
            if "diff" in written:
                result["diff"] = written["diff"]
        return result
