"""The host lock with real processes and a real flock: who holds it, and when it goes."""

import os
import subprocess
import sys
import time

import pytest

from ansible_collections.routednet.fabric.plugins.module_utils.host import host_lock


def holder(run_id):
    return {"run_id": run_id, "label": "test", "controller": "local", "since": time.time()}


def until(condition, seconds=5):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


@pytest.fixture
def anchor():
    """A process standing in for the run's SSH connection."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield proc
    proc.kill()
    proc.wait()


@pytest.fixture
def lock_path(tmp_path):
    path = str(tmp_path / "run" / "lock")
    yield path
    record = host_lock.read_holder(path) or {}
    if record.get("keeper") and host_lock.start_time(record["keeper"]) == record.get("keeper_start"):
        os.kill(record["keeper"], 15)


def test_a_second_run_is_refused_while_the_first_holds_it_and_let_in_after_release(lock_path, anchor):
    assert host_lock.try_once(lock_path, holder("a"), 60, anchor.pid)[0]
    assert host_lock.is_held(lock_path)
    assert host_lock.try_once(lock_path, holder("a"), 60, anchor.pid)[0], "the holder itself is let in again"
    taken, current, _taken_over = host_lock.try_once(lock_path, holder("b"), 60, anchor.pid)
    assert not taken and current["run_id"] == "a"
    assert host_lock.release(lock_path, "a")
    assert not host_lock.is_held(lock_path)
    taken, _current, taken_over = host_lock.try_once(lock_path, holder("b"), 60, anchor.pid)
    assert taken and taken_over is None, "a released lock is not taken for a dead run's"


def test_the_lock_goes_with_the_runs_connection(lock_path, anchor):
    assert host_lock.try_once(lock_path, holder("a"), 60, anchor.pid)[0]
    anchor.kill()
    anchor.wait()
    assert until(lambda: not host_lock.is_held(lock_path))
    taken, _current, taken_over = host_lock.try_once(lock_path, holder("b"), 60, os.getpid())
    assert taken and taken_over["run_id"] == "a"
    assert host_lock.release(lock_path, "b")


def test_the_lock_goes_after_its_time_to_live(lock_path, anchor):
    assert host_lock.try_once(lock_path, holder("a"), 1, anchor.pid)[0]
    assert until(lambda: not host_lock.is_held(lock_path), 4)


def test_a_dead_runs_keeper_is_stopped_and_nobody_elses(lock_path, anchor):
    assert host_lock.try_once(lock_path, holder("a"), 60, anchor.pid)[0]
    assert not host_lock.break_dead(lock_path, "b")
    assert host_lock.is_held(lock_path)
    assert host_lock.break_dead(lock_path, "a")
    assert not host_lock.is_held(lock_path)


def test_a_run_of_this_controller_is_dead_once_its_process_is_gone(anchor):
    here = host_lock.controller_run(os.getpid())
    live = host_lock.controller_run(anchor.pid)
    assert not host_lock.dead_here(live, here)
    anchor.kill()
    anchor.wait()
    assert host_lock.dead_here(live, here)
    elsewhere = "another-boot-id:%d:1" % anchor.pid
    assert not host_lock.dead_here(elsewhere, here), "another controller's run is judged by its connection, not here"
    assert not host_lock.dead_here("", here)


def test_checking_the_lock_writes_nothing(lock_path):
    assert not host_lock.is_held(lock_path)
    assert not os.path.exists(os.path.dirname(lock_path))
