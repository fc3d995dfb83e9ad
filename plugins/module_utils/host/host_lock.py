# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One run at a time on a host: an flock on a lock file, held by a keeper process.

A module ends when its task does, so the lock cannot be held by the module itself. The
run that takes the lock leaves a small keeper process on the host holding ``flock`` on
the file; the file names the holder (run id, controller, label, keeper). The keeper
lets go when the run releases the lock, when the SSH connection the run came in on ends
(a killed controller: Ansible's SSH connection ends once its ControlPersist runs out),
or at the latest after its time to live. The kernel drops an flock with the last process
holding it, so a dead run, a killed keeper or a reboot never leaves a lock behind; the
file itself stays (it is never deleted: a deleted lock file lets two runs lock two files).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import fcntl
import json
import os
import signal
import time


def read_holder(path):
    """The holder recorded in the lock file, or None when there is no (readable) record."""
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


def _stat(pid):
    """The fields of /proc/PID/stat after the command name, or None when it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().rsplit(")", 1)[1].split()
    except (IOError, OSError, IndexError):
        return None


def start_time(pid):
    """A process's start time (clock ticks since boot), or None when it is gone (a zombie
    that nobody has reaped yet is gone too)."""
    fields = _stat(pid)
    return None if not fields or fields[0] in ("Z", "X") else int(fields[19])


def _parent(pid):
    fields = _stat(pid)
    return int(fields[1]) if fields else 0


def _read(path):
    try:
        with open(path, "rb") as handle:
            return handle.read().decode("utf-8", "replace")
    except (IOError, OSError):
        return ""


def run_anchor(pid=None):
    """The process whose life is the run's on this host: the SSH connection the module
    came in on (the nearest sshd ancestor), else - Ansible on the host itself - the
    outermost ansible process; None when there is neither (the time to live applies)."""
    pid = pid or os.getpid()
    outermost_ansible = None
    while pid > 1:
        comm = _read("/proc/%d/comm" % pid).strip()
        if comm.startswith("sshd"):
            return pid
        if "ansible" in _read("/proc/%d/cmdline" % pid):
            outermost_ansible = pid
        pid = _parent(pid)
    return outermost_ansible


def _open(path, create):
    directory = os.path.dirname(path)
    if create and not os.path.isdir(directory):
        os.makedirs(directory, 0o755)
    return os.open(path, (os.O_RDWR | os.O_CREAT) if create else os.O_RDONLY, 0o644)


def _flocked(fd, mode):
    try:
        fcntl.flock(fd, mode | fcntl.LOCK_NB)
        return True
    except (IOError, OSError) as exc:
        if exc.errno in (errno.EAGAIN, errno.EACCES):
            return False
        raise


def is_held(path):
    """True when a live keeper holds the lock (reads only; writes nothing)."""
    try:
        fd = _open(path, create=False)
    except (IOError, OSError) as exc:
        if exc.errno == errno.ENOENT:
            return False
        raise
    try:
        return not _flocked(fd, fcntl.LOCK_SH)
    finally:
        os.close(fd)


def _keep(fd, anchor, ttl):
    """The keeper's life: hold ``fd``'s flock until told to stop, until the run's anchor
    process ends, or until ``ttl`` seconds have passed."""
    anchor_start = start_time(anchor) if anchor else None
    deadline = time.time() + ttl
    signal.signal(signal.SIGTERM, lambda *_args: os._exit(0))
    while time.time() < deadline:
        if anchor and start_time(anchor) != anchor_start:
            break
        time.sleep(1)
    os._exit(0)


def _spawn_keeper(fd, anchor, ttl):
    """Fork a detached keeper that inherits ``fd`` (and so the flock); return its pid."""
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:
        try:
            os.close(reader)
            os.setsid()
            grandchild = os.fork()
            if grandchild:
                os.write(writer, str(grandchild).encode())
                os._exit(0)
            os.chdir("/")
            null = os.open(os.devnull, os.O_RDWR)
            for std in (0, 1, 2):
                os.dup2(null, std)
            # nothing of the module's may stay open: the SSH channel would wait for it
            os.closerange(3, fd)
            os.closerange(fd + 1, 65536)
            _keep(fd, anchor, ttl)
        finally:
            os._exit(0)
    os.close(writer)
    os.waitpid(child, 0)
    with os.fdopen(reader) as handle:
        return int(handle.read() or 0)


def try_once(path, holder, ttl, anchor=None):
    """One attempt: (True, None, the dead run it took over from) when this run holds the
    lock now, (False, the holder, None) when another live run does. The keeper lets go
    when process ``anchor`` ends (default: the run's, see run_anchor)."""
    fd = _open(path, create=True)
    try:
        if not _flocked(fd, fcntl.LOCK_EX):
            current = read_holder(path) or {}
            if current.get("run_id") == holder["run_id"]:
                return True, None, None  # ours already (re-entrant)
            return False, current, None
        previous = read_holder(path)
        keeper = _spawn_keeper(fd, anchor or run_anchor(), ttl)
        record = dict(holder, keeper=keeper, keeper_start=start_time(keeper))
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, json.dumps(record).encode())
        gone = previous if previous and previous.get("run_id") != holder["run_id"] and previous.get("keeper") and not previous.get("released") else None
        return True, None, gone
    finally:
        os.close(fd)


