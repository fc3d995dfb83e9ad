# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Converge IPv4 and IPv6 forwarding (the families the node has pods of) and its sysctl.d file.

What the ip_forwarding module does, as a function of a Request (outcome.py) that returns the
module's result or raises Failure, so that node_state and the boot-time restore run the
very same code without Ansible.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from ansible_collections.routednet.fabric.plugins.module_utils.host import links, netlink
from ansible_collections.routednet.fabric.plugins.module_utils.host.files import read_text as read, write_atomically
from ansible_collections.routednet.fabric.plugins.module_utils.outcome import Failure


FORWARD_PATH = "/proc/sys/net/ipv4/ip_forward"
IPV6_CONF = "/proc/sys/net/ipv6/conf"
IPV6_FORWARD_PATH = IPV6_CONF + "/all/forwarding"
MARK = "# Managed by routednet.fabric: pods are routed through this host."
IPV4_LINE = "net.ipv4.ip_forward = 1\n"
# the file of a node with IPv4 pods only
PERSIST_TEXT = MARK + "\n" + IPV4_LINE
# An interface name in a line of ours that keeps router advertisements on (the leading
# "-": systemd-sysctl skips it quietly when that interface is gone)
_KEEP_RA = re.compile(r"^-net\.ipv6\.conf\.([^.\s]+)\.accept_ra = 2$", re.M)


def is_ours(text):
    """The file is the collection's only if it starts with MARK (every version wrote it)."""
    return text.startswith(MARK)


def persist_text(ipv6=False, keep_ra=(), ipv4=True):
    """The sysctl.d file: with ``ipv4``, IPv4 forwarding; with ``ipv6``, router
    advertisements kept on for ``keep_ra`` (before forwarding turns them off), then IPv6
    forwarding."""
    text = MARK + "\n" + (IPV4_LINE if ipv4 else "")
    if not ipv6:
        return text
    # (a dot in an interface name, eth0.100, is written "/" in a sysctl key's dotted form)
    ra = "".join("-net.ipv6.conf.%s.accept_ra = 2\n" % name.replace(".", "/") for name in sorted(keep_ra))
    return text + ra + "net.ipv6.conf.all.forwarding = 1\n"


def _sysctl(name):
    return (read("%s/%s" % (IPV6_CONF, name)) or "").strip()


RTPROT_RA = 9


def interfaces_taking_ra():
    """The interfaces whose IPv6 routes the host learns from router advertisements
    (routes of protocol "ra") and that take them only while the host does not forward
    (accept_ra = 1). Turning forwarding on would make the kernel ignore the
    advertisements there: the host would lose its default route and its addresses, and
    perhaps the SSH path. accept_ra = 2 keeps them. Only those: an interface that
    learns nothing from them (a pod's veth) must not start trusting them."""
    if not os.path.isdir(IPV6_CONF):
        return []
    netlink.require_pyroute2()
    with netlink.open_rtnl(None) as ipr:
        indices = set(msg.get_attr("RTA_OIF") for msg in ipr.route("dump", family=netlink.AF_INET6) if msg["proto"] == RTPROT_RA)
        names = [links.find_name(ipr, index) for index in sorted(i for i in indices if i)]
    return sorted(name for name in names if name and _sysctl(name + "/accept_ra") == "1")


# What the module accepts; the boot-time restore validates its state file against it too.
MODULE_KWARGS = dict(
    argument_spec=dict(
        state=dict(type="str", default="present", choices=["present", "absent"]),
        persist_file=dict(type="path", default="/etc/sysctl.d/90-routednet.conf"),
        ipv6=dict(type="bool", default=False),
        ipv4=dict(type="bool", default=True),
    ),
    supports_check_mode=True,
)


