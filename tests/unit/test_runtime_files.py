"""The files container runtimes read: their address range beside the collection's own
pods, their contents, the ownership checks, and writing them (in a temporary directory,
without root)."""

import json
import os

import pytest

from ansible_collections.routednet.fabric.plugins.module_utils import outcome
from ansible_collections.routednet.fabric.plugins.module_utils.converge import runtime_files as converge
from ansible_collections.routednet.fabric.plugins.module_utils.plan import plan_report, runtime_files
from ansible_collections.routednet.fabric.plugins.module_utils.plan.planning import PlanError, build_plan

SETTINGS = {
    "routednet_bridge_name": "cni0",
    "routednet_masquerade": False,
    "routednet_cni": True,
    "routednet_cni_dir": "/etc/cni/net.d",
    "routednet_cni_network": "routednet",
    "routednet_cni_order": "10",
    "routednet_cni_version": "1.0.0",
    "routednet_flannel_subnet_env": "/run/flannel/subnet.env",
    "routednet_netavark": "auto",
    "routednet_netavark_dir": "/etc/containers/networks",
}
NETAVARK = "/etc/containers/networks/routednet.json"


def plan_of(pods, reserved=None, prefix=24):
    node = {"name": "n1", "underlay_ip": "192.168.1.11", "pods": pods}
    if reserved is not None:
        node["reserved_pod_addresses"] = reserved
    return build_plan([node, {"name": "n2", "underlay_ip": "192.168.1.12"}], "10.244.0.0/16", prefix)[0]


def errors_of(*args, **kwargs):
    with pytest.raises(PlanError) as info:
        plan_of(*args, **kwargs)
    return info.value.errors


@pytest.mark.parametrize(
    "reserved, prefix, expected",
    [
        (None, 24, {"start": "10.244.1.16", "end": "10.244.1.254"}),
        (0, 24, {"start": "10.244.1.2", "end": "10.244.1.254"}),
        (100, 24, {"start": "10.244.1.102", "end": "10.244.1.254"}),
        (14, 28, None),  # a /28 has 14 addresses: all the collection's
        (2, 28, {"start": "10.244.0.20", "end": "10.244.0.30"}),
    ],
)
def test_the_runtime_range_starts_after_the_addresses_kept_for_the_pods(reserved, prefix, expected):
    assert plan_of([], reserved, prefix)["nodes"]["n1"]["runtime_range"] == expected


def test_the_collections_pods_stay_below_the_runtime_range():
    plan = plan_of(["p%d" % i for i in range(14)])
    addresses = [pod["address"] for pod in plan["nodes"]["n1"]["pods"]]
    assert addresses[0] == "10.244.1.2/24" and addresses[-1] == "10.244.1.15/24"
    assert plan["nodes"]["n1"]["runtime_range"]["start"] == "10.244.1.16"


def test_one_pod_more_than_the_reserved_addresses_is_refused_naming_the_setting():
    assert errors_of(["p%d" % i for i in range(3)], reserved=2) == [
        "n1: the 2 addresses kept for routednet_pods (10.244.1.2-10.244.1.3) are all taken, none is left for pod p2; "
        "raise routednet_reserved_pod_addresses (the container runtime's range starts after them)"
    ]


def test_reserved_addresses_written_as_digits_are_a_number_too():
    assert errors_of(["p%d" % i for i in range(3)], reserved="2")[0].startswith("n1: the 2 addresses kept for routednet_pods (10.244.1.2-10.244.1.3)")
    assert plan_of([], reserved="100")["nodes"]["n1"]["runtime_range"]["start"] == "10.244.1.102"


def test_an_explicit_pod_address_in_the_runtime_range_is_refused():
    assert errors_of([{"name": "p", "address": "10.244.1.100"}]) == [
        "n1: routednet_pods[p].address 10.244.1.100 lies in the container runtime's range 10.244.1.16-10.244.1.254; "
        "pick one of 10.244.1.2-10.244.1.15 or raise routednet_reserved_pod_addresses (14 now)"
    ]


