"""Each module against the real kernel, in namespaces the test creates and removes."""

import json
import os
import subprocess
import sys

from pyroute2 import NetNS
from pyroute2 import netns as pnetns

from ansible_collections.routednet.fabric.plugins.module_utils.host import netlink
from conftest import REPO

PROTO = 201


def link(ns, name):
    with NetNS(ns, flags=0) as ipr:
        idx = ipr.link_lookup(ifname=name)
        return ipr.link("get", index=idx[0])[0] if idx else None


def addrs(ns, name):
    with NetNS(ns, flags=0) as ipr:
        idx = ipr.link_lookup(ifname=name)[0]
        return sorted("%s/%d" % (a.get("address"), a["prefixlen"]) for a in ipr.addr("dump", family=2, index=idx))


def routes(ns):
    """(dst, gateway, proto) of every IPv4 main-table route."""
    with NetNS(ns, flags=0) as ipr:
        return sorted(("%s/%d" % (r.get("dst") or "0.0.0.0", r["dst_len"]), r.get("gateway"), r["proto"]) for r in ipr.route("dump", family=2, table=254))


def uplink(ns, address="192.168.77.1/24"):
    """A veth in ns (the other end in ns too) with an address: an on-link next hop for routes."""
    with NetNS(ns, flags=0) as ipr:
        ipr.link("add", ifname="up0", kind="veth", peer={"ifname": "up1"})
        for name in ("up0", "up1"):
            ipr.link("set", index=ipr.link_lookup(ifname=name)[0], state="up")
        ip, plen = address.split("/")
        ipr.addr("add", index=ipr.link_lookup(ifname="up0")[0], address=ip, prefixlen=int(plen))


# --- netns -----------------------------------------------------------------


def test_netns_check_apply_idempotent_absent(module, netns):
    name = "rnt-%d-netns-mod" % os.getpid()
    try:
        res = module("netns", {"name": name}, check=True)
        assert res["changed"] and name not in pnetns.listnetns()
        assert module("netns", {"name": name})["changed"]
        assert name in pnetns.listnetns()
        assert not module("netns", {"name": name})["changed"]
        # exact match: a prefix of an existing name is another namespace
        assert module("netns", {"name": name[:-1]}, check=True)["changed"]
        assert module("netns", {"name": name, "state": "absent"}, check=True)["changed"]
        assert name in pnetns.listnetns(), "check mode removed the namespace"
        assert module("netns", {"name": name, "state": "absent"})["changed"]
        assert name not in pnetns.listnetns()
        assert not module("netns", {"name": name, "state": "absent"})["changed"]
    finally:
        if name in pnetns.listnetns():
            pnetns.remove(name)


# --- bridge ----------------------------------------------------------------


def test_bridge_check_apply_drift_absent(module, netns):
    ns = netns("br")
    args = {"name": "cni0", "netns": ns, "addresses": ["10.244.1.1/24"], "mtu": 1400}
    res = module("bridge", args, check=True)
    assert res["changed"] and "create bridge cni0" in res["changes"]
    assert link(ns, "cni0") is None, "check mode created the bridge"

    res = module("bridge", args)
    assert res["changed"], res
    msg = link(ns, "cni0")
    assert msg.get("mtu") == 1400 and msg.get("ifalias") == "routednet.fabric"
    assert addrs(ns, "cni0") == ["10.244.1.1/24"]
    assert not module("bridge", args)["changed"]
    assert not module("bridge", args, check=True)["changed"]

    # drift: an address changed and the MTU changed by hand are put back
    with NetNS(ns, flags=0) as ipr:
        idx = ipr.link_lookup(ifname="cni0")[0]
        ipr.addr("del", index=idx, address="10.244.1.1", prefixlen=24)
        ipr.addr("add", index=idx, address="10.244.9.1", prefixlen=24)
        ipr.link("set", index=idx, mtu=1300)
    res = module("bridge", args, check=True)
    assert res["changed"] and addrs(ns, "cni0") == ["10.244.9.1/24"]
    assert res["diff"]["before"]["mtu"] == 1300 and res["diff"]["after"]["mtu"] == 1400
    assert module("bridge", args)["changed"]
    assert addrs(ns, "cni0") == ["10.244.1.1/24"] and link(ns, "cni0").get("mtu") == 1400

    assert module("bridge", {"name": "cni0", "netns": ns, "state": "absent"})["changed"]
    assert link(ns, "cni0") is None


