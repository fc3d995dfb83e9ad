"""A machine whose own IPv4 forwarding is on (any host that runs Docker or podman): a new
network namespace copies the root namespace's IPv4 settings, so the lab's nodes and the
tests' namespaces set the kernel's defaults themselves. scripts/vm-ipip.sh runs this file
in the test VM after turning the guest's forwarding on (this machine's own is left alone);
here, on a machine that does not forward, it checks the same defaults."""

import os
import subprocess
import sys

import pytest

from conftest import REPO

sys.path.insert(0, os.path.join(REPO, "lab"))
import routednet_lab  # noqa: E402  (the lab tool makes the nodes' namespaces)

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root: makes network namespaces")

SETTINGS = ("net.ipv4.ip_forward", "net.ipv4.conf.all.forwarding", "net.ipv4.conf.default.forwarding", "net.ipv4.conf.default.rp_filter")


def read(namespace):
    out = subprocess.run(["ip", "netns", "exec", namespace, "sysctl", "-n", *SETTINGS], capture_output=True, text=True, check=True).stdout
    return dict(zip(SETTINGS, out.split(), strict=True))


def test_a_lab_node_starts_as_a_freshly_booted_host():
    name = "rnt-%d-fwdhost" % os.getpid()
    try:
        routednet_lab.new_namespace(name)
        assert read(name) == dict.fromkeys(SETTINGS, "0")
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)
    assert name not in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout


def test_a_router_forwards():
    name = "rnt-%d-fwdrouter" % os.getpid()
    try:
        routednet_lab.new_namespace(name, forwarding=True)
        assert read(name)["net.ipv4.ip_forward"] == "1"
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


def test_the_tests_namespaces_start_with_forwarding_off(netns):
    assert read(netns("fwd"))["net.ipv4.ip_forward"] == "0"
