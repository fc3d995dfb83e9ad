# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tunnel devices: what a device is, and which differences force a recreate.

The kernel cannot change a VXLAN device's VNI, port, local address, underlay
link or learning mode in place; those differences mean delete and re-add.
MTU, MAC, state and addresses are changed in place.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# kind -> {our option: (IFLA_INFO_DATA attribute, pyroute2 create keyword)}
IMMUTABLE = {
    "vxlan": {
        "vni": ("IFLA_VXLAN_ID", "vxlan_id"),
        "port": ("IFLA_VXLAN_PORT", "vxlan_port"),
        "local": ("IFLA_VXLAN_LOCAL", "vxlan_local"),
        "dev": ("IFLA_VXLAN_LINK", "vxlan_link"),
        "learning": ("IFLA_VXLAN_LEARNING", "vxlan_learning"),
    },
}


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
            args[keyword] = value
    return args
