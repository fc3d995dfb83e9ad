# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller-side planning: reads the inventory, keeps the lease file, returns the map."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import os

import yaml
from ansible.plugins.action import ActionBase

from ansible_collections.routednet.fabric.plugins.module_utils.planning import PlanError, build_plan

LEASE_HEADER = (
    "# Node -> pod subnet leases kept by routednet.fabric (like flannel's etcd leases).\n"
    "# Commit this file: a node keeps its subnet as long as it stays in the inventory.\n"
    "# Edit by hand only to move a node; the play checks every lease before using it.\n"
)


def underlay_of(hostvars):
    """routednet_underlay_ip, else ansible_host when it is an address, else a gathered default."""
    explicit = hostvars.get("routednet_underlay_ip")
    if explicit:
        return str(explicit)
    for candidate in (hostvars.get("ansible_host"), (hostvars.get("ansible_default_ipv4") or {}).get("address")):
        try:
            return str(ipaddress.IPv4Address(str(candidate)))
        except ValueError:
            continue
    return None


def read_leases(path):
    if not path or not os.path.exists(path):
        return {}, None
    with open(path) as handle:
        text = handle.read()
    data = yaml.safe_load(text) or {}
    leases = data.get("routednet_leases") if isinstance(data, dict) else None
    if not isinstance(leases, dict):
        raise PlanError(["all: %s has no routednet_leases mapping; fix or delete the file" % path])
    return {str(k): str(v) for k, v in leases.items()}, text


def render_leases(leases):
    body = yaml.safe_dump({"routednet_leases": leases}, default_flow_style=False, sort_keys=True)
    return LEASE_HEADER + "---\n" + body


def take_out(plan, leases, names, group):
    """Decommission: the nodes ``names`` leave the plan and give up their leases; their
    own plan entries are returned, for cleaning them and for their peers to forget them."""
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in names if n not in plan["nodes"]]
    if unknown:
        raise PlanError(["%s: routednet_decommission names a host that is not in the group %r; name nodes of the inventory" % (n, group) for n in unknown])
    leaving = {}
    for name in names:
        leaving[name] = plan["nodes"].pop(name)
        leases.pop(name, None)
    return leaving


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("nodes_group", "cluster_cidr", "subnet_prefix", "lease_file", "write_leases", "leaving"))
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = self._task.args
        group = args.get("nodes_group", "routednet_nodes")
        hosts = task_vars["groups"].get(group) or []
        hostvars = task_vars["hostvars"]
        nodes = []
        for host in hosts:
            hv = hostvars[host]
            nodes.append(
                {
                    "name": str(host),
                    "underlay_ip": underlay_of(hv),
                    "pod_cidr": hv.get("routednet_pod_cidr") or None,
                    "pods": hv.get("routednet_pods") or [],
                    "connect_ip": hv.get("ansible_host"),
                }
            )
        lease_file = args.get("lease_file")
        try:
            if not hosts:
                raise PlanError(["all: inventory group %r has no hosts; put the nodes in it or set routednet_nodes_group" % group])
            leases, old_text = read_leases(lease_file)
            plan, new_leases = build_plan(nodes, args.get("cluster_cidr"), args.get("subnet_prefix", 24), leases)
            leaving = take_out(plan, new_leases, args.get("leaving") or [], group)
        except PlanError as exc:
            result.update(failed=True, errors=exc.errors, msg="routednet plan refused the inventory:\n" + "\n".join(exc.errors))
            return result
        except (OSError, yaml.YAMLError) as exc:
            result.update(failed=True, msg="routednet plan: cannot read lease file %s: %s" % (lease_file, exc))
            return result

        new_text = render_leases(new_leases)
        changed = bool(lease_file) and args.get("write_leases", True) and new_text != old_text
        if changed and not self._play_context.check_mode:
            directory = os.path.dirname(lease_file)
            if directory and not os.path.isdir(directory):
                os.makedirs(directory)
            with open(lease_file + ".tmp", "w") as handle:
                handle.write(new_text)
            os.rename(lease_file + ".tmp", lease_file)
        result.update(changed=changed, plan=plan, leases=new_leases, lease_file=lease_file, leaving=leaving)
        if self._play_context.diff and changed:
            result["diff"] = dict(before=old_text or "", after=new_text, before_header=lease_file, after_header=lease_file)
        return result
