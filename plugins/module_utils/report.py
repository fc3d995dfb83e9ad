# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The verify matrix: pods by pods, each cell the TTL seen and the path, or FAIL."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def verify_matrix(results_by_node):
    """Render ``{node: [reachability result, ...]}`` as a text grid.

    Rows are source pods, columns destination pods; a cell is the reply TTL and the
    path the source node's kernel picked (``62 direct``, ``62 vxlan``), ``FAIL`` when
    no reply came back, ``-`` for pairs on the same node.
    """
    rows = []
    columns = []
    cells = {}
    for node in sorted(results_by_node):
        for result in results_by_node[node] or []:
            src = "%s/%s" % (node, result["source"])
            dst = "%s/%s" % (result.get("node", "?"), result.get("pod", result["address"]))
            if src not in rows:
                rows.append(src)
            if dst not in columns:
                columns.append(dst)
            kind = (result.get("path") or {}).get("kind")
            cells[(src, dst)] = ("%s %s" % (result["ttl"], kind) if kind else str(result["ttl"])) if result["ok"] else "FAIL"
    columns = sorted(set(columns) | set(rows))
    rows = sorted(rows)
    width = max([len(c) for c in columns + rows] + [len(c) for c in cells.values()] + [8])
    lines = [("%-*s  %s" % (width, "from \\ to", "  ".join("%-*s" % (width, c) for c in columns))).rstrip()]
    for src in rows:
        line = ["%-*s" % (width, cells.get((src, dst), "-")) for dst in columns]
        lines.append(("%-*s  %s" % (width, src, "  ".join(line))).rstrip())
    return lines
