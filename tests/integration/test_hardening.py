"""What an operator can do to a running cluster without breaking it (issue 16): check mode
writes nothing, a killed run does not block the next one, waiting for locked hosts costs
one timeout, renames clean up after themselves, and the lease store never hides or edits
the operator's variables, whatever the inventory's layout."""

import hashlib
import json
import os
import re
import signal
import subprocess
import time

import pytest
import yaml

from conftest import REPO
from labhelpers import BIN, holding_locks, in_node_namespaces, playbook, recap, running_lab, sh

pytestmark = [pytest.mark.lab, pytest.mark.slow]

LAB = "harden"
NODES = ("vm1", "vm2", "vm3")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with running_lab(LAB, "seed001.yml", tmp_path_factory.mktemp("harden") / "hosts.yml") as inventory:
        yield inventory


def on(node, *cmd):
    return sh(*in_node_namespaces(LAB, node, *cmd))


def lock_is_free(node):
    """flock(1) on the node: 0 when nobody holds the lock file (or there is none)."""
    probe = "[ ! -e /run/routednet/lock ] || flock -n /run/routednet/lock true"
    return subprocess.run(in_node_namespaces(LAB, node, "sh", "-c", probe), check=False).returncode == 0


def converge(play, inventory, *extra):
    res = playbook("playbooks/%s.yml" % play, "-i", str(inventory), *extra)
    assert res.returncode == 0, res.stdout[-6000:]
    return res


def test_check_mode_on_a_node_never_run_writes_no_lock(lab):
    res = playbook("playbooks/vxlan.yml", "-i", str(lab), "--check")
    assert res.returncode == 0, res.stdout[-4000:]
    for node in NODES:
        assert on(node, "sh", "-c", "ls -A /run/routednet 2>/dev/null || true").strip() == "", node


def test_a_killed_run_does_not_block_the_next(lab):
    converge("hostgw", lab)
    # killed like a controller is (the whole process group, SIGKILL) once it has read every
    # host, and with it taken its lock, on the way to VXLAN: the converge call, which gives
    # the lock back, never comes.
    log = lab.parent / "killed.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [os.path.join(BIN, "ansible-playbook"), "playbooks/vxlan.yml", "-i", str(lab)],
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.time() + 120
        while "Check every host and every pair of nodes" not in log.read_text() and time.time() < deadline:
            time.sleep(0.1)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert "Check every host and every pair of nodes" in log.read_text()
    assert not all(lock_is_free(node) for node in NODES), "the killed run held no lock: the test did not test anything"
    start = time.time()
    res = converge("vxlan", lab, "-e", "routednet_lock_timeout=120")
    assert time.time() - start < 60, "the next run waited for the dead one"
    said = res.stdout + res.stderr  # warnings go to stderr
    assert "broke the lock of run" in said and "that run's ansible process on this controller is gone" in said, said[-4000:]
    assert all(lock_is_free(node) for node in NODES)
    again = converge("vxlan", lab)
    assert all(recap(again.stdout, node)["changed"] == 0 for node in NODES), again.stdout[-3000:]


def test_a_refused_run_gives_every_lock_back(lab):
    """Refused once every host was read, and with it locked (a planned name the host's own
    underlay link holds): the run stops before any change and no host keeps its lock."""
    res = playbook("playbooks/hostgw.yml", "-i", str(lab), "-e", "routednet_bridge_name=eth0")
    assert res.returncode != 0 and "Nothing was changed." in res.stdout, res.stdout[-4000:]
    assert "eth0" in res.stdout and "Traceback" not in res.stdout + res.stderr
    assert res.stdout.index("TASK [routednet.fabric.plan : Find the underlay interface") < res.stdout.index("Nothing was changed.")
    assert "TASK [routednet.fabric.node : Let the next run in]" in res.stdout, res.stdout[-4000:]
    assert all(lock_is_free(node) for node in NODES)


def test_waiting_for_several_locked_hosts_costs_one_timeout(lab):
    with holding_locks(lab, "vm1:vm2", "maint", "operator maintenance"):
        assert not lock_is_free("vm1") and not lock_is_free("vm2")
        res = playbook("playbooks/vxlan.yml", "-i", str(lab), "-e", "routednet_lock_timeout=6")
        assert res.returncode != 0 and "operator maintenance" in res.stdout, res.stdout[-4000:]
        waits = dict((host, int(n)) for host, n in re.findall(r"fatal: \[(vm\d)\]: FAILED! =>.*?waited (\d+) s\. The lock goes", res.stdout, re.S))
        assert sorted(waits) == ["vm1", "vm2"] and sum(waits.values()) <= 6 + 2, (waits, res.stdout[-4000:])
    # the holder is gone: the next run breaks its locks at once and converges
    res = converge("vxlan", lab)
    assert "broke the lock of run maint" in res.stdout + res.stderr, res.stderr[-3000:]


def bridge_of(node, ifname):
    links = json.loads(on(node, "ip", "-j", "link", "show"))
    return next((link.get("master") for link in links if link["ifname"] == ifname), None)