def test_bridge_leaves_an_operators_bridge_alone(module, netns):
    ns = netns("opbr")
    with NetNS(ns, flags=0) as ipr:
        ipr.link("add", ifname="br0", kind="bridge")
        ipr.addr("add", index=ipr.link_lookup(ifname="br0")[0], address="10.1.1.1", prefixlen=24)
    res = module("bridge", {"name": "br0", "netns": ns, "addresses": ["10.244.1.1/24"]})
    assert res.failed and "not created by routednet.fabric" in res["msg"] and "adopt" in res["msg"]
    res = module("bridge", {"name": "br0", "netns": ns, "state": "absent"})
    assert res.failed and "refusing to delete" in res["msg"]
    assert addrs(ns, "br0") == ["10.1.1.1/24"] and link(ns, "br0") is not None


def test_bridge_refuses_a_link_of_another_kind(module, netns):
    ns = netns("kind")
    uplink(ns)
    res = module("bridge", {"name": "up0", "netns": ns})
    assert res.failed and "is a veth, not a bridge" in res["msg"]


# --- veth ------------------------------------------------------------------


def test_veth_pod_wiring_check_apply_drift_absent(module, netns):
    node, pod = netns("node"), netns("pod")
    assert module("bridge", {"name": "cni0", "netns": node, "addresses": ["10.244.1.1/24"]})["changed"]
    args = {"name": "vethp1", "netns": node, "master": "cni0", "peer": "eth0", "peer_netns": pod, "peer_addresses": ["10.244.1.2/24"], "mtu": 1450}
    res = module("veth", args, check=True)
    assert res["changed"] and link(node, "vethp1") is None and link(pod, "eth0") is None

    assert module("veth", args)["changed"]
    end, peer = link(node, "vethp1"), link(pod, "eth0")
    assert end.get("master") == link(node, "cni0")["index"]
    assert end.get("mtu") == peer.get("mtu") == 1450
    assert addrs(pod, "eth0") == ["10.244.1.2/24"]
    assert not module("veth", args)["changed"]

    with NetNS(pod, flags=0) as ipr:
        ipr.addr("del", index=ipr.link_lookup(ifname="eth0")[0], address="10.244.1.2", prefixlen=24)
    with NetNS(node, flags=0) as ipr:
        ipr.link("set", index=ipr.link_lookup(ifname="vethp1")[0], master=0)
    res = module("veth", args)
    assert res["changed"] and addrs(pod, "eth0") == ["10.244.1.2/24"]
    assert link(node, "vethp1").get("master") == link(node, "cni0")["index"]

    # the pod answers through the bridge: the wiring is real
    ping = subprocess.run(["ip", "netns", "exec", node, "ping", "-c", "1", "-W", "2", "10.244.1.2"], capture_output=True, check=False)
    assert ping.returncode == 0, ping.stdout

    assert module("veth", dict(args, state="absent"))["changed"]
    assert link(node, "vethp1") is None and link(pod, "eth0") is None
    assert not module("veth", dict(args, state="absent"))["changed"]


def test_links_refused_part_way_leave_the_host_as_it_was(module, netns):
    """A bridge or veth pair the call created is deleted again when the kernel refuses a
    later step (an MTU above the device's maximum)."""
    node, pod = netns("node"), netns("pod")
    res = module("bridge", {"name": "cni0", "netns": node, "addresses": ["10.244.1.1/24"], "mtu": 70000})
    assert res.failed and "bridge cni0" in res["msg"] and "the 1 change(s) this call had made before were undone" in res["msg"], res
    assert link(node, "cni0") is None

    assert module("bridge", {"name": "cni0", "netns": node, "addresses": ["10.244.1.1/24"]})["changed"]
    args = {"name": "vethp1", "netns": node, "master": "cni0", "peer": "eth0", "peer_netns": pod, "peer_addresses": ["10.244.1.2/24"]}
    res = module("veth", dict(args, mtu=70000))
    assert res.failed and "were undone; the host is as it was" in res["msg"], res
    assert link(node, "vethp1") is None and link(pod, "eth0") is None
    assert addrs(node, "cni0") == ["10.244.1.1/24"]


