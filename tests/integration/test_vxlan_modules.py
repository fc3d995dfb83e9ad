"""tunnel and vxlan_fdb against the real kernel, in namespaces the test creates and removes."""

import subprocess

from pyroute2 import NetNS

from test_modules import addrs, link, uplink

VTEP = {
    "name": "vx0",
    "kind": "vxlan",
    "vni": 1,
    "port": 8472,
    "local": "192.168.77.1",
    "dev": "up0",
    "mtu": 1450,
    "mac": "0a:11:22:33:44:55",
    "addresses": ["10.244.1.0/32"],
}
PEERS = [{"ip": "10.244.2.0", "mac": "0a:00:00:00:00:02", "dst": "192.168.77.2"}, {"ip": "10.244.3.0", "mac": "0a:00:00:00:00:03", "dst": "192.168.77.3"}]


def vxlan_info(ns, name="vx0"):
    msg = link(ns, name)
    data = msg.get_nested("IFLA_LINKINFO", "IFLA_INFO_DATA")
    return {
        "vni": data.get("IFLA_VXLAN_ID"),
        "port": data.get("IFLA_VXLAN_PORT"),
        "learning": data.get("IFLA_VXLAN_LEARNING"),
        "mac": msg.get("address"),
        "mtu": msg.get("mtu"),
        "index": msg["index"],
    }


def entries(ns, dev="vx0"):
    neigh = subprocess.run(["ip", "-n", ns, "neigh", "show", "dev", dev], capture_output=True, text=True, check=True).stdout
    fdb = subprocess.run(["bridge", "-n", ns, "fdb", "show", "dev", dev], capture_output=True, text=True, check=True).stdout
    return sorted(line.strip() for line in neigh.splitlines()), sorted(line.strip() for line in fdb.splitlines() if " dst " in line)


def test_tunnel_check_apply_drift_recreate_absent(module, netns):
    ns = netns("vtep")
    uplink(ns)
    args = dict(VTEP, netns=ns)
    res = module("tunnel", args, check=True)
    assert res["changed"] and link(ns, "vx0") is None

    assert module("tunnel", args)["changed"]
    info = vxlan_info(ns)
    assert info["vni"] == 1 and info["port"] == 8472 and info["learning"] == 0
    assert info["mac"] == "0a:11:22:33:44:55" and info["mtu"] == 1450
    assert link(ns, "vx0").get("ifalias") == "routednet.fabric"
    assert not module("tunnel", args)["changed"]
    assert not module("tunnel", args, check=True)["changed"]

    # drift in place: MTU and MAC changed by hand come back, on the same device
    with NetNS(ns, flags=0) as ipr:
        ipr.link("set", index=info["index"], mtu=1400, address="0a:99:99:99:99:99")
    assert module("tunnel", args)["changed"]
    after = vxlan_info(ns)
    assert after["mtu"] == 1450 and after["mac"] == "0a:11:22:33:44:55" and after["index"] == info["index"]

    # a setting the kernel cannot change: recreated, keeping the MAC peers know
    res = module("tunnel", dict(args, vni=42))
    assert res["changed"] and any(c.startswith("recreate vxlan vx0: vni 1 -> 42") for c in res["changes"])
    again = vxlan_info(ns)
    assert again["vni"] == 42 and again["mac"] == "0a:11:22:33:44:55" and again["index"] != info["index"]
    assert not module("tunnel", dict(args, vni=42))["changed"]

    assert module("tunnel", {"kind": "vxlan", "state": "absent", "netns": ns})["changed"]
    assert link(ns, "vx0") is None


