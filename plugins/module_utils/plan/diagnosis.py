# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Path diagnosis on the controller: which nodes and pods a path joins (from the plan),
and the report of the hops each end's node read (module_utils/host/path_check.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.routednet.fabric.plugins.module_utils import backends
from ansible_collections.routednet.fabric.plugins.module_utils.plan.planning import family_of, tunnel_address


# (the plan's keys of each family: a pod's address, a node's subnet and gateway)
KEYS = {4: ("address", "pod_cidr", "gateway"), 6: ("address_v6", "pod_cidr_v6", "gateway_v6")}


def _pod_view(pod, family):
    return {"name": pod["name"], "address": pod[KEYS[family][0]], "ifname": pod["pod_ifname"], "host_ifname": pod["host_ifname"]}


def _peer_view(node, info, family):
    """What path_hops needs of the node at the other end, for a path of ``family``."""
    if family == 4:
        view = {"node": node, "pod_cidr": info["pod_cidr"], "underlay_ip": info["underlay_ip"], "tunnel_ip": tunnel_address(info)}
    else:
        view = {"node": node, "family": 6, "pod_cidr": info["pod_cidr_v6"], "underlay_ip": info["underlay_ip"], "underlay_ip_v6": info.get("underlay_ip_v6")}
    # (path_hops' peer option: the MAC the tunnel that keeps per-peer entries gives the node,
    # and for IPv6 the next hop our routes through it name)
    for backend in backends.TUNNELS.values():
        if backend.entry:
            if family == 6:
                view["tunnel_ip"] = backend.ipv6_next_hop(node)
            view["vtep_mac"] = backend.entry(node, info, view["tunnel_ip"])["mac"]
    return view


def _all_pods(plan, family=4):
    """(node, pod, pod address of ``family`` without prefix) of every planned pod, in node order."""
    key = KEYS[family][0]
    for node, info in sorted(plan["nodes"].items()):
        for pod in info["pods"]:
            if pod.get(key):
                yield node, pod, pod[key].split("/")[0]


