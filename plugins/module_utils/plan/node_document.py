# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One node's whole desired state as one document, computed on the controller.

``build`` reads the cluster plan, the node's settings as subnet_plan checked them and
what node_facts found on the host (underlay device, saved names and pods), and returns
the document: forwarding, bridge, pods, tunnel device, per-peer entries and routes,
firewall, the files container runtimes read, and what to clean up. It names no backend: each backend's file says how its
device, entries and routes look (``backends/``). node_state applies a document in the
fixed order of ``steps`` (document_steps.py), on the host.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.routednet.fabric.plugins.module_utils import backends
from ansible_collections.routednet.fabric.plugins.module_utils.mac import stable_mac
from ansible_collections.routednet.fabric.plugins.module_utils.plan.adjacency import direct_peers
from ansible_collections.routednet.fabric.plugins.module_utils.state.document_steps import DOCUMENT_FORMAT
from ansible_collections.routednet.fabric.plugins.module_utils.plan.planning import families, peers, tunnel_address
from ansible_collections.routednet.fabric.plugins.module_utils.plan import runtime_files
from ansible_collections.routednet.fabric.plugins.module_utils.plan.settings import strict_bool


def bridge_mac(node):
    """The node's bridge MAC, derived from the node's name: the same on every run, after a
    reboot and after the bridge is renamed (the pods' neighbour entries for the gateway
    stay right), and the bridge's own (Linux would otherwise give it the lowest MAC of its
    ports, changing the gateway's MAC whenever a container with a lower one joins).
    Locally administered, unicast."""
    return stable_mac("routednet.fabric bridge " + node)


def _direct(plan, node, backend, encap, adjacency):
    """The peers this node routes to directly: every one without a tunnel, none with one,
    and for a backend that mixes both the pairs the adjacency table found direct both ways."""
    if backend.MIXED:
        return direct_peers(adjacency, node) if adjacency else set()
    return set(peer for peer, _info in peers(plan, node)) if encap.TUNNEL_KIND is None else set()


def _direct_v6(direct, node, underlay_v6):
    """The direct peers whose IPv6 pods are routed directly too: those whose IPv6 underlay
    address (``underlay_v6``: node -> "address/prefix") is on this node's IPv6 prefix and
    the other way round. (host-gw refuses any other pair; hybrid tunnels their IPv6 pods.)"""
    if node not in (underlay_v6 or {}):
        return set()
    own = ipaddress.IPv6Interface(underlay_v6[node])
    found = set()
    for peer in direct:
        theirs = ipaddress.IPv6Interface(underlay_v6[peer]) if peer in underlay_v6 else None
        if theirs is not None and theirs.ip in own.network and own.ip in theirs.network:
            found.add(peer)
    return found


def peer_routes(plan, node, backend_name, hybrid_encap=None, device=None, underlay_dev=None, adjacency=None, underlay_v6=None, direct_v6=None):
    """One route per peer's IPv4 pod subnet: the direct (host-gw) one where the pair is
    direct, the tunnel's through ``device`` otherwise; then, with IPv6 pods, one per peer's
    IPv6 pod subnet: direct via its IPv6 underlay address (``underlay_v6``: node ->
    "address/prefix") where the pair is direct for IPv6 too (``direct_v6``; by default
    every direct pair), through the tunnel otherwise."""
    backend, encap = backends.get(backend_name), backends.encapsulation(backend_name, hybrid_encap)
    direct = _direct(plan, node, backend, encap, adjacency)
    direct_route = backends.DIRECT.route
    found = []
    if plan.get("cluster_cidr"):
        found += [direct_route(info, underlay_dev) if peer in direct else encap.route(info, device) for peer, info in peers(plan, node)]
    if plan.get("cluster_cidr_v6"):
        direct_v6 = direct if direct_v6 is None else direct_v6
        for peer, info in peers(plan, node):
            if peer in direct_v6:
                found.append(direct_route(with_underlay_v6(peer, info, underlay_v6), underlay_dev, family=6))
            elif encap.TUNNEL_KIND and 6 in encap.FAMILIES:
                found.append(encap.route(dict(info, name=peer), device, family=6))
    return found


def with_underlay_v6(name, info, underlay_v6):
    """``info`` (a node's part of the plan) with its IPv6 underlay address: the inventory's,
    else the one node_facts found (``underlay_v6``: node -> "address/prefix")."""
    found = (underlay_v6 or {}).get(name)
    return dict(info, underlay_ip_v6=info.get("underlay_ip_v6") or (found.split("/")[0] if found else None))


def over_underlay(name, info, family, underlay_v6):
    """``info`` (a node's part of the plan) as a tunnel over the underlay of ``family`` sees
    it: over an IPv6 underlay its underlay address is its IPv6 one."""
    return info if family == 4 else dict(info, underlay_ip=with_underlay_v6(name, info, underlay_v6)["underlay_ip_v6"])