def test_tunnel_recreate_refused_brings_the_old_device_back(module, netns):
    """A new VNI means delete and re-add; when the kernel refuses the new device, the old
    one is made again as it was (settings, MAC, MTU, alias, state, addresses)."""
    ns = netns("vtep-undo")
    uplink(ns)
    args = dict(VTEP, netns=ns, addresses=["172.30.1.0/32"])
    assert module("tunnel", args)["changed"]
    before = vxlan_info(ns)
    res = module("tunnel", dict(args, vni=42, mtu=70000))  # above the underlay's MTU: refused
    assert res.failed and "vxlan vx0" in res["msg"] and "were undone; the host is as it was" in res["msg"], res
    after = vxlan_info(ns)
    assert {k: v for k, v in after.items() if k != "index"} == {k: v for k, v in before.items() if k != "index"}
    assert link(ns, "vx0").get("ifalias") == "routednet.fabric" and link(ns, "vx0")["flags"] & 1
    assert addrs(ns, "vx0") == ["172.30.1.0/32"]
    assert not module("tunnel", args)["changed"]


def test_tunnel_leaves_an_operators_vxlan_alone(module, netns):
    ns = netns("opvx")
    uplink(ns)
    with NetNS(ns, flags=0) as ipr:
        ipr.link("add", ifname="theirs", kind="vxlan", vxlan_id=7, vxlan_port=4789)
    res = module("tunnel", dict(VTEP, name="theirs", netns=ns))
    assert res.failed and "not created by routednet.fabric" in res["msg"]
    # removing "all of ours" does not count an operator's device as ours
    assert module("tunnel", dict(VTEP, netns=ns))["changed"]
    res = module("tunnel", {"kind": "vxlan", "state": "absent", "netns": ns})
    assert res["changes"] == ["delete vxlan vx0"]
    assert link(ns, "theirs") is not None and link(ns, "vx0") is None


def test_vxlan_fdb_check_apply_drift_prune(module, netns):
    ns = netns("fdb")
    uplink(ns)
    assert module("tunnel", dict(VTEP, netns=ns))["changed"]
    args = {"device": "vx0", "peers": PEERS, "netns": ns}
    res = module("vxlan_fdb", args, check=True)
    assert res["changed"] and len(res["changes"]) == 4
    assert entries(ns) == ([], [])

    assert module("vxlan_fdb", args)["changed"]
    neigh, fdb = entries(ns)
    assert neigh == ["10.244.2.0 lladdr 0a:00:00:00:00:02 PERMANENT", "10.244.3.0 lladdr 0a:00:00:00:00:03 PERMANENT"]
    assert fdb == ["0a:00:00:00:00:02 dst 192.168.77.2 self permanent", "0a:00:00:00:00:03 dst 192.168.77.3 self permanent"]
    assert not module("vxlan_fdb", args)["changed"]
    assert not module("vxlan_fdb", args, check=True)["changed"]

    # drift: an FDB entry deleted and a neighbour MAC changed by hand are put back
    subprocess.run(["bridge", "-n", ns, "fdb", "del", "0a:00:00:00:00:02", "dev", "vx0", "dst", "192.168.77.2"], check=True)
    subprocess.run(["ip", "-n", ns, "neigh", "replace", "10.244.3.0", "lladdr", "0a:de:ad:be:ef:00", "dev", "vx0", "nud", "permanent"], check=True)
    res = module("vxlan_fdb", args)
    assert res["changed"] and "fdb add 0a:00:00:00:00:02 dst 192.168.77.2 dev vx0" in res["changes"]
    assert "neigh replace 10.244.3.0 lladdr 0a:00:00:00:00:03 dev vx0 (was 0a:de:ad:be:ef:00)" in res["changes"]
    assert entries(ns) == (neigh, fdb)

    # a peer moved to another underlay address: its FDB entry follows
    moved = [PEERS[0], dict(PEERS[1], dst="192.168.77.30")]
    assert module("vxlan_fdb", dict(args, peers=moved))["changed"]
    assert entries(ns)[1] == ["0a:00:00:00:00:02 dst 192.168.77.2 self permanent", "0a:00:00:00:00:03 dst 192.168.77.30 self permanent"]

    # prune: a peer left
    res = module("vxlan_fdb", dict(args, peers=PEERS[:1]))
    assert res["changed"]
    assert entries(ns) == (["10.244.2.0 lladdr 0a:00:00:00:00:02 PERMANENT"], ["0a:00:00:00:00:02 dst 192.168.77.2 self permanent"])

    assert module("vxlan_fdb", {"device": "vx0", "state": "absent", "netns": ns})["changed"]
    assert entries(ns) == ([], [])