def _subnet_node(plan, text):
    """The node whose pod subnet (of the address's family) holds the address ``text``
    (None: no address, or no node's)."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    key = KEYS[address.version][1]
    return next((node for node, info in sorted(plan["nodes"].items()) if info.get(key) and address in ipaddress.ip_network(info[key])), None)


def _is_pod_address(plan, text):
    return any(text == address for family in (4, 6) for _node, _pod, address in _all_pods(plan, family))


def path_family(plan, src, dst):
    """The address family of the path: that of an address at either end, else IPv4 where
    the plan has it (a pod or node named at both ends)."""
    for end in (dst, src):
        family = family_of(str(end)) if end and "/" not in str(end) else None
        if family:
            return family
    return 4 if plan.get("cluster_cidr") else 6


def container_nodes(plan, src, dst):
    """The nodes to look for a container on: those whose subnet holds ``src`` or ``dst`` as
    an address that is no planned pod's (a runtime's container, found on the bridge)."""
    ends = [str(end) for end in (src, dst) if end and not _is_pod_address(plan, str(end))]
    return sorted(set(node for node in (_subnet_node(plan, end) for end in ends) if node))


def _container(plan, text, containers, which, family):
    """(node, pod view) of the runtime container holding the address ``text``, or an error."""
    node = _subnet_node(plan, text)
    for container in ((containers or {}).get(node) or {}).get("containers") or []:
        for address in container.get("addresses") or [] if container.get("netns") else []:
            if address.split("/")[0] == text:
                # (shaped as a planned pod, its address under the family's key)
                return node, {"name": container["netns"], KEYS[family][0]: address, "pod_ifname": container["ifname"], "host_ifname": container["host_ifname"]}
    addresses = ["%s (%s/%s)" % (address, pod_node, pod["name"]) for pod_node, pod, address in _all_pods(plan, family)]
    return "%s=%s is no pod address of the plan; give one of: %s - or a running container's address (none on %s's bridge holds %s)" % (
        which,
        text,
        ", ".join(addresses) or "(no node has pods)",
        node,
        text,
    )


def _find_source(plan, src, family, containers=None):
    """(node, pod or None) for ``src``: a node, a pod, node/pod, or a pod's or container's address."""
    if src in plan["nodes"]:
        return src, None
    if _subnet_node(plan, src):
        found = [(node, pod) for node, pod, address in _all_pods(plan, family) if address == src]
        return found[0] if found else _container(plan, src, containers, "src", family)
    node_part, _sep, pod_part = src.rpartition("/")
    found = [(node, pod) for node, pod, _address in _all_pods(plan, family) if pod["name"] == pod_part and node_part in ("", node)]
    if len(found) == 1:
        return found[0]
    if found:
        return "src=%s names a pod on %s; write it as node/pod, e.g. src=%s/%s" % (src, ", ".join(n for n, _p in found), found[0][0], pod_part)
    pods = ["%s/%s" % (node, pod["name"]) for node, pod, _address in _all_pods(plan, family)]
    return "src=%s is neither a node nor a pod of the plan; give one of: %s" % (src, ", ".join(sorted(plan["nodes"]) + pods))


def _find_destination(plan, dst, family, containers=None):
    for node, pod, address in _all_pods(plan, family):
        if dst in (address, pod["name"], "%s/%s" % (node, pod["name"])):
            return node, pod
    if _subnet_node(plan, dst):
        return _container(plan, dst, containers, "dst", family)
    addresses = ["%s (%s/%s)" % (address, node, pod["name"]) for node, pod, address in _all_pods(plan, family)]
    return "dst=%s is no pod address of the plan; give one of: %s" % (dst, ", ".join(addresses) or "(no node has pods: set routednet_pods)")


def path_ends(plan, src, dst, containers=None):
    """What each end's node checks, or {'error': text naming the variable and the fix}.
    ``containers``: node -> bridge_containers' result, for an end that is a runtime's
    container (by address; container_nodes says on which nodes to look). The path is of
    the family of an address given at either end (path_family): an IPv6 address, or a pod
    named in an IPv6-only plan, diagnoses the pods' IPv6 path."""
    if not src or not dst:
        return {
            "error": "diagnose.yml needs -e src=<node, pod or node/pod> -e dst=<pod address> (or a container's address at either end), "
            "e.g. -e src=node1/docker1 -e dst=172.18.0.2"
        }
    family = path_family(plan, src, dst)
    if not plan.get(("cluster_cidr", "cluster_cidr_v6")[family == 6]):
        which, text = next((which, end) for which, end in (("dst", dst), ("src", src)) if family_of(str(end)) == family)
        return {
            "error": "%s=%s is IPv%d, and routednet_cluster_cidr %s has no IPv%d CIDR: give a pod's IPv%d address or name"
            % (which, text, family, plan.get("cluster_cidr") or plan["cluster_cidr_v6"], family, {4: 6, 6: 4}[family])
        }
    source = _find_source(plan, str(src), family, containers)
    if isinstance(source, str):
        return {"error": source}
    destination = _find_destination(plan, str(dst), family, containers)
    if isinstance(destination, str):
        return {"error": destination}
    (src_node, src_pod), (dst_node, dst_pod) = source, destination
    if src_pod is not None and src_pod["name"] == dst_pod["name"] and src_node == dst_node:
        return {"error": "src and dst are the same pod (%s/%s); pick a pod to reach from it" % (src_node, src_pod["name"])}
    nodes = plan["nodes"]
    crosses = src_node != dst_node
    address_key, _subnet_key, gateway_key = KEYS[family]
    to = dst_pod[address_key].split("/")[0]
    source_name = "%s/%s" % (src_node, src_pod["name"]) if src_pod else src_node
    return {
        "title": "%s -> %s (%s/%s)" % (source_name, to, dst_node, dst_pod["name"]),
        "to": to,
        "family": family,
        "source": {
            "node": src_node,
            "pod": _pod_view(src_pod, family) if src_pod else None,
            "gateway": nodes[src_node][gateway_key],
            "peer": _peer_view(dst_node, nodes[dst_node], family) if crosses else None,
        },
        "destination": {
            "node": dst_node,
            "pod": _pod_view(dst_pod, family),
            "gateway": nodes[dst_node][gateway_key],
            "peer": _peer_view(src_node, nodes[src_node], family) if crosses else None,
        },
    }


