# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One node's part of a pod-to-pod path, hop by hop, read from the kernel.

The seeds find a lost packet by hand: the pod's route, its veth on the bridge, the
bridge's address, forwarding, the node's ``ip route get``, then the underlay neighbour or
the tunnel's neighbour and FDB entries. Each hop here reads the same state over netlink
(never changing it) and says whether it is what the plan wants, with the command an
operator runs on that node to see it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.routednet.fabric.plugins.module_utils import backends
from ansible_collections.routednet.fabric.plugins.module_utils.host import netlink
from ansible_collections.routednet.fabric.plugins.module_utils.host import netlink_bulk as bulk
from ansible_collections.routednet.fabric.plugins.module_utils.converge.ip_forwarding import FORWARD_PATH, IPV6_FORWARD_PATH
from ansible_collections.routednet.fabric.plugins.module_utils.host.links import addresses as link_addresses, find_link, names_and_kinds
from ansible_collections.routednet.fabric.plugins.module_utils.host.tunnels import IMMUTABLE as TUNNEL_KINDS

# Neighbour states that mean the next hop did not answer ARP (include/uapi/linux/neighbour.h).
NUD_INCOMPLETE = 0x01
NUD_FAILED = 0x20


class Hops(object):
    """The hops of one node, in path order."""

    def __init__(self, node):
        self.node = node
        self.hops = []

    def add(self, hop, ok, seen, want, command):
        self.hops.append({"node": self.node, "hop": hop, "ok": bool(ok), "seen": seen, "want": want, "command": command})


def _addresses(ipr, index, family):
    """The link's addresses of ``family`` (4 or 6; not the IPv6 link-local ones)."""
    return [text for text in link_addresses(ipr, index) if (":" in text) == (family == 6)]


def _route_get(ipr, address):
    """(device index, gateway, preferred source) of the route the kernel picks, or None."""
    try:
        msg = ipr.route("get", dst=address, family=bulk.address_family(address))[0]
    except netlink.NetlinkError:
        return None
    return msg.get("oif"), msg.get("gateway"), msg.get("prefsrc")


def _is_up(msg):
    return bool(msg["flags"] & netlink.IFF_UP)


def _route_text(address, route, names):
    oif, gateway, _src = route
    return "%s%s dev %s" % (address, " via %s" % gateway if gateway else "", names.get(oif, oif))


def _pod_hops(hops, pod, to, gateway):
    """The pod's interface and address, and (when ``to`` is known) its route towards it."""
    name, ifname = pod["name"], pod["ifname"]
    in_pod = "ip netns exec %s " % name
    if name not in netlink.list_netns():
        hops.add("pod %s" % name, False, "no network namespace %s" % name, "the pod's namespace", "ip netns list")
        return False
    with netlink.open_rtnl(name) as ipr:
        link = find_link(ipr, ifname)
        addresses = _addresses(ipr, link["index"], ipaddress.ip_interface(pod["address"]).version) if link else []
        seen = "no %s" % ifname if link is None else "%s %s, %s" % (ifname, "up" if _is_up(link) else "DOWN", ", ".join(addresses) or "no address")
        ok = link is not None and _is_up(link) and pod["address"] in addresses
        hops.add("pod %s interface" % name, ok, seen, "%s up with %s" % (ifname, pod["address"]), in_pod + "ip -br addr")
        route = _route_get(ipr, to) if to else None
        names = {link["index"]: ifname} if link else {}
    if not to:
        return ok
    want = "%s via %s dev %s (the pod's default route)" % (to, gateway, ifname)
    if route is None:
        hops.add("pod %s route" % name, False, "no route to %s" % to, want, in_pod + "ip route get %s" % to)
        return False
    same_subnet = ipaddress.ip_address(to) in ipaddress.ip_interface(pod["address"]).network
    ok = route[1] == gateway or (same_subnet and route[1] is None and route[0] in names)
    hops.add("pod %s route" % name, ok, _route_text(to, route, names), want, in_pod + "ip route get %s" % to)
    return ok


