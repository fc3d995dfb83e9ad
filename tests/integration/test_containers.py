"""Real containers on the routed network: the CNI plugins and podman on Debian systems.

lab/topologies/containers.yml boots two Debian systems (systemd-nspawn), each with
Debian's CNI plugins (1.1.1): node1 Debian 12 with podman 4.3 and netavark 1.4, node2
Debian 13 with podman 5.4 and netavark 1.14. The collection writes each node's CNI
network list and flannel's subnet.env from the plan, and node2's netavark network (not
node1's: netavark 1.4 would delete the bridge); then, on every node,

- the CNI plugins are driven exactly as containerd's CRI drives them (tests/cni_driver.py:
  ADD, CHECK and DEL of the whole list through libcni's protocol) for a pod sandbox's
  namespace, and
- podman runs a busybox container on the same network: on node1 through its CNI backend,
  on node2 through netavark, its default,

and every container, runtime's and collection's pod alike, reaches every one on the
other node with TTL 62 (and verify.yml, asked to, finds them on the bridge and puts them
in its matrix); tcpdump on the underlay shows the containers' packets bare
(host-gw) or inside VNI 1 (VXLAN). A re-run and a check run with the containers up change
nothing and leave them alone; a switch to VXLAN keeps them talking; with an IPv6 CIDR
added, new containers get an address of each family from both runtimes.
"""

import json
import os
import re
import subprocess

import pytest

import labhelpers
from labhelpers import REPO, in_node_namespaces, playbook, recap, running_lab

pytestmark = [pytest.mark.lab, pytest.mark.slow, pytest.mark.skipif(os.geteuid() != 0, reason="needs root: builds a lab")]

LAB = "ctr"
NODES = ("node1", "node2")
CONFLIST = "/etc/cni/net.d/10-routednet.conflist"
SUBNET_ENV = "/run/flannel/subnet.env"
BUSYBOX = "/srv/routednet-lab/busybox"
NETAVARK_NETWORK = "/etc/containers/networks/routednet.json"
# node1's podman reads the CNI list, node2's its netavark network
PODMAN = {"node1": ("podman", "--network-backend", "cni"), "node2": ("podman",)}
with open(os.path.join(REPO, "tests", "cni_driver.py")) as _handle:
    CNI_DRIVER = _handle.read()


def on_node(node, *cmd, check=True, **kwargs):
    proc = subprocess.run(in_node_namespaces(LAB, node, *cmd), capture_output=True, text=True, check=False, **kwargs)
    if check:
        assert proc.returncode == 0, "%s on %s: exit %d\n%s%s" % (" ".join(cmd), node, proc.returncode, proc.stdout, proc.stderr)
    return proc


def cni(node, command, container, netns):
    return on_node(node, "python3", "-", command, CONFLIST, container, netns, input=CNI_DRIVER)


def play(inventory, name, *extra):
    res = playbook(os.path.join("playbooks", name), "-i", str(inventory), *extra)
    assert res.returncode == 0, res.stdout[-5000:] + res.stderr[-2000:]
    return res.stdout


def changed_counts(stdout):
    return dict((node, recap(stdout, node)["changed"]) for node in NODES)


def bridge_ports(node):
    links = on_node(node, "ip", "-o", "link", "show", "master", "cni0").stdout
    return sorted(re.findall(r"^\d+: ([^:@]+)", links, re.M))


def ping_ttl(node, argv, address):
    out = on_node(node, *argv, "ping", "-c", "1", "-W", "3", address, check=False)
    found = re.search(r"ttl=(\d+)", out.stdout)
    return int(found.group(1)) if found else (out.stdout + out.stderr).strip()[-300:]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with running_lab(LAB, "containers.yml", tmp_path_factory.mktemp("ctr") / "hosts.yml") as inventory:
        yield inventory


@pytest.fixture(scope="module")
def containers(cluster):
    """On each node: a pod sandbox wired by the CNI plugins as containerd's CRI does, and a
    podman container; both removed at the end (DEL, podman rm), also when a test fails."""
    play(cluster, "hostgw.yml")
    made = {}
    try:
        for node in NODES:
            on_node(node, "ip", "netns", "add", "cri-sandbox")
            made.setdefault(node, []).append("netns")
            added = json.loads(cni(node, "ADD", "sandbox1", "/run/netns/cri-sandbox").stdout)
            made[node].append("cni")
            on_node(node, *PODMAN[node], "run", "-d", "--name", "web", "--network", "routednet", "--cap-add", "NET_RAW", "--rootfs", BUSYBOX, "sleep", "3600")
            made[node].append("podman")
            inspect = on_node(node, *PODMAN[node], "inspect", "-f", "{{ .NetworkSettings.Networks.routednet.IPAddress }}", "web").stdout.strip()
            made[node + "/ips"] = {"cri": added["ips"][0]["address"].split("/")[0], "podman": inspect}
        yield made
    finally:
        for node in NODES:
            steps = made.get(node, [])
            if "podman" in steps:
                on_node(node, *PODMAN[node], "rm", "-f", "-t", "0", "web", check=False)
            if "cni" in steps:
                cni(node, "DEL", "sandbox1", "/run/netns/cri-sandbox")
            if "netns" in steps:
                on_node(node, "ip", "netns", "delete", "cri-sandbox", check=False)


