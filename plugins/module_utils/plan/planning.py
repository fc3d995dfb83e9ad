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


def _network(text, host, var, errors, strict=True, version=4):
    try:
        net = (ipaddress.IPv4Network if version == 4 else ipaddress.IPv6Network)(str(text), strict=False)
    except ValueError as exc:
        example = "10.244.0.0/16" if version == 4 else "fd00:10:244::/56"
        errors.append("%s: %s %r is not an IPv%d CIDR (%s); write it like %s" % (host, var, text, version, exc, example))
        return None
    if "/" not in str(text):
        errors.append("%s: %s %r has no prefix length; write it like %s/24" % (host, var, text, text))
        return None
    if strict and str(net.network_address) != str(text).split("/", 1)[0]:
        errors.append("%s: %s %s is not aligned (host bits set); use %s" % (host, var, text, net))
        return None
    return net


def _address(text, host, var, errors, version=4):
    try:
        return (ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address)(str(text))
    except ValueError:
        errors.append("%s: %s %r is not an IPv%d address" % (host, var, text, version))
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


# The same for IPv6 pod networks: a unique local range (fd00::/8) is what to choose.
RESERVED_V6 = (
    ("::/8", "reserved by the IETF (the unspecified and loopback addresses, IPv4-mapped addresses)"),
    ("fe80::/10", "link-local, never routed"),
    ("fec0::/10", "the deprecated site-local range (RFC 3879)"),
    ("ff00::/8", "multicast, not unicast"),
    ("2001:db8::/32", "for documentation only (RFC 3849)"),
)
RESERVED_NETWORKS_V6 = tuple((ipaddress.IPv6Network(cidr), why) for cidr, why in RESERVED_V6)
# The longest IPv6 node subnet: room for the gateway, the pods and a runtime range.
SUBNET_PREFIX_V6_MAX = 120


def reserved_overlap(net):
    """(reserved network, why) that ``net`` overlaps, or None."""
    table = RESERVED_NETWORKS if net.version == 4 else RESERVED_NETWORKS_V6
    return next(((reserved, why) for reserved, why in table if net.overlaps(reserved)), None)


def family_of(text):
    """4 or 6 for a CIDR or address written as text, None when it is neither."""
    try:
        return ipaddress.ip_network(str(text), strict=False).version
    except ValueError:
        return None


def split_families(value, host, var, errors, example):
    """{4: text or None, 6: text or None} of a setting that takes one CIDR, or a list of
    at most one per family (routednet_cluster_cidr, routednet_pod_cidr)."""
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    if not items or len(items) > 2 or any(not isinstance(item, str) or not item for item in items):
        errors.append("%s: %s=%s is neither a CIDR nor a list of one CIDR per family; write it like %s" % (host, var, value, example))
        return {4: None, 6: None}
    found = {4: [], 6: []}
    for item in items:
        # (text that is no CIDR at all goes with IPv4, whose message _network then gives)
        found[6 if family_of(item) == 6 or (family_of(item) is None and ":" in item) else 4].append(item)
    for version, texts in sorted(found.items()):
        if len(texts) > 1:
            errors.append("%s: %s lists two IPv%d CIDRs (%s); give at most one per family, such as %s" % (host, var, version, ", ".join(texts), example))
            return {4: None, 6: None}
    return dict((version, texts[0] if texts else None) for version, texts in found.items())


def underlay_problem(addr):
    """Why a node's underlay address cannot carry pod traffic from its peers, or None."""
    if addr.is_loopback:
        return "a loopback address, which no peer can reach"
    if addr.is_multicast or addr.is_unspecified or addr == ipaddress.IPv4Address("255.255.255.255"):
        return "not a unicast address"
    return None


def _address_or_none(text):
    try:
        return ipaddress.ip_address(str(text)) if text else None
    except ValueError:
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
    address = type(subnet.network_address)
    return address(first), address(last)


