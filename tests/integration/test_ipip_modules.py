"""The tunnel module's IPIP devices against the real kernel, in namespaces the test makes.

This build machine's kernel has no ipip module, so the tests that make IPIP devices
run inside the test VM on Debian's stock kernel (tests/integration/test_vm.py runs
this file there); here they are skipped and the refusal is tested instead.
"""

import subprocess

import pytest
from pyroute2 import NetNS

from ansible_collections.routednet.fabric.plugins.module_utils.host.kernel import feature_state
from test_boot_restore import paths, restore
from test_modules import addrs, link, uplink

HAS_IPIP = feature_state("ipip") != "missing"
needs_ipip = pytest.mark.skipif(not HAS_IPIP, reason="this kernel has no ipip; runs inside the test VM (test_vm.py)")

DEVICE = {
    "name": "tun0",
    "kind": "ipip",
    "local": "192.168.77.1",
    "dev": "up0",
    "mtu": 1480,
    "addresses": ["10.244.1.0/32"],
}


def ipip_info(ns, name="tun0"):
    msg = link(ns, name)
    data = msg.get_nested("IFLA_LINKINFO", "IFLA_INFO_DATA")
    with NetNS(ns, flags=0) as ipr:
        names = {m["index"]: m.get("ifname") for m in ipr.link("dump")}
    return {
        "kind": msg.get_nested("IFLA_LINKINFO", "IFLA_INFO_KIND"),
        "local": data.get("IFLA_IPIP_LOCAL"),
        "remote": data.get("IFLA_IPIP_REMOTE"),
        "link": names.get(data.get("IFLA_IPIP_LINK")),
        "mtu": msg.get("mtu"),
        "alias": msg.get("ifalias"),
        "up": msg["flags"] & 1 == 1,
        "index": msg["index"],
    }


@needs_ipip
def test_ipip_device_check_apply_drift_recreate_absent(module, netns):
    ns = netns("ipip")
    uplink(ns)
    args = dict(DEVICE, netns=ns)
    res = module("tunnel", args, check=True)
    assert res["changed"] and link(ns, "tun0") is None

    res = module("tunnel", args)
    assert res["changed"], res
    info = ipip_info(ns)
    assert info["kind"] == "ipip" and info["local"] == "192.168.77.1" and info["link"] == "up0"
    assert info["remote"] in (None, "0.0.0.0"), "one device for every peer: no fixed remote"
    assert info["mtu"] == 1480 and info["alias"] == "routednet.fabric" and info["up"]
    assert addrs(ns, "tun0") == ["10.244.1.0/32"]
    assert not module("tunnel", args)["changed"]
    assert not module("tunnel", args, check=True)["changed"]

    # drift in place: MTU changed by hand comes back on the same device
    with NetNS(ns, flags=0) as ipr:
        ipr.link("set", index=info["index"], mtu=1400)
    assert module("tunnel", args)["changed"]
    assert ipip_info(ns)["mtu"] == 1480 and ipip_info(ns)["index"] == info["index"]

    # a new local address: recreated
    with NetNS(ns, flags=0) as ipr:
        ipr.addr("add", index=ipr.link_lookup(ifname="up0")[0], address="192.168.77.9", prefixlen=24)
    res = module("tunnel", dict(args, local="192.168.77.9"))
    assert res["changed"] and any(c.startswith("recreate ipip tun0: local 192.168.77.1 -> 192.168.77.9") for c in res["changes"]), res
    assert ipip_info(ns)["local"] == "192.168.77.9"

    # a recreate the kernel refuses part-way (an MTU above the device's maximum): the
    # device is made again as it was before the call
    res = module("tunnel", dict(args, local="192.168.77.1", mtu=70000))
    assert res.failed and "were undone; the host is as it was" in res["msg"], res
    back = ipip_info(ns)
    assert (back["local"], back["mtu"], back["alias"], back["up"]) == ("192.168.77.9", 1480, "routednet.fabric", True), back
    assert addrs(ns, "tun0") == ["10.244.1.0/32"]

    # routes on-link through it, via a peer's underlay address (the outer destination)
    route = {"dst": "10.244.2.0/24", "via": "192.168.99.2", "dev": "tun0", "onlink": True}
    assert module("routes", {"routes": [route], "netns": ns})["changed"]
    shown = subprocess.run(["ip", "-n", ns, "route", "show", "10.244.2.0/24"], capture_output=True, text=True, check=True).stdout
    assert shown.split() == ["10.244.2.0/24", "via", "192.168.99.2", "dev", "tun0", "proto", "201", "onlink"], shown
    assert not module("routes", {"routes": [route], "netns": ns})["changed"]

    assert module("tunnel", {"kind": "ipip", "state": "absent", "netns": ns})["changed"]
    assert link(ns, "tun0") is None
    assert not module("tunnel", {"kind": "ipip", "state": "absent", "netns": ns})["changed"]