def test_each_node_gets_its_runtime_files_from_the_plan(cluster, containers):
    for number, node in enumerate(NODES, 1):
        network = json.loads(on_node(node, "cat", CONFLIST).stdout)
        bridge = network["plugins"][0]
        assert (bridge["type"], bridge["bridge"], bridge["ipam"]["type"]) == ("bridge", "cni0", "host-local")
        assert bridge["ipam"]["ranges"][0][0]["rangeStart"] == "10.244.%d.16" % number
        env = on_node(node, "cat", SUBNET_ENV).stdout
        assert "FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.%d.1/24\nFLANNEL_MTU=1500\n" % number in env
        # the runtimes' addresses come from the range after the collection's pods, never .2
        ips = containers[node + "/ips"]
        assert all(int(ip.split(".")[3]) >= 16 and ip.startswith("10.244.%d." % number) for ip in ips.values()), ips
        cni(node, "CHECK", "sandbox1", "/run/netns/cri-sandbox")
    # netavark 1.4 (node1) has no mode=unmanaged: no netavark network there
    assert on_node("node1", "test", "-e", NETAVARK_NETWORK, check=False).returncode == 1
    network = json.loads(on_node("node2", "cat", NETAVARK_NETWORK).stdout)
    assert (network["network_interface"], network["options"]["mode"]) == ("cni0", "unmanaged")
    assert network["subnets"][0]["lease_range"] == {"start_ip": "10.244.2.16", "end_ip": "10.244.2.254"}


def test_netavark_leaves_the_bridge_its_address_and_the_firewall_alone(cluster, containers):
    """A netavark container that comes and goes (the last one on node2's netavark network)
    takes nothing of the node's network with it: netavark 1.4 deleted the bridge here."""
    before = on_node("node2", "nft", "list", "ruleset").stdout
    try:
        on_node("node2", "podman", "run", "-d", "--name", "brief", "--network", "routednet", "--rootfs", BUSYBOX, "sleep", "60")
        assert on_node("node2", "podman", "inspect", "-f", "{{ .NetworkSettings.Networks.routednet.IPAddress }}", "brief").stdout.startswith("10.244.2.")
    finally:
        on_node("node2", "podman", "rm", "-f", "-t", "0", "brief", check=False)
    on_node("node2", "podman", "rm", "-f", "-t", "0", "web")
    try:
        bridge = on_node("node2", "ip", "-o", "-4", "addr", "show", "cni0").stdout
        assert "inet 10.244.2.1/24" in bridge, bridge
        assert on_node("node2", "nft", "list", "ruleset").stdout == before
        assert changed_counts(play(cluster, "hostgw.yml", "--check")) == {"node1": 0, "node2": 0}
    finally:
        on_node("node2", "podman", "run", "-d", "--name", "web", "--network", "routednet", "--cap-add", "NET_RAW", "--rootfs", BUSYBOX, "sleep", "3600")
        address = on_node("node2", "podman", "inspect", "-f", "{{ .NetworkSettings.Networks.routednet.IPAddress }}", "web")
        containers["node2/ips"]["podman"] = address.stdout.strip()


def test_every_container_reaches_every_other_nodes_containers_and_pods_with_ttl_62(cluster, containers):
    sources = {
        "node1": {"cri": ("ip", "netns", "exec", "cri-sandbox"), "podman": PODMAN["node1"] + ("exec", "web"), "pod1": ("ip", "netns", "exec", "pod1")},
        "node2": {"cri": ("ip", "netns", "exec", "cri-sandbox"), "podman": PODMAN["node2"] + ("exec", "web"), "pod2": ("ip", "netns", "exec", "pod2")},
    }
    targets = {node: dict(containers[node + "/ips"], **{"pod%d" % n: "10.244.%d.2" % n}) for n, node in enumerate(NODES, 1)}
    matrix = {}
    for src_node, peer in (("node1", "node2"), ("node2", "node1")):
        for src, argv in sources[src_node].items():
            for dst, address in targets[peer].items():
                matrix["%s/%s -> %s/%s" % (src_node, src, peer, dst)] = ping_ttl(src_node, argv, address)
    assert set(matrix.values()) == {62}, matrix


