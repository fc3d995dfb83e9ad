# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading the state file the boot-time restore applies (kept small: node_facts reads it too).

The roles save the node document node_state applied (format 2) with the steps it made of
it for boot, each validated against its module's spec with the defaults filled in: what
the restore runs, with no Ansible on the node to fill them in. The boot_restore module
given explicit steps saves only those (format 1), as earlier versions saved every node's
state. Either way the restore runs ``steps``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import json

STEPS_FORMAT = 1
DOCUMENT_FORMAT = 2


def state_of(node, steps, document=None):
    """The state file's content: the validated ``steps`` to run at boot, and the node
    ``document`` they were made of (None: explicit steps)."""
    if document is not None:
        return {"format": DOCUMENT_FORMAT, "node": node, "document": document, "steps": steps}
    return {"format": STEPS_FORMAT, "node": node, "steps": steps}


def load_state(path):
    """The state file's content; ValueError names what is wrong with it."""
    try:
        with open(path) as handle:
            state = json.load(handle)
    except (IOError, OSError) as exc:
        raise ValueError("cannot read %s: %s" % (path, exc)) from None
    except ValueError as exc:
        raise ValueError("%s is not JSON: %s" % (path, exc)) from None
    fmt = state.get("format") if isinstance(state, dict) else None
    if fmt in (STEPS_FORMAT, DOCUMENT_FORMAT) and isinstance(state.get("steps"), list) and (fmt == STEPS_FORMAT or isinstance(state.get("document"), dict)):
        return state
    raise ValueError("%s is not a routednet.fabric state file (format %d or %d)" % (path, STEPS_FORMAT, DOCUMENT_FORMAT))


def network_text(dst):
    """A route destination in one spelling (``10.1.0.0/24``), whatever way it was written."""
    try:
        return str(ipaddress.ip_network(str(dst), strict=False))
    except ValueError:
        return str(dst)


def _steps_or_none(path):
    try:
        return load_state(path)["steps"]
    except ValueError:
        return []


def saved_pods(path):
    """The pod namespaces in the saved state; none when there is no readable one."""
    steps = _steps_or_none(path)
    return sorted(step["params"]["name"] for step in steps if step.get("module") == "netns" and step["params"].get("state", "present") == "present")


def saved_names(path):
    """The names the saved state gives the bridge, the sysctl.d file and the firewall's
    table (None for each without a readable state), and the paths of its runtime files
    (none without one): what a rename must clean up."""
    steps = _steps_or_none(path)

    def first(module, key):
        return next((step["params"].get(key) for step in steps if step.get("module") == module and step["params"].get("state", "present") == "present"), None)

    runtime_files = sorted(entry["path"] for step in steps if step.get("module") == "runtime_files" for entry in step["params"].get("files") or [])
    return {
        "bridge": first("bridge", "name"),
        "persist_file": first("ip_forwarding", "persist_file"),
        "firewall_table": first("firewall", "table"),
        "runtime_files": runtime_files,
    }


def with_saved_underlays(departure, path):
    """``departure`` (a forget document) with its firewall's ``drop_nodes`` completed from
    the state file at ``path``: the underlay address each tunnel entry of a leaving node
    holds (the entries are known by the leaving node's VTEP MAC). The controller knows the
    leaving nodes' IPv4 underlay addresses, not the IPv6 ones node_facts found on them
    (a VTEP over the IPv6 underlay, whose peers' firewall lets them in); this node saved
    them. Unchanged without a readable state file."""
    macs = set(peer["mac"] for entries in departure["entries"] for peer in entries["peers"] if peer.get("mac"))
    found = set()
    for step in _steps_or_none(path):
        for peer in step["params"].get("peers") or [] if step.get("module") == "vxlan_fdb" else []:
            if peer.get("mac") in macs and peer.get("dst"):
                found.add(str(peer["dst"]))
    drop = departure["firewall"]["drop_nodes"]
    more = sorted(found - set(drop), key=ipaddress.ip_address)
    return dict(departure, firewall=dict(departure["firewall"], drop_nodes=list(drop) + more)) if more else departure


def forget(state, departure):
    """``state`` without what it saved for the nodes of ``departure`` (a forget document:
    their pod subnets' routes, their tunnel entries, their underlay addresses): (the new
    state, what was dropped)."""
    dsts = set(network_text(route["dst"]) for route in departure["routes"])
    entry_ips = set(peer["ip"] for entries in departure["entries"] for peer in entries["peers"])
    underlay_ips = set(departure["firewall"]["drop_nodes"])
    # (the parameter that holds them, whether an item is a leaving node's, how it is named)
    kinds = (
        ("routes", lambda route: network_text(route["dst"]) in dsts, lambda route: "route %s" % route["dst"]),
        ("peers", lambda peer: peer.get("ip") in entry_ips, lambda peer: "tunnel entry %s" % peer["ip"]),
        ("nodes", lambda ip: ip in underlay_ips, lambda ip: "firewall node %s" % ip),
        ("nodes_v6", lambda ip: ip in underlay_ips, lambda ip: "firewall node %s" % ip),
    )
    gone_of = dict((key, gone) for key, gone, _name in kinds)

    def kept(items, key):
        return [item for item in items if not gone_of[key](item)]

    steps, dropped = json.loads(json.dumps(state["steps"])), []
    for params in (step["params"] for step in steps):
        # by parameter, whichever module (and name of it) saved the step
        for key, gone, name in kinds:
            if isinstance(params.get(key), list):
                dropped += [name(item) for item in params[key] if gone(item)]
                params[key] = kept(params[key], key)
    if state.get("format") != DOCUMENT_FORMAT:
        return state_of(state.get("node"), steps), dropped
    # the document the steps were made of loses the same
    document = json.loads(json.dumps(state["document"]))
    document["routes"]["routes"] = kept(document["routes"]["routes"], "routes")
    if document.get("entries"):
        document["entries"]["peers"] = kept(document["entries"]["peers"], "peers")
    document["firewall"]["nodes"] = kept(document["firewall"]["nodes"], "nodes")
    if document["firewall"].get("nodes_v6"):
        document["firewall"]["nodes_v6"] = kept(document["firewall"]["nodes_v6"], "nodes_v6")
    return state_of(state.get("node"), steps, document), dropped