def test_veth_refuses_a_foreign_link_of_the_same_name(module, netns):
    node, pod = netns("vnode"), netns("vpod")
    uplink(node)
    res = module("veth", {"name": "up0", "netns": node, "peer": "eth0", "peer_netns": pod})
    assert res.failed and "refusing to touch it" in res["msg"]
    assert link(node, "up0") is not None


# --- routes ----------------------------------------------------------------


def test_routes_refused_part_way_leave_the_host_as_it_was(module, netns):
    """The kernel refuses the third route of a call: the first two (a replace and an add) are undone."""
    ns = netns("rt-undo")
    uplink(ns)
    module("routes", {"netns": ns, "routes": [{"dst": "10.1.0.0/24", "via": "192.168.77.2"}]})
    before = routes(ns)
    want = [
        {"dst": "10.1.0.0/24", "via": "192.168.77.5"},  # replaces ours
        {"dst": "10.2.0.0/24", "via": "192.168.77.6"},  # new
        {"dst": "10.3.0.0/24", "via": "10.99.0.1"},  # no such on-link next hop: refused
    ]
    res = module("routes", {"netns": ns, "routes": want})
    assert res.failed and "route 10.3.0.0/24 via 10.99.0.1" in res["msg"], res
    assert "the 2 change(s) this call had made before were undone" in res["msg"] and res["undone"] == 2, res["msg"]
    assert routes(ns) == before


def test_routes_check_apply_idempotent_drift_prune(module, netns):
    ns = netns("rt")
    uplink(ns)
    with NetNS(ns, flags=0) as ipr:  # an operator's own route, proto static
        ipr.route("add", dst="10.50.0.0/24", gateway="192.168.77.99", proto=4)
    foreign = ("10.50.0.0/24", "192.168.77.99", 4)
    want = [{"dst": "10.244.2.0/24", "via": "192.168.77.2", "dev": "up0"}, {"dst": "10.244.3.0/24", "via": "192.168.77.3"}]
    before = routes(ns)
    res = module("routes", {"netns": ns, "routes": want}, check=True)
    assert res["changed"] and len(res["added"]) == 2 and routes(ns) == before

    res = module("routes", {"netns": ns, "routes": want})
    assert res["changed"] and res["routes"] == ["10.244.2.0/24 via 192.168.77.2 dev up0 proto 201", "10.244.3.0/24 via 192.168.77.3 dev up0 proto 201"]
    assert ("10.244.2.0/24", "192.168.77.2", PROTO) in routes(ns)
    assert not module("routes", {"netns": ns, "routes": want})["changed"]
    assert not module("routes", {"netns": ns, "routes": want}, check=True)["changed"]

    # drift: a wrong next hop is replaced, a deleted route comes back
    with NetNS(ns, flags=0) as ipr:
        ipr.route("replace", dst="10.244.2.0/24", gateway="192.168.77.9", proto=PROTO)
        ipr.route("del", dst="10.244.3.0/24", proto=PROTO)
    res = module("routes", {"netns": ns, "routes": want})
    assert res["changed"] and len(res["added"]) == 2
    assert ("10.244.2.0/24", "192.168.77.2", PROTO) in routes(ns)

    # prune: a peer left; its route goes, the operator's stays
    res = module("routes", {"netns": ns, "routes": want[:1]})
    assert res["removed"] == ["10.244.3.0/24 via 192.168.77.3 dev up0 proto 201"]
    assert foreign in routes(ns) and not any(r[0] == "10.244.3.0/24" for r in routes(ns))

    # prune off keeps extra routes of ours
    module("routes", {"netns": ns, "routes": want})
    assert not module("routes", {"netns": ns, "routes": want[:1], "prune": False})["changed"]

    # absent with no routes removes all of ours and nothing else
    res = module("routes", {"netns": ns, "state": "absent"})
    assert res["changed"] and len(res["removed"]) == 2
    assert [r for r in routes(ns) if r[2] == PROTO] == [] and foreign in routes(ns)


