# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The inventory's settings checked on the controller, before any host is touched.

Pure Python: it sees each node's effective value of every setting (the inventory's,
else the role default) and returns one line per problem, naming the host, the variable
and the fix. No line names a Python or Jinja type: an operator wrote YAML, not Python.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.routednet.fabric.plugins.module_utils import backends
from ansible_collections.routednet.fabric.plugins.module_utils.host import netlink

# Settings the nodes must agree on: a node with its own value splits the cluster
# (another VNI or port, another pod network, another backend).
CLUSTER_WIDE = (
    "routednet_backend",
    "routednet_hybrid_encap",
    "routednet_cluster_cidr",
    "routednet_subnet_prefix",
    "routednet_subnet_prefix_v6",
) + tuple(var for backend in backends.BACKENDS.values() for var, _lowest, _highest in backend.SETTINGS)
CLUSTER_WIDE += tuple(var for backend in backends.BACKENDS.values() for var, _choices in getattr(backend, "CHOICES", ()))
# tunnel backend -> the variable naming its device
TUNNEL_DEVICE = dict((name, backend.DEVICE_VARIABLE) for name, backend in backends.TUNNELS.items())

BOOLEANS = ("routednet_masquerade", "routednet_firewall", "routednet_boot_restore", "routednet_write_leases", "routednet_prune_routes", "routednet_cni")

# The files container runtimes read (plan/runtime_files.py) and the addresses kept for the
# collection's own pods below the runtimes' range.
RUNTIME_SETTINGS = (
    "routednet_reserved_pod_addresses",
    "routednet_cni_dir",
    "routednet_cni_network",
    "routednet_cni_order",
    "routednet_cni_version",
    "routednet_netavark",
    "routednet_netavark_dir",
    "routednet_flannel_subnet_env",
)
RESERVED_MAX = 4096
# Spec versions the CNI plugins of Debian 12 (1.1.1) and newer accept in a network list.
CNI_VERSIONS = ("0.3.1", "0.4.0", "1.0.0")
# A CNI network's name is also a directory name (host-local's /var/lib/cni/networks/NAME).
CNI_NETWORK = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
BOOLEAN_WORDS = {"true": True, "yes": True, "on": True, "1": True, "false": False, "no": False, "off": False, "0": False}

# Link names the collection gives its own devices, per node.
DEVICE_NAMES = ("routednet_bridge_name",) + tuple(backend.DEVICE_VARIABLE for backend in backends.TUNNELS.values())

# The kernel takes up to 15 bytes and refuses "/", ":" and white space; kept to plain
# ASCII, which every tool (and every locale a module may run in) prints the same.
LINK_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$")
LINK_NAME_RULE = "1-15 characters of A-Z a-z 0-9 _ . -, not starting with . or -"
# A pod is a named network namespace (a file in /run/netns) and often a container's name.
POD_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
POD_NAME_RULE = "1-63 characters of A-Z a-z 0-9 _ . -, starting with a letter or digit"
POD_KEYS = ("name", "address", "host_ifname", "pod_ifname")
# nftables takes longer names; kept to what reads well in `nft list tables`.
TABLE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")

# IPv4 requires every link to carry 576-byte packets; 9000 is the largest jumbo frame
# underlays commonly carry. 0: the underlay's MTU minus the backend's overhead.
MTU_MIN, MTU_MAX = 576, 9000
MTU_RULE = "0 (the underlay's MTU minus the backend's overhead) or %d-%d" % (MTU_MIN, MTU_MAX)


def shown(value):
    """A value as the operator wrote it, for messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value) if value.strip() != value or not value else value
    return str(value)


def strict_bool(value):
    """True or False for a boolean the operator may have written as a word; None when it is none."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        return BOOLEAN_WORDS.get(value.strip().lower())
    return None


