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
  - Takes or releases the host's lock. Two runs against one host cannot interleave their
    changes; the second waits, and says what it waited for.
  - The lock is an C(flock) on O(path), held by a small keeper process this module leaves
    on the host; the file names the holder (run id, the controller's address, a label such
    as the play, the keeper). The keeper lets go when the run releases the lock, when the
    SSH connection the run came in on ends - a killed controller frees its locks once its
    SSH connections close (Ansible's ControlPersist, 60 s by default) - and at the latest
    after O(ttl). A reboot, a dead keeper or a host lost mid-run never leaves a lock
    behind; the kernel drops it with its last holder.
  - Waiting happens on the controller (the action plugin), one attempt per second; a lock
    held by a run of this same controller whose process is gone is broken at once, so a
    killed C(ansible-playbook) never blocks the next run.
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
    description: The longest a keeper holds the lock (for a run whose SSH connection never ends).
    type: int
    default: 3600
  controller_run:
    description:
      - Who the run is on the controller (its boot id, the ansible process and its start
        time); recorded with the lock. Filled in by the action plugin; leave it out.
      - SSH multiplexing lets a later run reuse a dead run's connection, so a dead run on
        this same controller is recognised here, on the controller, and its lock broken.
    type: str
    default: ""
  break_run:
    description: Internal (set by the action plugin). The run id of a dead run whose keeper is stopped first.
    type: str
attributes:
  check_mode:
    support: full
    description:
      - In check mode it writes nothing - no lock file, no keeper - and only waits until no
        other run holds the lock, so a check run does not read a host while another run
        changes it.
  diff_mode:
    support: none
    description: Nothing to compare; the lock is not configuration.
  action:
    support: full
    description: The waiting, and the check for a dead run of this controller, happen on the controller.
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
taken_over:
  description: The dead run whose lock this run took (it ended without giving it back).
  returned: when a dead run's lock was taken
  type: str
released:
  description: Whether this run held the lock and gave it back.
  returned: when state is released
  type: bool
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.routednet.fabric.plugins.module_utils.host import host_lock


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
            controller_run=dict(type="str", default=""),
            break_run=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    if p["state"] == "released":
        module.exit_json(changed=False, released=False if module.check_mode else host_lock.release(p["path"], p["run_id"]))
    # one attempt; the action plugin on the controller waits and retries
    try:
        result = host_lock.attempt(p["path"], p["run_id"], p["label"], p["controller_run"], p["ttl"], module.check_mode, p["break_run"])
    except (IOError, OSError) as exc:
        module.fail_json(msg="host_lock: %s: %s" % (p["path"], exc))
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