def _ipv6_plan(file_text):
    """(configurations to set accept_ra = 2 on now, every one the file keeps it on for,
    whether IPv6 forwarding is off now)."""
    if not os.path.isdir(IPV6_CONF) or _sysctl("all/disable_ipv6") == "1":
        raise Failure(
            "ip_forwarding: IPv6 is disabled on this host (%s); enable it (net.ipv6.conf.all.disable_ipv6 = 0) "
            "or leave the IPv6 CIDR out of routednet_cluster_cidr" % ("no " + IPV6_CONF if not os.path.isdir(IPV6_CONF) else "disable_ipv6 = 1")
        )
    # (with forwarding on already, the kernel ignores advertisements where accept_ra = 1
    # and this run changes nothing about that)
    off = _sysctl("all/forwarding") != "1"
    kept = set(name.replace("/", ".") for name in _KEEP_RA.findall(file_text or "")) if file_text and is_ours(file_text) else set()
    # (and those our file names that are back at 1: at boot, before any advertisement came)
    now = sorted(set(interfaces_taking_ra()) | set(name for name in kept if _sysctl(name + "/accept_ra") == "1")) if off else []
    return now, sorted(kept | set(now)), off


def _write(path, text):
    with open(path, "w") as handle:
        handle.write(text)


def run(request):
    p = request.params
    present = p["state"] == "present"
    path = p["persist_file"]
    runtime = (read(FORWARD_PATH) or "").strip() == "1"
    file_text = read(path) if path else None
    if file_text is not None and not is_ours(file_text):
        raise Failure(
            "ip_forwarding: %s exists and was not written by routednet.fabric (it does not start with %r); refusing to %s it: "
            "set routednet_sysctl_file to a path of its own" % (path, MARK, "overwrite" if present else "remove")
        )
    # (an IPv6-only node leaves IPv4 forwarding as it found it: off, or somebody else's)
    ipv4 = p.get("ipv4", True)
    if present and not ipv4 and not p.get("ipv6"):
        raise Failure("ip_forwarding: ipv4=false and ipv6=false leave nothing to forward; turn one on, or set state=absent")
    keep_ra, v6_off, in_file = [], False, ()
    if present and p.get("ipv6"):
        keep_ra, in_file, v6_off = _ipv6_plan(file_text)
    wanted_text = persist_text(bool(p.get("ipv6")), in_file, ipv4)
    turn_on = present and ipv4 and not runtime
    changes = []
    if turn_on:
        changes.append("set net.ipv4.ip_forward = 1")
    changes += ["set net.ipv6.conf.%s.accept_ra = 2 (keeps router advertisements with forwarding on)" % name for name in keep_ra]
    if v6_off:
        changes.append("set net.ipv6.conf.all.forwarding = 1")
    if path and present and file_text != wanted_text:
        changes.append("write %s" % path)
    if path and not present and file_text is not None:
        changes.append("remove %s" % path)
    if changes and not request.check_mode:
        try:
            if turn_on:
                _write(FORWARD_PATH, "1\n")
            for name in keep_ra:
                _write("%s/%s/accept_ra" % (IPV6_CONF, name), "2\n")
            if v6_off:
                _write(IPV6_FORWARD_PATH, "1\n")
            if path and present and file_text != wanted_text:
                write_atomically(path, wanted_text)
            if path and not present and file_text is not None:
                os.remove(path)
        except (IOError, OSError) as exc:
            raise Failure("ip_forwarding: %s failed: %s" % (", ".join(changes), exc)) from exc
    after_runtime = runtime or turn_on
    before = {"net.ipv4.ip_forward": int(runtime), path or "persist_file": file_text}
    after = {"net.ipv4.ip_forward": int(after_runtime), path or "persist_file": wanted_text if present else None}
    if present and p.get("ipv6"):
        before["net.ipv6.conf.all.forwarding"], after["net.ipv6.conf.all.forwarding"] = int(not v6_off), 1
    return dict(
        changed=bool(changes),
        changes=changes,
        ip_forward=after_runtime if not request.check_mode else runtime,
        diff=dict(before=before, after=after),
    )