def test_vxlan_fdb_touches_no_other_device(module, netns):
    ns = netns("fdbother")
    uplink(ns)
    with NetNS(ns, flags=0) as ipr:
        ipr.link("add", ifname="theirs", kind="vxlan", vxlan_id=7, vxlan_port=4789, vxlan_learning=0)
    subprocess.run(["bridge", "-n", ns, "fdb", "append", "0a:00:00:00:00:09", "dev", "theirs", "dst", "192.168.77.9"], check=True)
    subprocess.run(["ip", "-n", ns, "neigh", "replace", "10.9.0.9", "lladdr", "0a:00:00:00:00:09", "dev", "up0", "nud", "permanent"], check=True)
    res = module("vxlan_fdb", {"device": "theirs", "peers": PEERS, "netns": ns})
    assert res.failed and "was not created by routednet.fabric" in res["msg"]
    assert module("tunnel", dict(VTEP, netns=ns))["changed"]
    assert module("vxlan_fdb", {"device": "vx0", "peers": PEERS, "netns": ns})["changed"]
    assert module("vxlan_fdb", {"device": "vx0", "peers": [], "netns": ns})["changed"]  # prune all of ours
    assert entries(ns, "theirs")[1] == ["0a:00:00:00:00:09 dst 192.168.77.9 self permanent"]
    neigh = subprocess.run(["ip", "-n", ns, "neigh", "show", "dev", "up0"], capture_output=True, text=True, check=True).stdout
    assert "10.9.0.9 lladdr 0a:00:00:00:00:09 PERMANENT" in neigh


def test_full_size_ping_catches_an_mtu_mismatch(module, netns):
    """a -- r -- b, the r-b link narrower (1400): a's full-size DF ping must fail, b's pass."""
    a, r, b = netns("mtua"), netns("mtur"), netns("mtub")
    with NetNS(r, flags=0) as ipr:
        ipr.link("add", ifname="ra", kind="veth", peer={"ifname": "eth0", "net_ns_fd": a})
        ipr.link("add", ifname="rb", kind="veth", peer={"ifname": "eth0", "net_ns_fd": b})
    plan = ((r, "ra", "10.98.0.254", 1500), (r, "rb", "10.97.0.254", 1400), (a, "eth0", "10.98.0.1", 1500), (b, "eth0", "10.97.0.1", 1400))
    for ns, name, ip, mtu in plan:
        with NetNS(ns, flags=0) as ipr:
            idx = ipr.link_lookup(ifname=name)[0]
            ipr.addr("add", index=idx, address=ip, prefixlen=24)
            ipr.link("set", index=idx, state="up", mtu=mtu)
    for ns, gateway in ((a, "10.98.0.254"), (b, "10.97.0.254")):
        with NetNS(ns, flags=0) as ipr:
            ipr.route("add", dst="0.0.0.0/0", gateway=gateway)
    subprocess.run(["ip", "netns", "exec", r, "sysctl", "-qw", "net.ipv4.ip_forward=1"], check=True)

    small = module("reachability", {"sources": [a], "targets": [{"address": "10.97.0.1"}], "timeout": 1})
    assert small["failed_pairs"] == 0 and small["results"][0]["size"] == 56 and small["results"][0]["ttl"] == 63
    big = module("reachability", {"sources": [a], "targets": [{"address": "10.97.0.1"}], "timeout": 1, "full_size": True})
    assert big["results"][0]["size"] == 1472, big
    assert big["failed_pairs"] == 1, big
    back = module("reachability", {"sources": [b], "targets": [{"address": "10.98.0.1"}], "timeout": 1, "full_size": True})
    assert back["failed_pairs"] == 0 and back["results"][0]["size"] == 1372