def peer_entries(plan, node, backend_name, hybrid_encap=None, adjacency=None, direct_v6=None, underlay_v6=None, underlay_family=4):
    """The tunnel's entry per peer whose IPv4 pods are tunnelled (VXLAN: neighbour + FDB,
    behind the peer's address of ``underlay_family``), then per peer whose IPv6 pods are
    (an IPv6 neighbour for the next hop its IPv6 routes name, and the same FDB entry);
    None when the backend's tunnel keeps no per-peer entries (host-gw, IPIP)."""
    backend, encap = backends.get(backend_name), backends.encapsulation(backend_name, hybrid_encap)
    if not getattr(encap, "entry", None):
        return None
    direct = _direct(plan, node, backend, encap, adjacency)
    remote = [(peer, over_underlay(peer, info, underlay_family, underlay_v6)) for peer, info in peers(plan, node)]
    found = [encap.entry(peer, info, tunnel_address(info)) for peer, info in remote if peer not in direct] if plan.get("cluster_cidr") else []
    if plan.get("cluster_cidr_v6") and 6 in encap.FAMILIES:
        direct_v6 = direct if direct_v6 is None else direct_v6
        found += [encap.entry(peer, info, encap.ipv6_next_hop(peer)) for peer, info in remote if peer not in direct_v6]
    return found


def _renamed(saved, bridge, sysctl_file, table):
    """What the last run saved under a name this run no longer uses (None: nothing)."""
    saved = saved or {}
    old = {"bridge": bridge, "persist_file": sysctl_file, "firewall_table": table}
    return dict((key, saved.get(key) if saved.get(key) and saved.get(key) != new else None) for key, new in old.items())


def _runtime_files(plan, node, settings, mtu, facts):
    """The runtime files the node holds, and those the last run saved that it no longer
    does (a new path, a file turned off): the collection's own go, nobody else's."""
    files = runtime_files.wanted(plan, node, settings, mtu, facts)
    saved = facts.get("saved")
    wanted = set(entry["path"] for entry in files)
    return {"files": files, "absent": sorted(set((saved or {}).get("runtime_files") or []) - wanted)}


def build(plan_result, node, facts, pod_mtu, adjacency=None, underlay_v6=None):
    """The document of ``node``: ``plan_result`` is subnet_plan's result (plan and each
    node's checked settings), ``facts`` node_facts' result on the node, ``pod_mtu`` the MTU
    the preflight chose, ``adjacency`` the plan role's pair table (for a backend that
    mixes direct and tunnelled pairs), ``underlay_v6`` node -> its IPv6 underlay address
    (cluster_check's, for a dual-stack plan)."""
    plan, settings = plan_result["plan"], plan_result["settings"][node]
    info = plan["nodes"][node]
    name = settings.get("routednet_backend") or backends.DEFAULT.NAME
    hybrid_encap = settings.get("routednet_hybrid_encap")
    backend, encap = backends.get(name), backends.encapsulation(name, hybrid_encap)
    bridge, sysctl_file, table = settings["routednet_bridge_name"], settings["routednet_sysctl_file"], settings["routednet_firewall_table"]
    prune = bool(strict_bool(settings["routednet_prune_routes"]))
    underlay_dev, mtu = facts["underlay_dev"], int(pod_mtu)

    planned = set(pod["name"] for pod in info["pods"])
    theirs = set(ns for ns, owner in (facts.get("netns_found") or {}).items() if owner == "theirs")
    departed = sorted(set(facts.get("saved_pods") or []) - planned - theirs)

    # (each family's keys only where the plan has pods of it: an IPv4 document stays as saved)
    ipv4, ipv6 = (family in families(plan) for family in (4, 6))
    # (the family of the underlay the tunnel runs over: VXLAN may run over IPv6)
    family = backends.underlay_family(name, hybrid_encap, settings)
    tunnel, device_name = None, None
    if encap.TUNNEL_KIND:
        local = over_underlay(node, info, family, underlay_v6)["underlay_ip"]
        # (the source of what the node itself sends to remote pods of each family)
        addresses = ([tunnel_address(info) + "/32"] if ipv4 else []) + ([tunnel_address(info, 6) + "/128"] if ipv6 and 6 in encap.FAMILIES else [])
        tunnel = encap.device(node, settings, local, underlay_dev, mtu, addresses)
        device_name = tunnel["name"]
    direct_v6 = _direct_v6(_direct(plan, node, backend, encap, adjacency), node, underlay_v6) if ipv6 else None
    entries = peer_entries(plan, node, name, hybrid_encap, adjacency, direct_v6, underlay_v6, family)
    in_use = [encap.TUNNEL_KIND] if encap.TUNNEL_KIND else []
    pod_keys = ("name", "host_ifname", "pod_ifname") + (("address",) if ipv4 else ()) + (("address_v6",) if ipv6 else ())
    firewall = {
        "state": "present" if strict_bool(settings["routednet_firewall"]) else "absent",
        "table": table,
        "nodes": [peer["underlay_ip"] for peer in plan["nodes"].values()],
        "cluster_cidr": plan.get("cluster_cidr"),
        # 0, not None, for no VXLAN port: the firewall module's own convention
        "vxlan_port": int(settings["routednet_vxlan_port"]) if encap.FIREWALL.get("vxlan_port") else 0,
        "ipip": bool(encap.FIREWALL.get("ipip")),
        "masquerade": bool(strict_bool(settings["routednet_masquerade"])),
        "underlay_dev": underlay_dev,
        "local": info["underlay_ip"],
    }
    # (the IPv6 keys only in a dual-stack document: an IPv4 one stays as it was saved)
    forwarding = {"persist_file": sysctl_file}
    if ipv6:
        forwarding["ipv6"], firewall["cluster_cidr_v6"] = True, plan["cluster_cidr_v6"]
    if not ipv4:
        forwarding["ipv4"] = False
        del firewall["cluster_cidr"]
    if family == 6 and (firewall["vxlan_port"] or firewall["ipip"]):
        # the tunnel's packets come over IPv6: let them in from the nodes' IPv6 addresses
        firewall["nodes_v6"] = [over_underlay(peer, peer_info, 6, underlay_v6)["underlay_ip"] for peer, peer_info in sorted(plan["nodes"].items())]
        firewall["local_v6"] = local
    return {
        "format": DOCUMENT_FORMAT,
        "node": node,
        "backend": name,
        "renamed": _renamed(facts.get("saved"), bridge, sysctl_file, table),
        "forwarding": forwarding,
        "bridge": {"name": bridge, "addresses": [info[key] for key in ("gateway", "gateway_v6") if info.get(key)], "mtu": mtu, "mac": bridge_mac(node)},
        "departed_pods": departed,
        "pods": [dict((key, pod[key]) for key in pod_keys) for pod in info["pods"]],
        "tunnel": tunnel,
        "entries": None
        if entries is None
        else {
            "device": device_name,
            "peers": entries,
            "prune": prune,
            # a backend that mixes direct and tunnelled pairs adds new entries before the
            # routes move onto the tunnel and prunes the rest after, so pairs keep talking
            "prune_after_routes": bool(backend.MIXED),
        },
        "routes": {"routes": peer_routes(plan, node, name, hybrid_encap, device_name, underlay_dev, adjacency, underlay_v6, direct_v6), "prune": prune},
        "other_tunnels": [kind for kind in backends.tunnel_kinds() if kind not in in_use],
        "firewall": firewall,
        "runtime_files": _runtime_files(plan, node, settings, mtu, facts),
    }