def _bridge_hops(hops, ipr, pod, bridge, gateway_cidr):
    """The pod's veth on the bridge, and the bridge with the subnet's gateway address."""
    if pod:
        veth = find_link(ipr, pod["host_ifname"])
        master = ipr.link("get", index=veth.get("master"))[0] if veth is not None and veth.get("master") else None
        seen = "no %s" % pod["host_ifname"]
        if veth is not None:
            seen = "%s %s, master %s" % (pod["host_ifname"], "up" if _is_up(veth) else "DOWN", master.get("ifname") if master else "none")
        ok = veth is not None and _is_up(veth) and master is not None and master.get("ifname") == bridge
        want = "%s up, master %s" % (pod["host_ifname"], bridge)
        hops.add("veth of pod %s" % pod["name"], ok, seen, want, "ip -d link show %s" % pod["host_ifname"])
    link = find_link(ipr, bridge)
    addresses = _addresses(ipr, link["index"], ipaddress.ip_interface(gateway_cidr).version) if link else []
    seen = "no %s" % bridge if link is None else "%s %s, %s" % (bridge, "up" if _is_up(link) else "DOWN", ", ".join(addresses) or "no address")
    ok = link is not None and _is_up(link) and gateway_cidr in addresses
    hops.add("bridge %s" % bridge, ok, seen, "%s up with %s" % (bridge, gateway_cidr), "ip addr show %s" % bridge)


def _forwarding_hop(hops, family=4):
    """The node must forward between the bridge and the underlay (or tunnel), for the
    path's address ``family``."""
    path, key = (FORWARD_PATH, "net.ipv4.ip_forward") if family == 4 else (IPV6_FORWARD_PATH, "net.ipv6.conf.all.forwarding")
    try:
        with open(path) as handle:
            value = handle.read().strip()
    except (IOError, OSError) as exc:
        value = "unreadable (%s)" % exc
    hops.add("forwarding", value == "1", "%s = %s" % (key, value), "%s = 1" % key, "sysctl %s" % key)


def _tunnels(devices, family=4):
    """(backend, its device's name) of every tunnel backend ``devices`` names a device of
    and that carries pods of ``family``."""
    return [(backend, devices[name]) for name, backend in backends.TUNNELS.items() if devices.get(name) and family in backend.FAMILIES]


def peer_family(peer):
    """The address family of the path to ``peer`` (path_hops' peer option)."""
    return int(peer.get("family") or 4)


def outer_address(peer):
    """The peer's address the tunnel's packets go to: its IPv6 underlay address under a
    VTEP over the IPv6 underlay (``outer_ip``), else its (IPv4) underlay address."""
    return peer.get("outer_ip") or peer["underlay_ip"]


def _plan_info(peer):
    """The peer's part of the plan as the backends' route() reads it, for the path's family
    (``pod_cidr`` is then the peer's subnet of that family)."""
    if peer_family(peer) == 4:
        return {"pod_cidr": peer["pod_cidr"], "underlay_ip": peer["underlay_ip"], "name": peer["node"]}
    return {"pod_cidr_v6": peer["pod_cidr"], "underlay_ip_v6": peer.get("underlay_ip_v6"), "underlay_ip": peer["underlay_ip"], "name": peer["node"]}


def _route(backend, peer, device=None):
    family = peer_family(peer)
    return backend.route(_plan_info(peer), device, family=family) if family == 6 else backend.route(_plan_info(peer), device)


def _gateways(peer, devices):
    """The gateway of a route of ours to the peer's pods, per device: the underlay
    (host-gw, "direct"), or what each tunnel backend's route goes via."""
    found = {"direct": _route(backends.DIRECT, peer)["via"]}
    for backend, device in _tunnels(devices, peer_family(peer)):
        found[device] = _route(backend, peer, device)["via"]
    return found