def test_routes_never_overwrite_an_operators_route(module, netns):
    ns = netns("conflict")
    uplink(ns)
    with NetNS(ns, flags=0) as ipr:
        ipr.route("add", dst="10.244.2.0/24", gateway="192.168.77.50", proto=4)
    res = module("routes", {"netns": ns, "routes": [{"dst": "10.244.2.0/24", "via": "192.168.77.2"}]})
    assert res.failed and "refusing to overwrite routes that are not ours" in res["msg"]
    assert "10.244.2.0/24 via 192.168.77.2 proto 201 would replace 10.244.2.0/24 via 192.168.77.50 dev up0 proto 4" in res["msg"]
    assert ("10.244.2.0/24", "192.168.77.50", 4) in routes(ns)


def test_route_kernel_errors_name_the_route(module, netns):
    ns = netns("unreach")
    uplink(ns)
    res = module("routes", {"netns": ns, "routes": [{"dst": "10.244.2.0/24", "via": "10.9.9.9"}]})
    assert res.failed and "route 10.244.2.0/24 via 10.9.9.9" in res["msg"] and "Network is unreachable" in res["msg"]
    assert "Traceback" not in json.dumps(res)
    res = module("routes", {"netns": ns, "routes": [{"dst": "10.244.2.1/24", "via": "192.168.77.2"}]})
    assert res.failed and "has host bits set" in res["msg"]
    res = module("routes", {"netns": ns, "routes": [{"dst": "10.244.2.0/24", "via": "192.168.77.2", "dev": "nope0"}]})
    assert res.failed and "device nope0 does not exist" in res["msg"]
    res = module("routes", {"netns": "rnt-does-not-exist", "routes": []})
    assert res.failed and "network namespace 'rnt-does-not-exist' does not exist" in res["msg"]
    assert "rnt-does-not-exist" not in pnetns.listnetns()


def test_onlink_and_metric_and_default(module, netns):
    ns = netns("onlink")
    uplink(ns)
    want = [{"dst": "10.244.5.0/24", "via": "172.31.0.5", "dev": "up0", "onlink": True, "metric": 50}, {"dst": "default", "via": "192.168.77.1"}]
    res = module("routes", {"netns": ns, "routes": want})
    assert res["changed"], res
    assert "10.244.5.0/24 via 172.31.0.5 dev up0 onlink metric 50 proto 201" in res["routes"]
    assert "default via 192.168.77.1 dev up0 proto 201" in res["routes"]
    assert not module("routes", {"netns": ns, "routes": want})["changed"]


# --- node_facts, ip_forwarding, reachability --------------------------------


def test_node_facts_finds_the_underlay(module, netns):
    ns = netns("facts")
    uplink(ns, "192.168.77.1/24")
    res = module("node_facts", {"netns": ns, "underlay_ip": "192.168.77.1"})
    assert not res["changed"] and res["underlay_dev"] == "up0" and res["underlay_cidr"] == "192.168.77.1/24"
    assert res["underlay_mtu"] == 1500
    res = module("node_facts", {"netns": ns, "underlay_ip": "192.168.77.8"})
    assert res.failed and "192.168.77.8 is not configured on any interface" in res["msg"] and "192.168.77.1/24 on up0" in res["msg"]


