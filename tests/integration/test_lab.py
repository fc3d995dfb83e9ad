"""End to end on a lab of SSH-reachable nodes: the operator's commands and packaging."""

import glob
import os
import re
import subprocess
import sys
import tarfile

import pytest

from ansible_collections.routednet.fabric.plugins.module_utils.host.kernel import feature_state
from conftest import REPO as REPO_ROOT
from labhelpers import BIN, LAB_TOOL, TOPOLOGIES, assert_clean, assert_refused_without_change, node_state, playbook, run

pytestmark = [pytest.mark.lab, pytest.mark.slow]

DEFAULT = os.path.join(TOPOLOGIES, "default.yml")


@pytest.fixture
def lab(tmp_path):
    """A seed 000 lab with its own name and inventory, removed at the end even on failure."""
    name = "pytest"
    inventory = tmp_path / "inventory" / "hosts.yml"
    res = run(sys.executable, LAB_TOOL, "up", "--name", name, "--topology", DEFAULT, "--inventory", str(inventory))
    assert res.returncode == 0, res.stderr
    try:
        yield name, inventory
    finally:
        res = run(sys.executable, LAB_TOOL, "down", "--name", name)
        assert res.returncode == 0, res.stderr
        assert_clean(name)


def test_operator_flow_on_the_default_lab():
    """README: lab up (Debian system nodes), hostgw.yml, verify, a second run with changed=0,
    a check run, a real reboot of a node, verify with no run in between, a check run, lab down."""
    try:
        res = playbook("playbooks/lab.yml")
        assert res.returncode == 0, res.stdout + res.stderr
        res = playbook("playbooks/hostgw.yml", "-i", "inventories/lab")
        assert res.returncode == 0, res.stdout
        res = playbook("playbooks/verify.yml", "-i", "inventories/lab", "-e", "verify_expected_ttl=62")
        assert res.returncode == 0, res.stdout
        assert "node1/docker1  -              62 direct" in res.stdout
        report = os.path.join(REPO_ROOT, "inventories", "lab", "routednet-verify.md")
        with open(report) as handle:
            text = handle.read()
        assert "2 pods, 2 pairs across nodes, 2 answered, 0 missed." in text and "| node1/docker1 | - | 62 direct |" in text, text
        res = playbook("playbooks/hostgw.yml", "-i", "inventories/lab")
        assert res.returncode == 0 and "changed=0" in res.stdout and "changed=1" not in res.stdout, res.stdout
        res = playbook("playbooks/hostgw.yml", "-i", "inventories/lab", "--check", "--diff")
        assert res.returncode == 0 and "changed=0" in res.stdout and "changed=1" not in res.stdout, res.stdout
        # a real reboot of a node (Debian with systemd): its own boot unit puts it back,
        # with no run of the collection in between
        res = run(os.path.join(BIN, "ansible"), "node2", "-i", "inventories/lab", "-m", "ansible.builtin.reboot", "-a", "reboot_timeout=180")
        assert res.returncode == 0 and "rebooted: true" in res.stdout, res.stdout + res.stderr
        res = playbook("playbooks/verify.yml", "-i", "inventories/lab", "-e", "verify_expected_ttl=62")
        assert res.returncode == 0 and "node2/docker2  62 direct" in res.stdout, res.stdout
        res = playbook("playbooks/hostgw.yml", "-i", "inventories/lab", "--check")
        assert res.returncode == 0 and "changed=0" in res.stdout and "changed=1" not in res.stdout, res.stdout
        # the root namespace gained no route into the lab
        routes = subprocess.run(["ip", "route", "show", "table", "all"], capture_output=True, text=True, check=True).stdout
        assert "192.168.245." not in routes and "172.17.0." not in routes and "172.18.0." not in routes
    finally:
        res = playbook("playbooks/lab.yml", "-e", "lab_state=absent")
        if os.path.exists(os.path.join(REPO_ROOT, "inventories", "lab", "routednet-verify.md")):
            os.remove(os.path.join(REPO_ROOT, "inventories", "lab", "routednet-verify.md"))
    assert res.returncode == 0, res.stdout + res.stderr
    assert_clean("default")