def test_the_cni_network_list_hands_out_only_the_runtime_range_on_our_bridge():
    plan = plan_of(["p1"])
    files = runtime_files.wanted(plan, "n1", SETTINGS, 1450)
    assert [entry["path"] for entry in files] == ["/etc/cni/net.d/10-routednet.conflist", "/run/flannel/subnet.env"]
    network = json.loads(files[0]["text"])
    assert (network["cniVersion"], network["name"]) == ("1.0.0", "routednet")
    bridge, portmap = network["plugins"]
    assert (bridge["type"], bridge["bridge"], bridge["mtu"], bridge["isGateway"], bridge["ipMasq"]) == ("bridge", "cni0", 1450, True, False)
    assert bridge["ipam"]["ranges"] == [[{"subnet": "10.244.1.0/24", "rangeStart": "10.244.1.16", "rangeEnd": "10.244.1.254", "gateway": "10.244.1.1"}]]
    assert portmap == {"type": "portmap", "capabilities": {"portMappings": True}}
    assert converge.MARK in files[0]["text"]


@pytest.mark.parametrize(
    "setting, version, written",
    [
        ("auto", "1.14.0", True),
        ("auto", "1.15.2", True),
        ("auto", "2.0", True),
        ("auto", "1.4.0", False),  # Debian 12's: it would delete the bridge
        ("auto", None, False),  # no netavark on the host
        (True, "1.14.0", True),
        ("false", "1.14.0", False),
    ],
)
def test_a_netavark_network_is_written_only_where_netavark_leaves_the_bridge_alone(setting, version, written):
    files = runtime_files.wanted(plan_of([]), "n1", dict(SETTINGS, routednet_netavark=setting), 1500, {"netavark_version": version})
    assert (NETAVARK in [entry["path"] for entry in files]) is written


def test_the_netavark_network_is_unmanaged_on_our_bridge_over_the_runtime_range():
    files = runtime_files.wanted(plan_of(["p1"]), "n1", SETTINGS, 1450, {"netavark_version": "1.14.0"})
    assert [entry["path"] for entry in files] == ["/etc/cni/net.d/10-routednet.conflist", NETAVARK, "/run/flannel/subnet.env"]
    network = json.loads(files[1]["text"])
    assert (network["name"], network["driver"], network["network_interface"]) == ("routednet", "bridge", "cni0")
    assert network["subnets"] == [{"subnet": "10.244.1.0/24", "gateway": "10.244.1.1", "lease_range": {"start_ip": "10.244.1.16", "end_ip": "10.244.1.254"}}]
    assert network["options"] == {"mode": "unmanaged", "mtu": "1450"}
    assert (network["dns_enabled"], network["ipv6_enabled"], network["ipam_options"]) == (False, False, {"driver": "host-local"})
    assert converge.MARK in network["labels"]["routednet.fabric"]
    # (the same id on every run and node: podman keys its leases by network)
    assert len(network["id"]) == 64 and int(network["id"], 16) >= 0
    again = runtime_files.wanted(plan_of(["p1"]), "n2", SETTINGS, 1450, {"netavark_version": "1.14.0"})[1]
    assert json.loads(again["text"])["id"] == network["id"]


@pytest.mark.parametrize(
    "setting, facts, expected",
    [
        ("auto", {"netavark_version": "1.4.0", "runtime_files_found": {NETAVARK: "theirs"}}, []),
        (
            "auto",
            {"netavark_version": "1.14.0", "runtime_files_found": {NETAVARK: "theirs"}},
            [
                "n1: /etc/containers/networks/routednet.json exists on this host and was not written by routednet.fabric (podman's network routednet?); "
                "the collection never adopts a file: remove that network (podman network rm), set routednet_cni_network to another name, "
                "or routednet_netavark: false"
            ],
        ),
        (
            "true",
            {"netavark_version": "1.4.0"},
            [
                "n1: routednet_netavark=true but this host has netavark 1.4.0; netavark before 1.14 has no mode=unmanaged: it deletes the bridge, "
                "the node's gateway, when its last container leaves: install netavark 1.14 or newer, or set routednet_netavark: auto (or false) "
                "and run podman with its CNI backend (--network-backend cni)"
            ],
        ),
        (
            "auto",
            {"netavark_version": "1.4.0", "netavark_bridge_networks": ["podman1"]},
            [
                "n1: podman's network podman1 (in /etc/containers/networks) manages the bridge cni0, and netavark deletes a bridge it manages when "
                "its last container leaves: remove that network (podman network rm), or give the collection's bridge another name (routednet_bridge_name)"
            ],
        ),
        ("false", {"netavark_version": "1.4.0", "runtime_files_found": {NETAVARK: "theirs"}}, []),
        (
            "false",
            {"netavark_bridge_networks": ["podman1"]},
            [
                "n1: podman's network podman1 (in /etc/containers/networks) manages the bridge cni0, and netavark deletes a bridge it manages when "
                "its last container leaves: remove that network (podman network rm), or give the collection's bridge another name (routednet_bridge_name)"
            ],
        ),
    ],
    ids=[
        "theirs where we write nothing",
        "theirs where we would write",
        "required on an old netavark",
        "a network managing our bridge",
        "off",
        "off, and a network managing our bridge",
    ],
)
def test_a_netavark_network_that_would_cost_the_bridge_is_refused_before_any_change(setting, facts, expected):
    assert runtime_files.conflicts("n1", dict(SETTINGS, routednet_netavark=setting), facts) == expected


