# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build and remove a lab of routednet nodes on one machine.

Each node is a network namespace plus a mount namespace of its own (private
/run/netns and private copies of every path the collection writes), reached
over real SSH: sshd runs per connection inside the node (``sshd -i`` as the
SSH ProxyCommand) with a lab-only host key and a lab-only authorized key.
Each segment is a bridge inside a namespace of its own, so the root
namespace gets no lab link and no route into the lab.  Routers (``routers:``
in the topology) are namespaces with a leg on several segments and forwarding
on; every node gets a route to each segment its segment's routers reach, so
nodes on different segments reach each other only through a router.

    routednet_lab.py up   --name NAME --topology FILE --inventory OUT [--namespace-nodes]
    routednet_lab.py move --name NAME --node N --segment S --address A --inventory OUT
    routednet_lab.py down --name NAME
    routednet_lab.py status --name NAME
    routednet_lab.py down-all          # every lab on this machine (test clean-up)
    routednet_lab.py roots --release bookworm [--release trixie]   # build system roots ahead

A node whose topology line says ``system: bookworm`` (or trixie) is a Debian system
instead: its own root filesystem with systemd as PID 1, booted by systemd-nspawn in its
network namespace and reached at its own sshd (see "System nodes" below).
"""

import argparse
import fcntl
import ipaddress
import json
import os
import pwd
import shlex
import shutil
import signal
import subprocess
import sys
import time

import yaml

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "collections"))
from ansible_collections.routednet.fabric.plugins.module_utils.host.host_lock import start_time  # noqa: E402  (whether a process still runs)

LAB_ROOT = "/run/routednet-lab"
# The mount points of PRIVATE_PATHS some lab had to create on this machine. Shared by
# every lab: removing such a directory while another lab is up would detach that lab's
# tmpfs from its nodes (the kernel does so for a mount point removed in another mount
# namespace), so only the last lab to go down removes them.
CREATED_DIRS = LAB_ROOT + ".created-dirs"
PREFIX = "rnlab"
# Paths the collection writes on a node: each lab node gets its own copy.
# What a node keeps to itself, as its own disk would: a tmpfs each, inside its mount namespace.
PRIVATE_PATHS = [
    "/run/netns",
    "/etc/sysctl.d",
    "/etc/routednet",
    "/etc/iproute2/rt_protos.d",
    "/etc/systemd/system",
    "/usr/local/lib/routednet",
    "/usr/local/lib/routednet-pyroute2",
    "/run/routednet",
    # (the files container runtimes read: the collection writes them on every node)
    "/etc/cni/net.d",
    "/run/flannel",
]
# An sshd of the test tooling: root by its one key only (this file's labs, and the test VM's
# guest in lab/vm/routednet_vm.py).
SSHD_CONFIG = """\
# {purpose}
{listen}HostKey {host_key}
AuthorizedKeysFile {authorized_keys}
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile none
LogLevel ERROR
Subsystem sftp internal-sftp
"""


# Root's ~/.bashrc on a namespace node: the node's own, not the controller's. bash reads
# ~/.bashrc for every command sshd runs, i.e. for every task on the node; the controller's
# (pyenv init and the like) cost 0.16 s a task here and about 7 s under the test VM's
# emulation, and a real host's root has a shell setup of its own anyway.
NODE_BASHRC = "# root's ~/.bashrc on a routednet lab node (lab/routednet_lab.py): nothing to set up\n"


def own_shell_startup(d):
    """The mount command that puts the lab's bashrc over root's, where root has one."""
    bashrc = os.path.join(pwd.getpwnam("root").pw_dir, ".bashrc")
    return ["mount --bind %s %s" % (shlex.quote(d + "/ssh/bashrc"), shlex.quote(bashrc))] if os.path.isfile(bashrc) else []


def sshd_config(purpose, host_key, authorized_keys, listen=None):
    return SSHD_CONFIG.format(purpose=purpose, listen="ListenAddress %s\n" % listen if listen else "", host_key=host_key, authorized_keys=authorized_keys)


class LabError(Exception):
    pass


class IndentedDumper(yaml.SafeDumper):
    """Indents list items under their key, as yamllint expects."""

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)


def run(*cmd, check=True, quiet=False):
    proc = subprocess.run(list(cmd), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=False)
    if check and proc.returncode != 0:
        raise LabError("%s: %s" % (" ".join(cmd), proc.stderr.strip() or proc.stdout.strip()))
    return proc


def ns_name(lab, kind, name):
    return "%s-%s-%s-%s" % (PREFIX, lab, kind, name)


def lab_dir(lab):
    return os.path.join(LAB_ROOT, lab)


def load_topology(path, namespace_nodes=False):
    try:
        with open(path) as handle:
            topo = yaml.safe_load(handle) or {}
    except (OSError, yaml.YAMLError) as exc:
        sys.exit("routednet_lab: cannot read the topology %s: %s" % (path, exc))
    if namespace_nodes:  # the same layout with plain namespace nodes (the benchmarks: cheaper)
        for node in topo.get("nodes") or []:
            if isinstance(node, dict):
                node.pop("system", None)
                node.pop("pyroute2", None)
                node.pop("containers", None)
    errors = []
    segments, segments_v6 = {}, {}
    for seg in topo.get("segments") or []:
        try:
            segments[seg["name"]] = ipaddress.IPv4Network(seg["cidr"])
            if seg.get("cidr_v6"):
                segments_v6[seg["name"]] = ipaddress.IPv6Network(seg["cidr_v6"])
        except (KeyError, ValueError) as exc:
            errors.append("segment %r: needs name and a valid cidr (and cidr_v6, if given) (%s)" % (seg, exc))
    names = set()
    used = {}
    for router in topo.get("routers") or []:
        name = router.get("name") if isinstance(router, dict) else None
        if not name or name in names:
            errors.append("router %r: needs a unique name" % (router,))
            continue
        names.add(name)
        legs = router.get("interfaces") or []
        if len(legs) < 2:
            errors.append("router %s: needs interfaces on at least two segments" % name)
        for leg in legs:
            error = _check_address(leg.get("segment"), leg.get("address"), segments, used, "router %s" % name)
            if error:
                errors.append(error)
    for node in topo.get("nodes") or []:
        name = node.get("name")
        if not name or name in names:
            errors.append("node %r: needs a unique name" % (node,))
            continue
        names.add(name)
        error = _check_address(node.get("segment"), node.get("address"), segments, used, "node %s" % name)
        if error:
            errors.append(error)
        if node.get("address_v6") is not None:
            error = _check_address(node.get("segment"), node["address_v6"], segments_v6, used, "node %s" % name, version=6)
            if error:
                errors.append(error)
        if node.get("system") is not None:
            if node["system"] not in SYSTEM_RELEASES:
                errors.append("node %s: system %r is not one of %s" % (name, node["system"], ", ".join(sorted(SYSTEM_RELEASES))))
            if node.get("python"):
                errors.append("node %s: a system node runs its own /usr/bin/python3; drop python:" % name)
            node["_python"] = SYSTEM_PYTHON
        elif node.get("pyroute2") is not None or node.get("containers") is not None:
            errors.append(
                "node %s: %s is for system nodes (system: bookworm or trixie)" % (name, "pyroute2:" if node.get("pyroute2") is not None else "containers:")
            )
        else:
            try:
                node["_python"] = node_python(node.get("python"))
            except LabError as exc:
                errors.append("node %s: %s" % (name, exc))
    if not topo.get("nodes"):
        errors.append("nodes: the topology has no nodes")
    if errors:
        raise LabError("topology %s:\n  %s" % (path, "\n  ".join(errors)))
    topo["_segments"] = segments
    return topo


# A node's Python, as on a real host: the distribution's own (with Debian's
# python3-pyroute2, which scripts/setup.sh installs), or another version where the
# topology says so (python: "3.9"; this machine's pyenv has 3.9-3.13, without pyroute2,
# so such a node gets the collection's private copy).
SYSTEM_PYTHON = "/usr/bin/python3"


def node_python(version):
    if not version:
        return SYSTEM_PYTHON
    # pyenv's own interpreter, not its shim (which answers only for the selected version)
    pyenv = os.path.expanduser("~/.pyenv/versions")
    matches = sorted(d for d in (os.listdir(pyenv) if os.path.isdir(pyenv) else []) if d.startswith("%s." % version))
    found = os.path.join(pyenv, matches[-1], "bin", "python%s" % version) if matches else shutil.which("python%s" % version)
    if not found or not os.access(found, os.X_OK):
        raise LabError("python %s: no python%s on this machine (nor in ~/.pyenv/versions)" % (version, version))
    return found


def _check_address(segment, address, segments, used, who, version=4):
    """One error line, or None; records the address as used."""
    if segment not in segments:
        return "%s: segment %r is not in segments%s" % (who, segment, "" if version == 4 else " with a cidr_v6")
    try:
        addr = (ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address)(address)
    except ValueError:
        return "%s: address %r is not an IPv%d address" % (who, address, version)
    if addr not in segments[segment]:
        return "%s: address %s is outside segment %s %s" % (who, addr, segment, segments[segment])
    if addr in used:
        return "%s: address %s is also %s's" % (who, addr, used[addr])
    used[addr] = who
    return None


def segment_routes(topo, segment):
    """(cidr, gateway) for every other segment a router on ``segment`` reaches."""
    routes = []
    for router in topo.get("routers") or []:
        here = [leg for leg in router["interfaces"] if leg["segment"] == segment]
        if not here:
            continue
        for leg in router["interfaces"]:
            cidr = str(topo["_segments"][leg["segment"]])
            if leg["segment"] != segment and cidr not in [c for c, _gw in routes]:
                routes.append((cidr, here[0]["address"]))
    return routes


def proxy_command(lab, node):
    """How SSH reaches ``node`` (a topology entry): a system node's own sshd, through a
    relay inside its network namespace; a namespace node, an sshd started for the one
    connection inside it."""
    d, ns = lab_dir(lab), ns_name(lab, "node", node["name"])
    if node.get("system"):
        return "ip netns exec %s socat - TCP:127.0.0.1:22" % ns
    return "nsenter --mount=%s/mnt/%s.mnt --net=/run/netns/%s /usr/sbin/sshd -i -f %s/ssh/sshd_config" % (d, node["name"], ns, d)


def ssh_args(lab):
    d = lab_dir(lab)
    return " ".join(
        [
            "-o UserKnownHostsFile=%s/ssh/known_hosts" % d,
            "-o StrictHostKeyChecking=yes",
            "-o IdentitiesOnly=yes",
            "-o ControlMaster=auto",
            "-o ControlPersist=60s",
            "-o ControlPath=%s/cp/%%C" % d,
        ]
    )


def write_inventory(lab, topo, path):
    d = lab_dir(lab)
    hosts = {}
    for node in topo["nodes"]:
        hv = {
            "ansible_host": node["name"],
            "routednet_underlay_ip": str(node["address"]),
            "routednet_lab_segment": node["segment"],
            "ansible_ssh_extra_args": "-o ProxyCommand=%s" % shlex.quote(proxy_command(lab, node)),
            "ansible_python_interpreter": node["_python"],
        }
        if node.get("pod_cidr"):
            hv["routednet_pod_cidr"] = node["pod_cidr"]
        if node.get("pods") is not None:
            hv["routednet_pods"] = node["pods"]
        hosts[node["name"]] = hv
    group_vars = {
        "ansible_user": "root",
        "ansible_ssh_private_key_file": "%s/ssh/id_ed25519" % d,
        "ansible_ssh_common_args": ssh_args(lab),
        "routednet_lab_name": lab,
    }
    for key in ("cluster_cidr", "subnet_prefix"):
        if topo.get(key) is not None:
            group_vars["routednet_" + key] = topo[key]
    inventory = {"all": {"children": {"routednet_nodes": {"hosts": hosts, "vars": group_vars}}}}
    text = "# Written by playbooks/lab.yml from the lab topology; do not edit by hand.\n# Reach a node by hand: ansible -i THIS_FILE NODE -m ping\n---\n"
    text += yaml.dump(inventory, Dumper=IndentedDumper, default_flow_style=False, sort_keys=True)
    if os.path.dirname(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        handle.write(text)


def make_ssh(lab):
    d = lab_dir(lab)
    os.makedirs(d + "/ssh", mode=0o700, exist_ok=True)
    os.makedirs(d + "/cp", mode=0o700, exist_ok=True)
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
    for key in ("host_ed25519", "id_ed25519"):
        run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "routednet-lab-%s" % lab, "-f", "%s/ssh/%s" % (d, key))
    shutil.copy("%s/ssh/id_ed25519.pub" % d, "%s/ssh/authorized_keys" % d)
    with open("%s/ssh/sshd_config" % d, "w") as handle:
        purpose = "Lab-only sshd, started per connection inside a lab node by the SSH ProxyCommand."
        handle.write(sshd_config(purpose, "%s/ssh/host_ed25519" % d, "%s/ssh/authorized_keys" % d))
    with open("%s/ssh/bashrc" % d, "w") as handle:
        handle.write(NODE_BASHRC)
    return d


def up(args):
    lab = args.name
    topo = load_topology(args.topology, namespace_nodes=args.namespace_nodes)
    down(args, quiet=True)
    d = make_ssh(lab)
    state = {"netns": [], "nodes": [n["name"] for n in topo["nodes"]]}
    save_state(lab, state)
    mnt = d + "/mnt"
    os.makedirs(mnt, exist_ok=True)
    run("mount", "--bind", mnt, mnt)
    run("mount", "--make-private", mnt)
    created = set(read_created_dirs())
    for path in PRIVATE_PATHS:
        if not os.path.isdir(path):
            os.makedirs(path)
            created.add(path)
    write_created_dirs(sorted(created))

    for seg_name in topo["_segments"]:
        ns = ns_name(lab, "seg", seg_name)
        new_namespace(ns)
        state["netns"].append(ns)
        save_state(lab, state)
        run("ip", "-n", ns, "link", "add", "br0", "type", "bridge")
        run("ip", "-n", ns, "link", "set", "br0", "up")

    for index, router in enumerate(topo.get("routers") or []):
        ns = ns_name(lab, "router", router["name"])
        new_namespace(ns, forwarding=True)
        state["netns"].append(ns)
        save_state(lab, state)
        run("ip", "-n", ns, "link", "set", "lo", "up")
        for leg_index, leg in enumerate(router["interfaces"]):
            seg_ns = ns_name(lab, "seg", leg["segment"])
            port, inside = "r%di%d" % (index, leg_index), "eth%d" % leg_index
            run("ip", "-n", seg_ns, "link", "add", port, "type", "veth", "peer", "name", inside, "netns", ns)
            run("ip", "-n", seg_ns, "link", "set", port, "master", "br0", "up")
            run("ip", "-n", ns, "addr", "add", "%s/%d" % (leg["address"], topo["_segments"][leg["segment"]].prefixlen), "dev", inside)
            run("ip", "-n", ns, "link", "set", inside, "up")

    with open("%s/ssh/host_ed25519.pub" % d) as handle:
        host_key = handle.read().split()[:2]
    known = []
    state["ports"] = {}
    # (saved before the nodes: a system node's supervisor reads it)
    state["topology"] = {k: v for k, v in topo.items() if not k.startswith("_")}
    save_state(lab, state)
    for index, node in enumerate(topo["nodes"]):
        name = node["name"]
        ns = ns_name(lab, "node", name)
        seg_ns = ns_name(lab, "seg", node["segment"])
        new_namespace(ns)
        state["netns"].append(ns)
        save_state(lab, state)
        run("ip", "-n", ns, "link", "set", "lo", "up")
        port = "n%d" % index
        state["ports"][name] = port
        run("ip", "-n", seg_ns, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns)
        run("ip", "-n", seg_ns, "link", "set", port, "master", "br0", "up")
        address_node(lab, topo, node)
        if node.get("system"):
            remember_mac(lab, state, name)
            make_system_root(lab, node)
            start_supervisor(lab, name)
        else:
            mfile = "%s/%s.mnt" % (mnt, name)
            open(mfile, "w").close()
            mounts = "; ".join(["mount -t tmpfs -o mode=0755 rnlab-%s %s" % (name, p) for p in PRIVATE_PATHS] + own_shell_startup(d))
            run("unshare", "--mount=%s" % mfile, "--propagation", "private", "sh", "-ec", mounts)
        known.append(name)
    state["topology"] = {k: v for k, v in topo.items() if not k.startswith("_")}
    save_state(lab, state)
    with open("%s/ssh/known_hosts" % d, "w") as handle:
        handle.write("%s %s %s\n" % (",".join(known), host_key[0], host_key[1]))
    write_inventory(lab, topo, args.inventory)
    wait_ssh(lab, topo)
    print(json.dumps({"lab": lab, "nodes": known, "inventory": args.inventory}))


def address_node(lab, topo, node):
    """The node's underlay address on eth0 and its routes to the segments its routers reach."""
    ns = ns_name(lab, "node", node["name"])
    run("ip", "-n", ns, "addr", "add", "%s/%d" % (node["address"], topo["_segments"][node["segment"]].prefixlen), "dev", "eth0")
    if node.get("address_v6"):
        # a static address, as a server's network configuration gives it (nodad: the
        # lab's addresses are unique, and the tests need it at once)
        cidr_v6 = next(seg["cidr_v6"] for seg in topo["segments"] if seg["name"] == node["segment"])
        prefix = ipaddress.IPv6Network(cidr_v6).prefixlen
        run("ip", "-n", ns, "addr", "add", "%s/%d" % (node["address_v6"], prefix), "dev", "eth0", "nodad")
    run("ip", "-n", ns, "link", "set", "eth0", "up")
    for cidr, gateway in segment_routes(topo, node["segment"]):
        run("ip", "-n", ns, "route", "add", cidr, "via", gateway, "dev", "eth0")


