"""node_state: a node's whole state in one call, on the real kernel in a test namespace."""

import json
import subprocess
import sys
import time

import pytest

from ansible_collections.routednet.fabric.plugins.module_utils.host import host_lock


def paths(tmp_path):
    return {"state_file": str(tmp_path / "etc" / "boot-state.json"), "lib_dir": str(tmp_path / "lib"), "unit_dir": str(tmp_path / "systemd")}


def ip(ns, *args):
    return subprocess.run(["ip", "-n", ns] + list(args), capture_output=True, text=True, check=True).stdout


def steps(ns):
    """A bridge with an address, a route through it, and a clean-up step not saved for boot."""
    return [
        {"module": "bridge", "params": {"name": "br-state", "addresses": ["10.77.0.1/24"], "mtu": 1400, "netns": ns}},
        {"module": "routes", "params": {"netns": ns, "routes": [{"dst": "10.78.0.0/24", "via": "10.77.0.9", "dev": "br-state"}]}},
        {"module": "tunnel", "params": {"kind": "vxlan", "state": "absent", "netns": ns}, "save": False},
    ]


def test_one_call_checks_applies_saves_and_is_idempotent(module, netns, tmp_path):
    ns = netns("state")
    args = dict(paths(tmp_path), node="node9", steps=steps(ns))

    res = module("node_state", args, check=True)
    assert res["changed"] and not res.get("failed"), res
    # the route cannot be checked before the bridge exists: predicted as a change
    assert [s["step"] for s in res["steps"] if s["changed"]] == ["bridge br-state (netns %s)" % ns, "routes (netns %s)" % ns]
    assert "br-state" not in ip(ns, "link") and not (tmp_path / "etc").exists()

    res = module("node_state", args)
    assert res["changed"], res
    assert "10.78.0.0/24 via 10.77.0.9 dev br-state proto 201" in ip(ns, "route")
    assert any(c.startswith("boot_restore: write ") for c in res["changes"])
    saved = json.loads((tmp_path / "etc" / "boot-state.json").read_text())
    assert [s["module"] for s in saved["steps"]] == ["bridge", "routes"], "the clean-up step was saved"
    assert saved["steps"][0]["params"]["adopt"] is False, "defaults are filled in from the module's spec"

    assert not module("node_state", args)["changed"]
    assert not module("node_state", args, check=True)["changed"]

    # drift in two steps is put back by the one call, and named per step
    ip(ns, "link", "set", "br-state", "mtu", "1300")
    ip(ns, "route", "del", "10.78.0.0/24")
    res = module("node_state", args)
    assert [s["step"] for s in res["steps"] if s["changed"]] == ["bridge br-state (netns %s)" % ns, "routes (netns %s)" % ns], res
    assert "mtu 1400" in ip(ns, "link", "show", "br-state") and "10.78.0.0/24" in ip(ns, "route")


def test_invalid_steps_fail_before_any_change(module, netns, tmp_path):
    ns = netns("badstep")
    bad = steps(ns)
    bad[1]["params"]["routes"][0]["metric"] = "high"
    bad.append({"module": "bridge", "params": {"name": "br-x", "mtu": "big", "netns": ns}})
    res = module("node_state", dict(paths(tmp_path), steps=bad))
    assert res.failed and res["msg"].startswith("node_state: invalid steps, nothing was changed: "), res
    assert "step 2 (routes)" in res["msg"] and "step 4 (bridge)" in res["msg"], res["msg"]
    assert "br-state" not in ip(ns, "link") and not (tmp_path / "etc").exists()


@pytest.mark.parametrize("check", [False, True])
def test_a_failing_step_stops_the_call_and_is_named(module, netns, tmp_path, check):
    ns = netns("failstep")
    failing = steps(ns)[:1] + [{"module": "routes", "params": {"netns": ns, "routes": [{"dst": "10.79.0.0/24", "via": "10.77.0.9", "dev": "nosuchdev"}]}}]
    failing.append({"module": "bridge", "params": {"name": "br-after", "netns": ns}})
    res = module("node_state", dict(paths(tmp_path), steps=failing), check=check)
    if check:
        # the missing device could come from an earlier step: predicted, not a failure
        assert not res.failed and res["changed"], res
        return
    assert res.failed and res["msg"].startswith("step 2/3 (routes (netns %s)): " % ns) and "nosuchdev does not exist" in res["msg"], res
    assert res["changed"] and res["steps"][0]["changed"], "the first step's change is reported"
    assert "br-state" in ip(ns, "link") and "br-after" not in ip(ns, "link"), "stops at the failing step"
    assert not (tmp_path / "etc").exists(), "nothing is saved for boot after a failure"


@pytest.fixture
def held_lock(tmp_path):
    """A lock taken as host_lock takes it, with a process standing in for the run's SSH connection."""
    path = str(tmp_path / "run" / "lock")
    anchor = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    holder = {"run_id": "run1", "label": "test", "controller": "local", "since": time.time()}
    assert host_lock.try_once(path, holder, 60, anchor.pid)[0]
    yield path
    anchor.kill()
    anchor.wait()


@pytest.mark.parametrize("outcome", ["converged", "check", "failed"])
def test_the_converge_gives_the_lock_back_only_once_it_succeeded(module, netns, tmp_path, held_lock, outcome):
    ns = netns("lockstep")
    todo = steps(ns)
    if outcome == "failed":
        todo[1]["params"]["routes"][0]["dev"] = "nosuchdev"
    args = dict(paths(tmp_path), steps=todo, release_lock="run1", lock_path=held_lock)
    res = module("node_state", args, check=outcome == "check")
    if outcome == "converged":
        assert not res.failed and res["lock_released"] is True, res
        assert not host_lock.is_held(held_lock)
    else:
        # a check run took no lock to give back; a failed one leaves it to the play's unlock
        assert res.failed == (outcome == "failed") and not res.get("lock_released"), res
        assert host_lock.is_held(held_lock) and host_lock.read_holder(held_lock)["run_id"] == "run1"
