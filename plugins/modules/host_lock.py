#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: host_lock
short_description: One run of the collection at a time on a host
version_added: 0.2.0
description:
  - Takes or releases the host's lock, a file created atomically that names the run holding
    it (run id, the controller's address, a label such as the play). Two runs against one
    host cannot interleave their changes; the second waits, and says what it waited for.
  - The lock lives in C(/run) (a tmpfs), so a reboot frees it. A lock older than O(ttl)
    belongs to a run that died without releasing it (a killed controller) and is taken over,
    with a warning.
  - Taking or releasing the lock is not a change to the host's configuration, so it never
    reports C(changed).
options:
  state:
    description: C(acquired) waits for and takes the lock; C(released) gives it back (only if this run holds it).
    type: str
    choices: [acquired, released]
    default: acquired
  run_id:
    description: Identifies the run; the same for every host and task of one playbook run.
    type: str
    required: true
  label:
    description: What the run is, for the message another run prints while it waits.
    type: str
    default: ""
  path:
    description: The lock file.
    type: path
    default: /run/routednet/lock
  timeout:
    description: Seconds to wait for another run before failing.
    type: int
    default: 900
  wait:
    description:
      - With C(false), one attempt only. The lock is taken if it is free and C(acquired)
        says whether it was; a lock held by another run is not a failure.
      - The collection's plays first try every host at once without waiting; a run that
        finds any host taken gives back what it took and then waits for each host in
        turn, in the same order as any other run, so two runs never deadlock.
    type: bool
    default: true
  ttl:
    description: Seconds after which a lock is taken to belong to a dead run.
    type: int
    default: 3600
attributes:
  check_mode:
    support: full
    description: Waits for and takes the lock in check mode too, so a check run never reads a host while another run changes it.
  diff_mode:
    support: none
    description: Nothing to compare; the lock is not configuration.
  platform:
    support: full
    platforms: posix
    description: Any host with a writable C(/run).
author:
  - routednet maintainers (@routednet)
"""

EXAMPLES = r"""
- name: One run at a time on this host
  routednet.fabric.host_lock:
    run_id: "{{ routednet_run_id }}"
    label: "{{ ansible_play_name }}"

- name: Let the next run in
  routednet.fabric.host_lock:
    run_id: "{{ routednet_run_id }}"
    state: released
"""

RETURN = r"""
waited:
  description: Seconds this run waited for the lock.
  returned: when state is acquired
  type: int
  sample: 12
waited_for:
  description: The runs that held the lock while this one waited.
  returned: when state is acquired
  type: list
  elements: str
  sample: ["run 5f2a from 192.168.245.1, Provision the VXLAN network, holding it for 3 s"]
acquired:
  description: Whether this run holds the lock now (always true unless O(wait=false)).
  returned: when state is acquired
  type: bool
held_by:
  description: With O(wait=false), the run that holds the lock when this one could not take it.
  returned: when state is acquired and the lock was not taken
  type: str
released:
  description: Whether this run held the lock and gave it back.
  returned: when state is released
  type: bool
"""

import os
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.routednet.fabric.plugins.module_utils import host_lock


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type="str", default="acquired", choices=["acquired", "released"]),
            run_id=dict(type="str", required=True),
            label=dict(type="str", default=""),
            path=dict(type="path", default="/run/routednet/lock"),
            timeout=dict(type="int", default=900),
            wait=dict(type="bool", default=True),
            ttl=dict(type="int", default=3600),
        ),
        supports_check_mode=True,
    )
    p = module.params
    if p["state"] == "released":
        module.exit_json(changed=False, released=host_lock.release(p["path"], p["run_id"]))
    ssh = (os.environ.get("SSH_CONNECTION") or "").split()
    holder = {"run_id": p["run_id"], "label": p["label"], "controller": ssh[0] if ssh else "local", "since": time.time()}
    current = None
    try:
        if p["wait"]:
            waited, waited_for, taken_over = host_lock.acquire(p["path"], holder, p["timeout"], p["ttl"])
            taken = True
        else:
            taken, current, taken_over = host_lock.try_once(p["path"], holder, p["ttl"])
            waited, waited_for = 0, []
    except TimeoutError as exc:
        module.fail_json(
            msg="host_lock: %s holds %s; waited %d s. If that run is dead, delete the file." % (host_lock.describe(exc.args[0]), p["path"], p["timeout"])
        )
    except (IOError, OSError) as exc:
        module.fail_json(msg="host_lock: %s: %s" % (p["path"], exc))
    texts = [host_lock.describe(other, now=holder["since"]) for other in waited_for]
    if texts:
        module.warn("waited %d s for this host's lock, held by %s" % (waited, "; then ".join(texts)))
    if taken_over:
        module.warn("took over the lock of %s (older than %d s: its run is gone)" % (host_lock.describe(taken_over), p["ttl"]))
    result = dict(changed=False, acquired=taken, waited=int(waited), waited_for=texts)
    if not taken:
        result["held_by"] = host_lock.describe(current, now=holder["since"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
