#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: reachability
short_description: Ping from pod namespaces to pod addresses and report the TTL seen
version_added: 0.1.0
description:
  - From each pod namespace in O(sources), pings each address in O(targets) (all pairs, in
    parallel) and reports success and the TTL of the reply.
  - An IPv6 target is pinged with C(ping -6); its TTL is the reply's hop limit.
  - The TTL counts the routers that handled the pod packet itself, as the seeds read it by
    hand; 62 means it was routed by both nodes. A tunnel hides the underlay's routers from
    the pod packet, so a tunnelled pair shows 62 too; C(path) tells the two apart.
  - Reports for each target the route this node's kernel picks for it (as C(ip route get)
    shows it) - the device, and whether that is the underlay (V(direct)) or a tunnel (its kind).
  - Never changes anything.
options:
  sources:
    description: Pod network namespaces to ping from.
    type: list
    elements: str
    required: true
  targets:
    description: Addresses to ping; extra keys (such as C(node) and C(pod)) are returned as they are.
    type: list
    elements: dict
    required: true
  count:
    description: Echo requests per pair; a pair passes when any reply comes back.
    type: int
    default: 2
  timeout:
    description: Seconds to wait for a reply.
    type: int
    default: 2
  full_size:
    description:
      - Send packets as large as the source pod's MTU allows (payload MTU - 28 for IPv4,
        MTU - 48 for IPv6) with the Don't Fragment bit set (C(ping -M do)), so a wrong MTU
        anywhere on the path shows up as a miss instead of silent fragmentation.
      - The MTU is read from the source pod's interfaces with pyroute2.
    type: bool
    default: false
requirements:
  - nsenter (util-linux) and ping (iputils) on the managed host
author:
  - routednet maintainers (@routednet)
extends_documentation_fragment:
  - routednet.fabric.netlink.read_only
"""

EXAMPLES = r"""
- name: Ping every pod on the other nodes
  routednet.fabric.reachability:
    sources: [docker1]
    targets:
      - {address: 172.18.0.2, node: node2, pod: docker2}
"""

RETURN = r"""
results:
  description: One entry per source and target.
  returned: always
  type: list
  elements: dict
  sample: [{"source": "docker1", "address": "172.18.0.2", "ok": true, "ttl": 62, "size": 56, "node": "node2", "pod": "docker2",
            "path": {"kind": "direct", "dev": "eth0", "via": "192.168.245.172"}}]
failed_pairs:
  description: How many pairs got no reply.
  returned: always
  type: int
"""

import re
from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.routednet.fabric.plugins.module_utils.host import netlink
from ansible_collections.routednet.fabric.plugins.module_utils.host.links import names_and_kinds
from ansible_collections.routednet.fabric.plugins.module_utils.host.tunnels import IMMUTABLE as TUNNEL_KINDS
from ansible_collections.routednet.fabric.plugins.module_utils.outcome import Failure

TTL_RE = re.compile(r"ttl=(\d+)")
# Pings wait on the network, not the CPU: run many at once.
PARALLEL = 32


def pod_mtu(module, source):
    """Smallest MTU of the pod's non-loopback links: the largest packet it can send."""
    with netlink.open_rtnl(source) as ipr:
        mtus = [m.get("mtu") for m in ipr.link("dump") if m.get("ifname") != "lo"]
    if not mtus:
        module.fail_json(msg="reachability: pod %s has no interface" % source)
    return min(mtus)


def node_paths(addresses):
    """address -> the route this node's kernel uses for it: device, gateway, and
    V(direct) or the tunnel kind (vxlan, ipip) of that device."""
    paths = {}
    with netlink.open_rtnl() as ipr:
        names, kinds = names_and_kinds(ipr)
        for address in addresses:
            try:
                msg = ipr.route("get", dst=address, family=netlink.AF_INET6 if ":" in address else netlink.AF_INET)[0]
            except netlink.NetlinkError as exc:
                paths[address] = {"kind": "no route", "dev": None, "via": None, "error": str(exc)}
                continue
            oif = msg.get("oif")
            paths[address] = {"kind": kinds[oif] if kinds.get(oif) in TUNNEL_KINDS else "direct", "dev": names.get(oif), "via": msg.get("gateway")}
    return paths


def run(module):
    """The module's work; Failure from the shared host code becomes its failure (main)."""
    nsenter = module.get_bin_path("nsenter", required=True)
    ping = module.get_bin_path("ping", required=True, opt_dirs=["/usr/bin", "/bin"])
    p = module.params
    pairs = [(source, target) for source in p["sources"] for target in p["targets"]]
    mtus = {}
    netlink.require_pyroute2()
    paths = node_paths(sorted(set(str(t["address"]) for t in p["targets"])))
    if p["full_size"]:
        for source in p["sources"]:
            mtus[source] = pod_mtu(module, source)

    def probe(pair):
        source, target = pair
        ipv6 = ":" in str(target["address"])
        # (the largest payload: the MTU less the IPv4 or IPv6 header and ICMP's 8 bytes)
        size = mtus[source] - (48 if ipv6 else 28) if p["full_size"] else 56
        cmd = [nsenter, "--net=/run/netns/%s" % source, ping] + (["-6"] if ipv6 else [])
        cmd += ["-n", "-c", str(p["count"]), "-i", "0.2", "-W", str(p["timeout"]), "-s", str(size)]
        if p["full_size"]:
            cmd += ["-M", "do"]  # Don't Fragment: a too-small MTU anywhere is a miss
        cmd.append(str(target["address"]))
        rc, out, err = module.run_command(cmd)
        ttls = TTL_RE.findall(out)
        entry = dict(target, source=source, ok=rc == 0 and bool(ttls), ttl=int(ttls[0]) if ttls else None, size=size)
        entry["path"] = paths[str(target["address"])]
        if not entry["ok"]:
            entry["output"] = (out + err).strip().splitlines()[-2:]
        return entry

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        results = list(pool.map(probe, pairs))
    module.exit_json(changed=False, results=results, failed_pairs=sum(1 for r in results if not r["ok"]))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            sources=dict(type="list", elements="str", required=True),
            targets=dict(type="list", elements="dict", required=True),
            count=dict(type="int", default=2),
            timeout=dict(type="int", default=2),
            full_size=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    try:
        run(module)
    except Failure as failure:
        module.fail_json(**failure.result())


if __name__ == "__main__":
    main()