def test_verify_finds_the_containers_on_each_bridge_and_puts_them_in_its_matrix(cluster, containers):
    matrix = play(cluster, "verify.yml", "-e", "verify_expected_ttl=62", "-e", "verify_containers=true")
    # per node its pod, the CRI sandbox and the podman container: 3 x 3 pairs each way
    assert matrix.count("62 direct") == 18, matrix[-4000:]
    assert "node1/cri-sandbox" in matrix and "node2/netns-" in matrix, matrix[-4000:]
    plain = play(cluster, "verify.yml", "-e", "verify_expected_ttl=62")
    assert plain.count("62 direct") == 2 and "cri-sandbox" not in plain, plain[-3000:]


def test_diagnose_takes_a_container_address_at_either_end(cluster, containers):
    to_container = play(cluster, "diagnose.yml", "-e", "src=node1/pod1", "-e", "dst=%s" % containers["node2/ips"]["cri"])
    answered = "every hop holds the planned state, and the ping was answered (TTL 62)"
    assert "(node2/cri-sandbox)" in to_container and answered in to_container, to_container[-3000:]
    from_container = play(cluster, "diagnose.yml", "-e", "src=%s" % containers["node1/ips"]["podman"], "-e", "dst=10.244.2.2")
    assert answered in from_container, from_container[-3000:]


def capture(node, bpf, then, *tcpdump_args):
    """What tcpdump on ``node``'s underlay saw while ``then()`` ran."""
    return labhelpers.capture(LAB, node, bpf, then, *tcpdump_args)


def test_container_packets_go_bare_on_the_underlay_with_host_gw(cluster, containers):
    src, dst = containers["node1/ips"]["podman"], containers["node2/ips"]["cri"]
    seen = capture("node2", "icmp and host %s" % src, lambda: ping_ttl("node1", PODMAN["node1"] + ("exec", "web"), dst))
    assert re.search(r"IP %s > %s: ICMP echo request" % (re.escape(src), re.escape(dst)), seen), seen


def test_a_rerun_and_a_check_run_with_containers_up_change_nothing_and_leave_them_alone(cluster, containers):
    before = dict((node, bridge_ports(node)) for node in NODES)
    assert changed_counts(play(cluster, "hostgw.yml")) == {"node1": 0, "node2": 0}
    assert changed_counts(play(cluster, "hostgw.yml", "--check")) == {"node1": 0, "node2": 0}
    assert dict((node, bridge_ports(node)) for node in NODES) == before
    for node in NODES:
        cni(node, "CHECK", "sandbox1", "/run/netns/cri-sandbox")
        assert on_node(node, *PODMAN[node], "inspect", "-f", "{{ .State.Running }}", "web").stdout.strip() == "true"


def test_a_bridge_mac_put_back_is_announced_so_the_pods_follow_at_once(cluster, containers):
    """A bridge whose MAC is not the planned one (an upgraded node's, whose bridge took a
    port's) gets it back, and the kernel's gratuitous ARP moves every neighbour entry for
    the gateway along: the first ping after the run is answered, from pod and container."""
    on_node("node1", "ip", "link", "set", "cni0", "address", "02:00:5e:00:00:99")
    for argv in (("ip", "netns", "exec", "pod1"), ("ip", "netns", "exec", "cri-sandbox")):
        assert ping_ttl("node1", argv, "10.244.2.2") == 62  # (their entries now hold the old MAC)
    assert changed_counts(play(cluster, "hostgw.yml"))["node1"] == 1
    assert "02:00:5e:00:00:99" not in on_node("node1", "ip", "-o", "link", "show", "cni0").stdout
    for argv in (("ip", "netns", "exec", "pod1"), ("ip", "netns", "exec", "cri-sandbox")):
        out = on_node("node1", *argv, "ping", "-c", "1", "-W", "1", "10.244.2.2", check=False)
        assert "ttl=62" in out.stdout, out.stdout + out.stderr