def move(args):
    """Re-plug a node into another segment with a new address, as an operator moving a
    server would: its old address and routes go, the new ones come, nothing else changes."""
    lab = args.name
    state = load_state(lab)
    if not state.get("topology"):
        raise LabError("lab %s is not up (no state under %s)" % (lab, lab_dir(lab)))
    topo = dict(state["topology"])
    topo["_segments"] = {seg["name"]: ipaddress.IPv4Network(seg["cidr"]) for seg in topo["segments"]}
    node = next((n for n in topo["nodes"] if n["name"] == args.node), None)
    if node is None:
        raise LabError("lab %s has no node %r" % (lab, args.node))
    others = [n for n in topo["nodes"] if n is not node]
    used = {}
    for other in others:
        used[ipaddress.IPv4Address(other["address"])] = "node %s" % other["name"]
    for router in topo.get("routers") or []:
        for leg in router["interfaces"]:
            used[ipaddress.IPv4Address(leg["address"])] = "router %s" % router["name"]
    error = _check_address(args.segment, args.address, topo["_segments"], used, "node %s" % node["name"])
    if error:
        raise LabError(error)
    ns, port = ns_name(lab, "node", node["name"]), state["ports"][node["name"]]
    old_seg, new_seg = ns_name(lab, "seg", node["segment"]), ns_name(lab, "seg", args.segment)
    for cidr, gateway in segment_routes(topo, node["segment"]):
        run("ip", "-n", ns, "route", "del", cidr, "via", gateway, "dev", "eth0", check=False)
    # with its last address gone the kernel also drops every other route through eth0
    # (the collection's too), as on a server that is re-addressed
    run("ip", "-n", ns, "addr", "flush", "dev", "eth0")
    if old_seg != new_seg:
        run("ip", "-n", old_seg, "link", "set", port, "netns", new_seg)
        run("ip", "-n", new_seg, "link", "set", port, "master", "br0", "up")
    node.update(segment=args.segment, address=args.address)
    address_node(lab, topo, node)
    state["topology"] = {k: v for k, v in topo.items() if not k.startswith("_")}
    save_state(lab, state)
    write_inventory(lab, topo, args.inventory)
    print(json.dumps({"lab": lab, "moved": node["name"], "segment": args.segment, "address": args.address}))


