"""A fleet: playbooks/hostgw.yml on an N-node lab, beside the command-loop baseline.

    sudo .venv/bin/python bench/fleet.py                       # 10 and 50 nodes, baseline at 50
    sudo .venv/bin/python bench/fleet.py --nodes 3 --baseline 3   # a quick look

For each size N a lab of its own (one segment, one pod per node, reached over real SSH
as in every lab; removed at the end, also on failure) and, timed:

  first run    ansible-playbook playbooks/hostgw.yml on the fresh lab
  re-run       the same again; it must report changed=0 on every node
  peak memory  the most the controller's process tree (ansible-playbook, its workers and
               SSH clients) held at once, as proportional set size, sampled every 0.2 s
  tasks/host   the tasks the first run ran for one node (ok + skipped in its recap), and
               the results it printed for that node (each loop item counts)

and, at the sizes given to --baseline, on a second fresh lab the baseline
(bench/baseline/hostgw-command-loop.yml: one `ip route replace` command per peer),
first run and re-run, with its module calls per host (one per loop item).
"""

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
import threading
import time

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
LAB_TOOL = os.path.join(REPO, "lab", "routednet_lab.py")
RECAP = re.compile(r"^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)", re.M)


def topology(count):
    """``count`` nodes on one segment, one pod each, a /24 per node."""
    return {
        "cluster_cidr": "10.244.0.0/16",
        "segments": [{"name": "lan1", "cidr": "192.168.50.0/24"}],
        "nodes": [
            {"name": "node%d" % i, "segment": "lan1", "address": "192.168.50.%d" % (10 + i), "pod_cidr": "10.244.%d.0/24" % i, "pods": ["pod%d" % i]}
            for i in range(1, count + 1)
        ],
        "routers": [],
    }


def tree_pss_kib(root):
    """Proportional set size of ``root`` and every process under it, in KiB."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as handle:
                    parent = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            with open("/proc/%d/smaps_rollup" % pid) as handle:
                for line in handle:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass
    return total


def run_playbook(playbook, inventory):
    """Run it; return (seconds, peak PSS in MiB, recap {host: counts}, output)."""
    env = dict(os.environ, ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1")
    started = time.perf_counter()
    proc = subprocess.Popen(["ansible-playbook", playbook, "-i", inventory], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak = [0]

    def sample():
        while proc.poll() is None:
            peak[0] = max(peak[0], tree_pss_kib(proc.pid))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output = proc.communicate()[0]
    took = time.perf_counter() - started
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit("%s failed (exit %d):\n%s" % (playbook, proc.returncode, output[-4000:]))
    fields = ("ok", "changed", "unreachable", "failed", "skipped")
    # the nodes' lines (the playbooks' first play, the node-group check, runs on localhost)
    recap = {m.group(1): dict(zip(fields, map(int, m.groups()[1:]), strict=True)) for m in RECAP.finditer(output) if m.group(1) != "localhost"}
    return took, peak[0] / 1024.0, recap, output


class Lab(object):
    def __init__(self, count, tmp, tag):
        self.name = "bench%s%d" % (tag, count)
        self.topology = os.path.join(tmp, "%s.yml" % self.name)
        self.inventory = os.path.join(tmp, self.name, "hosts.yml")
        with open(self.topology, "w") as handle:
            yaml.safe_dump(topology(count), handle)

    def __enter__(self):
        try:
            subprocess.run(
                [sys.executable, LAB_TOOL, "up", "--name", self.name, "--topology", self.topology, "--inventory", self.inventory],
                check=True,
                capture_output=True,
                text=True,
            )
        except subprocess.CalledProcessError as exc:
            self.__exit__()
            raise SystemExit("lab up failed:\n%s" % (exc.stdout + exc.stderr)[-4000:]) from exc
        return self.inventory

    def __exit__(self, *exc):
        subprocess.run([sys.executable, LAB_TOOL, "down", "--name", self.name], capture_output=True, check=False)


def measure(playbook, count, tmp, tag):
    with Lab(count, tmp, tag) as inventory:
        first, first_mem, recap, output = run_playbook(playbook, inventory)
        assert len(recap) == count and all(r["failed"] == 0 and r["unreachable"] == 0 for r in recap.values()), recap
        tasks = recap["node1"]["ok"] + recap["node1"]["skipped"]
        calls = len(re.findall(r"^(?:ok|changed): \[node1\]", output, re.M))
        again, again_mem, recap, _output = run_playbook(playbook, inventory)
        changed = sum(r["changed"] for r in recap.values())
    return {"first": first, "again": again, "memory": max(first_mem, again_mem), "tasks": tasks, "calls": calls, "changed": changed}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, nargs="+", default=[10, 50], help="lab sizes for playbooks/hostgw.yml")
    parser.add_argument("--baseline", type=int, nargs="*", default=[50], help="lab sizes for the command-loop baseline")
    opts = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("needs root: it builds a lab of network namespaces")
    print(
        "# %s, kernel %s, %d CPUs, forks and SSH settings from ansible.cfg and the lab inventory"
        % (time.strftime("%Y-%m-%d"), platform.release(), os.cpu_count())
    )
    print("\n| playbook | nodes | first run | re-run | changed on re-run | controller peak memory | tasks per host | results per host, loop items each |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        runs = [("playbooks/hostgw.yml", "c", n) for n in opts.nodes] + [("bench/baseline/hostgw-command-loop.yml", "b", n) for n in opts.baseline]
        for playbook, tag, count in runs:
            f = measure(playbook, count, tmp, tag)
            results[(tag, count)] = f
            print(
                "| %s | %d | %.1f s | %.1f s | %d | %.0f MiB | %d | %d |"
                % (playbook, count, f["first"], f["again"], f["changed"], f["memory"], f["tasks"], f["calls"])
            )
            sys.stdout.flush()
    for count in opts.baseline:
        if ("c", count) in results:
            ours, base = results[("c", count)], results[("b", count)]
            print(
                "\nAt %d nodes the collection is %.1fx faster than the baseline on the first run and %.1fx on a re-run."
                % (count, base["first"] / ours["first"], base["again"] / ours["again"])
            )


if __name__ == "__main__":
    main()