def test_a_switch_to_vxlan_keeps_the_containers_talking_through_vni_1(cluster, containers):
    """The running containers keep the MTU they were given (1500): new ones get the
    tunnel's (the rewritten list), and these reach the peers through the VTEP (a full-size
    packet of theirs is answered by the node with 'fragmentation needed', see docs/containers.md)."""
    play(cluster, "vxlan.yml")
    try:
        assert '"mtu": 1450' in on_node("node1", "cat", CONFLIST).stdout
        assert "FLANNEL_MTU=1450" in on_node("node1", "cat", SUBNET_ENV).stdout
        src, dst = containers["node1/ips"]["cri"], containers["node2/ips"]["podman"]
        seen = capture("node2", "udp port 8472", lambda: ping_ttl("node1", ("ip", "netns", "exec", "cri-sandbox"), dst), "-T", "vxlan")
        assert re.search(r"VXLAN, flags \[I\] \(0x08\), vni 1\s*IP %s > %s: ICMP echo request" % (re.escape(src), re.escape(dst)), seen), seen
        assert ping_ttl("node2", PODMAN["node2"] + ("exec", "web"), containers["node1/ips"]["podman"]) == 62
        assert '"mtu": "1450"' in on_node("node2", "cat", NETAVARK_NETWORK).stdout
        # a container made before the switch keeps MTU 1500; its full-size packet is refused
        # by its node with the tunnel's MTU (path MTU discovery), not lost
        big = on_node("node1", "ip", "netns", "exec", "cri-sandbox", "ping", "-M", "do", "-s", "1472", "-c", "2", "-W", "2", dst, check=False)
        assert re.search(r"mtu ?= ?1450", big.stdout + big.stderr), big.stdout + big.stderr
    finally:
        play(cluster, "hostgw.yml")


DUAL_STACK = '{"routednet_cluster_cidr": ["10.244.0.0/16", "fd00:10:244::/56"]}'


def test_a_dual_stack_network_gives_new_containers_an_address_of_each_family(cluster, containers):
    """VXLAN carries IPv6 pods over this lab's IPv4 underlay: with an IPv6 CIDR added, the
    CNI plugins (as containerd's CRI drives them) and podman through netavark give a new
    container on node2 an address of each family from the node's runtime ranges, and
    node1's pod reaches both with TTL / hop limit 62. Those made before keep IPv4 only."""
    play(cluster, "vxlan.yml", "-e", DUAL_STACK)
    made = []
    try:
        on_node("node2", "ip", "netns", "add", "cri-dual")
        made.append("netns")
        added = json.loads(on_node("node2", "python3", "-", "ADD", CONFLIST, "sandbox2", "/run/netns/cri-dual", input=CNI_DRIVER).stdout)
        made.append("cni")
        cri = sorted(ip["address"].split("/")[0] for ip in added["ips"])
        assert cri[0].startswith("10.244.2.") and cri[1].startswith("fd00:10:244:2::"), added
        routes = on_node("node2", "ip", "netns", "exec", "cri-dual", "ip", "-6", "route", "show", "default").stdout
        assert routes.startswith("default via fd00:10:244:2::1 dev eth0"), routes
        assert ping6_ttl(cri[1]) == 62, "the CRI sandbox"
        assert "FLANNEL_IPV6_SUBNET=fd00:10:244:2::1/64" in on_node("node2", "cat", SUBNET_ENV).stdout
        # (one runtime at a time: host-local and netavark keep separate leases of one range)
        on_node("node2", "python3", "-", "DEL", CONFLIST, "sandbox2", "/run/netns/cri-dual", input=CNI_DRIVER)
        made.remove("cni")
        # (node2 still maps the address to the deleted sandbox's MAC until neighbour
        # discovery finds it stale, seconds later: podman's container will take the same one)
        on_node("node2", "ip", "-6", "neigh", "flush", "to", cri[1], "dev", "cni0")
        on_node("node2", "podman", "run", "-d", "--name", "dual", "--network", "routednet", "--cap-add", "NET_RAW", "--rootfs", BUSYBOX, "sleep", "600")
        made.append("podman")
        podman = on_node("node2", "podman", "inspect", "-f", "{{ .NetworkSettings.Networks.routednet.GlobalIPv6Address }}", "dual").stdout.strip()
        assert podman.startswith("fd00:10:244:2::"), podman
        assert ping6_ttl(podman) == 62, "the podman container"
    finally:
        if "podman" in made:
            on_node("node2", "podman", "rm", "-f", "-t", "0", "dual", check=False)
        if "cni" in made:
            on_node("node2", "python3", "-", "DEL", CONFLIST, "sandbox2", "/run/netns/cri-dual", input=CNI_DRIVER)
        if "netns" in made:
            on_node("node2", "ip", "netns", "delete", "cri-dual", check=False)
        play(cluster, "hostgw.yml")


def ping6_ttl(address):
    """The hop limit of node1's pod's IPv6 ping reply from ``address``."""
    out = on_node("node1", "ip", "netns", "exec", "pod1", "ping", "-6", "-c", "1", "-W", "3", address, check=False)
    found = re.search(r"ttl=(\d+)", out.stdout)
    return int(found.group(1)) if found else (out.stdout + out.stderr).strip()[-300:]
