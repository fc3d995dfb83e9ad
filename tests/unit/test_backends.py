"""The backend table (module_utils/backends/): what each backend is, as the roles, the
plan preview and the preflight read it."""

import pytest

from ansible_collections.routednet.fabric.plugins.module_utils import backends
from ansible_collections.routednet.fabric.plugins.module_utils.host import kernel, tunnels
from ansible_collections.routednet.fabric.plugins.module_utils.plan import plan_report, settings
from ansible_collections.routednet.fabric.plugins.module_utils.converge import tunnel as converge_tunnel
from ansible_collections.routednet.fabric.plugins.module_utils.outcome import Failure

# name, hybrid's tunnel -> (encapsulation, overhead, kernel features, tunnel kind, firewall)
FACTS = [
    ("hostgw", "vxlan", ("hostgw", 0, [], None, {"vxlan_port": False, "ipip": False})),
    ("vxlan", "vxlan", ("vxlan", 50, [{"feature": "vxlan", "config": "CONFIG_VXLAN"}], "vxlan", {"vxlan_port": True, "ipip": False})),
    ("ipip", "vxlan", ("ipip", 20, [{"feature": "ipip", "config": "CONFIG_NET_IPIP"}], "ipip", {"vxlan_port": False, "ipip": True})),
    ("hybrid", "vxlan", ("vxlan", 50, [{"feature": "vxlan", "config": "CONFIG_VXLAN"}], "vxlan", {"vxlan_port": True, "ipip": False})),
    ("hybrid", "ipip", ("ipip", 20, [{"feature": "ipip", "config": "CONFIG_NET_IPIP"}], "ipip", {"vxlan_port": False, "ipip": True})),
]


@pytest.mark.parametrize("name, encap, expected", FACTS, ids=["%s/%s" % case[:2] for case in FACTS])
def test_what_each_backend_is(name, encap, expected):
    facts = backends.facts(name, encap)
    assert (facts["encapsulation"], facts["overhead"], facts["kernel_needs"], facts["tunnel_kind"], facts["firewall"]) == expected
    # whatever runs, a switch removes the devices of every other tunnel
    assert facts["all_tunnel_kinds"] == ["ipip", "vxlan"]


def test_the_registry_is_every_backend_by_its_own_name():
    assert sorted(backends.BACKENDS) == ["hostgw", "hybrid", "ipip", "vxlan"]
    assert all(name == backend.NAME for name, backend in backends.BACKENDS.items())
    assert sorted(backends.TUNNELS) == ["ipip", "vxlan"]


def test_an_unknown_backend_names_the_choices():
    with pytest.raises(KeyError) as raised:
        backends.get("flannel")
    assert "'flannel' is not a backend of the collection; choose one of hostgw, hybrid, ipip, vxlan" in str(raised.value)


def test_the_others_read_the_table():
    # the kernel option a tunnel needs, in the message when the kernel lacks it
    assert tunnels.KERNEL_CONFIG == {"vxlan": "CONFIG_VXLAN", "ipip": "CONFIG_NET_IPIP"}
    # the variable naming each tunnel's device, in the settings checks
    assert settings.TUNNEL_DEVICE == {"vxlan": "routednet_vxlan_device", "ipip": "routednet_ipip_device"}
    # the pods' MTU the preview shows
    assert [plan_report._mtu(name, "ipip", {}) for name in ("hostgw", "vxlan", "ipip", "hybrid")] == [
        "underlay MTU",
        "underlay MTU - 50",
        "underlay MTU - 20",
        "underlay MTU - 20",
    ]
    over_ipv6 = {"routednet_vxlan_underlay": "ipv6"}
    assert [plan_report._mtu(name, "vxlan", over_ipv6) for name in ("hostgw", "vxlan", "hybrid")] == [
        "underlay MTU",
        "underlay MTU - 70 (the tunnel over the IPv6 underlay)",
        "underlay MTU - 70 (the tunnel over the IPv6 underlay)",
    ]


PEER = {"pod_cidr": "10.244.2.0/24", "underlay_ip": "192.168.1.12"}


@pytest.mark.parametrize(
    "name, device, route",
    [
        ("hostgw", None, {"dst": "10.244.2.0/24", "via": "192.168.1.12"}),
        ("hostgw", "eth0", {"dst": "10.244.2.0/24", "via": "192.168.1.12", "dev": "eth0"}),
        ("vxlan", "vxlan-routednet", {"dst": "10.244.2.0/24", "via": "10.244.2.0", "dev": "vxlan-routednet", "onlink": True}),
        ("ipip", "ipip-routednet", {"dst": "10.244.2.0/24", "via": "192.168.1.12", "dev": "ipip-routednet", "onlink": True}),
    ],
)
def test_a_backends_route_to_a_peers_pods(name, device, route):
    assert backends.get(name).route(PEER, device) == route


def test_the_shared_code_reads_what_moved_into_the_backend_files():
    # the settings checks: each tunnel's cluster-wide numbers and its device's name
    assert settings.CLUSTER_WIDE[-3:] == ("routednet_vxlan_vni", "routednet_vxlan_port", "routednet_vxlan_underlay")
    assert settings.DEVICE_NAMES == ("routednet_bridge_name", "routednet_vxlan_device", "routednet_ipip_device")
    # what a tunnel device cannot change in place
    assert sorted(tunnels.IMMUTABLE) == ["ipip", "vxlan"] and sorted(tunnels.IMMUTABLE["ipip"]) == ["dev", "local"]
    assert sorted(tunnels.IMMUTABLE["vxlan"]) == ["dev", "learning", "local", "port", "vni"]
    # the kernel features node_facts reports, hybrid's default tunnel, the direct pairs' backend
    assert kernel.FEATURES == ("ipip", "vxlan")
    assert backends.HYBRID_DEFAULT_TUNNEL == "vxlan" and backends.encapsulation("hybrid").NAME == "vxlan"
    assert backends.DIRECT.NAME == "hostgw"
    # the alternatives a kernel without a tunnel is offered
    assert backends.crossing_l3("ipip") == ["vxlan"] and backends.crossing_l3("vxlan") == ["ipip"]


def test_a_foreign_vtep_on_our_port_is_named_by_the_vxlan_backend():
    values = {"routednet_vxlan_port": 8472}
    facts = {"vxlan_devices": [{"name": "flannel.1", "vni": 1, "port": 8472, "owned": False}, {"name": "vx", "vni": 2, "port": 4789, "owned": False}]}
    lines = backends.get("vxlan").host_conflicts("n1", values, facts)
    assert len(lines) == 1 and lines[0].startswith("n1: the VXLAN device flannel.1 (VNI 1) on this host, not the collection's, already uses UDP port 8472;")
    assert backends.get("ipip").host_conflicts is None


@pytest.mark.parametrize(
    "kind, given, message",
    [
        ("vxlan", {}, "vxlan t1: vni is required to create a VXLAN device"),
        ("ipip", {"mac": "02:00:00:00:00:01"}, "ipip t1: vni and mac apply to VXLAN devices only"),
        ("ipip", {"vni": 0}, "ipip t1: vni and mac apply to VXLAN devices only"),
        ("vxlan", {"vni": 1, "mac": "02:00:00:00:00:01"}, None),
        ("ipip", {"mac": ""}, None),
    ],
)
def test_the_tunnel_module_takes_each_kinds_own_options(kind, given, message):
    params = dict({"vni": None, "mac": None}, **given)
    if message is None:
        converge_tunnel._check_options(params, kind, "t1")
        return
    with pytest.raises(Failure) as raised:
        converge_tunnel._check_options(params, kind, "t1")
    assert raised.value.msg == message
