"""playbooks/plan.yml: the preview contacts no host and says what each node would hold."""

import os

import pytest
import yaml

from labhelpers import playbook

pytestmark = pytest.mark.lab


def unreachable_inventory(tmp_path):
    """Seed 000's two nodes, reachable by nothing: SSH would run `false` as its proxy, so
    any attempt to contact a host fails the play (and sends no packet anywhere)."""
    hosts = {
        "node1": {"routednet_underlay_ip": "192.168.245.168", "routednet_pods": ["docker1"], "routednet_underlay_dev": "eth0"},
        "node2": {"routednet_underlay_ip": "192.168.245.172", "routednet_pods": ["docker2"]},
    }
    group_vars = {"routednet_cluster_cidr": "172.16.0.0/12", "ansible_connection": "ssh", "ansible_ssh_common_args": "-o ProxyCommand=false"}
    path = tmp_path / "inventory" / "hosts.yml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump({"all": {"children": {"routednet_nodes": {"hosts": hosts, "vars": group_vars}}}}))
    return path


@pytest.mark.parametrize("backend", ["hostgw", "vxlan"])
def test_plan_previews_every_node_without_touching_any(tmp_path, backend):
    inventory = unreachable_inventory(tmp_path)
    res = playbook("playbooks/plan.yml", "-i", str(inventory), "-e", "routednet_backend=%s" % backend)
    assert res.returncode == 0, res.stdout[-3000:]
    assert "unreachable=0" in res.stdout and "UNREACHABLE" not in res.stdout
    assert "node1  192.168.245.168   172.16.1.0/24  172.16.1.1/24  docker1 172.16.1.2/24" in res.stdout, res.stdout
    report = (inventory.parent / "routednet-plan.md").read_text()
    assert "| node1 | 192.168.245.168 | 172.16.1.0/24 | 172.16.1.1/24 | docker1 172.16.1.2/24 |" in report, report
    if backend == "hostgw":
        wanted = ["172.16.2.0/24 via 192.168.245.172 dev eth0 proto 201", "172.16.1.0/24 via 192.168.245.168 dev <underlay> proto 201"]
        assert "MTU of bridge, pods and tunnel device: underlay MTU\n" in report
    else:
        wanted = [
            "172.16.2.0/24 via 172.16.2.0 dev vxlan-routednet onlink proto 201",
            "172.16.2.0 dev vxlan-routednet lladdr 86:03:1a:c1:89:98 PERMANENT",
            "86:03:1a:c1:89:98 dev vxlan-routednet dst 192.168.245.172 self permanent",
        ]
        assert "underlay MTU - 50" in report
    for line in wanted:
        assert line in res.stdout and line in report, line
    assert not os.path.exists(inventory.parent / ".routednet-leases.yml"), "the preview wrote the lease file"


def test_a_dual_stack_plan_shows_both_families_per_node(tmp_path):
    inventory = unreachable_inventory(tmp_path)
    data = yaml.safe_load(inventory.read_text())
    data["all"]["children"]["routednet_nodes"]["hosts"]["node1"]["routednet_underlay_ip_v6"] = "fd00:192:168:245::168"
    inventory.write_text(yaml.safe_dump(data))
    res = playbook("playbooks/plan.yml", "-i", str(inventory), "-e", '{"routednet_cluster_cidr": ["172.16.0.0/12", "fd00:10:244::/56"]}')
    assert res.returncode == 0, res.stdout[-3000:]
    assert "IPv6 beside IPv4: cluster CIDR fd00:10:244::/56, a /64 per node" in res.stdout, res.stdout[-3000:]
    report = (inventory.parent / "routednet-plan.md").read_text()
    assert "| node1 | 192.168.245.168 | 172.16.1.0/24 | 172.16.1.1/24 | docker1 172.16.1.2/24 |" in report, report
    assert "| node1 | fd00:192:168:245::168 | fd00:10:244:1::/64 | fd00:10:244:1::1/64 | docker1 fd00:10:244:1::2/64 |" in report, report
    res = playbook(
        "playbooks/plan.yml", "-i", str(inventory), "-e", '{"routednet_cluster_cidr": ["172.16.0.0/12", "fd00:10:244::/56"], "routednet_backend": "ipip"}'
    )
    said = "routednet_backend=ipip carries IPv4 only, and routednet_cluster_cidr lists the IPv6 CIDR fd00:10:244::/56: choose hostgw or vxlan"
    assert res.returncode != 0 and said in res.stdout, res.stdout[-3000:]
    res = playbook("playbooks/plan.yml", "-i", str(inventory), "-e", '{"routednet_cluster_cidr": ["172.16.0.0/12", "fe80::/56"]}')
    assert res.returncode != 0 and "routednet_cluster_cidr fe80::/56 overlaps fe80::/10, which is link-local" in res.stdout, res.stdout[-3000:]


def test_plan_refuses_an_unknown_backend_and_bad_input_before_anything(tmp_path):
    inventory = unreachable_inventory(tmp_path)
    res = playbook("playbooks/plan.yml", "-i", str(inventory), "-e", "routednet_backend=gre")
    assert res.returncode != 0 and "routednet_backend must be hostgw, vxlan, ipip or hybrid, not gre" in res.stdout
    res = playbook("playbooks/plan.yml", "-i", str(inventory), "-e", "routednet_cluster_cidr=172.16.0.0/33")
    assert res.returncode != 0 and "routednet_cluster_cidr" in res.stdout and "Traceback" not in res.stdout + res.stderr
    assert not os.path.exists(inventory.parent / "routednet-plan.md")


def test_the_example_inventory_plans_as_documented(tmp_path):
    """inventories/example (docs/real-hosts.md) parses and plans; SSH is pointed at `false`
    so that nothing is ever sent to its placeholder addresses."""
    report = tmp_path / "plan.md"
    res = playbook(
        "playbooks/plan.yml",
        "-i",
        "inventories/example",
        "-e",
        "plan_report=%s" % report,
        "-e",
        "ansible_ssh_common_args='-o ProxyCommand=false'",
    )
    assert res.returncode == 0, res.stdout[-3000:]
    text = report.read_text()
    for node, underlay in (("node1", "192.168.245.168"), ("node2", "192.168.245.172"), ("node3", "192.168.245.173")):
        assert "| %s | %s | 172.16." % (node, underlay) in text, text
    assert "docker1 172.16.1.2/24" in text
