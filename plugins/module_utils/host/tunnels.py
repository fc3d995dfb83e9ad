# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tunnel devices: what a device is, and which differences force a recreate.

Each tunnel backend names the settings of its device the kernel cannot change in place
(``IMMUTABLE`` in its file under ``backends/``); those differences mean delete and re-add
(the device holds no state worth keeping). MTU, MAC, state and addresses are changed in
place.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno

from ansible_collections.routednet.fabric.plugins.module_utils import backends

# kind -> {our option: (IFLA_INFO_DATA attribute, pyroute2 create keyword)}
IMMUTABLE = dict((backend.TUNNEL_KIND, backend.IMMUTABLE) for backend in backends.TUNNELS.values())

# kind -> the (attribute, keyword) of an IPv6 local address, for the kinds that take one
LOCAL6 = dict((backend.TUNNEL_KIND, backend.LOCAL6) for backend in backends.TUNNELS.values() if getattr(backend, "LOCAL6", None))

# Kernel config option behind each kind, for the message when a kernel lacks it.
KERNEL_CONFIG = dict(feature for backend in backends.TUNNELS.values() for feature in backend.KERNEL)


def current_settings(msg, kind, names):
    """The immutable settings of a present device, with the underlay link as a name."""
    data = msg.get_nested("IFLA_LINKINFO", "IFLA_INFO_DATA")
    found = {}
    for option, (attr, _kw) in IMMUTABLE[kind].items():
        value = data.get(attr) if data is not None else None
        if option == "dev":
            value = names.get(value)
        if option == "learning" and value is not None:
            value = bool(value)
        if option == "local" and value is None and kind in LOCAL6 and data is not None:
            value = data.get(LOCAL6[kind][0])  # (a device over an IPv6 underlay)
        found[option] = value
    return found


def differences(current, wanted):
    """Texts for each immutable setting that differs (only settings the caller gave)."""
    return [
        "%s %s -> %s" % (option, current.get(option), value) for option, value in sorted(wanted.items()) if value is not None and current.get(option) != value
    ]


def create_args(kind, wanted, dev_index):
    args = {"kind": kind}
    for option, (_attr, keyword) in IMMUTABLE[kind].items():
        value = wanted.get(option)
        if option == "dev":
            value = dev_index
        if option == "learning":
            value = 1 if value else 0
        if value is not None:
            # (a local address over an IPv6 underlay goes in the kind's IPv6 attribute)
            args[LOCAL6[kind][1] if option == "local" and ":" in str(value) and kind in LOCAL6 else keyword] = value
    return args


def kernel_lacks_kind(exc):
    """True when creating a device failed because the kernel does not know its kind."""
    return getattr(exc, "code", None) == errno.EOPNOTSUPP


def missing_kind_message(kind, device, place):
    return (
        "cannot create %s device %s (%s): the running kernel has no %s support (%s, module %s); "
        "load it with 'modprobe %s' or boot a kernel that has it (Debian's linux-image-amd64 does), or choose another backend"
        % (kind, device, place, kind, KERNEL_CONFIG.get(kind, kind), kind, kind)
    )