def test_subnet_env_is_flannels_with_the_gateway_and_never_lets_the_plugin_masquerade():
    env = runtime_files.wanted(plan_of([]), "n1", dict(SETTINGS, routednet_masquerade=True), 1450)[1]["text"]
    lines = env.splitlines()
    # (flannel's plugin splits each line at "="; the mark's line has none and is skipped)
    assert converge.MARK in lines[0] and "=" not in lines[0]
    assert lines[1:] == ["FLANNEL_NETWORK=10.244.0.0/16", "FLANNEL_SUBNET=10.244.1.1/24", "FLANNEL_MTU=1450", "FLANNEL_IPMASQ=true"]


def test_a_dual_stack_node_hands_out_both_families_runtime_ranges():
    plan = build_plan(
        [{"name": "n1", "underlay_ip": "192.168.1.11", "pods": ["p1"]}, {"name": "n2", "underlay_ip": "192.168.1.12"}], ["10.244.0.0/16", "fd00:10:244::/56"]
    )[0]
    files = dict((f["path"], f["text"]) for f in runtime_files.wanted(plan, "n1", SETTINGS, 1500, {"netavark_version": "1.14.0"}))
    ipam = json.loads(files["/etc/cni/net.d/10-routednet.conflist"])["plugins"][0]["ipam"]
    assert ipam["ranges"] == [
        [{"subnet": "10.244.1.0/24", "rangeStart": "10.244.1.16", "rangeEnd": "10.244.1.254", "gateway": "10.244.1.1"}],
        [{"subnet": "fd00:10:244:1::/64", "rangeStart": "fd00:10:244:1::10", "rangeEnd": "fd00:10:244:1:ffff:ffff:ffff:fffe", "gateway": "fd00:10:244:1::1"}],
    ]
    assert ipam["routes"] == [{"dst": "0.0.0.0/0"}, {"dst": "::/0"}]
    netavark = json.loads(files[NETAVARK])
    assert netavark["ipv6_enabled"] is True and [subnet["subnet"] for subnet in netavark["subnets"]] == ["10.244.1.0/24", "fd00:10:244:1::/64"]
    assert files["/run/flannel/subnet.env"].splitlines()[1:5] == [
        "FLANNEL_NETWORK=10.244.0.0/16",
        "FLANNEL_SUBNET=10.244.1.1/24",
        "FLANNEL_IPV6_NETWORK=fd00:10:244::/56",
        "FLANNEL_IPV6_SUBNET=fd00:10:244:1::1/64",
    ]


def test_files_turned_off_or_a_subnet_too_small_leave_them_out():
    assert runtime_files.wanted(plan_of([]), "n1", dict(SETTINGS, routednet_cni=False, routednet_flannel_subnet_env=""), 1500) == []
    small = runtime_files.wanted(plan_of([], reserved=14, prefix=28), "n1", SETTINGS, 1500)
    assert [entry["path"] for entry in small] == ["/run/flannel/subnet.env"]