def run_in_netns(ns, name, args, tmp_path, check=False):
    """Run a module as its own process inside a namespace, as Ansible runs it on a host."""
    argfile = tmp_path / ("%s.json" % name)
    argfile.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": dict(args, _ansible_check_mode=check, _ansible_diff=True)}))
    env = dict(os.environ, PYTHONPATH=os.path.join(REPO, "collections"))
    proc = subprocess.run(
        ["ip", "netns", "exec", ns, sys.executable, os.path.join(REPO, "plugins/modules/%s.py" % name), str(argfile)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    return json.loads(proc.stdout)


def test_ip_forwarding_runtime_and_persistent(netns, tmp_path):
    ns = netns("fwd")
    persist = tmp_path / "sysctl.d" / "90-routednet.conf"

    def read():
        cmd = ["ip", "netns", "exec", ns, "cat", "/proc/sys/net/ipv4/ip_forward"]
        return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()

    assert read() == "0"
    res = run_in_netns(ns, "ip_forwarding", {"persist_file": str(persist)}, tmp_path, check=True)
    assert res["changed"] and read() == "0" and not persist.exists()
    res = run_in_netns(ns, "ip_forwarding", {"persist_file": str(persist)}, tmp_path)
    assert res["changed"] and read() == "1" and "net.ipv4.ip_forward = 1" in persist.read_text()
    assert not run_in_netns(ns, "ip_forwarding", {"persist_file": str(persist)}, tmp_path)["changed"]
    res = run_in_netns(ns, "ip_forwarding", {"persist_file": str(persist), "state": "absent"}, tmp_path)
    assert res["changed"] and not persist.exists() and read() == "1"


def test_ip_forwarding_of_an_ipv6_only_node_leaves_ipv4_as_it_was(netns, tmp_path):
    ns = netns("fwd6")
    persist = tmp_path / "90-routednet.conf"

    def read(path):
        return subprocess.run(["ip", "netns", "exec", ns, "cat", path], capture_output=True, text=True, check=True).stdout.strip()

    args = {"persist_file": str(persist), "ipv4": False, "ipv6": True}
    res = run_in_netns(ns, "ip_forwarding", args, tmp_path)
    assert res["changed"] and read("/proc/sys/net/ipv6/conf/all/forwarding") == "1" and read("/proc/sys/net/ipv4/ip_forward") == "0"
    assert persist.read_text().splitlines()[1:] == ["net.ipv6.conf.all.forwarding = 1"]
    assert not run_in_netns(ns, "ip_forwarding", args, tmp_path)["changed"]
    res = run_in_netns(ns, "ip_forwarding", dict(args, ipv6=False), tmp_path)
    assert res["failed"] and res["msg"] == "ip_forwarding: ipv4=false and ipv6=false leave nothing to forward; turn one on, or set state=absent"


def test_reachability_reports_ttl_and_misses(module, netns):
    a, b = netns("pa"), netns("pb")
    with NetNS(a, flags=0) as ipr:
        ipr.link("add", ifname="eth0", kind="veth", peer={"ifname": "eth0", "net_ns_fd": b})
    for ns, ip in ((a, "10.99.0.1"), (b, "10.99.0.2")):
        with NetNS(ns, flags=0) as ipr:
            idx = ipr.link_lookup(ifname="eth0")[0]
            ipr.addr("add", index=idx, address=ip, prefixlen=24)
            ipr.link("set", index=idx, state="up")
    res = module("reachability", {"sources": [a], "targets": [{"address": "10.99.0.2", "pod": "pb"}, {"address": "10.99.0.9"}], "timeout": 1})
    assert not res["changed"] and res["failed_pairs"] == 1
    ok = {r["address"]: r for r in res["results"]}
    assert ok["10.99.0.2"]["ok"] and ok["10.99.0.2"]["ttl"] == 64 and ok["10.99.0.2"]["pod"] == "pb"
    assert not ok["10.99.0.9"]["ok"] and ok["10.99.0.9"]["ttl"] is None


def test_too_old_pyroute2_is_refused_clearly(module, monkeypatch):
    # what netlink.load() finds on Ubuntu 22.04 (tests/integration/test_pyroute2_sources.py loads such a one)
    monkeypatch.setattr(netlink, "LOADED", {"source": "system", "version": "0.6.4", "usable": False, "problem": "pyroute2 0.6.4, older than 0.7.2"})
    res = module("routes", {"routes": []})
    assert res.failed and "pyroute2 0.6.4, older than 0.7.2 for %s (Python %d.%d" % ((sys.executable,) + sys.version_info[:2]) in res["msg"]
    assert "routednet.fabric needs pyroute2 >= 0.7.2. Fix: run a provisioning playbook with routednet_pyroute2_install=auto" in res["msg"]


def test_check_mode_predicts_inside_a_namespace_not_created_yet(module):
    ghost = "rnt-%d-not-yet" % os.getpid()
    res = module("routes", {"netns": ghost, "routes": [{"dst": "default", "via": "10.244.1.1"}]}, check=True)
    assert res["changed"] and res["added"] == ["default via 10.244.1.1 proto 201"]
    res = module("veth", {"name": "vethx", "peer": "eth0", "peer_netns": ghost, "peer_addresses": ["10.244.1.2/24"]}, check=True)
    assert res["changed"] and "does not exist yet" in res["changes"][0]
    assert module("bridge", {"name": "cni0", "netns": ghost}, check=True)["changed"]
    assert ghost not in pnetns.listnetns()
    # outside check mode a missing namespace is an error, never created on the fly
    res = module("routes", {"netns": ghost, "routes": []})
    assert res.failed and "does not exist" in res["msg"] and ghost not in pnetns.listnetns()


def test_node_facts_finds_the_ipv6_underlay_and_passes_over_what_cannot_stay(module, netns):
    """On the real kernel: a static address beside a deprecated one and the link-local one
    (the kernel's own, still tentative: duplicate address detection takes a second); and
    a pinned address. (nodad: the test does not wait for detection.)"""
    ns = netns("facts6")
    uplink(ns, "192.168.77.1/24")
    for args in (["fd00:77::9/64", "nodad", "preferred_lft", "0"], ["fd00:77::5/64", "nodad"], ["fd00:77::3/64", "nodad", "preferred_lft", "0"]):
        subprocess.run(["ip", "-n", ns, "-6", "addr", "add", *args, "dev", "up0"], check=True)
    res = module("node_facts", {"netns": ns, "underlay_ip": "192.168.77.1", "ipv6": True})
    assert res["underlay_v6"] == {"address": "fd00:77::5", "cidr": "fd00:77::5/64", "dev": "up0", "source": "found"}, res
    assert "fd00:77::9/64 deprecated" in res["underlay_v6_passed_over"] and "fd00:77::3/64 deprecated" in res["underlay_v6_passed_over"]
    assert [line for line in res["underlay_v6_passed_over"] if line.endswith("link-local")], res["underlay_v6_passed_over"]
    res = module("node_facts", {"netns": ns, "underlay_ip": "192.168.77.1", "ipv6": True, "underlay_ip_v6": "fd00:77::5"})
    assert res["underlay_v6"]["source"] == "routednet_underlay_ip_v6"
    res = module("node_facts", {"netns": ns, "underlay_ip": "192.168.77.1", "ipv6": True, "underlay_ip_v6": "fd00:77::9"})
    assert res.failed and "routednet_underlay_ip_v6 fd00:77::9 on up0 is deprecated" in res["msg"], res
    res = module("node_facts", {"netns": ns, "underlay_ip": "192.168.77.1", "ipv6": True, "underlay_ip_v6": "fd00:77::77"})
    assert res.failed and "fd00:77::77 is not configured on any interface" in res["msg"] and "fd00:77::5/64 on up0" in res["msg"], res
    assert "underlay_v6" not in module("node_facts", {"netns": ns, "underlay_ip": "192.168.77.1"})


def test_node_facts_returns_the_routes_that_decide_each_peer(module, netns):
    """On-link, through a gateway, blackholed, ours (left out), nothing: only winners come back."""
    ns = netns("adj")
    uplink(ns, "192.168.77.1/24")
    with NetNS(ns, flags=0) as ipr:
        up0 = ipr.link_lookup(ifname="up0")[0]
        ipr.route("add", dst="10.50.0.0/16", gateway="192.168.77.254", oif=up0)
        ipr.route("add", dst="10.51.0.0/16", gateway="192.168.77.253", oif=up0)  # no peer behind it
        ipr.route("add", dst="10.60.0.0/16", type="blackhole")
        ipr.route("add", dst="10.70.0.0/24", gateway="192.168.77.9", oif=up0, proto=PROTO)
    peers = ["192.168.77.5", "10.50.1.1", "10.60.0.1", "10.70.0.5", "172.31.0.1"]
    res = module("node_facts", {"netns": ns, "underlay_ip": "192.168.77.1", "peers": peers})
    got = {r["dst"]: (r["via"], r["dev"], r["type"]) for r in res["underlay_routes"]}
    assert got == {
        "192.168.77.0/24": (None, "up0", "unicast"),
        "10.50.0.0/16": ("192.168.77.254", "up0", "unicast"),
        "10.60.0.0/16": (None, None, "blackhole"),
    }
    res = module("node_facts", {"netns": ns, "underlay_ip": "192.168.77.1", "peers": ["not-an-ip"]})
    assert res.failed and "peers: 'not-an-ip' is not an IPv4 address" in res["msg"]


def test_reachability_names_the_path_the_node_takes(netns, tmp_path):
    """A node (its own namespace) with a pod: the pod's ping to the peer node goes out on
    the underlay (direct, TTL 63); a target routed into a VXLAN device is named vxlan."""
    node, peer, pod = netns("node"), netns("peer"), netns("pod")
    with NetNS(node, flags=0) as ipr:
        ipr.link("add", ifname="eth0", kind="veth", peer={"ifname": "eth0", "net_ns_fd": peer})
        ipr.link("add", ifname="p0", kind="veth", peer={"ifname": "eth0", "net_ns_fd": pod})
    for ns, dev, ip in ((node, "eth0", "10.99.0.1"), (peer, "eth0", "10.99.0.2"), (node, "p0", "10.98.0.1"), (pod, "eth0", "10.98.0.2")):
        with NetNS(ns, flags=0) as ipr:
            idx = ipr.link_lookup(ifname=dev)[0]
            ipr.addr("add", index=idx, address=ip, prefixlen=24)
            ipr.link("set", index=idx, state="up")
    with NetNS(pod, flags=0) as ipr:
        ipr.route("add", dst="0.0.0.0/0", gateway="10.98.0.1")
    with NetNS(peer, flags=0) as ipr:
        ipr.route("add", dst="10.98.0.0/24", gateway="10.99.0.1")
    with NetNS(node, flags=0) as ipr:
        ipr.link("add", ifname="vx0", kind="vxlan", vxlan_id=5, vxlan_local="10.99.0.1", vxlan_link=ipr.link_lookup(ifname="eth0")[0], vxlan_port=8472)
        vx0 = ipr.link_lookup(ifname="vx0")[0]
        ipr.link("set", index=vx0, state="up")
        ipr.route("add", dst="10.96.0.0/24", gateway="10.97.0.5", oif=vx0, flags=netlink.RTNH_F_ONLINK)
    subprocess.run(["ip", "netns", "exec", node, "sysctl", "-qw", "net.ipv4.ip_forward=1"], check=True)
    targets = [{"address": "10.99.0.2", "node": "peer"}, {"address": "10.96.0.7", "node": "far"}]
    res = run_in_netns(node, "reachability", {"sources": [pod], "targets": targets, "timeout": 1, "count": 1}, tmp_path)
    by_node = {r["node"]: r for r in res["results"]}
    assert by_node["peer"]["ok"] and by_node["peer"]["ttl"] == 63
    assert by_node["peer"]["path"] == {"kind": "direct", "dev": "eth0", "via": None}
    assert not by_node["far"]["ok"]
    assert by_node["far"]["path"] == {"kind": "vxlan", "dev": "vx0", "via": "10.97.0.5"}


# --- ownership (issue 16) ---------------------------------------------------


def test_netns_marks_its_own_and_never_adopts_or_deletes_an_operators(module):
    mine, theirs = "rnt-%d-own-mine" % os.getpid(), "rnt-%d-own-theirs" % os.getpid()
    try:
        assert module("netns", {"name": mine})["changed"]
        assert link(mine, "lo").get("ifalias") == netlink.OWNER_ALIAS
        pnetns.create(theirs)  # an operator's, with a link of its own
        with NetNS(theirs, flags=0) as ipr:
            ipr.link("add", ifname="op0", kind="veth", peer={"ifname": "op1"})
        for state in ("present", "absent"):
            res = module("netns", {"name": theirs, "state": state})
            assert res.failed and "was not created by routednet.fabric" in res["msg"], res
        assert theirs in pnetns.listnetns() and link(theirs, "op0") is not None
        assert link(theirs, "lo").get("ifalias") in (None, ""), "the operator's namespace was marked"
        assert module("netns", {"name": mine, "state": "absent"})["changed"]
    finally:
        for name in (mine, theirs):
            if name in pnetns.listnetns():
                pnetns.remove(name)


def test_netns_marks_a_pod_an_earlier_version_made(module, netns):
    """Unmarked, holding nothing but loopback and the collection's veth end: ours."""
    host = netns("legacyhost")
    pod = "rnt-%d-legacy-pod" % os.getpid()
    pnetns.create(pod)
    try:
        with NetNS(host, flags=0) as ipr:
            ipr.link("add", ifname="vethlegacy", kind="veth", peer={"ifname": "eth0", "net_ns_fd": pod})
        with NetNS(pod, flags=0) as ipr:
            ipr.link("set", index=ipr.link_lookup(ifname="eth0")[0], ifalias=netlink.OWNER_ALIAS)
        res = module("netns", {"name": pod})
        assert res["changed"] and res["changes"] == ["mark netns %s as made by routednet.fabric (made before namespaces were marked)" % pod]
        assert link(pod, "lo").get("ifalias") == netlink.OWNER_ALIAS
        assert not module("netns", {"name": pod})["changed"]
    finally:
        pnetns.remove(pod)


def test_a_tunnel_never_replaces_the_collections_bridge(module, netns):
    ns = netns("vtepbridge")
    uplink(ns)
    assert module("bridge", {"netns": ns, "name": "cni0", "addresses": ["10.244.1.1/24"]})["changed"]
    res = module("tunnel", {"netns": ns, "name": "cni0", "kind": "vxlan", "vni": 1, "local": "192.168.77.1", "dev": "up0"})
    assert res.failed and "is the collection's bridge, not a tunnel device" in res["msg"], res
    assert links_kind(ns, "cni0") == "bridge" and addrs(ns, "cni0") == ["10.244.1.1/24"]


def links_kind(ns, name):
    return link(ns, name).get_nested("IFLA_LINKINFO", "IFLA_INFO_KIND")


def test_prune_leaves_our_protocols_routes_in_tables_it_does_not_write(module, netns):
    ns = netns("tables")
    uplink(ns)
    with NetNS(ns, flags=0) as ipr:  # someone else's use of protocol 201, in table 100
        ipr.route("add", dst="10.60.0.0/24", gateway="192.168.77.60", proto=PROTO, table=100)
    want = [{"dst": "10.244.2.0/24", "via": "192.168.77.2"}]
    res = module("routes", {"netns": ns, "routes": want})
    assert res["changed"] and res["removed"] == []
    res = module("routes", {"netns": ns, "state": "absent"})
    assert res["removed"] == ["10.244.2.0/24 via 192.168.77.2 dev up0 proto 201"]
    with NetNS(ns, flags=0) as ipr:
        kept = [r for r in ipr.route("dump", family=2, table=100) if r.get("table") == 100]
    assert [(r.get("dst"), r["proto"]) for r in kept] == [("10.60.0.0", PROTO)]
    # a table a desired route names is one it writes, and prunes
    res = module("routes", {"netns": ns, "routes": [{"dst": "10.61.0.0/24", "via": "192.168.77.61", "table": 100}]})
    assert res["removed"] == ["10.60.0.0/24 via 192.168.77.60 dev up0 table 100 proto 201"], res


def test_ip_forwarding_never_overwrites_or_removes_an_operators_file(netns, tmp_path):
    ns = netns("fwdown")
    theirs = tmp_path / "99-operator.conf"
    theirs.write_text("net.core.somaxconn = 1024\n")
    for state in ("present", "absent"):
        res = run_in_netns(ns, "ip_forwarding", {"persist_file": str(theirs), "state": state}, tmp_path)
        assert res.get("failed") and "was not written by routednet.fabric" in res["msg"], res
    assert theirs.read_text() == "net.core.somaxconn = 1024\n"


def test_firewall_never_replaces_or_deletes_an_operators_table(netns, tmp_path):
    ns = netns("fwtable")
    operator = "table inet filter {\n chain input {\n  type filter hook input priority 0; policy accept;\n  tcp dport 22 accept\n }\n}\n"
    subprocess.run(["ip", "netns", "exec", ns, "nft", "-f", "-"], input=operator, text=True, check=True)
    before = subprocess.run(["ip", "netns", "exec", ns, "nft", "-s", "list", "ruleset"], capture_output=True, text=True, check=True).stdout
    args = {"table": "filter", "nodes": ["192.168.77.1"], "cluster_cidr": "10.244.0.0/16"}
    for call in (args, dict(args, state="absent"), {"table": "filter", "drop_nodes": ["192.168.77.1"]}):
        res = run_in_netns(ns, "firewall", call, tmp_path)
        assert res.get("failed") and "was not created by routednet.fabric" in res["msg"], (call, res)
    after = subprocess.run(["ip", "netns", "exec", ns, "nft", "-s", "list", "ruleset"], capture_output=True, text=True, check=True).stdout
    assert after == before
    # our own table of that name, once made, is ours to replace and delete
    assert not run_in_netns(ns, "firewall", dict(args, table="routednet"), tmp_path).get("failed")
    assert run_in_netns(ns, "firewall", {"table": "routednet", "state": "absent"}, tmp_path)["changed"]