@needs_ipip
def test_removing_ipip_devices_leaves_the_kernels_and_an_operators_alone(module, netns):
    ns = netns("ipipop")
    uplink(ns)
    with NetNS(ns, flags=0) as ipr:
        ipr.link("add", ifname="theirs", kind="ipip", ipip_local="192.168.77.1", ipip_remote="192.168.77.50")
    res = module("tunnel", dict(DEVICE, name="theirs", netns=ns))
    assert res.failed and "not created by routednet.fabric" in res["msg"]
    assert module("tunnel", dict(DEVICE, netns=ns))["changed"]
    assert module("tunnel", {"kind": "ipip", "state": "absent", "netns": ns})["changed"]
    # the operator's device and the kernel's fallback device (tunl0) are still there
    assert link(ns, "theirs") is not None and link(ns, "tunl0") is not None and link(ns, "tun0") is None
    # a VXLAN removal does not touch IPIP devices either
    assert module("tunnel", dict(DEVICE, netns=ns))["changed"]
    assert not module("tunnel", {"kind": "vxlan", "state": "absent", "netns": ns})["changed"]
    assert link(ns, "tun0") is not None


@needs_ipip
def test_boot_restore_brings_back_the_ipip_device_and_its_routes(module, netns, tmp_path):
    """An IPIP node after a reboot (a namespace with only its uplink): the restore program,
    as the unit runs it (without Ansible), makes the device and its on-link routes again."""
    ns = netns("ipipboot")
    uplink(ns)
    route = {"dst": "10.244.2.0/24", "via": "192.168.77.2", "dev": "tun0", "onlink": True}
    steps = [
        {"module": "tunnel", "params": dict(DEVICE, netns=ns)},
        {"module": "routes", "params": {"netns": ns, "routes": [route]}},
    ]
    where = paths(tmp_path)
    assert module("boot_restore", dict(where, node="node1", steps=steps))["changed"]
    proc = restore(where)
    assert proc.returncode == 0 and "2 step(s), 0 failed (node node1)" in proc.stdout, proc.stdout + proc.stderr
    info = ipip_info(ns)
    assert (info["local"], info["link"], info["mtu"], info["up"]) == ("192.168.77.1", "up0", 1480, True), info
    shown = subprocess.run(["ip", "-n", ns, "route", "show", "proto", "201"], capture_output=True, text=True, check=True).stdout
    assert shown.split() == ["10.244.2.0/24", "via", "192.168.77.2", "dev", "tun0", "onlink"], shown
    proc = restore(where, "--check")
    assert proc.stdout.count(": ok\n") == 2, proc.stdout


@pytest.mark.skipif(HAS_IPIP, reason="this kernel has ipip; the refusal is for kernels without it")
def test_a_kernel_without_ipip_gets_a_clear_refusal_and_no_change(module, netns):
    ns = netns("noipip")
    uplink(ns)
    before = link(ns, "up0")
    for check in (True, False):
        res = module("tunnel", dict(DEVICE, netns=ns), check=check)
        assert res.failed, res
        assert "no ipip support (CONFIG_NET_IPIP, module ipip)" in res["msg"] and "modprobe ipip" in res["msg"], res["msg"]
        assert "Traceback" not in res["msg"]
        assert link(ns, "tun0") is None
    assert link(ns, "up0")["index"] == before["index"]
    # removing IPIP devices needs no ipip support: nothing there, nothing to do
    assert not module("tunnel", {"kind": "ipip", "state": "absent", "netns": ns})["changed"]