def whole_number(value):
    """An int for a whole number written as a number or digits; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.match(r"^\s*-?[0-9]+\s*$", value):
        return int(value)
    return None


def link_name_problem(value):
    """Why ``value`` cannot be a link name, or None."""
    if not isinstance(value, str) or not LINK_NAME.match(value):
        return "is not a link name (%s)" % LINK_NAME_RULE
    return None


def pod_problems(host, pods):
    """The pods setting of one host: a list of names or of mappings with a name."""
    var = "routednet_pods"
    if pods is None:
        return []
    if isinstance(pods, (str, bytes)) or not isinstance(pods, (list, tuple)):
        return [
            "%s: %s=%s is not a list; write it as a YAML list, e.g. routednet_pods: [%s]"
            % (host, var, shown(pods), shown(pods) if isinstance(pods, str) else "pod1")
        ]
    problems = []
    for item in pods:
        entry = {"name": item} if isinstance(item, str) else item
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            problems.append("%s: %s entry %s has no name; give each pod a name or a mapping with name: (and optional address:)" % (host, var, shown(item)))
            continue
        name = entry["name"]
        if not POD_NAME.match(name):
            problems.append("%s: %s entry %s is not a valid pod name (%s); rename the pod" % (host, var, shown(name), POD_NAME_RULE))
        unknown = sorted(str(key) for key in entry if key not in POD_KEYS)
        if unknown:
            problems.append("%s: %s[%s] has unknown keys %s; a pod takes %s" % (host, var, name, ", ".join(unknown), ", ".join(POD_KEYS)))
        for key in ("host_ifname", "pod_ifname"):
            if entry.get(key) is not None and link_name_problem(entry[key]):
                problems.append("%s: %s[%s].%s=%s %s" % (host, var, name, key, shown(entry[key]), link_name_problem(entry[key])))
    return problems


def encapsulation(values):
    """The tunnel backend this host's backend uses (hybrid: its chosen one), or None."""
    backend = backends.BACKENDS.get(values.get("routednet_backend"))
    if backend is not None and backend.MIXED:  # its tunnel is the one routednet_hybrid_encap names
        return values.get("routednet_hybrid_encap")
    backend = values.get("routednet_backend")
    return backend if backend in TUNNEL_DEVICE else None


def _tunnel_choices():
    first = backends.HYBRID_DEFAULT_TUNNEL
    return " or ".join(["%s (the default)" % first] + sorted(name for name in backends.TUNNELS if name != first))


def host_problems(host, values):
    """Type and range of one host's settings (``values``: variable -> effective value)."""
    problems = pod_problems(host, values.get("routednet_pods"))
    backend = backends.BACKENDS.get(values.get("routednet_backend"))
    if "routednet_backend" in values and backend is None:
        names = list(backends.BACKENDS)
        problems.append(
            "%s: routednet_backend=%s is not a backend; set %s or %s (or run that backend's playbook, such as playbooks/hostgw.yml)"
            % (host, shown(values["routednet_backend"]), ", ".join(names[:-1]), names[-1])
        )
    if backend is not None and backend.MIXED and values.get("routednet_hybrid_encap") not in TUNNEL_DEVICE:
        problems.append(
            "%s: routednet_hybrid_encap=%s is not a tunnel the hybrid backend can use; set it to %s"
            % (host, shown(values.get("routednet_hybrid_encap")), _tunnel_choices())
        )
    if encapsulation(values) in backends.TUNNELS:
        for var, lowest, highest in backends.TUNNELS[encapsulation(values)].SETTINGS:
            number = whole_number(values.get(var))
            if var in values and (number is None or not lowest <= number <= highest):
                problems.append("%s: %s=%s is out of range; set a whole number from %d to %d" % (host, var, shown(values[var]), lowest, highest))
        for var, choices in getattr(backends.TUNNELS[encapsulation(values)], "CHOICES", ()):
            if var in values and values[var] not in choices:
                problems.append("%s: %s=%s is not %s; set %s (the default)" % (host, var, shown(values[var]), " or ".join(choices), choices[0]))
    for var in BOOLEANS:
        if var in values and values[var] is not None and strict_bool(values[var]) is None:
            problems.append("%s: %s=%s is not a boolean; write true or false" % (host, var, shown(values[var])))
    for var in DEVICE_NAMES:
        if var in values and link_name_problem(values[var]):
            problems.append("%s: %s=%s %s" % (host, var, shown(values[var]), link_name_problem(values[var])))
    table = values.get("routednet_firewall_table")
    if "routednet_firewall_table" in values and not (isinstance(table, str) and TABLE_NAME.match(table)):
        problems.append(
            "%s: routednet_firewall_table=%s is not a table name (1-64 characters of A-Z a-z 0-9 _ -, starting with a letter)" % (host, shown(table))
        )
    install = values.get("routednet_pyroute2_install")
    if "routednet_pyroute2_install" in values and install not in netlink.PYROUTE2_INSTALL:
        why = " (pip is not used on hosts any more: auto brings the collection's own copy where the host's is too old)" if install == "pip" else ""
        problems.append("%s: routednet_pyroute2_install=%s is not one of auto, distro, private, none%s; set auto (the default)" % (host, shown(install), why))
    sysctl_file = values.get("routednet_sysctl_file")
    if (
        "routednet_sysctl_file" in values
        and sysctl_file != ""
        and not (isinstance(sysctl_file, str) and sysctl_file.startswith("/") and sysctl_file.endswith(".conf"))
    ):
        problems.append("%s: routednet_sysctl_file=%s is not an absolute path to a .conf file ('' for none)" % (host, shown(sysctl_file)))
    problems += runtime_problems(host, values)
    if "routednet_mtu" in values:
        mtu = whole_number(values["routednet_mtu"])
        if mtu is None or (mtu != 0 and not MTU_MIN <= mtu <= MTU_MAX):
            problems.append("%s: routednet_mtu=%s is out of range; set %s" % (host, shown(values["routednet_mtu"]), MTU_RULE))
    return problems