def _wanted_route(peer, devices, present):
    """The route of ours the node should have to the peer's pods: host-gw's, or the tunnel's
    whose device this node has (hybrid: either, per pair)."""
    gateways = _gateways(peer, devices)
    forms = []
    for backend, device in _tunnels(devices, peer_family(peer)):
        if device in present:
            onlink = " onlink" if _route(backend, peer, device).get("onlink") else ""
            forms.append("%s via %s dev %s%s (%s)" % (peer["pod_cidr"], gateways[device], device, onlink, backend.TITLE))
    forms.append("%s via %s dev <underlay> (host-gw%s)" % (peer["pod_cidr"], gateways["direct"], ", hybrid's direct pairs" if forms else ""))
    return " or ".join(forms)


def _node_route_hop(hops, route, to, peer, devices, names, kinds):
    """The node's route to ``to`` (what ``ip route get`` read); whether it is ours to the peer."""
    command = "ip route get %s" % to
    if ipaddress.ip_address(to) not in ipaddress.ip_network(peer["pod_cidr"]):  # a node's own address: any route will do
        hops.add("route to %s" % peer["node"], route is not None, _route_text(to, route, names) if route else "no route", "a route to %s" % to, command)
        return False
    want = _wanted_route(peer, devices, set(names.values()))
    if route is None:
        hops.add("route to %s's pods" % peer["node"], False, "no route to %s" % to, want, command)
        return False
    oif, gateway, _src = route
    name = names.get(oif)
    tunnels = [device for _backend, device in _tunnels(devices, peer_family(peer))]
    form = name if name in tunnels else ("direct" if kinds.get(oif) not in TUNNEL_KINDS else None)
    ok = form is not None and gateway == _gateways(peer, devices)[form]
    hops.add("route to %s's pods" % peer["node"], ok, _route_text(to, route, names), want, command)
    return ok


def _entry_hops(hops, channel, backend, device, index, gateway, peer):
    """The tunnel device's permanent neighbour for the peer's tunnel address and its FDB
    entry, as the backend's ``entry`` says they look."""
    entry = backend.entry(peer["node"], dict(peer, underlay_ip=outer_address(peer)), gateway)
    mac, dst = entry["mac"], entry["dst"]
    neighbours = {ip: found for state, _flags, ip, found in channel.neighbours(index, family=bulk.address_family(gateway)) if state & bulk.NUD_PERMANENT}
    seen = "%s lladdr %s" % (gateway, neighbours[gateway]) if gateway in neighbours else "no permanent entry for %s" % gateway
    want = "%s lladdr %s PERMANENT" % (gateway, mac)
    hops.add("%s neighbour of %s" % (backend.TITLE, peer["node"]), neighbours.get(gateway) == mac, seen, want, "ip neigh show %s dev %s" % (gateway, device))
    fdb = {found: dst for _state, _flags, dst, found in channel.neighbours(index, family=bulk.AF_BRIDGE) if dst}
    seen = "%s dst %s" % (mac, fdb[mac]) if mac in fdb else "no entry for %s" % mac
    want = "%s dst %s self permanent" % (mac, dst)
    hops.add("%s FDB entry of %s" % (backend.TITLE, peer["node"]), fdb.get(mac) == dst, seen, want, "bridge fdb show dev %s" % device)


def _underlay_neighbour_hop(hops, channel, device, index, gateway):
    """host-gw's next hop must answer ARP (IPv6: neighbour discovery): a failed entry means
    it is not on this segment."""
    state = {ip: found for found, _flags, ip, _mac in channel.neighbours(index, family=bulk.address_family(gateway))}.get(gateway)
    failed = state is not None and state & (NUD_FAILED | NUD_INCOMPLETE)
    asked = "ARP" if bulk.address_family(gateway) == netlink.AF_INET else "neighbour solicitation"
    if state is None:
        seen = "no entry yet (resolved on first use)"
    elif failed:
        seen = "no %s answer (%s)" % (asked, "FAILED" if state & NUD_FAILED else "INCOMPLETE")
    else:
        seen = "answered"
    want = "%s answers %s on %s (host-gw needs one L2 segment)" % (gateway, asked, device)
    hops.add("underlay neighbour %s" % gateway, not failed, seen, want, "ip neigh show %s dev %s" % (gateway, device))


