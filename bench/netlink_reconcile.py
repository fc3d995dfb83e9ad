"""Netlink work inside one host: the collection's reconcile beside iproute2's batch mode.

    sudo .venv/bin/python bench/netlink_reconcile.py                  # 5,000 and 20,000
    sudo .venv/bin/python bench/netlink_reconcile.py --sizes 200      # a quick look

For each size N, in a network namespace of its own (removed at the end, also on failure),
the best of --repeat runs of:

  routes   ip -batch     `ip -n NS -batch FILE`: N `route replace` lines (ip's start-up included)
           reconcile     the routes module's converge function in this process (what the module and
                         the boot-time restore run): N new routes, one call
           no change     the same call again with the N routes present
           module        the whole module in a new Python process, as on a host (interpreter,
                         imports, arguments), doing that no-change call
           start-up      a new Python process that only imports what the module imports
  entries  ip+bridge -batch   N `neigh replace` + N `fdb append` lines on a VXLAN device
           reconcile / no change   vxlan_fdb's converge function, N peers, one call

Nothing leaves the namespace: its links are a veth pair with both ends inside it and a
VXLAN device on it.
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
COLLECTIONS = os.path.join(os.path.dirname(HERE), "collections")
sys.path.insert(0, COLLECTIONS)

from ansible_collections.routednet.fabric.plugins.module_utils.state.restore import run_step  # noqa: E402

GATEWAY = "10.254.0.2"
PROTO = 201
VTEP = "vxbench"

# Runs the module as the AnsiballZ wrapper does on a host: main() with the call's arguments.
MODULE_DRIVER = """
import json, sys
sys.path.insert(0, %r)
from ansible.module_utils.testing import patch_module_args
from ansible_collections.routednet.fabric.plugins.modules import routes
with patch_module_args(json.load(open(sys.argv[1]))):
    routes.main()
