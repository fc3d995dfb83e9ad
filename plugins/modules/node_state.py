#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: node_state
short_description: Converge everything routednet.fabric keeps on a node in one call, and save it for boot
version_added: 0.3.0
description:
  - Runs the node's whole desired state - forwarding, bridge, pods, tunnel device,
    neighbour and FDB entries, routes, firewall, the files container runtimes read - as an ordered list of steps, each a call
    of one of the collection's modules (M(routednet.fabric.ip_forwarding),
    M(routednet.fabric.bridge), M(routednet.fabric.netns), M(routednet.fabric.veth),
    M(routednet.fabric.tunnel), M(routednet.fabric.vxlan_fdb),
    M(routednet.fabric.routes), M(routednet.fabric.firewall),
    M(routednet.fabric.runtime_files)) through the very code
    that module runs, in one process on the host. A run then costs one module call per
    host whatever the cluster's size, instead of one per module and pod.
  - Every step's parameters are checked against its module's own argument spec before any
    step runs; all errors are reported at once and nothing is changed.
  - The steps run in order and the call stops at the first step that fails, naming it; the
    steps before it keep their changes, as separate tasks would, and each step that fails
    part-way undoes its own changes as the module does.
  - Then, with O(boot_restore=true), the steps marked O(steps[].save) are saved for the
    boot-time restore exactly as M(routednet.fabric.boot_restore) does.
