# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Path diagnosis on the controller: which nodes and pods a path joins (from the plan),
and the report of the hops each end's node read (module_utils/host/path_check.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.routednet.fabric.plugins.module_utils import backends
from ansible_collections.routednet.fabric.plugins.module_utils.plan.planning import tunnel_address


def _pod_view(pod):
    return {"name": pod["name"], "address": pod["address"], "ifname": pod["pod_ifname"], "host_ifname": pod["host_ifname"]}


def _peer_view(node, info):
    view = {"node": node, "pod_cidr": info["pod_cidr"], "underlay_ip": info["underlay_ip"], "tunnel_ip": tunnel_address(info)}
    # (path_hops' peer option: the MAC the tunnel that keeps per-peer entries gives the node)
    for backend in backends.TUNNELS.values():
        if backend.entry:
            view["vtep_mac"] = backend.entry(node, info, view["tunnel_ip"])["mac"]
    return view


def _all_pods(plan):
    """(node, pod, pod address without prefix) of every planned pod, in node order."""
    for node, info in sorted(plan["nodes"].items()):
        for pod in info["pods"]:
            yield node, pod, pod["address"].split("/")[0]


def _subnet_node(plan, text):
    """The node whose pod subnet holds the address ``text`` (None: no address, or no node's)."""
    try:
        address = ipaddress.IPv4Address(text)
    except ValueError:
        return None
    return next((node for node, info in sorted(plan["nodes"].items()) if address in ipaddress.IPv4Network(info["pod_cidr"])), None)


def _is_pod_address(plan, text):
    return any(text == address for _node, _pod, address in _all_pods(plan))


def container_nodes(plan, src, dst):
    """The nodes to look for a container on: those whose subnet holds ``src`` or ``dst`` as
    an address that is no planned pod's (a runtime's container, found on the bridge)."""
    if not plan.get("cluster_cidr"):
        return []  # (path_ends refuses an IPv6-only plan)
    ends = [str(end) for end in (src, dst) if end and not _is_pod_address(plan, str(end))]
    return sorted(set(node for node in (_subnet_node(plan, end) for end in ends) if node))


def _container(plan, text, containers, which):
    """(node, pod view) of the runtime container holding the address ``text``, or an error."""
    node = _subnet_node(plan, text)
    for container in ((containers or {}).get(node) or {}).get("containers") or []:
        for address in container.get("addresses") or [] if container.get("netns") else []:
            if address.split("/")[0] == text:
                return node, {"name": container["netns"], "address": address, "pod_ifname": container["ifname"], "host_ifname": container["host_ifname"]}
    addresses = ["%s (%s/%s)" % (address, pod_node, pod["name"]) for pod_node, pod, address in _all_pods(plan)]
    return "%s=%s is no pod address of the plan; give one of: %s - or a running container's address (none on %s's bridge holds %s)" % (
        which,
        text,
        ", ".join(addresses) or "(no node has pods)",
        node,
        text,
    )


def _find_source(plan, src, containers=None):
    """(node, pod or None) for ``src``: a node, a pod, node/pod, or a pod's or container's address."""
    if src in plan["nodes"]:
        return src, None
    refusal = _ipv6_pod(plan, src, "src")
    if refusal:
        return refusal
    if _subnet_node(plan, src):
        found = [(node, pod) for node, pod, address in _all_pods(plan) if address == src]
        return found[0] if found else _container(plan, src, containers, "src")
    node_part, _sep, pod_part = src.rpartition("/")
    found = [(node, pod) for node, pod, _address in _all_pods(plan) if pod["name"] == pod_part and node_part in ("", node)]
    if len(found) == 1:
        return found[0]
    if found:
        return "src=%s names a pod on %s; write it as node/pod, e.g. src=%s/%s" % (src, ", ".join(n for n, _p in found), found[0][0], pod_part)
    pods = ["%s/%s" % (node, pod["name"]) for node, pod, _address in _all_pods(plan)]
    return "src=%s is neither a node nor a pod of the plan; give one of: %s" % (src, ", ".join(sorted(plan["nodes"]) + pods))


def _ipv6_pod(plan, text, which):
    """The refusal for a pod's IPv6 address at an end (the path checks follow IPv4 for now),
    naming the same pod's IPv4 address; None for any other text."""
    for node, pod, address in _all_pods(plan):
        if pod.get("address_v6") and text == pod["address_v6"].split("/")[0]:
            return (
                "%s=%s is the IPv6 address of %s/%s; diagnose.yml follows a pod's IPv4 path for now: give its IPv4 address %s "
                "(verify.yml pings the IPv6 addresses)" % (which, text, node, pod["name"], address)
            )
    return None


def _find_destination(plan, dst, containers=None):
    for node, pod, address in _all_pods(plan):
        if dst in (address, pod["name"], "%s/%s" % (node, pod["name"])):
            return node, pod
    refusal = _ipv6_pod(plan, dst, "dst")
    if refusal:
        return refusal
    if _subnet_node(plan, dst):
        return _container(plan, dst, containers, "dst")
    addresses = ["%s (%s/%s)" % (address, node, pod["name"]) for node, pod, address in _all_pods(plan)]
    return "dst=%s is no pod address of the plan; give one of: %s" % (dst, ", ".join(addresses) or "(no node has pods: set routednet_pods)")


def path_ends(plan, src, dst, containers=None):
    """What each end's node checks, or {'error': text naming the variable and the fix}.
    ``containers``: node -> bridge_containers' result, for an end that is a runtime's
    container (by address; container_nodes says on which nodes to look)."""
    if not src or not dst:
        return {
            "error": "diagnose.yml needs -e src=<node, pod or node/pod> -e dst=<pod address> (or a container's address at either end), "
            "e.g. -e src=node1/docker1 -e dst=172.18.0.2"
        }
    if not plan.get("cluster_cidr"):
        return {
            "error": "diagnose.yml follows a pod's IPv4 path, and routednet_cluster_cidr %s is IPv6 only: verify.yml pings every IPv6 pod "
            "and names the path each ping took" % plan["cluster_cidr_v6"]
        }
    source = _find_source(plan, str(src), containers)
    if isinstance(source, str):
        return {"error": source}
    destination = _find_destination(plan, str(dst), containers)
    if isinstance(destination, str):
        return {"error": destination}
    (src_node, src_pod), (dst_node, dst_pod) = source, destination
    if src_pod is not None and src_pod["name"] == dst_pod["name"] and src_node == dst_node:
        return {"error": "src and dst are the same pod (%s/%s); pick a pod to reach from it" % (src_node, src_pod["name"])}
    nodes = plan["nodes"]
    crosses = src_node != dst_node
    to = dst_pod["address"].split("/")[0]
    source_name = "%s/%s" % (src_node, src_pod["name"]) if src_pod else src_node
    return {
        "title": "%s -> %s (%s/%s)" % (source_name, to, dst_node, dst_pod["name"]),
        "to": to,
        "source": {
            "node": src_node,
            "pod": _pod_view(src_pod) if src_pod else None,
            "gateway": nodes[src_node]["gateway"],
            "peer": _peer_view(dst_node, nodes[dst_node]) if crosses else None,
        },
        "destination": {
            "node": dst_node,
            "pod": _pod_view(dst_pod),
            "gateway": nodes[dst_node]["gateway"],
            "peer": _peer_view(src_node, nodes[src_node]) if crosses else None,
        },
    }


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