def wait_ssh(lab, topo):
    d = lab_dir(lab)
    for node in topo["nodes"]:
        cmd = ["ssh", "-i", "%s/ssh/id_ed25519" % d, "-o", "BatchMode=yes", "-o", "ProxyCommand=%s" % proxy_command(lab, node)]
        cmd += shlex.split(ssh_args(lab)) + ["root@%s" % node["name"], "cat /proc/sys/net/ipv4/ip_forward >/dev/null && ls /run | wc -l"]
        # a system node boots first (seconds): its sshd answers once multi-user.target is up
        deadline = time.time() + (SYSTEM_BOOT_TIMEOUT if node.get("system") else 0)
        while True:
            proc = run(*cmd, check=False)
            if proc.returncode == 0:
                break
            if time.time() > deadline or (node.get("system") and not supervised(lab, node["name"])):
                console = os.path.join(node_dir(lab, node["name"]), "console.log")
                tail = ""
                if node.get("system") and os.path.exists(console):
                    with open(console, "rb") as handle:
                        tail = "\n--- its console, last lines:\n" + handle.read()[-3000:].decode("utf-8", "replace")
                raise LabError("node %s does not answer over SSH: %s%s" % (node["name"], proc.stderr.strip(), tail))
            time.sleep(0.5)


def read_created_dirs():
    try:
        with open(CREATED_DIRS) as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return []


