"""Helpers for tests that drive a lab of SSH-reachable nodes (lab/routednet_lab.py)."""

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time

from conftest import REPO

BIN = os.path.dirname(sys.executable)
LAB_TOOL = os.path.join(REPO, "lab", "routednet_lab.py")
TOPOLOGIES = os.path.join(REPO, "lab", "topologies")


def run(*cmd, env=None, cwd=REPO, **kwargs):
    full_env = dict(os.environ, ANSIBLE_FORCE_COLOR="0", NO_COLOR="1", PY_COLORS="0", **(env or {}))
    return subprocess.run(list(cmd), cwd=cwd, capture_output=True, text=True, env=full_env, check=False, **kwargs)


def playbook(*args, env=None):
    return run(os.path.join(BIN, "ansible-playbook"), *args, env=env)


def sh(*cmd):
    """stdout of a command that must succeed."""
    return subprocess.run(list(cmd), capture_output=True, text=True, check=True).stdout


def ns_of(lab, node):
    return "rnlab-%s-node-%s" % (lab, node)


def system_node_init(lab, node):
    """The PID (here) of a system node's systemd, or None for a namespace node: the
    process that is PID 1 in its own PID namespace, in the node's network namespace."""
    if not os.path.isdir(os.path.join("/run/routednet-lab", lab, "nodes", node)):
        return None
    inode = os.stat("/run/netns/%s" % ns_of(lab, node)).st_ino
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.stat("/proc/%s/ns/net" % pid).st_ino != inode:
                continue
            with open("/proc/%s/status" % pid) as handle:
                nspid = next(line.split()[1:] for line in handle if line.startswith("NSpid:"))
        except (OSError, StopIteration):
            continue
        if len(nspid) > 1 and nspid[-1] == "1":
            return int(pid)
    raise AssertionError("system node %s of lab %s is not running" % (node, lab))


def in_node_namespaces(lab, node, *cmd):
    """``cmd`` run in a lab node's network and mount namespaces, as on the node itself
    (its pods are in its own /run/netns; on a system node, its own programs run)."""
    init = system_node_init(lab, node)
    if init is not None:
        return ["nsenter", "--target=%d" % init, "--mount", "--net", "--pid", "--uts", "--ipc", "--", *cmd]
    return ["nsenter", "--mount=/run/routednet-lab/%s/mnt/%s.mnt" % (lab, node), "--net=/run/netns/%s" % ns_of(lab, node), *cmd]


def in_pod_network(lab, node, pod, *cmd):
    """``cmd`` from this machine's filesystem (its Python, say) in the network namespace of
    a pod on a lab node."""
    init = system_node_init(lab, node)
    if init is not None:
        return ["nsenter", "--net=/proc/%d/root/run/netns/%s" % (init, pod), "--", *cmd]
    # a namespace node's pods are named in its private /run/netns, the rest is this machine's
    return in_node_namespaces(lab, node, "ip", "netns", "exec", pod, *cmd)


