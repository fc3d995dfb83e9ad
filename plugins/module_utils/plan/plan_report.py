# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan preview: the node-to-subnet table and what each node would hold, as the
seeds print it (``ip route``, ``ip neigh``, ``bridge fdb``), on the console and in Markdown.

Computed from the plan alone, without contacting any host: what depends on a host's own
state (its underlay device when not set in the inventory, its underlay MTU, which pairs
share an L2 segment for hybrid) is named, not guessed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.routednet.fabric.plugins.module_utils import backends
from ansible_collections.routednet.fabric.plugins.module_utils.host import neighbours, routes
from ansible_collections.routednet.fabric.plugins.module_utils.plan import node_document, runtime_files


def _mtu(backend, encap, settings):
    overhead = backends.overhead(backend, encap, settings)
    if not overhead:
        return "underlay MTU"
    over = " (the tunnel over the IPv6 underlay)" if backends.underlay_family(backend, encap, settings) == 6 else ""
    return "underlay MTU - %d%s" % (overhead, over)


def node_state_lines(plan, node, backend, devices, underlay_devs, encap=None, settings=None):
    """What ``node`` would hold: routes, then neighbour and FDB entries, in iproute2's layout."""
    # a node's underlay device is found on the host at run time unless the inventory names it
    dev = underlay_devs.get(node) or "<underlay>"
    kind = backends.encapsulation(backend, encap)
    if backends.get(backend).MIXED:
        return [
            "(%s: one route per peer subnet, direct or through %s, decided at run time from both nodes' own routes;"
            " see it with: ansible-playbook playbooks/%s.yml --check --diff)" % (backend, devices[kind.NAME], backend)
        ]
    device = devices.get(kind.NAME) if kind.TUNNEL_KIND else None
    # (a peer's IPv6 underlay address, unless the inventory pins it, is found on the host)
    underlay_v6 = dict((peer, "<%s's IPv6 underlay address>" % peer) for peer in plan["nodes"])
    wanted = node_document.peer_routes(plan, node, backend, encap, device, dev, underlay_v6=underlay_v6)
    lines = [routes.describe(dict(r if r["via"] in underlay_v6.values() else routes.normalize_route(r), proto=201)) for r in wanted]
    family = backends.underlay_family(backend, encap, settings or {})
    peers = node_document.peer_entries(plan, node, backend, encap, underlay_v6=underlay_v6, underlay_family=family)
    if peers:
        text = neighbours.entries_text({p["ip"]: p["mac"] for p in peers}, {(p["mac"], p["dst"]) for p in peers}, device)
        lines += text.splitlines()
    return lines


def _runtime_range(info):
    found = info.get("runtime_range")
    return "%s-%s" % (found["start"], found["end"]) if found else "- (subnet too small)"


def runtime_summary(settings):
    """The line naming the files container runtimes get (``settings``: a node's checked settings)."""
    files = []
    conflist, env = runtime_files.conflist_path(settings), runtime_files.subnet_env_path(settings)
    if conflist:
        files.append("CNI network %s in %s (host-local over each node's runtime range)" % (settings["routednet_cni_network"], conflist))
    netavark = runtime_files.netavark_path(settings)
    if netavark:
        where = "on each node whose netavark is 1.14 or newer" if runtime_files.netavark_mode(settings) == "auto" else "required on each node"
        files.append("podman's netavark network %s in %s (%s)" % (settings["routednet_cni_network"], netavark, where))
    if env:
        files.append("flannel's subnet.env at %s" % env)
    return "container runtimes: %s" % ("; ".join(files) if files else "no files (routednet_cni, routednet_netavark and routednet_flannel_subnet_env are off)")


def _ipv4_table(plan):
    """(header, rows) of each node's IPv4 part of the plan (the runtime's range beside the
    collection's own pods: one address space, never shared)."""
    header = ("node", "underlay address", "pod subnet", "gateway", "pods", "container runtime range")
    rows = []
    for node, info in sorted(plan["nodes"].items()):
        pods = ", ".join("%s %s" % (pod["name"], pod["address"]) for pod in info["pods"]) or "-"
        rows.append((node, info["underlay_ip"], info["pod_cidr"], info["gateway"], pods, _runtime_range(info)))
    return header, rows


def _ipv6_table(plan):
    """(header, rows) of each node's IPv6 part of the plan."""
    header = ("node", "IPv6 underlay address", "IPv6 pod subnet", "IPv6 gateway", "pods", "container runtime range")
    rows = []
    for node, info in sorted(plan["nodes"].items()):
        pods = ", ".join("%s %s" % (pod["name"], pod["address_v6"]) for pod in info["pods"]) or "-"
        found = info.get("runtime_range_v6")
        runtime = "%s-%s" % (found["start"], found["end"]) if found else "- (subnet too small)"
        rows.append((node, info.get("underlay_ip_v6") or "found on the host", info["pod_cidr_v6"], info["gateway_v6"], pods, runtime))
    return header, rows


def plan_report(plan, backend, devices, underlay_devs, encap=None, title="Routed network plan", settings=None):
    """{'lines': console lines, 'markdown': the same as a Markdown document}. ``settings``:
    one node's checked settings, to name the files container runtimes get."""
    pairs = backends.get(backend).PAIRS
    pair_kind = pairs % backends.encapsulation(backend, encap).NAME if "%s" in pairs else pairs
    summary = []
    tables = []
    if plan.get("cluster_cidr"):
        summary.append("backend: %s; cluster CIDR %s, a /%s per node" % (backend, plan["cluster_cidr"], plan["subnet_prefix"]))
        tables.append(_ipv4_table(plan))
    else:
        summary.append("backend: %s; IPv6 only: cluster CIDR %s, a /%s per node" % (backend, plan["cluster_cidr_v6"], plan["subnet_prefix_v6"]))
    summary += [
        "every pair of nodes: %s" % pair_kind,
        "MTU of bridge, pods and tunnel device: %s" % _mtu(backend, encap, settings or {}),
    ]
    if settings is not None:
        summary.append(runtime_summary(settings))
    if plan.get("cluster_cidr_v6"):
        if plan.get("cluster_cidr"):
            summary.append(
                "IPv6 beside IPv4: cluster CIDR %s, a /%s per node, each pod's address at its IPv4 address's offset, the same MTU"
                % (plan["cluster_cidr_v6"], plan["subnet_prefix_v6"])
            )
        tables.append(_ipv6_table(plan))
    lines = list(summary)
    markdown = ["# %s" % title, ""] + ["- %s" % line for line in summary]
    for table_header, table_rows in tables:
        widths = [max(len(str(row[i])) for row in table_rows + [table_header]) for i in range(len(table_header))]
        lines += [""] + ["  ".join("%-*s" % (widths[i], cell) for i, cell in enumerate(row)).rstrip() for row in [table_header] + table_rows]
        markdown += ["", "| %s |" % " | ".join(table_header), "|%s" % ("---|" * len(table_header))]
        markdown += ["| %s |" % " | ".join(row) for row in table_rows]
    for node in sorted(plan["nodes"]):
        state = node_state_lines(plan, node, backend, devices, underlay_devs, encap, settings)
        lines += ["", "%s would hold:" % node] + ["  %s" % line for line in state]
        markdown += ["", "## %s" % node, "", "```"] + state + ["```"]
    return {"lines": lines, "markdown": "\n".join(markdown) + "\n"}
