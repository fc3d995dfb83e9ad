# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one order in which a node document (node_document.py) is applied, as steps.

A document is of one of three kinds: ``converge`` (the node's whole desired state, what
every backend play applies and the boot restore saves), ``forget`` (decommission, on every
remaining node: the leaving nodes' routes, tunnel entries and firewall addresses go) and
``remove`` (decommission, on a leaving node: everything the collection made goes).

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
7. the firewall;
8. the files container runtimes read (a CNI network list, flannel's subnet.env), last:
   a runtime that reads them finds the bridge, routes and firewall already in place.

A removal goes the other way: the runtime files first (no new container is put on the
network being taken down), pods, routes, tunnel devices, the bridge, the sysctl.d file,
the firewall's table (the boot restore's files go after it, node_state).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENT_FORMAT = 1
SECTIONS = {
    "converge": (
        "node",
        "renamed",
        "forwarding",
        "bridge",
        "departed_pods",
        "pods",
        "tunnel",
        "entries",
        "routes",
        "other_tunnels",
        "firewall",
        "runtime_files",
    ),
    "forget": ("node", "routes", "entries", "firewall"),
    "remove": ("node", "runtime_files", "pods", "bridge", "persist_file", "firewall_table", "tunnel_kinds"),
}


def kind(document):
    """converge, forget or remove (a document without a kind converges)."""
    return document.get("kind", "converge")


def problems(document):
    """Why ``document`` is not a node document node_state can apply (empty: it is)."""
    if not isinstance(document, dict) or document.get("format") != DOCUMENT_FORMAT:
        return ["it is not a node document of format %d (build it with the routednet.fabric.node_document filter)" % DOCUMENT_FORMAT]
    if kind(document) not in SECTIONS:
        return ["its kind %r is none of %s" % (kind(document), ", ".join(sorted(SECTIONS)))]
    return ["it has no %s" % key for key in SECTIONS[kind(document)] if key not in document]


def _cleanup(module, params):
    return {"module": module, "params": params, "save": False}


def _step(module, params):
    return {"module": module, "params": params, "save": True}


def steps(document):
    """The document's steps, in the order above."""
    return {"converge": _converge, "forget": _forget, "remove": _remove}[kind(document)](document)


def without_cleanup(document):
    """``document`` as the boot restore keeps it: without what this run cleans up (what
    was saved under another name, pods that left, other backends' devices), which changes
    from one run to the next and has nothing to do at boot."""
    if kind(document) != "converge":
        return document
    files = document.get("runtime_files")
    files = dict(files, absent=[]) if files else files
    return dict(document, renamed=dict((key, None) for key in document["renamed"]), departed_pods=[], other_tunnels=[], runtime_files=files)


def _forget(document):
    out = [_cleanup("routes", {"routes": document["routes"], "state": "absent"})]
    out += [_cleanup("vxlan_fdb", {"device": entries["device"], "peers": entries["peers"], "state": "absent"}) for entries in document["entries"]]
    out.append(_cleanup("firewall", dict(document["firewall"])))
    return out


def _remove(document):
    out = [_cleanup("runtime_files", {"absent": document["runtime_files"]})] if document["runtime_files"] else []
    out += [_cleanup("netns", {"name": name, "state": "absent"}) for name in document["pods"]]
    # (every route of the collection: protocol 201 only)
    out.append(_cleanup("routes", {"state": "absent"}))
    out += [_cleanup("tunnel", {"kind": name, "state": "absent"}) for name in document["tunnel_kinds"]]
    out.append(_cleanup("bridge", {"name": document["bridge"], "state": "absent"}))
    if document["persist_file"]:
        out.append(_cleanup("ip_forwarding", {"persist_file": document["persist_file"], "state": "absent"}))
    out.append(_cleanup("firewall", {"table": document["firewall_table"], "state": "absent"}))
    return out


def _converge(document):
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
    # (the bridge's gateways and each pod's addresses: IPv4, then IPv6, those the document has)
    gateways = [address.split("/")[0] for address in bridge["addresses"]]
    for pod in document["pods"]:
        addresses = [pod[key] for key in ("address", "address_v6") if pod.get(key)]
        out.append(_step("netns", {"name": pod["name"]}))
        out.append(
            _step(
                "veth",
                {
                    "name": pod["host_ifname"],
                    "master": bridge["name"],
                    "peer": pod["pod_ifname"],
                    "peer_netns": pod["name"],
                    "peer_addresses": addresses,
                    "mtu": bridge["mtu"],
                },
            )
        )
        defaults = [{"dst": "default", "via": gateway, "dev": pod["pod_ifname"]} for gateway in gateways[: len(addresses)]]
        out.append(_step("routes", {"netns": pod["name"], "routes": defaults}))
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
    files = document["runtime_files"]
    if files["absent"]:
        out.append(_cleanup("runtime_files", {"absent": files["absent"]}))
    if files["files"]:
        # (saved: at boot it writes subnet.env into the empty /run again)
        out.append(_step("runtime_files", {"files": files["files"]}))
    return out
