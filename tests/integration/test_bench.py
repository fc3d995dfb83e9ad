"""The benchmarks run at a small size, so that their code cannot rot. No timing is asserted:
only that each prints its table with every figure present, and leaves nothing behind."""

import os
import re
import subprocess
import sys

import pytest

from conftest import REPO
from labhelpers import lab_namespaces, sh

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root: makes network namespaces")

NUMBER = r"([\d.]+)"


def bench(*args, timeout=1800):
    res = subprocess.run([sys.executable, os.path.join(REPO, "bench", args[0])] + list(args[1:]), capture_output=True, text=True, check=False, timeout=timeout)
    assert res.returncode == 0, res.stdout + res.stderr
    return res.stdout


@needs_root
def test_netlink_reconcile_benchmark_runs_and_cleans_up():
    out = bench("netlink_reconcile.py", "--sizes", "50", "300", "--repeat", "1")
    routes = re.findall(r"^\| (\d+) \| %s s \| %s s \| %sx \| %s s \| %s s \| %s s \|$" % ((NUMBER,) * 6), out, re.M)
    entries = re.findall(r"^\| (\d+) \| %s s \| %s s \| %sx \| %s s \|$" % ((NUMBER,) * 4), out, re.M)
    assert [row[0] for row in routes] == ["50", "300"] and [row[0] for row in entries] == ["50", "300"], out
    for row in routes + entries:
        assert all(float(value) > 0 for value in row[1:]), row
    assert "rnbench-" not in sh("ip", "netns", "list")


@needs_root
def test_fleet_benchmark_runs_both_playbooks_and_cleans_up():
    out = bench("fleet.py", "--nodes", "2", "--baseline", "2")
    rows = re.findall(r"^\| (\S+) \| (\d+) \| %s s \| %s s \| (\d+) \| (\d+) MiB \| (\d+) \| (\d+) \|$" % (NUMBER, NUMBER), out, re.M)
    assert [(row[0], row[1]) for row in rows] == [("playbooks/hostgw.yml", "2"), ("bench/baseline/hostgw-command-loop.yml", "2")], out
    ours, baseline = rows
    assert ours[4] == "0", "the re-run of hostgw.yml changed something: %s" % out
    assert int(baseline[4]) == 2, "the baseline's commands always report a change, one per node"
    assert all(float(value) > 0 for value in ours[2:4] + baseline[2:4] + (ours[5], baseline[5]))
    assert re.search(r"At 2 nodes the collection is [\d.]+x faster than the baseline on the first run and [\d.]+x on a re-run", out), out
    assert not [n for n in lab_namespaces() if n.startswith("rnlab-bench")]


@needs_root
def test_dataplane_benchmark_measures_every_backend_and_cleans_up():
    out = bench("dataplane.py", "--seconds", "1")
    rows = re.findall(r"^\| ([^|]+) \| %s Gbit/s \| %s Gbit/s \| %s \| (\d+) \|$" % ((NUMBER,) * 3), out, re.M)
    assert [row[0] for row in rows] == ["host-gw", "VXLAN", "hybrid (same segment, direct)", "hybrid (across the router, VXLAN)"], out
    packets = {row[0]: int(row[4]) for row in rows}
    # the MTU each backend sets shows up end to end: 1500 bare, 1450 inside VXLAN; a hybrid
    # node's pods have one MTU, the tunnel's, whichever pair they talk to
    assert packets == {"host-gw": 1500, "VXLAN": 1450, "hybrid (same segment, direct)": 1450, "hybrid (across the router, VXLAN)": 1450}, out
    assert all(float(row[1]) > 0 and float(row[2]) > 0 for row in rows)
    assert not [n for n in lab_namespaces() if n.startswith("rnlab-benchdp")]


def test_controller_plan_benchmark_runs():
    out = bench("controller_plan.py", "--nodes", "20", "300")
    rows = re.findall(r"^\| (\d+) \| %s s \| %s s \| %s KiB \| %s s \| %s KiB \| %s s \|$" % ((NUMBER,) * 6), out, re.M)
    assert [row[0] for row in rows] == ["20", "300"], out
    # a host's call carries every peer: it grows with the cluster
    assert float(rows[1][3]) > float(rows[0][3]) and float(rows[1][5]) > float(rows[0][5]), rows
