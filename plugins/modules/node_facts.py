#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: node_facts
short_description: Read-only preflight of a node before the routed network is applied
version_added: 0.1.0
description:
  - Finds the underlay interface that holds the node's underlay address and reports its
    name, prefix and MTU, the host's IPv4 addresses, IP forwarding, the pyroute2 version,
    and whether the running kernel can make each kind of tunnel device (VXLAN, IPIP).
  - With O(peers), also returns the routes of the main table that decide how this host
    reaches each peer's underlay address (the longest match for at least one of them), so
    that the controller can tell which pairs of nodes share an L2 segment.
  - Fails, naming the address, when no interface of the host holds the underlay address.
  - With O(lock_run_id), it also takes the host's lock for that run, as
    M(routednet.fabric.host_lock) does with O(routednet.fabric.host_lock#module:wait=false)
    - one attempt, no waiting; RV(lock) says whether it was taken. The playbooks that change
    hosts read each host under the lock they converge it with, in one call.
  - Never changes the host's configuration. On a host whose Python has no usable pyroute2 it runs on the
    collection's private copy, sent by its action plugin into the task's temporary
    directory (O(pyroute2_install)); node_state installs the copy, once every check passed.
options:
  underlay_ip:
    description: The node's underlay address (C(routednet_underlay_ip)).
    type: str
    required: true
  ipv6:
    description:
      - The cluster has IPv6 pods (a dual-stack C(routednet_cluster_cidr)) - find the node's
        IPv6 underlay address too, returned as RV(underlay_v6).
    type: bool
    default: false
    version_added: 0.5.0
  underlay_ip_v6:
    description:
      - The node's IPv6 underlay address when the inventory sets one (C(routednet_underlay_ip_v6));
        with O(ipv6) and without it, the address is found on the IPv4 underlay interface.
      - It must be configured on the host, and not a temporary or deprecated address.
    type: str
    version_added: 0.5.0
  peers:
    description:
      - Underlay addresses of the other nodes. The collection's own routes (protocol 201)
        are left out of the lookup, as they carry pod subnets, never underlay addresses.
    type: list
    elements: str
    default: []
  state_file:
    description:
      - The state the last run saved for the boot-time restore (see M(routednet.fabric.boot_restore));
        the pods it names are returned as RV(saved_pods), the names of its bridge, sysctl.d
        file and nftables table as RV(saved).
    type: path
    default: /etc/routednet/boot-state.json
  links:
    description:
      - The links the plan gives this node, name to kind (V(bridge), V(vxlan), V(ipip),
        V(veth)); those that exist are returned in RV(links_found) with their owner.
    type: dict
    default: {}
  pods:
    description: The pod namespaces the plan gives this node; those that exist are returned in RV(netns_found).
    type: list
    elements: str
    default: []
  firewall_table:
    description: The collection's nftables table (family inet); its owner is returned as RV(firewall_table_owner).
    type: str
  persist_file:
    description: The collection's sysctl.d file; its owner is returned as RV(persist_file_owner).
    type: path
  runtime_files:
    description:
      - The paths the plan gives this node's runtime files (a CNI network list, flannel's
        C(subnet.env)); those that exist are returned in RV(runtime_files_found) with their owner.
    type: list
    elements: path
    default: []
  cni_dir:
    description: The runtimes' CNI directory; the network configurations in it that are not the collection's are returned in RV(cni_configs).
    type: path
  netavark_dir:
    description:
      - podman's network directory; the networks in it that are not the collection's and
        manage O(bridge) are returned in RV(netavark_bridge_networks).
    type: path
  bridge:
    description: The collection's bridge (for O(netavark_dir)).
    type: str
  lock_run_id:
    description: Take the host's lock for this run (see M(routednet.fabric.host_lock)); without it no lock is touched.
    type: str
  lock_label:
    description: What the run is, for the message another run prints while it waits.
    type: str
    default: ""
  lock_path:
    description: The lock file.
    type: path
    default: /run/routednet/lock
  controller_run:
    description: Who the run is on the controller, recorded with the lock. Filled in by the action plugin; leave it out.
    type: str
    default: ""
extends_documentation_fragment:
  - routednet.fabric.pyroute2
  - routednet.fabric.netlink
  - routednet.fabric.netlink.netns
