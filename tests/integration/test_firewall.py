"""The collection's nftables table, tested with real packets from a rogue host on the underlay."""

import json
import sys
import time

import pytest

from ansible_collections.routednet.fabric.plugins.module_utils.backends.vxlan import vtep_mac
from labhelpers import BIN, in_node_namespaces, in_pod_network, lab_down, lab_up, ns_of, playbook, recap, run, sh

pytestmark = [pytest.mark.lab, pytest.mark.slow]

LAB = "fw"
ROGUE_IP = "192.168.32.250"
NODES = {"vm1": "192.168.32.245", "vm2": "192.168.32.246", "vm3": "192.168.32.247"}
OPERATOR_TABLE = "table ip operator {\n chain input {\n  type filter hook input priority 10; policy accept;\n  udp dport 8472 counter\n }\n}\n"

# Sends COUNT VXLAN frames (VNI 1) to TARGET:PORT carrying an ICMP echo request from
# SRC to DST inside an Ethernet frame addressed to the target's VTEP MAC.
CRAFT_VXLAN = r"""
import socket, struct, sys
target, port, mac, src, dst, count = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6])
def checksum(data):
    data += b"\0" * (len(data) % 2)
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return (~total) & 0xFFFF
icmp = struct.pack("!BBHHH", 8, 0, 0, 0x4242, 1) + b"routednet-rogue"
icmp = icmp[:2] + struct.pack("!H", checksum(icmp)) + icmp[4:]
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), 1, 0, 64, 1, 0, socket.inet_aton(src), socket.inet_aton(dst))
ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
ether = bytes.fromhex(mac.replace(":", "")) + bytes.fromhex("02deadbeef01") + b"\x08\x00"
vxlan = struct.pack("!B3xI", 0x08, 1 << 8)
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
    for _ in range(count):
        sock.sendto(vxlan + ether + ip + icmp, (target, port))
"""

# The same VXLAN frame with a forged outer source: IP header written by hand (raw socket),
# claiming to come from SPOOFED (a node's underlay address).
CRAFT_SPOOFED_VXLAN = CRAFT_VXLAN.replace(
    "with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:\n"
    "    for _ in range(count):\n"
    "        sock.sendto(vxlan + ether + ip + icmp, (target, port))",
    """spoofed = sys.argv[7]
payload = vxlan + ether + ip + icmp
udp = struct.pack("!HHHH", 40000, port, 8 + len(payload), 0)
outer = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp) + len(payload), 2, 0, 64, 17, 0, socket.inet_aton(spoofed), socket.inet_aton(target))
outer = outer[:10] + struct.pack("!H", checksum(outer)) + outer[12:]
with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW) as sock:
    for _ in range(count):
        sock.sendto(outer + udp + payload, (target, 0))""",
)
assert "spoofed = sys.argv[7]" in CRAFT_SPOOFED_VXLAN

# Sends COUNT IPIP packets (IP protocol 4) to TARGET.
CRAFT_IPIP = r"""
import socket, sys
target, count = sys.argv[1], int(sys.argv[2])
with socket.socket(socket.AF_INET, socket.SOCK_RAW, 4) as sock:
    for _ in range(count):
        sock.sendto(b"\x45" + b"\0" * 19, (target, 0))
"""


def in_node(node, *cmd):
    """stdout of a command on a node (its network and mount namespaces)."""
    return sh(*in_node_namespaces(LAB, node, *cmd))


def in_echos(node, pod):
    """ICMP echo requests the pod has received (its kernel's counter)."""
    snmp = in_node(node, "ip", "netns", "exec", pod, "cat", "/proc/net/snmp").splitlines()
    names, values = [line.split() for line in snmp if line.startswith("Icmp:")][:2]
    return int(values[names.index("InEchos")])


def send(sender_ns, script, *args):
    sh("ip", "netns", "exec", sender_ns, sys.executable, "-c", script, *[str(a) for a in args])
    time.sleep(0.5)


def crafted_echos_delivered(sender_ns):
    """Echo requests that reached vm2's pod out of 3 crafted VXLAN frames, claiming to come from vm3's pod."""
    before = in_echos("vm2", "ns246")
    send(sender_ns, CRAFT_VXLAN, NODES["vm2"], 8472, vtep_mac("vm2"), "172.247.0.2", "172.246.0.2", 3)
    return in_echos("vm2", "ns246") - before


def spoofed_echos_delivered(send_cmd, target):
    """Echo requests that reached vm2's pod out of 3 VXLAN frames sent to ``target`` (an
    address of vm2) whose outer source is forged to vm1's underlay address."""
    before = in_echos("vm2", "ns246")
    sh(*send_cmd, sys.executable, "-c", CRAFT_SPOOFED_VXLAN, target, "8472", vtep_mac("vm2"), "172.247.0.2", "172.246.0.2", "3", NODES["vm1"])
    time.sleep(0.5)
    return in_echos("vm2", "ns246") - before


def our_table(node):
    listed = run("ip", "netns", "exec", ns_of(LAB, node), "nft", "-j", "list", "table", "inet", "routednet")
    return json.loads(listed.stdout)["nftables"] if listed.returncode == 0 else None


def drop_counter(node, marker):
    """Packets counted by the drop rule of our table whose expression mentions ``marker``."""
    for obj in our_table(node) or []:
        rule = obj.get("rule")
        if rule and marker in json.dumps(rule["expr"]) and {"drop": None} in rule["expr"]:
            return next(e["counter"]["packets"] for e in rule["expr"] if "counter" in e)
    raise AssertionError("no rule with %s in %s" % (marker, our_table(node)))


