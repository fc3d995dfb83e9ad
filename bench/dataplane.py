"""The data plane: pod-to-pod throughput per backend beside the underlay, and the largest
packet that gets through with Don't Fragment set.

    sudo .venv/bin/python bench/dataplane.py               # 10 s per iperf3 run
    sudo .venv/bin/python bench/dataplane.py --seconds 1   # a quick look

Labs of its own (removed at the end, also on failure), reached over real SSH:
  seed 000's two nodes on one segment: playbooks/hostgw.yml, then playbooks/vxlan.yml
  (a live switch), each measured right after its run;
  two segments joined by a router (molecule/crosssubnet's layout): playbooks/hybrid.yml,
  measured on a same-segment pair (direct) and a cross-router pair (VXLAN).
Each row, in the same run: iperf3 (TCP, one stream) node to node on the underlay, then pod
to pod; and the largest ICMP packet (IP header included) from pod to pod with DF set,
found by bisection. All traffic stays inside the lab's namespaces.

IPIP is not measured here: this machine's kernel has no ipip module, and its VM
(lab/vm) emulates the CPU (TCG), so a throughput figure from it would describe qemu.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
LAB_TOOL = os.path.join(REPO, "lab", "routednet_lab.py")
LAB_ROOT = "/run/routednet-lab"


def sh(*cmd, timeout=120):
    return subprocess.run(list(cmd), check=True, capture_output=True, text=True, timeout=timeout).stdout


class Lab(object):
    def __init__(self, name, topology, tmp):
        self.name, self.topology = name, os.path.join(REPO, "lab", "topologies", topology)
        self.inventory = os.path.join(tmp, name, "hosts.yml")

    def __enter__(self):
        try:
            # namespace nodes: the data path is the same kernel's, and they are cheaper
            sh(sys.executable, LAB_TOOL, "up", "--name", self.name, "--topology", self.topology, "--inventory", self.inventory, "--namespace-nodes")
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        subprocess.run([sys.executable, LAB_TOOL, "down", "--name", self.name], capture_output=True, check=False)

    def node(self, node, *cmd):
        """argv running ``cmd`` in the node's network namespace."""
        return ["ip", "netns", "exec", "rnlab-%s-node-%s" % (self.name, node)] + list(cmd)

    def pod(self, node, pod, *cmd):
        """argv running ``cmd`` in a pod: the pod's namespace is named inside the node's own /run/netns."""
        mount = "%s/%s/mnt/%s.mnt" % (LAB_ROOT, self.name, node)
        return ["nsenter", "--mount=%s" % mount, "--", "ip", "netns", "exec", pod] + list(cmd)

    def playbook(self, name):
        sh(os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), os.path.join(REPO, "playbooks", name), "-i", self.inventory, timeout=900)


def address(argv_prefix, device):
    out = sh(*(argv_prefix + ["ip", "-4", "-o", "addr", "show", "dev", device]))
    return out.split()[3].split("/")[0]


def iperf(server_argv, client_argv, target, seconds):
    """TCP throughput in Gbit/s from the client's namespace to ``target`` in the server's."""
    server = subprocess.Popen(server_argv + ["iperf3", "-s", "-1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _attempt in range(50):  # until the server listens
            out = subprocess.run(client_argv + ["iperf3", "-c", target, "-t", str(seconds), "-J"], capture_output=True, text=True, check=False)
            try:
                return json.loads(out.stdout)["end"]["sum_received"]["bits_per_second"] / 1e9
            except (ValueError, KeyError):
                time.sleep(0.2)
        raise SystemExit("iperf3 to %s failed: %s" % (target, out.stdout[-2000:] + out.stderr[-2000:]))
    finally:
        server.kill()
        server.wait()


def largest_df_packet(client_argv, target, low=576, high=9000):
    """The largest IP packet (bytes, header included) that reaches ``target`` with DF set."""

    def passes(size):
        return (
            subprocess.run(client_argv + ["ping", "-M", "do", "-c", "1", "-W", "1", "-s", str(size - 28), target], capture_output=True, check=False).returncode
            == 0
        )

    if not passes(low):
        raise SystemExit("no %d-byte packet reaches %s with DF set" % (low, target))
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if passes(middle) else (low, middle - 1)
    return low


def measure(lab, label, src, dst, seconds):
    """(label, underlay Gbit/s, pod Gbit/s, ratio, largest DF packet) for src -> dst, both (node, pod)."""
    (src_node, src_pod), (dst_node, dst_pod) = src, dst
    underlay_ip = address(lab.node(dst_node), "eth0")
    pod_ip = address(lab.pod(dst_node, dst_pod), "eth0")
    underlay = iperf(lab.node(dst_node), lab.node(src_node), underlay_ip, seconds)
    pods = iperf(lab.pod(dst_node, dst_pod), lab.pod(src_node, src_pod), pod_ip, seconds)
    packet = largest_df_packet(lab.pod(src_node, src_pod), pod_ip)
    return label, underlay, pods, pods / underlay, packet


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10, help="length of each iperf3 run")
    opts = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("needs root: it builds labs of network namespaces")
    print(
        "# %s, kernel %s, %d CPUs, iperf3 TCP one stream %d s, underlay MTU 1500"
        % (time.strftime("%Y-%m-%d"), platform.release(), os.cpu_count(), opts.seconds)
    )
    print("\n| backend (pair) | node to node, underlay | pod to pod | pod / underlay | largest DF packet pod to pod |")
    print("|---|---:|---:|---:|---:|")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        with Lab("benchdp", "default.yml", tmp) as lab:
            for backend, playbook in (("host-gw", "hostgw.yml"), ("VXLAN", "vxlan.yml")):
                lab.playbook(playbook)
                rows.append(measure(lab, backend, ("node1", "docker1"), ("node2", "docker2"), opts.seconds))
                print("| %s | %.2f Gbit/s | %.2f Gbit/s | %.2f | %d |" % rows[-1])
                sys.stdout.flush()
        with Lab("benchdpx", "crosssubnet.yml", tmp) as lab:
            lab.playbook("hybrid.yml")
            for label, dst in (("hybrid (same segment, direct)", ("n2", "pod2")), ("hybrid (across the router, VXLAN)", ("n3", "pod3"))):
                rows.append(measure(lab, label, ("n1", "pod1"), dst, opts.seconds))
                print("| %s | %.2f Gbit/s | %.2f Gbit/s | %.2f | %d |" % rows[-1])
                sys.stdout.flush()


if __name__ == "__main__":
    main()