def write_created_dirs(paths):
    with open(CREATED_DIRS, "w") as handle:
        json.dump(paths, handle)


def save_state(lab, state):
    """Written whole, then renamed into place: a system node's supervisor reads it while
    up() is still adding nodes (a reader must never find it truncated)."""
    path = os.path.join(lab_dir(lab), "state.json")
    with open(path + ".new", "w") as handle:
        json.dump(state, handle)
    os.replace(path + ".new", path)


def load_state(lab):
    try:
        with open(os.path.join(lab_dir(lab), "state.json")) as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return {"netns": [], "nodes": []}


def kill_in_netns(ns):
    """End every process inside the named network namespace ``ns``."""
    if os.path.exists("/run/netns/" + ns):
        kill_in_net_namespace(os.stat("/run/netns/" + ns).st_ino)


def kill_in_net_namespace(inode):
    """End every process whose network namespace is ``inode`` (a namespace whose name is
    gone already), until none is left."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        deadline = time.time() + 3
        while True:
            pids = []
            for entry in os.listdir("/proc"):
                try:
                    if entry.isdigit() and os.stat("/proc/%s/ns/net" % entry).st_ino == inode:
                        pids.append(int(entry))
                except OSError:
                    continue
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            if time.time() > deadline:
                break
            time.sleep(0.05)


def delete_pods(mfile):
    """The node's pods live in its private /run/netns: delete them from inside."""
    inside = run("nsenter", "--mount=%s" % mfile, "ip", "netns", "list", check=False).stdout
    for line in inside.splitlines():
        if line.strip():
            run("nsenter", "--mount=%s" % mfile, "ip", "netns", "del", line.split()[0], check=False)


