# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One run at a time on a host: a lock file created atomically (O_EXCL) that names its holder.

The file lives on a tmpfs (/run), so a reboot frees it; a holder that died without
releasing it (a killed controller) is taken over once it is older than the time to live.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import time


def read_holder(path):
    """The holder recorded in the lock file, or None when there is no (readable) lock."""
    try:
        with open(path) as handle:
            return json.load(handle)
    except (IOError, OSError, ValueError):
        return None


def describe(holder, now=None):
    now = time.time() if now is None else now
    return "run %s from %s, %s, holding it for %d s" % (
        holder.get("run_id"),
        holder.get("controller") or "?",
        holder.get("label") or "?",
        max(0, int(now - holder.get("since", now))),
    )


def try_acquire(path, holder):
    """Create the lock file for ``holder``; False when it exists already."""
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o755)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except OSError as exc:
        if exc.errno == 17:  # EEXIST
            return False
        raise
    with os.fdopen(fd, "w") as handle:
        json.dump(holder, handle)
    return True


def try_once(path, holder, ttl, clock=time.time):
    """One attempt: (True, None, taken over from) when this run holds the lock now,
    (False, the holder, None) when another live run does."""
    while True:
        if try_acquire(path, holder):
            return True, None, None
        current = read_holder(path)
        if current is not None and current.get("run_id") == holder["run_id"]:
            return True, None, None  # ours already (re-entrant)
        if current is None or clock() - current.get("since", 0) > ttl:
            # unreadable, or its holder died without releasing it: take over
            os.remove(path)
            if try_acquire(path, holder):
                return True, None, current
            continue
        return False, current, None


def acquire(path, holder, timeout, ttl, sleep=time.sleep, clock=time.time):
    """Wait for the lock; return (waited seconds, the holders waited for, taken over from)."""
    start = clock()
    waited_for = []
    while True:
        taken, current, taken_over = try_once(path, holder, ttl, clock)
        if taken:
            return clock() - start, waited_for, taken_over
        if not waited_for or waited_for[-1].get("run_id") != current.get("run_id"):
            waited_for.append(current)
        if clock() - start >= timeout:
            raise TimeoutError(current)
        sleep(1)


def release(path, run_id):
    """Remove the lock if ``run_id`` holds it; True when it did."""
    current = read_holder(path)
    if current is None or current.get("run_id") != run_id:
        return False
    os.remove(path)
    return True