def _absolute(value):
    return isinstance(value, str) and value.startswith("/") and ".." not in value.split("/") and value.rstrip("/") != ""


def runtime_problems(host, values):
    """The settings of the files container runtimes read, and of the addresses kept below their range."""
    problems = []
    if "routednet_reserved_pod_addresses" in values:
        number = whole_number(values["routednet_reserved_pod_addresses"])
        if number is None or not 0 <= number <= RESERVED_MAX:
            problems.append(
                "%s: routednet_reserved_pod_addresses=%s is out of range; set a whole number from 0 to %d (how many addresses after the gateway "
                "are kept for routednet_pods)" % (host, shown(values["routednet_reserved_pod_addresses"]), RESERVED_MAX)
            )
    if "routednet_cni_dir" in values and not _absolute(values["routednet_cni_dir"]):
        problems.append(
            "%s: routednet_cni_dir=%s is not an absolute directory path; set it to the runtimes' CNI directory (/etc/cni/net.d)"
            % (host, shown(values["routednet_cni_dir"]))
        )
    network = values.get("routednet_cni_network")
    if "routednet_cni_network" in values and not (isinstance(network, str) and CNI_NETWORK.match(network)):
        problems.append(
            "%s: routednet_cni_network=%s is not a CNI network name (1-63 characters of A-Z a-z 0-9 _ . -, starting with a letter or digit)"
            % (host, shown(network))
        )
    order = values.get("routednet_cni_order")
    if "routednet_cni_order" in values and not re.match(r"^[0-9]{1,3}$", str(order) if isinstance(order, (int, str)) and not isinstance(order, bool) else ""):
        problems.append("%s: routednet_cni_order=%s is not 1-3 digits; set the file name's leading number, such as 10" % (host, shown(order)))
    if "routednet_cni_version" in values and values["routednet_cni_version"] not in CNI_VERSIONS:
        problems.append(
            "%s: routednet_cni_version=%s is not one of %s; set 1.0.0 (0.4.0 for a runtime older than containerd 1.6 or CRI-O 1.24)"
            % (host, shown(values["routednet_cni_version"]), ", ".join(CNI_VERSIONS))
        )
    netavark = values.get("routednet_netavark")
    if "routednet_netavark" in values and not (strict_bool(netavark) is not None or (isinstance(netavark, str) and netavark.strip().lower() == "auto")):
        problems.append(
            "%s: routednet_netavark=%s is not auto, true or false; set auto (a netavark network where the host's netavark is 1.14 or newer)"
            % (host, shown(netavark))
        )
    if "routednet_netavark_dir" in values and not _absolute(values["routednet_netavark_dir"]):
        problems.append(
            "%s: routednet_netavark_dir=%s is not an absolute directory path; set it to podman's network directory (/etc/containers/networks)"
            % (host, shown(values["routednet_netavark_dir"]))
        )
    env = values.get("routednet_flannel_subnet_env")
    if "routednet_flannel_subnet_env" in values and env != "" and not (_absolute(env) and not env.endswith("/")):
        problems.append(
            "%s: routednet_flannel_subnet_env=%s is not an absolute file path ('' for none); flannel's is /run/flannel/subnet.env" % (host, shown(env))
        )
    return problems


