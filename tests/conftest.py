"""Shared fixtures: throwaway network namespaces and in-process module runs."""

import importlib
import io
import itertools
import json
import os
import subprocess
import sys

import pytest
from pyroute2 import netns as pnetns

from ansible.module_utils.testing import patch_module_args

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_counter = itertools.count()


def _require_root():
    if os.geteuid() != 0:
        pytest.skip("needs root: creates network namespaces")


@pytest.fixture
def netns():
    """A factory of empty network namespaces, all removed at the end of the test."""
    _require_root()
    made = []

    def make(label="ns"):
        name = "rnt-%d-%d-%s" % (os.getpid(), next(_counter), label)
        pnetns.create(name)
        made.append(name)
        # a new namespace copies the root namespace's IPv4 settings: on a machine whose
        # forwarding is on (Docker, podman), start from the kernel's defaults anyway
        subprocess.run(["ip", "netns", "exec", name, "sysctl", "-qw", "net.ipv4.ip_forward=0", "net.ipv4.conf.default.forwarding=0"], check=True)
        return name

    yield make
    for name in made:
        try:
            pnetns.remove(name)
        except OSError:
            pass
    assert not [n for n in pnetns.listnetns() if n in made]


class ModuleResult(dict):
    @property
    def failed(self):
        return bool(self.get("failed"))


def run_module(name, args, check=False, diff=True):
    """Run a routednet.fabric module in-process as Ansible would, return its JSON result."""
    module = importlib.import_module("ansible_collections.routednet.fabric.plugins.modules." + name)
    full = dict(args, _ansible_check_mode=check, _ansible_diff=diff)
    out = io.StringIO()
    saved = sys.stdout
    sys.stdout = out
    try:
        with patch_module_args(full):
            try:
                module.main()
            except SystemExit:
                pass
    finally:
        sys.stdout = saved
    return ModuleResult(json.loads(out.getvalue()))


@pytest.fixture
def module():
    return run_module