def _next_hop_hops(hops, ipr, route, peer, devices, names, kinds):
    """What the chosen route needs next: the underlay neighbour, or the tunnel's per-peer
    entries (a backend that keeps them), and for a tunnel an underlay route to the peer's
    outer address."""
    oif, gateway, _src = route
    tunnelled = kinds.get(oif) in TUNNEL_KINDS
    keeping_entries = [backend for backend, device in _tunnels(devices, peer_family(peer)) if device == names[oif] and backend.entry]
    with bulk.Channel(ipr) as channel:
        if keeping_entries:
            _entry_hops(hops, channel, keeping_entries[0], names[oif], oif, gateway, peer)
        elif not tunnelled:
            _underlay_neighbour_hop(hops, channel, names[oif], oif, gateway)
    if tunnelled:
        outer_ip = outer_address(peer)
        outer = _route_get(ipr, outer_ip)
        ok = outer is not None and kinds.get(outer[0]) not in TUNNEL_KINDS and names.get(outer[0]) is not None
        seen = _route_text(outer_ip, outer, names) if outer else "no route"
        hops.add("underlay route to %s" % peer["node"], ok, seen, "a route to %s outside the tunnels" % outer_ip, "ip route get %s" % outer_ip)


def _onward_hops(hops, ipr, route, to, peer, devices, names, kinds):
    """The node's route to ``to`` and, when it is ours, what it needs next."""
    if _node_route_hop(hops, route, to, peer, devices, names, kinds):
        _next_hop_hops(hops, ipr, route, peer, devices, names, kinds)


def check_source(node, pod, to, peer, bridge, gateway, devices):
    """The source node's hops, out towards ``to``; also the source address its kernel picks
    (what the destination must route back to)."""
    hops = Hops(node)
    source_address = pod["address"].split("/")[0] if pod else None
    if pod:
        _pod_hops(hops, pod, to, gateway.split("/")[0])
    with netlink.open_rtnl() as ipr:
        names, kinds = names_and_kinds(ipr)
        if pod:
            _bridge_hops(hops, ipr, pod, bridge, gateway)
        if peer is not None:
            if pod:
                _forwarding_hop(hops, peer_family(peer))
            route = _route_get(ipr, to)
            _onward_hops(hops, ipr, route, to, peer, devices, names, kinds)
            if source_address is None and route is not None:
                source_address = route[2]
    return hops.hops, source_address


def check_destination(node, pod, back_to, peer, bridge, gateway, devices):
    """The destination node's hops: in to the pod, then the way back to ``back_to``."""
    hops = Hops(node)
    with netlink.open_rtnl() as ipr:
        names, kinds = names_and_kinds(ipr)
        if peer is not None:
            _forwarding_hop(hops, peer_family(peer))
            address = pod["address"].split("/")[0]
            route = _route_get(ipr, address)
            ok = route is not None and names.get(route[0]) == bridge and route[1] is None
            seen = _route_text(address, route, names) if route else "no route"
            hops.add("route to pod %s" % pod["name"], ok, seen, "%s dev %s (the bridge's subnet)" % (address, bridge), "ip route get %s" % address)
        _bridge_hops(hops, ipr, pod, bridge, gateway)
        if _pod_hops(hops, pod, back_to, gateway.split("/")[0]) and back_to and peer is not None:
            _onward_hops(hops, ipr, _route_get(ipr, back_to), back_to, peer, devices, names, kinds)
    return hops.hops
