# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The node-to-subnet map: allocation, validation and per-node desired state.

Pure Python, no Ansible and no netlink, so that it runs on the controller and
is unit tested directly.  Leases play the role flannel's etcd leases play:
once a node has a subnet it keeps it, so adding a node never renumbers another.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import ipaddress


POD_IFNAME = "eth0"


class PlanError(ValueError):
    """Bad input; ``errors`` holds one line per problem, each naming host and variable."""

    def __init__(self, errors):
        self.errors = list(errors)
        super(PlanError, self).__init__("\n".join(self.errors))


def host_ifname(pod_name):
    """Stable host-side veth name (at most 15 characters) for a pod."""
    return "veth" + hashlib.sha256(pod_name.encode("utf-8")).hexdigest()[:8]


def _network(text, host, var, errors, strict=True):
    try:
        net = ipaddress.IPv4Network(str(text), strict=False)
    except ValueError as exc:
        errors.append("%s: %s %r is not an IPv4 CIDR (%s); write it like 10.244.0.0/16" % (host, var, text, exc))
        return None
    if "/" not in str(text):
        errors.append("%s: %s %r has no prefix length; write it like %s/24" % (host, var, text, text))
        return None
    if strict and str(net.network_address) != str(text).split("/", 1)[0]:
        errors.append("%s: %s %s is not aligned (host bits set); use %s" % (host, var, text, net))
        return None
    return net


def _address(text, host, var, errors):
    try:
        return ipaddress.IPv4Address(str(text))
    except ValueError:
        errors.append("%s: %s %r is not an IPv4 address" % (host, var, text))
        return None


# Address ranges no pod can have: the kernel treats them specially, so a pod network
# there breaks every node at once (a bridge gateway in multicast space, say).
RESERVED = (
    ("0.0.0.0/8", "'this network' (RFC 1122), never a destination"),
    ("127.0.0.0/8", "loopback, never routed off a host"),
    ("169.254.0.0/16", "link-local (RFC 3927), never routed"),
    ("224.0.0.0/4", "multicast, not unicast"),
    ("240.0.0.0/4", "reserved (RFC 1112) and the limited broadcast address 255.255.255.255"),
)
RESERVED_NETWORKS = tuple((ipaddress.IPv4Network(cidr), why) for cidr, why in RESERVED)


def reserved_overlap(net):
    """(reserved network, why) that ``net`` overlaps, or None."""
    return next(((reserved, why) for reserved, why in RESERVED_NETWORKS if net.overlaps(reserved)), None)


def underlay_problem(addr):
    """Why a node's underlay address cannot carry pod traffic from its peers, or None."""
    if addr.is_loopback:
        return "a loopback address, which no peer can reach"
    if addr.is_multicast or addr.is_unspecified or addr == ipaddress.IPv4Address("255.255.255.255"):
        return "not a unicast address"
    return None


def _ipv4_or_none(text):
    try:
        return ipaddress.IPv4Address(str(text)) if text else None
    except ValueError:
        return None


# Addresses after the gateway kept for the collection's own pods (routednet_pods) unless a
# node sets routednet_reserved_pod_addresses: a container runtime's range starts after them.
RESERVED_POD_ADDRESSES = 14


def runtime_range(subnet, reserved=RESERVED_POD_ADDRESSES):
    """(first, last) address a container runtime's IPAM may hand out in the node's
    ``subnet``: everything after the gateway (the first address) and the ``reserved``
    addresses kept for the collection's own pods, up to the last before broadcast.
    None when the subnet is too small to leave any."""
    first = int(subnet.network_address) + 2 + int(reserved)
    last = int(subnet.broadcast_address) - 1
    if first > last:
        return None
    return ipaddress.IPv4Address(first), ipaddress.IPv4Address(last)