@pytest.mark.parametrize(
    "facts, expected",
    [
        ({"runtime_files_found": {"/etc/cni/net.d/10-routednet.conflist": "ours", "/run/flannel/subnet.env": "ours"}, "cni_configs": ["05-loopback.conf"]}, []),
        (
            {"runtime_files_found": {"/run/flannel/subnet.env": "theirs"}},
            [
                "n1: routednet_flannel_subnet_env=/run/flannel/subnet.env exists on this host and was not written by routednet.fabric (flanneld's?); "
                "stop flanneld and remove the file first (docs/runbooks/replace-flanneld.md), or set routednet_flannel_subnet_env: ''"
            ],
        ),
        (
            {"runtime_files_found": {"/etc/cni/net.d/10-routednet.conflist": "theirs"}},
            [
                "n1: /etc/cni/net.d/10-routednet.conflist exists on this host and was not written by routednet.fabric; the collection never adopts a file: "
                "set routednet_cni_network or routednet_cni_order to give its network list a name of its own, or routednet_cni: false"
            ],
        ),
        (
            {"cni_configs": ["10-flannel.conflist", "87-podman.conflist"]},
            [
                "n1: 10-routednet.conflist would sort before 87-podman.conflist, another network's configuration in /etc/cni/net.d, "
                "and containerd and CRI-O put new containers on the first one by name: "
                "set routednet_cni_order so it sorts after (such as 99), remove theirs, or set routednet_cni: false"
            ],
        ),
    ],
    ids=["ours and a network that sorts first", "flanneld's subnet.env", "someone's conflist at our path", "a network we would sort before"],
)
def test_a_file_the_collection_did_not_write_is_refused_before_any_change(facts, expected):
    assert runtime_files.conflicts("n1", SETTINGS, facts) == expected


def test_the_plan_preview_shows_each_nodes_runtime_range_beside_its_pods():
    report = plan_report.plan_report(plan_of(["p1"]), "hostgw", {}, {}, settings=SETTINGS)
    row = next(line for line in report["lines"] if line.startswith("n1 "))
    assert row.split() == ["n1", "192.168.1.11", "10.244.1.0/24", "10.244.1.1/24", "p1", "10.244.1.2/24", "10.244.1.16-10.244.1.254"]
    assert (
        "container runtimes: CNI network routednet in /etc/cni/net.d/10-routednet.conflist (host-local over each node's runtime range); "
        "podman's netavark network routednet in /etc/containers/networks/routednet.json (on each node whose netavark is 1.14 or newer); "
        "flannel's subnet.env at /run/flannel/subnet.env"
    ) in report["lines"]
    assert "| p1 10.244.1.2/24 | 10.244.1.16-10.244.1.254 |" in report["markdown"]


def converge_run(params, check_mode=False):
    return outcome.call(converge.run, outcome.Request(dict({"files": [], "absent": []}, **params), check_mode, True))


def test_files_are_written_once_then_left_alone_and_check_mode_writes_nothing(tmp_path):
    path = str(tmp_path / "net.d" / "10-routednet.conflist")
    entry = {"path": path, "text": '{"x": "%s"}\n' % converge.MARK}
    predicted = converge_run({"files": [entry]}, check_mode=True)
    assert predicted["changed"] and not os.path.exists(path)
    assert converge_run({"files": [entry]})["changes"] == ["write %s" % path]
    assert converge.read(path) == entry["text"] and oct(os.stat(path).st_mode & 0o777) == "0o644"
    assert converge_run({"files": [entry]})["changed"] is False
    assert converge_run({"files": [entry]}, check_mode=True)["changed"] is False
    # drift is put back
    with open(path, "w") as handle:
        handle.write("# %s, edited\n" % converge.MARK)
    assert converge_run({"files": [entry]})["changed"] and converge.read(path) == entry["text"]


def test_only_the_collections_own_files_are_rewritten_or_removed(tmp_path):
    theirs, ours = tmp_path / "subnet.env", tmp_path / "old.conflist"
    theirs.write_text("FLANNEL_SUBNET=10.1.17.1/24\n")
    ours.write_text("# %s\n" % converge.MARK)
    refused = converge_run({"files": [{"path": str(theirs), "text": "# %s\n" % converge.MARK}]})
    assert refused["failed"] and "was not written by routednet.fabric" in refused["msg"]
    assert theirs.read_text() == "FLANNEL_SUBNET=10.1.17.1/24\n"
    result = converge_run({"absent": [str(theirs), str(ours), str(tmp_path / "never")]})
    assert result["changes"] == ["remove %s" % ours] and theirs.exists() and not ours.exists()


def test_a_text_without_the_mark_is_refused_so_ownership_is_never_lost(tmp_path):
    result = converge_run({"files": [{"path": str(tmp_path / "f"), "text": "FLANNEL_MTU=1500\n"}]})
    assert result["failed"] and "does not carry" in result["msg"] and not (tmp_path / "f").exists()