author:
  - routednet maintainers (@routednet)
"""

EXAMPLES = r"""
- name: Find the underlay interface
  routednet.fabric.node_facts:
    underlay_ip: 192.168.245.168
  register: node

- name: Also find the routes that decide how this node reaches its peers
  routednet.fabric.node_facts:
    underlay_ip: 192.168.1.11
    peers: [192.168.1.12, 192.168.2.13]
  register: node
"""

RETURN = r"""
saved_pods:
  description:
    - Pod namespaces the last run saved (none without a state file); those no longer in the
      inventory are the collection's to delete.
  returned: always
  type: list
  elements: str
  sample: [docker1]
underlay_dev:
  description: Interface that holds the underlay address.
  returned: always
  type: str
  sample: eth0
underlay_cidr:
  description: The underlay address with its prefix length.
  returned: always
  type: str
  sample: 192.168.245.168/24
underlay_mtu:
  description: MTU of the underlay interface.
  returned: always
  type: int
  sample: 1500
underlay_v6:
  description:
    - With O(ipv6), the node's IPv6 underlay address (V(address), V(cidr), V(dev)) and
      where it came from (V(source) - V(routednet_underlay_ip_v6), or V(found) on the IPv4
      underlay interface), or null when that interface has none that can stay. Never a
      link-local, temporary, deprecated or tentative address; a static one before one made
      from router advertisements.
  returned: with O(ipv6)
  type: dict
  sample: {address: "fd00:192:168:245::168", cidr: "fd00:192:168:245::168/64", dev: eth0, source: found}
  version_added: 0.5.0
underlay_v6_passed_over:
  description: With O(ipv6), the IPv6 addresses of the underlay interface that cannot be the underlay address, each with why.
  returned: with O(ipv6)
  type: list
  elements: str
  sample: ["fe80::1/64 link-local", "2001:db8::8a3f:1/64 temporary"]
  version_added: 0.5.0
