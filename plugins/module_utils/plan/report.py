# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The verify matrix: pods by pods, each cell the TTL seen and the path, or FAIL.

Printed on the console and written as Markdown. Up to WIDE_AFTER pods the columns are
named by pod and a cell reads ``62 direct``; beyond that the columns are numbered (rows
carry the same number) and a cell reads ``62d`` (legend under the grid), so that 20 or
more pods still fit a screen. The misses are listed under the grid.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

WIDE_AFTER = 8


def _natural(text):
    """node2 before node10."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def _families(results_by_node):
    """The address families the results hold (IPv4 alone, before dual-stack)."""
    return sorted(set(result.get("family", 4) for results in results_by_node.values() for result in results or [])) or [4]


def _grid(results_by_node, family=4):
    """(pods in order, {(src, dst): (ttl, path kind) or None for a miss}, [(src, dst, address)] of misses),
    for the pings of one address ``family``."""
    pods, cells, misses = set(), {}, []
    for node in sorted(results_by_node):
        for result in results_by_node[node] or []:
            if result.get("family", 4) != family:
                continue
            src = "%s/%s" % (node, result["source"])
            dst = "%s/%s" % (result.get("node", "?"), result.get("pod", result["address"]))
            pods.update((src, dst))
            if result["ok"]:
                cells[(src, dst)] = (result["ttl"], (result.get("path") or {}).get("kind"))
            else:
                cells[(src, dst)] = None
                misses.append((src, dst, result["address"]))
    return sorted(pods, key=_natural), cells, misses


def _cell(pods, cells, src, dst):
    if (src, dst) not in cells:
        return "-"
    if cells[(src, dst)] is None:
        return "FAIL"
    ttl, kind = cells[(src, dst)]
    if not kind:
        return str(ttl)
    return "%s%s" % (ttl, kind[0]) if len(pods) > WIDE_AFTER else "%s %s" % (ttl, kind)


def _legend(pods, cells):
    kinds = sorted(set(kind for value in cells.values() if value for _ttl, kind in [value] if kind))
    if len(pods) <= WIDE_AFTER or not kinds:
        return []
    return ["cells: TTL of the reply, then the path: " + ", ".join("%s %s" % (kind[0], kind) for kind in kinds)]


def _headers(pods):
    """Column headers: the pods' names, or their numbers when there are many."""
    if len(pods) > WIDE_AFTER:
        return [str(number) for number in range(1, len(pods) + 1)]
    return list(pods)


def _row_label(pods, index):
    return "%d %s" % (index + 1, pods[index]) if len(pods) > WIDE_AFTER else pods[index]


def verify_matrix(results_by_node):
    """Render ``{node: [reachability result, ...]}`` as a text grid, one per address family
    (a dual-stack cluster: the IPv4 grid, then the IPv6 one, each under its title; an
    IPv6-only one: its grid under its title, so that nobody reads it as IPv4's).

    Rows are source pods, columns destination pods; a cell is the reply TTL and the
    path the source node's kernel picked (``62 direct``, or 62 and the tunnel device's kind), ``FAIL`` when
    no reply came back, ``-`` for pairs on the same node.
    """
    families = _families(results_by_node)
    if families == [4]:
        return _matrix(results_by_node, 4)
    return [line for family in families for line in ["IPv%d:" % family] + _matrix(results_by_node, family)]


def _matrix(results_by_node, family):
    pods, cells, misses = _grid(results_by_node, family)
    headers = _headers(pods)
    labels = [_row_label(pods, i) for i in range(len(pods))]
    texts = {(src, dst): _cell(pods, cells, src, dst) for src in pods for dst in pods}
    cell_width = max([len(h) for h in headers] + [len(c) for c in texts.values()] + [1])
    label_width = max([len(label) for label in labels] + [len("from \\ to")])
    if len(pods) <= WIDE_AFTER:
        cell_width = label_width = max(cell_width, label_width, 8)
    gap = " " if len(pods) > WIDE_AFTER else "  "
    lines = [("%-*s  %s" % (label_width, "from \\ to", gap.join("%-*s" % (cell_width, h) for h in headers))).rstrip()]
    for index, src in enumerate(pods):
        line = ["%-*s" % (cell_width, texts[(src, dst)]) for dst in pods]
        lines.append(("%-*s  %s" % (label_width, labels[index], gap.join(line))).rstrip())
    lines += _legend(pods, cells)
    lines += ["FAIL: %s -> %s (%s)" % miss for miss in misses]
    return lines


def verify_markdown(results_by_node, title="Pod-to-pod reachability"):
    """The same matrix as a Markdown document: a summary, the table, the misses (one
    section per address family unless IPv4 alone)."""
    families = _families(results_by_node)
    if families == [4]:
        return "\n".join(["# %s" % title, ""] + _markdown(results_by_node, 4)) + "\n"
    lines = ["# %s" % title]
    for family in families:
        lines += ["", "## IPv%d" % family, ""] + _markdown(results_by_node, family, "###")
    return "\n".join(lines) + "\n"


def _markdown(results_by_node, family, heading="##"):
    pods, cells, misses = _grid(results_by_node, family)
    pairs = len(cells)
    headers = _headers(pods)
    lines = [
        "%d pods, %d pairs across nodes, %d answered, %d missed. A cell is the TTL of the reply and the path "
        "the source node took (`direct` on the underlay, or the tunnel); `-` is a pair on one node." % (len(pods), pairs, pairs - len(misses), len(misses)),
        "",
        "| from \\ to | %s |" % " | ".join(headers),
        "|---|%s" % ("---|" * len(headers)),
    ]
    for index, src in enumerate(pods):
        row = [_cell(pods, cells, src, dst) for dst in pods]
        lines.append("| %s | %s |" % (_row_label(pods, index), " | ".join("**FAIL**" if text == "FAIL" else text for text in row)))
    legend = _legend(pods, cells)
    if legend:
        lines += [""] + legend
    if misses:
        lines += ["", "%s Missed" % heading, ""] + ["- %s -> %s (%s)" % miss for miss in misses]
    return lines


def container_targets(found_by_node, node):
    """The runtime containers of every other node as reachability targets (``found_by_node``:
    node -> bridge_containers' result), each labelled by its namespace as a source would be."""
    targets = []
    for other in sorted(found_by_node):
        if other == node:
            continue
        for container in (found_by_node[other] or {}).get("containers") or []:
            if container.get("netns") and container.get("addresses"):
                targets.append({"node": other, "pod": container["netns"], "address": container["addresses"][0].split("/")[0]})
    return targets


def container_sources(found):
    """This node's runtime containers (bridge_containers' result) that can be pinged from."""
    return [container["netns"] for container in (found or {}).get("containers") or [] if container.get("netns") and container.get("addresses")]
