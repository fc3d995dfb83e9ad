# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one order in which a node document (node_document.py) is applied, as steps.

Each step is a call of one of the collection's modules as data (state_steps.py);
``save: false`` marks a clean-up step, which has nothing to do at boot. The order is
what keeps pods talking while a node changes backend, and what lets a rename happen:

1. what the last run saved under another name goes (its bridge before the new one takes
   the gateway address; the pods' veths move to the new one);
2. forwarding, the bridge; pods that left the plan; each pod's namespace, veth pair and
   default route;
3. the tunnel device and the entries of its peers, before any route moves onto it;
4. the routes to every peer (replaced in place: a switch never drops one);
5. with a backend that mixes direct and tunnelled pairs, the entries no tunnelled peer
   needs any more, only now that no route uses them;
6. the collection's tunnel devices of other kinds (a switch: the routes left them in 4);
7. the firewall.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENT_FORMAT = 1
SECTIONS = ("node", "renamed", "forwarding", "bridge", "departed_pods", "pods", "tunnel", "entries", "routes", "other_tunnels", "firewall")


def problems(document):
    """Why ``document`` is not a node document node_state can apply (empty: it is)."""
    if not isinstance(document, dict) or document.get("format") != DOCUMENT_FORMAT:
        return ["it is not a node document of format %d (build it with the routednet.fabric.node_document filter)" % DOCUMENT_FORMAT]
    return ["it has no %s" % key for key in SECTIONS if key not in document]


def _cleanup(module, params):
    return {"module": module, "params": params, "save": False}


def _step(module, params):
    return {"module": module, "params": params, "save": True}


def steps(document):
    """The document's steps, in the order above."""
    bridge = document["bridge"]
    renamed = document["renamed"]
    out = []
    if renamed.get("bridge"):
        out.append(_cleanup("bridge", {"name": renamed["bridge"], "state": "absent"}))
    if renamed.get("persist_file"):
        out.append(_cleanup("ip_forwarding", {"persist_file": renamed["persist_file"], "state": "absent"}))
    if renamed.get("firewall_table"):
        out.append(_cleanup("firewall", {"table": renamed["firewall_table"], "state": "absent"}))
    out.append(_step("ip_forwarding", dict(document["forwarding"])))
    out.append(_step("bridge", dict(bridge)))
    out += [_cleanup("netns", {"name": name, "state": "absent"}) for name in sorted(document["departed_pods"])]
    gateway_ip = bridge["addresses"][0].split("/")[0]
    for pod in document["pods"]:
        out.append(_step("netns", {"name": pod["name"]}))
        out.append(
            _step(
                "veth",
                {
                    "name": pod["host_ifname"],
                    "master": bridge["name"],
                    "peer": pod["pod_ifname"],
                    "peer_netns": pod["name"],
                    "peer_addresses": [pod["address"]],
                    "mtu": bridge["mtu"],
                },
            )
        )
        out.append(_step("routes", {"netns": pod["name"], "routes": [{"dst": "default", "via": gateway_ip, "dev": pod["pod_ifname"]}]}))
    if document["tunnel"]:
        out.append(_step("tunnel", dict(document["tunnel"])))
    entries = document["entries"]
    pruned_entries = None
    if entries:
        params = {"device": entries["device"], "peers": entries["peers"]}
        if entries["prune_after_routes"]:
            out.append(_cleanup("vxlan_fdb", dict(params, prune=False)))
            pruned_entries = _step("vxlan_fdb", dict(params, prune=entries["prune"]))
        else:
            out.append(_step("vxlan_fdb", dict(params, prune=entries["prune"])))
    out.append(_step("routes", dict(document["routes"])))
    if pruned_entries:
        out.append(pruned_entries)
    out += [_cleanup("tunnel", {"kind": kind, "state": "absent"}) for kind in document["other_tunnels"]]
    out.append(_step("firewall", dict(document["firewall"])))
    return out