addresses_v6:
  description:
    - With O(ipv6), every IPv6 address of the host (V(dev), V(address) as a CIDR, V(owned) - on
      one of the collection's links), so the plan never routes one into the IPv6 pod network.
  returned: with O(ipv6)
  type: list
  elements: dict
  version_added: 0.5.0
addresses:
  description:
    - Every IPv4 address of the host, with its interface; V(owned) marks the collection's
      own links (bridge, tunnel devices), whose addresses come from the plan.
  returned: always
  type: list
  elements: dict
  sample: [{"dev": "eth0", "address": "192.168.245.168/24", "owned": false}]
connection:
  description:
    - The addresses of the SSH session this module runs in, from C(SSH_CONNECTION) -
      V(server) (the address Ansible reaches the host on) and V(client) (the
      controller's address). V(null) when unknown (no SSH, or sshd behind a ProxyCommand).
  returned: always
  type: dict
  sample: {"server": "192.168.245.168", "client": "192.168.245.1"}
ip_forward:
  description: Whether IPv4 forwarding is on now.
  returned: always
  type: bool
pyroute2_version:
  description: Version of the pyroute2 the modules use on the host.
  returned: always
  type: str
pyroute2:
  description:
    - The pyroute2 the modules use on this host, and where it comes from.
    - A failure for want of a usable one returns it too (the action plugin then sends the private copy).
    - C(due) lists what node_state will change about it (install or remove the private copy).
  returned: always
  type: dict
  sample: {"source": "system", "version": "0.7.2", "usable": true, "problem": null, "python": "/usr/bin/python3", "due": []}
kernel_release:
  description: Release of the running kernel.
  returned: always
  type: str
  sample: 6.1.0-56-amd64
kernel_features:
  description:
    - Per tunnel kind, whether the running kernel offers it, read from C(/sys/module) and
      the module index of the running release (nothing is loaded to find out).
    - V(present) (loaded, or built in), V(builtin), V(module) (loadable; the kernel loads it
      when the first such device is made) or V(missing).
  returned: always
  type: dict
  sample: {"vxlan": "present", "ipip": "missing"}
links_found:
  description: Of the links in O(links), those that exist, with their kind and whether they carry the collection's alias.
  returned: always
  type: dict
  sample: {"cni0": {"kind": "bridge", "owned": true}}
netns_found:
  description:
    - Of the namespaces in O(pods) and RV(saved_pods), those that exist, with their owner -
      V(ours) (marked), V(legacy) (made by a version before the mark) or V(theirs).
  returned: always
  type: dict
  sample: {"docker1": "ours", "opns": "theirs"}
firewall_table_owner:
  description: V(null) when O(firewall_table) does not exist, else V(ours), V(legacy), V(theirs), or V(unknown) without libnftables.
  returned: always
  type: str
persist_file_owner:
  description: V(null) when O(persist_file) does not exist, else V(ours) or V(theirs).
  returned: always
  type: str
runtime_files_found:
  description: Of the paths in O(runtime_files), those that exist, with their owner - V(ours) (they carry the collection's mark) or V(theirs).
  returned: always
  type: dict
  sample: {"/run/flannel/subnet.env": "theirs"}
cni_configs:
  description:
    - The network configurations (C(*.conf), C(*.conflist), C(*.json)) in O(cni_dir) that
      are not the collection's, by file name. A runtime that takes the first one by name
      would change networks if the collection's sorted before them.
  returned: always
  type: list
  elements: str
  sample: [10-flannel.conflist]
netavark_version:
  description: The version the host's netavark prints (V(null) when none is installed where podman looks).
  returned: always
  type: str
  sample: 1.14.0
netavark_bridge_networks:
  description:
    - The netavark networks in O(netavark_dir), not the collection's, that manage O(bridge)
      (not C(mode=unmanaged)), whose netavark deletes the bridge when their last container leaves.
  returned: always
  type: list
  elements: str
  sample: [podman1]
vxlan_devices:
  description: Every VXLAN device of the host, with its UDP port and VNI and whether it is the collection's.
  returned: always
  type: list
  elements: dict
  sample: [{"name": "opvx", "port": 8472, "vni": 5, "owned": false}]
identity:
  description:
    - What tells this machine apart - its boot id and the inode of the network namespace the
      module runs in. Two inventory names with one identity reach the same machine.
  returned: always
  type: str
  sample: 6a1e...:4026531840
lock:
  description:
    - With O(lock_run_id), whether this run holds the host's lock now (V(acquired)) and,
      when another run holds it, who (V(held_by)); V(taken_over) names a dead run whose
      lock this one took.
  returned: when O(lock_run_id) is given
  type: dict
  sample: {"acquired": false, "held_by": "run 5f2a from 192.168.245.1, Provision the VXLAN network, holding it for 3 s"}
saved:
  description:
    - The names the saved state gives the bridge, the sysctl.d file and the nftables table
      (null without one), and the paths of its runtime files (none without one).
  returned: always
  type: dict
  sample: {"bridge": "cni0", "persist_file": "/etc/sysctl.d/90-routednet.conf", "firewall_table": "routednet", "runtime_files": ["/run/flannel/subnet.env"]}
underlay_routes:
  description:
    - The main table's routes that are the longest match for at least one address in
      O(peers), in C(ip route) terms. A route with no C(via) on
      RV(underlay_dev) means the peer is on-link (same L2 segment).
    - V(type) is V(unicast), or V(unreachable), V(blackhole) or V(prohibit) for routes
      that drop the traffic.
  returned: always
  type: list
  elements: dict
  sample: [{"dst": "192.168.1.0/24", "via": null, "dev": "eth0", "metric": 0, "type": "unicast"},
           {"dst": "192.168.2.0/24", "via": "192.168.1.1", "dev": "eth0", "metric": 0, "type": "unicast"}]
"""

import ipaddress
import json
import os
import re
import sys

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.routednet.fabric.plugins.module_utils.host import host_lock, kernel, netlink, nft, underlay_v6
from ansible_collections.routednet.fabric.plugins.module_utils.plan.adjacency import deciding_routes
from ansible_collections.routednet.fabric.plugins.module_utils.converge import ip_forwarding, netns as converge_netns, runtime_files
from ansible_collections.routednet.fabric.plugins.module_utils.host.links import is_owned, link_kind
from ansible_collections.routednet.fabric.plugins.module_utils.state.saved_state import saved_names, saved_pods
from ansible_collections.routednet.fabric.plugins.module_utils.outcome import Failure

FORWARD_PATH = "/proc/sys/net/ipv4/ip_forward"
# Where podman looks for netavark (containers.conf's helper_binaries_dir, by default).
NETAVARK_PATHS = ("/usr/local/libexec/podman/netavark", "/usr/local/lib/podman/netavark", "/usr/libexec/podman/netavark", "/usr/lib/podman/netavark")
ROUTE_TYPES = {1: "unicast", 6: "blackhole", 7: "unreachable", 8: "prohibit"}


def main_table_routes(ipr, names):
    """The main table's IPv4 routes that steer traffic, minus the collection's own."""
    routes = []
    for msg in ipr.route("dump", family=netlink.AF_INET, table=netlink.RT_TABLE_MAIN):
        if msg.get("table") != netlink.RT_TABLE_MAIN or msg["type"] not in ROUTE_TYPES or msg["proto"] == netlink.ROUTEDNET_RT_PROTO:
            continue
        via = msg.get("gateway")
        if not via and msg.get("multipath"):
            via = "multipath"
        routes.append(
            {
                "dst": "%s/%d" % (msg.get("dst") or "0.0.0.0", msg["dst_len"]),
                "via": via,
                "dev": names.get(msg.get("oif")),
                "metric": msg.get("priority") or 0,
                "type": ROUTE_TYPES[msg["type"]],
            }
        )
    return routes


def ssh_connection():
    """The SSH session's addresses as this host sees them (None when not over SSH, or
    when sshd cannot tell, as with a ProxyCommand)."""
    fields = os.environ.get("SSH_CONNECTION", "").split()
    found = {"client": None, "server": None}
    if len(fields) == 4:
        for role, text in (("client", fields[0]), ("server", fields[2])):
            try:
                found[role] = str(ipaddress.ip_address(text))
            except ValueError:
                pass
    return found


def vxlan_device(msg):
    data = msg.get_nested("IFLA_LINKINFO", "IFLA_INFO_DATA")
    get = data.get if data is not None else (lambda _attr: None)
    return {"name": msg.get("ifname"), "port": get("IFLA_VXLAN_PORT"), "vni": get("IFLA_VXLAN_ID"), "owned": is_owned(msg)}


def table_owner(table):
    if not table:
        return None
    try:
        with nft.Nft() as session:
            current = session.table(table)
    except nft.NftError:
        return "unknown"  # no libnftables: the firewall step says so itself
    return None if current is None else nft.owner(current)


def file_owner(path):
    text = ip_forwarding.read(path) if path else None
    if text is None:
        return None
    return "ours" if ip_forwarding.is_ours(text) else "theirs"


def cni_configs(directory):
    """The network configurations in the runtimes' CNI directory that are not the collection's."""
    try:
        names = sorted(os.listdir(directory)) if directory else []
    except OSError:
        return []
    return [name for name in names if name.endswith((".conf", ".conflist", ".json")) and runtime_files.owner(os.path.join(directory, name)) == "theirs"]


def netavark_version(module):
    """What the first netavark podman would use prints as its version; None when there is none."""
    binary = next((path for path in NETAVARK_PATHS if os.access(path, os.X_OK)), None)
    if binary is None:
        return None
    rc, out, _err = module.run_command([binary, "--version"])
    found = re.search(r"(\d+\.\d+(\.\d+)?)", out) if rc == 0 else None
    return found.group(1) if found else None


def netavark_bridge_networks(directory, bridge):
    """The netavark networks in ``directory``, not the collection's, that manage ``bridge``."""
    try:
        names = sorted(os.listdir(directory)) if directory and bridge else []
    except OSError:
        return []
    managing = []
    for name in names:
        path = os.path.join(directory, name)
        if not name.endswith(".json") or runtime_files.owner(path) != "theirs":
            continue
        try:
            with open(path) as handle:
                network = json.load(handle)
        except (OSError, ValueError):
            continue
        if isinstance(network, dict) and network.get("network_interface") == bridge and (network.get("options") or {}).get("mode") != "unmanaged":
            managing.append(str(network.get("name") or name))
    return managing


def ipv6_addresses(ipr, links):
    """Every IPv6 address of the host: interface, address/length, flags, scope and the
    seconds it stays preferred (None: forever)."""
    found = []
    for msg in ipr.addr("dump", family=netlink.AF_INET6):
        dev = links.get(msg["index"])
        cache = msg.get("IFA_CACHEINFO") or {}
        preferred = cache.get("ifa_preferred") if cache else None
        found.append(
            {
                "dev": dev.get("ifname") if dev else None,
                "address": "%s/%d" % (msg.get("address"), msg["prefixlen"]),
                # (IFA_FLAGS holds all 32 bits; the header's byte only the first 8)
                "flags": msg.get("IFA_FLAGS") or msg["flags"],
                "scope": msg["scope"],
                "preferred": None if preferred in (None, 0xFFFFFFFF) else preferred,
            }
        )
    return found


def ipv6_underlay(module, addresses, dev):
    """underlay_v6 and underlay_v6_passed_over, or the module's failure for a pinned
    routednet_underlay_ip_v6 that is not on the host or cannot stay."""
    address = module.params["underlay_ip_v6"]
    if address:
        try:
            entry, why = underlay_v6.pinned(addresses, address)
        except ValueError:
            module.fail_json(msg="routednet_underlay_ip_v6 %r is not an IPv6 address" % address)
        if entry is None:
            module.fail_json(
                msg="routednet_underlay_ip_v6 %s is not configured on any interface of this host (it has: %s); set routednet_underlay_ip_v6 to one of them"
                % (address, ", ".join("%s on %s" % (a["address"], a["dev"]) for a in addresses if not underlay_v6.unfit(a)) or "no IPv6 address that can stay")
            )
        if why:
            module.fail_json(
                msg="routednet_underlay_ip_v6 %s on %s is %s: peers would route this node's IPv6 pods via an address that goes away; "
                "give %s a static IPv6 address and set routednet_underlay_ip_v6 to it" % (address, entry["dev"], why, entry["dev"])
            )
        chosen, passed, source = entry, [], "routednet_underlay_ip_v6"
    else:
        chosen, passed = underlay_v6.choose(addresses, dev)
        source = "found"
    found = None
    if chosen is not None:
        found = {"address": chosen["address"].split("/")[0], "cidr": chosen["address"], "dev": chosen["dev"], "source": source}
    return {"underlay_v6": found, "underlay_v6_passed_over": passed}


def identity():
    """boot id and network namespace inode: equal only on one machine, in one namespace."""
    with open("/proc/sys/kernel/random/boot_id") as handle:
        boot = handle.read().strip()
    return "%s:%d" % (boot, os.stat("/proc/self/ns/net").st_ino)


def take_lock(params, check_mode):
    """One try at the host's lock (lock_run_id), first: the rest is then read under it."""
    try:
        result = host_lock.attempt(params["lock_path"], params["lock_run_id"], params["lock_label"], params["controller_run"], check_mode=check_mode)
    except (IOError, OSError) as exc:
        raise Failure("host_lock: %s: %s" % (params["lock_path"], exc)) from exc
    result.pop("now")
    return result


def run(module):
    """The module's work; Failure from the shared host code becomes its failure (main)."""
    lock = take_lock(module.params, module.check_mode) if module.params["lock_run_id"] else None
    due = netlink.prepare_pyroute2(module, install=False)  # node_state installs it, once nothing was refused
    netlink.require_pyroute2()
    try:
        underlay = ipaddress.IPv4Address(module.params["underlay_ip"])
    except ValueError:
        module.fail_json(msg="routednet_underlay_ip %r is not an IPv4 address" % module.params["underlay_ip"])
    for peer in module.params["peers"]:
        try:
            ipaddress.IPv4Address(peer)
        except ValueError:
            module.fail_json(msg="peers: %r is not an IPv4 address (a peer's routednet_underlay_ip)" % peer)
    with netlink.open_rtnl(module.params["netns"]) as ipr:
        links = {m["index"]: m for m in ipr.link("dump")}
        addresses_v6 = ipv6_addresses(ipr, links) if module.params["ipv6"] else []
        addresses = []
        for msg in ipr.addr("dump", family=netlink.AF_INET):
            dev = links.get(msg["index"])
            addresses.append(
                {
                    "dev": dev.get("ifname") if dev else None,
                    "address": "%s/%d" % (msg.get("address"), msg["prefixlen"]),
                    "index": msg["index"],
                    "owned": bool(dev) and is_owned(dev),
                }
            )
        routes = main_table_routes(ipr, {index: m.get("ifname") for index, m in links.items()})
    by_name = dict((m.get("ifname"), m) for m in links.values())
    links_found = dict((name, {"kind": link_kind(by_name[name]), "owned": is_owned(by_name[name])}) for name in module.params["links"] if name in by_name)
    vxlan_devices = [vxlan_device(m) for m in links.values() if link_kind(m) == "vxlan"]
    pods = saved_pods(module.params["state_file"])
    present = netlink.list_netns()
    netns_found = dict((name, converge_netns.owner(name)[0]) for name in sorted(set(module.params["pods"]) | set(pods)) if name in present)
    holder = next((a for a in addresses if a["address"].split("/")[0] == str(underlay)), None)
    if holder is None:
        module.fail_json(
            msg="routednet_underlay_ip %s is not configured on any interface of this host (it has: %s); set routednet_underlay_ip to one of them"
            % (underlay, ", ".join("%s on %s" % (a["address"], a["dev"]) for a in addresses) or "none")
        )
    with open(FORWARD_PATH) as handle:
        forward = handle.read().strip() == "1"
    extra = {} if lock is None else {"lock": lock}
    if module.params["ipv6"]:
        extra.update(ipv6_underlay(module, addresses_v6, holder["dev"]))
        extra["addresses_v6"] = [
            {"dev": a["dev"], "address": a["address"], "owned": bool(by_name.get(a["dev"])) and is_owned(by_name[a["dev"]])} for a in addresses_v6
        ]
    module.exit_json(
        changed=False,
        pyroute2=dict(netlink.LOADED, python=sys.executable, due=due),
        underlay_dev=holder["dev"],
        underlay_cidr=holder["address"],
        underlay_mtu=links[holder["index"]].get("mtu"),
        addresses=[{"dev": a["dev"], "address": a["address"], "owned": a["owned"]} for a in addresses],
        connection=ssh_connection(),
        ip_forward=forward,
        pyroute2_version=netlink.PYROUTE2_VERSION,
        kernel_release=os.uname()[2],
        kernel_features=kernel.features(),
        underlay_routes=deciding_routes(routes, module.params["peers"]),
        saved_pods=pods,
        saved=saved_names(module.params["state_file"]),
        links_found=links_found,
        netns_found=netns_found,
        firewall_table_owner=table_owner(module.params["firewall_table"]),
        persist_file_owner=file_owner(module.params["persist_file"]),
        runtime_files_found=dict((path, owner) for path, owner in ((path, runtime_files.owner(path)) for path in module.params["runtime_files"]) if owner),
        cni_configs=cni_configs(module.params["cni_dir"]),
        netavark_version=netavark_version(module),
        netavark_bridge_networks=netavark_bridge_networks(module.params["netavark_dir"], module.params["bridge"]),
        vxlan_devices=vxlan_devices,
        identity=identity(),
        **extra,
    )


def main():
    module = AnsibleModule(
        argument_spec=dict(
            underlay_ip=dict(type="str", required=True),
            ipv6=dict(type="bool", default=False),
            underlay_ip_v6=dict(type="str"),
            peers=dict(type="list", elements="str", default=[]),
            state_file=dict(type="path", default="/etc/routednet/boot-state.json"),
            links=dict(type="dict", default={}),
            pods=dict(type="list", elements="str", default=[]),
            firewall_table=dict(type="str"),
            persist_file=dict(type="path"),
            runtime_files=dict(type="list", elements="path", default=[]),
            cni_dir=dict(type="path"),
            netavark_dir=dict(type="path"),
            bridge=dict(type="str"),
            netns=dict(type="str"),
            lock_run_id=dict(type="str"),
            lock_label=dict(type="str", default=""),
            lock_path=dict(type="path", default="/run/routednet/lock"),
            controller_run=dict(type="str", default=""),
            **netlink.PYROUTE2_OPTIONS,
        ),
        supports_check_mode=True,
    )
    try:
        run(module)
    except Failure as failure:
        module.fail_json(**failure.result())


if __name__ == "__main__":
    main()
