"""The controller's part of a run at a cluster's size: planning, and each host's call.

    .venv/bin/python bench/controller_plan.py                    # 50, 1,000 and 5,000 nodes
    .venv/bin/python bench/controller_plan.py --nodes 20         # a quick look

For N nodes (underlay addresses in 192.168.0.0/16, a /24 pod subnet each of 10.0.0.0/8,
one pod per node):
  plan          building the node-to-subnet map from the inventory (once per run)
  host-gw host  one host's node document and its steps: routes to every peer
  VXLAN host    one host's node document and its steps: VTEP entries and routes to every peer
  call size     the node_state argument of one host, its document, as JSON (what goes over SSH to it)
Each host's part is computed on the controller, so a run's planning CPU is N times the
per-host figure; Ansible's forks spread it over the controller's cores.
Nothing touches the network; no root needed.
"""

import argparse
import json
import os
import platform
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "collections"))

from ansible_collections.routednet.fabric.plugins.action.subnet_plan import role_defaults  # noqa: E402
from ansible_collections.routednet.fabric.plugins.module_utils.plan import node_document, planning  # noqa: E402
from ansible_collections.routednet.fabric.plugins.module_utils.state import document_steps  # noqa: E402

# A node's settings as subnet_plan hands them on when the inventory sets none: the roles' defaults.
SETTINGS = role_defaults()


def inventory(count):
    return [{"name": "node%d" % i, "underlay_ip": "192.168.%d.%d" % (i // 250, i % 250 + 1), "pods": ["pod%d" % i]} for i in range(count)]


def timed(fn, repeat=3):
    best, result = None, None
    for _attempt in range(repeat):
        started = time.perf_counter()
        result = fn()
        took = time.perf_counter() - started
        best = took if best is None else min(best, took)
    return best, result


def measure(count):
    nodes = inventory(count)
    cluster = "10.0.0.0/8"
    plan_time, (plan, _leases) = timed(lambda: planning.build_plan(nodes, cluster, 24))
    me = "node1"
    facts = {"underlay_dev": "eth0", "saved_pods": [], "netns_found": {}, "saved": {}}

    def steps_of(backend, mtu):
        # the controller's document (node_state's argument), and the steps the host makes of it
        result = {"plan": plan, "settings": {me: dict(SETTINGS, routednet_backend=backend)}}
        document = node_document.build(result, me, facts, mtu)
        document_steps.steps(document)
        return document

    def hostgw_steps():
        return steps_of("hostgw", 1500)

    def vxlan_steps():
        return steps_of("vxlan", 1450)

    hostgw_time, hostgw = timed(hostgw_steps)
    vxlan_time, vxlan = timed(vxlan_steps)
    return plan_time, hostgw_time, len(json.dumps({"document": hostgw})), vxlan_time, len(json.dumps({"document": vxlan}))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, nargs="+", default=[50, 1000, 5000])
    opts = parser.parse_args()
    print("# %s, Python %s, %s, %d CPUs" % (time.strftime("%Y-%m-%d"), platform.python_version(), platform.machine(), os.cpu_count()))
    print("\n| nodes | plan (once) | host-gw: one host's steps | its call | VXLAN: one host's steps | its call | VXLAN steps, all hosts (N x one) |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for count in opts.nodes:
        plan, hostgw, hostgw_size, vxlan, vxlan_size = measure(count)
        print(
            "| %d | %.3f s | %.4f s | %.0f KiB | %.4f s | %.0f KiB | %.1f s |"
            % (count, plan, hostgw, hostgw_size / 1024.0, vxlan, vxlan_size / 1024.0, vxlan * count)
        )


if __name__ == "__main__":
    main()
