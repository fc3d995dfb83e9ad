"""The lab flow on the oldest ansible-core the collection supports.

meta/runtime.yml's requires_ansible names the oldest (2.16, what Ubuntu 24.04 ships);
requirements.txt pins the newest, which the rest of the suite runs. This test puts the
oldest in a virtual environment of its own (.venv-core2.16, from PyPI) and runs the
operator's flow with it: VXLAN, again (no change), the verify matrix, a switch to host-gw
and a check run of it that changes nothing.
"""

import os
import subprocess
import sys

import pytest
import yaml

from conftest import REPO
from labhelpers import recap, run, running_lab

pytestmark = [pytest.mark.lab, pytest.mark.slow, pytest.mark.skipif(os.geteuid() != 0, reason="needs root: builds a lab")]

OLDEST = "2.16"
NEXT = "2.17"
VENV = os.path.join(REPO, ".venv-core%s" % OLDEST)
NODES = ("node1", "node2")


def requirement(name):
    with open(os.path.join(REPO, "requirements.txt")) as handle:
        return next(line.strip() for line in handle if line.startswith(name))


@pytest.fixture(scope="module")
def oldest_core():
    playbook = os.path.join(VENV, "bin", "ansible-playbook")
    if not os.path.exists(playbook):
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
        # the controller's other needs as requirements.txt pins them; ansible-core the oldest
        wanted = ["ansible-core>=%s,<%s" % (OLDEST, NEXT), requirement("pyroute2"), requirement("jinja2")]
        subprocess.run([os.path.join(VENV, "bin", "pip"), "install", "-q", "--disable-pip-version-check", *wanted], check=True)
    version = run(playbook, "--version").stdout.splitlines()[0]
    assert "[core %s." % OLDEST in version, version
    return playbook


def test_the_oldest_supported_core_is_the_one_declared():
    with open(os.path.join(REPO, "meta", "runtime.yml")) as handle:
        assert yaml.safe_load(handle)["requires_ansible"] == ">=%s.0" % OLDEST


def test_the_lab_flow_on_the_oldest_ansible_core(oldest_core, tmp_path):
    with running_lab("core", "default.yml", tmp_path / "hosts.yml") as inventory:

        def play(name, *extra):
            res = run(oldest_core, os.path.join("playbooks", name), "-i", str(inventory), *extra)
            assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]
            assert "does not support Ansible version" not in res.stderr, res.stderr
            return res.stdout

        play("vxlan.yml")
        again = play("vxlan.yml")
        assert [recap(again, node)["changed"] for node in NODES] == [0, 0], again[-2000:]
        matrix = play("verify.yml", "-e", "verify_expected_ttl=62")  # fails on any pair that does not answer
        assert "node1/docker1  -              62 vxlan" in matrix, matrix[-3000:]
        play("hostgw.yml")
        check = play("hostgw.yml", "--check")
        assert [recap(check, node)["changed"] for node in NODES] == [0, 0], check[-2000:]
