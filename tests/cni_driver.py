"""Run a CNI network list as containerd's CRI runs it (through libcni), on a lab node.

    python3 - ADD|CHECK|DEL CONFLIST CONTAINER_ID NETNS_PATH [IFNAME] < this file

libcni's protocol, as the CRI plugin drives it for every pod sandbox: ADD runs each plugin
of the list in order, the plugin's own configuration given the list's ``name`` and
``cniVersion``, ``prevResult`` the result of the plugin before it and ``runtimeConfig``
the capabilities it declares (``portMappings``); the last result is cached
(/var/lib/cni/results). CHECK runs the plugins in order against the cached result, DEL in
reverse order, then drops the cache. Environment: CNI_COMMAND, CNI_CONTAINERID, CNI_NETNS,
CNI_IFNAME, CNI_ARGS (the pod's identity, as the CRI sets it) and CNI_PATH. Prints the
result (ADD) and exits with the failing plugin's status and message on stderr.

Runs on the node's own Python 3 (Debian 12's 3.11): standard library only.
"""

import json
import os
import subprocess
import sys

CNI_PATH = "/usr/lib/cni"  # Debian's containernetworking-plugins
CACHE_DIR = "/var/lib/cni/results"


def plugin_config(network, plugin, previous):
    config = dict(plugin, name=network["name"], cniVersion=network["cniVersion"])
    if previous is not None:
        config["prevResult"] = previous
    # (libcni hands a plugin only the capabilities it declares; this pod maps no ports)
    if (plugin.get("capabilities") or {}).get("portMappings"):
        config["runtimeConfig"] = {"portMappings": []}
    return config


def call(command, network, plugin, previous, container, netns, ifname):
    env = dict(
        os.environ,
        CNI_COMMAND=command,
        CNI_CONTAINERID=container,
        CNI_NETNS=netns,
        CNI_IFNAME=ifname,
        CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=%s;K8S_POD_INFRA_CONTAINER_ID=%s" % (container, container),
        CNI_PATH=CNI_PATH,
    )
    proc = subprocess.run(
        [os.path.join(CNI_PATH, plugin["type"])],
        input=json.dumps(plugin_config(network, plugin, previous)),
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if proc.returncode != 0:
        sys.stderr.write("%s %s: exit %d: %s%s\n" % (command, plugin["type"], proc.returncode, proc.stdout, proc.stderr))
        sys.exit(proc.returncode)
    return json.loads(proc.stdout) if proc.stdout.strip() else None


def main():
    command, conflist, container, netns = sys.argv[1:5]
    ifname = sys.argv[5] if len(sys.argv) > 5 else "eth0"
    with open(conflist) as handle:
        network = json.load(handle)
    cache = os.path.join(CACHE_DIR, "%s-%s-%s" % (network["name"], container, ifname))
    if command == "ADD":
        result = None
        for plugin in network["plugins"]:
            result = call("ADD", network, plugin, result, container, netns, ifname)
        os.makedirs(CACHE_DIR, exist_ok=True)
        with open(cache, "w") as handle:
            json.dump(result, handle)
        print(json.dumps(result))
        return
    with open(cache) as handle:
        cached = json.load(handle)
    plugins = network["plugins"] if command == "CHECK" else list(reversed(network["plugins"]))
    for plugin in plugins:
        call(command, network, plugin, cached, container, netns, ifname)
    if command == "DEL":
        os.remove(cache)


if __name__ == "__main__":
    main()