def _pods(node, subnet, reserved, runtime, errors):
    """Pods of one node with their addresses; explicit ones kept, others from .2 up, all
    below the runtime's range ``runtime`` (runtime_range of the ``reserved`` addresses:
    one address space, two allocators that never meet)."""
    host = node["name"]
    gateway = subnet.network_address + 1
    taken = {gateway}
    pods, seen = [], set()
    entries = []
    for item in node.get("pods") or []:
        entry = {"name": item} if isinstance(item, str) else item
        if not isinstance(entry, dict) or not entry.get("name"):
            errors.append("%s: routednet_pods entry %r needs a name" % (host, entry))
            continue
        if entry["name"] in seen:
            errors.append("%s: routednet_pods names %s twice; pod names must be unique per node" % (host, entry["name"]))
            continue
        seen.add(entry["name"])
        entries.append(entry)
    for entry in entries:
        if entry.get("address"):
            addr = _address(entry["address"], host, "routednet_pods[%s].address" % entry["name"], errors)
            if addr is None:
                continue
            if addr not in subnet or addr in (subnet.network_address, subnet.broadcast_address):
                errors.append("%s: routednet_pods[%s].address %s is not a usable address of the node subnet %s" % (host, entry["name"], addr, subnet))
                continue
            if addr in taken:
                errors.append("%s: routednet_pods[%s].address %s is already in use (gateway or another pod)" % (host, entry["name"], addr))
                continue
            if runtime and addr >= runtime[0]:
                errors.append(
                    "%s: routednet_pods[%s].address %s lies in the container runtime's range %s-%s; pick one of %s-%s "
                    "or raise routednet_reserved_pod_addresses (%d now)"
                    % (host, entry["name"], addr, runtime[0], runtime[1], gateway + 1, runtime[0] - 1, reserved)
                )
                continue
            taken.add(addr)
    hosts_iter = subnet.hosts()
    for entry in entries:
        addr = entry.get("address")
        if not addr:
            for candidate in hosts_iter:
                if runtime and candidate >= runtime[0]:
                    break
                if candidate not in taken:
                    addr = candidate
                    taken.add(candidate)
                    break
            if not addr and runtime:
                errors.append(
                    "%s: the %d addresses kept for routednet_pods (%s-%s) are all taken, none is left for pod %s; "
                    "raise routednet_reserved_pod_addresses (the container runtime's range starts after them)"
                    % (host, reserved, gateway + 1, runtime[0] - 1, entry["name"])
                )
                continue
            if not addr:
                errors.append("%s: the node subnet %s has no free address for pod %s" % (host, subnet, entry["name"]))
                continue
        pods.append(
            {
                "name": entry["name"],
                "address": "%s/%d" % (addr, subnet.prefixlen),
                "host_ifname": entry.get("host_ifname") or host_ifname(entry["name"]),
                "pod_ifname": entry.get("pod_ifname") or POD_IFNAME,
            }
        )
    return pods


def _overlaps(assigned):
    """Errors for pod subnets that overlap another node's, in one pass over them sorted by
    address (a cluster of thousands of nodes cannot afford comparing every pair)."""
    errors, widest = [], None  # (last address, node, subnet) reaching furthest so far
    for start, host, net in sorted((int(net.network_address), host, net) for host, net in assigned.items()):
        if widest is not None and start <= widest[0]:
            errors.append("%s: pod subnet %s overlaps %s of %s; give each node its own subnet" % (host, net, widest[2], widest[1]))
        if widest is None or int(net.broadcast_address) > widest[0]:
            widest = (int(net.broadcast_address), host, net)
    return errors