options:
  document:
    description:
      - The node's whole desired state as one document, as the collection's
        C(routednet.fabric.node_document) filter computes it from the plan on the
        controller - forwarding, bridge, pods, tunnel device, entries, routes, firewall and
        what to clean up.
      - Applied in one fixed order (the steps it stands for, see
        C(plugins/module_utils/state/document_steps.py)) that keeps pods talking while a node
        changes backend. The roles pass this.
      - A document of kind C(forget) (decommission, on each remaining node) drops the
        leaving nodes' routes, tunnel entries and firewall addresses (with the underlay
        addresses the saved state's tunnel entries hold for them - their IPv6 ones under a
        VTEP over the IPv6 underlay), and drops them from the saved state too; one of kind
        C(remove) (on a leaving node) removes everything the collection made, then the boot
        restore's files and the private pyroute2.
      - Exactly one of O(document) and O(steps).
    type: dict
  steps:
    description:
      - The node's desired state as explicit steps, in the order they are applied (what a
        O(document) stands for; for a state the roles do not build).
      - Exactly one of O(document) and O(steps).
    type: list
    elements: dict
    suboptions:
      module:
        description:
          - Short name of the collection module the step runs.
          - C(hostgw_route) is the route module's name before it was called C(routes); it
            runs C(routes).
        type: str
        required: true
        choices: [bridge, firewall, hostgw_route, ip_forwarding, netns, routes, runtime_files, tunnel, veth, vxlan_fdb]
      params:
        description: The module's parameters.
        type: dict
        default: {}
      save:
        description:
          - Whether the step is part of the state restored at boot.
          - Clean-up steps (pods that left the inventory, tunnel devices of another backend)
            run now and have nothing to do at boot.
        type: bool
        default: true
  boot_restore:
    description:
      - Save the state for the boot-time restore (see M(routednet.fabric.boot_restore)) -
        the O(document) itself, or the steps marked O(steps[].save).
      - With V(false), remove the boot restore's state file, program and unit where an
        earlier run left them, as M(routednet.fabric.boot_restore) does with
        O(routednet.fabric.boot_restore#module:state=absent).
      - Documents of kind C(forget) and C(remove) change the saved state whatever this says.
    type: bool
    default: true
  release_lock:
    description:
      - The run id of a lock this run took with M(routednet.fabric.host_lock). Once every step
        is applied and saved, the lock is given back in this same call, as
        M(routednet.fabric.host_lock) with O(routednet.fabric.host_lock#module:state=released) would;
        it saves a module call per host and run.
      - Only on success. A call that fails keeps the lock, so the play gives it back itself.
      - Nothing is released in check mode (a check run takes no lock).
    type: str
  lock_path:
    description: The lock file of O(release_lock).
    type: path
    default: /run/routednet/lock
extends_documentation_fragment:
  - routednet.fabric.pyroute2
  - routednet.fabric.netlink.boot_files
requirements:
  - pyroute2 >= 0.7.2 on the managed host, or the collection's private copy (see O(pyroute2_install))
attributes:
  check_mode:
    support: full
    description:
      - Every step reports what it would change and changes nothing. A step that cannot be
        checked until an earlier one is applied (a device or namespace that does not exist
        yet) is reported as one that would change.
  diff_mode:
    support: full
    description: One diff per step that would change, headed by the step, then the state file's.
  platform:
    support: full
    platforms: linux
    description: Linux hosts; the steps' own needs apply (pyroute2, libnftables for the firewall).
seealso:
  - module: routednet.fabric.boot_restore
  - module: routednet.fabric.routes
  - module: routednet.fabric.vxlan_fdb
author:
  - routednet maintainers (@routednet)
"""

EXAMPLES = r"""
- name: A host-gw node with one pod, in one call
  routednet.fabric.node_state:
    node: "{{ inventory_hostname }}"
    steps:
      - module: ip_forwarding
      - module: bridge
        params: {name: cni0, addresses: [172.17.0.1/24], mtu: 1500}
      - module: netns
        params: {name: docker1}
      - module: veth
        params: {name: veth-docker1, master: cni0, peer: eth0, peer_netns: docker1, peer_addresses: [172.17.0.2/24], mtu: 1500}
      - module: routes
        params:
          netns: docker1
          routes: [{dst: default, via: 172.17.0.1, dev: eth0}]
      - module: routes
        params:
          routes: [{dst: 172.18.0.0/24, via: 192.168.245.172, dev: eth0}]
      - module: tunnel
        params: {kind: vxlan, state: absent}
        save: false
"""

RETURN = r"""
changes:
  description: What each step changed (or would change), prefixed by the step.
  returned: always
  type: list
  elements: str
  sample: ["routes: add 172.19.0.0/24 via 192.168.245.173 dev eth0 proto 201", "boot_restore: write /etc/routednet/boot-state.json"]
steps:
  description: Per step run, its module, whether it changed something, and its changes.
  returned: always
  type: list
  elements: dict
  sample: [{"step": "bridge cni0", "changed": false, "changes": []}]
lock_released:
  description: Whether O(release_lock) held the lock and gave it back.
  returned: when O(release_lock) is given
  type: bool
state_file:
  description: Path of the state file.
  returned: when O(boot_restore=true)
  type: str
  sample: /etc/routednet/boot-state.json
pyroute2:
  description: The pyroute2 this call used (source system or private, version); its action plugin reads it.
  returned: success
  type: dict
  sample: {"source": "private", "version": "0.9.7", "usable": true, "problem": null}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.routednet.fabric.plugins.module_utils.host import host_lock, netlink
from ansible_collections.routednet.fabric.plugins.module_utils.state import boot_files, document_steps, restore, saved_state, state_steps
from ansible_collections.routednet.fabric.plugins.module_utils.outcome import Failure


def boot_state(module, p, steps):
    """What the boot restore keeps after this call: the document it converged (or the
    steps marked to save) with O(boot_restore); a forget document's nodes dropped from the
    saved state; nothing of it after a removal (the private pyroute2 goes too, last)."""
    document = p["document"]
    kind = document_steps.kind(document) if document is not None else None
    if kind == "remove":
        return boot_files.remove(module, p, private_pyroute2=True)
    if kind == "forget":
        return boot_files.forget(module, p, document)
    if not p["boot_restore"]:
        return boot_files.remove(module, p)
    # (the steps as validated here, defaults filled in: the restore has no Ansible to do it)
    saved = [dict(module=s["module"], params=s["params"]) for s in steps if s["save"]]
    return boot_files.save(module, p, saved, None if document is None else document_steps.without_cleanup(document))


def run(module):
    """The module's work; Failure from the shared host code becomes its failure (main)."""
    p = module.params
    if p["document"] is not None:
        wrong = document_steps.problems(p["document"])
        if wrong:
            module.fail_json(msg="node_state: the document is not one to apply, nothing was changed: " + "; ".join(wrong))
        if document_steps.kind(p["document"]) == "forget" and p["state_file"]:
            p["document"] = saved_state.with_saved_underlays(p["document"], p["state_file"])
        wanted = document_steps.steps(p["document"])
    else:
        wanted = p["steps"]
    steps, errors = state_steps.validated(wanted)
    if errors:
        module.fail_json(msg="node_state: invalid steps, nothing was changed: " + " | ".join(errors))
    installed = netlink.prepare_pyroute2(module)
    netlink.require_pyroute2()

    results, failure = state_steps.apply(steps, module.check_mode, module._diff)
    changes, summary, diffs = ["pyroute2: %s" % text for text in installed], [], []
    for step, result in results:
        label = state_steps.label(step)
        done = restore.what_changed(result) if result.get("changed") else []
        changes += ["%s: %s" % (label, text) for text in done]
        summary.append(dict(step=label, changed=bool(result.get("changed")), changes=done))
        if result.get("changed") and result.get("diff"):
            diffs.append(dict(result["diff"], before_header=label, after_header=label))
    if failure is not None:
        number, step, result = failure
        extra = dict((key, value) for key, value in result.items() if key not in ("failed", "msg", "changed"))
        module.fail_json(
            msg="step %d/%d (%s): %s" % (number, len(steps), state_steps.label(step), result.get("msg")),
            changed=bool(changes),
            changes=changes,
            steps=summary,
            failed_step=dict(extra, step=state_steps.label(step)),
        )
    out = dict(changes=changes, steps=summary, pyroute2=dict(netlink.LOADED))
    saved = boot_state(module, p, steps)
    if saved:
        changes += ["boot_restore: %s" % text for text in saved["changes"]]
        if saved["changed"]:
            diffs.append(saved["diff"])
        out["state_file"] = saved["state_file"]
    if p["release_lock"]:
        try:
            out["lock_released"] = False if module.check_mode else host_lock.release(p["lock_path"], p["release_lock"])
        except (IOError, OSError) as exc:
            msg = "node_state: converged, but giving back the lock %s failed: %s" % (p["lock_path"], exc)
            module.fail_json(msg=msg, changed=bool(changes), changes=changes)
    module.exit_json(changed=bool(changes), diff=diffs, **out)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            document=dict(type="dict"),
            steps=dict(
                type="list",
                elements="dict",
                options=dict(state_steps.STEP_OPTIONS, save=dict(type="bool", default=True)),
            ),
            boot_restore=dict(type="bool", default=True),
            release_lock=dict(type="str"),
            lock_path=dict(type="path", default="/run/routednet/lock"),
            **netlink.PYROUTE2_OPTIONS,
            **boot_files.OPTIONS,
        ),
        required_one_of=[("document", "steps")],
        mutually_exclusive=[("document", "steps")],
        supports_check_mode=True,
    )
    try:
        run(module)
    except Failure as failure:
        module.fail_json(**failure.result())


if __name__ == "__main__":
    main()