def test_renaming_the_bridge_sysctl_file_and_table_moves_everything(lab):
    converge("hostgw", lab)
    renamed = ["-e", "routednet_bridge_name=cni1", "-e", "routednet_sysctl_file=/etc/sysctl.d/91-routednet.conf", "-e", "routednet_firewall_table=rnet"]
    converge("hostgw", lab, *renamed)
    for node in NODES:
        links = on(node, "ip", "-o", "link")
        assert " cni0:" not in links and " cni1:" in links, links
        assert "172.24" in on(node, "ip", "-4", "-o", "addr", "show", "dev", "cni1")
        # ours moved; Debian's own files there stay
        files = on(node, "ls", "/etc/sysctl.d").split()
        assert [f for f in files if "routednet" in f] == ["91-routednet.conf"] and "99-sysctl.conf" in files, files
        tables = on(node, "nft", "list", "tables")
        assert "inet rnet" in tables and "inet routednet" not in tables, tables
    veths = [link["ifname"] for link in json.loads(on("vm1", "ip", "-j", "link", "show")) if link["ifname"].startswith("veth")]
    assert veths and all(bridge_of("vm1", v) == "cni1" for v in veths)
    converge("verify", lab, "-e", "verify_expected_ttl=62", "-e", "routednet_bridge_name=cni1")
    again = converge("hostgw", lab, *renamed)
    assert all(recap(again.stdout, node)["changed"] == 0 for node in NODES), again.stdout[-3000:]
    # and back
    converge("hostgw", lab)
    assert " cni1:" not in on("vm1", "ip", "-o", "link")
    converge("verify", lab, "-e", "verify_expected_ttl=62")


# The operator's variables, in each layout an inventory commonly has.
LAYOUTS = ["group_vars/all.yml", "group_vars/all/main.yml", "group_vars/routednet_nodes.yml", "inventory [all:vars]", "host_vars"]
OPERATOR_VARS = {"routednet_cluster_cidr": "172.240.0.0/12", "routednet_masquerade": True}


def write_layout(base, directory, layout, nodes):
    """An inventory of ``nodes`` in ``directory`` whose routednet settings are in ``layout``;
    returns the -i arguments and the operator's files."""
    data = yaml.safe_load(base.read_text())
    group = data["all"]["children"]["routednet_nodes"]
    group["hosts"] = dict((n, dict(group["hosts"][n])) for n in nodes)
    for host in group["hosts"].values():
        host.pop("routednet_pod_cidr")  # subnets from leases
    for var in OPERATOR_VARS:
        group["vars"].pop(var, None)
    hosts = directory / "hosts.yml"
    hosts.write_text(yaml.safe_dump(data))
    files, sources = {}, ["-i", str(hosts)]
    if layout == "inventory [all:vars]":
        files[directory / "vars.ini"] = "[all:vars]\n" + "".join(
            "%s=%s\n" % (k, str(v).lower() if isinstance(v, bool) else v) for k, v in OPERATOR_VARS.items()
        )
        sources += ["-i", str(directory / "vars.ini")]
    elif layout == "host_vars":
        for node in nodes:
            files[directory / "host_vars" / ("%s.yml" % node)] = yaml.safe_dump(OPERATOR_VARS)
    else:
        files[directory / layout] = yaml.safe_dump(OPERATOR_VARS)
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return sources, files


def digest(paths):
    return dict((str(p), hashlib.sha256(p.read_bytes()).hexdigest()) for p in paths)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_the_lease_store_never_hides_the_operators_variables(lab, tmp_path, layout):
    for step, nodes in (("first run", NODES[:2]), ("second run", NODES[:2]), ("a node added", NODES)):
        sources, files = write_layout(lab, tmp_path, layout, nodes)
        before = digest(files)
        res = playbook("playbooks/hostgw.yml", *sources)
        assert res.returncode == 0, (layout, step, res.stdout[-5000:])
        if step == "second run":
            assert all(recap(res.stdout, n)["changed"] == 0 for n in nodes), (layout, res.stdout[-3000:])
        if step == "a node added":
            assert recap(res.stdout, "vm2")["changed"] == 1, (layout, res.stdout[-3000:])  # vm1 also wrote the lease
        assert digest(files) == before, "the run edited the operator's files"
        seen = json.loads(
            subprocess.run([os.path.join(BIN, "ansible-inventory"), *sources, "--host", "vm1"], cwd=REPO, capture_output=True, text=True, check=True).stdout
        )
        assert seen["routednet_cluster_cidr"] == "172.240.0.0/12" and seen["routednet_masquerade"] in (True, "true"), (layout, step, seen)
        leases = yaml.safe_load((tmp_path / ".routednet-leases.yml").read_text())["routednet_leases"]
        assert sorted(leases) == sorted(nodes) and all(cidr.startswith("172.24") for cidr in leases.values()), leases
        if layout != "group_vars/all/main.yml":
            assert not (tmp_path / "group_vars" / "all").exists(), "the lease store made group_vars/all/"
    assert "masquerade" in on("vm1", "nft", "list", "table", "inet", "routednet")