def needs_found_underlays(ends, settings):
    """Whether path_hops needs the ends' IPv6 underlay addresses (with_found_underlays): an
    IPv6 path, or a VTEP over the IPv6 underlay at either end."""
    nodes = [ends[side]["node"] for side in ("source", "destination")] if "error" not in ends else []
    return bool(nodes) and (ends["family"] == 6 or any((settings or {}).get(node, {}).get("routednet_vxlan_underlay") == "ipv6" for node in nodes))


def with_found_underlays(ends, found, settings):
    """``ends`` (path_ends') with what the controller does not know of each end's peer:
    its IPv6 underlay address as node_facts found it (``found``: node -> node_facts'
    result), for host-gw's IPv6 routes, and for a node whose VTEP runs over the IPv6
    underlay (``settings``: node -> its checked settings) the address its tunnel goes to."""
    if "error" in ends:
        return ends
    out = dict(ends)
    for side in ("source", "destination"):
        end, peer = ends[side], ends[side]["peer"]
        if peer is None:
            continue
        facts = ((found or {}).get(peer["node"]) or {}).get("underlay_v6") or {}
        address = peer.get("underlay_ip_v6") or facts.get("address")
        view = dict(peer)
        if view.get("family") == 6:
            view["underlay_ip_v6"] = address
        if address and (settings or {}).get(end["node"], {}).get("routednet_vxlan_underlay") == "ipv6":
            view["outer_ip"] = address
        out[side] = dict(end, peer=dict((key, value) for key, value in view.items() if value is not None))
    return out


def path_report(ends, source_hops, destination_hops, ping):
    """Console lines: every hop in path order, then the verdict naming the first broken
    hop and the command that shows it. ``ping``: the source's ping, {'ok': bool, 'ttl': int or None}."""
    hops = list(source_hops) + list(destination_hops)
    width = max([len(h["node"]) for h in hops] + [4])
    lines = ["path %s" % ends["title"]]
    for number, hop in enumerate(hops, 1):
        mark = "ok  " if hop["ok"] else "FAIL"
        lines.append("%2d %s %-*s  %s: %s" % (number, mark, width, hop["node"], hop["hop"], hop["seen"]))
    broken = next((h for h in hops if not h["ok"]), None)
    answered = bool(ping.get("ok"))
    lines.append("")
    if broken:
        lines += [
            "FIRST BROKEN HOP: %s, %s" % (broken["node"], broken["hop"]),
            "  found: %s" % broken["seen"],
            "  want:  %s" % broken["want"],
            "  see it on %s: %s" % (broken["node"], broken["command"]),
            "  put the planned state back: ansible-playbook playbooks/<backend>.yml -i <inventory> (--check --diff first shows the change)",
        ]
    elif answered:
        lines.append("every hop holds the planned state, and the ping was answered (TTL %s)" % ping.get("ttl"))
    else:
        lines += [
            "every hop holds the planned state but the ping got no answer: something outside the collection's state drops it",
            "  (a firewall rule, rp_filter, the underlay). Watch where the packet stops, as the seeds do:",
            "  on %s: tcpdump -ni %s icmp; then the underlay device and the tunnel device of both nodes"
            % (ends["source"]["node"], ends["source"]["pod"]["host_ifname"] if ends["source"]["pod"] else "any"),
        ]
    return {"lines": lines, "broken": broken, "ok": broken is None and answered}