def exit_ssh_masters(lab):
    cp = lab_dir(lab) + "/cp"
    if os.path.isdir(cp):
        for sock in os.listdir(cp):
            run("ssh", "-o", "ControlPath=%s/%s" % (cp, sock), "-O", "exit", "lab", check=False)


def boot_units(lab, node):
    """What systemd would start at boot: the ExecStart lines of every unit enabled for
    multi-user.target in the node's /etc/systemd/system, run inside the node."""
    mfile = "%s/mnt/%s.mnt" % (lab_dir(lab), node)
    inside = ["nsenter", "--mount=%s" % mfile, "--net=/run/netns/%s" % ns_name(lab, "node", node)]
    wants = "/etc/systemd/system/multi-user.target.wants"
    listed = run(*inside, "sh", "-c", "ls %s 2>/dev/null || true" % wants).stdout.split()
    ran = []
    for unit in sorted(listed):
        text = run(*inside, "cat", "%s/%s" % (wants, unit)).stdout
        for line in text.splitlines():
            if line.startswith("ExecStart="):
                command = line[len("ExecStart=") :]
                proc = run(*inside, *shlex.split(command), check=False)
                ran.append({"unit": unit, "command": command, "rc": proc.returncode, "output": (proc.stdout + proc.stderr).splitlines()})
    return ran


def lab_node(args):
    """(lab, state, topology, node) for the actions on one node of a lab that is up."""
    state = load_state(args.name)
    if not state.get("topology"):
        raise LabError("lab %s is not up (no state under %s)" % (args.name, lab_dir(args.name)))
    topo = dict(state["topology"])
    topo["_segments"] = {seg["name"]: ipaddress.IPv4Network(seg["cidr"]) for seg in topo["segments"]}
    node = next((n for n in topo["nodes"] if n["name"] == args.node), None)
    if node is None:
        raise LabError("lab %s has no node %r" % (args.name, args.node))
    return args.name, state, topo, node


# ---- System nodes: a Debian root with systemd as PID 1, booted by systemd-nspawn in the
# node's network namespace, reached at its own sshd. One cached root per release (built
# once with mmdebstrap), an overlay per node; a supervisor per node boots it again after
# a reboot, into a fresh network namespace, as a power cycle would leave it.
SYSTEM_RELEASES = {"bookworm": "12", "trixie": "13"}
ROOTS_DIR = "/var/cache/routednet-lab/roots"
# (plus what the tests and runbooks run on a node: sysctl, tcpdump, iperf3)
SYSTEM_PACKAGES = "systemd,systemd-sysv,dbus,python3,python3-pyroute2,iproute2,openssh-server,iputils-ping,nftables,libnftables1,procps,tcpdump,iperf3"
# A node with ``containers: true`` boots a root with a container runtime as well: the CNI
# plugins, podman with crun and netavark (podman's default network backend when installed,
# as on most Debian 12 hosts with podman), and busybox, copied to BUSYBOX_ROOT as the root
# filesystem of the tests' containers (podman --rootfs: no image registry).
CONTAINER_PACKAGES = "containernetworking-plugins,podman,netavark,crun,busybox-static"
# (part of the stamp of a containers root: a change here builds it again)
CONTAINERS_ROOT_VERSION = "5"
BUSYBOX_ROOT = "/srv/routednet-lab/busybox"
PACKAGED_CNI_CONFIGS = ("87-podman-bridge.conflist",)
# podman inside a system node: the node's cgroup tree is read-only and it has no
# CAP_SYS_RESOURCE, so no cgroups, no default ulimits or sysctls, no session keyring; crun, cgroupfs.
CONTAINERS_CONF = """# routednet lab node: podman inside systemd-nspawn (no writable cgroups)
[containers]
cgroups = "disabled"
# (systemd-nspawn's seccomp filter refuses keyctl to what runs inside the node)
keyring = false
default_sysctls = []
default_ulimits = []

[engine]
runtime = "crun"
cgroup_manager = "cgroupfs"
"""
# (its root is an overlay already, on which podman's overlay driver cannot stack: vfs)
STORAGE_CONF = """# routednet lab node: the node's root is an overlay
[storage]
driver = "vfs"
runroot = "/run/containers/storage"
graphroot = "/var/lib/containers/storage"
"""
# Written into a finished root: a root built from another package list is built again.
ROOT_STAMP = ".routednet-lab-packages"
SYSTEM_BOOT_TIMEOUT = 90
NSPAWN_REBOOTED = 133  # systemd-nspawn's exit status when the container rebooted


def root_packages(root):
    """The package list a cached root was built from (None: not built, or built unfinished)."""
    try:
        with open(os.path.join(root, ROOT_STAMP)) as handle:
            return handle.read()
    except OSError:
        return None


def busybox_root(root):
    """A busybox root filesystem at BUSYBOX_ROOT inside ``root``: the binary and a link per applet."""
    target = root + BUSYBOX_ROOT
    for sub in ("bin", "etc", "proc", "sys", "dev", "tmp", "run"):
        os.makedirs(os.path.join(target, sub), exist_ok=True)
    shutil.copy(root + "/bin/busybox", target + "/bin/busybox")
    applets = run("chroot", root, "/bin/busybox", "--list").stdout.split()
    for applet in applets:
        if applet != "busybox" and not os.path.lexists(os.path.join(target, "bin", applet)):
            os.symlink("busybox", os.path.join(target, "bin", applet))


