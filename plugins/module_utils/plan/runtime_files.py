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
- flannel's ``subnet.env``: what flanneld writes for flannel's CNI plugin, so a cluster
  that uses that plugin can drop flanneld and etcd and keep its CNI configuration. The
  boot restore writes it again (``/run`` is empty after a reboot) before the runtimes start.

Every file carries ``MARK``: the collection owns a file only where it finds it
(converge/runtime_files.py), and never one without it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.routednet.fabric.plugins.module_utils.converge.runtime_files import MARK
from ansible_collections.routednet.fabric.plugins.module_utils.plan.settings import strict_bool


def conflist_path(settings):
    """Where the node's CNI network list goes; None when routednet_cni is off."""
    if not strict_bool(settings.get("routednet_cni", False)):
        return None
    return "%s/%s-%s.conflist" % (settings["routednet_cni_dir"].rstrip("/"), settings["routednet_cni_order"], settings["routednet_cni_network"])


def subnet_env_path(settings):
    """Where flannel's subnet.env goes; None when routednet_flannel_subnet_env is ''."""
    return settings.get("routednet_flannel_subnet_env") or None


def conflist_text(info, settings, mtu):
    """The node's CNI network list (``info``: the node's part of the plan)."""
    runtime = info["runtime_range"]
    gateway = info["gateway"].split("/")[0]
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
                    "ranges": [[{"subnet": info["pod_cidr"], "rangeStart": runtime["start"], "rangeEnd": runtime["end"], "gateway": gateway}]],
                    "routes": [{"dst": "0.0.0.0/0"}],
                },
            },
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ],
    }
    return json.dumps(network, indent=2, sort_keys=False) + "\n"


def subnet_env_text(plan, info, mtu):
    """flannel's subnet.env for the node: the cluster network, the node's gateway address
    with the subnet's prefix (as flanneld writes it), the pods' MTU.

    FLANNEL_IPMASQ is always true. To flannel's CNI plugin it says "the network daemon
    handles masquerading" and keeps the plugin from adding its own: the bridge plugin's
    masquerade rule covers everything outside the node's subnet, other nodes' pods too, so
    pods on two nodes would no longer see each other's addresses. Masquerading traffic
    that leaves the cluster stays routednet_masquerade's, in the collection's firewall."""
    return "".join(
        [
            "# %s: flannel's subnet.env for this node, written from the inventory's plan (no flanneld, no etcd)\n" % MARK,
            "FLANNEL_NETWORK=%s\n" % plan["cluster_cidr"],
            "FLANNEL_SUBNET=%s\n" % info["gateway"],
            "FLANNEL_MTU=%d\n" % int(mtu),
            "FLANNEL_IPMASQ=true\n",
        ]
    )


def wanted(plan, node, settings, mtu):
    """[{path, text}] of the files the node should hold: the conflist where the node has a
    runtime range and routednet_cni is on, subnet.env where it is set."""
    info = plan["nodes"][node]
    files = []
    path = conflist_path(settings)
    if path and info.get("runtime_range"):
        files.append({"path": path, "text": conflist_text(info, settings, mtu)})
    path = subnet_env_path(settings)
    if path:
        files.append({"path": path, "text": subnet_env_text(plan, info, mtu)})
    return files


def planned_paths(settings):
    """Every path this node's settings give a runtime file (to check on the host before any change)."""
    return [path for path in (conflist_path(settings), subnet_env_path(settings)) if path]


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
    name = conflist.rpartition("/")[2] if conflist else None
    after = [other for other in facts.get("cni_configs") or [] if name and other > name]
    if after:
        lines.append(
            "%s: %s would sort before %s, another network's configuration in %s, and containerd and CRI-O put new containers "
            "on the first one by name: set routednet_cni_order so it sorts after (such as 99), remove theirs, or set routednet_cni: false"
            % (node, name, ", ".join(after), values.get("routednet_cni_dir"))
        )
    return lines