def forget(plan_result, node):
    """The forget document of a remaining ``node`` (decommission): the routes to the
    leaving nodes' pod subnets of both families (``plan_result["leaving"]``), their entries on each tunnel
    device that keeps per-peer entries, their underlay addresses in the firewall's set."""
    leaving, settings = sorted(plan_result["leaving"].items()), plan_result["settings"][node]
    keeps_entries = [backend for backend in backends.TUNNELS.values() if backend.entry]
    return {
        "format": DOCUMENT_FORMAT,
        "kind": "forget",
        "node": node,
        "routes": [{"dst": info[key]} for _name, info in leaving for key in ("pod_cidr", "pod_cidr_v6") if info.get(key)],
        "entries": [
            {
                "device": settings[backend.DEVICE_VARIABLE],
                "peers": [
                    backend.entry(name, info, _entry_address(backend, name, info, family)) for name, info in leaving for family in _families(info, backend)
                ],
            }
            for backend in keeps_entries
        ],
        "firewall": {"table": settings["routednet_firewall_table"], "drop_nodes": [info["underlay_ip"] for _name, info in leaving]},
    }


def _entry_address(backend, name, info, family):
    """The address a tunnel's entry for node ``name`` holds: its tunnel address (IPv4), its
    IPv6 next hop (IPv6)."""
    return tunnel_address(info) if family == 4 else backend.ipv6_next_hop(name)


def _families(info, backend):
    """The families of a node's pod subnets (``info``: its part of the plan) that
    ``backend`` tunnels."""
    return [family for family in backend.FAMILIES if info.get("pod_cidr" if family == 4 else "pod_cidr_v6")]


def removal(plan_result, node):
    """The remove document of a leaving ``node`` (decommission): everything the
    collection made there, under the names its settings give them."""
    settings = plan_result["settings"][node]
    return {
        "format": DOCUMENT_FORMAT,
        "kind": "remove",
        "node": node,
        "pods": [pod["name"] for pod in plan_result["leaving"][node]["pods"]],
        "bridge": settings["routednet_bridge_name"],
        "persist_file": settings["routednet_sysctl_file"],
        "firewall_table": settings["routednet_firewall_table"],
        "tunnel_kinds": backends.tunnel_kinds(),
        "runtime_files": runtime_files.planned_paths(settings),
    }