def operator_table(node):
    return sh("ip", "netns", "exec", ns_of(LAB, node), "nft", "-s", "list", "table", "ip", "operator")


def converge(inventory, *extra):
    res = playbook("playbooks/vxlan.yml", "-i", str(inventory), *extra)
    assert res.returncode == 0, res.stdout[-6000:]
    return res


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    inventory = tmp_path_factory.mktemp("fw") / "hosts.yml"
    lab_up(LAB, "seed001.yml", inventory)
    try:
        # a host on the underlay that is not a node (named in the lab's namespace, so lab down removes it)
        rogue, seg = "rnlab-%s-node-rogue" % LAB, "rnlab-%s-seg-lan1" % LAB
        sh("ip", "netns", "add", rogue)
        sh("ip", "-n", seg, "link", "add", "rogue0", "type", "veth", "peer", "name", "eth0", "netns", rogue)
        sh("ip", "-n", seg, "link", "set", "rogue0", "master", "br0", "up")
        sh("ip", "-n", rogue, "addr", "add", ROGUE_IP + "/24", "dev", "eth0")
        sh("ip", "-n", rogue, "link", "set", "eth0", "up")
        sh("ip", "-n", rogue, "link", "set", "lo", "up")
        run("ip", "netns", "exec", ns_of(LAB, "vm2"), "nft", "-f", "-", input=OPERATOR_TABLE)
        yield inventory, rogue
    finally:
        lab_down(LAB)


def test_vxlan_from_a_rogue_host_is_dropped_with_the_firewall_and_delivered_without(lab):
    inventory, rogue = lab
    operator = operator_table("vm2")
    assert "udp dport 8472" in operator

    converge(inventory)
    node_set = next(obj["set"] for obj in our_table("vm2") if "set" in obj)
    assert sorted(node_set["elem"]) == sorted(NODES.values()), node_set
    dropped = drop_counter("vm2", '"dport"}}, "right": 8472')
    assert crafted_echos_delivered(rogue) == 0
    assert drop_counter("vm2", '"dport"}}, "right": 8472') - dropped == 3
    # the same frame from a node's address gets through: the frame is good, only its sender is not
    assert crafted_echos_delivered(ns_of(LAB, "vm1")) == 3
    assert operator_table("vm2") == operator

    # no firewall: our table goes from every node, and the rogue frame is delivered
    res = converge(inventory, "-e", "routednet_firewall=false")
    assert recap(res.stdout, "vm2")["changed"] == 1, res.stdout  # the node_state call: table gone, saved state
    for node in NODES:
        assert our_table(node) is None, node
    assert crafted_echos_delivered(rogue) == 3
    assert operator_table("vm2") == operator


def test_vxlan_with_a_forged_node_source_is_dropped_from_a_pod_and_from_a_rogue_host(lab):
    """A pod on vm2 sends to its own gateway, a rogue host on the underlay to vm2's pod
    gateway (routed via vm2), both with vm1's underlay address forged as the source."""
    inventory, rogue = lab
    converge(inventory)
    sh("ip", "-n", rogue, "route", "replace", "172.246.0.0/24", "via", NODES["vm2"])
    from_pod = in_pod_network(LAB, "vm2", "ns246")
    from_rogue = ["ip", "netns", "exec", rogue]
    dropped = drop_counter("vm2", '"dport"}}, "right": 8472')
    try:
        assert spoofed_echos_delivered(from_pod, "172.246.0.1") == 0
        assert spoofed_echos_delivered(from_rogue, "172.246.0.1") == 0
    finally:
        # the masquerade test needs the rogue host without a route to the pods
        sh("ip", "-n", rogue, "route", "del", "172.246.0.0/24")
    assert drop_counter("vm2", '"dport"}}, "right": 8472') - dropped == 6
    # the same frames from vm1 itself, to vm2's underlay address, are delivered
    assert crafted_echos_delivered(ns_of(LAB, "vm1")) == 3


def test_masquerade_of_pod_traffic_leaving_the_cluster(lab):
    inventory, _rogue = lab
    ping = ("ip", "netns", "exec", "ns246", "ping", "-c", "1", "-W", "2", ROGUE_IP)
    pod_ping = in_node_namespaces(LAB, "vm2", *ping)
    converge(inventory, "-e", "routednet_masquerade=false")
    # the rogue host has no route back to the pods: without masquerade no reply comes back
    assert run(*pod_ping).returncode != 0
    converge(inventory, "-e", "routednet_masquerade=true")
    assert run(*pod_ping).returncode == 0
    again = converge(inventory, "-e", "routednet_masquerade=true")
    for node in NODES:
        assert recap(again.stdout, node)["changed"] == 0, again.stdout[-3000:]


def test_ipip_from_a_rogue_host_is_dropped(lab):
    inventory, rogue = lab
    args = "nodes=%s cluster_cidr=172.240.0.0/12 ipip=true underlay_dev=eth0 local=%s" % (",".join(NODES.values()), NODES["vm2"])
    res = run(BIN + "/ansible", "vm2", "-i", str(inventory), "-m", "routednet.fabric.firewall", "-a", args)
    assert res.returncode == 0 and "CHANGED" in res.stdout, res.stdout + res.stderr
    before = drop_counter("vm2", '"field": "protocol"')
    send(rogue, CRAFT_IPIP, NODES["vm2"], 3)
    assert drop_counter("vm2", '"field": "protocol"') - before == 3
    send(ns_of(LAB, "vm1"), CRAFT_IPIP, NODES["vm2"], 3)
    assert drop_counter("vm2", '"field": "protocol"') - before == 3, "a node's IPIP was dropped"
