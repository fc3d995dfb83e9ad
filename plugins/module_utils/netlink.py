# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Netlink access shared by every routednet.fabric module.

One place that imports pyroute2, opens a socket in the right network
namespace and turns kernel errors into messages that name the object.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys
import traceback

try:
    from ansible.module_utils.basic import missing_required_lib
except ImportError:  # the boot-time restore runs these module_utils without Ansible

    def missing_required_lib(library):
        return "Failed to import the required Python library (%s) on %s's Python %s." % (library, os.uname()[1], sys.executable)


PYROUTE2_IMPORT_ERROR = None
try:
    from pyroute2 import IPRoute, NetNS, netns as pyroute2_netns
    from pyroute2 import __version__ as PYROUTE2_VERSION
    from pyroute2.netlink.exceptions import NetlinkError
except ImportError:
    PYROUTE2_IMPORT_ERROR = traceback.format_exc()
    IPRoute = NetNS = pyroute2_netns = PYROUTE2_VERSION = None

    class NetlinkError(Exception):
        """Placeholder so that except clauses stay valid without pyroute2."""


# Every link the collection creates carries this alias (IFLA_IFALIAS); only
# links with it are ever changed in ways that could hurt an operator's own.
OWNER_ALIAS = "routednet.fabric"

# Every route the collection creates carries this protocol number; prune and
# absent only ever delete routes with it.  201 is unused by iproute2's
# rt_protos, Calico (80), kube-router (17), bird (12) and zebra (11).
ROUTEDNET_RT_PROTO = 201

AF_INET = 2
IFF_UP = 0x1
RTNH_F_ONLINK = 0x4
RT_TABLE_MAIN = 254
RTN_UNICAST = 1


# pyroute2 0.9 changed the message API the modules rely on; older ones (Debian 12
# ships 0.7.2) return empty attributes instead of failing, so refuse them.
MIN_PYROUTE2 = (0, 9)


def version_tuple(text):
    parts = []
    for piece in str(text).split(".")[:2]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def require_pyroute2(module):
    """Fail with a clear message when pyroute2 is missing or too old."""
    if PYROUTE2_IMPORT_ERROR is not None:
        module.fail_json(msg=missing_required_lib("pyroute2 >= 0.9"), exception=PYROUTE2_IMPORT_ERROR)
    if version_tuple(PYROUTE2_VERSION) < MIN_PYROUTE2:
        module.fail_json(
            msg="pyroute2 %s is installed on this host but routednet.fabric needs >= %s; set routednet_pyroute2_install=pip "
            "(or install a newer pyroute2 for %s yourself)" % (PYROUTE2_VERSION, ".".join(map(str, MIN_PYROUTE2)), sys.executable)
        )


def list_netns():
    """Names of the named network namespaces of this host (exact names)."""
    return set(pyroute2_netns.listnetns())


def missing_in_check_mode(module, *names):
    """In check mode, the first named namespace that does not exist yet.

    An earlier task of the same run (the netns module) would have created it,
    so check mode predicts that everything inside it gets created instead of
    failing.
    """
    if not module.check_mode:
        return None
    present = list_netns()
    return next((name for name in names if name and name not in present), None)


def predict_link_in_pending_netns(module, what, state, *names):
    """Check mode, a namespace not created yet: exit predicting that ``what`` gets created.

    For the link modules (bridge, veth, tunnel); does nothing when every
    namespace exists or outside check mode.
    """
    missing = missing_in_check_mode(module, *names)
    if missing and state == "present":
        module.exit_json(changed=True, changes=["create %s (netns %s does not exist yet)" % (what, missing)])
    if missing:
        module.exit_json(changed=False, changes=[])


def open_rtnl(module, netns=None):
    """An RTNL socket in the host namespace or in the named one.

    Never creates a namespace: a missing one is a clear failure.
    """
    try:
        if netns:
            if netns not in list_netns():
                module.fail_json(msg="network namespace '%s' does not exist on this host" % netns)
            return NetNS(netns, flags=0)
        return IPRoute()
    except (OSError, NetlinkError) as exc:
        where = "network namespace '%s'" % netns if netns else "the host namespace"
        module.fail_json(msg="cannot open netlink in %s: %s" % (where, exc))


def kernel_error(module, what, exc, **extra):
    """Fail with the object concerned and what the kernel said."""
    said = exc.args[1] if isinstance(exc, NetlinkError) and len(exc.args) > 1 else str(exc)
    module.fail_json(msg="%s: the kernel refused: %s" % (what, said), **extra)


def where(netns):
    """Human text for a namespace in messages."""
    return "netns %s" % netns if netns else "host"


class Undo(object):
    """The kernel changes one module call has made, to be undone newest first when a
    later one is refused: a call that fails part-way leaves the host as it was."""

    def __init__(self):
        self.steps = []

    def did(self, text, undo):
        self.steps.append((text, undo))

    def rollback(self):
        """Undo everything recorded; return the texts of the undos the kernel refused."""
        refused = []
        for text, undo in reversed(self.steps):
            try:
                undo()
            except NetlinkError as exc:
                refused.append("%s: %s" % (text, exc))
        return refused


def refused_part_way(module, what, exc, undo, **extra):
    """Roll back the call's earlier changes, then fail saying what was refused and what was undone."""
    refused = undo.rollback()
    said = exc.args[1] if isinstance(exc, NetlinkError) and len(exc.args) > 1 else str(exc)
    if refused:
        outcome = "undoing its earlier changes failed too, the host is half-applied: %s" % "; ".join(refused)
    elif undo.steps:
        outcome = "the %d change(s) this call had made before were undone; the host is as it was" % len(undo.steps)
    else:
        outcome = "nothing had been changed yet"
    module.fail_json(msg="%s: the kernel refused: %s (%s)" % (what, said, outcome), undone=len(undo.steps) - len(refused), **extra)