"""
IMPORTS_ONLY = """
import sys
sys.path.insert(0, %r)
from ansible.module_utils.basic import AnsibleModule
from ansible_collections.routednet.fabric.plugins.modules import routes
"""


def sh(*cmd):
    return subprocess.run(list(cmd), check=True, capture_output=True, text=True).stdout


class Namespace(object):
    """A namespace with a veth pair (bench0 10.254.0.1/24) and an owned VXLAN device."""

    def __init__(self):
        self.name = "rnbench-%d" % os.getpid()

    def __enter__(self):
        sh("ip", "netns", "add", self.name)
        try:
            ip = ("ip", "-n", self.name)
            sh(*ip, "link", "add", "bench0", "type", "veth", "peer", "name", "bench1")
            sh(*ip, "link", "set", "bench0", "up")
            sh(*ip, "link", "set", "bench1", "up")
            sh(*ip, "addr", "add", "10.254.0.1/24", "dev", "bench0")
            sh(*ip, "link", "add", VTEP, "type", "vxlan", "id", "1", "dstport", "8472", "local", "10.254.0.1", "dev", "bench0", "nolearning")
            sh(*ip, "link", "set", VTEP, "alias", "routednet.fabric", "up")
        except BaseException:
            self.__exit__()
            raise
        return self.name

    def __exit__(self, *exc):
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True, check=False)


def timed(fn):
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def converge(module, params):
    result = run_step({"module": module, "params": params})
    if result.get("failed"):
        raise SystemExit("%s failed: %s" % (module, result.get("msg")))
    return result


def subnets(count):
    """``count`` distinct /24s outside the namespace's own network."""
    return ["%d.%d.%d.0/24" % (11 + i // 65536, (i // 256) % 256, i % 256) for i in range(count)]


def peers(count):
    """VXLAN peers: VTEP address (the peer subnet's .0), MAC and underlay address."""
    return [
        {
            "ip": "%d.%d.%d.0" % (11 + i // 65536, (i // 256) % 256, i % 256),
            "mac": "02:42:%02x:%02x:%02x:01" % (i // 65536, (i // 256) % 256, i % 256),
            "dst": "10.%d.%d.%d" % (100 + i // 65536, (i // 256) % 256, i % 256 or 1),
        }
        for i in range(count)
    ]


def count_lines(*cmd):
    return len(sh(*cmd).splitlines())


def measure_routes(count, tmp):
    dsts = subnets(count)
    batch = os.path.join(tmp, "routes.batch")
    with open(batch, "w") as handle:
        handle.writelines("route replace %s via %s dev bench0 proto %d\n" % (d, GATEWAY, PROTO) for d in dsts)
    figures = {}
    with Namespace() as ns:
        figures["ip -batch"], _out = timed(lambda: sh("ip", "-n", ns, "-batch", batch))
        assert count_lines("ip", "-n", ns, "route", "show", "proto", str(PROTO)) == count
    with Namespace() as ns:
        routes = [{"dst": d, "via": GATEWAY, "dev": "bench0", "onlink": False, "metric": 0, "table": 254} for d in dsts]
        params = {"routes": routes, "prune": True, "protocol": PROTO, "state": "present", "netns": ns}
        figures["reconcile"], result = timed(lambda: converge("routes", params))
        assert result["changed"] and len(result["added"]) == count
        figures["no change"], result = timed(lambda: converge("routes", params))
        assert not result["changed"], "a second reconcile changed something"
        args_file = os.path.join(tmp, "args.json")
        with open(args_file, "w") as handle:
            json.dump(params, handle)
        figures["module"], out = timed(lambda: sh(sys.executable, "-c", MODULE_DRIVER % COLLECTIONS, args_file))
        assert json.loads(out)["changed"] is False
        figures["start-up"], _out = timed(lambda: sh(sys.executable, "-c", IMPORTS_ONLY % COLLECTIONS))
        assert count_lines("ip", "-n", ns, "route", "show", "proto", str(PROTO)) == count
    return figures


def measure_entries(count, tmp):
    wanted = peers(count)
    neigh_batch, fdb_batch = os.path.join(tmp, "neigh.batch"), os.path.join(tmp, "fdb.batch")
    with open(neigh_batch, "w") as handle:
        handle.writelines("neigh replace %s lladdr %s dev %s nud permanent\n" % (p["ip"], p["mac"], VTEP) for p in wanted)
    with open(fdb_batch, "w") as handle:
        handle.writelines("fdb append %s dev %s dst %s self permanent\n" % (p["mac"], VTEP, p["dst"]) for p in wanted)
    figures = {}
    with Namespace() as ns:

        def iproute2():
            sh("ip", "-n", ns, "-batch", neigh_batch)
            sh("ip", "netns", "exec", ns, "bridge", "-batch", fdb_batch)

        figures["ip+bridge -batch"], _out = timed(iproute2)
        assert count_lines("ip", "-n", ns, "neigh", "show", "dev", VTEP) == count
    with Namespace() as ns:
        params = {"device": VTEP, "peers": wanted, "prune": True, "state": "present", "netns": ns}
        figures["reconcile"], result = timed(lambda: converge("vxlan_fdb", params))
        assert result["changed"] and len(result["changes"]) == 2 * count
        figures["no change"], result = timed(lambda: converge("vxlan_fdb", params))
        assert not result["changed"], "a second reconcile changed something"
        assert count_lines("ip", "netns", "exec", ns, "bridge", "fdb", "show", "dev", VTEP) >= count
    return figures


def best(measure, count, repeat, tmp):
    """Best of ``repeat`` for each figure (the least disturbed by other work on the machine)."""
    runs = [measure(count, tmp) for _run in range(repeat)]
    return {name: min(run[name] for run in runs) for name in runs[0]}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 20000], help="routes (and peers) per call")
    parser.add_argument("--repeat", type=int, default=3, help="runs per size; the best is reported")
    opts = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("needs root: it makes a network namespace")
    print("# %s, kernel %s, Python %s, %d CPUs" % (time.strftime("%Y-%m-%d"), platform.release(), platform.python_version(), os.cpu_count()))
    with tempfile.TemporaryDirectory() as tmp:
        table(
            "| routes | ip -batch | reconcile | ratio | no change | module, no change (whole process) | start-up (imports) |",
            [best(measure_routes, count, opts.repeat, tmp) for count in opts.sizes],
            opts.sizes,
            ("ip -batch", "reconcile", "no change", "module", "start-up"),
        )
        table(
            "| VXLAN peers (neighbour + FDB entry each) | ip+bridge -batch | reconcile | ratio | no change |",
            [best(measure_entries, count, opts.repeat, tmp) for count in opts.sizes],
            opts.sizes,
            ("ip+bridge -batch", "reconcile", "no change"),
        )


def table(header, figures, sizes, columns):
    """A Markdown table: per size the figures in ``columns``, the ratio of the second to
    the first (ours to iproute2's) after the second."""
    print("\n" + header)
    print("|" + "---:|" * (len(columns) + 2))
    for count, f in zip(sizes, figures, strict=True):
        cells = ["%.3f s" % f[name] for name in columns]
        cells.insert(2, "%.1fx" % (f[columns[1]] / f[columns[0]]))
        print("| %d | %s |" % (count, " | ".join(cells)))


if __name__ == "__main__":
    main()