def devices_in_use(values):
    """The device-name settings this host's backend uses: the bridge, and its tunnel's."""
    tunnel = TUNNEL_DEVICE.get(encapsulation(values))
    return ("routednet_bridge_name",) + ((tunnel,) if tunnel else ())


def device_clashes(host, values, host_ifnames):
    """Two of the collection's own links of one node given one name (the bridge, the
    tunnel device, the pods' host-side veths): one would be made into the other."""
    owners = {}
    for var in devices_in_use(values):
        if isinstance(values.get(var), str):
            owners.setdefault(values[var], []).append(var)
    for pod, ifname in sorted(host_ifnames.items()):
        owners.setdefault(ifname, []).append("the host end of pod %s" % pod)
    return [
        "%s: %s all name the link %s; give each its own name" % (host, " and ".join(users), name)
        if len(users) > 2
        else "%s: %s and %s both name the link %s; give each its own name" % (host, users[0], users[1], name)
        for name, users in sorted(owners.items())
        if len(users) > 1
    ]


def cluster_splits(values_by_host, defaults=None):
    """Cluster-wide settings whose value differs between nodes, one line per setting.
    The hosts named are the fewest with one value, and of those not the default's."""
    defaults = defaults or {}
    problems = []
    for var in CLUSTER_WIDE:
        groups = {}
        for host in sorted(values_by_host):
            if var in values_by_host[host]:
                groups.setdefault(shown(values_by_host[host][var]), []).append(host)
        if len(groups) > 1:
            # name the minority first: that is most likely the host_vars slip
            default = shown(defaults[var]) if var in defaults else None
            ordered = sorted(groups.items(), key=lambda item: (len(item[1]), item[0] == default, item[1]))
            odd_value, odd_hosts = ordered[0]
            rest = "; ".join("%s on %s" % (value, ", ".join(hosts)) for value, hosts in ordered[1:])
            problems.append(
                "%s: %s=%s differs from the rest of the cluster (%s); it is cluster-wide: set it once for all nodes "
                "(group_vars or -e), not per host" % (", ".join(odd_hosts), var, odd_value, rest)
            )
    return problems


def problems(values_by_host, defaults=None):
    """Every problem with the settings of every node, in a stable order (checked before
    planning: a setting of the wrong shape would mislead the planner). ``defaults``: the
    roles' defaults, to tell which side of a split is the odd one."""
    found = cluster_splits(values_by_host, defaults)
    for host in sorted(values_by_host):
        found += host_problems(host, values_by_host[host])
    return found


def family_problems(values_by_host, plan):
    """A cluster with IPv6 pods on a backend that carries IPv4 only (IPIP, hybrid tunnelling
    with it): one line per backend setting, naming its hosts and the alternatives."""
    if not plan.get("cluster_cidr_v6"):
        return []
    found = {}
    for host in sorted(values_by_host):
        values = values_by_host[host]
        name = values.get("routednet_backend")
        if name not in backends.BACKENDS:
            continue  # (host_problems said so)
        encap = values.get("routednet_hybrid_encap") if backends.BACKENDS[name].MIXED else None
        if 6 not in backends.families(name, encap):
            found.setdefault((name, encap), []).append(host)
    ipv4 = "list only the IPv4 CIDR" if plan.get("cluster_cidr") else "give routednet_cluster_cidr an IPv4 CIDR"
    problems = []
    for (name, encap), hosts in sorted(found.items()):
        if encap:
            what = "routednet_backend=%s tunnels with routednet_hybrid_encap=%s, which carries IPv4 only" % (name, encap)
            fix = "set routednet_hybrid_encap=%s" % " or ".join(backends.carrying(6, tunnels_only=True))
        else:
            what = "routednet_backend=%s carries IPv4 only" % name
            fix = "choose %s for a cluster with IPv6 pods" % " or ".join(backends.carrying(6))
        problems.append("%s: %s, and routednet_cluster_cidr lists the IPv6 CIDR %s: %s, or %s" % (", ".join(hosts), what, plan["cluster_cidr_v6"], fix, ipv4))
    return problems


def clashes(values_by_host, plan):
    """Link names given twice on a node, once the plan has named the pods' veths."""
    found = []
    for host, info in sorted(plan["nodes"].items()):
        found += device_clashes(host, values_by_host.get(host, {}), dict((pod["name"], pod["host_ifname"]) for pod in info["pods"]))
    return found