def capture(lab, node, bpf, then, *tcpdump_args):
    """What tcpdump on ``node``'s underlay (lab ``lab``) saw while ``then()`` ran: the first
    packet matching ``bpf``."""
    proc = subprocess.Popen(
        in_node_namespaces(lab, node, "timeout", "10", "tcpdump", "-l", "-n", "-c", "1", *tcpdump_args, "-i", "eth0", bpf),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(1.5)
    then()
    out, err = proc.communicate(timeout=30)
    return out + err


def lab_namespaces():
    return [line.split()[0] for line in sh("ip", "netns", "list").splitlines() if line.startswith("rnlab-")]


def lab_processes(lab):
    return [line for line in sh("ps", "-eo", "args").splitlines() if "routednet-lab/%s/" % lab in line or "routednet-lab-%s" % lab in line]


def assert_clean(lab):
    """Nothing of lab ``lab`` is left (other labs, e.g. an operator's, are not this test's business)."""
    assert [n for n in lab_namespaces() if n.startswith("rnlab-%s-" % lab)] == []
    assert lab_processes(lab) == []
    assert not os.path.exists(os.path.join("/run/routednet-lab", lab))


def node_state(lab, node):
    """Links, addresses and routes of a lab node (IPv4; IPv6 but the link-local ones, which
    settle on their own)."""
    ns = ns_of(lab, node)
    show = [
        ["ip", "-n", ns, "-o", "link"],
        ["ip", "-n", ns, "-4", "-o", "addr"],
        ["ip", "-n", ns, "-4", "route", "show", "table", "all"],
        ["ip", "-n", ns, "-6", "-o", "addr", "show", "scope", "global"],
    ]
    state = ["\n".join(sorted(sh(*cmd).splitlines())) for cmd in show]
    state.append("\n".join(sorted(line for line in sh("ip", "-n", ns, "-6", "route", "show", "table", "main").splitlines() if not line.startswith("fe80::"))))
    state.append(sh("ip", "netns", "exec", ns, "cat", "/proc/sys/net/ipv4/ip_forward", "/proc/sys/net/ipv6/conf/all/forwarding").strip())
    # what else the collection may write on a node: namespaces, its files, nftables
    # tables; and whether anybody holds the host's lock (a run reads a host under its lock,
    # and a refused run must give it back; the lock file itself, in /run, stays - it is
    # never deleted, see host_lock)
    files = (
        "ip netns list; ls -A /run/routednet 2>/dev/null | grep -vx lock; for d in /etc/sysctl.d /etc/routednet; do ls -a $d 2>&1; done; "
        "cat /etc/sysctl.d/* 2>/dev/null; nft -s list ruleset; "
        "if [ ! -e /run/routednet/lock ] || flock -n /run/routednet/lock true; then echo lock free; else echo lock held; fi"
    )
    state.append(sh(*in_node_namespaces(lab, node, "sh", "-c", files)))
    return state


def forwarding_state(lab, node):
    """What a node forwards pods by: routes, permanent neighbours, FDB entries with a destination."""
    ns = ns_of(lab, node)
    routes = sh("ip", "-n", ns, "-4", "route", "show", "table", "all").splitlines()
    neigh = sh("ip", "-n", ns, "neigh", "show", "nud", "permanent").splitlines()
    fdb = [line for line in sh("bridge", "-n", ns, "fdb", "show").splitlines() if " dst " in line]
    return set(routes) | set(neigh) | set(fdb)


def lab_up(name, topology, inventory):
    res = run(sys.executable, LAB_TOOL, "up", "--name", name, "--topology", os.path.join(TOPOLOGIES, topology), "--inventory", str(inventory))
    assert res.returncode == 0, res.stderr


def lab_down(name):
    res = run(sys.executable, LAB_TOOL, "down", "--name", name)
    assert res.returncode == 0, res.stderr
    assert_clean(name)


@contextlib.contextmanager
def running_lab(name, topology, inventory):
    """Lab ``name`` up for the block, its inventory written to ``inventory``; removed at the
    end, also when the block fails."""
    lab_up(name, topology, inventory)
    try:
        yield inventory
    finally:
        lab_down(name)


def recap(stdout, host):
    """The PLAY RECAP counters of ``host`` as a dict."""
    for line in stdout.splitlines():
        if line.startswith(host + " ") and " ok=" in line:
            return {k: int(v) for k, v in (pair.split("=") for pair in line.split(":", 1)[1].split())}
    raise AssertionError("no recap line for %s in:\n%s" % (host, stdout[-3000:]))


def assert_refused_without_change(lab, playbook_args, message, nodes=("node1", "node2")):
    """The play fails with ``message`` and no node's links, addresses or routes changed."""
    before = {node: node_state(lab, node) for node in nodes}
    res = playbook(*playbook_args)
    assert res.returncode != 0
    assert message in res.stdout, res.stdout
    assert "Traceback" not in res.stdout + res.stderr
    assert {node: node_state(lab, node) for node in nodes} == before
    return res


HOLD_LOCKS = """---
- name: Hold the locks of some nodes, as a long run would
  hosts: {hosts}
  gather_facts: false
  tasks:
    - name: Take the lock
      routednet.fabric.host_lock:
        run_id: {run_id}
        label: {label}
    - name: Work for a while
      ansible.builtin.pause:
        seconds: 300
"""


def read_text(path):
    with open(path) as handle:
        return handle.read()


@contextlib.contextmanager
def holding_locks(inventory, hosts, run_id, label):
    """Another run, alive, holding the locks of ``hosts`` (a pattern) for the block; it
    ends with the block (its locks then belong to a dead run)."""
    with tempfile.TemporaryDirectory() as directory:
        play, log = os.path.join(directory, "hold.yml"), os.path.join(directory, "hold.log")
        with open(play, "w") as handle:
            handle.write(HOLD_LOCKS.format(hosts=hosts, run_id=run_id, label=label))
        with open(log, "w") as out:
            proc = subprocess.Popen([os.path.join(BIN, "ansible-playbook"), play, "-i", str(inventory)], cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.time() + 60
            while "Work for a while" not in read_text(log):
                assert time.time() < deadline and proc.poll() is None, read_text(log)
                time.sleep(0.2)
            yield
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def restorable_state(lab, node):
    """What a reboot must bring back: links (not the kernel's random MACs, except the
    VTEP's, which is derived), addresses, routes, permanent neighbours, FDB entries,
    forwarding, our nftables table."""
    ns = ns_of(lab, node)
    links = []
    for link in json.loads(sh("ip", "-j", "-d", "-n", ns, "link", "show")):
        kind = (link.get("linkinfo") or {}).get("info_kind")
        mac = link["address"] if kind == "vxlan" else None
        links.append((link["ifname"], kind, link["mtu"], link.get("master"), link.get("ifalias"), "UP" in link["flags"], mac))
    state = {"links": sorted(links, key=repr)}
    state["addresses"] = sorted(line.split(None, 1)[1] for line in sh("ip", "-n", ns, "-4", "-o", "addr").splitlines())
    state["entries"] = forwarding_state(lab, node)
    state["forwarding"] = sh("ip", "netns", "exec", ns, "cat", "/proc/sys/net/ipv4/ip_forward").strip()
    state["ipv6"] = {
        "addresses": sorted(line.split(None, 1)[1] for line in sh("ip", "-n", ns, "-6", "-o", "addr", "show", "scope", "global").splitlines()),
        "routes": sorted(line for line in sh("ip", "-n", ns, "-6", "route", "show", "table", "main").splitlines() if not line.startswith("fe80::")),
        "forwarding": sh("ip", "netns", "exec", ns, "cat", "/proc/sys/net/ipv6/conf/all/forwarding").strip(),
    }
    # (read with the node's own nft: Debian 12's crashes on some of Debian 13's rules)
    state["firewall"] = run(*in_node_namespaces(lab, node, "nft", "-s", "list", "table", "inet", "routednet")).stdout
    return state