def test_drift_is_put_back(lab):
    name, inventory = lab
    assert playbook("playbooks/hostgw.yml", "-i", str(inventory)).returncode == 0
    ns = "rnlab-%s-node-node1" % name
    subprocess.run(["ip", "-n", ns, "route", "del", "172.18.0.0/24"], check=True)
    subprocess.run(["ip", "-n", ns, "route", "add", "172.99.0.0/24", "via", "192.168.245.172", "proto", "201"], check=True)
    subprocess.run(["ip", "-n", ns, "route", "add", "10.123.0.0/24", "via", "192.168.245.172", "proto", "static"], check=True)
    res = playbook("playbooks/hostgw.yml", "-i", str(inventory), "--check", "--diff")
    assert res.returncode == 0 and "+172.18.0.0/24 via 192.168.245.172 dev eth0 proto 201" in res.stdout, res.stdout
    assert "-172.99.0.0/24 via 192.168.245.172 dev eth0 proto 201" in res.stdout
    routes = subprocess.run(["ip", "-n", ns, "route"], capture_output=True, text=True, check=True).stdout
    assert "172.18.0.0/24" not in routes, "check mode changed the host"
    res = playbook("playbooks/hostgw.yml", "-i", str(inventory))
    assert res.returncode == 0, res.stdout
    routes = subprocess.run(["ip", "-n", ns, "route"], capture_output=True, text=True, check=True).stdout
    assert "172.18.0.0/24 via 192.168.245.172 dev eth0 proto 201" in routes
    assert "172.99.0.0/24" not in routes
    assert "10.123.0.0/24 via 192.168.245.172 dev eth0 proto static" in routes, "an operator's route was touched"
    assert playbook("playbooks/verify.yml", "-i", str(inventory)).returncode == 0


