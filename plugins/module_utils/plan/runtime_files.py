# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The files container runtimes read, computed from the plan on the controller.

Each node gets, from the same plan as its bridge and routes:

- a CNI network list (``<routednet_cni_dir>/<order>-<network>.conflist``): the ``bridge``
  plugin on the collection's bridge with ``host-local`` addresses from the node's runtime
  range (after the collection's own pods, planning.runtime_range), the pods' MTU and
  ``portmap``. containerd's CRI, CRI-O (and so kubelet), podman's CNI backend and nerdctl
  read it. Masquerading stays the collection's firewall's (``routednet_masquerade``): the
  plugin's own ``ipMasq`` would add iptables chains beside it.
- a netavark network (``<routednet_netavark_dir>/<network>.json``): podman's own backend
  on the collection's bridge, addresses from the same runtime range. netavark before 1.14
  deletes a bridge when its last container leaves and adds firewall rules of its own;
  from 1.14 its ``mode=unmanaged`` only adds and removes veths. So the network is written
  only where node_facts found netavark 1.14 or newer (``routednet_netavark: auto``), or
  required (``true``: a host with an older one is refused).
- flannel's ``subnet.env``: what flanneld writes for flannel's CNI plugin, so a cluster
  that uses that plugin can drop flanneld and etcd and keep its CNI configuration. The
  boot restore writes it again (``/run`` is empty after a reboot) before the runtimes start.

Every file carries ``MARK``: the collection owns a file only where it finds it
(converge/runtime_files.py), and never one without it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import re

from ansible_collections.routednet.fabric.plugins.module_utils.converge.runtime_files import MARK
from ansible_collections.routednet.fabric.plugins.module_utils.plan.settings import strict_bool


# The netavark that has the bridge mode "unmanaged": it leaves the bridge, its addresses and
# the firewall alone and only adds and removes the containers' veths.
NETAVARK_UNMANAGED = (1, 14)
NETAVARK_TOO_OLD = "netavark before 1.14 has no mode=unmanaged: it deletes the bridge, the node's gateway, when its last container leaves"


def conflist_path(settings):
    """Where the node's CNI network list goes; None when routednet_cni is off."""
    if not strict_bool(settings.get("routednet_cni", False)):
        return None
    return "%s/%s-%s.conflist" % (settings["routednet_cni_dir"].rstrip("/"), settings["routednet_cni_order"], settings["routednet_cni_network"])


def subnet_env_path(settings):
    """Where flannel's subnet.env goes; None when routednet_flannel_subnet_env is ''."""
    return settings.get("routednet_flannel_subnet_env") or None


def netavark_mode(settings):
    """routednet_netavark as "auto", "on" or "off" (settings.py refuses anything else; unset: off, as routednet_cni)."""
    value = settings.get("routednet_netavark", False)
    if isinstance(value, str) and value.strip().lower() == "auto":
        return "auto"
    return "on" if strict_bool(value) else "off"


def netavark_path(settings):
    """Where the node's netavark network goes; None when routednet_netavark is false."""
    if netavark_mode(settings) == "off":
        return None
    return "%s/%s.json" % (settings["routednet_netavark_dir"].rstrip("/"), settings["routednet_cni_network"])


def netavark_version(facts):
    """(major, minor) of the netavark node_facts found, or None (none found, or unreadable)."""
    found = re.match(r"^(\d+)\.(\d+)", str((facts or {}).get("netavark_version") or ""))
    return (int(found.group(1)), int(found.group(2))) if found else None


def netavark_wanted(settings, facts):
    """Whether the node gets a netavark network: routednet_netavark true, or auto and the
    host's netavark has mode=unmanaged."""
    mode = netavark_mode(settings)
    return mode == "on" or (mode == "auto" and _has_unmanaged_mode(facts))


def _has_unmanaged_mode(facts):
    version = netavark_version(facts)
    return version is not None and version >= NETAVARK_UNMANAGED


def netavark_text(info, settings, mtu):
    """The node's netavark network: podman reads it as the network routednet_cni_network.
    The mark is one of its labels (podman shows them; netavark ignores them)."""
    name = settings["routednet_cni_network"]
    subnets = [
        {"subnet": subnet, "gateway": gateway.split("/")[0], "lease_range": {"start_ip": runtime["start"], "end_ip": runtime["end"]}}
        for subnet, gateway, runtime in _families(info)
    ]
    network = {
        "name": name,
        # (podman wants 64 hex digits; derived from the name, so a rewrite keeps the same)
        "id": hashlib.sha256(("routednet.fabric/" + name).encode()).hexdigest(),
        "driver": "bridge",
        "network_interface": settings["routednet_bridge_name"],
        "created": "2000-01-01T00:00:00Z",
        "subnets": subnets,
        "ipv6_enabled": any(family == 6 for family in _families(info, versions=True)),
        "internal": False,
        "dns_enabled": False,
        "labels": {"routednet.fabric": MARK + ": this node's share of the routed pod network; the next run rewrites it"},
        # (unmanaged: netavark leaves the bridge, its address and the firewall to the collection)
        "options": {"mode": "unmanaged", "mtu": str(int(mtu))},
        "ipam_options": {"driver": "host-local"},
    }
    return json.dumps(network, indent=2, sort_keys=False) + "\n"


def _families(info, versions=False):
    """(subnet, gateway, runtime range) of the node's IPv4 part of the plan, then of its
    IPv6 part, each where the node has a runtime range of that family; with
    ``versions`` only the families (4, 6) of those."""
    found = [
        (family, info[key], info[gateway], info[runtime])
        for family, key, gateway, runtime in ((4, "pod_cidr", "gateway", "runtime_range"), (6, "pod_cidr_v6", "gateway_v6", "runtime_range_v6"))
        if info.get(key) and info.get(runtime)
    ]
    return [entry[0] for entry in found] if versions else [entry[1:] for entry in found]


def conflist_text(info, settings, mtu):
    """The node's CNI network list (``info``: the node's part of the plan): one host-local
    range set per address family, and a default route of each."""
    families = _families(info)
    ranges = [
        [{"subnet": subnet, "rangeStart": runtime["start"], "rangeEnd": runtime["end"], "gateway": gateway.split("/")[0]}]
        for subnet, gateway, runtime in families
    ]
    network = {
        "cniVersion": settings["routednet_cni_version"],
        "name": settings["routednet_cni_network"],
        # (ignored by libcni and the plugins: the mark that this file is the collection's)
        "routednet.fabric": MARK + ": this node's share of the routed pod network; the next run rewrites it",
        "plugins": [
            {
                "type": "bridge",
                "bridge": settings["routednet_bridge_name"],
                "isGateway": True,
                "ipMasq": False,
                "hairpinMode": True,
                "mtu": int(mtu),
                "ipam": {
                    "type": "host-local",
                    "ranges": ranges,
                    "routes": [{"dst": "0.0.0.0/0" if family == 4 else "::/0"} for family in _families(info, versions=True)],
                },
            },
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ],
    }
    return json.dumps(network, indent=2, sort_keys=False) + "\n"


def subnet_env_text(plan, info, mtu):
    """flannel's subnet.env for the node: the cluster network, the node's gateway address
    with the subnet's prefix (as flanneld writes it), with IPv6 pods the same for IPv6
    (FLANNEL_IPV6_NETWORK, FLANNEL_IPV6_SUBNET, which flannel's CNI plugin reads for the
    pods' IPv6 range; an IPv6-only node has only those, as flanneld without EnableIPv4
    writes), the pods' MTU.

    FLANNEL_IPMASQ is always true. To flannel's CNI plugin it says "the network daemon
    handles masquerading" and keeps the plugin from adding its own: the bridge plugin's
    masquerade rule covers everything outside the node's subnet, other nodes' pods too, so
    pods on two nodes would no longer see each other's addresses. Masquerading traffic
    that leaves the cluster stays routednet_masquerade's, in the collection's firewall."""
    return "".join(
        [
            "# %s: flannel's subnet.env for this node, written from the inventory's plan (no flanneld, no etcd)\n" % MARK,
        ]
        + (["FLANNEL_NETWORK=%s\n" % plan["cluster_cidr"], "FLANNEL_SUBNET=%s\n" % info["gateway"]] if info.get("pod_cidr") else [])
        + (["FLANNEL_IPV6_NETWORK=%s\n" % plan["cluster_cidr_v6"], "FLANNEL_IPV6_SUBNET=%s\n" % info["gateway_v6"]] if info.get("pod_cidr_v6") else [])
        + [
            "FLANNEL_MTU=%d\n" % int(mtu),
            "FLANNEL_IPMASQ=true\n",
        ]
    )


def wanted(plan, node, settings, mtu, facts=None):
    """[{path, text}] of the files the node should hold: the conflist where the node has a
    runtime range and routednet_cni is on, the netavark network where the node has a
    runtime range and netavark_wanted (``facts``: node_facts' result), subnet.env where it
    is set."""
    info = plan["nodes"][node]
    files = []
    path = conflist_path(settings)
    ranges = bool(_families(info))
    if path and ranges:
        files.append({"path": path, "text": conflist_text(info, settings, mtu)})
    if ranges and netavark_wanted(settings, facts):
        files.append({"path": netavark_path(settings), "text": netavark_text(info, settings, mtu)})
    path = subnet_env_path(settings)
    if path:
        files.append({"path": path, "text": subnet_env_text(plan, info, mtu)})
    return files


def planned_paths(settings):
    """Every path this node's settings give a runtime file (to check on the host before any change)."""
    return [path for path in (conflist_path(settings), netavark_path(settings), subnet_env_path(settings)) if path]


def conflicts(node, values, facts):
    """One line per runtime file the node cannot take (node_facts' ``facts``): a file at
    one of its paths that the collection did not write, or another network's
    configuration that the collection's network list would sort before (containerd and
    CRI-O put new containers on the first one by name)."""
    lines = []
    found = facts.get("runtime_files_found") or {}
    conflist, env = conflist_path(values), subnet_env_path(values)
    if conflist and found.get(conflist) == "theirs":
        lines.append(
            "%s: %s exists on this host and was not written by routednet.fabric; the collection never adopts a file: "
            "set routednet_cni_network or routednet_cni_order to give its network list a name of its own, or routednet_cni: false" % (node, conflist)
        )
    if env and found.get(env) == "theirs":
        lines.append(
            "%s: routednet_flannel_subnet_env=%s exists on this host and was not written by routednet.fabric (flanneld's?); "
            "stop flanneld and remove the file first (docs/runbooks/replace-flanneld.md), or set routednet_flannel_subnet_env: ''" % (node, env)
        )
    lines += _netavark_conflicts(node, values, facts)
    name = conflist.rpartition("/")[2] if conflist else None
    after = [other for other in facts.get("cni_configs") or [] if name and other > name]
    if after:
        lines.append(
            "%s: %s would sort before %s, another network's configuration in %s, and containerd and CRI-O put new containers "
            "on the first one by name: set routednet_cni_order so it sorts after (such as 99), remove theirs, or set routednet_cni: false"
            % (node, name, ", ".join(after), values.get("routednet_cni_dir"))
        )
    return lines


def _netavark_conflicts(node, values, facts):
    """The netavark network the node cannot take: a file of that name not the collection's,
    routednet_netavark: true on a host without netavark 1.14; and, whatever the setting,
    another netavark network that manages the collection's bridge (its netavark would
    delete the bridge when its last container leaves)."""
    path = netavark_path(values)
    lines = []
    if path and netavark_wanted(values, facts) and (facts.get("runtime_files_found") or {}).get(path) == "theirs":
        lines.append(
            "%s: %s exists on this host and was not written by routednet.fabric (podman's network %s?); the collection never adopts a file: "
            "remove that network (podman network rm), set routednet_cni_network to another name, or routednet_netavark: false"
            % (node, path, values.get("routednet_cni_network"))
        )
    if netavark_mode(values) == "on" and not _has_unmanaged_mode(facts):
        found = facts.get("netavark_version")
        lines.append(
            "%s: routednet_netavark=true but this host has %s; %s: install netavark 1.14 or newer, "
            "or set routednet_netavark: auto (or false) and run podman with its CNI backend (--network-backend cni)"
            % (node, "netavark %s" % found if found else "no netavark", NETAVARK_TOO_OLD)
        )
    managing = facts.get("netavark_bridge_networks") or []
    if managing:
        lines.append(
            "%s: podman's network %s (in %s) manages the bridge %s, and netavark deletes a bridge it manages when its last container "
            "leaves: remove that network (podman network rm), or give the collection's bridge another name (routednet_bridge_name)"
            % (node, ", ".join(managing), values.get("routednet_netavark_dir"), values.get("routednet_bridge_name"))
        )
    return lines
