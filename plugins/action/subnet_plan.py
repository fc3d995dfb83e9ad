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

from ansible_collections.routednet.fabric.plugins.module_utils.plan import settings
from ansible_collections.routednet.fabric.plugins.module_utils.plan.planning import RESERVED_POD_ADDRESSES, PlanError, build_plan, leases_v6

# The collection's roles: their defaults are the values of settings the inventory leaves unset.
ROLES_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "roles")
CHECKED = (
    settings.CLUSTER_WIDE
    + settings.BOOLEANS
    + settings.DEVICE_NAMES
    + settings.RUNTIME_SETTINGS
    + ("routednet_mtu", "routednet_pods", "routednet_firewall_table", "routednet_sysctl_file", "routednet_pyroute2_install")
)

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


def role_defaults():
    """Every literal default of the collection's roles (those that are templates, such as
    the lease file's, are left out: hostvars hold them already)."""
    merged = {}
    for role in sorted(os.listdir(ROLES_DIR)):
        path = os.path.join(ROLES_DIR, role, "defaults", "main.yml")
        if os.path.exists(path):
            with open(path) as handle:
                data = yaml.safe_load(handle) or {}
            merged.update((k, v) for k, v in data.items() if not (isinstance(v, str) and "{{" in v))
    return merged


def effective_settings(hostvars, play_vars, defaults):
    """Each setting settings.py checks as the node will see it, by Ansible's precedence:
    extra vars (already in hostvars), then the play's vars (hostvars lack them), then
    the inventory's (host, then group), then the role default."""
    values = {}
    for var in CHECKED:
        if var in play_vars:
            values[var] = play_vars[var]
        elif var in hostvars:
            values[var] = hostvars[var]
        elif var in defaults:
            values[var] = defaults[var]
    return values


def is_ours(text):
    return text.startswith(LEASE_HEADER.splitlines()[0])


def read_leases(path, legacy=None):
    """(leases, the text they were read from, the file read, the IPv6 leases). A lease
    file that an older version kept in group_vars/all/ (``legacy``) is read while the new
    one does not exist."""
    source = path if path and os.path.exists(path) else legacy if legacy and os.path.isfile(legacy) else None
    if source is None:
        return {}, None, None, {}
    with open(source) as handle:
        text = handle.read()
    if source == legacy and not is_ours(text):
        return {}, None, None, {}  # an operator's file by that name: never ours to read or move
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise PlanError(
            ["all: the lease file %s is not YAML (%s); restore it from version control, or delete it to lease anew" % (source, str(exc).splitlines()[0])]
        ) from None
    leases = data.get("routednet_leases") if isinstance(data, dict) else None
    if not isinstance(leases, dict):
        raise PlanError(["all: the lease file %s has no routednet_leases mapping; restore it from version control, or delete it to lease anew" % source])
    ipv6 = data.get("routednet_leases_v6") or {}
    if not isinstance(ipv6, dict):
        raise PlanError(["all: the lease file %s has a routednet_leases_v6 that is no mapping; restore it from version control" % source])
    return {str(k): str(v) for k, v in leases.items()}, (text if source == path else None), source, {str(k): str(v) for k, v in ipv6.items()}


