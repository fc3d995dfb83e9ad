"""boot_restore: the saved state, the installed restore program and its unit, on the real kernel."""

import json
import os
import pathlib
import subprocess
import sys

from pyroute2 import NetNS


def paths(tmp_path):
    return {
        "state_file": str(tmp_path / "etc" / "boot-state.json"),
        "lib_dir": str(tmp_path / "lib"),
        "unit_dir": str(tmp_path / "systemd"),
    }


def steps(ns):
    """A bridge with an address and a route through it, inside the test's namespace."""
    return [
        {"module": "bridge", "params": {"name": "br-boot", "addresses": ["10.77.0.1/24"], "mtu": 1400, "netns": ns}},
        {"module": "routes", "params": {"netns": ns, "routes": [{"dst": "10.78.0.0/24", "via": "10.77.0.9", "dev": "br-boot"}]}},
    ]


def restore(where, *extra):
    """Run the installed launcher as the unit would, in a clean environment."""
    launcher = os.path.join(where["lib_dir"], "routednet-restore")
    return subprocess.run(
        [sys.executable, launcher, *extra, where["state_file"]], capture_output=True, text=True, env={"PATH": os.environ["PATH"]}, check=False
    )


def bridge_and_route(ns):
    with NetNS(ns, flags=0) as ipr:
        idx = ipr.link_lookup(ifname="br-boot")
        if not idx:
            return None
        mtu = ipr.link("get", index=idx[0])[0].get("mtu")
        routes = sorted("%s/%d" % (r.get("dst"), r["dst_len"]) for r in ipr.route("dump", family=2, table=254) if r["proto"] == 201)
        return mtu, routes


def test_save_restore_check_forget_absent(module, netns, tmp_path):
    ns = netns("boot")
    where = paths(tmp_path)
    args = dict(where, node="node9", steps=steps(ns))

    # check mode writes nothing
    res = module("boot_restore", args, check=True)
    assert res["changed"] and not os.path.exists(where["state_file"]) and not os.path.exists(where["lib_dir"])
    res = module("boot_restore", args)
    assert res["changed"], res
    assert not module("boot_restore", args)["changed"], "second run changed something"
    assert not module("boot_restore", args, check=True)["changed"]

    saved = json.loads(pathlib.Path(where["state_file"]).read_text())
    assert saved["node"] == "node9" and [s["module"] for s in saved["steps"]] == ["bridge", "routes"]
    assert saved["steps"][1]["params"]["prune"] is True, "defaults are filled in from the module's spec"
    unit = pathlib.Path(where["unit_dir"], "routednet-restore.service").read_text()
    assert "ExecStart=%s %s/routednet-restore %s" % (sys.executable, where["lib_dir"], where["state_file"]) in unit
    assert os.readlink(os.path.join(where["unit_dir"], "multi-user.target.wants", "routednet-restore.service")) == os.path.join(
        where["unit_dir"], "routednet-restore.service"
    )

    # "boot": nothing of ours in the namespace, the restore puts it there with its own copy of the code
    assert bridge_and_route(ns) is None
    proc = restore(where, "--check")
    assert proc.returncode == 0 and "step 1/2 bridge: would change: create bridge br-boot" in proc.stdout, proc.stdout + proc.stderr
    assert bridge_and_route(ns) is None, "--check changed the namespace"
    proc = restore(where)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 step(s), 0 failed (node node9)" in proc.stdout
    assert bridge_and_route(ns) == (1400, ["10.78.0.0/24"])
    proc = restore(where, "--check")
    assert proc.stdout.count(": ok\n") == 2, proc.stdout

    # a node left: its route goes from the saved state, nothing else
    res = module("boot_restore", dict(where, forget={"routes": [{"dst": "10.78.0.0/24"}], "vxlan_entries": []}))
    assert res["changed"] and res["changes"] == ["drop route 10.78.0.0/24 from %s" % where["state_file"]], res
    assert json.loads(pathlib.Path(where["state_file"]).read_text())["steps"][1]["params"]["routes"] == []
    assert not module("boot_restore", dict(where, forget={"routes": [{"dst": "10.78.0.0/24"}]}))["changed"]

    # a broken state file is a clear failure, not a traceback
    with open(where["state_file"], "w") as handle:
        handle.write("{not json")
    proc = restore(where)
    assert proc.returncode == 2 and "is not JSON" in proc.stderr and "Traceback" not in proc.stderr

    res = module("boot_restore", dict(where, state="absent"))
    assert res["changed"] and not os.path.exists(where["lib_dir"]) and not os.path.exists(where["state_file"])
    assert os.listdir(where["unit_dir"]) == ["multi-user.target.wants"] and os.listdir(os.path.join(where["unit_dir"], "multi-user.target.wants")) == []
    assert not module("boot_restore", dict(where, state="absent"))["changed"]


def test_bad_steps_fail_before_writing(module, tmp_path):
    where = paths(tmp_path)
    res = module("boot_restore", dict(where, steps=[{"module": "bridge", "params": {"mtu": "big"}}, {"module": "tunnel", "params": {"kind": "gre"}}]))
    assert res.failed
    assert "step 1 (bridge)" in res["msg"] and "name" in res["msg"] and "step 2 (tunnel)" in res["msg"] and "gre" in res["msg"], res["msg"]
    assert not os.path.exists(where["state_file"]) and not os.path.exists(where["lib_dir"])
