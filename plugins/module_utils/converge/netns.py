# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Converge one named network namespace.

What the netns module does, as a function of a Request (outcome.py) that returns the
module's result or raises Failure, so that node_state and the boot-time restore run the
very same code without Ansible.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re


from ansible_collections.routednet.fabric.plugins.module_utils.host import links, netlink
from ansible_collections.routednet.fabric.plugins.module_utils.outcome import Failure

# What ip-netns accepts as a name: no slash, not . or ..
NAME_RE = re.compile(r"^(?!\.{1,2}$)[^/\x00]{1,255}$")

# Owners of a namespace: ours (created and marked by the collection: its loopback carries
# the collection's link alias, so the mark lives and dies with the namespace), legacy (made
# by a version before the mark: unmarked, holding nothing but loopback and our veth ends,
# so nothing of anyone else's) and theirs (anything else: never adopted, never deleted).
OURS, LEGACY, THEIRS = "ours", "legacy", "theirs"


def owner(name):
    """Who owns the existing namespace ``name``; with its loopback's index."""
    with netlink.open_rtnl(name) as ipr:
        found = ipr.link("dump")
    loopback = next((m for m in found if m.get("ifname") == "lo"), None)
    others = [m for m in found if m is not loopback]
    if loopback is not None and links.is_owned(loopback):
        return OURS, loopback["index"]
    if loopback is not None and others and all(links.is_owned(m) for m in others):
        return LEGACY, loopback["index"]
    return THEIRS, None


def mark(name):
    """Mark the namespace as the collection's."""
    with netlink.open_rtnl(name) as ipr:
        index = ipr.link_lookup(ifname="lo")[0]
        ipr.link("set", index=index, ifalias=netlink.OWNER_ALIAS)


# What the module accepts; the boot-time restore validates its state file against it too.
MODULE_KWARGS = dict(
    argument_spec=dict(
        name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
    ),
    supports_check_mode=True,
)


def run(request):
    netlink.require_pyroute2()
    name = request.params["name"]
    if not NAME_RE.match(name):
        raise Failure("netns: %r is not a valid namespace name" % name)
    present = name in netlink.list_netns()
    wanted = request.params["state"] == "present"
    whose = owner(name)[0] if present else None
    if whose == THEIRS:
        raise Failure(
            "netns %s exists and was not created by routednet.fabric (its loopback has no alias %s); refusing to %s it: "
            "give the pod another name" % (name, netlink.OWNER_ALIAS, "adopt" if wanted else "delete")
        )
    changes = []
    if present != wanted:
        changes.append("%s netns %s" % ("create" if wanted else "delete", name))
    elif wanted and whose == LEGACY:
        changes.append("mark netns %s as made by %s (made before namespaces were marked)" % (name, netlink.OWNER_ALIAS))
    changed = bool(changes)
    if changed and not request.check_mode:
        try:
            if wanted and not present:
                netlink.pyroute2_netns().create(name)
            elif not wanted:
                netlink.pyroute2_netns().remove(name)
            if wanted:
                try:
                    mark(name)
                except (OSError, netlink.NetlinkError):
                    if not present:  # unmarked, it would be nobody's: take it away again
                        netlink.pyroute2_netns().remove(name)
                    raise
        except (OSError, netlink.NetlinkError) as exc:
            raise Failure("netns %s: could not %s it: %s" % (name, "create" if wanted else "remove", exc)) from exc
    result = dict(changed=changed, name=name, changes=changes)
    if request.diff:
        result["diff"] = dict(before={"present": present}, after={"present": wanted}, before_header=name, after_header=name)
    return result