def lease_path_problem(path):
    """Why the lease file cannot be written at ``path``, or None."""
    if os.path.isdir(path):
        return "is a directory"
    directory = os.path.dirname(os.path.abspath(path))
    while not os.path.exists(directory):
        directory = os.path.dirname(directory)
    if not os.path.isdir(directory):
        return "lies under %s, which is a file, not a directory" % directory
    if not os.access(directory, os.W_OK | os.X_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        return "cannot be written by this user (%s is not writable)" % (path if os.path.exists(path) else directory)
    return None


def write_leases(path, text, legacy):
    """Write the lease file atomically; then remove the legacy one of ours (and its
    directory when that is left empty: an empty group_vars/all/ still hides all.yml)."""
    directory = os.path.dirname(path)
    if directory and not os.path.isdir(directory):
        os.makedirs(directory)
    with open(path + ".tmp", "w") as handle:
        handle.write(text)
    os.rename(path + ".tmp", path)
    if legacy and os.path.isfile(legacy):
        os.remove(legacy)
        try:
            os.rmdir(os.path.dirname(legacy))
        except OSError:
            pass  # not empty: the operator's files are there


def render_leases(leases, ipv6=None):
    """The lease file's text: routednet_leases (IPv4), and routednet_leases_v6 beside it in a dual-stack cluster."""
    data = {"routednet_leases": leases}
    if ipv6:
        data["routednet_leases_v6"] = ipv6
    body = yaml.safe_dump(data, default_flow_style=False, sort_keys=True)
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


ARGS = (
    "nodes_group",
    "cluster_cidr",
    "subnet_prefix",
    "subnet_prefix_v6",
    "lease_file",
    "legacy_lease_file",
    "write_leases",
    "will_write",
    "leaving",
    "play_hosts",
)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(ARGS)
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        result.update(plan_inventory(self, task_vars, self._task.args))
        return result


def plan_inventory(action, task_vars, args):
    """subnet_plan's result for ``args`` (the module's options), run by ``action``: also by
    cluster_check, which writes the leases once every check has passed."""
    result = {}
    group = args.get("nodes_group", "routednet_nodes")
    hosts = task_vars["groups"].get(group) or []
    hostvars = task_vars["hostvars"]
    nodes = []
    defaults = role_defaults()
    extra_vars = action._task.get_variable_manager().extra_vars
    play = action._task.get_play()
    play_vars = dict(
        (var, action._templar.template(value)) for var, value in (play.get_vars() if play else {}).items() if var in CHECKED and var not in extra_vars
    )
    values = {}
    for host in hosts:
        hv = hostvars[host]
        values[str(host)] = effective_settings(hv, play_vars, defaults)
        nodes.append(
            {
                "name": str(host),
                "underlay_ip": underlay_of(hv),
                "pod_cidr": hv.get("routednet_pod_cidr") or None,
                "pods": hv.get("routednet_pods") or [],
                "connect_ip": hv.get("ansible_host"),
                "reserved_pod_addresses": values[str(host)].get("routednet_reserved_pod_addresses", RESERVED_POD_ADDRESSES),
                "underlay_ip_v6": hv.get("routednet_underlay_ip_v6") or None,
            }
        )
    lease_file = args.get("lease_file")
    legacy = args.get("legacy_lease_file") if args.get("legacy_lease_file") != lease_file else None
    will_write = bool(lease_file) and (args.get("write_leases", True) or args.get("will_write", False))
    try:
        if not hosts:
            raise PlanError(["all: inventory group %r has no hosts; put the nodes in it or set routednet_nodes_group" % group])
        problems = settings.problems(values, defaults)
        if will_write and lease_path_problem(lease_file):
            problems.append(
                "all: routednet_lease_file %s %s; set routednet_lease_file to a file in a writable directory" % (lease_file, lease_path_problem(lease_file))
            )
        if problems:
            raise PlanError(problems)
        leases, old_text, source, old_v6 = read_leases(lease_file, legacy)
        plan, new_leases = build_plan(nodes, args.get("cluster_cidr"), args.get("subnet_prefix", 24), leases, old_v6, args.get("subnet_prefix_v6", 64))
        clashes = settings.family_problems(values, plan) + settings.clashes(values, plan)
        if clashes:
            raise PlanError(clashes)
        new_v6 = leases_v6(plan)
        leaving = take_out(plan, new_leases, args.get("leaving") or [], group)
        for name in leaving:
            new_v6.pop(name, None)
        strangers = [h for h in args.get("play_hosts") or [] if h not in plan["nodes"] and h not in leaving]
        if strangers:
            raise PlanError(
                ["%s is in this play but not in the inventory group %s; add it to the group or leave it out of the play." % (h, group) for h in strangers]
            )
    except PlanError as exc:
        result.update(failed=True, errors=exc.errors, msg="routednet plan refused the inventory:\n" + "\n".join(exc.errors))
        return result
    except OSError as exc:
        result.update(failed=True, msg="routednet plan: cannot read the lease file %s (%s); check routednet_lease_file" % (lease_file, exc.strerror or exc))
        return result

    new_text = render_leases(new_leases, new_v6)
    changed = bool(lease_file) and args.get("write_leases", True) and new_text != old_text
    if changed and not action._play_context.check_mode:
        try:
            write_leases(lease_file, new_text, legacy if source == legacy else None)
        except OSError as exc:
            result.update(
                failed=True, msg="routednet plan: cannot write the lease file %s (%s); check routednet_lease_file" % (lease_file, exc.strerror or exc)
            )
            return result
    # each node's settings as its own play will see them, for the preflight's ownership checks
    result.update(changed=changed, plan=plan, leases=new_leases, lease_file=lease_file, leaving=leaving, settings=values)
    if action._play_context.diff and changed:
        result["diff"] = dict(before=old_text or "", after=new_text, before_header=lease_file, after_header=lease_file)
    return result
