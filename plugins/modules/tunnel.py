#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: tunnel
short_description: A tunnel device of the routed network (a VXLAN VTEP or an IPIP device)
version_added: 0.1.0
description:
  - Ensures one tunnel device exists with the given settings, is up, and carries exactly
    the given IPv4 addresses - for VXLAN, flannel's VTEP (C(flannel.1)) of seed 001; for
    IPIP, one device per node with a local address and no fixed remote (flannel's and
    Calico's style), so routes C(via <peer> dev <device> onlink) pick the outer destination.
  - Settings the kernel cannot change in place (VNI, port, local address, underlay device,
    learning) make the module delete and recreate the device; MTU, MAC and addresses are
    changed in place. Give O(mac) so a VXLAN device keeps its MAC when recreated.
  - When the running kernel cannot make devices of O(kind) (no module), the module fails
    with a message that says so, before changing anything.
  - Devices it creates carry the link alias C(routednet.fabric); a device of the same name
    without it is never changed or deleted.
  - O(state=absent) without O(name) removes every device of O(kind) that carries the alias,
    which is how switching to another backend leaves no stale device behind.
options:
  name:
    description: Device name (at most 15 characters). Required with O(state=present).
    type: str
  kind:
    description: Kind of tunnel device.
    type: str
    choices: [vxlan, ipip]
    default: vxlan
  vni:
    description: VXLAN network identifier. Required to create a VXLAN device; VXLAN only.
    type: int
  port:
    description: UDP destination port of the VXLAN traffic (flannel and Linux use 8472); VXLAN only.
    type: int
    default: 8472
  local:
    description: Local underlay address the tunnel packets come from.
    type: str
  dev:
    description: Underlay device the tunnel packets leave by.
    type: str
  learning:
    description:
      - Learn remote MACs from received packets. Off, as flannel does; the entries come from
        M(routednet.fabric.vxlan_fdb). VXLAN only.
    type: bool
    default: false
  mtu:
    description: MTU of the device. Omit to leave it alone.
    type: int
  mac:
    description: MAC address of the device. Omit to leave it alone. VXLAN only (an IPIP device has no MAC).
    type: str
  addresses:
    description:
      - IPv4 addresses in CIDR form, for example the VTEP address C(10.244.1.0/32).
      - The device ends up with exactly these IPv4 addresses. Omit to leave them alone.
    type: list
    elements: str
  state:
    description: Whether the device should exist.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - routednet.fabric.netlink
  - routednet.fabric.netlink.netns
author:
  - routednet maintainers (@routednet)
"""

EXAMPLES = r"""
- name: The VTEP of node 192.168.32.245 (seed 001)
  routednet.fabric.tunnel:
    name: vxlan-routednet
    vni: 1
    port: 8472
    local: 192.168.32.245
    dev: eth0
    mtu: 1450
    mac: 0a:58:ac:f5:00:00
    addresses:
      - 172.245.0.0/32

- name: The IPIP device of node 192.168.32.245 (seed 001), one for all peers
  routednet.fabric.tunnel:
    name: ipip-routednet
    kind: ipip
    local: 192.168.32.245
    dev: eth0
    mtu: 1480
    addresses:
      - 172.245.0.0/32

- name: Remove every VXLAN device of the collection (switching to host-gw)
  routednet.fabric.tunnel:
    kind: vxlan
    state: absent
"""

RETURN = r"""
changes:
  description: What was (or in check mode would be) done, one line per change.
  returned: always
  type: list
  elements: str
  sample: ["create vxlan vxlan-routednet", "add 172.245.0.0/32 to vxlan-routednet"]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.routednet.fabric.plugins.module_utils import kernel, links, netlink, tunnels


def owned_of_kind(ipr, kind):
    return [m for m in ipr.link("dump") if links.is_owned(m) and links.link_kind(m) == kind]


def remove(module, ipr, doomed, place):
    changes = ["delete %s %s" % (links.link_kind(m), m.get("ifname")) for m in doomed]
    if changes and not module.check_mode:
        for msg in doomed:
            try:
                ipr.link("del", index=msg["index"])
            except netlink.NetlinkError as exc:
                netlink.kernel_error(module, "delete %s (%s)" % (msg.get("ifname"), place), exc)
    return changes


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str"),
            kind=dict(type="str", default="vxlan", choices=sorted(tunnels.IMMUTABLE)),
            vni=dict(type="int"),
            port=dict(type="int", default=8472),
            local=dict(type="str"),
            dev=dict(type="str"),
            learning=dict(type="bool", default=False),
            mtu=dict(type="int"),
            mac=dict(type="str"),
            addresses=dict(type="list", elements="str"),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            netns=dict(type="str"),
        ),
        required_if=[("state", "present", ["name"])],
        supports_check_mode=True,
    )
    netlink.require_pyroute2(module)
    p = module.params
    place = netlink.where(p["netns"])
    name, kind = p["name"], p["kind"]
    if p["state"] == "present":
        if kind == "vxlan" and p["vni"] is None:
            module.fail_json(msg="vxlan %s: vni is required to create a VXLAN device" % name)
        if kind != "vxlan" and (p["vni"] is not None or p["mac"]):
            module.fail_json(msg="%s %s: vni and mac apply to VXLAN devices only" % (kind, name))
    try:
        addresses = None if p["addresses"] is None else links.normalize_interfaces(p["addresses"])
    except ValueError as exc:
        module.fail_json(msg="%s %s: addresses: %s" % (kind, name, exc))
    mac = p["mac"].lower() if p["mac"] else None

    netlink.predict_link_in_pending_netns(module, "%s %s" % (kind, name), p["state"], p["netns"])

    with netlink.open_rtnl(module, p["netns"]) as ipr:
        msg = links.find_link(ipr, name) if name else None
        if msg is not None and not links.is_owned(msg):
            module.fail_json(msg="%s (%s) exists but was not created by routednet.fabric; refusing to touch it, pick another name" % (name, place))
        before = links.link_view(ipr, msg)

        if p["state"] == "absent":
            doomed = [msg] if msg is not None else ([] if name else owned_of_kind(ipr, kind))
            changes = remove(module, ipr, doomed, place)
            module.exit_json(changed=bool(changes), changes=changes, diff=dict(before=before, after={}))

        names = {m["index"]: m.get("ifname") for m in ipr.link("dump")}
        dev_index = None
        if p["dev"]:
            found = ipr.link_lookup(ifname=p["dev"])
            if not found:
                module.fail_json(msg="%s %s (%s): underlay device %s does not exist" % (kind, name, place, p["dev"]))
            dev_index = found[0]
        wanted = dict((option, p[option]) for option in tunnels.IMMUTABLE[kind])
        changes = []
        recreate = msg is None
        if msg is not None:
            if links.link_kind(msg) != kind:
                changes.append("replace %s: it is a %s, not a %s" % (name, links.link_kind(msg), kind))
                recreate = True
            else:
                differ = tunnels.differences(tunnels.current_settings(msg, kind, names), wanted)
                if differ:
                    changes.append("recreate %s %s: %s" % (kind, name, ", ".join(differ)))
                    recreate = True
        if msg is None:
            changes.append("create %s %s (%s)" % (kind, name, ", ".join("%s %s" % (k, v) for k, v in sorted(wanted.items()) if v is not None)))
        if recreate:
            changes += ["set %s up" % name] + ["add %s to %s" % (a, name) for a in addresses or []]
            plan = None
        else:
            plan = links.plan_link(ipr, msg, mtu=p["mtu"], addresses=addresses, mac=mac)
            changes += plan[3]
        after = links.wanted_view(name, kind, p["mtu"], None, addresses, before or None)
        if mac:
            after["mac"] = mac
        # Before deleting anything: a kernel without this kind could not make it again.
        if recreate and kernel.feature_state(kind) == "missing":
            module.fail_json(msg=tunnels.missing_kind_message(kind, name, place), changes=[])
        if changes and not module.check_mode:
            try:
                if recreate:
                    if msg is not None:
                        ipr.link("del", index=msg["index"])
                    args = tunnels.create_args(kind, wanted, dev_index)
                    if mac:
                        args["address"] = mac
                    if p["mtu"]:
                        args["mtu"] = p["mtu"]
                    try:
                        ipr.link("add", ifname=name, **args)
                    except netlink.NetlinkError as exc:
                        if tunnels.kernel_lacks_kind(exc) and msg is None:
                            module.fail_json(msg=tunnels.missing_kind_message(kind, name, place), changes=[])
                        raise
                    msg = links.find_link(ipr, name)
                    plan = links.plan_link(ipr, msg, mtu=p["mtu"], addresses=addresses, mac=mac)
                links.apply_link(ipr, msg["index"], *plan[:3])
                after = links.link_view(ipr, links.find_link(ipr, name))
            except netlink.NetlinkError as exc:
                netlink.kernel_error(module, "%s %s (%s)" % (kind, name, place), exc, changes=changes)
        module.exit_json(changed=bool(changes), changes=changes, diff=dict(before=before, after=after))


if __name__ == "__main__":
    main()
