"""A dual-stack cluster on host-gw: lab/topologies/dualstack.yml, two Debian 12 system nodes
on one segment with IPv4 and static IPv6 underlay addresses (node_facts finds the IPv6
ones; the inventory names none).

The lab first runs as an IPv4 cluster; IPv6 is then added to the running cluster while a
pod pings across it (no IPv4 packet may be lost, no IPv4 lease may move). Then both
families answer full-size DF pings with TTL / hop limit 62, IPv6 pod packets cross the
underlay bare, a drifted IPv6 route is put back, a node that takes its IPv6 configuration
from router advertisements (radvd on the segment) keeps taking them with forwarding on,
and a real reboot restores both families with no run in between. Last, after the
decommission, the lab runs as an IPv6-only cluster on VXLAN over the IPv6 underlay.
"""

import contextlib
import json
import os
import re
import signal
import subprocess
import time
import types

import pytest
import yaml

import labhelpers
from ansible_collections.routednet.fabric.plugins.module_utils.backends.vxlan import vtep_mac
from labhelpers import BIN, in_node_namespaces, in_pod_network, ns_of, playbook, recap, restorable_state, run, running_lab, sh

pytestmark = [pytest.mark.lab, pytest.mark.slow, pytest.mark.skipif(os.geteuid() != 0, reason="needs root: builds a lab")]

LAB = "dualstack"
IPV4_ONLY = '{"routednet_cluster_cidr": "172.16.0.0/12"}'
# (the lab inventory gives each node an IPv4 pod subnet, which an IPv6-only cluster has not)
IPV6_ONLY = '{"routednet_cluster_cidr": "fd00:10:244::/56", "routednet_pod_cidr": null, "routednet_vxlan_underlay": "ipv6"}'
DOCKER1_V6, DOCKER2_V6 = "fd00:10:244:1::2", "fd00:10:244:2::2"
# radvd on the segment advertises a default route that lasts 8 s unless the next
# advertisement (every 3-4 s) renews it, and a prefix for addresses: node1 takes them
# (accept_ra 1, the kernel's default), node2 does not (accept_ra 0).
RADVD_CONF = """interface br0 {
    AdvSendAdvert on;
    MinRtrAdvInterval 3;
    MaxRtrAdvInterval 4;
    AdvDefaultLifetime 8;
    prefix 2001:db8:ff::/64 { AdvOnLink on; AdvAutonomous on; AdvValidLifetime 60; AdvPreferredLifetime 60; };
};
"""


def play(inventory, name, *extra):
    res = playbook(os.path.join("playbooks", name), "-i", str(inventory), *extra)
    assert res.returncode == 0, res.stdout[-5000:] + res.stderr[-2000:]
    return res.stdout


def accept_ra(node):
    return sh("ip", "netns", "exec", ns_of(LAB, node), "cat", "/proc/sys/net/ipv6/conf/eth0/accept_ra").strip()


def ra_default_route(node):
    return [line for line in sh("ip", "-n", ns_of(LAB, node), "-6", "route", "show", "default").splitlines() if "proto ra" in line]


class Advertiser:
    """radvd on the lab segment's bridge until stop() (it needs forwarding in its own
    namespace, the segment's, which has no other interface)."""

    def __init__(self, directory):
        segment = "rnlab-%s-seg-lan1" % LAB
        conf, self.pid_file = os.path.join(str(directory), "radvd.conf"), os.path.join(str(directory), "radvd.pid")
        with open(conf, "w") as handle:
            handle.write(RADVD_CONF)
        sh("ip", "netns", "exec", segment, "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1")
        sh("ip", "netns", "exec", segment, "radvd", "-C", conf, "-p", self.pid_file)
        self.running = True

    def stop(self):
        """Ends radvd and waits until it is gone; again, does nothing."""
        if not self.running:
            return
        with open(self.pid_file) as handle:
            pid = int(handle.read())
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.time() + 10
        while os.path.exists("/proc/%d" % pid) and time.time() < deadline:
            time.sleep(0.1)
        assert not os.path.exists("/proc/%d" % pid), "radvd did not end"
        self.running = False


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """The lab, its IPv4 cluster running, and radvd advertising on its segment (.advertiser)
    until the reboot test stops it."""
    directory = tmp_path_factory.mktemp("dualstack")
    with running_lab(LAB, "dualstack.yml", directory / "hosts.yml") as inventory:
        sh("ip", "netns", "exec", ns_of(LAB, "node2"), "sysctl", "-qw", "net.ipv6.conf.eth0.accept_ra=0")
        advertiser = Advertiser(directory)
        try:
            deadline = time.time() + 20
            while not ra_default_route("node1") and time.time() < deadline:
                time.sleep(0.5)
            assert ra_default_route("node1") and not ra_default_route("node2")
            play(inventory, "hostgw.yml", "-e", IPV4_ONLY)
            yield types.SimpleNamespace(inventory=inventory, advertiser=advertiser)
        finally:
            advertiser.stop()