def attempt(path, run_id, label="", controller_run="", ttl=3600, check_mode=False, break_run=None):
    """One try at the lock, as a module makes it (host_lock, node_facts): a dict with
    ``acquired``, ``now``, ``taken_over`` (the dead run it took over from, described) and,
    when another run holds it, ``holder`` and ``held_by``. ``break_run`` names a run the
    controller knows is dead, whose keeper is stopped first. In check mode it writes
    nothing (no file, no keeper), and a free or dead run's lock counts as taken.
    Raises OSError."""
    ssh = (os.environ.get("SSH_CONNECTION") or "").split()
    holder = {"run_id": run_id, "label": label, "controller": ssh[0] if ssh else "local", "since": time.time(), "controller_run": controller_run}
    current = read_holder(path) or {}
    dead = bool(break_run) and current.get("run_id") == break_run
    taken_over = None
    if check_mode:
        taken = dead or not is_held(path)
    else:
        if dead:
            break_dead(path, break_run)
        taken, current, taken_over = try_once(path, holder, ttl)
    result = dict(acquired=bool(taken), now=holder["since"])
    if taken_over:
        result["taken_over"] = describe(taken_over, now=holder["since"])
    if not taken:
        result["holder"] = current
        result["held_by"] = describe(current, now=holder["since"])
    return result


def _keeper_alive(record):
    """True when the keeper ``record`` names still runs (not a later process of its pid)."""
    return bool(record.get("keeper")) and record.get("keeper_start") is not None and start_time(record["keeper"]) == record["keeper_start"]


def _stop_keeper(path, record, sleep):
    """Stop the keeper ``record`` names and wait (5 s at most) for the lock to go."""
    os.kill(record["keeper"], signal.SIGTERM)
    for _attempt in range(50):
        if not is_held(path):
            return
        sleep(0.1)


def break_dead(path, run_id, sleep=time.sleep):
    """Stop the keeper of ``run_id`` - a run the controller knows is dead - if it still
    holds the lock; True when it did."""
    current = read_holder(path) or {}
    if current.get("run_id") != run_id or not _keeper_alive(current):
        return False
    _stop_keeper(path, current, sleep)
    return not is_held(path)


def controller_run(pid=None):
    """Who this run is on the controller: its boot id, the ansible process's pid and start
    time. A lock whose run is on this controller and no longer alive is a dead run's."""
    pid = pid or os.getpid()
    with open("/proc/sys/kernel/random/boot_id") as handle:
        boot = handle.read().strip()
    return "%s:%d:%s" % (boot, pid, start_time(pid))


def dead_here(run, here):
    """True when ``run`` (a controller_run text) ran on the controller ``here`` (this
    one's controller_run) and its process is gone; False for a live or another
    controller's run (whose lock goes with its SSH connection)."""
    try:
        boot, pid, started = run.split(":")
    except (AttributeError, ValueError):
        return False
    if boot != here.split(":")[0]:
        return False
    return str(start_time(int(pid))) != started


def release(path, run_id, sleep=time.sleep):
    """Stop this run's keeper, which lets the lock go; True when this run held it."""
    current = read_holder(path)
    if current is None or current.get("run_id") != run_id or not current.get("keeper"):
        return False
    if _keeper_alive(current):
        # the record is this run's to change while its keeper holds the lock: say it was
        # given back, so the next holder does not take this run for a dead one; "since" 0
        # lets a version before the flock (which took the file itself for the lock, and
        # took over one older than its ttl) in at once
        with open(path, "w") as handle:
            json.dump(dict(current, released=True, since=0), handle)
        _stop_keeper(path, current, sleep)
    return not is_held(path) or read_holder(path).get("run_id") != run_id