def _pods(node, subnet, reserved, runtime, errors, key="address"):
    """Pods of one node with their addresses (under ``key``); explicit ones kept, others
    from .2 up, all below the runtime's range ``runtime`` (runtime_range of the ``reserved``
    addresses: one address space, two allocators that never meet)."""
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
            addr = _address(entry["address"], host, "routednet_pods[%s].address" % entry["name"], errors, subnet.version)
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
                key: "%s/%d" % (addr, subnet.prefixlen),
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
    size = 1 << (cluster.max_prefixlen - prefix)
    base = int(cluster.network_address)
    used = set()
    for net in taken:
        first = (int(net.network_address) - base) // size
        last = (int(net.broadcast_address) - base) // size
        used.update(range(first, last + 1))
    for index in range(1, cluster.num_addresses // size):
        if index not in used:
            yield type(cluster)((base + index * size, prefix))


CLUSTER_EXAMPLE = "10.244.0.0/16, or [10.244.0.0/16, fd00:10:244::/56] for IPv6 beside it"


def _fill_free(nodes, cluster, prefix, assigned):
    """Give each node without a subnet in ``assigned`` the first free aligned /prefix of
    ``cluster``, in name order, skipping the cluster's first subnet (as flannel does, so no
    node subnet shares the cluster's network address); return those left without one."""
    free = _free_subnets(cluster, prefix, list(assigned.values()))
    left = []
    for node in sorted(nodes, key=lambda n: n["name"]):
        if node["name"] not in assigned:
            candidate = next(free, None)
            if candidate is None:
                left.append(node["name"])
            else:
                assigned[node["name"]] = candidate
    return left


def build_plan(nodes, cluster_cidr, subnet_prefix=24, leases=None, leases_v6=None, subnet_prefix_v6=64):
    """Allocate and validate; return (plan, new_leases) or raise PlanError.

    ``nodes``: list of dicts with ``name``, ``underlay_ip``, optional
    ``pod_cidr`` (an override: one CIDR, or one per family), ``pods``,
    ``reserved_pod_addresses`` (how many addresses after the gateway are kept for the
    pods) and ``underlay_ip_v6``.  ``leases``: node -> CIDR from the lease file.  Order
    of precedence: override, lease, first free subnet.

    ``cluster_cidr`` may list an IPv6 CIDR beside the IPv4 one (dual-stack): each node
    then also gets an IPv6 subnet of ``subnet_prefix_v6`` (override, ``leases_v6``, first
    free), planned by _plan_ipv6 after the IPv4 plan it leaves as it was, so adding IPv6
    to a cluster moves no IPv4 lease. An IPv6 CIDR alone plans an IPv6-only cluster: its
    plan has none of the IPv4 keys (``cluster_cidr``, a node's ``pod_cidr``, a pod's
    ``address``...), only the ``_v6`` ones.
    """
    errors = []
    cidrs = split_families(cluster_cidr, "all", "routednet_cluster_cidr", errors, CLUSTER_EXAMPLE)
    if errors:
        raise PlanError(errors)
    overrides = {}
    for node in nodes:
        if node.get("pod_cidr"):
            overrides[node["name"]] = split_families(node["pod_cidr"], node["name"], "routednet_pod_cidr", errors, "10.244.7.0/24")
    for host, override in sorted(overrides.items()):
        if override[4] and cidrs[4] is None:
            errors.append(
                "%s: routednet_pod_cidr %s is IPv4 but routednet_cluster_cidr %s has no IPv4 CIDR; give the node an IPv6 subnet of it, or add an "
                "IPv4 CIDR to routednet_cluster_cidr, such as [10.244.0.0/16, %s]" % (host, override[4], cidrs[6], cidrs[6])
            )
    if not nodes:
        errors.append("all: the inventory group has no nodes")
    if errors:
        raise PlanError(errors)
    nodes = [dict(node, pod_cidr=overrides[node["name"]][4]) if node["name"] in overrides else node for node in nodes]
    by_underlay = _underlay_addresses(nodes, errors)
    if cidrs[4] is not None:
        plan, new_leases = _plan_ipv4(nodes, cidrs[4], subnet_prefix, dict(leases or {}), by_underlay, errors)
    elif errors:
        raise PlanError(errors)
    else:
        # (an IPv6-only plan keeps the IPv4 leases it is given: IPv4 back, each node has its subnet back)
        plan, new_leases = {"nodes": dict((node["name"], {"underlay_ip": str(node["underlay_ip"]), "pods": []}) for node in nodes)}, dict(leases or {})
    if cidrs[6] is not None or any(o[6] for o in overrides.values()):
        _plan_ipv6(plan, nodes, cidrs[6], subnet_prefix_v6, dict(leases_v6 or {}), dict((host, o[6]) for host, o in overrides.items() if o[6]))
    return plan, new_leases


def families(plan):
    """The address families (4, 6) a plan has pods of, IPv4 first."""
    return tuple(family for family, key in ((4, "cluster_cidr"), (6, "cluster_cidr_v6")) if plan.get(key))


def _underlay_addresses(nodes, errors):
    """IPv4 underlay address -> node, each checked (one line per problem into ``errors``)."""
    by_underlay = {}
    for node in sorted(nodes, key=lambda n: n["name"]):
        host = node["name"]
        if not node.get("underlay_ip"):
            errors.append("%s: routednet_underlay_ip is not set and ansible_host is not an IPv4 address; set routednet_underlay_ip" % host)
            continue
        if family_of(node["underlay_ip"]) == 6:
            errors.append(
                "%s: routednet_underlay_ip %s is an IPv6 address; set it to the node's IPv4 underlay address, and the IPv6 one in "
                "routednet_underlay_ip_v6 (every node needs an IPv4 underlay address for now, also in an IPv6-only cluster)" % (host, node["underlay_ip"])
            )
            continue
        addr = _address(node["underlay_ip"], host, "routednet_underlay_ip", errors)
        if addr is not None and underlay_problem(addr):
            errors.append(
                "%s: routednet_underlay_ip %s is %s; set it to this node's address on the network the nodes share" % (host, addr, underlay_problem(addr))
            )
        elif addr is not None:
            if addr in by_underlay:
                errors.append("%s: routednet_underlay_ip %s is also the underlay address of %s; each node needs its own" % (host, addr, by_underlay[addr]))
            by_underlay.setdefault(addr, host)
    return by_underlay


def _plan_ipv4(nodes, cluster_cidr, subnet_prefix, leases, by_underlay, errors):
    """The IPv4 plan: each node's subnet of ``cluster_cidr`` (override, lease, first free),
    gateway, pods and runtime range; (plan, new leases), or PlanError naming every problem
    (those ``errors`` already holds too)."""
    before = len(errors)
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
    if len(errors) > before:  # (no subnet can be checked against a cluster CIDR in doubt)
        raise PlanError(errors)

    assigned = {}
    for node in sorted(nodes, key=lambda n: n["name"]):
        host = node["name"]
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

    for host in _fill_free(nodes, cluster, subnet_prefix, assigned):
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


def _ipv6_address_problem(addr):
    """Why ``addr`` cannot be a node's IPv6 underlay address, or None."""
    if addr.is_link_local:
        return "link-local, which a peer reaches only on one link and never by a route"
    if addr.is_loopback or addr.is_multicast or addr.is_unspecified:
        return "not a unicast address a peer can reach"
    return None


def _plan_ipv6(plan, nodes, cluster_cidr_v6, prefix, leases, overrides):
    """Give every node of ``plan`` an IPv6 subnet of ``prefix`` in ``cluster_cidr_v6``,
    with its gateway (the first address) and runtime range, and each pod the address at
    its IPv4 address's offset (pod .2 is ::2: the same address space layout in both
    families), or in an IPv6-only plan (no IPv4 subnets) from ::2 up as _pods gives
    IPv4 ones. Raises PlanError naming every problem."""
    errors = []
    dual = bool(plan.get("cluster_cidr"))
    if cluster_cidr_v6 is None:
        host = sorted(overrides)[0]
        raise PlanError(
            [
                "%s: routednet_pod_cidr %s is IPv6 but routednet_cluster_cidr has no IPv6 CIDR; add one beside the IPv4 one, such as "
                "[%s, fd00:10:244::/56]" % (host, overrides[host], plan["cluster_cidr"])
            ]
        )
    cluster = _network(cluster_cidr_v6, "all", "routednet_cluster_cidr", errors, version=6)
    try:
        prefix = int(prefix)
    except (TypeError, ValueError):
        errors.append("all: routednet_subnet_prefix_v6 %r is not a number; set an IPv6 node prefix such as 64" % (prefix,))
        prefix = None
    if cluster is not None and prefix is not None and not cluster.prefixlen < prefix <= SUBNET_PREFIX_V6_MAX:
        errors.append(
            "all: routednet_subnet_prefix_v6 /%s must be longer than the IPv6 cluster CIDR /%d and at most /%d (the default is /64)"
            % (prefix, cluster.prefixlen, SUBNET_PREFIX_V6_MAX)
        )
    elif dual and prefix is not None and 128 - prefix < 32 - plan["subnet_prefix"]:
        errors.append(
            "all: routednet_subnet_prefix_v6 /%d gives each node fewer addresses than its IPv4 subnet /%d, and a pod keeps one offset in both "
            "families: set /%d or shorter (the default is /64)" % (prefix, plan["subnet_prefix"], 96 + plan["subnet_prefix"])
        )
    if cluster is not None and reserved_overlap(cluster):
        reserved, why = reserved_overlap(cluster)
        errors.append(
            "all: routednet_cluster_cidr %s overlaps %s, which is %s; choose a unique local range such as fd00:10:244::/56" % (cluster, reserved, why)
        )
    if errors:
        raise PlanError(errors)
    assigned, by_underlay = {}, {}
    for node in sorted(nodes, key=lambda n: n["name"]):
        host = node["name"]
        if node.get("underlay_ip_v6"):
            try:
                addr = ipaddress.IPv6Address(str(node["underlay_ip_v6"]))
            except ValueError:
                errors.append("%s: routednet_underlay_ip_v6 %r is not an IPv6 address" % (host, node["underlay_ip_v6"]))
                addr = None
            if addr is not None and _ipv6_address_problem(addr):
                errors.append(
                    "%s: routednet_underlay_ip_v6 %s is %s; set the node's global or unique local address on the network the nodes share"
                    % (host, addr, _ipv6_address_problem(addr))
                )
            elif addr is not None and addr in cluster:
                errors.append(
                    "%s: routednet_underlay_ip_v6 %s lies inside routednet_cluster_cidr %s; choose a cluster CIDR clear of it" % (host, addr, cluster)
                )
            elif addr is not None:
                if addr in by_underlay:
                    errors.append(
                        "%s: routednet_underlay_ip_v6 %s is also the underlay address of %s; each node needs its own" % (host, addr, by_underlay[addr])
                    )
                by_underlay.setdefault(addr, host)
        source = ("routednet_pod_cidr", overrides[host]) if host in overrides else ("lease (routednet_lease_file)", leases[host]) if host in leases else None
        if source is None:
            continue
        net = _network(source[1], host, source[0], errors, version=6)
        if net is None:
            continue
        if not net.subnet_of(cluster):
            errors.append("%s: %s %s is outside routednet_cluster_cidr %s; pick a subnet inside it" % (host, source[0], net, cluster))
        elif net.prefixlen != prefix:
            errors.append(
                "%s: %s %s is not a /%d (routednet_subnet_prefix_v6); give it that prefix, or remove the lease to lease anew" % (host, source[0], net, prefix)
            )
        else:
            assigned[host] = net
    errors += _overlaps(assigned)
    if errors:
        raise PlanError(errors)
    for host in _fill_free(nodes, cluster, prefix, assigned):
        errors.append("%s: routednet_cluster_cidr %s has no free /%d left for this node; widen it" % (host, cluster, prefix))
    if errors:
        raise PlanError(errors)
    by_name = dict((node["name"], node) for node in nodes)
    for host, info in plan["nodes"].items():
        subnet, node = assigned[host], by_name[host]
        reserved = int(node.get("reserved_pod_addresses", RESERVED_POD_ADDRESSES))
        runtime = runtime_range(subnet, reserved)
        info.update(
            underlay_ip_v6=str(node["underlay_ip_v6"]) if node.get("underlay_ip_v6") else None,
            pod_cidr_v6=str(subnet),
            gateway_v6="%s/%d" % (subnet.network_address + 1, subnet.prefixlen),
            runtime_range_v6={"start": str(runtime[0]), "end": str(runtime[1])} if runtime else None,
        )
        if not dual:
            info["pods"] = _pods(node, subnet, reserved, runtime, errors, key="address_v6")
            continue
        subnet4 = ipaddress.IPv4Network(info["pod_cidr"])
        for pod in info["pods"]:
            offset = int(ipaddress.IPv4Interface(pod["address"]).ip) - int(subnet4.network_address)
            pod["address_v6"] = "%s/%d" % (subnet.network_address + offset, subnet.prefixlen)
    if errors:
        raise PlanError(errors)
    plan.update(cluster_cidr_v6=str(cluster), subnet_prefix_v6=prefix)


def leases_v6(plan):
    """Node -> IPv6 subnet of a dual-stack plan (empty for IPv4 only): the lease file's routednet_leases_v6."""
    return dict((host, info["pod_cidr_v6"]) for host, info in sorted(plan["nodes"].items()) if info.get("pod_cidr_v6"))


def host_address_conflicts(plan, node, addresses, connection=None, addresses_v6=None):
    """Where the plan would take over what a node already uses; one line per problem.

    Two networks overlap only when one holds the other, so a network the host is on
    (the underlay's included) either covers a pod subnet or puts its own address
    inside the cluster CIDR: the two checks below catch both.

    ``addresses``: the node's IPv4 addresses (``node_facts``: dev, address as a CIDR,
    owned), ``addresses_v6`` its IPv6 ones (a dual-stack plan: checked against the IPv6
    cluster CIDR the same way; link-local ones are every link's own), ``connection``: the
    SSH connection's server and client addresses as the node sees them (either may be
    None; an IPv6 one is checked against the IPv6 cluster CIDR).  The collection's own
    links are left out: the bridge holds the pod gateway by design.
    """
    # (an IPv6-only plan's pod_cidr is the IPv6 one; a dual-stack plan's is the second)
    variable_v6 = "routednet_pod_cidr (its IPv6 one)" if plan.get("cluster_cidr") else "routednet_pod_cidr"
    checks = {
        4: (plan.get("cluster_cidr"), "pod_cidr", addresses or [], "routednet_pod_cidr"),
        6: (plan.get("cluster_cidr_v6"), "pod_cidr_v6", addresses_v6 or [], variable_v6),
    }
    problems = []
    for cidr, key, found, variable in [checks[family] for family in families(plan)]:
        cluster = ipaddress.ip_network(cidr)
        subnets = sorted((ipaddress.ip_network(info[key]), peer) for peer, info in plan["nodes"].items())
        for item in found:
            iface = ipaddress.ip_interface(item["address"])
            if item.get("owned") or iface.ip.is_link_local:
                continue
            where = "%s on %s" % (iface.ip, item.get("dev"))
            hit = next(((net, peer) for net, peer in subnets if net.overlaps(iface.network)), None)
            if hit:
                problems.append(
                    "%s: the pod subnet %s of %s overlaps %s (network %s), which this host already uses; "
                    "give %s another %s (or remove its lease) or choose another routednet_cluster_cidr"
                    % (node, hit[0], hit[1], where, iface.network, hit[1], variable)
                )
            elif iface.ip in cluster:
                problems.append(
                    "%s: routednet_cluster_cidr %s covers %s, an address this host already uses; choose a cluster CIDR clear of it" % (node, cluster, where)
                )
        for role in ("server", "client"):
            addr = _address_or_none((connection or {}).get(role))
            if addr is not None and addr.version == cluster.version and addr in cluster:
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
    """Every pod address on every other node (IPv4, then IPv6 in a dual-stack plan), with
    the node it lives on and the address family."""
    targets = []
    for key, family in (("address", 4), ("address_v6", 6)):
        for peer, info in peers(plan, node):
            targets += [{"node": peer, "pod": pod["name"], "address": pod[key].split("/")[0], "family": family} for pod in info["pods"] if pod.get(key)]
    return targets


def tunnel_address(info, family=4):
    """The address of a node's tunnel device (VTEP or IPIP): the node subnet's network
    address as a /32 (its IPv6 subnet's as a /128 for ``family`` 6), as flannel does, so
    traffic the node itself sends to remote pods has a source address the peers route
    back through the tunnel."""
    return info["pod_cidr" if family == 4 else "pod_cidr_v6"].split("/")[0]


def peers(plan, node):
    """(name, plan entry) of every other node, in name order."""
    return [(peer, info) for peer, info in sorted(plan["nodes"].items()) if peer != node]