def system_root(release, containers=False):
    """The cached root of ``release`` (with a container runtime: ``containers``), built
    first if missing (one build at a time)."""
    name = release + ("-containers" if containers else "")
    packages = SYSTEM_PACKAGES + ("," + CONTAINER_PACKAGES + " (lab setup %s)" % CONTAINERS_ROOT_VERSION if containers else "")
    root = os.path.join(ROOTS_DIR, name)
    os.makedirs(ROOTS_DIR, exist_ok=True)
    with open(os.path.join(ROOTS_DIR, ".lock-" + name), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if root_packages(root) != packages:
            fresh = root + ".new"
            shutil.rmtree(fresh, ignore_errors=True)
            include = SYSTEM_PACKAGES + ("," + CONTAINER_PACKAGES if containers else "")
            proc = run("mmdebstrap", "--quiet", "--variant=apt", "--include=" + include, release, fresh, check=False)
            if proc.returncode != 0:
                shutil.rmtree(fresh, ignore_errors=True)
                raise LabError("mmdebstrap %s failed: %s" % (release, (proc.stderr or proc.stdout).strip()[-2000:]))
            if containers:
                busybox_root(fresh)
                with open(fresh + "/etc/containers/containers.conf", "w") as handle:
                    handle.write(CONTAINERS_CONF)
                with open(fresh + "/etc/containers/storage.conf", "w") as handle:
                    handle.write(STORAGE_CONF)
                # podman's package ships a default CNI network that sorts before the
                # collection's: an operator removes it, as CRI-O's and flannel's guides say
                for name in PACKAGED_CNI_CONFIGS:
                    if os.path.exists(fresh + "/etc/cni/net.d/" + name):
                        os.remove(fresh + "/etc/cni/net.d/" + name)
            with open(os.path.join(fresh, ROOT_STAMP), "w") as handle:
                handle.write(packages)
            shutil.rmtree(root, ignore_errors=True)
            os.rename(fresh, root)
    return root


def node_dir(lab, name):
    return os.path.join(lab_dir(lab), "nodes", name)


def make_system_root(lab, node):
    """The node's root: an overlay over the release's cached root, with the lab's SSH keys,
    its hostname and (with pyroute2: false) no pyroute2 of its own."""
    d, nd = lab_dir(lab), node_dir(lab, node["name"])
    for sub in ("upper", "work", "root"):
        os.makedirs(os.path.join(nd, sub), exist_ok=True)
    lower = system_root(node["system"], bool(node.get("containers")))
    run("mount", "-t", "overlay", "rnlab-%s-%s" % (lab, node["name"]), "-o", "lowerdir=%s,upperdir=%s/upper,workdir=%s/work" % (lower, nd, nd), nd + "/root")
    root = nd + "/root"
    with open(root + "/etc/hostname", "w") as handle:
        handle.write(node["name"] + "\n")
    os.makedirs(root + "/root/.ssh", mode=0o700, exist_ok=True)
    shutil.copy(d + "/ssh/id_ed25519.pub", root + "/root/.ssh/authorized_keys")
    for old in os.listdir(root + "/etc/ssh"):
        if old.startswith("ssh_host_"):
            os.remove(os.path.join(root, "etc/ssh", old))
    shutil.copy(d + "/ssh/host_ed25519", root + "/etc/ssh/ssh_host_ed25519_key")
    shutil.copy(d + "/ssh/host_ed25519.pub", root + "/etc/ssh/ssh_host_ed25519_key.pub")
    with open(root + "/etc/ssh/sshd_config.d/routednet-lab.conf", "w") as handle:
        handle.write("# lab node: root by the lab's key only\nPermitRootLogin prohibit-password\nPasswordAuthentication no\nUseDNS no\n")
    if node.get("pyroute2") is False:
        site = root + "/usr/lib/python3/dist-packages"
        for entry in os.listdir(site):
            if entry.startswith("pyroute2"):
                shutil.rmtree(os.path.join(site, entry))


def start_supervisor(lab, name):
    with open(os.path.join(node_dir(lab, name), "console.log"), "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "supervise", "--name", lab, "--node", name],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    with open(os.path.join(node_dir(lab, name), "supervisor.pid"), "w") as handle:
        handle.write(str(proc.pid))


def supervise(args):
    """Boot the node, and boot it again whenever it reboots, into a fresh network namespace
    (a power cycle loses links, addresses, routes and forwarding; the NIC keeps its MAC).
    Ends when the node powers off, or on SIGTERM (the node is shut down first)."""
    lab, state, topo, node = lab_node(args)
    ns = ns_name(lab, "node", node["name"])
    root = node_dir(lab, node["name"]) + "/root"
    stopping = []
    child = []

    def stop(_signum, _frame):
        stopping.append(True)
        if child:
            child[0].terminate()  # nspawn halts the container cleanly

    signal.signal(signal.SIGTERM, stop)
    boots = 0
    while not stopping:
        if boots:
            lab, state, topo, node = lab_node(args)  # as it is now: the lab may have changed since
            power_off(lab, state, node)
            power_on(lab, state, topo, node, run_units=False)
        env = dict(os.environ, SYSTEMD_NSPAWN_API_VFS_WRITABLE="network")  # forwarding must be writable
        argv = [
            "systemd-nspawn",
            "-q",
            "-b",
            "-D",
            root,
            "--network-namespace-path=/run/netns/" + ns,
            "--register=no",
            "--keep-unit",
            "--capability=CAP_NET_ADMIN,CAP_NET_RAW",
            # nspawn hides /sys/module; a real host shows which kernel modules it has
            "--bind-ro=/sys/module",
            "--hostname=" + node["name"],
            "--link-journal=no",
            "--resolv-conf=off",
            "--timezone=off",
        ]
        child[:] = [subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL)]
        status = child[0].wait()
        boots += 1
        print("routednet-lab: %s: nspawn exited %d after boot %d" % (node["name"], status, boots), flush=True)
        if status != NSPAWN_REBOOTED:
            break


def stop_system_nodes(lab):
    """SIGTERM to each system node's supervisor (its node shuts down), then unmount roots."""
    problems = []
    nodes = os.path.join(lab_dir(lab), "nodes")
    names = sorted(os.listdir(nodes)) if os.path.isdir(nodes) else []
    pids = {}
    for name in names:
        pid = supervisor_pid(lab, name)
        if pid is None:
            continue
        pids[name] = pid
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            pass
    # a node halts in seconds; one that does not within a minute is killed, with its
    # nspawn (the supervisor's process group), and what runs inside goes with its namespace
    deadline = time.time() + 60
    for name, pid in pids.items():
        while start_time(pid) is not None and time.time() < deadline:
            time.sleep(0.1)
        if start_time(pid) is not None:
            print("routednet_lab: node %s did not shut down within 60 s; killing it" % name, file=sys.stderr)
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
    for name in names:
        root = os.path.join(nodes, name, "root")
        if mounted(root) and run("umount", root, check=False).returncode != 0:
            run("umount", "-l", root, check=False)
            problems.append("cannot unmount %s" % root)
    return problems


def supervisor_pid(lab, name):
    """The PID start_supervisor recorded for the system node (None: none recorded)."""
    try:
        with open(os.path.join(node_dir(lab, name), "supervisor.pid")) as handle:
            return int(handle.read())
    except (OSError, ValueError):
        return None


def supervised(lab, name):
    """Whether the system node's supervisor still runs (it ends when its node is off for good)."""
    pid = supervisor_pid(lab, name)
    return pid is not None and start_time(pid) is not None


def cut_power(lab, name):
    """A system node loses power: its supervisor and nspawn are killed at once, so nothing
    shuts down cleanly and nothing boots it again (power_off then ends what ran inside)."""
    pid = supervisor_pid(lab, name)
    if pid is not None:
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass


def remember_mac(lab, state, name):
    """Record the node's eth0 MAC: a NIC keeps it across a reboot (peers' ARP caches stay right)."""
    ns = ns_name(lab, "node", name)
    state.setdefault("macs", {})[name] = json.loads(run("ip", "-j", "-n", ns, "link", "show", "eth0").stdout)[0]["address"]
    save_state(lab, state)


def power_off(lab, state, node):
    """The node goes dark: its processes and pods end, its network namespace (links,
    addresses, routes, forwarding) is gone, so SSH to it fails; its files stay, as on disk."""
    ns, seg_ns = ns_name(lab, "node", node["name"]), ns_name(lab, "seg", node["segment"])
    if not os.path.exists("/run/netns/" + ns):
        raise LabError("node %s is already off" % node["name"])
    remember_mac(lab, state, node["name"])
    # The name goes first, so that no new SSH session can enter the node (its ProxyCommand
    # enters by name); then every process still inside ends, sshd and with it the SSH
    # master to this node only. Masters to other nodes stay: a node powered off mid-run
    # must not cut a task in flight on its peers.
    inode = os.stat("/run/netns/" + ns).st_ino
    run("ip", "netns", "del", ns)
    kill_in_net_namespace(inode)
    if not node.get("system"):  # a system node's pods went with its /run
        delete_pods("%s/mnt/%s.mnt" % (lab_dir(lab), node["name"]))
    # the namespace (and the veth with it) is freed once nothing holds it; make sure the
    # segment's end is gone now
    run("ip", "-n", seg_ns, "link", "del", state["ports"][node["name"]], check=False)


# A new network namespace starts with the root namespace's IPv4 settings, not the kernel's
# (net.core.devconf_inherit_init_net=0 means that for IPv4): on a machine where Docker or
# podman turned forwarding on, every lab namespace would start with it on. A lab node
# must start as a freshly booted host does, whatever this machine's own settings.
KERNEL_DEFAULTS = (
    "net.ipv4.ip_forward=0",
    "net.ipv4.conf.all.forwarding=0",
    "net.ipv4.conf.default.forwarding=0",
    "net.ipv4.conf.all.rp_filter=0",
    "net.ipv4.conf.default.rp_filter=0",
)


def new_namespace(ns, forwarding=False):
    """``ip netns add`` with the kernel's IPv4 defaults set (forwarding on for a router)."""
    run("ip", "netns", "add", ns)
    run("ip", "netns", "exec", ns, "sysctl", "-qw", *KERNEL_DEFAULTS)
    if forwarding:
        run("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv4.ip_forward=1")


def power_on(lab, state, topo, node, run_units=True):
    """The node boots: a fresh network namespace with only the underlay (address and
    routes from the topology), forwarding off; then the units enabled for
    multi-user.target run, as systemd would run them."""
    ns, seg_ns = ns_name(lab, "node", node["name"]), ns_name(lab, "seg", node["segment"])
    if os.path.exists("/run/netns/" + ns):
        raise LabError("node %s is already on" % node["name"])
    port = state["ports"][node["name"]]
    new_namespace(ns)
    run("ip", "-n", ns, "link", "set", "lo", "up")
    run("ip", "-n", seg_ns, "link", "add", port, "type", "veth", "peer", "name", "eth0", "address", state["macs"][node["name"]], "netns", ns)
    run("ip", "-n", seg_ns, "link", "set", port, "master", "br0", "up")
    address_node(lab, topo, node)
    units = boot_units(lab, node["name"]) if run_units else []
    print(json.dumps({"lab": lab, "booted": node["name"], "units": units}))
    failed = [u["unit"] for u in units if u["rc"] != 0]
    if failed:
        raise LabError("node %s: unit(s) failed at boot: %s" % (node["name"], ", ".join(failed)))


def mounted(path):
    with open("/proc/self/mountinfo") as handle:
        return any(line.split()[4] == path for line in handle)


def down(args, quiet=False):
    lab = args.name
    d = lab_dir(lab)
    problems = []
    exit_ssh_masters(lab)
    problems += stop_system_nodes(lab)
    prefix = "%s-%s-" % (PREFIX, lab)
    listed = [line.split()[0] for line in run("ip", "netns", "list").stdout.splitlines() if line.strip()]
    namespaces = [n for n in listed if n.startswith(prefix)]
    for ns in namespaces:
        kill_in_netns(ns)
    mnt = d + "/mnt"
    if os.path.isdir(mnt):
        for entry in sorted(os.listdir(mnt)):
            mfile = os.path.join(mnt, entry)
            node = entry[:-4]
            ns = ns_name(lab, "node", node)
            if mounted(mfile):
                delete_pods(mfile)
                run("umount", mfile, check=False)
    for ns in namespaces:
        proc = run("ip", "netns", "del", ns, check=False)
        if proc.returncode != 0:
            problems.append("netns %s: %s" % (ns, proc.stderr.strip()))
    if os.path.isdir(mnt):
        while mounted(mnt):
            if run("umount", mnt, check=False).returncode != 0:
                problems.append("cannot unmount %s" % mnt)
                break
    if not [other for other in all_labs() if other != lab]:
        for path in read_created_dirs():
            try:
                os.rmdir(path)
            except OSError:
                pass
        if os.path.exists(CREATED_DIRS):
            os.remove(CREATED_DIRS)
    if os.path.isdir(d) and not problems:
        shutil.rmtree(d)
    left = [n for n in run("ip", "netns", "list").stdout.split() if n.startswith(prefix)]
    if left:
        problems.append("namespaces left: %s" % " ".join(left))
    if problems:
        raise LabError("lab %s was not removed cleanly: %s" % (lab, "; ".join(problems)))
    if not quiet:
        print(json.dumps({"lab": lab, "removed": True}))


def all_labs():
    """Names of every lab on this machine, from its state directories and its namespaces."""
    names = set(os.listdir(LAB_ROOT)) if os.path.isdir(LAB_ROOT) else set()
    for ns in run("ip", "netns", "list").stdout.split():
        for kind in ("-node-", "-seg-", "-router-"):
            if ns.startswith(PREFIX + "-") and kind in ns:
                names.add(ns[len(PREFIX) + 1 : ns.index(kind)])
    return sorted(names)


def down_all(args):
    for name in all_labs():
        args.name = name
        down(args)


def status(args):
    prefix = "%s-%s-" % (PREFIX, args.name)
    names = [n for n in run("ip", "netns", "list").stdout.split() if n.startswith(prefix)]
    print(json.dumps({"lab": args.name, "namespaces": names, "up": bool(names)}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["up", "move", "reboot", "power-off", "power-on", "down", "down-all", "status", "supervise", "roots"])
    parser.add_argument("--name", default="default")
    parser.add_argument("--topology")
    parser.add_argument("--inventory")
    parser.add_argument("--node", help="move, reboot, power-off, power-on: the node")
    parser.add_argument("--namespace-nodes", action="store_true", help="up: every node a plain namespace node, whatever the topology says")
    parser.add_argument("--no-units", action="store_true", help="reboot, power-on: do not run the node's enabled units")
    parser.add_argument("--segment", help="move: the segment it joins")
    parser.add_argument("--address", help="move: its new underlay address")
    parser.add_argument("--release", action="append", default=None, help="roots: a Debian release to build the root of (repeat)")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("routednet_lab: must run as root (it creates namespaces and mounts)")
    try:
        if args.action == "up":
            if not args.topology or not args.inventory:
                sys.exit("routednet_lab up needs --topology and --inventory")
            try:
                up(args)
            except BaseException:
                down(args, quiet=True)
                raise
        elif args.action == "move":
            if not (args.node and args.segment and args.address and args.inventory):
                sys.exit("routednet_lab move needs --node, --segment, --address and --inventory")
            move(args)
        elif args.action in ("reboot", "power-off", "power-on"):
            if not args.node:
                sys.exit("routednet_lab %s needs --node" % args.action)
            lab, state, topo, node = lab_node(args)
            if node.get("system") and args.action == "reboot":
                raise LabError("node %s is a system node: reboot it from inside (systemctl reboot, or ansible.builtin.reboot)" % node["name"])
            if args.action != "power-on":
                if node.get("system"):
                    cut_power(lab, node["name"])
                power_off(lab, state, node)
            if args.action == "power-off":
                print(json.dumps({"lab": lab, "off": node["name"]}))
            if args.action != "power-off":
                power_on(lab, state, topo, node, run_units=not args.no_units and not node.get("system"))
                if node.get("system"):
                    # systemd runs its units itself; the node is on once its sshd answers
                    start_supervisor(lab, node["name"])
                    wait_ssh(lab, dict(topo, nodes=[node]))
        elif args.action == "supervise":
            supervise(args)
        elif args.action == "roots":
            # build the system nodes' roots ahead of time, each release in a process of its own
            children = [subprocess.Popen([sys.executable, os.path.abspath(__file__), "roots", "--release", r]) for r in args.release[1:]]
            print(json.dumps({"root": system_root(args.release[0])}))
            if any(child.wait() != 0 for child in children):
                raise LabError("building a root failed")
        elif args.action == "down":
            down(args)
        elif args.action == "down-all":
            down_all(args)
        else:
            status(args)
    except LabError as exc:
        sys.exit("routednet_lab: %s" % exc)


if __name__ == "__main__":
    main()