@pytest.fixture(scope="module")
def cluster(lab):
    return lab.inventory


def leases(inventory):
    with open(os.path.join(os.path.dirname(str(inventory)), ".routednet-leases.yml")) as handle:
        return yaml.safe_load(handle)


def test_adding_ipv6_to_a_running_ipv4_cluster_loses_no_ipv4_packet_and_moves_no_lease(cluster):
    before = leases(cluster)
    assert "routednet_leases_v6" not in before, before
    ping = subprocess.Popen(
        in_pod_network(LAB, "node1", "docker1", "ping", "-n", "-i", "0.05", "172.18.0.2"), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        time.sleep(1)
        play(cluster, "hostgw.yml")
        time.sleep(1)
    finally:
        ping.send_signal(signal.SIGINT)
        out = ping.communicate(timeout=30)[0]
    sent, received = map(int, re.search(r"(\d+) packets transmitted, (\d+) received", out).groups())
    assert sent > 40 and received == sent, out[-2000:]

    after = leases(cluster)
    assert after["routednet_leases"] == before["routednet_leases"], after
    assert after["routednet_leases_v6"] == {"node1": "fd00:10:244:1::/64", "node2": "fd00:10:244:2::/64"}, after

    ipv4, ipv6 = grids(play(cluster, "verify.yml", "-e", "verify_full_size=true", "-e", "verify_expected_ttl=62"))
    assert ipv4.count("62 direct") == 2 and ipv6.count("62 direct") == 2, ipv4 + ipv6
    again = play(cluster, "hostgw.yml")
    assert [recap(again, node)["changed"] for node in ("node1", "node2")] == [0, 0], again[-3000:]
    check = play(cluster, "hostgw.yml", "--check")
    assert [recap(check, node)["changed"] for node in ("node1", "node2")] == [0, 0], check[-3000:]


def test_a_node_that_takes_router_advertisements_keeps_taking_them_with_forwarding_on(cluster):
    # node1 learns its default route from advertisements: accept_ra 2 keeps them with
    # forwarding on, now and at boot; node2 takes none, so nothing of it was touched
    assert accept_ra("node1") == "2" and accept_ra("node2") == "0"
    files = {node: run(*in_node_namespaces(LAB, node, "cat", "/etc/sysctl.d/90-routednet.conf")).stdout.splitlines()[1:] for node in ("node1", "node2")}
    assert files["node1"] == ["net.ipv4.ip_forward = 1", "-net.ipv6.conf.eth0.accept_ra = 2", "net.ipv6.conf.all.forwarding = 1"], files
    assert files["node2"] == ["net.ipv4.ip_forward = 1", "net.ipv6.conf.all.forwarding = 1"], files
    assert sh("ip", "netns", "exec", ns_of(LAB, "node1"), "cat", "/proc/sys/net/ipv6/conf/all/forwarding").strip() == "1"
    # the advertised default route lasts 8 s: it is still there after 10 only if renewed
    time.sleep(10)
    assert ra_default_route("node1"), sh("ip", "-n", ns_of(LAB, "node1"), "-6", "route")
    # and node1's IPv6 underlay address is its static one, not the one made from the prefix
    routes = sh("ip", "-n", ns_of(LAB, "node2"), "-6", "route", "show", "proto", "201")
    assert "fd00:10:244:1::/64 via fd00:192:168:245::168 dev eth0" in routes, routes


def test_ipv6_pod_packets_cross_the_underlay_bare(cluster):
    seen = capture("node2", "icmp6 and src host %s" % DOCKER1_V6, lambda: ping6("node1", "docker1", DOCKER2_V6))
    assert re.search(r"IP6 %s > %s: ICMP6, echo request" % (re.escape(DOCKER1_V6), re.escape(DOCKER2_V6)), seen), seen


def test_a_drifted_ipv6_route_is_put_back(cluster):
    ns = ns_of(LAB, "node1")
    sh("ip", "-n", ns, "-6", "route", "del", "fd00:10:244:2::/64")
    out = play(cluster, "hostgw.yml", "--diff")
    assert recap(out, "node1")["changed"] == 1 and recap(out, "node2")["changed"] == 0, out[-3000:]
    assert "fd00:10:244:2::/64 via fd00:192:168:245::172 dev eth0 metric 1024" in sh("ip", "-n", ns, "-6", "route", "show", "proto", "201")


def diagnosed(inventory, src, dst, *extra):
    """diagnose.yml's report: (the hops that held, the first broken hop or None)."""
    res = playbook("playbooks/diagnose.yml", "-i", str(inventory), "-e", "src=%s" % src, "-e", "dst=%s" % dst, *extra)
    assert res.returncode == 0 and "Traceback" not in res.stdout, res.stdout[-3000:]
    broken = re.search(r"FIRST BROKEN HOP: (.+)", res.stdout)
    return len(re.findall(r"^\s+\d+ ok  ", res.stdout, re.M)), broken.group(1).strip() if broken else None, res.stdout


def test_diagnose_follows_the_ipv6_path_and_names_its_broken_hop(cluster):
    held, broken, out = diagnosed(cluster, "node1/docker1", DOCKER2_V6)
    assert (held, broken) == (15, None) and "and the ping was answered (TTL 62)" in out, out[-3000:]
    assert "route to node2's pods: %s via fd00:192:168:245::172 dev eth0" % DOCKER2_V6 in out, out[-3000:]
    sh("ip", "-n", ns_of(LAB, "node2"), "-6", "route", "del", "fd00:10:244:1::/64")
    _held, broken, out = diagnosed(cluster, "node1/docker1", DOCKER2_V6)
    assert broken == "node2, route to node1's pods", out[-3000:]
    assert "want:  fd00:10:244:1::/64 via fd00:192:168:245::168 dev <underlay> (host-gw)" in out, out[-3000:]
    play(cluster, "hostgw.yml")


def capture(node, bpf, then, *tcpdump_args):
    return labhelpers.capture(LAB, node, bpf, then, *tcpdump_args)


def ping6(node, pod, address):
    res = run(*in_pod_network(LAB, node, pod, "ping", "-6", "-n", "-c", "2", "-W", "2", address))
    assert res.returncode == 0 and "ttl=62" in res.stdout, res.stdout + res.stderr
    return res


def grids(matrix):
    """(IPv4 grid, IPv6 grid) of verify's output."""
    ipv4, ipv6 = matrix.split("IPv4:", 1)[1].split("IPv6:", 1)
    return ipv4, ipv6.split("TASK", 1)[0]


def test_vxlan_carries_both_families_through_one_vtep_over_the_ipv4_underlay(cluster):
    play(cluster, "vxlan.yml")
    ipv4, ipv6 = grids(play(cluster, "verify.yml", "-e", "verify_full_size=true", "-e", "verify_expected_ttl=62"))
    assert ipv4.count("62 vxlan") == 2 and ipv6.count("62 vxlan") == 2, ipv4 + ipv6
    seen = capture("node2", "udp port 8472", lambda: ping6("node1", "docker1", DOCKER2_V6), "-T", "vxlan")
    pattern = r"IP 192\.168\.245\.168\.\d+ > 192\.168\.245\.172\.8472: VXLAN, flags \[I\] \(0x08\), vni 1\s*IP6 %s > %s: ICMP6, echo request"
    assert re.search(pattern % (re.escape(DOCKER1_V6), re.escape(DOCKER2_V6)), seen), seen
    # node2's pods via its VTEP's link-local address, which node1 maps to its MAC for good
    vtep = json.loads(sh("ip", "-j", "-n", ns_of(LAB, "node2"), "addr", "show", "dev", "vxlan-routednet"))[0]
    link_local = next(a["local"] for a in vtep["addr_info"] if a["local"].startswith("fe80:"))
    neighbours = sh("ip", "-n", ns_of(LAB, "node1"), "-6", "neigh", "show", "nud", "permanent")
    assert neighbours == "%s dev vxlan-routednet lladdr %s PERMANENT \n" % (link_local, vtep["address"]), neighbours
    routes = sh("ip", "-n", ns_of(LAB, "node1"), "-6", "route", "show", "proto", "201")
    assert "fd00:10:244:2::/64 via %s dev vxlan-routednet metric 1024" % link_local in routes, routes
    check = play(cluster, "vxlan.yml", "--check")
    assert [recap(check, node)["changed"] for node in ("node1", "node2")] == [0, 0], check[-3000:]


def test_vxlan_over_the_ipv6_underlay_carries_both_families_70_bytes_short(cluster):
    over_ipv6 = ("-e", "routednet_vxlan_underlay=ipv6")
    play(cluster, "vxlan.yml", *over_ipv6)
    vtep = sh("ip", "-d", "-n", ns_of(LAB, "node1"), "link", "show", "dev", "vxlan-routednet")
    assert " mtu 1430 " in vtep and "vxlan id 1 local fd00:192:168:245::168 dev eth0 " in vtep, vtep
    fdb = sh("bridge", "-n", ns_of(LAB, "node1"), "fdb", "show", "dev", "vxlan-routednet")
    assert "dst fd00:192:168:245::172 self permanent" in fdb, fdb
    # full-size DF pings of both families at 1430, the underlay's 1500 less 70
    ipv4, ipv6 = grids(play(cluster, "verify.yml", "-e", "verify_full_size=true", "-e", "verify_expected_ttl=62"))
    assert ipv4.count("62 vxlan") == 2 and ipv6.count("62 vxlan") == 2, ipv4 + ipv6
    seen = capture("node2", "udp port 8472", lambda: ping6("node1", "docker1", DOCKER2_V6), "-T", "vxlan")
    pattern = r"IP6 fd00:192:168:245::168\.\d+ > fd00:192:168:245::172\.8472: VXLAN, flags \[I\] \(0x08\), vni 1\s*IP6 %s > %s: ICMP6, echo request"
    assert re.search(pattern % (re.escape(DOCKER1_V6), re.escape(DOCKER2_V6)), seen), seen
    firewall = run(*in_node_namespaces(LAB, "node2", "nft", "list", "table", "inet", "routednet")).stdout
    assert 'udp dport 8472 iifname "eth0" ip6 saddr @nodes6 ip6 daddr fd00:192:168:245::172 accept' in firewall, firewall
    # diagnose follows either family's path through the VTEP to the IPv6 underlay address
    for dst in (DOCKER2_V6, "172.18.0.2"):
        held, broken, out = diagnosed(cluster, "node1/docker1", dst, *over_ipv6)
        assert (held, broken) == (19, None), out[-3000:]
        assert "VXLAN FDB entry of node2: %s dst fd00:192:168:245::172" % vtep_mac("node2") in out, out[-3000:]
    check = play(cluster, "vxlan.yml", "--check", *over_ipv6)
    assert [recap(check, node)["changed"] for node in ("node1", "node2")] == [0, 0], check[-3000:]

    # an IPv4-only cluster over the IPv6 underlay: the IPv6 pod network goes, all of it
    play(cluster, "vxlan.yml", "-e", IPV4_ONLY, *over_ipv6)
    matrix = play(cluster, "verify.yml", "-e", IPV4_ONLY, "-e", "verify_full_size=true", "-e", "verify_expected_ttl=62")
    assert "IPv6:" not in matrix and matrix.count("62 vxlan") == 2, matrix[-3000:]
    node1 = ns_of(LAB, "node1")
    assert sh("ip", "-n", node1, "-6", "route", "show", "proto", "201") == "" and sh("ip", "-n", node1, "-6", "neigh", "show", "nud", "permanent") == ""
    assert sh("ip", "-n", node1, "-6", "-o", "addr", "show", "dev", "cni0", "scope", "global") == ""
    assert "dst fd00:192:168:245::172 self permanent" in sh("bridge", "-n", node1, "fdb", "show", "dev", "vxlan-routednet")


def test_hybrid_routes_each_family_of_a_pair_on_its_own(cluster):
    """Without an IPv6 address on node2's segment the pair still shares its IPv4 one:
    hybrid routes their IPv4 pods directly and tunnels their IPv6 pods."""
    node2, address = ns_of(LAB, "node2"), "fd00:192:168:245::172/64"
    sh("ip", "-n", node2, "addr", "del", address, "dev", "eth0")
    try:
        play(cluster, "hybrid.yml")
        ipv4, ipv6 = grids(play(cluster, "verify.yml", "-e", "verify_full_size=true", "-e", "verify_expected_ttl=62"))
        assert ipv4.count("62 direct") == 2 and ipv6.count("62 vxlan") == 2, ipv4 + ipv6
    finally:
        sh("ip", "-n", node2, "addr", "add", address, "dev", "eth0", "nodad")
    play(cluster, "hybrid.yml")
    ipv4, ipv6 = grids(play(cluster, "verify.yml", "-e", "verify_expected_ttl=62"))
    assert ipv4.count("62 direct") == 2 and ipv6.count("62 direct") == 2, ipv4 + ipv6
    # the tunnelled pair's IPv6 neighbour went with it
    assert sh("ip", "-n", ns_of(LAB, "node1"), "-6", "neigh", "show", "nud", "permanent") == ""


def test_a_real_reboot_restores_both_families(lab, cluster):
    # a rebooted node2 comes up with the kernel's accept_ra 1 in a fresh namespace, and
    # would take radvd's prefix before its restore turns forwarding on: radvd is gone
    lab.advertiser.stop()
    before = restorable_state(LAB, "node2")
    assert before["ipv6"]["forwarding"] == "1" and "inet6 fd00:10:244:2::1/64" in " ".join(before["ipv6"]["addresses"]), before["ipv6"]
    inode = os.stat("/run/netns/%s" % ns_of(LAB, "node2")).st_ino
    rebooted = run(os.path.join(BIN, "ansible"), "node2", "-i", str(cluster), "-m", "ansible.builtin.reboot", "-a", "reboot_timeout=180")
    assert rebooted.returncode == 0, rebooted.stdout[-3000:] + rebooted.stderr[-2000:]
    # a fresh network namespace: only the boot restore can have put both families back
    assert os.stat("/run/netns/%s" % ns_of(LAB, "node2")).st_ino != inode
    assert restorable_state(LAB, "node2") == before
    matrix = play(cluster, "verify.yml", "-e", "verify_expected_ttl=62")
    assert matrix.count("62 direct") == 4, matrix[-3000:]


def test_decommission_takes_both_families_away(cluster):
    play(cluster, "decommission.yml", "-e", "routednet_decommission=node2")
    node1, node2 = ns_of(LAB, "node1"), ns_of(LAB, "node2")
    assert sh("ip", "-n", node1, "-6", "route", "show", "proto", "201") == "", "node1 still routes node2's IPv6 pods"
    assert sh("ip", "-n", node2, "-6", "route", "show", "proto", "201") == sh("ip", "-n", node2, "-4", "route", "show", "proto", "201") == ""
    assert sh("ip", "-n", node2, "-6", "-o", "addr", "show", "scope", "global").split()[3] == "fd00:192:168:245::172/64"
    assert len(sh("ip", "-n", node2, "-6", "-o", "addr", "show", "scope", "global").splitlines()) == 1
    assert run(*in_node_namespaces(LAB, "node2", "ls", "/etc/sysctl.d/90-routednet.conf")).returncode != 0
    assert "node2" not in leases(cluster)["routednet_leases_v6"] and "node2" not in leases(cluster)["routednet_leases"]


def test_an_ipv6_only_cluster_on_vxlan_over_the_ipv6_underlay(cluster):
    """After the decommission node2 joins afresh, and node1 gives up its IPv4 pod network:
    IPv6 pods only, through VTEPs over the IPv6 underlay, and nothing of IPv4's left."""
    play(cluster, "vxlan.yml", "-e", IPV6_ONLY)
    matrix = play(cluster, "verify.yml", "-e", IPV6_ONLY, "-e", "verify_full_size=true", "-e", "verify_expected_ttl=62")
    assert "IPv6:" in matrix and "IPv4:" not in matrix and matrix.count("62 vxlan") == 2, matrix[-3000:]
    seen = capture("node1", "udp port 8472", lambda: ping6("node2", "docker2", DOCKER1_V6), "-T", "vxlan")
    pattern = r"IP6 fd00:192:168:245::172\.\d+ > fd00:192:168:245::168\.8472: VXLAN, flags \[I\] \(0x08\), vni 1\s*IP6 %s > %s: ICMP6, echo request"
    assert re.search(pattern % (re.escape(DOCKER2_V6), re.escape(DOCKER1_V6)), seen), seen
    for node, pod in (("node1", "docker1"), ("node2", "docker2")):
        ns = ns_of(LAB, node)
        assert sh("ip", "-n", ns, "-4", "route", "show", "proto", "201") == "", node
        assert [sh("ip", "-n", ns, "-4", "-o", "addr", "show", "dev", dev) for dev in ("cni0", "vxlan-routednet")] == ["", ""], node
        assert "mtu 1430 " in sh("ip", "-n", ns, "link", "show", "dev", "vxlan-routednet")
        in_pod = [run(*in_pod_network(LAB, node, pod, "ip", "-4", *what)).stdout for what in (("-o", "addr", "show", "dev", "eth0"), ("route",))]
        assert in_pod == ["", ""], in_pod
        files = run(*in_node_namespaces(LAB, node, "cat", "/etc/sysctl.d/90-routednet.conf", "/run/flannel/subnet.env")).stdout
        assert "ipv4" not in files and "FLANNEL_NETWORK" not in files and "FLANNEL_IPV6_SUBNET=fd00:10:244:%s::1/64" % node[-1] in files, files
        forward = run(*in_node_namespaces(LAB, node, "nft", "list", "chain", "inet", "routednet", "forward")).stdout
        assert "ip6 saddr fd00:10:244::/56 ip6 daddr fd00:10:244::/56" in forward and "ip saddr" not in forward, forward
    # node1's IPv4 lease is kept for a return to IPv4; node2, decommissioned, leased none
    kept = leases(cluster)
    assert kept["routednet_leases"] == {"node1": "172.17.0.0/24"} and sorted(kept["routednet_leases_v6"]) == ["node1", "node2"], kept
    runs = [play(cluster, "vxlan.yml", "-e", IPV6_ONLY, *check) for check in ((), ("--check",))]
    assert [recap(out, node)["changed"] for out in runs for node in ("node1", "node2")] == [0, 0, 0, 0], runs[-1][-3000:]


def test_ipv6_pods_leaving_the_cluster_are_masqueraded_on_request(cluster):
    """An address outside the cluster on the segment (the segment's own namespace), with no
    route back to the pods: their pings come back only once masqueraded to the node's
    IPv6 underlay address."""
    segment, outside = "rnlab-%s-seg-lan1" % LAB, "fd00:192:168:245::250"
    sh("ip", "-n", segment, "addr", "add", outside + "/64", "dev", "br0", "nodad")
    pod_ping = in_pod_network(LAB, "node1", "docker1", "ping", "-6", "-n", "-c", "1", "-W", "2", outside)
    try:
        assert run(*pod_ping).returncode != 0, "a reply came back without masquerade"
        play(cluster, "vxlan.yml", "-e", IPV6_ONLY, "-e", "routednet_masquerade=true")
        res = run(*pod_ping)
        assert res.returncode == 0, res.stdout + res.stderr
        postrouting = run(*in_node_namespaces(LAB, "node1", "nft", "list", "chain", "inet", "routednet", "postrouting")).stdout
        assert "ip6 saddr fd00:10:244::/56 ip6 daddr != fd00:10:244::/56 counter packets 1 " in postrouting, postrouting
    finally:
        sh("ip", "-n", segment, "addr", "del", outside + "/64", "dev", "br0")


def test_decommission_over_the_ipv6_underlay_drops_the_nodes_ipv6_address_from_the_firewall(cluster):
    """node2's IPv6 underlay address, which node_facts found and the controller does not
    keep, goes from node1's nodes6 set, now and in the state node1 restores at boot."""
    play(cluster, "decommission.yml", "-e", IPV6_ONLY, "-e", "routednet_decommission=node2")
    nodes6 = run(*in_node_namespaces(LAB, "node1", "nft", "list", "set", "inet", "routednet", "nodes6")).stdout
    assert "fd00:192:168:245::168" in nodes6 and "fd00:192:168:245::172" not in nodes6, nodes6
    saved = run(*in_node_namespaces(LAB, "node1", "cat", "/etc/routednet/boot-state.json")).stdout
    assert "fd00:192:168:245::168" in saved and "fd00:192:168:245::172" not in saved
