#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: bridge_containers
short_description: Find the container runtimes' containers on the collection's bridge
version_added: 0.5.0
description:
  - Lists the ports of O(bridge) that are not the collection's (a runtime's veths - CNI's
    bridge plugin, podman), and for each the named network namespace its other end is in
    and that end's IPv4 addresses - what a container on the routed network is to
    M(routednet.fabric.reachability).
  - Only namespaces named in C(/run/netns) are found (containerd's, CRI-O's and podman's
    are); a port whose other end is in an unnamed one is returned without a namespace.
  - Never changes anything.
options:
  bridge:
    description: The collection's bridge.
    type: str
    default: cni0
extends_documentation_fragment:
  - routednet.fabric.netlink.read_only
author:
  - routednet maintainers (@routednet)
"""

EXAMPLES = r"""
- name: Find the containers on the pod bridge
  routednet.fabric.bridge_containers:
    bridge: cni0
  register: found
"""

RETURN = r"""
containers:
  description: One entry per port of the bridge that is not the collection's, by host end.
  returned: always
  type: list
  elements: dict
  sample: [{"host_ifname": "veth44161d00", "netns": "cni-3f1c0a5e", "ifname": "eth0", "addresses": ["10.244.1.16/24"]}]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.routednet.fabric.plugins.module_utils.host import links, netlink
from ansible_collections.routednet.fabric.plugins.module_utils.outcome import Failure


def runtime_ports(bridge):
    """{(host end's index, its peer's index): host end's name} of the bridge's ports that are not ours."""
    with netlink.open_rtnl() as ipr:
        master = links.find_link(ipr, bridge)
        if master is None:
            return {}
        return dict(
            ((msg["index"], msg.get_attr("IFLA_LINK")), msg.get_attr("IFLA_IFNAME"))
            for msg in ipr.link("dump")
            if msg.get_attr("IFLA_MASTER") == master["index"] and not links.is_owned(msg)
        )


def run(module):
    netlink.require_pyroute2()
    ports = runtime_ports(module.params["bridge"])
    found = {}
    # (a veth's peer: its IFLA_LINK is our port's index, and our port's IFLA_LINK is its index)
    for name in sorted(netlink.list_netns()) if ports else []:
        try:
            with netlink.open_rtnl(name) as ipr:
                for msg in ipr.link("dump"):
                    key = (msg.get_attr("IFLA_LINK"), msg["index"])
                    if key in ports and msg.get_attr("IFLA_LINK_NETNSID") is not None:
                        found[key] = {"netns": name, "ifname": msg.get_attr("IFLA_IFNAME"), "addresses": links.ipv4_addresses(ipr, msg["index"])}
        except (OSError, netlink.NetlinkError, Failure):
            continue  # a namespace that went away while we looked
    containers = [
        dict(found.get(key, {"netns": None, "ifname": None, "addresses": []}), host_ifname=host)
        for key, host in sorted(ports.items(), key=lambda item: item[1])
    ]
    module.exit_json(changed=False, containers=containers)


def main():
    module = AnsibleModule(argument_spec=dict(bridge=dict(type="str", default="cni0")), supports_check_mode=True)
    try:
        run(module)
    except Failure as failure:
        module.fail_json(**failure.result())


if __name__ == "__main__":
    main()