def build_and_install(tmp_path):
    """The published tarball, and an empty collections path it is installed into."""
    res = run(os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--output-path", str(tmp_path))
    assert res.returncode == 0, res.stderr
    (tarball,) = glob.glob(str(tmp_path / "routednet-fabric-*.tar.gz"))
    installed = tmp_path / "installed"
    res = run(os.path.join(BIN, "ansible-galaxy"), "collection", "install", "--force", tarball, "-p", str(installed), cwd=str(tmp_path))
    assert res.returncode == 0, res.stderr
    return tarball, installed


def test_the_installed_collection_provisions_a_cluster(lab, tmp_path):
    """What an operator does with the published collection: install it, run its playbooks
    by name, away from this repository (its ansible.cfg, roles and in-tree copy)."""
    name, inventory = lab
    _tarball, installed = build_and_install(tmp_path)
    elsewhere = tmp_path / "operator"
    elsewhere.mkdir()
    env = {"ANSIBLE_COLLECTIONS_PATH": str(installed), "ANSIBLE_CONFIG": "", "ANSIBLE_ROLES_PATH": str(elsewhere)}
    ansible_playbook = os.path.join(BIN, "ansible-playbook")
    res = run(ansible_playbook, "routednet.fabric.hostgw", "-i", str(inventory), env=env, cwd=str(elsewhere))
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    # the only copy Ansible sees is the installed one
    listing = run(os.path.join(BIN, "ansible-galaxy"), "collection", "list", "routednet.fabric", env=env, cwd=str(elsewhere)).stdout
    assert [line for line in listing.splitlines() if line.startswith("# ")] == ["# %s" % (installed / "ansible_collections")], listing
    res = run(ansible_playbook, "routednet.fabric.hostgw", "-i", str(inventory), env=env, cwd=str(elsewhere))
    assert res.returncode == 0, res.stdout[-3000:]
    for node in ("node1", "node2"):
        assert re.search(r"%s\s+: ok=\d+\s+changed=0 " % node, res.stdout), res.stdout
    res = run(ansible_playbook, "routednet.fabric.verify", "-i", str(inventory), "-e", "verify_expected_ttl=62", env=env, cwd=str(elsewhere))
    assert res.returncode == 0 and re.search(r"node1/docker1\s+-\s+62 direct", res.stdout), res.stdout[-3000:]
    res = run(ansible_playbook, "routednet.fabric.diagnose", "-i", str(inventory), "-e", "src=docker1", "-e", "dst=172.18.0.2", env=env, cwd=str(elsewhere))
    assert res.returncode == 0 and "every hop holds the planned state, and the ping was answered (TTL 62)" in res.stdout, res.stdout[-3000:]


def test_galaxy_build_leaves_lab_and_test_material_out(tmp_path):
    tarball, installed = build_and_install(tmp_path)
    with tarfile.open(tarball) as tar:
        names = tar.getnames()
    for wanted in (
        "plugins/modules/routes.py",
        "plugins/module_utils/host/routes.py",
        "roles/node/tasks/main.yml",
        "plugins/module_utils/plan/node_document.py",
        "playbooks/site.yml",
        "plugins/module_utils/plan/adjacency.py",
        "roles/node/tasks/unlock.yml",
        "playbooks/hostgw.yml",
        "playbooks/ipip.yml",
        "playbooks/hybrid.yml",
        "playbooks/verify.yml",
        "playbooks/diagnose.yml",
        "plugins/modules/path_hops.py",
        "docs/runbooks/pod-to-pod-loss.md",
        "CHANGELOG.rst",
        "meta/runtime.yml",
        "MANIFEST.json",
    ):
        assert wanted in names
    for unwanted in (
        "molecule",
        "inventories",
        "lab",
        "collections",
        "playbooks/lab.yml",
        "tests/integration",
        "scripts",
        "bench",
        ".ci",
        ".ruff_cache",
        ".pytest_cache",
        ".venv",
        ".venv-sanity",
        ".config",
    ):
        assert not [n for n in names if n == unwanted or n.startswith(unwanted + "/")], unwanted
    # installed into an empty collections path, away from the repo's ansible.cfg and in-tree copy
    assert (installed / "ansible_collections" / "routednet" / "fabric" / "plugins" / "modules" / "routes.py").exists()
    res = run(os.path.join(BIN, "ansible-doc"), "routednet.fabric.routes", env={"ANSIBLE_COLLECTIONS_PATH": str(installed)}, cwd=str(tmp_path))
    assert res.returncode == 0 and "prune" in res.stdout, res.stderr
    # the route module's old name still resolves, to the same module (meta/runtime.yml)
    old = run(os.path.join(BIN, "ansible-doc"), "routednet.fabric.hostgw_route", env={"ANSIBLE_COLLECTIONS_PATH": str(installed)}, cwd=str(tmp_path))
    assert old.returncode == 0 and re.search(r"MODULE \S*routednet\.fabric\.routes\b", old.stdout), old.stdout[:500] + old.stderr


@pytest.mark.parametrize(
    "name",
    [
        "netns",
        "veth",
        "bridge",
        "routes",
        "tunnel",
        "vxlan_fdb",
        "node_facts",
        "ip_forwarding",
        "reachability",
        "subnet_plan",
        "node_state",
        "boot_restore",
        "firewall",
        "host_lock",
        "path_hops",
    ],
)
def test_ansible_doc_is_complete(name):
    res = run(os.path.join(BIN, "ansible-doc"), "-t", "module", "routednet.fabric.%s" % name)
    assert res.returncode == 0, res.stderr
    for section in ("OPTIONS", "EXAMPLES", "RETURN VALUES"):
        assert section in res.stdout, (name, section)
    assert "[WARNING]" not in res.stderr


@pytest.mark.parametrize(
    "role, entry_points",
    [
        ("plan", ["main", "plan", "leases"]),
        ("node", ["main", "run_id", "lock", "unlock", "forget", "remove"]),
        ("decommission", ["main", "forget", "release", "clean"]),
    ],
)
def test_role_entry_points_are_documented(role, entry_points):
    res = run(os.path.join(BIN, "ansible-doc"), "-t", "role", "routednet.fabric.%s" % role)
    assert res.returncode == 0, res.stderr
    for entry_point in entry_points:
        assert "ENTRY POINT: *%s*" % entry_point in res.stdout, (role, entry_point, res.stdout[:2000])


def test_check_mode_on_a_fresh_cluster_changes_nothing(lab):
    name, inventory = lab
    before = {node: node_state(name, node) for node in ("node1", "node2")}
    res = playbook("playbooks/hostgw.yml", "-i", str(inventory), "--check", "--diff")
    assert res.returncode == 0, res.stdout
    assert "+172.18.0.0/24 via 192.168.245.172 dev eth0 proto 201" in res.stdout
    # the changes a real first run makes, all in the one node_state call per node (one
    # diff per step: forwarding, bridge, pod netns, pod route, host-gw routes, firewall
    # table, the state saved for boot), and (node1 runs the plan) the lease file
    for header in (
        "ip_forwarding",
        "bridge cni0",
        "netns docker1",
        "routes (netns docker1)",
        "routes",
        "firewall routednet",
        "/etc/routednet/boot-state.json",
    ):
        assert "--- before: %s\n" % header in res.stdout, header
    assert re.search(r"node1\s+: ok=\d+\s+changed=2 ", res.stdout), res.stdout
    assert {node: node_state(name, node) for node in ("node1", "node2")} == before
    assert not (inventory.parent / ".routednet-leases.yml").exists(), "check mode wrote the lease file"


def vxlan_leftovers(lab, node):
    """Anything of the VXLAN backend still on a node: devices, permanent neighbours, tunnel routes."""
    ns = "rnlab-%s-node-%s" % (lab, node)
    links = subprocess.run(["ip", "-n", ns, "-d", "-o", "link"], capture_output=True, text=True, check=True).stdout
    neigh = subprocess.run(["ip", "-n", ns, "neigh", "show", "nud", "permanent"], capture_output=True, text=True, check=True).stdout
    routes = subprocess.run(["ip", "-n", ns, "route"], capture_output=True, text=True, check=True).stdout
    return [line for line in links.splitlines() if " vxlan " in line] + neigh.splitlines() + [r for r in routes.splitlines() if "onlink" in r]


def test_switching_between_hostgw_and_vxlan_leaves_nothing_behind(lab):
    name, inventory = lab
    ns = "rnlab-%s-node-node1" % name
    for backend in ("hostgw", "vxlan", "hostgw", "vxlan"):
        res = playbook("playbooks/%s.yml" % backend, "-i", str(inventory))
        assert res.returncode == 0, res.stdout
        res = playbook("playbooks/verify.yml", "-i", str(inventory), "-e", "verify_expected_ttl=62", "-e", "verify_full_size=true")
        assert res.returncode == 0, (backend, res.stdout)
        routes = subprocess.run(["ip", "-n", ns, "route"], capture_output=True, text=True, check=True).stdout
        ours = [r.strip() for r in routes.splitlines() if "proto 201" in r]
        if backend == "hostgw":
            assert vxlan_leftovers(name, "node1") == [] and vxlan_leftovers(name, "node2") == []
            assert ours == ["172.18.0.0/24 via 192.168.245.172 dev eth0 proto 201"]
        else:
            assert ours == ["172.18.0.0/24 via 172.18.0.0 dev vxlan-routednet proto 201 onlink"]
        mtu = subprocess.run(["ip", "-n", ns, "-o", "link", "show", "cni0"], capture_output=True, text=True, check=True).stdout
        assert (" mtu 1500 " if backend == "hostgw" else " mtu 1450 ") in mtu
    res = playbook("playbooks/vxlan.yml", "-i", str(inventory))
    assert res.returncode == 0 and "changed=0" in res.stdout and "changed=1" not in res.stdout, res.stdout


@pytest.mark.skipif(feature_state("ipip") != "missing", reason="this kernel has ipip; the VM test covers IPIP")
def test_ipip_on_a_kernel_without_ipip_fails_before_any_change(lab):
    """This machine's kernel has no ipip module: ipip.yml stops in preflight, naming it."""
    name, inventory = lab
    assert playbook("playbooks/hostgw.yml", "-i", str(inventory)).returncode == 0
    assert_refused_without_change(
        name,
        ["playbooks/ipip.yml", "-i", str(inventory)],
        "routednet_backend=ipip needs the kernel's ipip support (CONFIG_NET_IPIP)",
    )
    res = playbook("playbooks/ipip.yml", "-i", str(inventory))
    assert "Nothing was changed." in res.stdout and "modprobe ipip" in res.stdout
    assert "node1 " in res.stdout and "changed=0" in res.stdout and "changed=1" not in res.stdout, res.stdout


@pytest.mark.skipif(feature_state("ipip") != "missing", reason="this kernel has ipip")
def test_hybrid_over_ipip_on_a_kernel_without_ipip_fails_before_any_change(lab):
    name, inventory = lab
    assert_refused_without_change(
        name,
        ["playbooks/hybrid.yml", "-i", str(inventory), "-e", "routednet_hybrid_encap=ipip"],
        "choose another routednet_hybrid_encap (vxlan also crosses L3)",
    )


def test_two_ends_that_disagree_are_reported_not_used(lab):
    """node2 routes to node1 through a gateway while node1 sees node2 on-link: one-way
    adjacency. host-gw and hybrid refuse it, naming both ends' routes; nothing changes."""
    name, inventory = lab
    ns = "rnlab-%s-node-node2" % name
    subprocess.run(["ip", "-n", ns, "route", "add", "192.168.245.168/32", "via", "192.168.245.200", "dev", "eth0", "proto", "static"], check=True)
    for backend in ("hostgw", "hybrid"):
        assert_refused_without_change(
            name,
            ["playbooks/%s.yml" % backend, "-i", str(inventory)],
            "node1 <-> node2: the two ends disagree whether they share an L2 segment (node1 reaches 192.168.245.172 by "
            "'192.168.245.0/24 dev eth0' (direct); node2 reaches 192.168.245.168 by '192.168.245.168/32 via 192.168.245.200 dev eth0' (routed))",
        )
    # a tunnel does not care which way each end would route: VXLAN goes ahead
    assert playbook("playbooks/vxlan.yml", "-i", str(inventory)).returncode == 0


def test_hybrid_on_one_segment_is_host_gw_with_a_spare_tunnel(lab):
    """Every pair is direct: host-gw's routes, the VTEP without entries, pods at the VXLAN
    MTU; switching to host-gw afterwards only removes the VTEP and restores the MTU."""
    name, inventory = lab
    ns = "rnlab-%s-node-node1" % name
    res = playbook("playbooks/hybrid.yml", "-i", str(inventory))
    assert res.returncode == 0, res.stdout
    assert "node1 <-> node2: direct (checked both ways" in res.stdout
    routes = subprocess.run(["ip", "-n", ns, "route", "show", "proto", "201"], capture_output=True, text=True, check=True).stdout
    assert routes.strip() == "172.18.0.0/24 via 192.168.245.172 dev eth0"
    neigh = subprocess.run(["ip", "-n", ns, "neigh", "show", "nud", "permanent"], capture_output=True, text=True, check=True).stdout
    assert neigh.strip() == ""
    res = playbook("playbooks/verify.yml", "-i", str(inventory), "-e", "verify_expected_ttl=62", "-e", "verify_full_size=true")
    assert res.returncode == 0 and "62 direct" in res.stdout and "62 vxlan" not in res.stdout, res.stdout
    res = playbook("playbooks/hybrid.yml", "-i", str(inventory))
    assert res.returncode == 0 and "changed=0" in res.stdout and "changed=1" not in res.stdout, res.stdout
    res = playbook("playbooks/hostgw.yml", "-i", str(inventory))
    assert res.returncode == 0, res.stdout
    assert vxlan_leftovers(name, "node1") == [] and vxlan_leftovers(name, "node2") == []