def _free_subnets(cluster, prefix, taken):
    """The cluster's aligned /prefix subnets that overlap none of ``taken``, in order,
    skipping the first."""
    size = 1 << (32 - prefix)
    base = int(cluster.network_address)
    used = set()
    for net in taken:
        first = (int(net.network_address) - base) // size
        last = (int(net.broadcast_address) - base) // size
        used.update(range(first, last + 1))
    for index in range(1, cluster.num_addresses // size):
        if index not in used:
            yield ipaddress.IPv4Network((base + index * size, prefix))


def build_plan(nodes, cluster_cidr, subnet_prefix=24, leases=None):
    """Allocate and validate; return (plan, new_leases) or raise PlanError.

    ``nodes``: list of dicts with ``name``, ``underlay_ip``, optional
    ``pod_cidr`` (an override), ``pods`` and ``reserved_pod_addresses`` (how many
    addresses after the gateway are kept for the pods).  ``leases``: node -> CIDR from
    the lease file.  Order of precedence: override, lease, first free subnet.
    """
    errors = []
    leases = dict(leases or {})
    cluster = _network(cluster_cidr, "all", "routednet_cluster_cidr", errors)
    try:
        subnet_prefix = int(subnet_prefix)
    except (TypeError, ValueError):
        errors.append("all: routednet_subnet_prefix %r is not a number" % (subnet_prefix,))
        subnet_prefix = None
    if cluster is not None and subnet_prefix is not None and not cluster.prefixlen < subnet_prefix <= 30:
        errors.append("all: routednet_subnet_prefix /%s must be longer than the cluster CIDR /%d and at most /30" % (subnet_prefix, cluster.prefixlen))
    if cluster is not None and reserved_overlap(cluster):
        reserved, why = reserved_overlap(cluster)
        errors.append(
            "all: routednet_cluster_cidr %s overlaps %s, which is %s; choose a private unicast range such as 10.244.0.0/16" % (cluster, reserved, why)
        )
    if not nodes:
        errors.append("all: the inventory group has no nodes")
    if errors:
        raise PlanError(errors)

    by_underlay = {}
    assigned = {}
    for node in sorted(nodes, key=lambda n: n["name"]):
        host = node["name"]
        if not node.get("underlay_ip"):
            errors.append("%s: routednet_underlay_ip is not set and ansible_host is not an IPv4 address; set routednet_underlay_ip" % host)
        else:
            addr = _address(node["underlay_ip"], host, "routednet_underlay_ip", errors)
            if addr is not None and underlay_problem(addr):
                errors.append(
                    "%s: routednet_underlay_ip %s is %s; set it to this node's address on the network the nodes share" % (host, addr, underlay_problem(addr))
                )
            elif addr is not None:
                if addr in by_underlay:
                    errors.append("%s: routednet_underlay_ip %s is also the underlay address of %s; each node needs its own" % (host, addr, by_underlay[addr]))
                by_underlay.setdefault(addr, host)
        if node.get("pod_cidr"):
            net = _network(node["pod_cidr"], host, "routednet_pod_cidr", errors)
            if net is not None:
                if not net.subnet_of(cluster):
                    errors.append(
                        "%s: routednet_pod_cidr %s is outside routednet_cluster_cidr %s; pick a subnet inside it or widen the cluster CIDR"
                        % (host, net, cluster)
                    )
                elif net.prefixlen > 30:
                    errors.append("%s: routednet_pod_cidr %s is too small for a gateway and a pod; use /30 or larger" % (host, net))
                else:
                    assigned[host] = net
        elif host in leases:
            net = _network(leases[host], host, "lease (routednet_lease_file)", errors)
            if net is not None:
                if not net.subnet_of(cluster):
                    errors.append("%s: its lease %s is outside routednet_cluster_cidr %s; set routednet_pod_cidr or remove the lease" % (host, net, cluster))
                else:
                    assigned[host] = net
    errors += _overlaps(assigned)
    if errors:
        raise PlanError(errors)

    # New nodes: first free aligned subnet, skipping the cluster's first
    # subnet (as flannel does, so no node subnet shares the cluster's
    # network address).
    free = _free_subnets(cluster, subnet_prefix, assigned.values())
    for node in sorted(nodes, key=lambda n: n["name"]):
        host = node["name"]
        if host in assigned:
            continue
        for candidate in free:
            assigned[host] = candidate
            break
        else:
            errors.append(
                "%s: routednet_cluster_cidr %s has no free /%d left for this node; widen the cluster CIDR or shorten routednet_subnet_prefix"
                % (host, cluster, subnet_prefix)
            )
    # A cluster CIDR over a node's own address would route that node's traffic into
    # the pod network: refused for underlay addresses and for the address Ansible uses.
    for addr, host in sorted(by_underlay.items()):
        if addr in cluster:
            errors.append(
                "%s: routednet_underlay_ip %s lies inside routednet_cluster_cidr %s; choose a cluster CIDR clear of every node address" % (host, addr, cluster)
            )
    for node in sorted(nodes, key=lambda n: n["name"]):
        connect = _ipv4_or_none(node.get("connect_ip"))
        if connect is not None and connect in cluster and connect not in by_underlay:
            errors.append(
                "%s: routednet_cluster_cidr %s covers ansible_host %s, the address Ansible connects to; choose a cluster CIDR clear of it"
                % (node["name"], cluster, connect)
            )
    if errors:
        raise PlanError(errors)

    plan_nodes = {}
    for node in nodes:
        host = node["name"]
        subnet = assigned[host]
        # (the inventory may write it as digits; settings.py checked it is a whole number)
        reserved = int(node.get("reserved_pod_addresses", RESERVED_POD_ADDRESSES))
        runtime = runtime_range(subnet, reserved)
        pods = _pods(node, subnet, reserved, runtime, errors)
        plan_nodes[host] = {
            "underlay_ip": str(node["underlay_ip"]),
            "pod_cidr": str(subnet),
            "gateway": "%s/%d" % (subnet.network_address + 1, subnet.prefixlen),
            "pods": pods,
            # what a container runtime's IPAM hands out (CNI host-local, netavark): after the pods
            "runtime_range": {"start": str(runtime[0]), "end": str(runtime[1])} if runtime else None,
        }
    if errors:
        raise PlanError(errors)
    plan = {
        "cluster_cidr": str(cluster),
        "subnet_prefix": subnet_prefix,
        "nodes": plan_nodes,
    }
    return plan, {host: str(net) for host, net in sorted(assigned.items())}


def host_address_conflicts(plan, node, addresses, connection=None):
    """Where the plan would take over what a node already uses; one line per problem.

    Two networks overlap only when one holds the other, so a network the host is on
    (the underlay's included) either covers a pod subnet or puts its own address
    inside the cluster CIDR: the two checks below catch both.

    ``addresses``: the node's IPv4 addresses (``node_facts``: dev, address as a CIDR,
    owned), ``connection``: the SSH connection's server and client addresses as the
    node sees them (either may be None).  The collection's own links are left out: the
    bridge holds the pod gateway by design.
    """
    cluster = ipaddress.IPv4Network(plan["cluster_cidr"])
    subnets = sorted((ipaddress.IPv4Network(info["pod_cidr"]), peer) for peer, info in plan["nodes"].items())
    problems = []
    for item in addresses or []:
        if item.get("owned"):
            continue
        iface = ipaddress.IPv4Interface(item["address"])
        where = "%s on %s" % (iface.ip, item.get("dev"))
        hit = next(((net, peer) for net, peer in subnets if net.overlaps(iface.network)), None)
        if hit:
            problems.append(
                "%s: the pod subnet %s of %s overlaps %s (network %s), which this host already uses; "
                "give %s another routednet_pod_cidr (or remove its lease) or choose another routednet_cluster_cidr"
                % (node, hit[0], hit[1], where, iface.network, hit[1])
            )
        elif iface.ip in cluster:
            problems.append(
                "%s: routednet_cluster_cidr %s covers %s, an address this host already uses; choose a cluster CIDR clear of it" % (node, cluster, where)
            )
    for role in ("server", "client"):
        addr = _ipv4_or_none((connection or {}).get(role))
        if addr is not None and addr in cluster:
            what = "the address Ansible reaches this host on" if role == "server" else "the controller's address this SSH session comes from"
            problems.append(
                "%s: routednet_cluster_cidr %s covers %s, %s (SSH_CONNECTION); routing it into the pod network would cut Ansible off; "
                "choose a cluster CIDR clear of it" % (node, cluster, addr, what)
            )
    return problems


def peer_underlay_ips(plan, node):
    """The underlay addresses of every other node (what the adjacency check looks up)."""
    return [info["underlay_ip"] for _peer, info in peers(plan, node)]


def ping_targets(plan, node):
    """Every pod address on every other node, with the node it lives on."""
    targets = []
    for peer, info in sorted(plan["nodes"].items()):
        if peer == node:
            continue
        for pod in info["pods"]:
            targets.append({"node": peer, "pod": pod["name"], "address": pod["address"].split("/")[0]})
    return targets


def tunnel_address(info):
    """The address of a node's tunnel device (VTEP or IPIP): the node subnet's network
    address as a /32, as flannel does, so traffic the node itself sends to remote pods
    has a source address the peers route back through the tunnel."""
    return info["pod_cidr"].split("/")[0]


def peers(plan, node):
    """(name, plan entry) of every other node, in name order."""
    return [(peer, info) for peer, info in sorted(plan["nodes"].items()) if peer != node]
